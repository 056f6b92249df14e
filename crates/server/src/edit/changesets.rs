//! `POST /changesets`: several edits — creates, replaces, patches, deletes, in one or more
//! versioned collections — applied all or none under one changeset, with lineage from the
//! features created to their parents (a split, a merge, a boundary adjustment). `GET
//! /changesets/{id}` reads one back: its time, legal reference, note, change type, and the
//! versions it wrote in the collections the caller may read.
//!
//! ```json
//! { "changeType": "TN", "reference": "123/QĐ-UBND", "referenceDate": "2026-11-30",
//!   "note": "tách thửa", "operations": [
//!     { "op": "delete", "collection": "<sector>.<collection>", "id": 17, "ifMatch": "\"17.2\"" },
//!     { "op": "create", "collection": "<sector>.<collection>", "parents": [17], "feature": { … } } ] }
//! ```

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use geosector_access::policy::Operation;
use geosector_store::write::{Changeset, Source};
use serde_json::{json, Value};

use super::input::{self, Preconditions};
use super::{writable, Edit, EditKind};
use crate::auth;
use crate::error::ApiError;
use crate::state::AppState;

/// The most operations one changeset takes.
pub const MAX_OPERATIONS: usize = 1000;

/// `POST /changesets`.
///
/// # Errors
/// 400 for a body that is not a changeset (naming the member), 401/403/404/405 per collection,
/// 404/410/412/428 per feature, 422 for a rule's rejection (each finding names its operation),
/// 413/415; nothing is stored then.
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::caller(&state, &req).await?;
    super::write_query(&req)?;
    input::media_type(&req, false)?;
    let body = input::json(&input::body(payload, state.request_limits.max_body_bytes).await?)?;
    state.request_limits.check_body_geometries(&body)?;
    let Value::Object(members) = &body else { return Err(ApiError::param("body", "expected a changeset object")) };
    for name in members.keys() {
        if !["changeType", "reference", "referenceDate", "note", "operations", "crs", "datetime"]
            .contains(&name.as_str())
        {
            return Err(ApiError::param(
                name,
                "not a member of a changeset (changeType, reference, referenceDate, note, crs, datetime, operations)",
            ));
        }
    }
    let text = |name: &str| -> Result<Option<String>, ApiError> {
        match members.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim().to_owned())),
            Some(Value::String(_)) => Ok(None),
            Some(_) => Err(ApiError::param(name, "must be a string")),
        }
    };
    if let Some(instant) = text("datetime")? {
        super::stated_instant("datetime", &instant)?;
    }
    let reference_date = text("referenceDate")?
        .map(|d| {
            chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                .map_err(|e| ApiError::param("referenceDate", format!("not a date YYYY-MM-DD: {e}")))
        })
        .transpose()?;
    let crs = match text("crs")? {
        Some(uri) => geosector_crs::ApiCrs::parse(&uri).map_err(|e| ApiError::param("crs", e.to_string()))?,
        None => input::content_crs(&req)?,
    };
    let Some(Value::Array(operations)) = members.get("operations") else {
        return Err(ApiError::param("operations", "a changeset needs its operations (a non-empty array)"));
    };
    if operations.is_empty() || operations.len() > MAX_OPERATIONS {
        return Err(ApiError::param("operations", format!("between 1 and {MAX_OPERATIONS} operations")));
    }
    let mut edits = Vec::with_capacity(operations.len());
    for (index, operation) in operations.iter().enumerate() {
        edits.push(edit(&state, &caller, operation, crs).map_err(|e| super::in_operation(e, index))?);
    }
    let collections: Vec<&str> = edits.iter().map(|e| e.collection.id()).collect();
    let change_type = text("changeType")?;
    super::check_change_type(&state, &collections, change_type.as_deref(), "changeType")?;
    if change_type.is_none() && edits.iter().any(|e| !e.parents.is_empty()) {
        return Err(ApiError::param("changeType", "a changeset with lineage (parents) states its change type"));
    }
    let changeset = Changeset {
        actor: caller.identity.subject.clone(),
        client: caller.client.clone(),
        source: Source::Api,
        change_type,
        reference: text("reference")?,
        reference_date,
        note: text("note")?,
    };
    let (begun, applied) = super::apply(&state, &req, &caller, &changeset, &edits).await?;
    let location = format!("{}/changesets/{}", crate::links::base_url(&req), begun.id);
    Ok(HttpResponse::Created().insert_header((header::LOCATION, location)).json(json!({
        "id": begun.id,
        "at": begun.at.to_rfc3339(),
        "operations": applied.iter().map(super::Applied::to_json).collect::<Vec<_>>(),
    })))
}

/// One operation of a changeset body.
fn edit(
    state: &AppState,
    caller: &auth::Caller,
    operation: &Value,
    crs: geosector_crs::ApiCrs,
) -> Result<Edit, ApiError> {
    let Value::Object(op) = operation else { return Err(ApiError::param("op", "an operation is an object")) };
    for name in op.keys() {
        if !["op", "collection", "id", "feature", "patch", "parents", "ifMatch"].contains(&name.as_str()) {
            return Err(ApiError::param(
                name,
                "not a member of an operation (op, collection, id, feature, patch, parents, ifMatch)",
            ));
        }
    }
    let collection = op
        .get("collection")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::param("collection", "each operation names its collection"))?;
    let opened = writable(state, caller, collection)?;
    let id = || -> Result<i64, ApiError> {
        op.get("id")
            .and_then(|v| v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok())))
            .ok_or_else(|| ApiError::param("id", "the id of the feature this operation changes"))
    };
    let body = |name: &str| -> Result<Value, ApiError> {
        op.get(name).cloned().ok_or_else(|| ApiError::param(name, "missing"))
    };
    let kind = match op.get("op").and_then(Value::as_str) {
        Some("create") => EditKind::Create(body("feature")?),
        Some("replace") => EditKind::Replace(id()?, body("feature")?),
        Some("update") => EditKind::Patch(id()?, body("patch")?),
        Some("delete") => EditKind::Delete(id()?),
        _ => return Err(ApiError::param("op", "one of create, replace, update, delete")),
    };
    let parents = match op.get("parents") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) if matches!(kind, EditKind::Create(_)) => items
            .iter()
            .map(|v| v.as_i64().ok_or_else(|| ApiError::param("parents", "feature ids")))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(ApiError::param("parents", "an array of feature ids, on a create")),
    };
    let if_match = match op.get("ifMatch") {
        None | Some(Value::Null) => None,
        Some(Value::String(tag)) => Some(vec![tag.clone()]),
        Some(_) => return Err(ApiError::param("ifMatch", "an ETag string")),
    };
    Ok(Edit {
        kind,
        collection: opened.collection,
        scope: opened.scope,
        crs,
        preconditions: Preconditions { if_match, if_unmodified_since: None },
        parents,
    })
}

/// `GET /changesets/{id}`: a changeset and the versions it wrote in the collections the caller
/// may read (the actor is in the audit log, for auditors).
///
/// # Errors
/// 404 for an unknown changeset.
pub async fn get(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::caller(&state, &req).await?;
    let not_found = || ApiError::NotFound(format!("changeset {path} not found"));
    let id: i64 = path.parse().map_err(|_| not_found())?;
    let client = state.pool.get().await?;
    let row = client
        .query_opt(
            "SELECT at, source, change_type, reference, reference_date, note FROM meta.changesets WHERE id = $1",
            &[&id],
        )
        .await?
        .ok_or_else(not_found)?;
    let mut written = Vec::new();
    for collection in auth::visible(&state, &caller) {
        if collection.decl.dataset.history.is_none() {
            continue;
        }
        let Ok(opened) = auth::open(&state, &caller, collection.id(), Operation::ReadItems) else { continue };
        if opened.scope.is_some() {
            // Where each feature lies would have to be checked one by one: a scoped caller reads
            // the features themselves.
            continue;
        }
        let versions =
            geosector_store::write::written_by(&**client, collection.decl.dataset, id).await.map_err(ApiError::from)?;
        for (feature, version, retired) in versions {
            written
                .push(json!({ "collection": collection.id(), "id": feature, "version": version, "retired": retired }));
        }
    }
    let at: chrono::DateTime<chrono::Utc> = row.get(0);
    let reference_date: Option<chrono::NaiveDate> = row.get(4);
    Ok(HttpResponse::Ok().json(json!({
        "id": id,
        "at": at.to_rfc3339(),
        "source": row.get::<_, String>(1),
        "changeType": row.get::<_, Option<String>>(2),
        "reference": row.get::<_, Option<String>>(3),
        "referenceDate": reference_date.map(|d| d.to_string()),
        "note": row.get::<_, Option<String>>(5),
        "features": written,
    })))
}
