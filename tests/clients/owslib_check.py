#!/usr/bin/env python3
"""Reads a running geosector with OWSLib (owslib.ogcapi.features) and validates its /api with
openapi-spec-validator; prints one JSON object with what it saw. Exit status 0 on success.

usage: owslib_check.py BASE_URL COLLECTION BBOX FEATURE_ID
"""
import json
import sys

from openapi_spec_validator import validate
from owslib.ogcapi.features import Features


def main():
    base, collection, bbox, feature_id = sys.argv[1:5]
    api = Features(base)
    collections = api.collections()
    ids = [c["id"] for c in collections["collections"]]
    described = api.collection(collection)
    # Follow next links as a client would, 100 per page.
    items = api.collection_items(collection, bbox=[float(v) for v in bbox.split(",")], limit=100)
    bbox_ids = [f["id"] for f in items["features"]]
    while True:
        nxt = [link["href"] for link in items.get("links", []) if link.get("rel") == "next"]
        if not nxt:
            break
        import urllib.request

        with urllib.request.urlopen(nxt[0]) as response:
            items = json.load(response)
        bbox_ids += [f["id"] for f in items["features"]]
    feature = api.collection_item(collection, feature_id)
    document = api.api()
    validate(document)  # raises when /api is not a valid OpenAPI 3.0 document
    print(json.dumps({
        "collections": ids,
        "collection_id": described["id"],
        "bbox_ids": bbox_ids,
        "feature_id": feature["id"],
        "feature_properties": sorted(feature["properties"].keys()),
        "openapi": document["openapi"],
    }))


if __name__ == "__main__":
    main()
