//! `geosector migrate`: applies once, is a no-op the second time, is safe when run
//! concurrently, and refuses a changed migration by name.

use crate::support::TestDb;

#[tokio::test]
async fn migrate_twice_applies_once() {
    let Some(db) = TestDb::empty().await else { return };
    let first = db.geosector(&["migrate"]);
    assert_eq!(first.code, Some(0), "{}", first.text());
    let files = geosector_store::Migrations::embedded().unwrap().iter().count();
    assert!(first.stdout.contains(&format!("{files} applied now, 0 already applied")), "{}", first.text());

    let second = db.geosector(&["migrate"]);
    assert_eq!(second.code, Some(0), "{}", second.text());
    assert!(second.stdout.contains(&format!("0 applied now, {files} already applied")), "{}", second.text());
    assert_eq!(db.count("public.schema_migrations").await, files as i64);
    let checksums: Vec<String> = db
        .client()
        .await
        .query("SELECT checksum FROM public.schema_migrations ORDER BY version", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let expected: Vec<String> = geosector_store::Migrations::embedded().unwrap().iter().map(|m| m.checksum()).collect();
    assert_eq!(checksums, expected);
}

#[tokio::test]
async fn concurrent_runs_do_not_double_apply() {
    let Some(db) = TestDb::empty().await else { return };
    let url = db.url.clone();
    let runs: Vec<_> = (0..3)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || crate::support::geosector(Some(&url), &["migrate"]))
        })
        .collect();
    let mut applied_now = 0;
    for run in runs {
        let run = run.join().unwrap();
        assert_eq!(run.code, Some(0), "{}", run.text());
        applied_now += run.stdout.lines().filter(|l| l.starts_with("applied ")).count();
    }
    let files = geosector_store::Migrations::embedded().unwrap().iter().count();
    assert_eq!(applied_now, files, "every file applied by exactly one run");
    assert_eq!(db.count("public.schema_migrations").await, files as i64);
}

#[tokio::test]
async fn a_changed_applied_migration_is_refused_by_name() {
    let Some(db) = TestDb::empty().await else { return };
    let dir = tempfile::tempdir().unwrap();
    for m in geosector_store::Migrations::embedded().unwrap().iter() {
        std::fs::write(dir.path().join(&m.name), &m.sql).unwrap();
    }
    let dir_arg = dir.path().to_str().unwrap();
    let run = db.geosector(&["migrate", "--dir", dir_arg]);
    assert_eq!(run.code, Some(0), "{}", run.text());

    // Edit an applied file and add a new one: the run must refuse before applying anything.
    let edited = dir.path().join("0002_land.sql");
    let mut sql = std::fs::read_to_string(&edited).unwrap();
    sql.push_str("\nCOMMENT ON TABLE land.parcels IS 'edited after being applied';\n");
    std::fs::write(&edited, sql).unwrap();
    std::fs::write(dir.path().join("9999_new.sql"), "CREATE TABLE public.should_not_exist (id int);").unwrap();

    let run = db.geosector(&["migrate", "--dir", dir_arg]);
    assert_eq!(run.code, Some(2), "{}", run.text());
    assert!(
        run.stderr.contains("0002_land.sql") && run.stderr.contains("changed after it was applied"),
        "{}",
        run.text()
    );
    let exists: bool = db
        .client()
        .await
        .query_one("SELECT to_regclass('public.should_not_exist') IS NOT NULL", &[])
        .await
        .unwrap()
        .get(0);
    assert!(!exists, "nothing may be applied after a refusal");
}

#[tokio::test]
async fn a_failing_migration_leaves_nothing_behind() {
    let Some(db) = TestDb::empty().await else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("0001_ok.sql"), "CREATE TABLE public.first_table (id int);").unwrap();
    std::fs::write(
        dir.path().join("0002_broken.sql"),
        "CREATE TABLE public.half_done (id int);\nSELECT no_such_function();",
    )
    .unwrap();
    let run = db.geosector(&["migrate", "--dir", dir.path().to_str().unwrap()]);
    assert_eq!(run.code, Some(2), "{}", run.text());
    assert!(run.stderr.contains("0002_broken.sql"), "{}", run.text());
    let row = db
        .client()
        .await
        .query_one(
            "SELECT to_regclass('public.first_table') IS NOT NULL, to_regclass('public.half_done') IS NOT NULL",
            &[],
        )
        .await
        .unwrap();
    assert!(row.get::<_, bool>(0), "the good migration stays applied");
    assert!(!row.get::<_, bool>(1), "the failing migration is rolled back whole");
    assert_eq!(db.count("public.schema_migrations").await, 1);
}
