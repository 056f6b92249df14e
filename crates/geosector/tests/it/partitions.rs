//! Parcels partitioned by province (migration 0012): a replacing import swaps in the province's
//! partition in one transaction, touches no other province, keeps the tile overview, versions
//! and changed extents in step, and a killed import leaves everything as it was.

use std::time::{Duration, Instant};

use crate::support::TestDb;

const PARCELS_FGB: &str = "data-samples/land/parcels_soc_son.fgb";

/// Rows per partition, in partition order.
async fn partitions(db: &TestDb) -> Vec<(String, i64)> {
    db.client()
        .await
        .query("SELECT tableoid::regclass::text, count(*) FROM land.parcels GROUP BY 1 ORDER BY 1", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

/// A one-parcel GeoJSON in a commune the reference data do not hold, inside the box of the
/// Sóc Sơn sample (105.844–105.856 E, 21.240–21.250 N).
fn unknown_commune_parcel(dir: &std::path::Path) -> String {
    let path = dir.join("unknown.geojson");
    std::fs::write(
        &path,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"commune_code":"99999","sheet_number":1,"parcel_number":"1","land_use_codes":"ONT"},
           "geometry":{"type":"Polygon","coordinates":[[[105.85,21.245],[105.8501,21.245],[105.8501,21.2451],[105.85,21.2451],[105.85,21.245]]]}}]}"#,
    )
    .unwrap();
    path.to_str().unwrap().to_owned()
}

#[tokio::test]
async fn replace_swaps_one_province_and_nothing_else() {
    let Some(db) = TestDb::migrated().await else { return };
    // The parcel of an unknown commune is loaded before the reference data (with them, the
    // commune rule would reject it).
    let tmp = tempfile::tempdir().unwrap();
    let unknown = unknown_commune_parcel(tmp.path());
    for args in [
        vec!["import", "land.parcels", unknown.as_str()],
        vec!["reference", "data-samples/reference"],
        vec!["import", "land.parcels", PARCELS_FGB],
    ] {
        let run = db.geosector(&args);
        assert_eq!(run.code, Some(0), "{}", run.text());
    }
    // Sóc Sơn's communes are in Hà Nội (01); commune 99999 is in no reference: partition 00.
    assert_eq!(partitions(&db).await, [("land.parcels_p00".to_owned(), 1), ("land.parcels_p01".to_owned(), 600)]);
    let client = db.client().await;
    let before: i64 = client
        .query_one("SELECT version FROM meta.table_versions WHERE schema_name = 'land' AND table_name = 'parcels'", &[])
        .await
        .unwrap()
        .get(0);
    let old_min_id: i64 = client.query_one("SELECT min(id) FROM land.parcels_p01", &[]).await.unwrap().get(0);

    let run = db.geosector(&["import", "land.parcels", PARCELS_FGB, "--replace"]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert!(run.stdout.contains("600 rows written (600 previous rows replaced)"), "{}", run.text());
    assert_eq!(partitions(&db).await, [("land.parcels_p00".to_owned(), 1), ("land.parcels_p01".to_owned(), 600)]);
    let row = client
        .query_one(
            "SELECT (SELECT min(id) FROM land.parcels_p01),
                    (SELECT version FROM meta.table_versions WHERE schema_name = 'land' AND table_name = 'parcels'),
                    (SELECT count(*) FROM meta.changed_extents WHERE schema_name = 'land' AND table_name = 'parcels'
                       AND version = (SELECT version FROM meta.table_versions WHERE schema_name = 'land' AND table_name = 'parcels')),
                    (SELECT sum(parcels) FROM land.parcel_cells WHERE zoom = 13),
                    (SELECT count(*) FROM pg_inherits WHERE inhparent = 'land.parcels'::regclass),
                    (SELECT count(*) FROM pg_class WHERE relname LIKE 'parcels_load_%' AND relkind = 'r')",
            &[],
        )
        .await
        .unwrap();
    let (min_id, after, extents, cells, partitions_count, leftovers): (i64, i64, i64, i64, i64, i64) =
        (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4), row.get(5));
    // The swap writes new rows, but a reload keeps the id of every feature it still holds
    // (stable identity on the natural key, issue 19).
    assert_eq!(min_id, old_min_id, "the same parcels keep their ids");
    assert!(after > before, "the swap bumps the data version ({before} → {after})");
    assert_eq!(extents, 1, "the swap records where the data changed, for the tile cache");
    assert_eq!(cells, 601, "the overview cells count every parcel after the swap");
    assert_eq!(partitions_count, 2);
    assert_eq!(leftovers, 0, "no load table is left behind");
    // The swapped partition has the parent's indexes (adopted at attach).
    let indexes: i64 = client
        .query_one("SELECT count(*) FROM pg_index WHERE indrelid = 'land.parcels_p01'::regclass", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        indexes, 6,
        "primary key, geometry, parcel key, land-use, national id (migration 0022) and address trigram (0031) indexes"
    );

    // The swap recomputed the overview from the rows it loaded plus the kept parcel of
    // partition 00 inside Sóc Sơn's box: the same cells as the triggers' SQL from scratch.
    let cells = "SELECT zoom, cell_x, cell_y, main_land_use, parcels, round(area_m2::numeric, 3)::text
                 FROM land.parcel_cells ORDER BY 1, 2, 3";
    let snapshot = |rows: Vec<tokio_postgres::Row>| {
        rows.iter().map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5))).collect::<Vec<(
            i16,
            i32,
            i32,
            String,
            i32,
            String,
        )>>()
    };
    let swapped = snapshot(client.query(cells, &[]).await.unwrap());
    client.batch_execute("SELECT land.refresh_parcel_cells(NULL)").await.unwrap();
    let from_scratch = snapshot(client.query(cells, &[]).await.unwrap());
    assert_eq!(swapped.len(), from_scratch.len());
    assert_eq!(swapped, from_scratch, "the swap's cells are the SQL's cells");
    assert!(swapped.iter().any(|c| c.0 == 0), "every zoom down to 0 is there");

    // The tiles' geometry the swap wrote is PostGIS's own (migration 0014), and the trigger keeps
    // it for ordinary writes.
    let tile_geometry =
        "SELECT count(*), count(*) FILTER (WHERE ST_SRID(geom_3857) = 3857 AND ST_IsPolygonCW(geom_3857)),
                                max(ST_HausdorffDistance(geom_3857, ST_ForcePolygonCW(ST_Transform(geom, 3857))))
                         FROM land.parcels";
    let check = |row: tokio_postgres::Row| {
        let (all, clockwise, off): (i64, i64, f64) = (row.get(0), row.get(1), row.get(2));
        assert_eq!(all, 601);
        assert_eq!(clockwise, all, "every tile geometry is in EPSG:3857 with clockwise shells");
        assert!(off < 1e-6, "tile geometries within 1 µm of ST_Transform: {off} m");
    };
    check(client.query_one(tile_geometry, &[]).await.unwrap());
    client
        .batch_execute(
            "UPDATE land.parcels SET geom = ST_Multi(ST_Translate(geom, 0.0001, 0)) WHERE province_code = '01';
             UPDATE land.parcels SET geom_3857 = NULL WHERE province_code = '00'",
        )
        .await
        .unwrap();
    check(client.query_one(tile_geometry, &[]).await.unwrap());

    // main_land_use, written by the swap (migration 0016), is the first land-use code, and the
    // trigger keeps it so for ordinary writes, even one that sets it to something else.
    let drifted = "SELECT count(*) FROM land.parcels WHERE main_land_use IS DISTINCT FROM land_use_codes[1]";
    let count = |row: tokio_postgres::Row| row.get::<_, i64>(0);
    let (all, with_class): (i64, i64) = {
        let row = client.query_one("SELECT count(*), count(main_land_use) FROM land.parcels", &[]).await.unwrap();
        (row.get(0), row.get(1))
    };
    assert_eq!((all, with_class), (601, 601));
    assert_eq!(count(client.query_one(drifted, &[]).await.unwrap()), 0);
    client
        .batch_execute(
            "UPDATE land.parcels SET land_use_codes = ARRAY['CLN'], land_use_areas_m2 = NULL WHERE province_code = '01';
             UPDATE land.parcels SET main_land_use = 'XYZ' WHERE province_code = '00';
             INSERT INTO land.parcels (commune_code, sheet_number, parcel_number, land_use_codes, geom, source_srid)
             VALUES ('00376', 999, '1', ARRAY['SKC'], ST_Multi(ST_MakeEnvelope(105.9, 21.2, 105.901, 21.201, 4326)), 4326)",
        )
        .await
        .unwrap();
    assert_eq!(count(client.query_one(drifted, &[]).await.unwrap()), 0);
    let classes = "SELECT count(*) FROM land.parcels WHERE main_land_use = 'CLN' AND province_code = '01'";
    assert!(count(client.query_one(classes, &[]).await.unwrap()) > 0);
}

#[tokio::test]
async fn a_killed_replace_leaves_the_province_as_it_was_and_a_rerun_converges() {
    let Some(db) = TestDb::migrated().await else { return };
    let tmp = tempfile::tempdir().unwrap();
    let big = tmp.path().join("big.geojsonl");
    let run = crate::support::geosector(
        None,
        &["sample-data", "--parcels", "25000", "--seed", "3", "--out", big.to_str().unwrap()],
    );
    assert_eq!(run.code, Some(0), "{}", run.text());
    let big = big.to_str().unwrap();
    let run = db.geosector(&["import", "land.parcels", PARCELS_FGB]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let client = db.client().await;
    let checksum = "SELECT count(*), sum(id)::bigint, sum(hashtext(ST_AsText(geom)))::bigint FROM land.parcels";
    let before = client.query_one(checksum, &[]).await.unwrap();
    let before: (i64, i64, i64) = (before.get(0), before.get(1), before.get(2));

    // Kill the replacing import while its rows stream in with COPY.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_geosector"))
        .args(["import", "land.parcels", big, "--crs", "EPSG:5897", "--replace"])
        .current_dir(crate::support::repo())
        .env("DATABASE_URL", &db.url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        let copying: i64 = client
            .query_one("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY %parcels_load_%'", &[])
            .await
            .unwrap()
            .get(0);
        if copying > 0 {
            break;
        }
        assert!(child.try_wait().unwrap().is_none(), "the import ended before it could be killed");
        assert!(started.elapsed() < Duration::from_secs(60), "the import never started its COPY");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // The server aborts the transaction when it notices the client is gone.
    let started = Instant::now();
    loop {
        let busy: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if busy == 0 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "the killed import's session stays");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let after = client.query_one(checksum, &[]).await.unwrap();
    assert_eq!(before, (after.get(0), after.get(1), after.get(2)), "the stored parcels are exactly as before");
    assert_eq!(db.parcel_load_tables().await, 0, "the killed load's table is gone with its transaction");

    // A re-run converges: twice the same replacing import stores the set once.
    for _ in 0..2 {
        let run = db.geosector(&["import", "land.parcels", big, "--crs", "EPSG:5897", "--replace"]);
        assert_eq!(run.code, Some(0), "{}", run.text());
    }
    assert_eq!(db.count("land.parcels").await, 25_000);
}

/// The CHECK constraints of a partition that pin its key, as `name: definition`.
async fn key_checks(db: &TestDb, partition: &str) -> Vec<String> {
    db.client()
        .await
        .query(
            "SELECT conname || ': ' || pg_get_constraintdef(oid) FROM pg_constraint
             WHERE conrelid = $1::text::regclass AND contype = 'c'
               AND pg_get_constraintdef(oid) LIKE '%province_code = %' ORDER BY 1",
            &[&partition],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[tokio::test]
async fn a_replace_across_two_provinces_swaps_each_and_a_single_province_load_needs_no_scan() {
    let Some(db) = TestDb::migrated().await else { return };
    let tmp = tempfile::tempdir().unwrap();
    let unknown = unknown_commune_parcel(tmp.path());
    // With the reference data, the commune rules would reject the unknown commune's parcel.
    let rules = tmp.path().join("rules.toml");
    std::fs::write(&rules, "[land.parcels]\n\"land.commune_exists\" = \"off\"\n\"land.inside_commune\" = \"off\"\n")
        .unwrap();
    let run = db.geosector(&["reference", "data-samples/reference"]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let run = db.geosector(&["import", "land.parcels", PARCELS_FGB]);
    assert_eq!(run.code, Some(0), "{}", run.text());

    // Hà Nội's rows come first, so the load table is checked for 01 until the row of partition
    // 00 arrives; the swap then splits the load and replaces both partitions.
    let rules = rules.to_str().unwrap();
    let run = db.geosector(&["import", "land.parcels", PARCELS_FGB, unknown.as_str(), "--replace", "--rules", rules]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert!(run.stdout.contains("601 rows written (600 previous rows replaced)"), "{}", run.text());
    assert_eq!(partitions(&db).await, [("land.parcels_p00".to_owned(), 1), ("land.parcels_p01".to_owned(), 600)]);
    for (partition, key) in [("land.parcels_p00", "00"), ("land.parcels_p01", "01")] {
        let checks = key_checks(&db, partition).await;
        assert_eq!(checks.len(), 1, "{partition}: {checks:?}");
        assert!(checks[0].ends_with(&format!("CHECK ((province_code = '{key}'::text))")), "{checks:?}");
    }

    // The load table of an import killed while its indexes were built in parallel (committed,
    // its session gone) is dropped by the next replacing load.
    db.client().await.batch_execute("CREATE TABLE land.parcels_load_99999999 (LIKE land.parcels)").await.unwrap();

    // One province: the load table was checked for its key while empty, and that check is the
    // one ATTACH found (it added none and scanned nothing).
    let run = db.geosector(&["import", "land.parcels", PARCELS_FGB, "--replace"]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert_eq!(partitions(&db).await, [("land.parcels_p00".to_owned(), 1), ("land.parcels_p01".to_owned(), 600)]);
    assert_eq!(
        key_checks(&db, "land.parcels_p01").await,
        ["geosector_partition_key: CHECK ((province_code = '01'::text))"]
    );
    assert_eq!(db.parcel_load_tables().await, 0, "no load table is left behind");
}

/// Rounds every number of a GeoJSON geometry's coordinates to `decimals`.
fn round_coordinates(value: &mut serde_json::Value, decimals: i32) {
    let scale = 10f64.powi(decimals);
    match value {
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| round_coordinates(v, decimals)),
        serde_json::Value::Number(n) => {
            let rounded = (n.as_f64().unwrap() * scale).round() / scale;
            *value = serde_json::json!(rounded);
        }
        _ => {}
    }
}

#[tokio::test]
async fn a_province_exported_again_with_rounded_coordinates_keeps_its_overview_cells() {
    let Some(db) = TestDb::migrated().await else { return };
    let run = db.geosector(&["import", "land.parcels", PARCELS_FGB, "--replace"]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    // The same parcels, their TM-3 corners rounded from millimetres to centimetres.
    let tmp = tempfile::tempdir().unwrap();
    let mut collection: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("../../data-samples/land/parcels_soc_son.geojson").unwrap())
            .unwrap();
    for feature in collection["features"].as_array_mut().unwrap() {
        round_coordinates(&mut feature["geometry"]["coordinates"], 2);
    }
    let rounded = tmp.path().join("rounded.geojson");
    std::fs::write(&rounded, collection.to_string()).unwrap();

    let client = db.client().await;
    let cells = "SELECT zoom, cell_x, cell_y, ctid::text, main_land_use, parcels, area_m2 FROM land.parcel_cells ORDER BY 1, 2, 3";
    type Cell = (i16, i32, i32, String, String, i32, f64);
    let snapshot = |rows: Vec<tokio_postgres::Row>| {
        rows.iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5), r.get(6)))
            .collect::<Vec<Cell>>()
    };
    let before = snapshot(client.query(cells, &[]).await.unwrap());
    let run = db.geosector(&["import", "land.parcels", rounded.to_str().unwrap(), "--replace"]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let after = snapshot(client.query(cells, &[]).await.unwrap());
    client.batch_execute("SELECT land.refresh_parcel_cells(NULL)").await.unwrap();
    let from_scratch = snapshot(client.query(cells, &[]).await.unwrap());

    // Every cell is the recomputed one: same class and parcels, area within 0.1 %.
    assert_eq!(after.len(), from_scratch.len());
    for (stored, exact) in after.iter().zip(&from_scratch) {
        assert_eq!((stored.0, stored.1, stored.2, &stored.4, stored.5), (exact.0, exact.1, exact.2, &exact.4, exact.5));
        assert!((stored.6 - exact.6).abs() <= 1e-3 * exact.6.max(1000.0), "{stored:?} vs {exact:?}");
    }
    // And the cells whose class and parcels did not change were not rewritten (same row version).
    let before: std::collections::HashMap<_, _> = before.iter().map(|c| ((c.0, c.1, c.2), c)).collect();
    let (mut kept, mut same) = (0, 0);
    for cell in &after {
        if let Some(old) = before.get(&(cell.0, cell.1, cell.2)) {
            if (&old.4, old.5) == (&cell.4, cell.5) {
                same += 1;
                kept += usize::from(old.3 == cell.3);
            }
        }
    }
    assert!(same * 10 >= after.len() * 9, "most cells are the same: {same} of {}", after.len());
    assert_eq!(kept, same, "unchanged cells are kept, not deleted and written again");
}

/// A load table left by an import killed after committing it (issue 22 finding) is dropped by
/// `geosector migrate` and by the next import of any dataset; one whose session is still running
/// (an import beside) is kept.
#[tokio::test]
async fn load_tables_left_by_killed_imports_are_swept() {
    let Some(db) = TestDb::migrated().await else { return };
    let client = db.client().await;
    let alive: i32 = client.query_one("SELECT pg_backend_pid()", &[]).await.unwrap().get(0);
    let exists = |name: String| {
        let client = &client;
        async move { client.query_one("SELECT to_regclass($1) IS NOT NULL", &[&name]).await.unwrap().get::<_, bool>(0) }
    };
    let orphan = "land.parcels_load_999999".to_owned();
    let running = format!("land.parcels_load_{alive}");
    for table in [&orphan, &running] {
        client.batch_execute(&format!("CREATE TABLE {table} (LIKE land.parcels)")).await.unwrap();
    }
    let migrated = db.geosector(&["migrate"]);
    assert_eq!(migrated.code, Some(0), "{}", migrated.text());
    assert!(migrated.stdout.contains("dropped 1 load table"), "{}", migrated.text());
    assert!(!exists(orphan.clone()).await && exists(running.clone()).await);

    client.batch_execute(&format!("CREATE TABLE {orphan} (LIKE land.parcels)")).await.unwrap();
    let imported = db.geosector(&["import", "water.works", "data-samples/water/works.geojson"]);
    assert_eq!(imported.code, Some(0), "{}", imported.text());
    assert!(!exists(orphan).await, "an import of another dataset sweeps it too");
    assert!(exists(running).await);
}
