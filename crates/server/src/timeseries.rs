//! `/collections/environment.stations/items/{station}/timeseries`: one station's values of one
//! parameter over time, as JSON or CSV — the shape a chart or a spreadsheet wants, which the
//! feature-per-observation items of `environment.observations` are not.
//!
//! `{station}` is the station's feature id or its station code. Parameters: `parameter`
//! (required; a canonical symbol such as `PM2.5`, or `AQI` for the hourly VN_AQI), `datetime`
//! (an instant or interval as in items), `limit` (default 10,000, at most 100,000: the series
//! is returned oldest first and cut at the limit) and `f` (`json` or `csv`). Every value is
//! bound: the statements are constants of this module.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};

use crate::error::ApiError;
use crate::links::base_url;
use crate::params;
use crate::AppState;

const DEFAULT_LIMIT: i64 = 10_000;
const MAX_LIMIT: i64 = 100_000;

const STATION_SQL: &str =
    "SELECT station_code FROM environment.stations WHERE station_code = $1 OR id::text = $1 ORDER BY station_code = $1 DESC LIMIT 1";

const OBSERVATIONS_SQL: &str = "SELECT observed_at, value, unit, status FROM environment.observations
     WHERE station_code = $1 AND parameter = $2
       AND observed_at >= coalesce($3::text::timestamptz, '-infinity') AND observed_at < coalesce($4::text::timestamptz, 'infinity')
     ORDER BY observed_at LIMIT $5";

const AQI_SQL: &str = "SELECT observed_at, aqi::float8, level, dominant FROM environment.aqi_hourly
     WHERE station_code = $1
       AND observed_at >= coalesce($3::text::timestamptz, '-infinity') AND observed_at < coalesce($4::text::timestamptz, 'infinity')
       AND $2::text = 'AQI'
     ORDER BY observed_at LIMIT $5";

#[derive(Debug, PartialEq, Eq)]
enum Output {
    Json,
    Csv,
}

struct Query {
    parameter: String,
    from: Option<String>,
    to: Option<String>,
    limit: i64,
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

fn parse(pairs: &[(String, String)], accept: Option<&str>) -> Result<Query, ApiError> {
    let mut q = Query { parameter: String::new(), from: None, to: None, limit: DEFAULT_LIMIT, output: Output::Json };
    let mut f = None;
    for (name, value) in pairs {
        match name.as_str() {
            "parameter" => q.parameter = value.trim().replace(',', "."),
            "datetime" => {
                let (from, to) = params::parse_datetime(value).map_err(|m| ApiError::param("datetime", m))?;
                q.from = from;
                q.to = upper(to);
            }
            "limit" => {
                q.limit = value
                    .parse::<i64>()
                    .ok()
                    .filter(|l| *l >= 1)
                    .ok_or_else(|| ApiError::param("limit", format!("expected a positive integer, got \"{value}\"")))?
                    .min(MAX_LIMIT);
            }
            "f" => f = Some(value.as_str()),
            other => {
                return Err(ApiError::param(other, "unknown parameter; use parameter, datetime, limit or f"));
            }
        }
    }
    if q.parameter.is_empty() {
        return Err(ApiError::param("parameter", "required, e.g. parameter=PM2.5 (or AQI for the hourly VN_AQI)"));
    }
    q.output = match f {
        Some("csv" | "text/csv") => Output::Csv,
        Some("json" | "application/json") => Output::Json,
        Some(other) => return Err(ApiError::param("f", format!("unsupported format \"{other}\": use json or csv"))),
        None if accept.is_some_and(|a| a.contains("text/csv")) => Output::Csv,
        None => Output::Json,
    };
    Ok(q)
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// `GET /collections/environment.stations/items/{station}/timeseries`.
///
/// # Errors
/// 404 for an unknown station, 400 for a bad parameter, 503 when the database is down.
pub async fn timeseries(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let pairs = params::query_pairs(&req)?;
    let accept = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let q = parse(&pairs, accept)?;
    let client = state.pool.get().await?;
    let station: String = client
        .query_opt(&client.prepare_cached(STATION_SQL).await?, &[&path.as_str()])
        .await?
        .map(|r| r.get(0))
        .ok_or_else(|| ApiError::NotFound(format!("station {} not found", path.as_str())))?;
    let is_aqi = q.parameter.eq_ignore_ascii_case("aqi");
    let parameter = if is_aqi { "AQI".to_owned() } else { q.parameter.clone() };
    let sql = if is_aqi { AQI_SQL } else { OBSERVATIONS_SQL };
    let rows =
        client.query(&client.prepare_cached(sql).await?, &[&station, &parameter, &q.from, &q.to, &q.limit]).await?;
    let points: Vec<(DateTime<Utc>, f64, Option<String>, String)> =
        rows.iter().map(|r| (r.get(0), r.get(1), r.get(2), r.get(3))).collect();
    let (third, fourth) = if is_aqi { ("level", "dominant") } else { ("unit", "status") };
    if q.output == Output::Csv {
        let mut body = format!("observed_at,value,{third},{fourth}\n");
        for (t, v, a, b) in &points {
            body.push_str(&format!(
                "{},{v},{},{}\n",
                t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                csv_field(a.as_deref().unwrap_or_default()),
                csv_field(b)
            ));
        }
        return Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{}_{}.csv\"", station.replace('"', ""), parameter.replace('"', "")),
            ))
            .body(body));
    }
    let values: Vec<serde_json::Value> = points
        .iter()
        .map(|(t, v, a, b)| {
            serde_json::json!({
                "observed_at": t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "value": v, third: a, fourth: b,
            })
        })
        .collect();
    let base = base_url(&req);
    let self_href = format!("{base}{}", req.uri());
    let csv_href = format!(
        "{base}/collections/environment.stations/items/{}/timeseries?{}",
        path.as_str(),
        pairs
            .iter()
            .filter(|(k, _)| k != "f")
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .chain(std::iter::once("f=csv".to_owned()))
            .collect::<Vec<_>>()
            .join("&")
    );
    Ok(HttpResponse::Ok().content_type("application/json").json(serde_json::json!({
        "station_code": station,
        "parameter": parameter,
        "numberReturned": values.len(),
        "limit": q.limit,
        "values": values,
        "links": [
            {"rel": "self", "type": "application/json", "href": self_href},
            {"rel": "alternate", "type": "text/csv", "href": csv_href},
            {"rel": "collection", "type": "application/json", "href": format!("{base}/collections/environment.stations")},
        ],
    })))
}

/// Adds the time-series path to the OpenAPI document, when the stations collection is served.
pub fn document(doc: &mut serde_json::Value, registry: &geosector_store::Registry) {
    if registry.get("environment.stations").is_none() {
        return;
    }
    let error = serde_json::json!({ "description": "An OGC exception", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/exception" } } } });
    let path = serde_json::json!({ "get": {
        "summary": "One station's values of one parameter over time (JSON or CSV)",
        "operationId": "timeseries_environment_stations",
        "parameters": [
            { "name": "featureId", "in": "path", "required": true, "schema": { "type": "string" }, "description": "The station's feature id or station code" },
            { "name": "parameter", "in": "query", "required": true, "schema": { "type": "string" }, "description": "A parameter symbol (PM2.5, PM10, NO2, SO2, CO, O3, pH, DO, COD, …) or AQI for the hourly VN_AQI" },
            { "name": "datetime", "in": "query", "required": false, "schema": { "type": "string" }, "description": "Instant or interval (a/b, ../b, a/..); a date as upper bound covers the day" },
            { "name": "limit", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT }, "description": "Values returned, oldest first" },
            { "name": "f", "in": "query", "required": false, "schema": { "type": "string", "enum": ["json", "csv"] }, "description": "Response format" }
        ],
        "responses": {
            "200": { "description": "The series", "content": { "application/json": { "schema": { "type": "object" } }, "text/csv": { "schema": { "type": "string" } } } },
            "400": error.clone(), "404": error
        } } });
    if let Some(paths) = doc.get_mut("paths").and_then(serde_json::Value::as_object_mut) {
        paths.insert("/collections/environment.stations/items/{featureId}/timeseries".into(), path);
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

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn parameters_are_checked() {
        let q = parse(&pairs(&[("parameter", "PM2,5"), ("datetime", "2026-11-01/2026-11-02"), ("f", "csv")]), None)
            .unwrap_or_else(|_| panic!("valid"));
        assert_eq!(q.parameter, "PM2.5");
        assert_eq!(q.to.as_deref(), Some("2026-11-03"), "a date upper bound covers the day");
        assert_eq!(q.output, Output::Csv);
        let err = |list: &[(&str, &str)]| parse(&pairs(list), None).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err(&[]).starts_with("parameter:"));
        assert!(err(&[("parameter", "PM10"), ("limit", "0")]).starts_with("limit:"));
        assert!(err(&[("parameter", "PM10"), ("bbox", "1,2,3,4")]).starts_with("bbox:"));
        assert!(err(&[("parameter", "PM10"), ("f", "xml")]).starts_with("f:"));
        assert!(err(&[("parameter", "PM10"), ("datetime", "yesterday")]).starts_with("datetime:"));
    }

    #[test]
    fn csv_fields_are_quoted() {
        assert_eq!(csv_field("Trung bình"), "Trung bình");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
    }
}
