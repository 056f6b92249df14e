//! Deterministic, real-shaped synthetic cadastral parcels for samples, tests and benchmarks
//! (`geosector sample-data`, the import benchmarks, the overlap check's tests).
//!
//! A crate of its own, beside the land sector's declarations (`geosector-land`) rather than in
//! them: it needs geometry and file writers (geo, FlatGeobuf), which a declarations crate does
//! not, and the importer (`geosector-ingest`) must not carry a sector's data generator.
//!
//! Parcels are a gap-free, overlap-free tessellation laid out in VN-2000 TM-3 105°00′
//! (EPSG:5897, k = 0.9999), the CRS of Hà Nội's cadastral maps: a jittered grid of cells about
//! 48 m × 48 m (≈ 2,300 m², like rural Hà Nội parcels), each an 8-vertex polygon whose vertices
//! are shared exactly with its neighbours. Land use is spatially clustered (rice fields,
//! villages with gardens, aquaculture, roads and canals, a few public plots), codes from
//! TT 08/2024. Parcels are grouped into communes (blocks of ~60 × 60 parcels), map sheets
//! (blocks of 15 × 15 parcels) and numbered within their sheet. Declared areas are the computed
//! area rounded to 0.1 m², with about 1 % off by more than the tolerance and 0.2 % duplicate
//! parcel numbers, as real data have. The same seed always gives the same bytes.

use std::io::Write;

use geo::Area;
use geo_types::{Coord, LineString, MultiPolygon, Polygon};

/// The CRS the parcels are written in.
pub const PARCEL_EPSG: u32 = 5897;

/// What to generate.
#[derive(Debug, Clone)]
pub struct ParcelOptions {
    /// Number of parcels.
    pub count: usize,
    /// Seed of the pseudo-random sequence.
    pub seed: u64,
    /// South-west corner in EPSG:5897 (easting, northing).
    pub origin: (f64, f64),
    /// Commune codes to use, in order, one per block of about 3,600 parcels (cycled).
    pub communes: Vec<(String, String)>,
}

/// Real 2025 communes of Hà Nội (codes of Decision 19/2025/QĐ-TTg), used in order: a sample of
/// up to ~3,600 parcels lies in Xã Sóc Sơn only.
pub const HANOI_COMMUNES: &[(&str, &str)] = &[
    ("00376", "Xã Sóc Sơn"),
    ("00382", "Xã Kim Anh"),
    ("00385", "Xã Trung Giã"),
    ("00430", "Xã Đa Phúc"),
    ("00433", "Xã Nội Bài"),
    ("00454", "Xã Đông Anh"),
    ("00466", "Xã Phúc Thịnh"),
    ("00475", "Xã Thư Lâm"),
    ("00493", "Xã Thiên Lộc"),
    ("00508", "Xã Vĩnh Thanh"),
    ("00541", "Xã Phù Đổng"),
    ("00562", "Xã Thuận An"),
    ("00565", "Xã Gia Lâm"),
    ("00577", "Xã Bát Tràng"),
    ("00640", "Xã Thanh Trì"),
    ("00664", "Xã Đại Thanh"),
    ("00679", "Xã Ngọc Hồi"),
    ("00685", "Xã Nam Phù"),
    ("04930", "Xã Yên Xuân"),
    ("08974", "Xã Quang Minh"),
    ("08980", "Xã Yên Lãng"),
    ("08995", "Xã Tiến Thắng"),
    ("09022", "Xã Mê Linh"),
    ("09616", "Xã Đoài Phương"),
    ("09619", "Xã Quảng Oai"),
    ("09634", "Xã Cổ Đô"),
    ("09661", "Xã Minh Châu"),
    ("09664", "Xã Vật Lại"),
    ("09676", "Xã Bất Bạt"),
    ("09694", "Xã Suối Hai"),
    ("09700", "Xã Ba Vì"),
    ("09706", "Xã Yên Bài"),
];

impl Default for ParcelOptions {
    fn default() -> Self {
        ParcelOptions {
            count: 1000,
            seed: 1,
            // Inside Xã Sóc Sơn (00376), northern Hà Nội, in TM-3 105°00′.
            origin: (587_400.0, 2_349_760.0),
            communes: HANOI_COMMUNES.iter().map(|(c, n)| ((*c).to_owned(), (*n).to_owned())).collect(),
        }
    }
}

/// One generated parcel.
#[derive(Debug, Clone)]
pub struct Parcel {
    /// Commune code and name.
    pub commune: (String, String),
    /// Map sheet number.
    pub sheet: i32,
    /// Parcel number in the sheet.
    pub number: i32,
    /// Land-use codes and their areas.
    pub uses: Vec<(&'static str, f64)>,
    /// Declared area (dienTich), m².
    pub declared_area: f64,
    /// Legal area (dienTichPhapLy), m².
    pub legal_area: f64,
    /// Address.
    pub address: String,
    /// Survey date, `YYYY-MM-DD`.
    pub survey_date: String,
    /// Geometry in EPSG:5897.
    pub geometry: MultiPolygon<f64>,
}

const CELL: f64 = 48.0;
const COMMUNE_BLOCK: usize = 60;
const SHEET_BLOCK: usize = 15;

/// SplitMix64 over a key: a stateless hash, so every vertex and attribute is a pure function of
/// (seed, position) and neighbours agree on shared vertices.
fn hash(seed: u64, a: u64, b: u64, salt: u64) -> u64 {
    let mut z = seed
        ^ a.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ b.wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
        ^ salt.wrapping_mul(0x1656_67B1_9E37_79F9);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Uniform in [0, 1).
fn unit(seed: u64, a: u64, b: u64, salt: u64) -> f64 {
    (hash(seed, a, b, salt) >> 11) as f64 / (1u64 << 53) as f64
}

/// A generator of parcels; `parcel(i)` is independent of every other parcel.
#[derive(Debug, Clone)]
pub struct ParcelGenerator {
    options: ParcelOptions,
    columns: usize,
    col_x: Vec<f64>,
    row_y: Vec<f64>,
}

impl ParcelGenerator {
    /// Lays out the grid.
    pub fn new(options: ParcelOptions) -> ParcelGenerator {
        let columns = ((options.count as f64).sqrt().ceil() as usize).max(1);
        let rows = options.count.div_ceil(columns).max(1);
        let cumulative = |n: usize, salt: u64, start: f64| {
            let mut v = Vec::with_capacity(n + 1);
            let mut at = start;
            v.push(at);
            for i in 0..n {
                at += CELL * (0.6 + 0.8 * unit(options.seed, i as u64, 0, salt));
                v.push(at);
            }
            v
        };
        let col_x = cumulative(columns, 11, options.origin.0);
        let row_y = cumulative(rows, 12, options.origin.1);
        ParcelGenerator { options, columns, col_x, row_y }
    }

    /// Number of parcels.
    pub fn len(&self) -> usize {
        self.options.count
    }

    /// Whether it generates nothing.
    pub fn is_empty(&self) -> bool {
        self.options.count == 0
    }

    fn corner(&self, i: usize, j: usize) -> Coord<f64> {
        let s = self.options.seed;
        let (w, h) = (self.col_x[i.min(self.col_x.len() - 1)], self.row_y[j.min(self.row_y.len() - 1)]);
        let interior = i > 0 && j > 0 && i < self.col_x.len() - 1 && j < self.row_y.len() - 1;
        let jitter = if interior { 0.12 * CELL } else { 0.0 };
        Coord {
            x: w + jitter * (unit(s, i as u64, j as u64, 1) - 0.5),
            y: h + jitter * (unit(s, i as u64, j as u64, 2) - 0.5),
        }
    }

    /// The midpoint of an edge, pushed sideways by a hash of the edge (shared by both cells).
    fn mid(&self, a: Coord<f64>, b: Coord<f64>, key: (u64, u64, u64), boundary: bool) -> Coord<f64> {
        let m = Coord { x: (a.x + b.x) / 2.0, y: (a.y + b.y) / 2.0 };
        if boundary {
            return m;
        }
        let (dx, dy) = (b.x - a.x, b.y - a.y);
        let len = (dx * dx + dy * dy).sqrt().max(1e-9);
        let push = 0.08 * CELL * (unit(self.options.seed, key.0, key.1, 3 + key.2) - 0.5);
        Coord { x: m.x - dy / len * push, y: m.y + dx / len * push }
    }

    /// Parcel number `index` (0-based), or `None` past the end.
    pub fn parcel(&self, index: usize) -> Option<Parcel> {
        if index >= self.options.count {
            return None;
        }
        let (i, j) = (index % self.columns, index / self.columns);
        let (last_i, last_j) = (self.col_x.len() - 1, self.row_y.len() - 1);
        let (c00, c10, c11, c01) =
            (self.corner(i, j), self.corner(i + 1, j), self.corner(i + 1, j + 1), self.corner(i, j + 1));
        let (iu, ju) = (i as u64, j as u64);
        let ring = vec![
            c00,
            self.mid(c00, c10, (iu, ju, 0), j == 0),
            c10,
            self.mid(c10, c11, (iu + 1, ju, 1), i + 1 == last_i),
            c11,
            self.mid(c01, c11, (iu, ju + 1, 0), j + 1 == last_j),
            c01,
            self.mid(c00, c01, (iu, ju, 1), i == 0),
            c00,
        ];
        let polygon = Polygon::new(LineString(ring), vec![]);
        let area = polygon.unsigned_area();
        let s = self.options.seed;

        let blocks_per_row = self.columns.div_ceil(COMMUNE_BLOCK);
        let commune_index = (j / COMMUNE_BLOCK) * blocks_per_row + i / COMMUNE_BLOCK;
        let commune = self.options.communes[commune_index % self.options.communes.len().max(1)].clone();
        let (ci, cj) = (i % COMMUNE_BLOCK, j % COMMUNE_BLOCK);
        let sheet = (cj / SHEET_BLOCK) * COMMUNE_BLOCK.div_ceil(SHEET_BLOCK) + ci / SHEET_BLOCK + 1;
        let mut number = (cj % SHEET_BLOCK) * SHEET_BLOCK + ci % SHEET_BLOCK + 1;
        if unit(s, iu, ju, 20) < 0.002 && number > 1 {
            number -= 1; // a duplicate parcel number, as in real sheets
        }

        let uses = land_use(s, i, j, area);
        let rounded = (area * 10.0).round() / 10.0;
        let declared = if unit(s, iu, ju, 21) < 0.01 {
            (rounded * (1.05 + 0.1 * unit(s, iu, ju, 22)) * 10.0).round() / 10.0
        } else {
            rounded
        };
        let legal = if uses.iter().any(|(c, _)| *c == "DGT" || *c == "DTL") { 0.0 } else { declared };
        // One survey per map sheet.
        let (si, sj) = ((i / SHEET_BLOCK) as u64, (j / SHEET_BLOCK) as u64);
        let year = 2019 + (hash(s, si, sj, 23) % 6);
        let day = 1 + hash(s, si, sj, 24) % 28;
        let month = 1 + hash(s, si, sj, 25) % 12;
        Some(Parcel {
            address: format!("Thôn {}, {}", 1 + (cj / 10) * 6 + ci / 10, commune.1),
            commune,
            sheet: sheet as i32,
            number: number as i32,
            uses,
            declared_area: declared,
            legal_area: legal,
            survey_date: format!("{year}-{month:02}-{day:02}"),
            geometry: MultiPolygon(vec![polygon]),
        })
    }
}

/// Spatially clustered land use from a coarse value noise; mixed residential parcels carry two
/// purposes (ONT + CLN) with their areas.
fn land_use(seed: u64, i: usize, j: usize, area: f64) -> Vec<(&'static str, f64)> {
    if j % 40 == 20 {
        return vec![("DGT", area)];
    }
    if i % 55 == 27 {
        return vec![("DTL", area)];
    }
    let zone = unit(seed, (i / 12) as u64, (j / 12) as u64, 30);
    let pick = unit(seed, i as u64, j as u64, 31);
    let code = match zone {
        z if z < 0.38 => {
            if pick < 0.8 {
                "LUC"
            } else {
                "LUK"
            }
        }
        z if z < 0.62 => {
            if pick < 0.45 {
                let home = (area * 0.3 * 10.0).round() / 10.0;
                return vec![("ONT", home), ("CLN", ((area - home) * 10.0).round() / 10.0)];
            }
            if pick < 0.85 {
                "ONT"
            } else if pick < 0.9 {
                "DGD"
            } else if pick < 0.93 {
                "DYT"
            } else if pick < 0.96 {
                "TSC"
            } else {
                "DSH"
            }
        }
        z if z < 0.72 => "NTS",
        z if z < 0.82 => "HNK",
        z if z < 0.9 => "CLN",
        z if z < 0.95 => {
            if pick < 0.5 {
                "SKC"
            } else {
                "TMD"
            }
        }
        _ => "RSX",
    };
    vec![(code, (area * 10.0).round() / 10.0)]
}

/// Output formats of the generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SynthFormat {
    /// A GeoJSON FeatureCollection with a `crs` member.
    GeoJson,
    /// Newline-delimited GeoJSON (no CRS member possible: import with `--crs EPSG:5897`).
    GeoJsonSeq,
    /// FlatGeobuf with a spatial index and the CRS in its header.
    FlatGeobuf,
}

fn json_string(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

fn feature_json(p: &Parcel) -> String {
    let mut coords = String::with_capacity(400);
    for (k, polygon) in p.geometry.0.iter().enumerate() {
        if k > 0 {
            coords.push(',');
        }
        coords.push_str("[[");
        for (n, c) in polygon.exterior().0.iter().enumerate() {
            if n > 0 {
                coords.push(',');
            }
            coords.push_str(&format!("[{:.3},{:.3}]", c.x, c.y));
        }
        coords.push_str("]]");
    }
    let codes = p.uses.iter().map(|(c, _)| format!("\"{c}\"")).collect::<Vec<_>>().join(",");
    let areas = p.uses.iter().map(|(_, a)| format!("{a:.1}")).collect::<Vec<_>>().join(",");
    format!(
        "{{\"type\":\"Feature\",\"properties\":{{\"maXa\":\"{}\",\"soHieuToBanDo\":{},\"soThuTuThua\":\"{}\",\"maMucDichSuDung\":[{codes}],\"dienTichMucDichSuDung\":[{areas}],\"dienTich\":{:.1},\"dienTichPhapLy\":{:.1},\"diaChi\":{},\"tyLeBanDo\":1000,\"ngayDoDac\":\"{}\"}},\"geometry\":{{\"type\":\"MultiPolygon\",\"coordinates\":[{coords}]}}}}",
        p.commune.0, p.sheet, p.number, p.declared_area, p.legal_area, json_string(&p.address), p.survey_date
    )
}

/// Writes `generator`'s parcels to `out` in `format`.
///
/// # Errors
/// I/O errors of `out`, or the FlatGeobuf writer's.
pub fn write_parcels(generator: &ParcelGenerator, format: SynthFormat, mut out: impl Write) -> std::io::Result<()> {
    match format {
        SynthFormat::GeoJson => {
            write!(out, "{{\"type\":\"FeatureCollection\",\"crs\":{{\"type\":\"name\",\"properties\":{{\"name\":\"urn:ogc:def:crs:EPSG::{PARCEL_EPSG}\"}}}},\"features\":[")?;
            out.write_all(b"\n")?;
            for i in 0..generator.len() {
                if let Some(p) = generator.parcel(i) {
                    out.write_all(feature_json(&p).as_bytes())?;
                    out.write_all(if i + 1 < generator.len() { b",\n" } else { b"\n" })?;
                }
            }
            out.write_all(b"]}\n")?;
        }
        SynthFormat::GeoJsonSeq => {
            for i in 0..generator.len() {
                if let Some(p) = generator.parcel(i) {
                    out.write_all(feature_json(&p).as_bytes())?;
                    out.write_all(b"\n")?;
                }
            }
        }
        SynthFormat::FlatGeobuf => write_fgb(generator, &mut out).map_err(|e| std::io::Error::other(e.to_string()))?,
    }
    out.flush()
}

fn write_fgb(generator: &ParcelGenerator, out: impl Write) -> Result<(), Box<dyn std::error::Error>> {
    use flatgeobuf::{ColumnType, FgbCrs, FgbWriter, FgbWriterOptions, GeometryType};
    use geozero::ColumnValue;
    let options =
        FgbWriterOptions { crs: FgbCrs { code: PARCEL_EPSG as i32, ..Default::default() }, ..Default::default() };
    let mut fgb = FgbWriter::create_with_options("parcels", GeometryType::MultiPolygon, options)?;
    let columns = [
        ("maXa", ColumnType::String),
        ("soHieuToBanDo", ColumnType::Int),
        ("soThuTuThua", ColumnType::String),
        ("maMucDichSuDung", ColumnType::String),
        ("dienTichMucDichSuDung", ColumnType::String),
        ("dienTich", ColumnType::Double),
        ("dienTichPhapLy", ColumnType::Double),
        ("diaChi", ColumnType::String),
        ("tyLeBanDo", ColumnType::Int),
        ("ngayDoDac", ColumnType::String),
    ];
    for (name, kind) in columns {
        fgb.add_column(name, kind, |_, _| {});
    }
    for i in 0..generator.len() {
        let Some(p) = generator.parcel(i) else { continue };
        let number = p.number.to_string();
        let codes = p.uses.iter().map(|(c, _)| *c).collect::<Vec<_>>().join("+");
        let areas = p.uses.iter().map(|(_, a)| format!("{a:.1}")).collect::<Vec<_>>().join(";");
        let geometry = geo_types::Geometry::MultiPolygon(p.geometry.clone());
        fgb.add_feature_geom(geometry, |f| {
            let values = [
                ColumnValue::String(&p.commune.0),
                ColumnValue::Int(p.sheet),
                ColumnValue::String(&number),
                ColumnValue::String(&codes),
                ColumnValue::String(&areas),
                ColumnValue::Double(p.declared_area),
                ColumnValue::Double(p.legal_area),
                ColumnValue::String(&p.address),
                ColumnValue::Int(1000),
                ColumnValue::String(&p.survey_date),
            ];
            for (k, ((name, _), value)) in columns.iter().zip(values.iter()).enumerate() {
                // The writer only fails for a column index it does not know; all are declared above.
                let _known = geozero::PropertyProcessor::property(f, k, name, value);
            }
        })?;
    }
    fgb.write(out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{BooleanOps, Relate};

    #[test]
    fn same_seed_same_parcels_and_no_overlaps() {
        let g = ParcelGenerator::new(ParcelOptions { count: 100, ..Default::default() });
        let a = g.parcel(42).unwrap();
        let b = ParcelGenerator::new(ParcelOptions { count: 100, ..Default::default() }).parcel(42).unwrap();
        assert_eq!(a.geometry, b.geometry);
        // Neighbours share an edge but do not overlap.
        let right = g.parcel(43).unwrap();
        let inter = a.geometry.intersection(&right.geometry).unsigned_area();
        assert!(inter < 1e-6, "overlap {inter}");
        assert!(a.geometry.relate(&right.geometry).is_touches());
        let total: f64 = (0..100).map(|i| g.parcel(i).unwrap().geometry.unsigned_area()).sum();
        assert!(total > 100.0 * 1500.0 && total < 100.0 * 3500.0, "{total}");
        assert!(g.parcel(100).is_none());
    }

    #[test]
    fn purposes_add_up_to_the_area() {
        let g = ParcelGenerator::new(ParcelOptions { count: 2000, ..Default::default() });
        for i in 0..2000 {
            let p = g.parcel(i).unwrap();
            let sum: f64 = p.uses.iter().map(|(_, a)| a).sum();
            assert!((sum - p.geometry.unsigned_area()).abs() < 0.2, "parcel {i}");
            assert!(p.uses.iter().all(|(c, _)| c.len() == 3));
        }
    }
}
