//! Bearer tokens: JWTs (RFC 7519) signed with RS256 or ES256, verified locally against the
//! issuer's JWKS, with Keycloak's claim layout.
//!
//! Only RS256 and ES256 are accepted, whatever keys the set holds: `alg: none`, HMAC (the
//! public key used as a shared secret) and every other algorithm are refused before a key is
//! looked at. Then the signature, `iss` (exact), `aud` (any configured audience), `exp`
//! (required) and `nbf` are checked, with a leeway for clock skew. Roles are the union of
//! `realm_access.roles`, `resource_access.<client>.roles` and an optional extra claim; areas
//! come from a configurable claim.
//!
//! Verified tokens are cached (keyed by a SHA-256 of the token, until the earlier of `exp` and
//! one minute) so that a client repeating its token does not pay for a signature check on every
//! request. The cache is dropped when the key set changes.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rsa::sha2::{Digest as _, Sha256};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::jwks::{is_http_url, Alg, KeyStore, Lookup, Origin};
use super::{sorted_unique, Identity, Source};

/// Longest token accepted, in bytes. Keycloak tokens with many roles stay well below this.
const MAX_TOKEN_LEN: usize = 16 * 1024;
/// Most verified tokens kept.
const CACHE_CAPACITY: usize = 10_000;
/// Longest a verified token is kept without being checked again.
const CACHE_TTL: Duration = Duration::from_secs(60);

/// How bearer tokens are checked (the `[token]` section of the policy file).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenSettings {
    /// The expected `iss`, matched exactly (e.g. `https://sso.example.vn/realms/tnmt`).
    pub issuer: String,
    /// Accepted audiences: a token is accepted if its `aud` holds any of them. A single string is
    /// accepted in the configuration file too.
    #[serde(deserialize_with = "one_or_many")]
    pub audience: Vec<String>,
    /// Keys from a JWKS file, re-read when the file changes.
    #[serde(default)]
    pub jwks_file: Option<PathBuf>,
    /// Keys from a JWKS URL. Without this and without `jwks_file`, the issuer's discovery
    /// document (`{issuer}/.well-known/openid-configuration`) names the key set.
    #[serde(default)]
    pub jwks_url: Option<String>,
    /// The client whose roles (`resource_access.<client_id>.roles`) count too.
    #[serde(default)]
    pub client_id: Option<String>,
    /// An extra top-level claim holding roles (e.g. `roles`, `groups`). `realm_access.roles` is
    /// always read.
    #[serde(default)]
    pub roles_claim: Option<String>,
    /// The claim holding the caller's area codes (e.g. `province_codes`); a dotted path such as
    /// `attributes.province` reaches into objects.
    #[serde(default)]
    pub area_claim: Option<String>,
    /// Clock skew tolerated on `exp` and `nbf`, in seconds.
    #[serde(default = "default_leeway")]
    pub leeway_seconds: u64,
    /// Age after which fetched keys are fetched again, in seconds. A token naming an unknown key
    /// triggers a fetch sooner, at most once per 10 seconds.
    #[serde(default = "default_refresh")]
    pub jwks_refresh_seconds: u64,
}

fn default_leeway() -> u64 {
    30
}

fn default_refresh() -> u64 {
    300
}

/// Reads a string or a list of strings as a list.
fn one_or_many<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(one) => vec![one],
        OneOrMany::Many(many) => many,
    })
}

/// Why a token was refused. The texts are short ASCII without quotes and hold nothing from the
/// token or the keys, so they can go into a `WWW-Authenticate` header.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Not a compact JWS with a JSON header and claims.
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// An algorithm other than RS256 or ES256 (including `none` and HMAC).
    #[error("unsupported algorithm, only RS256 and ES256 are accepted")]
    UnsupportedAlgorithm,
    /// The token names a key the issuer does not publish (or, without a `kid`, the issuer has not
    /// exactly one key of the token's type).
    #[error("unknown signing key")]
    UnknownKey,
    /// The signature does not verify.
    #[error("invalid signature")]
    BadSignature,
    /// `exp` has passed.
    #[error("token expired")]
    Expired,
    /// `nbf` is still to come.
    #[error("token not yet valid")]
    NotYetValid,
    /// `iss` is not the configured issuer.
    #[error("wrong issuer")]
    WrongIssuer,
    /// `aud` holds none of the configured audiences.
    #[error("wrong audience")]
    WrongAudience,
    /// A required claim is missing or has the wrong type.
    #[error("missing or invalid claim {0}")]
    MissingClaim(&'static str),
    /// Not an access token (a Keycloak ID or refresh token).
    #[error("not an access token")]
    NotAnAccessToken,
    /// No keys could be loaded. The reason is for the log; it is not part of the message.
    #[error("signing keys unavailable")]
    KeysUnavailable(String),
}

/// A verified token kept for reuse.
struct Cached {
    identity: Identity,
    until: Instant,
    generation: u64,
}

/// Verifies bearer tokens of one issuer. Shared (e.g. in an `Arc`) by all requests.
pub struct TokenVerifier {
    settings: TokenSettings,
    keys: KeyStore,
    cache: Mutex<HashMap<[u8; 32], Cached>>,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl TokenVerifier {
    /// Checks the settings and makes a verifier. Keys are loaded on first use (or by
    /// [`TokenVerifier::load_keys`]).
    ///
    /// # Errors
    /// A sentence naming the setting at fault: an empty issuer or audience, both `jwks_file` and
    /// `jwks_url`, a URL that is not http(s), an empty claim name, a zero refresh interval.
    pub fn new(settings: TokenSettings) -> Result<TokenVerifier, String> {
        if settings.issuer.trim().is_empty() {
            return Err("token.issuer: must not be empty".to_owned());
        }
        if settings.audience.is_empty() || settings.audience.iter().any(|aud| aud.trim().is_empty()) {
            return Err("token.audience: at least one audience, none empty".to_owned());
        }
        for (name, value) in [
            ("client_id", &settings.client_id),
            ("roles_claim", &settings.roles_claim),
            ("area_claim", &settings.area_claim),
        ] {
            if value.as_deref().is_some_and(|value| value.trim().is_empty()) {
                return Err(format!("token.{name}: must not be empty when set"));
            }
        }
        if settings.jwks_refresh_seconds == 0 {
            return Err("token.jwks_refresh_seconds: must be at least 1".to_owned());
        }
        let origin = match (&settings.jwks_file, &settings.jwks_url) {
            (Some(_), Some(_)) => return Err("token: set jwks_file or jwks_url, not both".to_owned()),
            (Some(path), None) => Origin::File(path.clone()),
            (None, Some(url)) if is_http_url(url) => Origin::Url(url.clone()),
            (None, Some(url)) => return Err(format!("token.jwks_url: not an http(s) URL: {url}")),
            (None, None) if is_http_url(&settings.issuer) => Origin::Discovery { issuer: settings.issuer.clone() },
            (None, None) => {
                return Err(format!(
                    "token.issuer: not an http(s) URL, so keys cannot be discovered (set jwks_file or jwks_url): {}",
                    settings.issuer
                ))
            }
        };
        let plain_http = match &origin {
            Origin::Url(url) => Some(url.as_str()),
            Origin::Discovery { issuer } => Some(issuer.as_str()),
            Origin::File(_) => None,
        }
        .filter(|url| url.starts_with("http://") && !is_loopback_url(url));
        if let Some(url) = plain_http {
            tracing::warn!(url, "signing keys fetched over plain http: use https outside a closed network");
        }
        let keys = KeyStore::new(origin, Duration::from_secs(settings.jwks_refresh_seconds));
        Ok(TokenVerifier { settings, keys, cache: Mutex::new(HashMap::new()) })
    }

    /// Sets the shortest interval between key reloads caused by a token naming an unknown key
    /// (10 seconds by default). Tests that rotate keys set it to zero.
    #[must_use]
    pub fn with_min_refetch_interval(mut self, interval: Duration) -> TokenVerifier {
        self.keys.set_min_refetch(interval);
        self
    }

    /// The settings in use.
    #[must_use]
    pub fn settings(&self) -> &TokenSettings {
        &self.settings
    }

    /// Loads the keys now (e.g. at start, to report a misconfigured issuer early) and returns how
    /// many usable keys there are.
    ///
    /// # Errors
    /// [`TokenError::KeysUnavailable`] when no keys could be loaded.
    pub async fn load_keys(&self) -> Result<usize, TokenError> {
        let (keys, _) = self.keys.current().await.map_err(TokenError::KeysUnavailable)?;
        Ok(keys.len())
    }

    /// Verifies a bearer token (the text after `Bearer `) and returns the identity it carries.
    ///
    /// # Errors
    /// The reason the token is refused, see [`TokenError`].
    pub async fn verify(&self, token: &str) -> Result<Identity, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Malformed("too long"));
        }
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(identity) = self.cached(&digest) {
            return Ok(identity);
        }
        let parts = Parts::split(token)?;
        let (keys, generation) = self.keys.current().await.map_err(TokenError::KeysUnavailable)?;
        let verified = match keys.verify(parts.alg, parts.kid.as_deref(), parts.signing_input, &parts.signature) {
            Lookup::Verified(verified) => (verified, generation),
            Lookup::NoKey => match self.keys.reload_for_unknown_key(generation).await {
                Some((keys, generation)) => {
                    match keys.verify(parts.alg, parts.kid.as_deref(), parts.signing_input, &parts.signature) {
                        Lookup::Verified(verified) => (verified, generation),
                        Lookup::NoKey => return Err(TokenError::UnknownKey),
                    }
                }
                None => return Err(TokenError::UnknownKey),
            },
        };
        let (true, generation) = verified else {
            return Err(TokenError::BadSignature);
        };
        let claims: Value =
            serde_json::from_slice(&parts.payload).map_err(|_| TokenError::Malformed("claims are not JSON"))?;
        let Value::Object(claims) = claims else {
            return Err(TokenError::Malformed("claims are not a JSON object"));
        };
        let (identity, valid_for) = self.check_claims(&claims, unix_now())?;
        self.remember(digest, &identity, valid_for.min(CACHE_TTL), generation);
        Ok(identity)
    }

    /// The identity of a token verified before, under the current keys and not yet expired.
    fn cached(&self, digest: &[u8; 32]) -> Option<Identity> {
        let generation = self.keys.generation();
        let cache = self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let cached = cache.get(digest)?;
        (cached.generation == generation && Instant::now() < cached.until).then(|| cached.identity.clone())
    }

    fn remember(&self, digest: [u8; 32], identity: &Identity, valid_for: Duration, generation: u64) {
        let now = Instant::now();
        let mut cache = self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.len() >= CACHE_CAPACITY {
            cache.retain(|_, cached| cached.until > now && cached.generation == generation);
            if cache.len() >= CACHE_CAPACITY {
                cache.clear();
            }
        }
        cache.insert(digest, Cached { identity: identity.clone(), until: now + valid_for, generation });
    }

    /// Checks the registered claims and reads the identity; also returns how much longer the
    /// token is valid.
    fn check_claims(&self, claims: &Map<String, Value>, now: f64) -> Result<(Identity, Duration), TokenError> {
        let settings = &self.settings;
        // Leeway beyond a day is a configuration mistake; clamping keeps the arithmetic finite.
        let leeway = settings.leeway_seconds.min(86_400) as f64;
        if claims.get("iss").and_then(Value::as_str) != Some(settings.issuer.as_str()) {
            return Err(TokenError::WrongIssuer);
        }
        let audience_ok = match claims.get("aud") {
            Some(Value::String(aud)) => settings.audience.contains(aud),
            Some(Value::Array(auds)) => {
                auds.iter().filter_map(Value::as_str).any(|aud| settings.audience.iter().any(|want| want == aud))
            }
            _ => false,
        };
        if !audience_ok {
            return Err(TokenError::WrongAudience);
        }
        let exp = claims.get("exp").and_then(Value::as_f64).ok_or(TokenError::MissingClaim("exp"))?;
        if now > exp + leeway {
            return Err(TokenError::Expired);
        }
        match claims.get("nbf") {
            None => {}
            Some(nbf) => {
                let nbf = nbf.as_f64().ok_or(TokenError::MissingClaim("nbf"))?;
                if nbf - leeway > now {
                    return Err(TokenError::NotYetValid);
                }
            }
        }
        // Keycloak marks its tokens: `Bearer` for access tokens, `ID` and `Refresh` for others.
        if let Some(typ) = claims.get("typ").and_then(Value::as_str) {
            if typ.eq_ignore_ascii_case("ID") || typ.eq_ignore_ascii_case("Refresh") {
                return Err(TokenError::NotAnAccessToken);
            }
        }
        let subject = claims.get("sub").and_then(Value::as_str).filter(|sub| !sub.is_empty());
        let subject = subject.ok_or(TokenError::MissingClaim("sub"))?.to_owned();
        let username = claims.get("preferred_username").and_then(Value::as_str).map(str::to_owned);

        let mut roles = Vec::new();
        roles.extend(names(path(claims, "realm_access.roles")));
        if let Some(client) = &settings.client_id {
            let client_roles =
                claims.get("resource_access").and_then(|access| access.get(client)).and_then(|c| c.get("roles"));
            roles.extend(names(client_roles));
        }
        if let Some(claim) = &settings.roles_claim {
            roles.extend(names(path(claims, claim)));
        }
        let areas = match &settings.area_claim {
            Some(claim) => names(path(claims, claim)),
            None => Vec::new(),
        };
        let identity = Identity {
            subject,
            username,
            roles: sorted_unique(roles),
            areas: sorted_unique(areas),
            source: Source::Token,
        };
        let valid_for = Duration::try_from_secs_f64(exp + leeway - now).unwrap_or(Duration::ZERO);
        Ok((identity, valid_for))
    }
}

/// A token split into its parts, with the header read and the algorithm accepted.
struct Parts<'a> {
    alg: Alg,
    kid: Option<String>,
    /// `header.payload`, the bytes signed.
    signing_input: &'a [u8],
    payload: Vec<u8>,
    signature: Vec<u8>,
}

impl<'a> Parts<'a> {
    fn split(token: &'a str) -> Result<Parts<'a>, TokenError> {
        let mut pieces = token.split('.');
        let (Some(header_text), Some(payload_text), Some(signature_text), None) =
            (pieces.next(), pieces.next(), pieces.next(), pieces.next())
        else {
            return Err(TokenError::Malformed("not three dot-separated parts"));
        };
        if header_text.is_empty() || payload_text.is_empty() {
            return Err(TokenError::Malformed("empty part"));
        }
        let header =
            URL_SAFE_NO_PAD.decode(header_text).map_err(|_| TokenError::Malformed("header is not base64url"))?;
        let header: Value = serde_json::from_slice(&header).map_err(|_| TokenError::Malformed("header is not JSON"))?;
        let Value::Object(header) = header else {
            return Err(TokenError::Malformed("header is not a JSON object"));
        };
        let alg = header.get("alg").and_then(Value::as_str).ok_or(TokenError::Malformed("header has no alg"))?;
        let alg = Alg::from_name(alg).ok_or(TokenError::UnsupportedAlgorithm)?;
        // Extensions that must be understood (RFC 7515 §4.1.11): none are.
        if header.contains_key("crit") {
            return Err(TokenError::Malformed("critical header extensions are not supported"));
        }
        let kid = match header.get("kid") {
            None => None,
            Some(Value::String(kid)) => Some(kid.clone()),
            Some(_) => return Err(TokenError::Malformed("kid is not a string")),
        };
        let payload =
            URL_SAFE_NO_PAD.decode(payload_text).map_err(|_| TokenError::Malformed("claims are not base64url"))?;
        let signature =
            URL_SAFE_NO_PAD.decode(signature_text).map_err(|_| TokenError::Malformed("signature is not base64url"))?;
        if signature.is_empty() {
            return Err(TokenError::BadSignature);
        }
        let signing_input_len = header_text.len() + 1 + payload_text.len();
        let signing_input = token.as_bytes().get(..signing_input_len).ok_or(TokenError::Malformed("empty part"))?;
        Ok(Parts { alg, kid, signing_input, payload, signature })
    }
}

/// Whether an http URL points at this machine.
fn is_loopback_url(url: &str) -> bool {
    let host = url.trim_start_matches("http://").split(['/', ':']).next().unwrap_or_default();
    host == "localhost" || host.starts_with("127.") || url.starts_with("http://[::1]")
}

/// Seconds since the Unix epoch.
fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |since| since.as_secs_f64())
}

/// Follows a claim name through nested objects: the whole name first (claim names may contain
/// dots), then its dot-separated segments.
fn path<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    if let Some(value) = claims.get(name) {
        return Some(value);
    }
    let mut segments = name.split('.');
    let first = claims.get(segments.next()?)?;
    segments.try_fold(first, |value, segment| value.get(segment))
}

/// Names from a claim: a string (split on whitespace and commas) or an array of strings and
/// numbers. Anything else gives nothing.
fn names(value: Option<&Value>) -> Vec<String> {
    let split = |text: &str| -> Vec<String> {
        text.split(|c: char| c.is_whitespace() || c == ',').filter(|name| !name.is_empty()).map(str::to_owned).collect()
    };
    match value {
        Some(Value::String(text)) => split(text),
        Some(Value::Number(number)) => vec![number.to_string()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|item| match item {
                Value::String(text) => Some(text.trim().to_owned()).filter(|text| !text.is_empty()),
                Value::Number(number) => Some(number.to_string()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings() -> TokenSettings {
        TokenSettings {
            issuer: "https://sso.example.vn/realms/tnmt".into(),
            audience: vec!["geosector".into()],
            jwks_file: None,
            jwks_url: None,
            client_id: Some("geosector".into()),
            roles_claim: Some("groups".into()),
            area_claim: Some("attributes.province".into()),
            leeway_seconds: 30,
            jwks_refresh_seconds: 300,
        }
    }

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn settings_read_from_toml_shaped_json_with_one_audience() {
        let parsed: TokenSettings =
            serde_json::from_value(json!({"issuer": "https://i.example/realms/a", "audience": "geosector"}))
                .expect("valid settings");
        assert_eq!(parsed.audience, ["geosector"]);
        assert_eq!(parsed.leeway_seconds, 30);
        assert_eq!(parsed.jwks_refresh_seconds, 300);
        let parsed: TokenSettings =
            serde_json::from_value(json!({"issuer": "https://i.example", "audience": ["a", "b"]})).expect("valid");
        assert_eq!(parsed.audience, ["a", "b"]);
        let unknown = serde_json::from_value::<TokenSettings>(json!({"issuer": "x", "audience": "a", "audeince": "b"}));
        assert!(unknown.is_err(), "an unknown key is refused");
    }

    #[test]
    fn bad_settings_are_refused() {
        type Change = fn(&mut TokenSettings);
        let cases: [(Change, &str); 6] = [
            (|s| s.issuer = " ".into(), "issuer"),
            (|s| s.audience = Vec::new(), "audience"),
            (|s| s.jwks_url = Some("ftp://x".into()), "jwks_url"),
            (|s| s.issuer = "tnmt".into(), "issuer"),
            (
                |s| {
                    s.jwks_url = Some("https://x/certs".into());
                    s.jwks_file = Some("keys.json".into());
                },
                "not both",
            ),
            (|s| s.area_claim = Some(String::new()), "area_claim"),
        ];
        for (change, expected) in cases {
            let mut s = settings();
            change(&mut s);
            let error = TokenVerifier::new(s).expect_err("refused");
            assert!(error.contains(expected), "{error}");
        }
        assert!(TokenVerifier::new(settings()).is_ok());
    }

    #[test]
    fn keycloak_claims_become_an_identity() {
        let verifier = TokenVerifier::new(settings()).expect("valid settings");
        let claims = object(json!({
            "iss": "https://sso.example.vn/realms/tnmt", "aud": ["account", "geosector"], "sub": "u-1",
            "exp": 2_000_000_100u64, "nbf": 1_999_999_000u64, "typ": "Bearer", "preferred_username": "lan",
            "realm_access": {"roles": ["viewer", "offline_access"]},
            "resource_access": {"geosector": {"roles": ["editor", "viewer"]}, "other": {"roles": ["admin"]}},
            "groups": "surveyors, viewer",
            "attributes": {"province": ["01", 79, " "]},
        }));
        let (identity, valid_for) = verifier.check_claims(&claims, 2_000_000_000.0).expect("valid claims");
        assert_eq!(identity.subject, "u-1");
        assert_eq!(identity.username.as_deref(), Some("lan"));
        assert_eq!(identity.roles, ["editor", "offline_access", "surveyors", "viewer"]);
        assert_eq!(identity.areas, ["01", "79"]);
        assert_eq!(valid_for, Duration::from_secs(130));
    }

    #[test]
    fn registered_claims_are_checked() {
        let verifier = TokenVerifier::new(settings()).expect("valid settings");
        let base = json!({"iss": "https://sso.example.vn/realms/tnmt", "aud": "geosector", "sub": "u", "exp": 1000});
        let with = |key: &str, value: Value| {
            let mut claims = object(base.clone());
            claims.insert(key.to_owned(), value);
            claims
        };
        let check = |claims: &Map<String, Value>, now: f64| verifier.check_claims(claims, now).map(|_| ());
        assert!(check(&object(base.clone()), 1000.0).is_ok());
        assert!(check(&object(base.clone()), 1029.0).is_ok(), "within leeway");
        assert!(matches!(check(&object(base.clone()), 1031.0), Err(TokenError::Expired)));
        assert!(matches!(check(&with("nbf", json!(1100)), 1000.0), Err(TokenError::NotYetValid)));
        assert!(check(&with("nbf", json!(1020)), 1000.0).is_ok(), "within leeway");
        assert!(matches!(check(&with("nbf", json!("soon")), 900.0), Err(TokenError::MissingClaim("nbf"))));
        assert!(matches!(
            check(&with("iss", json!("https://sso.example.vn/realms/tnmt/")), 900.0),
            Err(TokenError::WrongIssuer)
        ));
        assert!(matches!(check(&with("aud", json!(["account"])), 900.0), Err(TokenError::WrongAudience)));
        assert!(matches!(check(&with("aud", json!(7)), 900.0), Err(TokenError::WrongAudience)));
        assert!(matches!(check(&with("exp", json!("never")), 900.0), Err(TokenError::MissingClaim("exp"))));
        assert!(matches!(check(&with("sub", json!("")), 900.0), Err(TokenError::MissingClaim("sub"))));
        assert!(matches!(check(&with("typ", json!("ID")), 900.0), Err(TokenError::NotAnAccessToken)));
        let mut no_exp = object(base.clone());
        no_exp.remove("exp");
        assert!(matches!(check(&no_exp, 900.0), Err(TokenError::MissingClaim("exp"))));
    }

    #[test]
    fn claim_values_become_names() {
        assert_eq!(names(Some(&json!("01 79,48"))), ["01", "79", "48"]);
        assert_eq!(names(Some(&json!([1, "x", null, ["y"], {"z": 1}]))), ["1", "x"]);
        assert_eq!(names(Some(&json!(true))), Vec::<String>::new());
        assert_eq!(names(None), Vec::<String>::new());
        let claims = object(json!({"a.b": "whole", "c": {"d": {"e": "deep"}}}));
        assert_eq!(path(&claims, "a.b"), Some(&json!("whole")));
        assert_eq!(path(&claims, "c.d.e"), Some(&json!("deep")));
        assert_eq!(path(&claims, "c.x.e"), None);
        assert_eq!(path(&claims, ""), None);
    }

    #[test]
    fn loopback_urls_are_recognised() {
        assert!(is_loopback_url("http://127.0.0.1:8080/realms/a"));
        assert!(is_loopback_url("http://localhost/realms/a"));
        assert!(is_loopback_url("http://[::1]:8080/"));
        assert!(!is_loopback_url("http://sso.example.vn/realms/a"));
        assert!(!is_loopback_url("http://localhost.example.vn/"));
    }

    #[test]
    fn error_texts_fit_a_www_authenticate_header() {
        let errors = [
            TokenError::Malformed("header is not JSON"),
            TokenError::UnsupportedAlgorithm,
            TokenError::UnknownKey,
            TokenError::BadSignature,
            TokenError::Expired,
            TokenError::NotYetValid,
            TokenError::WrongIssuer,
            TokenError::WrongAudience,
            TokenError::MissingClaim("exp"),
            TokenError::NotAnAccessToken,
            TokenError::KeysUnavailable("GET http://x: \"refused\"".into()),
        ];
        for error in errors {
            let text = error.to_string();
            assert!(text.is_ascii() && !text.contains('"') && !text.contains('\\') && text.len() < 80, "{text}");
        }
    }
}
