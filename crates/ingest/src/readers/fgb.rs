//! FlatGeobuf reader: sequential scan of every feature (no index needed), properties with their
//! column types, the CRS from the header.
//!
//! Polygons and multipolygons (what parcels come as) are read straight from the feature's
//! coordinate arrays into `geo-types`, as geozero's `GeoWriter` would build them; every other
//! kind, and anything unusual, goes through geozero.

use std::io::BufReader;
use std::path::Path;

use flatgeobuf::{FallibleStreamingIterator, FgbReader, GeometryType};
use geo_types::{Coord, LineString, MultiPolygon, Polygon};
use geozero::{ColumnValue, FeatureProperties, PropertyProcessor, ToGeo};
use serde_json::Value;

use crate::error::{ImportError, Location};
use crate::source::{ColumnValues, Columns, FeatureSink, Flow, Properties, RawBody, RawFeature, SourceInfo};

/// Reads every feature of a FlatGeobuf file.
///
/// # Errors
/// [`ImportError::Malformed`] for a file that is not FlatGeobuf or is damaged (with the feature
/// index), [`ImportError::Crs`] for an unsupported declared CRS; errors from the sink.
pub fn read(path: &Path, sink: &mut dyn FeatureSink) -> Result<(), ImportError> {
    let malformed = |reason: String| ImportError::Malformed { path: path.to_owned(), reason };
    let reader = FgbReader::open(BufReader::with_capacity(1 << 16, super::files::open(path)?))
        .map_err(|e| malformed(format!("not a readable FlatGeobuf file: {e}")))?;
    let header = reader.header();
    let declared_crs = match header.crs() {
        Some(crs) if crs.code() > 0 => Some(format!("{}:{}", crs.org().unwrap_or("EPSG"), crs.code())),
        _ => None,
    };
    // The properties of every feature are values in the header's columns.
    let names = header.columns().map(|c| c.iter().map(|c| c.name().to_owned()).collect::<Vec<_>>());
    let columns = Columns::new(names.unwrap_or_default());
    let declared_type = header.geometry_type();
    let has_geometry = declared_type != GeometryType::Unknown || header.columns().is_none();
    sink.begin(&SourceInfo { declared_crs, has_geometry, encoding: None })?;
    let mut features = reader.select_all_seq().map_err(|e| malformed(format!("cannot read features: {e}")))?;
    let file: std::sync::Arc<Path> = path.into();
    let mut index = 0u64;
    loop {
        let next = features.next().map_err(|e| malformed(format!("feature {index}: {e}")))?;
        let Some(feature) = next else { break };
        let mut props = PropertyMap(columns.values());
        feature.process_properties(&mut props).map_err(|e| malformed(format!("feature {index}: properties: {e}")))?;
        let geometry = match feature.geometry() {
            None => None,
            Some(g) => match polygonal(&g, declared_type) {
                Some(g) => Some(g),
                None => Some(feature.to_geo().map_err(|e| malformed(format!("feature {index}: geometry: {e}")))?),
            },
        };
        let raw = RawFeature {
            location: Location { file: file.clone(), index, is_line: false },
            body: RawBody::Decoded { properties: Properties::Columns(props.0), geometry },
        };
        index += 1;
        if sink.feature(raw)? == Flow::Stop {
            break;
        }
    }
    Ok(())
}

/// A Polygon or MultiPolygon geometry (of the header's type, or its own when the header says
/// Unknown), as geozero's reader and `GeoWriter` give it: the XY of each ring (Z and M dropped),
/// rings split at `ends` (when there are two or more), rings closed by `Polygon::new`. `None`
/// for other kinds and for arrays geozero would refuse or not read whole (then it decides).
fn polygonal(g: &flatgeobuf::Geometry<'_>, declared: GeometryType) -> Option<geo_types::Geometry<f64>> {
    let kind = if declared == GeometryType::Unknown { g.type_() } else { declared };
    match kind {
        GeometryType::Polygon => polygon(g).map(geo_types::Geometry::Polygon),
        GeometryType::MultiPolygon => {
            let parts = g.parts()?;
            let polygons = parts.iter().map(|part| polygon(&part)).collect::<Option<Vec<_>>>()?;
            Some(geo_types::Geometry::MultiPolygon(MultiPolygon(polygons)))
        }
        _ => None,
    }
}

/// One polygon's rings (see [`polygonal`]).
fn polygon(g: &flatgeobuf::Geometry<'_>) -> Option<Polygon<f64>> {
    let xy = g.xy()?.bytes();
    if xy.len() % 16 != 0 {
        return None;
    }
    let ring = |from: usize, to: usize| {
        let coords = xy[from * 8..to * 8]
            .chunks_exact(16)
            .map(|c| {
                let (x, y) = c.split_at(8);
                Some(Coord { x: f64::from_le_bytes(x.try_into().ok()?), y: f64::from_le_bytes(y.try_into().ok()?) })
            })
            .collect::<Option<Vec<Coord<f64>>>>()?;
        Some(LineString(coords))
    };
    let count = xy.len() / 8;
    let mut rings = Vec::new();
    match g.ends() {
        Some(ends) if ends.len() > 1 => {
            rings.reserve_exact(ends.len());
            let mut offset = 0;
            for end in ends.iter() {
                let end = usize::try_from(end).ok()?.checked_mul(2)?;
                if end < offset || end > count {
                    return None;
                }
                rings.push(ring(offset, end)?);
                offset = end;
            }
        }
        _ => rings.push(ring(0, count)?),
    }
    let exterior = rings.remove(0);
    Some(Polygon::new(exterior, rings))
}

struct PropertyMap(ColumnValues);

impl PropertyProcessor for PropertyMap {
    fn property(&mut self, idx: usize, _name: &str, value: &ColumnValue) -> geozero::error::Result<bool> {
        let v = match value {
            ColumnValue::Byte(v) => Value::from(*v),
            ColumnValue::UByte(v) => Value::from(*v),
            ColumnValue::Bool(v) => Value::from(*v),
            ColumnValue::Short(v) => Value::from(*v),
            ColumnValue::UShort(v) => Value::from(*v),
            ColumnValue::Int(v) => Value::from(*v),
            ColumnValue::UInt(v) => Value::from(*v),
            ColumnValue::Long(v) => Value::from(*v),
            ColumnValue::ULong(v) => Value::from(*v),
            ColumnValue::Float(v) => Value::from(f64::from(*v)),
            ColumnValue::Double(v) => Value::from(*v),
            ColumnValue::String(v) | ColumnValue::DateTime(v) => Value::from(*v),
            ColumnValue::Json(v) => serde_json::from_str(v).unwrap_or_else(|_| Value::from(*v)),
            ColumnValue::Binary(_) => Value::Null,
        };
        // flatgeobuf checks `idx` against the header's columns; checked here too, so that a
        // malformed file can never reach `set`'s panic.
        if idx >= self.0.columns().column_count() {
            return Err(geozero::error::GeozeroError::Property(format!("column {idx} is not in the header")));
        }
        self.0.set(idx, v);
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The direct reading of polygons gives what geozero gives, on every FlatGeobuf test file.
    #[test]
    fn polygons_are_read_as_geozero_reads_them() {
        let dirs = [
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/bad-inputs/flatgeobuf"),
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data-samples/land"),
        ];
        let mut compared = 0;
        for dir in dirs {
            let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
            for path in entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "fgb")) {
                let Ok(reader) = FgbReader::open(BufReader::new(std::fs::File::open(&path).unwrap())) else { continue };
                let declared = reader.header().geometry_type();
                let Ok(mut features) = reader.select_all_seq() else { continue };
                while let Ok(Some(feature)) = features.next() {
                    let Some(g) = feature.geometry() else { continue };
                    if let Some(ours) = polygonal(&g, declared) {
                        assert_eq!(Some(ours), feature.to_geo().ok(), "{}", path.display());
                        compared += 1;
                    }
                }
            }
        }
        assert!(compared > 0 || !Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data-samples").exists());
    }
}
