//! Test support: a fresh database per test on the PostGIS named by `DATABASE_URL` (started by
//! `scripts/test.sh` through `scripts/dev-db.sh`), and the `geosector` binary as a black box.
//!
//! Nothing is skipped: without `DATABASE_URL`, a client, a package or a fixture a test needs, the
//! test fails and says what `scripts/test.sh` would have installed. Fixtures live in the
//! repository (`tests/data`, `data-samples`), each folder with its origin and licence.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicU32, Ordering};

use tokio_postgres::{Client, NoTls};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repository root")
}

/// The repository's third-party test material, `tests/data` (see its README for origins and
/// licences).
pub fn testdata() -> PathBuf {
    let dir = repo().join("tests/data");
    if !dir.is_dir() {
        missing(&dir.display().to_string());
    }
    dir
}

/// Fails the test for something it needs that is not there: tests are never skipped.
pub fn missing(what: &str) -> ! {
    panic!("{what} is missing: scripts/test.sh installs and starts everything the suite needs (a test never skips)")
}

fn admin_url() -> Option<String> {
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => missing("DATABASE_URL (a PostGIS to test against)"),
    }
}

/// A URL for another database on the same server.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let prefix = base.rsplit_once('/').map_or(base, |(p, _)| p);
    match query {
        Some(q) => format!("{prefix}/{name}?{q}"),
        None => format!("{prefix}/{name}"),
    }
}

async fn connect(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.expect("connect to test database");
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

/// A throwaway database, dropped at the end of the test.
pub struct TestDb {
    /// Its URL.
    pub url: String,
    name: String,
    admin: String,
}

impl TestDb {
    /// An empty database (no PostGIS, no migrations).
    pub async fn empty() -> Option<TestDb> {
        let admin = admin_url()?;
        Some(TestDb::create(&admin, None).await)
    }

    /// A database with every migration applied (cloned from a template built once per
    /// migration set).
    pub async fn migrated() -> Option<TestDb> {
        let admin = admin_url()?;
        let template = ensure_template(&admin).await;
        Some(TestDb::create(&admin, Some(&template)).await)
    }

    async fn create(admin: &str, template: Option<&str>) -> TestDb {
        let name = format!("t_{}_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst), chrono_stamp());
        let client = connect(admin).await;
        let sql = match template {
            Some(t) => format!("CREATE DATABASE \"{name}\" TEMPLATE \"{t}\""),
            None => format!("CREATE DATABASE \"{name}\""),
        };
        // Another test may still be disconnecting from the template: retry briefly.
        let mut tries = 0;
        loop {
            match client.batch_execute(&sql).await {
                Ok(()) => break,
                Err(e) if tries < 100 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) => panic!("cannot create the test database: {e}"),
            }
        }
        TestDb { url: with_database(admin, &name), name, admin: admin.to_owned() }
    }

    /// A client on this database.
    pub async fn client(&self) -> Client {
        connect(&self.url).await
    }

    /// A client on the database of a URL.
    pub async fn client_for(url: &str) -> Client {
        connect(url).await
    }

    /// `SELECT count(*)` of a table.
    pub async fn count(&self, table: &str) -> i64 {
        self.client().await.query_one(&format!("SELECT count(*) FROM {table}"), &[]).await.expect("count").get(0)
    }

    /// Load tables of parcel partition swaps (`land.parcels_load_<pid>`) in the database: none
    /// once an import has ended, whatever its outcome.
    pub async fn parcel_load_tables(&self) -> i64 {
        self.count("pg_class WHERE relname LIKE 'parcels_load_%' AND relkind = 'r'").await
    }

    /// Starts the `geosector` binary against this database without waiting for it (its output
    /// discarded), for tests that kill it.
    pub fn spawn<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> std::process::Child {
        std::process::Command::new(env!("CARGO_BIN_EXE_geosector"))
            .args(args)
            .current_dir(repo())
            .env("DATABASE_URL", &self.url)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start geosector")
    }

    /// Runs the `geosector` binary against this database.
    pub fn geosector(&self, args: &[&str]) -> Run {
        geosector(Some(&self.url), args)
    }

    /// Runs the `geosector` binary against this database with extra environment variables.
    pub fn geosector_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        geosector_with(Some(&self.url), args, env)
    }
}

fn chrono_stamp() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() % 1_000_000).unwrap_or(0)
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // Drop from a separate thread with its own runtime: Drop cannot await.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async {
                let client = connect(&admin).await;
                let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
            });
        })
        .join();
    }
}

/// Builds (once, under an advisory lock) a migrated template database named after the
/// migrations' checksums, so a change to a migration builds a new one.
async fn ensure_template(admin: &str) -> String {
    let migrations = geosector_store::Migrations::embedded().expect("embedded migrations");
    let key: String = migrations.iter().map(|m| m.checksum()).collect();
    let name = format!("geosector_tpl_{}", &sha_hex(&key)[..12]);
    let client = connect(admin).await;
    client.execute("SELECT pg_advisory_lock(727274)", &[]).await.expect("lock");
    let exists =
        client.query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name]).await.expect("query").is_some();
    if !exists {
        let building = format!("{name}_building");
        client.batch_execute(&format!("DROP DATABASE IF EXISTS \"{building}\" WITH (FORCE)")).await.expect("drop");
        client.batch_execute(&format!("CREATE DATABASE \"{building}\"")).await.expect("create template");
        {
            let mut template = connect(&with_database(admin, &building)).await;
            migrations.apply(&mut template).await.expect("migrate template");
        }
        // Rename only once every connection to it is gone.
        let mut tries = 0;
        while client.batch_execute(&format!("ALTER DATABASE \"{building}\" RENAME TO \"{name}\"")).await.is_err() {
            tries += 1;
            assert!(tries < 100, "cannot rename the template database");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    client.execute("SELECT pg_advisory_unlock(727274)", &[]).await.expect("unlock");
    name
}

fn sha_hex(text: &str) -> String {
    // A tiny FNV-1a, enough to name a template (not security relevant).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// What a run of the binary produced.
pub struct Run {
    /// Exit code (`None` if killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Both streams, for messages in assertions.
    pub fn text(&self) -> String {
        format!("exit {:?}\n--- stdout\n{}--- stderr\n{}", self.code, self.stdout, self.stderr)
    }
}

/// Runs the `geosector` binary from the repository root.
pub fn geosector(url: Option<&str>, args: &[&str]) -> Run {
    geosector_with(url, args, &[])
}

/// Runs the `geosector` binary from the repository root with extra environment variables.
pub fn geosector_with(url: Option<&str>, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_geosector"));
    command.args(args).current_dir(repo()).env_remove("DATABASE_URL").env("RUST_LOG", "warn");
    command.envs(env.iter().copied());
    if let Some(url) = url {
        command.env("DATABASE_URL", url);
    }
    let Output { status, stdout, stderr } = command.output().expect("run geosector");
    Run {
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// A `geosector serve` process on a free port, killed when dropped.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    child: std::process::Child,
}

impl Server {
    /// Starts the server on this database and waits until it listens.
    pub fn start(db: &TestDb, extra: &[&str]) -> Server {
        Server::start_env(db, extra, &[])
    }

    /// Starts the server with extra environment variables (`GEOSECTOR_TEST_LOG` in the test's
    /// environment sets the server's `RUST_LOG`, `warn` by default).
    pub fn start_env(db: &TestDb, extra: &[&str], env: &[(&str, &str)]) -> Server {
        Server::start_on(&db.url, extra, env, None)
    }

    /// Starts the server on the database of a URL (another cluster, or another role).
    pub fn start_url(url: &str, extra: &[&str], env: &[(&str, &str)]) -> Server {
        Server::start_on(url, extra, env, None)
    }

    /// Starts the server on a database URL; its log (standard error) goes to `log` when given.
    pub fn start_on(url: &str, extra: &[&str], env: &[(&str, &str)], log: Option<&Path>) -> Server {
        use std::io::BufRead;
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_geosector"));
        let stderr = match log {
            Some(path) => std::process::Stdio::from(std::fs::File::create(path).expect("server log file")),
            None => std::process::Stdio::inherit(),
        };
        command
            .envs(env.iter().copied())
            .args(["serve", "--bind", "127.0.0.1:0", "--workers", "2"])
            .args(if extra.contains(&"--pool-size") { &[][..] } else { &["--pool-size", "4"][..] })
            .args(extra)
            .current_dir(repo())
            .env("DATABASE_URL", url)
            .env("RUST_LOG", std::env::var("GEOSECTOR_TEST_LOG").unwrap_or_else(|_| "warn".into()))
            .stdout(std::process::Stdio::piped())
            .stderr(stderr);
        let mut child = command.spawn().expect("start geosector serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        std::io::BufReader::new(stdout).read_line(&mut line).expect("read the listening line");
        let base = line
            .trim()
            .strip_prefix("geosector listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_owned();
        Server { base, child }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status, if it has exited.
    pub fn try_wait(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().expect("wait")
    }

    /// Waits (at most 5 s) until the server's change feed has heard of the table's current data
    /// version, as PostgreSQL pushes it at commit: after that, every request sees the change.
    pub async fn wait_for_version(&self, client: &Client, table: &str) {
        let (schema, name) = table.split_once('.').expect("schema.table");
        let version: i64 = client
            .query_one(
                "SELECT version FROM meta.table_versions WHERE schema_name = $1 AND table_name = $2",
                &[&schema, &name],
            )
            .await
            .expect("version")
            .get(0);
        let line = format!("geosector_data_version{{table=\"{table}\"}} ");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let metrics = self.get("/metrics").text();
            let seen = metrics.lines().find_map(|l| l.strip_prefix(&line)).and_then(|v| v.trim().parse::<i64>().ok());
            if seen.is_some_and(|seen| seen >= version) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the change feed never reported {table} version {version}: {seen:?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// GET a path (or absolute URL) with optional headers.
    pub fn get(&self, path: &str) -> Response {
        self.get_with(path, &[])
    }

    /// GET with headers.
    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Response {
        self.request("GET", path, headers, None)
    }

    /// A request of any method, with headers and an optional body.
    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Response {
        let url = if path.starts_with("http") { path.to_owned() } else { format!("{}{path}", self.base) };
        http_request(method, &url, headers, body)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP response.
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// Body (de-chunked).
    pub body: Vec<u8>,
}

impl Response {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The body as JSON (panics with the body when it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Percent-encodes a query component (RFC 3986 unreserved characters stay).
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A minimal HTTP/1.1 GET over TCP (enough for loopback tests, no extra dependency).
pub fn http_get(url: &str, headers: &[(&str, &str)]) -> Response {
    http_request("GET", url, headers, None)
}

/// A minimal HTTP/1.1 request of any method, with an optional body.
pub fn http_request(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Response {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest.split_once('/').map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
    let mut stream = std::net::TcpStream::connect(host).expect("connect");
    stream.set_read_timeout(Some(std::time::Duration::from_secs(60))).expect("timeout");
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(body) = body {
        request.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body.unwrap_or_default());
    stream.write_all(&bytes).expect("send");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read");
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("header end");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).expect("status");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    // A response to HEAD has the headers of GET's and no body, chunked or not.
    if method != "HEAD" && headers.iter().any(|(k, v)| k == "transfer-encoding" && v.contains("chunked")) {
        let mut out = Vec::new();
        let mut at = 0;
        loop {
            let end = at + body[at..].windows(2).position(|w| w == b"\r\n").expect("chunk size");
            let size = usize::from_str_radix(String::from_utf8_lossy(&body[at..end]).trim(), 16).expect("hex size");
            if size == 0 {
                break;
            }
            out.extend_from_slice(&body[end + 2..end + 2 + size]);
            at = end + 2 + size + 2;
        }
        body = out;
    }
    Response { status, headers, body }
}

/// The parcels tile holding a lon/lat point at zoom z.
pub fn tile_path(z: u32, lon: f64, lat: f64) -> String {
    let n = f64::from(1u32 << z);
    let col = ((lon + 180.0) / 360.0 * n).floor();
    let lat = lat.to_radians();
    let row = ((1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor();
    format!("/collections/land.parcels/tiles/WebMercatorQuad/{z}/{row}/{col}")
}
