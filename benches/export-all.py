#!/usr/bin/env python3
"""Exports a whole collection from a running geosector by following `next` links, as a client
would; prints features, pages, seconds, bytes and the server's peak RSS (VmHWM of PID).

usage: benches/export-all.py BASE_URL COLLECTION LIMIT SERVER_PID
"""
import json
import sys
import time
import urllib.request


def peak_rss_kb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return None


def main():
    base, collection, limit, pid = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    url = f"{base}/collections/{collection}/items?limit={limit}"
    features = pages = size = 0
    ids = set()
    started = time.monotonic()
    while url:
        with urllib.request.urlopen(url, timeout=600) as response:
            body = response.read()
        size += len(body)
        page = json.loads(body)
        pages += 1
        features += len(page["features"])
        ids.update(f["id"] for f in page["features"])
        url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
    elapsed = time.monotonic() - started
    print(json.dumps({"features": features, "distinct_ids": len(ids), "pages": pages, "seconds": round(elapsed, 1),
                      "features_per_s": round(features / elapsed), "mbytes": round(size / 1e6, 1),
                      "server_peak_rss_mb": round(peak_rss_kb(pid) / 1024, 1)}))


if __name__ == "__main__":
    main()
