//! Every file of `tests/data/bad-inputs` (Shapefile, GeoPackage, FlatGeobuf, GeoJSON)
//! through `geosector import`: a verdict or a clean error (exit 0, 1 or 2, never a panic, a
//! signal or a hang), a message naming the file, and the live table exactly as it was.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{repo, testdata, Run, TestDb};

/// Longest a run on a tiny bad file may take (the machine is shared and busy).
const TIMEOUT: Duration = Duration::from_secs(120);

/// Runs the binary with a deadline: killed and failed past it.
pub fn run_with_timeout(db: &TestDb, args: &[&str]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_geosector"))
        .args(args)
        .current_dir(repo())
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run geosector");
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = r.read_to_end(&mut s);
            String::from_utf8_lossy(&s).into_owned()
        })
    };
    let out = drain(Box::new(child.stdout.take().expect("stdout")));
    let err = drain(Box::new(child.stderr.take().expect("stderr")));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            panic!("geosector {args:?} hung for more than {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run { code: status.code(), stdout: out.join().expect("stdout"), stderr: err.join().expect("stderr") }
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(dir).expect("read dir").map(|e| e.expect("entry").path()).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_ascii_lowercase();
        if path.is_dir() {
            files_under(&path, out);
        } else if !(name.starts_with("license") || name.starts_with("readme") || name.starts_with("copying")) {
            out.push(path);
        }
    }
}

/// A fingerprint of the live table: row count and a hash of every row.
async fn fingerprint(db: &TestDb) -> (i64, i64) {
    let row = db
        .client()
        .await
        .query_one("SELECT count(*), coalesce(sum(hashtext(p::text)::bigint), 0)::bigint FROM land.parcels p", &[])
        .await
        .expect("fingerprint");
    (row.get(0), row.get(1))
}

#[tokio::test]
async fn bad_inputs_every_file_ends_cleanly_and_leaves_the_live_table_alone() {
    let testdata = testdata();
    let Some(db) = TestDb::migrated().await else { return };
    let load = db.geosector(&["import", "land.parcels", "data-samples/land/parcels_soc_son.fgb"]);
    assert_eq!(load.code, Some(0), "{}", load.text());
    let before = fingerprint(&db).await;
    assert_eq!(before.0, 600);

    let mut files = Vec::new();
    for format in ["shapefile", "gpkg", "flatgeobuf", "geojson"] {
        files_under(&testdata.join("bad-inputs").join(format), &mut files);
    }
    // A Shapefile is one dataset of several files: run it through its .shp (or its .dbf alone).
    files.retain(|f| {
        let ext = f.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
        ext != "shx" && !(ext == "dbf" && f.with_extension("shp").is_file())
    });
    assert!(files.len() >= 30, "{} files", files.len());
    let mut codes = std::collections::BTreeMap::new();
    for file in &files {
        let path = file.to_str().expect("utf-8 path");
        let name = file.file_name().and_then(|n| n.to_str()).expect("name");
        // An unknown extension (fuzzer cases) is read as what its directory holds.
        let mut args = vec!["import", "land.parcels", path];
        if file.extension().is_none() {
            args.extend(["--format", "fgb"]);
        }
        let run = run_with_timeout(&db, &args);
        assert!(matches!(run.code, Some(0..=2)), "{name}: {}", run.text());
        assert!(
            run.stdout.contains(name) || run.stderr.contains(name),
            "{name}: the output does not name it: {}",
            run.text()
        );
        assert!(!run.stderr.contains("panicked"), "{name}: {}", run.text());
        if run.code != Some(0) {
            assert_eq!(fingerprint(&db).await, before, "{name} changed the live table: {}", run.text());
        }
        *codes.entry(run.code.unwrap_or(-1)).or_insert(0) += 1;
    }
    // None of them is a Sóc Sơn parcel: nothing may be accepted.
    assert_eq!(fingerprint(&db).await, before, "{codes:?}");
    assert_eq!(codes.get(&0), None, "{codes:?}");
}

#[tokio::test]
async fn bad_inputs_shapefile_and_geopackage_errors_are_precise() {
    let testdata = testdata();
    let Some(db) = TestDb::migrated().await else { return };
    let bad = testdata.join("bad-inputs");
    let arg = |p: PathBuf| p.to_str().expect("utf-8").to_owned();

    // The last record runs past the end of the file: a clean failure naming the record.
    let too_long = arg(bad.join("shapefile/corrupt_too_long.shp"));
    let run = run_with_timeout(&db, &["validate", "land.parcels", &too_long]);
    assert_eq!(run.code, Some(2), "{}", run.text());
    assert!(
        run.stderr.contains("corrupt_too_long.shp: record 11 (feature 10) at byte 1140: truncated"),
        "{}",
        run.text()
    );

    // No .shx, no .cpg: read, with the encoding reported, and rejected for its coordinates.
    let latin1 = arg(bad.join("shapefile/latin1.shp"));
    let run = run_with_timeout(&db, &["validate", "land.parcels", &latin1]);
    assert_eq!(run.code, Some(1), "{}", run.text());
    assert!(run.stdout.contains("text windows-1252 (guessed"), "{}", run.text());
    assert!(run.stdout.contains("latin1.shp feature 0, "), "{}", run.text());

    // Curved geometry: rejected per feature with the way out.
    for curve in ["curve.gpkg", "curvepolygon.gpkg"] {
        let run = run_with_timeout(&db, &["validate", "land.parcels", &arg(bad.join("gpkg").join(curve))]);
        assert_eq!(run.code, Some(1), "{}", run.text());
        assert!(
            run.stdout.contains("is not supported: linearise it, e.g. ogr2ogr -nlt CONVERT_TO_LINEAR"),
            "{}",
            run.text()
        );
        assert!(run.stdout.contains(&format!("{curve} feature 0, geometry")), "{}", run.text());
    }

    // LineString ZM (Z and M dropped): no importable dataset of lines, so a clean rejection.
    let run = run_with_timeout(&db, &["validate", "land.parcels", &arg(bad.join("gpkg/line_zm.gpkg"))]);
    assert_eq!(run.code, Some(1), "{}", run.text());
    assert!(run.stdout.contains("line_zm.gpkg feature 0, "), "{}", run.text());
}
