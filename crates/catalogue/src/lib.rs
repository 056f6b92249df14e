//! geosector's data catalogue: one record per dataset and per published collection, built from
//! the sectors' declarations ([`geosector_domain::CatalogueDecl`] and the collections' own) and
//! the live database (extents, row counts, last changes), plus the operator's external records;
//! kept in a PostgreSQL table and searched there, accent-insensitively for Vietnamese
//! (`unaccent` + weighted full text, ranked title > description > keywords); written out as
//! OGC API - Records GeoJSON, ISO 19139 (QCVN 42:2020) and DCAT JSON-LD.
//!
//! It is not the HTTP layer (`geosector-server` serves it) and it names no sector: what a sector
//! says comes through its declarations. The key decision: records are *derived* and refreshed
//! when the data versions move, so extents and dates never go stale, and search stays in the
//! database the data already live in (no search engine to keep in sync).

pub mod build;
pub mod dcat;
pub mod external;
pub mod iso;
pub mod live;
pub mod ogc;
pub mod query;
pub mod record;
pub mod table;

pub use build::{Crs, TableFacts};
pub use external::CatalogueFile;
pub use query::{Search, Terms};
pub use record::Record;
pub use table::Catalogue;

/// What can go wrong in the catalogue.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogueError {
    /// A database error.
    #[error("database: {0}")]
    Db(#[from] tokio_postgres::Error),
    /// The store failed (an extent could not be read).
    #[error("store: {0}")]
    Store(String),
    /// The catalogue file is unreadable or wrong (the message names the file and record).
    #[error("{0}")]
    File(String),
    /// A stored record does not read back.
    #[error("record: {0}")]
    Record(String),
}
