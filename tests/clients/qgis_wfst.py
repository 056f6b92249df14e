#!/usr/bin/python3
"""Edits a collection of a running geosector through WFS-T with Debian 12's QGIS 3.22
(python3-qgis, headless: QT_QPA_PLATFORM=offscreen), as a desktop user would: loads the layer
by WFS 2.0.0, counts its features, then commits an insert, an attribute update and a delete,
each in its own editing session. Prints one JSON object with what it saw and what each commit
said. Run it with the system python3 (/usr/bin/python3), not a virtual environment.

The API key travels in the URL's query string (`…/wfs?apikey=gsk_…`): QGIS 3.22 keeps it on
every GET it builds from that URL, and posts the transaction to the Transaction operation's
address in the capabilities, which the server writes with the same key.

usage: qgis_wfst.py WFS_URL TYPENAME NEW_FEATURE_JSON UPDATE_KEY_JSON NEW_ADDRESS DELETE_KEY_JSON
  NEW_FEATURE_JSON: {"wkt": "...", "attributes": {...}} in the layer's CRS (EPSG:4326)
  *_KEY_JSON: {"attribute": value, ...} naming one feature (its natural key)
"""
import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import QgsApplication, QgsFeature, QgsGeometry, QgsVectorLayer, QgsVectorDataProvider  # noqa: E402


def find(layer, key):
    """The feature whose attributes equal the key's."""
    for feature in layer.getFeatures():
        if all(str(feature[name]) == str(value) for name, value in key.items()):
            return feature
    return None


def main():
    url, typename, new_json, update_json, new_address, delete_json = sys.argv[1:7]
    app = QgsApplication([], False)
    app.initQgis()
    out = {}
    uri = f"url='{url}' typename='{typename}' version='2.0.0' restrictToRequestBBOX='0'"
    layer = QgsVectorLayer(uri, "parcels", "WFS")
    out["valid"] = layer.isValid()
    if not layer.isValid():
        out["error"] = layer.error().summary()
        print(json.dumps(out))
        return
    out["count"] = layer.featureCount()
    out["iterated"] = sum(1 for _ in layer.getFeatures())
    out["crs"] = layer.crs().authid()
    out["fields"] = [f.name() for f in layer.fields()]
    caps = layer.dataProvider().capabilities()
    out["editable"] = bool(
        caps & QgsVectorDataProvider.AddFeatures
        and caps & QgsVectorDataProvider.ChangeAttributeValues
        and caps & QgsVectorDataProvider.DeleteFeatures
    )

    new = json.loads(new_json)
    layer.startEditing()
    feature = QgsFeature(layer.fields())
    for name, value in new["attributes"].items():
        feature[name] = value
    feature.setGeometry(QgsGeometry.fromWkt(new["wkt"]))
    out["added"] = layer.addFeature(feature)
    out["insert_committed"] = layer.commitChanges()
    out["insert_errors"] = layer.commitErrors()

    target = find(layer, json.loads(update_json))
    out["update_found"] = target is not None
    if target is not None:
        layer.startEditing()
        out["changed"] = layer.changeAttributeValue(target.id(), layer.fields().indexOf("address"), new_address)
        out["update_committed"] = layer.commitChanges()
        out["update_errors"] = layer.commitErrors()

    doomed = find(layer, json.loads(delete_json))
    out["delete_found"] = doomed is not None
    if doomed is not None:
        layer.startEditing()
        out["deleted"] = layer.deleteFeature(doomed.id())
        out["delete_committed"] = layer.commitChanges()
        out["delete_errors"] = layer.commitErrors()
    print(json.dumps(out, ensure_ascii=False), flush=True)
    # QGIS 3.22 may crash while tearing its providers down headless; what it did is printed.
    os._exit(0)


if __name__ == "__main__":
    main()
