//! OGC API - Features - Part 4 (create, replace, update, delete) on the versioned collections,
//! and the changesets that apply several such edits all or nothing ([`changesets`]).
//!
//! A write flows: caller → policy (`write` on the collection, in the caller's area, before and
//! after the edit) → preconditions (`If-Match` against the feature's row version, 428 when the
//! collection requires it) → the sector's rules (the importer's per-feature rules, and its
//! whole-load rules against the stored rows: [`geosector_ingest::edit`]) → one transaction: the
//! changeset (actor, client, legal reference from the `Geosector-*` headers), the rows, whose
//! versions and history the database's triggers keep, lineage, the audit row → commit. Caches
//! follow from the data version and changed extents the same triggers record. A rejecting rule
//! is a 422 with every finding; flagging ones come back with the written feature.

pub mod changesets;
pub mod input;
pub mod openapi;
pub mod package;

use std::path::Path;
use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use geosector_access::policy::Operation;
use geosector_crs::ApiCrs;
use geosector_ingest::checked::Checked;
use geosector_ingest::finding::{Finding, FindingKind};
use geosector_store::audit::AuditEntry;
use geosector_store::plan::AreaScope;
use geosector_store::write::{self, Begun, Changeset, FeatureValues, Source, Stored};
use geosector_store::Collection;
use serde_json::{json, Value};

use input::Preconditions;

use crate::auth::{self, Caller};
use crate::error::ApiError;
use crate::state::AppState;

/// The conformance classes of OGC API - Features - Part 4.
pub const CONFORMANCE: &[&str] = &[
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/optimistic-locking-etags",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/optimistic-locking-timestamps",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/features",
];

/// How many times a write is tried when a concurrent changeset committed a newer version of a
/// feature first (the versions' times must increase).
const ATTEMPTS: usize = 3;

/// One edit of one feature, as a request or a changeset operation states it.
#[derive(Debug, Clone)]
pub enum EditKind {
    /// A new feature (GeoJSON `Feature`; an `id` in it is ignored: the server assigns ids).
    Create(Value),
    /// The whole feature `id` replaced.
    Replace(i64, Value),
    /// Feature `id` changed by a JSON merge patch (RFC 7396) of its GeoJSON.
    Patch(i64, Value),
    /// Feature `id` retired.
    Delete(i64),
}

/// One edit, with the collection it applies to (the caller's view of it) and how to read it.
#[derive(Debug, Clone)]
pub struct Edit {
    /// What.
    pub kind: EditKind,
    /// The collection, as opened for writing by the caller.
    pub collection: Arc<Collection>,
    /// The caller's write area (`None`: everywhere).
    pub scope: Option<AreaScope>,
    /// The CRS of its coordinates.
    pub crs: ApiCrs,
    /// Its preconditions.
    pub preconditions: Preconditions,
    /// Parents of a created feature (lineage): their ids in the same collection.
    pub parents: Vec<i64>,
}

/// What an edit did.
#[derive(Debug, Clone)]
pub struct Applied {
    /// The collection.
    pub collection: &'static str,
    /// The feature.
    pub id: i64,
    /// Its version now (`None`: retired).
    pub version: Option<i32>,
    /// Its version before (`None`: created).
    pub previous: Option<i32>,
    /// What the rules flagged (nothing rejecting: the edit was applied).
    pub findings: Vec<Finding>,
}

impl Applied {
    /// The JSON of the outcome: id, version, and the findings.
    pub fn to_json(&self) -> Value {
        json!({
            "collection": self.collection,
            "id": self.id,
            "version": self.version,
            "previousVersion": self.previous,
            "findings": findings_json(&self.findings),
        })
    }
}

/// A collection opened for writing by the caller.
///
/// # Errors
/// 404 when the caller may not know it; 405 when it is not versioned (it takes no edits);
/// 401/403 without the `write` grant.
pub fn writable(state: &AppState, caller: &Caller, id: &str) -> Result<auth::Opened, ApiError> {
    let collection = state.registry.get(id).ok_or_else(|| ApiError::NotFound(format!("collection {id} not found")))?;
    if !caller.access(collection).visible {
        return Err(ApiError::NotFound(format!("collection {id} not found")));
    }
    if collection.decl.dataset.history.is_none() {
        return Err(ApiError::MethodNotAllowed {
            allow: "GET, OPTIONS".into(),
            message: format!("collection {id} is not versioned and takes no edits"),
        });
    }
    auth::open(state, caller, id, Operation::Write)
}

/// The changeset of a request's edits: the caller, its client, and the `Geosector-*` headers.
///
/// # Errors
/// 400 naming a header that does not parse.
pub fn changeset_of(req: &HttpRequest, caller: &Caller) -> Result<Changeset, ApiError> {
    let reference_date = input::text_header(req, "Geosector-Reference-Date")?
        .map(|d| {
            chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                .map_err(|e| ApiError::param("Geosector-Reference-Date", format!("not a date YYYY-MM-DD: {e}")))
        })
        .transpose()?;
    Ok(Changeset {
        actor: caller.identity.subject.clone(),
        client: caller.client.clone(),
        source: Source::Api,
        change_type: input::text_header(req, "Geosector-Change-Type")?,
        reference: input::text_header(req, "Geosector-Reference")?,
        reference_date,
        note: input::text_header(req, "Geosector-Note")?,
    })
}

/// Checks a changeset's change type against those its collections' sectors declare (and the
/// operator's additions); `param` names where it came from.
///
/// # Errors
/// 400 naming `param` and listing the accepted codes.
pub fn check_change_type(
    state: &AppState,
    collections: &[&str],
    code: Option<&str>,
    param: &str,
) -> Result<(), ApiError> {
    let Some(code) = code else { return Ok(()) };
    let accepted = state.change_types(collections);
    if accepted.contains(&code) {
        return Ok(());
    }
    Err(ApiError::param(
        param,
        if accepted.is_empty() {
            format!("{code}: these collections declare no change type")
        } else {
            format!("{code} is not a change type of these collections; one of {}", accepted.join(", "))
        },
    ))
}

/// How far a write's stated instant may be from the server's clock (clocks differ a little).
const CLOCK_TOLERANCE: chrono::Duration = chrono::Duration::seconds(5);

/// A write's query: the API key, and `datetime`, the instant the client says the versions
/// begin — accepted only as "now": versions begin when they are written.
///
/// # Errors
/// 400 naming another parameter or a `datetime` that is not an instant; 409 for an instant in
/// the past (backdating) or in the future.
fn write_query(req: &HttpRequest) -> Result<(), ApiError> {
    let pairs = crate::params::query_pairs(req)?;
    for (name, value) in &pairs {
        if name != "datetime" {
            return Err(ApiError::param(name, "unknown parameter; a write takes only datetime"));
        }
        stated_instant("datetime", value)?;
    }
    Ok(())
}

/// Checks an instant a client states for its versions (`datetime` on a write, on a changeset).
///
/// # Errors
/// 400 when it is not an RFC 3339 instant; 409 when it is in the past (history is never
/// backdated: versions begin when they are written) or in the future.
pub fn stated_instant(param: &str, value: &str) -> Result<(), ApiError> {
    let instant = chrono::DateTime::parse_from_rfc3339(value)
        .map_err(|e| ApiError::param(param, format!("an RFC 3339 instant, e.g. 2026-12-06T09:00:00Z: {e}")))?;
    let now = chrono::Utc::now();
    if instant < now - CLOCK_TOLERANCE {
        return Err(ApiError::Conflict(format!(
            "{param}: {value} is in the past; versions begin when they are written and history is never backdated (record the decision's date in Geosector-Reference-Date or referenceDate)"
        )));
    }
    if instant > now + CLOCK_TOLERANCE {
        return Err(ApiError::Conflict(format!(
            "{param}: {value} is in the future; versions begin when they are written"
        )));
    }
    Ok(())
}

/// The feature id in a path.
fn feature_id(text: &str) -> Result<i64, ApiError> {
    text.parse().map_err(|_| ApiError::NotFound(format!("feature {text} not found")))
}

/// The edit of one request on one feature (or a new one).
fn single(opened: auth::Opened, req: &HttpRequest, kind: EditKind) -> Result<Edit, ApiError> {
    Ok(Edit {
        kind,
        collection: opened.collection,
        scope: opened.scope,
        crs: input::content_crs(req)?,
        preconditions: Preconditions::of(req)?,
        parents: Vec::new(),
    })
}

/// `POST /collections/{collectionId}/items`: creates a feature (201, `Location`, its ETag).
///
/// # Errors
/// See the module: 400, 401/403/404/405, 413, 415, 422.
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::caller(&state, &req).await?;
    let opened = writable(&state, &caller, &path)?;
    write_query(&req)?;
    input::media_type(&req, false)?;
    let feature = input::json(&input::body(payload, state.request_limits.max_body_bytes).await?)?;
    state.request_limits.check_body_geometries(&feature)?;
    let edit = single(opened, &req, EditKind::Create(feature))?;
    let changeset = changeset_of(&req, &caller)?;
    check_change_type(&state, &[edit.collection.id()], changeset.change_type.as_deref(), "Geosector-Change-Type")?;
    let (_, applied) = apply(&state, &req, &caller, &changeset, std::slice::from_ref(&edit)).await?;
    let done = &applied[0];
    let location = format!("{}/collections/{}/items/{}", crate::links::base_url(&req), done.collection, done.id);
    let mut response = HttpResponse::Created();
    response.insert_header((header::LOCATION, location));
    tagged(&mut response, done);
    Ok(response.json(done.to_json()))
}

/// `PUT /collections/{collectionId}/items/{featureId}`: replaces a feature.
///
/// # Errors
/// See the module: also 404/410 for a feature that is not there, 412/428.
pub async fn replace(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    change(&state, &req, path.into_inner(), payload, false).await
}

/// `PATCH /collections/{collectionId}/items/{featureId}`: changes a feature by a JSON merge
/// patch of its GeoJSON (`{"properties": {...}}`, `{"geometry": ...}`).
///
/// # Errors
/// As [`replace`].
pub async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    change(&state, &req, path.into_inner(), payload, true).await
}

/// A replace or (`patch`) a merge patch of one feature: the edit applied, its outcome with the
/// new version's ETag.
async fn change(
    state: &AppState,
    req: &HttpRequest,
    (collection, feature): (String, String),
    payload: web::Payload,
    patch: bool,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::caller(state, req).await?;
    let opened = writable(state, &caller, &collection)?;
    let id = feature_id(&feature)?;
    write_query(req)?;
    input::media_type(req, patch)?;
    let body = input::json(&input::body(payload, state.request_limits.max_body_bytes).await?)?;
    state.request_limits.check_body_geometries(&body)?;
    let kind = if patch { EditKind::Patch(id, body) } else { EditKind::Replace(id, body) };
    let edit = single(opened, req, kind)?;
    changed(state, req, &caller, edit).await
}

/// `DELETE /collections/{collectionId}/items/{featureId}`: retires a feature (204); its
/// versions stay in the history.
///
/// # Errors
/// As [`replace`].
pub async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (collection, feature) = path.into_inner();
    let caller = auth::caller(&state, &req).await?;
    let opened = writable(&state, &caller, &collection)?;
    let id = feature_id(&feature)?;
    write_query(&req)?;
    let edit = single(opened, &req, EditKind::Delete(id))?;
    let changeset = changeset_of(&req, &caller)?;
    check_change_type(&state, &[edit.collection.id()], changeset.change_type.as_deref(), "Geosector-Change-Type")?;
    apply(&state, &req, &caller, &changeset, std::slice::from_ref(&edit)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A replace or patch: the one edit applied, its outcome with the new version's ETag.
async fn changed(state: &AppState, req: &HttpRequest, caller: &Caller, edit: Edit) -> Result<HttpResponse, ApiError> {
    let changeset = changeset_of(req, caller)?;
    check_change_type(state, &[edit.collection.id()], changeset.change_type.as_deref(), "Geosector-Change-Type")?;
    let (_, applied) = apply(state, req, caller, &changeset, std::slice::from_ref(&edit)).await?;
    let done = &applied[0];
    let mut response = HttpResponse::Ok();
    tagged(&mut response, done);
    Ok(response.json(done.to_json()))
}

/// Adds the written version's strong ETag.
fn tagged(response: &mut actix_web::HttpResponseBuilder, done: &Applied) {
    if let Some(version) = done.version {
        response.insert_header((header::ETAG, crate::etag::feature(done.id, version, 0)));
    }
}

/// `OPTIONS` on items and on a feature: `Allow` lists the methods this caller may use there
/// (writes only on a versioned collection the caller may write, and not on a stored feature
/// outside the caller's area).
///
/// # Errors
/// 404 for a collection the caller may not know.
pub async fn options(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let caller = auth::caller(&state, &req).await?;
    let collection_id = req.match_info().get("collectionId").unwrap_or_default().to_owned();
    let feature = req.match_info().get("featureId").map(str::to_owned);
    let collection = state
        .registry
        .get(&collection_id)
        .filter(|c| caller.access(c).visible)
        .ok_or_else(|| ApiError::NotFound(format!("collection {collection_id} not found")))?;
    let opened = (collection.decl.dataset.history.is_some())
        .then(|| auth::open(&state, &caller, &collection_id, Operation::Write).ok())
        .flatten();
    let mut allow = vec!["GET", "OPTIONS"];
    match (&feature, &opened) {
        (None, Some(_)) => allow.push("POST"),
        (Some(text), Some(opened)) => {
            // A feature outside the caller's area takes no edit from it; any other id (one not
            // stored, as QGIS probes with `unknown_id` on an empty collection) answers with the
            // methods of the collection's features.
            let outside = match text.parse::<i64>() {
                Ok(id) => {
                    let client = state.pool.get().await?;
                    let collection = &opened.collection;
                    let area = collection.decl.access.area.as_ref();
                    matches!(
                        write::peek(&**client, collection.decl.dataset, area, id, opened.scope.as_ref())
                            .await
                            .map_err(ApiError::from)?,
                        Stored::Live(current) if !current.in_scope
                    )
                }
                Err(_) => false,
            };
            if !outside {
                allow.extend(["PUT", "PATCH", "DELETE"]);
            }
        }
        (_, None) => {}
    }
    let mut response = HttpResponse::NoContent();
    response.insert_header((header::ALLOW, allow.join(", ")));
    if allow.contains(&"PATCH") {
        response.insert_header(("Accept-Patch", input::MERGE_PATCH));
    }
    Ok(response.finish())
}

/// What the write path needs of the server: the pool, the sector rules, and the collections
/// whose edits must state the version they change. The HTTP handlers take it from the
/// [`AppState`]; `geosector import --changes` builds its own (a local actor, no HTTP request).
pub struct Writer<'a> {
    /// The connection pool.
    pub pool: &'a deadpool_postgres::Pool,
    /// The rules of the datasets edited so far.
    pub checkers: &'a crate::checkers::Checkers,
    /// The collections whose writes must carry `If-Match` (428 without).
    pub require_if_match: &'a [String],
}

impl Writer<'_> {
    /// Whether writes to a collection must carry `If-Match`.
    pub fn require_if_match(&self, collection: &str) -> bool {
        self.require_if_match.iter().any(|c| c == collection)
    }
}

impl AppState {
    /// The write path's view of the server.
    pub fn writer(&self) -> Writer<'_> {
        Writer { pool: &self.pool, checkers: &self.checkers, require_if_match: &self.require_if_match }
    }
}

/// How [`apply_with`] names and ends a changeset besides its edits.
#[derive(Debug, Default, Clone, Copy)]
pub struct ApplyOptions<'a> {
    /// What each edit is called in errors instead of `operation <n>` (e.g. a package's table and
    /// feature), one per edit.
    pub labels: Option<&'a [String]>,
    /// An offline package whose changes these edits are, recorded in the same transaction (a
    /// second import of it is refused).
    pub package: Option<&'a write::PackageMark>,
    /// Check everything and roll back: nothing is stored.
    pub dry_run: bool,
}

/// Applies edits in one transaction under one changeset, all or none; tried again (with a new
/// changeset) when a concurrent changeset committed a newer version first. Writes the audit row
/// in the same transaction.
///
/// # Errors
/// The first edit's error; nothing is stored then.
pub async fn apply(
    state: &AppState,
    req: &HttpRequest,
    caller: &Caller,
    changeset: &Changeset,
    edits: &[Edit],
) -> Result<(Begun, Vec<Applied>), ApiError> {
    let origin = crate::audit::WriteOrigin::of(caller, req);
    apply_with(&state.writer(), &origin, changeset, edits, ApplyOptions::default()).await
}

/// [`apply`] for any writer: an HTTP caller or a local actor (`origin` goes in the audit row).
///
/// # Errors
/// The first edit's error; nothing is stored then.
pub async fn apply_with(
    writer: &Writer<'_>,
    origin: &crate::audit::WriteOrigin,
    changeset: &Changeset,
    edits: &[Edit],
    options: ApplyOptions<'_>,
) -> Result<(Begun, Vec<Applied>), ApiError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match apply_once(writer, origin, changeset, edits, options).await {
            Err(Failure::Retry(why)) if attempt < ATTEMPTS => {
                tracing::info!(%why, attempt, "a concurrent changeset wrote first; trying again");
            }
            Err(Failure::Retry(why)) => {
                return Err(ApiError::Conflict(format!(
                    "concurrent changesets kept writing these features first: {why}"
                )))
            }
            Err(Failure::Api(e)) => return Err(e),
            Ok(done) => return Ok(done),
        }
    }
}

/// Why one attempt failed.
enum Failure {
    /// Try again: a concurrent changeset committed a version first (or two deadlocked).
    Retry(String),
    /// Answer this.
    Api(ApiError),
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        Failure::Api(e)
    }
}

impl From<tokio_postgres::Error> for Failure {
    fn from(e: tokio_postgres::Error) -> Self {
        use tokio_postgres::error::SqlState;
        if e.code() == Some(&SqlState::T_R_SERIALIZATION_FAILURE) || e.code() == Some(&SqlState::T_R_DEADLOCK_DETECTED)
        {
            return Failure::Retry(e.as_db_error().map_or_else(|| e.to_string(), |d| d.message().to_owned()));
        }
        Failure::Api(refusal(e))
    }
}

impl From<geosector_store::StoreError> for Failure {
    fn from(e: geosector_store::StoreError) -> Self {
        match e {
            geosector_store::StoreError::Db(e) => Failure::from(e),
            other => Failure::Api(ApiError::Internal(other.to_string())),
        }
    }
}

/// A database error of a write: a refused value (a check, a type, a missing value) is the
/// client's (422, naming the constraint, never echoing the row); the rest as any database error.
fn refusal(e: tokio_postgres::Error) -> ApiError {
    let class = e.code().map(|c| &c.code()[..2]);
    match (class, e.as_db_error()) {
        (Some("22" | "23"), Some(db)) => ApiError::Unprocessable {
            message: format!("the database refused the feature: {}", db.message()),
            findings: json!([{
                "rule": "database",
                "severity": "reject",
                "message": db.message(),
                "constraint": db.constraint(),
                "column": db.column(),
            }]),
        },
        _ => ApiError::from(e),
    }
}

async fn apply_once(
    writer: &Writer<'_>,
    origin: &crate::audit::WriteOrigin,
    changeset: &Changeset,
    edits: &[Edit],
    options: ApplyOptions<'_>,
) -> Result<(Begun, Vec<Applied>), Failure> {
    let mut pooled = writer.pool.get().await.map_err(ApiError::from)?;
    let client: &mut tokio_postgres::Client = &mut pooled;
    let tx = client.transaction().await?;
    let begun = write::begin(&tx, changeset).await?;
    let mut applied: Vec<Applied> = Vec::with_capacity(edits.len());
    for (index, edit) in edits.iter().enumerate() {
        let label = options.labels.and_then(|l| l.get(index));
        let done = apply_edit(writer, &tx, edit, (index, changeset.change_type.as_deref()), &applied).await.map_err(
            |f| match (f, label) {
                (Failure::Api(e), Some(label)) => Failure::Api(in_named_operation(e, index, label)),
                (Failure::Api(e), None) if edits.len() > 1 => Failure::Api(in_operation(e, index)),
                (other, _) => other,
            },
        )?;
        applied.push(done);
    }
    if let Some(mark) = options.package {
        write::mark_package(&tx, mark).await.map_err(|e| match e {
            geosector_store::StoreError::Db(e)
                if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) =>
            {
                Failure::Api(ApiError::Conflict(format!(
                    "the package made at {} was applied meanwhile by another import",
                    mark.made_at
                )))
            }
            other => Failure::from(other),
        })?;
    }
    let mut by_collection: Vec<(&'static str, Vec<i64>)> = Vec::new();
    for done in &applied {
        match by_collection.iter_mut().find(|(c, _)| *c == done.collection) {
            Some((_, ids)) => ids.push(done.id),
            None => by_collection.push((done.collection, vec![done.id])),
        }
    }
    let entries: Vec<AuditEntry> =
        by_collection.into_iter().map(|(collection, ids)| crate::audit::write_entry(origin, collection, ids)).collect();
    geosector_store::audit::append(&tx, &entries).await?;
    if options.dry_run {
        tx.rollback().await?;
    } else {
        tx.commit().await?;
    }
    Ok((begun, applied))
}

/// An error of the `index`-th operation of a changeset, saying which.
fn in_operation(e: ApiError, index: usize) -> ApiError {
    match e {
        ApiError::BadParameter { param, message } => {
            ApiError::BadParameter { param: format!("operations[{index}].{param}"), message }
        }
        other => in_named_operation(other, index, &format!("operation {index}")),
    }
}

/// An error of the `index`-th edit of a changeset, naming it by `label`.
fn in_named_operation(e: ApiError, index: usize, label: &str) -> ApiError {
    let at = |m: &str| format!("{label}: {m}");
    match e {
        ApiError::BadParameter { param, message } => ApiError::BadParameter { param, message: at(&message) },
        ApiError::NotFound(m) => ApiError::NotFound(at(&m)),
        ApiError::Gone(m) => ApiError::Gone(at(&m)),
        ApiError::Conflict(m) => ApiError::Conflict(at(&m)),
        ApiError::PreconditionFailed(m) => ApiError::PreconditionFailed(at(&m)),
        ApiError::PreconditionRequired(m) => ApiError::PreconditionRequired(at(&m)),
        ApiError::Unprocessable { message, mut findings } => {
            if let Value::Array(items) = &mut findings {
                for item in items {
                    item["operation"] = json!(index);
                }
            }
            ApiError::Unprocessable { message: at(&message), findings }
        }
        other => other,
    }
}

/// One edit in the changeset's transaction.
async fn apply_edit(
    writer: &Writer<'_>,
    tx: &tokio_postgres::Transaction<'_>,
    edit: &Edit,
    (index, change_type): (usize, Option<&str>),
    before: &[Applied],
) -> Result<Applied, Failure> {
    let collection = &edit.collection;
    let dataset = collection.decl.dataset;
    let area = collection.decl.access.area.as_ref();
    let id_of = match &edit.kind {
        EditKind::Create(_) => None,
        EditKind::Replace(id, _) | EditKind::Patch(id, _) | EditKind::Delete(id) => Some(*id),
    };
    // The stored feature, locked, checked against the caller's area and the preconditions.
    let current = match id_of {
        None => None,
        Some(id) => match write::lock(tx, dataset, area, id, edit.scope.as_ref()).await? {
            Stored::Missing => return Err(ApiError::NotFound(format!("feature {id} not found")).into()),
            Stored::Retired => return Err(ApiError::Gone(format!("feature {id} was retired")).into()),
            Stored::Live(current) => {
                if !current.in_scope {
                    return Err(ApiError::Forbidden.into());
                }
                if writer.require_if_match(collection.id()) && !edit.preconditions.is_conditional() {
                    return Err(ApiError::PreconditionRequired(format!(
                        "collection {} requires If-Match (the ETag of the version the edit starts from)",
                        collection.id()
                    ))
                    .into());
                }
                edit.preconditions.check(id, current.version, current.since)?;
                Some(current)
            }
        },
    };
    if let (EditKind::Delete(id), Some(current)) = (&edit.kind, &current) {
        write::delete(tx, dataset, *id).await?;
        return Ok(Applied {
            collection: collection.id(),
            id: *id,
            version: None,
            previous: Some(current.version),
            findings: Vec::new(),
        });
    }
    // The feature to check: as sent, or the stored one patched; and whether its geometry is new.
    let (mut feature, crs, new_geometry) = match (&edit.kind, &current) {
        (EditKind::Create(body), _) | (EditKind::Replace(_, body), _) => {
            let mut feature = feature_body(body, id_of)?;
            if let Some(properties) = feature.get_mut("properties") {
                writable_properties(collection, properties)?;
            }
            if let Some(current) = &current {
                keep_unshown(collection, &mut feature, current);
            }
            (feature, edit.crs, true)
        }
        (EditKind::Patch(_, patch), Some(current)) => {
            let mut patch = patch.clone();
            if let Some(properties) = patch.get_mut("properties") {
                writable_properties(collection, properties)?;
            }
            patched(current, &patch, edit.crs)?
        }
        _ => unreachable_edit()?,
    };
    if let Some(g) = feature.get_mut("geometry") {
        input::to_east_north(g, crs);
    }
    let checker = writer.checkers.get(writer.pool, dataset).await?;
    let mut checked = checker
        .check(feature, &crs.crs(), Path::new("request"), u64::try_from(index).unwrap_or(0))
        .map_err(|e| ApiError::param("Content-Crs", e.to_string()))?;
    if let EditKind::Patch(_, patch) = &edit.kind {
        excuse_untouched(&mut checked, patch);
    }
    if checked.error.is_none() {
        checker.check_stored(tx, &mut checked, id_of, new_geometry).await.map_err(ingest_error)?;
    }
    let (row, findings) = rejected_or_row(checked)?;
    let values = FeatureValues {
        cells: row.cells,
        geometry: if new_geometry { row.geometry } else { None },
        source_srid: row.source_srid,
        area_m2: row.area_m2,
    };
    if let Some(scope) = &edit.scope {
        if !write::values_in_scope(tx, dataset, area, &values, scope).await? {
            return Err(ApiError::Forbidden.into());
        }
    }
    match (&edit.kind, current) {
        (EditKind::Create(_), _) => {
            let (id, version) = write::insert(tx, dataset, &values).await?;
            lineage(tx, edit, (id, version), change_type, before).await?;
            Ok(Applied { collection: collection.id(), id, version: Some(version), previous: None, findings })
        }
        (_, Some(current)) => {
            let id = id_of.unwrap_or_default();
            let version = write::update(tx, dataset, id, &values).await?;
            Ok(Applied {
                collection: collection.id(),
                id,
                version: Some(version),
                previous: Some(current.version),
                findings,
            })
        }
        _ => unreachable_edit(),
    }
}

/// An edit that names no stored feature where it needs one (never built so).
fn unreachable_edit<T>() -> Result<T, Failure> {
    Err(ApiError::Internal("an edit of a stored feature without the feature".into()).into())
}

/// Lineage edges of a created feature from its parents (in the same collection): the parent's
/// version when the changeset began, and the share of its area the child covers.
async fn lineage(
    tx: &tokio_postgres::Transaction<'_>,
    edit: &Edit,
    (child, version): (i64, i32),
    change_type: Option<&str>,
    before: &[Applied],
) -> Result<(), Failure> {
    let dataset = edit.collection.decl.dataset;
    if edit.parents.is_empty() {
        return Ok(());
    }
    let change_type = change_type
        .ok_or_else(|| ApiError::param("changeType", "a feature with parents needs the changeset's change type"))?;
    for parent in &edit.parents {
        let touched = before.iter().find(|a| a.collection == edit.collection.id() && a.id == *parent);
        let parent_version = match touched {
            Some(done) => done.previous,
            None => write::live_version(tx, dataset, *parent).await?,
        }
        .ok_or_else(|| {
            ApiError::param("parents", format!("parent {parent} is not a feature of {}", edit.collection.id()))
        })?;
        let share = write::area_share(tx, dataset, (*parent, parent_version), child).await?;
        write::lineage(
            tx,
            dataset,
            &write::LineageEdge {
                parent: (*parent, parent_version),
                child: (child, version),
                change_type,
                area_share: share,
            },
        )
        .await?;
    }
    Ok(())
}

/// A patch is judged on what it changes: a rejecting finding on a property the patch does not
/// touch (a stored legacy code, say, while the patch corrects an address) flags the stored value
/// instead of refusing the edit. Findings on the geometry, or on no property, still reject.
fn excuse_untouched(checked: &mut Checked, patch: &Value) {
    let touched =
        |field: &str| patch.get("properties").and_then(Value::as_object).is_some_and(|p| p.contains_key(field));
    let mut excused = Vec::new();
    for finding in &mut checked.findings {
        let untouched = finding.field.as_deref().is_some_and(|f| f != "geometry" && !touched(f));
        if finding.kind == FindingKind::Rejected && untouched {
            finding.kind = FindingKind::Flagged;
            finding.message.push_str(" (the stored value; this edit does not change it)");
            excused.push(finding.rule);
        }
    }
    let rejects = checked.findings.iter().any(|f| f.kind == FindingKind::Rejected);
    let by_excused =
        checked.error.as_ref().is_some_and(|e| excused.iter().any(|rule| e.message.starts_with(&format!("{rule}: "))));
    if !rejects && by_excused {
        checked.error = None;
    }
}

/// An ingest error of the stored-rows checks.
fn ingest_error(e: geosector_ingest::ImportError) -> ApiError {
    match e {
        geosector_ingest::ImportError::Database(m) => ApiError::Internal(m),
        geosector_ingest::ImportError::DiskFull(m) => {
            ApiError::Unavailable(format!("the database's disk is full: {m}"))
        }
        other => ApiError::Internal(other.to_string()),
    }
}

/// The row of a checked feature and its findings, or the 422 of a rejected one.
fn rejected_or_row(checked: Checked) -> Result<(geosector_ingest::checked::Row, Vec<Finding>), ApiError> {
    let findings = checked.findings.clone();
    match checked.into_result() {
        Ok(row) => Ok((row, findings)),
        Err(e) => {
            let mut all = findings_json(&findings);
            let stated = findings.iter().any(|f| f.kind == FindingKind::Rejected);
            if !stated {
                // Not a rule's finding: a field that does not parse, a missing geometry.
                if let Value::Array(items) = &mut all {
                    items.insert(
                        0,
                        json!({ "rule": "input", "severity": "reject", "field": e.field, "message": e.message }),
                    );
                }
            }
            Err(ApiError::Unprocessable {
                message: format!("the feature breaks the rules: {}", e.message),
                findings: all,
            })
        }
    }
}

/// Findings as the API writes them: rule, severity, message, field, location (a GeoJSON point),
/// area, key.
pub fn findings_json(findings: &[Finding]) -> Value {
    Value::Array(
        findings
            .iter()
            .map(|f| {
                let mut item = json!({
                    "rule": f.rule,
                    "severity": match f.kind { FindingKind::Rejected => "reject", FindingKind::Flagged => "flag", FindingKind::Repaired => "repaired" },
                    "message": f.message,
                });
                if let Some(field) = &f.field {
                    item["field"] = json!(field);
                }
                if let Some([lon, lat]) = f.at {
                    item["location"] = json!({ "type": "Point", "coordinates": [lon, lat] });
                }
                if let Some(area) = f.area_m2 {
                    item["areaM2"] = json!(area);
                }
                if let Some(key) = &f.key {
                    item["key"] = json!(key);
                }
                item
            })
            .collect(),
    )
}

/// The GeoJSON feature of a create or replace body: a `Feature` object whose `id`, if any, is
/// the path's (replace) or ignored (create).
fn feature_body(body: &Value, path_id: Option<i64>) -> Result<Value, ApiError> {
    if body.get("type").and_then(Value::as_str) != Some("Feature") {
        return Err(ApiError::param("body", "expected a GeoJSON Feature object"));
    }
    if let (Some(id), Some(given)) = (path_id, body.get("id")) {
        let same = match given {
            Value::Number(n) => n.as_i64() == Some(id),
            Value::String(s) => s.parse::<i64>().ok() == Some(id),
            Value::Null => true,
            _ => false,
        };
        if !same {
            return Err(ApiError::param("body", format!("the feature's id {given} is not the id in the path ({id})")));
        }
    }
    Ok(body.clone())
}

/// A stored feature with a merge patch applied; its coordinates' CRS (the patch's when it brings
/// a geometry, else the stored lon/lat); and whether the geometry is new.
fn patched(current: &write::Current, patch: &Value, crs: ApiCrs) -> Result<(Value, ApiCrs, bool), ApiError> {
    if !patch.is_object() {
        return Err(ApiError::param("body", "a merge patch of a feature is a JSON object"));
    }
    let new_geometry = patch.get("geometry").is_some_and(|g| !g.is_null());
    let mut feature = json!({
        "type": "Feature",
        "geometry": if new_geometry { Value::Null } else { current.geometry.clone().unwrap_or(Value::Null) },
        "properties": Value::Object(current.properties.clone()),
    });
    input::merge_patch(&mut feature, patch);
    Ok((feature, if new_geometry { crs } else { ApiCrs::Crs84 }, new_geometry))
}

/// Checks the properties a client sent: only the collection's writable properties (the declared
/// fields it shows) may be sent; its read-only published properties (computed columns) are
/// dropped.
///
/// # Errors
/// 400 naming a property that is not writable, or properties that are not an object.
fn writable_properties(collection: &Collection, properties: &mut Value) -> Result<(), ApiError> {
    let fields = collection.decl.dataset.fields;
    let shown = |name: &str| collection.properties.iter().any(|p| p.name == name);
    let properties = match properties {
        Value::Object(map) => map,
        Value::Null => return Ok(()),
        _ => return Err(ApiError::param("properties", "must be a JSON object")),
    };
    let names: Vec<String> = properties.keys().cloned().collect();
    for name in names {
        let is_field = fields.iter().any(|f| f.column == name);
        if shown(&name) && !is_field {
            properties.remove(&name);
        } else if !(shown(&name) && is_field) {
            return Err(ApiError::param(
                &format!("properties.{name}"),
                format!("not a property of {} that can be written", collection.id()),
            ));
        }
    }
    Ok(())
}

/// Keeps in a replacing feature the stored values of the fields the caller's view does not show
/// (hidden or personal ones): a replacement cannot erase what its sender cannot see.
fn keep_unshown(collection: &Collection, feature: &mut Value, current: &write::Current) {
    let shown = |name: &str| collection.properties.iter().any(|p| p.name == name);
    if !feature.get("properties").is_some_and(Value::is_object) {
        feature["properties"] = json!({});
    }
    if let Some(properties) = feature.get_mut("properties").and_then(Value::as_object_mut) {
        for field in collection.decl.dataset.fields.iter().filter(|f| !shown(f.column)) {
            if let Some(value) = current.properties.get(field.column) {
                properties.insert(field.column.to_owned(), value.clone());
            }
        }
    }
}
