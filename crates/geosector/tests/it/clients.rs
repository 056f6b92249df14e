//! Real clients against `geosector serve`: GDAL's OAPIF driver (`ogrinfo`, `ogr2ogr`) and
//! OWSLib. `scripts/test.sh` installs them (gdal-bin from Debian, OWSLib into .geosector/venv);
//! without them these tests skip locally and fail when `CI=true`.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::ats::load_samples;
use crate::support::{repo, Server, TestDb};

pub fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|p| p.join(name)).find(|p| p.is_file()));
    if found.is_none() {
        crate::support::missing(name);
    }
    found
}

pub fn python() -> Option<PathBuf> {
    let venv = repo().join(".geosector/venv/bin/python");
    let candidate = std::env::var_os("GEOSECTOR_PYTHON").map(PathBuf::from).unwrap_or(venv);
    if candidate.is_file() {
        return Some(candidate);
    }
    crate::support::missing(&format!("the client venv's python ({})", candidate.display()))
}

pub fn run(command: &mut Command) -> String {
    let output = command.output().expect("run client");
    let text = format!("{}\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{command:?} failed:\n{text}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Every coordinate of a GeoJSON geometry, in order.
fn coordinates(geometry: &Value, out: &mut Vec<f64>) {
    match geometry {
        Value::Array(items) => items.iter().for_each(|i| coordinates(i, out)),
        Value::Number(n) => out.push(n.as_f64().unwrap_or(f64::NAN)),
        Value::Object(o) => coordinates(o.get("coordinates").unwrap_or(&Value::Null), out),
        _ => {}
    }
}

#[tokio::test]
async fn gdal_ogrinfo_lists_and_ogr2ogr_copies_a_whole_collection() {
    let (Some(ogrinfo), Some(ogr2ogr)) = (tool("ogrinfo"), tool("ogr2ogr")) else { return };
    let Some(db) = TestDb::migrated().await else { return };
    load_samples(&db);
    let server = Server::start(&db, &[]);
    let source = format!("OAPIF:{}/", server.base);

    let listing = run(Command::new(&ogrinfo).args(["-ro", "-q", &source]));
    let collections = server.get("/collections").json();
    for c in collections["collections"].as_array().unwrap() {
        let id = c["id"].as_str().unwrap();
        assert!(listing.contains(&format!(": {id} (")), "ogrinfo does not list {id}:\n{listing}");
    }

    let tmp = tempfile::tempdir().unwrap();
    let gpkg = tmp.path().join("parcels.gpkg");
    run(Command::new(&ogr2ogr).args(["-preserve_fid", "-f", "GPKG", gpkg.to_str().unwrap(), &source, "land.parcels"]));
    let summary = run(Command::new(&ogrinfo).args(["-ro", "-so", gpkg.to_str().unwrap(), "land.parcels"]));
    let client = db.client().await;
    let total: i64 = client.query_one("SELECT count(*) FROM land.parcels", &[]).await.unwrap().get(0);
    assert!(summary.contains(&format!("Feature Count: {total}")), "{summary}");

    // Equal geometries, feature by feature (GeoJSON carries 9 decimals: 1e-9 degree).
    let json =
        run(Command::new(&ogr2ogr).args(["-preserve_fid", "-f", "GeoJSON", "/vsistdout/", gpkg.to_str().unwrap()]));
    let copy: Value = serde_json::from_str(&json).expect("GeoJSON from ogr2ogr");
    let features = copy["features"].as_array().unwrap();
    assert_eq!(features.len() as i64, total);
    let rows = client.query("SELECT id, ST_AsGeoJSON(geom, 9) FROM land.parcels", &[]).await.unwrap();
    let stored: std::collections::HashMap<i64, String> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    for f in features {
        let id = f["id"].as_i64().expect("GDAL kept the feature id");
        let mut a = Vec::new();
        let mut b = Vec::new();
        coordinates(&f["geometry"], &mut a);
        coordinates(&serde_json::from_str::<Value>(&stored[&id]).unwrap(), &mut b);
        assert_eq!(a.len(), b.len(), "feature {id}");
        assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-9), "feature {id} differs");
        assert_eq!(f["properties"]["commune_code"], "00376");
    }
}

#[tokio::test]
async fn owslib_reads_collections_bbox_items_and_one_feature() {
    let Some(python) = python() else { return };
    let Some(db) = TestDb::migrated().await else { return };
    load_samples(&db);
    let server = Server::start(&db, &[]);
    let client = db.client().await;
    let bbox = "105.846,21.242,105.850,21.246";
    let id: i64 = client.query_one("SELECT min(id) + 17 FROM land.parcels", &[]).await.unwrap().get(0);
    let out = run(Command::new(python).arg(repo().join("tests/clients/owslib_check.py")).args([
        &server.base,
        "land.parcels",
        bbox,
        &id.to_string(),
    ]));
    let seen: Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
    let collections = server.get("/collections").json();
    assert_eq!(seen["collections"].as_array().unwrap().len(), collections["collections"].as_array().unwrap().len());
    assert_eq!(seen["collection_id"], "land.parcels");
    assert!(seen["openapi"].as_str().unwrap().starts_with("3.0"));
    let expected: Vec<i64> = client
        .query("SELECT id FROM land.parcels WHERE ST_Intersects(geom, ST_MakeEnvelope(105.846, 21.242, 105.850, 21.246, 4326)) ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let got: Vec<i64> = seen["bbox_ids"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
    assert_eq!(got, expected);
    assert_eq!(seen["feature_id"], id);
    assert!(seen["feature_properties"].as_array().unwrap().iter().any(|p| p == "parcel_number"));
}

/// A policy that closes land to anonymous callers and opens it to the `gis` role.
const GIS_POLICY: &str = r#"
[[grant]]
role = "anonymous"
collections = ["minerals.*"]
operations = ["read_items", "read_tiles"]

[[grant]]
role = "gis"
collections = ["land.*"]
operations = ["read_items", "read_tiles"]
"#;

#[tokio::test]
async fn gdal_and_owslib_read_with_an_api_key() {
    let (Some(ogr2ogr), Some(python)) = (tool("ogr2ogr"), python()) else { return };
    let Some(db) = TestDb::migrated().await else { return };
    load_samples(&db);
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("access.toml");
    std::fs::write(&rules, GIS_POLICY).unwrap();
    let server = Server::start(&db, &["--access-file", rules.to_str().unwrap()]);
    let created = db.geosector(&["keys", "create", "--name", "desktop GIS", "--role", "gis"]);
    let key = created.stdout.lines().find(|l| l.starts_with("gsk_")).expect("a key").trim().to_owned();
    let total: i64 = db.client().await.query_one("SELECT count(*) FROM land.parcels", &[]).await.unwrap().get(0);
    assert_eq!(server.get("/collections/land.parcels/items").status, 401, "closed without the key");

    // GDAL: the key in the connection URL, kept across 7-feature pages.
    let out = dir.path().join("parcels.geojson");
    let source = format!("OAPIF:{}/?apikey={key}", server.base);
    run(Command::new(&ogr2ogr).args([
        "-f",
        "GeoJSON",
        out.to_str().unwrap(),
        "-oo",
        "PAGE_SIZE=7",
        &source,
        "land.parcels",
    ]));
    let copy: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(copy["features"].as_array().unwrap().len() as i64, total, "every page was read with the key");

    // OWSLib: the key in a header.
    let seen = run(Command::new(python).arg(repo().join("tests/clients/owslib_apikey.py")).args([
        &server.base,
        "land.parcels",
        &key,
    ]));
    let seen: Value = serde_json::from_str(seen.trim()).unwrap_or_else(|e| panic!("{e}: {seen}"));
    assert_eq!(seen["ids"].as_array().unwrap().len() as i64, total);
    assert!(seen["pages"].as_i64().unwrap() > 1);
    assert!(seen["collections"].as_array().unwrap().iter().any(|c| c == "land.parcels"));
}
