//! `/collections/{collectionId}/items/{featureId}/lineage`: where a feature came from and what
//! became of it — the parcels it was split or merged from, theirs, and the features it became —
//! as edges of the lineage graph, each with its change type, changeset, time, legal reference
//! and area share.

use actix_web::{web, HttpRequest, HttpResponse};
use geosector_access::policy::Operation;
use geosector_store::lineage::{self, Direction, Edge};
use geosector_store::write::{self, Stored};
use serde_json::{json, Value};

use crate::auth;
use crate::error::ApiError;
use crate::state::AppState;

/// The most generations a walk goes (and the default).
pub const MAX_GENERATIONS: i32 = 100;

/// The lineage of a feature (JSON).
///
/// # Errors
/// 404 for a collection or feature the caller may not read (or that never existed), 400 for a
/// bad `generations` or an unknown parameter.
pub async fn lineage(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (collection_id, feature) = path.into_inner();
    let caller = auth::caller(&state, &req).await?;
    let opened = auth::open(&state, &caller, &collection_id, Operation::ReadItems)?;
    let not_found = || ApiError::NotFound(format!("feature {feature} not found"));
    let dataset = opened.collection.decl.dataset;
    if dataset.history.is_none() {
        return Err(ApiError::NotFound(format!("collection {collection_id} keeps no history, so no lineage")));
    }
    let id: i64 = feature.parse().map_err(|_| not_found())?;
    let pairs = crate::params::query_pairs(&req)?;
    crate::params::check_names(
        &pairs,
        |n| n == "generations" || n == "f",
        || "unknown parameter; lineage accepts generations and f".to_owned(),
    )?;
    if let Some((_, f)) = pairs.iter().find(|(k, _)| k == "f") {
        if f != "json" {
            return Err(ApiError::param("f", "lineage is served as json"));
        }
    }
    let generations = match pairs.iter().find(|(k, _)| k == "generations") {
        None => MAX_GENERATIONS,
        Some((_, v)) => v
            .parse::<i32>()
            .ok()
            .filter(|g| (1..=MAX_GENERATIONS).contains(g))
            .ok_or_else(|| ApiError::param("generations", format!("an integer from 1 to {MAX_GENERATIONS}")))?,
    };
    let client = state.reads.get().await?;
    let area = opened.collection.decl.access.area.as_ref();
    let retired =
        match write::peek(&**client, dataset, area, id, opened.scope.as_ref()).await.map_err(ApiError::from)? {
            Stored::Live(current) if current.in_scope => false,
            Stored::Retired if opened.scope.is_none() => true,
            _ => return Err(not_found()),
        };
    let ancestors =
        lineage::walk(&**client, dataset, id, Direction::Ancestors, generations).await.map_err(ApiError::from)?;
    let descendants =
        lineage::walk(&**client, dataset, id, Direction::Descendants, generations).await.map_err(ApiError::from)?;
    let base = crate::links::base_url(&req);
    let item = |id: i64| format!("{base}/collections/{collection_id}/items/{id}");
    let mut body = json!({
        "collection": collection_id,
        "id": id,
        "retired": retired,
        "ancestors": ancestors.iter().map(edge_json).collect::<Vec<_>>(),
        "descendants": descendants.iter().map(edge_json).collect::<Vec<_>>(),
        "links": [
            { "href": format!("{}/lineage", item(id)), "rel": "self", "type": "application/json", "title": "This lineage" },
            { "href": item(id), "rel": "about", "type": "application/geo+json", "title": "The feature" },
        ],
    });
    crate::links::carry_key(&mut body, &req);
    Ok(HttpResponse::Ok().json(body))
}

fn edge_json(edge: &Edge) -> Value {
    json!({
        "parent": edge.parent.0,
        "parentVersion": edge.parent.1,
        "child": edge.child.0,
        "childVersion": edge.child.1,
        "changeType": edge.change_type,
        "changeset": edge.changeset,
        "at": edge.at.to_rfc3339(),
        "reference": edge.reference,
        "areaShare": edge.area_share,
        "generation": edge.generation,
    })
}
