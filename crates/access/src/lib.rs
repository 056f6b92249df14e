//! Who is calling, and what they may do.
//!
//! [`identity`] turns what a request carries (a bearer token, an API key, or nothing) into an
//! [`identity::Identity`]: a subject, roles and area codes. [`policy`] turns an identity into what
//! it may do with each collection: which operations, over which rows (an area scope the store
//! adds to every read), and which properties it sees whole, masked or not at all. Neither part
//! knows HTTP or SQL: the server asks, the store applies.

pub mod identity;
pub mod policy;
/// A small OIDC-shaped issuer (discovery, JWKS, signed tokens, key rotation) for tests.
#[cfg(feature = "test-issuer")]
pub mod test_issuer;
