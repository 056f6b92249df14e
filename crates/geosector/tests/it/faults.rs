//! The database going away while the server runs (issue 22, faults): a TCP relay between the
//! server and PostgreSQL is cut and restored. While it is cut, tiles already in the cache are
//! still served, marked stale; anything else is a 503 with `Retry-After` and an OGC exception,
//! quickly, never a 500 or a hang; `/health` says 503. Once it is back, answers are 200 again
//! within 5 s, without a restart.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::{Server, TestDb};

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
