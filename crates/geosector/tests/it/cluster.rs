//! A PostgreSQL cluster of a test's own (fault tests stop, start and starve it): Debian's
//! PostgreSQL 15 binaries, as `scripts/dev-db.sh` uses them, with PostGIS from the same
//! installation; a data directory under a temporary folder (or a given one, e.g. on a small
//! filesystem), loopback only, stopped and removed when dropped. Run as root, the server runs as
//! the `postgres` OS user, as `dev-db.sh` does.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::missing;

/// Debian's PostgreSQL binaries (`PG_BIN` overrides, as in `scripts/dev-db.sh`).
fn pg_bin(tool: &str) -> PathBuf {
    let dir = std::env::var("PG_BIN").unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".into());
    let path = Path::new(&dir).join(tool);
    if !path.exists() {
        missing(&path.display().to_string());
    }
    path
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A command of the PostgreSQL installation, run as `postgres` when the test runs as root.
fn pg_command(tool: &str) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(pg_bin(tool));
        c
    } else {
        Command::new(pg_bin(tool))
    }
}

fn run(mut command: Command, what: &str) -> String {
    let out = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{what} failed: {text}");
    text
}

/// Gives a directory to the `postgres` OS user (when the test runs as root).
pub fn give_to_postgres(dir: &Path) {
    if is_root() {
        run(
            {
                let mut c = Command::new("chown");
                c.args(["-R", "postgres:postgres"]).arg(dir);
                c
            },
            "chown",
        );
    }
}

/// A running cluster of the test's own, with one database `geosector`.
pub struct Cluster {
    /// The temporary folder holding it (removed when dropped).
    _root: tempfile::TempDir,
    /// The data directory.
    pub data: PathBuf,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// The URL of its `geosector` database.
    pub url: String,
}

impl Cluster {
    /// Creates and starts a cluster whose data directory is `data` (created), or one under its
    /// own temporary folder.
    pub fn start(data: Option<PathBuf>) -> Cluster {
        // /var/tmp: the `postgres` user can traverse it (a test's own temp dir may be private).
        let root = tempfile::Builder::new().prefix("geosector-fault-pg-").tempdir_in("/var/tmp").expect("temp dir");
        let data = data.unwrap_or_else(|| root.path().join("data"));
        std::fs::create_dir_all(&data).expect("data directory");
        give_to_postgres(root.path());
        give_to_postgres(&data);
        let mut initdb = pg_command("initdb");
        initdb.arg("-D").arg(&data).args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]);
        run(initdb, "initdb");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let cluster =
            Cluster { url: format!("postgresql://postgres@127.0.0.1:{port}/geosector"), _root: root, data, port };
        cluster.pg_ctl_start();
        let mut psql = pg_command("psql");
        psql.args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", "postgres", "-d", "postgres", "-qc"])
            .arg("CREATE DATABASE geosector");
        run(psql, "create database");
        cluster
    }

    /// `pg_ctl start`, waiting until it accepts connections.
    pub fn pg_ctl_start(&self) {
        let mut c = pg_command("pg_ctl");
        c.arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(self.data.join("server.log"))
            .args(["-w", "-t", "60", "-o"])
            .arg(format!(
                "-c listen_addresses=127.0.0.1 -p {} -c unix_socket_directories='' -c fsync=off \
                 -c full_page_writes=off -c shared_buffers=64MB -c max_connections=60",
                self.port
            ))
            .arg("start");
        run(c, "pg_ctl start");
    }

    /// `pg_ctl stop -m fast`, waiting until it has stopped.
    pub fn pg_ctl_stop(&self) {
        let mut c = pg_command("pg_ctl");
        c.arg("-D").arg(&self.data).args(["-m", "fast", "-w", "-t", "60", "stop"]);
        run(c, "pg_ctl stop");
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let mut c = pg_command("pg_ctl");
        c.arg("-D").arg(&self.data).args(["-m", "immediate", "-w", "stop"]);
        let _ = c.output();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}
