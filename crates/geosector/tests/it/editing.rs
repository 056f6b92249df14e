//! OGC API - Features - Part 4 on a versioned collection, checked against the stored rows after
//! every step: the request sequence QGIS's OAPIF provider sends to edit (OPTIONS to find the
//! edit capabilities, POST without id reading the id from `Location`, GET, PATCH of the
//! geometry, PATCH of properties, DELETE; no `If-Match`), lost-update protection with
//! `If-Match` (two editors), the sector's rules on every write (422 with findings, or accepted
//! with flags), a VN-2000 body through `Content-Crs`, and the permission and area rules.

use serde_json::{json, Value};
use tokio_postgres::Client;

use crate::support::{Response, Server, TestDb};

const PARCELS: &str = "data-samples/land/parcels_soc_son.fgb";
const ITEMS: &str = "/collections/land.parcels/items";
const GEOJSON: (&str, &str) = ("Content-Type", "application/geo+json");
const MERGE_PATCH: (&str, &str) = ("Content-Type", "application/merge-patch+json");

/// Anonymous callers read; the role `editor` writes land, in province 01 for `local_editor`.
const POLICY: &str = r#"
[[grant]]
role = "anonymous"
collections = ["*"]
operations = ["read_items", "read_tiles"]

[[grant]]
role = "editor"
collections = ["land.*", "minerals.*", "water.*"]
operations = ["read_items", "read_tiles", "write"]

[[grant]]
role = "local_editor"
collections = ["land.parcels"]
operations = ["read_items", "write"]
area = ["79"]
"#;

/// A database with the sample parcels, a policy, and an API key per role.
pub(crate) struct Fixture {
    pub(crate) db: TestDb,
    pub(crate) policy: std::path::PathBuf,
    pub(crate) editor: String,
    local_editor: String,
}

pub(crate) async fn fixture() -> Option<Fixture> {
    let db = TestDb::migrated().await?;
    let loaded = db.geosector(&["import", "land.parcels", PARCELS]);
    assert_eq!(loaded.code, Some(0), "{}", loaded.text());
    let policy = std::env::temp_dir().join(format!("geosector-editing-{}-{}.toml", std::process::id(), db.url.len()));
    std::fs::write(&policy, POLICY).unwrap();
    let key = |role: &str| {
        let created = db.geosector(&["keys", "create", "--name", role, "--role", role, "--days", "1"]);
        assert_eq!(created.code, Some(0), "{}", created.text());
        created.stdout.lines().find(|l| l.starts_with("gsk_")).expect("the key is printed").trim().to_owned()
    };
    let (editor, local_editor) = (key("editor"), key("local_editor"));
    Some(Fixture { db, policy, editor, local_editor })
}

fn json_body(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap()
}

/// A small square parcel east of the sample's extent (no neighbour), in VN-2000 TM-3 (EPSG:5897)
/// coordinates offset from the sample's corner.
fn square(east: f64, north: f64, side: f64) -> Value {
    json!({ "type": "Polygon", "coordinates": [[[east, north], [east + side, north], [east + side, north + side], [east, north + side], [east, north]]] })
}

/// The same square in lon/lat, through the server itself (a parcel read back).
fn new_parcel(number: &str, geometry: Value) -> Value {
    json!({
        "type": "Feature",
        "geometry": geometry,
        "properties": {
            "commune_code": "00376", "sheet_number": 99, "parcel_number": number,
            "land_use_codes": ["ODT"], "address": "Thôn 9, Xã Sóc Sơn", "map_scale": 1000,
            "survey_date": "2026-11-02"
        }
    })
}

async fn stored(client: &Client, id: i64) -> Option<(i32, String, Value)> {
    client
        .query_opt(
            "SELECT version, coalesce(address, ''), ST_AsGeoJSON(geom)::jsonb FROM land.parcels WHERE id = $1",
            &[&id],
        )
        .await
        .unwrap()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
}

/// The history rows of a parcel: (version, retired).
pub(crate) async fn history(client: &Client, id: i64) -> Vec<(i32, bool)> {
    client
        .query("SELECT version, retired FROM land.parcels_history WHERE id = $1 ORDER BY version", &[&id])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

fn allow(response: &Response) -> Vec<String> {
    response.header("allow").unwrap_or_default().split(',').map(|m| m.trim().to_owned()).collect()
}

fn created_id(response: &Response) -> i64 {
    assert_eq!(response.status, 201, "{}", response.text());
    let location = response.header("location").expect("Location");
    // QGIS takes what follows "/items/" as the id.
    location[location.rfind("/items/").expect("an items URL") + "/items/".len()..].parse().expect("a numeric id")
}

#[tokio::test]
async fn qgis_edit_sequence_replayed_against_the_stored_rows() {
    let Some(f) = fixture().await else { return };
    let server = Server::start(&f.db, &["--access-file", f.policy.to_str().unwrap()]);
    let client = f.db.client().await;
    let key = ("X-API-Key", f.editor.as_str());

    // QGIS enables editing only when OPTIONS on /items lists POST; then probes a feature.
    let anonymous = server.request("OPTIONS", ITEMS, &[], None);
    assert_eq!(anonymous.status, 204);
    assert!(!allow(&anonymous).contains(&"POST".to_owned()), "an anonymous caller may not write");
    let options = server.request("OPTIONS", ITEMS, &[key], None);
    assert_eq!(options.status, 204);
    assert!(allow(&options).contains(&"POST".to_owned()), "{:?}", allow(&options));
    let first = server.get_with(&format!("{ITEMS}?limit=10"), &[key]).json()["features"][0]["id"].clone();
    for probe in [first.to_string(), "unknown_id".to_owned()] {
        let one = server.request("OPTIONS", &format!("{ITEMS}/{probe}"), &[key], None);
        for method in ["PUT", "PATCH", "DELETE"] {
            assert!(allow(&one).contains(&method.to_owned()), "{probe}: {:?}", allow(&one));
        }
    }
    assert_eq!(server.request("OPTIONS", "/collections/environment.stations/items", &[key], None).status, 204);
    assert!(
        !allow(&server.request("OPTIONS", "/collections/environment.stations/items", &[key], None))
            .contains(&"POST".to_owned()),
        "an unversioned collection takes no edit"
    );

    // The conformance and the API document declare the edits.
    let classes = server.get("/conformance").json()["conformsTo"].to_string();
    for class in ["create-replace-delete", "update", "optimistic-locking-etags", "features"] {
        assert!(classes.contains(&format!("ogcapi-features-4/1.0/conf/{class}")), "{classes}");
    }
    let api = server.get("/api?f=json").json();
    for method in ["post", "options"] {
        assert!(api["paths"][ITEMS].get(method).is_some(), "{method} on items in /api");
    }
    for method in ["put", "patch", "delete"] {
        assert!(api["paths"][&format!("{ITEMS}/{{featureId}}")].get(method).is_some(), "{method} on a feature");
    }
    assert!(api["paths"]["/changesets"].get("post").is_some());
    assert!(api["paths"]["/collections/environment.stations/items"].get("post").is_none());

    // POST without id, in VN-2000 TM-3 (Content-Crs), as QGIS sends a layer in that CRS.
    let (before_count, before_changesets) = (f.db.count("land.parcels").await, f.db.count("meta.changesets").await);
    let feature = new_parcel("9001", square(588_700.0, 2_349_800.0, 20.0));
    let crs = ("Content-Crs", "http://www.opengis.net/def/crs/EPSG/0/5897");
    let response = server.request("POST", ITEMS, &[key, GEOJSON, crs], Some(&json_body(&feature)));
    let id = created_id(&response);
    assert_eq!(response.header("etag"), Some(format!("\"{id}.1\"").as_str()));
    assert_eq!(f.db.count("land.parcels").await, before_count + 1);
    assert_eq!(f.db.count("meta.changesets").await, before_changesets + 1);
    let row = client
        .query_one(
            "SELECT p.version, p.source_srid, p.computed_area_m2, c.source, c.actor, p.changeset_id = c.id
             FROM land.parcels p JOIN meta.changesets c ON c.id = p.changeset_id WHERE p.id = $1",
            &[&id],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i32>(0), 1);
    assert_eq!(row.get::<_, i32>(1), 5897);
    assert!((row.get::<_, f64>(2) - 400.0).abs() < 1e-6, "the area of the square in its own plane");
    assert_eq!(row.get::<_, String>(3), "api");
    assert!(row.get::<_, String>(4).starts_with("key:"));
    let audited: i64 = client
        .query_one("SELECT count(*) FROM meta.audit WHERE action = 'write' AND $1 = ANY(feature_ids)", &[&id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(audited, 1, "the write is audited in its transaction");

    // GET of the new feature, as QGIS refreshes it.
    let read = server.get_with(&format!("{ITEMS}/{id}"), &[key]);
    assert_eq!(read.status, 200, "{}", read.text());
    assert_eq!(read.json()["properties"]["parcel_number"], "9001");

    // PATCH of the geometry (merge patch, Content-Crs), then of a property; no If-Match.
    let moved = json!({ "geometry": square(588_700.0, 2_349_800.0, 25.0) });
    let patched = server.request("PATCH", &format!("{ITEMS}/{id}"), &[key, MERGE_PATCH, crs], Some(&json_body(&moved)));
    assert_eq!(patched.status, 200, "{}", patched.text());
    let (version, address, _) = stored(&client, id).await.unwrap();
    assert_eq!((version, address.as_str()), (2, "Thôn 9, Xã Sóc Sơn"));
    let area: f64 =
        client.query_one("SELECT computed_area_m2 FROM land.parcels WHERE id = $1", &[&id]).await.unwrap().get(0);
    assert!((area - 625.0).abs() < 1e-6, "{area}");
    assert_eq!(history(&client, id).await, [(1, false)]);
    let renamed = json!({ "properties": { "address": "Số 2, Thôn 9", "main_land_use": "ignored: computed" } });
    let patched = server.request("PATCH", &format!("{ITEMS}/{id}"), &[key, MERGE_PATCH], Some(&json_body(&renamed)));
    assert_eq!(patched.status, 200, "{}", patched.text());
    assert_eq!(patched.header("etag"), Some(format!("\"{id}.3\"").as_str()));
    let (version, address, geometry) = stored(&client, id).await.unwrap();
    assert_eq!((version, address.as_str()), (3, "Số 2, Thôn 9"));
    let same_geometry: bool = client
        .query_one(
            "SELECT ST_Equals(geom, (SELECT geom FROM land.parcels_history WHERE id = $1 AND version = 2)) FROM land.parcels WHERE id = $1",
            &[&id],
        )
        .await
        .unwrap()
        .get(0);
    assert!(same_geometry, "a properties patch keeps the stored geometry exactly: {geometry}");

    // A patch that changes nothing makes no version.
    let again = server.request("PATCH", &format!("{ITEMS}/{id}"), &[key, MERGE_PATCH], Some(&json_body(&renamed)));
    assert_eq!(again.status, 200);
    assert_eq!(stored(&client, id).await.unwrap().0, 3);

    // DELETE: the feature is retired, its versions stay.
    let deleted = server.request("DELETE", &format!("{ITEMS}/{id}"), &[key], None);
    assert_eq!(deleted.status, 204, "{}", deleted.text());
    assert!(stored(&client, id).await.is_none());
    assert_eq!(history(&client, id).await, [(1, false), (2, false), (3, true)]);
    let gone = server.request("DELETE", &format!("{ITEMS}/{id}"), &[key], None);
    assert_eq!(gone.status, 410, "{}", gone.text());
    assert_eq!(gone.json()["code"], "Gone");
    let never = server.request("PATCH", &format!("{ITEMS}/999999999"), &[key, MERGE_PATCH], Some(b"{}"));
    assert_eq!(never.status, 404);
    // History is immutable, even to SQL.
    assert!(client.execute("DELETE FROM land.parcels_history WHERE id = $1", &[&id]).await.is_err());
    let _ = std::fs::remove_file(&f.policy);
}

#[tokio::test]
async fn if_match_stops_the_second_of_two_editors() {
    let Some(f) = fixture().await else { return };
    let server = Server::start(&f.db, &["--access-file", f.policy.to_str().unwrap()]);
    let client = f.db.client().await;
    let key = ("X-API-Key", f.editor.as_str());
    let feature = new_parcel("9002", square(588_700.0, 2_349_900.0, 20.0));
    let crs = ("Content-Crs", "http://www.opengis.net/def/crs/EPSG/0/5897");
    let created = server.request("POST", ITEMS, &[key, GEOJSON, crs], Some(&json_body(&feature)));
    let id = created_id(&created);
    let read = created.header("etag").unwrap().to_owned();
    let url = format!("{ITEMS}/{id}");

    // Both editors start from the same version; the first one's edit lands.
    let first = json!({ "properties": { "address": "editor A" } });
    let a = server.request("PATCH", &url, &[key, MERGE_PATCH, ("If-Match", &read)], Some(&json_body(&first)));
    assert_eq!(a.status, 200, "{}", a.text());
    let second = json!({ "properties": { "address": "editor B" } });
    let b = server.request("PATCH", &url, &[key, MERGE_PATCH, ("If-Match", &read)], Some(&json_body(&second)));
    assert_eq!(b.status, 412, "{}", b.text());
    assert_eq!(b.json()["code"], "PreconditionFailed");
    assert_eq!(stored(&client, id).await.unwrap().1, "editor A", "the lost update did not happen");
    // The second editor reads again and merges.
    let fresh = a.header("etag").unwrap().to_owned();
    let b = server.request("PATCH", &url, &[key, MERGE_PATCH, ("If-Match", &fresh)], Some(&json_body(&second)));
    assert_eq!(b.status, 200, "{}", b.text());
    // `*` matches any current version; a PUT replaces the whole feature.
    let mut whole = new_parcel("9002", square(588_700.0, 2_349_900.0, 20.0));
    whole["properties"]["address"] = json!("replaced");
    let put = server.request("PUT", &url, &[key, GEOJSON, crs, ("If-Match", "*")], Some(&json_body(&whole)));
    assert_eq!(put.status, 200, "{}", put.text());
    assert_eq!(stored(&client, id).await.unwrap(), (4, "replaced".into(), stored(&client, id).await.unwrap().2));
    // A stale If-Unmodified-Since is refused too.
    let stale = server.request("DELETE", &url, &[key, ("If-Unmodified-Since", "Sat, 01 Jan 2000 00:00:00 GMT")], None);
    assert_eq!(stale.status, 412, "{}", stale.text());

    // A collection configured to require If-Match: 428 without it.
    drop(server);
    let strict =
        Server::start(&f.db, &["--access-file", f.policy.to_str().unwrap(), "--require-if-match", "land.parcels"]);
    let patch = json_body(&json!({ "properties": { "address": "no If-Match" } }));
    let refused = strict.request("PATCH", &url, &[key, MERGE_PATCH], Some(&patch));
    assert_eq!(refused.status, 428, "{}", refused.text());
    assert_eq!(refused.json()["code"], "PreconditionRequired");
    let tag = format!("\"{id}.4\"");
    assert_eq!(strict.request("PATCH", &url, &[key, MERGE_PATCH, ("If-Match", &tag)], Some(&patch)).status, 200);
    let _ = std::fs::remove_file(&f.policy);
}

#[tokio::test]
async fn writes_run_the_sector_rules_and_the_policy() {
    let Some(f) = fixture().await else { return };
    let server = Server::start(&f.db, &["--access-file", f.policy.to_str().unwrap()]);
    let key = ("X-API-Key", f.editor.as_str());
    let crs = ("Content-Crs", "http://www.opengis.net/def/crs/EPSG/0/5897");
    let before = f.db.count("land.parcels").await;
    let changesets = f.db.count("meta.changesets").await;

    // A bow tie is not a valid polygon: 422 naming the rule, nothing stored.
    let mut bow_tie = new_parcel(
        "9003",
        json!({ "type": "Polygon", "coordinates": [[[588700.0, 2350000.0], [588720.0, 2350020.0], [588720.0, 2350000.0], [588700.0, 2350020.0], [588700.0, 2350000.0]]] }),
    );
    let refused = server.request("POST", ITEMS, &[key, GEOJSON, crs], Some(&json_body(&bow_tie)));
    assert_eq!(refused.status, 422, "{}", refused.text());
    let body = refused.json();
    assert_eq!(body["code"], "InvalidFeature");
    assert!(
        body["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "land.geometry_valid" && f["severity"] == "reject"),
        "{body}"
    );
    // An unknown land-use code: the field is named.
    bow_tie["geometry"] = square(588_700.0, 2_350_000.0, 20.0);
    bow_tie["properties"]["land_use_codes"] = json!(["XYZ"]);
    let refused = server.request("POST", ITEMS, &[key, GEOJSON, crs], Some(&json_body(&bow_tie)));
    assert_eq!(refused.status, 422, "{}", refused.text());
    assert!(refused.json()["findings"].as_array().unwrap().iter().any(|f| f["rule"] == "land.land_use_codes"));
    // A property the collection does not have, or a required one missing: named.
    let mut odd = new_parcel("9004", square(588_700.0, 2_350_100.0, 20.0));
    odd["properties"]["owner_name"] = json!("Nguyễn Văn A");
    let refused = server.request("POST", ITEMS, &[key, GEOJSON, crs], Some(&json_body(&odd)));
    assert_eq!(refused.status, 400, "{}", refused.text());
    assert!(refused.json()["description"].as_str().unwrap().contains("properties.owner_name"));
    let mut missing = new_parcel("9004", square(588_700.0, 2_350_100.0, 20.0));
    missing["properties"].as_object_mut().unwrap().remove("commune_code");
    let refused = server.request("POST", ITEMS, &[key, GEOJSON, crs], Some(&json_body(&missing)));
    assert_eq!(refused.status, 422, "{}", refused.text());
    assert_eq!(refused.json()["findings"][0]["field"], "commune_code");
    assert_eq!(f.db.count("land.parcels").await, before, "nothing stored");
    assert_eq!(f.db.count("meta.changesets").await, changesets, "no changeset either");

    // A flagged finding: stored, the findings returned. Overlapping a stored parcel (the
    // sample's first one, at the sample's corner) flags land.overlaps.
    let overlapping = new_parcel("9005", square(587_405.0, 2_349_765.0, 20.0));
    let flagged = server.request("POST", ITEMS, &[key, GEOJSON, crs], Some(&json_body(&overlapping)));
    assert_eq!(flagged.status, 201, "{}", flagged.text());
    let findings = flagged.json()["findings"].clone();
    assert!(
        findings.as_array().unwrap().iter().any(|f| f["rule"] == "land.overlaps" && f["severity"] == "flag"),
        "{findings}"
    );
    assert_eq!(f.db.count("land.parcels").await, before + 1);

    // A patch is judged on what it changes: a stored legacy code flags, it does not block an
    // address correction; sending that code is still refused.
    let legacy: i64 = f.db.client().await.query_one("SELECT min(id) FROM land.parcels", &[]).await.unwrap().get(0);
    f.db.client()
        .await
        .execute("UPDATE land.parcels SET land_use_codes = '{BHK}', survey_date = NULL WHERE id = $1", &[&legacy])
        .await
        .unwrap();
    let address = json_body(&json!({ "properties": { "address": "Thôn 1, đã sửa" } }));
    let corrected = server.request("PATCH", &format!("{ITEMS}/{legacy}"), &[key, MERGE_PATCH], Some(&address));
    assert_eq!(corrected.status, 200, "{}", corrected.text());
    let flags = corrected.json()["findings"].clone();
    assert!(
        flags.as_array().unwrap().iter().any(|f| f["rule"] == "land.land_use_codes" && f["severity"] == "flag"),
        "{flags}"
    );
    let code = json_body(&json!({ "properties": { "land_use_codes": ["BHK"] } }));
    let refused = server.request("PATCH", &format!("{ITEMS}/{legacy}"), &[key, MERGE_PATCH], Some(&code));
    assert_eq!(refused.status, 422, "{}", refused.text());

    // Bad requests: media type, JSON, size, a query parameter, a mismatched id.
    let feature = json_body(&new_parcel("9006", square(588_700.0, 2_350_200.0, 20.0)));
    assert_eq!(server.request("POST", ITEMS, &[key, ("Content-Type", "text/plain"), crs], Some(&feature)).status, 415);
    assert_eq!(server.request("POST", ITEMS, &[key, GEOJSON], Some(b"{not json")).status, 400);
    assert_eq!(server.request("POST", &format!("{ITEMS}?f=json"), &[key, GEOJSON, crs], Some(&feature)).status, 400);
    let huge = vec![b' '; 17 * 1024 * 1024];
    assert_eq!(server.request("POST", ITEMS, &[key, GEOJSON], Some(&huge)).status, 413);
    let first: i64 = f.db.client().await.query_one("SELECT min(id) FROM land.parcels", &[]).await.unwrap().get(0);
    let mut other = new_parcel("9007", square(588_700.0, 2_350_300.0, 20.0));
    other["id"] = json!(first + 1);
    let mismatched = server.request("PUT", &format!("{ITEMS}/{first}"), &[key, GEOJSON, crs], Some(&json_body(&other)));
    assert_eq!(mismatched.status, 400, "{}", mismatched.text());
    assert_eq!(
        server.request("POST", "/collections/environment.stations/items", &[key, GEOJSON], Some(&feature)).status,
        405
    );
    assert_eq!(server.request("POST", "/collections/nowhere/items", &[key, GEOJSON], Some(&feature)).status, 404);

    // Who may write: nobody anonymous (401), a reader (403), a local editor only in its area.
    assert_eq!(server.request("POST", ITEMS, &[GEOJSON, crs], Some(&feature)).status, 401);
    let local = ("X-API-Key", f.local_editor.as_str());
    let outside = server.request("POST", ITEMS, &[local, GEOJSON, crs], Some(&feature));
    assert_eq!(outside.status, 403, "commune 00376 is in province 01, not 79: {}", outside.text());
    let stored_outside = server.request("DELETE", &format!("{ITEMS}/{first}"), &[local], None);
    assert_eq!(stored_outside.status, 403, "{}", stored_outside.text());
    assert!(
        !allow(&server.request("OPTIONS", &format!("{ITEMS}/{first}"), &[local], None)).contains(&"DELETE".to_owned())
    );
    assert_eq!(f.db.count("land.parcels").await, before + 1);
    let _ = std::fs::remove_file(&f.policy);
}

/// A rectangle in VN-2000 TM-3 (EPSG:5897) coordinates.
fn rectangle(east: f64, north: f64, width: f64, height: f64) -> Value {
    json!({ "type": "Polygon", "coordinates": [[[east, north], [east + width, north], [east + width, north + height], [east, north + height], [east, north]]] })
}

fn post_changeset(server: &Server, key: (&str, &str), body: &Value) -> Response {
    server.request("POST", "/changesets", &[key, ("Content-Type", "application/json")], Some(&json_body(body)))
}

fn operation_ids(response: &Response) -> Vec<i64> {
    assert_eq!(response.status, 201, "{}", response.text());
    response.json()["operations"].as_array().unwrap().iter().map(|o| o["id"].as_i64().unwrap()).collect()
}

/// Which of `ids` had a version valid at `instant`, from the stored versions.
async fn ids_at(client: &Client, instant: &str, ids: &[i64]) -> Vec<i64> {
    let sql = "SELECT id FROM land.parcels WHERE version_from <= $1::text::timestamptz AND id = ANY($2)
               UNION SELECT id FROM land.parcels_history
                     WHERE version_from <= $1::text::timestamptz AND version_to > $1::text::timestamptz AND id = ANY($2)
               ORDER BY 1";
    client.query(sql, &[&instant, &ids]).await.unwrap().iter().map(|r| r.get(0)).collect()
}

#[tokio::test]
async fn split_and_merge_are_atomic_changesets_with_lineage() {
    let Some(f) = fixture().await else { return };
    let server = Server::start(&f.db, &["--access-file", f.policy.to_str().unwrap()]);
    let client = f.db.client().await;
    let key = ("X-API-Key", f.editor.as_str());
    let crs = "http://www.opengis.net/def/crs/EPSG/0/5897";
    let parcel = |number: &str, geometry: Value| new_parcel(number, geometry);

    // The parcel to split: 30 m × 30 m.
    let made = post_changeset(
        &server,
        key,
        &json!({ "crs": crs, "operations": [{ "op": "create", "collection": "land.parcels", "feature": parcel("100", rectangle(588_700.0, 2_350_500.0, 30.0, 30.0)) }] }),
    );
    let parent = operation_ids(&made)[0];

    // Split into three strips of 10 m × 30 m, under one decision.
    let split = post_changeset(
        &server,
        key,
        &json!({
            "changeType": "TN", "reference": "15/QĐ-UBND", "referenceDate": "2026-11-30", "note": "Tách thửa 100",
            "crs": crs,
            "operations": [
                { "op": "delete", "collection": "land.parcels", "id": parent, "ifMatch": format!("\"{parent}.1\"") },
                { "op": "create", "collection": "land.parcels", "parents": [parent], "feature": parcel("100a", rectangle(588_700.0, 2_350_500.0, 10.0, 30.0)) },
                { "op": "create", "collection": "land.parcels", "parents": [parent], "feature": parcel("100b", rectangle(588_710.0, 2_350_500.0, 10.0, 30.0)) },
                { "op": "create", "collection": "land.parcels", "parents": [parent], "feature": parcel("100c", rectangle(588_720.0, 2_350_500.0, 10.0, 30.0)) },
            ]
        }),
    );
    let split_at = split.json()["at"].as_str().unwrap().to_owned();
    let children = operation_ids(&split)[1..].to_vec();
    assert_eq!(children.len(), 3);
    let shares: Vec<f64> = client
        .query("SELECT area_share FROM meta.lineage WHERE parent_id = $1 ORDER BY child_id", &[&parent])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(shares.len(), 3);
    assert!(shares.iter().all(|s| (s - 1.0 / 3.0).abs() < 1e-3), "{shares:?}");
    let times: (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) = {
        let row = client
            .query_one(
                "SELECT (SELECT version_to FROM land.parcels_history WHERE id = $1 AND retired),
                        (SELECT min(version_from) FROM land.parcels WHERE id = ANY($2))",
                &[&parent, &children],
            )
            .await
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert_eq!(times.0, times.1, "the parent ends when its children begin");
    let changeset: (String, Option<String>, Option<chrono::NaiveDate>) = {
        let row = client
            .query_one(
                "SELECT change_type, reference, reference_date FROM meta.changesets c JOIN land.parcels p ON p.changeset_id = c.id WHERE p.id = $1",
                &[&children[0]],
            )
            .await
            .unwrap();
        (row.get(0), row.get(1), row.get(2))
    };
    assert_eq!(changeset.0, "TN");
    assert_eq!(changeset.1.as_deref(), Some("15/QĐ-UBND"));
    assert_eq!(changeset.2.map(|d| d.to_string()).as_deref(), Some("2026-11-30"));

    // Merge the first two strips into one.
    let merge = post_changeset(
        &server,
        key,
        &json!({
            "changeType": "TN", "reference": "16/QĐ-UBND", "crs": crs,
            "operations": [
                { "op": "delete", "collection": "land.parcels", "id": children[0] },
                { "op": "delete", "collection": "land.parcels", "id": children[1] },
                { "op": "create", "collection": "land.parcels", "parents": [children[0], children[1]], "feature": parcel("100d", rectangle(588_700.0, 2_350_500.0, 20.0, 30.0)) },
            ]
        }),
    );
    let merged = operation_ids(&merge)[2];
    let merged_shares: Vec<f64> = client
        .query("SELECT area_share FROM meta.lineage WHERE child_id = $1", &[&merged])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(merged_shares.len(), 2);
    assert!(merged_shares.iter().all(|s| (s - 1.0).abs() < 1e-6), "{merged_shares:?}");

    // The lineage walk, both ways.
    let up = server.get(&format!("{ITEMS}/{merged}/lineage")).json();
    let ancestors: Vec<(i64, i64, i64)> = up["ancestors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["parent"].as_i64().unwrap(), e["child"].as_i64().unwrap(), e["generation"].as_i64().unwrap()))
        .collect();
    let mut expected =
        vec![(children[0], merged, 1), (children[1], merged, 1), (parent, children[0], 2), (parent, children[1], 2)];
    expected.sort_unstable();
    let mut got = ancestors.clone();
    got.sort_unstable();
    assert_eq!(got, expected, "{up}");
    assert!(up["ancestors"].as_array().unwrap().iter().all(|e| e["changeType"] == "TN"));
    let down = server.get(&format!("{ITEMS}/{parent}/lineage")).json();
    assert_eq!(down["retired"], true);
    let descendants: Vec<i64> =
        down["descendants"].as_array().unwrap().iter().map(|e| e["child"].as_i64().unwrap()).collect();
    assert_eq!(descendants.len(), 5, "three strips, then the merged parcel from two of them: {down}");
    assert!(descendants.contains(&merged) && children.iter().all(|c| descendants.contains(c)));
    assert_eq!(
        server.get(&format!("{ITEMS}/{parent}/lineage?generations=1")).json()["descendants"].as_array().unwrap().len(),
        3
    );
    assert_eq!(server.get(&format!("{ITEMS}/{parent}/lineage?generations=0")).status, 400);
    assert_eq!(server.get(&format!("{ITEMS}/999999999/lineage")).status, 404);

    // As of the instant before the split, the parent was the parcel; after it, the strips.
    let ids: Vec<i64> = [vec![parent, merged], children.clone()].concat();
    let before =
        (chrono::DateTime::parse_from_rfc3339(&split_at).unwrap() - chrono::Duration::microseconds(1)).to_rfc3339();
    assert_eq!(ids_at(&client, &before, &ids).await, [parent]);
    assert_eq!(ids_at(&client, &split_at, &ids).await, children);
    // The same through the API: `datetime` selects the versions valid at that instant.
    let numbers_at = |instant: &str| {
        let page =
            server.get(&format!("{ITEMS}?sheet_number=99&limit=100&datetime={}", crate::support::encode(instant)));
        assert_eq!(page.status, 200, "{}", page.text());
        let mut numbers: Vec<String> = page.json()["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["properties"]["parcel_number"].as_str().unwrap().to_owned())
            .collect();
        numbers.sort();
        numbers
    };
    let merge_at = merge.json()["at"].as_str().unwrap().to_owned();
    let before_merge =
        (chrono::DateTime::parse_from_rfc3339(&merge_at).unwrap() - chrono::Duration::microseconds(1)).to_rfc3339();
    assert_eq!(numbers_at(&before), ["100"]);
    assert_eq!(numbers_at(&split_at), ["100a", "100b", "100c"]);
    assert_eq!(numbers_at(&before_merge), ["100a", "100b", "100c"]);
    assert_eq!(numbers_at(&merge_at), ["100c", "100d"]);
    let retired = server.get(&format!("{ITEMS}/{parent}?datetime={}", crate::support::encode(&split_at)));
    assert_eq!(retired.status, 410, "{}", retired.text());
    let earlier = server.get(&format!("{ITEMS}/{parent}?datetime={}", crate::support::encode(&before)));
    assert_eq!(earlier.status, 200, "{}", earlier.text());

    // All or none: the third operation fails, nothing of the first two stays.
    let counts = || async {
        (f.db.count("land.parcels").await, f.db.count("meta.changesets").await, f.db.count("meta.lineage").await)
    };
    let before_failure = counts().await;
    let failing = post_changeset(
        &server,
        key,
        &json!({
            "changeType": "TN", "crs": crs,
            "operations": [
                { "op": "create", "collection": "land.parcels", "feature": parcel("200", rectangle(588_800.0, 2_350_500.0, 10.0, 10.0)) },
                { "op": "update", "collection": "land.parcels", "id": children[2], "patch": { "properties": { "address": "changed" } } },
                { "op": "create", "collection": "land.parcels", "feature": parcel("201", json!({ "type": "Polygon", "coordinates": [[[588800.0, 2350600.0], [588810.0, 2350610.0], [588810.0, 2350600.0], [588800.0, 2350610.0], [588800.0, 2350600.0]]] })) },
            ]
        }),
    );
    assert_eq!(failing.status, 422, "{}", failing.text());
    let findings = failing.json()["findings"].clone();
    assert!(
        findings.as_array().unwrap().iter().any(|f| f["operation"] == 2 && f["rule"] == "land.geometry_valid"),
        "{findings}"
    );
    assert_eq!(counts().await, before_failure, "no partial changeset");
    let unchanged: String = client
        .query_one("SELECT coalesce(address, '') FROM land.parcels WHERE id = $1", &[&children[2]])
        .await
        .unwrap()
        .get(0);
    assert_ne!(unchanged, "changed");
    let missing = post_changeset(
        &server,
        key,
        &json!({ "operations": [
            { "op": "create", "collection": "land.parcels", "crs": crs, "feature": parcel("202", rectangle(588_800.0, 2_350_700.0, 10.0, 10.0)) },
        ] }),
    );
    assert_eq!(missing.status, 400, "an operation member that does not exist: {}", missing.text());
    let gone = post_changeset(
        &server,
        key,
        &json!({ "crs": crs, "operations": [
            { "op": "create", "collection": "land.parcels", "feature": parcel("203", rectangle(588_800.0, 2_350_800.0, 10.0, 10.0)) },
            { "op": "delete", "collection": "land.parcels", "id": parent },
        ] }),
    );
    assert_eq!(gone.status, 410, "{}", gone.text());
    assert!(gone.json()["description"].as_str().unwrap().starts_with("operation 1"));
    let bad_type = post_changeset(
        &server,
        key,
        &json!({ "changeType": "XX", "operations": [{ "op": "delete", "collection": "land.parcels", "id": children[2] }] }),
    );
    assert_eq!(bad_type.status, 400, "{}", bad_type.text());
    assert!(bad_type.json()["description"].as_str().unwrap().contains("TN"));
    assert_eq!(counts().await, before_failure);

    // The changeset reads back, without its actor.
    let read = server.get(&format!("/changesets/{}", split.json()["id"])).json();
    assert_eq!(read["reference"], "15/QĐ-UBND");
    assert_eq!(read["features"].as_array().unwrap().len(), 4, "{read}");
    assert!(read.get("actor").is_none());
    let _ = std::fs::remove_file(&f.policy);
}

#[tokio::test]
async fn licence_decisions_are_changesets_and_history_is_never_backdated() {
    let Some(f) = fixture().await else { return };
    let loaded = f.db.geosector(&["import", "minerals.licences", "data-samples/minerals/licences.geojson"]);
    assert_eq!(loaded.code, Some(0), "{}", loaded.text());
    let server = Server::start(&f.db, &["--access-file", f.policy.to_str().unwrap()]);
    let client = f.db.client().await;
    let key = ("X-API-Key", f.editor.as_str());
    let licences = "/collections/minerals.licences/items";
    let first = server.get(&format!("{licences}?limit=1")).json()["features"][0].clone();
    let id = first["id"].as_i64().unwrap();
    let url = format!("{licences}/{id}");

    // An extension: a decision with its number and date, recorded as the version's changeset.
    let extend = json_body(&json!({ "properties": { "valid_to": "2035-12-31" } }));
    let headers = [
        key,
        MERGE_PATCH,
        ("Geosector-Change-Type", "extend"),
        ("Geosector-Reference", "88%2FGP-BNNMT"),
        ("Geosector-Reference-Date", "2026-12-01"),
        ("Geosector-Note", "Gia h%E1%BA%A1n gi%E1%BA%A5y ph%C3%A9p"),
    ];
    let extended = server.request("PATCH", &url, &headers, Some(&extend));
    assert_eq!(extended.status, 200, "{}", extended.text());
    let row = client
        .query_one(
            "SELECT l.version, l.valid_to::text, c.change_type, c.reference, c.reference_date::text, c.note
             FROM minerals.licences l JOIN meta.changesets c ON c.id = l.changeset_id WHERE l.id = $1",
            &[&id],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i32>(0), 2);
    assert_eq!(row.get::<_, String>(1), "2035-12-31");
    assert_eq!(row.get::<_, String>(2), "extend");
    assert_eq!(row.get::<_, String>(3), "88/GP-BNNMT");
    assert_eq!(row.get::<_, String>(4), "2026-12-01");
    assert_eq!(row.get::<_, String>(5), "Gia hạn giấy phép");
    let old_end: Option<String> = client
        .query_one("SELECT valid_to::text FROM minerals.licences_history WHERE id = $1 AND version = 1", &[&id])
        .await
        .unwrap()
        .get(0);
    assert_ne!(old_end.as_deref(), Some("2035-12-31"), "the version before the decision is kept");

    // A land code is not a licence decision.
    let wrong = server.request("PATCH", &url, &[key, MERGE_PATCH, ("Geosector-Change-Type", "TN")], Some(&extend));
    assert_eq!(wrong.status, 400, "{}", wrong.text());
    assert!(wrong.json()["description"].as_str().unwrap().contains("extend"));

    // Backdating is refused (409), on a single edit and on a changeset; "now" is accepted.
    let past =
        server.request("PATCH", &format!("{url}?datetime=2025-01-01T00:00:00Z"), &[key, MERGE_PATCH], Some(&extend));
    assert_eq!(past.status, 409, "{}", past.text());
    assert_eq!(past.json()["code"], "Conflict");
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let stated = server.request("PATCH", &format!("{url}?datetime={now}"), &[key, MERGE_PATCH], Some(&extend));
    assert_eq!(stated.status, 200, "{}", stated.text());
    let backdated = post_changeset(
        &server,
        key,
        &json!({ "datetime": "2024-06-30T00:00:00+07:00", "operations": [{ "op": "delete", "collection": "minerals.licences", "id": id }] }),
    );
    assert_eq!(backdated.status, 409, "{}", backdated.text());
    assert!(server.get(&url).status == 200, "nothing was retired");
    let _ = std::fs::remove_file(&f.policy);
}

/// The z/x/y of the tile holding a lon/lat point.
fn tile_of(lon: f64, lat: f64, z: u32) -> (u32, u64, u64) {
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n).floor() as u64;
    let y = ((1.0 - lat.to_radians().tan().asinh() / std::f64::consts::PI) / 2.0 * n).floor() as u64;
    (z, x, y)
}

#[tokio::test]
async fn a_write_drops_exactly_the_tiles_it_meets_and_preflights_are_answered() {
    let Some(f) = fixture().await else { return };
    let server = Server::start(&f.db, &["--access-file", f.policy.to_str().unwrap()]);
    let client = f.db.client().await;
    let key = ("X-API-Key", f.editor.as_str());
    let crs = ("Content-Crs", "http://www.opengis.net/def/crs/EPSG/0/5897");
    let created = server.request(
        "POST",
        ITEMS,
        &[key, GEOJSON, crs],
        Some(&json_body(&new_parcel("9100", square(588_700.0, 2_349_800.0, 20.0)))),
    );
    let id = created_id(&created);
    server.wait_for_version(&client, "land.parcels").await;
    let centre = |sql: &str| {
        let sql = sql.to_owned();
        let client = &client;
        async move {
            let row = client.query_one(&sql, &[]).await.unwrap();
            (row.get::<_, f64>(0), row.get::<_, f64>(1))
        }
    };
    let (lon, lat) = centre(&format!(
        "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(geom) c FROM land.parcels WHERE id = {id}) s"
    ))
    .await;
    let (far_lon, far_lat) =
        centre("SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(geom) c FROM land.parcels ORDER BY id LIMIT 1) s")
            .await;
    let path = |(z, x, y): (u32, u64, u64)| format!("/collections/land.parcels/tiles/WebMercatorQuad/{z}/{y}/{x}");
    let (near, far) = (path(tile_of(lon, lat, 17)), path(tile_of(far_lon, far_lat, 17)));
    assert_ne!(near, far);
    for p in [&near, &far] {
        assert_eq!(server.get(p).status, 200, "{p}");
        assert_eq!(server.get(p).header("x-tile-cache"), Some("hit"), "{p}");
    }
    // The edit moves the parcel by a few metres: its tile is drawn again, the far one stays.
    let moved = json_body(&json!({ "geometry": square(588_702.0, 2_349_802.0, 20.0) }));
    let patched = server.request("PATCH", &format!("{ITEMS}/{id}"), &[key, MERGE_PATCH, crs], Some(&moved));
    assert_eq!(patched.status, 200, "{}", patched.text());
    server.wait_for_version(&client, "land.parcels").await;
    assert_eq!(server.get(&near).header("x-tile-cache"), Some("miss"), "the edited area's tile was dropped");
    assert_eq!(server.get(&far).header("x-tile-cache"), Some("hit"), "a tile the edit does not meet stays");

    // A browser's CORS preflight of an edit is answered on the same URL.
    let preflight = server.request(
        "OPTIONS",
        &format!("{ITEMS}/{id}"),
        &[
            ("Origin", "https://map.example.vn"),
            ("Access-Control-Request-Method", "PATCH"),
            ("Access-Control-Request-Headers", "content-type, if-match, x-api-key"),
        ],
        None,
    );
    assert!(preflight.status == 200 || preflight.status == 204, "{}", preflight.status);
    let methods = preflight.header("access-control-allow-methods").unwrap_or_default().to_owned();
    assert!(methods.contains("PATCH") && methods.contains("DELETE") && methods.contains("POST"), "{methods}");
    let _ = std::fs::remove_file(&f.policy);
}
