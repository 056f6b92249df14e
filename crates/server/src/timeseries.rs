//! `/collections/{collectionId}/items/{featureId}/timeseries`: one feature's values of one
//! series over time, as JSON or CSV — the shape a chart or a spreadsheet wants, which a
//! feature-per-value collection is not — for every collection that declares a series
//! ([`geosector_domain::SeriesDecl`]; 404 for the others), e.g. a monitoring station's
//! `/collections/{stations}/items/{station}/timeseries?parameter=PM2.5`.
//!
//! `{featureId}` is the feature's id or its key (a station code). Parameters: the declared
//! selector (required, e.g. `parameter`), `datetime` (an instant or interval as in items),
//! `limit` (default 10,000, at most 100,000: the series is returned oldest first and cut at the
//! limit) and `f` (`json` or `csv`). The statements are the store's, planned from the
//! declaration; every value is bound.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::DateTime;
use geosector_domain::SeriesDecl;
use geosector_store::series::{Point, Series, SeriesPlan, SeriesRequest};
use serde_json::{json, Map, Value};

use crate::error::ApiError;
use crate::links::base_url;
use crate::state::AppState;
use crate::{db, params};

const DEFAULT_LIMIT: i64 = 10_000;
const MAX_LIMIT: i64 = 100_000;

#[derive(Debug, PartialEq, Eq)]
enum Output {
    Json,
    Csv,
}

struct Query {
    request: SeriesRequest,
    output: Output,
}

/// An upper bound that is a date covers that whole day.
fn upper(bound: Option<String>) -> Option<String> {
    bound.map(|b| match chrono::NaiveDate::parse_from_str(&b, "%Y-%m-%d") {
        Ok(d) => d.succ_opt().map_or(b, |n| n.to_string()),
        Err(_) => match DateTime::parse_from_rfc3339(&b) {
            // An instant's upper bound includes it.
            Ok(t) => (t + chrono::Duration::microseconds(1)).to_rfc3339(),
            Err(_) => b,
        },
    })
}

fn parse(decl: &SeriesDecl, pairs: &[(String, String)], accept: Option<&str>) -> Result<Query, ApiError> {
    let selector = decl.selector.name;
    let mut request = SeriesRequest { selector: String::new(), from: None, to: None, limit: DEFAULT_LIMIT };
    let mut f = None;
    for (name, value) in pairs {
        match name.as_str() {
            n if n == selector => request.selector = decl.normalise(value),
            "datetime" => {
                let (from, to) = params::parse_datetime(value).map_err(|m| ApiError::param("datetime", m))?;
                request.from = from;
                request.to = upper(to);
            }
            "limit" => {
                request.limit = value
                    .parse::<i64>()
                    .ok()
                    .filter(|l| *l >= 1)
                    .ok_or_else(|| ApiError::param("limit", format!("expected a positive integer, got \"{value}\"")))?
                    .min(MAX_LIMIT);
            }
            "f" => f = Some(value.as_str()),
            other => {
                return Err(ApiError::param(other, format!("unknown parameter; use {selector}, datetime, limit or f")));
            }
        }
    }
    if request.selector.is_empty() {
        return Err(ApiError::param(selector, format!("required, {}", decl.selector.hint)));
    }
    let output = match f {
        Some("csv" | "text/csv") => Output::Csv,
        Some("json" | "application/json") => Output::Json,
        Some(other) => return Err(ApiError::param("f", format!("unsupported format \"{other}\": use json or csv"))),
        None if accept.is_some_and(|a| a.contains("text/csv")) => Output::Csv,
        None => Output::Json,
    };
    Ok(Query { request, output })
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// `GET /collections/{collectionId}/items/{featureId}/timeseries`.
///
/// # Errors
/// 404 for an unknown collection, a collection without series or an unknown feature, 400 for a
/// bad parameter, 503 when the database is down.
pub async fn timeseries(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, feature) = path.into_inner();
    let caller = crate::auth::caller(&state, &req).await?;
    let opened = crate::auth::open(&state, &caller, &id, geosector_access::policy::Operation::ReadItems)?;
    let collection = opened.collection;
    let plan =
        collection.series.as_ref().ok_or_else(|| ApiError::NotFound(format!("collection {id} has no time series")))?;
    let decl = plan.decl;
    let pairs = params::query_pairs(&req)?;
    let accept = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let q = parse(decl, &pairs, accept)?;
    let client = state.reads.get().await?;
    let key: String = db::one(&client, &plan.feature(&feature, opened.scope.as_ref()))
        .await?
        .map(|r| r.get(0))
        .ok_or_else(|| ApiError::NotFound(format!("{id}: no feature with id or {} {feature}", decl.key)))?;
    let Series { source, selector, statement } = plan
        .series(&key, &q.request)
        .ok_or_else(|| ApiError::param(decl.selector.name, format!("no series {} in {id}", q.request.selector)))?;
    let rows = db::all(&client, &statement).await?;
    drop(client);
    let points: Vec<Point> = rows.iter().map(SeriesPlan::point).collect::<Result<_, _>>()?;
    drop(rows);
    let (time, value) = (source.time, source.value.name);
    if q.output == Output::Csv {
        let mut body = format!("{time},{value}");
        for field in source.fields {
            body.push(',');
            body.push_str(field.name);
        }
        body.push('\n');
        for (t, v, fields) in &points {
            body.push_str(&format!("{},{v}", t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
            for field in fields {
                body.push(',');
                body.push_str(&csv_field(field.as_deref().unwrap_or_default()));
            }
            body.push('\n');
        }
        return Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{}_{}.csv\"", key.replace('"', ""), selector.replace('"', "")),
            ))
            .body(body));
    }
    let values: Vec<Value> = points
        .iter()
        .map(|(t, v, fields)| {
            let mut point = Map::new();
            point.insert(time.to_owned(), json!(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
            point.insert(value.to_owned(), json!(v));
            for (field, text) in source.fields.iter().zip(fields) {
                point.insert(field.name.to_owned(), json!(text));
            }
            Value::Object(point)
        })
        .collect();
    let base = base_url(&req);
    let self_href = format!("{base}{}", req.uri());
    let csv_href = format!(
        "{base}/collections/{id}/items/{feature}/timeseries?{}",
        pairs
            .iter()
            .filter(|(k, _)| k != "f")
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .chain(std::iter::once("f=csv".to_owned()))
            .collect::<Vec<_>>()
            .join("&")
    );
    let (key_name, selector_name) = (decl.key, decl.selector.name);
    Ok(HttpResponse::Ok().content_type("application/json").json(json!({
        key_name: key,
        selector_name: selector,
        "numberReturned": values.len(),
        "limit": q.request.limit,
        "values": values,
        "links": [
            {"rel": "self", "type": "application/json", "href": self_href},
            {"rel": "alternate", "type": "text/csv", "href": csv_href},
            {"rel": "collection", "type": "application/json", "href": format!("{base}/collections/{id}")},
        ],
    })))
}

/// Adds the time-series path of every collection with a series to the OpenAPI document.
pub fn document(doc: &mut Value, collections: &[std::sync::Arc<geosector_store::Collection>]) {
    let error = json!({ "description": "An OGC exception", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/exception" } } } });
    for c in collections {
        let Some(decl) = c.decl.series else { continue };
        let id = c.id();
        let path = json!({ "get": {
            "summary": decl.summary,
            "operationId": format!("timeseries_{}", id.replace('.', "_")),
            "parameters": [
                { "name": "featureId", "in": "path", "required": true, "schema": { "type": "string" }, "description": format!("The feature id or its {}", decl.key) },
                { "name": decl.selector.name, "in": "query", "required": true, "schema": { "type": "string" }, "description": decl.selector.description },
                { "name": "datetime", "in": "query", "required": false, "schema": { "type": "string", "pattern": crate::params::interval_pattern() }, "description": "Instant or interval (a/b, ../b, a/..); a date as upper bound covers the day" },
                { "name": "limit", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT }, "description": "Values returned, oldest first" },
                { "name": "f", "in": "query", "required": false, "schema": { "type": "string", "enum": ["json", "csv"] }, "description": "Response format" }
            ],
            "responses": {
                "200": { "description": "The series", "content": { "application/json": { "schema": { "type": "object" } }, "text/csv": { "schema": { "type": "string" } } } },
                "400": error.clone(), "404": error.clone()
            } } });
        if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
            paths.insert(format!("/collections/{id}/items/{{featureId}}/timeseries"), path);
        }
    }
}

fn urlencode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use geosector_domain::{Column, Selector, Selects, SeriesSource};

    const SERIES: SeriesDecl = SeriesDecl {
        key: "station_code",
        selector: Selector { name: "parameter", decimal_comma: true, description: "", hint: "e.g. parameter=PM2.5" },
        sources: &[SeriesSource {
            schema: "s",
            table: "t",
            key: "station_code",
            selects: Selects::Column("parameter"),
            time: "observed_at",
            value: Column::same("value"),
            fields: &[],
        }],
        summary: "",
    };

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn parameters_are_checked() {
        let q = parse(
            &SERIES,
            &pairs(&[("parameter", "PM2,5"), ("datetime", "2026-11-01/2026-11-02"), ("f", "csv")]),
            None,
        )
        .unwrap_or_else(|_| panic!("valid"));
        assert_eq!(q.request.selector, "PM2.5");
        assert_eq!(q.request.to.as_deref(), Some("2026-11-03"), "a date upper bound covers the day");
        assert_eq!(q.output, Output::Csv);
        let err =
            |list: &[(&str, &str)]| parse(&SERIES, &pairs(list), None).err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(err(&[]), "parameter: required, e.g. parameter=PM2.5");
        assert!(err(&[("parameter", "PM10"), ("limit", "0")]).starts_with("limit:"));
        assert_eq!(
            err(&[("parameter", "PM10"), ("bbox", "1,2,3,4")]),
            "bbox: unknown parameter; use parameter, datetime, limit or f"
        );
        assert!(err(&[("parameter", "PM10"), ("f", "xml")]).starts_with("f:"));
        assert!(err(&[("parameter", "PM10"), ("datetime", "yesterday")]).starts_with("datetime:"));
    }

    #[test]
    fn csv_fields_are_quoted() {
        assert_eq!(csv_field("Trung bình"), "Trung bình");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
    }
}
