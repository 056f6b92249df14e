//! FlatGeobuf reader: sequential scan of every feature (no index needed), properties with their
//! column types, the CRS from the header.
//!
//! Polygons and multipolygons (what parcels come as) are read straight from the feature's
//! coordinate arrays into `geo-types`, as geozero's `GeoWriter` would build them; every other
//! kind, and anything unusual, goes through geozero.
//!
//! A hostile file cannot make the `flatgeobuf` crate panic or allocate what the file does not
//! hold: before it reads, [`check_layout`] walks the size prefixes of the index and of every
//! feature against the file's length (the crate would allocate a declared feature size of up to
//! 4 GiB, and asserts on an index node size of 1), and properties are decoded here
//! ([`properties`]) with every length checked, not by the crate's reader, which slices by the
//! lengths the file declares.

use std::io::{BufReader, Read, Seek};
use std::path::Path;

use flatgeobuf::{ColumnType, FallibleStreamingIterator, FgbReader, GeometryType};
use geo_types::{Coord, LineString, MultiPolygon, Polygon};
use geozero::ToGeo;
use serde_json::Value;

use crate::error::{ImportError, Location};
use crate::source::{ColumnValues, Columns, FeatureSink, Flow, Properties, RawBody, RawFeature, SourceInfo};

/// Reads every feature of a FlatGeobuf file.
///
/// # Errors
/// [`ImportError::Malformed`] for a file that is not FlatGeobuf or is damaged (with the feature
/// index), [`ImportError::Crs`] for an unsupported declared CRS; errors from the sink.
pub fn read(path: &Path, sink: &mut dyn FeatureSink) -> Result<(), ImportError> {
    let malformed = |reason: String| ImportError::Malformed { path: path.to_owned(), reason };
    let reader = FgbReader::open(BufReader::with_capacity(1 << 16, super::files::open(path)?))
        .map_err(|e| malformed(format!("not a readable FlatGeobuf file: {e}")))?;
    let header = reader.header();
    let index_nodes = header.index_node_size();
    let index_items = if index_nodes > 0 { header.features_count() } else { 0 };
    check_layout(BufReader::with_capacity(1 << 16, super::files::open(path)?), index_items, index_nodes)
        .map_err(malformed)?;
    let declared_crs = match header.crs() {
        Some(crs) if crs.code() > 0 => Some(format!("{}:{}", crs.org().unwrap_or("EPSG"), crs.code())),
        _ => None,
    };
    // The properties of every feature are values in the header's columns.
    let names = header.columns().map(|c| c.iter().map(|c| c.name().to_owned()).collect::<Vec<_>>());
    let columns = Columns::new(names.unwrap_or_default());
    let has_columns = header.columns().is_some();
    let types: Vec<ColumnType> = header.columns().map(|c| c.iter().map(|c| c.type_()).collect()).unwrap_or_default();
    let declared_type = header.geometry_type();
    let has_geometry = declared_type != GeometryType::Unknown || header.columns().is_none();
    sink.begin(&SourceInfo { declared_crs, has_geometry, encoding: None })?;
    let mut features = reader.select_all_seq().map_err(|e| malformed(format!("cannot read features: {e}")))?;
    let file: std::sync::Arc<Path> = path.into();
    let mut index = 0u64;
    loop {
        let next = features.next().map_err(|e| malformed(format!("feature {index}: {e}")))?;
        let Some(feature) = next else { break };
        let mut values = columns.values();
        // As the crate's reader: properties are read only when the header has columns.
        if let Some(bytes) = feature.fbs_feature().properties().filter(|_| has_columns) {
            properties(bytes.bytes(), &types, &mut values)
                .map_err(|e| malformed(format!("feature {index}: properties: {e}")))?;
        }
        let geometry = match feature.geometry() {
            None => None,
            Some(g) => {
                let kind = read_as(&g, declared_type);
                let invalid = |e: String| malformed(format!("feature {index}: geometry: {e}"));
                match polygonal(&g, kind) {
                    Some(g) => Some(g),
                    None => {
                        check_arrays(&g, kind).map_err(invalid)?;
                        Some(feature.to_geo().map_err(|e| invalid(e.to_string()))?)
                    }
                }
            }
        };
        let raw = RawFeature {
            location: Location { file: file.clone(), index, is_line: false },
            body: RawBody::Decoded { properties: Properties::Columns(values), geometry },
        };
        index += 1;
        if sink.feature(raw)? == Flow::Stop {
            break;
        }
    }
    Ok(())
}

/// The type a geometry is read as: the header's, or the feature's own when the header says
/// Unknown (as geozero's reader does).
fn read_as(g: &flatgeobuf::Geometry<'_>, declared: GeometryType) -> GeometryType {
    if declared == GeometryType::Unknown {
        g.type_()
    } else {
        declared
    }
}

/// A geometry read as a Polygon or MultiPolygon (`kind`), as geozero's reader and `GeoWriter`
/// give it: the XY of each ring (Z and M dropped),
/// rings split at `ends` (when there are two or more), rings closed by `Polygon::new`. `None`
/// for other kinds and for arrays geozero would refuse or not read whole (then it decides).
fn polygonal(g: &flatgeobuf::Geometry<'_>, kind: GeometryType) -> Option<geo_types::Geometry<f64>> {
    match kind {
        GeometryType::Polygon => polygon(g).map(geo_types::Geometry::Polygon),
        GeometryType::MultiPolygon => {
            let parts = g.parts()?;
            let polygons = parts.iter().map(|part| polygon(&part)).collect::<Option<Vec<_>>>()?;
            Some(geo_types::Geometry::MultiPolygon(MultiPolygon(polygons)))
        }
        _ => None,
    }
}

/// One polygon's rings (see [`polygonal`]).
fn polygon(g: &flatgeobuf::Geometry<'_>) -> Option<Polygon<f64>> {
    let xy = g.xy()?.bytes();
    if xy.len() % 16 != 0 {
        return None;
    }
    let ring = |from: usize, to: usize| {
        let coords = xy[from * 8..to * 8]
            .chunks_exact(16)
            .map(|c| {
                let (x, y) = c.split_at(8);
                Some(Coord { x: f64::from_le_bytes(x.try_into().ok()?), y: f64::from_le_bytes(y.try_into().ok()?) })
            })
            .collect::<Option<Vec<Coord<f64>>>>()?;
        Some(LineString(coords))
    };
    let count = xy.len() / 8;
    let mut rings = Vec::new();
    match g.ends() {
        Some(ends) if ends.len() > 1 => {
            rings.reserve_exact(ends.len());
            let mut offset = 0;
            for end in ends.iter() {
                let end = usize::try_from(end).ok()?.checked_mul(2)?;
                if end < offset || end > count {
                    return None;
                }
                rings.push(ring(offset, end)?);
                offset = end;
            }
        }
        _ => rings.push(ring(0, count)?),
    }
    let exterior = rings.remove(0);
    Some(Polygon::new(exterior, rings))
}

/// Checks the coordinate arrays of a geometry read as `kind` (and of its parts) against each
/// other, as geozero's reader indexes them without checking: `xy` holds pairs, a point has one,
/// and ring or line `ends` rise and stay within `xy`. (Z and M are not read: the geometry is
/// built in XY.) Fuzzing found a polygon whose `ends` point past its `xy` panicking in geozero.
fn check_arrays(g: &flatgeobuf::Geometry<'_>, kind: GeometryType) -> Result<(), String> {
    let pairs = match g.xy() {
        Some(xy) if xy.len() % 2 != 0 => return Err(format!("{} xy values are not x,y pairs", xy.len())),
        Some(xy) if xy.is_empty() && kind == GeometryType::Point => return Err("a point without xy".into()),
        Some(xy) => xy.len() / 2,
        None => 0,
    };
    if let Some(ends) = g.ends().filter(|ends| ends.len() > 1) {
        let mut previous = 0;
        for (i, end) in ends.iter().enumerate() {
            let end = usize::try_from(end).map_err(|_| format!("end {i} does not fit in memory"))?;
            if end < previous || end > pairs {
                return Err(format!("end {i} is {end}, outside {previous}..={pairs} (the xy pairs)"));
            }
            previous = end;
        }
    }
    for part in g.parts().iter().flat_map(|parts| parts.iter()) {
        // Only a collection's parts are read as their own type (as points, too).
        let part_kind = if kind == GeometryType::GeometryCollection { part.type_() } else { GeometryType::Unknown };
        check_arrays(&part, part_kind)?;
    }
    Ok(())
}

/// Checks that the index the header announces (`items` features in nodes of `node_size`) and
/// every feature's size prefix fit in the file, so that reading allocates no more than the file
/// holds. Reads 4 bytes per feature.
fn check_layout<R: Read + Seek>(mut file: BufReader<R>, items: u64, node_size: u16) -> Result<(), String> {
    let file_len = file.seek(std::io::SeekFrom::End(0)).map_err(|e| format!("cannot read: {e}"))?;
    file.seek(std::io::SeekFrom::Start(8)).map_err(|e| format!("cannot read: {e}"))?;
    let mut word = [0u8; 4];
    file.read_exact(&mut word).map_err(|e| format!("cannot read the header size: {e}"))?;
    let header_end = 12 + u64::from(u32::from_le_bytes(word));
    let index = index_size(items, node_size).ok_or_else(|| {
        format!("the header announces an index of {items} features in nodes of {node_size}, which cannot be")
    })?;
    let mut pos = header_end.checked_add(index).filter(|end| *end <= file_len).ok_or_else(|| {
        format!("the header announces an index of {index} bytes ({items} features), more than the file holds ({file_len} bytes)")
    })?;
    file.seek(std::io::SeekFrom::Start(pos)).map_err(|e| format!("cannot read: {e}"))?;
    let mut feature = 0u64;
    while pos + 4 <= file_len {
        file.read_exact(&mut word).map_err(|e| format!("feature {feature}: cannot read its size: {e}"))?;
        let size = u64::from(u32::from_le_bytes(word));
        if pos + 4 + size > file_len {
            return Err(format!(
                "feature {feature} at byte {pos} announces {size} bytes, more than the file holds ({file_len} bytes)"
            ));
        }
        file.seek_relative(i64::try_from(size).map_err(|_| "feature size overflows".to_owned())?)
            .map_err(|e| format!("feature {feature}: {e}"))?;
        pos += 4 + size;
        feature += 1;
    }
    Ok(())
}

/// The size in bytes of a packed Hilbert R-tree index of `items` features with `node_size`
/// children per node (40 bytes a node), as the `flatgeobuf` crate computes it, without its
/// assertion (a node size below 2) or overflow. `Some(0)` when there is no index.
fn index_size(items: u64, node_size: u16) -> Option<u64> {
    if items == 0 || node_size == 0 {
        return Some(0);
    }
    if node_size < 2 {
        return None;
    }
    let (mut n, mut nodes) = (items, items);
    loop {
        n = n.div_ceil(u64::from(node_size));
        nodes = nodes.checked_add(n)?;
        if n == 1 {
            break;
        }
    }
    nodes.checked_mul(40)
}

/// Decodes a feature's properties (column index, then the value in the column's type) into
/// `values`. The same reading as `flatgeobuf`'s `process_properties`, trailing byte tolerated,
/// but every length is checked against the bytes there are.
fn properties(bytes: &[u8], types: &[ColumnType], values: &mut ColumnValues) -> Result<(), String> {
    fn take<'a>(bytes: &'a [u8], at: &mut usize, n: usize) -> Result<&'a [u8], String> {
        let part = at
            .checked_add(n)
            .and_then(|end| bytes.get(*at..end))
            .ok_or_else(|| format!("a value of {n} bytes at byte {at} runs past the end ({} bytes)", bytes.len()))?;
        *at += n;
        Ok(part)
    }
    fn array<const N: usize>(b: &[u8]) -> [u8; N] {
        let mut out = [0u8; N];
        out.copy_from_slice(b);
        out
    }
    fn text(b: &[u8]) -> Result<&str, String> {
        std::str::from_utf8(b).map_err(|_| "text is not UTF-8".to_owned())
    }
    let mut at = 0;
    while at + 1 < bytes.len() {
        let column = usize::from(u16::from_le_bytes(array(take(bytes, &mut at, 2)?)));
        let kind = *types.get(column).ok_or_else(|| format!("column {column} is not in the header"))?;
        let value = match kind {
            ColumnType::Byte => Value::from(i8::from_le_bytes(array(take(bytes, &mut at, 1)?))),
            ColumnType::UByte => Value::from(take(bytes, &mut at, 1)?[0]),
            ColumnType::Bool => Value::from(take(bytes, &mut at, 1)?[0] != 0),
            ColumnType::Short => Value::from(i16::from_le_bytes(array(take(bytes, &mut at, 2)?))),
            ColumnType::UShort => Value::from(u16::from_le_bytes(array(take(bytes, &mut at, 2)?))),
            ColumnType::Int => Value::from(i32::from_le_bytes(array(take(bytes, &mut at, 4)?))),
            ColumnType::UInt => Value::from(u32::from_le_bytes(array(take(bytes, &mut at, 4)?))),
            ColumnType::Long => Value::from(i64::from_le_bytes(array(take(bytes, &mut at, 8)?))),
            ColumnType::ULong => Value::from(u64::from_le_bytes(array(take(bytes, &mut at, 8)?))),
            ColumnType::Float => Value::from(f64::from(f32::from_le_bytes(array(take(bytes, &mut at, 4)?)))),
            ColumnType::Double => Value::from(f64::from_le_bytes(array(take(bytes, &mut at, 8)?))),
            ColumnType::String | ColumnType::DateTime | ColumnType::Json | ColumnType::Binary => {
                let len = u32::from_le_bytes(array(take(bytes, &mut at, 4)?));
                let raw = take(bytes, &mut at, usize::try_from(len).map_err(|_| "text too long".to_owned())?)?;
                match kind {
                    ColumnType::Binary => Value::Null,
                    ColumnType::Json => {
                        let t = text(raw)?;
                        serde_json::from_str(t).unwrap_or_else(|_| Value::from(t))
                    }
                    _ => Value::from(text(raw)?),
                }
            }
            // A type this version does not know: skipped, as the crate's reader does.
            _ => continue,
        };
        values.set(column, value);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{bad_input, Collect};
    use super::*;

    /// `poly00.fgb` with `patch` applied at the first feature's size prefix, read by [`read`].
    fn read_patched(patch: impl FnOnce(&mut Vec<u8>, usize)) -> Result<(), ImportError> {
        let mut bytes = std::fs::read(bad_input("flatgeobuf", "poly00.fgb")).unwrap();
        let reader = FgbReader::open(std::io::Cursor::new(&bytes)).unwrap();
        let (items, nodes) = (reader.header().features_count(), reader.header().index_node_size());
        let header_end = 12 + u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize;
        let first = header_end + index_size(items, nodes).unwrap() as usize;
        patch(&mut bytes, first);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("patched.fgb");
        std::fs::write(&path, &bytes).unwrap();
        read(&path, &mut Collect::default())
    }

    #[test]
    fn a_feature_size_past_the_end_is_refused_before_it_is_allocated() {
        assert!(read_patched(|_, _| {}).is_ok());
        let err = read_patched(|b, at| b[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes())).unwrap_err();
        assert!(
            err.to_string().contains("feature 0 at byte") && err.to_string().contains("more than the file holds"),
            "{err}"
        );
    }

    #[test]
    fn index_sizes_are_the_crates_without_its_panics() {
        for (items, nodes) in [(1, 16), (2, 2), (5, 16), (100_000, 16), (1_000_000, 2)] {
            let ours = index_size(items, nodes).unwrap();
            assert_eq!(ours, flatgeobuf::packed_r_tree::PackedRTree::index_size(items as usize, nodes) as u64);
        }
        assert_eq!(index_size(0, 16), Some(0));
        assert_eq!(index_size(7, 0), Some(0));
        assert_eq!(index_size(7, 1), None);
        assert_eq!(index_size(u64::MAX, 2), None);
        assert!(index_size(1 << 40, 16).unwrap() > 1 << 40);
    }

    #[test]
    fn truncated_properties_are_errors() {
        let columns = Columns::new(["a".to_owned(), "b".to_owned()]);
        let types = [ColumnType::Int, ColumnType::String];
        let mut values = columns.values();
        // Column 1 (a string) of 2^32 - 1 bytes in a 7-byte buffer; column 0 with 2 of its 4 bytes.
        for bytes in [&[1, 0, 0xff, 0xff, 0xff, 0xff, b'x'][..], &[0, 0, 1, 2][..], &[9, 0, 1, 2][..]] {
            assert!(properties(bytes, &types, &mut values).is_err(), "{bytes:?}");
        }
        let mut values = columns.values();
        properties(&[0, 0, 7, 0, 0, 0, 1, 0, 2, 0, 0, 0, b'h', b'i', 0], &types, &mut values).unwrap();
        assert_eq!(
            Properties::Columns(values).into_map(),
            serde_json::json!({"a": 7, "b": "hi"}).as_object().unwrap().clone()
        );
    }

    /// One geometry table, built as a writer would (with `parts` under it), for [`check_arrays`].
    fn geometry_table(
        b: &mut flatbuffers::FlatBufferBuilder<'static>,
        kind: GeometryType,
        xy: &[f64],
        ends: &[u32],
        parts: &[flatbuffers::WIPOffset<flatgeobuf::Geometry<'static>>],
    ) -> flatbuffers::WIPOffset<flatgeobuf::Geometry<'static>> {
        let xy = (!xy.is_empty()).then(|| b.create_vector(xy));
        let ends = (!ends.is_empty()).then(|| b.create_vector(ends));
        let parts = (!parts.is_empty()).then(|| b.create_vector(parts));
        let args = flatgeobuf::GeometryArgs { xy, ends, parts, type_: kind, ..Default::default() };
        flatgeobuf::Geometry::create(b, &args)
    }

    /// `check_arrays` on one geometry, built by `build`.
    fn checked(
        build: impl FnOnce(
            &mut flatbuffers::FlatBufferBuilder<'static>,
        ) -> flatbuffers::WIPOffset<flatgeobuf::Geometry<'static>>,
        kind: GeometryType,
    ) -> Result<(), String> {
        let mut b = flatbuffers::FlatBufferBuilder::new();
        let root = build(&mut b);
        b.finish_minimal(root);
        let g = flatbuffers::root::<flatgeobuf::Geometry>(b.finished_data()).unwrap();
        check_arrays(&g, kind)
    }

    /// Fuzzing found a polygon whose `ends` point past its `xy` panicking in geozero's reader;
    /// such arrays (also inside a multipolygon's parts, or in odd numbers) are now the feature's
    /// error, and well-formed ones pass.
    #[test]
    fn coordinate_arrays_that_do_not_fit_are_errors() {
        let (line, lines, multi_kind) =
            (GeometryType::LineString, GeometryType::MultiLineString, GeometryType::MultiPolygon);
        let square = [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0];
        let ok =
            |kind, xy: &'static [f64], ends: &'static [u32]| checked(|b| geometry_table(b, kind, xy, ends, &[]), kind);
        assert_eq!(ok(lines, &[0.0, 0.0, 1.0, 1.0, 2.0, 2.0], &[1, 3]), Ok(()));
        assert_eq!(ok(line, &[0.0, 0.0, 1.0, 1.0], &[]), Ok(()));
        let e = ok(lines, &[0.0, 0.0, 1.0, 1.0], &[1, 50_000]).unwrap_err();
        assert!(e.contains("end 1 is 50000, outside 1..=2"), "{e}");
        assert!(ok(lines, &[0.0, 0.0, 1.0, 1.0, 2.0, 2.0], &[2, 1]).is_err());
        assert!(ok(line, &[0.0, 0.0, 1.0], &[]).unwrap_err().contains("not x,y pairs"));
        let multi = |ends: &'static [u32]| {
            checked(
                |b| {
                    let good = geometry_table(b, GeometryType::Unknown, &square, &[], &[]);
                    let bad = geometry_table(b, GeometryType::Unknown, &square, ends, &[]);
                    geometry_table(b, multi_kind, &[], &[], &[good, bad])
                },
                multi_kind,
            )
        };
        assert_eq!(multi(&[4, 5]), Ok(()));
        assert!(multi(&[4, 6]).unwrap_err().contains("end 1 is 6, outside 4..=5"));
        // A collection's parts are read as their own types: a point there needs its xy pair.
        let collection = checked(
            |b| {
                let empty = b.create_vector::<f64>(&[]);
                let args =
                    flatgeobuf::GeometryArgs { xy: Some(empty), type_: GeometryType::Point, ..Default::default() };
                let point = flatgeobuf::Geometry::create(b, &args);
                geometry_table(b, GeometryType::GeometryCollection, &[], &[], &[point])
            },
            GeometryType::GeometryCollection,
        );
        assert_eq!(collection, Err("a point without xy".to_owned()));
    }

    /// The direct reading of polygons gives what geozero gives, on every FlatGeobuf test file.
    #[test]
    fn polygons_are_read_as_geozero_reads_them() {
        let dirs = [
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/bad-inputs/flatgeobuf"),
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data-samples/land"),
        ];
        let mut compared = 0;
        for dir in dirs {
            let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
            for path in entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "fgb")) {
                let Ok(reader) = FgbReader::open(BufReader::new(std::fs::File::open(&path).unwrap())) else { continue };
                let declared = reader.header().geometry_type();
                let Ok(mut features) = reader.select_all_seq() else { continue };
                while let Ok(Some(feature)) = features.next() {
                    let Some(g) = feature.geometry() else { continue };
                    if let Some(ours) = polygonal(&g, read_as(&g, declared)) {
                        assert_eq!(Some(ours), feature.to_geo().ok(), "{}", path.display());
                        compared += 1;
                    }
                }
            }
        }
        assert!(compared > 0 || !Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data-samples").exists());
    }
}
