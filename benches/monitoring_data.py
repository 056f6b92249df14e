#!/usr/bin/env python3
"""Synthetic monitoring data for the monitoring benchmarks (docs/benchmarks.md, issue 7).

Writes N air stations (GeoJSON, spread over Hà Nội and Bắc Ninh) and their hourly observations
as one CSV (`station,parameter,value,unit,status,sampled_at`) — the same rows the TT 10/2021
reader yields, without 1.7 million tiny files. Deterministic (seeded); Python 3 stdlib only.

  python3 benches/monitoring_data.py --stations 1000 --hours 1667 --params 6 --out /tmp/obs10m
      # 1000 × 1667 × 6 = 10,002,000 lines (the import vs COPY benchmark)
  python3 benches/monitoring_data.py --stations 1000 --hours 8760 --params 2 --out /tmp/obs1y
      # PM2.5 and NO2 for a year (17.5 M lines: the hourly AQI of 1,000 stations × 1 year)
"""
import argparse
import json
import math
import os
import random
from datetime import datetime, timedelta

PARAMS = [("PM2.5", "µg/m³", 40), ("NO2", "µg/m³", 45), ("PM10", "µg/m³", 65), ("SO2", "µg/m³", 12),
          ("CO", "µg/m³", 1500), ("O3", "µg/m³", 40)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stations", type=int, default=1000)
    ap.add_argument("--hours", type=int, default=1667)
    ap.add_argument("--params", type=int, default=6, choices=range(1, 7))
    ap.add_argument("--start", default="2026-01-01T00:00:00")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)
    stations = []
    for i in range(a.stations):
        code = f"B_KK_{i:05d}"
        lon, lat = 105.6 + rng.random() * 0.6, 20.9 + rng.random() * 0.4
        stations.append({"type": "Feature", "properties": {"maTram": code, "tenTram": f"Trạm thử {i}", "moiTruong": "air",
                         "phuongThuc": "automatic"}, "geometry": {"type": "Point", "coordinates": [round(lon, 5), round(lat, 5)]}})
    with open(os.path.join(a.out, "stations.geojson"), "w", encoding="utf-8") as f:
        json.dump({"type": "FeatureCollection", "features": stations}, f)
    start = datetime.fromisoformat(a.start)
    params = PARAMS[: a.params]
    times = [(start + timedelta(hours=h)).strftime("%Y-%m-%d %H:%M:%S") for h in range(a.hours)]
    shape = [1.0 + 0.45 * math.exp(-((h % 24 - 8) ** 2) / 6) + 0.55 * math.exp(-((h % 24 - 19) ** 2) / 8) for h in range(a.hours)]
    with open(os.path.join(a.out, "observations.csv"), "w", encoding="utf-8") as f:
        f.write("station,parameter,value,unit,status,sampled_at\n")
        for s in stations:
            code = s["properties"]["maTram"]
            base = rng.uniform(0.6, 1.4)
            for h, t in enumerate(times):
                for name, unit, level in params:
                    f.write(f"{code},{name},{level * base * shape[h] * rng.uniform(0.8, 1.2):.2f},{unit},00,{t}\n")


if __name__ == "__main__":
    main()
