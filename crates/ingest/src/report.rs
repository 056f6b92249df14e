//! The import report: what was read, written, replaced and rejected, with examples that name the
//! file, feature and field, and per validation rule the counts of rejected, flagged and repaired
//! features with the first examples (feature index, key, message). Printed as a terminal
//! summary and written as JSON.

use std::fmt;
use std::path::PathBuf;

use geosector_store::hook::HookReport;
use serde::ser::SerializeMap;

use geosector_domain::RuleDecl;

use crate::error::FeatureError;
use crate::finding::{Finding, FindingKind};

/// The verdict of an import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Every feature was accepted and the rows are in the live table (unless a dry run).
    Accepted,
    /// At least one feature was rejected; nothing was stored.
    Rejected,
    /// Some features (or files) were rejected and reported, the others stored
    /// (`--skip-rejected`).
    Partial,
}

/// One input file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FileSummary {
    /// The file.
    pub path: PathBuf,
    /// The source CRS used (datasets with geometry).
    pub crs: Option<String>,
    /// The CRS the file declares, if any.
    pub declared_crs: Option<String>,
    /// Features read from it.
    pub features: u64,
    /// The text encoding of its attributes and how it was chosen (Shapefile DBF only).
    pub encoding: Option<String>,
}

/// What a replacing import did to the versions of a versioned dataset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct VersionCounts {
    /// The changeset's id.
    pub changeset: i64,
    /// Features stored as they were: same id, same version, no history row.
    pub unchanged: u64,
    /// Features whose data changed: same id, next version, the old one in the history.
    pub changed: u64,
    /// Features the stored data lacked: new ids, version 1.
    pub new: u64,
    /// Stored features the load lacks: retired into the history.
    pub retired: u64,
}

/// What an import did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ImportReport {
    /// The dataset id.
    pub dataset: String,
    /// Accepted or rejected.
    pub outcome: Outcome,
    /// Whether this was a dry run (`validate`): nothing is written either way.
    pub dry_run: bool,
    /// The input files.
    pub files: Vec<FileSummary>,
    /// Features read from all files.
    pub features_read: u64,
    /// Rows inserted or upserted into the live table.
    pub rows_written: u64,
    /// Rows deleted first because of `--replace` (a versioned dataset: the retired ones, but a
    /// swap's, which replaces the whole partition).
    pub rows_replaced: u64,
    /// What a versioned dataset's import did to its versions, and its changeset; `null` for
    /// other datasets and loads that stored nothing.
    pub versions: Option<VersionCounts>,
    /// Features rejected (with `--skip-rejected`, files that could not be read count here too).
    pub rejected: u64,
    /// Files rejected as a whole (`--skip-rejected`).
    pub files_rejected: u64,
    /// What the dataset's load hook refreshed after the move (see `geosector_store::hook`),
    /// e.g. the VN_AQI / VN_WQI indices after an observations import; `null` without a hook.
    #[serde(serialize_with = "hook_section")]
    pub indices: Option<HookReport>,
    /// The first rejected features.
    pub examples: Vec<FeatureError>,
    /// Per validation rule of the dataset (in declaration order, then `input`): counts and
    /// the first examples.
    pub rules: Vec<RuleSummary>,
    /// The findings file written (`--flagged`) and how many findings it holds.
    pub flagged_file: Option<(PathBuf, u64)>,
    /// Wall time in milliseconds.
    pub elapsed_ms: u128,
}

impl ImportReport {
    pub(crate) fn new(dataset: &str, dry_run: bool) -> ImportReport {
        ImportReport {
            dataset: dataset.to_owned(),
            outcome: Outcome::Rejected,
            dry_run,
            files: Vec::new(),
            features_read: 0,
            rows_written: 0,
            rows_replaced: 0,
            versions: None,
            rejected: 0,
            files_rejected: 0,
            indices: None,
            examples: Vec::new(),
            rules: Vec::new(),
            flagged_file: None,
            elapsed_ms: 0,
        }
    }

    /// Adds a rule's line to the report (before any finding): the rule, the severity in force
    /// and why it does not run, if it does not.
    pub(crate) fn add_rule(&mut self, rule: &RuleDecl, severity: &'static str, skipped: Option<String>) {
        self.rules.push(RuleSummary {
            id: rule.id.to_owned(),
            description: rule.description.to_owned(),
            severity,
            skipped,
            ..RuleSummary::default()
        });
    }

    fn rule_mut(&mut self, id: &str) -> &mut RuleSummary {
        let i = match self.rules.iter().position(|r| r.id == id) {
            Some(i) => i,
            None => {
                self.rules.push(RuleSummary {
                    id: id.to_owned(),
                    description: "the dataset declaration's own checks: fields, geometry kind, CRS and bounds".into(),
                    severity: "reject",
                    ..RuleSummary::default()
                });
                self.rules.len() - 1
            }
        };
        &mut self.rules[i]
    }

    /// Counts a finding under its rule, keeping the first `max_examples` as examples.
    pub fn record(&mut self, finding: &Finding, max_examples: usize) {
        let summary = self.rule_mut(finding.rule);
        match finding.kind {
            FindingKind::Rejected => summary.rejected += 1,
            FindingKind::Flagged => summary.flagged += 1,
            FindingKind::Repaired => summary.repaired += 1,
        }
        if summary.examples.len() < max_examples {
            summary.examples.push(finding.clone());
        }
    }

    /// Counts a feature a rule could not check.
    pub(crate) fn count_unchecked(&mut self, rule: &str) {
        self.rule_mut(rule).not_checked += 1;
    }
}

/// A load hook's section of the JSON report: an object with the hook's members in its order.
fn hook_section<S: serde::Serializer>(hook: &Option<HookReport>, out: S) -> Result<S::Ok, S::Error> {
    let Some(hook) = hook else { return out.serialize_none() };
    let mut map = out.serialize_map(Some(hook.json.len()))?;
    for (name, value) in &hook.json {
        map.serialize_entry(name, value)?;
    }
    map.end()
}

/// The outcome of one validation rule over the whole import.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RuleSummary {
    /// The rule id.
    pub id: String,
    /// What it checks, with its source.
    pub description: String,
    /// The severity in force: reject, flag or off.
    pub severity: &'static str,
    /// Features rejected by it.
    pub rejected: u64,
    /// Features flagged by it.
    pub flagged: u64,
    /// Features repaired (`--repair`).
    pub repaired: u64,
    /// Features it could not check (e.g. a survey date before the reference data).
    pub not_checked: u64,
    /// Why it did not run at all, if it did not.
    pub skipped: Option<String>,
    /// The first findings.
    pub examples: Vec<Finding>,
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for file in &self.files {
            write!(f, "{}: {} features", file.path.display(), file.features)?;
            if let Some(crs) = &file.crs {
                write!(f, ", CRS {crs}")?;
                if let Some(declared) = &file.declared_crs {
                    let same = geosector_crs::Crs::parse(declared).is_ok_and(|d| crs.starts_with(&d.to_string()));
                    if !same {
                        write!(f, " (the file declares {declared})")?;
                    }
                }
            }
            if let Some(encoding) = &file.encoding {
                write!(f, ", text {encoding}")?;
            }
            writeln!(f)?;
        }
        match (self.outcome, self.dry_run) {
            (Outcome::Accepted, false) => writeln!(
                f,
                "{}: accepted: {} features read, {} rows written{} in {:.1} s",
                self.dataset,
                self.features_read,
                self.rows_written,
                if self.rows_replaced > 0 {
                    format!(" ({} previous rows replaced)", self.rows_replaced)
                } else {
                    String::new()
                },
                self.elapsed_ms as f64 / 1000.0
            )?,
            (Outcome::Accepted, true) => {
                writeln!(f, "{}: valid: {} features checked, nothing written", self.dataset, self.features_read)?
            }
            (Outcome::Partial, dry_run) => {
                writeln!(
                    f,
                    "{}: partly accepted: {} rows {}; {} features and {} files rejected:",
                    self.dataset,
                    self.rows_written,
                    if dry_run { "would be written" } else { "written" },
                    self.rejected - self.files_rejected,
                    self.files_rejected
                )?;
                for e in &self.examples {
                    writeln!(f, "  {e}")?;
                }
                if self.rejected as usize > self.examples.len() {
                    writeln!(f, "  … and {} more", self.rejected as usize - self.examples.len())?;
                }
            }
            (Outcome::Rejected, _) => {
                writeln!(
                    f,
                    "{}: rejected: {} of {} features have errors; nothing was stored",
                    self.dataset, self.rejected, self.features_read
                )?;
                for e in &self.examples {
                    writeln!(f, "  {e}")?;
                }
                if self.rejected as usize > self.examples.len() {
                    writeln!(f, "  … and {} more", self.rejected as usize - self.examples.len())?;
                }
            }
        }
        if let Some(v) = &self.versions {
            writeln!(
                f,
                "versions (changeset {}): {} unchanged, {} changed, {} new, {} retired",
                v.changeset, v.unchanged, v.changed, v.new, v.retired
            )?;
        }
        self.fmt_rules(f)?;
        if let Some(hook) = &self.indices {
            writeln!(f, "{}", hook.line)?;
        }
        Ok(())
    }
}

impl ImportReport {
    /// The per-rule table of the terminal summary.
    fn fmt_rules(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.rules.is_empty() {
            return Ok(());
        }
        writeln!(f, "rules:")?;
        for r in &self.rules {
            write!(f, "  {:<26} {:<6} ", r.id, r.severity)?;
            if let Some(why) = &r.skipped {
                if r.severity == "off" {
                    writeln!(f, "off")?;
                } else {
                    writeln!(f, "skipped: {why}")?;
                }
                continue;
            }
            if r.severity == "off" {
                writeln!(f, "off")?;
                continue;
            }
            write!(f, "{} rejected, {} flagged, {} repaired", r.rejected, r.flagged, r.repaired)?;
            if r.not_checked > 0 {
                write!(f, ", {} not checked (no reference data for them)", r.not_checked)?;
            }
            writeln!(f)?;
            if r.rejected == 0 {
                for e in r.examples.iter().take(3) {
                    writeln!(f, "      {} feature {}: {}", e.file.display(), e.feature_index, e.message)?;
                }
            }
        }
        if let Some((path, count)) = &self.flagged_file {
            writeln!(f, "{count} findings written to {}", path.display())?;
        }
        Ok(())
    }
}
