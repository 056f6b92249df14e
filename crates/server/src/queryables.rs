//! OGC API - Features Part 3 (Filtering) as a collection describes it:
//! `/collections/{id}/queryables` and `/collections/{id}/sortables` (JSON Schema 2020-12), the
//! conformance classes of Part 3 and CQL2, and the OpenAPI description of `filter`,
//! `filter-lang`, `filter-crs`, `sortby` and `properties`. Reading those parameters is
//! [`crate::query`]'s and [`crate::filter`]'s job.

use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};
use geosector_filter::Limits;
use geosector_store::Collection;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::html;
use crate::links::{base_url, Link};
use crate::params::{self, Format};
use crate::state::AppState;

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

/// The collection as the caller may read its items (what it may filter and sort by).
async fn readable(state: &AppState, req: &HttpRequest, id: &str) -> Result<Arc<Collection>, ApiError> {
    let caller = crate::auth::caller(state, req).await?;
    Ok(crate::auth::open(state, &caller, id, geosector_access::policy::Operation::ReadItems)?.collection)
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
    let c = readable(&state, &req, &path).await?;
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
    let c = readable(&state, &req, &path).await?;
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
                "schema": { "type": "array", "items": { "type": "string", "enum": sort_keys(c) } },
                "description": format!("Sort keys, +name ascending (default) or -name descending, among the sortables ({})", c.queryables.sortable_names()) }),
        json!({ "name": "properties", "in": "query", "required": false, "style": "form", "explode": false,
                "schema": { "type": "array", "items": { "type": "string", "enum": c.properties.iter().map(|p| p.name).collect::<Vec<_>>() } }, "description": "The properties to return (empty: none)" }),
    ]
}

/// Every sort key `sortby` takes: each sortable, bare, `+` or `-`.
fn sort_keys(c: &Collection) -> Vec<String> {
    let names = c.queryables.sortable_names();
    names.split(", ").filter(|n| !n.is_empty()).flat_map(|n| [n.to_owned(), format!("+{n}"), format!("-{n}")]).collect()
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
