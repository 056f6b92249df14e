//! Edits coming back from an offline package (`geosector import --changes`, `POST
//! /packages/changes`): the offline round trip of issue 21 — package the sample parcels, edit 10
//! features and delete 2 in the GeoPackage with GDAL while one of the edited features changes on
//! the server (an OGC API PATCH), import the changes: 11 applied as one changeset, 1 conflict
//! reported with both versions in the conflicts GeoPackage, nothing lost (every stored row and
//! the history checked); a second import is "already applied"; a rule's rejection stores
//! nothing and names the file, the table, the feature and the field; the upload endpoint needs
//! the write grant.
//!
//! The round trip's package is made by `geosector package`; the other test's is made to the
//! format of docs/packages.md from the database with GDAL (ogr2ogr from PostGIS, then the
//! `geosector_package` and `geosector_origin` tables through `ogrinfo -sql`), so any tool that
//! writes the format can carry edits back.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use tokio_postgres::Client;

use crate::support::{Server, TestDb};

const PARCELS: &str = "data-samples/land/parcels_soc_son.fgb";
const MADE_AT: &str = "2026-12-06T08:00:00.123456Z";

const POLICY: &str = r#"
[[grant]]
role = "anonymous"
collections = ["*"]
operations = ["read_items"]

[[grant]]
role = "editor"
collections = ["land.*"]
operations = ["read_items", "write"]

[[grant]]
role = "reader"
collections = ["land.*"]
operations = ["read_items"]
"#;

fn gdal(program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().unwrap_or_else(|e| panic!("{program}: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{program} {args:?}: {text}");
    text
}

/// Runs SQL in a GeoPackage through GDAL (its native SQLite dialect).
fn gpkg_sql(file: &Path, sql: &str) -> String {
    gdal("ogrinfo", &[file.to_str().unwrap(), "-q", "-sql", sql])
}

/// A package of every stored parcel, to the format of docs/packages.md.
async fn make_package(db: &TestDb, client: &Client, dir: &Path) -> PathBuf {
    let file = dir.join("package.gpkg");
    // The columns the collection publishes (what a caller sees), lists as JSON text.
    let server = Server::start(db, &[]);
    let item = server.get("/collections/land.parcels/items?limit=1").json();
    drop(server);
    let shown: Vec<String> =
        item["features"][0]["properties"].as_object().expect("properties").keys().cloned().collect();
    let columns: Vec<String> = client
        .query(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'land' AND table_name = 'parcels'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .filter(|r| shown.contains(&r.get::<_, String>(0)))
        .map(|r| {
            let (name, kind): (String, String) = (r.get(0), r.get(1));
            if kind == "ARRAY" {
                format!("array_to_json({name})::text AS {name}")
            } else {
                name
            }
        })
        .collect();
    let sql = format!(
        "SELECT id AS geosector_id, version AS geosector_version, {}, geom FROM land.parcels ORDER BY id",
        columns.join(", ")
    );
    let pg = format!("PG:{}", db.url);
    gdal(
        "ogr2ogr",
        &[
            "-f",
            "GPKG",
            file.to_str().unwrap(),
            &pg,
            "-sql",
            &sql,
            "-nln",
            "land_parcels",
            "-a_srs",
            "EPSG:4326",
            "-forceNullable",
        ],
    );
    for statement in [
        "CREATE TABLE geosector_package (key TEXT PRIMARY KEY, value TEXT NOT NULL)".to_owned(),
        format!(
            "INSERT INTO geosector_package VALUES ('format', 'geosector-package/1'), ('made_at', '{MADE_AT}'), ('area', '00376'), ('collections', '[\"land.parcels\"]'), ('source', 'database'), ('caller', 'cli:test')"
        ),
        "CREATE TABLE geosector_origin (collection TEXT NOT NULL, id INTEGER NOT NULL, version INTEGER NOT NULL, PRIMARY KEY (collection, id))".to_owned(),
        "INSERT INTO geosector_origin SELECT 'land.parcels', geosector_id, geosector_version FROM land_parcels".to_owned(),
        "INSERT INTO gpkg_contents (table_name, data_type, identifier) VALUES ('geosector_package', 'attributes', 'geosector_package'), ('geosector_origin', 'attributes', 'geosector_origin')".to_owned(),
    ] {
        gpkg_sql(&file, &statement);
    }
    file
}

/// A package of every stored parcel made by `geosector package` (the GeoPackage only: the
/// changes are read from it).
async fn packaged_by_geosector(db: &TestDb, client: &Client, dir: &Path) -> PathBuf {
    let extent = client
        .query_one(
            "SELECT format('%s,%s,%s,%s', ST_XMin(e) - 0.01, ST_YMin(e) - 0.01, ST_XMax(e) + 0.01, ST_YMax(e) + 0.01) FROM (SELECT ST_Extent(geom) AS e FROM land.parcels) AS x",
            &[],
        )
        .await
        .unwrap()
        .get::<_, String>(0);
    let out = dir.join("field");
    let made = db.geosector(&[
        "package",
        "--area",
        &extent,
        "--collections",
        "land.parcels",
        "--no-tiles",
        "--made-at",
        MADE_AT,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(made.code, Some(0), "{}", made.text());
    out.join("package.gpkg")
}

/// Every stored parcel (id, version, a digest of the row) and the history's rows.
async fn snapshot(client: &Client) -> (Vec<(i64, i32, String)>, Vec<(i64, i32, bool)>, i64) {
    let live = client
        .query("SELECT id, version, md5(p::text) FROM land.parcels AS p ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let history = client
        .query("SELECT id, version, retired FROM land.parcels_history ORDER BY id, version", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let changesets: i64 = client.query_one("SELECT count(*) FROM meta.changesets", &[]).await.unwrap().get(0);
    (live, history, changesets)
}

async fn fixture() -> Option<(TestDb, tempfile::TempDir, PathBuf)> {
    let db = TestDb::migrated().await?;
    let loaded = db.geosector(&["import", "land.parcels", PARCELS]);
    assert_eq!(loaded.code, Some(0), "{}", loaded.text());
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, POLICY).unwrap();
    Some((db, dir, policy))
}

fn key(db: &TestDb, role: &str) -> String {
    let created = db.geosector(&["keys", "create", "--name", role, "--role", role, "--days", "1"]);
    assert_eq!(created.code, Some(0), "{}", created.text());
    created.stdout.lines().find(|l| l.starts_with("gsk_")).expect("the key is printed").trim().to_owned()
}

#[tokio::test]
async fn offline_round_trip_applies_eleven_and_reports_one_conflict() {
    let Some((db, dir, policy)) = fixture().await else { return };
    let client = db.client().await;
    let package = packaged_by_geosector(&db, &client, dir.path()).await;
    let packaged = snapshot(&client).await;
    let ids: Vec<(i64, i32)> = client
        .query("SELECT id, version FROM land.parcels ORDER BY id LIMIT 12", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let (edited, deleted) = ids.split_at(10);

    // In the field, with GDAL: 10 addresses changed (one of them its land use too), 2 deleted.
    let list = |ids: &[(i64, i32)]| ids.iter().map(|(id, _)| id.to_string()).collect::<Vec<_>>().join(",");
    gpkg_sql(
        &package,
        &format!(
            "UPDATE land_parcels SET address = 'Đội 5, thửa ' || geosector_id WHERE geosector_id IN ({})",
            list(edited)
        ),
    );
    gpkg_sql(
        &package,
        &format!("UPDATE land_parcels SET land_use_codes = '[\"ONT\",\"CLN\"]' WHERE geosector_id = {}", edited[1].0),
    );
    gpkg_sql(&package, &format!("DELETE FROM land_parcels WHERE geosector_id IN ({})", list(deleted)));
    let counted = gdal("ogrinfo", &["-so", package.to_str().unwrap(), "land_parcels"]);
    assert!(counted.contains(&format!("Feature Count: {}", packaged.0.len() - 2)), "{counted}");

    // Meanwhile on the server: one of the edited parcels changes (OGC API PATCH).
    let server = Server::start(&db, &["--access-file", policy.to_str().unwrap()]);
    let editor = key(&db, "editor");
    let conflicted = edited[3].0;
    let patched = server.request(
        "PATCH",
        &format!("/collections/land.parcels/items/{conflicted}"),
        &[("X-API-Key", &editor), ("Content-Type", "application/merge-patch+json")],
        Some(br#"{"properties":{"address":"Changed at the office"}}"#),
    );
    assert_eq!(patched.status, 200, "{}", patched.text());

    // The changes come back.
    let run = db.geosector(&[
        "import",
        "--changes",
        package.to_str().unwrap(),
        "--reference",
        "12/QĐ-UBND",
        "--note",
        "Đo đạc thực địa đợt 1",
        "--report",
        dir.path().join("report.json").to_str().unwrap(),
    ]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert!(run.stdout.contains("11 applied (0 created, 9 updated, 2 deleted), 1 conflict(s)"), "{}", run.text());
    assert!(run.stdout.contains("CONFLICT land_parcels"), "{}", run.text());
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(report["applied"].as_array().unwrap().len(), 11);
    assert_eq!(report["conflicts"].as_array().unwrap().len(), 1);
    assert_eq!(report["conflicts"][0]["id"], conflicted);
    let changeset = report["changeset"][0].as_i64().expect("one changeset");

    // One changeset, with its reference and note, wrote every applied version; one audit row.
    let row = client
        .query_one("SELECT reference, note, source, actor FROM meta.changesets WHERE id = $1", &[&changeset])
        .await
        .unwrap();
    assert_eq!(row.get::<_, Option<String>>(0).as_deref(), Some("12/QĐ-UBND"));
    assert_eq!(row.get::<_, Option<String>>(1).as_deref(), Some("Đo đạc thực địa đợt 1"));
    assert_eq!(row.get::<_, String>(2), "import");
    assert!(row.get::<_, String>(3).starts_with("cli:"));
    let audit: i64 = client
        .query_one("SELECT count(*) FROM meta.audit WHERE action = 'write' AND method = 'import --changes'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(audit, 1);

    // Nothing lost: every stored parcel checked.
    let after = snapshot(&client).await;
    let before: std::collections::HashMap<i64, (i32, String)> =
        packaged.0.iter().map(|(id, v, d)| (*id, (*v, d.clone()))).collect();
    assert_eq!(after.0.len(), packaged.0.len() - 2, "two parcels retired");
    for (id, version, digest) in &after.0 {
        let (was, was_digest) = &before[id];
        if *id == conflicted {
            assert_eq!(*version, was + 1, "the office's change stays");
        } else if edited.iter().any(|(e, _)| e == id) {
            assert_eq!(*version, was + 1, "parcel {id} edited in the field");
        } else {
            assert_eq!((version, digest), (was, was_digest), "parcel {id} untouched");
        }
    }
    for (id, _) in edited {
        let address: String =
            client.query_one("SELECT address FROM land.parcels WHERE id = $1", &[id]).await.unwrap().get(0);
        if *id == conflicted {
            assert_eq!(address, "Changed at the office", "a conflict is never overwritten");
        } else {
            assert_eq!(address, format!("Đội 5, thửa {id}"));
        }
    }
    let codes: Vec<String> = client
        .query_one("SELECT land_use_codes FROM land.parcels WHERE id = $1", &[&edited[1].0])
        .await
        .unwrap()
        .get(0);
    assert_eq!(codes, vec!["ONT", "CLN"]);
    // The history holds every replaced version, and the retired ones.
    let mut expected: Vec<(i64, i32, bool)> = packaged.1.clone();
    for (id, version) in edited {
        expected.push((*id, *version, false));
    }
    for (id, version) in deleted {
        expected.push((*id, *version, true));
    }
    expected.sort_unstable();
    assert_eq!(after.1, expected);
    let written: i64 = client
        .query_one(
            "SELECT (SELECT count(*) FROM land.parcels WHERE changeset_id = $1) + (SELECT count(*) FROM land.parcels_history WHERE ended_by = $1 AND retired)",
            &[&changeset],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(written, 11);

    // The conflicts GeoPackage, beside the package, holds both versions, read by GDAL.
    let conflicts = package.with_file_name("package-conflicts.gpkg");
    let listed = gdal(
        "ogrinfo",
        &[
            conflicts.to_str().unwrap(),
            "-q",
            "-sql",
            "SELECT side, change, geosector_id, geosector_version, address FROM land_parcels ORDER BY side",
        ],
    );
    assert!(listed.contains("side (String) = package"), "{listed}");
    assert!(listed.contains("side (String) = server"), "{listed}");
    assert!(listed.contains(&format!("address (String) = Đội 5, thửa {conflicted}")), "{listed}");
    assert!(listed.contains("address (String) = Changed at the office"), "{listed}");
    let summary = gdal("ogrinfo", &["-so", conflicts.to_str().unwrap(), "land_parcels"]);
    assert!(summary.contains("Feature Count: 2"), "{summary}");

    // A second import of the same package applies nothing again.
    let again = db.geosector(&["import", "--changes", package.to_str().unwrap()]);
    assert_eq!(again.code, Some(0), "{}", again.text());
    assert!(again.stdout.contains(&format!("already applied by changeset {changeset}")), "{}", again.text());
    assert_eq!(snapshot(&client).await, after);
}

#[tokio::test]
async fn a_rejected_feature_stores_nothing_and_the_upload_needs_the_write_grant() {
    let Some((db, dir, policy)) = fixture().await else { return };
    let client = db.client().await;
    let package = make_package(&db, &client, dir.path()).await;
    let first: i64 = client.query_one("SELECT min(id) FROM land.parcels", &[]).await.unwrap().get(0);
    // One good change, one new feature appended with GDAL, one a rule rejects.
    gpkg_sql(&package, &format!("UPDATE land_parcels SET address = 'Đội 7' WHERE geosector_id = {first}"));
    let extra = dir.path().join("new.geojson");
    std::fs::write(
        &extra,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"commune_code":"00376","sheet_number":99,"parcel_number":"900","land_use_codes":"[\"ODT\"]","address":"Thôn 9"},"geometry":{"type":"Polygon","coordinates":[[[105.95,21.30],[105.9503,21.30],[105.9503,21.3003],[105.95,21.3003],[105.95,21.30]]]}}]}"#,
    )
    .unwrap();
    gdal(
        "ogr2ogr",
        &["-update", "-append", package.to_str().unwrap(), extra.to_str().unwrap(), "-nln", "land_parcels"],
    );
    let bad: i64 = client.query_one("SELECT max(id) FROM land.parcels", &[]).await.unwrap().get(0);
    gpkg_sql(&package, &format!("UPDATE land_parcels SET sheet_number = -4 WHERE geosector_id = {bad}"));
    let before = snapshot(&client).await;

    let run = db.geosector(&["import", "--changes", package.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{}", run.text());
    let text = run.text();
    assert!(text.contains(package.to_str().unwrap()), "names the file: {text}");
    assert!(text.contains("table land_parcels"), "names the table: {text}");
    assert!(text.contains("feature fid ") && text.contains(&format!("(id {bad})")), "names the feature: {text}");
    assert!(text.contains("sheet_number"), "names the field: {text}");
    assert_eq!(snapshot(&client).await, before, "a failing import leaves the data exactly as before");
    assert!(!dir.path().join("package-conflicts.gpkg").exists());

    // Fixed in the field, it goes through the upload endpoint — with the write grant only.
    gpkg_sql(&package, &format!("UPDATE land_parcels SET sheet_number = 4 WHERE geosector_id = {bad}"));
    let body = std::fs::read(&package).unwrap();
    let server = Server::start(&db, &["--access-file", policy.to_str().unwrap()]);
    let gpkg = ("Content-Type", "application/geopackage+sqlite3");
    let anonymous = server.request("POST", "/packages/changes", &[gpkg], Some(&body));
    assert_eq!(anonymous.status, 401, "{}", anonymous.text());
    let reader = key(&db, "reader");
    let refused = server.request("POST", "/packages/changes", &[gpkg, ("X-API-Key", &reader)], Some(&body));
    assert_eq!(refused.status, 403, "{}", refused.text());
    assert_eq!(snapshot(&client).await, before);
    let editor = key(&db, "editor");
    let dry = server.request("POST", "/packages/changes?dryRun=true", &[gpkg, ("X-API-Key", &editor)], Some(&body));
    assert_eq!(dry.status, 200, "{}", dry.text());
    assert_eq!(dry.json()["applied"].as_array().unwrap().len(), 3, "{}", dry.text());
    assert_eq!(snapshot(&client).await, before, "a dry run stores nothing");
    let done = server.request(
        "POST",
        "/packages/changes",
        &[gpkg, ("X-API-Key", &editor), ("Geosector-Reference", "13%2FQ%C4%90-UBND")],
        Some(&body),
    );
    assert_eq!(done.status, 200, "{}", done.text());
    let report = done.json();
    let kinds: Vec<&str> =
        report["applied"].as_array().unwrap().iter().map(|a| a["change"].as_str().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "create").count(), 1, "{report}");
    assert_eq!(kinds.iter().filter(|k| **k == "update").count(), 2, "{report}");
    let changeset = report["changeset"][0].as_i64().unwrap();
    let reference: Option<String> =
        client.query_one("SELECT reference FROM meta.changesets WHERE id = $1", &[&changeset]).await.unwrap().get(0);
    assert_eq!(reference.as_deref(), Some("13/QĐ-UBND"));
    let created: i64 = client
        .query_one("SELECT count(*) FROM land.parcels WHERE parcel_number = '900' AND changeset_id = $1", &[&changeset])
        .await
        .unwrap()
        .get(0);
    assert_eq!(created, 1);
    let again = server.request("POST", "/packages/changes", &[gpkg, ("X-API-Key", &editor)], Some(&body));
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["already_applied"][0], changeset);
}
