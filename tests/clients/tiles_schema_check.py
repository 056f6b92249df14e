"""Validates geosector's OGC API - Tiles documents against the schemas of the bundled OGC API -
Tiles 1.0 OpenAPI definition (tests/data/ogcapi/tiles/ogcapi-tiles-1.bundled.json).

usage: tiles_schema_check.py BUNDLED_OPENAPI BASE_URL
Prints one JSON object: {"checked": [[path, schema], ...], "errors": [...]}. Exit 0 either way;
the Rust test reads the errors.
"""
import json
import sys
import urllib.request

from jsonschema import validators
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

bundled_path, base = sys.argv[1], sys.argv[2].rstrip("/")
with open(bundled_path, encoding="utf-8") as f:
    bundled = json.load(f)

# The OpenAPI document is the one resource; schemas refer to "#/components/schemas/...".
registry = Registry().with_resource("urn:ogcapi-tiles", Resource(contents=bundled, specification=DRAFT4))
Validator = validators.validator_for({"$schema": "http://json-schema.org/draft-04/schema#"})


def check(path, schema_name):
    with urllib.request.urlopen(base + path) as response:
        doc = json.load(response)
    schema = {"$ref": "urn:ogcapi-tiles#/components/schemas/" + schema_name}
    validator = Validator(schema, registry=registry)
    return [f"{path} ({schema_name}): {'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]


checks = [
    ("/tileMatrixSets/WebMercatorQuad", "tileMatrixSet"),
    ("/collections/land.parcels/tiles/WebMercatorQuad", "tileSet"),
    ("/collections/water.stations/tiles/WebMercatorQuad", "tileSet"),
    ("/tiles/WebMercatorQuad", "tileSet"),
    ("/tiles/WebMercatorQuad?collections=land.parcels,minerals.licence_areas", "tileSet"),
    ("/conformance", "confClasses"),
]
errors = []
for path, name in checks:
    errors += check(path, name)
# Lists: every item of /tileMatrixSets and of the tileset lists.
for path, key, name in [
    ("/tileMatrixSets", "tileMatrixSets", "tileMatrixSet-item"),
    ("/tiles", "tilesets", "tileSet-item"),
    ("/collections/land.parcels/tiles", "tilesets", "tileSet-item"),
]:
    with urllib.request.urlopen(base + path) as response:
        items = json.load(response)[key]
    schema = {"$ref": "urn:ogcapi-tiles#/components/schemas/" + name}
    for i, item in enumerate(items):
        errors += [f"{path} [{i}] ({name}): {e.message}" for e in Validator(schema, registry=registry).iter_errors(item)]
    checks.append((path, name))
print(json.dumps({"checked": checks, "errors": errors}))
