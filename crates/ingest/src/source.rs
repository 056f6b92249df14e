//! The seam between readers and the pipeline: readers push [`RawFeature`]s into a
//! [`FeatureSink`].
//!
//! Invariants every reader keeps: `begin` is called once per file and before any feature of that
//! file; features come in file order with increasing `location.index`; when `feature` returns
//! [`Flow::Stop`] the reader returns promptly without reading further.

use serde_json::{Map, Value};

use crate::error::{ImportError, Location};

/// What a reader knows about a file before its first feature.
#[derive(Debug, Clone, Default)]
pub struct SourceInfo {
    /// The CRS the file declares, as written (e.g. `urn:ogc:def:crs:EPSG::5897`, `EPSG:5897`),
    /// if it declares one. Resolved by the sink, so `--crs` can override what cannot be read.
    pub declared_crs: Option<String>,
    /// Whether features of this file carry geometry at all (station files do not).
    pub has_geometry: bool,
    /// The text encoding of the attributes and how it was chosen (e.g. `TCVN3 (detected)`), for
    /// formats whose text is not always UTF-8 (Shapefile DBF).
    pub encoding: Option<String>,
}

/// One feature as read, not yet checked.
#[derive(Debug, Clone)]
pub struct RawFeature {
    /// Where it is.
    pub location: Location,
    /// Its content.
    pub body: RawBody,
}

/// A feature's content as the reader found it; checking happens in the parallel pipeline.
#[derive(Debug, Clone)]
pub enum RawBody {
    /// A GeoJSON `Feature` object, unchecked.
    GeoJson(Value),
    /// Properties and geometry already decoded by the reader (binary formats, and the
    /// GeoJSONSeq lines that take its fast path).
    Decoded {
        /// Properties by name.
        properties: Map<String, Value>,
        /// Geometry, if any.
        geometry: Option<geo_types::Geometry<f64>>,
    },
    /// The reader could not make a feature of this record (e.g. a station-file line with the
    /// wrong number of columns); the reason is reported as this feature's error.
    Unreadable(String),
    /// The reader found one field of this record wrong (e.g. a station-file line whose time is
    /// not the file's); reported as this feature's error on that field.
    Invalid {
        /// The field.
        field: String,
        /// Why.
        reason: String,
    },
}

/// Whether a reader should go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Read the next feature.
    Continue,
    /// Stop reading (the consumer has gone away or has enough).
    Stop,
}

/// Receives what a reader reads.
pub trait FeatureSink {
    /// Called once per file, before its first feature.
    ///
    /// # Errors
    /// An [`ImportError`] that ends the import (e.g. the declared CRS is unsupported).
    fn begin(&mut self, info: &SourceInfo) -> Result<(), ImportError>;

    /// Called for each feature, in file order.
    ///
    /// # Errors
    /// An [`ImportError`] that ends the import.
    fn feature(&mut self, feature: RawFeature) -> Result<Flow, ImportError>;
}
