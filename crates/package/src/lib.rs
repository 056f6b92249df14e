//! Offline packages for field teams: a directory holding a GeoPackage of the chosen collections
//! (features the caller may see, each with its server id and version, and the collections'
//! styles as QGIS layer styles), their vector tiles as PMTiles v3 and MBTiles, and a TileJSON
//! (format: docs/packages.md).
//!
//! The writers ([`gpkg`], [`pmtiles`], [`mbtiles`], [`style`]) know nothing of the database;
//! [`build`] reads the features and tiles with the collections' own plans (the statements items
//! and tiles are served with) in one REPEATABLE READ snapshot and drives them, resumably.

pub mod area;
mod build;
pub mod gpkg;
pub mod mbtiles;
pub mod pmtiles;
pub mod style;
pub mod tiles;

pub use area::Area;
pub use build::{build, Layer, Options, Report};

/// What can stop a package.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// The database refused a statement.
    #[error("database: {0}")]
    Database(#[from] tokio_postgres::Error),
    /// The GeoPackage or a tile store could not be written.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A file could not be written.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Bad input (the area, the collections, a partial package of other settings).
    #[error("{0}")]
    Invalid(String),
}

/// Results of this crate.
pub type Result<T> = std::result::Result<T, PackageError>;
