//! The database's disk full during an import (issue 22, faults): a cluster of the test's own
//! whose database lives in a tablespace on a size-limited tmpfs (mounted by the test, which
//! runs as root in CI, as `scripts/test.sh` does), shrunk to a few MiB above what the stored
//! data use. An import that needs more fails with a clear error naming the full disk (not a raw
//! SQL message alone), nothing is stored and nothing is left behind; once space is freed
//! (the tmpfs grown), the same import succeeds. The write-ahead log stays on the ordinary disk:
//! PostgreSQL refuses the write of a table file with an error, whereas a full WAL disk stops
//! the server itself (a crash, covered by the stop test of `faults.rs`).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cluster::{give_to_postgres, Cluster};
use crate::support::geosector;

/// A tmpfs mounted for the test, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size_mib: u64) -> Tmpfs {
        let uid = Command::new("id").arg("-u").output().expect("id -u");
        assert_eq!(
            String::from_utf8_lossy(&uid.stdout).trim(),
            "0",
            "the disk-full test mounts a size-limited tmpfs, which needs root (scripts/test.sh and CI run as root)"
        );
        let dir = tempfile::Builder::new().prefix("geosector-small-disk-").tempdir_in("/var/tmp").unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_mib}m"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("mount");
        assert!(status.success(), "mount -t tmpfs failed: this container cannot mount (needs CAP_SYS_ADMIN)");
        give_to_postgres(dir.path());
        Tmpfs { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Resizes it (a tmpfs can be resized while in use, not below what it holds).
    fn resize(&self, bytes: u64) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,size={}k", bytes.div_ceil(1024))])
            .arg(self.path())
            .status()
            .expect("mount -o remount");
        assert!(status.success(), "remount");
    }

    /// Bytes in use.
    fn used(&self) -> u64 {
        let out = Command::new("df").args(["-B1", "--output=used"]).arg(self.path()).output().expect("df");
        String::from_utf8_lossy(&out.stdout).lines().nth(1).and_then(|l| l.trim().parse().ok()).expect("df output")
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

fn psql(cluster: &Cluster, database: &str, sql: &str) {
    let out = Command::new("/usr/lib/postgresql/15/bin/psql")
        .args(["-h", "127.0.0.1", "-p", &cluster.port.to_string(), "-U", "postgres", "-d", database, "-v"])
        .arg("ON_ERROR_STOP=1")
        .args(["-qc", sql])
        .output()
        .expect("psql");
    assert!(out.status.success(), "{sql}: {}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_during_an_import_is_a_clear_error_and_nothing_is_stored() {
    // Declared first, dropped last: the cluster stops before its tablespace is unmounted.
    let disk = Tmpfs::mount(1024);
    let cluster = Cluster::start(None);
    let location: PathBuf = disk.path().join("tablespace");
    std::fs::create_dir(&location).unwrap();
    give_to_postgres(&location);
    psql(&cluster, "postgres", &format!("CREATE TABLESPACE small LOCATION '{}'", location.display()));
    psql(&cluster, "postgres", "DROP DATABASE geosector");
    psql(&cluster, "postgres", "CREATE DATABASE geosector TABLESPACE small");
    let tmp = tempfile::tempdir().unwrap();
    let big = tmp.path().join("big.geojsonl");
    let run = geosector(None, &["sample-data", "--parcels", "20000", "--seed", "9", "--out", big.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let big = big.to_str().unwrap();
    for args in [&["migrate"][..], &["import", "land.parcels", "data-samples/land/parcels_soc_son.fgb"]] {
        let run = geosector(Some(&cluster.url), args);
        assert_eq!(run.code, Some(0), "{}", run.text());
    }
    let client = crate::support::TestDb::client_for(&cluster.url).await;
    let checksum = "SELECT count(*), coalesce(sum(hashtext(p::text)::bigint), 0)::bigint FROM land.parcels p";
    let before = client.query_one(checksum, &[]).await.unwrap();
    let before: (i64, i64) = (before.get(0), before.get(1));

    // 4 MiB of room: 20,000 parcels (about 30 MiB with their indexes) do not fit.
    disk.resize(disk.used() + 4 * 1024 * 1024);
    for replace in [false, true] {
        let mut args = vec!["import", "land.parcels", big, "--crs", "EPSG:5897"];
        if replace {
            args.push("--replace");
        }
        let run = geosector(Some(&cluster.url), &args);
        eprintln!("{}", run.text());
        assert_ne!(run.code, Some(0), "the import cannot succeed on a full disk: {}", run.text());
        assert!(run.stderr.contains("the database's disk is full, nothing was stored"), "{}", run.text());
        assert!(run.stderr.contains("free space on the database server"), "{}", run.text());
        assert!(!run.stderr.contains("panicked"), "{}", run.text());
        let after = client.query_one(checksum, &[]).await.unwrap();
        assert_eq!(before, (after.get(0), after.get(1)), "nothing was stored (replace: {replace})");
        let load_tables: i64 = client
            .query_one("SELECT count(*) FROM pg_class WHERE relname LIKE '%\\_load\\_%' AND relkind = 'r'", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(load_tables, 0, "nothing is left behind (replace: {replace})");
    }

    // Space freed: the same import succeeds.
    disk.resize(1024 * 1024 * 1024);
    let run = geosector(Some(&cluster.url), &["import", "land.parcels", big, "--crs", "EPSG:5897"]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let count: i64 = client.query_one("SELECT count(*) FROM land.parcels", &[]).await.unwrap().get(0);
    assert_eq!(count, before.0 + 20_000);
    drop(client);
    drop(cluster);
}
