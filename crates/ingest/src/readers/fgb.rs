//! FlatGeobuf reader: sequential scan of every feature (no index needed), properties with their
//! column types, the CRS from the header.

use std::io::BufReader;
use std::path::Path;

use flatgeobuf::{FallibleStreamingIterator, FgbReader};
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
    let reader = FgbReader::open(BufReader::with_capacity(1 << 16, super::open(path)?))
        .map_err(|e| malformed(format!("not a readable FlatGeobuf file: {e}")))?;
    let header = reader.header();
    let declared_crs = match header.crs() {
        Some(crs) if crs.code() > 0 => Some(format!("{}:{}", crs.org().unwrap_or("EPSG"), crs.code())),
        _ => None,
    };
    // The properties of every feature are values in the header's columns.
    let names = header.columns().map(|c| c.iter().map(|c| c.name().to_owned()).collect::<Vec<_>>());
    let columns = Columns::new(names.unwrap_or_default());
    let has_geometry = header.geometry_type() != flatgeobuf::GeometryType::Unknown || header.columns().is_none();
    sink.begin(&SourceInfo { declared_crs, has_geometry, encoding: None })?;
    let mut features = reader.select_all_seq().map_err(|e| malformed(format!("cannot read features: {e}")))?;
    let mut index = 0u64;
    loop {
        let next = features.next().map_err(|e| malformed(format!("feature {index}: {e}")))?;
        let Some(feature) = next else { break };
        let mut props = PropertyMap(columns.values());
        feature.process_properties(&mut props).map_err(|e| malformed(format!("feature {index}: properties: {e}")))?;
        let geometry = match feature.geometry() {
            None => None,
            Some(_) => Some(feature.to_geo().map_err(|e| malformed(format!("feature {index}: geometry: {e}")))?),
        };
        let raw = RawFeature {
            location: Location { file: path.to_owned(), index, is_line: false },
            body: RawBody::Decoded { properties: Properties::Columns(props.0), geometry },
        };
        index += 1;
        if sink.feature(raw)? == Flow::Stop {
            break;
        }
    }
    Ok(())
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
        // `idx` is a column of the header (the reader checks it).
        self.0.set(idx, v);
        Ok(false)
    }
}
