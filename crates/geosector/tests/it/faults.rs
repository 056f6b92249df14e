//! The database going away while the server runs (issue 22, faults): a TCP relay between the
//! server and PostgreSQL is cut and restored. While it is cut, tiles already in the cache are
//! still served, marked stale; anything else is a 503 with `Retry-After` and an OGC exception,
//! quickly, never a 500 or a hang; `/health` says 503. Once it is back, answers are 200 again
//! within 5 s, without a restart.
//!
//! The same with a real PostgreSQL of the test's own ([`crate::cluster`]) stopped with
//! `pg_ctl stop -m fast` under load and started again (the recovery time is printed and
//! recorded in docs/testing.md), and a pool whose connections are all held: a request that
//! cannot have one within `pool_timeout_ms` is a 503 at once, not a place in a growing queue.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::cluster::Cluster;
use crate::support::{geosector, http_get, Server, TestDb};

/// A TCP relay to PostgreSQL that can be cut (every connection closed, new ones refused) and
/// restored.
struct Relay {
    port: u16,
    up: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Relay {
    fn start(upstream: String) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let open: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (up2, open2) = (Arc::clone(&up), Arc::clone(&open));
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if !up2.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(&upstream) else { continue };
                let mut kept = open2.lock().unwrap();
                kept.push(client.try_clone().unwrap());
                kept.push(server.try_clone().unwrap());
                for (mut from, mut to) in [(client.try_clone().unwrap(), server.try_clone().unwrap()), (server, client)]
                {
                    std::thread::spawn(move || {
                        let mut buffer = [0u8; 16384];
                        while let Ok(n) = from.read(&mut buffer) {
                            if n == 0 || to.write_all(&buffer[..n]).is_err() {
                                break;
                            }
                        }
                        let _ = to.shutdown(Shutdown::Both);
                    });
                }
            }
        });
        Relay { port, up, open }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for stream in self.open.lock().unwrap().drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn cached_tiles_outlive_the_database_and_the_rest_is_503_until_it_returns() {
    let Some(db) = TestDb::migrated().await else { return };
    let load = db.geosector(&["import", "land.parcels", "data-samples/land/parcels_soc_son.fgb"]);
    assert_eq!(load.code, Some(0), "{}", load.text());
    // postgresql://user@host:port/name → the same through the relay.
    let (scheme_user, rest) = db.url.split_once('@').unwrap();
    let (host_port, name) = rest.split_once('/').unwrap();
    let relay = Relay::start(host_port.to_owned());
    let through = format!("{scheme_user}@127.0.0.1:{}/{name}", relay.port);
    let server = Server::start(&db, &["--database-url", &through]);

    let row = db
        .client()
        .await
        .query_one("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM land.parcels LIMIT 1", &[])
        .await
        .unwrap();
    let (lon, lat): (f64, f64) = (row.get(0), row.get(1));
    let tile_at = |z: u32| {
        let (x, y) = geosector_crs::web_mercator::tile_of(lon, lat, z);
        format!("/collections/land.parcels/tiles/WebMercatorQuad/{z}/{y}/{x}")
    };
    let (cached, other) = (tile_at(16), tile_at(15));
    assert_eq!(server.get(&cached).status, 200);
    let warm = server.get(&cached);
    assert_eq!(warm.header("x-tile-cache"), Some("hit"));
    // The same tile through the dataset tiles (its layer from the same cache).
    let dataset =
        format!("/tiles/{}?collections=land.parcels", cached.trim_start_matches("/collections/land.parcels/tiles/"));
    assert_eq!(server.get(&dataset).header("x-tile-cache"), Some("hit"));

    relay.cut();
    let started = Instant::now();
    // The cached tile is served throughout; it is marked stale once the server has seen the
    // database go (the change feed's connection notices within milliseconds).
    let stale = loop {
        let answer = server.get(&cached);
        assert_eq!(answer.status, 200, "{}", answer.text());
        assert_eq!(answer.body, warm.body, "the cached tile, as it was");
        if answer.header("geosector-stale").is_some() || started.elapsed() > Duration::from_secs(3) {
            break answer;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(stale.header("geosector-stale"), Some("database unavailable"));
    let combined = server.get(&dataset);
    assert_eq!(combined.status, 200, "{}", combined.text());
    assert_eq!(combined.header("geosector-stale"), Some("database unavailable"));
    for path in [other.as_str(), "/collections/land.parcels/items?limit=1", "/health"] {
        let refused = server.get(path);
        assert_eq!(refused.status, 503, "{path}: {}", refused.text());
        if path != "/health" {
            assert_eq!(refused.header("retry-after"), Some("5"), "{path}");
            assert_eq!(refused.json()["code"], "ServiceUnavailable", "{path}");
        }
    }
    assert!(started.elapsed() < Duration::from_secs(10), "answered quickly: {:?}", started.elapsed());

    relay.restore();
    let back = Instant::now();
    while server.get("/collections/land.parcels/items?limit=1").status != 200 {
        assert!(back.elapsed() < Duration::from_secs(5), "not back within 5 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("back {:?} after the database returned", back.elapsed());
    assert_eq!(server.get(&other).status, 200);
    assert_eq!(server.get(&cached).header("geosector-stale"), None);
}

/// One request of the load sent while PostgreSQL stops and starts.
#[derive(Debug)]
struct Sample {
    path: &'static str,
    started: Instant,
    took: Duration,
    /// 0: the answer broke off (a page cut when the database went away mid-stream).
    status: u16,
    retry_after: Option<String>,
    code: Option<String>,
    stale: bool,
}

/// GET without panicking on a broken answer (status 0).
fn sample(base: &str, path: &'static str) -> Sample {
    let started = Instant::now();
    let url = format!("{base}{path}");
    let answer = std::panic::catch_unwind(|| http_get(&url, &[]));
    let took = started.elapsed();
    match answer {
        Ok(r) => Sample {
            path,
            started,
            took,
            status: r.status,
            retry_after: r.header("retry-after").map(str::to_owned),
            code: serde_json::from_slice::<serde_json::Value>(&r.body)
                .ok()
                .and_then(|v| v["code"].as_str().map(str::to_owned)),
            stale: r.header("geosector-stale").is_some(),
        },
        Err(_) => Sample { path, started, took, status: 0, retry_after: None, code: None, stale: false },
    }
}

fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

/// Lines in the server's log file.
fn log_lines(path: &std::path::Path) -> usize {
    std::fs::read_to_string(path).unwrap_or_default().lines().count()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stopped_postgresql_is_503_with_retry_after_and_the_server_recovers_within_5_s_of_its_return() {
    let cluster = Cluster::start(None);
    for args in [&["migrate"][..], &["import", "land.parcels", "data-samples/land/parcels_soc_son.fgb"]] {
        let run = geosector(Some(&cluster.url), args);
        assert_eq!(run.code, Some(0), "{}", run.text());
    }
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("server.log");
    let statement_timeout = Duration::from_secs(5);
    let server = Server::start_on(&cluster.url, &["--statement-timeout-ms", "5000"], &[], Some(&log));
    let (lon, lat): (f64, f64) = {
        let client = TestDb::client_for(&cluster.url).await;
        let row = client
            .query_one(
                "SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM land.parcels LIMIT 1",
                &[],
            )
            .await
            .unwrap();
        (row.get(0), row.get(1))
    };
    let tile_at = |z: u32| {
        let (x, y) = geosector_crs::web_mercator::tile_of(lon, lat, z);
        leak(format!("/collections/land.parcels/tiles/WebMercatorQuad/{z}/{y}/{x}"))
    };
    let (cached, uncached) = (tile_at(16), tile_at(15));
    assert_eq!(server.get(cached).status, 200);
    assert_eq!(server.get(cached).header("x-tile-cache"), Some("hit"));
    let health = server.get("/health");
    assert_eq!((health.status, health.json()["database"].as_str()), (200, Some("ok")), "{}", health.text());

    // Four clients loop over items pages, a filter, the collection, an uncached and a cached tile.
    let paths: [&'static str; 5] = [
        "/collections/land.parcels/items?limit=100",
        "/collections/land.parcels/items?limit=20&filter=parcel_number%3C%3E%27x%27",
        "/collections/land.parcels",
        uncached,
        cached,
    ];
    let running = Arc::new(AtomicBool::new(true));
    let samples: Arc<Mutex<Vec<Sample>>> = Arc::default();
    let clients: Vec<_> = (0..4)
        .map(|i| {
            let (running, samples, base) = (Arc::clone(&running), Arc::clone(&samples), server.base.clone());
            std::thread::spawn(move || {
                let mut n = i;
                while running.load(Ordering::SeqCst) {
                    let s = sample(&base, paths[n % paths.len()]);
                    samples.lock().unwrap().push(s);
                    n += 1;
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(1));

    let lines_before = log_lines(&log);
    let stop_begun = Instant::now();
    cluster.pg_ctl_stop();
    let stopped = Instant::now();
    std::thread::sleep(Duration::from_millis(1500));
    let health = server.get("/health");
    assert_eq!(health.status, 503, "{}", health.text());
    assert_eq!(health.header("retry-after"), Some("5"));
    assert_eq!(health.json()["database"], "unreachable", "{}", health.text());
    assert_eq!(health.json()["change_feed"], "reconnecting", "{}", health.text());
    // A tile nobody asked for before the stop cannot be served.
    let never = server.get(tile_at(17));
    assert_eq!((never.status, never.header("retry-after")), (503, Some("5")), "{}", never.text());
    assert_eq!(never.json()["code"], "ServiceUnavailable");
    std::thread::sleep(Duration::from_millis(2500));

    let start_begun = Instant::now();
    cluster.pg_ctl_start();
    let up = Instant::now();
    let recovery = loop {
        if server.get("/collections/land.parcels/items?limit=1").status == 200 {
            break up.elapsed();
        }
        assert!(up.elapsed() < Duration::from_secs(5), "not back within 5 s of PostgreSQL's return");
        std::thread::sleep(Duration::from_millis(20));
    };
    std::thread::sleep(Duration::from_secs(1));
    running.store(false, Ordering::SeqCst);
    for c in clients {
        c.join().unwrap();
    }
    let lines_during = log_lines(&log) - lines_before;
    eprintln!(
        "recovery: 200 again {recovery:?} after pg_ctl start returned ({:?} after it began); stop took {:?}; {lines_during} log lines for the outage",
        start_begun.elapsed() - (up.elapsed() - recovery),
        stopped - stop_begun
    );
    eprintln!("--- server log of the outage\n{}", std::fs::read_to_string(&log).unwrap_or_default());

    let samples = samples.lock().unwrap();
    let (mut refused, mut stale) = (0, 0);
    for s in samples.iter() {
        assert!(matches!(s.status, 0 | 200 | 503), "never a {}: {s:?}", s.status);
        assert!(s.took < statement_timeout, "no hang past the statement timeout: {s:?}");
        if s.status == 0 {
            assert!(s.started < stopped, "only a request in flight at the stop may break off: {s:?}");
        }
        if s.status == 503 {
            assert_eq!(s.retry_after.as_deref(), Some("5"), "{s:?}");
            assert_eq!(s.code.as_deref(), Some("ServiceUnavailable"), "an OGC exception: {s:?}");
        }
        // Wholly inside the outage: the cached tile is served stale (so is the other tile, the
        // load having cached it before the stop), everything else refused.
        if s.started > stopped + Duration::from_millis(200) && s.started + s.took < start_begun {
            if s.path == cached {
                assert_eq!((s.status, s.stale), (200, true), "{s:?}");
                stale += 1;
            } else if s.path == uncached {
                assert!(s.status == 503 || (s.status, s.stale) == (200, true), "{s:?}");
            } else {
                assert_eq!(s.status, 503, "{s:?}");
                refused += 1;
            }
        }
    }
    assert!(refused > 20 && stale > 5, "load during the outage: {refused} refused, {stale} stale tiles");
    eprintln!(
        "{} requests: {refused} refused with 503 and {stale} stale cached tiles during the outage",
        samples.len()
    );
    assert!(lines_during <= 4, "a few log lines per outage, not one per request: {lines_during}");

    // Afterwards: healthy, the change feed back (within its 5 s back-off), tiles fresh.
    let back = Instant::now();
    loop {
        let health = server.get("/health");
        if health.status == 200 && health.json()["change_feed"] == "live" {
            break;
        }
        assert!(back.elapsed() < Duration::from_secs(8), "{}", health.text());
        std::thread::sleep(Duration::from_millis(100));
    }
    let tile = server.get(cached);
    assert_eq!((tile.status, tile.header("geosector-stale")), (200, None));
    assert_eq!(server.get(uncached).status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_exhausted_pool_answers_503_at_once_instead_of_queueing() {
    let Some(db) = TestDb::migrated().await else { return };
    let load = db.geosector(&["import", "land.parcels", "data-samples/land/parcels_soc_son.fgb"]);
    assert_eq!(load.code, Some(0), "{}", load.text());
    let server =
        Server::start(&db, &["--pool-size", "2", "--pool-timeout-ms", "300", "--statement-timeout-ms", "20000"]);
    assert_eq!(server.get("/collections/land.parcels/items?limit=1").status, 200);
    // Every request on parcels waits for this lock, holding its connection: slow requests.
    let mut holder = db.client().await;
    let tx = holder.transaction().await.unwrap();
    tx.batch_execute("LOCK TABLE land.parcels IN ACCESS EXCLUSIVE MODE").await.unwrap();
    let held = Instant::now();
    let requests: Vec<_> = (0..12)
        .map(|i| {
            let base = server.base.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20 * i));
                sample(&base, "/collections/land.parcels/items?limit=1000")
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    let health = server.get("/health");
    assert_eq!(health.status, 503, "{}", health.text());
    assert_eq!(health.json()["database"], "busy", "{}", health.text());
    assert_eq!(health.header("retry-after"), Some("5"));
    tx.rollback().await.unwrap();
    let released = held.elapsed();
    let samples: Vec<Sample> = requests.into_iter().map(|r| r.join().unwrap()).collect();
    let refused: Vec<&Sample> = samples.iter().filter(|s| s.status == 503).collect();
    let served = samples.iter().filter(|s| s.status == 200).count();
    eprintln!(
        "pool of 2, 12 slow requests: {served} served once the lock went ({released:?}), {} refused in {:?}",
        refused.len(),
        refused.iter().map(|s| s.took).max()
    );
    assert_eq!(served + refused.len(), samples.len(), "{samples:?}");
    assert!(served >= 2 && refused.len() >= 8, "{samples:?}");
    for s in refused {
        assert!(s.took < Duration::from_millis(1000), "refused quickly (pool_timeout_ms 300): {s:?}");
        assert_eq!(s.retry_after.as_deref(), Some("5"), "{s:?}");
        assert_eq!(s.code.as_deref(), Some("ServiceUnavailable"), "{s:?}");
    }
    assert_eq!(server.get("/collections/land.parcels/items?limit=1").status, 200);
}

/// GET with headers, without panicking on a broken answer.
fn sample_with(base: &str, path: &'static str, headers: &'static [(&'static str, &'static str)]) -> Sample {
    let started = Instant::now();
    let url = format!("{base}{path}");
    let r = http_get(&url, headers);
    Sample {
        path,
        started,
        took: started.elapsed(),
        status: r.status,
        retry_after: r.header("retry-after").map(str::to_owned),
        code: serde_json::from_slice::<serde_json::Value>(&r.body)
            .ok()
            .and_then(|v| v["code"].as_str().map(str::to_owned)),
        stale: false,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_over_its_concurrent_request_limit_gets_429_and_others_are_served() {
    let Some(db) = TestDb::migrated().await else { return };
    let load = db.geosector(&["import", "land.parcels", "data-samples/land/parcels_soc_son.fgb"]);
    assert_eq!(load.code, Some(0), "{}", load.text());
    let server =
        Server::start(&db, &["--pool-size", "8", "--max-concurrent-per-client", "2", "--trusted-proxy", "127.0.0.1"]);
    let mut holder = db.client().await;
    let tx = holder.transaction().await.unwrap();
    tx.batch_execute("LOCK TABLE land.parcels IN ACCESS EXCLUSIVE MODE").await.unwrap();
    // Client A (forwarded by the trusted proxy) sends five slow requests at once, client B one.
    const A: &[(&str, &str)] = &[("X-Forwarded-For", "203.0.113.7")];
    const B: &[(&str, &str)] = &[("X-Forwarded-For", "203.0.113.8")];
    let path = "/collections/land.parcels/items?limit=1000";
    let spawn = |headers: &'static [(&'static str, &'static str)], delay: u64| {
        let base = server.base.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(delay));
            sample_with(&base, path, headers)
        })
    };
    let a: Vec<_> = (0..5).map(|i| spawn(A, 50 * i)).collect();
    let b = spawn(B, 400);
    std::thread::sleep(Duration::from_millis(1500));
    tx.rollback().await.unwrap();
    let a: Vec<Sample> = a.into_iter().map(|t| t.join().unwrap()).collect();
    let b = b.join().unwrap();
    let limited: Vec<&Sample> = a.iter().filter(|s| s.status == 429).collect();
    assert_eq!(a.iter().filter(|s| s.status == 200).count(), 2, "{a:?}");
    assert_eq!(limited.len(), 3, "{a:?}");
    for s in limited {
        assert!(s.took < Duration::from_millis(500), "refused at once: {s:?}");
        assert_eq!(s.retry_after.as_deref(), Some("1"), "{s:?}");
        assert_eq!(s.code.as_deref(), Some("TooManyRequests"), "an OGC exception: {s:?}");
    }
    assert_eq!(b.status, 200, "another client is served: {b:?}");
    // The slots are given back: A may send again.
    assert_eq!(server.get_with(path, A).status, 200);
}
