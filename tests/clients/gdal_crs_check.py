"""GDAL's OGC API - Features driver with the CRS open option (OGC API - Features Part 2)
against `geosector serve`.

Debian 12's GDAL is 3.6, whose OAPIF driver predates Part 2 (no CRS / PREFERRED_CRS open
options, layers always CRS84); this script uses the GDAL that the pyogrio wheel bundles
(>= 3.7), the same driver code QGIS's GDAL-based workflows and ogr2ogr run.

    python gdal_crs_check.py BASE_URL COLLECTION CRS MINX,MINY,MAXX,MAXY

Opens OAPIF:BASE_URL (the landing page) with -oo CRS=CRS, reads every feature of COLLECTION,
then again with a spatial filter given in that CRS (GDAL sends bbox and bbox-crs). Prints one
JSON object: GDAL's version, the layer CRS GDAL reports, the point coordinates by feature id
(x = easting, y = northing, GDAL's traditional GIS order), and the ids inside the filter.
"""

import json
import struct
import sys

import pyogrio
from pyogrio.raw import read


def point(wkb: bytes) -> list:
    """x, y of a WKB (or ISO WKB with Z) point."""
    order = "<" if wkb[0] == 1 else ">"
    (kind,) = struct.unpack(order + "I", wkb[1:5])
    if kind % 1000 != 1:
        raise SystemExit(f"expected points, got WKB type {kind}")
    x, y = struct.unpack(order + "dd", wkb[5:21])
    return [x, y]


def main() -> None:
    base, collection, crs, bbox = sys.argv[1:5]
    if "OAPIF" not in pyogrio.list_drivers():
        raise SystemExit(f"GDAL {pyogrio.__gdal_version_string__} in pyogrio has no OAPIF driver")
    source = f"OAPIF:{base}/"
    meta, fids, geometries, _ = read(source, layer=collection, return_fids=True, CRS=crs, PAGE_SIZE="1000")
    features = {str(int(fid)): point(g) for fid, g in zip(fids, geometries)}
    box = tuple(float(v) for v in bbox.split(","))
    _, inside, _, _ = read(
        source, layer=collection, return_fids=True, read_geometry=False, bbox=box, CRS=crs, PAGE_SIZE="1000"
    )
    print(
        json.dumps(
            {
                "gdal": pyogrio.__gdal_version_string__,
                "crs": meta["crs"],
                "features": features,
                "bbox_ids": sorted(int(f) for f in inside),
            }
        )
    )


if __name__ == "__main__":
    main()
