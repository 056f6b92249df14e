//! `/api`: the OpenAPI 3.0 document, generated at start from the collection registry, so every
//! collection's items path lists its real parameters (its properties as filters) and the
//! server's real `limit` default and maximum.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

use crate::html;
use crate::links::base_url;
use crate::params::{Format, Limits};
use crate::state::AppState;
use geosector_domain::FieldType;
use std::sync::Arc;

use geosector_access::policy::Operation;
use geosector_store::Collection;

/// The OpenAPI 3.0 document of these collections (as one caller sees them) and limits, with
/// their time series paths (servers are added per request).
pub fn document(collections: &[Arc<Collection>], limits: Limits) -> Value {
    let mut paths = Map::new();
    let error = json!({ "description": "An OGC exception", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/exception" } } } });
    let f = json!({ "name": "f", "in": "query", "required": false, "schema": { "type": "string", "enum": ["json", "html"] }, "description": "Response format" });
    let simple = |summary: &str, op: &str| {
        json!({ "get": { "summary": summary, "operationId": op, "parameters": [f.clone()],
            "responses": { "200": { "description": "OK", "content": { "application/json": { "schema": { "type": "object" } }, "text/html": { "schema": { "type": "string" } } } }, "400": error.clone() } } })
    };
    paths.insert("/".into(), simple("Landing page", "getLandingPage"));
    paths.insert("/conformance".into(), simple("Conformance classes", "getConformance"));
    paths.insert("/collections".into(), simple("The collections", "getCollections"));
    paths.insert("/api".into(), json!({ "get": { "summary": "This document", "operationId": "getApi", "responses": { "200": { "description": "OpenAPI 3.0", "content": { "application/vnd.oai.openapi+json;version=3.0": { "schema": { "type": "object" } } } } } } }));
    paths.insert("/health".into(), json!({ "get": { "summary": "Health (database reachable)", "operationId": "getHealth", "responses": { "200": { "description": "healthy" }, "503": { "description": "the database cannot be reached or every connection is busy (Retry-After; the body says which)" } } } }));
    paths.insert("/styles".into(), json!({ "get": { "summary": "MapLibre styles, one per sector", "operationId": "getStyles", "responses": { "200": { "description": "The styles", "content": { "application/json": { "schema": { "type": "object" } } } }, "400": error.clone() } } }));
    paths.insert("/styles/{styleId}".into(), json!({ "get": { "summary": "A sector's MapLibre style (v8)", "operationId": "getStyle",
        "parameters": [{ "name": "styleId", "in": "path", "required": true, "schema": { "type": "string" }, "description": "A sector: land, minerals, water, environment" }],
        "responses": { "200": { "description": "The style", "content": { "application/vnd.mapbox.style+json": { "schema": { "type": "object" } } } }, "404": error.clone() } } }));
    paths.insert("/map".into(), json!({ "get": { "summary": "Map viewer (HTML)", "operationId": "getMap",
        "parameters": [{ "name": "lang", "in": "query", "required": false, "schema": { "type": "string", "enum": ["vi", "en"], "default": "vi" }, "description": "Language of the viewer" }],
        "responses": { "200": { "description": "The viewer", "content": { "text/html": { "schema": { "type": "string" } } } }, "400": error.clone() } } }));
    paths.insert("/wfs".into(), json!({
        "get": { "summary": "WFS 2.0 / 1.1.0 (KVP): GetCapabilities, DescribeFeatureType, GetFeature, GetPropertyValue, ListStoredQueries, DescribeStoredQueries (docs/wfs.md)", "operationId": "getWfs",
            "parameters": [
                { "name": "SERVICE", "in": "query", "required": true, "schema": { "type": "string", "enum": ["WFS"] } },
                { "name": "REQUEST", "in": "query", "required": true, "schema": { "type": "string", "enum": ["GetCapabilities", "DescribeFeatureType", "GetFeature", "GetPropertyValue", "ListStoredQueries", "DescribeStoredQueries", "Transaction"] } },
                { "name": "VERSION", "in": "query", "required": false, "schema": { "type": "string", "enum": ["2.0.0", "1.1.0"] } }
            ],
            "responses": { "200": { "description": "The operation's XML (or GeoJSON) answer", "content": { "application/xml": { "schema": { "type": "string" } }, "application/gml+xml; version=3.2": { "schema": { "type": "string" } } } },
                "400": { "description": "An OWS exception report naming the parameter", "content": { "application/xml": { "schema": { "type": "string" } } } } } },
        "post": { "summary": "WFS 2.0 / 1.1.0 (XML encoding), dispatched on the root element", "operationId": "postWfs",
            "requestBody": { "required": true, "content": { "application/xml": { "schema": { "type": "string" } } } },
            "responses": { "200": { "description": "The operation's answer", "content": { "application/xml": { "schema": { "type": "string" } } } },
                "400": { "description": "An OWS exception report", "content": { "application/xml": { "schema": { "type": "string" } } } } } }
    }));
    tile_paths(&mut paths, collections, &error);
    crate::catalogue::openapi_paths(&mut paths, limits, &error);
    for c in collections {
        let id = c.id();
        let op = id.replace(['.', '-'], "_");
        let mut parameters = vec![
            f.clone(),
            json!({ "name": "limit", "in": "query", "required": false, "style": "form", "explode": false,
                    "schema": { "type": "integer", "minimum": 1, "maximum": limits.max, "default": limits.default },
                    "description": format!("Features per page; larger values are capped to {}", limits.max) }),
            json!({ "name": "cursor", "in": "query", "required": false, "schema": { "type": "integer" }, "description": "Paging cursor; use the next link" }),
        ];
        if c.has_geometry() {
            parameters.push(json!({ "name": "bbox", "in": "query", "required": false, "style": "form", "explode": false,
                "schema": { "type": "array", "minItems": 4, "maxItems": 6, "items": { "type": "number" } },
                "description": "min lon, min lat, max lon, max lat in CRS84 (6 numbers with heights); min lon > max lon crosses the antimeridian" }));
        }
        let as_of = as_of_parameter(c);
        if let Some(parameter) = &as_of {
            parameters.push(parameter.clone());
        } else if let Some(column) = c.decl.datetime {
            let on = match c.decl.datetime_end {
                Some(end) => {
                    format!("the interval from {column} to {} (the features whose interval meets it)", end.column)
                }
                None => column.to_owned(),
            };
            parameters
                .push(json!({ "name": "datetime", "in": "query", "required": false, "schema": { "type": "string", "pattern": crate::params::interval_pattern() },
                "description": format!("Instant or interval (a/b, ../b, a/..) on {on}") }));
        }
        if let Some(key) = crate::lookup::key_of(c.decl) {
            paths.insert(format!("/collections/{id}/lookup"), lookup_path(c, &key, &op, &f, &error));
        }
        parameters.push(crate::crs::openapi_crs_parameter(c));
        parameters.extend(crate::crs::openapi_bbox_crs_parameter(c));
        for p in &c.properties {
            parameters.push(json!({ "name": p.name, "in": "query", "required": false, "schema": schema_of(p.kind),
                "description": format!("Features whose {} equals (for lists: contains) this value", p.name) }));
        }
        parameters.extend(crate::queryables::openapi_parameters(c));
        for (path, item) in crate::queryables::openapi_paths(c, &error) {
            paths.insert(path, item);
        }
        paths.insert(format!("/collections/{id}"), json!({ "get": { "summary": format!("{} / {}", c.decl.title_vi, c.decl.title_en), "operationId": format!("describe_{op}"), "parameters": [f.clone()],
            "responses": { "200": { "description": "The collection", "content": { "application/json": { "schema": { "type": "object" } } } }, "404": error.clone() } } }));
        paths.insert(format!("/collections/{id}/items"), json!({ "get": {
            "summary": format!("Features of {id}"), "operationId": format!("items_{op}"), "parameters": parameters,
            "responses": { "200": { "description": "A page of features", "headers": crate::crs::openapi_content_crs_header(), "content": { "application/geo+json": { "schema": { "type": "object" } }, "text/html": { "schema": { "type": "string" } } } },
                           "400": error.clone(), "404": error.clone() } } }));
        let feature_id =
            json!({ "name": "featureId", "in": "path", "required": true, "schema": { "type": "integer" } });
        let mut feature_parameters = vec![f.clone(), feature_id.clone(), crate::crs::openapi_crs_parameter(c)];
        let mut feature_responses = json!({ "200": { "description": "The feature", "headers": crate::crs::openapi_content_crs_header(), "content": { "application/geo+json": { "schema": { "type": "object" } } } }, "404": error.clone() });
        if let Some(parameter) = as_of {
            feature_parameters.push(parameter);
            feature_responses["200"]["description"] = json!("The feature's version (current, or valid at datetime), with a strong ETag naming it, its version links (predecessor-version, successor-version, latest-version, timemap) in the body and the Link header, and Memento-Datetime when datetime is given");
            feature_responses["304"] =
                json!({ "description": "Not modified (If-None-Match holds the version's ETag)" });
            feature_responses["410"] = json!({ "description": "Gone: the feature was retired (at or before datetime); its versions stay listed", "content": error["content"].clone() });
            feature_responses["400"] = error.clone();
            paths.insert(format!("/collections/{id}/items/{{featureId}}/versions"), json!({ "get": {
                "summary": format!("The versions of one feature of {id} (timemap), oldest first"), "operationId": format!("versions_{op}"),
                "parameters": [f.clone(), feature_id,
                    { "name": "limit", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 1, "maximum": limits.max, "default": limits.default }, "description": "Versions per page" },
                    { "name": "cursor", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 0 }, "description": "Paging cursor; use the next link" }],
                "responses": { "200": { "description": "A FeatureCollection: each version a Feature with the feature's id, its properties (as the caller may see them), and the members version, validFrom, validTo (null: current), retired, changeset, changeType, reference, referenceDate", "content": { "application/geo+json": { "schema": { "type": "object" } }, "text/html": { "schema": { "type": "string" } } } },
                               "400": error.clone(), "404": error.clone() } } }));
        }
        paths.insert(
            format!("/collections/{id}/items/{{featureId}}"),
            json!({ "get": {
            "summary": format!("One feature of {id}"), "operationId": format!("item_{op}"),
            "parameters": feature_parameters, "responses": feature_responses } }),
        );
    }
    let mut doc = json!({
        "openapi": "3.0.3",
        "info": { "title": "geosector", "version": env!("CARGO_PKG_VERSION"),
                  "description": "OGC API - Features for Vietnam's natural-resources and environment databases",
                  "license": { "name": "MIT OR Apache-2.0" } },
        "paths": paths,
        "components": { "schemas": { "exception": { "type": "object", "required": ["code"], "properties": { "code": { "type": "string" }, "description": { "type": "string" } } } } }
    });
    crate::timeseries::document(&mut doc, collections);
    crate::edit::openapi::document(&mut doc, collections);
    doc
}

/// The `datetime` parameter of a versioned collection: it selects versions (see
/// [`crate::history`]); `None` for another collection.
fn as_of_parameter(c: &Collection) -> Option<Value> {
    if !c.plan.is_versioned() {
        return None;
    }
    let property = c.decl.datetime.map_or(String::new(), |p| {
        format!(" To select by the time property {p}, use a CQL2 filter (T_INTERSECTS, comparisons) or {p}=<value>.")
    });
    Some(
        json!({ "name": "datetime", "in": "query", "required": false, "schema": { "type": "string", "pattern": crate::params::INSTANT_PATTERN },
        "description": format!("This collection keeps a history: one instant (an RFC 3339 date-time, or a date meaning its 00:00 UTC) selects the versions valid then (Memento-Datetime in the response); an interval is refused (400).{property}") }),
    )
}

fn schema_of(kind: FieldType) -> Value {
    match kind {
        FieldType::Integer => json!({ "type": "integer" }),
        FieldType::Float | FieldType::FloatList => json!({ "type": "number" }),
        FieldType::Date => json!({ "type": "string", "format": "date" }),
        FieldType::Timestamp | FieldType::UtcTimestamp => json!({ "type": "string", "format": "date-time" }),
        FieldType::Boolean => json!({ "type": "boolean" }),
        _ => json!({ "type": "string" }),
    }
}

/// `GET /api`: the document as JSON (or a readable HTML view).
///
/// Callers who see what the public does get the document made at start; one who sees a
/// restricted collection or personal properties gets one made for its views.
///
/// # Errors
/// 401 for bad credentials.
pub async fn api(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, crate::error::ApiError> {
    let caller = crate::auth::caller(&state, &req).await?;
    let views: Vec<Arc<Collection>> = crate::auth::visible(&state, &caller)
        .filter_map(|c| crate::auth::open(&state, &caller, c.id(), Operation::ReadItems).ok())
        .map(|o| o.collection)
        .collect();
    let own = views.iter().any(|c| c.decl.access.restricted || !c.fields.is_closed());
    let mut doc = if own {
        let mut doc = document(&views, state.limits);
        crate::statistics::document(&mut doc, &state.sectors);
        doc
    } else {
        state.openapi.clone()
    };
    doc["servers"] = json!([{ "url": base_url(&req) }]);
    let accept = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let f = crate::params::query_pairs(&req).ok().and_then(|q| q.into_iter().find(|(k, _)| k == "f").map(|(_, v)| v));
    let html_asked = matches!(crate::params::format(f.as_deref(), accept), Ok(Format::Html));
    if html_asked {
        let pretty = serde_json::to_string_pretty(&doc).unwrap_or_default();
        return Ok(HttpResponse::Ok().content_type("text/html; charset=utf-8").body(html::page(
            "API (OpenAPI 3.0)",
            "/api?f=json",
            &format!("<pre>{}</pre>", html::escape(&pretty)),
        )));
    }
    Ok(HttpResponse::Ok().content_type("application/vnd.oai.openapi+json;version=3.0").body(doc.to_string()))
}

/// The OGC API - Tiles paths: tile matrix sets, the dataset tileset, and each collection's.
fn tile_paths(paths: &mut Map<String, Value>, layers: &[Arc<Collection>], error: &Value) {
    let json_ok = |what: &str| json!({ "200": { "description": what, "content": { "application/json": { "schema": { "type": "object" } } } }, "400": error, "404": error });
    let path_param =
        |name: &str| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } });
    // The largest row or column of the deepest tile matrix (a larger one is a 404 at any zoom).
    let max_index = (1u64 << crate::tiles::MAX_ZOOM) - 1;
    let tile_params = || {
        vec![
            json!({ "name": "tileMatrixSetId", "in": "path", "required": true, "schema": { "type": "string", "enum": ["WebMercatorQuad"] } }),
            json!({ "name": "tileMatrix", "in": "path", "required": true, "schema": { "type": "integer", "minimum": 0, "maximum": crate::tiles::MAX_ZOOM } }),
            json!({ "name": "tileRow", "in": "path", "required": true, "schema": { "type": "integer", "minimum": 0, "maximum": max_index } }),
            json!({ "name": "tileCol", "in": "path", "required": true, "schema": { "type": "integer", "minimum": 0, "maximum": max_index } }),
        ]
    };
    let tile_ok = json!({
        "200": { "description": "A Mapbox Vector Tile (gzip or brotli when accepted); Geosector-Tile-Reduced reports a tile served without properties over the size cap",
                 "content": { crate::tiles::MVT: { "schema": { "type": "string", "format": "binary" } } } },
        "204": { "description": "No feature in this tile" }, "304": { "description": "Not modified (ETag)" }, "400": error, "404": error });
    let layer_ids: Vec<&str> = layers.iter().filter(|c| c.has_geometry()).map(|c| c.id()).collect();
    let collections = json!({ "name": "collections", "in": "query", "required": false, "style": "form", "explode": false,
        "schema": { "type": "array", "minItems": 1, "items": { "type": "string", "enum": layer_ids } }, "description": "The collections to draw as layers, in order (default: all with geometry)" });
    paths.insert("/tileMatrixSets".into(), json!({ "get": { "summary": "Tile matrix sets", "operationId": "getTileMatrixSets", "responses": json_ok("The tile matrix sets") } }));
    paths.insert(
        "/tileMatrixSets/{tileMatrixSetId}".into(),
        json!({ "get": { "summary": "A tile matrix set (OGC 2D-TMS 2.0)", "operationId": "getTileMatrixSet",
        "parameters": [path_param("tileMatrixSetId")], "responses": json_ok("The tile matrix set") } }),
    );
    paths.insert(
        "/tiles".into(),
        json!({ "get": { "summary": "Vector tilesets of the dataset", "operationId": "getDatasetTilesets",
        "parameters": [collections], "responses": json_ok("The tileset list") } }),
    );
    paths.insert(
        "/tiles/{tileMatrixSetId}".into(),
        json!({ "get": { "summary": "The dataset tileset's metadata", "operationId": "getDatasetTileset",
        "parameters": [path_param("tileMatrixSetId"), collections], "responses": json_ok("Tileset metadata") } }),
    );
    paths.insert(
        "/tiles/{tileMatrixSetId}/tilejson.json".into(),
        json!({ "get": { "summary": "The dataset tileset as TileJSON 3.0", "operationId": "getDatasetTileJson",
        "parameters": [path_param("tileMatrixSetId"), collections], "responses": json_ok("TileJSON 3.0") } }),
    );
    let mut with_collections = tile_params();
    with_collections.push(collections);
    paths.insert(
        "/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}".into(),
        json!({ "get": { "summary": "A tile with a layer per chosen collection",
        "operationId": "getDatasetTile", "parameters": with_collections, "responses": tile_ok } }),
    );
    for c in layers.iter().filter(|c| c.has_geometry()) {
        let id = c.id();
        let op = id.replace(['.', '-'], "_");
        paths.insert(format!("/collections/{id}/tiles"), json!({ "get": { "summary": format!("Vector tilesets of {id}"), "operationId": format!("tilesets_{op}"), "responses": json_ok("The tileset list") } }));
        paths.insert(
            format!("/collections/{id}/tiles/{{tileMatrixSetId}}"),
            json!({ "get": { "summary": format!("Tileset metadata of {id}"), "operationId": format!("tileset_{op}"),
            "parameters": [path_param("tileMatrixSetId")], "responses": json_ok("Tileset metadata") } }),
        );
        paths.insert(
            format!("/collections/{id}/tiles/{{tileMatrixSetId}}/tilejson.json"),
            json!({ "get": { "summary": format!("TileJSON 3.0 of {id}"), "operationId": format!("tilejson_{op}"),
            "parameters": [path_param("tileMatrixSetId")], "responses": json_ok("TileJSON 3.0") } }),
        );
        let mut parameters = tile_params();
        if c.plan.is_versioned() {
            parameters.push(json!({ "name": "datetime", "in": "query", "required": false, "schema": { "type": "string", "format": "date-time" },
                "description": "This collection keeps a history: the tile as of one instant (its features' versions valid then, drawn one by one at every zoom)" }));
        } else if c.plan.draws_in_force() {
            parameters.push(json!({ "name": "datetime", "in": "query", "required": false, "schema": { "type": "string", "pattern": crate::params::INSTANT_PATTERN },
                "description": "One instant (a date or an RFC 3339 date-time): the tile of the features in force then; without it, those in force now" }));
        }
        paths.insert(
            format!("/collections/{id}/tiles/{{tileMatrixSetId}}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"),
            json!({ "get": { "summary": format!("A vector tile of {id}"),
            "operationId": format!("tile_{op}"), "parameters": parameters, "responses": tile_ok.clone() } }),
        );
    }
}

/// The lookup of a collection's features by their natural key (see [`crate::lookup`]).
fn lookup_path(c: &Collection, key: &crate::lookup::LookupKey, op: &str, f: &Value, error: &Value) -> Value {
    let mut parameters = vec![f.clone()];
    if let Some(commune) = key.commune {
        parameters.push(json!({ "name": "commune", "in": "query", "required": false, "schema": { "type": "string", "maxLength": 100 },
            "description": format!("The {commune}: a code, or a commune name in force today, accents and case aside") }));
    }
    for (name, kind) in &key.fields {
        parameters.push(json!({ "name": name, "in": "query", "required": false, "schema": schema_of(*kind),
            "description": format!("The feature's {name}") }));
    }
    json!({ "get": {
        "summary": format!("Look features of {} up by their natural key", c.id()), "operationId": format!("lookup_{op}"),
        "parameters": parameters,
        "responses": {
            "303": { "description": "See Other: the items matching the key (a CQL2 filter), with the matched communes in the body",
                     "headers": { "Location": { "schema": { "type": "string" } } },
                     "content": { "application/json": { "schema": { "type": "object" } } } },
            "400": error.clone(), "404": error.clone() } } })
}

/// What every operation's description owes its callers besides its own answers, added to the
/// whole document once it is built: the request limits ([`crate::limits`]) as the 400, 413 and
/// 414 answers every operation may give and as bounds of its parameters (`maxLength`, and
/// `minLength`/`minItems` 1 since an empty value is refused), whole numbers within 64 bits,
/// non-negative offsets, and instants as [`crate::params::INSTANT_PATTERN`] instead of `format: date-time` (which allows
/// years and offsets the server refuses).
pub fn harden(doc: &mut Value, limits: &crate::limits::RequestLimits) {
    let error = json!({ "description": "An OGC exception naming the parameter", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/exception" } } } });
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else { return };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else { continue };
        for (method, op) in item.iter_mut() {
            if !["get", "post", "put", "patch", "delete", "options"].contains(&method.as_str()) {
                continue;
            }
            let has_body = op.get("requestBody").is_some();
            if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
                responses.entry("400").or_insert_with(|| error.clone());
                let mut too_long = error.clone();
                too_long["description"] = json!(format!(
                    "The URL is longer than {} bytes: an OGC exception naming url",
                    limits.max_url_bytes
                ));
                responses.entry("414").or_insert(too_long);
                if has_body {
                    let mut too_large = error.clone();
                    too_large["description"] = json!(format!(
                        "The body is larger than {} bytes: an OGC exception naming body",
                        limits.max_body_bytes
                    ));
                    responses.entry("413").or_insert(too_large);
                }
            }
            if path == "/wfs" {
                continue;
            }
            let takes_html = op["parameters"].as_array().is_some_and(|ps| {
                ps.iter().any(|p| {
                    p["name"] == "f" && p["schema"]["enum"].as_array().is_some_and(|e| e.contains(&json!("html")))
                })
            });
            if let Some(content) = op.pointer_mut("/responses/200/content").and_then(Value::as_object_mut) {
                if takes_html {
                    content.entry("text/html").or_insert(json!({ "schema": { "type": "string" } }));
                }
            }
            let Some(parameters) = op.get_mut("parameters").and_then(Value::as_array_mut) else { continue };
            for p in parameters.iter_mut().filter(|p| p["in"] == "query") {
                let name = p["name"].as_str().unwrap_or_default().to_owned();
                let Some(schema) = p.get_mut("schema").and_then(Value::as_object_mut) else { continue };
                bound_schema(&name, schema, limits);
            }
        }
    }
}

/// The bounds of one query parameter's schema (see [`harden`]).
fn bound_schema(name: &str, schema: &mut Map<String, Value>, limits: &crate::limits::RequestLimits) {
    match schema.get("type").and_then(Value::as_str) {
        Some("string") => {
            if name == "date" && schema.get("format").is_none() && schema.get("pattern").is_none() {
                schema.insert("format".into(), json!("date"));
            }
            if schema.get("format").and_then(Value::as_str) == Some("date-time") {
                schema.remove("format");
                schema.insert("pattern".into(), json!(crate::params::INSTANT_PATTERN));
            }
            if schema.contains_key("enum") {
                return;
            }
            if schema.get("pattern").is_none() && schema.get("format").is_none() {
                // NUL is refused in every text (PostgreSQL cannot store it).
                schema.insert("pattern".into(), json!("^[^\\u0000]*$"));
            }
            schema.insert("minLength".into(), json!(1));
            schema.insert("maxLength".into(), json!(limits.documented_chars(name)));
        }
        Some("integer") => {
            if name == "offset" {
                schema.insert("minimum".into(), json!(0));
            }
            schema.entry("minimum").or_insert(json!(i64::MIN));
            schema.entry("maximum").or_insert(json!(i64::MAX));
        }
        Some("array") if name != "properties" => {
            schema.entry("minItems").or_insert(json!(1));
        }
        _ => {}
    }
}
