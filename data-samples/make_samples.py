#!/usr/bin/env python3
"""Writes the non-parcel samples of data-samples/ (deterministic; Python 3 stdlib only).

Parcels come from `geosector sample-data` (see land/README.md). Everything here is synthetic but
real-shaped: real place names and commune codes of Hà Nội (2025 list), coordinates placed on the
ground where such objects are, licences and permits numbered and dated as the authorities do.
Projected coordinates are VN-2000 TM-3 105°00' (EPSG:5897, k=0.9999), computed here with the
Transverse Mercator series (Snyder 1987, eq. 8-9..8-10) on the WGS 84 ellipsoid from VN-2000
lon/lat; no datum shift is involved.

Run from the repository root:  python3 data-samples/make_samples.py
"""
import json
import math
import os
import random
import shutil
from datetime import datetime, timedelta

ROOT = os.path.dirname(os.path.abspath(__file__))
A, F = 6378137.0, 1 / 298.257223563
E2 = F * (2 - F)


def tm(lon, lat, lon0=105.0, k0=0.9999):
    """VN-2000 lon/lat (degrees) -> TM easting, northing (metres)."""
    phi, lam, lam0 = math.radians(lat), math.radians(lon), math.radians(lon0)
    ep2 = E2 / (1 - E2)
    n = A / math.sqrt(1 - E2 * math.sin(phi) ** 2)
    t = math.tan(phi) ** 2
    c = ep2 * math.cos(phi) ** 2
    a = (lam - lam0) * math.cos(phi)
    m = A * ((1 - E2 / 4 - 3 * E2**2 / 64 - 5 * E2**3 / 256) * phi
             - (3 * E2 / 8 + 3 * E2**2 / 32 + 45 * E2**3 / 1024) * math.sin(2 * phi)
             + (15 * E2**2 / 256 + 45 * E2**3 / 1024) * math.sin(4 * phi)
             - (35 * E2**3 / 3072) * math.sin(6 * phi))
    x = k0 * n * (a + (1 - t + c) * a**3 / 6 + (5 - 18 * t + t * t + 72 * c - 58 * ep2) * a**5 / 120)
    y = k0 * (m + n * math.tan(phi) * (a * a / 2 + (5 - t + 9 * c + 4 * c * c) * a**4 / 24
                                        + (61 - 58 * t + t * t + 600 * c - 330 * ep2) * a**6 / 720))
    return round(500000 + x, 3), round(y, 3)


def crs(code):
    return {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{code}"}}


def write(path, features, epsg=None):
    full = os.path.join(ROOT, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    doc = {"type": "FeatureCollection"}
    if epsg:
        doc["crs"] = crs(epsg)
    doc["features"] = features
    with open(full, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")


def feature(props, geometry):
    return {"type": "Feature", "properties": props, "geometry": geometry}


def rect_corners(lon, lat, width_m, height_m, rng):
    """Corner points of a roughly rectangular area around a VN-2000 lon/lat, as on a licence."""
    e, n = tm(lon, lat)
    skew = rng.uniform(-0.15, 0.15)
    pts = [(-1, -1), (1, -1 + skew), (1, 1), (-1 + skew, 1)]
    return [(round(e + dx * width_m / 2, 2), round(n + dy * height_m / 2, 2)) for dx, dy in pts]


def land_map_sheets():
    """Map-sheet frames (rectangles in TM-3) around the sample parcels of each sheet."""
    src = os.path.join(ROOT, "land", "parcels_soc_son.geojson")
    with open(src, encoding="utf-8") as f:
        parcels = json.load(f)["features"]
    sheets = {}
    for p in parcels:
        key = (p["properties"]["maXa"], p["properties"]["soHieuToBanDo"])
        box = sheets.setdefault(key, [math.inf, math.inf, -math.inf, -math.inf])
        for poly in p["geometry"]["coordinates"]:
            for x, y in poly[0]:
                box[0], box[1] = min(box[0], x), min(box[1], y)
                box[2], box[3] = max(box[2], x), max(box[3], y)
    feats = []
    for (commune, sheet), (x0, y0, x1, y1) in sorted(sheets.items()):
        ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
        feats.append(feature({"maXa": commune, "soHieuToBanDo": sheet, "tyLeBanDo": 1000, "ngayDoDac": "2021-06-15"},
                             {"type": "Polygon", "coordinates": [[[round(x, 3), round(y, 3)] for x, y in ring]]}))
    write("land/map_sheets_soc_son.geojson", feats, 5897)


def land_personal():
    """Synthetic land users, certificates and rights (land_restricted) on sample parcels.

    Every name, ID number, date and address is invented: CCCD numbers follow the 12-digit layout
    (province 001 = Hà Nội, a sex/century digit, two digits of the birth year, six random digits),
    the two CMND numbers the older 9-digit one. Rights name parcels of the Sóc Sơn sample by their
    key (commune, sheet, parcel), parties and certificates by their codes.
    """
    import csv
    import unicodedata
    rng = random.Random(18)
    src = os.path.join(ROOT, "land", "parcels_soc_son.geojson")
    with open(src, encoding="utf-8") as f:
        keys = [(p["properties"]["maXa"], p["properties"]["soHieuToBanDo"], p["properties"]["soThuTuThua"])
                for p in json.load(f)["features"]]

    def cccd(born, female):
        century = 0 if born < 2000 else 2
        return f"001{century + int(female)}{born % 100:02d}{rng.randrange(10**6):06d}"

    people = [
        # name, female, birth date, CMND instead of CCCD
        ("Nguyễn Văn An", False, "1968-03-14", False),
        ("Trần Thị Bích Ngọc", True, "1972-11-02", False),
        ("Lê Văn Cường", False, "1955-07-21", True),
        ("Phạm Thị Dung", True, "1981-01-30", False),
        ("Hoàng Minh Đức", False, "1990-09-09", False),
        ("Vũ Thị Hương", True, "1963-05-17", True),
        ("Đặng Quốc Khánh", False, "2001-12-24", False),
        ("Bùi Thị Lụa", True, "1977-04-08", False),
        ("Ngô Xuân Mạnh", False, "1986-06-15", False),
    ]
    villages = ["Thôn Đông Xuân", "Thôn Phù Linh", "Thôn Lạc Nông", "Thôn Xuân Dục"]
    parties = []
    for i, (name, female, born, old_card) in enumerate(people, 1):
        kind = "household" if i in (3, 6) else "individual"
        id_type, number = ("cmnd", f"01{rng.randrange(10**7):07d}") if old_card else ("cccd", cccd(int(born[:4]), female))
        parties.append({"party_code": f"CN-{i:04d}", "loaiChu": kind, "maDoiTuongSuDung": "CNV", "ten": name,
                        "loaiGiayTo": id_type,
                        "soGiayTo": number, "ngaySinh": born,
                        "diaChi": f"{villages[i % len(villages)]}, xã Sóc Sơn, Hà Nội"})
    organisations = [
        ("TC-0001", "organisation", "TKT", "Công ty TNHH Nông sản Sóc Sơn", "business_registration", "0101234567"),
        ("TC-0002", "organisation", "TKT", "Hợp tác xã Nông nghiệp Phù Linh", "business_registration", "0106789012"),
        ("TC-0003", "state", "UBQ", "Ủy ban nhân dân xã Sóc Sơn", None, None),
        ("TC-0004", "community", "CDS", "Cộng đồng dân cư thôn Đông Xuân", None, None),
    ]
    for code, kind, user_code, name, id_type, number in organisations:
        parties.append({"party_code": code, "loaiChu": kind, "maDoiTuongSuDung": user_code, "ten": name,
                        "loaiGiayTo": id_type, "soGiayTo": number, "ngaySinh": None,
                        "diaChi": "xã Sóc Sơn, Hà Nội"})

    # Rights: individuals and households on sheet 1, co-owners (husband and wife) on two parcels,
    # organisations on sheet 2; one certificate per holding.
    holdings = [
        (["CN-0001", "CN-0002"], [keys[0], keys[1]]),
        (["CN-0003"], [keys[2]]),
        (["CN-0004"], [keys[3]]),
        (["CN-0005"], [keys[4], keys[5]]),
        (["CN-0006"], [keys[6]]),
        (["CN-0007"], [keys[7]]),
        (["CN-0008", "CN-0009"], [keys[8]]),
        (["TC-0001"], [k for k in keys if k[1] == 2][:2]),
        (["TC-0002"], [k for k in keys if k[1] == 2][2:3]),
        (["TC-0003"], [k for k in keys if k[1] == 5][:1]),
    ]
    certificates, rights = [], []
    for n, (holders, parcels) in enumerate(holdings, 1):
        code = f"GCN-00376-{n:04d}"
        issued = f"{rng.randrange(2005, 2025)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
        certificates.append({"certificate_code": code, "seri": f"C{'KLS'[n % 3]} {rng.randrange(10**6):06d}",
                             "soVaoSo": f"CS{n:05d}", "loaiGiayChungNhan": "GCN quyền sử dụng đất",
                             "ngayCapGcn": issued})
        for commune, sheet, parcel in parcels:
            for holder in holders:
                rights.append({"maXa": commune, "soHieuToBanDo": sheet, "soThuTuThua": parcel,
                               "party_code": holder, "certificate_code": code,
                               "share": round(1 / len(holders), 4)})
    # Community land without a certificate yet.
    commune, sheet, parcel = [k for k in keys if k[1] == 6][0]
    rights.append({"maXa": commune, "soHieuToBanDo": sheet, "soThuTuThua": parcel, "party_code": "TC-0004",
                   "certificate_code": None, "share": 1.0})

    def write_csv(name, rows):
        with open(os.path.join(ROOT, "land", name), "w", encoding="utf-8", newline="") as f:
            out = csv.DictWriter(f, fieldnames=list(dict.fromkeys(k for r in rows for k in r)))
            out.writeheader()
            for r in rows:
                out.writerow({k: unicodedata.normalize("NFC", v) if isinstance(v, str) else ("" if v is None else v)
                              for k, v in r.items()})

    write_csv("parties.csv", parties)
    write_csv("certificates.csv", certificates)
    write_csv("parcel_rights.csv", rights)


def minerals(rng):
    licences = [
        # number, type, minerals, holder, authority, issued, from, to, status, previous, place (lon, lat), area name, size (m)
        ("125/GP-UBND", "mining", ["cát xây dựng"], "Công ty TNHH Cát Sông Hồng", "UBND thành phố Hà Nội",
         "2021-03-18", "2021-03-18", "2026-03-18", "expired", None, (105.4519, 21.2128), "Bãi cát Sông Hồng, xã Minh Châu", (900, 300)),
        ("2741/GP-UBND", "mining", ["cát xây dựng"], "Công ty TNHH Cát Sông Hồng", "UBND thành phố Hà Nội",
         "2026-04-02", "2026-04-02", "2031-04-02", "active", "125/GP-UBND", (105.4519, 21.2128), "Bãi cát Sông Hồng, xã Minh Châu", (900, 300)),
        ("48/GP-UBND", "mining", ["sét gạch ngói"], "Công ty CP Gạch Ngói Sóc Sơn", "UBND thành phố Hà Nội",
         "2020-07-09", "2020-07-09", "2030-07-09", "active", None, (105.8050, 21.2950), "Mỏ sét Phù Linh", (400, 350)),
        ("1532/GP-BTNMT", "mining", ["đá vôi xi măng"], "Công ty CP Xi măng Mỹ Đức", "Bộ Tài nguyên và Môi trường",
         "2019-08-22", "2019-08-22", "2039-08-22", "active", None, (105.7100, 20.6600), "Mỏ đá vôi An Phú", (800, 600)),
        ("77/GP-UBND", "exploration", ["đất san lấp"], "Công ty TNHH Xây dựng Ba Vì", "UBND thành phố Hà Nội",
         "2025-11-05", "2025-11-05", "2027-11-05", "active", None, (105.3900, 21.0800), "Khu vực đồi Vật Lại", (500, 450)),
        ("310/GP-UBND", "recovery", ["cát xây dựng"], "HTX Dịch vụ Vận tải Phúc Thọ", "UBND thành phố Hà Nội",
         "2024-01-15", "2024-01-15", "2025-01-15", "expired", None, (105.5400, 21.1300), "Tận thu nạo vét lòng sông Hồng, xã Phúc Thọ", (600, 200)),
    ]
    lic_feats, area_feats = [], []
    for (num, kind, mins, holder, auth, issued, vfrom, vto, status, prev, (lon, lat), name, (w, h)) in licences:
        lic_feats.append(feature({"soGiayPhep": num, "loaiCapPhep": kind, "loaiKhoangSan": mins, "tenToChuc": holder,
                                  "coQuanCapPhep": auth, "ngayCapPhep": issued, "ngayBatDauHieuLuc": vfrom,
                                  "ngayKetThucHieuLuc": vto, "trangThai": status, "soGiayPhepTruoc": prev, "maTinh": "01"}, None))
        corners = rect_corners(lon, lat, w, h, rng)
        ring = corners + [corners[0]]
        area = abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:]))) / 2
        area_feats.append(feature({
            "soGiayPhep": num, "tenMo": name, "dienTich": round(area, 1),
            # as written on the licence annex: X = northing, Y = easting
            "toaDoKhepGoc": [{"label": str(i + 1), "x": n, "y": e} for i, (e, n) in enumerate(corners)],
        }, {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}))
    write("minerals/licences.geojson", lic_feats)
    write("minerals/licence_areas.geojson", area_feats, 5897)

    zones = [
        ("HN-KVC-001", "Khu di tích và danh thắng Hương Sơn", "prohibited", "di tích lịch sử - văn hóa, danh lam thắng cảnh", (105.745, 20.615), (5200, 6400)),
        ("HN-KVC-002", "Vườn quốc gia Ba Vì", "prohibited", "rừng đặc dụng", (105.365, 21.060), (9000, 11000)),
        ("HN-KVC-003", "Hành lang bảo vệ đê hữu Hồng đoạn Phúc Thọ", "prohibited", "hành lang bảo vệ đê điều", (105.560, 21.110), (4500, 350)),
        ("HN-KVTC-001", "Khu vực dự trữ khoáng sản đá vôi Mỹ Đức", "temporarily_prohibited", "dự trữ khoáng sản quốc gia", (105.700, 20.690), (2500, 2000)),
    ]
    zone_feats = []
    for code, name, kind, category, (lon, lat), (w, h) in zones:
        c = rect_corners(lon, lat, w, h, rng)
        zone_feats.append(feature({"maKhuVuc": code, "ten": name, "loaiKhuVuc": kind, "nhom": category,
                                   "soQuyetDinh": "5432/QĐ-UBND", "ngayQuyetDinh": "2022-10-21", "maTinh": "01"},
                                  {"type": "Polygon", "coordinates": [[list(p) for p in c + [c[0]]]]}))
    write("minerals/prohibited_zones.geojson", zone_feats, 5897)


def water():
    works = [
        ("HN-GW-YP-01", "Giếng khai thác số 1 - Nhà máy nước Yên Phụ", "well", "00100", "Tầng chứa nước Pleistocen", "qp", 62.0, (105.8465, 21.0455)),
        ("HN-GW-YP-02", "Giếng khai thác số 2 - Nhà máy nước Yên Phụ", "well", "00100", "Tầng chứa nước Pleistocen", "qp", 65.0, (105.8478, 21.0432)),
        ("HN-GW-MD-01", "Giếng khai thác số 1 - Nhà máy nước Mai Dịch", "well", "00163", "Tầng chứa nước Pleistocen", "qp", 58.0, (105.7760, 21.0395)),
        ("HN-GW-PV-01", "Giếng khai thác số 1 - Nhà máy nước Pháp Vân", "well", "00664", "Tầng chứa nước Pleistocen", "qp", 70.0, (105.8425, 20.9530)),
        ("HN-SW-DU-01", "Cửa lấy nước sông Đuống - Nhà máy nước mặt sông Đuống", "surface_intake", "00541", "Sông Đuống", None, None, (105.9450, 21.0820)),
        ("HN-OF-YS-01", "Cửa xả Nhà máy xử lý nước thải Yên Sở", "outfall", "00640", "Sông Kim Ngưu", None, None, (105.8690, 20.9650)),
    ]
    work_feats = []
    for code, name, kind, commune, source, aquifer, depth, (lon, lat) in works:
        e, n = tm(lon, lat)
        work_feats.append(feature({"maCongTrinh": code, "tenCongTrinh": name, "loaiCongTrinh": kind, "maXa": commune,
                                   "nguonNuoc": source, "tangChuaNuoc": aquifer, "chieuSauGieng": depth},
                                  {"type": "Point", "coordinates": [e, n]}))
    write("water/works.geojson", work_feats, 5897)

    permits = [
        ("182/GP-BTNMT", "groundwater_exploitation", "Công ty TNHH MTV Nước sạch Hà Nội", "Bộ Tài nguyên và Môi trường", "HN-GW-YP-01", "Tầng chứa nước qp", "cấp nước sinh hoạt", 3600, "m3/day", "2021-05-10", "2031-05-10", "active", None),
        ("183/GP-BTNMT", "groundwater_exploitation", "Công ty TNHH MTV Nước sạch Hà Nội", "Bộ Tài nguyên và Môi trường", "HN-GW-YP-02", "Tầng chứa nước qp", "cấp nước sinh hoạt", 3400, "m3/day", "2021-05-10", "2031-05-10", "active", None),
        ("96/GP-UBND", "groundwater_exploitation", "Công ty TNHH MTV Nước sạch Hà Nội", "UBND thành phố Hà Nội", "HN-GW-MD-01", "Tầng chứa nước qp", "cấp nước sinh hoạt", 2800, "m3/day", "2016-03-01", "2026-03-01", "expired", None),
        ("412/GP-UBND", "groundwater_exploitation", "Công ty TNHH MTV Nước sạch Hà Nội", "UBND thành phố Hà Nội", "HN-GW-MD-01", "Tầng chứa nước qp", "cấp nước sinh hoạt", 2500, "m3/day", "2026-02-20", "2036-02-20", "active", "96/GP-UBND"),
        ("2210/GP-BTNMT", "surface_water_exploitation", "Công ty CP Nước mặt sông Đuống", "Bộ Tài nguyên và Môi trường", "HN-SW-DU-01", "Sông Đuống", "cấp nước sinh hoạt", 3.47, "m3/s", "2019-09-12", "2039-09-12", "active", None),
        ("57/GP-UBND", "groundwater_exploitation", "Công ty TNHH MTV Nước sạch Hà Nội", "UBND thành phố Hà Nội", "HN-GW-PV-01", "Tầng chứa nước qp", "cấp nước sinh hoạt", 3000, "m3/day", "2020-11-30", "2030-11-30", "active", None),
    ]
    write("water/permits.geojson", [feature({
        "soGiayPhep": p[0], "loaiGiayPhep": p[1], "tenToChuc": p[2], "coQuanCapPhep": p[3], "maCongTrinh": p[4],
        "nguonNuoc": p[5], "mucDich": p[6], "luuLuongLonNhat": p[7], "donViLuuLuong": p[8], "ngayHieuLuc": p[9],
        "ngayHetHieuLuc": p[10], "trangThai": p[11], "soGiayPhepTruoc": p[12]}, None) for p in permits])

    stations = [
        ("HN-TV-HANOI", "Trạm thủy văn Hà Nội (sông Hồng)", "hydrological", "HONG", "Sông Hồng", (105.8610, 21.0300)),
        ("HN-TV-THUONGCAT", "Trạm thủy văn Thượng Cát", "hydrological", "HONG", "Sông Hồng", (105.7470, 21.0950)),
        ("HN-NN-Q63", "Giếng quan trắc Q63 (Mai Dịch)", "groundwater_well", "HONG", None, (105.7790, 21.0410)),
        ("HN-CL-NHUE-1", "Trạm quan trắc chất lượng nước sông Nhuệ - cầu Hà Đông", "water_quality", "NHUE-DAY", "Sông Nhuệ", (105.7780, 20.9700)),
    ]
    write("water/stations.geojson", [feature({"maTram": c, "tenTram": n, "loaiTram": t, "maLuuVuc": b, "tenSong": r, "donViQuanLy": "Trung tâm Quan trắc Tài nguyên nước"},
                                             {"type": "Point", "coordinates": [lon, lat]}) for c, n, t, b, r, (lon, lat) in stations])
    # Simplified outlines (a few dozen km accuracy: illustration only)
    basins = [
        ("NHUE-DAY", "Lưu vực sông Nhuệ - Đáy (phần Hà Nội)", [(105.30, 21.10), (105.70, 21.15), (105.85, 20.95), (105.90, 20.70), (105.70, 20.55), (105.45, 20.75), (105.30, 21.10)]),
        ("HONG", "Lưu vực sông Hồng (đoạn qua Hà Nội)", [(105.30, 21.25), (105.60, 21.30), (106.00, 21.15), (106.00, 20.95), (105.80, 20.95), (105.50, 21.10), (105.30, 21.25)]),
    ]
    write("water/river_basins.geojson", [feature({"maLuuVuc": c, "tenLuuVuc": n}, {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}) for c, n, ring in basins])


AIR = [
    # code, name, province, commune, lon, lat, pm25 base
    ("HN_KK_NguyenVanCu", "Trạm quan trắc không khí tự động 556 Nguyễn Văn Cừ", "01", "00145", 105.8775, 21.0475, 38),
    ("HN_KK_HangDau", "Trạm quan trắc không khí tự động Hàng Đậu", "01", "00070", 105.8470, 21.0430, 42),
    ("HN_KK_KimLien", "Trạm quan trắc không khí tự động Kim Liên", "01", "00226", 105.8360, 21.0080, 40),
    ("HN_KK_MinhKhai", "Trạm quan trắc không khí tự động Minh Khai (Bắc Từ Liêm)", "01", "00602", 105.7450, 21.0540, 45),
    ("HN_KK_ThanhCong", "Trạm quan trắc không khí tự động Thành Công", "01", "00235", 105.8150, 21.0200, 36),
    ("HN_KK_SocSon", "Trạm quan trắc không khí tự động Sóc Sơn", "01", "00376", 105.8480, 21.2500, 30),
    ("HN_KK_HoanKiem", "Trạm quan trắc không khí tự động Hoàn Kiếm", "01", None, 105.8530, 21.0290, 41),
    ("HN_KK_TayMo", "Trạm quan trắc không khí tự động Tây Mỗ", "01", None, 105.7490, 21.0050, 43),
    ("HN_KK_DaiHocVietNhat", "Trạm quan trắc không khí tự động Mỹ Đình", "01", None, 105.7640, 21.0240, 39),
    ("HN_KK_HaDong", "Trạm quan trắc không khí tự động Hà Đông", "01", None, 105.7800, 20.9720, 44),
    ("HN_KK_LongBien", "Trạm quan trắc không khí tự động Long Biên", "01", None, 105.8920, 21.0470, 40),
    ("HN_KK_GiaLam", "Trạm quan trắc không khí tự động Gia Lâm", "01", None, 105.9380, 21.0280, 37),
    ("BN_KK_TuSon", "Trạm quan trắc không khí tự động Từ Sơn", "24", None, 105.9570, 21.1180, 47),
    ("BN_KK_QueVo", "Trạm quan trắc không khí tự động KCN Quế Võ", "24", None, 106.1530, 21.1420, 50),
    ("BN_KK_SuoiHoa", "Trạm quan trắc không khí tự động Suối Hoa", "24", None, 106.0740, 21.1830, 42),
    ("BN_KK_BacGiang", "Trạm quan trắc không khí tự động Bắc Giang", "24", None, 106.1960, 21.2730, 35),
]
WATER = [
    # automatic surface-water stations: code, name, province, commune, lon, lat
    ("HN_NM_NhueHaDong", "Trạm quan trắc nước mặt tự động sông Nhuệ - Hà Đông", "01", "09556", 105.7780, 20.9700),
    ("HN_NM_ToLichKimGiang", "Trạm quan trắc nước mặt tự động sông Tô Lịch - Kim Giang", "01", "00331", 105.8120, 20.9880),
    ("BN_NM_CauDapCau", "Trạm quan trắc nước mặt tự động sông Cầu - Đáp Cầu", "24", None, 106.0980, 21.2050),
    ("BN_NM_NguHuyenKhe", "Trạm quan trắc nước mặt tự động sông Ngũ Huyện Khê", "24", None, 105.9420, 21.1350),
]
MANUAL = [
    # manual surface-water sampling sites: code, name, province, lon, lat, pollution level 0..1
    ("HN_DK_HoTay", "Điểm quan trắc định kỳ Hồ Tây", "01", 105.8190, 21.0560, 0.15),
    ("HN_DK_SongHongLongBien", "Điểm quan trắc định kỳ sông Hồng - cầu Long Biên", "01", 105.8600, 21.0430, 0.2),
    ("HN_DK_SongDayBaThuoc", "Điểm quan trắc định kỳ sông Đáy - Ba Thá", "01", 105.6900, 20.8000, 0.35),
    ("HN_DK_SongNhueCauDien", "Điểm quan trắc định kỳ sông Nhuệ - Cầu Diễn", "01", 105.7640, 21.0380, 0.75),
    ("HN_DK_SongTichXuanMai", "Điểm quan trắc định kỳ sông Tích - Xuân Mai", "01", 105.5800, 20.9000, 0.25),
    ("HN_DK_HoGuom", "Điểm quan trắc định kỳ hồ Hoàn Kiếm", "01", 105.8523, 21.0285, 0.3),
    ("BN_DK_SongCauPhuLang", "Điểm quan trắc định kỳ sông Cầu - Phù Lãng", "24", 106.2000, 21.1600, 0.2),
    ("BN_DK_SongDuongCauDuong", "Điểm quan trắc định kỳ sông Đuống - cầu Đuống", "24", 105.9300, 21.0700, 0.3),
]

HN_OPERATOR = "Sở Nông nghiệp và Môi trường Hà Nội"
BN_OPERATOR = "Sở Nông nghiệp và Môi trường Bắc Ninh"
# A month of hourly station files, local time (UTC+7): 16 Oct 2026 00:00 .. 14 Nov 2026 23:00,
# across a month boundary (two observation partitions).
MONTH_START = datetime(2026, 10, 16, 0, 0, 0)
MONTH_HOURS = 30 * 24


def station_feature(code, name, medium, mode, province, commune, lon, lat):
    props = {"maTram": code, "tenTram": name, "moiTruong": medium, "phuongThuc": mode, "maTinh": province,
             "donViQuanLy": HN_OPERATOR if province == "01" else BN_OPERATOR}
    if commune:
        props["maXa"] = commune
    return feature(props, {"type": "Point", "coordinates": [lon, lat]})


def environment(rng):
    feats = [station_feature(c, n, "air", "automatic", p, x, lon, lat) for c, n, p, x, lon, lat, _ in AIR]
    feats += [station_feature(c, n, "surface_water", "automatic", p, x, lon, lat) for c, n, p, x, lon, lat in WATER]
    feats += [station_feature(c, n, "surface_water", "manual", p, None, lon, lat) for c, n, p, lon, lat, _ in MANUAL]
    write("environment/stations.geojson", feats)

    sources = [
        ("HN-NT-001", "Nhà máy xử lý nước thải Yên Sở", "urban_wastewater", "xử lý nước thải", "00640", "1234/GPMT-BTNMT", (105.8690, 20.9650)),
        ("HN-NT-002", "Làng nghề gốm sứ Bát Tràng", "craft_village", "gốm sứ", "00577", None, (105.9130, 20.9770)),
        ("HN-NT-003", "Khu công nghiệp Quang Minh", "industrial", "cơ khí, điện tử", "08974", "87/GPMT-UBND", (105.7650, 21.1950)),
        ("HN-NT-004", "Khu xử lý chất thải Nam Sơn", "landfill", "xử lý chất thải rắn", "00376", "215/GPMT-BTNMT", (105.8350, 21.3300)),
        ("HN-NT-005", "Bệnh viện Bạch Mai", "medical", "y tế", "00226", "56/GPMT-UBND", (105.8410, 21.0010)),
    ]
    write("environment/pollution_sources.geojson", [feature({"maNguonThai": c, "ten": n, "loaiNguonThai": t, "nganhNghe": i, "maXa": x, "soGiayPhepMoiTruong": p},
                                                            {"type": "Point", "coordinates": [lon, lat]}) for c, n, t, i, x, p, (lon, lat) in sources])

    out = os.path.join(ROOT, "environment", "observations")
    shutil.rmtree(out, ignore_errors=True)
    for hour in range(MONTH_HOURS):
        t = MONTH_START + timedelta(hours=hour)
        ts = t.strftime("%Y%m%d%H%M%S")
        rush = 1.0 + 0.45 * math.exp(-((t.hour - 8) ** 2) / 6) + 0.55 * math.exp(-((t.hour - 19) ** 2) / 8)
        # Weather: a few multi-day swings, and a stagnant, polluted spell around 5-8 November.
        weather = 1.0 + 0.45 * math.sin(hour / 24 * 2 * math.pi / 4.5) + 1.6 * math.exp(-((hour - 21 * 24) ** 2) / (2 * 40 ** 2))
        for code, _, province, _, _, _, base in AIR:
            if code == "HN_KK_MinhKhai" and 50 <= hour < 56:
                continue  # transmission gap: six hourly files never arrived
            if code == "BN_KK_SuoiHoa" and 400 <= hour < 448:
                continue  # a two-day outage
            status = "00"
            if code == "HN_KK_KimLien" and t.hour == 9 and t.weekday() == 2:
                status = "01"  # weekly calibration, Wednesday 09:00
            if code == "BN_KK_QueVo" and 300 <= hour < 304:
                status = "01"  # a four-hour calibration period
            if code == "HN_KK_ThanhCong" and 120 <= hour < 124:
                status = "02"  # device error
            pm25 = max(3.0, base * rush * weather * rng.uniform(0.85, 1.15))
            # Bắc Ninh reports CO in mg/Nm3 (converted on import); Hà Nội in µg/Nm3.
            co = 900 + 700 * rush * weather * rng.uniform(0.8, 1.2)
            co_line = ("CO", co / 1000, "mg/Nm3") if province == "24" else ("CO", co, "µg/Nm3")
            lines = [
                ("PM2,5", pm25, "µg/Nm3"), ("PM10", pm25 * rng.uniform(1.4, 1.8), "µg/Nm3"),
                ("NO2", 20 + 25 * rush * rng.uniform(0.8, 1.2), "µg/Nm3"), ("SO2", 8 + 6 * rng.uniform(0.5, 1.5), "µg/Nm3"),
                co_line,
                ("O3", max(2.0, 15 + 60 * max(0.0, math.sin((t.hour - 7) / 12 * math.pi)) * rng.uniform(0.8, 1.2)), "µg/Nm3"),
            ]
            write_station_file(out, code, ts, lines, status)
        for code, _, province, *_ in WATER:
            dirty = 1.6 if code in ("HN_NM_ToLichKimGiang", "BN_NM_NguHuyenKhe") else 1.0
            lines = [("pH", 7.1 + rng.uniform(-0.2, 0.2), "-"), ("Temp", 24 + rng.uniform(-1, 1), "°C"),
                     ("DO", max(0.3, 4.5 / dirty + rng.uniform(-0.8, 0.8)), "mg/L"), ("COD", 30 * dirty + rng.uniform(-8, 8), "mg/L"),
                     ("TSS", 50 + rng.uniform(-15, 15), "mg/L"), ("NH4", 3 * dirty + rng.uniform(-1, 1), "mg/L")]
            write_station_file(out, code, ts, lines, "00")

    # Malformed input, as a feed delivers it now and then.
    # 1. A file whose second line lost its tab-separated layout and whose PM10 is "N/A".
    ts = "20261105100000"
    with open(os.path.join(out, "HN_KK_HangDau", f"HN_KK_HangDau_{ts}.txt"), "w", encoding="utf-8", newline="\r\n") as f:
        f.write(f"PM2,5\t61.20\tµg/Nm3\t{ts}\t00\n")
        f.write(f"PM10 98.40 µg/Nm3 {ts} 00\n")
        f.write(f"PM10\tN/A\tµg/Nm3\t{ts}\t00\n")
        f.write(f"NO2\t48.10\tµg/Nm3\t{ts}\t00\n")
    # 2. A file named without its seconds (not <station>_<YYYYMMDDhhmmss>.txt).
    with open(os.path.join(out, "BN_KK_TuSon", "BN_KK_TuSon_202611011000.txt"), "w", encoding="utf-8", newline="\r\n") as f:
        f.write("PM2,5\t55.00\tµg/Nm3\t20261101100000\t00\n")
    # 3. An empty file (an interrupted upload).
    open(os.path.join(out, "HN_KK_SocSon", "HN_KK_SocSon_20261110140000.txt"), "w").close()

    # Manual sampling campaigns: every site sampled weekly, every group of QĐ 1460.
    rows = ["station,parameter,value,unit,sampled_at"]
    for week in range(4):
        for code, _, _, _, _, level in MANUAL:
            t = (MONTH_START + timedelta(days=3 + 7 * week, hours=9 + rng.randint(0, 3))).strftime("%Y-%m-%d %H:%M")
            def j(x, spread=0.15):
                return x * rng.uniform(1 - spread, 1 + spread)
            values = [
                ("pH", 7.0 + rng.uniform(-0.4, 0.5), ""), ("Temp", j(25, 0.05), "°C"),
                ("DO", max(0.5, j(7.0 - 5.5 * level)), "mg/L"), ("BOD5", j(3 + 30 * level), "mg/L"),
                ("COD", j(8 + 60 * level), "mg/L"), ("N-NH4", j(0.08 + 6 * level ** 2), "mg/L"),
                ("N-NO3", j(0.8 + 3 * level), "mg/L"), ("P-PO4", j(0.05 + 0.6 * level), "mg/L"),
                ("As", j(2 + 8 * level), "µg/L"), ("Pb", j(3 + 15 * level), "µg/L"), ("Cd", j(0.5 + 2 * level), "µg/L"),
                ("Coliform", j(800 + 12000 * level, 0.3), "MPN/100mL"),
            ]
            for name, value, unit in values:
                rows.append(f"{code},{name},{value:.3f},{unit},{t}")
    with open(os.path.join(ROOT, "environment", "campaign_2026_10.csv"), "w", encoding="utf-8") as f:
        f.write("\n".join(rows) + "\n")


def write_station_file(out, code, ts, lines, status):
    folder = os.path.join(out, code)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, f"{code}_{ts}.txt"), "w", encoding="utf-8", newline="\r\n") as f:
        for name, value, unit in lines:
            f.write(f"{name}\t{value:.2f}\t{unit}\t{ts}\t{status}\n")


def main():
    rng = random.Random(2025)
    land_map_sheets()
    land_personal()
    minerals(rng)
    water()
    environment(rng)


if __name__ == "__main__":
    main()
