//! What a write request brings: its body (read with a size cap), its media type, the CRS of its
//! coordinates (`Content-Crs`), the changeset's legal reference (headers), its preconditions
//! (`If-Match`, `If-Unmodified-Since`), and the JSON merge patch of RFC 7396.

use actix_web::http::header;
use actix_web::{web, HttpRequest};
use futures_util::StreamExt as _;
use geosector_crs::ApiCrs;
use serde_json::Value;

use crate::error::ApiError;

/// The media types a feature body may have.
const FEATURE_TYPES: &[&str] = &["application/geo+json", "application/json"];

/// The media type of a merge patch (RFC 7396).
pub const MERGE_PATCH: &str = "application/merge-patch+json";

/// Reads the body, at most `max` bytes (the server's `max_body_bytes`).
///
/// # Errors
/// 413 beyond the cap; 400 when the connection fails mid-body.
pub async fn body(mut payload: web::Payload, max: usize) -> Result<web::BytesMut, ApiError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::param("body", format!("the body could not be read: {e}")))?;
        if body.len() + chunk.len() > max {
            return Err(ApiError::PayloadTooLarge(format!("body: larger than the limit of {max} bytes")));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Checks the body's media type: a feature (`application/geo+json` or `application/json`), or
/// for a patch also `application/merge-patch+json`.
///
/// # Errors
/// 415 naming the types accepted.
pub fn media_type(req: &HttpRequest, patch: bool) -> Result<(), ApiError> {
    let given = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = given.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let ok = FEATURE_TYPES.contains(&essence.as_str()) || (patch && essence == MERGE_PATCH);
    if ok {
        return Ok(());
    }
    let accepted =
        if patch { format!("{MERGE_PATCH}, {}", FEATURE_TYPES.join(", ")) } else { FEATURE_TYPES.join(", ") };
    Err(ApiError::UnsupportedMediaType(format!(
        "Content-Type {:?} is not accepted here; send {accepted}",
        if given.is_empty() { "(none)" } else { given }
    )))
}

/// Parses a JSON body.
///
/// # Errors
/// 400 naming the body, with the parser's position.
pub fn json(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::param("body", format!("not JSON: {e}")))
}

/// The CRS of the body's coordinates: `Content-Crs` (a URI, in angle brackets or not, or a
/// safe CURIE), CRS84 when absent.
///
/// # Errors
/// 400 naming `Content-Crs` when it is not one of the server's CRSs.
pub fn content_crs(req: &HttpRequest) -> Result<ApiCrs, ApiError> {
    let Some(value) = req.headers().get("content-crs") else { return Ok(ApiCrs::Crs84) };
    let text = value.to_str().map_err(|_| ApiError::param("Content-Crs", "not text"))?.trim();
    let uri = text.strip_prefix('<').and_then(|t| t.strip_suffix('>')).unwrap_or(text);
    ApiCrs::parse(uri).map_err(|e| ApiError::param("Content-Crs", e.to_string()))
}

/// Puts a GeoJSON geometry's coordinates in easting, northing (longitude, latitude) order when
/// its CRS is north first (EPSG:4326, EPSG:4756), as the importer reads them.
pub fn to_east_north(geometry: &mut Value, crs: ApiCrs) {
    if crs.swaps_axes() {
        swap_axes(geometry);
    }
}

/// Swaps the two axes of every position of a GeoJSON geometry (and of a collection's parts).
pub fn swap_axes(geometry: &mut Value) {
    fn swap(value: &mut Value) {
        let Value::Array(items) = value else { return };
        if items.len() >= 2 && items.iter().all(Value::is_number) {
            items.swap(0, 1);
        } else {
            items.iter_mut().for_each(swap);
        }
    }
    match geometry.get_mut("coordinates") {
        Some(coordinates) => swap(coordinates),
        None => {
            if let Some(Value::Array(parts)) = geometry.get_mut("geometries") {
                parts.iter_mut().for_each(swap_axes);
            }
        }
    }
}

/// Applies a JSON merge patch (RFC 7396) to `target`.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(changes) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(map) = target {
        for (name, value) in changes {
            if value.is_null() {
                map.remove(name);
            } else {
                merge_patch(map.entry(name.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

/// A header's text, percent-decoded (so that a Vietnamese note can travel in ASCII).
///
/// # Errors
/// 400 naming the header when it is not text or not UTF-8 once decoded.
pub fn text_header(req: &HttpRequest, name: &str) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(name) else { return Ok(None) };
    let raw = value.to_str().map_err(|_| ApiError::param(name, "not ASCII text; percent-encode UTF-8"))?;
    let decoded = percent_decode(raw).ok_or_else(|| ApiError::param(name, "not UTF-8 once percent-decoded"))?;
    let decoded = decoded.trim();
    Ok((!decoded.is_empty()).then(|| decoded.to_owned()))
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The preconditions of a write on one feature.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Preconditions {
    /// `If-Match` tags (`*` included), if the header was sent.
    pub if_match: Option<Vec<String>>,
    /// `If-Unmodified-Since`, if sent.
    pub if_unmodified_since: Option<chrono::DateTime<chrono::Utc>>,
}

impl Preconditions {
    /// Reads `If-Match` and `If-Unmodified-Since`.
    ///
    /// # Errors
    /// 400 naming the header when it does not parse.
    pub fn of(req: &HttpRequest) -> Result<Preconditions, ApiError> {
        let tags: Vec<String> = req
            .headers()
            .get_all(header::IF_MATCH)
            .map(|v| v.to_str().map_err(|_| ApiError::param("If-Match", "not text")))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flat_map(|v| v.split(',').map(|t| t.trim().to_owned()).collect::<Vec<_>>())
            .filter(|t| !t.is_empty())
            .collect();
        let if_match = req.headers().contains_key(header::IF_MATCH).then_some(tags);
        let if_unmodified_since = match req.headers().get(header::IF_UNMODIFIED_SINCE) {
            None => None,
            Some(v) => {
                let text = v.to_str().map_err(|_| ApiError::param("If-Unmodified-Since", "not text"))?;
                let when = chrono::DateTime::parse_from_rfc2822(text).map_err(|e| {
                    ApiError::param(
                        "If-Unmodified-Since",
                        format!("not an HTTP date (e.g. Sun, 06 Dec 2026 08:00:00 GMT): {e}"),
                    )
                })?;
                Some(when.with_timezone(&chrono::Utc))
            }
        };
        Ok(Preconditions { if_match, if_unmodified_since })
    }

    /// Whether the request states which version it changes.
    pub fn is_conditional(&self) -> bool {
        self.if_match.is_some() || self.if_unmodified_since.is_some()
    }

    /// Checks them against the current version of feature `id`, valid since `since`.
    ///
    /// # Errors
    /// 412 when `If-Match` names no tag of the current version (`*` matches any), or the
    /// feature changed after `If-Unmodified-Since` (HTTP dates have whole seconds).
    pub fn check(&self, id: i64, version: i32, since: chrono::DateTime<chrono::Utc>) -> Result<(), ApiError> {
        if let Some(tags) = &self.if_match {
            let matched = tags.iter().any(|t| t == "*" || crate::etag::version_in(t, id).is_some_and(|v| v == version));
            if !matched {
                return Err(ApiError::PreconditionFailed(format!(
                    "feature {id} is at version {version} (ETag {}), not the one If-Match names: read it again and merge",
                    crate::etag::feature(id, version, 0)
                )));
            }
        }
        if let Some(limit) = self.if_unmodified_since {
            if since.timestamp() > limit.timestamp() {
                return Err(ApiError::PreconditionFailed(format!(
                    "feature {id} changed at {} (version {version}), after If-Unmodified-Since",
                    since.to_rfc2822()
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7396() {
        // RFC 7396 appendix A, a few of its cases.
        let cases = [
            (json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"})),
            (json!({"a": "b"}), json!({"a": null}), json!({})),
            (json!({"a": {"b": "c"}}), json!({"a": {"b": "d", "c": null}}), json!({"a": {"b": "d"}})),
            (json!({"a": [{"b": "c"}]}), json!({"a": [1]}), json!({"a": [1]})),
            (json!(["a", "b"]), json!({"a": "c"}), json!({"a": "c"})),
            (json!({"e": null}), json!({"a": 1}), json!({"e": null, "a": 1})),
        ];
        for (mut target, patch, expected) in cases {
            merge_patch(&mut target, &patch);
            assert_eq!(target, expected);
        }
    }

    #[test]
    fn north_first_coordinates_are_swapped() {
        let mut g =
            json!({"type": "Polygon", "coordinates": [[[21.0, 105.0], [21.1, 105.0], [21.0, 105.1], [21.0, 105.0]]]});
        to_east_north(&mut g, ApiCrs::parse("http://www.opengis.net/def/crs/EPSG/0/4326").unwrap());
        assert_eq!(g["coordinates"][0][1], json!([105.0, 21.1]));
        let mut kept = g.clone();
        to_east_north(&mut kept, ApiCrs::Crs84);
        assert_eq!(kept, g);
    }

    #[test]
    fn percent_encoded_headers_decode() {
        assert_eq!(percent_decode("Quy%E1%BA%BFt%20%C4%91%E1%BB%8Bnh").as_deref(), Some("Quyết định"));
        assert_eq!(percent_decode("12/QĐ").as_deref(), Some("12/QĐ"));
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("50%"), None, "a stray % is not percent-encoding");
    }
}
