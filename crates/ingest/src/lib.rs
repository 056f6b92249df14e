//! Loading sector datasets into PostGIS: streaming readers, a rayon row pipeline and an
//! all-or-nothing COPY BINARY loader.
//!
//! Data flow: a [`readers`] module streams features from a file into a [`source::FeatureSink`];
//! features are batched and turned into typed rows in parallel by [`rows::RowBuilder`] (property
//! parsing, geometry checks, area in the source projected CRS, reprojection to EPSG:4326 with the
//! one VN-2000 rule of `geosector-crs`); [`load::import`] streams the rows into a temporary
//! staging table with `COPY (FORMAT binary)` and moves them into the live table in the same
//! transaction only when every feature was accepted. A rejected or failed load leaves the live
//! data exactly as it was. Memory does not grow with the file: at most a few batches are in
//! flight.
//!
//! The validation rules sector crates declare for a dataset run in the same pipeline
//! ([`validate`]): per-feature rules inside the rayon batches, whole-load rules in the consumer;
//! every finding is counted per rule in the report and can be streamed to a GeoJSON file. A
//! dataset's GeoHash identifier (the national parcel ID) is computed in the row pipeline too
//! ([`geohash`]). What a
//! sector adds beyond declarations (a per-row check, derived tables refreshed after the move)
//! comes in through its load hook ([`ImportOptions::hook`], `geosector_store::hook`): this crate
//! names no sector.
//!
//! Layers, each using only those before it: [`error`], [`finding`] and [`checked`] (a feature's
//! verdict) and [`report`] (what an import did); [`source`], [`geometry`], [`axis`] and
//! [`readers`] (input); [`overlaps`] and [`validate`] (the rules engine); [`rows`] (the row
//! pipeline); [`load`] (the loader, with its COPY encoder, partition swaps and overview cells
//! in `load/`) and [`reference`].

pub mod axis;
pub mod checked;
pub mod edit;
pub mod error;
pub mod finding;
pub mod geohash;
pub mod geometry;
pub mod load;
pub mod overlaps;
pub mod package;
pub mod progress;
pub mod readers;
pub mod reference;
pub mod report;
pub mod rows;
pub mod source;
#[cfg(test)]
mod test_rng;
pub mod validate;

pub use error::{FeatureError, ImportError};
pub use load::{import, ChangesetInfo, ImportOptions};
pub use report::{ImportReport, Outcome, VersionCounts};
