//! The policy file: roles of anonymous and authenticated callers, the token settings, the audit
//! retention and the grants. Unknown keys are an error, so a misspelt rule never silently grants
//! or withholds anything.

use serde::Deserialize;

use crate::identity::TokenSettings;

/// One operation on a collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// Items, single features, time series and exports.
    ReadItems,
    /// Vector tiles (collection and dataset tiles).
    ReadTiles,
    /// Edits.
    Write,
    /// Personal properties, whole or masked (with `read_items` or `read_tiles`).
    ReadRestricted,
    /// Administration.
    Admin,
}

impl Operation {
    /// Its name in the policy file.
    pub fn name(self) -> &'static str {
        match self {
            Operation::ReadItems => "read_items",
            Operation::ReadTiles => "read_tiles",
            Operation::Write => "write",
            Operation::ReadRestricted => "read_restricted",
            Operation::Admin => "admin",
        }
    }
}

/// Where a grant applies.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum AreaSpec {
    /// Province (2-digit) and commune (5-digit) codes.
    Codes(Vec<String>),
    /// `"all"`: everywhere; `"claim"`: the caller's own area codes (token claim or key scope).
    Keyword(String),
}

impl Default for AreaSpec {
    fn default() -> Self {
        AreaSpec::Keyword("all".into())
    }
}

/// One grant: a role may do these operations on these collections, in this area.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    /// The role.
    pub role: String,
    /// Collection ids; `*` or `prefix.*` match every public collection (never a restricted one,
    /// which must be named).
    pub collections: Vec<String>,
    /// The operations.
    pub operations: Vec<Operation>,
    /// The area (default: everywhere).
    #[serde(default)]
    pub area: AreaSpec,
    /// Personal properties this grant shows masked rather than whole.
    #[serde(default)]
    pub masked: Vec<String>,
    /// Personal properties this grant does not show at all.
    #[serde(default)]
    pub absent: Vec<String>,
}

/// The audit settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditSettings {
    /// Days an audit row is kept (`geosector audit prune` and the server's daily pruning).
    pub retention_days: u32,
}

impl Default for AuditSettings {
    fn default() -> Self {
        AuditSettings { retention_days: 3650 }
    }
}

/// The policy file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// Roles of a caller without credentials.
    #[serde(default = "anonymous_roles")]
    pub anonymous_roles: Vec<String>,
    /// Roles every caller with a valid token or key holds besides its own.
    #[serde(default = "authenticated_roles")]
    pub authenticated_roles: Vec<String>,
    /// Bearer tokens (`None`: tokens are refused).
    pub token: Option<TokenSettings>,
    /// The audit log.
    #[serde(default)]
    pub audit: AuditSettings,
    /// The grants.
    #[serde(default, rename = "grant")]
    pub grants: Vec<Grant>,
}

fn anonymous_roles() -> Vec<String> {
    vec!["anonymous".into()]
}

fn authenticated_roles() -> Vec<String> {
    vec!["anonymous".into(), "authenticated".into()]
}

impl Default for PolicyFile {
    /// Without a policy file: every public collection readable (items and tiles) by anyone,
    /// restricted collections closed, tokens refused.
    fn default() -> Self {
        PolicyFile {
            anonymous_roles: anonymous_roles(),
            authenticated_roles: authenticated_roles(),
            token: None,
            audit: AuditSettings::default(),
            grants: vec![Grant {
                role: "anonymous".into(),
                collections: vec!["*".into()],
                operations: vec![Operation::ReadItems, Operation::ReadTiles],
                area: AreaSpec::default(),
                masked: Vec::new(),
                absent: Vec::new(),
            }],
        }
    }
}

impl PolicyFile {
    /// Reads a policy from TOML text.
    ///
    /// # Errors
    /// The unknown key, bad value or bad area code, with its place.
    pub fn from_toml(text: &str) -> Result<PolicyFile, String> {
        let file: PolicyFile = toml::from_str(text).map_err(|e| e.to_string())?;
        file.check()?;
        Ok(file)
    }

    fn check(&self) -> Result<(), String> {
        for (i, grant) in self.grants.iter().enumerate() {
            let at = format!("grant {} (role {})", i + 1, grant.role);
            if grant.role.is_empty() {
                return Err(format!("{at}: role is empty"));
            }
            if grant.collections.is_empty() || grant.operations.is_empty() {
                return Err(format!("{at}: needs at least one collection and one operation"));
            }
            match &grant.area {
                AreaSpec::Keyword(k) if k == "all" || k == "claim" => {}
                AreaSpec::Keyword(k) => {
                    return Err(format!("{at}: area {k:?}: expected \"all\", \"claim\" or a list of codes"))
                }
                AreaSpec::Codes(codes) => {
                    if let Some(bad) = codes.iter().find(|c| !is_area_code(c)) {
                        return Err(format!(
                            "{at}: area code {bad:?}: expected a 2-digit province or a 5-digit commune code"
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

/// A 2-digit province or 5-digit commune code.
pub(crate) fn is_area_code(code: &str) -> bool {
    matches!(code.len(), 2 | 5) && code.bytes().all(|b| b.is_ascii_digit())
}
