#!/usr/bin/env bash
# Seeds the fuzz corpora (fuzz/corpus/<target>/) from the project's own test files: tests/data,
# crates/*/tests and data-samples, plus a few small inputs generated here (a polygon Shapefile,
# a tiny GeoPackage, WKB of every type). Idempotent: files are named by content hash, so a
# re-run adds nothing twice and never removes what the fuzzer added. Inputs over 256 KB are left
# out (libFuzzer works best on small inputs). Usage: fuzz/seed.sh [TARGET...]  (default: all)
set -euo pipefail
fuzz=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$fuzz")
cd "$root"
max=262144
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(geojson geojsonseq fgb shapefile gpkg csv station wkb cql2_text cql2_json)

# Copies each file named on stdin into corpus/$1, under its content hash.
add() {
    local dir="$fuzz/corpus/$1" f
    mkdir -p "$dir"
    while IFS= read -r f; do
        [ -f "$f" ] && [ "$(stat -c %s "$f")" -le $max ] || continue
        cp "$f" "$dir/$(sha1sum "$f" | cut -c1-40)"
    done
}
files() { find tests/data data-samples crates/*/tests -type f "$@" 2>/dev/null | sort; }

# The generated seeds, written into a scratch directory by Python (standard library only).
gen=$(mktemp -d)
trap 'rm -rf "$gen"' EXIT
python3 - "$gen" "$root" <<'PY'
import glob, json, os, sqlite3, struct, sys
out, root = sys.argv[1], sys.argv[2]
def write(sub, name, data):
    os.makedirs(f"{out}/{sub}", exist_ok=True)
    with open(f"{out}/{sub}/{name}", "wb") as f:
        f.write(data)

# WKB: one of each type, both byte orders, ISO Z/M and EWKB flags.
def pt(x, y, o="<"): return struct.pack(o + "dd", x, y)
def ring(coords, o="<"): return struct.pack(o + "I", len(coords)) + b"".join(pt(x, y, o) for x, y in coords)
sq = [(105.0, 21.0), (105.1, 21.0), (105.1, 21.1), (105.0, 21.1), (105.0, 21.0)]
hole = [(105.02, 21.02), (105.05, 21.02), (105.05, 21.05), (105.02, 21.02)]
def geom(code, body, o="<"): return (b"\x01" if o == "<" else b"\x00") + struct.pack(o + "I", code) + body
wkb = {
    "point": geom(1, pt(105.8, 21.0)),
    "point_be": geom(1, pt(105.8, 21.0, ">"), ">"),
    "point_empty": geom(1, pt(float("nan"), float("nan"))),
    "point_z": geom(1001, pt(105.8, 21.0) + struct.pack("<d", 12.5)),
    "point_ewkb_srid": b"\x01" + struct.pack("<II", 0x20000001, 4326) + pt(105.8, 21.0),
    "line": geom(2, ring(sq)),
    "polygon": geom(3, struct.pack("<I", 2) + ring(sq) + ring(hole)),
    "polygon_be": geom(3, struct.pack(">I", 1) + ring(sq, ">"), ">"),
    "multipoint": geom(4, struct.pack("<I", 2) + geom(1, pt(1, 2)) + geom(1, pt(3, 4))),
    "multiline": geom(5, struct.pack("<I", 1) + geom(2, ring(sq))),
    "multipolygon": geom(6, struct.pack("<I", 2) + geom(3, struct.pack("<I", 1) + ring(sq)) * 2),
    "collection": geom(7, struct.pack("<I", 2) + geom(1, pt(1, 2)) + geom(7, struct.pack("<I", 1) + geom(2, ring(sq)))),
    "curve": geom(8, ring(sq[:3])),
}
for name, data in wkb.items():
    write("wkb", name, data)

# GeoPackage: a small one (512-byte pages) with a polygon table of every column type.
def gpb(w): return b"GP\x00\x01" + struct.pack("<i", 4326) + w
path = f"{out}/gpkg/small.gpkg"
os.makedirs(f"{out}/gpkg", exist_ok=True)
db = sqlite3.connect(path)
db.executescript("""
PRAGMA page_size=512;
PRAGMA application_id=1196444487;
CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT, srs_id INTEGER PRIMARY KEY, organization TEXT,
  organization_coordsys_id INTEGER, definition TEXT, description TEXT);
INSERT INTO gpkg_spatial_ref_sys VALUES ('WGS 84', 4326, 'EPSG', 4326, 'GEOGCS["WGS 84"]', NULL);
CREATE TABLE gpkg_contents (table_name TEXT PRIMARY KEY, data_type TEXT, identifier TEXT, description TEXT,
  last_change TEXT, min_x REAL, min_y REAL, max_x REAL, max_y REAL, srs_id INTEGER);
INSERT INTO gpkg_contents VALUES ('parcels', 'features', 'parcels', '', '2025-01-01', 0, 0, 0, 0, 4326);
CREATE TABLE gpkg_geometry_columns (table_name TEXT, column_name TEXT, geometry_type_name TEXT, srs_id INTEGER, z INTEGER, m INTEGER);
INSERT INTO gpkg_geometry_columns VALUES ('parcels', 'geom', 'POLYGON', 4326, 0, 0);
CREATE TABLE parcels (fid INTEGER PRIMARY KEY, geom BLOB, name TEXT, count INTEGER, value REAL, flag BOOLEAN, day DATE);
""")
for i, w in enumerate([wkb["polygon"], wkb["multipolygon"], wkb["point"], None]):
    db.execute("INSERT INTO parcels (geom, name, count, value, flag, day) VALUES (?, ?, ?, ?, ?, ?)",
               (gpb(w) if w else None, f"Thửa {i}", i, i * 1.5, i % 2, "2025-03-01"))
db.commit()
db.execute("VACUUM")
db.close()

# Shapefile + DBF as the shapefile target takes them: 4 bytes (little-endian) .shp length, .shp, .dbf.
def dbf(fields, records):
    rec_len = 1 + sum(l for _, _, l, _ in fields)
    head = struct.pack("<BBBBIHH20x", 3, 125, 1, 1, len(records), 33 + 32 * len(fields), rec_len)
    desc = b"".join(n.encode().ljust(11, b"\0") + t.encode() + b"\0" * 4 + bytes([l, d]) + b"\0" * 14
                    for n, t, l, d in fields)
    rows = b"".join(b" " + b"".join(v.encode("utf-8").ljust(l)[:l] for v, (_, _, l, _) in zip(r, fields)) for r in records)
    return head + desc + b"\r" + rows + b"\x1a"
def shp(kind, shapes):
    recs = b""
    for i, content in enumerate(shapes):
        recs += struct.pack(">ii", i + 1, len(content) // 2) + content
    head = struct.pack(">7i", 9994, 0, 0, 0, 0, 0, (100 + len(recs)) // 2) + struct.pack("<2i", 1000, kind)
    return head + struct.pack("<8d", 105, 21, 105.1, 21.1, 0, 0, 0, 0) + recs
def poly(rings):
    pts = [p for r in rings for p in r]
    starts, at = [], 0
    for r in rings:
        starts.append(at); at += len(r)
    return (struct.pack("<i4d", 5, 105, 21, 105.1, 21.1) + struct.pack("<2i", len(rings), len(pts))
            + struct.pack(f"<{len(rings)}i", *starts) + b"".join(pt(x, y) for x, y in pts))
fields = [("name", "C", 20, 0), ("count", "N", 6, 0), ("value", "N", 10, 2), ("day", "D", 8, 0), ("flag", "L", 1, 0)]
records = [["Thửa một", "1", "12.50", "20250301", "T"], ["", "", "", "", "?"]]
polys = shp(5, [poly([[(x, y) for x, y in sq[::-1]], hole]), b"\0\0\0\0"])
points = shp(1, [struct.pack("<i", 1) + pt(105.8, 21.0), struct.pack("<i", 1) + pt(105.9, 21.1)])
for name, s in [("polygons", polys), ("points", points)]:
    write("shapefile", name, struct.pack("<I", len(s)) + s + dbf(fields, records))
for path in sorted(glob.glob(f"{root}/tests/data/bad-inputs/shapefile/*.shp")):
    d = open(path[:-4] + ".dbf", "rb").read() if os.path.exists(path[:-4] + ".dbf") else b""
    s = open(path, "rb").read()
    write("shapefile", os.path.basename(path), struct.pack("<I", len(s)) + s + d)

# One seed per line: GeoJSONSeq from the newline-delimited files and from each small GeoJSON's
# features; CQL2 text from the conformance suite's expression lists.
lines = []
for f in sorted(glob.glob(f"{root}/tests/data/**/*.ndjson", recursive=True)):
    lines += open(f, "rb").read().splitlines()[:200]
for f in sorted(glob.glob(f"{root}/data-samples/**/*.geojson", recursive=True))[:20]:
    if os.path.getsize(f) < 262144:
        try:
            feats = json.load(open(f)).get("features", [])[:20]
        except ValueError:
            continue
        lines.append(b"\n".join(json.dumps(x, ensure_ascii=False).encode() for x in feats))
for i, l in enumerate(lines):
    write("geojsonseq", f"l{i}", l)
for f in ["ats-expressions.txt", "operators_tests.txt", "reductions.txt"]:
    p = f"{root}/tests/data/cql2/cql2-rs/{f}"
    if os.path.exists(p):
        for i, l in enumerate(open(p, "rb").read().splitlines()):
            if l.strip() and not l.startswith(b"#"):
                write("cql2_text", f"{f}{i}", l.split(b"\t")[0])
PY

for t in "${targets[@]}"; do
    case $t in
        geojson) files \( -iname '*.geojson' -o -path '*bad-inputs/geojson/*.json' \) | add geojson ;;
        geojsonseq) files -iname '*.ndjson' | add geojsonseq; find "$gen/geojsonseq" -type f | add geojsonseq ;;
        fgb) files -iname '*.fgb' | add fgb ;;
        shapefile) find "$gen/shapefile" -type f | add shapefile ;;
        gpkg) files -iname '*.gpkg' | add gpkg; find "$gen/gpkg" -type f | add gpkg ;;
        csv) files -iname '*.csv' | add csv ;;
        # Station files: a few per station directory (they differ little within one).
        station) files -path '*observations*' -iname '*.txt' | awk -F/ '{n[$(NF-1)]++} n[$(NF-1)] <= 3' | add station ;;
        wkb) find "$gen/wkb" -type f | add wkb ;;
        cql2_text) files -path '*cql2/examples/text/*' | add cql2_text; find "$gen/cql2_text" -type f | add cql2_text ;;
        cql2_json) files \( -path '*cql2/examples/json/*' -o -path '*cql2-rs/expected/*.json.out' \) | add cql2_json ;;
        *) echo "unknown target $t" >&2; exit 2 ;;
    esac
    echo "$t: $(find "$fuzz/corpus/$t" -type f | wc -l) seeds, $(du -sh "$fuzz/corpus/$t" | cut -f1)"
done
