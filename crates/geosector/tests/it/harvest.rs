//! Harvesting from other servers (issue 20, part 5): `geosector import <dataset> <items URL>`
//! reads another OGC API - Features server's collection with the same rules, report and
//! all-or-nothing load as a file. Shown against a second geosector (paging, a filter passed
//! through, `--since` after an edit on the source), against pygeoapi (started here on
//! loopback over the sample, CRS negotiated to its VN-2000 storage CRS), and against a small
//! HTTP server of this file that fails in chosen ways (unreachable, not JSON, a page that breaks
//! off, a 503 retried).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};
use tokio_postgres::Client;

use crate::clients::python;
use crate::support::{encode, repo, Server, TestDb};

const PARCELS_FGB: &str = "data-samples/land/parcels_soc_son.fgb";
const PARCELS_GEOJSON: &str = "data-samples/land/parcels_soc_son.geojson";
/// EPSG:5897's URI, percent-encoded as in a query.
const VN2000: &str = "http%3A%2F%2Fwww.opengis.net%2Fdef%2Fcrs%2FEPSG%2F0%2F5897";

/// A parcel's natural key, as text.
const KEY: &str = "commune_code || '/' || sheet_number || '/' || parcel_number";

/// What two databases must agree on per parcel: the key (with occurrence: a few keys repeat in
/// the sample), the attributes, and the geometry as EWKB.
type Parcels = BTreeMap<(String, i64), (String, Vec<u8>)>;

async fn parcels(client: &Client) -> Parcels {
    client
        .query(
            &format!(
                "SELECT {KEY}, row_number() OVER (PARTITION BY {KEY} ORDER BY id),
                        concat_ws('|', land_use_codes::text, land_use_areas_m2::text, declared_area_m2, legal_area_m2,
                                  address, map_scale, survey_date, national_id),
                        ST_AsEWKB(geom)
                 FROM land.parcels"
            ),
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| ((r.get(0), r.get(1)), (r.get(2), r.get(3))))
        .collect()
}

/// Asserts two sets of parcels are the same: keys and attributes equal, each geometry within
/// `tolerance` degrees (Hausdorff, computed by PostGIS) of the other's.
async fn assert_same_parcels(client: &Client, got: &Parcels, expected: &Parcels, tolerance: f64) {
    assert_eq!(got.len(), expected.len());
    assert_eq!(got.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>(), "the same keys");
    let mut distance: f64 = 0.0;
    for (key, (attributes, geometry)) in expected {
        let (got_attributes, got_geometry) = &got[key];
        assert_eq!(got_attributes, attributes, "attributes of {key:?}");
        let d: f64 = client
            .query_one(
                "SELECT ST_HausdorffDistance(ST_GeomFromEWKB($1), ST_GeomFromEWKB($2))",
                &[geometry, got_geometry],
            )
            .await
            .unwrap()
            .get(0);
        distance = distance.max(d);
    }
    assert!(distance < tolerance, "geometries differ by up to {distance} degrees");
}

/// The number in "<n> <what>" of an import's summary, e.g. `rows written`.
fn count_in(stdout: &str, what: &str) -> Option<u64> {
    let at = stdout.find(what)?;
    stdout[..at].split_whitespace().last()?.trim_matches(|c: char| !c.is_ascii_digit()).parse().ok()
}

#[tokio::test]
async fn harvest_from_a_second_geosector_pages_filters_and_fetches_only_changes_since() {
    let Some(source_db) = TestDb::migrated().await else { return };
    let run = source_db.geosector(&["import", "land.parcels", PARCELS_FGB]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let source = Server::start(&source_db, &[]);
    let items = format!("{}/collections/land.parcels/items", source.base);
    let source_client = source_db.client().await;

    // The whole collection, 100 features a page (the server pages at most `limit`): 6 pages.
    let Some(db) = TestDb::migrated().await else { return };
    let report = std::env::temp_dir().join(format!("harvest-report-{}.json", std::process::id()));
    let run =
        db.geosector(&["import", "land.parcels", &format!("{items}?limit=100"), "--report", report.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert_eq!(count_in(&run.stdout, "rows written"), Some(600), "{}", run.text());
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let _ = std::fs::remove_file(&report);
    assert_eq!(json["files"][0]["path"], format!("{items}?limit=100"), "{json}");
    assert_eq!(json["files"][0]["features"], 600, "{json}");
    assert_eq!(json["versions"]["new"], 600, "a changeset of 600 new features: {json}");
    let client = db.client().await;
    // The source stores lon/lat, so CRS84 is asked for (its storage CRS, no reprojection); its
    // GeoJSON keeps 7 decimals or more: within 1e-7 degree (1 cm).
    assert_same_parcels(&client, &parcels(&client).await, &parcels(&source_client).await, 2e-7).await;

    // A CQL2 filter and a bbox in the URL are passed through.
    let expected: i64 = source_client
        .query_one(
            "SELECT count(*) FROM land.parcels WHERE sheet_number = 2 AND geom && ST_MakeEnvelope(105.0, 21.0, 106.5, 21.5, 4326)",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(expected > 10 && expected < 600, "{expected}");
    let Some(filtered_db) = TestDb::migrated().await else { return };
    let url = format!("{items}?limit=40&bbox=105.0,21.0,106.5,21.5&filter={}", encode("sheet_number = 2"));
    let run = filtered_db.geosector(&["import", "land.parcels", &url]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert_eq!(filtered_db.count("land.parcels").await, expected);
    assert_eq!(filtered_db.count("land.parcels WHERE sheet_number <> 2").await, 0);

    // An edit on the source after `since`: only the changed features come, as an incremental
    // changeset (updated in place, nothing retired).
    let since: String = source_client
        .query_one("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')", &[])
        .await
        .unwrap()
        .get(0);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let changed: Vec<String> = source_client
        .query(
            &format!(
                "UPDATE land.parcels SET address = address || ' (sửa)' WHERE id IN (SELECT id FROM land.parcels ORDER BY id LIMIT 3) RETURNING {KEY}"
            ),
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(changed.len(), 3);
    source.wait_for_version(&source_client, "land.parcels").await;
    let run = db.geosector(&["import", "land.parcels", &format!("{items}?limit=100"), "--since", &since]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert_eq!(count_in(&run.stdout, "features read"), Some(3), "{}", run.text());
    assert_eq!(db.count("land.parcels").await, 600, "nothing retired, nothing added");
    let versions: Vec<(String, i32, String)> = client
        .query(&format!("SELECT {KEY}, version, address FROM land.parcels WHERE version > 1 ORDER BY 1"), &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let mut changed_sorted = changed.clone();
    changed_sorted.sort();
    assert_eq!(versions.iter().map(|v| v.0.clone()).collect::<Vec<_>>(), changed_sorted, "{versions:?}");
    assert!(versions.iter().all(|(_, version, address)| *version == 2 && address.ends_with(" (sửa)")), "{versions:?}");
    assert_same_parcels(&client, &parcels(&client).await, &parcels(&source_client).await, 2e-7).await;

    // Nothing changed since now: nothing read, nothing written, accepted.
    let now: String = source_client
        .query_one("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')", &[])
        .await
        .unwrap()
        .get(0);
    let changesets = db.count("meta.changesets").await;
    let run = db.geosector(&["import", "land.parcels", &items, "--since", &now]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert_eq!(count_in(&run.stdout, "features read"), Some(0), "{}", run.text());
    assert_eq!(db.count("meta.changesets").await, changesets, "no empty changeset");

    // A `--replace` harvest is a reload like a file's: the same features keep their ids and
    // versions (nothing changed since the last harvest), a feature gone from the source retires.
    source_client
        .batch_execute(&format!("DELETE FROM land.parcels WHERE {KEY} = (SELECT max({KEY}) FROM land.parcels)"))
        .await
        .unwrap();
    source.wait_for_version(&source_client, "land.parcels").await;
    let ids_before = db.count("land.parcels WHERE version = 1").await;
    let run = db.geosector(&["import", "land.parcels", &items, "--replace", "--report", report.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let _ = std::fs::remove_file(&report);
    assert_eq!(json["versions"]["unchanged"], 599, "{json}");
    assert_eq!(json["versions"]["changed"], 0, "{json}");
    assert_eq!(json["versions"]["retired"], 1, "{json}");
    assert_eq!(db.count("land.parcels").await, 599);
    assert_eq!(db.count("land.parcels WHERE version = 1").await, ids_before - 1);
    assert_same_parcels(&client, &parcels(&client).await, &parcels(&source_client).await, 2e-7).await;

    // `--since` and `--replace` do not mix.
    let run = db.geosector(&["import", "land.parcels", &items, "--since", &now, "--replace"]);
    assert_eq!(run.code, Some(2), "{}", run.text());
    assert!(run.stderr.contains("--replace"), "{}", run.text());
}

/// A free loopback port (bound, then released for the child to take).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A child process killed when dropped.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn harvest_from_pygeoapi_gives_the_features_of_the_file() {
    let Some(python) = python() else { return };
    let pygeoapi = python.with_file_name("pygeoapi");
    let has_pygeoapi =
        std::process::Command::new(&python).args(["-c", "import pygeoapi"]).status().is_ok_and(|s| s.success());
    if !has_pygeoapi || !pygeoapi.is_file() {
        crate::support::missing(&format!("pygeoapi in {}", python.display()));
    }
    let Some(reference_db) = TestDb::migrated().await else { return };
    let Some(db) = TestDb::migrated().await else { return };

    // The sample as pygeoapi's GeoJSON provider reads it: each feature with an id, the legacy
    // crs member dropped (the config says the storage CRS).
    let dir = tempfile::tempdir().unwrap();
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(repo().join(PARCELS_GEOJSON)).unwrap()).unwrap();
    doc.as_object_mut().unwrap().remove("crs");
    for (i, feature) in doc["features"].as_array_mut().unwrap().iter_mut().enumerate() {
        feature["id"] = json!(i + 1);
    }
    let data = dir.path().join("parcels.geojson");
    std::fs::write(&data, doc.to_string()).unwrap();
    let port = free_port();
    let config = dir.path().join("pygeoapi.yml");
    std::fs::write(&config, pygeoapi_config(port, &data)).unwrap();
    let openapi = dir.path().join("openapi.yml");
    let generated = std::process::Command::new(&pygeoapi)
        .args(["openapi", "generate"])
        .arg(&config)
        .arg("--output-file")
        .arg(&openapi)
        .output()
        .unwrap();
    assert!(generated.status.success(), "{}", String::from_utf8_lossy(&generated.stderr));
    let _server = Child(
        std::process::Command::new(&pygeoapi)
            .arg("serve")
            .env("PYGEOAPI_CONFIG", &config)
            .env("PYGEOAPI_OPENAPI", &openapi)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "pygeoapi did not start on {base}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }

    // 150 a page: four pages; the collection's storage CRS is VN-2000 TM-3 (EPSG:5897), so it is
    // asked for and the coordinates come as stored.
    let run = db.geosector(&["import", "land.parcels", &format!("{base}/collections/parcels/items?limit=150")]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert_eq!(count_in(&run.stdout, "rows written"), Some(600), "{}", run.text());
    assert!(run.stdout.contains("EPSG:5897"), "the negotiated CRS: {}", run.text());
    let run = reference_db.geosector(&["import", "land.parcels", PARCELS_GEOJSON]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let client = db.client().await;
    let reference = reference_db.client().await;
    assert_same_parcels(&client, &parcels(&client).await, &parcels(&reference).await, 1e-9).await;
    let srid: Vec<i32> = client
        .query("SELECT DISTINCT source_srid FROM land.parcels", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(srid, [5897]);

    // pygeoapi's queryables record no change time: `--since` says it cannot be done.
    let run = db.geosector(&[
        "import",
        "land.parcels",
        &format!("{base}/collections/parcels/items"),
        "--since",
        "2026-01-01",
    ]);
    assert_eq!(run.code, Some(2), "{}", run.text());
    assert!(run.stderr.contains("--since cannot be used with this source"), "{}", run.text());
    assert_eq!(db.count("land.parcels").await, 600);
}

fn pygeoapi_config(port: u16, data: &std::path::Path) -> String {
    format!(
        r#"server:
  bind: {{host: 127.0.0.1, port: {port}}}
  url: http://127.0.0.1:{port}
  mimetype: application/json; charset=UTF-8
  encoding: utf-8
  languages: [en-US]
  limits: {{default_items: 10, max_items: 1000}}
  map:
    url: http://127.0.0.1/{{z}}/{{x}}/{{y}}.png
    attribution: none
logging: {{level: ERROR}}
metadata:
  identification: {{title: harvest test, description: harvest test, keywords: [test], keywords_type: theme, terms_of_service: none, url: http://127.0.0.1}}
  license: {{name: CC-BY 4.0, url: http://127.0.0.1}}
  provider: {{name: test, url: http://127.0.0.1}}
  contact: {{name: test}}
resources:
  parcels:
    type: collection
    title: parcels
    description: sample cadastral parcels of Sóc Sơn
    keywords: [parcels]
    extents:
      spatial:
        bbox: [105.7, 21.2, 105.9, 21.4]
        crs: http://www.opengis.net/def/crs/OGC/1.3/CRS84
    providers:
      - type: feature
        name: GeoJSON
        data: {data}
        id_field: id
        storage_crs: http://www.opengis.net/def/crs/EPSG/0/5897
        crs:
          - http://www.opengis.net/def/crs/OGC/1.3/CRS84
          - http://www.opengis.net/def/crs/EPSG/0/5897
"#,
        data = data.display()
    )
}

/// One canned answer of [`Canned`].
struct Reply {
    status: u16,
    content_type: &'static str,
    body: String,
    /// Send only this many bytes of the body (with the full Content-Length), then close.
    cut: Option<usize>,
}

impl Reply {
    fn json(body: Value) -> Reply {
        Reply { status: 200, content_type: "application/geo+json", body: body.to_string(), cut: None }
    }
}

/// A loopback HTTP server answering each request from `answer(path and query, how many times
/// this path was asked before, its Authorization header)`, for as long as it lives.
struct Canned {
    base: String,
}

impl Canned {
    fn start(answer: impl Fn(&str, usize, Option<&str>) -> Reply + Send + Sync + 'static) -> Canned {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let answer = Arc::new(answer);
        let seen = Arc::new(std::sync::Mutex::new(BTreeMap::<String, usize>::new()));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (answer, seen) = (Arc::clone(&answer), Arc::clone(&seen));
                std::thread::spawn(move || serve_one(stream, &*answer, &seen));
            }
        });
        Canned { base }
    }
}

fn serve_one(
    mut stream: TcpStream,
    answer: &dyn Fn(&str, usize, Option<&str>) -> Reply,
    seen: &std::sync::Mutex<BTreeMap<String, usize>>,
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut authorization = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("authorization") {
                authorization = Some(value.trim().to_owned());
            }
        }
    }
    let target = request_line.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let times = {
        let mut seen = seen.lock().unwrap();
        let n = seen.entry(target.clone()).or_insert(0);
        *n += 1;
        *n - 1
    };
    let reply = answer(&target, times, authorization.as_deref());
    let body = reply.body.as_bytes();
    let head = format!(
        "HTTP/1.1 {} X\r\nContent-Type: {}\r\nContent-Length: {}\r\nContent-Crs: <http://www.opengis.net/def/crs/EPSG/0/5897>\r\nRetry-After: 0\r\nConnection: close\r\n\r\n",
        reply.status,
        reply.content_type,
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body[..reply.cut.unwrap_or(body.len()).min(body.len())]);
    let _ = stream.flush();
    // Closed at once: a cut body ends here, short of its Content-Length.
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

/// The sample's first `n` features (VN-2000 TM-3, EPSG:5897).
fn sample_features(skip: usize, n: usize) -> Vec<Value> {
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(repo().join(PARCELS_GEOJSON)).unwrap()).unwrap();
    doc["features"].as_array().unwrap().iter().skip(skip).take(n).cloned().collect()
}

/// The collection document of the canned servers: storage CRS EPSG:5897, listed.
fn collection_doc() -> Reply {
    Reply::json(json!({
        "id": "parcels",
        "crs": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84", "http://www.opengis.net/def/crs/EPSG/0/5897"],
        "storageCrs": "http://www.opengis.net/def/crs/EPSG/0/5897",
        "links": []
    }))
}

/// A page of features with a next link (relative, as some servers write them) when `next`.
fn page(features: Vec<Value>, next: Option<&str>) -> Reply {
    let mut links = vec![json!({ "href": "items", "rel": "self", "type": "application/geo+json" })];
    if let Some(next) = next {
        links.push(json!({ "href": next, "rel": "next", "type": "application/geo+json" }));
    }
    Reply::json(json!({ "type": "FeatureCollection", "features": features, "links": links }))
}

#[tokio::test]
async fn harvest_errors_name_the_url_and_page_and_load_nothing() {
    let Some(db) = TestDb::migrated().await else { return };
    let run = db.geosector(&["import", "land.parcels", PARCELS_FGB]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let before = db.count("land.parcels").await;
    let Some(empty) = TestDb::migrated().await else { return };

    // Nothing listens there.
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/collections/parcels/items");
    let run = empty.geosector(&["import", "land.parcels", &url, "--retries", "1"]);
    assert_eq!(run.code, Some(2), "{}", run.text());
    assert!(run.stderr.contains(&format!("127.0.0.1:{port}/collections/parcels")), "{}", run.text());
    assert!(run.stderr.contains("(2 attempts)"), "retried once: {}", run.text());

    // Not an items URL.
    let run = empty.geosector(&["import", "land.parcels", &format!("http://127.0.0.1:{port}/collections")]);
    assert_eq!(run.code, Some(2), "{}", run.text());
    assert!(run.stderr.contains("expected the items URL"), "{}", run.text());

    // The pages: HTML instead of JSON; a second page that breaks off mid-way (every time); a
    // page that fails once with 503, then answers.
    let pages = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&pages);
    let canned = Canned::start(move |target, times, authorization| {
        let path = target.split('?').next().unwrap_or_default();
        let query = target.split_once('?').map(|(_, q)| q).unwrap_or_default();
        if query.contains("key=s3cret") && authorization != Some("Bearer t0ken") {
            return Reply { status: 401, content_type: "text/plain", body: "no token".into(), cut: None };
        }
        if path.ends_with("/items") {
            counted.fetch_add(1, Ordering::SeqCst);
            if !query.contains(&format!("crs={VN2000}")) {
                return Reply {
                    status: 400,
                    content_type: "text/plain",
                    body: "crs=EPSG:5897 expected".into(),
                    cut: None,
                };
            }
        }
        match path {
            "/collections/html/items" => Reply {
                status: 200,
                content_type: "text/html",
                body: "<html><body>Login</body></html>".into(),
                cut: None,
            },
            "/collections/broken/items" if query.contains("page=2") => {
                let mut reply = page(sample_features(2, 2), None);
                reply.cut = Some(reply.body.len() / 2);
                reply
            }
            "/collections/broken/items" | "/collections/flaky/items" if !query.contains("page=2") => {
                page(sample_features(0, 2), Some(&format!("items?page=2&crs={VN2000}")))
            }
            "/collections/flaky/items" if times == 0 => {
                Reply { status: 503, content_type: "text/plain", body: "busy".into(), cut: None }
            }
            "/collections/flaky/items" => page(sample_features(2, 2), None),
            _ if path.ends_with("/queryables") => Reply::json(json!({ "properties": {} })),
            _ => collection_doc(),
        }
    });
    for db in [&db, &empty] {
        let url = format!("{}/collections/html/items", canned.base);
        let run = db.geosector(&["import", "land.parcels", &url]);
        assert_eq!(run.code, Some(2), "{}", run.text());
        assert!(run.stderr.contains(&format!("page 1 ({url}?limit=5000&crs=")), "{}", run.text());
        assert!(run.stderr.contains("not JSON (the server sent text/html)"), "{}", run.text());

        let url = format!("{}/collections/broken/items", canned.base);
        let run = db.geosector(&["import", "land.parcels", &url, "--retries", "1", "--replace"]);
        assert_eq!(run.code, Some(2), "{}", run.text());
        let at = format!("page 2 ({}/collections/broken/items?page=2&crs={VN2000})", canned.base);
        assert!(run.stderr.contains(&at), "{at}: {}", run.text());
        assert!(run.stderr.contains("(2 attempts)"), "retried once: {}", run.text());
    }
    assert_eq!(db.count("land.parcels").await, before, "a broken harvest leaves the data as they were");
    assert_eq!(empty.count("land.parcels").await, 0, "and stores nothing");
    assert_eq!(empty.count("meta.changesets").await, 0);

    // A 503 is retried (Retry-After: 0), then the harvest completes.
    let url = format!("{}/collections/flaky/items", canned.base);
    pages.store(0, Ordering::SeqCst);
    let run = empty.geosector(&["import", "land.parcels", &url]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert_eq!(empty.count("land.parcels").await, 4);
    assert_eq!(pages.load(Ordering::SeqCst), 3, "page 1, page 2 refused once, page 2 again");

    // A key in the URL is not shown; a --header goes to the source (which refuses without it).
    let url = format!("{}/collections/flaky/items?key=s3cret", canned.base);
    let run = empty.geosector(&["validate", "land.parcels", &url]);
    assert_eq!(run.code, Some(2), "{}", run.text());
    assert!(run.stderr.contains("HTTP 401: no token") && !run.stderr.contains("s3cret"), "{}", run.text());
    let run = empty.geosector(&["validate", "land.parcels", &url, "--header", "Authorization: Bearer t0ken"]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert!(!run.stdout.contains("s3cret") && run.stdout.contains("key=***"), "{}", run.text());
}

/// The harvest flags are refused for files, before any database is opened.
#[test]
fn harvest_flags_need_a_url() {
    let run = crate::support::geosector(None, &["import", "land.parcels", PARCELS_FGB, "--since", "2026-01-01"]);
    assert_eq!(run.code, Some(2), "{}", run.text());
    assert!(run.stderr.contains("apply to a harvest"), "{}", run.text());
}
