//! Validation rules as declarations: a sector crate says *which* rules a dataset has, with an id,
//! a one-line description naming its legal or brief source, a default severity and numeric
//! parameters; the ingestion engine (`geosector-ingest`) executes them and reports every
//! violation under the rule's id.
//!
//! Two kinds of rule exist ([`Check`]): rules that need only one feature's values and computed
//! area are implemented by the sector crate itself as a [`FeatureRule`] (pure domain logic, unit
//! tested there); rules that need the geometry, the whole load or reference data (validity,
//! duplicate keys, administrative units, overlaps) are named by a [`Check`] variant and carried
//! out by the engine. Severities and parameters can be changed per dataset by the operator
//! (`geosector import --rules rules.toml`), never the rule itself.

use std::fmt;

use chrono::NaiveDate;

use crate::{CellValue, Dataset};

/// What happens to a feature that breaks a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    /// The feature is rejected, and with it the whole load (brief severity **E**).
    Reject,
    /// The feature is loaded and reported (brief severity **W**).
    Flag,
    /// The rule is not run.
    Off,
}

impl Severity {
    /// Parses `reject`, `flag` or `off` (case-insensitive; `error`/`warn` are accepted too).
    ///
    /// # Errors
    /// A sentence listing the accepted words.
    pub fn parse(text: &str) -> Result<Severity, String> {
        match text.to_ascii_lowercase().as_str() {
            "reject" | "error" | "e" => Ok(Severity::Reject),
            "flag" | "warn" | "warning" | "w" => Ok(Severity::Flag),
            "off" | "skip" | "none" => Ok(Severity::Off),
            other => Err(format!("unknown severity {other:?}: expected \"reject\", \"flag\" or \"off\"")),
        }
    }

    /// The lowercase name used in reports and the rules file.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Reject => "reject",
            Severity::Flag => "flag",
            Severity::Off => "off",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A numeric parameter of a rule, settable in the rules file by its name.
#[derive(Debug, Clone, Copy)]
pub struct ParamDecl {
    /// Name, unique within a dataset's rules (e.g. `overlap_min_m2`).
    pub name: &'static str,
    /// What it means, with its unit.
    pub description: &'static str,
    /// The value used when the rules file does not set it.
    pub default: f64,
}

/// One validation rule of a dataset.
#[derive(Debug, Clone, Copy)]
pub struct RuleDecl {
    /// Stable id, `<sector>.<rule>`, e.g. `land.parcel_key_unique`; used in reports and the
    /// rules file.
    pub id: &'static str,
    /// One line in English: what is checked, and the source (brief rule number, TT, QĐ).
    pub description: &'static str,
    /// Severity unless the rules file says otherwise.
    pub default_severity: Severity,
    /// Numeric parameters with their defaults.
    pub params: &'static [ParamDecl],
    /// How the rule is carried out.
    pub check: Check,
}

/// How a rule is carried out: by the sector crate's own code, or by the engine.
#[derive(Debug, Clone, Copy)]
pub enum Check {
    /// Implemented by the sector crate on one feature's values ([`FeatureRule`]).
    Feature(&'static dyn FeatureRule),
    /// The geometry is valid in the OGC sense (rings closed and simple, holes inside, parts not
    /// overlapping); with `--repair`, invalid polygons are repaired and reported.
    ValidGeometry,
    /// These columns together are unique within one load; both features are reported.
    UniqueKey {
        /// The key's columns.
        columns: &'static [&'static str],
    },
    /// The administrative unit (commune) code exists at the feature's date (today without one).
    UnitExistsAt {
        /// Column of the 5-digit commune code.
        code: &'static str,
        /// Column of the date the code must be valid at.
        date: &'static str,
    },
    /// A point of the feature (its centroid) lies inside its commune's boundary.
    InsideUnit {
        /// Column of the 5-digit commune code.
        code: &'static str,
    },
    /// Features overlap one another by more than the `overlap_min_m2` parameter (run over the
    /// whole load; reported in pairs).
    Overlaps,
    /// The column, when given, holds a GeoHash of the dataset's declared length
    /// ([`crate::GeohashId`]): that many characters of the GeoHash alphabet `[0-9b-hjkmnp-z]`.
    GeohashFormat {
        /// The column of the GeoHash.
        column: &'static str,
    },
    /// The point a given GeoHash decodes to lies in the feature's geometry, or within the
    /// `geohash_tolerance_m` parameter of it.
    GeohashInside {
        /// The column of the GeoHash.
        column: &'static str,
    },
}

/// A rule on one feature's values, implemented by a sector crate. Called from rayon workers:
/// it must be cheap and must not block.
///
/// ```
/// use geosector_domain::rules::{FeatureRule, FeatureView, Params, Violation};
/// #[derive(Debug)]
/// struct NotEmpty;
/// impl FeatureRule for NotEmpty {
///     fn check(&self, f: &FeatureView<'_>, _: &Params, report: &mut dyn FnMut(Violation)) {
///         if f.text("parcel_number").is_some_and(str::is_empty) {
///             report(Violation::on("parcel_number", "is empty".into()));
///         }
///     }
/// }
/// ```
pub trait FeatureRule: Send + Sync + fmt::Debug {
    /// Checks one feature, calling `report` once per problem found (never for a pass).
    fn check(&self, feature: &FeatureView<'_>, params: &Params, report: &mut dyn FnMut(Violation));
}

/// One broken rule, as a [`FeatureRule`] reports it; the engine adds the rule id, severity,
/// feature and key.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// The column at fault, if one.
    pub field: Option<&'static str>,
    /// What is wrong, as a sentence fragment with the values involved.
    pub message: String,
}

impl Violation {
    /// A violation on one column.
    pub fn on(field: &'static str, message: String) -> Violation {
        Violation { field: Some(field), message }
    }
}

/// A read-only view of one feature for [`FeatureRule`]s: its values by column, and what the
/// engine computed.
#[derive(Debug, Clone, Copy)]
pub struct FeatureView<'a> {
    /// The dataset (for column lookup).
    pub dataset: &'a Dataset,
    /// Values in the order of `dataset.fields`.
    pub cells: &'a [CellValue],
    /// Planar area in m² in the source projected CRS (never on lon/lat), when computed.
    pub area_m2: Option<f64>,
    /// Historical mode forced by the operator (`--historical`); when false, rules decide from
    /// the feature's own date.
    pub historical: bool,
}

impl<'a> FeatureView<'a> {
    /// The value of a column (None when the dataset has no such column).
    pub fn get(&self, column: &str) -> Option<&'a CellValue> {
        let i = self.dataset.fields.iter().position(|f| f.column == column)?;
        self.cells.get(i)
    }

    /// A text or code column's value.
    pub fn text(&self, column: &str) -> Option<&'a str> {
        match self.get(column)? {
            CellValue::Text(s) => Some(s),
            _ => None,
        }
    }

    /// A number column's value (integer or float).
    pub fn number(&self, column: &str) -> Option<f64> {
        match self.get(column)? {
            CellValue::Float(v) => Some(*v),
            CellValue::Integer(v) => Some(f64::from(*v)),
            _ => None,
        }
    }

    /// A date column's value.
    pub fn date(&self, column: &str) -> Option<NaiveDate> {
        match self.get(column)? {
            CellValue::Date(d) => Some(*d),
            _ => None,
        }
    }

    /// A text-list column's value.
    pub fn texts(&self, column: &str) -> Option<&'a [String]> {
        match self.get(column)? {
            CellValue::TextList(v) => Some(v),
            _ => None,
        }
    }

    /// A number-list column's value.
    pub fn numbers(&self, column: &str) -> Option<&'a [f64]> {
        match self.get(column)? {
            CellValue::FloatList(v) => Some(v),
            _ => None,
        }
    }
}

/// The parameter values in force for one dataset's rules: the declared defaults, overridden by
/// the rules file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params {
    values: Vec<(&'static str, f64)>,
}

impl Params {
    /// The defaults of every parameter declared by `rules`.
    pub fn defaults(rules: &[RuleDecl]) -> Params {
        Params { values: rules.iter().flat_map(|r| r.params).map(|p| (p.name, p.default)).collect() }
    }

    /// Sets a declared parameter; false when no rule declares `name`.
    pub fn set(&mut self, name: &str, value: f64) -> bool {
        match self.values.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) => {
                *v = value;
                true
            }
            None => false,
        }
    }

    /// A parameter's value; `fallback` when it is not declared (a rule asking for a parameter it
    /// did not declare is a bug caught by [`check_rules`]).
    pub fn get(&self, name: &str, fallback: f64) -> f64 {
        self.values.iter().find(|(n, _)| *n == name).map_or(fallback, |(_, v)| *v)
    }

    /// Every parameter and its value.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, f64)> + '_ {
        self.values.iter().copied()
    }
}

/// Checks a dataset's rule declarations: ids unique and prefixed by the sector, parameter names
/// unique, columns named by engine checks declared as fields. Sector crates call it in tests.
///
/// # Errors
/// A sentence naming the first problem.
pub fn check_rules(dataset: &Dataset) -> Result<(), String> {
    let mut ids = std::collections::HashSet::new();
    let mut params = std::collections::HashSet::new();
    let has = |c: &str| dataset.fields.iter().any(|f| f.column == c);
    for rule in dataset.rules {
        if !ids.insert(rule.id) {
            return Err(format!("{}: rule {} declared twice", dataset.id, rule.id));
        }
        if !dataset.in_sector_of_schema(rule.id) || rule.description.is_empty() {
            return Err(format!("{}: rule {} needs the sector prefix and a description", dataset.id, rule.id));
        }
        for p in rule.params {
            if !params.insert(p.name) {
                return Err(format!("{}: parameter {} declared twice", dataset.id, p.name));
            }
        }
        let columns: Vec<&str> = match rule.check {
            Check::UniqueKey { columns } => columns.to_vec(),
            Check::UnitExistsAt { code, date } => vec![code, date],
            Check::InsideUnit { code } => vec![code],
            Check::GeohashFormat { column } | Check::GeohashInside { column } => vec![column],
            Check::Feature(_) | Check::ValidGeometry | Check::Overlaps => Vec::new(),
        };
        if let Some(c) = columns.iter().find(|c| !has(c)) {
            return Err(format!("{}: rule {} names column {c}, which is not a field", dataset.id, rule.id));
        }
        let needs_geometry = matches!(
            rule.check,
            Check::ValidGeometry | Check::InsideUnit { .. } | Check::Overlaps | Check::GeohashInside { .. }
        );
        if needs_geometry && dataset.geometry.is_none() {
            return Err(format!("{}: rule {} needs a geometry", dataset.id, rule.id));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_parse_both_vocabularies() {
        assert_eq!(Severity::parse("Reject"), Ok(Severity::Reject));
        assert_eq!(Severity::parse("W"), Ok(Severity::Flag));
        assert_eq!(Severity::parse("off"), Ok(Severity::Off));
        assert!(Severity::parse("maybe").unwrap_err().contains("\"reject\""));
    }

    #[test]
    fn params_start_at_defaults_and_only_declared_ones_are_set() {
        const P: &[ParamDecl] = &[ParamDecl { name: "overlap_min_m2", description: "m²", default: 0.5 }];
        let rules = [RuleDecl {
            id: "x.overlaps",
            description: "d",
            default_severity: Severity::Flag,
            params: P,
            check: Check::Overlaps,
        }];
        let mut params = Params::defaults(&rules);
        assert!((params.get("overlap_min_m2", 0.0) - 0.5).abs() < f64::EPSILON);
        assert!(params.set("overlap_min_m2", 2.0));
        assert!(!params.set("nope", 1.0));
        assert!((params.get("overlap_min_m2", 0.0) - 2.0).abs() < f64::EPSILON);
    }
}
