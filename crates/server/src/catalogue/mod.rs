//! The data catalogue over HTTP: OGC API - Records Part 1 (record-core, record-collection,
//! records-api, searchable catalogue with the core query parameters, JSON, HTML, OpenAPI 3.0).
//! The records collection is served at `/collections/catalogue` (so OGC API clients such as
//! OWSLib's `Records` find it among the collections, `itemType: record`) and at `/catalogue`.
//! Records come from `geosector-catalogue`, refreshed before each answer when the data moved;
//! records describing a restricted collection the caller cannot see are left out, as the
//! collection itself is. Each record is also served as ISO 19139 XML (`f=iso`) and DCAT JSON-LD
//! (`f=dcat`).

mod html;

use actix_web::{web, HttpRequest, HttpResponse};
use geosector_catalogue::{Record, Search, Terms};
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::links::{base_url, encode};
use crate::params::{self, Limits};
use crate::state::AppState;
use crate::viewer::Lang;

/// The id of the records collection.
pub const ID: &str = "catalogue";

/// The OGC API - Records conformance classes implemented.
pub const CONFORMANCE: &[&str] = &[
    "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/record-core",
    "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/record-collection",
    "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/record-core-query-parameters",
    "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/records-api",
    "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/searchable-catalog",
    "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/json",
    "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/oas30",
];

/// The representations of catalogue resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Html,
    Iso,
    Dcat,
}

fn format(f: Option<&str>, req: &HttpRequest, exports: bool) -> Result<Format, ApiError> {
    match f {
        Some("iso" | "xml" | "iso19139") if exports => Ok(Format::Iso),
        Some("dcat" | "jsonld" | "json-ld") if exports => Ok(Format::Dcat),
        other => {
            let accept = req.headers().get(actix_web::http::header::ACCEPT).and_then(|v| v.to_str().ok());
            match params::format(other, accept) {
                Ok(params::Format::Json) => Ok(Format::Json),
                Ok(params::Format::Html) => Ok(Format::Html),
                Err(_) if exports => Err(ApiError::param(
                    "f",
                    "unsupported format: use json, html, iso (ISO 19139 XML) or dcat (JSON-LD)",
                )),
                Err(e) => Err(e),
            }
        }
    }
}

/// The non-empty parameters of a request (an empty value counts as absent, as OGC API -
/// Records says), each checked against the accepted names.
fn pairs(req: &HttpRequest, accepted: &[&str]) -> Result<Vec<(String, String)>, ApiError> {
    let pairs = params::query_pairs(req)?;
    params::check_names(
        &pairs,
        |n| accepted.contains(&n),
        || format!("unknown parameter; accepted: {}", accepted.join(", ")),
    )?;
    Ok(pairs.into_iter().filter(|(_, v)| !v.trim().is_empty()).collect())
}

fn get<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn lang(pairs: &[(String, String)]) -> Result<Lang, ApiError> {
    Lang::parse(get(pairs, "lang")).map_err(|m| ApiError::param("lang", m))
}

/// Brings the records up to date with the data (a no-op when no data version moved).
async fn refreshed(state: &AppState) -> Result<deadpool_postgres::Object, ApiError> {
    let mut client = state.reads.get().await?;
    state.catalogue.refresh(&mut client, &state.registry).await.map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(client)
}

/// The restricted collections this caller cannot see.
async fn hidden(state: &AppState, req: &HttpRequest) -> Result<Vec<String>, ApiError> {
    let caller = crate::auth::caller(state, req).await?;
    Ok(state
        .registry
        .iter()
        .filter(|c| c.decl.access.restricted && !caller.access(c).visible)
        .map(|c| c.id().to_owned())
        .collect())
}

/// Sets whether callers without credentials may read a record's data, under the policy in
/// force now (the record itself is built from the declarations, which do not know the policy).
fn with_policy(state: &AppState, mut record: Record) -> Record {
    if record.collections.is_empty() {
        return record;
    }
    let policy = state.policy.current();
    let anonymous = geosector_access::identity::Identity::anonymous(Vec::new());
    let open = record
        .collections
        .iter()
        .all(|id| state.registry.get(id).is_some_and(|c| policy.access(&anonymous, c.decl).items.is_some()));
    record.access.open = Some(open);
    record
}

/// The JSON description of the records collection.
pub fn collection_json(base: &str) -> Value {
    let url = format!("{base}/collections/{ID}");
    json!({
        "id": ID,
        "type": "Collection",
        "itemType": "record",
        "title": "Danh mục dữ liệu tài nguyên và môi trường / Natural-resources and environment data catalogue",
        "description": "Một bản ghi cho mỗi bộ dữ liệu và mỗi lớp dữ liệu công bố, dẫn xuất từ dữ liệu đang vận hành; tìm kiếm không dấu. / One record per dataset and published collection, derived from the live data; accent-insensitive search.",
        "keywords": ["danh mục dữ liệu", "siêu dữ liệu", "data catalogue", "metadata"],
        "language": { "code": "vi", "name": "Tiếng Việt" },
        "conformsTo": [
            "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/record-collection",
            "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/searchable-catalog"
        ],
        "extent": { "spatial": { "bbox": [[102.1, 8.3, 109.6, 23.4]], "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84" } },
        "links": [
            { "href": url, "rel": "self", "type": "application/json", "title": "the catalogue" },
            { "href": format!("{url}?f=html"), "rel": "alternate", "type": "text/html", "title": "the catalogue as HTML" },
            { "href": format!("{url}/items"), "rel": "items", "type": "application/geo+json", "title": "the records" },
            { "href": format!("{url}/items?f=html"), "rel": "items", "type": "text/html", "title": "the records as HTML" },
        ]
    })
}

/// `GET /catalogue`, `GET /collections/catalogue`.
///
/// # Errors
/// 400 for a parameter other than `f` and `lang`.
pub async fn collection(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let pairs = pairs(&req, &["f", "lang"])?;
    let lang = lang(&pairs)?;
    let value = collection_json(&base_url(&req));
    Ok(match format(get(&pairs, "f"), &req, false)? {
        Format::Html => html_response(html::collection(&value, lang)),
        _ => HttpResponse::Ok().content_type("application/json").body(crate::links::keyed_text(&value, &req)),
    })
}

const ITEMS_PARAMS: &[&str] =
    &["f", "lang", "q", "bbox", "datetime", "type", "keywords", "ids", "externalIds", "limit", "offset"];

fn list(text: &str) -> Vec<String> {
    text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// Reads a search from the parameters.
fn search(pairs: &[(String, String)], limits: Limits) -> Result<Search, ApiError> {
    let q = get(pairs, "q").map(Terms::parse).transpose().map_err(|m| ApiError::param("q", m))?;
    let bbox = get(pairs, "bbox").map(params::parse_bbox).transpose().map_err(|m| ApiError::param("bbox", m))?;
    let datetime =
        get(pairs, "datetime").map(params::parse_datetime).transpose().map_err(|m| ApiError::param("datetime", m))?;
    let limit = match get(pairs, "limit") {
        None => limits.default,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n >= 1 => n.min(limits.max),
            _ => return Err(ApiError::param("limit", format!("\"{v}\" is not a whole number of at least 1"))),
        },
    };
    let offset = match get(pairs, "offset") {
        None => 0,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n >= 0 => n,
            _ => return Err(ApiError::param("offset", format!("\"{v}\" is not a whole number of at least 0"))),
        },
    };
    Ok(Search {
        q,
        bbox: bbox.unwrap_or_default(),
        datetime,
        types: get(pairs, "type").map(list).unwrap_or_default(),
        keywords: get(pairs, "keywords").map(list).unwrap_or_default(),
        ids: get(pairs, "ids").map(list).unwrap_or_default(),
        external_ids: get(pairs, "externalIds").map(list).unwrap_or_default(),
        hidden: Vec::new(),
        limit,
        offset,
    })
}

/// The request's URL with `offset` (and `f`) replaced.
fn page_url(base: &str, pairs: &[(String, String)], offset: i64, f: Option<&str>) -> String {
    let mut parts: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k != "offset" && (f.is_none() || k != "f"))
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    if offset > 0 {
        parts.push(format!("offset={offset}"));
    }
    if let Some(f) = f {
        parts.push(format!("f={f}"));
    }
    let query = if parts.is_empty() { String::new() } else { format!("?{}", parts.join("&")) };
    format!("{base}/collections/{ID}/items{query}")
}

/// `GET /catalogue/items`, `GET /collections/catalogue/items`: a page of records, best first
/// when `q` is given (else by id).
///
/// # Errors
/// 400 naming a bad parameter.
pub async fn items(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let pairs = pairs(&req, ITEMS_PARAMS)?;
    let lang = lang(&pairs)?;
    let format = format(get(&pairs, "f"), &req, false)?;
    let mut search = search(&pairs, state.limits)?;
    search.hidden = hidden(&state, &req).await?;
    let client = refreshed(&state).await?;
    let err = |e: geosector_catalogue::CatalogueError| ApiError::Internal(e.to_string());
    let geosector_catalogue::table::Page { records, more, matched } =
        state.catalogue.search(&client, &search).await.map_err(err)?;
    drop(client);
    let records: Vec<(Record, f32)> = records.into_iter().map(|(r, rank)| (with_policy(&state, r), rank)).collect();
    let base = base_url(&req);
    let items_url = format!("{base}/collections/{ID}/items");
    let next = more.then(|| search.offset + search.limit);
    let prev = (search.offset > 0).then(|| (search.offset - search.limit).max(0));
    if format == Format::Html {
        let next_html = next.map(|o| page_url(&base, &pairs, o, Some("html")));
        let prev_html = prev.map(|o| page_url(&base, &pairs, o, Some("html")));
        return Ok(html_response(html::items(
            &records,
            &pairs,
            matched,
            next_html.as_deref(),
            prev_html.as_deref(),
            lang,
        )));
    }
    let mut links = vec![
        json!({ "href": page_url(&base, &pairs, search.offset, None), "rel": "self", "type": "application/geo+json", "title": "this page" }),
        json!({ "href": page_url(&base, &pairs, search.offset, Some("html")), "rel": "alternate", "type": "text/html", "title": "this page as HTML" }),
        json!({ "href": format!("{base}/collections/{ID}"), "rel": "collection", "type": "application/json", "title": "the catalogue" }),
    ];
    if let Some(o) = next {
        links.push(json!({ "href": page_url(&base, &pairs, o, None), "rel": "next", "type": "application/geo+json", "title": "next page" }));
    }
    if let Some(o) = prev {
        links.push(json!({ "href": page_url(&base, &pairs, o, None), "rel": "prev", "type": "application/geo+json", "title": "previous page" }));
    }
    let features: Vec<Value> = records
        .iter()
        .map(|(r, rank)| {
            let mut f = geosector_catalogue::ogc::feature(r, &base, &items_url);
            if search.q.is_some() {
                f["properties"]["rank"] = json!(rank);
            }
            f
        })
        .collect();
    let value = json!({
        "type": "FeatureCollection",
        "numberMatched": matched,
        "numberReturned": features.len(),
        "timeStamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "features": features,
        "links": links,
    });
    Ok(HttpResponse::Ok().content_type("application/geo+json").body(crate::links::keyed_text(&value, &req)))
}

/// `GET /catalogue/items/{recordId}`, `GET /collections/catalogue/items/{recordId}`: one
/// record as GeoJSON, HTML, ISO 19139 (`f=iso`) or DCAT JSON-LD (`f=dcat`).
///
/// # Errors
/// 404 for an unknown record (or one the caller may not see), 400 for a bad parameter.
pub async fn record(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let pairs = pairs(&req, &["f", "lang"])?;
    let lang = lang(&pairs)?;
    let format = format(get(&pairs, "f"), &req, true)?;
    let hidden = hidden(&state, &req).await?;
    let client = refreshed(&state).await?;
    let record: Record = state
        .catalogue
        .get(&client, path.as_str(), &hidden)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .ok_or_else(|| ApiError::NotFound(format!("record {} not found", path.as_str())))?;
    drop(client);
    let record = with_policy(&state, record);
    let base = base_url(&req);
    let items_url = format!("{base}/collections/{ID}/items");
    Ok(match format {
        Format::Html => html_response(html::record(&record, &base, lang)),
        Format::Iso => {
            let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            HttpResponse::Ok()
                .content_type("application/vnd.iso.19139+xml; charset=utf-8")
                .body(geosector_catalogue::iso::document(&record, &base, &now))
        }
        Format::Dcat => HttpResponse::Ok()
            .content_type("application/ld+json")
            .body(geosector_catalogue::dcat::document(&record, &base).to_string()),
        Format::Json => HttpResponse::Ok()
            .content_type("application/geo+json")
            .body(crate::links::keyed_text(&geosector_catalogue::ogc::feature(&record, &base, &items_url), &req)),
    })
}

fn html_response(body: String) -> HttpResponse {
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(body)
}

/// The OpenAPI paths of the catalogue.
pub fn openapi_paths(paths: &mut serde_json::Map<String, Value>, limits: Limits, error: &Value) {
    let text = |name: &str, description: &str| json!({ "name": name, "in": "query", "required": false, "schema": { "type": "string" }, "description": description });
    let f = json!({ "name": "f", "in": "query", "required": false, "schema": { "type": "string", "enum": ["json", "html"] }, "description": "Response format" });
    let lang = json!({ "name": "lang", "in": "query", "required": false, "schema": { "type": "string", "enum": ["vi", "en"], "default": "vi" }, "description": "Language of the HTML" });
    let items_parameters = json!([
        f, lang,
        text("q", "Search terms, accent-insensitive (`ha noi` finds Hà Nội, đ = d): words all required, \"quoted words\" an ordered phrase, commas between alternatives; ranked title > description > keywords"),
        { "name": "bbox", "in": "query", "required": false, "style": "form", "explode": false, "schema": { "type": "array", "minItems": 4, "maxItems": 6, "items": { "type": "number" } }, "description": "min lon, min lat, max lon, max lat in CRS84" },
        text("datetime", "An instant or an interval (a/b, ../b, a/..) the record's temporal extent meets"),
        text("type", "Resource types, comma-separated (dataset, collection, …)"),
        text("keywords", "Keywords, comma-separated (any; case- and accent-insensitive)"),
        text("ids", "Record ids, comma-separated"),
        text("externalIds", "External identifiers (the records' UUIDs, bare or urn:uuid:…), comma-separated"),
        { "name": "limit", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 1, "maximum": limits.max, "default": limits.default }, "description": "Records per page" },
        { "name": "offset", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 0 }, "description": "Records skipped; use the next link" }
    ]);
    let record_parameters = json!([
        { "name": "recordId", "in": "path", "required": true, "schema": { "type": "string" } },
        { "name": "f", "in": "query", "required": false, "schema": { "type": "string", "enum": ["json", "html", "iso", "dcat"] }, "description": "json: GeoJSON record; iso: ISO 19139 XML (QCVN 42:2020); dcat: DCAT JSON-LD" },
        lang
    ]);
    for prefix in [format!("/collections/{ID}"), format!("/{ID}")] {
        let op = if prefix.starts_with("/collections") { "" } else { "Alias" };
        paths.insert(prefix.clone(), json!({ "get": { "summary": "The records collection (OGC API - Records)", "operationId": format!("getCatalogue{op}"), "parameters": [f, lang],
            "responses": { "200": { "description": "The catalogue", "content": { "application/json": { "schema": { "type": "object" } }, "text/html": { "schema": { "type": "string" } } } }, "400": error } } }));
        paths.insert(format!("{prefix}/items"), json!({ "get": { "summary": "Search the records", "operationId": format!("getRecords{op}"), "parameters": items_parameters,
            "responses": { "200": { "description": "A page of records", "content": { "application/geo+json": { "schema": { "type": "object" } }, "text/html": { "schema": { "type": "string" } } } }, "400": error } } }));
        paths.insert(format!("{prefix}/items/{{recordId}}"), json!({ "get": { "summary": "One record", "operationId": format!("getRecord{op}"), "parameters": record_parameters,
            "responses": { "200": { "description": "The record", "content": {
                "application/geo+json": { "schema": { "type": "object" } }, "text/html": { "schema": { "type": "string" } },
                "application/vnd.iso.19139+xml": { "schema": { "type": "string" } }, "application/ld+json": { "schema": { "type": "object" } } } },
                "400": error, "404": error } } }));
    }
}
