#!/usr/bin/env python3
"""The WMS capabilities and exceptions of a running Tuilerie, checked
against the official schemas with xmllint, and read by OWSLib.

    python3 tests/clients/wms_schema_check.py http://127.0.0.1:8080 [--inspire]

The schemas are the copies PyPI's MapProxy ships under
mapproxy/test/schemas (WMS 1.1.1 DTD, WMS 1.3.0, SLD 1.1 capabilities,
INSPIRE view service 1.0 XSDs, with their imports rewritten to relative
paths): there is no internet in CI, so nothing is fetched. The 1.3.0
documents use three namespaces (wms, sld for GetLegendGraphic, and with
--inspire inspire_vs), so they are validated against a small driver schema
importing the three local XSDs.

--inspire: the server runs with a `[service.inspire]` table; the 1.3.0
document must carry the INSPIRE extended capabilities, and is validated
with the INSPIRE schemas.
"""
import os
import pathlib
import subprocess
import sys
import tempfile
import urllib.request

import mapproxy
from owslib.wms import WebMapService

SCHEMAS = pathlib.Path(mapproxy.__file__).parent / "test" / "schemas"


def fetch(url):
    with urllib.request.urlopen(url) as r:
        return r.headers.get("content-type"), r.status, r.read()


def xmllint(document, *args):
    with tempfile.NamedTemporaryFile(suffix=".xml", delete=False) as f:
        f.write(document)
    try:
        run = subprocess.run(["xmllint", "--nonet", "--noout", *args, f.name],
                             capture_output=True, text=True)
    finally:
        os.unlink(f.name)
    assert run.returncode == 0, f"xmllint {' '.join(args)}:\n{run.stderr[-4000:]}"


def driver(namespaces):
    """A schema importing the local XSDs of `namespaces`."""
    imports = "".join(f'<xs:import namespace="{ns}" schemaLocation="{(SCHEMAS / path).as_uri()}"/>'
                      for ns, path in namespaces)
    f = tempfile.NamedTemporaryFile("w", suffix=".xsd", delete=False)
    f.write('<?xml version="1.0"?><xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" '
            f'targetNamespace="urn:tuilerie:driver">{imports}</xs:schema>')
    f.close()
    return f.name


def main(base, inspire):
    base = base.rstrip("/")
    catalog = sorted(__import__("json").loads(urllib.request.urlopen(f"{base}/catalog").read())["tiles"])

    # 1.1.1: the DTD.
    ctype, status, doc = fetch(f"{base}/wms?SERVICE=WMS&REQUEST=GetCapabilities&VERSION=1.1.1")
    assert (status, ctype) == (200, "application/vnd.ogc.wms_xml"), (status, ctype)
    xmllint(doc, "--dtdvalid", str(SCHEMAS / "wms/1.1.1/WMS_MS_Capabilities.dtd"))

    # 1.3.0: WMS, SLD (GetLegendGraphic) and, when configured, INSPIRE.
    ctype, status, doc = fetch(f"{base}/wms?SERVICE=WMS&REQUEST=GetCapabilities&VERSION=1.3.0")
    assert (status, ctype) == (200, "text/xml"), (status, ctype)
    namespaces = [("http://www.opengis.net/wms", "wms/1.3.0/capabilities_1_3_0.xsd"),
                  ("http://www.opengis.net/sld", "sld/1.1.0/sld_capabilities.xsd")]
    if inspire:
        assert b"<inspire_vs:ExtendedCapabilities>" in doc, "no INSPIRE extended capabilities"
        namespaces.append(("http://inspire.ec.europa.eu/schemas/inspire_vs/1.0",
                           "inspire/inspire_vs/1.0/inspire_vs.xsd"))
    schema = driver(namespaces)
    try:
        xmllint(doc, "--schema", schema)
    finally:
        os.unlink(schema)

    # The 1.3.0 exception report (and the 1.1.1 one against its DTD).
    ctype, status, doc = fetch(f"{base}/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=NoSuchThing")
    assert (status, ctype) == (200, "text/xml"), (status, ctype)
    assert b'code="OperationNotSupported"' in doc, doc
    xmllint(doc, "--schema", str(SCHEMAS / "wms/1.3.0/exceptions_1_3_0.xsd"))
    ctype, status, doc = fetch(f"{base}/wms?SERVICE=WMS&VERSION=1.1.1&REQUEST=NoSuchThing")
    assert (status, ctype) == (200, "application/vnd.ogc.se_xml"), (status, ctype)
    xmllint(doc, "--dtdvalid", str(SCHEMAS / "wms/1.1.1/exception_1_1_1.dtd"))

    # OWSLib reads both versions: every layer, its CRSs and boxes.
    for version in ("1.1.1", "1.3.0"):
        wms = WebMapService(f"{base}/wms", version=version)
        names = sorted(n for n in wms.contents if n in catalog)
        assert names == catalog, (version, names, catalog)
        for name in catalog:
            layer = wms[name]
            crs = set(layer.crsOptions)
            assert {"EPSG:3857", "EPSG:4326"} <= crs, (version, name, crs)
            w, s, e, n = layer.boundingBoxWGS84
            assert -180 <= w < e <= 180 and -90 <= s < n <= 90, (version, name, layer.boundingBoxWGS84)
            assert layer.queryable == 1, (version, name)
            assert "default" in layer.styles, (version, name, layer.styles)
        assert "GetMap" in [op.name for op in wms.operations], version
    # The NAIP sample (at 42° N, 121° W): OWSLib takes the 1.3.0
    # EPSG:4326 box, latitude first, back to longitude first.
    naip = WebMapService(f"{base}/wms", version="1.3.0")["usda_naip_256_lzw_z3"]
    box = {b[4]: b[:4] for b in naip.crs_list}
    assert -122 < box["EPSG:4326"][0] < -121 and 41 < box["EPSG:4326"][1] < 43, box["EPSG:4326"]
    print(f"wms: 1.1.1 valid (DTD), 1.3.0 valid (XSD{', INSPIRE' if inspire else ''}), "
          f"exceptions valid, OWSLib reads {len(catalog)} layers in both versions")


if __name__ == "__main__":
    main(sys.argv[1], "--inspire" in sys.argv[2:])
