//! ETags for items and features, derived from the table's data version (bumped by a trigger in
//! the same transaction as any change, migration 0006), the request and the representation.
//!
//! The version is read before the rows, so a tag can only be older than the data it is sent
//! with, never newer: a client may revalidate once more than needed, but a 304 never hides a
//! change. Tags are weak (`W/`): compressed and uncompressed bodies share them.

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

/// Whether the request's `If-None-Match` already holds this tag.
pub fn matches(req: &HttpRequest, tag: &str) -> bool {
    let weak = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim() == "*" || weak(t) == weak(tag))
}
