//! Streaming readers, one module per format. Each pushes features into a
//! [`FeatureSink`](crate::source::FeatureSink) and keeps its invariants (see [`crate::source`]).

pub mod csv;
pub mod fgb;
pub mod geojson;
pub mod station;

use std::path::{Path, PathBuf};

use crate::error::ImportError;
use crate::source::FeatureSink;

/// The file formats geosector reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// GeoJSON: a FeatureCollection (streamed) or a single Feature.
    GeoJson,
    /// Newline-delimited GeoJSON (GeoJSONSeq, RFC 8142): one Feature per line.
    GeoJsonSeq,
    /// FlatGeobuf.
    FlatGeobuf,
    /// TT 10/2021/TT-BTNMT monitoring-station text file.
    StationText,
    /// CSV without geometry (e.g. manual sampling campaigns).
    Csv,
}

impl Format {
    /// The format for a format name given by the user (`--format`).
    pub fn from_name(name: &str) -> Option<Format> {
        match name.to_ascii_lowercase().as_str() {
            "geojson" | "json" => Some(Format::GeoJson),
            "geojsonseq" | "geojsonl" | "ndjson" | "jsonl" => Some(Format::GeoJsonSeq),
            "fgb" | "flatgeobuf" => Some(Format::FlatGeobuf),
            "station" | "txt" => Some(Format::StationText),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }

    /// The format a file name suggests.
    ///
    /// # Errors
    /// [`ImportError::Format`] naming the file and the extensions understood.
    pub fn detect(path: &Path) -> Result<Format, ImportError> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
        match ext.as_str() {
            "geojson" | "json" => Ok(Format::GeoJson),
            "geojsonl" | "geojsons" | "ndjson" | "jsonl" => Ok(Format::GeoJsonSeq),
            "fgb" => Ok(Format::FlatGeobuf),
            "txt" => Ok(Format::StationText),
            "csv" => Ok(Format::Csv),
            _ => Err(ImportError::Format {
                path: path.to_owned(),
                reason: format!(
                    "unknown format{}: expected .geojson, .json, .geojsonl, .ndjson, .fgb, .csv or .txt (TT 10/2021 station file), or pass --format",
                    if ext.is_empty() { String::new() } else { format!(" \".{ext}\"") }
                ),
            }),
        }
    }
}

/// Reads one file of the given format into the sink.
///
/// # Errors
/// [`ImportError::File`] when the file cannot be opened, [`ImportError::Malformed`] when it is
/// not valid in its format, or an error returned by the sink.
pub fn read(path: &Path, format: Format, sink: &mut dyn FeatureSink) -> Result<(), ImportError> {
    match format {
        Format::GeoJson => geojson::read_collection(path, sink),
        Format::GeoJsonSeq => geojson::read_seq(path, sink),
        Format::FlatGeobuf => fgb::read(path, sink),
        Format::StationText => station::read(path, sink),
        Format::Csv => csv::read(path, sink),
    }
}

/// Expands the paths given on the command line: files stay as they are; a directory is walked
/// recursively for station files and CSV (`*.txt`, `*.csv`, in name order), and is an error for
/// other formats.
///
/// # Errors
/// [`ImportError::File`] for a path that does not exist or a directory that cannot be read.
pub fn expand(paths: &[PathBuf], format: Option<Format>) -> Result<Vec<PathBuf>, ImportError> {
    let mut files = Vec::new();
    for path in paths {
        let meta =
            std::fs::metadata(path).map_err(|e| ImportError::File { path: path.clone(), reason: io_reason(&e) })?;
        if meta.is_dir() {
            if format.is_some_and(|f| !matches!(f, Format::StationText | Format::Csv)) {
                return Err(ImportError::File {
                    path: path.clone(),
                    reason: "is a directory; only station files are read from directories".into(),
                });
            }
            let mut found = Vec::new();
            walk(path, &mut found)?;
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), ImportError> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| ImportError::File { path: dir.to_owned(), reason: io_reason(&e) })?;
    for entry in entries {
        let path = entry.map_err(|e| ImportError::File { path: dir.to_owned(), reason: io_reason(&e) })?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("txt") || e.eq_ignore_ascii_case("csv")) {
            out.push(path);
        }
    }
    Ok(())
}

/// A short, human reason for an I/O error.
pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => e.to_string(),
    }
}

pub(crate) fn open(path: &Path) -> Result<std::fs::File, ImportError> {
    std::fs::File::open(path).map_err(|e| ImportError::File { path: path.to_owned(), reason: io_reason(&e) })
}
