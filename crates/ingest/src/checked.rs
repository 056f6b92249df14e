//! A feature as it leaves the row pipeline: its typed [`Row`] and the verdict of the
//! per-feature checks ([`Checked`]). Built by [`crate::rows`], judged further by the whole-load
//! rules of [`crate::validate`], encoded for COPY and counted by [`crate::load`]; it depends on
//! none of them, so they do not depend on each other for it.

use geosector_domain::CellValue;

use crate::error::{FeatureError, Location};
use crate::finding::Finding;

/// One typed row, in the dataset's column order.
#[derive(Debug, Clone)]
pub struct Row {
    /// Values of the declared fields.
    pub cells: Vec<CellValue>,
    /// EWKB of the geometry in EPSG:4326 (when the dataset has geometry).
    pub geometry: Option<Vec<u8>>,
    /// EPSG code of the source CRS (0 for a custom zone).
    pub source_srid: Option<i32>,
    /// Planar area in m²: in the source CRS when it is projected; for geographic and Web
    /// Mercator sources in the plane of the nearest VN-2000 TM-3 zone (see
    /// `crate::rows::RowBuilder`).
    pub area_m2: Option<f64>,
    /// The geometry's bounding box in EPSG:4326: `[min lon, min lat, max lon, max lat]`.
    pub bbox: Option<[f64; 4]>,
    /// The tiles' Web Mercator copy of the geometry (EWKB, see [`crate::geometry::to_tile_ewkb`]),
    /// when the builder was asked for it ([`crate::rows::RowBuilder::with_tile_geometry`]).
    pub tile_geometry: Option<Vec<u8>>,
}

/// A feature after the per-feature rules: its row (unless it could not be built), why it is
/// rejected (if it is), what was found, and what the whole-load rules need.
#[derive(Debug)]
pub struct Checked {
    /// Where the feature comes from.
    pub location: Location,
    /// The row; present for features rejected by a rule too (for the geometry of the report).
    pub row: Option<Row>,
    /// Why the feature is rejected.
    pub error: Option<FeatureError>,
    /// The findings, in rule order.
    pub findings: Vec<Finding>,
    /// Hash of the feature's unique key (when a `UniqueKey` rule is on).
    pub key_hash: Option<u64>,
    /// Rules that could not be checked on this feature (e.g. a date before the reference data).
    pub unchecked: Vec<&'static str>,
    /// The polygons in lon/lat, kept by the row builder for the overlap check (when it runs).
    pub polygons: Option<geo_types::MultiPolygon<f64>>,
}

impl Checked {
    /// The row, or why it is rejected.
    ///
    /// # Errors
    /// The feature's [`FeatureError`].
    pub fn into_result(self) -> Result<Row, FeatureError> {
        match (self.error, self.row) {
            (Some(e), _) => Err(e),
            (None, Some(row)) => Ok(row),
            (None, None) => {
                Err(FeatureError { location: self.location, field: None, message: "no row was built".into() })
            }
        }
    }

    /// Rejects the feature because of `finding`, unless it is rejected already.
    pub(crate) fn reject_by(&mut self, finding: &Finding) {
        if self.error.is_none() {
            self.error = Some(FeatureError {
                location: self.location.clone(),
                field: finding.field.clone(),
                message: format!("{}: {}", finding.rule, finding.message),
            });
        }
    }
}
