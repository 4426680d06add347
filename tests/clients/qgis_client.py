#!/usr/bin/python3
"""QGIS (Debian's python3-qgis, headless) as a WMS client of a running Tuilerie.

For one layer of each kind -- COG (cog_rgb), GeoPackage tile pyramid
(small_world_and_byte), GeoPackage features (countries), raster MBTiles
(geography-class-png), and the Lambert-93 float DEM (a COG with a colour
ramp, checked for validity and not-blank only: GDAL has no such ramp) --
QGIS's WMS provider opens the layer from the capabilities (`isValid()`),
and QgsMapRendererParallelJob renders it at 512x512 in EPSG:2154, EPSG:3857
and EPSG:4326 (1.3.0 latitude-first BBOX, QGIS's own axis handling), the
layer asked in the map's CRS as QGIS does when the project CRS is offered.
Each render is compared with GDAL's bilinear warp of the source file to
the same CRS, visible extent and size (features: gdal.Rasterize of the
table, "covered versus not") within the tolerances of image_compare.py;
the comparison must fail for the render of an extent shifted by a few
pixels. Then QGIS's identify (GetFeatureInfo) at a point in France, in
text and in feature form, must name France.

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/clients/qgis_client.py http://127.0.0.1:8080

Without python3-qgis it says so and exits 0 (skipped), as .ci/run installs
it where it can.
"""
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy

sys.path.insert(0, str(Path(__file__).resolve().parent))
import image_compare as ic  # noqa: E402

try:
    from qgis.core import (  # noqa: E402
        Qgis, QgsApplication, QgsCoordinateReferenceSystem, QgsCoordinateTransform,
        QgsMapRendererParallelJob, QgsMapSettings, QgsPointXY, QgsProject, QgsRaster,
        QgsRasterLayer, QgsRectangle,
    )
    from qgis.PyQt.QtCore import QSize  # noqa: E402
    from qgis.PyQt.QtGui import QColor, QImage  # noqa: E402
except ImportError as e:
    print(f"qgis: SKIPPED, python3-qgis is not installed ({e})")
    sys.exit(0)

SAMPLES = Path(__file__).resolve().parents[2] / "data-samples"
SIZE = 512
# layer, file GDAL reads (None: no reference), region drawn (WGS 84,
# easting first; None: the layer's extent from the capabilities), kind.
LAYERS = [
    ("cog_rgb", "cog/cog_rgb.tif", None, "raster"),
    ("small_world_and_byte", "GPKG:{s}/gpkg/small_world_and_byte.gpkg:small_world_and_byte",
     (-10.0, 36.0, 25.0, 58.0), "raster"),
    ("geography-class-png", "geography-class-png.mbtiles", (-10.0, 36.0, 25.0, 58.0), "raster"),
    ("countries", "gpkg/ne_110m_countries.gpkg", (-10.0, 36.0, 25.0, 58.0), "features"),
    ("ign_mns_hydro_0299_L93_float32_deflate_pred3_cog", None, None, "styled"),
]
CRSS = ["EPSG:2154", "EPSG:3857", "EPSG:4326"]
# QGIS 3.22 asks the server for 513x513 to draw 512x512 over the same box
# and resamples the image to the map (seen in its GetMap requests): up to
# half a pixel of displacement across the map, 2-3 levels of mean
# difference on aerial imagery, where the server's own map is within 0.5
# of GDAL. Hence wider tolerances than image_compare's for the renders;
# a render shifted by SHIFT pixels must still fail them.
MAX_MEAN_DIFF = 5.0
MIN_WITHIN_8 = 0.80
SHIFT = 8


def wms_layer(base, name, crs):
    uri = f"crs={crs}&format=image/png&layers={name}&styles=&url={base}/wms"
    layer = QgsRasterLayer(uri, name, "wms")
    assert layer.isValid(), f"QGIS: WMS layer {name} ({crs}) is not valid: {layer.error().summary()}"
    return layer


def render(layer, crs, extent):
    """RGBA (4, SIZE, SIZE) of `layer` drawn by QGIS over `extent` in
    `crs`, and the extent QGIS actually drew (it keeps the aspect ratio)."""
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(QgsCoordinateReferenceSystem(crs))
    settings.setOutputSize(QSize(SIZE, SIZE))
    settings.setOutputDpi(96)
    settings.setBackgroundColor(QColor(0, 0, 0, 0))
    settings.setExtent(extent)
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    errors = [f"{e.layerID}: {e.message}" for e in job.errors()]
    assert not errors, f"QGIS render errors: {errors}"
    image = job.renderedImage().convertToFormat(QImage.Format_RGBA8888)
    data = bytes(image.constBits().asarray(image.sizeInBytes()))
    pixels = numpy.frombuffer(data, numpy.uint8).reshape(image.height(), image.bytesPerLine() // 4, 4)
    visible = settings.visibleExtent()
    box = (visible.xMinimum(), visible.yMinimum(), visible.xMaximum(), visible.yMaximum())
    return pixels[:, :image.width()].transpose(2, 0, 1).copy(), box


def extent_in(crs, wgs84_box):
    """`wgs84_box` (easting first) transformed into `crs`, as QGIS does."""
    transform = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:4326"),
                                       QgsCoordinateReferenceSystem(crs), QgsProject.instance())
    return transform.transformBoundingBox(QgsRectangle(*wgs84_box))


def shifted_extent(box, pixels):
    x0, y0, x1, y1 = ic.shifted(box, pixels, SIZE)
    return QgsRectangle(x0, y0, x1, y1)


def check_layer(base, name, path, region, kind):
    lines = []
    if region is None:
        # The layer's WGS 84 extent from the capabilities, shrunk by a
        # tenth on each side so that the map is all data.
        e = wms_layer(base, name, "EPSG:4326").extent()
        dx, dy = e.width() / 10, e.height() / 10
        region = (e.xMinimum() + dx, e.yMinimum() + dy, e.xMaximum() - dx, e.yMaximum() - dy)
    for crs in CRSS:
        layer = wms_layer(base, name, crs)
        started = time.monotonic()
        ours, box = render(layer, crs, extent_in(crs, region))
        took = time.monotonic() - started
        what = f"{name} in {crs}"
        drawn = ours[3] > 0
        colours = numpy.unique(ours[:3, drawn].reshape(3, -1), axis=1).shape[1] if drawn.any() else 0
        assert drawn.mean() > 0.05 and colours > 1, f"{what}: blank ({drawn.mean():.1%} drawn, {colours} colours)"
        if kind == "styled":
            # A grey ramp over the heights: many levels, not a few flat ones.
            assert colours > 16, f"{what}: {colours} colours, not a ramp"
            lines.append(f"  {what}: valid, {drawn.mean():.0%} drawn, {colours} colours ({took:.1f}s)")
            continue
        source = path.format(s=SAMPLES) if path.startswith("GPKG:") else str(SAMPLES / path)
        moved, _ = render(layer, crs, shifted_extent(box, SHIFT))
        if kind == "features":
            mask = ic.rasterized(source, "countries", crs, box, SIZE, SIZE)
            agree, a, b = ic.coverage(ours, mask)
            assert agree >= ic.MIN_COVERAGE_AGREEMENT, (
                f"{what}: covered/not agrees with gdal.Rasterize on {agree:.2%} < "
                f"{ic.MIN_COVERAGE_AGREEMENT:.0%} (covered: QGIS {a:.1%}, GDAL {b:.1%})")
            moved, _ = render(layer, crs, shifted_extent(box, 24))
            moved_agree, _, _ = ic.coverage(moved, mask)
            assert moved_agree < ic.MIN_COVERAGE_AGREEMENT, f"{what}: 24 px east agrees on {moved_agree:.2%} too"
            lines.append(f"  {what}: coverage agreement {agree:.2%} (covered: QGIS {a:.1%}, GDAL {b:.1%}); "
                         f"24 px east: {moved_agree:.2%} ({took:.1f}s)")
            continue
        reference = ic.warped(source, crs, box, SIZE, SIZE)
        numbers = ic.compare(ours, reference)
        why = ic.failures(numbers, MAX_MEAN_DIFF, MIN_WITHIN_8)
        assert not why, f"{what}: QGIS's render differs from GDAL's warp of {path}: {'; '.join(why)}"
        moved_numbers = ic.compare(moved, reference)
        assert ic.failures(moved_numbers, MAX_MEAN_DIFF, MIN_WITHIN_8), f"{what}: {SHIFT} px east passes too ({ic.summary(moved_numbers)})"
        lines.append(f"  {what}: {ic.summary(numbers)}; {SHIFT} px east: mean abs diff "
                     f"{ic.fmt(moved_numbers['mean_diff'])}, {moved_numbers['within_8']:.1%} within 8 ({took:.1f}s)")
    return lines


def check_identify(base):
    """QGIS's identify over a 150x100 map of 5°W-10°E, 40-50°N at 2.5°E,
    46.5°N (France) in text and feature form."""
    layer = wms_layer(base, "countries", "EPSG:4326")
    provider = layer.dataProvider()
    extent, point = QgsRectangle(-5, 40, 10, 50), QgsPointXY(2.5, 46.5)
    text = provider.identify(point, QgsRaster.IdentifyFormatText, extent, 150, 100)
    assert text.isValid(), f"identify (text): {text.error().summary()}"
    body = " ".join(str(v) for v in text.results().values())
    assert "France" in body, f"identify (text) names no France: {body[:500]}"
    out = ["text: France"]
    if provider.capabilities() & provider.IdentifyFeature:
        found = provider.identify(point, QgsRaster.IdentifyFormatFeature, extent, 150, 100)
        assert found.isValid(), f"identify (feature): {found.error().summary()}"
        names = []
        for value in found.results().values():
            for store in (value if isinstance(value, list) else [value]):
                features = store.features() if hasattr(store, "features") else []
                names += [f.attribute("name") for f in features if "name" in f.fields().names()]
        assert names == ["France"], f"identify (feature): features named {names}"
        out.append("feature: France")
    return f"identify (GetFeatureInfo through QGIS): {', '.join(out)}"


def main(base):
    # A fresh profile: QGIS keeps an HTTP disk cache in its profile, which
    # would answer later runs with maps of an earlier server.
    profile = tempfile.TemporaryDirectory(prefix="tuilerie-qgis-")
    app = QgsApplication([], False, profile.name)
    app.initQgis()
    try:
        print(f"qgis {Qgis.QGIS_VERSION}, WMS renders {SIZE}x{SIZE} against GDAL's reading of the files")
        for name, path, region, kind in LAYERS:
            for line in check_layer(base, name, path, region, kind):
                print(line)
        print(check_identify(base))
    finally:
        QgsProject.instance().clear()
        app.exitQgis()
        profile.cleanup()


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"))
