//! Looking features up by their natural key (`GET /collections/{collectionId}/lookup`): a parcel
//! by its commune — the commune's code, or its name, accent- and case-insensitively, among the
//! administrative units in force today — and the other fields of its key (sheet and number); a
//! licence by its number. The key is the dataset's declared history key ([`History::key`]); the
//! commune is the key field that the collection's area declaration names.
//!
//! The answer is a `303 See Other` to the collection's items with a CQL2 filter over the key, so
//! what the caller reads is the items endpoint's own answer — its formats, its access control
//! and scope, its links — and the URL of a looked-up feature can be shared. The communes a name
//! matched come with the redirect in a small JSON body.
//!
//! [`History::key`]: geosector_domain::History::key

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use geosector_access::policy::Operation;
use geosector_domain::{AreaDecl, CollectionDecl, FieldType};
use serde_json::json;

use crate::auth;
use crate::error::ApiError;
use crate::links::{base_url, encode, query_key, with_key};
use crate::params;
use crate::state::AppState;

/// The most communes one name may match (a word common to many names is too vague).
const MAX_COMMUNES: i64 = 50;

/// The communes in force today whose name contains the text, accents and case aside (the
/// administrative units are the shared reference every sector's commune codes point at).
const COMMUNES_NAMED: &str = "SELECT code, name, parent_code FROM reference.admin_units \
     WHERE level = 'commune' AND valid_from <= current_date AND (valid_to IS NULL OR valid_to > current_date) \
       AND lower(meta.accenti(name)) LIKE '%' || lower(meta.accenti($1)) || '%' ESCAPE '\\' \
     ORDER BY code LIMIT $2";

/// The parameter naming the commune by name or code (besides the key field's own name).
const COMMUNE_PARAMETER: &str = "commune";

/// What a collection is looked up by: its key fields, and which of them is a commune code.
pub struct LookupKey {
    /// The key fields, in declared order, with their types.
    pub fields: Vec<(&'static str, FieldType)>,
    /// The key field holding a commune code, if the key has one.
    pub commune: Option<&'static str>,
}

impl LookupKey {
    /// Whether a parameter is one of the key's (a key field, or `commune` when it has one).
    pub fn accepts(&self, name: &str) -> bool {
        self.fields.iter().any(|(n, _)| *n == name) || (self.commune.is_some() && name == COMMUNE_PARAMETER)
    }
}

/// The natural key a collection's features are looked up by (`None`: it has none).
pub fn key_of(decl: &CollectionDecl) -> Option<LookupKey> {
    let key = decl.dataset.history?.key;
    let fields = key
        .iter()
        .filter_map(|name| decl.dataset.fields.iter().find(|f| f.column == *name).map(|f| (f.column, f.kind)))
        .collect();
    let commune = match decl.access.area {
        Some(AreaDecl::Columns { commune: Some(column), .. }) => key.iter().copied().find(|k| *k == column),
        _ => None,
    };
    Some(LookupKey { fields, commune })
}

/// `GET /collections/{collectionId}/lookup?commune=…&<key field>=…`.
///
/// # Errors
/// 404 for an unknown collection, one without a natural key, or a commune name that matches no
/// commune in force; 400 naming a parameter that is not part of the key, a malformed value, or
/// a name matching too many communes; 401/403 as for reading the items.
pub async fn lookup(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::caller(&state, &req).await?;
    let opened = auth::open(&state, &caller, &path, Operation::ReadItems)?;
    let decl = opened.collection.decl;
    let key = key_of(decl)
        .ok_or_else(|| ApiError::NotFound(format!("{} has no natural key to look its features up by", decl.id)))?;
    let pairs = params::query_pairs(&req)?;
    let names: Vec<&str> = key.fields.iter().map(|(n, _)| *n).collect();
    params::check_names(
        &pairs,
        |n| n == "f" || key.accepts(n),
        || {
            let commune =
                if key.commune.is_some() { format!("{COMMUNE_PARAMETER} (a name or a code), ") } else { String::new() };
            format!("unknown parameter; {} is looked up by {commune}{} and f", decl.id, names.join(", "))
        },
    )?;
    let mut conditions = Vec::new();
    let mut communes = Vec::new();
    for (name, kind) in &key.fields {
        let given = pairs.iter().find(|(k, _)| k == name || (Some(*name) == key.commune && k == COMMUNE_PARAMETER));
        let Some((parameter, value)) = given else { continue };
        let value = value.trim();
        if value.is_empty() {
            return Err(ApiError::param(parameter, "is empty"));
        }
        if Some(*name) == key.commune {
            communes = resolve_communes(&state, parameter, value).await?;
            let codes: Vec<String> = communes.iter().map(|c| literal(&c.0)).collect();
            conditions.push(format!("{name} IN ({})", codes.join(", ")));
            continue;
        }
        conditions.push(format!("{name} = {}", typed(parameter, value, *kind)?));
    }
    if conditions.is_empty() {
        return Err(ApiError::param(
            names.first().copied().unwrap_or("query"),
            format!("give at least one of {}", names.join(", ")),
        ));
    }
    let mut location = format!(
        "{}/collections/{}/items?filter-lang=cql2-text&filter={}",
        base_url(&req),
        encode(decl.id),
        encode(&conditions.join(" AND "))
    );
    if let Some((_, f)) = pairs.iter().find(|(k, _)| k == "f") {
        // The items' own formats: a bad one is refused here, not at the redirect's target.
        crate::params::format(Some(f), None)?;
        location.push_str(&format!("&f={}", encode(f)));
    }
    if let Some(k) = query_key(&req) {
        location = with_key(&location, &k);
    }
    let body = json!({
        "items": location,
        "communes": communes.iter().map(|(code, name, province)| json!({ "code": code, "name": name, "province": province })).collect::<Vec<_>>(),
    });
    Ok(HttpResponse::SeeOther().insert_header((header::LOCATION, location)).json(body))
}

/// The communes a parameter names (code, name, province): its code (five digits, taken as it is:
/// no name), or those in force today whose name contains it, accents and case aside.
async fn resolve_communes(
    state: &AppState,
    parameter: &str,
    value: &str,
) -> Result<Vec<(String, Option<String>, Option<String>)>, ApiError> {
    if value.len() == 5 && value.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(vec![(value.to_owned(), None, None)]);
    }
    if value.chars().count() > 100 || value.contains('\0') {
        return Err(ApiError::param(parameter, "a commune name has at most 100 characters and no NUL"));
    }
    let pattern = value.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    let client = state.reads.get().await?;
    let rows = client.query(COMMUNES_NAMED, &[&pattern, &(MAX_COMMUNES + 1)]).await?;
    if rows.is_empty() {
        return Err(ApiError::NotFound(format!("{parameter}: no commune in force today is named like \"{value}\"")));
    }
    if rows.len() > usize::try_from(MAX_COMMUNES).unwrap_or(usize::MAX) {
        return Err(ApiError::param(
            parameter,
            format!("\"{value}\" matches more than {MAX_COMMUNES} communes: give more of the name, or the code"),
        ));
    }
    Ok(rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect())
}

/// A key value as a CQL2 literal of its field's type (the filter parser binds it).
fn typed(parameter: &str, value: &str, kind: FieldType) -> Result<String, ApiError> {
    match kind {
        FieldType::Integer => value
            .parse::<i32>()
            .map(|n| n.to_string())
            .map_err(|_| ApiError::param(parameter, format!("\"{value}\" is not an integer"))),
        FieldType::Float => value
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map(|n| n.to_string())
            .ok_or_else(|| ApiError::param(parameter, format!("\"{value}\" is not a number"))),
        FieldType::Date => chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
            .map(|d| format!("DATE('{d}')"))
            .map_err(|_| ApiError::param(parameter, format!("\"{value}\" is not a date (YYYY-MM-DD)"))),
        _ if value.contains('\0') || value.chars().count() > 200 => {
            Err(ApiError::param(parameter, "at most 200 characters and no NUL"))
        }
        _ => Ok(literal(value)),
    }
}

/// A CQL2 text string literal.
fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_become_literals_of_their_type_and_nothing_else() {
        assert_eq!(literal("O'Brien"), "'O''Brien'");
        assert_eq!(typed("n", "12", FieldType::Integer).unwrap(), "12");
        assert!(typed("n", "12 OR 1=1", FieldType::Integer).is_err());
        assert_eq!(typed("p", "45a' OR '1'='1", FieldType::Text).unwrap(), "'45a'' OR ''1''=''1'");
        assert!(typed("p", "a\0", FieldType::Text).is_err());
        assert_eq!(typed("d", "2024-12-31", FieldType::Date).unwrap(), "DATE('2024-12-31')");
    }
}
