//! `/collections/{id}/items` and `/collections/{id}/items/{featureId}`: GeoJSON streamed row by
//! row from PostGIS (memory bounded by one chunk, whatever the page size), or HTML.
//!
//! One handler serves every items request: plain ones run a statement planned once per shape,
//! those with `filter`, `sortby` or `properties` (OGC API - Features Part 3) one built for the
//! request; the store decides which and binds the values. A page reads `limit + 1` rows: the
//! extra row only tells that a next page exists. `numberMatched` is given when it is known
//! exactly at no cost (a first page that holds every match); the server never counts a large
//! table per request.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::{BufMut, Bytes, BytesMut};
use futures_util::StreamExt;
use geosector_access::policy::Operation;
use geosector_crs::ApiCrs;
use geosector_store::plan::{ItemsRequest, OutputCrs};
use geosector_store::Collection;

use crate::error::ApiError;
use crate::links::{self, base_url, query_with, Link};
use crate::params::{self, Format};
use crate::state::AppState;
use crate::{audit, auth, crs, db, etag, filter, history, html, query};

/// Media type of GeoJSON.
pub const GEOJSON: &str = "application/geo+json";

const CHUNK: usize = 64 * 1024;

/// `GET /collections/{collectionId}/items`: every parameter (Parts 1–3) parsed once
/// ([`crate::query`]), one statement from the store, rows streamed.
///
/// # Errors
/// 404 for an unknown collection, 400 for a bad parameter (including a filter the database
/// cannot evaluate), 503 when the database is down.
pub async fn items(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::caller(&state, &req).await?;
    let opened = auth::open(&state, &caller, &path, Operation::ReadItems)?;
    let collection = Arc::clone(&opened.collection);
    let pairs: Vec<(String, String)> = params::query_pairs(&req)?;
    let accept = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let query =
        query::items(&pairs, &collection, state.limits, accept, &state.request_limits, caller.is_anonymous()).await?;

    let client = state.reads.get().await?;
    // At an instant past the margin the page can no longer change: its tag is the instant's.
    let immutable = query.as_of.is_some_and(|at| history::settled(&state, at));
    let tag = if immutable {
        etag::settled(&req, query.format, opened.fingerprint)
    } else {
        etag::tag(etag::data_version(&client, &collection).await?, &req, query.format, opened.fingerprint)
    };
    let stamped = |mut response: HttpResponse| {
        if query.as_of.is_some() {
            history::stamp(&mut response, query.as_of, immutable);
        }
        response
    };
    if etag::matches(&req, &tag) {
        return Ok(stamped(HttpResponse::NotModified().insert_header((header::ETAG, tag)).finish()));
    }
    let mut request = query.request();
    request.scope = opened.scope.as_ref();
    let statement = collection.plan.items(&request);
    let filtered = query.filter.is_some();
    let rows = db::stream(&client, &statement).await.map_err(|e| filter::db_error(e, filtered))?;
    let mut rows = Box::pin(rows);
    // The first row is awaited here, so an error a filter causes is a 400, not a cut stream.
    let first = rows.next().await.transpose().map_err(|e| filter::db_error(e, filtered))?;

    let audited = opened.is_personal().then(|| audit::read_entry(&caller, &req, &collection, audit::filter_of(&pairs)));
    let base = base_url(&req);
    let page = PageLinks::new(&base, &collection, &pairs, key_pair(&req));
    let paging = query.page;
    let next = move |last_id: i64, returned: i64| page.next(&query::next_cursor(paging, last_id, returned));
    if query.format == Format::Html {
        let mut features = Vec::new();
        let mut next_row = first;
        while let Some(row) = next_row {
            features.push((row.get::<_, i64>(0), row.get::<_, Option<String>>(1), row.get::<_, String>(2)));
            next_row = rows.next().await.transpose().map_err(|e| filter::db_error(e, filtered))?;
        }
        let more = features.len() as i64 > query.limit;
        features.truncate(usize::try_from(query.limit).unwrap_or(usize::MAX));
        if let Some(entry) = audited {
            state.audit.record(entry.returned(features.iter().map(|f| f.0)));
        }
        let next_url = more.then(|| features.last().map(|f| next(f.0, query.limit))).flatten();
        let json_url = format!("{base}{}?{}", req.path(), query_with(&pairs, &[("f", Some("json"))]));
        return Ok(stamped(
            HttpResponse::Ok()
                .content_type("text/html; charset=utf-8")
                .insert_header((header::ETAG, tag))
                .body(html::items(&collection, &features, next_url.as_deref(), &json_url)),
        ));
    }

    let keyed = |url: String| match links::query_key(&req) {
        Some(key) => links::with_key(&url, &key),
        None => url,
    };
    let self_url = format!("{base}{}", req.uri());
    let as_of = query.as_of;
    let body = stream_page(
        client,
        first,
        rows,
        StreamedPage {
            self_url,
            html_url: keyed(format!("{base}{}?{}", req.path(), query_with(&pairs, &[("f", Some("html"))]))),
            collection_url: keyed(format!("{base}/collections/{}", collection.id())),
            first_page: query.first_page(),
            limit: query.limit,
            next: Box::new(next),
            audit: audited.map(|entry| (entry, state.audit.clone())),
        },
    );
    let mut response = HttpResponse::Ok()
        .content_type(GEOJSON)
        .insert_header(("Content-Crs", crs::content_crs(query.crs)))
        .insert_header((header::ETAG, tag))
        .streaming(body);
    if as_of.is_some() {
        history::stamp(&mut response, as_of, immutable);
    }
    Ok(response)
}

/// What a streamed GeoJSON page needs besides its rows.
struct StreamedPage {
    self_url: String,
    html_url: String,
    collection_url: String,
    /// Whether this is the first page (then a page that holds everything says `numberMatched`).
    first_page: bool,
    /// Features per page; the statement reads one more to know whether a next page exists.
    limit: i64,
    /// The next page's URL from the last id and the number of features returned.
    next: Box<dyn Fn(i64, i64) -> String + Send>,
    /// The audit entry to complete with what was returned, when the page holds personal data.
    audit: Option<(geosector_store::audit::AuditEntry, audit::AuditLog)>,
}

/// Streams a FeatureCollection page: `first` (already read, so an error there was answered
/// before the 200) then the rest of `rows`. The handler returns at once; a task reads rows and
/// sends 64 KB chunks, and stops reading when the client goes away (the send fails). The pooled
/// connection is kept until the page is done.
fn stream_page<S>(
    client: deadpool_postgres::Object,
    first: Option<tokio_postgres::Row>,
    rows: std::pin::Pin<Box<S>>,
    page: StreamedPage,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>>
where
    S: futures_util::Stream<Item = Result<tokio_postgres::Row, tokio_postgres::Error>> + Send + 'static,
{
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    tokio::spawn(async move {
        let _client = client;
        let mut out = BytesMut::with_capacity(CHUNK + 4096);
        out.put_slice(b"{\"type\":\"FeatureCollection\",\"features\":[");
        let (mut returned, mut last_id, mut more): (i64, Option<i64>, bool) = (0, None, false);
        let mut ids: Vec<i64> = Vec::new();
        let mut rows = crate::rows::AfterFirst::new(first, rows);
        loop {
            let row = match rows.next_or_break("items", &sender).await {
                Ok(Some(row)) => row,
                Ok(None) => break,
                Err(()) => return,
            };
            if returned == page.limit {
                more = true;
                break;
            }
            let id: i64 = row.get(0);
            if returned > 0 {
                out.put_u8(b',');
            }
            write_feature(&mut out, id, row.get::<_, Option<&str>>(1), row.get::<_, &str>(2));
            returned += 1;
            last_id = Some(id);
            if page.audit.is_some() {
                ids.push(id);
            }
            if out.len() >= CHUNK && sender.send(Ok(out.split().freeze())).await.is_err() {
                return;
            }
        }
        out.put_slice(b"],");
        let mut tail = serde_json::Map::new();
        tail.insert("numberReturned".into(), returned.into());
        if page.first_page && !more {
            tail.insert("numberMatched".into(), returned.into());
        }
        tail.insert("timeStamp".into(), chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true).into());
        let mut links = vec![
            Link::new(&page.self_url, "self", GEOJSON, "this page"),
            Link::new(&page.html_url, "alternate", "text/html", "this page as HTML"),
            Link::new(&page.collection_url, "collection", "application/json", "the collection"),
        ];
        if let (true, Some(id)) = (more, last_id) {
            links.push(Link::new(&(page.next)(id, returned), "next", GEOJSON, "next page"));
        }
        tail.insert("links".into(), serde_json::to_value(links).unwrap_or_default());
        let tail = serde_json::Value::Object(tail).to_string();
        // `{...}` without its opening brace continues the object begun above.
        out.put_slice(&tail.as_bytes()[1..]);
        if let Some((entry, log)) = page.audit {
            log.record(entry.returned(ids));
        }
        let _ = sender.send(Ok(out.freeze())).await;
    });
    futures_util::stream::unfold(receiver, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) })
}

/// Writes one GeoJSON feature (`id`, geometry and properties as the statements give them).
pub(crate) fn write_feature(out: &mut BytesMut, id: i64, geometry: Option<&str>, properties: &str) {
    out.put_slice(b"{\"type\":\"Feature\",\"id\":");
    out.put_slice(id.to_string().as_bytes());
    out.put_slice(b",\"geometry\":");
    out.put_slice(geometry.unwrap_or("null").as_bytes());
    out.put_slice(b",\"properties\":");
    out.put_slice(properties.as_bytes());
    out.put_u8(b'}');
}

/// The URL of the next page: the request's own query with the cursor replaced (and the API
/// key the request came with, so a client that cannot send headers keeps paging).
struct PageLinks {
    items: String,
    pairs: Vec<(String, String)>,
}

/// The request's API key as a query pair, when it came in the query.
fn key_pair(req: &HttpRequest) -> Option<(String, String)> {
    links::query_key(req).map(|key| (params::KEY_PARAMETER.to_owned(), key))
}

impl PageLinks {
    fn new(
        base: &str,
        collection: &Collection,
        pairs: &[(String, String)],
        key: Option<(String, String)>,
    ) -> PageLinks {
        let pairs = pairs.iter().cloned().chain(key).collect();
        PageLinks { items: format!("{base}/collections/{}/items", collection.id()), pairs }
    }

    fn next(&self, cursor: &str) -> String {
        format!("{}?{}", self.items, query_with(&self.pairs, &[("cursor", Some(cursor))]))
    }
}

/// `GET /collections/{collectionId}/items/{featureId}`.
///
/// On a versioned collection: a strong ETag naming the version, `datetime` selecting the version
/// valid at an instant (with `Memento-Datetime`), version links in the body and the `Link`
/// header, and 410 for a retired feature (see [`crate::history`]).
///
/// # Errors
/// 404 for an unknown collection or feature (or one that did not exist yet at the instant), 410
/// for a retired one, 400 for a bad parameter.
pub async fn item(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (collection_id, feature_id) = path.into_inner();
    let caller = auth::caller(&state, &req).await?;
    let opened = auth::open(&state, &caller, &collection_id, Operation::ReadItems)?;
    let collection = Arc::clone(&opened.collection);
    let (format, output) = crs::feature_params(&req, &collection)?;
    let at = history::requested(&params::query_pairs(&req)?, &collection)?;
    let not_found = || ApiError::NotFound(format!("feature {feature_id} not found in {collection_id}"));
    let id: i64 = feature_id.parse().map_err(|_| not_found())?;
    let client = state.reads.get().await?;
    let versioned = collection.plan.is_versioned();
    // A feature of a versioned collection has its own strong tag, read with its row; others the
    // table's weak one, read first.
    let weak = if versioned {
        None
    } else {
        Some(etag::tag(etag::data_version(&client, &collection).await?, &req, format, opened.fingerprint))
    };
    if let Some(tag) = weak.as_ref().filter(|tag| etag::matches(&req, tag)) {
        return Ok(HttpResponse::NotModified().insert_header((header::ETAG, tag.clone())).finish());
    }
    // HTML pages draw in CRS84.
    let drawn = if format == Format::Html { ApiCrs::Crs84 } else { output };
    let statement = collection.plan.item_at(id, crs::output(drawn), opened.scope.as_ref(), at);
    let Some(row) = db::one(&client, &statement).await? else {
        return Err(history::missing(&client, &collection, id, opened.scope.as_ref(), at, not_found()).await);
    };
    let version = versioned.then(|| history::VersionOf::of(&row));
    let tag = match (&weak, &version) {
        (Some(tag), _) => tag.clone(),
        (None, Some(v)) => v.etag(id, &req, format, opened.fingerprint),
        (None, None) => return Err(ApiError::Internal("a versioned feature without its version".into())),
    };
    // A past version that has ended never changes; one still current may gain a successor.
    let immutable = at.is_some_and(|at| history::settled(&state, at)) && version.is_some_and(|v| v.to.is_some());
    let memento = at.and(version.map(|v| v.from));
    let stamped = |mut response: HttpResponse| {
        history::stamp(&mut response, memento, immutable);
        response
    };
    if etag::matches(&req, &tag) {
        return Ok(stamped(HttpResponse::NotModified().insert_header((header::ETAG, tag)).finish()));
    }
    if opened.is_personal() {
        state.audit.record(audit::read_entry(&caller, &req, &collection, None).returned([id]));
    }
    let (geometry, properties): (Option<String>, String) = (row.get(1), row.get(2));
    let base = base_url(&req);
    let url = format!("{base}/collections/{collection_id}/items/{id}");
    let key = links::query_key(&req);
    let keyed = |l: &Link| match &key {
        Some(key) => Link { href: links::with_key(&l.href, key), ..l.clone() },
        None => l.clone(),
    };
    let version_links: Vec<Link> =
        version.map(|v| v.links(&url, GEOJSON)).unwrap_or_default().iter().map(keyed).collect();
    let link_header = (!version_links.is_empty()).then(|| history::link_header(&version_links));
    if format == Format::Html {
        let mut response = HttpResponse::Ok();
        response.content_type("text/html; charset=utf-8").insert_header((header::ETAG, tag));
        if let Some(value) = link_header {
            response.insert_header((header::LINK, value));
        }
        return Ok(stamped(response.body(html::item(&collection, id, geometry.as_deref(), &properties))));
    }
    let mut out = BytesMut::with_capacity(properties.len() + geometry.as_ref().map_or(0, String::len) + 1024);
    write_feature(&mut out, id, geometry.as_deref(), &properties);
    out.truncate(out.len() - 1);
    let mut query: Vec<(String, String)> = Vec::new();
    if output != ApiCrs::Crs84 {
        query.push(("crs".into(), output.uri()));
    }
    if let Some(at) = at {
        query.push(("datetime".into(), history::rfc3339(at)));
    }
    let self_url = if query.is_empty() { url.clone() } else { format!("{url}?{}", query_with(&query, &[])) };
    let html_url = format!("{url}?{}", query_with(&query, &[("f", Some("html"))]));
    let mut links = vec![
        Link::new(&self_url, "self", GEOJSON, "this feature"),
        Link::new(&html_url, "alternate", "text/html", "this feature as HTML"),
        Link::new(&format!("{base}/collections/{collection_id}"), "collection", "application/json", "the collection"),
    ];
    links.extend(version.map(|v| v.links(&url, GEOJSON)).unwrap_or_default());
    if let Some(v) = &version {
        out.put_slice(format!(",\"version\":{}", v.version).as_bytes());
    }
    let mut links = serde_json::to_value(&links).unwrap_or_default();
    links::carry_key(&mut links, &req);
    out.put_slice(b",\"links\":");
    out.put_slice(links.to_string().as_bytes());
    out.put_u8(b'}');
    let mut response = HttpResponse::Ok();
    response
        .content_type(GEOJSON)
        .insert_header(("Content-Crs", crs::content_crs(output)))
        .insert_header((header::ETAG, tag));
    if let Some(value) = link_header {
        response.insert_header((header::LINK, value));
    }
    Ok(stamped(response.body(out.freeze())))
}

/// `GET /collections/{collectionId}/items/{featureId}/{relation}`: the features of another
/// collection related to one feature (a declared relation, e.g. a parcel's `owners`), read with
/// the caller's access to both: the feature must be in the caller's view of its collection, and
/// the related features are those of the caller's view of theirs. At most the page limit's
/// maximum are returned.
///
/// # Errors
/// 404 for an unknown collection, feature or relation, or a related collection the caller may
/// not know; 401/403 when it may not read it; 400 for a parameter other than `f`.
pub async fn related(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (collection_id, feature_id, name) = path.into_inner();
    let caller = auth::caller(&state, &req).await?;
    let opened = auth::open(&state, &caller, &collection_id, Operation::ReadItems)?;
    let format = params::format_only(&req)?;
    let relation = opened
        .collection
        .decl
        .relations
        .iter()
        .find(|r| r.name == name)
        .ok_or_else(|| ApiError::NotFound(format!("no resource at {}", req.path())))?;
    let target = auth::open(&state, &caller, relation.collection, Operation::ReadItems)?;
    let not_found = || ApiError::NotFound(format!("feature {feature_id} not found in {collection_id}"));
    let id: i64 = feature_id.parse().map_err(|_| not_found())?;
    let client = state.reads.get().await?;
    let feature = opened.collection.plan.item(id, OutputCrs::STORED, opened.scope.as_ref());
    let row = db::one(&client, &feature).await?.ok_or_else(not_found)?;
    let properties: serde_json::Value = serde_json::from_str(row.get::<_, &str>(2)).unwrap_or_default();
    let mut equals = Vec::with_capacity(relation.keys.len());
    for (mine, theirs) in relation.keys {
        let value = match &properties[*mine] {
            serde_json::Value::String(text) => text.clone(),
            serde_json::Value::Null => return Ok(related_response(&req, format, &[], &target.collection)),
            other => other.to_string(),
        };
        let property = target.collection.property(theirs).ok_or_else(|| {
            ApiError::Internal(format!("relation {name}: {theirs} is not a property of {}", relation.collection))
        })?;
        equals.push((property.name, value));
    }
    let limit = state.limits.max;
    let request = ItemsRequest { equals, limit, scope: target.scope.as_ref(), ..ItemsRequest::default() };
    let rows = db::all(&client, &target.collection.plan.items(&request)).await?;
    let features: Vec<(i64, Option<String>, String)> = rows
        .iter()
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .map(|r| (r.get::<_, i64>(0), r.get::<_, Option<String>>(1), r.get::<_, String>(2)))
        .collect();
    if target.is_personal() {
        let entry = audit::read_entry(&caller, &req, &target.collection, None);
        state.audit.record(entry.returned(features.iter().map(|f| f.0)));
    }
    Ok(related_response(&req, format, &features, &target.collection))
}

/// The related features as a FeatureCollection (or an HTML page).
fn related_response(
    req: &HttpRequest,
    format: Format,
    features: &[(i64, Option<String>, String)],
    collection: &Collection,
) -> HttpResponse {
    let base = base_url(req);
    if format == Format::Html {
        let json_url = format!("{base}{}?f=json", req.path());
        return HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(html::items(collection, features, None, &json_url));
    }
    let mut out = BytesMut::with_capacity(1024 + features.iter().map(|f| f.2.len() + 64).sum::<usize>());
    out.put_slice(b"{\"type\":\"FeatureCollection\",\"features\":[");
    for (i, (id, geometry, properties)) in features.iter().enumerate() {
        if i > 0 {
            out.put_u8(b',');
        }
        write_feature(&mut out, *id, geometry.as_deref(), properties);
    }
    let mut links = serde_json::json!([
        Link::new(&format!("{base}{}", req.path()), "self", GEOJSON, "these features"),
        Link::new(
            &format!("{base}/collections/{}", collection.id()),
            "collection",
            "application/json",
            "their collection"
        ),
    ]);
    links::carry_key(&mut links, req);
    out.put_slice(format!("],\"numberReturned\":{},\"links\":{links}}}", features.len()).as_bytes());
    HttpResponse::Ok().content_type(GEOJSON).body(out.freeze())
}
