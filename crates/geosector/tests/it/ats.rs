//! OGC API - Features Part 1 abstract test suite, walked black-box against `geosector serve`
//! on the samples: landing links, OpenAPI 3.0, conformance, collections with CRS84 extents,
//! items (media type, numberReturned, numberMatched, limit, next links to the end, bbox,
//! datetime), errors (400 naming the parameter, 404), single features and HTML.

use serde_json::Value;

use crate::support::{Server, TestDb};

/// Loads the samples the tests read.
pub fn load_samples(db: &TestDb) {
    for (dataset, file) in [
        ("land.parcels", "data-samples/land/parcels_soc_son.fgb"),
        ("land.map_sheets", "data-samples/land/map_sheets_soc_son.geojson"),
        ("minerals.licences", "data-samples/minerals/licences.geojson"),
        ("minerals.licence_areas", "data-samples/minerals/licence_areas.geojson"),
        ("water.works", "data-samples/water/works.geojson"),
        ("environment.stations", "data-samples/environment/stations.geojson"),
    ] {
        let run = db.geosector(&["import", dataset, file]);
        assert_eq!(run.code, Some(0), "{dataset}: {}", run.text());
    }
}

fn link<'a>(doc: &'a Value, rel: &str) -> Option<&'a str> {
    doc["links"].as_array()?.iter().find(|l| l["rel"] == rel).and_then(|l| l["href"].as_str())
}

fn ids(page: &Value) -> Vec<i64> {
    page["features"].as_array().expect("features").iter().map(|f| f["id"].as_i64().expect("id")).collect()
}

/// Follows `next` links from `first`, checking each page; returns every id collected.
fn collect_pages(server: &Server, first: &str, limit: usize) -> Vec<i64> {
    let mut url = first.to_owned();
    let mut all = Vec::new();
    for _ in 0..10_000 {
        let response = server.get(&url);
        assert_eq!(response.status, 200, "{url}: {}", response.text());
        let page = response.json();
        let features = page["features"].as_array().expect("features").len();
        assert_eq!(page["numberReturned"].as_u64(), Some(features as u64), "{url}");
        assert!(features <= limit, "{url}: limit {limit} not respected ({features})");
        all.extend(ids(&page));
        match link(&page, "next") {
            Some(next) => url = next.to_owned(),
            None => return all,
        }
    }
    panic!("next links never end from {first}");
}

#[tokio::test]
async fn ogc_api_features_part1_checklist() {
    let Some(db) = TestDb::migrated().await else { return };
    load_samples(&db);
    let server = Server::start(&db, &[]);
    let client = db.client().await;

    // Landing page: service-desc, service-doc, conformance, data.
    let landing = server.get("/");
    assert_eq!(landing.status, 200);
    assert!(landing.header("content-type").unwrap_or_default().starts_with("application/json"));
    let landing = landing.json();
    for rel in ["service-desc", "service-doc", "conformance", "data", "self"] {
        assert!(link(&landing, rel).is_some(), "landing has no {rel} link");
    }

    // /api is an OpenAPI 3.0 document with every collection's items path and real limits.
    let api = server.get(link(&landing, "service-desc").unwrap());
    assert_eq!(api.status, 200);
    assert!(api.header("content-type").unwrap_or_default().contains("openapi"), "{:?}", api.header("content-type"));
    let api = api.json();
    assert!(api["openapi"].as_str().unwrap().starts_with("3.0."), "{}", api["openapi"]);
    assert!(api["info"]["title"].is_string() && api["info"]["version"].is_string());
    let items_op = &api["paths"]["/collections/land.parcels/items"]["get"];
    let limit =
        items_op["parameters"].as_array().unwrap().iter().find(|p| p["name"] == "limit").expect("limit parameter");
    assert_eq!(limit["schema"]["maximum"], 10_000);
    assert_eq!(limit["schema"]["default"], 10);
    assert!(items_op["parameters"].as_array().unwrap().iter().any(|p| p["name"] == "bbox"));
    assert!(items_op["parameters"].as_array().unwrap().iter().any(|p| p["name"] == "main_land_use"));
    for (path, item) in api["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            assert!(operation["responses"].is_object(), "{method} {path} has no responses");
        }
    }
    let doc = server.get(link(&landing, "service-doc").unwrap());
    assert_eq!(doc.status, 200);
    assert!(doc.header("content-type").unwrap_or_default().starts_with("text/html"));

    // Conformance.
    let conformance = server.get("/conformance").json();
    let classes: Vec<&str> = conformance["conformsTo"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    for class in ["core", "geojson", "html", "oas30"] {
        assert!(
            classes.contains(&format!("http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/{class}").as_str()),
            "{class}: {classes:?}"
        );
    }

    // Collections: id, links, CRS84 extent for those with geometry.
    let collections = server.get(link(&landing, "data").unwrap()).json();
    let list = collections["collections"].as_array().unwrap();
    assert!(list.len() >= 10, "{}", list.len());
    assert!(!list.iter().any(|c| c["id"].as_str().unwrap().contains("restricted")), "restricted data never published");
    for c in list {
        let id = c["id"].as_str().unwrap();
        assert!(link(c, "items").is_some() && link(c, "self").is_some(), "{id}");
        if id == "land.parcels" || id == "water.works" {
            let bbox = c["extent"]["spatial"]["bbox"][0].as_array().unwrap_or_else(|| panic!("{id}: no extent"));
            let b: Vec<f64> = bbox.iter().map(|v| v.as_f64().unwrap()).collect();
            assert!(b.len() == 4 && b[0] <= b[2] && b[1] <= b[3] && b[0] > 100.0 && b[3] < 25.0, "{id}: {b:?}");
            assert_eq!(c["extent"]["spatial"]["crs"], "http://www.opengis.net/def/crs/OGC/1.3/CRS84");
        }
        let single = server.get(&format!("/collections/{id}"));
        assert_eq!(single.status, 200, "{id}");
        assert_eq!(single.json()["id"], id);
    }

    // Items: media type, FeatureCollection, numberReturned, limit.
    let response = server.get("/collections/land.parcels/items?limit=7");
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("application/geo+json"));
    let page = response.json();
    assert_eq!(page["type"], "FeatureCollection");
    assert_eq!(ids(&page).len(), 7);
    assert_eq!(page["numberReturned"], 7);
    assert!(page["timeStamp"].is_string());
    for rel in ["self", "alternate", "next"] {
        assert!(link(&page, rel).is_some(), "items page has no {rel} link");
    }

    // Next links end, and collect every feature exactly once.
    let total: i64 = client.query_one("SELECT count(*) FROM land.parcels", &[]).await.unwrap().get(0);
    let all = collect_pages(&server, "/collections/land.parcels/items?limit=100", 100);
    assert_eq!(all.len() as i64, total);
    let mut sorted = all.clone();
    sorted.dedup();
    assert_eq!(sorted.len(), all.len(), "no feature twice");
    // numberMatched, where given, equals what the next links collect.
    let whole = server.get("/collections/land.parcels/items?limit=1000").json();
    assert_eq!(whole["numberMatched"].as_i64(), Some(total));
    assert_eq!(whole["numberReturned"].as_i64(), Some(total));
    assert!(link(&whole, "next").is_none());
    // Over the maximum: capped, not refused.
    let capped = server.get("/collections/land.parcels/items?limit=50000");
    assert_eq!(capped.status, 200);

    // bbox: every feature intersects it, and no intersecting feature is missing.
    let bbox = [105.846, 21.242, 105.850, 21.246];
    let query =
        format!("/collections/land.parcels/items?limit=50&bbox={},{},{},{}", bbox[0], bbox[1], bbox[2], bbox[3]);
    let in_bbox = collect_pages(&server, &query, 50);
    let expected: Vec<i64> = client
        .query(
            "SELECT id FROM land.parcels WHERE ST_Intersects(geom, ST_MakeEnvelope($1, $2, $3, $4, 4326)) ORDER BY id",
            &[&bbox[0], &bbox[1], &bbox[2], &bbox[3]],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(!expected.is_empty() && (expected.len() as i64) < total);
    assert_eq!(in_bbox, expected);
    // Six numbers (with heights) and a bbox crossing the antimeridian are accepted.
    assert_eq!(
        server
            .get(&format!("/collections/land.parcels/items?bbox={},{},0,{},{},100", bbox[0], bbox[1], bbox[2], bbox[3]))
            .json()["numberReturned"],
        10
    );
    let across = server.get("/collections/land.parcels/items?bbox=170,-10,-170,10");
    assert_eq!(across.status, 200);
    assert_eq!(across.json()["numberReturned"], 0);

    // The time property: instant, closed and open intervals, against the database. Parcels keep a
    // history, so `datetime` selects their versions (history_read.rs); their time property
    // (survey_date) is filtered with CQL2's temporal operators instead.
    for (cql, sql) in [
        ("T_INTERSECTS(survey_date, DATE('2019-01-21'))", "survey_date = '2019-01-21'"),
        (
            "T_INTERSECTS(survey_date, INTERVAL('2019-06-01', '2021-01-01'))",
            "survey_date BETWEEN '2019-06-01' AND '2021-01-01'",
        ),
        ("T_INTERSECTS(survey_date, INTERVAL('..', '2019-12-31'))", "survey_date <= '2019-12-31'"),
        ("survey_date >= DATE('2020-01-01')", "survey_date >= '2020-01-01'"),
        ("T_AFTER(survey_date, DATE('2022-05-31'))", "survey_date >= '2022-06-01'"),
    ] {
        let path = format!("/collections/land.parcels/items?limit=1000&filter={}", crate::support::encode(cql));
        let got = collect_pages(&server, &path, 1000).len() as i64;
        let want: i64 =
            client.query_one(&format!("SELECT count(*) FROM land.parcels WHERE {sql}"), &[]).await.unwrap().get(0);
        assert_eq!(got, want, "{cql}");
        assert!(want > 0 && want < total, "{cql} must select a part: {want}");
    }
    // On it, datetime is one instant (here before any version: nothing), never an interval.
    let before = server.get("/collections/land.parcels/items?datetime=2019-01-21");
    assert_eq!(before.json()["numberReturned"], 0, "no version existed in 2019");
    assert_eq!(server.get("/collections/land.parcels/items?datetime=2019-06-01%2F2021-01-01").status, 400);

    // Property filters.
    let ont = collect_pages(&server, "/collections/land.parcels/items?limit=1000&main_land_use=ONT", 1000).len() as i64;
    let want: i64 =
        client.query_one("SELECT count(*) FROM land.parcels WHERE main_land_use = 'ONT'", &[]).await.unwrap().get(0);
    assert_eq!(ont, want);
    let with_cln =
        collect_pages(&server, "/collections/land.parcels/items?limit=1000&land_use_codes=CLN", 1000).len() as i64;
    let want: i64 = client
        .query_one("SELECT count(*) FROM land.parcels WHERE 'CLN' = ANY(land_use_codes)", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(with_cln, want);
    assert_eq!(
        server.get("/collections/land.parcels/items?limit=1&commune_code=376").json()["numberReturned"],
        1,
        "codes are zero-padded"
    );

    // Errors: 400 naming the parameter, 404 for unknown things.
    for (query, param) in [
        ("limit=unlimited", "limit"),
        ("limit=0", "limit"),
        ("unknownQueryParameter=1", "unknownQueryParameter"),
        ("bbox=1,2,3", "bbox"),
        ("bbox=a,b,c,d", "bbox"),
        ("datetime=yesterday", "datetime"),
        ("sheet_number=one", "sheet_number"),
        ("f=xml", "f"),
        ("limit=5&limit=6", "limit"),
    ] {
        let response = server.get(&format!("/collections/land.parcels/items?{query}"));
        assert_eq!(response.status, 400, "{query}: {}", response.text());
        let body = response.json();
        assert_eq!(body["code"], "InvalidParameterValue", "{query}");
        assert!(body["description"].as_str().unwrap().starts_with(&format!("{param}:")), "{query}: {body}");
    }
    assert_eq!(
        server.get("/collections/minerals.licences/items?bbox=105,20,106,21").status,
        400,
        "no geometry, no bbox"
    );
    assert_eq!(
        server.get("/collections/environment.stations/items?datetime=2020-01-01").status,
        400,
        "no time property and no history"
    );
    assert_eq!(server.get("/collections/no.such/items").status, 404);
    assert_eq!(server.get("/collections/no.such").status, 404);
    assert_eq!(server.get("/collections/land.parcels/items/999999999").status, 404);
    assert_eq!(server.get("/collections/land.parcels/items/not-a-number").status, 404);
    assert_eq!(server.get("/no/such/path").status, 404);
    assert_eq!(server.get("/collections?bogus=1").status, 400);

    // A single feature: self, alternate and collection links.
    let id = all[3];
    let feature = server.get(&format!("/collections/land.parcels/items/{id}"));
    assert_eq!(feature.status, 200);
    assert_eq!(feature.header("content-type"), Some("application/geo+json"));
    let feature = feature.json();
    assert_eq!(feature["type"], "Feature");
    assert_eq!(feature["id"], id);
    for rel in ["self", "alternate", "collection"] {
        assert!(link(&feature, rel).is_some(), "feature has no {rel} link");
    }
    assert!(feature["properties"]["land_use_codes"].is_array());

    // A collection without geometry serves features with null geometry.
    let licences = server.get("/collections/minerals.licences/items").json();
    assert_eq!(licences["numberReturned"], 6);
    assert!(licences["features"][0]["geometry"].is_null());

    // HTML for every resource, by f= and by Accept.
    for path in [
        "/?f=html",
        "/conformance?f=html",
        "/collections?f=html",
        "/collections/land.parcels?f=html",
        "/collections/land.parcels/items?f=html&limit=5",
        &format!("/collections/land.parcels/items/{id}?f=html"),
        "/api?f=html",
    ] {
        let page = server.get(path);
        assert_eq!(page.status, 200, "{path}");
        assert!(page.header("content-type").unwrap_or_default().starts_with("text/html"), "{path}");
        assert!(page.text().contains("<html"), "{path}");
    }
    let items_html = server.get_with("/collections/land.parcels/items?limit=5", &[("Accept", "text/html")]);
    assert!(items_html.header("content-type").unwrap_or_default().starts_with("text/html"));
    assert!(items_html.text().contains("<svg"), "a map preview of the items");
    assert!(server.get("/collections?f=html").text().contains("Thửa đất"));

    // ETag and 304 on items and single features; a change of the data changes the tag.
    for path in ["/collections/land.parcels/items?limit=5", &format!("/collections/land.parcels/items/{id}")] {
        let first = server.get(path);
        let tag = first.header("etag").unwrap_or_else(|| panic!("{path}: no ETag")).to_owned();
        let again = server.get_with(path, &[("If-None-Match", &tag)]);
        assert_eq!(again.status, 304, "{path}");
        assert!(again.body.is_empty());
        assert_eq!(server.get_with(path, &[("If-None-Match", "W/\"other\"")]).status, 200);
        let html = server.get(&format!("{path}{}f=html", if path.contains('?') { '&' } else { '?' }));
        assert_ne!(html.header("etag"), Some(tag.as_str()), "JSON and HTML differ");
    }
    let path = "/collections/land.parcels/items?limit=5";
    let before = server.get(path).header("etag").unwrap().to_owned();
    client.execute("UPDATE land.parcels SET address = address || ' ' WHERE id = $1", &[&id]).await.unwrap();
    let after = server.get_with(path, &[("If-None-Match", &before)]);
    assert_eq!(after.status, 200, "a changed table never answers 304 to an old tag");
    assert_ne!(after.header("etag"), Some(before.as_str()));

    // Odd input is a 400 or a 404, never a 500.
    for path in [
        "/collections/land.parcels/items?bbox=1e400,0,1,1",
        "/collections/land.parcels/items?bbox=NaN,0,1,1",
        "/collections/land.parcels/items?limit=99999999999999999999999",
        "/collections/land.parcels/items?limit=-1",
        "/collections/land.parcels/items?cursor=abc",
        "/collections/land.parcels/items?datetime=2024-13-45",
        "/collections/land.parcels/items?datetime=..%2F..",
        "/collections/land.parcels/items?survey_date=not-a-date",
        "/collections/land.parcels/items?commune_code=%27%3B%20DROP%20TABLE%20land.parcels%3B--",
        "/collections/land.parcels/items?sheet_number=1%20OR%201%3D1",
        "/collections/land.parcels/items?%ZZ=1",
        "/collections/land.parcels/items/99999999999999999999999999",
        "/collections/%27%20OR%201%3D1/items",
        "/collections/land.parcels/items?f=",
    ] {
        let response = server.get(path);
        assert!(matches!(response.status, 400 | 404), "{path}: {} {}", response.status, response.text());
    }
    let still: i64 = client.query_one("SELECT count(*) FROM land.parcels", &[]).await.unwrap().get(0);
    assert_eq!(still, total);

    // Metrics: requests by route and status, latencies, the pool.
    let metrics = server.get("/metrics").text();
    assert!(
        metrics.contains("geosector_http_requests_total{route=\"/collections/{collectionId}/items\",status=\"200\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("status=\"400\"") && metrics.contains("geosector_http_request_duration_seconds_bucket"));
    assert!(metrics.contains("geosector_db_pool_max 4"), "{metrics}");

    // Health checks the database; CORS is open for web maps.
    assert_eq!(server.get("/health").json()["database"], "ok");
    let cors = server.get_with("/collections", &[("Origin", "http://example.org")]);
    assert_eq!(cors.header("access-control-allow-origin"), Some("http://example.org"));
    let gzip = server.get_with("/collections/land.parcels/items?limit=100", &[("Accept-Encoding", "gzip")]);
    assert_eq!(gzip.header("content-encoding"), Some("gzip"));
    let brotli = server.get_with("/collections/land.parcels/items?limit=100", &[("Accept-Encoding", "br")]);
    assert_eq!(brotli.header("content-encoding"), Some("br"));
}

/// The `limit` parameter of the parcels items path in `/api`.
fn limit_parameter(server: &Server) -> Value {
    let api = server.get("/api").json();
    let parameters = api["paths"]["/collections/land.parcels/items"]["get"]["parameters"].as_array().unwrap().clone();
    parameters.into_iter().find(|p| p["name"] == "limit").expect("limit parameter")
}

#[tokio::test]
async fn config_file_is_read_and_unknown_keys_refused() {
    let Some(db) = TestDb::migrated().await else { return };
    let tmp = tempfile::tempdir().unwrap();
    let good = tmp.path().join("geosector.toml");
    std::fs::write(&good, "default_limit = 3\nmax_limit = 50\nstatement_timeout_ms = 5000\n").unwrap();
    let server = Server::start(&db, &["--config", good.to_str().unwrap()]);
    let limit = limit_parameter(&server);
    assert_eq!((limit["schema"]["default"].as_i64(), limit["schema"]["maximum"].as_i64()), (Some(3), Some(50)));
    drop(server);
    // Flags override the file.
    let server = Server::start(&db, &["--config", good.to_str().unwrap(), "--max-limit", "70"]);
    let limit = limit_parameter(&server);
    assert_eq!(limit["schema"]["maximum"].as_i64(), Some(70));
    drop(server);

    let bad = tmp.path().join("bad.toml");
    std::fs::write(&bad, "max_limt = 50\n").unwrap();
    let run = db.geosector(&["serve", "--config", bad.to_str().unwrap(), "--bind", "127.0.0.1:0"]);
    assert_eq!(run.code, Some(2), "{}", run.text());
    assert!(run.stderr.contains("bad.toml") && run.stderr.contains("max_limt"), "{}", run.text());
}

#[tokio::test]
async fn sigterm_stops_the_server_gracefully() {
    let Some(db) = TestDb::migrated().await else { return };
    let mut server = Server::start(&db, &[]);
    assert_eq!(server.get("/health").status, 200);
    let pid = server.pid().to_string();
    let status = std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
    assert!(status.success());
    let started = std::time::Instant::now();
    let exit = loop {
        if let Some(exit) = server.try_wait() {
            break exit;
        }
        assert!(started.elapsed().as_secs() < 15, "the server did not stop within 15 s of SIGTERM");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(exit.success(), "{exit:?}");
}
