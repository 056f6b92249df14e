//! OGC API - Tiles on the samples: the tile matrix set equals the OGC definition, tileset
//! metadata and TileJSON describe the collection, a tile decodes as MVT with the expected layer,
//! properties and features, limits and bad coordinates answer 404 and 400, and a data change
//! invalidates a tile's ETag.

use geozero::mvt::{Message, Tile};
use serde_json::Value;

use crate::ats::load_samples;
use crate::support::{repo, testdata, tile_path, Server, TestDb};

#[tokio::test]
async fn vector_tiles_of_a_collection() {
    let Some(db) = TestDb::migrated().await else { return };
    load_samples(&db);
    let server = Server::start(&db, &[]);
    let client = db.client().await;

    // The tile matrix set equals the OGC 2D-TMS definition, level by level.
    let ours = server.get("/tileMatrixSets/WebMercatorQuad").json();
    {
        let text =
            std::fs::read_to_string(testdata().join("ogcapi/tiles/tilematrixsets/WebMercatorQuad.json")).unwrap();
        let official: Value = serde_json::from_str(&text).unwrap();
        for key in ["id", "uri", "crs", "orderedAxes"] {
            assert_eq!(ours[key], official[key], "{key}");
        }
        for (a, b) in ours["tileMatrices"].as_array().unwrap().iter().zip(official["tileMatrices"].as_array().unwrap())
        {
            assert_eq!(a["id"], b["id"]);
            assert_eq!(a["matrixWidth"], b["matrixWidth"]);
            assert_eq!(a["tileWidth"], b["tileWidth"]);
            let (x, y) = (a["scaleDenominator"].as_f64().unwrap(), b["scaleDenominator"].as_f64().unwrap());
            assert!((x / y - 1.0).abs() < 1e-9, "level {}: {x} vs {y}", a["id"]);
        }
    }
    assert_eq!(server.get("/tileMatrixSets").json()["tileMatrixSets"][0]["id"], "WebMercatorQuad");
    let conformance = server.get("/conformance").json().to_string();
    assert!(conformance.contains("ogcapi-tiles-1/1.0/conf/mvt") && conformance.contains("conf/tileset"));

    // The collection links to its tilesets; the tileset has limits covering the data.
    let collection = server.get("/collections/land.parcels").json();
    assert!(collection["links"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"));
    assert_eq!(server.get("/collections/land.parcels/tiles").json()["tilesets"][0]["dataType"], "vector");
    let tileset = server.get("/collections/land.parcels/tiles/WebMercatorQuad").json();
    let z16 =
        tileset["tileMatrixSetLimits"].as_array().unwrap().iter().find(|l| l["tileMatrix"] == "16").unwrap().clone();
    let (col, row) = (z16["minTileCol"].as_i64().unwrap() + 1, z16["minTileRow"].as_i64().unwrap() + 1);
    let tilejson = server.get("/collections/land.parcels/tiles/WebMercatorQuad/tilejson.json").json();
    assert_eq!(tilejson["tilejson"], "3.0.0");
    assert_eq!(tilejson["vector_layers"][0]["id"], "land.parcels");
    assert!(tilejson["tiles"][0].as_str().unwrap().ends_with("/tiles/WebMercatorQuad/{z}/{y}/{x}"));
    assert_eq!(tilejson["bounds"].as_array().unwrap().len(), 4);

    // A tile decodes with the layer, its properties and the features PostGIS finds there.
    let path = format!("/collections/land.parcels/tiles/WebMercatorQuad/16/{row}/{col}");
    let response = server.get(&path);
    assert_eq!(response.status, 200, "{path}");
    assert_eq!(response.header("content-type"), Some("application/vnd.mapbox-vector-tile"));
    let tile = Tile::decode(response.body.as_slice()).expect("an MVT");
    assert_eq!(tile.layers.len(), 1);
    let layer = &tile.layers[0];
    assert_eq!(layer.name, "land.parcels");
    assert_eq!(layer.extent, Some(4096));
    for key in ["main_land_use", "land_use_codes", "parcel_number", "commune_code"] {
        assert!(layer.keys.iter().any(|k| k == key), "no {key} in {:?}", layer.keys);
    }
    let (col32, row32) = (i32::try_from(col).unwrap(), i32::try_from(row).unwrap());
    let row_counts = client
        .query_one(
            "SELECT count(*) FILTER (WHERE ST_Intersects(geom, ST_Transform(ST_TileEnvelope(16, $1, $2), 4326))),
                    count(*) FILTER (WHERE geom && ST_Transform(ST_Expand(ST_TileEnvelope(16, $1, $2), 611.5 * 64 / 4096 * 4), 4326))
             FROM land.parcels",
            &[&col32, &row32],
        )
        .await
        .unwrap();
    let (inside, near): (i64, i64) = (row_counts.get(0), row_counts.get(1));
    let features = layer.features.len() as i64;
    assert!(inside > 0 && features >= inside && features <= near, "{features} features, {inside} inside, {near} near");
    let ids: Vec<u64> = layer.features.iter().filter_map(|f| f.id).collect();
    assert_eq!(ids.len(), layer.features.len(), "every feature carries its id");

    // Limits and bad coordinates.
    assert_eq!(server.get("/collections/land.parcels/tiles/WebMercatorQuad/16/0/0").status, 404);
    assert_eq!(server.get("/collections/land.parcels/tiles/WebMercatorQuad/30/0/0").status, 404);
    assert_eq!(server.get("/collections/land.parcels/tiles/OtherQuad/16/0/0").status, 404);
    assert_eq!(server.get("/collections/minerals.licences/tiles").status, 404, "no geometry, no tiles");
    let bad = server.get("/collections/land.parcels/tiles/WebMercatorQuad/abc/0/0");
    assert_eq!(bad.status, 400);
    assert!(bad.json()["description"].as_str().unwrap().starts_with("tileMatrix:"));
    assert_eq!(server.get(&format!("{path}?filter=x")).status, 400);

    // A change of the data changes the tile's ETag at once.
    let tag = response.header("etag").unwrap().to_owned();
    assert_eq!(server.get_with(&path, &[("If-None-Match", &tag)]).status, 304);
    client
        .execute("UPDATE land.parcels SET address = 'đổi' WHERE id = $1", &[&i64::try_from(ids[0]).unwrap()])
        .await
        .unwrap();
    server.wait_for_version(&client, "land.parcels").await;
    let after = server.get_with(&path, &[("If-None-Match", &tag)]);
    assert_eq!(after.status, 200);
    assert_ne!(after.header("etag"), Some(tag.as_str()));

    // The tile cache: repeated tiles are hits; an import drops exactly the tiles it touches.
    let corner = |order: &'static str| {
        let client = &client;
        async move {
            let row = client
                .query_one(&format!("SELECT ST_X(p), ST_Y(p), ST_AsGeoJSON(g) FROM (SELECT ST_PointOnSurface(geom) p, geom g FROM land.parcels ORDER BY id {order} LIMIT 1) s"), &[])
                .await
                .unwrap();
            (row.get::<_, f64>(0), row.get::<_, f64>(1), row.get::<_, String>(2))
        }
    };
    let (sw_lon, sw_lat, sw_geometry) = corner("ASC").await;
    let (ne_lon, ne_lat, _) = corner("DESC").await;
    let (near, far) = (tile_path(18, sw_lon, sw_lat), tile_path(18, ne_lon, ne_lat));
    assert_ne!(near, far);
    for p in [&near, &far] {
        assert_eq!(server.get(p).status, 200, "{p}");
        assert_eq!(server.get(p).header("x-tile-cache"), Some("hit"), "{p}");
    }
    let tmp = tempfile::tempdir().unwrap();
    let change = tmp.path().join("change.geojson");
    std::fs::write(
        &change,
        format!(r#"{{"type":"Feature","properties":{{"maXa":"00376","soHieuToBanDo":1,"soThuTuThua":"mới","maMucDichSuDung":"ONT"}},"geometry":{sw_geometry}}}"#),
    )
    .unwrap();
    let run = db.geosector(&["import", "land.parcels", change.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    server.wait_for_version(&client, "land.parcels").await;
    let fresh = server.get(&near);
    assert_eq!(fresh.header("x-tile-cache"), Some("miss"), "the imported area's tile was dropped");
    let tile = Tile::decode(fresh.body.as_slice()).unwrap();
    let layer = &tile.layers[0];
    let values: Vec<&str> = layer.values.iter().filter_map(|v| v.string_value.as_deref()).collect();
    assert!(values.contains(&"mới"), "the next request returns the new data");
    assert_eq!(server.get(&far).header("x-tile-cache"), Some("hit"), "a tile the import did not touch stays cached");

    // An import in a new area (Hồ Chí Minh City) is served at once: the extent follows the data.
    let far = tmp.path().join("hcm.geojson");
    std::fs::write(
        &far,
        r#"{"type":"Feature","properties":{"maXa":"26734","soHieuToBanDo":1,"soThuTuThua":"1","maMucDichSuDung":"ODT"},"geometry":{"type":"Polygon","coordinates":[[[106.7000,10.7800],[106.7004,10.7800],[106.7004,10.7804],[106.7000,10.7800]]]}}"#,
    )
    .unwrap();
    let run = db.geosector(&["import", "land.parcels", far.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    server.wait_for_version(&client, "land.parcels").await;
    let bbox = server.get("/collections/land.parcels").json()["extent"]["spatial"]["bbox"][0].clone();
    assert!(bbox[1].as_f64().unwrap() < 10.79, "the extent grew south: {bbox}");
    let far_tile = server.get(&tile_path(16, 106.7002, 10.7802));
    assert_eq!(far_tile.status, 200, "the new area's tile is inside the limits now");
    assert_eq!(Tile::decode(far_tile.body.as_slice()).unwrap().layers[0].features.len(), 1);
}

/// Every integer value of a property over the features of an MVT layer.
fn integer_values(layer: &geozero::mvt::tile::Layer, key: &str) -> Vec<i64> {
    let Some(k) = layer.keys.iter().position(|k| k == key) else { return Vec::new() };
    layer
        .features
        .iter()
        .filter_map(|f| f.tags.chunks(2).find(|t| t[0] as usize == k).map(|t| &layer.values[t[1] as usize]))
        .filter_map(|v| v.int_value.or(v.sint_value).or(v.uint_value.and_then(|u| i64::try_from(u).ok())))
        .collect()
}

#[tokio::test]
async fn overviews_dataset_tiles_compression_and_schemas() {
    let Some(db) = TestDb::migrated().await else { return };
    load_samples(&db);
    let server = Server::start(&db, &[]);
    let client = db.client().await;
    let parcels: i64 = client.query_one("SELECT count(*) FROM land.parcels", &[]).await.unwrap().get(0);

    // Below zoom 14 parcels come as land-use cells: every parcel is counted in exactly one cell.
    let tileset = server.get("/collections/land.parcels/tiles/WebMercatorQuad").json();
    assert_eq!(tileset["layers"][0]["minTileMatrix"], "0", "the overview draws every zoom");
    for z in [10, 13] {
        let limits = tileset["tileMatrixSetLimits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["tileMatrix"].as_str() == Some(z.to_string().as_str()))
            .unwrap()
            .clone();
        let (mut counted, mut cells, mut uses) = (0, 0, std::collections::BTreeSet::new());
        for row in limits["minTileRow"].as_u64().unwrap()..=limits["maxTileRow"].as_u64().unwrap() {
            for col in limits["minTileCol"].as_u64().unwrap()..=limits["maxTileCol"].as_u64().unwrap() {
                let response = server.get(&format!("/collections/land.parcels/tiles/WebMercatorQuad/{z}/{row}/{col}"));
                if response.status == 204 {
                    continue;
                }
                assert_eq!(response.status, 200);
                assert!(response.body.len() < 500 * 1024, "z{z} tile of {} bytes", response.body.len());
                let tile = Tile::decode(response.body.as_slice()).unwrap();
                let layer = &tile.layers[0];
                assert_eq!(layer.name, "land.parcels");
                assert!(layer.keys.iter().any(|k| k == "main_land_use"), "{:?}", layer.keys);
                counted += integer_values(layer, "parcels").iter().sum::<i64>();
                cells += layer.features.len();
                uses.extend(layer.values.iter().filter_map(|v| v.string_value.clone()));
            }
        }
        assert_eq!(counted, parcels, "z{z}: the cells count every parcel once");
        assert!(cells > 1 && uses.len() > 1, "z{z}: {cells} cells, land uses {uses:?}");
    }
    // The cells follow the data: deleting parcels removes them from the overview.
    let removed = client.execute("DELETE FROM land.parcels WHERE main_land_use = 'ONT'", &[]).await.unwrap();
    assert!(removed > 0);
    let left: i64 = client
        .query_one("SELECT coalesce(sum(parcels), 0)::bigint FROM land.parcel_cells WHERE zoom = 10", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, parcels - i64::try_from(removed).unwrap());
    server.wait_for_version(&client, "land.parcels").await;

    // `geosector tiles seed` fills the server's cache: the seeded tiles are hits afterwards.
    let extent = server.get("/collections/land.parcels").json()["extent"]["spatial"]["bbox"][0].clone();
    let bbox = extent.as_array().unwrap().iter().map(|v| v.to_string()).collect::<Vec<_>>().join(",");
    let run = db.geosector(&[
        "tiles",
        "seed",
        "--url",
        &server.base,
        "--collections",
        "land.parcels",
        "--bbox",
        &bbox,
        "--zoom",
        "12-15",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert!(run.text().contains(" 0 failed") && run.text().contains("seeded "), "{}", run.text());
    let (x0, y0) = (extent[0].as_f64().unwrap(), extent[1].as_f64().unwrap());
    assert_eq!(server.get(&tile_path(15, x0, y0)).header("x-tile-cache"), Some("hit"), "{}", run.text());
    let bad = db.geosector(&["tiles", "seed", "--url", &server.base, "--bbox", "106,21,105,22"]);
    assert_eq!(bad.code, Some(2));
    assert!(bad.text().contains("--bbox"), "{}", bad.text());

    // Dataset tiles: one tile, a layer per chosen collection with data there.
    let (lon, lat): (f64, f64) = {
        let row = client
            .query_one("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM land.map_sheets ORDER BY id LIMIT 1) s", &[])
            .await
            .unwrap();
        (row.get(0), row.get(1))
    };
    let path = tile_path(15, lon, lat).replace("/collections/land.parcels/tiles", "/tiles");
    let both = server.get(&format!("{path}?collections=land.parcels,land.map_sheets"));
    assert_eq!(both.status, 200, "{path}");
    let names: Vec<String> = Tile::decode(both.body.as_slice()).unwrap().layers.into_iter().map(|l| l.name).collect();
    assert_eq!(names, ["land.parcels", "land.map_sheets"]);
    let one = server.get(&format!("{path}?collections=land.map_sheets"));
    assert_eq!(Tile::decode(one.body.as_slice()).unwrap().layers.len(), 1);
    let unknown = server.get(&format!("{path}?collections=land.parcels,land.owners"));
    assert_eq!(unknown.status, 400);
    assert!(unknown.json()["description"].as_str().unwrap().starts_with("collections:"), "{}", unknown.text());
    assert_eq!(server.get(&format!("{path}?filter=x")).status, 400);
    assert_eq!(server.get("/tiles/WebMercatorQuad/15/0/0").status, 404);
    let tilejson = server.get("/tiles/WebMercatorQuad/tilejson.json?collections=land.parcels,water.stations").json();
    assert!(tilejson["tiles"][0]
        .as_str()
        .unwrap()
        .ends_with("/tiles/WebMercatorQuad/{z}/{y}/{x}?collections=land.parcels,water.stations"));
    let ids: Vec<&str> =
        tilejson["vector_layers"].as_array().unwrap().iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["land.parcels", "water.stations"]);
    let api = server.get("/api").json();
    for path in [
        "/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
        "/collections/land.parcels/tiles/{tileMatrixSetId}/tilejson.json",
        "/tileMatrixSets",
    ] {
        assert!(api["paths"][path].is_object(), "{path} missing from the OpenAPI document");
    }
    let landing = server.get("/").json().to_string();
    assert!(landing.contains("/tiles\"") || landing.contains("/tiles?"), "the landing page links the dataset tiles");

    // TileJSON 3.0.0: the members the specification requires, with their types.
    for doc in [tilejson, server.get("/collections/water.stations/tiles/WebMercatorQuad/tilejson.json").json()] {
        assert_eq!(doc["tilejson"], "3.0.0");
        assert!(doc["tiles"].as_array().is_some_and(|t| !t.is_empty() && t.iter().all(Value::is_string)));
        for layer in doc["vector_layers"].as_array().unwrap() {
            assert!(layer["id"].is_string() && layer["fields"].is_object(), "{layer}");
            assert!(layer["fields"].as_object().unwrap().values().all(Value::is_string), "{layer}");
        }
        let zooms = (doc["minzoom"].as_u64().unwrap(), doc["maxzoom"].as_u64().unwrap());
        assert!(zooms.0 <= zooms.1 && zooms.1 <= 30);
        // bounds and center are optional (a collection without rows has none)
        if doc["name"] == "geosector" || doc["bounds"].is_array() {
            let bounds: Vec<f64> = doc["bounds"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
            assert!(bounds.len() == 4 && bounds[0] <= bounds[2] && bounds[1] <= bounds[3]);
            assert_eq!(doc["center"].as_array().unwrap().len(), 3);
        }
    }

    // Compression is negotiated; a cached tile is compressed once and decodes to the same bytes.
    let plain = server.get(&path);
    for (accept, coding) in [("gzip", "gzip"), ("br;q=1, gzip;q=0.5", "br"), ("identity", "")] {
        let r = server.get_with(&path, &[("Accept-Encoding", accept)]);
        assert!(r.header("vary").is_some_and(|v| v.contains("Accept-Encoding")), "{:?}", r.header("vary"));
        let decoded = match coding {
            "gzip" => {
                let mut out = Vec::new();
                std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(r.body.as_slice()), &mut out).unwrap();
                out
            }
            "br" => {
                let mut out = Vec::new();
                std::io::Read::read_to_end(&mut brotli::Decompressor::new(r.body.as_slice(), 4096), &mut out).unwrap();
                out
            }
            _ => r.body.clone(),
        };
        assert_eq!(r.header("content-encoding").unwrap_or(""), coding, "{accept}");
        assert_eq!(decoded, plain.body, "{accept}");
    }

    // The documents validate against the OGC API - Tiles 1.0 schemas.
    if let Some(python) = crate::clients::python() {
        let out = crate::clients::run(std::process::Command::new(python).args([
            repo().join("tests/clients/tiles_schema_check.py").to_str().unwrap(),
            testdata().join("ogcapi/tiles/ogcapi-tiles-1.bundled.json").to_str().unwrap(),
            &server.base,
        ]));
        let report: Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
        assert!(report["checked"].as_array().unwrap().len() >= 9, "{report}");
        assert_eq!(report["errors"], serde_json::json!([]), "{report}");
    }
}

#[tokio::test]
async fn size_cap_is_reported_and_abandoned_renders_are_cancelled() {
    let Some(db) = TestDb::migrated().await else { return };
    load_samples(&db);
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("geosector.toml");
    std::fs::write(&config, "max_tile_kb = 1\n").unwrap();
    let server = Server::start(&db, &["--config", config.to_str().unwrap()]);
    let client = db.client().await;

    // A parcel tile over the 1 KiB cap: the same features, ids and geometry only, and said so.
    let (lon, lat): (f64, f64) = {
        let row = client
            .query_one(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Centroid(ST_Extent(geom)::geometry) p FROM land.parcels) s",
                &[],
            )
            .await
            .unwrap();
        (row.get(0), row.get(1))
    };
    let path = tile_path(15, lon, lat);
    let reduced = server.get(&path);
    assert_eq!(reduced.status, 200, "{path}");
    let note = reduced.header("geosector-tile-reduced").unwrap_or_else(|| panic!("no report: {:?}", reduced.headers));
    assert!(note.contains("over the 1024-byte cap") && note.contains("without properties"), "{note}");
    let layer = Tile::decode(reduced.body.as_slice()).unwrap().layers.remove(0);
    assert!(
        layer.keys.is_empty() && layer.features.len() > 1,
        "{} keys, {} features",
        layer.keys.len(),
        layer.features.len()
    );
    assert!(layer.features.iter().all(|f| f.id.is_some()), "a click still finds the record");
    let full = Server::start(&db, &[]);
    let whole = Tile::decode(full.get(&path).body.as_slice()).unwrap().layers.remove(0);
    assert_eq!(whole.features.len(), layer.features.len(), "no feature dropped, only properties");

    // A client that goes away while PostgreSQL renders its tile: the query is cancelled, not left
    // to run for nobody. The parcels are locked so the render waits; then the client hangs up.
    let other = tile_path(16, lon, lat);
    assert_eq!(server.get("/collections/land.parcels/tiles/WebMercatorQuad").status, 200);
    let locker = db.client().await;
    locker.batch_execute("BEGIN; LOCK TABLE land.parcels IN ACCESS EXCLUSIVE MODE").await.unwrap();
    let waiting = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'geosector' AND wait_event_type = 'Lock' AND datname = current_database()";
    let base = server.base.strip_prefix("http://").unwrap().to_owned();
    let mut socket = std::net::TcpStream::connect(&base).unwrap();
    std::io::Write::write_all(&mut socket, format!("GET {other} HTTP/1.1\r\nHost: {base}\r\n\r\n").as_bytes()).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while client.query_one(waiting, &[]).await.unwrap().get::<_, i64>(0) == 0 {
        assert!(std::time::Instant::now() < deadline, "the tile query never waited on the lock");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    drop(socket);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while client.query_one(waiting, &[]).await.unwrap().get::<_, i64>(0) > 0 {
        assert!(std::time::Instant::now() < deadline, "the abandoned tile query was not cancelled");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    locker.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(server.get(&other).status, 200, "the server serves on");
}
