//! Access control on public data: area scopes from a token's claim, 401/403 by who asks, tokens
//! from a live OIDC-shaped issuer (rotated during the test), API keys from `geosector keys`, a
//! policy change applied at the next request, and caches that never hand one view's tile or
//! ETag to another.

use geosector_access::test_issuer::{Alg, TestIssuer};
use serde_json::{json, Value};

use crate::support::{Response, Server, TestDb};

const PARCELS: &str = "data-samples/land/parcels_soc_son.fgb";

/// The `[token]` section of a policy trusting the test issuer, with the area claim
/// `province_codes`.
pub fn token_section(issuer: &TestIssuer) -> String {
    format!(
        "[token]\nissuer = \"{}\"\naudience = \"geosector\"\nclient_id = \"geosector\"\narea_claim = \"province_codes\"\n",
        issuer.url()
    )
}

fn policy(issuer: &TestIssuer, anonymous_reads_land: bool) -> String {
    let land = if anonymous_reads_land { r#", "land.*""# } else { "" };
    format!(
        r#"{token}
[[grant]]
role = "anonymous"
collections = ["minerals.*", "water.*", "environment.*"{land}]
operations = ["read_items", "read_tiles"]

[[grant]]
role = "officer"
collections = ["land.*"]
operations = ["read_items", "read_tiles"]
area = "claim"

[[grant]]
role = "keyholder"
collections = ["land.parcels"]
operations = ["read_items", "read_tiles"]
area = ["01"]
"#,
        token = token_section(issuer)
    )
}

fn token(issuer: &TestIssuer, roles: &[&str], provinces: &[&str]) -> String {
    let mut claims = issuer.claims("officer-1", "geosector");
    claims["resource_access"] = json!({ "geosector": { "roles": roles } });
    claims["province_codes"] = json!(provinces);
    issuer.sign(&claims, Alg::Rs256)
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn count(response: &Response) -> usize {
    assert_eq!(response.status, 200, "{}", response.text());
    response.json()["features"].as_array().map_or(0, Vec::len)
}

#[tokio::test(flavor = "multi_thread")]
async fn scopes_tokens_keys_and_reloads() {
    let Some(db) = TestDb::migrated().await else { return };
    assert_eq!(db.geosector(&["reference", "data-samples/reference"]).code, Some(0));
    assert_eq!(db.geosector(&["import", "land.parcels", PARCELS]).code, Some(0));
    let total = db.count("land.parcels").await;
    assert!(total > 10);
    let issuer = TestIssuer::start();
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("access.toml");
    std::fs::write(&rules, policy(&issuer, false)).unwrap();
    let server = Server::start(&db, &["--access-file", rules.to_str().unwrap()]);
    let items = format!("/collections/land.parcels/items?limit={}", total + 1);

    // Anonymous: land is closed (401 with a Bearer challenge), the rest open.
    let closed = server.get(&items);
    assert_eq!(closed.status, 401);
    assert_eq!(closed.header("www-authenticate"), Some("Bearer realm=\"geosector\""));
    assert_eq!(closed.json()["code"], "Unauthorized");
    assert_eq!(server.get("/collections/land.parcels/tiles/WebMercatorQuad/14/7212/13009").status, 401);
    assert_eq!(server.get("/collections/minerals.licences/items").status, 200);

    // An officer of province 01 reads every parcel; one of province 79 none, not even by id.
    let hanoi = bearer(&token(&issuer, &["officer"], &["01"]));
    let saigon = bearer(&token(&issuer, &["officer"], &["79"]));
    assert_eq!(count(&server.get_with(&items, &[("Authorization", &hanoi)])) as i64, total);
    assert_eq!(count(&server.get_with(&items, &[("Authorization", &saigon)])), 0);
    let first = server.get_with("/collections/land.parcels/items?limit=1", &[("Authorization", &hanoi)]).json();
    let id = first["features"][0]["id"].as_i64().unwrap();
    let feature = format!("/collections/land.parcels/items/{id}");
    assert_eq!(server.get_with(&feature, &[("Authorization", &hanoi)]).status, 200);
    assert_eq!(server.get_with(&feature, &[("Authorization", &saigon)]).status, 404);
    let filtered = format!("{items}&filter=commune_code%20LIKE%20%27%25%27");
    assert_eq!(count(&server.get_with(&filtered, &[("Authorization", &saigon)])), 0, "a filter stays in scope");

    // Tiles: the province-01 view is cached; the province-79 view never gets it.
    let geometry = &first["features"][0]["geometry"]["coordinates"][0][0][0];
    let (lon, lat) = (geometry[0].as_f64().unwrap(), geometry[1].as_f64().unwrap());
    let (x, y) = geosector_crs::web_mercator::tile_of(lon, lat, 15);
    let tile = format!("/collections/land.parcels/tiles/WebMercatorQuad/15/{y}/{x}");
    let drawn = server.get_with(&tile, &[("Authorization", &hanoi)]);
    assert_eq!(drawn.status, 200);
    assert_eq!(drawn.header("cache-control"), Some("private"), "no shared cache keeps a caller's answer");
    assert!(drawn.headers.iter().any(|(k, v)| k == "vary" && v.contains("Authorization")));
    assert_eq!(server.get_with(&tile, &[("Authorization", &hanoi)]).header("x-tile-cache"), Some("hit"));
    let other = server.get_with(&tile, &[("Authorization", &saigon)]);
    assert_eq!(other.status, 204, "another province's view is drawn for it, empty");
    assert_ne!(drawn.header("etag"), other.header("etag"), "ETags differ per view");

    // Authenticated without a grant: 403, never naming what is withheld.
    let stranger = bearer(&token(&issuer, &["visitor"], &["01"]));
    let forbidden = server.get_with(&items, &[("Authorization", &stranger)]);
    assert_eq!(forbidden.status, 403);
    assert_eq!(forbidden.json(), json!({ "code": "Forbidden", "description": "not permitted" }));

    // Bad tokens: 401 invalid_token.
    let mut expired = issuer.claims("officer-1", "geosector");
    expired["exp"] = json!(1_000_000);
    let wrong_audience = issuer.claims("officer-1", "someone-else");
    let bad = [
        issuer.sign(&expired, Alg::Rs256),
        issuer.sign(&wrong_audience, Alg::Es256),
        TestIssuer::unsigned(&issuer.claims("officer-1", "geosector")),
        TestIssuer::tampered(&token(&issuer, &["officer"], &["01"]), &json!({ "province_codes": ["79", "01"] })),
        "not-a-token".to_owned(),
    ];
    for token in bad {
        let refused = server.get_with(&items, &[("Authorization", &bearer(&token))]);
        assert_eq!(refused.status, 401, "{token}");
        assert!(refused.header("www-authenticate").unwrap().contains("error=\"invalid_token\""));
    }

    // Keys rotate at the issuer: the server takes the new key without a restart.
    issuer.rotate(false);
    let rotated = bearer(&token(&issuer, &["officer"], &["01"]));
    assert_eq!(count(&server.get_with(&items, &[("Authorization", &rotated)])) as i64, total);

    // An API key in the query, kept in the next link; in a header; revoked.
    let created = db.geosector(&["keys", "create", "--name", "QGIS cũ", "--role", "keyholder", "--days", "1"]);
    assert_eq!(created.code, Some(0), "{}", created.text());
    let key = created.stdout.lines().find(|l| l.starts_with("gsk_")).expect("the key is printed").trim().to_owned();
    let stored: String =
        db.client().await.query_one("SELECT secret_hash FROM meta.api_keys", &[]).await.unwrap().get(0);
    assert!(!stored.contains(&key[key.len() - 20..]), "only a hash is stored");
    let page = server.get(&format!("/collections/land.parcels/items?limit=2&apikey={key}"));
    assert_eq!(count(&page), 2);
    let next = page.json()["links"].as_array().unwrap().iter().find(|l| l["rel"] == "next").cloned().unwrap();
    assert!(next["href"].as_str().unwrap().contains(&format!("apikey={key}")), "{next}");
    assert_eq!(count(&server.get(next["href"].as_str().unwrap())), 2);
    assert_eq!(server.get_with("/collections/land.parcels/items?limit=2", &[("X-API-Key", &key)]).status, 200);
    assert_eq!(server.get("/collections/land.parcels/items?apikey=gsk_000000000000_nope").status, 401);
    let id = key.split('_').nth(1).unwrap();
    assert_eq!(db.geosector(&["keys", "revoke", id]).code, Some(0));
    let listed = db.geosector(&["keys", "list"]).stdout;
    assert!(listed.contains("revoked") && !listed.contains(&key), "{listed}");
    tokio::time::sleep(geosector_server::keycache::KEY_TTL).await;
    assert_eq!(server.get(&format!("/collections/land.parcels/items?apikey={key}")).status, 401);

    // A policy change applies at the next request, without a restart.
    std::fs::write(&rules, policy(&issuer, true)).unwrap();
    assert_eq!(server.get("/collections/land.parcels/items?limit=1").status, 200);
    std::fs::write(&rules, "[[grant]]\nrole = 1\n").unwrap();
    assert_eq!(
        server.get("/collections/land.parcels/items?limit=1").status,
        200,
        "a broken file keeps the last policy"
    );
    let value: Value = server.get("/collections").json();
    assert!(value["collections"].as_array().unwrap().iter().any(|c| c["id"] == "land.parcels"));
}

#[tokio::test(flavor = "multi_thread")]
async fn time_series_and_dataset_tiles_stay_in_the_callers_area() {
    let Some(db) = TestDb::migrated().await else { return };
    let run = db.geosector(&["import", "environment.stations", "data-samples/environment/stations.geojson"]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let issuer = TestIssuer::start();
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("access.toml");
    let policy = format!(
        "{}\n[[grant]]\nrole = \"officer\"\ncollections = [\"environment.*\"]\noperations = [\"read_items\", \"read_tiles\"]\narea = \"claim\"\n",
        token_section(&issuer)
    );
    std::fs::write(&rules, policy).unwrap();
    let server = Server::start(&db, &["--access-file", rules.to_str().unwrap()]);
    let hanoi = bearer(&token(&issuer, &["officer"], &["01"]));
    let bac_ninh = bearer(&token(&issuer, &["officer"], &["24"]));

    // A Hà Nội station's series: Hà Nội's officer reads it; Bắc Ninh's finds no such station.
    let series = "/collections/environment.stations/items/HN_KK_SocSon/timeseries?parameter=aqi";
    assert_eq!(server.get_with(series, &[("Authorization", &hanoi)]).status, 200);
    assert_eq!(server.get_with(series, &[("Authorization", &bac_ninh)]).status, 404);
    assert_eq!(server.get(series).status, 401);

    // Dataset tiles draw each caller's own stations only.
    let station = server
        .get_with("/collections/environment.stations/items?station_code=HN_KK_SocSon", &[("Authorization", &hanoi)]);
    let point = &features_of(&station)[0]["geometry"]["coordinates"];
    let (x, y) = geosector_crs::web_mercator::tile_of(point[0].as_f64().unwrap(), point[1].as_f64().unwrap(), 12);
    let tile = format!("/tiles/WebMercatorQuad/12/{y}/{x}?collections=environment.stations");
    let mine = server.get_with(&tile, &[("Authorization", &hanoi)]);
    assert_eq!(mine.status, 200);
    let theirs = server.get_with(&tile, &[("Authorization", &bac_ninh)]);
    assert!(theirs.status == 204 || !theirs.body.windows(12).any(|w| w == b"HN_KK_SocSon"), "{}", theirs.status);
    assert!(mine.body.windows(12).any(|w| w == b"HN_KK_SocSon"), "the station is drawn for its own officer");
    assert_ne!(mine.header("etag"), theirs.header("etag"));
}

fn features_of(response: &Response) -> Vec<Value> {
    assert_eq!(response.status, 200, "{}", response.text());
    response.json()["features"].as_array().cloned().unwrap_or_default()
}
