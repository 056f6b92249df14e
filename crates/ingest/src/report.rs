//! The import report: what was read, written, replaced and rejected, with examples that name the
//! file, feature and field. Printed as a terminal summary and written as JSON.

use std::fmt;
use std::path::PathBuf;

use crate::error::FeatureError;

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
    /// Rows deleted first because of `--replace`.
    pub rows_replaced: u64,
    /// Features rejected (with `--skip-rejected`, files that could not be read count here too).
    pub rejected: u64,
    /// Files rejected as a whole (`--skip-rejected`).
    pub files_rejected: u64,
    /// The indices recomputed after an observations import.
    pub indices: Option<crate::monitoring::IndexRefresh>,
    /// The first rejected features.
    pub examples: Vec<FeatureError>,
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
            rejected: 0,
            files_rejected: 0,
            indices: None,
            examples: Vec::new(),
            elapsed_ms: 0,
        }
    }
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
        if let Some(i) = &self.indices {
            writeln!(
                f,
                "indices: {} stations, {} hourly and {} daily VN_AQI, {} VN_WQI values written",
                i.stations, i.aqi_hours, i.aqi_days, i.wqi_samples
            )?;
        }
        Ok(())
    }
}
