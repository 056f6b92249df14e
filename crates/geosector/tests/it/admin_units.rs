//! The administrative units published (`reference.admin_units`): items and tiles at an instant
//! before and after the 2025 reform, the low-zoom overview; and the lookup of features by their
//! natural key — a parcel by its commune's name (accents and case aside) or code, sheet and
//! number —, through the API and in the map viewer in Chromium, where the shared URL of a lookup
//! opens on the parcel and an entitled caller sees its owners.

use geozero::mvt::{Message, Tile};
use serde_json::Value;

use crate::support::{Server, TestDb};
use crate::viewer::{browser_tools, run_browser_check};

const UNITS: &str = "/collections/reference.admin_units";

/// The 2025 units of the samples (Hà Nội), the parcels of Sóc Sơn, and one unit of before the
/// reform written directly: the former town of Sóc Sơn, whose code 00376 the 2025 commune reuses,
/// drawn as a square around the 2025 commune's interior point.
async fn units_and_parcels(db: &TestDb) {
    for args in [
        vec!["reference", "data-samples/reference"],
        vec!["import", "land.parcels", "data-samples/land/parcels_soc_son.fgb"],
    ] {
        let run = db.geosector(&args);
        assert_eq!(run.code, Some(0), "{}", run.text());
    }
    db.client()
        .await
        .batch_execute(
            "INSERT INTO reference.admin_units (level, code, valid_from, valid_to, name, unit_type, parent_code, source, geom)
             SELECT 'commune', '00376', '-infinity', '2025-07-01', 'Thị trấn Sóc Sơn', 'Thị trấn', '016', 'test',
                    ST_Multi(ST_Expand(ST_PointOnSurface(geom), 0.01))
             FROM reference.admin_units WHERE level = 'commune' AND code = '00376' AND valid_from = '2025-07-01'",
        )
        .await
        .unwrap();
}

fn names(page: &Value) -> Vec<String> {
    page["features"].as_array().unwrap().iter().map(|f| f["properties"]["name"].as_str().unwrap().to_owned()).collect()
}

/// The `name` of every feature of a tile's only layer (an empty tile: none).
fn tile_names(response: &crate::support::Response) -> Vec<String> {
    if response.status == 204 {
        return Vec::new();
    }
    assert_eq!(response.status, 200, "{}", response.text());
    let tile = Tile::decode(response.body.as_slice()).unwrap();
    let layer = &tile.layers[0];
    let k = layer.keys.iter().position(|k| k == "name").unwrap();
    let mut names: Vec<String> = layer
        .features
        .iter()
        .filter_map(|f| f.tags.chunks(2).find(|t| t[0] as usize == k).map(|t| &layer.values[t[1] as usize]))
        .filter_map(|v| v.string_value.clone())
        .collect();
    names.sort();
    names
}

/// The tile path (z/row/col) holding a point.
fn tile_of(z: u32, lon: f64, lat: f64) -> String {
    let (x, y) = geosector_crs::web_mercator::tile_of(lon, lat, z);
    format!("{z}/{y}/{x}")
}

#[tokio::test(flavor = "multi_thread")]
async fn units_are_served_at_an_instant_with_tiles_and_a_low_zoom_overview() {
    let Some(db) = TestDb::migrated().await else { return };
    units_and_parcels(&db).await;
    let server = Server::start(&db, &[]);

    // The collection: every unit, each with its validity; datetime picks those in force.
    let collection = server.get(UNITS).json();
    assert_eq!(collection["title"], "Đơn vị hành chính / Administrative units");
    let all = server.get(&format!("{UNITS}/items?code=00376&level=commune")).json();
    assert_eq!(names(&all).len(), 2, "{all}");
    for (datetime, expected) in [
        ("2025-06-30", vec!["Thị trấn Sóc Sơn"]),
        ("2025-06-30T23:59:59Z", vec!["Thị trấn Sóc Sơn"]),
        ("2025-07-01", vec!["Xã Sóc Sơn"]),
        ("2026-12-06T08:00:00%2B07:00", vec!["Xã Sóc Sơn"]),
        ("2025-01-01/2025-12-31", vec!["Thị trấn Sóc Sơn", "Xã Sóc Sơn"]),
        ("../2025-06-30", vec!["Thị trấn Sóc Sơn"]),
        ("2025-07-01/..", vec!["Xã Sóc Sơn"]),
    ] {
        let page = server.get(&format!("{UNITS}/items?code=00376&level=commune&datetime={datetime}&sortby=valid_from"));
        assert_eq!(page.status, 200, "{datetime}: {}", page.text());
        assert_eq!(names(&page.json()), expected, "{datetime}");
    }
    let province = server.get(&format!("{UNITS}/items?level=province&datetime=2025-08-01")).json();
    assert_eq!(names(&province), ["Thủ đô Hà Nội"]);
    let bad = server.get(&format!("{UNITS}/items?datetime=2025-13-01"));
    assert_eq!(bad.status, 400);
    assert!(bad.text().contains("datetime"), "{}", bad.text());

    // Tiles draw the units in force: now by default (cached), or at the datetime asked for.
    let client = db.client().await;
    let row = client
        .query_one(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM reference.admin_units
             WHERE code = '00376' AND valid_from = '2025-07-01') s",
            &[],
        )
        .await
        .unwrap();
    let (lon, lat): (f64, f64) = (row.get(0), row.get(1));
    let tile = format!("{UNITS}/tiles/WebMercatorQuad/{}", tile_of(14, lon, lat));
    // (The samples hold boundaries of 2025 units only: before the reform the tile holds the
    // test's town alone.)
    let now = tile_names(&server.get(&tile));
    assert!(now.contains(&"Xã Sóc Sơn".to_owned()) && now.contains(&"Thủ đô Hà Nội".to_owned()), "{now:?}");
    assert!(!now.contains(&"Thị trấn Sóc Sơn".to_owned()), "{now:?}");
    assert_eq!(server.get(&tile).header("x-tile-cache"), Some("hit"));
    assert_eq!(tile_names(&server.get(&format!("{tile}?datetime=2025-06-30"))), ["Thị trấn Sóc Sơn"]);
    assert_eq!(tile_names(&server.get(&format!("{tile}?datetime=2025-07-01T00:00:00Z"))), now);
    let interval = server.get(&format!("{tile}?datetime=2025-01-01/2025-12-31"));
    assert_eq!(interval.status, 400);
    assert!(interval.text().contains("datetime"), "{}", interval.text());

    // Low zooms: the whole province in one tile, the units in force, drawn from the
    // simplified copy (migration 0025) that keeps a fraction of the vertices.
    let low = server.get(&format!("{UNITS}/tiles/WebMercatorQuad/{}", tile_of(6, lon, lat)));
    let in_force: i64 = client
        .query_one("SELECT count(*) FROM reference.admin_units WHERE geom IS NOT NULL AND valid_to IS NULL", &[])
        .await
        .unwrap()
        .get(0);
    // (Wards smaller than a pixel, 2.4 km at zoom 6, are left out, as in every tile.)
    let drawn = tile_names(&low);
    assert!(drawn.len() as i64 <= in_force && drawn.len() as i64 * 4 > in_force * 3, "{} of {in_force}", drawn.len());
    assert!(!drawn.contains(&"Thị trấn Sóc Sơn".to_owned()));
    let (full, simplified): (i64, i64) = client
        .query_one(
            "SELECT sum(ST_NPoints(geom))::bigint, sum(ST_NPoints(geom_overview_3857))::bigint FROM reference.admin_units",
            &[],
        )
        .await
        .map(|r| (r.get(0), r.get(1)))
        .unwrap();
    assert!(simplified * 2 < full, "the overview keeps {simplified} of {full} vertices");
    assert!(low.body.len() < 400_000, "a low-zoom tile of the province: {} bytes", low.body.len());

    // The base layer's style: outlines only, names labelled by the viewer, no bounds that would
    // pull the map's first view away from the data.
    let style = server.get("/styles/reference").json();
    let source = &style["sources"]["reference.admin_units"];
    assert!(source.get("bounds").is_none(), "{source}");
    let layers: Vec<&str> = style["layers"].as_array().unwrap().iter().filter_map(|l| l["type"].as_str()).collect();
    assert_eq!(layers, ["background", "line"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn parcels_are_looked_up_by_commune_name_sheet_and_number() {
    let Some(db) = TestDb::migrated().await else { return };
    units_and_parcels(&db).await;
    let server = Server::start(&db, &[]);
    let client = db.client().await;
    let row = client
        .query_one(
            "SELECT id, sheet_number, parcel_number FROM land.parcels WHERE commune_code = '00376'
             ORDER BY sheet_number DESC, parcel_number LIMIT 1",
            &[],
        )
        .await
        .unwrap();
    let (id, sheet, number): (i64, i32, String) = (row.get(0), row.get(1), row.get(2));

    // The commune by its name however it is typed (no accents, capitals, NFD), or its code; a
    // 303 to the items with a filter over the key, then exactly that parcel.
    let nfd = "So\u{301}c So\u{31b}n";
    for commune in ["soc son", "SÓC SƠN", "Sóc Sơn", nfd, "xã sóc sơn", "00376"] {
        let path = format!(
            "/collections/land.parcels/lookup?commune={}&sheet_number={sheet}&parcel_number={}",
            crate::support::encode(commune),
            crate::support::encode(&number)
        );
        let redirect = server.get(&path);
        assert_eq!(redirect.status, 303, "{commune}: {}", redirect.text());
        let location = redirect.header("location").unwrap().to_owned();
        assert!(location.starts_with(&format!("{}/collections/land.parcels/items?", server.base)), "{location}");
        let found = crate::support::http_get(&location, &[]).json();
        let ids: Vec<i64> = found["features"].as_array().unwrap().iter().map(|f| f["id"].as_i64().unwrap()).collect();
        assert_eq!(ids, [id], "{commune}: {location}");
        if commune != "00376" {
            assert_eq!(redirect.json()["communes"][0]["name"], "Xã Sóc Sơn", "{commune}");
        }
    }
    // A sheet alone: every parcel of it, in the format asked for.
    let sheet_only = server.get(&format!("/collections/land.parcels/lookup?commune=00376&sheet_number={sheet}&f=html"));
    assert!(sheet_only.header("location").unwrap().ends_with("&f=html"));
    // Mistakes get a 4xx naming the parameter; quotes stay inside the value.
    for (query, status, named) in [
        ("commune=khong%20co%20xa%20nay&sheet_number=1", 404, "commune"),
        ("commune=x%C3%A3", 400, "commune"),
        ("commune=00376&sheet_number=abc", 400, "sheet_number"),
        ("commune=00376&owner=x", 400, "owner"),
        ("", 400, "commune_code"),
        ("commune=00376&commune=00377", 400, "commune"),
    ] {
        let refused = server.get(&format!("/collections/land.parcels/lookup?{query}"));
        assert_eq!(refused.status, status, "{query}: {}", refused.text());
        assert!(refused.json()["description"].as_str().unwrap().starts_with(named), "{query}: {}", refused.text());
    }
    let injected = server.get("/collections/land.parcels/lookup?commune=00376&parcel_number=1%27%20OR%20%271%27=%271");
    let location = injected.header("location").unwrap().to_owned();
    assert_eq!(crate::support::http_get(&location, &[]).json()["features"], serde_json::json!([]));
    assert_eq!(server.get("/collections/environment.stations/lookup?x=1").status, 404, "no natural key");
    assert_eq!(server.get("/map?lookup=land.parcels&owner=x").status, 400);
    assert_eq!(server.get("/map?lookup=nothing.here").status, 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_viewer_opens_a_shared_lookup_and_shows_owners_to_entitled_callers() {
    let Some(node) = browser_tools() else { return };
    let Some(db) = TestDb::migrated().await else { return };
    units_and_parcels(&db).await;
    for args in [
        vec!["import", "land.parties", "data-samples/land/parties.csv"],
        vec!["import", "land.certificates", "data-samples/land/certificates.csv"],
        vec!["import", "land.parcel_rights", "data-samples/land/parcel_rights.csv"],
    ] {
        let run = db.geosector(&args);
        assert_eq!(run.code, Some(0), "{}", run.text());
    }
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("access.toml");
    std::fs::write(
        &rules,
        r#"[[grant]]
role = "anonymous"
collections = ["*"]
operations = ["read_items", "read_tiles"]

[[grant]]
role = "cadastral_officer"
collections = ["land.owners"]
operations = ["read_items", "read_restricted"]
area = ["01"]
"#,
    )
    .unwrap();
    let server = Server::start(&db, &["--access-file", rules.to_str().unwrap()]);
    let created = db.geosector(&["keys", "create", "--name", "lookup", "--role", "cadastral_officer", "--days", "1"]);
    assert_eq!(created.code, Some(0), "{}", created.text());
    let key = created.stdout.lines().find(|l| l.starts_with("gsk_")).unwrap().trim().to_owned();
    let client = db.client().await;
    // A parcel with recorded owners, and a second one to type into the form.
    let owned = client
        .query_one(
            "SELECT p.id, p.sheet_number, p.parcel_number, o.full_name FROM land.parcels p
             JOIN land_restricted.parcel_rights r USING (commune_code, sheet_number, parcel_number)
             JOIN land_restricted.parties o ON o.id = r.party_id
             ORDER BY p.id LIMIT 1",
            &[],
        )
        .await
        .unwrap();
    let (id, sheet, number, owner): (i64, i32, String, String) =
        (owned.get(0), owned.get(1), owned.get(2), owned.get(3));
    let other = client
        .query_one(
            "SELECT id, sheet_number, parcel_number FROM land.parcels WHERE id <> $1 ORDER BY id DESC LIMIT 1",
            &[&id],
        )
        .await
        .unwrap();
    let (other_id, other_sheet, other_number): (i64, i32, String) = (other.get(0), other.get(1), other.get(2));
    let second = serde_json::json!({ "commune": "00376", "sheet_number": other_sheet.to_string(), "parcel_number": other_number });

    let second = second.to_string();
    let run = |path: String| run_browser_check(&node, "viewer_lookup_check.mjs", &[&server.base, &path, &second]);
    let shared = format!(
        "/map?lang=en&lookup=land.parcels&commune=soc%20son&sheet_number={sheet}&parcel_number={}",
        crate::support::encode(&number)
    );

    // Anyone: the shared URL opens on the parcel (zoomed in, its record), no owners.
    let anonymous = run(shared.clone());
    assert!(anonymous["layerList"].as_array().unwrap().iter().any(|l| l == "reference.admin_units"), "{anonymous}");
    let first = &anonymous["first"];
    assert_eq!(first["id"], id.to_string(), "{anonymous}");
    assert_eq!(first["rows"]["parcel_number"], number.as_str());
    assert_eq!(first["related"], serde_json::json!([]), "owners are not shown to anyone");
    assert!(first["url"].as_str().unwrap().contains("lookup=land.parcels"), "{first}");
    assert!(anonymous["view"]["zoom"].as_f64().unwrap() >= 16.0, "{anonymous}");
    let (lon, lat) =
        (anonymous["view"]["center"][0].as_f64().unwrap(), anonymous["view"]["center"][1].as_f64().unwrap());
    let inside: bool = client
        .query_one(
            "SELECT ST_DWithin(geom::geography, ST_SetSRID(ST_MakePoint($2, $3), 4326)::geography, 50) FROM land.parcels WHERE id = $1",
            &[&id, &lon, &lat],
        )
        .await
        .unwrap()
        .get(0);
    assert!(inside, "the map centres on the parcel: {anonymous}");
    // The form: a second parcel, and the page URL names it now.
    let typed = &anonymous["second"];
    assert_eq!(typed["id"], other_id.to_string(), "{anonymous}");
    assert!(typed["url"].as_str().unwrap().contains(&format!("sheet_number={other_sheet}")), "{typed}");

    // A cadastral officer (API key in the page URL): the owners too.
    let officer = run(format!("{shared}&apikey={key}"));
    let related = officer["first"]["related"].as_array().unwrap();
    assert_eq!(related.len(), 1, "{officer}");
    assert_eq!(related[0]["relation"], "owners");
    assert!(related[0]["text"].as_str().unwrap().contains(&owner), "{officer}");
}
