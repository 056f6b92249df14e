"""Reads an offline package back with third-party readers (it/package.rs).

    package_check.py DIR

- the GeoPackage with GDAL (pyogrio's bundled GDAL): every layer's feature count, and per
  feature its geosector_id and geometry as WKB hex (GDAL re-exports the geometry it read);
  the tables GDAL lists (layer_styles among them);
- the PMTiles file with the `pmtiles` reader from PyPI: header, metadata, and every tile
  gunzipped and decoded as MVT by `mapbox-vector-tile` (layers and feature counts);
- the MBTiles file with sqlite3: metadata and the tile count.

Prints one JSON object on stdout; any unreadable part raises (exit status 1).
"""

import gzip
import json
import sqlite3
import sys

import mapbox_vector_tile
import pyogrio
from pmtiles.reader import MmapSource, Reader, all_tiles
from pmtiles.tile import zxy_to_tileid


def geopackage(path):
    layers = {}
    listed = [name for name, _ in pyogrio.list_layers(path)]
    for name in listed:
        if name in ("layer_styles", "geosector_package", "geosector_origin"):
            continue
        meta, fids, geometry, fields = pyogrio.raw.read(path, layer=name)
        ids = list(fields[list(meta["fields"]).index("geosector_id")])
        layers[name] = {
            "count": len(ids),
            "crs": meta["crs"],
            "geometry_type": meta["geometry_type"],
            "fields": list(meta["fields"]),
            "features": {str(int(i)): (g.hex() if g is not None else None) for i, g in zip(ids, geometry if geometry is not None else [None] * len(ids))},
        }
    return {"listed": listed, "layers": layers}


def pmtiles(path):
    with open(path, "rb") as f:
        source = MmapSource(f)
        reader = Reader(source)
        header = reader.header()
        metadata = reader.metadata()
        tiles = 0
        features = {}
        zooms = set()
        for (z, x, y), data in all_tiles(source):
            assert zxy_to_tileid(z, x, y) >= 0
            decoded = mapbox_vector_tile.decode(gzip.decompress(data))
            assert decoded, f"tile {z}/{x}/{y} has no layer"
            for layer, content in decoded.items():
                features[layer] = features.get(layer, 0) + len(content["features"])
            zooms.add(z)
            tiles += 1
            # The directory finds the same bytes by z/x/y.
            assert reader.get(z, x, y) == data, f"{z}/{x}/{y}"
        header = {k: (v.name if hasattr(v, "name") else v) for k, v in header.items()}
        return {"header": header, "metadata": metadata, "tiles": tiles, "features": features, "zooms": sorted(zooms)}


def mbtiles(path):
    db = sqlite3.connect(path)
    metadata = dict(db.execute("SELECT name, value FROM metadata"))
    count = db.execute("SELECT count(*) FROM tiles").fetchone()[0]
    for (data,) in db.execute("SELECT tile_data FROM tiles LIMIT 50"):
        mapbox_vector_tile.decode(gzip.decompress(data))
    return {"metadata": metadata, "tiles": count}


def main():
    out = sys.argv[1]
    result = {"gpkg": geopackage(f"{out}/package.gpkg")}
    if len(sys.argv) < 3 or sys.argv[2] != "--no-tiles":
        result["pmtiles"] = pmtiles(f"{out}/tiles.pmtiles")
        result["mbtiles"] = mbtiles(f"{out}/tiles.mbtiles")
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
