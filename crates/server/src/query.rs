//! An items request, parsed once into types: every parameter of
//! `/collections/{id}/items` — Part 1 (`bbox`, `datetime`, `limit`, `cursor`, `f`, property
//! equality), Part 2 (`crs`, `bbox-crs`) and Part 3 (`filter`, `filter-lang`, `filter-crs`,
//! `sortby`, `properties`) — checked and turned into the store's [`ItemsRequest`].
//!
//! Unknown and repeated parameters are refused (OGC API - Features Part 1), and every 400 names
//! its parameter. Paging: without `sortby` the cursor is the last id of the previous page
//! (keyset); with `sortby` it is a position, so deep pages cost more.

use std::sync::Arc;

use geosector_crs::ApiCrs;
use geosector_filter::Sql;
use geosector_store::plan::{BboxFilter, ItemsRequest, OutputCrs, Page};
use geosector_store::Collection;

use crate::error::ApiError;
use crate::params::{self, Format, Limits};

/// Parameters every items request may carry, beside the collection's property names.
pub const ITEMS_PARAMETERS: &[&str] = &[
    "f",
    "bbox",
    "datetime",
    "limit",
    "cursor",
    "crs",
    "bbox-crs",
    "filter",
    "filter-lang",
    "filter-crs",
    "sortby",
    "properties",
];

/// A parsed items request.
#[derive(Debug, Clone)]
pub struct ItemsQuery {
    /// The bbox in storage coordinates.
    pub bbox: BboxFilter,
    /// Lower and upper time bounds (validated text).
    pub time: (Option<String>, Option<String>),
    /// On a versioned collection: the instant whose versions are read (`datetime`; see
    /// [`crate::history`]); then no time bound.
    pub as_of: Option<chrono::DateTime<chrono::Utc>>,
    /// Property equality filters: name and validated canonical value.
    pub equals: Vec<(&'static str, String)>,
    /// A translated CQL2 filter.
    pub filter: Option<Sql>,
    /// Sort keys (sortable property, descending).
    pub sort: Vec<(&'static str, bool)>,
    /// The properties to return (`None`: all).
    pub properties: Option<Vec<&'static str>>,
    /// Where the page starts.
    pub page: Page,
    /// Page size after capping.
    pub limit: i64,
    /// Representation.
    pub format: Format,
    /// Output CRS (OGC API - Features Part 2).
    pub crs: ApiCrs,
}

impl ItemsQuery {
    /// The store's request for this query (HTML pages draw in CRS84).
    pub fn request(&self) -> ItemsRequest<'_> {
        let output = if self.format == Format::Html { OutputCrs::STORED } else { crate::crs::output(self.crs) };
        ItemsRequest {
            bbox: self.bbox.clone(),
            time: self.time.clone(),
            as_of: self.as_of,
            equals: self.equals.clone(),
            filter: self.filter.as_ref(),
            sort: self.sort.clone(),
            properties: self.properties.clone(),
            page: self.page,
            limit: self.limit,
            output,
            scope: None,
        }
    }

    /// Whether this is the first page (a first page that holds every match tells
    /// `numberMatched`).
    pub fn first_page(&self) -> bool {
        matches!(self.page, Page::First | Page::Offset(0))
    }
}

/// The cursor of the page after one that started at `page`, from its last id and the number of
/// features it returned.
pub fn next_cursor(page: Page, last_id: i64, returned: i64) -> String {
    match page {
        Page::Offset(offset) => (offset + returned).to_string(),
        Page::First | Page::After(_) => last_id.to_string(),
    }
}

/// Parses the query pairs of an items request.
///
/// # Errors
/// 400 naming the first parameter that is unknown, repeated or invalid.
pub async fn items(
    pairs: &[(String, String)],
    collection: &Arc<Collection>,
    limits: Limits,
    accept: Option<&str>,
    request: &crate::limits::RequestLimits,
    anonymous: bool,
) -> Result<ItemsQuery, ApiError> {
    params::check_names(
        pairs,
        |n| ITEMS_PARAMETERS.contains(&n) || collection.property(n).is_some(),
        || {
            format!(
                "unknown parameter; this collection accepts {} and its properties ({})",
                ITEMS_PARAMETERS.join(", "),
                collection.properties.iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
            )
        },
    )?;
    let get = |n: &str| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    let crs = crate::crs::parse("crs", get("crs"), collection)?;
    let bbox_crs = crate::crs::parse("bbox-crs", get("bbox-crs"), collection)?;
    let bbox = match get("bbox") {
        None => BboxFilter::None,
        Some(_) if !collection.has_geometry() => {
            return Err(ApiError::param("bbox", "this collection has no geometry"))
        }
        Some(v) => crate::crs::bbox(v, bbox_crs).map_err(|m| ApiError::param("bbox", m))?,
    };
    if anonymous {
        let envelopes = match &bbox {
            BboxFilter::Envelopes(envelopes) => envelopes.clone(),
            BboxFilter::Polygon(wkb) => geosector_store::reproject::polygon_wkb_envelope(wkb).into_iter().collect(),
            BboxFilter::None => Vec::new(),
        };
        request.check_anonymous_bbox(&envelopes)?;
    }
    let as_of = crate::history::requested(pairs, collection)?;
    let time = match get("datetime") {
        None => (None, None),
        // On a versioned collection `datetime` selects versions, not the time property.
        Some(_) if as_of.is_some() => (None, None),
        Some(v) => {
            if collection.decl.datetime.is_none() {
                return Err(ApiError::param("datetime", "this collection has no time property"));
            }
            params::parse_datetime(v).map_err(|m| ApiError::param("datetime", m))?
        }
    };
    let limit = match get("limit") {
        None => limits.default,
        Some(v) => {
            let n: i64 = v.trim().parse().map_err(|_| {
                ApiError::param("limit", format!("expected a whole number from 1 to {}, got \"{v}\"", limits.max))
            })?;
            if n < 1 {
                return Err(ApiError::param("limit", format!("must be at least 1, got {n}")));
            }
            n.min(limits.max)
        }
    };
    let sort = sortby(get("sortby"), collection)?;
    let not_ours = || ApiError::param("cursor", "not a cursor this server issued");
    let page = match get("cursor") {
        // Sorted pages are cut by position from the first one on.
        None if !sort.is_empty() => Page::Offset(0),
        None => Page::First,
        // With sort keys the cursor is a position; otherwise the last id of the page before.
        Some(v) if !sort.is_empty() => Page::Offset(v.trim().parse().ok().filter(|o| *o >= 0).ok_or_else(not_ours)?),
        Some(v) => Page::After(v.trim().parse().map_err(|_| not_ours())?),
    };
    let mut equals = Vec::new();
    for property in &collection.properties {
        if let Some(value) = get(property.name) {
            let canonical =
                params::canonical_value(property.kind, value).map_err(|m| ApiError::param(property.name, m))?;
            equals.push((property.name, canonical));
        }
    }
    let properties = properties(get("properties"), collection)?;
    let format = params::format(get("f"), accept)?;
    // An HTML page is built whole (a table and a map preview) for a person to read: its pages
    // are shorter, whatever `limit` says (the next link goes on).
    let limit = if format == Format::Html { limit.min(HTML_MAX_LIMIT) } else { limit };
    let filter = crate::filter::compile(collection, pairs, request.filter).await?;
    Ok(ItemsQuery { bbox, time, as_of, equals, filter, sort, properties, page, limit, format, crs })
}

/// The most features an HTML page of items shows (`limit` is capped to it for `f=html`): a
/// page of 10,000 features cost the server 75 MB while it was built.
pub const HTML_MAX_LIMIT: i64 = 1000;

/// `sortby`: `+a,-b` (ascending by default) over the sortables.
fn sortby(text: Option<&str>, c: &Collection) -> Result<Vec<(&'static str, bool)>, ApiError> {
    let Some(text) = text else { return Ok(Vec::new()) };
    let mut keys = Vec::new();
    for part in text.split(',') {
        // `+` arrives as a space when the client did not percent-encode it.
        let part = part.trim();
        let (descending, name) = match part.strip_prefix('-') {
            Some(rest) => (true, rest.trim()),
            None => (false, part.strip_prefix('+').unwrap_or(part).trim()),
        };
        if name.is_empty() {
            return Err(ApiError::param("sortby", "empty sort key"));
        }
        let q = c.queryables.get(name).filter(|q| q.sortable()).ok_or_else(|| {
            ApiError::param(
                "sortby",
                format!("\"{name}\" is not sortable (sortables: {})", c.queryables.sortable_names()),
            )
        })?;
        if keys.iter().any(|(key, _)| *key == q.name) {
            return Err(ApiError::param("sortby", format!("\"{name}\" given twice")));
        }
        keys.push((q.name, descending));
    }
    Ok(keys)
}

/// `properties`: the published properties to return (empty: none).
fn properties(text: Option<&str>, c: &Collection) -> Result<Option<Vec<&'static str>>, ApiError> {
    let Some(text) = text else { return Ok(None) };
    let mut chosen: Vec<&'static str> = Vec::new();
    for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let p = c.property(name).ok_or_else(|| {
            ApiError::param(
                "properties",
                format!(
                    "unknown property \"{name}\" (properties: {})",
                    c.properties.iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
                ),
            )
        })?;
        if !chosen.contains(&p.name) {
            chosen.push(p.name);
        }
    }
    Ok(Some(chosen))
}
