//! Identities: bearer tokens and API keys resolved into a subject, roles and area codes.
//!
//! A request carries a bearer token ([`token`]: a JWT checked locally against the issuer's keys),
//! an API key ([`apikey`]: for clients that cannot send headers), or nothing. Each becomes an
//! [`Identity`]; what that identity may do is the policy's business, not this module's.

pub mod apikey;
mod jwks;
pub mod token;

pub use apikey::ApiKey;
pub use token::{TokenError, TokenSettings, TokenVerifier};

/// Who is calling: the subject, its roles and the area codes it is scoped to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The token's `sub`; `key:<key id>` for an API key; `anonymous` without credentials.
    pub subject: String,
    /// The token's `preferred_username`, when present.
    pub username: Option<String>,
    /// Role names, sorted and deduplicated.
    pub roles: Vec<String>,
    /// Area codes (e.g. province codes) from the configured area claim, sorted and deduplicated.
    pub areas: Vec<String>,
    /// What the identity was established from.
    pub source: Source,
}

/// What an [`Identity`] was established from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// No credentials were presented.
    Anonymous,
    /// A verified bearer token.
    Token,
    /// An API key, with its public id.
    ApiKey {
        /// The key's id (the part of the presented key that is not secret).
        id: String,
    },
}

impl Identity {
    /// The identity of a caller without credentials, holding the roles configured for anonymous
    /// access.
    #[must_use]
    pub fn anonymous(roles: Vec<String>) -> Identity {
        Identity {
            subject: "anonymous".to_owned(),
            username: None,
            roles: sorted_unique(roles),
            areas: Vec::new(),
            source: Source::Anonymous,
        }
    }

    /// The identity of a caller presenting the API key `id`, holding the roles and areas stored
    /// with the key (its scope). The caller has checked the key's secret and expiry.
    #[must_use]
    pub fn api_key(id: &str, roles: Vec<String>, areas: Vec<String>) -> Identity {
        Identity {
            subject: format!("key:{id}"),
            username: None,
            roles: sorted_unique(roles),
            areas: sorted_unique(areas),
            source: Source::ApiKey { id: id.to_owned() },
        }
    }
}

/// Sorts and deduplicates a list of names.
pub(crate) fn sorted_unique(mut names: Vec<String>) -> Vec<String> {
    names.sort_unstable();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anonymous_roles_are_sorted_and_unique() {
        let id = Identity::anonymous(vec!["public".into(), "guest".into(), "public".into()]);
        assert_eq!(id.subject, "anonymous");
        assert_eq!(id.roles, ["guest", "public"]);
        assert!(id.areas.is_empty());
        assert_eq!(id.source, Source::Anonymous);
    }

    #[test]
    fn api_key_identity_names_the_key() {
        let id = Identity::api_key("0123456789ab", vec!["viewer".into()], vec!["79".into(), "01".into()]);
        assert_eq!(id.subject, "key:0123456789ab");
        assert_eq!(id.areas, ["01", "79"]);
        assert_eq!(id.source, Source::ApiKey { id: "0123456789ab".into() });
    }
}
