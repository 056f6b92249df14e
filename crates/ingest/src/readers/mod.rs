//! Streaming readers, one module per format. Each pushes features into a
//! [`FeatureSink`] and keeps its invariants (see [`crate::source`]).

pub mod csv;
pub mod dbf;
pub mod encoding;
pub mod fgb;
mod files;
pub mod geojson;
pub mod gpkg;
pub mod ogcapi;
pub mod prj;
pub mod shp;
pub mod station;
pub mod wkb;

use std::path::{Path, PathBuf};

use geosector_crs::Crs;

pub use self::encoding::TextEncoding;
pub use self::files::io_reason;
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
    /// CSV: without geometry (e.g. manual sampling campaigns), or with lon/lat or WKT columns.
    Csv,
    /// ESRI Shapefile (`.shp` with its `.dbf`, and `.prj`, `.cpg` when present).
    Shapefile,
    /// GeoPackage (`.gpkg`; `file.gpkg:table` names one of several feature tables).
    GeoPackage,
    /// Another server's OGC API - Features collection, harvested from its items URL
    /// ([`ogcapi`]).
    OgcApiFeatures,
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
            "shp" | "shapefile" | "esri shapefile" => Some(Format::Shapefile),
            "gpkg" | "geopackage" => Some(Format::GeoPackage),
            "ogcapi" | "oapif" => Some(Format::OgcApiFeatures),
            _ => None,
        }
    }

    /// The format a file name suggests.
    ///
    /// # Errors
    /// [`ImportError::Format`] naming the file and the extensions understood.
    pub fn detect(path: &Path) -> Result<Format, ImportError> {
        if ogcapi::is_url(path) {
            return Ok(Format::OgcApiFeatures);
        }
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
        if gpkg::split_layer(path).1.is_some() {
            return Ok(Format::GeoPackage);
        }
        match ext.as_str() {
            "geojson" | "json" => Ok(Format::GeoJson),
            "geojsonl" | "geojsons" | "ndjson" | "jsonl" => Ok(Format::GeoJsonSeq),
            "fgb" => Ok(Format::FlatGeobuf),
            "txt" => Ok(Format::StationText),
            "csv" => Ok(Format::Csv),
            "shp" | "dbf" => Ok(Format::Shapefile),
            "gpkg" => Ok(Format::GeoPackage),
            _ => Err(ImportError::Format {
                path: path.to_owned(),
                reason: format!(
                    "unknown format{}: expected .geojson, .json, .geojsonl, .ndjson, .fgb, .shp, .gpkg, .csv or .txt (TT 10/2021 station file), or pass --format",
                    if ext.is_empty() { String::new() } else { format!(" \".{ext}\"") }
                ),
            }),
        }
    }
}

/// What a reader needs from the import options.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions<'a> {
    /// `--crs`: the CRS coordinates are in, over what files declare (for the axis check).
    pub crs: Option<&'a Crs>,
    /// `--encoding`: the text encoding of Shapefile attributes when no `.cpg` says it.
    pub encoding: Option<TextEncoding>,
    /// `--swap-xy`: swap X and Y of every coordinate as read.
    pub swap_xy: bool,
    /// How to harvest an OGC API - Features input (its URL, headers, `since`, …); without it, an
    /// input URL is harvested with the defaults.
    pub harvest: Option<&'a ogcapi::Harvest>,
}

/// Reads one file of the given format into the sink, through the axis-order check
/// ([`crate::axis`]).
///
/// # Errors
/// [`ImportError::File`] when the file cannot be opened, [`ImportError::Malformed`] when it is
/// not valid in its format, [`ImportError::Format`] when its coordinates look swapped, or an
/// error returned by the sink.
pub fn read(
    path: &Path,
    format: Format,
    options: &ReadOptions<'_>,
    sink: &mut dyn FeatureSink,
) -> Result<(), ImportError> {
    if format == Format::OgcApiFeatures {
        // The axis check and swaps wait until the CRS is negotiated.
        let default;
        let harvest = match options.harvest {
            Some(h) => h,
            None => {
                default = ogcapi::Harvest::new(path.to_string_lossy());
                &default
            }
        };
        return ogcapi::read(harvest, path, options.crs, options.swap_xy, sink);
    }
    let sink = &mut crate::axis::AxisSink::new(sink, path, options.crs, options.swap_xy);
    match format {
        Format::GeoJson => geojson::read_collection(path, sink),
        Format::GeoJsonSeq => geojson::read_seq(path, sink),
        Format::FlatGeobuf => fgb::read(path, sink),
        Format::StationText => station::read(path, sink),
        Format::Csv => csv::read(path, sink),
        Format::Shapefile => shp::read(path, options.encoding, sink),
        Format::GeoPackage => gpkg::read(path, sink),
        Format::OgcApiFeatures => Ok(()),
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
        if gpkg::split_layer(path).1.is_some() || ogcapi::is_url(path) {
            files.push(path.clone());
            continue;
        }
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

/// Test helpers of the reader modules.
#[cfg(test)]
pub(crate) mod testing {
    use std::path::{Path, PathBuf};

    use crate::error::ImportError;
    use crate::source::{FeatureSink, Flow, RawFeature, SourceInfo};

    /// Collects what a reader sends.
    #[derive(Default)]
    pub struct Collect(pub Vec<RawFeature>, pub Option<SourceInfo>);

    impl FeatureSink for Collect {
        fn begin(&mut self, info: &SourceInfo) -> Result<(), ImportError> {
            self.1 = Some(info.clone());
            Ok(())
        }
        fn feature(&mut self, feature: RawFeature) -> Result<Flow, ImportError> {
            self.0.push(feature);
            Ok(Flow::Continue)
        }
    }

    /// A file of the repository's `tests/data/bad-inputs/<dir>`; a missing one fails the test.
    pub fn bad_input(dir: &str, name: &str) -> PathBuf {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/bad-inputs").join(dir).join(name);
        assert!(path.is_file(), "test fixture {} is missing", path.display());
        path
    }
}
