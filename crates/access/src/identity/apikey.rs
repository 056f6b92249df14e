//! API keys for clients that cannot send an `Authorization` header (e.g. a WMS-style URL in a
//! desktop GIS).
//!
//! A key reads `gsk_<id>_<secret>`: `id` is 12 lowercase hex characters and names the key (it
//! may be logged), `secret` is 32 random bytes in unpadded base64url (43 characters). Only the
//! id and a hash of the secret are stored, next to the key's expiry and scope; the plaintext is
//! shown once, when the key is made.
//!
//! The hash is a plain SHA-256: the secret has 256 bits of entropy, so it cannot be guessed or
//! brute-forced from its hash, and a slow password hash would only cost time on every request.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rsa::sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

/// The prefix of every key, so that a leaked key is recognisable (e.g. by secret scanners).
const PREFIX: &str = "gsk_";
/// Length of the id in hex characters (6 random bytes).
const ID_LEN: usize = 12;
/// Random bytes in a secret.
const SECRET_BYTES: usize = 32;
/// Longest secret accepted in base64url characters (a generated one has 43).
const MAX_SECRET_LEN: usize = 128;

/// A presented key, split into its public id and its secret.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// The key's id: 12 lowercase hex characters.
    pub id: String,
    /// The secret part, to be checked with [`matches()`] against the stored hash.
    pub secret: String,
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey").field("id", &self.id).field("secret", &"<redacted>").finish()
    }
}

/// Makes a new key: `(plaintext to show once, id, hash to store)`.
///
/// # Panics
/// If the operating system's random number generator fails, which a server cannot recover from
/// (it could not make keys, nor TLS sessions).
#[must_use]
pub fn generate() -> (String, String, String) {
    let mut id = [0u8; ID_LEN / 2];
    let mut secret = [0u8; SECRET_BYTES];
    // No safe key can be made without the system's random source: failing loudly is right.
    getrandom::fill(&mut id).expect("the system's random number generator failed");
    getrandom::fill(&mut secret).expect("the system's random number generator failed");
    let id: String = id.iter().map(|b| format!("{b:02x}")).collect();
    let secret = URL_SAFE_NO_PAD.encode(secret);
    let hashed = hash(&secret);
    (format!("{PREFIX}{id}_{secret}"), id, hashed)
}

/// Splits a presented key into id and secret; `None` for anything that is not a well-formed key.
#[must_use]
pub fn parse(presented: &str) -> Option<ApiKey> {
    let rest = presented.strip_prefix(PREFIX)?;
    // The secret's alphabet includes `_`, so split by position, not by separator.
    let id = rest.get(..ID_LEN)?;
    let secret = rest.get(ID_LEN..)?.strip_prefix('_')?;
    if !id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return None;
    }
    if secret.len() > MAX_SECRET_LEN {
        return None;
    }
    let decoded = URL_SAFE_NO_PAD.decode(secret).ok()?;
    if decoded.len() < SECRET_BYTES {
        return None;
    }
    Some(ApiKey { id: id.to_owned(), secret: secret.to_owned() })
}

/// The hash stored for a secret: SHA-256, as 64 lowercase hex characters.
#[must_use]
pub fn hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `secret` hashes to `stored_hash`, compared in constant time.
#[must_use]
pub fn matches(secret: &str, stored_hash: &str) -> bool {
    let computed = hash(secret);
    // `ct_eq` on slices of different lengths is false without comparing contents; the length of a
    // stored hash is not secret.
    bool::from(computed.as_bytes().ct_eq(stored_hash.trim().to_ascii_lowercase().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_key_parses_and_matches_its_hash() {
        let (plain, id, hashed) = generate();
        assert!(plain.starts_with("gsk_"));
        assert_eq!(id.len(), 12);
        assert_eq!(hashed.len(), 64);
        let key = parse(&plain).expect("a generated key parses");
        assert_eq!(key.id, id);
        assert_eq!(key.secret.len(), 43);
        assert!(matches(&key.secret, &hashed));
        assert!(!plain.contains(&hashed), "the plaintext does not carry its hash");
    }

    #[test]
    fn two_keys_differ() {
        let (a, id_a, hash_a) = generate();
        let (b, id_b, hash_b) = generate();
        assert_ne!(a, b);
        assert_ne!(id_a, id_b);
        assert_ne!(hash_a, hash_b);
    }

    #[test]
    fn wrong_secret_or_hash_does_not_match() {
        let (plain, _, hashed) = generate();
        let key = parse(&plain).expect("a generated key parses");
        let (other, _, other_hash) = generate();
        let other = parse(&other).expect("a generated key parses");
        assert!(!matches(&other.secret, &hashed));
        assert!(!matches(&key.secret, &other_hash));
        assert!(!matches(&key.secret, ""));
        assert!(!matches(&key.secret, &hashed[..63]));
        assert!(matches(&key.secret, &hashed.to_ascii_uppercase()), "hex case is not significant");
    }

    #[test]
    fn hash_is_sha256_hex() {
        // SHA-256 of "abc" (FIPS 180-2, appendix B.1).
        assert_eq!(hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn malformed_keys_are_refused() {
        let (plain, _, _) = generate();
        let secret = &plain[17..];
        let long_secret = "A".repeat(200);
        let cases = [
            String::new(),
            "gsk_".to_owned(),
            "gsk_0123456789ab".to_owned(),
            "gsk_0123456789ab_".to_owned(),
            format!("gsx_0123456789ab_{secret}"),
            format!("0123456789ab_{secret}"),
            format!("gsk_0123456789AB_{secret}"),
            format!("gsk_0123456789ag_{secret}"),
            format!("gsk_0123456789a_{secret}"),
            format!("gsk_0123456789abc{secret}"),
            format!("gsk_0123456789ab_{}", &secret[..20]),
            format!("gsk_0123456789ab_{secret}="),
            format!("gsk_0123456789ab_{secret}!"),
            format!("gsk_0123456789ab_{long_secret}"),
            "gsk_ééééééééééé_x".to_owned(),
            "gsk_0123456789é_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx".to_owned(),
        ];
        for case in &cases {
            assert!(parse(case).is_none(), "{case:?} parsed");
        }
        assert!(parse(&format!("gsk_0123456789ab_{secret}")).is_some());
    }
}
