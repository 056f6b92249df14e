//! The read side of versions (issue 19), after the OGC "Versioned Features" proposal for
//! OGC API - Features: on a versioned collection `datetime` selects the versions valid at one
//! instant (items, single features, tiles), responses at an instant carry `Memento-Datetime`
//! (RFC 7089) and a feature's `predecessor-version`, `successor-version`, `latest-version` and
//! `timemap` links, `/items/{featureId}/versions` lists a feature's versions, and a retired
//! feature is 410 Gone (404 if it never existed, or not yet at the instant). The versions list
//! is served by [`crate::versions`].
//!
//! **Intervals.** `datetime` on a versioned collection is one instant: an RFC 3339 date-time, or
//! a date (its 00:00 UTC). An interval is a 400 naming `datetime` — several versions of one
//! feature would share its id in a page — with the way to filter the collection's own time
//! property instead (CQL2 `T_INTERSECTS`, comparisons, or property equality).
//!
//! **Caching.** History is append-only and never backdated, but a changeset's time is taken when
//! it begins, so a write still in flight may commit versions that began up to its duration ago.
//! A response at an instant older than the server's `history_margin_s` (default 300 s: longer
//! than any write should last) therefore never changes: it is sent `Cache-Control: public,
//! max-age=31536000, immutable` (private when credentials came with it), with a tag that stays
//! the same for that instant. A single feature's version that is still current is not: it may
//! gain a successor (and its link).

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use geosector_store::Collection;

use crate::error::ApiError;
use crate::links::{encode, Link};
use crate::params::Format;
use crate::state::AppState;
use crate::{db, etag};

/// The default margin after which an instant's answers are immutable, in seconds.
pub const DEFAULT_MARGIN_S: u64 = 300;

/// `Cache-Control` of a settled instant's answer for an anonymous caller.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Parses `datetime` on a versioned collection: one instant.
///
/// # Errors
/// 400 naming `datetime` for a malformed value or an interval.
pub fn instant(text: &str, collection: &Collection) -> Result<DateTime<Utc>, ApiError> {
    let text = text.trim();
    if text.contains('/') {
        let property = collection
            .decl
            .datetime
            .map(|p| format!("; to select by {p}, use a CQL2 filter (e.g. T_INTERSECTS({p}, INTERVAL('2020-01-01','2020-12-31'))) or {p}=<value>"))
            .unwrap_or_default();
        return Err(ApiError::param(
            "datetime",
            format!(
                "{} keeps a history: datetime selects the versions valid at one instant (an RFC 3339 date-time or a date), not an interval{property}",
                collection.id()
            ),
        ));
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(day.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    Err(ApiError::param("datetime", format!("\"{text}\" is neither an RFC 3339 date-time nor a date (YYYY-MM-DD)")))
}

/// The instant a request's `datetime` names, on a versioned collection (`None` without one or on
/// another collection, where `datetime` means what it always did).
///
/// # Errors
/// 400 naming `datetime` for a malformed value or an interval.
pub fn requested(pairs: &[(String, String)], collection: &Collection) -> Result<Option<DateTime<Utc>>, ApiError> {
    if !collection.plan.is_versioned() {
        return Ok(None);
    }
    pairs.iter().find(|(k, _)| k == "datetime").map(|(_, v)| instant(v, collection)).transpose()
}

/// An instant as an HTTP-date (RFC 7231 IMF-fixdate), as `Memento-Datetime` writes it.
pub fn http_date(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// An instant as a `datetime` value (RFC 3339, UTC, microseconds when there are any).
pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Whether answers at an instant can no longer change: it lies further back than the margin.
pub fn settled(state: &AppState, at: DateTime<Utc>) -> bool {
    let margin = chrono::Duration::from_std(state.history_margin).unwrap_or(chrono::Duration::MAX);
    Utc::now().checked_sub_signed(margin).is_some_and(|line| at < line)
}

/// Marks a response given at an instant: `Memento-Datetime` (when `memento` is given), and the
/// immutable `Cache-Control` when `immutable` (the server's middleware makes it private when
/// credentials came with the request).
pub fn stamp(response: &mut HttpResponse, memento: Option<DateTime<Utc>>, immutable: bool) {
    let headers = response.headers_mut();
    if let Some(at) = memento {
        if let Ok(value) = HeaderValue::from_str(&http_date(at)) {
            headers.insert(header::HeaderName::from_static("memento-datetime"), value);
        }
    }
    if immutable {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
    }
}

/// What a versioned feature's row says of its version (the columns after id, geometry and
/// properties of [`geosector_store::plan::CollectionPlan::item_at`]).
#[derive(Debug, Clone, Copy)]
pub struct VersionOf {
    /// Its number.
    pub version: i32,
    /// When it began.
    pub from: DateTime<Utc>,
    /// When it ended (`None`: the current one).
    pub to: Option<DateTime<Utc>>,
    /// Whether the feature was retired when it ended.
    pub retired: bool,
    /// When the version before it began (`None`: it is the first).
    pub predecessor_from: Option<DateTime<Utc>>,
}

impl VersionOf {
    /// Reads it from a feature row of a versioned collection.
    pub fn of(row: &tokio_postgres::Row) -> VersionOf {
        VersionOf {
            version: row.get(3),
            from: row.get(4),
            to: row.get(5),
            retired: row.get(6),
            predecessor_from: row.get(7),
        }
    }

    /// Its strong ETag for this representation: the variant also says whether the version has
    /// ended (then its successor link is in the body).
    pub fn etag(&self, id: i64, req: &HttpRequest, format: Format, view: u64) -> String {
        let variant = etag::feature_variant(req, format, view);
        let variant = if self.to.is_some() { (variant ^ 0x9e37_79b9_7f4a_7c15).max(1) } else { variant };
        etag::feature(id, self.version, variant)
    }

    /// The version links of a feature (`url` without query, its representations of type
    /// `media`): `latest-version`, `timemap`, and `predecessor-version` / `successor-version`
    /// when they exist.
    pub fn links(&self, url: &str, media: &str) -> Vec<Link> {
        let at = |t: DateTime<Utc>| format!("{url}?datetime={}", encode(&rfc3339(t)));
        let mut links = vec![
            Link::new(url, "latest-version", media, "the current version"),
            Link::new(&format!("{url}/versions"), "timemap", media, "every version of this feature"),
        ];
        if let Some(from) = self.predecessor_from {
            links.push(Link::new(&at(from), "predecessor-version", media, "the version before this one"));
        }
        if let (Some(to), false) = (self.to, self.retired) {
            links.push(Link::new(&at(to), "successor-version", media, "the version after this one"));
        }
        links
    }
}

/// The `Link` header of links (RFC 8288).
pub fn link_header(links: &[Link]) -> String {
    links
        .iter()
        .map(|l| format!("<{}>; rel=\"{}\"; type=\"{}\"", l.href, l.rel, l.media_type))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The error for a feature that has no version to show: 410 when it was retired (at or before
/// the instant, when one is given) within the caller's scope, else 404.
///
/// # Errors
/// A database error.
pub async fn missing(
    client: &deadpool_postgres::Object,
    collection: &Collection,
    id: i64,
    scope: Option<&geosector_store::plan::AreaScope>,
    at: Option<DateTime<Utc>>,
    not_found: ApiError,
) -> ApiError {
    let Some(statement) = collection.plan.retirement(id, scope) else { return not_found };
    match db::one(client, &statement).await {
        Ok(Some(row)) => {
            let retired: DateTime<Utc> = row.get(0);
            if at.is_none_or(|at| retired <= at) {
                return ApiError::Gone(format!(
                    "feature {id} of {} was retired at {}; its versions: /collections/{}/items/{id}/versions",
                    collection.id(),
                    rfc3339(retired),
                    collection.id()
                ));
            }
            not_found
        }
        Ok(None) => not_found,
        Err(e) => ApiError::from(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_formatted_as_rfc_7089_and_rfc_3339_say() {
        let at = DateTime::parse_from_rfc3339("2024-06-30T01:02:03.25+07:00").unwrap().with_timezone(&Utc);
        assert_eq!(http_date(at), "Sat, 29 Jun 2024 18:02:03 GMT");
        assert_eq!(rfc3339(at), "2024-06-29T18:02:03.250Z");
    }
}
