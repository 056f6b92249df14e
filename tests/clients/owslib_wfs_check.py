"""Reads geosector's /wfs with OWSLib's WFS 2.0.0 client: the capabilities (types, operations,
CRS options), GetFeature with a bbox (given lon/lat; OWSLib writes it in the default CRS's
lat/lon order) and with an FES 2.0 filter built by owslib.fes2.

usage: owslib_wfs_check.py BASE_URL TYPE_NAME MINLON,MINLAT,MAXLON,MAXLAT PROPERTY VALUE
Prints one JSON object.
"""

import json
import sys

from owslib.etree import etree
from owslib.fes2 import Filter, PropertyIsEqualTo
from owslib.wfs import WebFeatureService

GML = "{http://www.opengis.net/gml/3.2}"
WFS = "{http://www.opengis.net/wfs/2.0}"


def ids(response):
    root = etree.fromstring(response.read())
    members = root.findall(f"{WFS}member")
    return root.get("numberReturned"), sorted(int(m[0].get(f"{GML}id").rsplit(".", 1)[1]) for m in members)


def main():
    base, type_name, bbox, prop, value = sys.argv[1:6]
    wfs = WebFeatureService(base + "/wfs", version="2.0.0")
    name = "gs:" + type_name
    box = tuple(float(v) for v in bbox.split(","))
    returned, bbox_ids = ids(wfs.getfeature(typename=[name], bbox=box, maxfeatures=10000))
    literal = PropertyIsEqualTo(propertyname=prop, literal=value)
    xml = etree.tostring(Filter(literal).toXML()).decode()
    _, filter_ids = ids(wfs.getfeature(typename=[name], filter=xml, maxfeatures=10000))
    print(
        json.dumps(
            {
                "version": wfs.version,
                "contents": sorted(wfs.contents),
                "operations": sorted(op.name for op in wfs.operations),
                "crs": [c.getcodeurn() for c in wfs.contents[name].crsOptions],
                "bbox_returned": returned,
                "bbox_ids": bbox_ids,
                "filter_ids": filter_ids,
            }
        )
    )


if __name__ == "__main__":
    main()
