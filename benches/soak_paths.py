#!/usr/bin/env python3
"""Writes the request paths of the soak run (benches/soak.sh), one per line, from a running server.

Mixed as a provincial portal sees them: parcel pages and single parcels, small bboxes, CQL2
filters, vector tiles (one collection and the whole dataset) at zooms 10-16 over the parcels'
extent, other sectors' items, and monitoring time series of every station and parameter. Only
the Python standard library; the server is asked for its extents, ids and series.

    benches/soak_paths.py BASE_URL OUT_FILE
"""

import json
import math
import random
import sys
import urllib.parse
import urllib.request

BASE, OUT = sys.argv[1].rstrip("/"), sys.argv[2]
rng = random.Random(20261206)


def get(path):
    with urllib.request.urlopen(BASE + path, timeout=60) as r:
        return json.load(r)


def tile(lon, lat, z):
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def q(s):
    return urllib.parse.quote(s, safe="")


paths = []
parcels = "land.parcels"
ext = get(f"/collections/{parcels}")["extent"]["spatial"]["bbox"][0]
w, s, e, n = ext
ids = [f["id"] for f in get(f"/collections/{parcels}/items?limit=500")["features"]]

page = f"/collections/{parcels}/items?limit=50"
for _ in range(10):  # the first pages, as a client follows its next links
    paths += [page, page + "&f=html"]
    nxt = [link["href"] for link in get(page)["links"] if link["rel"] == "next"]
    if not nxt:
        break
    page = nxt[0][len(BASE):] if nxt[0].startswith(BASE) else urllib.parse.urlsplit(nxt[0])._replace(scheme="", netloc="").geturl()
for key in ("sheet_number", "-legal_area_m2", "survey_date"):
    paths.append(f"/collections/{parcels}/items?limit=100&sortby={key}")
for fid in rng.sample(ids, min(100, len(ids))):
    paths.append(f"/collections/{parcels}/items/{q(str(fid))}")
for _ in range(150):
    cx, cy = rng.uniform(w, e), rng.uniform(s, n)
    d = rng.choice([0.002, 0.005, 0.01, 0.03])
    paths.append(f"/collections/{parcels}/items?bbox={cx - d:.5f},{cy - d:.5f},{cx + d:.5f},{cy + d:.5f}&limit=100")
filters = [
    "legal_area_m2 > 500",
    "legal_area_m2 BETWEEN 100 AND 300",
    "main_land_use LIKE 'O%'",
    "ACCENTI(address) LIKE ACCENTI('%Phú%')",
    f"S_INTERSECTS(geom, BBOX({w:.4f},{s:.4f},{(w + e) / 2:.4f},{(s + n) / 2:.4f}))",
]
for f in filters:
    for limit in (10, 100):
        paths.append(f"/collections/{parcels}/items?filter={q(f)}&limit={limit}")
for z in range(10, 17):
    x0, y1 = tile(w, s, z)
    x1, y0 = tile(e, n, z)
    cells = [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    for x, y in rng.sample(cells, min(60, len(cells))):
        paths.append(f"/collections/{parcels}/tiles/WebMercatorQuad/{z}/{y}/{x}")
        if z <= 14:
            paths.append(f"/tiles/WebMercatorQuad/{z}/{y}/{x}")
for coll in ("minerals.licences", "water.works", "water.permits", "environment.stations"):
    paths.append(f"/collections/{coll}/items?limit=100")
stations = get("/collections/environment.stations/items?limit=1000")["features"]
for st in stations:
    for p in ("PM2.5", "PM10", "NO2", "SO2", "CO", "pH", "DO", "Temp"):
        path = f"/collections/environment.stations/items/{q(str(st['id']))}/timeseries?parameter={q(p)}"
        paths.append(path)
        paths.append(path + "&f=csv&datetime=2026-10-20T00:00:00Z/2026-11-05T00:00:00Z")
paths += ["/", "/collections", f"/collections/{parcels}/queryables", "/api", "/health"]

rng.shuffle(paths)
with open(OUT, "w") as out:
    out.write("\n".join(paths) + "\n")
print(f"{len(paths)} paths in {OUT}", file=sys.stderr)
