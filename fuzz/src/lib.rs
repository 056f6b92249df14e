//! What the fuzz targets share: feeding bytes to a reader the way `geosector import` does (as a
//! file on disk, through [`readers::read`] and the row pipeline's [`RowBuilder::check`]), and
//! compiling a filter the way the server does ([`geosector_filter::compile`] against fixed
//! queryables).
//!
//! Each target only says which format its bytes are in; nothing here may panic on any input, and
//! libFuzzer's `-rss_limit_mb`/`-malloc_limit_mb` (scripts/fuzz.sh) turn an allocation sized by
//! a hostile header into a finding.

use std::path::Path;
use std::sync::OnceLock;

use geosector_crs::Crs;
use geosector_domain::{Dataset, Field, FieldType, GeometryKind, GeometrySpec, Property};
use geosector_filter::{FilterCrs, Lang, Limits, Queryables};
use geosector_ingest::error::ImportError;
use geosector_ingest::readers::{self, Format, ReadOptions};
use geosector_ingest::rows::RowBuilder;
use geosector_ingest::source::{FeatureSink, Flow, RawFeature, SourceInfo};

/// A dataset with one optional field of each kind and an optional polygon geometry anywhere in
/// the world: every feature a reader produces gets through to the geometry checks, area and
/// reprojection unless its own content is at fault.
static DATASET: Dataset = Dataset {
    id: "fuzz.features",
    description: "Fuzzing target",
    schema: "fuzz",
    table: "features",
    fields: &[
        Field::new("name", &["name", "ten"], FieldType::Text, false),
        Field::new("code", &["code"], FieldType::Code { digits: 5 }, false),
        Field::new("count", &["count", "n"], FieldType::Integer, false),
        Field::new("value", &["value", "area"], FieldType::Float, false),
        Field::new("day", &["day", "date"], FieldType::Date, false),
        Field::new("at", &["at", "time"], FieldType::Timestamp, false),
        Field::new("flag", &["flag"], FieldType::Boolean, false),
        Field::new("codes", &["codes"], FieldType::TextList, false),
        Field::new("extra", &["extra"], FieldType::Json, false),
    ],
    geometry: Some(GeometrySpec {
        column: "geom",
        kind: GeometryKind::MultiPolygon,
        in_vietnam: false,
        required: false,
        source_srid_column: None,
        area_column: Some("area_m2"),
    }),
    conflict_key: None,
    prepare_sql: None,
    partition: None,
    rules: &[],
    history: None,
};

/// Checks every feature it is sent with the row pipeline, as the importer's consumer does.
struct Rows(&'static RowBuilder);

impl FeatureSink for Rows {
    fn begin(&mut self, _info: &SourceInfo) -> Result<(), ImportError> {
        Ok(())
    }

    fn feature(&mut self, feature: RawFeature) -> Result<Flow, ImportError> {
        let _ = self.0.check(feature);
        Ok(Flow::Continue)
    }
}

fn builder() -> &'static RowBuilder {
    static BUILDER: OnceLock<RowBuilder> = OnceLock::new();
    BUILDER.get_or_init(|| RowBuilder::new(&DATASET, &Crs::wgs84()).expect("WGS 84 is always supported"))
}

/// Writes `parts` (file name, content) into a fresh directory and reads the first one as
/// `format`, through the axis check, the reader and the row pipeline. Errors are the expected
/// outcome for most inputs; only a panic, a hang or a runaway allocation is a finding.
pub fn read_files(format: Format, parts: &[(&str, &[u8])]) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for (name, bytes) in parts {
        std::fs::write(dir.path().join(name), bytes).expect("writing the input");
    }
    read_path(&dir.path().join(parts[0].0), format);
}

fn read_path(path: &Path, format: Format) {
    let _ = readers::read(path, format, &ReadOptions::default(), &mut Rows(builder()));
}

/// Splits one input into two files: the first 4 bytes (little-endian, modulo the rest's length)
/// say where the first ends. For formats made of companion files (Shapefile `.shp` + `.dbf`).
pub fn split_two(data: &[u8]) -> (&[u8], &[u8]) {
    let Some((head, rest)) = data.split_first_chunk::<4>() else { return (data, &[]) };
    let at = u32::from_le_bytes(*head) as usize % (rest.len() + 1);
    rest.split_at(at)
}

fn queryables() -> &'static Queryables {
    static QUERYABLES: OnceLock<Queryables> = OnceLock::new();
    QUERYABLES.get_or_init(|| {
        Queryables::new(
            &[
                Property { name: "name", kind: FieldType::Text },
                Property { name: "commune_code", kind: FieldType::Code { digits: 5 } },
                Property { name: "legal_area_m2", kind: FieldType::Float },
                Property { name: "sheet_number", kind: FieldType::Integer },
                Property { name: "survey_date", kind: FieldType::Date },
                Property { name: "observed_at", kind: FieldType::Timestamp },
                Property { name: "land_use_codes", kind: FieldType::TextList },
                Property { name: "active", kind: FieldType::Boolean },
            ],
            Some(&GeometrySpec::multipolygon(true)),
        )
    })
}

/// Parses and translates a filter as `GET …/items?filter=` does, with the default limits.
pub fn compile_filter(data: &[u8], lang: Lang) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = geosector_filter::compile(text, lang, queryables(), &FilterCrs::crs84(), Limits::default());
}
