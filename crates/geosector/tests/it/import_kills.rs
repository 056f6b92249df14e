//! `kill -9` of `geosector import` at any moment (issue 22, faults): a plain load, a replacing
//! load of one province and a replacing load that swaps two provinces' partitions are each
//! killed at five random moments spread over the import's measured duration (15 kills in all).
//! After each kill the stored data are exactly as before (rows, overview cells, data versions,
//! changed extents, changesets, audit rows), no lock, prepared transaction or invalid index is
//! left, and a load table committed for the parallel index builds (the only thing a kill can
//! leave) is swept by the next import; the run after the kills succeeds and leaves nothing.

use std::time::{Duration, Instant};

use crate::support::TestDb;

const PARCELS_FGB: &str = "data-samples/land/parcels_soc_son.fgb";

/// Everything an import writes, summed: equal before and after a killed one.
async fn stored(client: &tokio_postgres::Client) -> Vec<String> {
    let mut out = Vec::new();
    for sql in [
        "SELECT count(*)::text || ' ' || coalesce(sum(hashtext(p::text)::bigint), 0)::text FROM land.parcels p",
        "SELECT count(*)::text || ' ' || coalesce(sum(hashtext(c::text)::bigint), 0)::text FROM land.parcel_cells c",
        "SELECT coalesce(string_agg(schema_name || '.' || table_name || '=' || version, ',' ORDER BY 1), '') FROM meta.table_versions",
        "SELECT count(*)::text FROM meta.changed_extents",
        "SELECT count(*)::text FROM meta.changesets",
        "SELECT count(*)::text FROM meta.audit",
        "SELECT string_agg(c.relname, ',' ORDER BY 1) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'land.parcels'::regclass",
    ] {
        out.push(client.query_one(sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e}")).get(0));
    }
    out
}

/// What a killed import may not leave: locks, prepared transactions, invalid indexes of the
/// live tables. Load tables are counted (swept by the next import).
async fn leftovers(client: &tokio_postgres::Client) -> (i64, i64, i64, i64) {
    let one = |sql: &'static str| async move { client.query_one(sql, &[]).await.unwrap().get::<_, i64>(0) };
    (
        // Autovacuum may be at work after a load: only client sessions count.
        one("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE a.datname = current_database() AND l.pid <> pg_backend_pid() AND a.backend_type = 'client backend'").await,
        one("SELECT count(*) FROM pg_prepared_xacts").await,
        one("SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid WHERE NOT i.indisvalid AND c.relname NOT LIKE '%\\_load\\_%'").await,
        one("SELECT count(*) FROM pg_class WHERE relname LIKE '%\\_load\\_%' AND relkind = 'r'").await,
    )
}

/// Waits until the killed import's sessions are gone (PostgreSQL aborts a transaction once it
/// notices its client left; an index build notices at its end).
async fn sessions_gone(client: &tokio_postgres::Client) {
    let started = Instant::now();
    loop {
        let busy: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if busy == 0 {
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(90), "the killed import's sessions stay");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The files of the three kinds of load: 8,000 generated parcels of Hà Nội in TM-3 (EPSG:5897),
/// the same with one parcel of an unknown commune (province 00), the rules file that lets that
/// one in, and a lon/lat parcel of that commune for the base data.
struct Files {
    _dir: tempfile::TempDir,
    big: String,
    two_provinces: String,
    unknown: String,
    rules: String,
}

fn files() -> Files {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.geojsonl");
    let run = crate::support::geosector(
        None,
        &["sample-data", "--parcels", "8000", "--seed", "5", "--out", big.to_str().unwrap()],
    );
    assert_eq!(run.code, Some(0), "{}", run.text());
    let text = std::fs::read_to_string(&big).unwrap();
    let mut other: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    other["properties"]["commune_code"] = "99999".into();
    other["properties"]["sheet_number"] = 9999.into();
    let two = dir.path().join("two.geojsonl");
    std::fs::write(&two, format!("{text}{other}\n")).unwrap();
    let unknown = dir.path().join("unknown.geojson");
    std::fs::write(
        &unknown,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"commune_code":"99999","sheet_number":1,"parcel_number":"1","land_use_codes":"ONT"},
           "geometry":{"type":"Polygon","coordinates":[[[105.85,21.245],[105.8501,21.245],[105.8501,21.2451],[105.85,21.2451],[105.85,21.245]]]}}]}"#,
    )
    .unwrap();
    let rules = dir.path().join("rules.toml");
    std::fs::write(&rules, "[land.parcels]\n\"land.commune_exists\" = \"off\"\n\"land.inside_commune\" = \"off\"\n")
        .unwrap();
    let path = |p: std::path::PathBuf| p.to_str().unwrap().to_owned();
    Files { big: path(big), two_provinces: path(two), unknown: path(unknown), rules: path(rules), _dir: dir }
}

/// A database holding the base data: the Sóc Sơn sample (province 01) and one parcel of
/// province 00.
async fn base(files: &Files) -> TestDb {
    let db = TestDb::migrated().await.expect("database");
    for args in [
        vec!["import", "land.parcels", PARCELS_FGB],
        vec!["import", "land.parcels", files.unknown.as_str(), "--rules", files.rules.as_str()],
    ] {
        let run = db.geosector(&args);
        assert_eq!(run.code, Some(0), "{}", run.text());
    }
    db
}

/// A small xorshift, seeded from the clock (printed, so a failing run can be repeated with
/// `GEOSECTOR_KILL_SEED`).
fn seed() -> u64 {
    std::env::var("GEOSECTOR_KILL_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64) | 1
    })
}

fn next(state: &mut u64) -> f64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    (*state >> 11) as f64 / (1u64 << 53) as f64
}

/// Kills the import given by `args` at five random moments (one in each fifth of the 90 % of
/// its measured duration) and checks the database after each; then runs it to completion.
async fn killed_at_random_moments(kind: &str, args: impl Fn(&Files) -> Vec<String>) {
    let files = files();
    let args: Vec<String> = args(&files);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // Its duration, measured on a database of its own.
    let duration = {
        let db = base(&files).await;
        let started = Instant::now();
        let run = db.geosector(&args);
        assert_eq!(run.code, Some(0), "{}", run.text());
        started.elapsed()
    };
    let db = base(&files).await;
    let client = db.client().await;
    let mut state = seed();
    eprintln!("{kind}: the import takes {duration:?}; kill seed {state}");
    let (mut left_load_tables, mut finished_first) = (0, 0);
    for k in 0..5 {
        let before = stored(&client).await;
        let at = duration.mul_f64(0.9 * (f64::from(k) + next(&mut state)) / 5.0);
        let mut child = db.spawn(&args);
        let started = Instant::now();
        tokio::time::sleep(at).await;
        if let Some(status) = child.try_wait().unwrap() {
            // Faster this time than when measured: it finished before its kill.
            assert!(status.success(), "{kind}: {status:?}");
            finished_first += 1;
            eprintln!("{kind}: kill {k} at {at:?}: the import had already finished");
            continue;
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let killed_at = started.elapsed();
        sessions_gone(&client).await;
        let after = stored(&client).await;
        assert_eq!(before, after, "{kind}: kill {k} at {killed_at:?}: the stored data are exactly as before");
        let (locks, prepared, invalid, load_tables) = leftovers(&client).await;
        assert_eq!(
            (locks, prepared, invalid),
            (0, 0, 0),
            "{kind}: kill {k}: locks, prepared transactions, invalid indexes"
        );
        assert!(load_tables <= 1, "{kind}: kill {k}: {load_tables} load tables");
        left_load_tables += load_tables;
        eprintln!("{kind}: kill {k} at {killed_at:?}: stored data as before, {load_tables} load table left");
    }
    // The next run succeeds, sweeps any load table a kill committed, and leaves nothing.
    let run = db.geosector(&args);
    assert_eq!(run.code, Some(0), "{kind}: the re-run: {}", run.text());
    assert_eq!(leftovers(&client).await, (0, 0, 0, 0), "{kind}: nothing is left after the re-run");
    eprintln!("{kind}: {left_load_tables} kills left a committed load table (swept by the next import); {finished_first} imports finished before their kill");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plain_import_killed_at_random_moments_leaves_the_data_as_they_were() {
    killed_at_random_moments("plain", |f| {
        ["import", "land.parcels", &f.big, "--crs", "EPSG:5897", "--rules", &f.rules].map(str::to_owned).to_vec()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replacing_import_killed_at_random_moments_leaves_the_data_as_they_were() {
    killed_at_random_moments("replace", |f| {
        ["import", "land.parcels", &f.big, "--crs", "EPSG:5897", "--rules", &f.rules, "--replace"]
            .map(str::to_owned)
            .to_vec()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_province_swap_killed_at_random_moments_leaves_the_data_as_they_were() {
    killed_at_random_moments("province swap", |f| {
        ["import", "land.parcels", &f.two_provinces, "--crs", "EPSG:5897", "--rules", &f.rules, "--replace"]
            .map(str::to_owned)
            .to_vec()
    })
    .await;
}
