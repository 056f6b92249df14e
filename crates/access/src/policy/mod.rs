//! The access policy: operations × collections granted to roles, each grant with an area scope
//! and, for personal properties, whether they are shown whole, masked or not at all.
//!
//! A policy is data, read from a TOML file ([`PolicyFile`]) and reloaded when the file changes
//! ([`PolicyHandle`]); [`Policy::access`] answers, for one identity and one collection, what it
//! may do there. Restricted collections (personal data) are closed by default: only a grant that
//! names one exactly opens it, and to everyone else it does not exist.

mod file;
mod grants;
mod reload;

pub use file::{AreaSpec, Grant, Operation, PolicyFile};
pub use grants::{CollectionAccess, Policy, Rows};
pub use reload::PolicyHandle;
