//! The MapLibre styles and the map viewer on the samples: each sector's style points at our own
//! tiles and colours parcels by `main_land_use`; MapLibre is served from the binary; and in
//! Debian's headless Chromium (driven by `tests/clients/viewer_check.mjs` through playwright-core)
//! `/map` draws parcels in more than one land-use colour, shows a parcel's full record on click,
//! hides a layer from the layer list, and requests nothing outside the server.
//!
//! `scripts/test.sh` installs what it needs (chromium with apt; node modules with
//! `scripts/web.sh`). Without them the test fails when `CI=true` and skips locally.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::ats::load_samples;
use crate::support::{repo, Server, TestDb};

const CHROMIUM: &str = "/usr/bin/chromium";

/// Node, Chromium and web/node_modules, or `None` (skip) locally when one is missing.
pub fn browser_tools() -> Option<PathBuf> {
    let node = std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|p| p.join("node")).find(|p| p.is_file()));
    let modules = repo().join("web/node_modules");
    let missing: Vec<&str> = [
        (node.is_none(), "node"),
        (!Path::new(CHROMIUM).is_file(), "chromium (apt-get install chromium)"),
        (!modules.join("playwright-core").is_dir(), "web/node_modules/playwright-core (scripts/web.sh)"),
        (!modules.join("pngjs").is_dir(), "web/node_modules/pngjs (scripts/web.sh)"),
    ]
    .into_iter()
    .filter_map(|(absent, what)| absent.then_some(what))
    .collect();
    if missing.is_empty() {
        return node;
    }
    crate::support::missing(&format!("{missing:?}"))
}

/// Runs a browser check of `tests/clients` with node and returns its JSON report, after checking
/// the page raised no error and made no request outside the server.
pub fn run_browser_check(node: &Path, script: &str, args: &[&str]) -> Value {
    let output = Command::new(node)
        .arg(repo().join("tests/clients").join(script))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("run node");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{script} failed:\n{stderr}");
    let report: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{stderr}", String::from_utf8_lossy(&output.stdout)));
    eprintln!("{script}: {report}");
    assert_eq!(report["pageErrors"], serde_json::json!([]), "{report}");
    assert_eq!(report["external"], serde_json::json!([]), "requests outside the server: {report}");
    report
}

fn layer<'a>(style: &'a Value, id: &str) -> &'a Value {
    style["layers"].as_array().unwrap().iter().find(|l| l["id"] == id).unwrap_or_else(|| panic!("no layer {id}"))
}

#[tokio::test]
async fn styles_and_map_viewer_draw_parcels_by_land_use() {
    let Some(node) = browser_tools() else { return };
    let Some(db) = TestDb::migrated().await else { return };
    load_samples(&db);
    let server = Server::start(&db, &[]);

    // The styles: one per sector, each source on our tiles, parcels matched on main_land_use.
    let list = server.get("/styles").json();
    let ids: Vec<&str> = list["styles"].as_array().unwrap().iter().filter_map(|s| s["id"].as_str()).collect();
    assert_eq!(ids, ["reference", "land", "minerals", "water", "environment"]);
    let land = server.get("/styles/land");
    assert_eq!(land.status, 200);
    assert_eq!(land.header("content-type"), Some("application/vnd.mapbox.style+json"));
    let land = land.json();
    assert_eq!(land["version"], 8);
    assert!(land.get("glyphs").is_none() && land.get("sprite").is_none(), "nothing may be fetched from outside");
    for (id, source) in land["sources"].as_object().unwrap() {
        let template = format!("{}/collections/{id}/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}", server.base);
        assert_eq!(source["tiles"], serde_json::json!([template]), "{id}");
        assert_eq!((source["minzoom"].as_u64(), source["maxzoom"].as_u64()), (Some(0), Some(22)), "{id}");
    }
    let bounds: Vec<f64> =
        land["sources"]["land.parcels"]["bounds"].as_array().unwrap().iter().filter_map(Value::as_f64).collect();
    assert!(
        bounds.len() == 4 && (105.7..106.0).contains(&bounds[0]) && (21.1..21.4).contains(&bounds[1]),
        "{bounds:?}"
    );
    let fill = layer(&land, "land.parcels-fill");
    assert_eq!((fill["type"].as_str(), fill["source-layer"].as_str()), (Some("fill"), Some("land.parcels")));
    assert_eq!(fill["paint"]["fill-color"][0], "match");
    assert_eq!(fill["paint"]["fill-color"][1], serde_json::json!(["get", "main_land_use"]));
    assert_eq!(layer(&land, "land.parcels-line")["minzoom"], 15);
    for (sector, layer_id) in [
        ("minerals", "minerals.prohibited_zones-fill"),
        ("water", "water.works-circle"),
        ("environment", "environment.stations-circle"),
    ] {
        let style = server.get(&format!("/styles/{sector}")).json();
        assert_eq!(layer(&style, layer_id)["source-layer"], layer_id.split('-').next().unwrap());
        assert!(style["sources"].get("water.permits").is_none(), "no source for a collection without geometry");
    }
    assert_eq!(server.get("/styles/restricted").status, 404);
    assert_eq!(server.get("/map?lang=fr").status, 400);

    // MapLibre comes from the binary, cached long; the landing page links the viewer.
    let script = server.get("/map/assets/maplibre-gl.js");
    assert_eq!(script.status, 200, "{}", script.text());
    assert!(script.header("cache-control").unwrap_or_default().contains("max-age=31536000"));
    assert!(script.body.len() > 100_000);
    assert_eq!(server.get("/map/assets/maplibre-gl.css").status, 200);
    assert!(server.get("/?f=html").text().contains("href=\"/map\""));

    // The viewer in Chromium, at zoom 17 on the middle of the parcels.
    let client = db.client().await;
    let row = client
        .query_one(
            "SELECT ST_Y(c), ST_X(c) FROM (SELECT ST_Centroid(ST_Extent(geom)::geometry) AS c FROM land.parcels) s",
            &[],
        )
        .await
        .unwrap();
    let (lat, lon): (f64, f64) = (row.get(0), row.get(1));
    let screenshot = tempfile::Builder::new().suffix(".png").tempfile().unwrap();
    let map_path = format!("/map?lang=en#17/{lat:.6}/{lon:.6}");
    let report =
        run_browser_check(&node, "viewer_check.mjs", &[&server.base, &map_path, screenshot.path().to_str().unwrap()]);
    assert_eq!(report["htmlLang"], "en");
    let layers = report["layerList"].as_array().unwrap();
    let parcels = layers.iter().find(|l| l["id"] == "land.parcels").expect("parcels in the layer list");
    assert!(
        parcels["text"].as_str().unwrap().contains("Cadastral parcels")
            && parcels["text"].as_str().unwrap().contains("Thửa đất")
    );
    assert!(layers.iter().all(|l| l["id"] != "water.permits"), "no geometry, no layer");

    // More than one land-use colour on screen, each over a real area (not edge antialiasing).
    let counts = report["counts"].as_object().expect("pixel counts");
    let mut big: Vec<(&String, u64)> =
        counts.iter().map(|(code, n)| (code, n.as_u64().unwrap())).filter(|(_, n)| *n >= 2_000).collect();
    big.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    assert!(big.len() >= 2, "fewer than two land-use colours drawn: {counts:?}");

    // A click on a parcel shows its full record (fetched by the tile's feature id).
    let popup = &report["popup"];
    assert_eq!(popup["collection"], "land.parcels", "{report}");
    let rows = &popup["rows"];
    assert_eq!(rows["commune_code"], "00376", "{popup}");
    assert_eq!(rows["main_land_use"], report["clicked"]["code"], "the popup is the clicked parcel's");
    assert!(rows["parcel_number"].as_str().is_some_and(|n| !n.is_empty()), "{popup}");
    assert!(rows.get("address").is_some() && rows.get("survey_date").is_some(), "the full record: {popup}");
    assert!(report["parcelNumberLabels"].as_u64().unwrap_or(0) > 0, "parcel numbers at zoom 17: {report}");
    assert_eq!(report["parcelsVisibilityAfterUncheck"], "none");
}
