//! What one identity may do with one collection: the grants of its roles that match the
//! collection, folded into the rows of each operation and the personal properties it sees.
//!
//! Personal properties are shown (whole or masked) only when the grants that read restricted
//! fields cover every row the caller reads: a caller never sees an owner's name on a row its
//! restricted grants do not reach. Codes are compared as given (a commune is covered by a
//! province only when both are listed); that errs on the side of hiding.

use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};

use geosector_domain::CollectionDecl;

use super::file::{AreaSpec, Grant, Operation, PolicyFile};
use crate::identity::{Identity, Source, TokenVerifier};

/// The rows of a collection an operation reaches.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Rows {
    /// Every row.
    All,
    /// The rows in these areas (sorted province and commune codes; empty: none).
    In(Vec<String>),
}

impl Rows {
    fn union(self, other: Rows) -> Rows {
        match (self, other) {
            (Rows::All, _) | (_, Rows::All) => Rows::All,
            (Rows::In(a), Rows::In(b)) => {
                let set: BTreeSet<String> = a.into_iter().chain(b).collect();
                Rows::In(set.into_iter().collect())
            }
        }
    }

    fn covers(&self, other: &Rows) -> bool {
        match (self, other) {
            (Rows::All, _) => true,
            (Rows::In(_), Rows::All) => false,
            (Rows::In(mine), Rows::In(theirs)) => theirs.iter().all(|c| mine.contains(c)),
        }
    }
}

/// What a caller may do with one collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionAccess {
    /// Whether the caller may know the collection exists (always, for a public one).
    pub visible: bool,
    /// The rows items reach (`None`: no `read_items`).
    pub items: Option<Rows>,
    /// The rows tiles reach (`None`: no `read_tiles`).
    pub tiles: Option<Rows>,
    /// The rows edits reach (`None`: no `write`).
    pub write: Option<Rows>,
    /// Personal properties shown whole.
    pub whole: Vec<&'static str>,
    /// Personal properties shown masked.
    pub masked: Vec<&'static str>,
}

impl CollectionAccess {
    /// The rows an operation reaches (`None`: not granted).
    pub fn rows(&self, operation: Operation) -> Option<&Rows> {
        match operation {
            Operation::ReadItems => self.items.as_ref(),
            Operation::ReadTiles => self.tiles.as_ref(),
            Operation::Write => self.write.as_ref(),
            Operation::ReadRestricted | Operation::Admin => None,
        }
    }

    /// A key for what an operation's responses hold: equal keys, equal responses. `0` is every
    /// row with no personal property (what an unrestricted public reader gets), so caches
    /// shared with today's public responses keep their entries.
    pub fn fingerprint(&self, operation: Operation) -> u64 {
        let rows = self.rows(operation);
        if matches!(rows, Some(Rows::All)) && self.whole.is_empty() && self.masked.is_empty() {
            return 0;
        }
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (rows, &self.whole, &self.masked).hash(&mut hasher);
        hasher.finish().max(1)
    }
}

/// A loaded policy, with its token verifier.
pub struct Policy {
    /// The file it was read from (or the default).
    pub file: PolicyFile,
    /// The verifier of bearer tokens (`None`: tokens are refused).
    pub tokens: Option<std::sync::Arc<TokenVerifier>>,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy").field("file", &self.file).finish_non_exhaustive()
    }
}

impl Policy {
    /// A policy from its file. The previous policy's token verifier (and the keys it cached) is
    /// kept when the token settings did not change.
    ///
    /// # Errors
    /// Token settings the verifier refuses.
    pub fn new(file: PolicyFile, previous: Option<&Policy>) -> Result<Policy, String> {
        let kept = previous.filter(|p| p.file.token == file.token);
        let tokens = match (kept, &file.token) {
            (Some(previous), _) => previous.tokens.clone(),
            (None, Some(settings)) => {
                Some(std::sync::Arc::new(TokenVerifier::new(settings.clone()).map_err(|e| format!("token: {e}"))?))
            }
            (None, None) => None,
        };
        Ok(Policy { file, tokens })
    }

    /// The roles a caller holds: its own and, by how it came, the anonymous or authenticated
    /// ones.
    pub fn roles_of(&self, identity: &Identity) -> Vec<String> {
        let extra = match identity.source {
            Source::Anonymous => &self.file.anonymous_roles,
            Source::Token | Source::ApiKey { .. } => &self.file.authenticated_roles,
        };
        let set: BTreeSet<String> = identity.roles.iter().chain(extra).cloned().collect();
        set.into_iter().collect()
    }

    /// What an identity may do with a collection.
    pub fn access(&self, identity: &Identity, collection: &'static CollectionDecl) -> CollectionAccess {
        let roles = self.roles_of(identity);
        let restricted = collection.access.restricted;
        let area_bound = collection.access.area.is_some();
        let grants: Vec<&Grant> = self
            .file
            .grants
            .iter()
            .filter(|g| roles.contains(&g.role) && g.collections.iter().any(|p| matches(p, collection.id, restricted)))
            .collect();
        let rows_of = |grant: &Grant| -> Rows {
            if !area_bound {
                return Rows::All;
            }
            match &grant.area {
                AreaSpec::Codes(codes) => Rows::In(sorted(codes.iter().cloned())),
                AreaSpec::Keyword(k) if k == "claim" => {
                    Rows::In(sorted(identity.areas.iter().filter(|c| super::file::is_area_code(c)).cloned()))
                }
                AreaSpec::Keyword(_) => Rows::All,
            }
        };
        let fold = |operation: Operation| -> Option<Rows> {
            grants.iter().filter(|g| g.operations.contains(&operation)).map(|g| rows_of(g)).reduce(Rows::union)
        };
        let (items, tiles, write) = (fold(Operation::ReadItems), fold(Operation::ReadTiles), fold(Operation::Write));
        let read = match (&items, &tiles) {
            (Some(a), Some(b)) => Some(a.clone().union(b.clone())),
            (Some(a), None) | (None, Some(a)) => Some(a.clone()),
            (None, None) => None,
        };
        let (mut whole, mut masked) = (Vec::new(), Vec::new());
        if let Some(read) = &read {
            for (name, _) in collection.access.personal {
                let shown = |grant: &&&Grant| {
                    grant.operations.contains(&Operation::ReadRestricted) && !grant.absent.iter().any(|a| a == name)
                };
                let rows_whole = grants
                    .iter()
                    .filter(shown)
                    .filter(|g| !g.masked.iter().any(|m| m == name))
                    .map(|g| rows_of(g))
                    .reduce(Rows::union);
                let rows_any = grants.iter().filter(shown).map(|g| rows_of(g)).reduce(Rows::union);
                if rows_whole.is_some_and(|r| r.covers(read)) {
                    whole.push(*name);
                } else if rows_any.is_some_and(|r| r.covers(read)) {
                    masked.push(*name);
                }
            }
        }
        CollectionAccess { visible: !restricted || !grants.is_empty(), items, tiles, write, whole, masked }
    }
}

fn sorted(codes: impl Iterator<Item = String>) -> Vec<String> {
    let set: BTreeSet<String> = codes.collect();
    set.into_iter().collect()
}

/// Whether a grant's collection pattern names a collection: exactly, or by `*` / `prefix.*`
/// for a public one.
fn matches(pattern: &str, id: &str, restricted: bool) -> bool {
    if pattern == id {
        return true;
    }
    if restricted {
        return false;
    }
    match pattern.strip_suffix('*') {
        Some("") => true,
        Some(prefix) => prefix.ends_with('.') && id.starts_with(prefix),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geosector_domain::{AccessDecl, AreaDecl, Dataset, Mask, TileDecl};

    const DATASET: Dataset = Dataset {
        id: "t.owners",
        description: "",
        schema: "t",
        table: "owners",
        fields: &[],
        geometry: None,
        conflict_key: None,
        prepare_sql: None,
        partition: None,
        rules: &[],
        history: None,
    };
    const PUBLIC: CollectionDecl = CollectionDecl {
        id: "t.parcels",
        dataset: &DATASET,
        title_vi: "",
        title_en: "",
        description_vi: "",
        description_en: "",
        keywords: &[],
        hidden: &[],
        extra: &[],
        datetime: None,
        datetime_end: None,
        tiles: TileDecl::ALL,
        style: None,
        series: None,
        access: AccessDecl::public_in(AreaDecl::commune("commune_code")),
        relations: &[],
    };
    const OWNERS: CollectionDecl = CollectionDecl {
        id: "t.owners",
        access: AccessDecl {
            restricted: true,
            area: Some(AreaDecl::commune("commune_code")),
            personal: &[("full_name", Mask::Initials), ("id_number", Mask::KeepEnds)],
        },
        ..PUBLIC
    };

    fn policy(text: &str) -> Policy {
        Policy::new(PolicyFile::from_toml(text).unwrap(), None).unwrap()
    }

    fn officer(roles: &[&str], areas: &[&str]) -> Identity {
        Identity {
            subject: "u1".into(),
            username: None,
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            areas: areas.iter().map(|a| (*a).to_owned()).collect(),
            source: Source::Token,
        }
    }

    const RULES: &str = r#"
        [[grant]]
        role = "anonymous"
        collections = ["*"]
        operations = ["read_items", "read_tiles"]

        [[grant]]
        role = "cadastre"
        collections = ["t.owners"]
        operations = ["read_items", "read_restricted"]
        area = "claim"

        [[grant]]
        role = "clerk"
        collections = ["t.owners"]
        operations = ["read_items", "read_restricted"]
        area = ["01"]
        masked = ["id_number"]
    "#;

    #[test]
    fn wildcards_never_open_a_restricted_collection() {
        let p = policy(RULES);
        let anonymous = Identity::anonymous(Vec::new());
        let public = p.access(&anonymous, &PUBLIC);
        assert_eq!(public.items, Some(Rows::All));
        assert_eq!(public.fingerprint(Operation::ReadItems), 0);
        let owners = p.access(&anonymous, &OWNERS);
        assert!(!owners.visible && owners.items.is_none() && owners.whole.is_empty());
        assert!(!matches("t.*", "t.owners", true) && matches("t.*", "t.parcels", false) && !matches("t*", "tx", false));
    }

    #[test]
    fn an_officer_reads_their_claimed_area_with_personal_fields() {
        let p = policy(RULES);
        let access = p.access(&officer(&["cadastre"], &["01", "x"]), &OWNERS);
        assert!(access.visible);
        assert_eq!(access.items, Some(Rows::In(vec!["01".into()])));
        assert_eq!(access.whole, ["full_name", "id_number"]);
        assert_ne!(access.fingerprint(Operation::ReadItems), 0);
        let elsewhere = p.access(&officer(&["cadastre"], &["79"]), &OWNERS);
        assert_ne!(access.fingerprint(Operation::ReadItems), elsewhere.fingerprint(Operation::ReadItems));
        let masked = p.access(&officer(&["clerk"], &[]), &OWNERS);
        assert_eq!((masked.whole.as_slice(), masked.masked.as_slice()), (&["full_name"][..], &["id_number"][..]));
    }

    #[test]
    fn personal_fields_need_restricted_grants_covering_every_row_read() {
        let p = policy(
            r#"
            [[grant]]
            role = "r"
            collections = ["t.owners"]
            operations = ["read_items"]
            [[grant]]
            role = "r"
            collections = ["t.owners"]
            operations = ["read_restricted"]
            area = ["01"]
        "#,
        );
        let access = p.access(&officer(&["r"], &[]), &OWNERS);
        assert_eq!(access.items, Some(Rows::All));
        assert!(access.whole.is_empty() && access.masked.is_empty(), "rows beyond province 01 are read");
    }

    #[test]
    fn bad_rules_are_refused_with_their_place() {
        let bad = PolicyFile::from_toml("[[grant]]\nrole = \"x\"\ncollections = [\"*\"]\noperations = [\"read\"]");
        assert!(bad.unwrap_err().contains("read"));
        let area = PolicyFile::from_toml(
            "[[grant]]\nrole = \"x\"\ncollections = [\"*\"]\noperations = [\"read_items\"]\narea = [\"1\"]",
        );
        assert!(area.unwrap_err().contains("grant 1 (role x): area code \"1\""));
        assert!(PolicyFile::from_toml("grants = []").is_err(), "unknown key");
    }
}
