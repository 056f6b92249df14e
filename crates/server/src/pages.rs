//! The landing page, `/conformance`, `/collections` and `/collections/{id}`, in JSON and HTML.

use actix_web::{web, HttpRequest, HttpResponse};
use geosector_store::Collection;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::etag;
use crate::html;
use crate::links::{base_url, Link};
use crate::params::{self, Format};
use crate::state::AppState;

/// The conformance classes implemented.
pub const CONFORMANCE: &[&str] = &[
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    crate::crs::CONFORMANCE,
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/dataset-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/collections-selection",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
];

fn respond(req: &HttpRequest, format: Format, json: &Value, html: impl FnOnce() -> String) -> HttpResponse {
    match format {
        Format::Json => HttpResponse::Ok().content_type("application/json").body(crate::links::keyed_text(json, req)),
        Format::Html => HttpResponse::Ok().content_type("text/html; charset=utf-8").body(html()),
    }
}

/// `GET /`.
///
/// # Errors
/// 400 for a parameter other than `f`.
pub async fn landing(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let format = params::format_only(&req)?;
    let base = base_url(&req);
    let json = json!({
        "title": "geosector",
        "description": "Cơ sở dữ liệu tài nguyên và môi trường Việt Nam (đất đai, khoáng sản, tài nguyên nước, quan trắc môi trường) / Vietnam's natural-resources and environment databases",
        "links": [
            Link::new(&format!("{base}/"), "self", "application/json", "this document"),
            Link::new(&format!("{base}/?f=html"), "alternate", "text/html", "this document as HTML"),
            Link::new(&format!("{base}/api"), "service-desc", "application/vnd.oai.openapi+json;version=3.0", "the API definition (OpenAPI 3.0)"),
            Link::new(&format!("{base}/api?f=html"), "service-doc", "text/html", "the API documentation"),
            Link::new(&format!("{base}/conformance"), "conformance", "application/json", "conformance classes"),
            Link::new(&format!("{base}/collections"), "data", "application/json", "the collections"),
            Link::new(&format!("{base}/collections/catalogue"), "http://www.opengis.net/def/rel/ogc/1.0/catalog", "application/json", "the data catalogue (OGC API - Records)"),
            Link::new(&format!("{base}/tiles"), "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector", "application/json", "vector tiles of every collection"),
            Link::new(&format!("{base}/tileMatrixSets"), "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes", "application/json", "tile matrix sets"),
        ]
    });
    let caller = crate::auth::caller(&state, &req).await?;
    let collections: Vec<_> = crate::auth::visible(&state, &caller).cloned().collect();
    Ok(respond(&req, format, &json, || html::landing(&collections)))
}

/// `GET /conformance`.
///
/// # Errors
/// 400 for a parameter other than `f`.
pub async fn conformance(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let format = params::format_only(&req)?;
    let classes: Vec<&str> = CONFORMANCE
        .iter()
        .chain(crate::queryables::CONFORMANCE)
        .chain(crate::edit::CONFORMANCE)
        .chain(crate::catalogue::CONFORMANCE)
        .copied()
        .collect();
    Ok(respond(&req, format, &json!({ "conformsTo": classes }), || html::conformance(&classes)))
}

/// The JSON description of a collection.
pub fn collection_json(base: &str, c: &Collection) -> Value {
    let url = format!("{base}/collections/{}", c.id());
    let mut extent = serde_json::Map::new();
    if let Some(b) = c.bbox() {
        extent.insert("spatial".into(), json!({ "bbox": [b], "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84" }));
    }
    if let Some((from, to)) = &c.interval {
        extent.insert(
            "temporal".into(),
            json!({ "interval": [[from, to]], "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian" }),
        );
    }
    // On a versioned collection `datetime` selects versions, not the time property: said here.
    let history = if c.plan.is_versioned() {
        let property = c.decl.datetime.map_or(String::new(), |p| format!(" (filter {p} with CQL2)"));
        format!(" Có lịch sử phiên bản / Versioned: datetime selects the versions valid at one instant{property}; each feature lists its versions at /items/{{featureId}}/versions.")
    } else {
        String::new()
    };
    let mut value = json!({
        "id": c.id(),
        "title": format!("{} / {}", c.decl.title_vi, c.decl.title_en),
        "description": format!("{} / {}{history}", c.decl.description_vi, c.decl.description_en),
        "keywords": c.decl.keywords,
        "itemType": "feature",
        "links": [
            Link::new(&url, "self", "application/json", "this collection"),
            Link::new(&format!("{url}?f=html"), "alternate", "text/html", "this collection as HTML"),
            Link::new(&format!("{url}/items"), "items", "application/geo+json", "the features"),
            Link::new(&format!("{url}/items?f=html"), "items", "text/html", "the features as HTML"),
        ]
    });
    if !extent.is_empty() {
        value["extent"] = Value::Object(extent);
    }
    let (crs, storage_crs) = crate::crs::collection_members(c);
    value["crs"] = crs;
    if let Some(storage_crs) = storage_crs {
        value["storageCrs"] = storage_crs;
    }
    if let Some(links) = value["links"].as_array_mut() {
        links.extend(
            crate::queryables::collection_links(&url).into_iter().map(|l| serde_json::to_value(l).unwrap_or_default()),
        );
    }
    if c.has_geometry() {
        if let Some(links) = value["links"].as_array_mut() {
            let tiles = Link::new(
                &format!("{url}/tiles"),
                "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
                "application/json",
                "vector tiles",
            );
            links.push(serde_json::to_value(tiles).unwrap_or_default());
        }
    }
    value
}

/// `GET /collections`.
///
/// # Errors
/// 400 for a parameter other than `f`.
pub async fn collections(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let format = params::format_only(&req)?;
    let base = base_url(&req);
    let caller = crate::auth::caller(&state, &req).await?;
    let visible: Vec<_> = crate::auth::visible(&state, &caller).cloned().collect();
    // One query for every data version; extents are recomputed only where data changed.
    let client = state.reads.get().await?;
    let statement = client.prepare_cached("SELECT schema_name, table_name, version FROM meta.table_versions").await?;
    let versions: std::collections::HashMap<(String, String), i64> =
        client.query(&statement, &[]).await?.iter().map(|r| ((r.get(0), r.get(1)), r.get(2))).collect();
    for c in &visible {
        let key = (c.decl.dataset.schema.to_owned(), c.decl.dataset.table.to_owned());
        let version = versions.get(&key).copied().unwrap_or(0);
        c.extent_at(&client, version).await.map_err(|e| ApiError::Internal(e.to_string()))?;
    }
    drop(client);
    let mut list: Vec<Value> = visible.iter().map(|c| collection_json(&base, c)).collect();
    list.push(crate::catalogue::collection_json(&base));
    // OGC API - Features Part 2: the CRSs every collection with geometry offers are listed once
    // at the top and referenced as "#/crs".
    let global_crs = crate::crs::all_uris();
    for value in &mut list {
        if value["crs"].as_array().is_some_and(|l| l.len() == global_crs.len()) {
            value["crs"] = json!(["#/crs"]);
        }
    }
    let json = json!({
        "crs": global_crs,
        "links": [
            Link::new(&format!("{base}/collections"), "self", "application/json", "the collections"),
            Link::new(&format!("{base}/collections?f=html"), "alternate", "text/html", "the collections as HTML"),
        ],
        "collections": list,
    });
    Ok(respond(&req, format, &json, || html::collections(&visible)))
}

/// `GET /collections/{collectionId}`.
///
/// # Errors
/// 404 for an unknown collection, 400 for a parameter other than `f`.
pub async fn collection(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let caller = crate::auth::caller(&state, &req).await?;
    let c = crate::auth::visible(&state, &caller)
        .find(|c| c.id() == path.as_str())
        .ok_or_else(|| ApiError::NotFound(format!("collection {} not found", path.as_str())))?;
    let format = params::format_only(&req)?;
    etag::refresh_extent(&state.reads.get().await?, c).await?;
    let json = collection_json(&base_url(&req), c);
    Ok(respond(&req, format, &json, || html::collection(c)))
}

/// `GET /health`: 200 when the database answers, 503 (with `Retry-After`) when it does not,
/// saying which part is down: `database` is `ok`, `unreachable` (no connection can be opened or
/// it fails) or `busy` (every pooled connection stays in use past `pool_timeout_ms`);
/// `change_feed` is `live` or `reconnecting` (versions are then read per request, and cached
/// tiles are served marked stale while the database is away); `pool` counts connections.
pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    let database = match state.pool.get().await {
        Ok(client) => match client.query_one("SELECT 1", &[]).await {
            Ok(_) => "ok",
            Err(_) => "unreachable",
        },
        Err(deadpool_postgres::PoolError::Timeout(deadpool_postgres::TimeoutType::Wait)) => "busy",
        Err(_) => "unreachable",
    };
    let pool = state.pool.status();
    let mut body = json!({
        "status": if database == "ok" { "ok" } else { "unavailable" },
        "database": database,
        "change_feed": if state.feed.is_live() { "live" } else { "reconnecting" },
        "pool": { "size": pool.size, "max_size": pool.max_size, "available": pool.available, "waiting": pool.waiting },
    });
    // Replicas only take reads off the primary: one that is down or behind sends its reads to
    // the primary, so it never makes the server unavailable; it is listed with its state.
    if state.reads.has_replicas() {
        body["replicas"] = serde_json::Value::Array(state.reads.health());
    }
    if database == "ok" {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable()
            .insert_header((actix_web::http::header::RETRY_AFTER, crate::error::RETRY_AFTER_S.to_string()))
            .json(body)
    }
}
