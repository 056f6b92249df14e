#!/usr/bin/env python3
"""Reads geosector's data catalogue with OWSLib: owslib.ogcapi.records.Records lists the records
collections and searches one; owslib.iso.MD_Metadata reads a record's ISO 19139 export back,
field by field; xmllint validates that export against the ISO 19139 schemas that pycsw's APISO
profile ships (offline: --nonet). Prints one JSON object with what it saw. Exit status 0 on
success.

usage: owslib_records_check.py BASE_URL RECORD_ID QUERY
"""
import importlib.metadata
import json
import subprocess
import sys
import tempfile
import urllib.request

from lxml import etree
from owslib.iso import MD_Metadata
from owslib.ogcapi.records import Records

SCHEMA = "pycsw/plugins/profiles/apiso/schemas/ogc/iso/19139/20060504/gmd/gmd.xsd"


def get(url):
    with urllib.request.urlopen(url) as response:
        return response.read()


def main():
    base, record_id, query = sys.argv[1:4]
    api = Records(base)
    catalogues = api.records()
    collection = api.collection("catalogue")
    found = api.collection_items("catalogue", q=query, type="document", limit=50)
    paged = api.collection_items("catalogue", limit=3)
    next_links = [l["href"] for l in paged.get("links", []) if l.get("rel") == "next"]
    single = api.collection_item("catalogue", record_id)

    xml = get(f"{base}/collections/catalogue/items/{record_id}?f=iso")
    md = MD_Metadata(etree.fromstring(xml))
    ident = md.identification[0] if isinstance(md.identification, list) else md.identification
    keywords = [k.name for group in ident.keywords for k in group.keywords]
    bbox = ident.bbox
    online = [o.url for o in md.distribution.online] if md.distribution else []
    protocols = [o.protocol for o in md.distribution.online] if md.distribution else []
    crs = [f"{r.codeSpace}:{r.code}" for r in ([md.referencesystem] if md.referencesystem else [])]

    schema = importlib.metadata.distribution("pycsw").locate_file(SCHEMA)
    with tempfile.NamedTemporaryFile(suffix=".xml") as f:
        f.write(xml)
        f.flush()
        lint = subprocess.run(
            ["xmllint", "--noout", "--nonet", "--schema", str(schema), f.name],
            capture_output=True,
            text=True,
        )

    print(json.dumps({
        "catalogues": catalogues,
        "item_type": collection.get("itemType"),
        "found": [f["id"] for f in found["features"]],
        "matched": found.get("numberMatched"),
        "paged": len(paged["features"]),
        "has_next": bool(next_links),
        "single_id": single["id"],
        "single_title": single["properties"]["title"],
        "iso": {
            "identifier": md.identifier,
            "languagecode": md.languagecode,
            "charset": md.charset,
            "hierarchy": md.hierarchy,
            "datestamp": md.datestamp,
            "stdname": md.stdname,
            "contact_organization": md.contact[0].organization if md.contact else None,
            "contact_email": md.contact[0].email if md.contact else None,
            "title": ident.title,
            "abstract": ident.abstract,
            "topiccategory": ident.topiccategory,
            "keywords": keywords,
            "bbox": [bbox.minx, bbox.miny, bbox.maxx, bbox.maxy] if bbox else None,
            "temporal": [ident.temporalextent_start, ident.temporalextent_end],
            "accessconstraints": ident.accessconstraints,
            "otherconstraints": ident.otherconstraints,
            "supplementalinformation": ident.supplementalinformation,
            "resourcelanguagecode": ident.resourcelanguagecode,
            "online": online,
            "protocols": protocols,
            "crs": crs,
        },
        "xmllint": {"returncode": lint.returncode, "stderr": lint.stderr.strip()},
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
