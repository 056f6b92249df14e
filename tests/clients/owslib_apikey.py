#!/usr/bin/env python3
"""Reads a collection of a running geosector with OWSLib, authenticated by an API key in the
X-API-Key header, following next links; prints one JSON object with what it saw.

usage: owslib_apikey.py BASE_URL COLLECTION API_KEY
"""
import json
import sys
import urllib.request

from owslib.ogcapi.features import Features


def main():
    base, collection, key = sys.argv[1:4]
    headers = {"X-API-Key": key}
    api = Features(base, headers=headers)
    ids = [c["id"] for c in api.collections()["collections"]]
    items = api.collection_items(collection, limit=50)
    seen = [f["id"] for f in items["features"]]
    pages = 1
    while True:
        nxt = [link["href"] for link in items.get("links", []) if link.get("rel") == "next"]
        if not nxt:
            break
        with urllib.request.urlopen(urllib.request.Request(nxt[0], headers=headers)) as response:
            items = json.load(response)
        seen += [f["id"] for f in items["features"]]
        pages += 1
    print(json.dumps({"collections": ids, "ids": seen, "pages": pages}))


if __name__ == "__main__":
    main()
