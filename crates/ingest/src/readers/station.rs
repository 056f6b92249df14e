//! TT 10/2021/TT-BTNMT monitoring-station text files: one file per station and measurement time,
//! named `<station id>_<YYYYMMDDhhmmss>.txt`, one tab-separated line per parameter:
//! `parameter TAB value TAB unit TAB YYYYMMDDhhmmss TAB status` (status 00 measuring,
//! 01 calibrating, 02 device error). Times are local (UTC+7). Parameter symbols are kept as sent
//! (e.g. `PM2,5`); the importer normalises them (the observations dataset's load hook, `geosector_environment::load_hook`).
//!
//! Each line becomes one feature whose location is the file and line number; a malformed line is
//! reported as that line's error, not as a failure of the whole import. A line's time must be
//! within an hour of the time in the file name. A file that is empty or binary is malformed as a
//! whole.

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

/// The measurement time a file name carries (`…_YYYYMMDDhhmmss.txt`), local time.
pub fn time_from_file_name(path: &Path) -> Option<chrono::NaiveDateTime> {
    let stem = path.file_stem()?.to_str()?;
    let (_, time) = stem.rsplit_once('_')?;
    chrono::NaiveDateTime::parse_from_str(time, "%Y%m%d%H%M%S").ok()
}

/// Reads one station file.
///
/// # Errors
/// [`ImportError::Format`] when the file name does not carry the station id and time;
/// [`ImportError::File`] when it cannot be read; errors from the sink.
pub fn read(path: &Path, sink: &mut dyn FeatureSink) -> Result<(), ImportError> {
    let name_error = || ImportError::Format {
        path: path.to_owned(),
        reason: "a station file must be named <station id>_<YYYYMMDDhhmmss>.txt (TT 10/2021)".into(),
    };
    let station = station_from_file_name(path).ok_or_else(name_error)?;
    let file_time = time_from_file_name(path).ok_or_else(name_error)?;
    let reader = BufReader::new(super::files::open(path)?);
    sink.begin(&SourceInfo { declared_crs: None, has_geometry: false, encoding: None })?;
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
    let file: std::sync::Arc<Path> = path.into();
    let mut lines = 0;
    for (n, line) in reader.split(b'\n').enumerate() {
        let bytes =
            line.map_err(|e| ImportError::File { path: path.to_owned(), reason: super::files::io_reason(&e) })?;
        if bytes.contains(&0) {
            return Err(ImportError::Malformed {
                path: path.to_owned(),
                reason: format!("line {}: binary content, not a TT 10/2021 text file", n + 1),
            });
        }
        let text = String::from_utf8_lossy(&bytes);
        let text = text.trim_end_matches('\r');
        if text.trim().is_empty() {
            continue;
        }
        let raw = RawFeature {
            location: Location { file: file.clone(), index: n as u64 + 1, is_line: true },
            body: parse_line(text, &station, &file_name, file_time),
        };
        lines += 1;
        if sink.feature(raw)? == Flow::Stop {
            break;
        }
    }
    if lines == 0 {
        return Err(ImportError::Malformed { path: path.to_owned(), reason: "no measurement lines".into() });
    }
    Ok(())
}

/// One line as a feature body; a malformed line becomes [`RawBody::Unreadable`] with the reason.
fn parse_line(text: &str, station: &str, file_name: &str, file_time: chrono::NaiveDateTime) -> RawBody {
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
    let Ok(time) = chrono::NaiveDateTime::parse_from_str(cols[3], "%Y%m%d%H%M%S") else {
        return RawBody::Invalid {
            field: "observed_at".into(),
            reason: format!("\"{}\" is not YYYYMMDDhhmmss", cols[3]),
        };
    };
    if (time - file_time).num_seconds().abs() > 3600 {
        return RawBody::Invalid {
            field: "observed_at".into(),
            reason: format!("{time} is more than an hour from the file name's time {file_time}"),
        };
    }
    let mut properties = Map::new();
    properties.insert("station_code".into(), Value::from(station));
    properties.insert("source_file".into(), Value::from(file_name));
    for (name, value) in ["parameter", "value", "unit", "observed_at", "status"].iter().zip(&cols) {
        properties.insert((*name).into(), Value::from(*value));
    }
    RawBody::Decoded { properties: properties.into(), geometry: None }
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

    fn t() -> chrono::NaiveDateTime {
        time_from_file_name(Path::new("S1_20241105130000.txt")).unwrap()
    }

    #[test]
    fn lines_are_split_and_checked() {
        assert!(matches!(
            parse_line("PM10\t1\tug\t20241105160000\t00", "S1", "f.txt", t()),
            RawBody::Invalid { field, reason } if field == "observed_at" && reason.contains("file name")
        ));
        assert!(matches!(
            parse_line("PM10\t1\tug\t2024-11-05\t00", "S1", "f.txt", t()),
            RawBody::Invalid { field, .. } if field == "observed_at"
        ));
        let RawBody::Decoded { properties, .. } =
            parse_line("PM2,5\t35.2\tug/Nm3\t20241105130000\t00", "S1", "f.txt", t())
        else {
            panic!()
        };
        assert_eq!(properties["parameter"], "PM2,5");
        assert_eq!(properties["observed_at"], "20241105130000");
        assert!(
            matches!(parse_line("PM10 35.2", "S1", "f.txt", t()), RawBody::Unreadable(r) if r.contains("5 tab-separated"))
        );
        assert!(
            matches!(parse_line("PM10\t1\tug\t20241105130000\t7", "S1", "f.txt", t()), RawBody::Unreadable(r) if r.contains("status"))
        );
    }
}
