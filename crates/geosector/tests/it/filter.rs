//! OGC API - Features Part 3 (CQL2 filtering), black-box against `geosector serve`:
//! - the CQL2 Abstract Test Suite's expected counts (`tests/data/cql2`) on the official
//!   ne110m4cql2 data, loaded with `geosector import` into the conformance collections
//!   (`GEOSECTOR_CONFORMANCE_DATASETS=1`), every row in CQL2 text and in CQL2 JSON;
//! - the classes the ATS file holds no rows for here (case- and accent-insensitive, arithmetic,
//!   property-property), with counts worked out from the GeoJSON independently;
//! - Vietnamese accent-insensitive search, filter-crs, queryables, sortables, sortby,
//!   properties, filtered tiles, limits, and an injection corpus in every parameter.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use geozero::mvt::{Message, Tile};
use serde_json::Value;

use crate::ats::load_samples;
use crate::support::{testdata, Server, TestDb};

const SWITCH: (&str, &str) = ("GEOSECTOR_CONFORMANCE_DATASETS", "1");

/// Percent-encodes a query value.
pub fn enc(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `tests/data/cql2`.
fn cql2_data() -> Option<PathBuf> {
    Some(testdata().join("cql2"))
}

/// Imports the three ne110m layers through `geosector import`.
fn load_conformance(db: &TestDb, dir: &Path) {
    for layer in ["ne_110m_admin_0_countries", "ne_110m_populated_places_simple", "ne_110m_rivers_lake_centerlines"] {
        let file = dir.join(format!("ats-data/{layer}.geojson"));
        let run = db.geosector_env(&["import", &format!("ogc_conformance.{layer}"), file.to_str().unwrap()], &[SWITCH]);
        assert_eq!(run.code, Some(0), "{layer}: {}", run.text());
    }
}

/// The number of features a filter selects (all pages in one: the data are small).
fn count(server: &Server, collection: &str, filter: &str, lang: &str) -> Result<usize, String> {
    let path = format!("/collections/{collection}/items?limit=1000&filter-lang={lang}&filter={}", enc(filter));
    let response = server.get(&path);
    if response.status != 200 {
        return Err(format!("{} {}", response.status, response.text()));
    }
    let page = response.json();
    assert!(page["links"].as_array().unwrap().iter().all(|l| l["rel"] != "next"), "one page: {path}");
    Ok(page["features"].as_array().unwrap().len())
}

/// CQL2 text → CQL2 JSON with the `cql2` crate (the server parses both with it too, but
/// translates the trees itself).
fn to_json(text: &str) -> String {
    let expr = cql2::parse_text(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    expr.to_json().unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[tokio::test]
async fn cql2_abstract_test_suite_expected_counts() {
    let Some(dir) = cql2_data() else { return };
    let Some(db) = TestDb::migrated().await else { return };
    load_conformance(&db, &dir);
    let server = Server::start_env(&db, &[], &[SWITCH]);

    let mut reader = csv::Reader::from_path(dir.join("ats-data/ats-expected-counts.csv")).unwrap();
    let mut failures = Vec::new();
    let mut per_class: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
    for row in reader.records() {
        let row = row.unwrap();
        let (class, collection, filter, expected) = (&row[0], &row[1], &row[2], row[3].parse::<usize>().unwrap());
        let entry = per_class.entry(class.to_owned()).or_default();
        for (lang, text) in [("cql2-text", filter.to_owned()), ("cql2-json", to_json(filter))] {
            entry.1 += 1;
            match count(&server, collection, &text, lang) {
                Ok(n) if n == expected => entry.0 += 1,
                Ok(n) => failures.push(format!("{class} {collection} {lang} {text}: {n}, expected {expected}")),
                Err(e) => failures.push(format!("{class} {collection} {lang} {text}: {e}")),
            }
        }
    }
    eprintln!("ATS rows passed per class (text + JSON): {per_class:?}");
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    assert!(per_class.values().map(|(_, n)| n).sum::<usize>() >= 190, "every row, in both encodings");

    // The classes without rows in the file: counts from the GeoJSON (see the test's doc).
    let places = "ne_110m_populated_places_simple";
    for (filter, expected) in [
        ("CASEI(name) IN (casei('Kiev'), casei('kobenhavn'), casei('Berlin'), casei('athens'), casei('foo'))", 3),
        ("CASEI(name) LIKE casei('BER%')", 2),
        ("ACCENTI(name) = accenti('Chisinau')", 1),
        ("ACCENTI(name) = ACCENTI(nameascii)", 243),
        ("ACCENTI(name) <> name", 13),
        ("ACCENTI(CASEI(name)) LIKE accenti(casei('SÃ%'))", 12),
        ("pop_other = 1038280 + 8", 1),
        ("pop_max - pop_min > 10000000", 3),
        ("pop_other * 2 >= 6000000", 50),
        ("pop_max / 1000 > 10000", 17),
        ("pop_other % 2 = 0", 141),
        ("pop_max div 1000 = 0", 2),
        ("2 ^ 3 * 1000000 < pop_min", 11),
        ("pop_max > pop_min", 216),
        ("pop_other < pop_min", 91),
        ("pop_max = pop_min", 27),
        ("\"start\" < \"end\"", 3),
        ("name = nameascii", 230),
    ] {
        for (lang, text) in [("cql2-text", filter.to_owned()), ("cql2-json", to_json(filter))] {
            assert_eq!(count(&server, places, &text, lang), Ok(expected), "{lang}: {text}");
        }
    }

    // Queryables: JSON Schema 2020-12 with $id, types, formats and the geometry.
    let q = server.get(&format!("/collections/{places}/queryables"));
    assert_eq!(q.status, 200);
    assert_eq!(q.header("content-type"), Some("application/schema+json"));
    let q = q.json();
    assert_eq!(q["$schema"], "https://json-schema.org/draft/2020-12/schema");
    assert_eq!(q["$id"], format!("{}/collections/{places}/queryables", server.base));
    assert_eq!(q["type"], "object");
    assert_eq!(q["properties"]["pop_max"]["type"], "integer");
    assert_eq!(q["properties"]["date"]["format"], "date");
    assert_eq!(q["properties"]["start"]["format"], "date-time");
    assert_eq!(q["properties"]["boolean"]["type"], "boolean");
    assert_eq!(q["properties"]["geom"]["format"], "geometry-point");
    let conformance = server.get("/conformance").json().to_string();
    for class in
        ["ogcapi-features-3/1.0/conf/filter", "conf/features-filter", "conf/queryables", "cql2/1.0/conf/basic-cql2"]
    {
        assert!(conformance.contains(class), "{class}");
    }
}

#[tokio::test]
async fn the_conformance_collections_are_off_by_default() {
    let Some(db) = TestDb::migrated().await else { return };
    let server = Server::start(&db, &[]);
    assert_eq!(server.get("/collections/ne_110m_admin_0_countries").status, 404);
    let run = db.geosector(&["datasets"]);
    assert!(!run.stdout.contains("ogc_conformance"), "{}", run.text());
}

/// Every pair of examples (text and JSON) parses, and both translate to the same statement
/// on collections that have their properties (or fail alike): the same results.
#[test]
fn text_and_json_examples_agree() {
    let Some(dir) = cql2_data() else { return };
    let mut pairs = 0;
    for entry in std::fs::read_dir(dir.join("examples/text")).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let json_stem = stem.split("-alt").next().unwrap();
        let json_path = dir.join(format!("examples/json/{json_stem}.json"));
        let Ok(json) = std::fs::read_to_string(&json_path) else { continue };
        let text = std::fs::read_to_string(&path).unwrap();
        let a = cql2::parse_text(text.trim()).unwrap_or_else(|e| panic!("{stem}: {e}"));
        let b = cql2::parse_json(&json).unwrap_or_else(|e| panic!("{stem}.json: {e}"));
        let (ta, tb) = (translate_any(&a), translate_any(&b));
        assert_eq!(ta, tb, "{stem}: text and JSON differ");
        pairs += 1;
    }
    assert!(pairs >= 40, "only {pairs} pairs found");
}

/// Translates with every property the expression names declared as text, then (for those a
/// type error names) as a number, a timestamp, a geometry or an array, until it translates.
fn translate_any(expr: &cql2::Expr) -> Result<String, String> {
    use geosector_filter::{translate, FilterCrs, Queryables};
    let json: Value = serde_json::from_str(&expr.to_json().unwrap()).unwrap();
    let mut names = Vec::new();
    collect_properties(&json, &mut names);
    let kinds = [
        geosector_domain::FieldType::Text,
        geosector_domain::FieldType::Float,
        geosector_domain::FieldType::Timestamp,
        geosector_domain::FieldType::TextList,
        geosector_domain::FieldType::Boolean,
        geosector_domain::FieldType::Date,
    ];
    // Try each property as a geometry or as each type; keep the first combination that
    // translates (the examples use each property with one type).
    let mut last = String::new();
    for geometry_name in std::iter::once(None).chain(names.iter().map(|n| Some(n.clone()))) {
        let mut assignment: Vec<usize> = vec![0; names.len()];
        loop {
            let props: Vec<geosector_domain::Property> = names
                .iter()
                .zip(&assignment)
                .filter(|(n, _)| Some((*n).clone()) != geometry_name)
                .map(|(n, k)| geosector_domain::Property {
                    name: Box::leak(n.clone().into_boxed_str()),
                    kind: kinds[*k],
                })
                .collect();
            let spec = geometry_name.as_ref().map(|g| geosector_domain::GeometrySpec {
                column: Box::leak(g.clone().into_boxed_str()),
                ..geosector_domain::GeometrySpec::multipolygon(false)
            });
            let q = Queryables::new(&props, spec.as_ref());
            match translate(expr, &q, &FilterCrs::crs84(), 1) {
                Ok(sql) => return Ok(format!("{} {:?}", sql.condition, sql.values)),
                Err(e) => last = e.0,
            }
            // Next assignment (odometer), bounded by the few properties an example names.
            let mut i = 0;
            while i < assignment.len() {
                assignment[i] += 1;
                if assignment[i] < kinds.len() {
                    break;
                }
                assignment[i] = 0;
                i += 1;
            }
            if i == assignment.len() || names.len() > 4 {
                break;
            }
        }
    }
    Err(last)
}

fn collect_properties(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(p)) = o.get("property") {
                if !out.contains(p) {
                    out.push(p.clone());
                }
            }
            o.values().for_each(|x| collect_properties(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_properties(x, out)),
        _ => {}
    }
}

fn ids(page: &Value) -> Vec<i64> {
    page["features"].as_array().unwrap().iter().map(|f| f["id"].as_i64().unwrap()).collect()
}

async fn sql_ids(client: &tokio_postgres::Client, sql: &str) -> Vec<i64> {
    client.query(sql, &[]).await.unwrap().iter().map(|r| r.get(0)).collect()
}

#[tokio::test]
async fn filters_on_sector_data_sortby_properties_and_crs() {
    let Some(db) = TestDb::migrated().await else { return };
    load_samples(&db);
    let server = Server::start(&db, &[]);
    let client = db.client().await;

    // The example: land use ONT in a commune, area over 200 m², in a polygon.
    let polygon = "POLYGON((105.80 21.20, 105.90 21.20, 105.90 21.30, 105.80 21.30, 105.80 21.20))";
    let filter = format!(
        "main_land_use = 'ONT' AND commune_code = '00376' AND legal_area_m2 > 200 AND S_INTERSECTS(geom, {polygon})"
    );
    let page = server.get(&format!("/collections/land.parcels/items?limit=10000&filter={}", enc(&filter))).json();
    let expected = sql_ids(
        &client,
        &format!("SELECT id FROM land.parcels WHERE main_land_use = 'ONT' AND commune_code = '00376' AND legal_area_m2 > 200 AND ST_Intersects(geom, ST_GeomFromText('{polygon}', 4326)) ORDER BY id"),
    )
    .await;
    assert!(!expected.is_empty(), "the example selects something");
    assert_eq!(ids(&page), expected);

    assert_eq!(page["numberMatched"], expected.len(), "a first page holding every match counts them");
    let html = server.get(&format!("/collections/land.parcels/items?limit=5&f=html&filter={}", enc(&filter)));
    assert_eq!(html.status, 200);
    assert!(html.header("content-type").unwrap().starts_with("text/html") && html.text().contains("cursor="));

    // Keyset paging keeps the filter: following next links gives the same features.
    let mut seen = Vec::new();
    let mut url = format!("/collections/land.parcels/items?limit=7&filter={}", enc(&filter));
    loop {
        let page = server.get(&url).json();
        seen.extend(ids(&page));
        match page["links"].as_array().unwrap().iter().find(|l| l["rel"] == "next") {
            Some(next) => url = next["href"].as_str().unwrap().to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, expected);

    // filter-crs: the same polygon in EPSG:4326 (lat/lon), EPSG:3857 and VN-2000 TM-3.
    let flipped = "POLYGON((21.20 105.80, 21.20 105.90, 21.30 105.90, 21.30 105.80, 21.20 105.80))";
    let mercator: String = client
        .query_one(&format!("SELECT ST_AsText(ST_Transform(ST_GeomFromText('{polygon}', 4326), 3857))"), &[])
        .await
        .unwrap()
        .get(0);
    for (crs, wkt) in [("http://www.opengis.net/def/crs/EPSG/0/4326", flipped.to_owned()), ("EPSG:3857", mercator)] {
        let f = filter.replace(polygon, &wkt);
        let page = server
            .get(&format!("/collections/land.parcels/items?limit=10000&filter-crs={}&filter={}", enc(crs), enc(&f)))
            .json();
        assert_eq!(ids(&page), expected, "filter-crs {crs}");
    }
    let bad = server.get("/collections/land.parcels/items?filter-crs=EPSG:2154&filter=true");
    assert_eq!(bad.status, 400);
    assert!(bad.json()["description"].as_str().unwrap().starts_with("filter-crs:"));

    // Vietnamese, accent-insensitive: "Ha Noi" finds "Hà Nội", "Hang Dau" finds "Hàng Đậu".
    let stations = |f: &str| {
        server.get(&format!("/collections/environment.stations/items?limit=100&filter={}", enc(f))).json()["features"]
            .as_array()
            .unwrap()
            .len()
    };
    let in_ha_noi: i64 = client
        .query_one("SELECT count(*) FROM environment.stations WHERE operator LIKE '%Hà Nội'", &[])
        .await
        .unwrap()
        .get(0);
    assert!(in_ha_noi > 0);
    assert_eq!(stations("ACCENTI(operator) LIKE ACCENTI('%Ha Noi')") as i64, in_ha_noi);
    assert_eq!(stations("ACCENTI(name) LIKE ACCENTI('%Hang Dau')"), 1);
    assert_eq!(stations("ACCENTI(CASEI(name)) LIKE ACCENTI(CASEI('%HÀNG ĐẬU%'))"), 1);
    assert_eq!(stations("name LIKE '%Hang Dau%'"), 0, "without ACCENTI accents count");

    // sortby: descending area, paged by position to the end, in order, nothing lost.
    let total: i64 = client.query_one("SELECT count(*) FROM land.parcels", &[]).await.unwrap().get(0);
    let mut areas: Vec<Option<f64>> = Vec::new();
    let mut url = "/collections/land.parcels/items?limit=500&sortby=-legal_area_m2,%2Bparcel_number".to_owned();
    let mut all_ids = Vec::new();
    loop {
        let page = server.get(&url).json();
        for f in page["features"].as_array().unwrap() {
            areas.push(f["properties"]["legal_area_m2"].as_f64());
        }
        all_ids.extend(ids(&page));
        match page["links"].as_array().unwrap().iter().find(|l| l["rel"] == "next") {
            Some(next) => url = next["href"].as_str().unwrap().to_owned(),
            None => break,
        }
    }
    assert_eq!(all_ids.len() as i64, total);
    all_ids.sort_unstable();
    all_ids.dedup();
    assert_eq!(all_ids.len() as i64, total, "no feature twice");
    let known: Vec<f64> = areas.iter().flatten().copied().collect();
    assert!(known.windows(2).all(|w| w[0] >= w[1]), "descending");
    let bad = server.get("/collections/land.parcels/items?sortby=geom");
    assert_eq!(bad.status, 400);
    assert!(bad.json()["description"].as_str().unwrap().starts_with("sortby:"));
    let sortables = server.get("/collections/land.parcels/sortables").json();
    assert!(sortables["properties"].get("legal_area_m2").is_some() && sortables["properties"].get("geom").is_none());

    // properties: only the chosen ones.
    let page = server.get("/collections/land.parcels/items?limit=3&properties=commune_code,parcel_number").json();
    for f in page["features"].as_array().unwrap() {
        let keys: Vec<&String> = f["properties"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["commune_code", "parcel_number"]);
        assert!(f["geometry"].is_object());
    }
    let bad = server.get("/collections/land.parcels/items?properties=owner_name");
    assert_eq!(bad.status, 400);
    assert!(bad.json()["description"].as_str().unwrap().starts_with("properties:"));

    // Errors name the parameter and what is wrong.
    for (query, needle) in [
        ("filter=nope%20%3D%201", "unknown property \"nope\""),
        ("filter=FOO(commune_code)%20%3D%201", "unknown function"),
        ("filter=commune_code%20%3D", "not valid CQL2 text"),
        ("filter=commune_code%20%3D%205", "cannot compare a string with a number"),
        ("filter-lang=ecql&filter=true", "filter-lang:"),
        ("filter-lang=cql2-json&filter=%7B%22op%22%3A1%7D", "not valid CQL2 JSON"),
    ] {
        let r = server.get(&format!("/collections/land.parcels/items?{query}"));
        assert_eq!(r.status, 400, "{query}");
        let d = r.json()["description"].as_str().unwrap().to_owned();
        assert!(d.contains(needle) && (d.starts_with("filter:") || d.starts_with("filter-lang:")), "{query}: {d}");
    }

    // The OpenAPI document lists the new parameters and paths.
    let api = server.get("/api").json();
    let params: Vec<&str> = api["paths"]["/collections/land.parcels/items"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    for p in ["filter", "filter-lang", "filter-crs", "sortby", "properties"] {
        assert!(params.contains(&p), "{p}");
    }
    assert!(api["paths"].get("/collections/land.parcels/queryables").is_some());
}

#[tokio::test]
async fn filtered_tiles_show_only_the_filtered_features_and_bypass_the_cache() {
    let Some(db) = TestDb::migrated().await else { return };
    load_samples(&db);
    let server = Server::start(&db, &[]);
    let client = db.client().await;
    // A zoom-16 tile around a parcel, with and without a filter keeping that one parcel.
    let row = client
        .query_one("SELECT id, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM land.parcels ORDER BY id LIMIT 1", &[])
        .await
        .unwrap();
    let (id, lon, lat): (i64, f64, f64) = (row.get(0), row.get(1), row.get(2));
    let n = f64::from(1u32 << 16);
    let col = ((lon + 180.0) / 360.0 * n).floor();
    let r = lat.to_radians();
    let tile_row = ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor();
    let path = format!("/collections/land.parcels/tiles/WebMercatorQuad/16/{tile_row}/{col}");
    let parcel_number: String =
        client.query_one("SELECT parcel_number FROM land.parcels WHERE id = $1", &[&id]).await.unwrap().get(0);
    let sheet: i32 =
        client.query_one("SELECT sheet_number FROM land.parcels WHERE id = $1", &[&id]).await.unwrap().get(0);
    let filter = format!("parcel_number = '{parcel_number}' AND sheet_number = {sheet}");

    let plain = server.get(&path);
    assert_eq!(plain.status, 200);
    let plain_features = Tile::decode(plain.body.as_slice()).unwrap().layers[0].features.len();
    let filtered = server.get(&format!("{path}?filter={}", enc(&filter)));
    assert_eq!(filtered.status, 200);
    assert_eq!(filtered.header("x-tile-cache"), Some("bypass"));
    let tile = Tile::decode(filtered.body.as_slice()).unwrap();
    let features = &tile.layers[0].features;
    let allowed: Vec<i64> = client
        .query("SELECT id FROM land.parcels WHERE parcel_number = $1 AND sheet_number = $2", &[&parcel_number, &sheet])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(features.iter().any(|f| f.id == Some(u64::try_from(id).unwrap())));
    assert!(
        features.iter().all(|f| f.id.is_some_and(|i| allowed.contains(&i64::try_from(i).unwrap()))),
        "only features the filter selects"
    );
    assert!(features.len() < plain_features, "{} of {plain_features}", features.len());
    // The unfiltered tile is still the cached one, and a filter matching nothing gives 204.
    assert_eq!(server.get(&path).header("x-tile-cache"), Some("hit"));
    assert_eq!(server.get(&format!("{path}?filter={}", enc("parcel_number = 'không có'"))).status, 204);
    let bad = server.get(&format!("{path}?filter={}", enc("nope = 1")));
    assert_eq!(bad.status, 400);
    assert!(bad.json()["description"].as_str().unwrap().starts_with("filter:"));
    assert_eq!(server.get(&format!("{path}?limit=1")).status, 400, "tiles take only the filter parameters");
}

#[tokio::test]
async fn limits_and_the_injection_corpus_give_400s_and_never_run() {
    let Some(db) = TestDb::migrated().await else { return };
    load_samples(&db);
    let server = Server::start(&db, &[]);
    let client = db.client().await;
    let before: (i64, i64) = {
        let r = client
            .query_one(
                "SELECT (SELECT count(*) FROM land.parcels), (SELECT sum(version)::bigint FROM meta.table_versions)",
                &[],
            )
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };

    // Limits: size, depth, nodes.
    let huge = format!("parcel_number = '{}'", "x".repeat(40 * 1024));
    // Beyond 64 KiB the request line itself is refused by the HTTP layer, never a 500.
    let too_long = server.get(&format!("/collections/land.parcels/items?filter={}", "x".repeat(70 * 1024)));
    assert!((400..500).contains(&too_long.status), "{}", too_long.status);
    let deep = format!("{}commune_code = '1'{}", "(".repeat(200), ")".repeat(200));
    let deep_not = format!("{}commune_code = '1'", "NOT ".repeat(5000));
    let many = (0..1200).map(|i| format!("sheet_number = {i}")).collect::<Vec<_>>().join(" OR ");
    let deep_json = format!("{}true{}", "{\"op\":\"not\",\"args\":[".repeat(100), "]}".repeat(100));
    let long_in = format!("parcel_number IN ({})", (0..2000).map(|i| format!("'{i}'")).collect::<Vec<_>>().join(","));
    let arith = format!("sheet_number = {}", (0..600).map(|_| "1").collect::<Vec<_>>().join(" + "));
    let mut corpus: Vec<(String, String)> = vec![
        ("filter".into(), huge),
        ("filter".into(), deep),
        ("filter".into(), deep_not),
        ("filter".into(), many),
        ("filter".into(), long_in),
        ("filter".into(), arith),
        // Unclosed or invalid nesting made the parser backtrack exponentially (24 levels: 141 s
        // of CPU) until its call budget (`geosector_filter::PARSER_CALLS`).
        ("filter".into(), format!("{}sheet_number", "(".repeat(24))),
        ("filter".into(), format!("{}sheet_number", "(".repeat(64))),
        ("filter".into(), format!("{}sheet_number = {}", "(".repeat(40), ")".repeat(40))),
    ];
    let json = |f: &str| format!("filter-lang=cql2-json&filter={}", enc(f));
    let sleepers = [
        "commune_code = '1' OR pg_sleep(3) IS NULL",
        "pg_sleep(3) = 1",
        "commune_code = '1'; SELECT pg_sleep(3)",
        "commune_code = '1' -- ' OR true",
        "commune_code = '1' /* */ OR TRUE",
        "commune_code = $$x$$",
        "commune_code = E'\\x27 OR 1=1 --'",
        "\"commune_code\"\" = '' OR pg_sleep(3) IS NULL --\" = '1'",
        "commune_code = '1' UNION SELECT * FROM land_restricted.parties",
        "commune_code = 1; DROP TABLE land.parcels",
        "(SELECT 1) = 1",
        "geom = ST_GeomFromText('POINT(0 0)')",
        "S_INTERSECTS(geom, POINT(0 0)) OR pg_sleep(3)",
        "S_INTERSECTS(geom, 'POINT(0 0)')",
        "S_INTERSECTS(geom, POLYGON((0 0, 1 0, 1 1)))",
        "commune_code = 'ʼ OR 1=1 --'\u{2019}",
        "commune_code\u{FF1D}'1'",
        "sheet_number * 1e308 * 1e308 > 0",
        "0 ^ -1 = 1",
        "T_AFTER(survey_date, DATE('2024-13-45'))",
        "survey_date = DATE('2024-02-30')",
        "survey_date > '1; DROP TABLE x'",
        "land_use_codes = 'ONT'",
        "A_CONTAINS(land_use_codes, ('ONT', 1))",
        "commune_code LIKE 1",
        "main_land_use IN ()",
        "id = 1",
        "owner_name = 'x'",
        "parcel_number BETWEEN 1 AND 'x'",
        "BBOX(0,0,1,1) = 1",
        "S_INTERSECTS(geom, BBOX(0,0,1))",
        "casei(1) = 'x'",
    ]
    .map(str::to_owned);
    corpus.extend(sleepers.iter().map(|s| ("filter".to_owned(), s.clone())));
    let raw_json = [
        "{\"op\":\"=\",\"args\":[{\"property\":\"commune_code\"},\"1\"]}; SELECT pg_sleep(3)",
        "{\"op\":\"pg_sleep\",\"args\":[3]}",
        "{\"op\":\"=\",\"args\":[{\"property\":\"commune_code\\\" OR 1=1 --\"},\"1\"]}",
        "{\"op\":\"=\",\"args\":[{\"property\":\"commune_code\"}]}",
        "{\"op\":\"s_intersects\",\"args\":[{\"property\":\"geom\"},{\"type\":\"Point\",\"coordinates\":[\"0\",0]}]}",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    ];
    let mut queries: Vec<String> = corpus.iter().map(|(k, v)| format!("{k}={}", enc(v))).collect();
    queries.extend(raw_json.iter().map(|f| json(f)));
    queries.push(json(&deep_json));
    queries.push(format!("filter=true&filter-lang={}", enc("cql2-text'; SELECT pg_sleep(3) --")));
    queries.push(format!("filter=true&filter-crs={}", enc("EPSG:4326'; SELECT pg_sleep(3) --")));
    queries.push(format!("filter=true&filter-crs={}", enc("+proj=longlat +datum=WGS84")));
    queries.push(format!("sortby={}", enc("commune_code; SELECT pg_sleep(3)")));
    queries.push(format!("sortby={}", enc("\"commune_code\"")));
    queries.push(format!("sortby={}", enc("-(SELECT 1)")));
    queries.push(format!("properties={}", enc("commune_code, pg_sleep(3)")));
    queries.push(format!("properties={}", enc("*")));
    queries.push(format!("sortby=commune_code&cursor={}", enc("1; SELECT pg_sleep(3)")));
    queries.push(format!("sortby=commune_code&cursor={}", enc("-5")));
    queries.push(format!("filter=true&filter={}", enc("false")));
    queries.push(format!("bbox={}&filter=true", enc("1,2,3,4); SELECT pg_sleep(3)--")));
    queries.push(format!("commune_code={}&filter=true", enc("00376' OR '1'='1")));

    // The same on tiles.
    let started = Instant::now();
    let tile = server.get(&format!(
        "/collections/land.parcels/tiles/WebMercatorQuad/14/7212/13009?filter={}",
        enc(&format!("{}sheet_number", "(".repeat(30)))
    ));
    assert_eq!(tile.status, 400, "{}", tile.text());
    assert!(started.elapsed() < Duration::from_millis(2500), "a hostile tile filter took {:?}", started.elapsed());

    let mut statuses = std::collections::BTreeMap::new();
    for q in &queries {
        let started = Instant::now();
        let r = server.get(&format!("/collections/land.parcels/items?{q}"));
        let elapsed = started.elapsed();
        assert!(elapsed < Duration::from_millis(2500), "{q} took {elapsed:?}: it slept");
        assert_eq!(r.status, 400, "{q}: {} {}", r.status, r.text());
        let description = r.json()["description"].as_str().unwrap().to_owned();
        assert!(
            ["filter:", "filter-lang:", "filter-crs:", "sortby:", "properties:", "cursor:", "bbox:", "commune_code:"]
                .iter()
                .any(|p| description.starts_with(p)),
            "{q}: {description}"
        );
        *statuses.entry(r.status).or_insert(0) += 1;
    }
    // Literals with SQL inside are only strings, and a few odd but valid filters: they match
    // nothing (or are refused), and nothing runs.
    let literals =
        ["'; DROP TABLE land.parcels; --", "' OR '1'='1", "\\'; SELECT pg_sleep(3); --", "\u{0}", "\u{202E}1"]
            .map(|l| format!("parcel_number = '{}'", l.replace('\'', "''")));
    let odd = [
        "sheet_number / 0 = 1",
        "sheet_number % 0 = 1",
        "S_INTERSECTS(geom, POLYGON((0 0, 1 0, 0 1, 1 1, 0 0)))",
        "T_INTERSECTS(survey_date, INTERVAL('..','..')) AND parcel_number = 'none'",
    ]
    .map(str::to_owned);
    for f in literals.into_iter().chain(odd) {
        let started = Instant::now();
        let r = server.get(&format!("/collections/land.parcels/items?filter={}", enc(&f)));
        assert!(started.elapsed() < Duration::from_millis(2500));
        assert!(
            r.status == 400 || (r.status == 200 && r.json()["features"].as_array().unwrap().is_empty()),
            "{f}: {}",
            r.status
        );
        queries.push(f);
    }
    // Tiles take the same corpus.
    let tile = "/collections/land.parcels/tiles/WebMercatorQuad/14/7135/13085";
    for (_, v) in corpus.iter().take(20) {
        let r = server.get(&format!("{tile}?filter={}", enc(v)));
        assert!(r.status == 400 || r.status == 404, "tile {v}: {}", r.status);
    }
    eprintln!("injection corpus: {} requests, statuses {statuses:?}", queries.len());
    assert!(queries.len() >= 60);

    let after: (i64, i64) = {
        let r = client
            .query_one(
                "SELECT (SELECT count(*) FROM land.parcels), (SELECT sum(version)::bigint FROM meta.table_versions)",
                &[],
            )
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!(before, after, "no data changed");
    assert_eq!(server.get("/health").status, 200, "the server is still up");
}

#[tokio::test]
async fn gdal_turns_where_and_spat_into_filter_and_bbox() {
    use crate::clients::{run, tool};
    use std::process::Command;
    let Some(ogr2ogr) = tool("ogr2ogr") else { return };
    let Some(db) = TestDb::migrated().await else { return };
    load_samples(&db);
    let server = Server::start(&db, &[]);
    let client = db.client().await;
    let source = format!("OAPIF:{}/", server.base);
    let (x0, y0, x1, y1) = ("105.80", "21.20", "105.90", "21.30");
    let output = Command::new(&ogr2ogr)
        .env("CPL_DEBUG", "ON")
        .args(["-preserve_fid", "-f", "GeoJSON", "/vsistdout/", &source, "land.parcels"])
        .args(["-where", "main_land_use = 'ONT' AND legal_area_m2 > 200"])
        .args(["-spat", x0, y0, x1, y1])
        .output()
        .expect("run ogr2ogr");
    let log = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{log}");
    assert!(log.contains("filter="), "GDAL did not send the filter to the server:\n{log}");
    let copy: Value = serde_json::from_slice(&output.stdout).expect("GeoJSON from ogr2ogr");
    let mut got: Vec<i64> = copy["features"].as_array().unwrap().iter().map(|f| f["id"].as_i64().unwrap()).collect();
    got.sort_unstable();
    let expected = sql_ids(
        &client,
        &format!("SELECT id FROM land.parcels WHERE main_land_use = 'ONT' AND legal_area_m2 > 200 AND ST_Intersects(geom, ST_MakeEnvelope({x0}, {y0}, {x1}, {y1}, 4326)) ORDER BY id"),
    )
    .await;
    assert!(!expected.is_empty());
    assert_eq!(got, expected);
    // ogrinfo lists the filtered count the same way.
    let _ = run(Command::new(tool("ogrinfo").unwrap()).args(["-ro", "-so", &source, "land.parcels"]));
}

#[tokio::test]
async fn filters_combine_with_output_and_bbox_crs() {
    let Some(db) = TestDb::migrated().await else { return };
    load_samples(&db);
    let server = Server::start(&db, &[]);
    let client = db.client().await;
    let tm3 = "http%3A%2F%2Fwww.opengis.net%2Fdef%2Fcrs%2FEPSG%2F0%2F5897";
    let filter = "main_land_use%3D%27ONT%27";
    // The whole sample area as a TM-3 105° box (the bbox of the parcels there, with a margin).
    let row = client
        .query_one(
            "SELECT ST_XMin(b) - 10, ST_YMin(b) - 10, ST_XMax(b) + 10, ST_YMax(b) + 10
             FROM (SELECT ST_Extent(ST_Transform(geom, 905897))::geometry AS b FROM land.parcels) s",
            &[],
        )
        .await
        .unwrap();
    let bbox: Vec<String> = (0..4).map(|i| format!("{:.3}", row.get::<_, f64>(i))).collect();
    let plain = server.get(&format!("/collections/land.parcels/items?limit=1000&filter={filter}")).json();
    let projected = server.get(&format!(
        "/collections/land.parcels/items?limit=1000&filter={filter}&crs={tm3}&bbox-crs={tm3}&bbox={}",
        bbox.join(",")
    ));
    assert_eq!(projected.status, 200, "{}", projected.text());
    assert_eq!(projected.header("content-crs"), Some("<http://www.opengis.net/def/crs/EPSG/0/5897>"));
    let page = projected.json();
    assert_eq!(ids(&page), ids(&plain), "the same parcels, whatever the CRS");
    assert!(!ids(&page).is_empty());
    let x = page["features"][0]["geometry"]["coordinates"][0][0][0][0].as_f64().unwrap();
    assert!((400_000.0..700_000.0).contains(&x), "TM-3 eastings, got {x}");
    let sorted = server.get(&format!("/collections/land.parcels/items?limit=5&sortby=-legal_area_m2&crs={tm3}"));
    assert_eq!(sorted.status, 200, "{}", sorted.text());
    assert_eq!(sorted.header("content-crs"), Some("<http://www.opengis.net/def/crs/EPSG/0/5897>"));
}
