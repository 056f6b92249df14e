//! OGC API - Features Part 3 (Filtering) and the items options that go with it: `filter`,
//! `filter-lang` (cql2-text, cql2-json), `filter-crs` on items and on vector tiles; `sortby`
//! (with `/sortables`) and `properties` on items; `/collections/{id}/queryables`.
//!
//! A request using any of these is planned per request (`store::plan::QuerySpec`): the filter
//! is translated by `geosector-filter` (every literal a bound parameter), the statement is
//! prepared unnamed and never cached. Without them, items keep the statements planned once per
//! filter shape (`features.rs`). Paging: with a filter alone the keyset cursor still applies;
//! with `sortby` the cursor is a position (offset), so deep pages cost more.
//!
//! Filtered tiles bypass the tile cache (`X-Tile-Cache: bypass`) and carry their own ETag
//! (the query string is part of it).

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;
use futures_util::StreamExt;
use geosector_filter::{FilterCrs, Lang, Limits, Sql};
use geosector_store::plan::QuerySpec;
use geosector_store::Collection;
use serde_json::{json, Value};
use tokio_postgres::types::ToSql;

use crate::error::ApiError;
use crate::features::{StreamedPage, GEOJSON};
use crate::links::{base_url, query_with, Link};
use crate::params::{self, Format};
use crate::tilecache::CachedTile;
use crate::{etag, html, AppState};

/// The items parameters this module handles.
pub const PARAMETERS: &[&str] = &["filter", "filter-lang", "filter-crs", "sortby", "properties"];

/// The parameters a tile accepts.
const TILE_PARAMETERS: &[&str] = &["filter", "filter-lang", "filter-crs"];

/// The conformance classes of Part 3 and CQL2 implemented (each checked in the test suite
/// against the CQL2 Abstract Test Suite's expected counts where it has rows).
pub const CONFORMANCE: &[&str] = &[
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/accent-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/property-property",
    "http://www.opengis.net/spec/cql2/1.0/conf/arithmetic",
];

/// Whether a request uses a parameter of this module (and so is planned per request).
pub fn applies(pairs: &[(String, String)]) -> bool {
    pairs.iter().any(|(k, _)| PARAMETERS.contains(&k.as_str()))
}

fn get<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn once(pairs: &[(String, String)]) -> Result<(), ApiError> {
    for (i, (name, _)) in pairs.iter().enumerate() {
        if pairs[..i].iter().any(|(k, _)| k == name) {
            return Err(ApiError::param(name, "given more than once"));
        }
    }
    Ok(())
}

/// Reads `filter`, `filter-lang` and `filter-crs` and translates the filter, placeholders from
/// `$first`. `None` without `filter`.
async fn compile(c: &Arc<Collection>, pairs: &[(String, String)], first: usize) -> Result<Option<Sql>, ApiError> {
    let lang = match get(pairs, "filter-lang") {
        None => Lang::Text,
        Some(v) => Lang::parse(v).map_err(|e| ApiError::param("filter-lang", e.0))?,
    };
    let crs = match get(pairs, "filter-crs") {
        None => FilterCrs::crs84(),
        Some(v) => FilterCrs::parse(v).map_err(|e| ApiError::param("filter-crs", e.0))?,
    };
    let Some(text) = get(pairs, "filter") else { return Ok(None) };
    let (text, c) = (text.to_owned(), Arc::clone(c));
    let compiled =
        web::block(move || geosector_filter::compile(&text, lang, &c.queryables, &crs, first, Limits::default()))
            .await
            .map_err(|e| ApiError::Internal(format!("filter worker: {e}")))?
            .map_err(|e| ApiError::param("filter", e.0))?;
    Ok(Some(compiled))
}

/// A database error of a filtered statement: data errors the filter caused (division, overflow,
/// an invalid geometry literal) are the client's, a 400 naming `filter`.
fn db_error(e: tokio_postgres::Error, filtered: bool) -> ApiError {
    if let (true, Some(db)) = (filtered, e.as_db_error()) {
        let code = db.code().code();
        if code.starts_with("22") || code == "XX000" {
            return ApiError::param("filter", format!("cannot be evaluated on this collection: {}", db.message()));
        }
    }
    ApiError::from(e)
}

/// `sortby`: `+a,-b` (ascending by default) over the sortables.
fn sortby(text: Option<&str>, c: &Collection) -> Result<Vec<(String, bool)>, ApiError> {
    let Some(text) = text else { return Ok(Vec::new()) };
    let mut keys = Vec::new();
    for part in text.split(',') {
        // `+` arrives as a space when the client did not percent-encode it.
        let part = part.trim();
        let (descending, name) = match part.strip_prefix('-') {
            Some(rest) => (true, rest.trim()),
            None => (false, part.strip_prefix('+').unwrap_or(part).trim()),
        };
        if name.is_empty() {
            return Err(ApiError::param("sortby", "empty sort key"));
        }
        let q = c.queryables.get(name).filter(|q| q.sortable()).ok_or_else(|| {
            ApiError::param(
                "sortby",
                format!("\"{name}\" is not sortable (sortables: {})", c.queryables.sortable_names()),
            )
        })?;
        if keys.iter().any(|(column, _)| *column == q.column) {
            return Err(ApiError::param("sortby", format!("\"{name}\" given twice")));
        }
        keys.push((q.column.clone(), descending));
    }
    Ok(keys)
}

/// `properties`: the published properties to return (empty: none).
fn properties(text: Option<&str>, c: &Collection) -> Result<Option<Vec<&'static str>>, ApiError> {
    let Some(text) = text else { return Ok(None) };
    let mut chosen: Vec<&'static str> = Vec::new();
    for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let p = c.property(name).ok_or_else(|| {
            ApiError::param(
                "properties",
                format!(
                    "unknown property \"{name}\" (properties: {})",
                    c.properties.iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
                ),
            )
        })?;
        if !chosen.contains(&p.name) {
            chosen.push(p.name);
        }
    }
    Ok(Some(chosen))
}

/// `GET /collections/{id}/items` with `filter`, `sortby` or `properties` (called by
/// `features::items`, which hands over the request's pairs).
///
/// # Errors
/// 400 naming a bad parameter (the filter's message says what is wrong in it), 503 when the
/// database is down.
pub async fn items(
    state: web::Data<AppState>,
    req: HttpRequest,
    collection: Arc<Collection>,
    pairs: Vec<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    once(&pairs)?;
    let sorted = get(&pairs, "sortby").is_some();
    // With sortby the cursor is a position, read here; otherwise it is the keyset id.
    type Pairs = Vec<(String, String)>;
    let (ours, core): (Pairs, Pairs) =
        pairs.iter().cloned().partition(|(k, _)| PARAMETERS.contains(&k.as_str()) || (sorted && k == "cursor"));
    let accept = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let query = params::items(&core, &collection, state.limits, accept)?;
    let shape = query.shape();
    let filter = compile(&collection, &ours, collection.plan.filter_first(&shape)).await?;
    let sort = sortby(get(&ours, "sortby"), &collection)?;
    let chosen = properties(get(&ours, "properties"), &collection)?;
    let offset: i64 = match get(&ours, "cursor") {
        Some(v) if sorted => v
            .trim()
            .parse()
            .ok()
            .filter(|o| *o >= 0)
            .ok_or_else(|| ApiError::param("cursor", "not a cursor this server issued"))?,
        _ => 0,
    };
    let sql = collection.plan.query_sql(&QuerySpec {
        shape: &shape,
        filter: filter.as_ref().map(|f| f.condition.as_str()),
        filter_values: filter.as_ref().map_or(0, |f| f.values.len()),
        sort: &sort,
        properties: chosen.as_deref(),
    });
    let mut values = crate::features::shape_values(&query);
    if let Some(f) = &filter {
        for v in &f.values {
            values.push(Box::new(v.clone()));
        }
    }
    if sorted {
        values.push(Box::new(offset));
    } else if let Some(cursor) = query.cursor {
        values.push(Box::new(cursor));
    }
    values.push(Box::new(query.limit + 1));

    let client = state.pool.get().await?;
    let version = etag::data_version(&client, &collection).await?;
    let tag = etag::tag(version, &req, query.format);
    if etag::matches(&req, &tag) {
        return Ok(HttpResponse::NotModified().insert_header((header::ETAG, tag)).finish());
    }
    let filtered = filter.is_some();
    let rows = client
        .query_raw(sql.as_str(), values.iter().map(|v| v.as_ref() as &(dyn ToSql + Sync)))
        .await
        .map_err(|e| db_error(e, filtered))?;
    let mut rows = Box::pin(rows);
    // The first row is awaited here, so an error the filter causes is a 400, not a cut stream.
    let first = rows.next().await.transpose().map_err(|e| db_error(e, filtered))?;

    let base = base_url(&req);
    let items_url = format!("{base}/collections/{}/items", collection.id());
    let next_url = move |last_id: i64, returned: i64| {
        let cursor = if sorted { (offset + returned).to_string() } else { last_id.to_string() };
        format!("{items_url}?{}", query_with(&pairs, &[("cursor", Some(&cursor))]))
    };
    let limit = query.limit;
    if query.format == Format::Html {
        let mut features = Vec::new();
        let mut next_row = first;
        while let Some(row) = next_row {
            features.push((row.get::<_, i64>(0), row.get::<_, Option<String>>(1), row.get::<_, String>(2)));
            next_row = rows.next().await.transpose().map_err(|e| db_error(e, filtered))?;
        }
        let more = features.len() as i64 > limit;
        features.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let next = more.then(|| features.last().map(|f| next_url(f.0, limit))).flatten();
        let json_url = format!("{}?{}", req.path(), query_with(&pairs_of(&req)?, &[("f", Some("json"))]));
        return Ok(HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .insert_header((header::ETAG, tag))
            .body(html::items(&collection, &features, next.as_deref(), &json_url)));
    }

    let self_url = format!("{base}{}", req.uri());
    let html_url = format!("{base}{}?{}", req.path(), query_with(&pairs_of(&req)?, &[("f", Some("html"))]));
    let collection_url = format!("{base}/collections/{}", collection.id());
    let first_page = offset == 0 && query.cursor.is_none();
    let body = crate::features::stream_page(
        client,
        first,
        rows,
        StreamedPage { self_url, html_url, collection_url, first_page, limit, next: Box::new(next_url) },
    );
    Ok(HttpResponse::Ok()
        .content_type(GEOJSON)
        .insert_header(("Content-Crs", crate::crs::content_crs(query.crs.output)))
        .insert_header((header::ETAG, tag))
        .streaming(body))
}

fn pairs_of(req: &HttpRequest) -> Result<Vec<(String, String)>, ApiError> {
    params::query_pairs(req)
}

/// The filter of a tile request, if any.
///
/// # Errors
/// 400 for a parameter other than `filter`, `filter-lang` and `filter-crs`, or a bad filter.
pub async fn tile_filter(c: &Arc<Collection>, pairs: &[(String, String)]) -> Result<Option<Sql>, ApiError> {
    if let Some((name, _)) = pairs.iter().find(|(k, _)| !TILE_PARAMETERS.contains(&k.as_str())) {
        return Err(ApiError::param(name, "unknown parameter; a tile takes only filter, filter-lang and filter-crs"));
    }
    once(pairs)?;
    // z, x and y are $1 to $3.
    compile(c, pairs, 4).await
}

/// Renders a filtered tile (never cached): features one by one at every zoom, with the
/// properties unless the tile is over the size cap.
///
/// # Errors
/// 400 when the filter cannot be evaluated, 503 when the database is down.
pub async fn render_tile(
    client: &deadpool_postgres::Object,
    c: &Collection,
    filter: &Sql,
    (z, col, row): (u32, u64, u64),
    max_bytes: usize,
) -> Result<Arc<CachedTile>, ApiError> {
    let (z, x, y) = (i32::try_from(z).unwrap_or(0), i32::try_from(col).unwrap_or(0), i32::try_from(row).unwrap_or(0));
    let mut params: Vec<&(dyn ToSql + Sync)> = vec![&z, &x, &y];
    params.extend(filter.values.iter().map(|v| v as &(dyn ToSql + Sync)));
    let render = |ids_only: bool| {
        let sql = c.plan.tile_sql_filtered(&filter.condition, ids_only);
        let params = &params;
        async move {
            let sql = sql.ok_or_else(|| ApiError::Internal("tile statement without its candidate condition".into()))?;
            let row = client.query_one(sql.as_str(), params.as_slice()).await.map_err(|e| db_error(e, true))?;
            Ok::<_, ApiError>(Bytes::from(row.get::<_, Option<Vec<u8>>>(0).unwrap_or_default()))
        }
    };
    let mut mvt = render(false).await?;
    let mut reduced = None;
    if mvt.len() > max_bytes {
        let full = mvt.len();
        mvt = render(true).await?;
        reduced = Some(format!(
            "filtered tile {}/{z}/{y}/{x} was {full} bytes, over the {max_bytes}-byte cap: served without properties ({} bytes)",
            c.id(),
            mvt.len()
        ));
    }
    Ok(Arc::new(CachedTile::new(mvt, reduced)))
}

fn collection_or_404(state: &AppState, id: &str) -> Result<Arc<Collection>, ApiError> {
    state.registry.get(id).cloned().ok_or_else(|| ApiError::NotFound(format!("collection {id} not found")))
}

fn schema_response(req: &HttpRequest, schema: &Value, title: &str) -> Result<HttpResponse, ApiError> {
    let format = params::format_only(req)?;
    if format == Format::Html {
        let pretty = serde_json::to_string_pretty(schema).unwrap_or_default();
        return Ok(HttpResponse::Ok().content_type("text/html; charset=utf-8").body(html::page(
            title,
            &format!("{}?f=json", req.path()),
            &format!("<pre>{}</pre>", html::escape(&pretty)),
        )));
    }
    Ok(HttpResponse::Ok().content_type("application/schema+json").body(schema.to_string()))
}

/// `GET /collections/{collectionId}/queryables`: JSON Schema (2020-12) of what a filter may name.
///
/// # Errors
/// 404 for an unknown collection, 400 for a parameter other than `f`.
pub async fn queryables(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let c = collection_or_404(&state, &path)?;
    let url = format!("{}/collections/{}/queryables", base_url(&req), c.id());
    let title = format!("{} / {}", c.decl.title_vi, c.decl.title_en);
    schema_response(&req, &c.queryables.schema(&url, &title, false), &format!("Queryables of {}", c.id()))
}

/// `GET /collections/{collectionId}/sortables`: JSON Schema (2020-12) of what `sortby` may name.
///
/// # Errors
/// 404 for an unknown collection, 400 for a parameter other than `f`.
pub async fn sortables(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let c = collection_or_404(&state, &path)?;
    let url = format!("{}/collections/{}/sortables", base_url(&req), c.id());
    let title = format!("{} / {}", c.decl.title_vi, c.decl.title_en);
    schema_response(&req, &c.queryables.schema(&url, &title, true), &format!("Sortables of {}", c.id()))
}

/// The links a collection gains: its queryables and sortables.
pub fn collection_links(url: &str) -> Vec<Link> {
    vec![
        Link::new(
            &format!("{url}/queryables"),
            "http://www.opengis.net/def/rel/ogc/1.0/queryables",
            "application/schema+json",
            "what a filter may name",
        ),
        Link::new(
            &format!("{url}/sortables"),
            "http://www.opengis.net/def/rel/ogc/1.0/sortables",
            "application/schema+json",
            "what sortby may name",
        ),
    ]
}

/// The OpenAPI parameters this module adds to a collection's items path.
pub fn openapi_parameters(c: &Collection) -> Vec<Value> {
    let limits = Limits::default();
    vec![
        json!({ "name": "filter", "in": "query", "required": false, "schema": { "type": "string", "maxLength": limits.max_bytes },
                "description": format!("CQL2 filter (OGC API - Features Part 3) on the queryables ({}); at most {} bytes, {} levels deep, {} expressions",
                                       c.queryables.names(), limits.max_bytes, limits.max_depth, limits.max_nodes) }),
        json!({ "name": "filter-lang", "in": "query", "required": false,
                "schema": { "type": "string", "enum": ["cql2-text", "cql2-json", "cql-text"], "default": "cql2-text" },
                "description": "Encoding of filter (cql-text: the drafts' name of cql2-text, as GDAL up to 3.6 sends it)" }),
        json!({ "name": "filter-crs", "in": "query", "required": false, "schema": { "type": "string", "format": "uri", "default": geosector_filter::crs::CRS84 },
                "description": "CRS of the filter's geometry literals: CRS84, EPSG:4326 (lat/lon), 3857, 4756, VN-2000 3405/3406, 5896–5899, 9205–9218" }),
        json!({ "name": "sortby", "in": "query", "required": false, "style": "form", "explode": false,
                "schema": { "type": "array", "items": { "type": "string" } },
                "description": format!("Sort keys, +name ascending (default) or -name descending, among the sortables ({})", c.queryables.sortable_names()) }),
        json!({ "name": "properties", "in": "query", "required": false, "style": "form", "explode": false,
                "schema": { "type": "array", "items": { "type": "string" } }, "description": "The properties to return (empty: none)" }),
    ]
}

/// The OpenAPI paths this module adds for a collection.
pub fn openapi_paths(c: &Collection, error: &Value) -> Vec<(String, Value)> {
    let id = c.id();
    let op = id.replace(['.', '-'], "_");
    ["queryables", "sortables"]
        .into_iter()
        .map(|what| {
            (
                format!("/collections/{id}/{what}"),
                json!({ "get": { "summary": format!("The {what} of {id} (JSON Schema 2020-12)"), "operationId": format!("{what}_{op}"),
                    "parameters": [{ "name": "f", "in": "query", "required": false, "schema": { "type": "string", "enum": ["json", "html"] } }],
                    "responses": { "200": { "description": format!("The {what}"), "content": { "application/schema+json": { "schema": { "type": "object" } } } },
                                   "404": error.clone() } } }),
            )
        })
        .collect()
}
