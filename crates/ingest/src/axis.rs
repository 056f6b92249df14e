//! Axis order check (loader rule 3 of the domain brief): Vietnamese survey documents write
//! X = northing, Y = easting, GIS files E, N; a layer with the two swapped is the most common
//! import bug. For a file in a projected VN-2000 CRS, the first coordinate must satisfy
//! 900 000 ≤ N ≤ 2 600 000 and |E − 500 000| ≤ 220 000. When it does not, but does with X and Y
//! swapped, the file is refused with a message naming the point and `--swap-xy`, never loaded
//! swapped. Coordinates plausible neither way are left to the range check of the row pipeline,
//! which rejects them with the feature index.
//!
//! [`AxisSink`] applies the check (and `--swap-xy`) between a reader and the pipeline's sink.

use std::path::Path;

use geo::MapCoordsInPlace;
use geo_types::{Coord, Geometry};
use geosector_crs::{lookup, Crs, CrsKind};
use serde_json::Value;

use crate::error::ImportError;
use crate::source::{FeatureSink, Flow, RawBody, RawFeature, SourceInfo};

/// Plausible northings in Vietnam (about 8.3° N to 23.4° N).
pub const NORTHING: (f64, f64) = (900_000.0, 2_600_000.0);
/// Largest plausible distance of an easting from the false easting of 500 000 m.
pub const EASTING_SPREAD: f64 = 220_000.0;

/// What the first coordinate says about the axis order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AxisOrder {
    /// Easting, northing: as expected.
    Plausible,
    /// Only plausible with X and Y swapped.
    Swapped,
    /// Plausible neither way (wrong CRS or bad data: the range check reports it).
    Implausible,
}

/// Judges one coordinate given as (x, y) in a VN-2000 TM/UTM CRS.
pub fn judge(c: Coord<f64>) -> AxisOrder {
    let fits = |e: f64, n: f64| (NORTHING.0..=NORTHING.1).contains(&n) && (e - 500_000.0).abs() <= EASTING_SPREAD;
    match (fits(c.x, c.y), fits(c.y, c.x)) {
        (true, _) => AxisOrder::Plausible,
        (false, true) => AxisOrder::Swapped,
        (false, false) => AxisOrder::Implausible,
    }
}

/// Whether the check applies: a projected VN-2000 CRS (an EPSG one, or a custom TM-3 zone).
pub fn applies(crs: &Crs) -> bool {
    match crs.epsg {
        None => crs.kind == CrsKind::Projected,
        Some(code) => lookup(code).is_some_and(|d| d.is_vn2000() && d.kind == CrsKind::Projected),
    }
}

/// Swaps X and Y of every coordinate.
pub fn swap(g: &mut Geometry<f64>) {
    g.map_coords_in_place(|c| Coord { x: c.y, y: c.x });
}

/// Swaps the first two numbers of every position of a GeoJSON geometry object.
pub fn swap_geojson(geometry: &mut Value) {
    match geometry {
        Value::Array(items) if items.len() >= 2 && items[0].is_number() => items.swap(0, 1),
        Value::Array(items) if items.first().is_some_and(Value::is_number) => {}
        Value::Array(items) => items.iter_mut().for_each(swap_geojson),
        Value::Object(o) => {
            if let Some(c) = o.get_mut("coordinates") {
                swap_geojson(c);
            }
            if let Some(Value::Array(members)) = o.get_mut("geometries") {
                members.iter_mut().for_each(swap_geojson);
            }
        }
        _ => {}
    }
}

/// Sits between a reader and the pipeline's sink: swaps X/Y when asked, and refuses a file in a
/// projected VN-2000 CRS whose first coordinate only makes sense swapped.
pub struct AxisSink<'a> {
    inner: &'a mut dyn FeatureSink,
    path: &'a Path,
    forced: Option<&'a Crs>,
    swap_xy: bool,
    /// Whether the first coordinate is still to be checked.
    pending: bool,
}

impl<'a> AxisSink<'a> {
    /// Wraps `inner` for the file `path`; `forced` is `--crs`.
    pub fn new(inner: &'a mut dyn FeatureSink, path: &'a Path, forced: Option<&'a Crs>, swap_xy: bool) -> Self {
        AxisSink { inner, path, forced, swap_xy, pending: false }
    }

    fn check(&mut self, feature: &RawFeature) -> Result<(), ImportError> {
        let first = match &feature.body {
            RawBody::Decoded { geometry: Some(g), .. } => crate::geometry::first_coord(g),
            RawBody::GeoJson(v) => v
                .get("geometry")
                .and_then(|g| crate::geometry::from_geojson(g).ok().flatten())
                .and_then(|g| crate::geometry::first_coord(&g)),
            _ => return Ok(()),
        };
        let Some(c) = first else { return Ok(()) };
        self.pending = false;
        if judge(c) == AxisOrder::Swapped {
            let after = if self.swap_xy { " (after --swap-xy: drop it)" } else { "" };
            return Err(ImportError::Format {
                path: self.path.to_owned(),
                reason: format!(
                    "coordinates look swapped (X = northing){after}: first point {} has X {:.2}, Y {:.2}; a VN-2000 easting lies within 500000 ± 220000 and a northing within 900000–2600000; fix the file or pass --swap-xy",
                    feature.location, c.x, c.y
                ),
            });
        }
        Ok(())
    }
}

impl FeatureSink for AxisSink<'_> {
    fn begin(&mut self, info: &SourceInfo) -> Result<(), ImportError> {
        let crs = match (self.forced, &info.declared_crs) {
            (Some(c), _) => Some(c.clone()),
            (None, Some(d)) => Crs::parse(d).ok(),
            (None, None) => None,
        };
        self.pending = info.has_geometry && crs.as_ref().is_some_and(applies);
        self.inner.begin(info)
    }

    fn feature(&mut self, mut feature: RawFeature) -> Result<Flow, ImportError> {
        if self.swap_xy {
            match &mut feature.body {
                RawBody::Decoded { geometry: Some(g), .. } => swap(g),
                RawBody::GeoJson(v) => {
                    if let Some(g) = v.get_mut("geometry") {
                        swap_geojson(g);
                    }
                }
                _ => {}
            }
        }
        if self.pending {
            self.check(&feature)?;
        }
        self.inner.feature(feature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judges_hoan_kiem() {
        // Hoàn Kiếm in TM-3 105-00 (domain brief §1): E ≈ 588 788, N ≈ 2 326 237.
        assert_eq!(judge(Coord { x: 588_788.0, y: 2_326_237.0 }), AxisOrder::Plausible);
        assert_eq!(judge(Coord { x: 2_326_237.0, y: 588_788.0 }), AxisOrder::Swapped);
        assert_eq!(judge(Coord { x: 105.85, y: 21.03 }), AxisOrder::Implausible);
        // Far east of the zone: implausible either way, not "swapped".
        assert_eq!(judge(Coord { x: 900_000.0, y: 2_326_237.0 }), AxisOrder::Implausible);
    }

    #[test]
    fn applies_to_projected_vn2000_only() {
        assert!(applies(&Crs::from_epsg(5897).unwrap()));
        assert!(applies(&Crs::from_epsg(3405).unwrap()));
        assert!(applies(&Crs::vn2000_tm3(106.75).unwrap()));
        assert!(!applies(&Crs::from_epsg(4326).unwrap()));
        assert!(!applies(&Crs::from_epsg(4756).unwrap()));
    }

    #[test]
    fn swaps_geojson_positions() {
        let mut g = serde_json::json!({"type": "Polygon", "coordinates": [[[1, 2, 3], [4, 5], [1, 2]]]});
        swap_geojson(&mut g);
        assert_eq!(g["coordinates"], serde_json::json!([[[2, 1, 3], [5, 4], [2, 1]]]));
        let mut p = Geometry::Point(geo_types::Point::new(1.0, 2.0));
        swap(&mut p);
        assert_eq!(p, Geometry::Point(geo_types::Point::new(2.0, 1.0)));
    }
}
