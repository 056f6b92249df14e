//! A small OpenID Connect issuer for tests: a discovery document and a JWKS served over HTTP on
//! `127.0.0.1`, RSA-2048 and P-256 keys made at start (never stored), tokens signed with them,
//! keys rotated on demand, and the malformed tokens an attacker would try.
//!
//! Paths follow Keycloak's layout: the issuer is `http://127.0.0.1:<port>/realms/geosector`, its
//! keys are at `<issuer>/protocol/openid-connect/certs`. The server runs on its own thread, so it
//! works under any async runtime (or none) and stops when the [`TestIssuer`](crate::test_issuer::TestIssuer) is dropped.
//!
//! Only for tests: it panics when something it needs (a socket, randomness) fails.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use p256::ecdsa::signature::Signer as _;
use rsa::sha2::{Digest as _, Sha256};
use rsa::traits::PublicKeyParts as _;
use rsa::Pkcs1v15Sign;
use serde_json::{json, Value};

/// The signature algorithm of a test token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    /// RSASSA-PKCS1-v1_5 with SHA-256, with the current RSA-2048 key.
    Rs256,
    /// ECDSA on P-256 with SHA-256, with the current P-256 key.
    Es256,
}

/// One generation of keys.
struct KeyPair {
    rsa_kid: String,
    rsa: rsa::PrivateKey,
    ec_kid: String,
    ec: p256::ecdsa::SigningKey,
}

impl KeyPair {
    fn generate(generation: usize) -> KeyPair {
        let rsa = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).expect("RSA key generation");
        let ec =
            <p256::ecdsa::SigningKey as p256::elliptic_curve::Generate>::try_generate_from_rng(&mut getrandom::SysRng)
                .expect("P-256 key generation");
        KeyPair { rsa_kid: format!("rsa-{generation}"), rsa, ec_kid: format!("ec-{generation}"), ec }
    }

    fn jwks_entries(&self) -> [Value; 2] {
        let point = self.ec.verifying_key().to_sec1_point(false);
        let (x, y) =
            (point.x().map(|x| x.to_vec()).unwrap_or_default(), point.y().map(|y| y.to_vec()).unwrap_or_default());
        [
            json!({
                "kid": self.rsa_kid, "kty": "RSA", "alg": "RS256", "use": "sig",
                "n": URL_SAFE_NO_PAD.encode(self.rsa.n_bytes()), "e": URL_SAFE_NO_PAD.encode(self.rsa.e_bytes()),
            }),
            json!({
                "kid": self.ec_kid, "kty": "EC", "alg": "ES256", "use": "sig", "crv": "P-256",
                "x": URL_SAFE_NO_PAD.encode(x), "y": URL_SAFE_NO_PAD.encode(y),
            }),
        ]
    }
}

/// Keys served and used.
struct Keys {
    /// The keys that sign; the last one is current.
    pairs: Vec<KeyPair>,
    /// How many of the last pairs the JWKS publishes.
    published: usize,
}

/// State shared with the server thread.
struct Shared {
    keys: Mutex<Keys>,
    issuer: String,
    jwks_requests: AtomicUsize,
    discovery_requests: AtomicUsize,
    available: AtomicBool,
    stop: AtomicBool,
}

impl Shared {
    fn keys(&self) -> MutexGuard<'_, Keys> {
        self.keys.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn jwks(&self) -> Value {
        let keys = self.keys();
        let published = keys.pairs.iter().rev().take(keys.published);
        // Keycloak also publishes an encryption key; a verifier must not use it for signatures.
        let mut entries: Vec<Value> = published.flat_map(KeyPair::jwks_entries).collect();
        if let Some(Value::Object(first)) = entries.first() {
            let mut enc = first.clone();
            enc.insert("kid".into(), json!("enc-1"));
            enc.insert("use".into(), json!("enc"));
            enc.insert("alg".into(), json!("RSA-OAEP"));
            entries.push(Value::Object(enc));
        }
        json!({ "keys": entries })
    }
}

/// A running test issuer. Dropping it stops the server.
pub struct TestIssuer {
    shared: Arc<Shared>,
    address: std::net::SocketAddr,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for TestIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestIssuer").field("issuer", &self.shared.issuer).finish_non_exhaustive()
    }
}

impl TestIssuer {
    /// Makes keys and starts serving on a free port of `127.0.0.1`.
    ///
    /// # Panics
    /// If no port can be bound or key generation fails.
    #[must_use]
    pub fn start() -> TestIssuer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let address = listener.local_addr().expect("local address");
        let shared = Arc::new(Shared {
            keys: Mutex::new(Keys { pairs: vec![KeyPair::generate(1)], published: 1 }),
            issuer: format!("http://{address}/realms/geosector"),
            jwks_requests: AtomicUsize::new(0),
            discovery_requests: AtomicUsize::new(0),
            available: AtomicBool::new(true),
            stop: AtomicBool::new(false),
        });
        let served = Arc::clone(&shared);
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if served.stop.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    serve(&served, stream);
                }
            }
        });
        TestIssuer { shared, address, thread: Some(thread) }
    }

    /// The issuer (`iss`) URL, e.g. `http://127.0.0.1:41234/realms/geosector`.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.shared.issuer
    }

    /// The URL of the JWKS.
    #[must_use]
    pub fn jwks_url(&self) -> String {
        format!("{}/protocol/openid-connect/certs", self.shared.issuer)
    }

    /// The JWKS document as served now (e.g. to write a JWKS file).
    #[must_use]
    pub fn jwks_json(&self) -> String {
        self.shared.jwks().to_string()
    }

    /// How many times the JWKS was fetched.
    #[must_use]
    pub fn jwks_requests(&self) -> usize {
        self.shared.jwks_requests.load(Ordering::SeqCst)
    }

    /// How many times the discovery document was fetched.
    #[must_use]
    pub fn discovery_requests(&self) -> usize {
        self.shared.discovery_requests.load(Ordering::SeqCst)
    }

    /// While `false`, every request is answered `503 Service Unavailable`.
    pub fn set_available(&self, available: bool) {
        self.shared.available.store(available, Ordering::SeqCst);
    }

    /// Keycloak-shaped claims for `subject`, valid for five minutes: `iss` is this issuer, `aud`
    /// is `audience`, with `iat`, `exp`, `typ: Bearer` and `preferred_username`.
    #[must_use]
    pub fn claims(&self, subject: &str, audience: &str) -> Value {
        let now = unix_now();
        json!({
            "iss": self.url(), "aud": audience, "sub": subject, "iat": now, "exp": now + 300,
            "typ": "Bearer", "azp": audience, "preferred_username": subject,
        })
    }

    /// Signs `claims` with the current key of the algorithm, naming its `kid`.
    #[must_use]
    pub fn sign(&self, claims: &Value, alg: Alg) -> String {
        let kid = {
            let keys = self.shared.keys();
            let current = keys.pairs.last().expect("there is always a current key");
            match alg {
                Alg::Rs256 => current.rsa_kid.clone(),
                Alg::Es256 => current.ec_kid.clone(),
            }
        };
        let name = match alg {
            Alg::Rs256 => "RS256",
            Alg::Es256 => "ES256",
        };
        self.sign_with_header(&json!({"alg": name, "typ": "JWT", "kid": kid}), claims, alg)
    }

    /// Signs `claims` under the given header with the current key of the algorithm. The header is
    /// used as given (e.g. without a `kid`, or with another one).
    #[must_use]
    pub fn sign_with_header(&self, header: &Value, claims: &Value, alg: Alg) -> String {
        let input = format!("{}.{}", encode_json(header), encode_json(claims));
        let keys = self.shared.keys();
        let current = keys.pairs.last().expect("there is always a current key");
        let signature = match alg {
            Alg::Rs256 => {
                current.rsa.sign(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(input.as_bytes())).expect("RSA signing")
            }
            Alg::Es256 => {
                let signature: p256::ecdsa::Signature = current.ec.sign(input.as_bytes());
                signature.to_bytes().to_vec()
            }
        };
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// Makes a new current key pair (RSA and P-256) and publishes it; with `keep_old`, the keys
    /// published before stay published too (a graceful rotation), otherwise they are withdrawn.
    pub fn rotate(&self, keep_old: bool) {
        let generation = self.shared.keys().pairs.len() + 1;
        let pair = KeyPair::generate(generation);
        let mut keys = self.shared.keys();
        keys.pairs.push(pair);
        keys.published = if keep_old { keys.published + 1 } else { 1 };
    }

    /// An unsecured JWS (`alg: none`, empty signature) carrying `claims`.
    #[must_use]
    pub fn unsigned(claims: &Value) -> String {
        format!("{}.{}.", encode_json(&json!({"alg": "none", "typ": "JWT"})), encode_json(claims))
    }

    /// `token` with its claims replaced by `claims`, header and signature kept.
    #[must_use]
    pub fn tampered(token: &str, claims: &Value) -> String {
        let mut parts = token.split('.');
        let header = parts.next().unwrap_or_default();
        let _ = parts.next();
        let signature = parts.next().unwrap_or_default();
        format!("{header}.{}.{signature}", encode_json(claims))
    }

    /// The key-confusion attack: an HS256 token whose HMAC secret is the current RSA public key's
    /// JWK text, naming the RSA key's `kid`.
    #[must_use]
    pub fn hs256_with_public_key(&self, claims: &Value) -> String {
        let (kid, secret) = {
            let keys = self.shared.keys();
            let current = keys.pairs.last().expect("there is always a current key");
            let [rsa, _] = current.jwks_entries();
            (current.rsa_kid.clone(), rsa.to_string())
        };
        let input =
            format!("{}.{}", encode_json(&json!({"alg": "HS256", "typ": "JWT", "kid": kid})), encode_json(claims));
        let mac = hmac_sha256(secret.as_bytes(), input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(mac))
    }
}

impl Drop for TestIssuer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.address);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Answers one HTTP/1.1 request and closes the connection.
fn serve(shared: &Shared, mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut request = Vec::new();
    let mut buffer = [0u8; 2048];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16 * 1024 {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => request.extend_from_slice(&buffer[..n]),
        }
    }
    let request = String::from_utf8_lossy(&request);
    let target =
        request.lines().next().and_then(|line| line.strip_prefix("GET ")).and_then(|rest| rest.split(' ').next());
    let path =
        target.map(|target| target.strip_prefix(&format!("http://{}", host_of(&shared.issuer))).unwrap_or(target));
    let issuer_path = path_of(&shared.issuer);
    let (status, body) = if !shared.available.load(Ordering::SeqCst) {
        ("503 Service Unavailable", json!({"error": "unavailable"}))
    } else if path == Some(&format!("{issuer_path}/.well-known/openid-configuration")) {
        shared.discovery_requests.fetch_add(1, Ordering::SeqCst);
        let issuer = &shared.issuer;
        let document = json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/protocol/openid-connect/auth"),
            "token_endpoint": format!("{issuer}/protocol/openid-connect/token"),
            "jwks_uri": format!("{issuer}/protocol/openid-connect/certs"),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        });
        ("200 OK", document)
    } else if path == Some(&format!("{issuer_path}/protocol/openid-connect/certs")) {
        shared.jwks_requests.fetch_add(1, Ordering::SeqCst);
        ("200 OK", shared.jwks())
    } else {
        ("404 Not Found", json!({"error": "not found"}))
    };
    let body = body.to_string();
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes());
    let _ = stream.flush();
}

/// `127.0.0.1:port` of `http://127.0.0.1:port/path`.
fn host_of(url: &str) -> &str {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    rest.split('/').next().unwrap_or(rest)
}

/// `/path` of `http://host/path`.
fn path_of(url: &str) -> &str {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    rest.find('/').map_or("", |at| &rest[at..])
}

fn encode_json(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs())
}

/// HMAC-SHA-256 (RFC 2104), enough to forge the tokens a verifier must refuse.
fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|k| k ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new().chain_update(pad(0x36)).chain_update(message).finalize();
    Sha256::new().chain_update(pad(0x5c)).chain_update(inner).finalize().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }
}
