//! `/wfs`: WFS 2.0 (Simple and Basic, with result paging) and the WFS 1.1.0 reads, over the
//! same collections, plans and access policy as OGC API - Features.
//!
//! Requests come as KVP (`GET`, keys without case) or as a POST XML body dispatched on its root
//! element; both are read by `geosector-wfs` into one typed request. A feature type is a
//! collection opened for the caller exactly as `/collections/{id}/items` opens it
//! ([`crate::auth::open`]): a restricted one without a grant is an unknown type, a scoped caller
//! reads only its area, personal properties are masked or absent in the schema and in the
//! features alike. Filters (FES 2.0) become the CQL2 expression the `filter` parameter builds and
//! go through `geosector-filter`; the store plans and binds as for items ([`getfeature`]).
//! Errors are OWS exception reports naming the parameter at fault.

mod getfeature;
pub mod transaction;

use std::sync::Arc;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use geosector_access::policy::Operation;
use geosector_crs::ApiCrs;
use geosector_store::Collection;
use geosector_wfs::gml::{GeometrySpec, GmlVersion, PropertySpec};
use geosector_wfs::request::{unprefixed, Request, Version};
use geosector_wfs::{capabilities, schema, srs, Code, WfsError};

use crate::auth::{self, Caller};
use crate::error::ApiError;
use crate::links::base_url;
use crate::state::AppState;

/// A failure answered as an exception report.
#[derive(Debug)]
pub enum Fail {
    /// A WFS exception.
    Wfs(WfsError),
    /// An error of the shared layers (access, database).
    Api(ApiError),
}

impl From<WfsError> for Fail {
    fn from(e: WfsError) -> Self {
        Fail::Wfs(e)
    }
}

impl From<ApiError> for Fail {
    fn from(e: ApiError) -> Self {
        match e {
            // A parameter of a shared parser (bbox, filter): an exception naming it.
            ApiError::BadParameter { param, message } => Fail::Wfs(WfsError::invalid(&param, message)),
            other => Fail::Api(other),
        }
    }
}

impl From<deadpool_postgres::PoolError> for Fail {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        Fail::Api(ApiError::from(e))
    }
}

impl From<tokio_postgres::Error> for Fail {
    fn from(e: tokio_postgres::Error) -> Self {
        Fail::Api(ApiError::from(e))
    }
}

/// The media type of exception reports and XML answers.
const XML: &str = "application/xml; charset=utf-8";

/// The exception report of a failure, with its HTTP status.
pub fn report(version: Version, fail: Fail) -> HttpResponse {
    let (error, status, extra): (WfsError, u16, Option<(header::HeaderName, String)>) = match fail {
        Fail::Wfs(e) => {
            let status = e.code.status();
            (e, status, None)
        }
        Fail::Api(e) => {
            let status = actix_web::ResponseError::status_code(&e).as_u16();
            let extra = match &e {
                ApiError::Unauthorized(_) => Some((header::WWW_AUTHENTICATE, "Bearer realm=\"geosector\"".to_owned())),
                ApiError::Unavailable(_) => Some((header::RETRY_AFTER, crate::error::RETRY_AFTER_S.to_string())),
                _ => None,
            };
            let code = match &e {
                ApiError::Forbidden | ApiError::Unauthorized(_) => Code::OperationProcessingFailed,
                ApiError::NotFound(_) => Code::NotFound,
                ApiError::PayloadTooLarge(_) => Code::OperationParsingFailed,
                _ => Code::NoApplicableCode,
            };
            match &e {
                ApiError::Internal(cause) => tracing::error!(%cause, "wfs request failed"),
                ApiError::Unavailable(cause) => tracing::warn!(%cause, "wfs request: service unavailable"),
                _ => {}
            }
            (WfsError::new(code, "", e.to_string()), status, extra)
        }
    };
    let mut response = HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST));
    if let Some(h) = extra {
        response.insert_header(h);
    }
    response.content_type(XML).body(error.report(version))
}

/// `GET /wfs`: a KVP request.
pub async fn get(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    // The request limits' checks of each value, answered as WFS does: an exception report whose
    // locator is the parameter.
    if let Err(ApiError::BadParameter { param, message }) = state.request_limits.check_values(req.query_string(), true)
    {
        return report(Version::V200, WfsError::invalid(&param, format!("{param}: {message}")).into());
    }
    let pairs = match crate::params::query_pairs(&req) {
        Ok(p) => p,
        Err(e) => return report(Version::V200, e.into()),
    };
    let request = match geosector_wfs::kvp::parse(&pairs) {
        Ok(r) => r,
        Err(e) => return report(version_hint(&pairs), e.into()),
    };
    let version = request.version();
    match dispatch(&state, &req, request, Some(&pairs)).await {
        Ok(response) => response,
        Err(fail) => report(version, fail),
    }
}

/// `POST /wfs`: an XML request, dispatched on its root element.
pub async fn post(state: web::Data<AppState>, req: HttpRequest, mut payload: web::Payload) -> HttpResponse {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let Ok(chunk) = chunk else {
            return report(
                Version::V200,
                WfsError::new(Code::OperationParsingFailed, "body", "the body could not be read").into(),
            );
        };
        let max = state.request_limits.max_body_bytes;
        if body.len() + chunk.len() > max {
            return report(
                Version::V200,
                Fail::Api(ApiError::PayloadTooLarge(format!("body: larger than the limit of {max} bytes"))),
            );
        }
        body.extend_from_slice(&chunk);
    }
    let Ok(text) = std::str::from_utf8(&body) else {
        return report(
            Version::V200,
            WfsError::new(Code::OperationParsingFailed, "body", "the body is not UTF-8").into(),
        );
    };
    if transaction::is_transaction(text.as_bytes()) {
        return transaction::handle(&state, &req, text.as_bytes()).await;
    }
    let limits = geosector_wfs::xml::Limits {
        max_bytes: state.request_limits.max_body_bytes,
        ..geosector_wfs::xml::Limits::default()
    };
    let request = match geosector_wfs::post::parse(text, limits) {
        Ok(r) => r,
        Err(e) => return report(Version::V200, e.into()),
    };
    let version = request.version();
    if request == Request::Transaction {
        return transaction::handle(&state, &req, text.as_bytes()).await;
    }
    match dispatch(&state, &req, request, None).await {
        Ok(response) => response,
        Err(fail) => report(version, fail),
    }
}

/// The version an unreadable KVP request most likely speaks (for its exception report).
fn version_hint(pairs: &[(String, String)]) -> Version {
    let v = pairs.iter().find(|(k, _)| k.eq_ignore_ascii_case("version")).map(|(_, v)| v.trim());
    if v == Some("1.1.0") {
        Version::V110
    } else {
        Version::V200
    }
}

/// Runs a read request; `pairs` are the KVP pairs of a GET (for paging links).
async fn dispatch(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    request: Request,
    pairs: Option<&[(String, String)]>,
) -> Result<HttpResponse, Fail> {
    let caller = auth::caller(state, req).await?;
    match request {
        Request::GetCapabilities { version } => Ok(xml(capabilities_document(state, req, &caller, version))),
        Request::DescribeFeatureType { version, type_names } => {
            describe_feature_type(state, &caller, version, &type_names).map(xml_schema)
        }
        Request::ListStoredQueries => Ok(xml(capabilities::list_stored_queries(&visible_names(state, &caller)))),
        Request::DescribeStoredQueries { ids } => {
            capabilities::describe_stored_queries(&ids, &visible_names(state, &caller))
                .map(xml)
                .map_err(|m| WfsError::invalid("storedQuery_Id", m).into())
        }
        Request::GetFeature(g) => getfeature::run(state, req, &caller, *g, pairs).await,
        Request::Transaction => {
            Err(WfsError::new(Code::OperationNotSupported, "Transaction", "Transaction is not offered").into())
        }
    }
}

fn xml(body: String) -> HttpResponse {
    HttpResponse::Ok().content_type(XML).body(body)
}

fn xml_schema(body: String) -> HttpResponse {
    HttpResponse::Ok().content_type("application/gml+xml; version=3.2; charset=utf-8").body(body)
}

/// The URL of this endpoint, with the API key the request came with (a client that cannot send
/// headers keeps it on every operation).
pub(crate) fn endpoint(req: &HttpRequest) -> String {
    let url = format!("{}/wfs", base_url(req));
    match crate::links::query_key(req) {
        Some(key) => crate::links::with_key(&url, &key),
        None => url,
    }
}

/// The ids of the collections the caller may know exist.
fn visible_names(state: &AppState, caller: &Caller) -> Vec<String> {
    auth::visible(state, caller).map(|c| c.id().to_owned()).collect()
}

/// The CRS names a type is offered in, the default first.
fn crs_names(c: &Collection) -> Vec<String> {
    let mut list = vec![srs::name(srs::DEFAULT)];
    if c.has_geometry() {
        list.extend(ApiCrs::supported().filter(|c| *c != srs::DEFAULT).map(srs::name));
    }
    list
}

fn capabilities_document(state: &AppState, req: &HttpRequest, caller: &Caller, version: Version) -> String {
    let types: Vec<capabilities::FeatureType> = auth::visible(state, caller)
        .map(|c| capabilities::FeatureType {
            name: c.id().to_owned(),
            title: format!("{} / {}", c.decl.title_vi, c.decl.title_en),
            abstract_text: format!("{} / {}", c.decl.description_vi, c.decl.description_en),
            keywords: c.decl.keywords.iter().map(|k| (*k).to_owned()).collect(),
            wgs84_bbox: c.bbox(),
            crs: crs_names(c),
        })
        .collect();
    let service = capabilities::Service {
        url: endpoint(req),
        title: "geosector".into(),
        abstract_text:
            "Natural-resources sector data of Viet Nam (the same collections as the OGC API - Features at /collections)"
                .into(),
        count_default: state.limits.max,
        // Offered to a caller who may write some visible versioned collection (WFS-T).
        transaction: auth::visible(state, caller)
            .any(|c| c.decl.dataset.history.is_some() && auth::open(state, caller, c.id(), Operation::Write).is_ok()),
    };
    match version {
        Version::V200 => capabilities::v200(&service, &types),
        Version::V110 => capabilities::v110(&service, &types),
    }
}

/// The properties of a collection as the caller sees them (the same list and order as the
/// statements' JSON object), masked ones as text.
pub(crate) fn property_specs(c: &Collection) -> Vec<PropertySpec> {
    let personal = |name: &str| c.decl.access.mask_of(name).is_some();
    c.decl
        .properties()
        .into_iter()
        .filter(|p| !personal(p.name) || c.fields.whole.contains(&p.name) || c.fields.masked.contains(&p.name))
        .map(|p| PropertySpec::of(p.name, p.kind, c.fields.masked.contains(&p.name)))
        .collect()
}

/// The geometry property of a collection.
pub(crate) fn geometry_spec(c: &Collection) -> Option<GeometrySpec> {
    c.decl.dataset.geometry.map(|g| GeometrySpec { name: g.column, kind: g.kind })
}

/// Opens a feature type for reading, as `/collections/{id}/items` would: an unknown type (or a
/// restricted one the caller may not know) is an InvalidParameterValue of `locator`.
pub(crate) fn open_type(state: &AppState, caller: &Caller, name: &str, locator: &str) -> Result<auth::Opened, Fail> {
    let id = unprefixed(name);
    auth::open(state, caller, id, Operation::ReadItems).map_err(|e| match e {
        ApiError::NotFound(_) => {
            Fail::Wfs(WfsError::invalid(locator, format!("unknown feature type \"{}\"", name.trim())))
        }
        other => Fail::Api(other),
    })
}

fn describe_feature_type(
    state: &AppState,
    caller: &Caller,
    version: Version,
    names: &[String],
) -> Result<String, Fail> {
    let locator = if version == Version::V110 { "typeName" } else { "typeNames" };
    let opened: Vec<Arc<Collection>> = if names.is_empty() {
        auth::visible(state, caller)
            .filter_map(|c| auth::open(state, caller, c.id(), Operation::ReadItems).ok())
            .map(|o| o.collection)
            .collect()
    } else {
        names.iter().map(|n| open_type(state, caller, n, locator).map(|o| o.collection)).collect::<Result<_, _>>()?
    };
    let types: Vec<schema::TypeSchema> = opened
        .iter()
        .map(|c| schema::TypeSchema {
            name: c.id().to_owned(),
            properties: property_specs(c),
            geometry: geometry_spec(c),
        })
        .collect();
    let gml = if version == Version::V110 { GmlVersion::V31 } else { GmlVersion::V32 };
    Ok(schema::write(&types, gml))
}
