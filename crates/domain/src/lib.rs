//! The shared vocabulary of geosector.
//!
//! Sector crates (`land`, `minerals`, `water`, `environment`) *declare* what they hold: the sector
//! ([`SectorDecl`]), which datasets can be imported, into which table, with which fields, geometry
//! and rules ([`Dataset`], [`RuleDecl`]), and what is published with its tiles, overview, style and
//! time series ([`CollectionDecl`], [`Overview`], [`StyleDecl`], [`SeriesDecl`]). Core crates
//! (`ingest`, `store`, `server`) *execute* those declarations. This crate has no I/O and knows
//! nothing of PostgreSQL drivers or HTTP, so a new sector is a new crate plus a migration, with no
//! change to the core (docs/adding-a-sector.md).
//!
//! The key decision: a dataset is described by data ([`Dataset`], [`Field`]), not by code, so the
//! same declaration drives import, reporting, the collection registry, tiles and styles.

pub mod access;
pub mod catalogue;
pub mod collection;
pub mod dataset;
pub mod report;
pub mod rules;
pub mod sector;
pub mod series;
pub mod style;
pub mod value;

pub use access::{AccessDecl, AreaDecl, Mask};
pub use catalogue::{CatalogueDecl, CatalogueEntry, Frequency, Topic};
pub use collection::{CollectionDecl, LowZoom, Property, RelationDecl, TileDecl, TimeEnd};
pub use dataset::{
    Dataset, Field, FirstElement, GeohashId, GeometryKind, GeometrySpec, History, Overview, Partitioning,
};
pub use report::{CellFilter, Columns, ReportColumn, ReportDecl, ReportRow, ValueDecl};
pub use rules::{RuleDecl, Severity};
pub use sector::SectorDecl;
pub use series::{Column, Selector, Selects, SeriesDecl, SeriesSource};
pub use style::{CodeColours, CodeGroup, Fill, Label, Outline, StyleDecl, Width};
pub use value::{CellValue, FieldError, FieldType};
