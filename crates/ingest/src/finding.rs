//! Validation findings, the vocabulary shared by the rules engine ([`crate::validate`]), the
//! row pipeline ([`crate::rows`]) and the import report ([`crate::report`]): one broken rule on
//! one feature or a pair of features, and what it did to the feature. It sits below all three,
//! so none of them needs another for these types.

use std::path::PathBuf;

use geosector_domain::Severity;

use crate::error::Location;

/// What a finding did to its feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingKind {
    /// The feature is rejected (and so is the load).
    Rejected,
    /// The feature is loaded and reported.
    Flagged,
    /// The feature was repaired, loaded and reported.
    Repaired,
}

impl FindingKind {
    /// What a finding of a rule with `severity` does: reject, or flag.
    pub(crate) fn of(severity: Severity) -> FindingKind {
        if severity == Severity::Reject {
            FindingKind::Rejected
        } else {
            FindingKind::Flagged
        }
    }
}

/// Pseudo rule id for what the dataset declaration itself rejects (unparsable fields, wrong
/// geometry kind, coordinates outside Vietnam).
pub const INPUT_RULE: &str = "input";

/// One broken rule on one feature, or on a pair of features.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Finding {
    /// The rule id (`<sector>.<rule>`, as the dataset declares it), or [`INPUT_RULE`].
    pub rule: &'static str,
    /// Rejected, flagged or repaired.
    pub kind: FindingKind,
    /// The file of the feature.
    pub file: PathBuf,
    /// The feature's 0-based index in its file.
    pub feature_index: u64,
    /// The other feature of a pair (duplicate key, overlap): the one seen first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other: Option<Location>,
    /// The feature's key (for parcels `commune/sheet/parcel`), when the dataset has one.
    pub key: Option<String>,
    /// The field at fault, if one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What is wrong, with the values involved.
    pub message: String,
    /// Where, as [lon, lat] in EPSG:4326, when the problem has a place (invalid geometry,
    /// overlap).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<[f64; 2]>,
    /// The area involved in m² (overlaps).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub area_m2: Option<f64>,
}

impl Finding {
    /// A finding on one feature.
    pub fn new(rule: &'static str, kind: FindingKind, location: &Location, message: String) -> Finding {
        Finding {
            rule,
            kind,
            file: location.file.to_path_buf(),
            feature_index: location.index,
            other: None,
            key: None,
            field: None,
            message,
            at: None,
            area_m2: None,
        }
    }

    /// A finding on a pair: feature `a` against `b`, e.g. `a` overlaps `b` by `area_m2` at `at`.
    pub fn pair(rule: &'static str, kind: FindingKind, a: &Location, b: &Location, message: String) -> Finding {
        Finding { other: Some(b.clone()), ..Finding::new(rule, kind, a, message) }
    }
}
