//! `/collections/{collectionId}/items/{featureId}/versions`: the versions of one feature of a
//! versioned collection (the OGC "Versioned Features" timemap), oldest first, as GeoJSON or HTML,
//! in the caller's view and area (see [`crate::history`] for the read side of versions).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::{BufMut, BytesMut};
use futures_util::StreamExt;
use geosector_access::policy::Operation;

use crate::error::ApiError;
use crate::features::{self, GEOJSON};
use crate::links::{self, base_url, query_with, Link};
use crate::params::{self, Format};
use crate::state::AppState;
use crate::{audit, auth, db, etag, html};

/// `GET /collections/{collectionId}/items/{featureId}/versions`: the versions of a feature,
/// oldest first, as a GeoJSON FeatureCollection (or HTML): each version a feature with the
/// feature's `id`, its properties in the caller's view, and the members `version`, `validFrom`,
/// `validTo` (null for the current one), `retired`, `changeset`, `changeType`, `reference` and
/// `referenceDate` (never who made it). Paged by `limit` and `cursor` like items.
///
/// # Errors
/// 404 for a collection without history, or a feature the caller cannot read (in no version
/// within its area) or that never existed; 400 for a bad parameter.
pub async fn versions(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (collection_id, feature_id) = path.into_inner();
    let caller = auth::caller(&state, &req).await?;
    let opened = auth::open(&state, &caller, &collection_id, Operation::ReadItems)?;
    let collection = &opened.collection;
    let not_found = || ApiError::NotFound(format!("feature {feature_id} not found in {collection_id}"));
    if !collection.plan.is_versioned() {
        return Err(ApiError::NotFound(format!("collection {collection_id} keeps no history, so no versions")));
    }
    let id: i64 = feature_id.parse().map_err(|_| not_found())?;
    let pairs = params::query_pairs(&req)?;
    params::check_names(
        &pairs,
        |n| matches!(n, "f" | "limit" | "cursor"),
        || "unknown parameter; versions accept f, limit and cursor".to_owned(),
    )?;
    let get = |n: &str| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    let accept = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let format = params::format(get("f"), accept)?;
    let limit = match get("limit") {
        None => state.limits.default,
        Some(v) => v
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| ApiError::param("limit", format!("expected a whole number from 1 to {}", state.limits.max)))?
            .min(state.limits.max),
    };
    let offset = match get("cursor") {
        None => 0,
        Some(v) => v
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|o| *o >= 0)
            .ok_or_else(|| ApiError::param("cursor", "not a cursor this server issued"))?,
    };
    let statement = collection
        .plan
        .versions(id, opened.scope.as_ref(), offset, limit)
        .ok_or_else(|| ApiError::Internal("a versioned collection without a versions statement".into()))?;
    let client = state.reads.get().await?;
    let version = etag::data_version(&client, collection).await?;
    let tag = etag::tag(version, &req, format, opened.fingerprint);
    if etag::matches(&req, &tag) {
        return Ok(HttpResponse::NotModified().insert_header((header::ETAG, tag)).finish());
    }
    let mut rows = Box::pin(db::stream(&client, &statement).await?);
    let mut taken: Vec<tokio_postgres::Row> = Vec::new();
    let mut more = false;
    // At most `limit` + 1 rows: the page is bounded by the server's maximum.
    while let Some(row) = rows.next().await.transpose()? {
        if taken.len() as i64 == limit {
            more = true;
            break;
        }
        taken.push(row);
    }
    drop(rows);
    if taken.is_empty() && offset == 0 {
        return Err(not_found());
    }
    if opened.is_personal() {
        state.audit.record(audit::read_entry(&caller, &req, collection, None).returned([id]));
    }
    let base = base_url(&req);
    let url = format!("{base}/collections/{collection_id}/items/{id}");
    let keyed = |u: String| match links::query_key(&req) {
        Some(key) => links::with_key(&u, &key),
        None => u,
    };
    let next = more.then(|| {
        let next_offset = (offset + limit).to_string();
        keyed(format!("{url}/versions?{}", query_with(&pairs, &[("cursor", Some(next_offset.as_str()))])))
    });
    if format == Format::Html {
        let body = html::versions(collection, id, &taken, next.as_deref(), &format!("{url}/versions?f=json"));
        return Ok(HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .insert_header((header::ETAG, tag))
            .body(body));
    }
    let mut out = BytesMut::with_capacity(1024 + taken.iter().map(|r| r.get::<_, &str>(2).len() + 1024).sum::<usize>());
    out.put_slice(b"{\"type\":\"FeatureCollection\",\"features\":[");
    for (i, row) in taken.iter().enumerate() {
        if i > 0 {
            out.put_u8(b',');
        }
        features::write_feature(&mut out, id, row.get::<_, Option<&str>>(1), row.get::<_, &str>(2));
        // The version's members go beside id, geometry and properties (GeoJSON foreign members).
        let members: &str = row.get(3);
        out.truncate(out.len() - 1);
        out.put_u8(b',');
        out.put_slice(members.trim_start_matches('{').as_bytes());
    }
    let mut links = vec![
        Link::new(&keyed(format!("{base}{}", req.uri())), "self", GEOJSON, "these versions"),
        Link::new(&keyed(format!("{url}/versions?f=html")), "alternate", "text/html", "these versions as HTML"),
        Link::new(&keyed(url.clone()), "latest-version", GEOJSON, "the current version"),
        Link::new(
            &keyed(format!("{base}/collections/{collection_id}")),
            "collection",
            "application/json",
            "the collection",
        ),
    ];
    if let Some(next) = &next {
        links.push(Link::new(next, "next", GEOJSON, "the next versions"));
    }
    let tail = serde_json::json!({ "numberReturned": taken.len(), "links": links }).to_string();
    out.put_slice(b"],");
    out.put_slice(&tail.as_bytes()[1..]);
    Ok(HttpResponse::Ok().content_type(GEOJSON).insert_header((header::ETAG, tag)).body(out.freeze()))
}
