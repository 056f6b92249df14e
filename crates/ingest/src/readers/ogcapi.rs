//! Harvesting: another server's OGC API - Features collection (geosector, pygeoapi, TiPg,
//! GeoServer, …) read as an import's input, page by page, with the same rules, report and
//! all-or-nothing load as a file.
//!
//! - **Paging** follows the `next` link of each page (in the body, else in a `Link` header):
//!   offsets are never made up here. The items URL given keeps every query parameter (`bbox`,
//!   `datetime`, `filter`, `limit`, an API key, …); `limit` is added only when it lacks one.
//! - **CRS** (OGC API - Features - Part 2): a `crs` in the URL or `--crs` is requested as given
//!   (it must be one the collection lists); otherwise the collection's `storageCrs` when it is a
//!   VN-2000 CRS the collection lists (the data as stored, reprojected by no one), else CRS84.
//!   Each page's `Content-Crs` header must name the CRS asked for; coordinates in a CRS whose
//!   EPSG axis order is northing first are swapped to easting first as they are read.
//! - **`since`**: only features changed since an instant, through a CQL2 filter on a date-time
//!   queryable of the source that records the change time (geosector's versioned collections:
//!   `version_from`); found in the source's queryables, or an error saying why it cannot be done.
//! - **Streaming**: a fetching thread downloads each page whole (at most
//!   [`Harvest::max_page_bytes`]), checks it is a FeatureCollection and finds its features and
//!   links in one pass, then fetches the next page while this thread decodes the features of
//!   the current one and hands them to the sink: at most three pages are in memory.
//! - **HTTP** (`ureq`, https through rustls): connect and read timeouts, retries with
//!   exponential backoff on connection failures, 5xx, 429 (honouring `Retry-After`) and bodies
//!   that break off; the extra headers (an API key, a bearer token) are sent only to the origin
//!   of the URL given. Every error names the page and its URL; secrets in query parameters are
//!   shown as `***`.
//!
//! Features are located by the URL of their page and their index in it.

use std::ops::Range;
use std::path::Path;
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use geosector_crs::{ApiCrs, Crs};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use url::Url;

use crate::axis::AxisSink;
use crate::error::{ImportError, Location};
use crate::source::{FeatureSink, Flow, RawFeature, SourceInfo};

/// What to harvest and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Harvest {
    /// The items URL (`…/collections/{id}/items`), with its query parameters.
    pub url: String,
    /// Extra request headers (`Authorization: Bearer …`, `X-API-Key: …`), sent only to the
    /// origin of [`Harvest::url`].
    pub headers: Vec<(String, String)>,
    /// Only the features changed since this instant.
    pub since: Option<DateTime<Utc>>,
    /// The source's queryable holding a feature's change time, for `since` (default: the first
    /// of [`CHANGE_TIME_QUERYABLES`] the source lists as a date-time).
    pub since_property: Option<String>,
    /// The `limit` added to the URL when it has none.
    pub page_size: u32,
    /// Longest wait to connect, for a response, or between two reads of a body.
    pub timeout: Duration,
    /// Retries of a request that failed in a way worth retrying.
    pub retries: u32,
    /// Largest page body accepted, in bytes.
    pub max_page_bytes: u64,
}

impl Harvest {
    /// A harvest of this URL with the default settings.
    pub fn new(url: impl Into<String>) -> Harvest {
        Harvest {
            url: url.into(),
            headers: Vec::new(),
            since: None,
            since_property: None,
            page_size: 5000,
            timeout: Duration::from_secs(60),
            retries: 3,
            max_page_bytes: 256 << 20,
        }
    }
}

/// Queryables that record when a feature last changed, tried in this order for `since`:
/// geosector's versioned collections first, then common names for a last-modified time.
pub const CHANGE_TIME_QUERYABLES: [&str; 7] =
    ["version_from", "updated", "lastModified", "last_modified", "modified", "updated_at", "dateModified"];

/// Query parameters whose values are secrets, shown as `***`.
const SECRET_PARAMS: [&str; 6] = ["key", "api_key", "apikey", "api-key", "token", "access_token"];

/// Whether an input names a URL to harvest rather than a file.
pub fn is_url(path: &Path) -> bool {
    path.to_str().is_some_and(|p| p.starts_with("http://") || p.starts_with("https://"))
}

/// The URL with the values of secret query parameters (API keys, tokens) and any password
/// replaced by `***`: how the URL appears in reports, messages and the audit log.
pub fn redact(url: &str) -> String {
    let Ok(mut parsed) = Url::parse(url) else { return url.to_owned() };
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some("***"));
    }
    let secret = |name: &str| SECRET_PARAMS.iter().any(|s| s.eq_ignore_ascii_case(name));
    if parsed.query_pairs().any(|(name, _)| secret(&name)) {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(n, v)| {
                let v = if secret(&n) { "***".to_owned() } else { v.into_owned() };
                (n.into_owned(), v)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

/// Harvests the collection into the sink: `name` is how the input appears in the report;
/// `forced` is `--crs`, `swap_xy` is `--swap-xy` (both as for a file).
///
/// # Errors
/// [`ImportError::Format`] when the URL is not an items URL, the source cannot give the CRS
/// asked for or cannot filter by change time; [`ImportError::File`] when a request fails (after
/// the retries); [`ImportError::Malformed`] when a page is not a GeoJSON FeatureCollection;
/// errors from the sink. Each names the page and its URL.
pub fn read(
    harvest: &Harvest,
    name: &Path,
    forced: Option<&Crs>,
    swap_xy: bool,
    sink: &mut dyn FeatureSink,
) -> Result<(), ImportError> {
    let fail = |reason: String| ImportError::Format { path: name.to_owned(), reason };
    let start = Url::parse(&harvest.url).map_err(|e| fail(format!("not a URL: {e}")))?;
    if !matches!(start.scheme(), "http" | "https") {
        return Err(fail("only http and https URLs can be harvested".into()));
    }
    let client = Client::new(harvest, &start, name)?;
    let collection_url = collection_of(&start).ok_or_else(|| {
        fail("expected the items URL of an OGC API - Features collection (…/collections/{id}/items)".into())
    })?;
    let collection = client.json(&collection_url, "the collection")?;
    let (crs, ask) = negotiate(&start, &collection, forced).map_err(fail)?;
    let mut first = start.clone();
    {
        let keep: Vec<(String, String)> = start.query_pairs().into_owned().collect();
        let mut query = first.query_pairs_mut();
        if !keep.iter().any(|(n, _)| n == "limit") {
            query.append_pair("limit", &harvest.page_size.to_string());
        }
        if let Some(uri) = ask {
            query.append_pair("crs", &uri);
        }
    }
    if let Some(since) = harvest.since {
        let mut queryables_url = collection_url.clone();
        queryables_url.set_path(&format!("{}/queryables", collection_url.path().trim_end_matches('/')));
        let queryables = client.json(&queryables_url, "the queryables")?;
        let property = change_time_queryable(&queryables, harvest.since_property.as_deref()).map_err(|reason| {
            fail(format!(
                "--since cannot be used with this source: {reason} (queryables: {})",
                redact(queryables_url.as_str())
            ))
        })?;
        add_since_filter(&mut first, &property, since).map_err(fail)?;
    }
    let declared = Some(crs.uri());
    let sink = &mut AxisSink::new(sink, name, forced, swap_xy ^ crs.swaps_axes());
    let (pages, receiver) = sync_channel::<Page>(1);
    let client = &client;
    std::thread::scope(|scope| {
        // The sender moves into the fetcher: the pages end when it returns.
        let fetcher = scope.spawn(move || client.pages(first, &pages));
        let read = consume(&receiver, sink, crs, declared);
        // Stops the fetcher if the reading stopped first.
        drop(receiver);
        let fetched = fetcher.join().map_err(|_| fail("the page fetcher stopped unexpectedly".into()))?;
        fetched.and(read)
    })
}

/// Takes the pages in order, checks their CRS and hands their features to the sink; returns
/// when the fetcher has no more pages (or the sink stops). When the pages ran out, the number
/// of features must be the `numberMatched` the first page announced, if it did.
fn consume(
    receiver: &std::sync::mpsc::Receiver<Page>,
    sink: &mut dyn FeatureSink,
    crs: ApiCrs,
    declared: Option<String>,
) -> Result<(), ImportError> {
    let mut announced: Option<(u64, String, Arc<Path>)> = None;
    let mut read = 0u64;
    let (started, mut waited, mut decoding) = (Instant::now(), Duration::ZERO, Duration::ZERO);
    let mut asked = Instant::now();
    for page in receiver {
        waited += asked.elapsed();
        match page.crs.as_deref().map(|h| ApiCrs::parse(h.trim().trim_start_matches('<').trim_end_matches('>'))) {
            None if crs == ApiCrs::Crs84 => {}
            None => {
                return Err(page.error(format!(
                    "the response has no Content-Crs header, so its coordinates may not be in {} as asked",
                    crs.uri()
                )));
            }
            Some(Ok(got)) if got == crs => {}
            Some(Ok(got)) => {
                return Err(page.error(format!("the coordinates are in {}, not in {} as asked", got.uri(), crs.uri())))
            }
            Some(Err(e)) => return Err(page.error(format!("Content-Crs: {e}"))),
        }
        if page.number == 1 {
            sink.begin(&SourceInfo { declared_crs: declared.clone(), has_geometry: true, encoding: None })?;
            announced = page.matched.map(|m| (m, page.at(), Arc::clone(&page.name)));
        }
        let file: Arc<Path> = Path::new(&redact(&page.url)).into();
        for (index, range) in page.features.iter().enumerate() {
            let text = page
                .body
                .get(range.clone())
                .and_then(|b| std::str::from_utf8(b).ok())
                .ok_or_else(|| page.error(format!("feature {index} is not UTF-8 text")))?;
            let decode = Instant::now();
            let body = super::geojson::decode_feature(text)
                .map_err(|e| page.error(format!("feature {index} is not JSON: {e}")))?;
            decoding += decode.elapsed();
            let location = Location { file: Arc::clone(&file), index: index as u64, is_line: false };
            read += 1;
            if sink.feature(RawFeature { location, body })? == Flow::Stop {
                return Ok(());
            }
        }
        asked = Instant::now();
    }
    // Where the reading side spent its time: waiting for pages (the network and the source),
    // decoding features, and the rest in the sink (waiting for the checks and the COPY).
    tracing::info!(
        features = read,
        seconds = started.elapsed().as_secs_f64(),
        waiting_for_pages_s = waited.as_secs_f64(),
        decoding_s = decoding.as_secs_f64(),
        "harvested"
    );
    match announced {
        Some((matched, at, name)) if matched != read => Err(ImportError::Malformed {
            path: name.to_path_buf(),
            reason: format!(
                "{at} announced numberMatched {matched} but the pages held {read} features (did the collection change during the harvest?)"
            ),
        }),
        _ => Ok(()),
    }
}

/// One page as fetched: its body, where its features are in it, and what its headers said.
struct Page {
    /// 1-based.
    number: u32,
    url: String,
    body: Vec<u8>,
    features: Vec<Range<usize>>,
    /// The `Content-Crs` header.
    crs: Option<String>,
    /// The `numberMatched` it announces.
    matched: Option<u64>,
    /// The display name of the input, for errors.
    name: Arc<Path>,
}

impl Page {
    fn at(&self) -> String {
        format!("page {} ({})", self.number, redact(&self.url))
    }

    fn error(&self, reason: String) -> ImportError {
        ImportError::Malformed { path: self.name.to_path_buf(), reason: format!("{}: {reason}", self.at()) }
    }
}

/// The collection URL of an items URL: the path without its last `/items`, no query.
fn collection_of(items: &Url) -> Option<Url> {
    let path = items.path().trim_end_matches('/');
    let collection = path.strip_suffix("/items")?;
    if !collection.contains("/collections/") {
        return None;
    }
    let mut url = items.clone();
    url.set_path(collection);
    url.set_query(None);
    url.set_fragment(None);
    Some(url)
}

/// The CRS to read in, and the `crs` parameter to add for it (`None`: the URL has one, or
/// CRS84 is the default).
fn negotiate(start: &Url, collection: &Value, forced: Option<&Crs>) -> Result<(ApiCrs, Option<String>), String> {
    let listed: Vec<ApiCrs> = collection
        .get("crs")
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(Value::as_str).filter_map(|c| ApiCrs::parse(c).ok()).collect())
        .unwrap_or_default();
    let offered = || {
        if listed.is_empty() {
            "it lists no crs: only CRS84".to_owned()
        } else {
            format!("it offers {}", listed.iter().map(ApiCrs::uri).collect::<Vec<_>>().join(", "))
        }
    };
    if let Some((_, asked)) = start.query_pairs().find(|(n, _)| n == "crs") {
        let crs = ApiCrs::parse(&asked).map_err(|e| format!("crs in the URL: {e}"))?;
        return Ok((crs, None));
    }
    if let Some(forced) = forced {
        let crs = match forced.epsg {
            Some(4326) => ApiCrs::Crs84,
            Some(code) => ApiCrs::parse(&format!("[EPSG:{code}]")).map_err(|e| format!("--crs: {e}"))?,
            None => return Err(format!("--crs {forced}: an OGC API names CRSs by EPSG code; {}", offered())),
        };
        if crs == ApiCrs::Crs84 {
            return Ok((crs, None));
        }
        if !listed.contains(&crs) {
            return Err(format!("--crs {forced}: the collection does not offer {}; {}", crs.uri(), offered()));
        }
        return Ok((crs, Some(crs.uri())));
    }
    let storage = collection.get("storageCrs").and_then(Value::as_str).and_then(|c| ApiCrs::parse(c).ok());
    match storage {
        Some(crs @ ApiCrs::Epsg(_)) if crs.def().is_vn2000() && listed.contains(&crs) => Ok((crs, Some(crs.uri()))),
        _ => Ok((ApiCrs::Crs84, None)),
    }
}

/// The source's queryable for `since`: the one named, else the first of
/// [`CHANGE_TIME_QUERYABLES`] listed as a date-time.
fn change_time_queryable(queryables: &Value, named: Option<&str>) -> Result<String, String> {
    let Some(properties) = queryables.get("properties").and_then(Value::as_object) else {
        return Err("its queryables list no properties".into());
    };
    let is_time = |schema: &Value| schema.get("format").and_then(Value::as_str) == Some("date-time");
    if let Some(named) = named {
        return match properties.get(named) {
            Some(schema)
                if is_time(schema)
                    || (schema.get("format").is_none()
                        && schema.get("type").and_then(Value::as_str) == Some("string")) =>
            {
                Ok(named.to_owned())
            }
            Some(_) => Err(format!("its queryable {named} is not a date-time")),
            None => Err(format!("it has no queryable {named}")),
        };
    }
    CHANGE_TIME_QUERYABLES
        .iter()
        .find(|name| properties.get(**name).is_some_and(is_time))
        .map(|name| (*name).to_owned())
        .ok_or_else(|| {
            format!(
                "none of its queryables records a change time (looked for a date-time among {}; name one with --since-property)",
                CHANGE_TIME_QUERYABLES.join(", ")
            )
        })
}

/// Adds `property >= since` to the URL's filter (CQL2 text or JSON, as the URL's
/// `filter-lang` says), ANDed with a filter it already has.
fn add_since_filter(url: &mut Url, property: &str, since: DateTime<Utc>) -> Result<(), String> {
    let instant = since.to_rfc3339_opts(SecondsFormat::AutoSi, true);
    let mut pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let lang = pairs.iter().find(|(n, _)| n == "filter-lang").map(|(_, v)| v.clone());
    let json = lang.as_deref() == Some("cql2-json");
    let condition = if json {
        json!({ "op": ">=", "args": [{ "property": property }, { "timestamp": instant }] }).to_string()
    } else {
        let plain = property.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && property.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        let name = if plain { property.to_owned() } else { format!("\"{}\"", property.replace('"', "\"\"")) };
        format!("{name} >= TIMESTAMP('{instant}')")
    };
    match pairs.iter_mut().find(|(n, _)| n == "filter") {
        Some((_, existing)) if json => {
            let given: Value =
                serde_json::from_str(existing).map_err(|e| format!("filter in the URL: not CQL2 JSON: {e}"))?;
            let mine: Value = serde_json::from_str(&condition).map_err(|e| e.to_string())?;
            *existing = json!({ "op": "and", "args": [given, mine] }).to_string();
        }
        Some((_, existing)) => *existing = format!("({existing}) AND {condition}"),
        None => {
            pairs.push(("filter".into(), condition));
            if lang.is_none() {
                pairs.push(("filter-lang".into(), "cql2-text".into()));
            }
        }
    }
    url.query_pairs_mut().clear().extend_pairs(pairs);
    Ok(())
}

/// What one attempt at a request came to, when it did not succeed.
enum Failed {
    /// Worth another attempt (after this wait, if the server said).
    Retry(String, Option<Duration>),
    /// Not worth one.
    Final(String),
}

/// A response read whole.
struct Fetched {
    body: Vec<u8>,
    content_type: Option<String>,
    crs: Option<String>,
    link_next: Option<String>,
}

/// The HTTP side: an agent with the harvest's timeouts, its headers and their origin.
struct Client<'h> {
    agent: ureq::Agent,
    harvest: &'h Harvest,
    origin: url::Origin,
    name: Arc<Path>,
}

impl<'h> Client<'h> {
    fn new(harvest: &'h Harvest, start: &Url, name: &Path) -> Result<Client<'h>, ImportError> {
        let config = ureq::Agent::config_builder()
            .timeout_connect(Some(harvest.timeout))
            .timeout_recv_response(Some(harvest.timeout))
            .timeout_per_read(Some(harvest.timeout))
            .http_status_as_error(false)
            // Extra headers (credentials) never follow a redirect: with them, a redirect is
            // reported instead of followed.
            .max_redirects(if harvest.headers.is_empty() { 5 } else { 0 })
            .user_agent(concat!("geosector/", env!("CARGO_PKG_VERSION"), " (harvest)"))
            .build();
        for (header, _) in &harvest.headers {
            if header.is_empty() || !header.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b)) {
                return Err(ImportError::Format {
                    path: name.to_owned(),
                    reason: format!("--header: \"{header}\" is not a header name"),
                });
            }
        }
        Ok(Client { agent: config.into(), harvest, origin: start.origin(), name: name.into() })
    }

    /// GETs a JSON document (the collection, its queryables).
    fn json(&self, url: &Url, what: &str) -> Result<Value, ImportError> {
        let at = format!("{what} ({})", redact(url.as_str()));
        let fetched = self.get(url, "application/json").map_err(|reason| self.file_error(&at, reason))?;
        serde_json::from_slice(&fetched.body).map_err(|e| ImportError::Malformed {
            path: self.name.to_path_buf(),
            reason: format!("{at}: not JSON{}: {e}", shown_type(fetched.content_type.as_deref())),
        })
    }

    fn file_error(&self, at: &str, reason: String) -> ImportError {
        ImportError::File { path: self.name.to_path_buf(), reason: format!("{at}: {reason}") }
    }

    /// Fetches the pages from `first` on, following `next` links, into `pages`; stops early when
    /// the receiver is gone.
    fn pages(&self, first: Url, pages: &SyncSender<Page>) -> Result<(), ImportError> {
        let mut url = first;
        let (mut fetching, mut bytes, mut count) = (Duration::ZERO, 0usize, 0u32);
        for number in 1u32.. {
            let at = format!("page {number} ({})", redact(url.as_str()));
            let fetch = Instant::now();
            let got = self.page(&url);
            fetching += fetch.elapsed();
            let (fetched, scanned) = got.map_err(|e| match e {
                PageError::Request(reason) => self.file_error(&at, reason),
                PageError::Content(reason) => {
                    ImportError::Malformed { path: self.name.to_path_buf(), reason: format!("{at}: {reason}") }
                }
            })?;
            let next = match scanned.next.or(fetched.link_next) {
                Some(href) => Some(url.join(&href).map_err(|e| ImportError::Malformed {
                    path: self.name.to_path_buf(),
                    reason: format!("{at}: next link {href}: {e}"),
                })?),
                None => None,
            };
            if next.as_ref() == Some(&url) {
                return Err(ImportError::Malformed {
                    path: self.name.to_path_buf(),
                    reason: format!("{at}: the next link points to the page itself"),
                });
            }
            bytes += fetched.body.len();
            count = number;
            let page = Page {
                number,
                url: url.to_string(),
                body: fetched.body,
                features: scanned.features,
                crs: fetched.crs,
                matched: scanned.matched,
                name: Arc::clone(&self.name),
            };
            if pages.send(page).is_err() {
                return Ok(());
            }
            match next {
                Some(next) => url = next,
                None => break,
            }
        }
        // Requests and one-pass scans, while the reader decoded the previous page.
        tracing::info!(
            pages = count,
            megabytes = bytes as f64 / 1e6,
            fetching_s = fetching.as_secs_f64(),
            "pages fetched"
        );
        Ok(())
    }

    /// One page, fetched and scanned, retried as a whole when it broke off.
    fn page(&self, url: &Url) -> Result<(Fetched, Scanned), PageError> {
        let accept = "application/geo+json, application/json;q=0.9";
        let mut attempt = 0;
        loop {
            let fetched = self.get(url, accept).map_err(PageError::Request)?;
            match scan(&fetched.body) {
                Ok(scanned) => return Ok((fetched, scanned)),
                Err(e) if e.is_eof() && attempt < self.harvest.retries => {
                    tracing::warn!(url = %redact(url.as_str()), "page ends early, retrying");
                    std::thread::sleep(backoff(attempt));
                    attempt += 1;
                }
                Err(e) => {
                    let reason = if e.is_eof() {
                        format!("the page ends early (truncated JSON at line {} column {})", e.line(), e.column())
                    } else if e.is_data() {
                        e.to_string()
                    } else {
                        format!("not JSON{}: {e}", shown_type(fetched.content_type.as_deref()))
                    };
                    return Err(PageError::Content(reason));
                }
            }
        }
    }

    /// A GET read whole, with the retries.
    fn get(&self, url: &Url, accept: &str) -> Result<Fetched, String> {
        let mut attempt = 0;
        loop {
            match self.attempt(url, accept) {
                Ok(fetched) => return Ok(fetched),
                Err(Failed::Retry(reason, wait)) if attempt < self.harvest.retries => {
                    let wait = wait.unwrap_or_else(|| backoff(attempt));
                    tracing::warn!(url = %redact(url.as_str()), %reason, seconds = wait.as_secs_f64(), "retrying");
                    std::thread::sleep(wait);
                    attempt += 1;
                }
                Err(Failed::Retry(reason, _)) => {
                    let tries = attempt + 1;
                    return Err(format!("{reason} ({tries} attempt{})", if tries == 1 { "" } else { "s" }));
                }
                Err(Failed::Final(reason)) => return Err(reason),
            }
        }
    }

    fn attempt(&self, url: &Url, accept: &str) -> Result<Fetched, Failed> {
        let mut request = self.agent.get(url.as_str()).header("Accept", accept);
        if url.origin() == self.origin {
            for (name, value) in &self.harvest.headers {
                request = request.header(name.as_str(), value.as_str());
            }
        }
        let mut response = request.call().map_err(|e| match e {
            ureq::Error::HostNotFound => Failed::Retry("host not found".into(), None),
            ureq::Error::ConnectionFailed => Failed::Retry("cannot connect".into(), None),
            ureq::Error::Timeout(t) => Failed::Retry(format!("timed out ({t})"), None),
            ureq::Error::Io(e) => Failed::Retry(format!("connection failed: {e}"), None),
            other => Failed::Final(other.to_string()),
        })?;
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let status = response.status().as_u16();
        let retry_after =
            header("retry-after").and_then(|s| s.trim().parse::<u64>().ok()).map(|s| Duration::from_secs(s.min(60)));
        let content_type = header("content-type");
        let crs = header("content-crs");
        let link_next = header("link").and_then(|l| next_in_link_header(&l));
        if status == 429 || status >= 500 {
            return Err(Failed::Retry(format!("HTTP {status}"), retry_after));
        }
        if (300..400).contains(&status) {
            let to = header("location").unwrap_or_default();
            return Err(Failed::Final(format!(
                "HTTP {status}: redirected to {}; the --header values are not sent on a redirect: harvest that URL instead",
                redact(&to)
            )));
        }
        if !(200..300).contains(&status) {
            let text = response.body_mut().with_config().limit(4096).read_to_string().unwrap_or_default();
            let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(300).collect();
            return Err(Failed::Final(format!(
                "HTTP {status}{}",
                if text.is_empty() { String::new() } else { format!(": {text}") }
            )));
        }
        let body =
            response.body_mut().with_config().limit(self.harvest.max_page_bytes).read_to_vec().map_err(
                |e| match e {
                    ureq::Error::BodyExceedsLimit(_) => Failed::Final(format!(
                        "the body is larger than {} MiB: ask for fewer features per page (limit)",
                        self.harvest.max_page_bytes >> 20
                    )),
                    ureq::Error::Timeout(t) => Failed::Retry(format!("the body stalled ({t})"), None),
                    other => Failed::Retry(format!("the body broke off: {other}"), None),
                },
            )?;
        Ok(Fetched { body, content_type, crs, link_next })
    }
}

/// Why a page could not be had.
enum PageError {
    /// The request failed.
    Request(String),
    /// The body is not a GeoJSON FeatureCollection.
    Content(String),
}

/// `" (text/html)"`, to say what came instead of JSON.
fn shown_type(content_type: Option<&str>) -> String {
    content_type.map(|t| format!(" (the server sent {t})")).unwrap_or_default()
}

/// The wait before retry `attempt` (0-based): 0.5 s, 1 s, 2 s, … up to 30 s.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(500u64.saturating_mul(1 << attempt.min(6))).min(Duration::from_secs(30))
}

/// The `next` target of an RFC 8288 `Link` header.
fn next_in_link_header(header: &str) -> Option<String> {
    let mut rest = header;
    while let Some(open) = rest.find('<') {
        let close = open + rest[open..].find('>')?;
        let target = &rest[open + 1..close];
        let params_end = rest[close..].find('<').map_or(rest.len(), |i| close + i);
        let params = &rest[close + 1..params_end];
        let is_next = params.split(';').any(|p| {
            let p = p.trim().trim_end_matches(',').trim();
            p.strip_prefix("rel=").is_some_and(|v| v.trim_matches('"').split_whitespace().any(|r| r == "next"))
        });
        if is_next {
            return Some(target.to_owned());
        }
        rest = &rest[params_end..];
    }
    None
}

/// A page's skeleton: where its features are, and its next link.
#[derive(Debug)]
struct Scanned {
    features: Vec<Range<usize>>,
    next: Option<String>,
    matched: Option<u64>,
}

#[derive(Deserialize)]
struct PageDoc<'a> {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(borrow)]
    features: Option<Vec<&'a RawValue>>,
    #[serde(default)]
    links: Vec<LinkDoc>,
    #[serde(rename = "numberMatched")]
    matched: Option<u64>,
}

#[derive(Deserialize)]
struct LinkDoc {
    href: Option<String>,
    rel: Option<String>,
    #[serde(rename = "type")]
    media: Option<String>,
}

/// Reads a page in one pass: checks it is a FeatureCollection, finds each feature's text and
/// the `next` link (of a JSON type, or of none).
fn scan(body: &[u8]) -> Result<Scanned, serde_json::Error> {
    use serde::de::Error;
    let doc: PageDoc<'_> = serde_json::from_slice(body)?;
    match doc.kind.as_deref() {
        Some("FeatureCollection") => {}
        Some(other) => {
            return Err(serde_json::Error::custom(format!(
                "expected a GeoJSON FeatureCollection, found type \"{other}\""
            )))
        }
        None => {
            return Err(serde_json::Error::custom(
                "expected a GeoJSON FeatureCollection, found an object without \"type\"",
            ))
        }
    }
    let features =
        doc.features.ok_or_else(|| serde_json::Error::custom("the FeatureCollection has no \"features\" array"))?;
    let base = body.as_ptr().addr();
    let features = features
        .iter()
        .map(|raw| {
            let start = raw.get().as_ptr().addr() - base;
            start..start + raw.get().len()
        })
        .collect();
    let json_type = |t: &Option<String>| t.as_deref().is_none_or(|t| t.contains("json"));
    let next = doc
        .links
        .iter()
        .filter(|l| l.rel.as_deref() == Some("next") && json_type(&l.media))
        .find_map(|l| l.href.clone());
    Ok(Scanned { features, next, matched: doc.matched })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_finds_features_and_the_json_next_link() {
        let body = br#"{"type":"FeatureCollection","features":[{"type":"Feature","id":1,"geometry":null,"properties":{"a":"x"}}, {"type":"Feature","geometry":null}],
            "links":[{"href":"h.html","rel":"next","type":"text/html"},{"href":"n?cursor=2","rel":"next","type":"application/geo+json"}],"numberMatched":5}"#;
        let scanned = scan(body).unwrap();
        assert_eq!(scanned.next.as_deref(), Some("n?cursor=2"));
        let texts: Vec<&str> =
            scanned.features.iter().map(|r| std::str::from_utf8(&body[r.clone()]).unwrap()).collect();
        assert_eq!(
            texts,
            [
                r#"{"type":"Feature","id":1,"geometry":null,"properties":{"a":"x"}}"#,
                r#"{"type":"Feature","geometry":null}"#
            ]
        );
        assert!(scan(br#"{"type":"Feature","geometry":null}"#).unwrap_err().to_string().contains("FeatureCollection"));
        assert!(scan(br#"{"type":"FeatureCollection"}"#).unwrap_err().to_string().contains("features"));
        assert!(scan(br#"{"type":"FeatureCollection","features":[{"a":"#).unwrap_err().is_eof());
        assert!(scan(b"<html>").unwrap_err().is_syntax());
    }

    #[test]
    fn link_headers_give_next() {
        assert_eq!(
            next_in_link_header(
                r#"<http://a/x?c=1,2>; rel="self", <http://a/x?c=3>; rel="next"; type="application/geo+json""#
            ),
            Some("http://a/x?c=3".into())
        );
        assert_eq!(next_in_link_header(r#"<http://a/x>; rel="prev next""#), Some("http://a/x".into()));
        assert_eq!(next_in_link_header(r#"<http://a/x>; rel="self""#), None);
    }

    #[test]
    fn secrets_are_redacted() {
        assert_eq!(
            redact("https://u:pw@h/collections/c/items?limit=5&key=abc&api_key=def"),
            "https://u:***@h/collections/c/items?limit=5&key=***&api_key=***"
        );
        assert_eq!(redact("http://h/collections/c/items?bbox=1,2,3,4"), "http://h/collections/c/items?bbox=1,2,3,4");
    }

    #[test]
    fn collection_of_an_items_url() {
        let u = Url::parse("http://h:1/ogc/collections/some.collection/items/?limit=3").unwrap();
        assert_eq!(collection_of(&u).unwrap().as_str(), "http://h:1/ogc/collections/some.collection");
        assert!(collection_of(&Url::parse("http://h/collections/x").unwrap()).is_none());
    }

    #[test]
    fn crs_negotiation_prefers_a_listed_vn2000_storage_crs() {
        let start = Url::parse("http://h/collections/c/items").unwrap();
        let vn = "http://www.opengis.net/def/crs/EPSG/0/5897";
        let both = json!({ "crs": [geosector_crs::ogc::CRS84_URI, vn], "storageCrs": vn });
        assert_eq!(negotiate(&start, &both, None).unwrap(), (ApiCrs::Epsg(5897), Some(vn.to_owned())));
        let stored_wgs84 =
            json!({ "crs": [geosector_crs::ogc::CRS84_URI, vn], "storageCrs": geosector_crs::ogc::CRS84_URI });
        assert_eq!(negotiate(&start, &stored_wgs84, None).unwrap(), (ApiCrs::Crs84, None));
        assert_eq!(negotiate(&start, &json!({}), None).unwrap(), (ApiCrs::Crs84, None));
        let forced = Crs::from_epsg(5897).unwrap();
        assert_eq!(negotiate(&start, &stored_wgs84, Some(&forced)).unwrap().0, ApiCrs::Epsg(5897));
        assert!(negotiate(&start, &json!({}), Some(&forced)).unwrap_err().contains("does not offer"));
        let in_url = Url::parse(&format!("http://h/collections/c/items?crs={vn}")).unwrap();
        assert_eq!(negotiate(&in_url, &json!({}), None).unwrap(), (ApiCrs::Epsg(5897), None));
    }

    #[test]
    fn since_becomes_a_cql2_condition_anded_with_the_urls_filter() {
        let since = DateTime::parse_from_rfc3339("2026-12-06T10:00:00Z").unwrap().with_timezone(&Utc);
        let mut url = Url::parse("http://h/collections/c/items?limit=5").unwrap();
        add_since_filter(&mut url, "version_from", since).unwrap();
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        assert!(
            pairs.contains(&("filter".into(), "version_from >= TIMESTAMP('2026-12-06T10:00:00Z')".into())),
            "{pairs:?}"
        );
        assert!(pairs.contains(&("filter-lang".into(), "cql2-text".into())));
        let mut url = Url::parse("http://h/collections/c/items?filter=a%3D1").unwrap();
        add_since_filter(&mut url, "last-modified", since).unwrap();
        let filter = url.query_pairs().find(|(n, _)| n == "filter").unwrap().1.into_owned();
        assert_eq!(filter, "(a=1) AND \"last-modified\" >= TIMESTAMP('2026-12-06T10:00:00Z')");
        let mut url = Url::parse("http://h/collections/c/items?filter-lang=cql2-json&filter=%7B%22op%22%3A%22%3D%22%2C%22args%22%3A%5B%7B%22property%22%3A%22a%22%7D%2C1%5D%7D").unwrap();
        add_since_filter(&mut url, "updated", since).unwrap();
        let filter: Value = serde_json::from_str(&url.query_pairs().find(|(n, _)| n == "filter").unwrap().1).unwrap();
        assert_eq!(filter["op"], "and");
        assert_eq!(filter["args"][1]["args"][1]["timestamp"], "2026-12-06T10:00:00Z");
    }

    #[test]
    fn the_change_time_queryable_is_found_or_refused() {
        let q = json!({ "properties": {
            "name": { "type": "string" }, "n": { "type": "integer" },
            "version_from": { "type": "string", "format": "date-time" } } });
        assert_eq!(change_time_queryable(&q, None).unwrap(), "version_from");
        // Named by the user: a string without a format is taken at their word, a number is not.
        assert_eq!(change_time_queryable(&q, Some("name")).unwrap(), "name");
        assert!(change_time_queryable(&q, Some("n")).unwrap_err().contains("not a date-time"));
        assert!(change_time_queryable(&q, Some("missing")).unwrap_err().contains("no queryable missing"));
        let none = json!({ "properties": { "name": { "type": "string" } } });
        assert!(change_time_queryable(&none, None).unwrap_err().contains("--since-property"));
    }
}
