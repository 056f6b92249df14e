//! Who is calling and what they may reach: credentials to an identity, then, per collection and
//! operation, the view of the collection the policy allows, or the error to answer.
//!
//! A bearer token is verified by the policy's token verifier; an API key (`apikey` in the query,
//! or the `X-API-Key` header) is looked up by id and its secret compared with the stored hash
//! (looked-up keys are kept [`crate::keycache::KEY_TTL`], so a revocation applies within that); nothing makes the
//! caller anonymous. Errors never tell what the caller may not see: an unreadable public
//! collection is 401 for an anonymous caller (credentials may help) and 403 for another, and a
//! restricted collection the caller has no grant on is 404, as if it did not exist.

use std::sync::Arc;

use actix_web::HttpRequest;
use geosector_access::identity::{apikey, Identity, Source, TokenError};
use geosector_access::policy::{CollectionAccess, Operation, Policy, Rows};
use geosector_store::plan::AreaScope;
use geosector_store::{Collection, FieldView};

use crate::error::ApiError;
use crate::state::AppState;

/// The header carrying an API key.
pub const KEY_HEADER: &str = "x-api-key";

/// The caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who.
    pub identity: Identity,
    /// Every role held (own, and the anonymous or authenticated ones).
    pub roles: Vec<String>,
    /// The policy in force for this request.
    pub policy: Arc<Policy>,
    /// The client's address.
    pub client: Option<String>,
}

impl Caller {
    /// Whether the caller came without credentials.
    pub fn is_anonymous(&self) -> bool {
        self.identity.source == Source::Anonymous
    }

    /// What the caller may do with a collection.
    pub fn access(&self, collection: &Collection) -> CollectionAccess {
        self.policy.access(&self.identity, collection.decl)
    }
}

/// Resolves the caller of a request.
///
/// # Errors
/// 401 for a bad or expired token or key, or a token when none is accepted; 503 when the key
/// store or the token issuer's keys cannot be read.
pub async fn caller(state: &AppState, req: &HttpRequest) -> Result<Caller, ApiError> {
    let policy = state.policy.current();
    let client = req.peer_addr().map(|a| a.ip().to_string());
    let identity = if let Some(token) = bearer(req)? {
        let verifier = policy.tokens.as_ref().ok_or_else(|| ApiError::invalid_token("tokens are not accepted here"))?;
        let mut identity = verifier.verify(token).await.map_err(|e| match e {
            // The issuer's keys cannot be had: the token may be good, the server cannot tell.
            TokenError::KeysUnavailable(why) => ApiError::Unavailable(format!("token keys: {why}")),
            other => ApiError::invalid_token(&other.to_string()),
        })?;
        identity.source = Source::Token;
        identity
    } else if let Some(presented) = presented_key(req) {
        key_identity(state, &presented).await?
    } else {
        Identity::anonymous(Vec::new())
    };
    let roles = policy.roles_of(&identity);
    Ok(Caller { identity, roles, policy, client })
}

/// Whether a request carries credentials (a bearer token or an API key), valid or not.
pub fn presents_credentials(req: &HttpRequest) -> bool {
    req.headers().contains_key(actix_web::http::header::AUTHORIZATION) || presented_key(req).is_some()
}

fn bearer(req: &HttpRequest) -> Result<Option<&str>, ApiError> {
    let Some(value) = req.headers().get(actix_web::http::header::AUTHORIZATION) else { return Ok(None) };
    let value = value.to_str().map_err(|_| ApiError::invalid_token("the Authorization header is not text"))?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Ok(Some(token.trim()))
        }
        _ => Err(ApiError::invalid_token("expected Authorization: Bearer <token>")),
    }
}

/// The API key a request presents (header or `api_key` query parameter), unverified.
pub(crate) fn presented_key(req: &HttpRequest) -> Option<String> {
    if let Some(value) = req.headers().get(KEY_HEADER).and_then(|v| v.to_str().ok()) {
        return Some(value.trim().to_owned());
    }
    crate::links::query_key(req)
}

async fn key_identity(state: &AppState, presented: &str) -> Result<Identity, ApiError> {
    let refused = || ApiError::invalid_token("unknown, expired or revoked API key");
    let key = apikey::parse(presented).ok_or_else(refused)?;
    let stored = match state.keys.get(&key.id) {
        Some(stored) => stored,
        None => {
            let client = state.pool.get().await?;
            let stored =
                geosector_store::keys::find(&client, &key.id).await.map_err(|e| ApiError::Internal(e.to_string()))?;
            state.keys.put(&key.id, stored.clone());
            stored
        }
    };
    stored.and_then(|stored| verified_key(&key, stored)).ok_or_else(refused)
}

/// The identity of a presented key, if the stored key it names is live and its secret matches.
pub fn verified_key(key: &apikey::ApiKey, stored: geosector_store::keys::StoredKey) -> Option<Identity> {
    if !stored.is_live(chrono::Utc::now()) || !apikey::matches(&key.secret, &stored.secret_hash) {
        return None;
    }
    Some(Identity {
        subject: format!("key:{}", stored.id),
        username: Some(stored.name),
        roles: stored.roles,
        areas: stored.areas,
        source: Source::ApiKey { id: stored.id },
    })
}

/// A collection as one caller may see it for one operation.
#[derive(Debug, Clone)]
pub struct Opened {
    /// The view of the collection (its personal properties as the caller may see them).
    pub collection: Arc<Collection>,
    /// The rows: `None` for all of them.
    pub scope: Option<AreaScope>,
    /// What the responses depend on besides the request (cache keys, ETags).
    pub fingerprint: u64,
}

impl Opened {
    /// Whether responses carry personal properties (then each read is audited).
    pub fn is_personal(&self) -> bool {
        !self.collection.fields.is_closed() || self.collection.decl.access.restricted
    }
}

/// Opens a collection for an operation.
///
/// # Errors
/// 404 for an unknown collection or a restricted one the caller may not know; 401 (anonymous)
/// or 403 (authenticated) when the operation is not granted.
pub fn open(state: &AppState, caller: &Caller, id: &str, operation: Operation) -> Result<Opened, ApiError> {
    let not_found = || ApiError::NotFound(format!("collection {id} not found"));
    let collection = state.registry.get(id).ok_or_else(not_found)?;
    let access = caller.access(collection);
    if !access.visible {
        return Err(not_found());
    }
    let rows = access.rows(operation).ok_or_else(|| refused(caller))?;
    let scope = match rows {
        Rows::All => None,
        Rows::In(codes) => Some(AreaScope::new(codes.clone())),
    };
    let fields = FieldView { whole: access.whole.clone(), masked: access.masked.clone() };
    Ok(Opened { collection: collection.view(&fields), scope, fingerprint: access.fingerprint(operation) })
}

/// The error for an operation the caller may not do: 401 when credentials may help, else 403.
pub fn refused(caller: &Caller) -> ApiError {
    if caller.is_anonymous() {
        ApiError::Unauthorized(None)
    } else {
        ApiError::Forbidden
    }
}

/// The collections a caller may know exist, in registry order.
pub fn visible<'a>(state: &'a AppState, caller: &'a Caller) -> impl Iterator<Item = &'a Arc<Collection>> + 'a {
    state.registry.iter().filter(move |c| caller.access(c).visible)
}
