//! `/collections/{id}/items` and `/collections/{id}/items/{featureId}`: GeoJSON streamed row by
//! row from PostGIS (memory bounded by one chunk, whatever the page size), or HTML.
//!
//! A page reads `limit + 1` rows in `id` order after the cursor: the extra row only tells that a
//! next page exists. `numberMatched` is given when it is known exactly at no cost (a first page
//! that holds every match); the server never counts a large table per request.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::{BufMut, Bytes, BytesMut};
use futures_util::{pin_mut, StreamExt};
use geosector_crs::ApiCrs;
use geosector_store::Collection;
use tokio_postgres::types::ToSql;

use crate::crs;
use crate::error::ApiError;
use crate::etag;
use crate::html;
use crate::links::{base_url, encode, query_with, Link};
use crate::params::{self, Format, ItemsQuery};
use crate::AppState;

/// Media type of GeoJSON.
pub const GEOJSON: &str = "application/geo+json";

const CHUNK: usize = 64 * 1024;

fn collection(state: &AppState, id: &str) -> Result<Arc<Collection>, ApiError> {
    state.registry.get(id).cloned().ok_or_else(|| ApiError::NotFound(format!("collection {id} not found")))
}

/// `GET /collections/{collectionId}/items`.
///
/// # Errors
/// 404 for an unknown collection, 400 for a bad parameter, 503 when the database is down.
pub async fn items(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let collection = collection(&state, &path)?;
    let pairs: Vec<(String, String)> = params::query_pairs(&req)?;
    if crate::cql::applies(&pairs) {
        // filter, sortby, properties: planned per request (OGC API - Features Part 3).
        return crate::cql::items(state, req, collection, pairs).await;
    }
    let accept = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let query = params::items(&pairs, &collection, state.limits, accept)?;

    let client = state.pool.get().await?;
    let version = etag::data_version(&client, &collection).await?;
    let tag = etag::tag(version, &req, query.format);
    if etag::matches(&req, &tag) {
        return Ok(HttpResponse::NotModified().insert_header((header::ETAG, tag)).finish());
    }
    let sql = collection.plan.items_sql(&query.shape());
    let statement = client.prepare_cached(&sql).await?;
    let values = bind_values(&query);
    let rows = client.query_raw(&statement, values.iter().map(|v| v.as_ref() as &(dyn ToSql + Sync))).await?;

    let base = base_url(&req);
    let self_url = format!("{base}{}", req.uri());
    let page = PageLinks::new(&base, &collection, &pairs);
    if query.format == Format::Html {
        let mut features = Vec::new();
        pin_mut!(rows);
        while let Some(row) = rows.next().await {
            let row = row?;
            features.push((row.get::<_, i64>(0), row.get::<_, Option<String>>(1), row.get::<_, String>(2)));
        }
        let more = features.len() as i64 > query.limit;
        features.truncate(usize::try_from(query.limit).unwrap_or(usize::MAX));
        let next = more.then(|| features.last().map(|f| page.next(f.0))).flatten();
        return Ok(HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .insert_header((header::ETAG, tag))
            .body(html::items(&collection, &features, next.as_deref(), &page.json)));
    }

    let mut rows = Box::pin(rows);
    let first = rows.next().await.transpose()?;
    let first_page = query.cursor.is_none();
    let body = stream_page(
        client,
        first,
        rows,
        StreamedPage {
            self_url,
            html_url: page.html.clone(),
            collection_url: page.collection.clone(),
            first_page,
            limit: query.limit,
            next: Box::new(move |last_id, _returned| page.next(last_id)),
        },
    );
    Ok(HttpResponse::Ok()
        .content_type(GEOJSON)
        .insert_header(("Content-Crs", crs::content_crs(query.crs.output)))
        .insert_header((header::ETAG, tag))
        .streaming(body))
}

/// The bound values of an items statement, in the plan's order (the CRS values lead).
fn bind_values(query: &ItemsQuery) -> Vec<Box<dyn ToSql + Sync + Send>> {
    let mut values = shape_values(query);
    if let Some(cursor) = query.cursor {
        values.push(Box::new(cursor));
    }
    values.push(Box::new(query.limit + 1));
    values
}

/// The values of a request's shape, in the plan's order: the CRS values, the bbox envelopes, the
/// time bounds, the property values (what a per-request statement binds before its own).
pub(crate) fn shape_values(query: &ItemsQuery) -> Vec<Box<dyn ToSql + Sync + Send>> {
    let mut values = query.crs.leading_values(query.shape().crs);
    for envelope in &query.bbox {
        for v in envelope {
            values.push(Box::new(*v));
        }
    }
    for bound in [&query.time.0, &query.time.1].into_iter().flatten() {
        values.push(Box::new(bound.clone()));
    }
    for (_, value) in &query.filters {
        values.push(Box::new(value.clone()));
    }
    values
}

/// What a streamed GeoJSON page needs besides its rows.
pub(crate) struct StreamedPage {
    pub(crate) self_url: String,
    pub(crate) html_url: String,
    pub(crate) collection_url: String,
    /// Whether this is the first page (then a page that holds everything says `numberMatched`).
    pub(crate) first_page: bool,
    /// Features per page; the statement reads one more to know whether a next page exists.
    pub(crate) limit: i64,
    /// The next page's URL from the last id and the number of features returned.
    pub(crate) next: Box<dyn Fn(i64, i64) -> String + Send>,
}

/// Streams a FeatureCollection page: `first` (already read, so an error there was answered
/// before the 200) then the rest of `rows`. The handler returns at once; a task reads rows and
/// sends 64 KB chunks, and stops reading when the client goes away (the send fails). The pooled
/// connection is kept until the page is done.
pub(crate) fn stream_page<S>(
    client: deadpool_postgres::Object,
    first: Option<tokio_postgres::Row>,
    mut rows: std::pin::Pin<Box<S>>,
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
        // A stream that already ended must not be polled again (it would report a closed
        // connection).
        let mut ended = first.is_none();
        let mut next_row = first.map(Ok);
        loop {
            let row = match next_row.take() {
                Some(row) => Some(row),
                None if ended => None,
                None => rows.next().await,
            };
            ended |= row.is_none();
            let row = match row {
                None => break,
                Some(Ok(r)) => r,
                Some(Err(e)) => {
                    tracing::error!(error = %e, "items stream failed");
                    let _ = sender.send(Err(std::io::Error::other("database error"))).await;
                    return;
                }
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
        let _ = sender.send(Ok(out.freeze())).await;
    });
    futures_util::stream::unfold(receiver, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) })
}

pub(crate) fn write_feature(out: &mut BytesMut, id: i64, geometry: Option<&str>, properties: &str) {
    out.put_slice(b"{\"type\":\"Feature\",\"id\":");
    out.put_slice(id.to_string().as_bytes());
    out.put_slice(b",\"geometry\":");
    out.put_slice(geometry.unwrap_or("null").as_bytes());
    out.put_slice(b",\"properties\":");
    out.put_slice(properties.as_bytes());
    out.put_u8(b'}');
}

/// The URLs a page links to.
struct PageLinks {
    collection: String,
    html: String,
    json: String,
    items: String,
    pairs: Vec<(String, String)>,
}

impl PageLinks {
    fn new(base: &str, collection: &Collection, pairs: &[(String, String)]) -> PageLinks {
        let items = format!("{base}/collections/{}/items", collection.id());
        PageLinks {
            collection: format!("{base}/collections/{}", collection.id()),
            html: format!("{items}?{}", query_with(pairs, &[("f", Some("html"))])),
            json: format!("{items}?{}", query_with(pairs, &[("f", Some("json"))])),
            items,
            pairs: pairs.to_vec(),
        }
    }

    fn next(&self, last_id: i64) -> String {
        let cursor = last_id.to_string();
        format!("{}?{}", self.items, query_with(&self.pairs, &[("cursor", Some(&cursor))]))
    }
}

/// `GET /collections/{collectionId}/items/{featureId}`.
///
/// # Errors
/// 404 for an unknown collection or feature, 400 for a bad parameter.
pub async fn item(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (collection_id, feature_id) = path.into_inner();
    let collection = collection(&state, &collection_id)?;
    let (format, output) = crs::feature_params(&req, &collection)?;
    let not_found = || ApiError::NotFound(format!("feature {feature_id} not found in {collection_id}"));
    let id: i64 = feature_id.parse().map_err(|_| not_found())?;
    let client = state.pool.get().await?;
    let version = etag::data_version(&client, &collection).await?;
    let tag = etag::tag(version, &req, format);
    if etag::matches(&req, &tag) {
        return Ok(HttpResponse::NotModified().insert_header((header::ETAG, tag)).finish());
    }
    let request_crs = crs::RequestCrs { output, bbox_polygon: None };
    let shape = request_crs.shape(format);
    let statement = client.prepare_cached(collection.plan.item_sql_in(shape)).await?;
    let mut values = request_crs.leading_values(shape);
    values.push(Box::new(id));
    let values: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v.as_ref() as &(dyn ToSql + Sync)).collect();
    let row = client.query_opt(&statement, &values).await?.ok_or_else(not_found)?;
    let (geometry, properties): (Option<String>, String) = (row.get(1), row.get(2));
    let base = base_url(&req);
    let url = format!("{base}/collections/{collection_id}/items/{id}");
    if format == Format::Html {
        return Ok(HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .insert_header((header::ETAG, tag))
            .body(html::item(&collection, id, geometry.as_deref(), &properties)));
    }
    let mut out = BytesMut::with_capacity(properties.len() + geometry.as_ref().map_or(0, String::len) + 512);
    write_feature(&mut out, id, geometry.as_deref(), &properties);
    out.truncate(out.len() - 1);
    let self_url = match output {
        ApiCrs::Crs84 => url.clone(),
        other => format!("{url}?crs={}", encode(&other.uri())),
    };
    let links = vec![
        Link::new(&self_url, "self", GEOJSON, "this feature"),
        Link::new(&format!("{url}?f=html"), "alternate", "text/html", "this feature as HTML"),
        Link::new(&format!("{base}/collections/{collection_id}"), "collection", "application/json", "the collection"),
    ];
    out.put_slice(b",\"links\":");
    out.put_slice(serde_json::to_string(&links).unwrap_or_default().as_bytes());
    out.put_u8(b'}');
    Ok(HttpResponse::Ok()
        .content_type(GEOJSON)
        .insert_header(("Content-Crs", crs::content_crs(output)))
        .insert_header((header::ETAG, tag))
        .body(out.freeze()))
}
