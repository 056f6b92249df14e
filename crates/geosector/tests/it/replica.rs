//! Read replicas, balanced instances and the server's least-privilege role (docs/deployment.md).
//!
//! - A real PostgreSQL 15 primary and streaming standby (`scripts/replica.sh pair`, on loopback):
//!   imports on the primary, reads through a server configured with the standby; every page and
//!   tile read right after an import returns holds the import, also while the standby's replay
//!   is paused (reads go to the primary) and after it stops (reads fall back, `/health` says so).
//! - Two instances behind haproxy, each with its own tile cache: a change drops the tile in both.
//! - `serve` as a login of `geosector_server` (migration 0030): items, tiles and an edit work;
//!   DDL, TRUNCATE, key minting, audit rewriting and the migrations table are refused.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use geozero::mvt::{Message, Tile};
use serde_json::{json, Value};

use crate::ats::load_samples;
use crate::support::{encode, geosector, http_get, repo, tile_path, Response, Server, TestDb};

const PARCELS: &str = "data-samples/land/parcels_soc_son.fgb";

/// A primary and its streaming standby in a temporary directory, stopped when dropped.
struct Pair {
    dir: tempfile::TempDir,
    primary: String,
    replica: String,
}

impl Pair {
    fn start() -> Pair {
        let dir = tempfile::Builder::new().prefix("geosector-replica-").tempdir().expect("temporary directory");
        // The PostgreSQL servers run as the `postgres` OS user when the suite runs as root.
        allow_traversal(dir.path());
        let out = Command::new(repo().join("scripts/replica.sh"))
            .arg("pair")
            .arg(dir.path().join("pg"))
            .stderr(Stdio::inherit())
            .output()
            .expect("run scripts/replica.sh");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "scripts/replica.sh pair failed: {text}");
        let url = |key: &str| {
            text.lines().find_map(|l| l.strip_prefix(key)).unwrap_or_else(|| panic!("no {key} in {text}")).to_owned()
        };
        Pair { primary: url("primary="), replica: url("replica="), dir }
    }

    /// Stops the standby (a replica going down).
    fn stop_replica(&self) {
        let data = self.dir.path().join("pg/replica");
        let mut command = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--", "/usr/lib/postgresql/15/bin/pg_ctl"]);
            c
        } else {
            Command::new("/usr/lib/postgresql/15/bin/pg_ctl")
        };
        let status = command.arg("-D").arg(&data).args(["-m", "immediate", "-w", "stop"]).status().expect("pg_ctl");
        assert!(status.success(), "the standby did not stop");
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        let _ = Command::new(repo().join("scripts/replica.sh"))
            .arg("stop-pair")
            .arg(self.dir.path().join("pg"))
            .stderr(Stdio::null())
            .status();
    }
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn allow_traversal(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// The sum of a metric's samples in the server's `/metrics` whose line starts with `prefix`
/// (0 when there is none).
fn metric(server: &Server, prefix: &str) -> f64 {
    server
        .get("/metrics")
        .text()
        .lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()))
        .sum()
}

/// Reads answered by the replicas.
fn replica_reads(server: &Server) -> f64 {
    metric(server, "geosector_replica_reads_total{")
}

/// Every string value of a tile's first layer.
fn tile_strings(response: &Response) -> Vec<String> {
    assert_eq!(response.status, 200, "{}", response.text());
    let tile = Tile::decode(response.body.as_slice()).expect("an MVT tile");
    tile.layers.first().map(|l| l.values.iter().filter_map(|v| v.string_value.clone()).collect()).unwrap_or_default()
}

/// A point inside the first parcel and the parcel's geometry (GeoJSON), read on `url`.
async fn first_parcel(url: &str) -> (f64, f64, String) {
    let client = TestDb::client_for(url).await;
    let row = client
        .query_one(
            "SELECT ST_X(p), ST_Y(p), ST_AsGeoJSON(g) FROM (SELECT ST_PointOnSurface(geom) p, geom g FROM land.parcels ORDER BY id LIMIT 1) s",
            &[],
        )
        .await
        .expect("a parcel");
    (row.get(0), row.get(1), row.get(2))
}

/// Imports one parcel numbered `number` over `geometry` into the database of `url`; returns once
/// the import's commit is acknowledged.
fn import_parcel(url: &str, dir: &std::path::Path, number: &str, geometry: &str) {
    let file = dir.join(format!("{number}.geojson"));
    std::fs::write(
        &file,
        format!(r#"{{"type":"Feature","properties":{{"maXa":"00376","soHieuToBanDo":77,"soThuTuThua":"{number}","maMucDichSuDung":"ONT"}},"geometry":{geometry}}}"#),
    )
    .expect("write the change");
    let run = geosector(Some(url), &["import", "land.parcels", file.to_str().expect("path")]);
    assert_eq!(run.code, Some(0), "{}", run.text());
}

/// The number of parcels numbered `number` on an items page (a property filter).
fn parcels_numbered(server: &Server, number: &str) -> usize {
    let page = server.get(&format!("/collections/land.parcels/items?parcel_number={}&limit=50", encode(number)));
    assert_eq!(page.status, 200, "{}", page.text());
    page.json()["features"].as_array().expect("features").len()
}

/// An API key of the role `editor` (see [`POLICY`]), made on the database of `url`.
fn editor_key(url: &str) -> String {
    let created = geosector(Some(url), &["keys", "create", "--name", "editor", "--role", "editor", "--days", "1"]);
    assert_eq!(created.code, Some(0), "{}", created.text());
    created.stdout.lines().find(|l| l.starts_with("gsk_")).expect("the key is printed").trim().to_owned()
}

/// Sets the address of the first parcel through the server and reads it back at once: the
/// edit's response names the new version and the very next read carries it (read-your-writes).
fn edit_and_read_back(server: &Server, key: &str, address: &str) {
    let page = server.get("/collections/land.parcels/items?limit=1");
    let id = page.json()["features"][0]["id"].as_i64().expect("an id");
    let patch = serde_json::to_vec(&json!({ "properties": { "address": address } })).expect("json");
    let edited = server.request(
        "PATCH",
        &format!("/collections/land.parcels/items/{id}"),
        &[("X-API-Key", key), ("Content-Type", "application/merge-patch+json")],
        Some(&patch),
    );
    assert_eq!(edited.status, 200, "{}", edited.text());
    let done = edited.json();
    assert_eq!(done["id"], id, "the edit's own response: {done}");
    assert!(done["version"].as_i64() > done["previousVersion"].as_i64(), "a new version: {done}");
    let read: Value = server.get(&format!("/collections/land.parcels/items/{id}")).json();
    assert_eq!(read["properties"]["address"], address, "the read right after the edit");
}

#[tokio::test]
async fn reads_on_a_streaming_replica_are_never_stale() {
    let pair = Pair::start();
    let migrated = geosector(Some(&pair.primary), &["migrate"]);
    assert_eq!(migrated.code, Some(0), "{}", migrated.text());
    let loaded = geosector(Some(&pair.primary), &["import", "land.parcels", PARCELS]);
    assert_eq!(loaded.code, Some(0), "{}", loaded.text());
    let key = editor_key(&pair.primary);
    let tmp = tempfile::tempdir().expect("temporary directory");
    let policy = tmp.path().join("policy.toml");
    std::fs::write(&policy, POLICY).expect("write the policy");
    let server = Server::start_url(
        &pair.primary,
        &["--replica-url", &pair.replica, "--access-file", policy.to_str().expect("path")],
        &[],
    );

    let health = server.get("/health");
    assert_eq!(health.status, 200, "{}", health.text());
    assert_eq!(health.json()["replicas"][0]["status"], "ok", "{}", health.text());

    // Once the standby has replayed the load, reads go to it.
    let deadline = Instant::now() + Duration::from_secs(20);
    while replica_reads(&server) < 1.0 {
        assert!(Instant::now() < deadline, "no read went to the replica: {}", server.get("/metrics").text());
        assert_eq!(server.get("/collections/land.parcels/items?limit=1").status, 200);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let (lon, lat, geometry) = first_parcel(&pair.primary).await;
    let tile = tile_path(18, lon, lat);
    assert!(!tile_strings(&server.get(&tile)).contains(&"r0".to_owned()));
    assert_eq!(server.get(&tile).header("x-tile-cache"), Some("hit"));

    // Right after each import returns, its parcel is on the page and in the (cached) tile.
    let before = replica_reads(&server);
    for round in 0..6 {
        let number = format!("r{round}");
        import_parcel(&pair.primary, tmp.path(), &number, &geometry);
        assert_eq!(parcels_numbered(&server, &number), 1, "round {round}: the page is stale");
        assert!(tile_strings(&server.get(&tile)).contains(&number), "round {round}: the tile is stale");
    }
    // An edit through the server: its own response and the next read hold it.
    edit_and_read_back(&server, &key, "sửa qua máy chủ");

    // Reads keep reaching the replica when it has caught up.
    let deadline = Instant::now() + Duration::from_secs(20);
    while replica_reads(&server) <= before {
        assert!(Instant::now() < deadline, "the replica took no read after the imports");
        assert_eq!(parcels_numbered(&server, "r5"), 1);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Replay paused: the standby lags for sure, and reads go to the primary, still exact.
    let standby = TestDb::client_for(&pair.replica).await;
    standby.batch_execute("SELECT pg_wal_replay_pause()").await.expect("pause replay");
    let lagging = metric(&server, "geosector_primary_reads_total{reason=\"lagging\"}");
    import_parcel(&pair.primary, tmp.path(), "paused", &geometry);
    for _ in 0..3 {
        assert_eq!(parcels_numbered(&server, "paused"), 1, "a read while the replica lags");
        assert!(tile_strings(&server.get(&tile)).contains(&"paused".to_owned()));
    }
    edit_and_read_back(&server, &key, "sửa khi bản sao dừng phát lại");
    let replica_sees: i64 = standby
        .query_one("SELECT count(*) FROM land.parcels WHERE parcel_number = 'paused'", &[])
        .await
        .expect("count on the standby")
        .get(0);
    assert_eq!(replica_sees, 0, "the standby really lags while paused");
    assert!(
        metric(&server, "geosector_primary_reads_total{reason=\"lagging\"}") > lagging,
        "the lagging replica was skipped: {}",
        server.get("/metrics").text()
    );
    let behind = server.get("/health").json();
    assert_eq!(behind["status"], "ok");

    // Resumed: it catches up and takes reads again.
    standby.batch_execute("SELECT pg_wal_replay_resume()").await.expect("resume replay");
    let resumed = replica_reads(&server);
    let deadline = Instant::now() + Duration::from_secs(20);
    while replica_reads(&server) <= resumed {
        assert!(Instant::now() < deadline, "the replica took no read after resuming");
        assert_eq!(parcels_numbered(&server, "paused"), 1);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(standby);

    // The standby stops: reads fall back to the primary, and /health names it.
    pair.stop_replica();
    import_parcel(&pair.primary, tmp.path(), "down", &geometry);
    assert_eq!(parcels_numbered(&server, "down"), 1, "a read with the replica down");
    assert!(tile_strings(&server.get(&tile)).contains(&"down".to_owned()));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let health = server.get("/health");
        assert_eq!(health.status, 200, "the primary still serves: {}", health.text());
        if health.json()["replicas"][0]["status"] == "unavailable" {
            assert!(health.json()["replicas"][0]["problem"].as_str().is_some_and(|p| !p.is_empty()));
            break;
        }
        assert!(Instant::now() < deadline, "/health does not say the replica is down: {}", health.text());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(metric(&server, "geosector_replica_up{") < 0.5, "the replica is reported down in /metrics");
}

/// A free TCP port on loopback.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// haproxy in the foreground with a configuration, killed when dropped.
struct Haproxy {
    child: Child,
    base: String,
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The balancer configuration of docs/deployment.md, for two instances.
fn haproxy_config(port: u16, a: &str, b: &str) -> String {
    format!(
        "global\n    maxconn 256\n\
         defaults\n    mode http\n    timeout connect 2s\n    timeout client 30s\n    timeout server 30s\n\
         frontend geosector\n    bind 127.0.0.1:{port}\n    default_backend geosector\n\
         backend geosector\n    balance roundrobin\n    option httpchk GET /health\n    http-check expect status 200\n\
         \x20   http-response set-header X-Served-By %[srv_name]\n\
         \x20   server a {a} check inter 1s\n    server b {b} check inter 1s\n"
    )
}

fn start_haproxy(dir: &std::path::Path, a: &Server, b: &Server) -> Haproxy {
    let haproxy = ["/usr/sbin/haproxy", "/usr/bin/haproxy"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .unwrap_or_else(|| crate::support::missing("haproxy (Debian package haproxy)"));
    let port = free_port();
    let host = |s: &Server| s.base.trim_start_matches("http://").to_owned();
    let config = dir.join("haproxy.cfg");
    std::fs::write(&config, haproxy_config(port, &host(a), &host(b))).expect("write haproxy.cfg");
    let check = Command::new(haproxy).arg("-c").arg("-f").arg(&config).output().expect("haproxy -c");
    assert!(check.status.success(), "haproxy.cfg: {}", String::from_utf8_lossy(&check.stderr));
    let child = Command::new(haproxy).arg("-db").arg("-f").arg(&config).stdout(Stdio::null()).spawn().expect("haproxy");
    let balancer = Haproxy { child, base: format!("http://127.0.0.1:{port}") };
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "haproxy does not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    balancer
}

/// (instance, X-Tile-Cache, the tile's strings) of a tile fetched through the balancer.
fn through(balancer: &Haproxy, path: &str) -> (String, String, Vec<String>) {
    let response = http_get(&format!("{}{path}", balancer.base), &[]);
    let served_by = response.header("x-served-by").unwrap_or_default().to_owned();
    let cache = response.header("x-tile-cache").unwrap_or_default().to_owned();
    (served_by, cache, tile_strings(&response))
}

#[tokio::test]
async fn two_instances_behind_haproxy_both_drop_a_changed_tile() {
    let Some(db) = TestDb::migrated().await else { return };
    load_samples(&db);
    let (a, b) = (Server::start(&db, &[]), Server::start(&db, &[]));
    let tmp = tempfile::tempdir().expect("temporary directory");
    let balancer = start_haproxy(tmp.path(), &a, &b);
    let (lon, lat, geometry) = first_parcel(&db.url).await;
    let tile = tile_path(18, lon, lat);

    // Round robin: each instance renders the tile once, then serves it from its own cache.
    let mut first: Vec<(String, String)> = (0..4).map(|_| through(&balancer, &tile)).map(|(s, c, _)| (s, c)).collect();
    first.sort();
    assert_eq!(
        first,
        [("a", "hit"), ("a", "miss"), ("b", "hit"), ("b", "miss")].map(|(s, c)| (s.to_owned(), c.to_owned())),
        "each instance has its own cache"
    );

    // A change: both instances hear it on the primary's change feed and drop the tile.
    import_parcel(&db.url, tmp.path(), "balanced", &geometry);
    let client = db.client().await;
    a.wait_for_version(&client, "land.parcels").await;
    b.wait_for_version(&client, "land.parcels").await;
    let mut after = Vec::new();
    for _ in 0..4 {
        let (served_by, cache, strings) = through(&balancer, &tile);
        assert!(strings.contains(&"balanced".to_owned()), "{served_by} served a stale tile");
        after.push((served_by, cache));
    }
    after.sort();
    assert_eq!(
        after,
        [("a", "hit"), ("a", "miss"), ("b", "hit"), ("b", "miss")].map(|(s, c)| (s.to_owned(), c.to_owned())),
        "both caches dropped the changed tile and cached the new one"
    );
}

/// Anonymous callers read; `editor` writes land.
const POLICY: &str = r#"
[[grant]]
role = "anonymous"
collections = ["*"]
operations = ["read_items", "read_tiles"]

[[grant]]
role = "editor"
collections = ["land.*"]
operations = ["read_items", "read_tiles", "write"]
"#;

/// The SQLSTATE of a statement run as the server's role (`None`: it succeeded).
async fn refused(client: &tokio_postgres::Client, sql: &str) -> Option<String> {
    client.batch_execute(sql).await.err().and_then(|e| e.code().map(|c| c.code().to_owned()))
}

#[tokio::test]
async fn serve_works_as_the_least_privileged_role_and_that_role_cannot_do_more() {
    let Some(db) = TestDb::migrated().await else { return };
    let loaded = db.geosector(&["import", "land.parcels", PARCELS]);
    assert_eq!(loaded.code, Some(0), "{}", loaded.text());
    let key = editor_key(&db.url);
    let tmp = tempfile::tempdir().expect("temporary directory");
    let policy = tmp.path().join("policy.toml");
    std::fs::write(&policy, POLICY).expect("write the policy");

    // A login of the group role (roles are cluster-wide: made once, reused).
    let admin = db.client().await;
    admin
        .batch_execute(
            "DO $$ BEGIN
               IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'geosector_test_web') THEN
                 CREATE ROLE geosector_test_web LOGIN IN ROLE geosector_server;
               END IF;
             EXCEPTION WHEN duplicate_object THEN NULL;
             END $$",
        )
        .await
        .expect("create the login");
    let as_role = db.url.replacen("://postgres@", "://geosector_test_web@", 1);
    assert_ne!(as_role, db.url, "the test database URL names the postgres user");
    let server = Server::start_url(&as_role, &["--access-file", policy.to_str().expect("path")], &[]);

    // Serving: pages, a tile, the catalogue, and an edit with its history.
    assert_eq!(server.get("/health").status, 200);
    let page = server.get("/collections/land.parcels/items?limit=5");
    assert_eq!(page.status, 200, "{}", page.text());
    let id = page.json()["features"][0]["id"].as_i64().expect("an id");
    let (lon, lat, _) = first_parcel(&db.url).await;
    assert_eq!(server.get(&tile_path(16, lon, lat)).status, 200);
    assert_eq!(server.get("/collections/catalogue/items").status, 200);
    let patch = serde_json::to_vec(&json!({ "properties": { "address": "sửa bởi vai trò hạn chế" } })).expect("json");
    let edited = server.request(
        "PATCH",
        &format!("/collections/land.parcels/items/{id}"),
        &[("X-API-Key", &key), ("Content-Type", "application/merge-patch+json")],
        Some(&patch),
    );
    assert_eq!(edited.status, 200, "{}", edited.text());
    let stored: String = admin
        .query_one("SELECT address FROM land.parcels WHERE id = $1", &[&id])
        .await
        .expect("the edited parcel")
        .get(0);
    assert_eq!(stored, "sửa bởi vai trò hạn chế");
    let read: Value = server.get(&format!("/collections/land.parcels/items/{id}")).json();
    assert_eq!(read["properties"]["address"], "sửa bởi vai trò hạn chế");

    // The role itself: not a superuser, no DDL, no TRUNCATE, no key minting, the audit log
    // append-only, personal data read-only, the migrations table closed.
    let role = TestDb::client_for(&as_role).await;
    let superuser: bool =
        role.query_one("SELECT rolsuper FROM pg_roles WHERE rolname = current_user", &[]).await.expect("role").get(0);
    assert!(!superuser);
    let denied = Some("42501".to_owned());
    for sql in [
        "DROP TABLE land.parcels",
        "ALTER TABLE land.parcels ADD COLUMN extra int",
        "TRUNCATE land.parcels",
        "CREATE TABLE meta.extra (i int)",
        "CREATE TABLE public.extra (i int)",
        "DROP SCHEMA land CASCADE",
        "SELECT * FROM public.schema_migrations",
        "INSERT INTO meta.api_keys (id, secret_hash, name, expires_at) VALUES ('abcdefgh', 'x', 'x', now() + interval '1 day')",
        "UPDATE meta.api_keys SET revoked_at = NULL",
        "UPDATE meta.audit SET actor = 'someone else'",
        "DELETE FROM meta.audit",
        "UPDATE land_restricted.parties SET full_name = full_name",
        "DELETE FROM reference.admin_units",
        "CREATE ROLE intruder",
    ] {
        assert_eq!(refused(&role, sql).await, denied, "{sql} must be refused to the server's role");
    }
    // What it needs: reading, writing rows, appending to and pruning the audit log by retention.
    assert_eq!(refused(&role, "SELECT count(*) FROM land_restricted.parties").await, None);
    assert_eq!(refused(&role, "SELECT meta.prune_audit(interval '3650 days')").await, None);
    assert_eq!(refused(&role, "SELECT id, secret_hash FROM meta.api_keys").await, None, "keys are verified");
}
