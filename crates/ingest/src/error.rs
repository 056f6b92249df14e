//! Errors of ingestion: a whole import that failed ([`ImportError`]) and one rejected feature
//! ([`FeatureError`]), which always names the file, the feature and, where it applies, the field.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where a feature comes from: file and 0-based feature index (for station files, the line).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Location {
    /// The file (shared by the locations of its features).
    pub file: Arc<Path>,
    /// 0-based feature index in the file (station files: 1-based line number).
    pub index: u64,
    /// Whether `index` is a line number.
    #[serde(skip)]
    pub is_line: bool,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_line {
            write!(f, "{} line {}", self.file.display(), self.index)
        } else {
            write!(f, "{} feature {}", self.file.display(), self.index)
        }
    }
}

/// One feature that cannot be loaded, and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FeatureError {
    /// Where it is.
    pub location: Location,
    /// The field (source property name) or `geometry`, when the problem is in one.
    pub field: Option<String>,
    /// What is wrong, as a sentence fragment.
    pub message: String,
}

impl fmt::Display for FeatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{}, {field}: {}", self.location, self.message),
            None => write!(f, "{}: {}", self.location, self.message),
        }
    }
}

/// An import that could not run to a verdict (as opposed to one whose data was rejected).
/// Nothing is stored when this is returned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// The dataset id is not known.
    #[error("unknown dataset {0} (see `geosector datasets`)")]
    UnknownDataset(String),
    /// A file cannot be opened or read.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A file's format is not recognised or does not fit the dataset.
    #[error("{path}: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A file is not well-formed in its format (e.g. invalid JSON); the position is in `reason`.
    #[error("{path}: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong and where.
        reason: String,
    },
    /// The CRS given or declared is not supported.
    #[error(transparent)]
    Crs(#[from] geosector_crs::CrsError),
    /// The database refused the load (e.g. a constraint); the transaction was rolled back.
    #[error("the database refused the load, nothing was stored: {0}")]
    Database(String),
    /// The database's disk (or the tablespace the data live on) is full: PostgreSQL could not
    /// extend or write a file (SQLSTATE 53100). The transaction was rolled back.
    #[error(
        "the database's disk is full, nothing was stored: {0}; free space on the database server (or its tablespace) and run the import again"
    )]
    DiskFull(String),
    /// The reading task stopped without a verdict (a bug); the transaction was rolled back.
    #[error("the reader stopped unexpectedly, nothing was stored: {0}")]
    ReaderStopped(String),
    /// The rules file names an unknown dataset, rule or parameter.
    #[error("{0}")]
    Rules(String),
    /// A store error (connection, migrations).
    #[error(transparent)]
    Store(#[from] geosector_store::StoreError),
    /// The dataset's load hook failed (see `geosector_store::hook`); the transaction was rolled
    /// back.
    #[error("the load hook failed, nothing was stored: {0}")]
    Hook(String),
}

impl From<geosector_store::hook::HookError> for ImportError {
    fn from(e: geosector_store::hook::HookError) -> Self {
        match e {
            geosector_store::hook::HookError::Db(e) => ImportError::from(e),
            other => ImportError::Hook(other.to_string()),
        }
    }
}

impl From<tokio_postgres::Error> for ImportError {
    fn from(e: tokio_postgres::Error) -> Self {
        match e.as_db_error() {
            Some(db) if *db.code() == tokio_postgres::error::SqlState::DISK_FULL => {
                ImportError::DiskFull(db.message().to_owned())
            }
            Some(db) => {
                let mut text = db.message().to_owned();
                match db.detail() {
                    // PostgreSQL's "Failing row contains (…)" echoes every column of the refused
                    // row, personal data included (ID numbers): never into a report or a log.
                    Some(detail) if detail.starts_with("Failing row contains") => {
                        text.push_str(" (the refused row is not shown: it may hold personal data)");
                    }
                    Some(detail) => {
                        text.push_str(" (");
                        text.push_str(detail);
                        text.push(')');
                    }
                    None => {}
                }
                ImportError::Database(text)
            }
            None => {
                let cause = std::error::Error::source(&e).map(|s| format!(": {s}")).unwrap_or_default();
                ImportError::Database(format!("{e}{cause}"))
            }
        }
    }
}
