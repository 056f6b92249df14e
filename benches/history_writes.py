#!/usr/bin/env python3
"""Sequential write and lineage latencies against a running geosector (issue 19 benchmarks).

One keep-alive HTTP/1.1 connection (http.client), one request at a time, timed from sending
the request to having read the whole response (time.perf_counter). Prints one JSON line per
test with n, errors, statuses, p50/p95/p99/mean/min/max in ms.

  history_writes.py --base http://127.0.0.1:8095 --key gsk_... patch --ids FILE -n 500
  history_writes.py ... patch-if-match --ids FILE -n 500 --features 100
  history_writes.py ... post -n 200 [--offset 0] [--template FILE]
  history_writes.py ... lineage --id 123 -n 200

Ids are read from a file (one per line) and used in order. PATCH bodies are
{"properties":{"address":"..."}} with Content-Type application/merge-patch+json.
"""
import argparse
import http.client
import json
import statistics
import sys
import time
import urllib.parse

COLLECTION = "land.parcels"


def pct(sorted_ms, p):
    if not sorted_ms:
        return None
    k = (len(sorted_ms) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(sorted_ms) - 1)
    return sorted_ms[lo] + (sorted_ms[hi] - sorted_ms[lo]) * (k - lo)


class Client:
    def __init__(self, base, key):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port or 80
        self.key = key
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def request(self, method, path, body=None, headers=None):
        h = {"X-API-Key": self.key} if self.key else {}
        h.update(headers or {})
        data = None if body is None else json.dumps(body).encode()
        t0 = time.perf_counter()
        try:
            self.conn.request(method, path, body=data, headers=h)
            r = self.conn.getresponse()
            payload = r.read()
        except (http.client.HTTPException, OSError):
            # a dropped keep-alive connection: reconnect and count the failure
            self.conn.close()
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            return time.perf_counter() - t0, 0, {}, b""
        dt = time.perf_counter() - t0
        return dt, r.status, {k.lower(): v for k, v in r.getheaders()}, payload


def summary(name, times, statuses, extra=None):
    ms = sorted(t * 1000.0 for t in times)
    counts = {}
    for s in statuses:
        counts[str(s)] = counts.get(str(s), 0) + 1
    out = {
        "test": name,
        "n": len(ms),
        "statuses": counts,
        "p50_ms": round(pct(ms, 50), 2),
        "p95_ms": round(pct(ms, 95), 2),
        "p99_ms": round(pct(ms, 99), 2),
        "mean_ms": round(statistics.fmean(ms), 2),
        "min_ms": round(ms[0], 2),
        "max_ms": round(ms[-1], 2),
    }
    if extra:
        out.update(extra)
    print(json.dumps(out), flush=True)
    return out


def read_ids(path):
    with open(path) as f:
        return [int(line.split()[0]) for line in f if line.strip()]


def run_patch(c, args, tag):
    ids = read_ids(args.ids)[: args.n]
    times, statuses, bad = [], [], []
    for i, fid in enumerate(ids):
        body = {"properties": {"address": f"Thôn {i % 12 + 1}, bench {tag} {time.time_ns()}"}}
        dt, st, _, payload = c.request("PATCH", f"/collections/{COLLECTION}/items/{fid}", body,
                                       {"Content-Type": "application/merge-patch+json"})
        times.append(dt)
        statuses.append(st)
        if st != 200 and len(bad) < 5:
            bad.append((fid, st, payload[:300].decode("utf-8", "replace")))
    summary(f"patch-{tag}", times, statuses, {"first_errors": bad} if bad else None)


def run_patch_if_match(c, args):
    ids = read_ids(args.ids)[: args.features]
    etags = {}
    # Not timed: the starting ETags, from a PATCH without If-Match (a GET of the feature answers
    # the collection's weak ETag, W/"<table version>-<hash>", which If-Match does not accept).
    for fid in ids:
        _, st, h, _ = c.request("PATCH", f"/collections/{COLLECTION}/items/{fid}",
                                {"properties": {"address": f"bench if-match start {time.time_ns()}"}},
                                {"Content-Type": "application/merge-patch+json"})
        if st == 200 and "etag" in h:
            etags[fid] = h["etag"]
    times, statuses, bad = [], [], []
    i = 0
    while i < args.n:
        for fid in ids:
            if i >= args.n:
                break
            body = {"properties": {"address": f"Tổ {i % 30 + 1}, bench if-match {time.time_ns()}"}}
            dt, st, h, payload = c.request("PATCH", f"/collections/{COLLECTION}/items/{fid}", body,
                                           {"Content-Type": "application/merge-patch+json",
                                            "If-Match": etags.get(fid, "*")})
            times.append(dt)
            statuses.append(st)
            if "etag" in h:
                etags[fid] = h["etag"]
            if st != 200 and len(bad) < 5:
                bad.append((fid, st, payload[:300].decode("utf-8", "replace")))
            i += 1
    summary("patch-if-match", times, statuses, {"features": len(ids), **({"first_errors": bad} if bad else {})})


def bench_squares(offset, n):
    """New parcels: 33 m squares on a 110 m grid east of the bench extent (lon > 106.05), where no
    stored parcel lies (no overlap finding), each with a key of its own (sheet 99, B<i>)."""
    out = []
    for i in range(offset, offset + n):
        x = 106.05 + (i % 20) * 0.001
        y = 20.85 + (i // 20) * 0.001
        s = 0.0003
        out.append({"type": "Feature",
                    "geometry": {"type": "Polygon",
                                 "coordinates": [[[x, y], [x + s, y], [x + s, y + s], [x, y + s], [x, y]]]},
                    "properties": {"commune_code": "09017", "sheet_number": 99, "parcel_number": f"B{i + 1}",
                                   "land_use_codes": ["ODT"], "address": "Thôn 9, bench", "map_scale": 1000,
                                   "survey_date": "2026-11-02"}})
    return out


def run_post(c, args):
    if args.template:
        with open(args.template) as f:
            features = [json.loads(line) for line in f if line.strip()][args.offset: args.offset + args.n]
    else:
        features = bench_squares(args.offset, args.n)
    times, statuses, bad, created = [], [], [], []
    for feat in features:
        dt, st, h, payload = c.request("POST", f"/collections/{COLLECTION}/items", feat,
                                       {"Content-Type": "application/geo+json"})
        times.append(dt)
        statuses.append(st)
        if st == 201:
            created.append(h.get("location", "").rsplit("/", 1)[-1])
        elif len(bad) < 5:
            bad.append((st, payload[:400].decode("utf-8", "replace")))
    if args.created:
        with open(args.created, "w") as f:
            f.write("\n".join(created) + "\n")
    summary("post", times, statuses, {"first_errors": bad} if bad else None)


def run_lineage(c, args):
    times, statuses, sizes = [], [], set()
    for _ in range(args.n):
        dt, st, _, payload = c.request("GET", f"/collections/{COLLECTION}/items/{args.id}/lineage")
        times.append(dt)
        statuses.append(st)
        if st == 200:
            doc = json.loads(payload)
            sizes.add((len(doc.get("ancestors", [])), len(doc.get("descendants", [])),
                       max([e.get("generation", 0) for e in doc.get("ancestors", []) + doc.get("descendants", [])] or [0])))
    summary(f"lineage-{args.id}", times, statuses,
            {"edges_ancestors_descendants_maxgen": sorted(sizes), "bytes": len(payload)})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default="http://127.0.0.1:8095")
    ap.add_argument("--key", default="")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("patch")
    p.add_argument("--ids", required=True)
    p.add_argument("-n", type=int, default=500)
    p.add_argument("--tag", default="plain")
    p = sub.add_parser("patch-if-match")
    p.add_argument("--ids", required=True)
    p.add_argument("-n", type=int, default=500)
    p.add_argument("--features", type=int, default=100)
    p = sub.add_parser("post")
    p.add_argument("--template", default="", help="GeoJSON features, one a line (default: bench_squares)")
    p.add_argument("-n", type=int, default=200)
    p.add_argument("--offset", type=int, default=0, help="skip this many template lines")
    p.add_argument("--created", default="")
    p = sub.add_parser("lineage")
    p.add_argument("--id", type=int, required=True)
    p.add_argument("-n", type=int, default=200)
    args = ap.parse_args()
    c = Client(args.base, args.key)
    # one untimed request to open the connection
    c.request("GET", f"/collections/{COLLECTION}")
    {"patch": lambda: run_patch(c, args, args.tag), "patch-if-match": lambda: run_patch_if_match(c, args),
     "post": lambda: run_post(c, args), "lineage": lambda: run_lineage(c, args)}[args.cmd]()


if __name__ == "__main__":
    sys.exit(main())
