//! The OpenAPI of edits: POST, PUT, PATCH, DELETE and OPTIONS on the items and features of the
//! versioned collections, `/changesets`, and each feature's lineage, added to the document
//! [`crate::openapi::document`] builds.

use std::sync::Arc;

use geosector_store::Collection;
use serde_json::{json, Value};

/// Adds the edit operations of `collections` (the versioned ones) to an OpenAPI document.
pub fn document(doc: &mut Value, collections: &[Arc<Collection>]) {
    let error = json!({ "description": "An OGC exception", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/exception" } } } });
    let invalid = json!({ "description": "The sector's rules reject the feature: an OGC exception with `findings` (rule, severity, message, field, location)",
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/exception" } } } });
    let outcome = json!({ "application/json": { "schema": { "$ref": "#/components/schemas/writeOutcome" } } });
    let feature_body = json!({ "required": true, "content": {
        "application/geo+json": { "schema": { "type": "object" } }, "application/json": { "schema": { "type": "object" } } } });
    let patch_body = json!({ "required": true, "content": {
        "application/merge-patch+json": { "schema": { "type": "object" } }, "application/geo+json": { "schema": { "type": "object" } } } });
    let content_crs = json!({ "name": "Content-Crs", "in": "header", "required": false, "schema": { "type": "string" },
        "description": "CRS of the body's coordinates, as a URI (angle brackets optional), e.g. <http://www.opengis.net/def/crs/EPSG/0/5897>; default CRS84" });
    let if_match = json!({ "name": "If-Match", "in": "header", "required": false, "schema": { "type": "string" },
        "description": "The ETag of the version the edit starts from (`*`: any); 412 when the feature changed since" });
    let if_unmodified = json!({ "name": "If-Unmodified-Since", "in": "header", "required": false, "schema": { "type": "string" },
        "description": "412 when the feature changed after this HTTP date" });
    let changeset_headers: Vec<Value> = [
        ("Geosector-Change-Type", "The change type (a code the collection's sector declares, e.g. TN)"),
        ("Geosector-Reference", "The legal reference: the decision's number (percent-encoded UTF-8)"),
        ("Geosector-Reference-Date", "The decision's date, YYYY-MM-DD"),
        ("Geosector-Note", "A note (percent-encoded UTF-8)"),
    ]
    .iter()
    .map(|(name, description)| json!({ "name": name, "in": "header", "required": false, "schema": { "type": "string" }, "description": description }))
    .collect();
    let feature_id = json!({ "name": "featureId", "in": "path", "required": true, "schema": { "type": "integer" } });
    let options = |what: &str| {
        json!({ "summary": format!("The methods this caller may use on {what} (Allow)"), "operationId": Value::Null,
            "responses": { "204": { "description": "Allow lists the methods", "headers": { "Allow": { "schema": { "type": "string" } } } }, "404": error } })
    };
    let errors = |codes: &[&str]| -> serde_json::Map<String, Value> {
        codes.iter().map(|c| ((*c).to_owned(), if *c == "422" { invalid.clone() } else { error.clone() })).collect()
    };
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else { return };
    for c in collections.iter().filter(|c| c.decl.dataset.history.is_some()) {
        let id = c.id();
        let op = id.replace(['.', '-'], "_");
        let mut headers = vec![content_crs.clone()];
        headers.extend(changeset_headers.iter().cloned());
        let mut conditional = headers.clone();
        conditional.extend([if_match.clone(), if_unmodified.clone()]);
        let mut feature_params = vec![feature_id.clone()];
        feature_params.extend(conditional.iter().cloned());
        if let Some(items) = paths.get_mut(&format!("/collections/{id}/items")).and_then(Value::as_object_mut) {
            let mut responses = errors(&["400", "401", "403", "404", "413", "415", "422"]);
            responses.insert(
                "201".into(),
                json!({ "description": "Created: Location names the feature, ETag its version", "content": outcome }),
            );
            items.insert(
                "post".into(),
                json!({ "summary": format!("Create a feature of {id}"), "operationId": format!("create_{op}"),
                "parameters": headers, "requestBody": feature_body, "responses": responses }),
            );
            let mut opts = options("the items");
            opts["operationId"] = json!(format!("options_items_{op}"));
            items.insert("options".into(), opts);
        }
        if let Some(item) =
            paths.get_mut(&format!("/collections/{id}/items/{{featureId}}")).and_then(Value::as_object_mut)
        {
            let mut changed = errors(&["400", "401", "403", "404", "410", "412", "413", "415", "422", "428"]);
            changed.insert(
                "200".into(),
                json!({ "description": "Changed: ETag names the new version", "content": outcome }),
            );
            item.insert(
                "put".into(),
                json!({ "summary": format!("Replace a feature of {id}"), "operationId": format!("replace_{op}"),
                "parameters": feature_params, "requestBody": feature_body, "responses": changed }),
            );
            item.insert("patch".into(), json!({ "summary": format!("Change a feature of {id} by a JSON merge patch (RFC 7396)"), "operationId": format!("update_{op}"),
                "parameters": feature_params, "requestBody": patch_body, "responses": changed }));
            let mut deleted = errors(&["400", "401", "403", "404", "410", "412", "428"]);
            deleted.insert("204".into(), json!({ "description": "Retired: its versions stay in the history" }));
            let mut delete_params = vec![feature_id.clone()];
            delete_params.extend(changeset_headers.iter().cloned());
            delete_params.extend([if_match.clone(), if_unmodified.clone()]);
            item.insert(
                "delete".into(),
                json!({ "summary": format!("Retire a feature of {id}"), "operationId": format!("delete_{op}"),
                "parameters": delete_params, "responses": deleted }),
            );
            let mut opts = options("a feature");
            opts["operationId"] = json!(format!("options_item_{op}"));
            // Any id is taken: one not stored answers with the methods of the collection's
            // features (QGIS probes with `unknown_id`).
            opts["parameters"] =
                json!([{ "name": "featureId", "in": "path", "required": true, "schema": { "type": "string" } }]);
            item.insert("options".into(), opts);
        }
        paths.insert(format!("/collections/{id}/items/{{featureId}}/lineage"), json!({ "get": {
            "summary": format!("Ancestors and descendants of a feature of {id} (splits, merges)"), "operationId": format!("lineage_{op}"),
            "parameters": [feature_id, { "name": "generations", "in": "query", "required": false,
                "schema": { "type": "integer", "minimum": 1, "maximum": crate::lineage::MAX_GENERATIONS }, "description": "How far to walk" }],
            "responses": { "200": { "description": "The lineage edges", "content": { "application/json": { "schema": { "type": "object" } } } }, "400": error, "404": error } } }));
    }
    let mut responses = errors(&["400", "401", "403", "404", "405", "410", "412", "413", "415", "422", "428"]);
    responses.insert("201".into(), json!({ "description": "Applied, all of it: Location names the changeset", "content": { "application/json": { "schema": { "type": "object" } } } }));
    paths.insert("/changesets".into(), json!({ "post": {
        "summary": "Several edits applied all or none, with lineage (split, merge) and one legal reference",
        "operationId": "createChangeset",
        "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/changeset" } } } },
        "responses": responses } }));
    paths.insert("/changesets/{changesetId}".into(), json!({ "get": {
        "summary": "A changeset and the versions it wrote", "operationId": "getChangeset",
        "parameters": [{ "name": "changesetId", "in": "path", "required": true, "schema": { "type": "integer" } }],
        "responses": { "200": { "description": "The changeset", "content": { "application/json": { "schema": { "type": "object" } } } }, "404": error } } }));
    if let Some(schemas) = doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
        schemas.insert("writeOutcome".into(), json!({ "type": "object", "properties": {
            "collection": { "type": "string" }, "id": { "type": "integer" }, "version": { "type": "integer", "nullable": true },
            "previousVersion": { "type": "integer", "nullable": true }, "findings": { "type": "array", "items": { "type": "object" } } } }));
        schemas.insert("changeset".into(), json!({ "type": "object", "required": ["operations"], "properties": {
            "changeType": { "type": "string" }, "reference": { "type": "string" }, "referenceDate": { "type": "string", "format": "date" },
            "note": { "type": "string" }, "crs": { "type": "string", "format": "uri" },
            "operations": { "type": "array", "minItems": 1, "maxItems": super::changesets::MAX_OPERATIONS, "items": { "type": "object", "required": ["op", "collection"],
                "properties": { "op": { "type": "string", "enum": ["create", "replace", "update", "delete"] }, "collection": { "type": "string" },
                    "id": { "type": "integer" }, "feature": { "type": "object" }, "patch": { "type": "object" },
                    "parents": { "type": "array", "items": { "type": "integer" } }, "ifMatch": { "type": "string" } } } } } }));
    }
}
