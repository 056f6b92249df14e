//! The readers of `geosector import` beyond GeoJSON and FlatGeobuf: Shapefile with legacy
//! Vietnamese encodings (TCVN3, VNI: text must arrive as NFC Unicode), GeoPackage and CSV made
//! from the samples with GDAL (same counts as the GeoJSON), and the X/Y-swap refusal.

use std::path::Path;
use std::process::Command;

use crate::clients::tool;
use crate::support::TestDb;

const PARCELS_GEOJSON: &str = "data-samples/land/parcels_soc_son.geojson";
const STATIONS_GEOJSON: &str = "data-samples/environment/stations.geojson";

/// ESRI WKT of VN-2000 / TM-3 105-00 (EPSG:5897), as ArcGIS writes it: no EPSG code.
const PRJ_5897: &str = r#"PROJCS["VN_2000_TM_3_105_00",GEOGCS["GCS_VN_2000",DATUM["D_Vietnam_2000",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",105.0],PARAMETER["Scale_Factor",0.9999],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;

/// A DBF field: name, type, length, decimals.
type DbfField = (&'static str, u8, u8, u8);

const FIELDS: [DbfField; 6] = [
    ("ma_xa", b'C', 5, 0),
    ("so_to", b'N', 4, 0),
    ("so_thua", b'C', 6, 0),
    ("loai_dat", b'C', 10, 0),
    ("dienTich", b'N', 10, 1),
    ("diaChi", b'C', 60, 0),
];

/// Writes `<stem>.shp/.shx/.dbf/.prj`: square clockwise parcels of 20 m near Sóc Sơn, one per
/// record of raw DBF values (already encoded).
fn write_shapefile(dir: &Path, stem: &str, records: &[[&[u8]; 6]]) -> String {
    let mut shp = Vec::new();
    let mut shx = Vec::new();
    let mut content = Vec::new();
    for (i, _) in records.iter().enumerate() {
        let (x, y) = (587_400.0 + 40.0 * i as f64, 2_349_760.0);
        let ring = [(x, y), (x, y + 20.0), (x + 20.0, y + 20.0), (x + 20.0, y), (x, y)];
        let mut c = Vec::new();
        c.extend(5i32.to_le_bytes());
        for v in [x, y, x + 20.0, y + 20.0] {
            c.extend(v.to_le_bytes());
        }
        c.extend(1i32.to_le_bytes());
        c.extend(5i32.to_le_bytes());
        c.extend(0i32.to_le_bytes());
        for (px, py) in ring {
            c.extend(px.to_le_bytes());
            c.extend(py.to_le_bytes());
        }
        content.push(c);
    }
    let total: usize = 100 + content.iter().map(|c| 8 + c.len()).sum::<usize>();
    let header = |len_bytes: usize| {
        let mut h = vec![0u8; 100];
        h[..4].copy_from_slice(&9994i32.to_be_bytes());
        h[24..28].copy_from_slice(&i32::try_from(len_bytes / 2).unwrap().to_be_bytes());
        h[28..32].copy_from_slice(&1000i32.to_le_bytes());
        h[32..36].copy_from_slice(&5i32.to_le_bytes());
        h
    };
    shp.extend(header(total));
    shx.extend(header(100 + 8 * content.len()));
    for (i, c) in content.iter().enumerate() {
        shx.extend(i32::try_from(shp.len() / 2).unwrap().to_be_bytes());
        shx.extend(i32::try_from(c.len() / 2).unwrap().to_be_bytes());
        shp.extend(i32::try_from(i + 1).unwrap().to_be_bytes());
        shp.extend(i32::try_from(c.len() / 2).unwrap().to_be_bytes());
        shp.extend(c);
    }
    let record_len: usize = 1 + FIELDS.iter().map(|f| usize::from(f.2)).sum::<usize>();
    let header_len = 32 + 32 * FIELDS.len() + 1;
    let mut dbf = vec![3u8, 126, 11, 22];
    dbf.extend(u32::try_from(records.len()).unwrap().to_le_bytes());
    dbf.extend(u16::try_from(header_len).unwrap().to_le_bytes());
    dbf.extend(u16::try_from(record_len).unwrap().to_le_bytes());
    dbf.extend([0u8; 20]);
    for (name, kind, len, decimals) in FIELDS {
        let mut d = [0u8; 32];
        d[..name.len()].copy_from_slice(name.as_bytes());
        d[11] = kind;
        d[16] = len;
        d[17] = decimals;
        dbf.extend(d);
    }
    dbf.push(0x0D);
    for record in records {
        dbf.push(b' ');
        for ((_, kind, len, _), value) in FIELDS.iter().zip(record) {
            let mut cell = vec![b' '; usize::from(*len)];
            if *kind == b'N' {
                cell[usize::from(*len) - value.len()..].copy_from_slice(value);
            } else {
                cell[..value.len()].copy_from_slice(value);
            }
            dbf.extend(cell);
        }
    }
    dbf.push(0x1A);
    let base = dir.join(stem);
    std::fs::write(base.with_extension("shp"), shp).unwrap();
    std::fs::write(base.with_extension("shx"), shx).unwrap();
    std::fs::write(base.with_extension("dbf"), dbf).unwrap();
    std::fs::write(base.with_extension("prj"), PRJ_5897).unwrap();
    base.with_extension("shp").to_str().unwrap().to_owned()
}

async fn addresses(db: &TestDb) -> Vec<String> {
    let rows = db.client().await.query("SELECT address FROM land.parcels ORDER BY parcel_number", &[]).await.unwrap();
    rows.iter().map(|r| r.get(0)).collect()
}

#[tokio::test]
async fn readers_shapefile_in_tcvn3_and_vni_arrives_as_nfc_unicode() {
    let Some(db) = TestDb::migrated().await else { return };
    let dir = tempfile::tempdir().unwrap();
    // "Đất ở tại nông thôn, Phường Nguyễn Trãi" and "Thửa đất Hà Nội", encoded by hand.
    let tcvn3 = write_shapefile(
        dir.path(),
        "tcvn3",
        &[
            [
                b"00376",
                b"1",
                b"1",
                b"ONT",
                b"400.0",
                b"\xa7\xcat \xeb t\xb9i n\xabng th\xabn, Ph\xad\xeang Nguy\xd4n Tr\xb7i",
            ],
            [b"00376", b"1", b"2", b"ONT", b"400.0", b"Th\xf6a \xae\xcat H\xb5 N\xe9i"],
        ],
    );
    let run = db.geosector(&["import", "land.parcels", &tcvn3]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert!(run.stdout.contains("CRS EPSG:5897"), "the CRS comes from the ESRI .prj: {}", run.text());
    assert!(run.stdout.contains("text TCVN3 (detected)"), "{}", run.text());
    let want = ["Đất ở tại nông thôn, Phường Nguyễn Trãi", "Thửa đất Hà Nội"];
    assert_eq!(addresses(&db).await, want);
    let nfc: bool = db
        .client()
        .await
        .query_one("SELECT bool_and(address IS NFC NORMALIZED) FROM land.parcels", &[])
        .await
        .unwrap()
        .get(0);
    assert!(nfc);

    let vni = write_shapefile(
        dir.path(),
        "vni",
        &[
            [
                b"00376",
                b"1",
                b"1",
                b"ONT",
                b"400.0",
                b"\xd1a\xe1t \xf4\xfb ta\xefi no\xe2ng tho\xe2n, Ph\xf6\xf4\xf8ng Nguye\xe3n Tra\xf5i",
            ],
            [b"00376", b"1", b"2", b"ONT", b"400.0", b"Th\xf6\xfba \xf1a\xe1t Ha\xf8 No\xe4i"],
        ],
    );
    let run = db.geosector(&["import", "land.parcels", "--replace", &vni]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert!(run.stdout.contains("text VNI (detected)"), "{}", run.text());
    assert_eq!(addresses(&db).await, want);

    // A .cpg wins over detection; --encoding is used when there is none.
    std::fs::write(dir.path().join("vni.cpg"), "TCVN3").unwrap();
    let run = db.geosector(&["validate", "land.parcels", &vni]);
    assert!(run.stdout.contains("text TCVN3 (.cpg)"), "{}", run.text());
    std::fs::remove_file(dir.path().join("vni.cpg")).unwrap();
    let run = db.geosector(&["validate", "land.parcels", "--encoding", "vni", &vni]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert!(run.stdout.contains("text VNI (--encoding)"), "{}", run.text());
}

fn ogr2ogr(args: &[&str]) -> bool {
    let Some(ogr2ogr) = tool("ogr2ogr") else { return false };
    let out = Command::new(ogr2ogr).args(args).current_dir(crate::support::repo()).output().unwrap();
    assert!(out.status.success(), "ogr2ogr {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    true
}

#[tokio::test]
async fn readers_geopackage_and_csv_load_like_the_geojson_sample() {
    let Some(db) = TestDb::migrated().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let gpkg = dir.path().join("parcels.gpkg");
    let gpkg = gpkg.to_str().unwrap();
    if !ogr2ogr(&["-f", "GPKG", gpkg, PARCELS_GEOJSON]) {
        return;
    }
    let run = db.geosector(&["import", "land.parcels", gpkg]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert!(run.stdout.contains("600 rows written") && run.stdout.contains("EPSG:5897"), "{}", run.text());
    let sum_gpkg: f64 =
        db.client().await.query_one("SELECT sum(computed_area_m2) FROM land.parcels", &[]).await.unwrap().get(0);

    // WKT in a CSV, the CRS given on the command line.
    let wkt = dir.path().join("parcels.csv");
    std::fs::write(
        &wkt,
        "maXa,soHieuToBanDo,soThuTuThua,maMucDichSuDung,WKT\n00376,1,1,ONT,\"POLYGON ((587400 2349760,587400 2349780,587420 2349780,587420 2349760,587400 2349760))\"\n",
    )
    .unwrap();
    let run = db.geosector(&["import", "land.parcels", "--replace", "--crs", "EPSG:5897", wkt.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert!(run.stdout.contains("1 rows written"), "{}", run.text());
    let area: f64 =
        db.client().await.query_one("SELECT sum(computed_area_m2) FROM land.parcels", &[]).await.unwrap().get(0);
    assert!((area - 400.0).abs() < 0.01, "{area} vs {sum_gpkg}");

    // Points from X/Y columns, WGS 84.
    let xy = dir.path().join("stations.csv");
    let xy = xy.to_str().unwrap();
    assert!(ogr2ogr(&["-f", "CSV", xy, STATIONS_GEOJSON, "-lco", "GEOMETRY=AS_XY"]));
    let run = db.geosector(&["import", "environment.stations", xy]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let stored = db.count("environment.stations").await;
    let client = db.client().await;
    client.batch_execute("CREATE TABLE csv_stations AS SELECT * FROM environment.stations").await.unwrap();
    let run = db.geosector(&["import", "environment.stations", "--replace", STATIONS_GEOJSON]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert_eq!(db.count("environment.stations").await, stored);
    let same: i64 = client
        .query_one(
            "SELECT count(*) FROM environment.stations a JOIN csv_stations b USING (station_code) WHERE ST_Equals(a.geom, b.geom) AND a.name = b.name",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(same, stored);

    // lon/lat columns written by hand.
    let lonlat = dir.path().join("lonlat.csv");
    std::fs::write(&lonlat, "maTram,tenTram,moiTruong,phuongThuc,kinh_do,vi_do\nX1,Trạm thử,air,manual,105.85,21.03\n")
        .unwrap();
    let run = db.geosector(&["validate", "environment.stations", lonlat.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{}", run.text());
}

#[tokio::test]
async fn readers_swapped_axes_are_refused_and_swap_xy_loads_them() {
    let Some(db) = TestDb::migrated().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut sample: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(crate::support::repo().join(PARCELS_GEOJSON)).unwrap()).unwrap();
    let features = sample["features"].as_array_mut().unwrap();
    features.truncate(3);
    for f in features.iter_mut() {
        for ring in
            f["geometry"]["coordinates"].as_array_mut().unwrap().iter_mut().flat_map(|p| p.as_array_mut().unwrap())
        {
            for pos in ring.as_array_mut().unwrap() {
                pos.as_array_mut().unwrap().swap(0, 1);
            }
        }
    }
    let path = dir.path().join("swapped.geojson");
    std::fs::write(&path, sample.to_string()).unwrap();
    let path = path.to_str().unwrap();
    let run = db.geosector(&["import", "land.parcels", path]);
    assert_eq!(run.code, Some(2), "{}", run.text());
    assert!(
        run.stderr.contains("swapped.geojson: coordinates look swapped (X = northing)")
            && run.stderr.contains("feature 0 has X 2349760.00, Y 587400.00")
            && run.stderr.contains("pass --swap-xy"),
        "{}",
        run.text()
    );
    assert_eq!(db.count("land.parcels").await, 0);
    let run = db.geosector(&["import", "land.parcels", "--swap-xy", path]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert_eq!(db.count("land.parcels").await, 3);
}
