//! TT 10/2021/TT-BTNMT monitoring-station text files: one file per station and measurement time,
//! named `<station id>_<YYYYMMDDhhmmss>.txt`, one tab-separated line per parameter:
//! `parameter TAB value TAB unit TAB YYYYMMDDhhmmss TAB status` (status 00 measuring,
//! 01 calibrating, 02 device error). Times are local (UTC+7). Parameter symbols are kept as sent
//! (e.g. `PM2,5`).
//!
//! Each line becomes one feature whose location is the file and line number; a malformed line is
//! reported as that line's error, not as a failure of the whole import.

use std::io::{BufRead, BufReader};
use std::path::Path;

use serde_json::{Map, Value};

use crate::error::{ImportError, Location};
use crate::source::{FeatureSink, Flow, RawBody, RawFeature, SourceInfo};

/// The station id a file name carries: everything before the last `_`.
pub fn station_from_file_name(path: &Path) -> Option<String> {
    let stem = path.file_stem()?.to_str()?;
    let (station, time) = stem.rsplit_once('_')?;
    (time.len() == 14 && time.bytes().all(|b| b.is_ascii_digit()) && !station.is_empty()).then(|| station.to_owned())
}

/// Reads one station file.
///
/// # Errors
/// [`ImportError::Format`] when the file name does not carry the station id and time;
/// [`ImportError::File`] when it cannot be read; errors from the sink.
pub fn read(path: &Path, sink: &mut dyn FeatureSink) -> Result<(), ImportError> {
    let station = station_from_file_name(path).ok_or_else(|| ImportError::Format {
        path: path.to_owned(),
        reason: "a station file must be named <station id>_<YYYYMMDDhhmmss>.txt (TT 10/2021)".into(),
    })?;
    let reader = BufReader::new(super::open(path)?);
    sink.begin(&SourceInfo { declared_crs: None, has_geometry: false })?;
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
    for (n, line) in reader.split(b'\n').enumerate() {
        let bytes = line.map_err(|e| ImportError::File { path: path.to_owned(), reason: super::io_reason(&e) })?;
        let text = String::from_utf8_lossy(&bytes);
        let text = text.trim_end_matches('\r');
        if text.trim().is_empty() {
            continue;
        }
        let raw = RawFeature {
            location: Location { file: path.to_owned(), index: n as u64 + 1, is_line: true },
            body: parse_line(text, &station, &file_name),
        };
        if sink.feature(raw)? == Flow::Stop {
            break;
        }
    }
    Ok(())
}

/// One line as a feature body; a malformed line becomes [`RawBody::Unreadable`] with the reason.
fn parse_line(text: &str, station: &str, file_name: &str) -> RawBody {
    let cols: Vec<&str> = text.split('\t').map(str::trim).collect();
    if cols.len() != 5 {
        return RawBody::Unreadable(format!(
            "expected 5 tab-separated columns (parameter, value, unit, time, status), got {}",
            cols.len()
        ));
    }
    if !matches!(cols[4], "00" | "01" | "02") {
        return RawBody::Unreadable(format!("status must be 00, 01 or 02, got \"{}\"", cols[4]));
    }
    let mut properties = Map::new();
    properties.insert("station_code".into(), Value::from(station));
    properties.insert("source_file".into(), Value::from(file_name));
    for (name, value) in ["parameter", "value", "unit", "observed_at", "status"].iter().zip(&cols) {
        properties.insert((*name).into(), Value::from(*value));
    }
    RawBody::Decoded { properties, geometry: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn station_ids_come_from_file_names() {
        assert_eq!(
            station_from_file_name(Path::new("HN_KK_NguyenVanCu_20241105130000.txt")),
            Some("HN_KK_NguyenVanCu".into())
        );
        assert_eq!(station_from_file_name(Path::new("HN01_2024110513.txt")), None);
        assert_eq!(station_from_file_name(Path::new("noseparator.txt")), None);
    }

    #[test]
    fn lines_are_split_and_checked() {
        let RawBody::Decoded { properties, .. } = parse_line("PM2,5\t35.2\tug/Nm3\t20241105130000\t00", "S1", "f.txt")
        else {
            panic!()
        };
        assert_eq!(properties["parameter"], "PM2,5");
        assert_eq!(properties["observed_at"], "20241105130000");
        assert!(
            matches!(parse_line("PM10 35.2", "S1", "f.txt"), RawBody::Unreadable(r) if r.contains("5 tab-separated"))
        );
        assert!(
            matches!(parse_line("PM10\t1\tug\t20241105130000\t7", "S1", "f.txt"), RawBody::Unreadable(r) if r.contains("status"))
        );
    }
}
