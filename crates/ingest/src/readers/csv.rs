//! CSV, e.g. the observations of manual sampling campaigns (`station,parameter,value,unit,
//! sampled_at`), or a table of points or shapes. The first record is the header; its names are
//! matched to the dataset's fields like any other property names. Each record becomes one
//! feature located by its line number; an empty cell is a missing value. Comma-separated, UTF-8
//! (a byte-order mark is skipped), quoted fields as RFC 4180.
//!
//! Geometry, when the header has it (names compared without case): a `wkt`, `geometry` or
//! `geom` column of WKT (any geometry type), else a pair of coordinate columns giving points:
//! `lon`/`lng`/`long`/`longitude`/`kinh_do` with `lat`/`latitude`/`vi_do`, or `x` with `y`.
//! Coordinates are in the CRS given by `--crs` (WGS 84 lon/lat without it). A row with its
//! geometry cells empty has no geometry; an unparsable one is rejected naming the column.

use std::path::Path;

use serde_json::Value;

use crate::error::{ImportError, Location};
use crate::source::{Columns, FeatureSink, Flow, Properties, RawBody, RawFeature, SourceInfo};

const WKT_NAMES: [&str; 3] = ["wkt", "geometry", "geom"];
const X_NAMES: [&str; 6] = ["lon", "lng", "long", "longitude", "kinh_do", "x"];
const Y_NAMES: [&str; 4] = ["lat", "latitude", "vi_do", "y"];

/// Where a CSV's geometry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GeometryColumns {
    /// A WKT column.
    Wkt(usize),
    /// X and Y columns.
    Point(usize, usize),
}

fn geometry_columns(headers: &[String]) -> Option<GeometryColumns> {
    let find = |names: &[&str]| headers.iter().position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)));
    if let Some(w) = find(&WKT_NAMES) {
        return Some(GeometryColumns::Wkt(w));
    }
    // x goes with y, lon with lat: do not pair "x" with "lat".
    let lon = find(&X_NAMES[..5]);
    let lat = find(&Y_NAMES[..3]);
    match (lon, lat) {
        (Some(x), Some(y)) => Some(GeometryColumns::Point(x, y)),
        _ => match (find(&X_NAMES[5..]), find(&Y_NAMES[3..])) {
            (Some(x), Some(y)) => Some(GeometryColumns::Point(x, y)),
            _ => None,
        },
    }
}

/// Whether a CSV file's header names geometry columns (read before choosing a dataset check).
///
/// # Errors
/// [`ImportError::File`] when it cannot be read, [`ImportError::Malformed`] without a header.
pub fn has_geometry_columns(path: &Path) -> Result<bool, ImportError> {
    let mut reader =
        csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(super::files::open(path)?);
    let headers = header_names(path, &mut reader)?;
    Ok(geometry_columns(&headers).is_some())
}

fn header_names(path: &Path, reader: &mut csv::Reader<std::fs::File>) -> Result<Vec<String>, ImportError> {
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| ImportError::Malformed { path: path.to_owned(), reason: format!("cannot read the header: {e}") })?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_owned())
        .collect();
    if headers.iter().all(String::is_empty) {
        return Err(ImportError::Malformed { path: path.to_owned(), reason: "the header line is empty".into() });
    }
    Ok(headers)
}

/// The geometry of one record: `Err((column, reason))` when it cannot be read.
fn record_geometry(
    columns: GeometryColumns,
    headers: &[String],
    record: &csv::StringRecord,
) -> Result<Option<geo_types::Geometry<f64>>, (String, String)> {
    let cell = |i: usize| record.get(i).unwrap_or_default();
    match columns {
        GeometryColumns::Wkt(i) if cell(i).is_empty() => Ok(None),
        GeometryColumns::Wkt(i) => {
            use wkt::TryFromWkt;
            geo_types::Geometry::try_from_wkt_str(cell(i))
                .map(Some)
                .map_err(|e| (headers[i].clone(), format!("not WKT: {e}")))
        }
        GeometryColumns::Point(x, y) if cell(x).is_empty() && cell(y).is_empty() => Ok(None),
        GeometryColumns::Point(x, y) => {
            let number = |i: usize| {
                cell(i)
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| (headers[i].clone(), format!("{:?} is not a coordinate", cell(i))))
            };
            Ok(Some(geo_types::Geometry::Point(geo_types::Point::new(number(x)?, number(y)?))))
        }
    }
}

/// Reads one CSV file.
///
/// # Errors
/// [`ImportError::File`] when it cannot be read, [`ImportError::Malformed`] when it has no
/// header or is not CSV; errors from the sink.
pub fn read(path: &Path, sink: &mut dyn FeatureSink) -> Result<(), ImportError> {
    let malformed = |reason: String| ImportError::Malformed { path: path.to_owned(), reason };
    let mut reader =
        csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(super::files::open(path)?);
    let headers = header_names(path, &mut reader)?;
    let geometry_at = geometry_columns(&headers);
    sink.begin(&SourceInfo { declared_crs: None, has_geometry: geometry_at.is_some(), encoding: None })?;
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
    let columns = Columns::new(std::iter::once("source_file".to_owned()).chain(headers.iter().cloned()));
    let mut record = csv::StringRecord::new();
    let file: std::sync::Arc<Path> = path.into();
    loop {
        let line = reader.position().line() + 1;
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(malformed(format!("line {line}: {e}"))),
        }
        let line = record.position().map_or(line, csv::Position::line);
        let body = if record.len() == headers.len() {
            // Values by column of the header (no name allocated or hashed per record); the
            // file name first, so that a `source_file` column of the file wins, as in a map.
            let mut properties = columns.values();
            properties.set(0, Value::from(file_name.as_str()));
            for (i, cell) in record.iter().enumerate() {
                properties.set(i + 1, if cell.is_empty() { Value::Null } else { Value::from(cell) });
            }
            match geometry_at.map(|g| record_geometry(g, &headers, &record)).transpose() {
                Ok(geometry) => {
                    RawBody::Decoded { properties: Properties::Columns(properties), geometry: geometry.flatten() }
                }
                Err((field, reason)) => RawBody::Invalid { field, reason },
            }
        } else {
            RawBody::Unreadable(format!("{} columns, the header has {}", record.len(), headers.len()))
        };
        let raw = RawFeature { location: Location { file: file.clone(), index: line, is_line: true }, body };
        if sink.feature(raw)? == Flow::Stop {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(h: &[&str]) -> Vec<String> {
        h.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn finds_geometry_columns() {
        assert_eq!(geometry_columns(&names(&["id", "Lon", "Lat"])), Some(GeometryColumns::Point(1, 2)));
        assert_eq!(geometry_columns(&names(&["kinh_do", "vi_do"])), Some(GeometryColumns::Point(0, 1)));
        assert_eq!(geometry_columns(&names(&["y", "x"])), Some(GeometryColumns::Point(1, 0)));
        assert_eq!(geometry_columns(&names(&["x", "lat"])), None);
        assert_eq!(geometry_columns(&names(&["a", "WKT", "lon", "lat"])), Some(GeometryColumns::Wkt(1)));
        assert_eq!(geometry_columns(&names(&["station", "value"])), None);
    }

    #[test]
    fn reads_cells() {
        let headers = names(&["lon", "lat", "wkt"]);
        let record = csv::StringRecord::from(vec!["105.8", "21.0", "POLYGON((0 0,1 0,1 1,0 0))"]);
        let p = record_geometry(GeometryColumns::Point(0, 1), &headers, &record).unwrap();
        assert_eq!(p, Some(geo_types::Geometry::Point(geo_types::Point::new(105.8, 21.0))));
        assert!(matches!(
            record_geometry(GeometryColumns::Wkt(2), &headers, &record),
            Ok(Some(geo_types::Geometry::Polygon(_)))
        ));
        let bad = csv::StringRecord::from(vec!["abc", "21.0", "POLYGON((0 0"]);
        assert_eq!(record_geometry(GeometryColumns::Point(0, 1), &headers, &bad).unwrap_err().0, "lon");
        assert_eq!(record_geometry(GeometryColumns::Wkt(2), &headers, &bad).unwrap_err().0, "wkt");
    }
}
