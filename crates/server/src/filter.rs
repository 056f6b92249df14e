//! The request side of OGC API - Features Part 3 (Filtering): `filter`, `filter-lang` and
//! `filter-crs`, on items and on vector tiles.
//!
//! The filter is parsed and translated by `geosector-filter` (every literal a bound value) on a
//! blocking thread, so a large filter never stalls a worker; the store places the condition in
//! its statement and numbers its placeholders. A database error that the filter caused (a
//! division overflow, an invalid geometry literal) is the client's: a 400 naming `filter`.

use std::sync::Arc;

use actix_web::web;
use geosector_filter::{FilterCrs, Lang, Limits, Sql};
use geosector_store::Collection;

use crate::error::ApiError;

/// The parameters of a filter.
pub const PARAMETERS: &[&str] = &["filter", "filter-lang", "filter-crs"];

fn get<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Reads `filter`, `filter-lang` and `filter-crs` from a request's pairs (each given at most
/// once, checked by the caller) and translates the filter; `None` without `filter`.
///
/// # Errors
/// 400 naming the parameter: an unknown language or CRS, or a filter that does not parse or
/// names what the collection does not have.
pub async fn compile(c: &Arc<Collection>, pairs: &[(String, String)], limits: Limits) -> Result<Option<Sql>, ApiError> {
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
    let compiled = web::block(move || geosector_filter::compile(&text, lang, &c.queryables, &crs, limits))
        .await
        .map_err(|e| ApiError::Internal(format!("filter worker: {e}")))?
        .map_err(|e| ApiError::param("filter", e.0))?;
    Ok(Some(compiled))
}

/// A database error of a statement: when it carried a filter, data errors the filter caused
/// (division, overflow, an invalid geometry literal) are the client's, a 400 naming `filter`.
pub fn db_error(e: tokio_postgres::Error, filtered: bool) -> ApiError {
    if let (true, Some(db)) = (filtered, e.as_db_error()) {
        let code = db.code().code();
        if code.starts_with("22") || code == "XX000" {
            return ApiError::param("filter", format!("cannot be evaluated on this collection: {}", db.message()));
        }
    }
    ApiError::from(e)
}

/// The filter of a tile request, if any.
///
/// # Errors
/// 400 for a parameter other than `filter`, `filter-lang` and `filter-crs` (and `datetime` on a
/// versioned collection, read by [`crate::history::requested`], or on one whose features span an
/// interval, read by the tile handler), a repeated one, or a bad filter.
pub async fn of_tile(c: &Arc<Collection>, pairs: &[(String, String)], limits: Limits) -> Result<Option<Sql>, ApiError> {
    let versioned = c.plan.is_versioned() || c.plan.draws_in_force();
    crate::params::check_names(
        pairs,
        |n| PARAMETERS.contains(&n) || (versioned && n == "datetime"),
        || {
            let also = if versioned {
                ", filter-crs and datetime (an instant: the tile as of then)"
            } else {
                " and filter-crs"
            };
            format!("unknown parameter; a tile takes only filter, filter-lang{also}")
        },
    )?;
    compile(c, pairs, limits).await
}
