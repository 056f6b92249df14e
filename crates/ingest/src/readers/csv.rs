//! CSV without geometry, e.g. the observations of manual sampling campaigns
//! (`station,parameter,value,unit,sampled_at`). The first record is the header; its names are
//! matched to the dataset's fields like any other property names. Each record becomes one
//! feature located by its line number; an empty cell is a missing value. Comma-separated, UTF-8
//! (a byte-order mark is skipped), quoted fields as RFC 4180.

use std::path::Path;

use serde_json::{Map, Value};

use crate::error::{ImportError, Location};
use crate::source::{FeatureSink, Flow, RawBody, RawFeature, SourceInfo};

/// Reads one CSV file.
///
/// # Errors
/// [`ImportError::File`] when it cannot be read, [`ImportError::Malformed`] when it has no
/// header or is not CSV; errors from the sink.
pub fn read(path: &Path, sink: &mut dyn FeatureSink) -> Result<(), ImportError> {
    let malformed = |reason: String| ImportError::Malformed { path: path.to_owned(), reason };
    let mut reader = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(super::open(path)?);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| malformed(format!("cannot read the header: {e}")))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_owned())
        .collect();
    if headers.iter().all(String::is_empty) {
        return Err(malformed("the header line is empty".into()));
    }
    sink.begin(&SourceInfo { declared_crs: None, has_geometry: false })?;
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line() + 1;
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(malformed(format!("line {line}: {e}"))),
        }
        let line = record.position().map_or(line, csv::Position::line);
        let body = if record.len() == headers.len() {
            let mut properties = Map::new();
            properties.insert("source_file".into(), Value::from(file_name.as_str()));
            for (name, cell) in headers.iter().zip(record.iter()) {
                properties.insert(name.clone(), if cell.is_empty() { Value::Null } else { Value::from(cell) });
            }
            RawBody::Decoded { properties, geometry: None }
        } else {
            RawBody::Unreadable(format!("{} columns, the header has {}", record.len(), headers.len()))
        };
        let raw = RawFeature { location: Location { file: path.to_owned(), index: line, is_line: true }, body };
        if sink.feature(raw)? == Flow::Stop {
            break;
        }
    }
    Ok(())
}
