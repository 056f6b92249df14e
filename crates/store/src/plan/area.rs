//! Area scopes as conditions: the rows of a collection that lie in a caller's provinces and
//! communes, from the collection's area declaration ([`AreaDecl`]).
//!
//! A scope is one bound `text[]` of codes (2-digit provinces and 5-digit communes never
//! collide), so each statement shape has one placeholder for it, whatever the caller's codes.
//! A province covers the communes it has today (`meta.communes_of`, migration 0019), for tables
//! placed by a commune column only.

use geosector_domain::{AreaDecl, Mask};

use crate::quote_ident;

/// The areas a caller may read: province and commune codes. Empty: no row.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct AreaScope {
    /// Codes, sorted and deduplicated: 2-digit provinces and 5-digit communes.
    pub codes: Vec<String>,
}

impl AreaScope {
    /// A scope of these codes (sorted and deduplicated here).
    pub fn new(mut codes: Vec<String>) -> AreaScope {
        codes.sort();
        codes.dedup();
        AreaScope { codes }
    }
}

/// The condition placing a row of `table` (quoted `schema.table`) in the scope bound at
/// placeholder `$n`.
pub(crate) fn condition(table: &str, area: &AreaDecl, n: usize) -> String {
    let scope = format!("${n}::text[]");
    let commune_in = |column: &str| {
        format!("({column} = ANY({scope}) OR {column} = ANY((SELECT meta.communes_of({scope}))::text[]))")
    };
    match area {
        AreaDecl::Columns { province: Some(p), commune: Some(c) } => {
            format!("({} = ANY({scope}) OR {} = ANY({scope}))", quote_ident(p), quote_ident(c))
        }
        AreaDecl::Columns { province: Some(p), commune: None } => format!("{} = ANY({scope})", quote_ident(p)),
        AreaDecl::Columns { province: None, commune: Some(c) } => commune_in(&quote_ident(c)),
        AreaDecl::Columns { province: None, commune: None } => "FALSE".to_owned(),
        AreaDecl::Through { schema, table: pointing, key, commune } => format!(
            "EXISTS (SELECT 1 FROM {}.{} AS placed WHERE placed.{} = {table}.id AND {})",
            quote_ident(schema),
            quote_ident(pointing),
            quote_ident(key),
            commune_in(&format!("placed.{}", quote_ident(commune)))
        ),
    }
}

/// A masked column as the expression written in its place (migration 0019's functions).
pub(crate) fn masked(column: &str, mask: Mask) -> String {
    match mask {
        Mask::KeepEnds => format!("meta.mask_keep_ends({column}::text)"),
        Mask::Initials => format!("meta.mask_initials({column}::text)"),
        Mask::Year => format!("meta.mask_year({column})"),
        Mask::Hidden => format!("meta.mask_hidden({column})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_declaration_has_one_placeholder() {
        let both = AreaDecl::Columns { province: Some("province_code"), commune: Some("commune_code") };
        assert_eq!(
            condition("\"land\".\"parcels\"", &both, 3),
            "(\"province_code\" = ANY($3::text[]) OR \"commune_code\" = ANY($3::text[]))"
        );
        assert!(condition("t", &AreaDecl::commune("c"), 1).contains("meta.communes_of($1::text[])"));
        let through = AreaDecl::Through { schema: "r", table: "rights", key: "party_id", commune: "commune_code" };
        let sql = condition("\"r\".\"parties\"", &through, 2);
        assert!(sql.starts_with(
            "EXISTS (SELECT 1 FROM \"r\".\"rights\" AS placed WHERE placed.\"party_id\" = \"r\".\"parties\".id"
        ));
        assert_eq!(AreaScope::new(vec!["01".into(), "00376".into(), "01".into()]).codes, ["00376", "01"]);
    }
}
