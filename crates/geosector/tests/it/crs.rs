//! OGC API - Features Part 2 (CRS by reference) end to end: coordinates served in every CRS of
//! the table agree with PROJ's own answer (Debian's `cs2cs`, given the same PROJ strings, so
//! the same EPSG:6960 rule) within a millimetre, at stations from the far north to the Mekong
//! delta; a bbox given in each CRS selects the same feature back; bad CRSs are 400s naming the
//! parameter; and GDAL's OAPIF driver, asked for EPSG:5897, gets the same coordinates.

use std::io::Write as _;
use std::process::{Command, Stdio};

use geosector_crs::{ApiCrs, Crs, CrsKind, Transformer};
use serde_json::Value;

use crate::clients::{python, run, tool};
use crate::support::{encode, repo, Server, TestDb};

/// Stations across Vietnam (lon, lat in WGS 84): north, centre, highlands, south, Mekong delta.
const PLACES: &[(&str, f64, f64)] = &[
    ("LUNG_CU", 105.316_1, 23.363_3),
    ("LAI_CHAU", 103.458_2, 22.396_4),
    ("HOAN_KIEM", 105.854_2, 21.028_5),
    ("HUE", 107.590_9, 16.463_7),
    ("DA_NANG", 108.202_2, 16.054_4),
    ("BUON_MA_THUOT", 108.038_3, 12.666_7),
    ("HO_CHI_MINH", 106.700_9, 10.776_9),
    ("CAN_THO", 105.746_9, 10.045_2),
    ("RACH_GIA", 105.080_9, 10.012_5),
    ("CA_MAU", 105.152_4, 9.176_9),
];

const COLLECTION: &str = "environment.stations";

/// Imports the stations of [`PLACES`] (in CRS84) and returns (id, code, lon, lat) as stored.
async fn load_places(db: &TestDb) -> Vec<(i64, String, f64, f64)> {
    let features: Vec<Value> = PLACES
        .iter()
        .map(|(code, lon, lat)| {
            serde_json::json!({
                "type": "Feature",
                "properties": { "maTram": code, "tenTram": code, "moiTruong": "air", "phuongThuc": "automatic" },
                "geometry": { "type": "Point", "coordinates": [lon, lat] }
            })
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stations.geojson");
    std::fs::write(&file, serde_json::json!({ "type": "FeatureCollection", "features": features }).to_string())
        .unwrap();
    let run = db.geosector(&["import", COLLECTION, file.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let client = db.client().await;
    client
        .query("SELECT id, station_code, ST_X(geom), ST_Y(geom) FROM environment.stations ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect()
}

/// PROJ's answer (cs2cs) for lon/lat points into a PROJ string: x = east, y = north.
fn cs2cs(cs2cs: &std::path::Path, target: &str, points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    cs2cs_between(cs2cs, &Crs::wgs84().proj, target, points)
}

/// PROJ's answer (cs2cs) between two PROJ strings: x = east, y = north on both sides.
fn cs2cs_between(cs2cs: &std::path::Path, source: &str, target: &str, points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut child = Command::new(cs2cs)
        .args(["-f", "%.12f"])
        .args(source.split_whitespace())
        .arg("+to")
        .args(target.split_whitespace())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run cs2cs");
    let mut input = String::new();
    for (lon, lat) in points {
        input.push_str(&format!("{lon:.12} {lat:.12}\n"));
    }
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "cs2cs failed");
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let mut numbers = line.split_whitespace().map(|n| n.parse::<f64>().unwrap_or(f64::NAN));
            (numbers.next().unwrap(), numbers.next().unwrap())
        })
        .collect()
}

/// Distance in metres between two positions of a CRS (x = east, y = north).
fn metres(kind: CrsKind, a: (f64, f64), b: (f64, f64)) -> f64 {
    match kind {
        CrsKind::Projected => (a.0 - b.0).hypot(a.1 - b.1),
        CrsKind::Geographic => {
            let dy = (a.1 - b.1) * 111_320.0;
            let dx = (a.0 - b.0) * 111_320.0 * a.1.to_radians().cos();
            dx.hypot(dy)
        }
    }
}

fn point(geometry: &Value) -> (f64, f64) {
    let c = geometry["coordinates"].as_array().unwrap_or_else(|| panic!("not a point: {geometry}"));
    (c[0].as_f64().unwrap(), c[1].as_f64().unwrap())
}

#[tokio::test]
async fn coordinates_in_every_crs_agree_with_proj_and_bboxes_select_them_back() {
    let Some(cs2cs_bin) = tool("cs2cs") else { return };
    let Some(db) = TestDb::migrated().await else { return };
    let stored = load_places(&db).await;
    assert_eq!(stored.len(), PLACES.len());
    let server = Server::start(&db, &[]);
    let lonlat: Vec<(f64, f64)> = stored.iter().map(|s| (s.2, s.3)).collect();

    let mut report = Vec::new();
    for crs in ApiCrs::supported() {
        let uri = crs.uri();
        let def = crs.def();
        // Expected: PROJ with the table's string; and the crs crate (ingestion's engine).
        let proj = if crs.is_storage_datum() { lonlat.clone() } else { cs2cs(&cs2cs_bin, &crs.proj(), &lonlat) };
        let ours = Transformer::new(&Crs::wgs84(), &crs.crs()).unwrap();
        let back_to_storage = Transformer::new(&crs.crs(), &Crs::wgs84()).unwrap();

        let response = server.get(&format!("/collections/{COLLECTION}/items?limit=100&crs={}", encode(&uri)));
        assert_eq!(response.status, 200, "{uri}: {}", response.text());
        assert_eq!(response.header("content-crs"), Some(format!("<{uri}>").as_str()));
        let page = response.json();
        let features = page["features"].as_array().unwrap();
        assert_eq!(features.len(), stored.len(), "{uri}");

        let (mut worst_proj, mut worst_crate, mut worst_closure, mut worst_back) = (0.0_f64, 0.0_f64, 0.0_f64, 0.0_f64);
        // PROJ's way back from the served positions, to compare the round trip with.
        let served_all: Vec<(f64, f64)> = stored
            .iter()
            .map(|(id, ..)| {
                let f = features.iter().find(|f| f["id"] == *id).unwrap();
                let (a, b) = point(&f["geometry"]);
                if crs.swaps_axes() {
                    (b, a)
                } else {
                    (a, b)
                }
            })
            .collect();
        let proj_back = if crs.is_storage_datum() {
            served_all.clone()
        } else {
            cs2cs_between(&cs2cs_bin, &crs.proj(), &Crs::wgs84().proj, &served_all)
        };
        for (i, (id, code, lon, lat)) in stored.iter().enumerate() {
            let feature = features.iter().find(|f| f["id"] == *id).unwrap_or_else(|| panic!("{uri}: no {code}"));
            let (a, b) = point(&feature["geometry"]);
            // Back to x = east, y = north: EPSG:4326 and EPSG:4756 answer latitude first.
            let served = if crs.swaps_axes() { (b, a) } else { (a, b) };
            let error_proj = metres(def.kind, served, proj[i]);
            let by_crate = ours.coord(geo_types::Coord { x: *lon, y: *lat }).unwrap();
            let error_crate = metres(def.kind, served, (by_crate.x, by_crate.y));
            assert!(error_proj < 0.001, "{uri} {code}: served {served:?}, PROJ {:?}: {error_proj} m", proj[i]);
            assert!(error_crate < 0.001, "{uri} {code}: served {served:?}, crs crate {by_crate:?}: {error_crate} m");
            worst_proj = worst_proj.max(error_proj);
            worst_crate = worst_crate.max(error_crate);
            // The way back (what a bbox-crs goes through): the crate takes the served position
            // back to lon/lat where PROJ does, within 1 mm. Both land about 1.2 mm from the
            // stored point for VN-2000: the EPSG:6960 Helmert shift is 3D, and with 2D
            // coordinates the height it produces is dropped on the way there.
            let back = back_to_storage.coord(geo_types::Coord { x: served.0, y: served.1 }).unwrap();
            let error_back = metres(CrsKind::Geographic, (back.x, back.y), proj_back[i]);
            assert!(error_back < 0.001, "{uri} {code}: back at {back:?}, PROJ {:?}: {error_back} m", proj_back[i]);
            worst_back = worst_back.max(error_back);
            let closure = metres(CrsKind::Geographic, (back.x, back.y), (*lon, *lat));
            assert!(closure < 0.005, "{uri} {code}: back at {back:?}, stored ({lon}, {lat}): {closure} m");
            worst_closure = worst_closure.max(closure);

            // The single feature says the same.
            let one = server.get(&format!("/collections/{COLLECTION}/items/{id}?crs={}", encode(&uri)));
            assert_eq!(one.status, 200, "{uri}: {}", one.text());
            assert_eq!(one.header("content-crs"), Some(format!("<{uri}>").as_str()));
            assert_eq!(point(&one.json()["geometry"]), (a, b), "{uri} {code}");

            // And back: a bbox of ±5 mm around the served position, in that CRS and its axis
            // order, selects exactly this station; the same box 2 cm further east, nothing.
            let half = if def.kind == CrsKind::Projected { 0.005 } else { 5e-8 };
            let east = if crs.swaps_axes() { (0.0, 4.0 * half) } else { (4.0 * half, 0.0) };
            for (shift, expected) in [((0.0, 0.0), vec![*id]), (east, vec![])] {
                let (a, b) = (a + shift.0, b + shift.1);
                let bbox = format!("{},{},{},{}", a - half, b - half, a + half, b + half);
                let url = format!(
                    "/collections/{COLLECTION}/items?bbox={}&bbox-crs={}&crs={}",
                    encode(&bbox),
                    encode(&uri),
                    encode(&uri)
                );
                let response = server.get(&url);
                assert_eq!(response.status, 200, "{url}: {}", response.text());
                let ids: Vec<i64> =
                    response.json()["features"].as_array().unwrap().iter().map(|f| f["id"].as_i64().unwrap()).collect();
                assert_eq!(ids, expected, "{uri} {code}: bbox {bbox}");
            }
        }
        report.push(format!(
            "{uri}: max |served - PROJ| = {:.3} mm, |served - crs crate| = {:.3} mm, |back - PROJ back| = {:.3} mm, round-trip closure {:.3} mm",
            worst_proj * 1000.0,
            worst_crate * 1000.0,
            worst_back * 1000.0,
            worst_closure * 1000.0
        ));
    }
    eprintln!("{}", report.join("\n"));
}

#[tokio::test]
async fn crs_parameters_headers_links_and_metadata() {
    let Some(db) = TestDb::migrated().await else { return };
    let stored = load_places(&db).await;
    let server = Server::start(&db, &[]);
    let items = format!("/collections/{COLLECTION}/items");
    let crs84 = "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>";

    // Default: CRS84, said by Content-Crs on items and on a feature.
    let page = server.get(&items);
    assert_eq!(page.header("content-crs"), Some(crs84));
    let one = server.get(&format!("{items}/{}", stored[0].0));
    assert_eq!(one.header("content-crs"), Some(crs84));
    assert_eq!(point(&one.json()["geometry"]), (stored[0].2, stored[0].3));

    // EPSG:4326 is latitude first; the safe CURIE names the same CRS.
    let lat_lon = server.get(&format!("{items}/{}?crs=%5BEPSG%3A4326%5D", stored[0].0));
    assert_eq!(lat_lon.status, 200, "{}", lat_lon.text());
    assert_eq!(lat_lon.header("content-crs"), Some("<http://www.opengis.net/def/crs/EPSG/0/4326>"));
    assert_eq!(point(&lat_lon.json()["geometry"]), (stored[0].3, stored[0].2));

    // Unsupported or malformed CRSs: 400 naming the parameter.
    for (query, param) in [
        ("crs=http%3A%2F%2Fwww.opengis.net%2Fdef%2Fcrs%2FEPSG%2F0%2F2154", "crs"),
        ("crs=EPSG%3A5897", "crs"),
        ("crs=nonsense", "crs"),
        ("bbox-crs=http%3A%2F%2Fwww.opengis.net%2Fdef%2Fcrs%2FEPSG%2F0%2F32648&bbox=1,2,3,4", "bbox-crs"),
        ("bbox-crs=%5BEPSG%3A0%5D", "bbox-crs"),
    ] {
        let response = server.get(&format!("{items}?{query}"));
        assert_eq!(response.status, 400, "{query}: {}", response.text());
        let body = response.json();
        assert_eq!(body["code"], "InvalidParameterValue");
        assert!(body["description"].as_str().unwrap().starts_with(&format!("{param}: ")), "{query}: {body}");
    }
    let bad =
        server.get(&format!("{items}/{}?crs=http%3A%2F%2Fwww.opengis.net%2Fdef%2Fcrs%2FEPSG%2F0%2F2154", stored[0].0));
    assert_eq!(bad.status, 400);
    assert!(bad.json()["description"].as_str().unwrap().starts_with("crs: "));
    let bad = server.get(&format!("{items}/{}?bbox-crs=%5BOGC%3ACRS84%5D", stored[0].0));
    assert_eq!(bad.status, 400, "a feature takes no bbox-crs");
    // A bbox that is not a rectangle of its CRS is a 400 naming bbox.
    let bad = server.get(&format!("{items}?bbox-crs=%5BEPSG%3A5897%5D&bbox=590000,2320000,580000,2330000"));
    assert_eq!(bad.status, 400);
    assert!(bad.json()["description"].as_str().unwrap().starts_with("bbox: "));

    // next links carry crs and bbox-crs.
    let query = "limit=2&crs=%5BEPSG%3A9210%5D&bbox-crs=%5BEPSG%3A4326%5D&bbox=8,102,24,110";
    let first = server.get(&format!("{items}?{query}"));
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(first.header("content-crs"), Some("<http://www.opengis.net/def/crs/EPSG/0/9210>"));
    let first = first.json();
    let next = first["links"].as_array().unwrap().iter().find(|l| l["rel"] == "next").expect("next link");
    let next = next["href"].as_str().unwrap();
    assert!(next.contains("crs=%5BEPSG%3A9210%5D") && next.contains("bbox-crs=%5BEPSG%3A4326%5D"), "{next}");
    let second = server.get(next);
    assert_eq!(second.status, 200);
    assert_eq!(second.header("content-crs"), Some("<http://www.opengis.net/def/crs/EPSG/0/9210>"));
    let easting = point(&second.json()["features"][0]["geometry"]).0;
    assert!((100_000.0..900_000.0).contains(&easting), "TM-3 easting, not a longitude: {easting}");

    // Metadata: conformance, the collection's crs list and storageCrs, the global list.
    let conformance = server.get("/conformance").json();
    assert!(conformance["conformsTo"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs"));
    let collection = server.get(&format!("/collections/{COLLECTION}")).json();
    let listed: Vec<&str> = collection["crs"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    for crs in ApiCrs::supported() {
        assert!(listed.contains(&crs.uri().as_str()), "{crs} not listed");
    }
    assert_eq!(listed[0], "http://www.opengis.net/def/crs/OGC/1.3/CRS84");
    assert_eq!(collection["storageCrs"], "http://www.opengis.net/def/crs/OGC/1.3/CRS84");
    let all = server.get("/collections").json();
    assert_eq!(all["crs"].as_array().unwrap().len(), listed.len());
    let nested = all["collections"].as_array().unwrap().iter().find(|c| c["id"] == COLLECTION).unwrap();
    assert_eq!(nested["crs"], serde_json::json!(["#/crs"]));

    // OpenAPI: crs and bbox-crs on items, crs on a feature, Content-Crs described.
    let api = server.get("/api").json();
    let names = |path: &str| -> Vec<String> {
        api["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let on_items = names(&format!("/collections/{COLLECTION}/items"));
    assert!(on_items.contains(&"crs".to_owned()) && on_items.contains(&"bbox-crs".to_owned()), "{on_items:?}");
    assert!(names(&format!("/collections/{COLLECTION}/items/{{featureId}}")).contains(&"crs".to_owned()));
    assert!(api["paths"][format!("/collections/{COLLECTION}/items")]["get"]["responses"]["200"]["headers"]
        ["Content-Crs"]
        .is_object());
}

/// GDAL's OAPIF driver with `-oo CRS=EPSG:5897` (the GDAL bundled by pyogrio; Debian's 3.6
/// predates Part 2): features come in TM-3 105°00′ within 1 mm of PROJ's answer, and a spatial
/// filter in that CRS (sent as bbox + bbox-crs) selects the right stations.
#[tokio::test]
async fn gdal_oapif_reads_features_in_tm3_with_the_crs_open_option() {
    let Some(cs2cs_bin) = tool("cs2cs") else { return };
    let Some(python) = python() else { return };
    let Some(db) = TestDb::migrated().await else { return };
    let stored = load_places(&db).await;
    let server = Server::start(&db, &[]);
    let tm3 = ApiCrs::Epsg(5897);
    let expected = cs2cs(&cs2cs_bin, &tm3.proj(), &stored.iter().map(|s| (s.2, s.3)).collect::<Vec<_>>());
    // A TM-3 rectangle around Hoàn Kiếm and nothing else of the list.
    let hoan_kiem = stored.iter().position(|s| s.1 == "HOAN_KIEM").unwrap();
    let (x, y) = expected[hoan_kiem];
    let bbox = format!("{},{},{},{}", x - 5_000.0, y - 5_000.0, x + 5_000.0, y + 5_000.0);

    let out = run(Command::new(python).arg(repo().join("tests/clients/gdal_crs_check.py")).args([
        &server.base,
        COLLECTION,
        "EPSG:5897",
        &bbox,
    ]));
    let seen: Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
    eprintln!("GDAL {} reports layer CRS {}", seen["gdal"], seen["crs"]);
    assert_eq!(seen["crs"], "EPSG:5897", "{seen}");
    let features = seen["features"].as_object().unwrap();
    assert_eq!(features.len(), stored.len(), "{seen}");
    let mut worst = 0.0_f64;
    for (i, (id, code, _, _)) in stored.iter().enumerate() {
        let got = features.get(&id.to_string()).unwrap_or_else(|| panic!("GDAL lost {code}: {seen}"));
        let got = (got[0].as_f64().unwrap(), got[1].as_f64().unwrap());
        let error = metres(CrsKind::Projected, got, expected[i]);
        assert!(error < 0.001, "{code}: GDAL {got:?}, PROJ {:?}: {error} m", expected[i]);
        worst = worst.max(error);
    }
    eprintln!("GDAL OAPIF CRS=EPSG:5897: max |GDAL - PROJ| = {:.3} mm over {} stations", worst * 1000.0, stored.len());
    assert_eq!(seen["bbox_ids"], serde_json::json!([stored[hoan_kiem].0]), "{seen}");
}

/// Every coordinate pair of a GeoJSON geometry, in order.
fn pairs(geometry: &Value, out: &mut Vec<(f64, f64)>) {
    match geometry {
        Value::Object(o) => pairs(o.get("coordinates").unwrap_or(&Value::Null), out),
        Value::Array(items) if items.first().is_some_and(Value::is_number) => {
            out.push((items[0].as_f64().unwrap(), items[1].as_f64().unwrap()));
        }
        Value::Array(items) => items.iter().for_each(|i| pairs(i, out)),
        _ => {}
    }
}

/// The user story of the issue: a QGIS user in Hà Nội asks for the Sóc Sơn parcels in TM-3
/// 105°00′ (EPSG:5897) and in VN-2000 lat/lon (EPSG:4756); every vertex of every multipolygon
/// is PROJ's answer within 1 mm, in the CRS's axis order.
#[tokio::test]
async fn parcels_in_vn2000_match_proj_vertex_by_vertex() {
    let Some(cs2cs_bin) = tool("cs2cs") else { return };
    let Some(db) = TestDb::migrated().await else { return };
    let run = db.geosector(&["import", "land.parcels", "data-samples/land/parcels_soc_son.fgb"]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let server = Server::start(&db, &[]);
    let client = db.client().await;
    let stored: std::collections::HashMap<i64, String> = client
        .query("SELECT id, ST_AsGeoJSON(geom, 15) FROM land.parcels ORDER BY id LIMIT 200", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    for crs in [ApiCrs::Epsg(5897), ApiCrs::Epsg(4756)] {
        let def = crs.def();
        let page = server.get(&format!("/collections/land.parcels/items?limit=200&crs={}", encode(&crs.uri())));
        assert_eq!(page.status, 200, "{}", page.text());
        let features = page.json()["features"].as_array().unwrap().clone();
        assert_eq!(features.len(), stored.len());
        let (mut served, mut source) = (Vec::new(), Vec::new());
        for f in &features {
            let id = f["id"].as_i64().unwrap();
            let before = served.len();
            pairs(&f["geometry"], &mut served);
            assert_eq!(f["geometry"]["type"], "MultiPolygon");
            pairs(&serde_json::from_str::<Value>(&stored[&id]).unwrap(), &mut source);
            assert_eq!(served.len(), source.len(), "feature {id}: same vertices");
            assert!(served.len() > before + 3, "feature {id}: a ring at least");
        }
        let proj = cs2cs(&cs2cs_bin, &crs.proj(), &source);
        let mut worst = 0.0_f64;
        for (i, (a, b)) in served.iter().enumerate() {
            let east_north = if crs.swaps_axes() { (*b, *a) } else { (*a, *b) };
            let error = metres(def.kind, east_north, proj[i]);
            assert!(error < 0.001, "{crs}: vertex {i} served {east_north:?}, PROJ {:?}: {error} m", proj[i]);
            worst = worst.max(error);
        }
        eprintln!("{crs}: {} parcel vertices, max |served - PROJ| = {:.4} mm", served.len(), worst * 1000.0);
    }
}

/// The rule SRIDs the server transforms with (migration 0010) carry exactly the table's PROJ
/// strings and no authority, so PostGIS transforms with those strings: the same result as
/// `ST_Transform(geom, from_proj, to_proj)`. And why they exist: at Cần Thơ, the bare EPSG code
/// lets PROJ choose another VN-2000 operation, most of a metre away.
#[tokio::test]
async fn rule_srids_carry_the_table_strings_and_not_proj_s_choice() {
    let Some(db) = TestDb::migrated().await else { return };
    let client = db.client().await;
    for crs in ApiCrs::supported().filter(|c| !c.is_storage_datum()) {
        let def = crs.def();
        let row = client
            .query_opt(
                "SELECT trim(proj4text), auth_name, srtext FROM spatial_ref_sys WHERE srid = $1",
                &[&def.rule_srid()],
            )
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no rule SRID {} for {crs}", def.rule_srid()));
        assert_eq!(row.get::<_, String>(0), def.proj(), "{crs}");
        assert_eq!(row.get::<_, Option<String>>(1), None, "{crs}: an authority would let PROJ choose");
        assert_eq!(row.get::<_, Option<String>>(2), None, "{crs}: so would a WKT");
    }
    let can_tho = "ST_SetSRID(ST_MakePoint(105.7469, 10.0452), 4326)";
    let row = client
        .query_one(
            &format!(
                "SELECT ST_Distance(ST_Transform({can_tho}, $1::integer), ST_SetSRID(ST_Transform({can_tho}, $2::text, $3::text), $1::integer)),
                        ST_Distance(ST_SetSRID(ST_Transform({can_tho}, $1::integer), 5897), ST_Transform({can_tho}, 5897))"
            ),
            &[&ApiCrs::Epsg(5897).def().rule_srid(), &Crs::wgs84().proj, &ApiCrs::Epsg(5897).proj()],
        )
        .await
        .unwrap();
    let (same, epsg_choice): (f64, f64) = (row.get(0), row.get(1));
    assert!(same < 1e-6, "rule SRID vs explicit strings: {same} m");
    eprintln!("Cần Thơ in EPSG:5897: the bare EPSG code lands {epsg_choice:.3} m away from the EPSG:6960 rule");
    assert!(epsg_choice > 0.1, "PROJ's own choice for EPSG:5897 at Cần Thơ: {epsg_choice} m");
}
