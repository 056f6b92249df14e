//! ESRI Shapefile reader (ESRI Shapefile Technical Description, July 1998): geometry from the
//! `.shp`, read sequentially record by record (the `.shx` index is not needed), attributes from
//! the `.dbf` ([`super::dbf`], with the text encoding from the `.cpg`, `--encoding` or detection),
//! the CRS from the `.prj` ([`super::prj`]).
//!
//! Shapes: null; point, multipoint, polyline (→ LineString / MultiLineString) and polygon; their
//! Z and M variants with Z and M dropped. Polygon rings are sorted as the specification says:
//! clockwise rings are outer rings, counter-clockwise rings holes, each hole going to the outer
//! ring that contains it. MultiPatch is refused per feature. A record that runs past the end of
//! the file ends the read with an error naming the record.

use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use geo::Contains;
use geo_types::{Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon};

use super::dbf::{DbfReader, EncodingSource};
use super::encoding::TextEncoding;
use crate::error::{ImportError, Location};
use crate::source::{FeatureSink, Flow, RawBody, RawFeature, SourceInfo};

/// Reads a Shapefile given by its `.shp` path (or any of its companions' paths).
///
/// # Errors
/// [`ImportError::File`] when a part cannot be read or the `.dbf` is missing,
/// [`ImportError::Malformed`] for a damaged file (naming the record); errors from the sink.
pub fn read(path: &Path, encoding: Option<TextEncoding>, sink: &mut dyn FeatureSink) -> Result<(), ImportError> {
    let shp_path = sibling(path, "shp")
        .ok_or_else(|| ImportError::File { path: path.to_owned(), reason: "no .shp file beside it".into() })?;
    let malformed = |reason: String| ImportError::Malformed { path: shp_path.clone(), reason };
    let dbf_path = sibling(path, "dbf").ok_or_else(|| ImportError::File {
        path: shp_path.clone(),
        reason: "no .dbf file beside it: a Shapefile's attributes are in its .dbf".into(),
    })?;
    let file = super::files::open(&shp_path)?;
    let file_len = file
        .metadata()
        .map(|m| m.len())
        .map_err(|e| ImportError::File { path: shp_path.clone(), reason: super::files::io_reason(&e) })?;
    let mut shp = BufReader::with_capacity(1 << 16, file);
    let mut header = [0u8; 100];
    shp.read_exact(&mut header).map_err(|e| malformed(format!("no Shapefile header: {e}")))?;
    if i32::from_be_bytes([header[0], header[1], header[2], header[3]]) != 9994 {
        return Err(malformed("not a Shapefile (file code is not 9994)".into()));
    }
    let shape_type = i32::from_le_bytes([header[32], header[33], header[34], header[35]]);
    let mut dbf = DbfReader::open(&dbf_path, encoding, sibling(path, "cpg").as_deref())?;

    let declared_crs = match sibling(path, "prj") {
        None => None,
        Some(prj) => {
            let wkt = std::fs::read(&prj)
                .map_err(|e| ImportError::File { path: prj.clone(), reason: super::files::io_reason(&e) })?;
            let wkt = String::from_utf8_lossy(&wkt);
            let crs = super::prj::crs_from_wkt(&wkt);
            if crs.is_none() {
                tracing::warn!(file = %prj.display(), "the .prj is not a CRS geosector recognises: the CRS comes from --crs (else WGS 84 lon/lat)");
            }
            crs
        }
    };
    let encoding_note = match dbf.encoding_source {
        EncodingSource::Cpg => format!("{} (.cpg)", dbf.encoding),
        EncodingSource::Option => format!("{} (--encoding)", dbf.encoding),
        EncodingSource::Detected { confident: true } => format!("{} (detected)", dbf.encoding),
        EncodingSource::Detected { confident: false } => {
            format!("{} (guessed: no Vietnamese text recognised; pass --encoding if it is wrong)", dbf.encoding)
        }
    };
    sink.begin(&SourceInfo { declared_crs, has_geometry: shape_type != 0, encoding: Some(encoding_note) })?;

    let mut pos: u64 = 100;
    let file: std::sync::Arc<Path> = shp_path.as_path().into();
    let mut index: u64 = 0;
    let mut content = Vec::new();
    let mut pending = None;
    loop {
        let mut record_header = [0u8; 8];
        if pos >= file_len {
            break;
        }
        if pos + 8 > file_len {
            return Err(malformed(format!(
                "record {} (feature {index}) at byte {pos}: truncated record header ({} bytes left in the file)",
                index + 1,
                file_len - pos
            )));
        }
        shp.read_exact(&mut record_header).map_err(|e| malformed(format!("record {}: {e}", index + 1)))?;
        let number = i32::from_be_bytes([record_header[0], record_header[1], record_header[2], record_header[3]]);
        let words = i32::from_be_bytes([record_header[4], record_header[5], record_header[6], record_header[7]]);
        let len = u64::try_from(words)
            .map_err(|_| malformed(format!("record {number}: negative content length {words}")))?
            * 2;
        if pos + 8 + len > file_len {
            return Err(malformed(format!(
                "record {number} (feature {index}) at byte {pos}: its content of {len} bytes runs past the end of the file ({file_len} bytes)"
            )));
        }
        content.resize(usize::try_from(len).unwrap_or(usize::MAX), 0);
        shp.read_exact(&mut content).map_err(|e| malformed(format!("record {number}: {e}")))?;
        pos += 8 + len;

        if pending.is_none() {
            pending = dbf.next_record()?;
        }
        let attributes = match pending.take() {
            None => {
                return Err(ImportError::Malformed {
                    path: dbf_path.clone(),
                    reason: format!(
                        "has {} records, fewer than the .shp's shapes (feature {index} has none)",
                        dbf.len()
                    ),
                })
            }
            Some((i, record)) if u64::from(i) == index => record,
            Some(later) => {
                // The record of this shape is deleted: the shape is skipped too.
                pending = Some(later);
                index += 1;
                continue;
            }
        };
        let body = match (attributes, shape(&content)) {
            (Err((field, reason)), _) => RawBody::Invalid { field, reason },
            (_, Err(reason)) => RawBody::Invalid { field: "geometry".into(), reason },
            (Ok(properties), Ok(geometry)) => RawBody::Decoded { properties, geometry },
        };
        let raw = RawFeature { location: Location { file: file.clone(), index, is_line: false }, body };
        index += 1;
        if sink.feature(raw)? == Flow::Stop {
            break;
        }
    }
    Ok(())
}

/// The companion file with extension `ext` (lower or upper case).
fn sibling(path: &Path, ext: &str) -> Option<PathBuf> {
    [ext.to_ascii_lowercase(), ext.to_ascii_uppercase()]
        .into_iter()
        .map(|e| path.with_extension(e))
        .find(|p| p.is_file())
}

struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn array<const N: usize>(&self, at: usize) -> Result<[u8; N], String> {
        self.0
            .get(at..at + N)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| format!("shape record is truncated at byte {at} of {}", self.0.len()))
    }

    fn i32(&self, at: usize) -> Result<i32, String> {
        self.array(at).map(i32::from_le_bytes)
    }

    fn count(&self, at: usize) -> Result<usize, String> {
        let n = self.i32(at)?;
        usize::try_from(n).map_err(|_| format!("negative count {n} at byte {at}"))
    }

    fn f64(&self, at: usize) -> Result<f64, String> {
        self.array(at).map(f64::from_le_bytes)
    }

    /// The X and Y at `at`, which must be finite numbers: a NaN or infinite coordinate is no
    /// position (and NaN breaks ring closure, which assigning holes relies on).
    fn coord(&self, at: usize) -> Result<Coord<f64>, String> {
        let (x, y) = (self.f64(at)?, self.f64(at + 8)?);
        if x.is_finite() && y.is_finite() {
            Ok(Coord { x, y })
        } else {
            Err(format!("coordinate ({x}, {y}) at byte {at} is not a finite number"))
        }
    }

    fn points(&self, at: usize, n: usize) -> Result<Vec<Coord<f64>>, String> {
        if at.saturating_add(n.saturating_mul(16)) > self.0.len() {
            return Err(format!("{n} points announced but the shape record has {} bytes", self.0.len()));
        }
        (0..n).map(|i| self.coord(at + 16 * i)).collect()
    }
}

/// Decodes one record's content.
fn shape(content: &[u8]) -> Result<Option<Geometry<f64>>, String> {
    let b = Bytes(content);
    let kind = b.i32(0)?;
    Ok(Some(match kind {
        0 => return Ok(None),
        1 | 11 | 21 => Geometry::Point(Point(b.coord(4)?)),
        8 | 18 | 28 => {
            let n = b.count(36)?;
            Geometry::MultiPoint(MultiPoint(b.points(40, n)?.into_iter().map(Point).collect()))
        }
        3 | 13 | 23 | 5 | 15 | 25 => {
            let parts = b.count(36)?;
            let n = b.count(40)?;
            if 44usize.saturating_add(parts.saturating_mul(4)) > content.len() {
                return Err(format!("{parts} parts announced but the shape record has {} bytes", content.len()));
            }
            let starts = (0..parts).map(|i| b.count(44 + 4 * i)).collect::<Result<Vec<_>, _>>()?;
            let points = b.points(44 + 4 * parts, n)?;
            let mut lines = Vec::with_capacity(parts);
            if starts == [0] {
                // One part holding every point (most parcels): no copy.
                lines.push(LineString(points));
            } else {
                split_parts(&starts, &points, &mut lines)?;
            }
            if matches!(kind, 5 | 15 | 25) {
                polygons(lines)
            } else if lines.len() == 1 {
                Geometry::LineString(lines.remove(0))
            } else {
                Geometry::MultiLineString(MultiLineString(lines))
            }
        }
        31 => return Err("MultiPatch shapes are not supported".into()),
        other => return Err(format!("unknown shape type {other}")),
    }))
}

/// The parts of a multi-part shape, from their start indexes into the points.
fn split_parts(starts: &[usize], points: &[Coord<f64>], lines: &mut Vec<LineString<f64>>) -> Result<(), String> {
    let n = points.len();
    for (i, &start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(n);
        let ring = points.get(start..end).ok_or_else(|| format!("part {i} points {start}..{end} outside 0..{n}"))?;
        lines.push(LineString(ring.to_vec()));
    }
    Ok(())
}

/// Twice the signed area: negative for a clockwise ring.
fn signed_area2(ring: &LineString<f64>) -> f64 {
    ring.0.windows(2).map(|w| w[0].x * w[1].y - w[1].x * w[0].y).sum()
}

/// Rings → polygons: clockwise rings are outer rings, the others holes of the outer ring that
/// contains them (or outer rings themselves when none does, as GDAL reads them).
fn polygons(rings: Vec<LineString<f64>>) -> Geometry<f64> {
    let (outer, holes): (Vec<_>, Vec<_>) = rings.into_iter().partition(|r| signed_area2(r) <= 0.0);
    let mut polys: Vec<Polygon<f64>> = outer.into_iter().map(|r| Polygon::new(r, Vec::new())).collect();
    for hole in holes {
        let inside = hole.0.first().and_then(|p| {
            polys.iter().position(|poly| Polygon::new(poly.exterior().clone(), Vec::new()).contains(&Point(*p)))
        });
        match inside {
            Some(i) => polys[i].interiors_push(hole),
            None => polys.push(Polygon::new(hole, Vec::new())),
        }
    }
    if polys.len() == 1 {
        Geometry::Polygon(polys.remove(0))
    } else {
        Geometry::MultiPolygon(MultiPolygon(polys))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{bad_input, Collect};
    use super::*;

    #[test]
    fn pyshp_bad_inputs() {
        let path = bad_input("shapefile", "corrupt_too_long.shp");
        let e = read(&path, None, &mut Collect::default()).unwrap_err();
        assert!(matches!(e, ImportError::Malformed { .. }), "{e}");
        assert!(e.to_string().contains("record 11 (feature 10) at byte 1140: truncated"), "{e}");
        let path = bad_input("shapefile", "latin1.shp");
        let mut sink = Collect::default();
        read(&path, None, &mut sink).unwrap();
        let info = sink.1.unwrap();
        assert_eq!(info.declared_crs, None);
        assert!(info.encoding.unwrap().starts_with("windows-1252 (guessed"));
        let RawBody::Decoded { properties, geometry } = &sink.0[0].body else { panic!("{:?}", sink.0[0]) };
        assert_eq!(properties["Name"], serde_json::Value::from("Ñandú"));
        assert!(matches!(geometry, Some(Geometry::Polygon(_))));
    }

    fn polygon_record(rings: &[&[(f64, f64)]]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend(5i32.to_le_bytes());
        b.extend([0u8; 32]);
        b.extend(i32::try_from(rings.len()).unwrap().to_le_bytes());
        let n: usize = rings.iter().map(|r| r.len()).sum();
        b.extend(i32::try_from(n).unwrap().to_le_bytes());
        let mut start = 0;
        for r in rings {
            b.extend(i32::try_from(start).unwrap().to_le_bytes());
            start += r.len();
        }
        for r in rings {
            for (x, y) in *r {
                b.extend(x.to_le_bytes());
                b.extend(y.to_le_bytes());
            }
        }
        b
    }

    #[test]
    fn rings_by_orientation() {
        let outer: &[(f64, f64)] = &[(0.0, 0.0), (0.0, 10.0), (10.0, 10.0), (10.0, 0.0), (0.0, 0.0)]; // clockwise
        let hole: &[(f64, f64)] = &[(2.0, 2.0), (4.0, 2.0), (4.0, 4.0), (2.0, 4.0), (2.0, 2.0)]; // counter-clockwise
        let other: &[(f64, f64)] = &[(20.0, 0.0), (20.0, 5.0), (25.0, 5.0), (25.0, 0.0), (20.0, 0.0)];
        match shape(&polygon_record(&[outer, hole])).unwrap() {
            Some(Geometry::Polygon(p)) => assert_eq!(p.interiors().len(), 1),
            other => panic!("{other:?}"),
        }
        match shape(&polygon_record(&[outer, other, hole])).unwrap() {
            Some(Geometry::MultiPolygon(m)) => {
                assert_eq!(m.0.len(), 2);
                assert_eq!(m.0[0].interiors().len(), 1);
                assert_eq!(m.0[1].interiors().len(), 0);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn damaged_records_are_errors() {
        let outer: &[(f64, f64)] = &[(0.0, 0.0), (0.0, 10.0), (10.0, 10.0), (10.0, 0.0), (0.0, 0.0)];
        let full = polygon_record(&[outer]);
        for cut in [0, 3, 40, 50, full.len() - 1] {
            assert!(shape(&full[..cut]).is_err(), "cut at {cut}");
        }
        let mut huge = full.clone();
        huge[40..44].copy_from_slice(&i32::MAX.to_le_bytes());
        assert!(shape(&huge).unwrap_err().contains("announced"));
        assert_eq!(shape(&0i32.to_le_bytes()).unwrap(), None);
    }

    /// Fuzzing found a ring with a NaN coordinate panicking in geo's `contains` (a NaN ring is
    /// never closed); non-finite coordinates are now the feature's error, in every shape kind.
    #[test]
    fn non_finite_coordinates_are_errors() {
        let outer: &[(f64, f64)] = &[(0.0, 0.0), (0.0, 10.0), (10.0, 10.0), (10.0, 0.0), (0.0, 0.0)];
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let hole: &[(f64, f64)] = &[(2.0, 2.0), (4.0, 2.0), (bad, 4.0), (2.0, 4.0), (2.0, 2.0)];
            let e = shape(&polygon_record(&[outer, hole])).unwrap_err();
            assert!(e.contains("is not a finite number"), "{e}");
            let mut point = 1i32.to_le_bytes().to_vec();
            point.extend(1.0f64.to_le_bytes());
            point.extend(bad.to_le_bytes());
            assert!(shape(&point).unwrap_err().contains("at byte 4 is not a finite number"));
        }
    }
}
