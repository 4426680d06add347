"""What the WMS client checks compare a served map with: the same data read
by GDAL straight from the file in data-samples/ (gdal.Warp, bilinear, to
the map's CRS, box and size; gdal.Rasterize for feature tables), and the
tolerances the comparison is held to. Shared by gdal_client.py and
qgis_client.py (both run with /usr/bin/python3, Debian's GDAL).

Tolerances (measured on the sample data, see the numbers each client
prints): the server's bilinear warp agrees with GDAL's to a mean absolute
difference under 0.6 levels per channel, while a box shifted by three
pixels differs by 4 to 16 levels and a blank image by far more; so a map
passes when, over the pixels both call valid,
- the mean absolute difference of every colour channel is <= MAX_MEAN_DIFF,
- at least MIN_WITHIN_8 of the pixels are within 8 levels on every channel,
- valid-versus-empty (alpha) agrees on at least MIN_ALPHA_AGREEMENT,
- and the map is not blank (more than one colour among its valid pixels).
A feature layer passes when "covered versus not" agrees on at least
MIN_COVERAGE_AGREEMENT of the pixels (the outline stroke and antialiasing
widen the drawn polygons by a pixel or so).
"""
import numpy
from osgeo import gdal, ogr, osr

gdal.UseExceptions()

MAX_MEAN_DIFF = 2.0
MIN_WITHIN_8 = 0.97
MIN_ALPHA_AGREEMENT = 0.98
MIN_COVERAGE_AGREEMENT = 0.95


def srs(crs):
    s = osr.SpatialReference()
    s.SetFromUserInput(crs)
    s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return s


def warped(source, crs, bbox, width, height):
    """RGBA (4, height, width) uint8 of `source` warped by GDAL (bilinear) to
    `crs` over `bbox` (minx, miny, maxx, maxy, easting first)."""
    ds = gdal.Warp("", source, format="MEM", dstSRS=srs(crs), outputBounds=bbox,
                   width=width, height=height, resampleAlg="bilinear", dstAlpha=True,
                   multithread=False)
    bands = ds.ReadAsArray()
    if bands.shape[0] == 2:  # grey + alpha
        bands = numpy.stack([bands[0], bands[0], bands[0], bands[1]])
    assert bands.shape[0] == 4, f"{source}: {bands.shape[0]} bands after the warp"
    return bands.astype(numpy.uint8)


def rasterized(gpkg, table, crs, bbox, width, height):
    """Coverage mask (height, width) of `table` burnt by gdal.Rasterize into
    a grid of `crs` over `bbox` (GDAL reprojects the geometries)."""
    ds = gdal.GetDriverByName("MEM").Create("", width, height, 1, gdal.GDT_Byte)
    ds.SetGeoTransform((bbox[0], (bbox[2] - bbox[0]) / width, 0,
                        bbox[3], 0, -(bbox[3] - bbox[1]) / height))
    ds.SetProjection(srs(crs).ExportToWkt())
    source = ogr.Open(gpkg)
    layer = source.GetLayerByName(table)
    # Only the features near the box: the others may have no place in
    # `crs` at all (Lambert-93 of the antipodes), which GDAL reports.
    into_layer = osr.CoordinateTransformation(srs(crs), layer.GetSpatialRef())
    x0, y0, x1, y1 = into_layer.TransformBounds(*bbox, 21)
    mx, my = (x1 - x0) / 10, (y1 - y0) / 10
    layer.SetSpatialFilterRect(x0 - mx, y0 - my, x1 + mx, y1 + my)
    gdal.RasterizeLayer(ds, [1], layer, burn_values=[255])
    return ds.ReadAsArray() > 0


def rgba(array):
    """Any (bands, h, w) array from a decoded PNG as RGBA."""
    if array.ndim == 2:
        array = array[None]
    n = array.shape[0]
    if n == 1:
        return numpy.stack([array[0]] * 3 + [numpy.full_like(array[0], 255)])
    if n == 2:
        return numpy.stack([array[0]] * 3 + [array[1]])
    if n == 3:
        return numpy.concatenate([array, numpy.full_like(array[:1], 255)])
    return array[:4]


def compare(served, reference):
    """The numbers of a served RGBA map against a reference RGBA image."""
    assert served.shape == reference.shape, (served.shape, reference.shape)
    valid_s, valid_r = served[3] > 0, reference[3] > 0
    both = valid_s & valid_r
    diff = numpy.abs(served[:3].astype(int) - reference[:3].astype(int))[:, both]
    colours = numpy.unique(served[:3, valid_s].reshape(3, -1), axis=1).shape[1] if valid_s.any() else 0
    return {
        "alpha_agreement": float((valid_s == valid_r).mean()),
        "valid_share": float(valid_s.mean()),
        "mean_diff": [float(d) for d in diff.mean(axis=1)] if both.any() else [255.0] * 3,
        "within_8": float((diff.max(axis=0) <= 8).mean()) if both.any() else 0.0,
        "colours": colours,
    }


def failures(numbers, max_mean_diff=MAX_MEAN_DIFF, min_within_8=MIN_WITHIN_8):
    """Why `numbers` (from compare) fail the tolerances; empty when they pass."""
    why = []
    if numbers["colours"] <= 1:
        why.append(f"the map is blank ({numbers['colours']} colours among valid pixels)")
    worst = max(numbers["mean_diff"])
    if worst > max_mean_diff:
        why.append(f"mean abs diff per channel {fmt(numbers['mean_diff'])} > {max_mean_diff}")
    if numbers["within_8"] < min_within_8:
        why.append(f"{numbers['within_8']:.1%} of pixels within 8 levels < {min_within_8:.0%}")
    if numbers["alpha_agreement"] < MIN_ALPHA_AGREEMENT:
        why.append(f"valid/empty agree on {numbers['alpha_agreement']:.1%} < {MIN_ALPHA_AGREEMENT:.0%}")
    return why


def coverage(served, mask):
    """(agreement, served covered share, reference covered share) of a
    served RGBA map (covered = alpha > 0) against a coverage mask."""
    covered = served[3] > 0
    return float((covered == mask).mean()), float(covered.mean()), float(mask.mean())


def fmt(values):
    return "/".join(f"{v:.2f}" for v in values)


def summary(numbers):
    return (f"mean abs diff R/G/B {fmt(numbers['mean_diff'])}, "
            f"{numbers['within_8']:.2%} within 8 levels, "
            f"alpha agreement {numbers['alpha_agreement']:.2%}, valid {numbers['valid_share']:.0%}")


def shifted(bbox, pixels, width):
    """`bbox` moved east by `pixels` pixels of a map `width` wide."""
    dx = (bbox[2] - bbox[0]) * pixels / width
    return (bbox[0] + dx, bbox[1], bbox[2] + dx, bbox[3])
