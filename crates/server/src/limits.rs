//! Request limits: what one request may ask, checked before a handler runs (URL length, each
//! query parameter's length, empty values) or where the value is read (body size, filter size
//! and depth, vertices of a geometry, the bbox area of an anonymous caller). Each refusal is a
//! 4xx with an OGC exception naming the parameter (`url`, `body`, `filter`, `bbox`, or the
//! parameter at fault); the limits come from the server's configuration (docs/security.md,
//! "Request limits").

use actix_web::HttpRequest;
use serde_json::Value;

use crate::error::ApiError;

/// The limits in force.
#[derive(Debug, Clone, Copy)]
pub struct RequestLimits {
    /// Largest request body, in bytes (413 beyond).
    pub max_body_bytes: usize,
    /// Longest URL (path and query), in bytes (414 beyond).
    pub max_url_bytes: usize,
    /// Longest value of a query parameter other than `filter`, in characters (400 beyond).
    pub max_parameter_chars: usize,
    /// The filter's bounds: bytes, nesting depth, expressions, vertices of a geometry literal.
    pub filter: geosector_filter::Limits,
    /// Most vertices (positions) of one geometry in an edit body.
    pub max_vertices: usize,
    /// Largest bbox area an anonymous caller may ask on items, in square degrees of CRS84
    /// (0: no limit).
    pub anonymous_bbox_deg2: f64,
}

impl Default for RequestLimits {
    fn default() -> Self {
        RequestLimits {
            max_body_bytes: 16 * 1024 * 1024,
            max_url_bytes: 48 * 1024,
            max_parameter_chars: 1024,
            filter: geosector_filter::Limits::default(),
            max_vertices: geosector_filter::Limits::default().max_vertices,
            anonymous_bbox_deg2: 0.0,
        }
    }
}

/// Parameters whose empty value means something (`properties=`: no properties).
const EMPTY_TAKEN: &[&str] = &["properties"];

/// Paths whose parameters are read by their own protocol's rules (WFS KVP: OWS exception
/// reports, names in any case): only the URL length is checked here.
const OWN_RULES: &[&str] = &["/wfs"];

impl RequestLimits {
    /// The longest value the API document promises to take for a parameter, in characters: a
    /// filter of that many characters fits its byte limit whatever the characters.
    pub fn documented_chars(&self, parameter: &str) -> usize {
        if parameter == "filter" {
            self.filter.max_bytes / 4
        } else {
            self.max_parameter_chars
        }
    }

    /// Checks what can be checked before the handler: the URL's length, then each query
    /// parameter: its value decodes to UTF-8, is not empty, has no NUL, and is not longer than
    /// its limit.
    ///
    /// # Errors
    /// 414 naming `url` (and the longest parameter); 400 naming the parameter.
    pub fn check_request(&self, req: &HttpRequest) -> Result<(), ApiError> {
        let uri_len = req.uri().path().len() + req.query_string().len() + 1;
        if uri_len > self.max_url_bytes {
            let longest = raw_pairs(req.query_string())
                .max_by_key(|(_, v)| v.len())
                .map(|(k, v)| format!(" (the longest parameter: {}, {} bytes encoded)", short(k), v.len()))
                .unwrap_or_default();
            return Err(ApiError::UriTooLong(format!(
                "url: the URL is {uri_len} bytes, more than the limit of {} bytes{longest}",
                self.max_url_bytes
            )));
        }
        if OWN_RULES.contains(&req.path()) {
            return Ok(());
        }
        self.check_values(req.query_string(), false)
    }

    /// Checks each query parameter of a query string: it decodes to UTF-8, has no NUL, is not
    /// longer than its limit, and (unless `empty_taken`) is not empty. WFS calls it with its own
    /// exception reports (empty values are taken there, as WFS clients send them).
    ///
    /// # Errors
    /// 400 naming the parameter.
    pub fn check_values(&self, query: &str, empty_taken: bool) -> Result<(), ApiError> {
        for (name, value) in raw_pairs(query) {
            let name = decode(name).map_err(|e| ApiError::param("query", format!("a parameter name {e}")))?;
            let value = decode(value).map_err(|e| ApiError::param(&name, e))?;
            if value.is_empty() && !empty_taken && !EMPTY_TAKEN.contains(&name.as_str()) {
                return Err(ApiError::param(&name, "empty value; leave the parameter out instead"));
            }
            if value.contains('\0') {
                return Err(ApiError::param(&name, "contains a NUL character"));
            }
            if name.eq_ignore_ascii_case("filter") {
                if value.len() > self.filter.max_bytes {
                    return Err(ApiError::param(
                        "filter",
                        format!("longer than {} bytes ({} bytes)", self.filter.max_bytes, value.len()),
                    ));
                }
            } else if value.chars().count() > self.max_parameter_chars {
                return Err(ApiError::param(
                    &name,
                    format!("longer than {} characters ({})", self.max_parameter_chars, value.chars().count()),
                ));
            }
        }
        Ok(())
    }

    /// Checks the geometries of a JSON body (a feature, a feature collection, a changeset):
    /// each `coordinates` member has at most [`RequestLimits::max_vertices`] positions.
    ///
    /// # Errors
    /// 400 naming `body`.
    pub fn check_body_geometries(&self, body: &Value) -> Result<(), ApiError> {
        fn positions(value: &Value) -> usize {
            match value {
                Value::Array(items) if items.first().is_some_and(Value::is_number) => 1,
                Value::Array(items) => items.iter().map(positions).sum(),
                _ => 0,
            }
        }
        fn walk(value: &Value, max: usize) -> Result<(), ApiError> {
            match value {
                Value::Object(members) => {
                    for (name, member) in members {
                        if name == "coordinates" {
                            let count = positions(member);
                            if count > max {
                                return Err(ApiError::param(
                                    "body",
                                    format!("a geometry has {count} vertices, more than the limit of {max}"),
                                ));
                            }
                        } else {
                            walk(member, max)?;
                        }
                    }
                    Ok(())
                }
                Value::Array(items) => items.iter().try_for_each(|i| walk(i, max)),
                _ => Ok(()),
            }
        }
        walk(body, self.max_vertices)
    }

    /// Checks the area of a bbox an anonymous caller asks, in square degrees of CRS84 (each
    /// envelope's width times its height; a bbox crossing the antimeridian is two).
    ///
    /// # Errors
    /// 400 naming `bbox`.
    pub fn check_anonymous_bbox(&self, envelopes: &[[f64; 4]]) -> Result<(), ApiError> {
        if self.anonymous_bbox_deg2 <= 0.0 {
            return Ok(());
        }
        let area: f64 = envelopes.iter().map(|[x0, y0, x1, y1]| (x1 - x0).abs() * (y1 - y0).abs()).sum();
        if area > self.anonymous_bbox_deg2 {
            return Err(ApiError::param(
                "bbox",
                format!(
                    "covers {area:.2} square degrees, more than the {} an anonymous caller may ask; narrow it, page with a filter, or authenticate",
                    self.anonymous_bbox_deg2
                ),
            ));
        }
        Ok(())
    }
}

/// The raw `name=value` pairs of a query string, still percent-encoded.
fn raw_pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query.split('&').filter(|p| !p.is_empty()).map(|p| p.split_once('=').unwrap_or((p, "")))
}

/// Percent-decodes a query component (`+` is a space) into UTF-8.
fn decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
                let byte = hex.and_then(|h| u8::from_str_radix(h, 16).ok()).ok_or("has a malformed percent-escape")?;
                out.push(byte);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| "is not UTF-8 once percent-decoded".to_owned())
}

fn short(text: &str) -> String {
    text.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_names_what_is_wrong() {
        assert_eq!(decode("a%20b+c").unwrap(), "a b c");
        assert_eq!(decode("%C3%A1").unwrap(), "á");
        assert!(decode("%FF%FE").unwrap_err().contains("UTF-8"));
        assert!(decode("%G1").unwrap_err().contains("percent-escape"));
        assert!(decode("%4").unwrap_err().contains("percent-escape"));
    }

    #[test]
    fn vertices_are_counted_per_geometry() {
        let limits = RequestLimits { max_vertices: 4, ..RequestLimits::default() };
        let ring = |n: usize| Value::Array((0..n).map(|i| serde_json::json!([i as f64, 0.0])).collect());
        let feature = |n: usize| serde_json::json!({ "type": "Feature", "geometry": { "type": "Polygon", "coordinates": [ring(n)] } });
        assert!(limits.check_body_geometries(&feature(4)).is_ok());
        assert!(limits.check_body_geometries(&feature(5)).unwrap_err().to_string().starts_with("body:"));
        let two = serde_json::json!({ "edits": [feature(3), feature(4)] });
        assert!(limits.check_body_geometries(&two).is_ok());
    }

    #[test]
    fn anonymous_bbox_area() {
        let off = RequestLimits::default();
        assert!(off.check_anonymous_bbox(&[[-180.0, -90.0, 180.0, 90.0]]).is_ok());
        let on = RequestLimits { anonymous_bbox_deg2: 1.0, ..RequestLimits::default() };
        assert!(on.check_anonymous_bbox(&[[105.0, 21.0, 105.5, 21.5]]).is_ok());
        assert!(on.check_anonymous_bbox(&[[100.0, 10.0, 110.0, 20.0]]).unwrap_err().to_string().starts_with("bbox:"));
    }
}
