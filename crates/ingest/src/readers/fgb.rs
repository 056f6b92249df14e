//! FlatGeobuf reader: sequential scan of every feature (no index needed), properties with their
//! column types, the CRS from the header.

use std::io::BufReader;
use std::path::Path;

use flatgeobuf::{FallibleStreamingIterator, FgbReader};
use geozero::{ColumnValue, FeatureProperties, PropertyProcessor, ToGeo};
use serde_json::{Map, Value};

use crate::error::{ImportError, Location};
use crate::source::{FeatureSink, Flow, RawBody, RawFeature, SourceInfo};

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
    let columns = header.columns().map_or(0, |c| c.len());
    let has_geometry = header.geometry_type() != flatgeobuf::GeometryType::Unknown || header.columns().is_none();
    sink.begin(&SourceInfo { declared_crs, has_geometry, encoding: None })?;
    let mut features = reader.select_all_seq().map_err(|e| malformed(format!("cannot read features: {e}")))?;
    let mut index = 0u64;
    loop {
        let next = features.next().map_err(|e| malformed(format!("feature {index}: {e}")))?;
        let Some(feature) = next else { break };
        let mut props = PropertyMap(Map::with_capacity(columns));
        feature.process_properties(&mut props).map_err(|e| malformed(format!("feature {index}: properties: {e}")))?;
        let geometry = match feature.geometry() {
            None => None,
            Some(_) => Some(feature.to_geo().map_err(|e| malformed(format!("feature {index}: geometry: {e}")))?),
        };
        let raw = RawFeature {
            location: Location { file: path.to_owned(), index, is_line: false },
            body: RawBody::Decoded { properties: props.0, geometry },
        };
        index += 1;
        if sink.feature(raw)? == Flow::Stop {
            break;
        }
    }
    Ok(())
}

struct PropertyMap(Map<String, Value>);

impl PropertyProcessor for PropertyMap {
    fn property(&mut self, _idx: usize, name: &str, value: &ColumnValue) -> geozero::error::Result<bool> {
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
        self.0.insert(name.to_owned(), v);
        Ok(false)
    }
}
