//! ETags for items and features, derived from the table's data version (bumped by a trigger in
//! the same transaction as any change, migration 0006), the request and the representation.
//!
//! The version is read before the rows, so a tag can only be older than the data it is sent
//! with, never newer: a client may revalidate once more than needed, but a 304 never hides a
//! change. Tags are weak (`W/`): compressed and uncompressed bodies share them.
//!
//! A single feature of a versioned collection has a strong tag of its own instead
//! ([`feature`]): its id and row version (migration 0021), so that `If-Match` on a write names
//! the version the client read ([`version_in`]), whatever the table's other rows did since.

use actix_web::http::header;
use actix_web::HttpRequest;
use deadpool_postgres::Object;
use geosector_store::Collection;

use crate::error::ApiError;
use crate::params::Format;

/// Reads the collection's data version (0 when the table has none).
///
/// # Errors
/// A database error.
pub async fn data_version(client: &Object, collection: &Collection) -> Result<i64, ApiError> {
    Ok(crate::db::one(client, &collection.plan.version()).await?.map_or(0, |row| row.get(0)))
}

/// Brings the collection's extent up to the data version (recomputed only after a change).
///
/// # Errors
/// A database error.
pub async fn refresh_extent(client: &Object, collection: &Collection) -> Result<(i64, Option<[f64; 4]>), ApiError> {
    let version = data_version(client, collection).await?;
    let bbox = collection.extent_at(client, version).await.map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((version, bbox))
}

/// The ETag of a response: FNV-1a over the version, the path and query, the format and what the
/// caller may see (its view's fingerprint: the same URL answers differently per view).
pub fn tag(version: i64, req: &HttpRequest, format: Format, view: u64) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    eat(&version.to_le_bytes());
    eat(req.path().as_bytes());
    eat(b"?");
    eat(req.query_string().as_bytes());
    eat(if format == Format::Html { b"html" } else { b"json" });
    if view != 0 {
        eat(&view.to_le_bytes());
    }
    format!("W/\"{version:x}-{h:016x}\"")
}

/// The weak ETag of a response at a settled instant (see [`crate::history`]): it depends on the
/// request and the view only, never on the data version, since such an answer never changes.
pub fn settled(req: &HttpRequest, format: Format, view: u64) -> String {
    let full = tag(0, req, format, view);
    let hash = full.rsplit('-').next().unwrap_or_default().trim_end_matches('"');
    format!("W/\"at-{hash}\"")
}

/// The strong ETag of one version of a feature: `"<id>.<version>"` for its plain GeoJSON, and
/// `"<id>.<version>.<variant>"` for any other representation (another format, CRS or query, or
/// a view other than the public full one: `variant` is the caller's view fingerprint, hashed
/// with the query and format by the caller, never 0 then).
pub fn feature(id: i64, version: i32, variant: u64) -> String {
    if variant == 0 {
        format!("\"{id}.{version}\"")
    } else {
        format!("\"{id}.{version}.{variant:x}\"")
    }
}

/// The variant part of a feature's tag ([`feature`]): 0 for the plain GeoJSON of the public
/// full view without query, else a hash of the query, the format and the view.
pub fn feature_variant(req: &HttpRequest, format: Format, view: u64) -> u64 {
    if req.query_string().is_empty() && format != Format::Html && view == 0 {
        return 0;
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    eat(req.query_string().as_bytes());
    eat(if format == Format::Html { b"html" } else { b"json" });
    eat(&view.to_le_bytes());
    h.max(1)
}

/// The version of feature `id` a tag of [`feature`] names (any representation's), if it is one.
pub fn version_in(tag: &str, id: i64) -> Option<i32> {
    let inner = tag.trim().strip_prefix('"')?.strip_suffix('"')?;
    let mut parts = inner.split('.');
    let tagged_id: i64 = parts.next()?.parse().ok()?;
    let version: i32 = parts.next()?.parse().ok()?;
    (tagged_id == id).then_some(version)
}

/// Whether the request's `If-None-Match` already holds this tag.
pub fn matches(req: &HttpRequest, tag: &str) -> bool {
    let weak = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim() == "*" || weak(t) == weak(tag))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_feature_tag_names_its_version_in_every_representation() {
        assert_eq!(feature(42, 3, 0), "\"42.3\"");
        assert_eq!(version_in(&feature(42, 3, 0), 42), Some(3));
        assert_eq!(version_in(&feature(42, 3, 0xbeef), 42), Some(3));
        assert_eq!(version_in(&feature(42, 3, 0), 43), None, "another feature's tag");
        assert_eq!(version_in("W/\"1-2\"", 1), None, "a list's weak tag");
        assert_eq!(version_in("\"x.1\"", 1), None);
    }
}
