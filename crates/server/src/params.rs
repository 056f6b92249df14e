//! Typed parsing of request parameters. Value parsers say why a value is wrong; the caller adds
//! which parameter it was, so every 400 names the parameter ("bbox: expected 4 or 6 numbers,
//! got 3"). The parameters of a whole items request are put together in [`crate::query`].

use geosector_domain::{CellValue, FieldType};

use crate::error::ApiError;

/// The query parameter carrying an API key (see [`crate::auth`]).
pub const KEY_PARAMETER: &str = "apikey";

/// The request's query parameters as name/value pairs, in order, less the API key (a
/// credential, read by [`crate::auth`], accepted by every resource).
///
/// # Errors
/// 400 when the query string cannot be decoded.
pub fn query_pairs(req: &actix_web::HttpRequest) -> Result<Vec<(String, String)>, ApiError> {
    let mut pairs = actix_web::web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map(actix_web::web::Query::into_inner)
        .map_err(|e| ApiError::param("query", format!("cannot read the query string: {e}")))?;
    pairs.retain(|(k, _)| k != KEY_PARAMETER);
    Ok(pairs)
}

/// Every query parameter as given, the API key included (empty when the query does not decode).
pub fn raw_query_pairs(req: &actix_web::HttpRequest) -> Vec<(String, String)> {
    actix_web::web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map(actix_web::web::Query::into_inner)
        .unwrap_or_default()
}

/// Checks a request's parameter names: each given once, each one `accepts` takes; otherwise a
/// 400 naming the first one at fault, "given more than once" or `unknown` (which says what is
/// accepted).
///
/// # Errors
/// The 400 of the first repeated or unknown parameter.
pub fn check_names(
    pairs: &[(String, String)],
    accepts: impl Fn(&str) -> bool,
    unknown: impl Fn() -> String,
) -> Result<(), ApiError> {
    for (i, (name, _)) in pairs.iter().enumerate() {
        if pairs[..i].iter().any(|(k, _)| k == name) {
            return Err(ApiError::param(name, "given more than once"));
        }
        if !accepts(name) {
            return Err(ApiError::param(name, unknown()));
        }
    }
    Ok(())
}

/// The representation of a resource that takes no parameter but `f`.
///
/// # Errors
/// 400 naming any other parameter, or a bad `f`.
pub fn format_only(req: &actix_web::HttpRequest) -> Result<Format, ApiError> {
    let pairs = query_pairs(req)?;
    if let Some((name, _)) = pairs.iter().find(|(k, _)| k != "f") {
        return Err(ApiError::param(name, "unknown parameter; this resource accepts only f"));
    }
    let accept = req.headers().get(actix_web::http::header::ACCEPT).and_then(|v| v.to_str().ok());
    format(pairs.iter().find(|(k, _)| k == "f").map(|(_, v)| v.as_str()), accept)
}

/// Representation asked for by `f` or `Accept`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON (GeoJSON for features).
    Json,
    /// HTML.
    Html,
}

/// Reads `f` (json, geojson, html), else the `Accept` header (HTML only when it prefers it).
///
/// # Errors
/// 400 naming `f` for another value.
pub fn format(f: Option<&str>, accept: Option<&str>) -> Result<Format, ApiError> {
    match f {
        Some("json" | "geojson" | "application/json" | "application/geo+json") => Ok(Format::Json),
        Some("html" | "text/html") => Ok(Format::Html),
        Some(other) => Err(ApiError::param("f", format!("unsupported format \"{other}\": use json or html"))),
        None => {
            let accept = accept.unwrap_or_default();
            let html = accept.find("text/html");
            let json = ["application/json", "application/geo+json"].iter().filter_map(|m| accept.find(m)).min();
            Ok(match (html, json) {
                (Some(h), Some(j)) if h < j => Format::Html,
                (Some(_), None) => Format::Html,
                _ => Format::Json,
            })
        }
    }
}

/// The page-size limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Used when the request gives no `limit`.
    pub default: i64,
    /// Larger requests are capped to this.
    pub max: i64,
}

/// The lower and upper corners of a bbox of 4 numbers, or 6 with heights (dropped), in the order
/// written, whatever the CRS.
///
/// # Errors
/// A value that is not a finite number, or another count of numbers.
pub fn bbox_corners(text: &str) -> Result<(f64, f64, f64, f64), String> {
    let numbers: Vec<f64> = text
        .split(',')
        .map(|p| {
            p.trim()
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .ok_or_else(|| format!("\"{}\" is not a number", p.trim()))
        })
        .collect::<Result<_, _>>()?;
    match numbers.as_slice() {
        [a, b, c, d] => Ok((*a, *b, *c, *d)),
        [a, b, _, d, e, _] => Ok((*a, *b, *d, *e)),
        other => Err(format!("expected 4 or 6 numbers, got {}", other.len())),
    }
}

/// Parses a bbox of 4 or 6 numbers in CRS84; one with min lon > max lon crosses the
/// antimeridian and becomes two envelopes.
///
/// # Errors
/// Why the text is not a usable bbox.
pub fn parse_bbox(text: &str) -> Result<Vec<[f64; 4]>, String> {
    let (x0, y0, x1, y1) = bbox_corners(text)?;
    if !(-180.0..=180.0).contains(&x0) || !(-180.0..=180.0).contains(&x1) {
        return Err("longitudes must be within -180 and 180".into());
    }
    if !(-90.0..=90.0).contains(&y0) || !(-90.0..=90.0).contains(&y1) {
        return Err("latitudes must be within -90 and 90".into());
    }
    if y0 > y1 {
        return Err("the lower latitude is greater than the upper one".into());
    }
    Ok(if x0 > x1 { vec![[x0, y0, 180.0, y1], [-180.0, y0, x1, y1]] } else { vec![[x0, y0, x1, y1]] })
}

/// Parses an instant or an interval (`a/b`, `../b`, `a/..`); each bound a date or an RFC 3339
/// date-time.
///
/// # Errors
/// Why the text is not a datetime or interval.
pub fn parse_datetime(text: &str) -> Result<(Option<String>, Option<String>), String> {
    let bound = |s: &str| -> Result<Option<String>, String> {
        let s = s.trim();
        if s.is_empty() || s == ".." {
            return Ok(None);
        }
        use chrono::Datelike;
        // PostgreSQL refuses years outside 1–9999 in this text form and offsets past ±15:59.
        let in_range = |year: i32| (1..=9999).contains(&year);
        match (chrono::DateTime::parse_from_rfc3339(s), chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")) {
            (Ok(t), _) if !in_range(t.year()) => Err(format!("\"{s}\": the year must be from 1 to 9999")),
            (Ok(t), _) if t.offset().local_minus_utc().abs() > geosector_domain::value::MAX_OFFSET_S => {
                Err(format!("\"{s}\": the UTC offset must be within ±14:00"))
            }
            // chrono reads a leap second (:60) as a second past 59; PostgreSQL's arithmetic on it
            // fails, so it is refused here (issue 22 finding: a 500 on time series).
            (Ok(t), _) if t.timestamp_subsec_nanos() >= 1_000_000_000 => {
                Err(format!("\"{s}\": a leap second (:60) is not taken; use :59.999999"))
            }
            // The end of year 9999 in UTC, to the microsecond PostgreSQL keeps (a bound one
            // nanosecond later is written in year 10000, which it cannot read back).
            (Ok(t), _) if (t.with_timezone(&chrono::Utc) + chrono::Duration::microseconds(1)).year() > 9999 => {
                Err(format!("\"{s}\": must be before 9999-12-31T23:59:59.999999Z"))
            }
            (Ok(_), _) => Ok(Some(s.to_owned())),
            (_, Ok(d)) if !in_range(d.year()) => Err(format!("\"{s}\": the year must be from 1 to 9999")),
            (_, Ok(_)) => Ok(Some(s.to_owned())),
            _ => Err(format!("\"{s}\" is neither a date (YYYY-MM-DD) nor an RFC 3339 date-time")),
        }
    };
    match text.split_once('/') {
        None => {
            let instant = bound(text)?.ok_or("an instant cannot be open")?;
            Ok((Some(instant.clone()), Some(instant)))
        }
        Some((a, b)) => {
            let (from, to) = (bound(a)?, bound(b)?);
            if from.is_none() && to.is_none() {
                return Err("an interval needs at least one bound".into());
            }
            Ok((from, to))
        }
    }
}

/// Validates a filter value against the property's type and returns its canonical text.
///
/// # Errors
/// Why the text is not a value of that type.
pub fn canonical_value(kind: FieldType, text: &str) -> Result<String, String> {
    let element = match kind {
        FieldType::TextList => FieldType::Text,
        FieldType::FloatList => FieldType::Float,
        other => other,
    };
    if element == FieldType::Json {
        return serde_json::from_str::<serde_json::Value>(text)
            .map(|v| v.to_string())
            .map_err(|e| format!("not JSON: {e}"));
    }
    match element.parse(&serde_json::Value::String(text.to_owned())).map_err(|e| e.to_string())? {
        CellValue::Null => Err("empty value".into()),
        CellValue::Text(s) => Ok(s),
        CellValue::Integer(i) => Ok(i.to_string()),
        CellValue::Float(f) => Ok(f.to_string()),
        CellValue::Date(d) => Ok(d.to_string()),
        CellValue::Timestamp(t) => Ok(t.to_rfc3339()),
        CellValue::Boolean(b) => Ok(b.to_string()),
        other => Err(format!("unsupported value {other:?}")),
    }
}

/// One instant as the server reads it (as `INSTANT_PATTERN` in the OpenAPI document): a date,
/// or an RFC 3339 date-time, in the years 1 to 9999 with a UTC offset within ±14:00 (what
/// PostgreSQL stores). Days are those of their month; February 29th is left out, its validity
/// depending on the year.
pub const INSTANT_PATTERN: &str = r"^(000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})-((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31)(T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9]))?$";

/// An instant, or an interval of two instants or one and `..` (either side open).
pub fn interval_pattern() -> String {
    let instant = INSTANT_PATTERN.trim_start_matches('^').trim_end_matches('$');
    format!(r"^({instant}(/({instant}|\.\.))?|\.\./{instant})$")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bbox_forms() {
        assert_eq!(parse_bbox("105,20,106,21").unwrap(), vec![[105.0, 20.0, 106.0, 21.0]]);
        assert_eq!(parse_bbox("105,20,0,106,21,100").unwrap(), vec![[105.0, 20.0, 106.0, 21.0]]);
        assert_eq!(parse_bbox("170,-10,-170,10").unwrap().len(), 2, "antimeridian");
        assert!(parse_bbox("1,2,3").unwrap_err().contains("got 3"));
        assert!(parse_bbox("a,2,3,4").unwrap_err().contains("not a number"));
        assert!(parse_bbox("0,50,1,40").is_err());
        assert!(parse_bbox("0,0,200,1").is_err());
    }

    #[test]
    fn datetime_forms() {
        assert_eq!(parse_datetime("2024-01-01").unwrap(), (Some("2024-01-01".into()), Some("2024-01-01".into())));
        assert_eq!(parse_datetime("../2024-01-01").unwrap(), (None, Some("2024-01-01".into())));
        assert_eq!(parse_datetime("2024-01-01T00:00:00Z/..").unwrap(), (Some("2024-01-01T00:00:00Z".into()), None));
        assert!(parse_datetime("../..").is_err());
        assert!(parse_datetime("yesterday").is_err());
        assert!(parse_datetime("2016-12-31T23:59:60Z").unwrap_err().contains("leap second"));
        assert!(parse_datetime("9999-12-31T23:59:59.999999999Z").unwrap_err().contains("before 9999"));
        assert!(parse_datetime("9999-12-31T23:00:00-05:00").is_err());
        assert!(parse_datetime("9999-12-31T23:59:59Z").is_ok());
    }

    #[test]
    fn negotiation() {
        assert_eq!(format(None, Some("text/html,application/xhtml+xml")).unwrap(), Format::Html);
        assert_eq!(format(None, Some("application/geo+json, text/html;q=0.5")).unwrap(), Format::Json);
        assert_eq!(format(None, None).unwrap(), Format::Json);
        assert!(format(Some("xml"), None).is_err());
    }

    #[test]
    fn filter_values_are_validated() {
        assert_eq!(canonical_value(FieldType::Code { digits: 5 }, "376").unwrap(), "00376");
        assert!(canonical_value(FieldType::Integer, "1; DROP TABLE x").is_err());
        assert_eq!(canonical_value(FieldType::TextList, "ONT").unwrap(), "ONT");
    }
}
