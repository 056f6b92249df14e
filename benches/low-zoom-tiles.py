#!/usr/bin/env python3
"""Low-zoom tiles: size and latency of every tile over the data, zoom by zoom.

usage: low-zoom-tiles.py [--ours URL] [--martin URL] [--zooms 8-13] [--passes 3]

Reads the tiles covering land.parcels from our tileset metadata (tileMatrixSetLimits), then
requests each one sequentially, PASSES times, from our server (best run with its tile cache off,
so every request renders: `tile_cache_mb = 0`, as benches/tiles-vs-martin.sh starts on :8082)
and once from Martin without cache (public.parcels, the same rows). Prints one JSON line per
server and zoom: tiles, max and median bytes, p50/p99 latency in ms.
"""
import argparse
import json
import statistics
import time
import urllib.request

p = argparse.ArgumentParser()
p.add_argument("--ours", default="http://127.0.0.1:8082")
p.add_argument("--martin", default="http://127.0.0.1:3001")
p.add_argument("--zooms", default="8-13")
p.add_argument("--passes", type=int, default=3)
p.add_argument("--martin-passes", type=int, default=1)
a = p.parse_args()
z0, z1 = (int(x) for x in a.zooms.split("-"))

with urllib.request.urlopen(a.ours + "/collections/land.parcels/tiles/WebMercatorQuad") as r:
    limits = {int(l["tileMatrix"]): l for l in json.load(r)["tileMatrixSetLimits"]}


def fetch(url):
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=120) as r:
            body = r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        body, status = b"", e.code
    return status, len(body), (time.perf_counter() - started) * 1000


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


for name, base, template, passes in [
    ("ours", a.ours, "/collections/land.parcels/tiles/WebMercatorQuad/{z}/{y}/{x}", a.passes),
    ("martin-nocache", a.martin, "/parcels/{z}/{x}/{y}", a.martin_passes),
]:
    if not base:
        continue
    for z in range(z0, z1 + 1):
        l = limits[z]
        tiles = [(x, y) for y in range(l["minTileRow"], l["maxTileRow"] + 1) for x in range(l["minTileCol"], l["maxTileCol"] + 1)]
        sizes, times, statuses = [], [], {}
        for _ in range(passes):
            for x, y in tiles:
                status, size, ms = fetch(base + template.format(z=z, x=x, y=y))
                statuses[status] = statuses.get(status, 0) + 1
                sizes.append(size)
                times.append(ms)
        print(json.dumps({
            "server": name, "z": z, "tiles": len(tiles), "requests": len(times), "statuses": statuses,
            "max_kb": round(max(sizes) / 1024, 1), "median_kb": round(statistics.median(sizes) / 1024, 1),
            "p50_ms": round(pct(times, 50), 1), "p99_ms": round(pct(times, 99), 1), "max_ms": round(max(times), 1),
        }), flush=True)
