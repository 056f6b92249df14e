//! GeoPackage reader (OGC 12-128r18): one feature table, rows streamed in rowid order through
//! SQLite (read-only), geometry from the GeoPackage binary header + WKB ([`super::wkb`]).
//!
//! Which table: the file's only `features` table in `gpkg_contents`; with several, the path
//! names one as `file.gpkg:table`, and otherwise the error lists them. The CRS comes from
//! `gpkg_spatial_ref_sys` (`organization` EPSG and `organization_coordsys_id`, else its WKT
//! `definition` through [`super::prj`]; srs_id 0 and −1, "undefined", declare nothing).
//! Columns: every column but the primary key and the geometry column; SQLite NULL → null,
//! INTEGER → integer (a `BOOLEAN` column → true/false), REAL → number, TEXT → string (NFC; GDAL's
//! `(n:a,b)` serialisation of list fields → an array),
//! BLOB → null. An empty geometry (header flag) is a null geometry.

use std::path::{Path, PathBuf};

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use serde_json::{Map, Value};
use unicode_normalization::UnicodeNormalization;

use crate::error::{ImportError, Location};
use crate::source::{FeatureSink, Flow, RawBody, RawFeature, SourceInfo};

/// Splits `file.gpkg:table` into the file and the table; a plain path has no table.
pub fn split_layer(path: &Path) -> (PathBuf, Option<String>) {
    let text = path.to_string_lossy();
    let lower = text.to_ascii_lowercase();
    if let Some(at) = lower.rfind(".gpkg:") {
        if !path.exists() {
            return (PathBuf::from(&text[..at + 5]), Some(text[at + 6..].to_owned()));
        }
    }
    (path.to_owned(), None)
}

/// Reads the features of one table of a GeoPackage.
///
/// # Errors
/// [`ImportError::File`] when it cannot be opened, [`ImportError::Malformed`] when it is not a
/// GeoPackage, has no or several feature tables, or a row cannot be read; errors from the sink.
pub fn read(path: &Path, sink: &mut dyn FeatureSink) -> Result<(), ImportError> {
    let (file, layer) = split_layer(path);
    let malformed = |reason: String| ImportError::Malformed { path: path.to_owned(), reason };
    let sql = |e: rusqlite::Error| malformed(format!("not a readable GeoPackage: {e}"));
    if !file.is_file() {
        return Err(ImportError::File { path: file, reason: "no such file".into() });
    }
    let db = Connection::open_with_flags(&file, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(sql)?;
    let tables: Vec<String> = db
        .prepare("SELECT table_name FROM gpkg_contents WHERE data_type = 'features' ORDER BY table_name")
        .and_then(|mut s| s.query_map([], |r| r.get::<_, String>(0))?.collect())
        .map_err(sql)?;
    let table = match (layer, tables.as_slice()) {
        (Some(l), _) if tables.contains(&l) => l,
        (Some(l), _) => return Err(malformed(format!("no feature table {l:?}; it has {}", list(&tables)))),
        (None, [only]) => only.clone(),
        (None, []) => return Err(malformed("has no feature table in gpkg_contents".into())),
        (None, _) => {
            return Err(malformed(format!(
                "has several feature tables ({}): name one as {}:<table>",
                list(&tables),
                file.display()
            )))
        }
    };
    let (geom_column, srs_id): (String, i64) = db
        .query_row("SELECT column_name, srs_id FROM gpkg_geometry_columns WHERE table_name = ?1", [&table], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .map_err(|e| malformed(format!("table {table}: no entry in gpkg_geometry_columns: {e}")))?;
    let declared_crs = declared_crs(&db, srs_id);

    // Columns in table order; the integer primary key is the feature id, not an attribute.
    let mut columns: Vec<(String, bool)> = Vec::new(); // (name, is boolean)
    let mut info = db.prepare(&format!("PRAGMA table_info({})", quote(&table))).map_err(sql)?;
    let mut rows = info.query([]).map_err(sql)?;
    while let Some(row) = rows.next().map_err(sql)? {
        let name: String = row.get(1).map_err(sql)?;
        let kind: String = row.get::<_, Option<String>>(2).map_err(sql)?.unwrap_or_default();
        let pk: i64 = row.get(5).map_err(sql)?;
        if pk == 0 && name != geom_column {
            columns.push((name, kind.eq_ignore_ascii_case("BOOLEAN")));
        }
    }
    drop(rows);
    let select = std::iter::once(quote(&geom_column))
        .chain(columns.iter().map(|(c, _)| quote(c)))
        .collect::<Vec<_>>()
        .join(", ");
    let mut statement = db.prepare(&format!("SELECT {select} FROM {} ORDER BY rowid", quote(&table))).map_err(sql)?;
    sink.begin(&SourceInfo { declared_crs, has_geometry: true, encoding: None })?;
    let mut rows = statement.query([]).map_err(sql)?;
    let file: std::sync::Arc<Path> = path.into();
    let mut index = 0u64;
    while let Some(row) = rows.next().map_err(|e| malformed(format!("feature {index}: {e}")))? {
        let mut properties = Map::with_capacity(columns.len());
        for (i, (name, boolean)) in columns.iter().enumerate() {
            let v = match row.get_ref(i + 1).map_err(|e| malformed(format!("feature {index}, {name}: {e}")))? {
                ValueRef::Null | ValueRef::Blob(_) => Value::Null,
                ValueRef::Integer(v) if *boolean => Value::Bool(v != 0),
                ValueRef::Integer(v) => Value::from(v),
                ValueRef::Real(v) => serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number),
                ValueRef::Text(t) => text_value(String::from_utf8_lossy(t).nfc().collect()),
            };
            properties.insert(name.clone(), v);
        }
        let geometry = match row.get_ref(0).map_err(|e| malformed(format!("feature {index}: {e}")))? {
            ValueRef::Null => Ok(None),
            ValueRef::Blob(b) => geometry(b),
            _ => Err(format!("column {geom_column} is not a geometry blob")),
        };
        let body = match geometry {
            Ok(geometry) => RawBody::Decoded { properties: properties.into(), geometry },
            Err(reason) => RawBody::Invalid { field: "geometry".into(), reason },
        };
        let raw = RawFeature { location: Location { file: file.clone(), index, is_line: false }, body };
        index += 1;
        if sink.feature(raw)? == Flow::Stop {
            break;
        }
    }
    Ok(())
}

/// A text cell; GDAL's serialisation of list fields in formats without lists, `(2:ONT,CLN)` or
/// `(2:120.5,80)`, becomes a JSON array (of numbers when every item is one).
fn text_value(text: String) -> Value {
    let list = text.strip_prefix('(').and_then(|t| t.strip_suffix(')')).and_then(|t| t.split_once(':'));
    if let Some((n, items)) = list {
        let items: Vec<&str> = if items.is_empty() { Vec::new() } else { items.split(',').collect() };
        if n.parse::<usize>().is_ok_and(|n| n == items.len()) {
            let numbers: Option<Vec<Value>> = items
                .iter()
                .map(|i| i.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Value::Number))
                .collect();
            return Value::Array(numbers.unwrap_or_else(|| items.iter().map(|i| Value::from(*i)).collect()));
        }
    }
    Value::from(text)
}

fn list(tables: &[String]) -> String {
    if tables.is_empty() {
        "none".into()
    } else {
        tables.join(", ")
    }
}

/// An SQL identifier in double quotes.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The CRS name of an srs_id: EPSG by organisation, else from the WKT definition.
fn declared_crs(db: &Connection, srs_id: i64) -> Option<String> {
    if srs_id == 0 || srs_id == -1 {
        return None;
    }
    let (org, code, definition): (String, i64, String) = db
        .query_row(
            "SELECT organization, organization_coordsys_id, definition FROM gpkg_spatial_ref_sys WHERE srs_id = ?1",
            [srs_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .ok()?;
    if org.eq_ignore_ascii_case("EPSG") && code > 0 {
        return Some(format!("EPSG:{code}"));
    }
    let crs = super::prj::crs_from_wkt(&definition);
    if crs.is_none() {
        tracing::warn!(
            srs_id,
            organization = org,
            "the GeoPackage CRS is not one geosector recognises: the CRS comes from --crs (else WGS 84 lon/lat)"
        );
    }
    crs
}

/// A GeoPackage geometry blob: "GP", version, flags (byte order, envelope kind, empty), srs_id,
/// envelope, then WKB.
pub(crate) fn geometry(blob: &[u8]) -> Result<Option<geo_types::Geometry<f64>>, String> {
    if blob.len() < 8 || &blob[..2] != b"GP" {
        return Err("not a GeoPackage geometry (no \"GP\" header)".into());
    }
    let flags = blob[3];
    if flags & 0b0010_0000 != 0 {
        return Err("extended GeoPackage geometry types are not supported".into());
    }
    let envelope = match (flags >> 1) & 0b111 {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        4 => 64,
        other => return Err(format!("invalid envelope indicator {other} in the GeoPackage header")),
    };
    if flags & 0b0001_0000 != 0 {
        return Ok(None);
    }
    let wkb = blob.get(8 + envelope..).ok_or("GeoPackage geometry is shorter than its header")?;
    super::wkb::parse(wkb)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{bad_input, Collect};
    use super::*;

    #[test]
    fn headers() {
        let mut blob = b"GP\x00\x03\xe6\x10\x00\x00".to_vec(); // little endian, 32-byte envelope
        blob.extend([0u8; 32]);
        blob.push(1);
        blob.extend(1u32.to_le_bytes());
        blob.extend(105.0f64.to_le_bytes());
        blob.extend(21.0f64.to_le_bytes());
        assert_eq!(geometry(&blob).unwrap(), Some(geo_types::Geometry::Point(geo_types::Point::new(105.0, 21.0))));
        let empty = b"GP\x00\x11\xe6\x10\x00\x00";
        assert_eq!(geometry(empty).unwrap(), None);
        assert!(geometry(b"XX\x00\x01\x00\x00\x00\x00").is_err());
        assert!(geometry(b"GP\x00\x0e\x00\x00\x00\x00").is_err());
        assert!(geometry(&blob[..20]).is_err());
    }

    #[test]
    fn nulls_in_every_field_type_are_nulls() {
        let path = bad_input("gpkg", "test_gpkg_nulls.gpkg");
        let mut sink = Collect::default();
        read(&path, &mut sink).unwrap();
        assert_eq!(sink.1.unwrap().declared_crs.as_deref(), Some("EPSG:4326"));
        assert_eq!(sink.0.len(), 4);
        let RawBody::Decoded { properties, .. } = &sink.0[3].body else { panic!("{:?}", sink.0[3]) };
        assert!(properties.len() >= 11, "{properties:?}");
        assert!(properties.values().all(Value::is_null), "{properties:?}");
        let RawBody::Decoded { properties, geometry } = &sink.0[0].body else { panic!() };
        assert_eq!(properties["col_bool"], Value::Bool(true));
        assert_eq!(properties["col_int64"], Value::from(1));
        assert_eq!(properties["col_float64"], Value::from(1.5));
        assert_eq!(geometry, &Some(geo_types::Geometry::Point(geo_types::Point::new(0.0, 0.0))));
    }

    #[test]
    fn curves_are_per_feature_errors() {
        for name in ["curve.gpkg", "curvepolygon.gpkg"] {
            let path = bad_input("gpkg", name);
            let mut sink = Collect::default();
            read(&path, &mut sink).unwrap();
            let RawBody::Invalid { field, reason } = &sink.0[0].body else { panic!("{:?}", sink.0[0]) };
            assert_eq!(field, "geometry");
            assert!(reason.contains("is not supported: linearise it"), "{reason}");
        }
    }

    #[test]
    fn gdal_lists() {
        assert_eq!(text_value("(2:ONT,CLN)".into()), serde_json::json!(["ONT", "CLN"]));
        assert_eq!(text_value("(2:513.7,1198.6)".into()), serde_json::json!([513.7, 1198.6]));
        assert_eq!(text_value("(3:a,b)".into()), Value::from("(3:a,b)"));
        assert_eq!(text_value("Thôn 1".into()), Value::from("Thôn 1"));
    }

    #[test]
    fn layer_in_the_path() {
        let (file, layer) = split_layer(Path::new("/nowhere/a.gpkg:parcels"));
        assert_eq!((file, layer.as_deref()), (PathBuf::from("/nowhere/a.gpkg"), Some("parcels")));
        assert_eq!(split_layer(Path::new("/nowhere/a.gpkg")).1, None);
    }
}
