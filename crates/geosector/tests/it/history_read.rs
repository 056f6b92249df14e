//! The read side of versions (issue 19, OGC "Versioned Features"): history made with SQL in
//! changesets a few milliseconds apart, then `datetime` before and after each change on items
//! (with bbox, CQL2, paging, an area-scoped API key), single features (version links,
//! `Memento-Datetime`, strong ETags and 304, 410 for a retired feature, 404 for one that did not
//! exist yet), `/items/{id}/versions`, tiles at an instant, and the immutable caching of answers
//! at instants past the margin.

use std::collections::BTreeMap;

use serde_json::Value;
use tokio_postgres::Client;

use crate::support::{Response, Server, TestDb};

const PARCELS: &str = "data-samples/land/parcels_soc_son.fgb";
const ITEMS: &str = "/collections/land.parcels/items";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Anonymous callers read everything.
const OPEN: &str = r#"
[[grant]]
role = "anonymous"
collections = ["*"]
operations = ["read_items", "read_tiles"]
"#;

/// Anonymous callers read no land; `commune_reader` reads parcels of commune 00376 only.
const SCOPED: &str = r#"
[[grant]]
role = "anonymous"
collections = ["minerals.*", "water.*", "environment.*"]
operations = ["read_items", "read_tiles"]

[[grant]]
role = "commune_reader"
collections = ["land.parcels"]
operations = ["read_items", "read_tiles"]
area = ["00376"]
"#;

/// The parcels the history changes, and the instants between the changesets.
struct History {
    db: TestDb,
    server: Server,
    /// The server's arguments with the scoped policy instead of the open one.
    scoped_args: [String; 4],
    key: String,
    /// Moved in the first changeset (geometry 2 km east, address), renamed in the second.
    moved: i64,
    /// Moved to commune 00379 in the first changeset (out of the scoped key's area).
    rehomed: i64,
    /// Retired in the second changeset.
    retired: i64,
    /// Created in the third changeset.
    created: i64,
    /// The original address of `moved`.
    address: String,
    /// Before the first changeset, between the first and second, second and third, after the third.
    t: [String; 4],
    /// The moved parcel's original bbox.
    bbox: [f64; 4],
}

/// The database's clock now, as a `datetime` value.
async fn instant(client: &Client) -> String {
    let instant = client
        .query_one("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')", &[])
        .await
        .unwrap()
        .get(0);
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    instant
}

/// One changeset of SQL statements, in one transaction.
async fn changeset(client: &Client, statements: &str) {
    client
        .batch_execute(&format!(
            "BEGIN; SELECT meta.begin_changeset('tester', 'test', 'api', NULL, 'QĐ 12/2026', '2026-01-02', 'a test'); {statements}; COMMIT"
        ))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
}

async fn history() -> Option<History> {
    let db = TestDb::migrated().await?;
    let loaded = db.geosector(&["import", "land.parcels", PARCELS]);
    assert_eq!(loaded.code, Some(0), "{}", loaded.text());
    let dir = std::env::temp_dir();
    let tag = format!("{}-{}", std::process::id(), db.url.len());
    let policy = dir.join(format!("hread-policy-{tag}.toml"));
    std::fs::write(&policy, OPEN).unwrap();
    let scoped = dir.join(format!("hread-scoped-{tag}.toml"));
    std::fs::write(&scoped, SCOPED).unwrap();
    // Answers at instants over a second old are immutable here (300 s by default).
    let config = dir.join(format!("hread-config-{tag}.toml"));
    std::fs::write(&config, "history_margin_s = 1\n").unwrap();
    let created = db.geosector(&["keys", "create", "--name", "reader", "--role", "commune_reader", "--days", "1"]);
    assert_eq!(created.code, Some(0), "{}", created.text());
    let key = created.stdout.lines().find(|l| l.starts_with("gsk_")).expect("the key is printed").trim().to_owned();
    let client = db.client().await;
    let ids: Vec<i64> = client
        .query("SELECT id FROM land.parcels ORDER BY id LIMIT 4", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let (moved, rehomed, retired, source) = (ids[0], ids[1], ids[2], ids[3]);
    let row = client
        .query_one(
            "SELECT address, ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) FROM land.parcels WHERE id = $1",
            &[&moved],
        )
        .await
        .unwrap();
    let address: String = row.get(0);
    let bbox = [row.get(1), row.get(2), row.get(3), row.get(4)];

    let t0 = instant(&client).await;
    changeset(
        &client,
        &format!(
            "UPDATE land.parcels SET geom = ST_Translate(geom, 0.02, 0), address = 'v2 ' || address WHERE id = {moved}; \
             UPDATE land.parcels SET commune_code = '00379' WHERE id = {rehomed}"
        ),
    )
    .await;
    let t1 = instant(&client).await;
    changeset(
        &client,
        &format!(
            "DELETE FROM land.parcels WHERE id = {retired}; \
             UPDATE land.parcels SET address = 'v3' WHERE id = {moved}"
        ),
    )
    .await;
    let t2 = instant(&client).await;
    changeset(
        &client,
        &format!(
            "INSERT INTO land.parcels (commune_code, sheet_number, parcel_number, land_use_codes, address, geom, source_srid, province_code) \
             SELECT commune_code, 999, 'new-1', land_use_codes, 'created', ST_Translate(geom, 0, 0.02), source_srid, province_code \
             FROM land.parcels WHERE id = {source}"
        ),
    )
    .await;
    let t3 = instant(&client).await;
    let created: i64 =
        client.query_one("SELECT id FROM land.parcels WHERE parcel_number = 'new-1'", &[]).await.unwrap().get(0);
    let config_arg = config.to_string_lossy().into_owned();
    let policy_arg = policy.to_string_lossy().into_owned();
    let server = Server::start(&db, &["--config", &config_arg, "--access-file", &policy_arg]);
    let scoped_args =
        ["--config".to_owned(), config_arg, "--access-file".to_owned(), scoped.to_string_lossy().into_owned()];
    Some(History { db, server, scoped_args, key, moved, rehomed, retired, created, address, t: [t0, t1, t2, t3], bbox })
}

/// Every feature of an items query, following `next` links (each must carry the query's
/// `datetime`), by id.
fn collect(server: &Server, first: &str, headers: &[(&str, &str)]) -> BTreeMap<i64, Value> {
    let mut out = BTreeMap::new();
    let mut url = first.to_owned();
    let datetime =
        first.split('&').chain(first.split('?')).find_map(|p| p.strip_prefix("datetime=")).map(str::to_owned);
    for _ in 0..1000 {
        let page = server.get_with(&url, headers);
        assert_eq!(page.status, 200, "{url}: {}", page.text());
        let page = page.json();
        for f in page["features"].as_array().unwrap() {
            assert!(out.insert(f["id"].as_i64().unwrap(), f.clone()).is_none(), "a feature twice in {first}");
        }
        match page["links"].as_array().unwrap().iter().find(|l| l["rel"] == "next") {
            None => return out,
            Some(next) => {
                url = next["href"].as_str().unwrap().to_owned();
                if let Some(datetime) = &datetime {
                    assert!(url.contains(&format!("datetime={}", datetime.replace(':', "%3A"))), "{url}");
                }
            }
        }
    }
    panic!("no end of pages: {first}");
}

fn link<'a>(feature: &'a Value, rel: &str) -> Option<&'a str> {
    feature["links"].as_array()?.iter().find(|l| l["rel"] == rel).and_then(|l| l["href"].as_str())
}

fn gone(response: &Response) {
    assert_eq!(response.status, 410, "{}", response.text());
    assert_eq!(response.json()["code"], "Gone");
}

#[tokio::test]
async fn datetime_selects_the_versions_of_items_features_and_tiles() {
    let Some(h) = history().await else { return };
    let (server, [t0, t1, t2, t3]) = (&h.server, &h.t);
    let client = h.db.client().await;

    // Items: the versions valid at each instant, with every property as it was.
    let live: i64 = client.query_one("SELECT count(*) FROM land.parcels", &[]).await.unwrap().get(0);
    let at = |t: &str| collect(server, &format!("{ITEMS}?limit=1000&datetime={t}"), &[]);
    let (s0, s1, s2, s3) = (at(t0), at(t1), at(t2), at(t3));
    assert_eq!(s0.len(), 600);
    assert_eq!((s1.len(), s2.len(), s3.len()), (600, 599, 600));
    assert_eq!(s3.len() as i64, live);
    assert_eq!(s0[&h.moved]["properties"]["address"], h.address.as_str());
    assert_eq!(s1[&h.moved]["properties"]["address"], format!("v2 {}", h.address));
    assert_eq!(s2[&h.moved]["properties"]["address"], "v3");
    assert_eq!(s0[&h.rehomed]["properties"]["commune_code"], "00376");
    assert_eq!(s1[&h.rehomed]["properties"]["commune_code"], "00379");
    assert!(s1.contains_key(&h.retired) && !s2.contains_key(&h.retired) && !s3.contains_key(&h.retired));
    assert!(!s2.contains_key(&h.created) && s3[&h.created]["properties"]["address"] == "created");
    assert_ne!(s0[&h.moved]["geometry"], s1[&h.moved]["geometry"], "the geometry as it was");
    let current = collect(server, &format!("{ITEMS}?limit=1000"), &[]);
    assert_eq!(current.keys().collect::<Vec<_>>(), s3.keys().collect::<Vec<_>>());
    assert!(at("2000-01-01").is_empty(), "nothing existed before the import (a date is its 00:00 UTC)");
    let page = server.get(&format!("{ITEMS}?limit=5&datetime={t1}"));
    assert_eq!(page.status, 200);
    assert!(page.header("memento-datetime").is_some_and(|d| d.ends_with(" GMT")), "the instant, as an HTTP-date");

    // Paging at an instant: 7 a page, each next link carrying datetime; the same features.
    let paged = collect(server, &format!("{ITEMS}?limit=7&datetime={t1}"), &[]);
    assert_eq!(paged, s1);
    let sorted = collect(server, &format!("{ITEMS}?limit=50&sortby=-parcel_number&datetime={t2}"), &[]);
    assert_eq!(sorted.keys().collect::<Vec<_>>(), s2.keys().collect::<Vec<_>>(), "sortby pages at an instant");

    // bbox, CQL2, property equality and crs at an instant.
    let [x0, y0, x1, y1] = h.bbox;
    let inside = format!("{x0},{y0},{x1},{y1}");
    let bbox_at = |t: &str| collect(server, &format!("{ITEMS}?limit=100&bbox={inside}&datetime={t}"), &[]);
    assert!(bbox_at(t0).contains_key(&h.moved), "where it was");
    assert!(!bbox_at(t1).contains_key(&h.moved), "moved away since");
    let moved_box = format!("{},{y0},{},{y1}", x0 + 0.02, x1 + 0.02);
    let there = |t: &str| collect(server, &format!("{ITEMS}?bbox={moved_box}&datetime={t}"), &[]);
    assert!(there(t0).is_empty() && there(t1).contains_key(&h.moved));
    let cql = |t: &str| {
        collect(server, &format!("{ITEMS}?filter=address%20LIKE%20%27v2%25%27&datetime={t}"), &[])
            .into_keys()
            .collect::<Vec<_>>()
    };
    assert_eq!((cql(t0), cql(t1), cql(t2)), (vec![], vec![h.moved], vec![]));
    let equal = |t: &str| {
        collect(server, &format!("{ITEMS}?commune_code=00379&datetime={t}"), &[]).into_keys().collect::<Vec<_>>()
    };
    assert_eq!((equal(t0), equal(t1)), (vec![], vec![h.rehomed]));
    let projected =
        server.get(&format!("{ITEMS}?limit=3&crs=http://www.opengis.net/def/crs/EPSG/0/5897&datetime={t1}"));
    assert_eq!(projected.status, 200, "{}", projected.text());
    assert!(server.get(&format!("{ITEMS}?limit=3&f=html&datetime={t1}")).text().contains("<svg"));
    // The time property stays filterable, by CQL2.
    let surveyed =
        collect(server, &format!("{ITEMS}?limit=1000&filter=survey_date%3DDATE(%272019-01-21%27)&datetime={t1}"), &[]);
    assert!(!surveyed.is_empty() && surveyed.len() < 600);
    assert!(surveyed.values().all(|f| f["properties"]["survey_date"] == "2019-01-21"));

    // An interval or a malformed instant is a 400 naming datetime.
    for bad in ["2024-01-01/2024-02-01", "../2024-01-01", "yesterday", "2024-13-45"] {
        for path in [format!("{ITEMS}?datetime={bad}"), format!("{ITEMS}/{}?datetime={bad}", h.moved)] {
            let response = server.get(&path);
            assert_eq!(response.status, 400, "{path}");
            assert!(response.json()["description"].as_str().unwrap().starts_with("datetime:"), "{path}");
        }
    }

    // A single feature at each instant: its version, Memento-Datetime and version links.
    let feature = |t: Option<&str>| {
        let path = match t {
            Some(t) => format!("{ITEMS}/{}?datetime={t}", h.moved),
            None => format!("{ITEMS}/{}", h.moved),
        };
        server.get(&path)
    };
    let first = feature(Some(t0));
    assert_eq!(first.status, 200, "{}", first.text());
    let memento = first.header("memento-datetime").expect("Memento-Datetime").to_owned();
    let body = first.json();
    assert_eq!(body["version"], 1);
    assert_eq!(body["properties"]["address"], h.address.as_str());
    assert!(link(&body, "predecessor-version").is_none(), "the first version");
    assert!(link(&body, "latest-version").is_some_and(|l| l.ends_with(&format!("/items/{}", h.moved))));
    assert!(link(&body, "timemap").is_some_and(|l| l.ends_with(&format!("/items/{}/versions", h.moved))));
    let successor = link(&body, "successor-version").expect("a successor").to_owned();
    let link_header = first.header("link").expect("Link header");
    assert!(
        link_header.contains("rel=\"successor-version\"") && link_header.contains("rel=\"timemap\""),
        "{link_header}"
    );
    let second = server.get(&successor);
    assert_eq!(second.status, 200);
    let second_memento = second.header("memento-datetime").unwrap().to_owned();
    let second = second.json();
    assert_eq!(second["version"], 2);
    assert_eq!(second["properties"]["address"], format!("v2 {}", h.address));
    let back = server.get(link(&second, "predecessor-version").unwrap()).json();
    assert_eq!(back["version"], 1, "predecessor of 2 is 1");
    let third = server.get(link(&second, "successor-version").unwrap()).json();
    assert_eq!(third["version"], 3);
    assert_eq!(feature(Some(t1)).json()["version"], 2);
    assert!(memento <= second_memento || memento.len() == second_memento.len(), "HTTP-dates of each version's start");
    let latest = feature(None);
    assert_eq!(latest.status, 200);
    assert!(latest.header("memento-datetime").is_none(), "the current feature is no memento");
    let latest = latest.json();
    assert_eq!((latest["version"].as_i64(), latest["properties"]["address"].as_str()), (Some(3), Some("v3")));
    assert!(link(&latest, "successor-version").is_none() && link(&latest, "predecessor-version").is_some());

    // 410 for a retired feature (now, and at an instant after its retirement), 404 for one that
    // did not exist yet or never.
    gone(&server.get(&format!("{ITEMS}/{}", h.retired)));
    gone(&server.get(&format!("{ITEMS}/{}?datetime={t2}", h.retired)));
    let before = server.get(&format!("{ITEMS}/{}?datetime={t1}", h.retired)).json();
    assert!(link(&before, "successor-version").is_none(), "a retired feature's last version has no successor");
    assert_eq!(server.get(&format!("{ITEMS}/{}?datetime={t2}", h.created)).status, 404);
    assert_eq!(server.get(&format!("{ITEMS}/{}?datetime={t3}", h.created)).status, 200);
    assert_eq!(server.get(&format!("{ITEMS}/999999999?datetime={t3}")).status, 404);
    assert_eq!(server.get(&format!("{ITEMS}/999999999")).json()["code"], "NotFound");

    // The versions, oldest first, without who made them.
    let versions = server.get(&format!("{ITEMS}/{}/versions", h.moved));
    assert_eq!(versions.status, 200, "{}", versions.text());
    assert!(!versions.text().contains("tester"), "no actor");
    let versions = versions.json();
    let list = versions["features"].as_array().unwrap();
    assert_eq!(list.iter().map(|v| v["version"].as_i64().unwrap()).collect::<Vec<_>>(), [1, 2, 3]);
    assert!(list.iter().all(|v| v["id"] == h.moved));
    assert_eq!(list[0]["validTo"], list[1]["validFrom"]);
    assert_eq!(list[1]["validTo"], list[2]["validFrom"]);
    assert!(list[2]["validTo"].is_null(), "the current version has no end");
    assert!(list[0]["changeset"].as_i64() < list[1]["changeset"].as_i64(), "version 1 is the import's changeset");
    assert_eq!(list[1]["reference"], "QĐ 12/2026");
    assert_eq!(list[1]["referenceDate"], "2026-01-02");
    assert_eq!(list[2]["properties"]["address"], "v3");
    assert!(list[1]["changeset"].as_i64() < list[2]["changeset"].as_i64());
    let paged = server.get(&format!("{ITEMS}/{}/versions?limit=2", h.moved)).json();
    assert_eq!(paged["features"].as_array().unwrap().len(), 2);
    let rest = server.get(link(&paged, "next").expect("a next page")).json();
    assert_eq!(rest["features"][0]["version"], 3);
    let retired = server.get(&format!("{ITEMS}/{}/versions", h.retired)).json();
    assert_eq!(retired["features"][0]["retired"], true, "a retired feature keeps its versions");
    assert_eq!(server.get(&format!("{ITEMS}/999999999/versions")).status, 404);
    assert_eq!(server.get("/collections/environment.stations/items/1/versions").status, 404, "no history");
    assert!(server.get(&format!("{ITEMS}/{}/versions?f=html", h.moved)).text().contains("QĐ 12/2026"));

    // Tiles at an instant: the moved parcel's tile as it was differs from the current one, is
    // never cached, and a malformed instant is a 400 naming datetime.
    let (z, x, y) = tile_of((x0 + x1) / 2.0, (y0 + y1) / 2.0, 16);
    let tile = format!("/collections/land.parcels/tiles/WebMercatorQuad/{z}/{y}/{x}");
    let now = server.get(&tile);
    assert_eq!(server.get(&tile).header("x-tile-cache"), Some("hit"));
    let then = server.get(&format!("{tile}?datetime={t0}"));
    assert_eq!((now.status, then.status), (200, 200));
    assert_ne!(now.body, then.body, "the parcel was there then");
    assert_eq!(server.get(&format!("{tile}?datetime={t0}")).header("x-tile-cache"), Some("bypass"));
    assert_eq!(server.get(&format!("{tile}?datetime={t3}")).body.len(), now.body.len(), "the same features as now");
    let bad = server.get(&format!("{tile}?datetime=nope"));
    assert_eq!(bad.status, 400);
    assert!(bad.json()["description"].as_str().unwrap().starts_with("datetime:"));
    let low = server.get(&format!(
        "/collections/land.parcels/tiles/WebMercatorQuad/{}/{}/{}?datetime={t0}",
        z - 4,
        y >> 4,
        x >> 4
    ));
    assert!(matches!(low.status, 200 | 204), "below the detail zoom, drawn feature by feature");
    assert_eq!(
        server.get("/collections/environment.stations/tiles/WebMercatorQuad/10/450/812?datetime=2024-01-01").status,
        400
    );

    // The metadata and OpenAPI say what datetime does here.
    let collection = server.get("/collections/land.parcels").json();
    assert!(collection["description"].as_str().unwrap().contains("datetime selects the versions"));
    let api = server.get("/api").json();
    let parameters = api["paths"]["/collections/land.parcels/items"]["get"]["parameters"].as_array().unwrap();
    let datetime = parameters.iter().find(|p| p["name"] == "datetime").unwrap();
    assert!(datetime["description"].as_str().unwrap().contains("selects the versions valid"));
    assert!(api["paths"]["/collections/land.parcels/items/{featureId}/versions"].is_object());
}

/// The z/x/y of the tile holding a lon/lat point.
fn tile_of(lon: f64, lat: f64, z: u32) -> (u32, u64, u64) {
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n).floor() as u64;
    let lat = lat.to_radians();
    let y = ((1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor() as u64;
    (z, x, y)
}

#[tokio::test]
async fn past_instants_are_immutable_scoped_and_features_have_strong_tags() {
    let Some(h) = history().await else { return };
    let [t0, t1, _, _] = &h.t;
    let client = h.db.client().await;
    let key = [("X-API-Key", h.key.as_str())];

    // A caller scoped to commune 00376 sees only its area, at every instant.
    let args: Vec<&str> = h.scoped_args.iter().map(String::as_str).collect();
    let scoped_server = Server::start(&h.db, &args);
    let server = &scoped_server;
    let scoped = |t: &str| collect(server, &format!("{ITEMS}?limit=100&datetime={t}"), &key);
    let (s0, s1) = (scoped(t0), scoped(t1));
    assert!(
        s0.contains_key(&h.rehomed) && !s1.contains_key(&h.rehomed),
        "moved out of its area: {} {} {}",
        s0.len(),
        s1.len(),
        h.rehomed
    );
    assert!(s1.values().all(|f| f["properties"]["commune_code"] == "00376"));
    assert_eq!(server.get_with(&format!("{ITEMS}/{}?datetime={t0}", h.rehomed), &key).status, 200);
    assert_eq!(server.get_with(&format!("{ITEMS}/{}?datetime={t1}", h.rehomed), &key).status, 404);
    assert_eq!(server.get_with(&format!("{ITEMS}/{}", h.rehomed), &key).status, 404, "not 410: out of its area");
    let versions = server.get_with(&format!("{ITEMS}/{}/versions", h.rehomed), &key).json();
    assert_eq!(versions["features"].as_array().unwrap().len(), 1, "only the version in its area");
    assert_eq!(server.get_with(&format!("{ITEMS}/{}/versions", h.created), &key).status, 200);
    let [x0, y0, x1, y1] = h.bbox;
    let (z, x, y) = tile_of((x0 + x1) / 2.0, (y0 + y1) / 2.0, 14);
    let tile = format!("/collections/land.parcels/tiles/WebMercatorQuad/{z}/{y}/{x}");
    let scoped_tile = server.get_with(&format!("{tile}?datetime={t0}"), &key);
    assert_eq!(scoped_tile.status, 200);

    assert_eq!(server.get(&format!("{ITEMS}?datetime={t0}")).status, 401, "anonymous callers read no land here");
    let server = &h.server;

    // Strong per-feature ETags: 304 with it, a new one after an update.
    let url = format!("{ITEMS}/{}", h.moved);
    let first = server.get(&url);
    let tag = first.header("etag").unwrap().to_owned();
    assert_eq!(tag, format!("\"{}.3\"", h.moved), "strong, naming the version");
    let again = server.get_with(&url, &[("If-None-Match", &tag)]);
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    let html = server.get(&format!("{url}?f=html"));
    assert!(html.header("etag").is_some_and(|t| t != tag && t.starts_with(&format!("\"{}.3.", h.moved))));
    let then = server.get(&format!("{url}?datetime={t0}"));
    let then_tag = then.header("etag").unwrap().to_owned();
    assert!(then_tag.starts_with(&format!("\"{}.1.", h.moved)), "{then_tag}");

    // Past instants: immutable for anonymous callers, private with credentials; not within the
    // margin, nor for a version that is still current.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let items_then = format!("{ITEMS}?limit=5&datetime={t0}");
    let page = server.get(&items_then);
    assert_eq!(page.header("cache-control"), Some(IMMUTABLE));
    let page_tag = page.header("etag").unwrap().to_owned();
    assert_eq!(server.get(&format!("{url}?datetime={t0}")).header("cache-control"), Some(IMMUTABLE));
    let unchanged: i64 =
        client.query_one("SELECT id FROM land.parcels ORDER BY id OFFSET 10 LIMIT 1", &[]).await.unwrap().get(0);
    let still_current = server.get(&format!("{ITEMS}/{unchanged}?datetime={t0}"));
    assert_eq!(still_current.status, 200);
    assert_ne!(still_current.header("cache-control"), Some(IMMUTABLE), "a current version may gain a successor");
    let tile_then = server.get(&format!("{tile}?datetime={t0}"));
    assert_eq!(tile_then.header("cache-control"), Some(IMMUTABLE));
    assert_eq!(server.get_with(&items_then, &key).header("cache-control"), Some("private"));
    let now = instant(&client).await;
    assert_ne!(server.get(&format!("{ITEMS}?limit=5&datetime={now}")).header("cache-control"), Some(IMMUTABLE));
    assert!(server.get(&format!("{ITEMS}?limit=5")).header("cache-control").is_none());

    // A write later: the past page keeps its tag (304), the feature gets a new one.
    changeset(&client, &format!("UPDATE land.parcels SET address = 'v4' WHERE id = {}", h.moved)).await;
    server.wait_for_version(&client, "land.parcels").await;
    assert_eq!(server.get_with(&items_then, &[("If-None-Match", &page_tag)]).status, 304);
    let after = server.get_with(&url, &[("If-None-Match", &tag)]);
    assert_eq!(after.status, 200);
    assert_eq!(after.header("etag"), Some(format!("\"{}.4\"", h.moved).as_str()));
    assert_eq!(after.json()["properties"]["address"], "v4");
    assert_eq!(server.get(&format!("{url}?datetime={t0}")).header("etag"), Some(then_tag.as_str()));
}
