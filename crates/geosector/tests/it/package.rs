//! Offline packages (`geosector package`, `GET /packages`) read back by other people's code:
//! the GeoPackage by GDAL (`ogrinfo`, and pyogrio's GDAL for the features and their WKB) with
//! the counts, ids and exact geometries OGC API items and the database give; the PMTiles by the
//! `pmtiles` reader from PyPI with every tile decoded by `mapbox-vector-tile`; the MBTiles by
//! GDAL and sqlite3 (tests/clients/package_check.py). Then: two runs give the same bytes; a run
//! killed midway resumes to the bytes of an uninterrupted one; a scoped API key's package holds
//! only its area; the endpoint follows the access policy; and the map viewer draws a package's
//! PMTiles opened from disk (Debian's headless Chromium).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::ats::load_samples;
use crate::clients::{python, run, tool};
use crate::support::{repo, Server, TestDb};
use crate::viewer::{browser_tools, run_browser_check};

const MADE_AT: &str = "2026-12-01T00:00:00Z";
const FILES: [&str; 4] = ["package.gpkg", "tiles.pmtiles", "tiles.mbtiles", "tiles.json"];

/// The package read back by tests/clients/package_check.py.
fn read_back(python: &Path, dir: &Path, tiles: bool) -> Value {
    let mut command = Command::new(python);
    command.arg(repo().join("tests/clients/package_check.py")).arg(dir);
    if !tiles {
        command.arg("--no-tiles");
    }
    serde_json::from_str(&run(&mut command)).expect("package_check.py prints JSON")
}

/// The west 60 % of the parcels' extent, so the area leaves some out.
async fn west_of_parcels(db: &TestDb) -> String {
    let row = db
        .client()
        .await
        .query_one(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom)::geometry AS e FROM land.parcels) AS x",
            &[],
        )
        .await
        .unwrap();
    let (x0, y0, x1, y1): (f64, f64, f64, f64) = (row.get(0), row.get(1), row.get(2), row.get(3));
    format!("{x0},{y0},{},{y1}", x0 + (x1 - x0) * 0.6)
}

/// Feature ids of a collection's items (one page holds them all).
fn item_ids(server: &Server, collection: &str, query: &str) -> Vec<i64> {
    let page = server.get(&format!("/collections/{collection}/items?limit=10000&{query}"));
    assert_eq!(page.status, 200, "{}", page.text());
    let mut ids: Vec<i64> =
        page.json()["features"].as_array().unwrap().iter().map(|f| f["id"].as_i64().unwrap()).collect();
    ids.sort_unstable();
    ids
}

fn gpkg_ids(report: &Value, table: &str) -> Vec<i64> {
    let features =
        report["gpkg"]["layers"][table]["features"].as_object().unwrap_or_else(|| panic!("no {table}: {report}"));
    let mut ids: Vec<i64> = features.keys().map(|k| k.parse().unwrap()).collect();
    ids.sort_unstable();
    ids
}

fn same_bytes(a: &Path, b: &Path) {
    for file in FILES {
        let (x, y) = (std::fs::read(a.join(file)).unwrap(), std::fs::read(b.join(file)).unwrap());
        assert!(
            x == y,
            "{file} differs between {} and {} ({} and {} bytes)",
            a.display(),
            b.display(),
            x.len(),
            y.len()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_package_reads_back_in_gdal_and_pmtiles_readers_as_items_show_it() {
    let (Some(python), Some(ogrinfo)) = (python(), tool("ogrinfo")) else { return };
    let Some(db) = TestDb::migrated().await else { return };
    load_samples(&db);
    let area = west_of_parcels(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (dir.path().join("first"), dir.path().join("second"));
    let collections = "land.parcels,land.map_sheets,minerals.licence_areas";
    let args = |out: &Path| -> Vec<String> {
        ["package", "--area", &area, "--collections", collections, "--max-zoom", "15", "--made-at", MADE_AT, "--out"]
            .iter()
            .map(|s| (*s).to_owned())
            .chain([out.to_str().unwrap().to_owned()])
            .collect()
    };
    let made = db.geosector(&args(&first).iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(made.code, Some(0), "{}", made.text());
    assert!(!first.join("package.partial").exists(), "the work area is removed at the end");

    // Features: those items give for the bbox, with their ids, exactly the stored geometries.
    let server = Server::start(&db, &[]);
    let report = read_back(&python, &first, true);
    let client = db.client().await;
    for (collection, table) in [
        ("land.parcels", "land_parcels"),
        ("land.map_sheets", "land_map_sheets"),
        ("minerals.licence_areas", "minerals_licence_areas"),
    ] {
        let items = item_ids(&server, collection, &format!("bbox={area}"));
        let packaged = gpkg_ids(&report, table);
        assert_eq!(packaged, items, "{collection}: the package holds what items give for the area");
        let layer = &report["gpkg"]["layers"][table];
        assert_eq!(layer["count"].as_u64(), Some(items.len() as u64));
        assert_eq!(layer["crs"], "EPSG:4326", "{layer:?}");
        assert!(made.stdout.contains(&format!("{collection}: {} features", items.len())), "{}", made.stdout);
    }
    let total: i64 = client.query_one("SELECT count(*) FROM land.parcels", &[]).await.unwrap().get(0);
    let parcels = gpkg_ids(&report, "land_parcels");
    assert!(!parcels.is_empty() && (parcels.len() as i64) < total, "the area cuts: {} of {total}", parcels.len());
    let stored: BTreeMap<String, String> = client
        .query("SELECT id::text, encode(ST_AsBinary(geom), 'hex') FROM land.parcels WHERE id = ANY($1)", &[&parcels])
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let read: BTreeMap<String, String> = report["gpkg"]["layers"]["land_parcels"]["features"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(id, wkb)| (id.clone(), wkb.as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(read, stored, "GDAL reads back the stored geometries exactly");
    let fields = report["gpkg"]["layers"]["land_parcels"]["fields"].as_array().unwrap();
    for field in ["geosector_id", "geosector_version", "commune_code", "parcel_number", "land_use_codes"] {
        assert!(fields.iter().any(|f| f == field), "{field} in {fields:?}");
    }

    // GDAL's own summary, and the QGIS styles it lists.
    let gpkg = first.join("package.gpkg");
    let summary = run(Command::new(&ogrinfo).args(["-ro", "-so", "-al", gpkg.to_str().unwrap()]));
    assert!(summary.contains("Layer name: land_parcels"), "{summary}");
    assert!(summary.contains(&format!("Feature Count: {}", parcels.len())), "{summary}");
    let listed = report["gpkg"]["listed"].as_array().unwrap();
    assert!(listed.iter().any(|l| l == "layer_styles"), "{listed:?}");
    let styles = run(Command::new(&ogrinfo).args(["-ro", "-al", gpkg.to_str().unwrap(), "layer_styles"]));
    assert!(styles.contains("f_table_name (String) = land_parcels"), "{styles}");
    assert!(styles.contains("categorizedSymbol") && styles.contains("useAsDefault (Integer(Boolean)) = 1"), "{styles}");
    let package = run(Command::new(&ogrinfo).args(["-ro", "-al", gpkg.to_str().unwrap(), "geosector_package"]));
    assert!(
        package.contains("value (String) = geosector-package/1") && package.contains("2026-12-01T00:00:00.000Z"),
        "{package}"
    );

    // Tiles: a valid PMTiles v3 whose every tile decodes, the same tiles in the MBTiles.
    let pm = &report["pmtiles"];
    let header = &pm["header"];
    assert_eq!(header["tile_type"], "MVT", "{header}");
    assert_eq!(header["tile_compression"], "GZIP");
    assert_eq!(header["clustered"], true);
    assert_eq!((header["min_zoom"].as_u64(), header["max_zoom"].as_u64()), (Some(0), Some(15)));
    let layers: Vec<&str> =
        pm["metadata"]["vector_layers"].as_array().unwrap().iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(layers, ["land.parcels", "land.map_sheets", "minerals.licence_areas"]);
    assert_eq!(pm["zooms"], serde_json::json!((0..=15).collect::<Vec<_>>()), "every zoom has tiles");
    assert!(pm["features"]["land.parcels"].as_u64().unwrap() > parcels.len() as u64, "{pm}");
    assert_eq!(pm["tiles"], report["mbtiles"]["tiles"], "the same tiles in both files");
    assert!(header["tile_contents_count"].as_u64().unwrap() <= header["addressed_tiles_count"].as_u64().unwrap());
    assert_eq!(report["mbtiles"]["metadata"]["format"], "pbf");
    let mbtiles = run(Command::new(&ogrinfo).args(["-ro", "-so", first.join("tiles.mbtiles").to_str().unwrap()]));
    assert!(mbtiles.contains("land.parcels"), "GDAL's MBTiles driver lists the layers: {mbtiles}");
    let tilejson: Value = serde_json::from_slice(&std::fs::read(first.join("tiles.json")).unwrap()).unwrap();
    assert_eq!(tilejson["tilejson"], "3.0.0");

    // The same data and made_at: the same bytes.
    let again = db.geosector(&args(&second).iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(again.code, Some(0), "{}", again.text());
    same_bytes(&first, &second);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_package_resumes_to_the_bytes_of_an_uninterrupted_one() {
    let Some(db) = TestDb::migrated().await else { return };
    assert_eq!(db.geosector(&["import", "land.parcels", "data-samples/land/parcels_soc_son.fgb"]).code, Some(0));
    let area = west_of_parcels(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let (whole, killed) = (dir.path().join("whole"), dir.path().join("killed"));
    let args = |out: &Path| -> Vec<String> {
        ["package", "--area", &area, "--collections", "land.parcels", "--made-at", MADE_AT, "--workers", "1", "--out"]
            .iter()
            .map(|s| (*s).to_owned())
            .chain([out.to_str().unwrap().to_owned()])
            .collect()
    };
    let made = db.geosector(&args(&whole).iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(made.code, Some(0), "{}", made.text());

    // Killed (SIGKILL) once the features and the first ten zooms are committed.
    let mut child = db.spawn(&args(&killed));
    let state = killed.join("package.partial/state.sqlite");
    let started = std::time::Instant::now();
    loop {
        assert!(child.try_wait().unwrap().is_none(), "the package was done before it could be killed");
        assert!(started.elapsed().as_secs() < 120, "no progress in 120 s");
        let zooms = rusqlite::Connection::open_with_flags(&state, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .and_then(|c| {
                c.busy_timeout(std::time::Duration::from_millis(200))?;
                c.query_row("SELECT count(*) FROM state WHERE key LIKE 'tiles:%'", [], |r| r.get::<_, i64>(0))
            })
            .unwrap_or(0);
        if zooms >= 10 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!killed.join("package.gpkg").exists() && killed.join("package.partial").is_dir());

    let refused = db.geosector(&args(&killed).iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(refused.code, Some(2), "{}", refused.text());
    assert!(refused.stderr.contains("--resume"), "{}", refused.text());
    let mut resume = args(&killed);
    resume.push("--resume".into());
    let resumed = db.geosector(&resume.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(resumed.code, Some(0), "{}", resumed.text());
    assert!(resumed.stdout.contains("steps resumed"), "{}", resumed.stdout);
    same_bytes(&whole, &killed);
}

fn policy(commune: &str) -> String {
    format!(
        r#"[[grant]]
role = "anonymous"
collections = ["minerals.*"]
operations = ["read_items", "read_tiles"]

[[grant]]
role = "surveyor"
collections = ["land.parcels", "land.owners"]
operations = ["read_items", "read_tiles"]
area = ["{commune}"]
"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scoped_key_packages_only_its_area_and_the_endpoint_follows_the_policy() {
    let Some(python) = python() else { return };
    let Some(db) = TestDb::migrated().await else { return };
    assert_eq!(db.geosector(&["reference", "data-samples/reference"]).code, Some(0));
    assert_eq!(db.geosector(&["import", "land.parcels", "data-samples/land/parcels_soc_son.fgb"]).code, Some(0));
    let client = db.client().await;
    // The sample lies in one commune: move every other parcel to another commune of province 01.
    let commune: String = client.query_one("SELECT min(commune_code) FROM land.parcels", &[]).await.unwrap().get(0);
    let other: String = client
        .query_one(
            "SELECT min(code) FROM reference.admin_units WHERE level = 'commune' AND parent_code = '01' AND code <> $1",
            &[&commune],
        )
        .await
        .unwrap()
        .get(0);
    client.execute("UPDATE land.parcels SET commune_code = $1 WHERE id % 2 = 0", &[&other]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("access.toml");
    std::fs::write(&rules, policy(&commune)).unwrap();
    let created = db.geosector(&["keys", "create", "--name", "field team", "--role", "surveyor", "--days", "1"]);
    assert_eq!(created.code, Some(0), "{}", created.text());
    let key = created.stdout.lines().find(|l| l.starts_with("gsk_")).expect("the key is printed").trim().to_owned();
    let server = Server::start(&db, &["--access-file", rules.to_str().unwrap()]);
    let in_scope = item_ids(&server, "land.parcels", &format!("apikey={key}"));
    let total: i64 = client.query_one("SELECT count(*) FROM land.parcels", &[]).await.unwrap().get(0);
    assert!(!in_scope.is_empty() && (in_scope.len() as i64) < total);

    // The CLI as the key: province 01's package holds the key's commune only.
    let out = dir.path().join("cli");
    let made = db.geosector(&[
        "package",
        "--area",
        "01",
        "--collections",
        "land.parcels",
        "--key",
        &key,
        "--access-file",
        rules.to_str().unwrap(),
        "--no-tiles",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(made.code, Some(0), "{}", made.text());
    assert_eq!(gpkg_ids(&read_back(&python, &out, false), "land_parcels"), in_scope);
    let unknown =
        db.geosector(&["package", "--area", "01", "--collections", "land.nothing", "--out", out.to_str().unwrap()]);
    assert!(unknown.code == Some(2) && unknown.stderr.contains("land.nothing"), "{}", unknown.text());

    // The endpoint: anonymous callers are refused land (401) and cannot know restricted data (404).
    assert_eq!(server.get("/packages?area=01&collections=land.parcels").status, 401);
    assert_eq!(server.get("/packages?area=01&collections=land.owners").status, 404);
    let bad = server.get(&format!("/packages?area=1,2,3&collections=land.parcels&apikey={key}"));
    assert_eq!(bad.status, 400);
    assert!(bad.text().contains("area"), "{}", bad.text());
    let download = server.get(&format!("/packages?area=01&collections=land.parcels&apikey={key}"));
    assert_eq!(download.status, 200, "{}", download.text());
    assert_eq!(download.header("content-type"), Some("application/geopackage+sqlite3"));
    let fetched = dir.path().join("fetched");
    std::fs::create_dir_all(&fetched).unwrap();
    std::fs::write(fetched.join("package.gpkg"), &download.body).unwrap();
    assert_eq!(gpkg_ids(&read_back(&python, &fetched, false), "land_parcels"), in_scope);
    let tiles = server.get(&format!("/packages?area=01&collections=land.parcels&f=pmtiles&maxzoom=12&apikey={key}"));
    assert_eq!(tiles.status, 200, "{}", tiles.text());
    assert!(tiles.body.starts_with(b"PMTiles\x03"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_viewer_draws_a_package_opened_from_disk() {
    let Some(node) = browser_tools() else { return };
    let Some(db) = TestDb::migrated().await else { return };
    load_samples(&db);
    let area = west_of_parcels(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let made = db.geosector(&[
        "package",
        "--area",
        &area,
        "--collections",
        "land.parcels,land.map_sheets",
        "--max-zoom",
        "16",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(made.code, Some(0), "{}", made.text());
    let server = Server::start(&db, &[]);
    let file = dir.path().join("tiles.pmtiles");
    let report = run_browser_check(&node, "viewer_package_check.mjs", &[&server.base, file.to_str().unwrap()]);
    assert_eq!(report["package"]["vectorLayers"], serde_json::json!(["land.parcels", "land.map_sheets"]), "{report}");
    let rendered = &report["rendered"];
    assert!(rendered["count"].as_u64().unwrap_or(0) > 0, "nothing drawn from the package: {report}");
    assert!(rendered["byLayer"]["land.parcels"].as_u64().unwrap_or(0) > 0, "{report}");
    assert_eq!(rendered["bySource"].as_object().unwrap().keys().collect::<Vec<_>>(), ["package-1"], "{report}");
}
