//! JSON Web Key Sets (RFC 7517): an issuer's RS256 and ES256 verification keys, read from a file
//! or fetched over HTTP (directly, or via OIDC discovery), cached, and reloaded so that keys
//! rotate without a restart.
//!
//! Reads take a snapshot of the current set without waiting on I/O. A reload happens when the
//! set is older than the refresh interval, when the file's modification time or size changed,
//! or when a token names a key the set does not hold (at most once per minimum interval). A
//! failed reload keeps the last good keys; only a verifier that never had keys reports them
//! unavailable.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use p256::ecdsa::signature::Verifier as _;
use rsa::sha2::{Digest as _, Sha256};
use rsa::{BoxedUint, Pkcs1v15Sign};
use serde_json::Value;

/// The signature algorithms accepted (JWA, RFC 7518 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Alg {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// ECDSA on P-256 with SHA-256.
    Es256,
}

impl Alg {
    /// The algorithm named by a JWS `alg`, if it is one accepted.
    pub(crate) fn from_name(name: &str) -> Option<Alg> {
        match name {
            "RS256" => Some(Alg::Rs256),
            "ES256" => Some(Alg::Es256),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Alg::Rs256 => "RS256",
            Alg::Es256 => "ES256",
        }
    }
}

/// A public key usable for one algorithm.
enum PublicKey {
    Rsa(rsa::PublicKey),
    Ec(p256::ecdsa::VerifyingKey),
}

/// One usable key of a set.
struct Key {
    kid: Option<String>,
    /// The JWK's `alg`, when it declares one: the key is then used for that algorithm only.
    alg: Option<String>,
    key: PublicKey,
}

impl Key {
    fn fits(&self, alg: Alg) -> bool {
        let kind = matches!((&self.key, alg), (PublicKey::Rsa(_), Alg::Rs256) | (PublicKey::Ec(_), Alg::Es256));
        kind && self.alg.as_deref().is_none_or(|declared| declared == alg.name())
    }

    /// Whether `signature` signs `input` under this key. The caller has checked [`Key::fits`].
    fn verifies(&self, input: &[u8], signature: &[u8]) -> bool {
        match &self.key {
            PublicKey::Rsa(key) => {
                let digest = Sha256::digest(input);
                key.verify(Pkcs1v15Sign::new::<Sha256>(), &digest, signature).is_ok()
            }
            PublicKey::Ec(key) => {
                // JWS carries ECDSA signatures as the fixed-size R || S (RFC 7518 §3.4), not DER.
                if signature.len() != 64 {
                    return false;
                }
                p256::ecdsa::Signature::from_slice(signature)
                    .is_ok_and(|signature| key.verify(input, &signature).is_ok())
            }
        }
    }
}

/// The usable keys of one JWKS document.
pub(crate) struct KeySet {
    keys: Vec<Key>,
}

/// What looking a key up gave.
pub(crate) enum Lookup {
    /// The key for this token; whether the signature verifies.
    Verified(bool),
    /// No key of the token's type with its `kid` (or, without a `kid`, not exactly one).
    NoKey,
}

impl KeySet {
    /// Reads a JWKS document. Keys that cannot be used for RS256 or ES256 (encryption keys, other
    /// curves, other key types, malformed or weak keys) are skipped; a document that is not a key
    /// set at all is an error.
    pub(crate) fn parse(document: &[u8]) -> Result<KeySet, String> {
        let document: Value = serde_json::from_slice(document).map_err(|e| format!("not JSON: {e}"))?;
        let Some(entries) = document.get("keys").and_then(Value::as_array) else {
            return Err("no \"keys\" array".to_owned());
        };
        let mut keys = Vec::new();
        for entry in entries {
            match Self::read_key(entry) {
                Ok(Some(key)) => keys.push(key),
                Ok(None) => {}
                Err(reason) => {
                    let kid = entry.get("kid").and_then(Value::as_str).unwrap_or("");
                    tracing::warn!(kid, reason, "JWKS key skipped");
                }
            }
        }
        Ok(KeySet { keys })
    }

    /// One JWK: `Ok(None)` for a key that is not for signatures of the accepted kinds.
    fn read_key(entry: &Value) -> Result<Option<Key>, &'static str> {
        let text = |name: &str| entry.get(name).and_then(Value::as_str);
        if text("use").is_some_and(|usage| usage != "sig") {
            return Ok(None);
        }
        let alg = text("alg").map(str::to_owned);
        if alg.as_deref().is_some_and(|alg| Alg::from_name(alg).is_none()) {
            return Ok(None);
        }
        let bytes = |name: &str| -> Result<Vec<u8>, &'static str> {
            let value = text(name).ok_or("a member is missing")?;
            URL_SAFE_NO_PAD.decode(value).map_err(|_| "a member is not base64url")
        };
        let key = match text("kty") {
            Some("RSA") => {
                let n = BoxedUint::from_be_slice_vartime(&bytes("n")?);
                let e = BoxedUint::from_be_slice_vartime(&bytes("e")?);
                // At least 2048 bits (RFC 7518 §3.3); at most 8192 bounds the work per signature.
                let key = rsa::PublicKey::new_with_size_limits(n, e, 2048..=8192).map_err(|_| "unusable RSA key")?;
                PublicKey::Rsa(key)
            }
            Some("EC") => {
                if text("crv") != Some("P-256") {
                    return Ok(None);
                }
                let (x, y) = (bytes("x")?, bytes("y")?);
                if x.len() != 32 || y.len() != 32 {
                    return Err("P-256 coordinates are not 32 bytes");
                }
                let mut point = Vec::with_capacity(65);
                point.push(0x04);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&point).map_err(|_| "not a P-256 point")?;
                PublicKey::Ec(key)
            }
            _ => return Ok(None),
        };
        Ok(Some(Key { kid: text("kid").map(str::to_owned), alg, key }))
    }

    /// Number of usable keys.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// Checks a signature with the key the token names: the key of the right type with that
    /// `kid`; without a `kid`, the only key of the right type.
    pub(crate) fn verify(&self, alg: Alg, kid: Option<&str>, input: &[u8], signature: &[u8]) -> Lookup {
        let mut candidates = self.keys.iter().filter(|key| key.fits(alg));
        let key = match kid {
            Some(kid) => candidates.find(|key| key.kid.as_deref() == Some(kid)),
            None => match (candidates.next(), candidates.next()) {
                (Some(only), None) => Some(only),
                _ => None,
            },
        };
        match key {
            Some(key) => Lookup::Verified(key.verifies(input, signature)),
            None => Lookup::NoKey,
        }
    }
}

/// Where keys come from.
#[derive(Debug, Clone)]
pub(crate) enum Origin {
    /// A JWKS file, re-read when its modification time or size changes.
    File(PathBuf),
    /// A JWKS URL.
    Url(String),
    /// The `jwks_uri` of the issuer's discovery document.
    Discovery {
        /// The expected `issuer`; the document is at `{issuer}/.well-known/openid-configuration`.
        issuer: String,
    },
}

/// The key set in use and when to look again.
#[derive(Clone)]
struct Loaded {
    keys: Option<Arc<KeySet>>,
    /// Bumped whenever the keys change, so that results verified under old keys are dropped.
    generation: u64,
    /// When a URL source is next fetched.
    next_fetch: Option<Instant>,
    /// The file's modification time and size at the last read.
    file_stamp: Option<(SystemTime, u64)>,
    /// Why the last load failed, reported while no keys are known.
    last_error: Option<String>,
    /// SHA-256 of the document last loaded, to tell a changed set from a refetched one.
    digest: Option<[u8; 32]>,
}

/// State of the loader, held across a reload (one at a time).
struct Loader {
    /// The `jwks_uri` found by discovery.
    jwks_uri: Option<String>,
    /// When a reload for an unknown `kid` last ran.
    last_forced: Option<Instant>,
}

/// Longest a discovery document or key set may be.
const MAX_DOCUMENT: u64 = 1024 * 1024;
/// Longest an HTTP fetch may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause before fetching again after a failed fetch, while no keys are known.
const RETRY_WITHOUT_KEYS: Duration = Duration::from_secs(5);
/// Pause before fetching again after a failed fetch, while the last good keys serve.
const RETRY_WITH_KEYS: Duration = Duration::from_secs(30);

/// Keys of one issuer, shared by all requests.
pub(crate) struct KeyStore {
    origin: Origin,
    refresh: Duration,
    min_refetch: Duration,
    loaded: RwLock<Loaded>,
    loader: tokio::sync::Mutex<Loader>,
    agent: ureq::Agent,
}

impl KeyStore {
    pub(crate) fn new(origin: Origin, refresh: Duration) -> KeyStore {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(FETCH_TIMEOUT))
            .http_status_as_error(true)
            .max_redirects(3)
            .user_agent("geosector")
            .build();
        KeyStore {
            origin,
            refresh,
            min_refetch: Duration::from_secs(10),
            loaded: RwLock::new(Loaded {
                keys: None,
                generation: 0,
                next_fetch: None,
                file_stamp: None,
                last_error: None,
                digest: None,
            }),
            loader: tokio::sync::Mutex::new(Loader { jwks_uri: None, last_forced: None }),
            agent: ureq::Agent::new_with_config(config),
        }
    }

    /// Sets the shortest interval between reloads caused by an unknown `kid`.
    pub(crate) fn set_min_refetch(&mut self, interval: Duration) {
        self.min_refetch = interval;
    }

    fn snapshot(&self) -> Loaded {
        // A poisoned lock only means a panic elsewhere while holding it; the data is still whole.
        self.loaded.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// The generation of the current keys.
    pub(crate) fn generation(&self) -> u64 {
        self.loaded.read().unwrap_or_else(std::sync::PoisonError::into_inner).generation
    }

    /// Whether the current state needs a reload (not for an unknown `kid`).
    fn is_due(&self, loaded: &Loaded) -> bool {
        match &self.origin {
            Origin::File(path) => {
                (loaded.keys.is_none() && loaded.file_stamp.is_none()) || stamp(path) != loaded.file_stamp
            }
            Origin::Url(_) | Origin::Discovery { .. } => loaded.next_fetch.is_none_or(|at| Instant::now() >= at),
        }
    }

    /// The current keys and their generation, reloading first when they are due.
    pub(crate) async fn current(&self) -> Result<(Arc<KeySet>, u64), String> {
        let loaded = self.snapshot();
        let loaded = if !self.is_due(&loaded) {
            loaded
        } else if loaded.keys.is_some() {
            // A refresh: one request does it, the others go on with the keys they have.
            match self.loader.try_lock() {
                Ok(mut loader) => self.reload(&mut loader).await,
                Err(_) => loaded,
            }
        } else {
            // The first load: wait for it.
            let mut loader = self.loader.lock().await;
            // Another request may have loaded while this one waited.
            let loaded = self.snapshot();
            if self.is_due(&loaded) {
                self.reload(&mut loader).await
            } else {
                loaded
            }
        };
        match loaded.keys {
            Some(keys) => Ok((keys, loaded.generation)),
            None => Err(loaded.last_error.unwrap_or_else(|| "no keys loaded".to_owned())),
        }
    }

    /// Reloads because a token names a key the set `generation` does not hold; `None` when a
    /// reload ran too recently or another request already reloaded to the same keys.
    pub(crate) async fn reload_for_unknown_key(&self, generation: u64) -> Option<(Arc<KeySet>, u64)> {
        let mut loader = self.loader.lock().await;
        let loaded = self.snapshot();
        if loaded.generation != generation {
            // Reloaded (with different keys) while this request waited: try those.
            return loaded.keys.map(|keys| (keys, loaded.generation));
        }
        let now = Instant::now();
        if loader.last_forced.is_some_and(|at| now.duration_since(at) < self.min_refetch) {
            return None;
        }
        loader.last_forced = Some(now);
        let loaded = self.reload(&mut loader).await;
        if loaded.generation == generation {
            return None;
        }
        loaded.keys.map(|keys| (keys, loaded.generation))
    }

    /// Loads the keys from the origin and installs them; on failure keeps the last good keys.
    async fn reload(&self, loader: &mut Loader) -> Loaded {
        let file_stamp = match &self.origin {
            Origin::File(path) => stamp(path),
            _ => None,
        };
        let result = self.load_document(loader).await.and_then(|document| {
            let keys = KeySet::parse(&document)?;
            let digest: [u8; 32] = Sha256::digest(&document).into();
            Ok((keys, digest))
        });
        let mut loaded = self.loaded.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        loaded.file_stamp = file_stamp;
        match result {
            Ok((keys, digest)) => {
                loaded.next_fetch = Some(Instant::now() + self.refresh);
                loaded.last_error = None;
                if loaded.digest != Some(digest) {
                    tracing::info!(keys = keys.len(), "signing keys loaded");
                    loaded.keys = Some(Arc::new(keys));
                    loaded.digest = Some(digest);
                    loaded.generation += 1;
                }
            }
            Err(reason) => {
                tracing::warn!(reason, kept = loaded.keys.is_some(), "signing keys could not be loaded");
                let pause = if loaded.keys.is_some() { RETRY_WITH_KEYS } else { RETRY_WITHOUT_KEYS };
                loaded.next_fetch = Some(Instant::now() + pause.min(self.refresh));
                loaded.last_error = Some(reason);
            }
        }
        loaded.clone()
    }

    async fn load_document(&self, loader: &mut Loader) -> Result<Vec<u8>, String> {
        match &self.origin {
            Origin::File(path) => {
                // A small local file: read in place rather than on the blocking pool.
                std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
            }
            Origin::Url(url) => self.get(url.clone()).await,
            Origin::Discovery { issuer } => {
                let jwks_uri = match &loader.jwks_uri {
                    Some(uri) => uri.clone(),
                    None => {
                        let uri = self.discover(issuer).await?;
                        loader.jwks_uri = Some(uri.clone());
                        uri
                    }
                };
                let result = self.get(jwks_uri).await;
                if result.is_err() {
                    // The issuer may have moved its keys: discover again next time.
                    loader.jwks_uri = None;
                }
                result
            }
        }
    }

    /// Reads the `jwks_uri` from the issuer's discovery document (OpenID Connect Discovery 1.0
    /// §4), whose `issuer` must be the one expected (§4.3).
    async fn discover(&self, issuer: &str) -> Result<String, String> {
        let url = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
        let document = self.get(url).await?;
        let document: Value =
            serde_json::from_slice(&document).map_err(|e| format!("discovery document is not JSON: {e}"))?;
        if document.get("issuer").and_then(Value::as_str) != Some(issuer) {
            return Err("discovery document names another issuer".to_owned());
        }
        match document.get("jwks_uri").and_then(Value::as_str) {
            Some(uri) if is_http_url(uri) => Ok(uri.to_owned()),
            _ => Err("discovery document has no http(s) jwks_uri".to_owned()),
        }
    }

    /// GETs a document; blocking I/O on tokio's blocking pool.
    async fn get(&self, url: String) -> Result<Vec<u8>, String> {
        let agent = self.agent.clone();
        let fetch = move || -> Result<Vec<u8>, String> {
            let mut response = agent.get(&url).call().map_err(|e| format!("GET {url}: {e}"))?;
            response.body_mut().with_config().limit(MAX_DOCUMENT).read_to_vec().map_err(|e| format!("GET {url}: {e}"))
        };
        tokio::task::spawn_blocking(fetch).await.map_err(|e| format!("fetch task failed: {e}"))?
    }
}

/// A file's modification time and size, `None` when it cannot be read.
fn stamp(path: &std::path::Path) -> Option<(SystemTime, u64)> {
    let metadata = std::fs::metadata(path).ok()?;
    Some((metadata.modified().ok()?, metadata.len()))
}

/// Whether `url` is an absolute http or https URL.
pub(crate) fn is_http_url(url: &str) -> bool {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/') && !rest.contains(char::is_whitespace))
}
