//! What a collection tells the access policy: whether it holds personal data (a restricted
//! collection, closed and unknown to anyone without a grant naming it), where its rows lie (the
//! columns an area scope is a condition on), and which of its properties are personal data,
//! each with the way it is masked for roles that may see it only masked.
//!
//! The policy itself (who may do what) is configuration, read by `geosector-access`; the store
//! turns an area scope into a condition and a mask into an expression, from these declarations.

/// The access declarations of a collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessDecl {
    /// A collection of personal data: reachable only through a grant that names it (a wildcard
    /// never matches it); to anyone else it does not exist.
    pub restricted: bool,
    /// Where its rows lie, for area scopes (`None`: its rows are not tied to an area, and an
    /// area-scoped grant reads all of them).
    pub area: Option<AreaDecl>,
    /// Its personal properties (published columns) and how each is masked: visible only to a
    /// grant that reads restricted fields, masked or absent for everyone else.
    pub personal: &'static [(&'static str, Mask)],
}

impl AccessDecl {
    /// Public data not tied to an area.
    pub const PUBLIC: AccessDecl = AccessDecl { restricted: false, area: None, personal: &[] };

    /// Public data whose rows lie in an area.
    pub const fn public_in(area: AreaDecl) -> AccessDecl {
        AccessDecl { restricted: false, area: Some(area), personal: &[] }
    }

    /// How a property is masked, when it is personal.
    pub fn mask_of(&self, property: &str) -> Option<Mask> {
        self.personal.iter().find(|(name, _)| *name == property).map(|(_, mask)| *mask)
    }
}

/// Where a collection's rows lie. Codes are the administrative units' (2-digit provinces,
/// 5-digit communes); a province scope covers the communes the province has today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AreaDecl {
    /// Columns of the row itself (at least one).
    Columns {
        /// The column holding the row's province code.
        province: Option<&'static str>,
        /// The column holding the row's commune code.
        commune: Option<&'static str>,
    },
    /// Rows placed by the rows of another table that point at them (e.g. owners by the parcels
    /// they hold rights on): a row is in an area when one of those rows is.
    Through {
        /// Schema of the pointing table.
        schema: &'static str,
        /// The pointing table.
        table: &'static str,
        /// Its column holding this collection's `id`.
        key: &'static str,
        /// Its column holding the commune code.
        commune: &'static str,
    },
}

impl AreaDecl {
    /// Rows placed by a commune column.
    pub const fn commune(column: &'static str) -> AreaDecl {
        AreaDecl::Columns { province: None, commune: Some(column) }
    }

    /// Rows placed by a province column.
    pub const fn province(column: &'static str) -> AreaDecl {
        AreaDecl::Columns { province: Some(column), commune: None }
    }
}

/// How a personal value is shown to a role that may see it only masked. Masking happens in the
/// database (the `meta.mask_*` functions of migration 0019), so every output — JSON, HTML, tiles
/// — carries the same masked value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mask {
    /// Digits kept at both ends, the middle starred: `001099001234` → `0010****1234`.
    KeepEnds,
    /// A name reduced to its initials: `Nguyễn Văn An` → `N. V. A.`.
    Initials,
    /// A date reduced to its year.
    Year,
    /// Nothing of the value: `***` (NULL stays NULL).
    Hidden,
}
