//! Offline packages coming back from the field (`geosector import --changes`; the format is
//! described in docs/packages.md): reading a package's description (`geosector_package`), its
//! feature tables row by row in `fid` order, the features it lost (in `geosector_origin`, no
//! longer in their table), and writing the conflicts GeoPackage beside it — the package's and
//! the server's version of each feature both sides changed, with a `side` column.
//!
//! Nothing here knows the server's data: the caller compares and decides
//! (`geosector_server::edit::package`).

use std::path::{Path, PathBuf};

use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{params_from_iter, Connection, OpenFlags};
use serde_json::{Map, Value};
use unicode_normalization::UnicodeNormalization;

use crate::error::ImportError;

/// The format a package declares (`geosector_package.format`).
pub const FORMAT: &str = "geosector-package/1";

/// The columns of a feature table that are not properties.
const OWN_COLUMNS: &[&str] = &["fid", "geosector_id", "geosector_version"];

/// What a package says of itself (`geosector_package`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageInfo {
    /// When its features were read (RFC 3339, as written).
    pub made_at: String,
    /// The area asked for.
    pub area: String,
    /// The collections it holds, as written (a JSON array).
    pub collections_json: String,
    /// The collections it holds.
    pub collections: Vec<String>,
    /// The server or `database`.
    pub source: String,
    /// Who made it.
    pub caller: String,
}

/// A package opened for reading.
pub struct Package {
    path: PathBuf,
    db: Connection,
    info: PackageInfo,
}

/// One feature table of a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    /// The collection.
    pub collection: String,
    /// The table (the collection id with `.` replaced by `_`).
    pub table: String,
    /// The geometry column.
    pub geometry_column: String,
    /// The EPSG code of its CRS (`None`: not an EPSG CRS).
    pub epsg: Option<i64>,
    /// The geometry column's declared type (`POLYGON`, `MULTIPOLYGON`, …).
    pub geometry_type: String,
    /// The property columns, in table order, with whether each is declared BOOLEAN.
    pub properties: Vec<(String, bool)>,
    /// The property columns' declared types, in the same order.
    pub declared: Vec<String>,
}

/// One row of a feature table.
#[derive(Debug, Clone, PartialEq)]
pub struct PackageRow {
    /// The GeoPackage row id.
    pub fid: i64,
    /// The server id (`None`: added in the field).
    pub id: Option<i64>,
    /// The version packaged (`None`: added in the field).
    pub version: Option<i32>,
    /// The geometry (`Err`: why its blob does not read).
    pub geometry: Result<Option<geo_types::Geometry<f64>>, String>,
    /// Its properties, by column name: SQLite NULL → null, INTEGER → integer (BOOLEAN columns →
    /// true/false), REAL → number, TEXT → string (NFC), BLOB → null.
    pub properties: Map<String, Value>,
}

impl Package {
    /// Opens a package read-only and reads its description.
    ///
    /// # Errors
    /// [`ImportError::File`] when it is not there; [`ImportError::Malformed`] naming the file and
    /// what is missing when it is not a geosector package.
    pub fn open(path: &Path) -> Result<Package, ImportError> {
        if !path.is_file() {
            return Err(ImportError::File { path: path.to_owned(), reason: "no such file".into() });
        }
        let malformed = |reason: String| ImportError::Malformed { path: path.to_owned(), reason };
        let db = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(|e| malformed(format!("not a readable GeoPackage: {e}")))?;
        let pairs: Vec<(String, String)> = db
            .prepare("SELECT key, value FROM geosector_package")
            .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .map_err(|e| {
                malformed(format!(
                    "not a geosector package (table geosector_package: {e}); make one with geosector package"
                ))
            })?;
        let key = |name: &str| -> Result<String, ImportError> {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .ok_or_else(|| malformed(format!("geosector_package has no {name}")))
        };
        let format = key("format")?;
        if format != FORMAT {
            return Err(malformed(format!("geosector_package format is {format:?}; this geosector reads {FORMAT}")));
        }
        let collections_json = key("collections")?;
        let collections: Vec<String> = serde_json::from_str(&collections_json)
            .map_err(|e| malformed(format!("geosector_package collections is not a JSON array of ids: {e}")))?;
        let info = PackageInfo {
            made_at: key("made_at")?,
            area: key("area")?,
            collections_json,
            collections,
            source: key("source")?,
            caller: key("caller")?,
        };
        Ok(Package { path: path.to_owned(), db, info })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the package says of itself.
    pub fn info(&self) -> &PackageInfo {
        &self.info
    }

    fn malformed(&self, reason: String) -> ImportError {
        ImportError::Malformed { path: self.path.clone(), reason }
    }

    /// The feature table of one of its collections.
    ///
    /// # Errors
    /// [`ImportError::Malformed`] naming the table when it is missing or not a feature table
    /// with the package's columns.
    pub fn layer(&self, collection: &str) -> Result<Layer, ImportError> {
        let table = table_of(collection);
        let sql = |e: rusqlite::Error| self.malformed(format!("table {table}: {e}"));
        let (geometry_column, srs_id): (String, i64) = self
            .db
            .query_row("SELECT column_name, srs_id FROM gpkg_geometry_columns WHERE table_name = ?1", [&table], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(|_| {
                self.malformed(format!(
                    "table {table} of collection {collection} is not in gpkg_geometry_columns (deleted or renamed?)"
                ))
            })?;
        let epsg = self
            .db
            .query_row(
                "SELECT organization, organization_coordsys_id FROM gpkg_spatial_ref_sys WHERE srs_id = ?1",
                [srs_id],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
            )
            .ok()
            .filter(|(org, _)| org.eq_ignore_ascii_case("EPSG"))
            .map(|(_, code)| code);
        let mut properties = Vec::new();
        let mut declared = Vec::new();
        let mut geometry_type = String::from("GEOMETRY");
        let mut own = Vec::new();
        let mut info = self.db.prepare(&format!("PRAGMA table_info({})", quote(&table))).map_err(sql)?;
        let mut rows = info.query([]).map_err(sql)?;
        while let Some(row) = rows.next().map_err(sql)? {
            let name: String = row.get(1).map_err(sql)?;
            let kind: String = row.get::<_, Option<String>>(2).map_err(sql)?.unwrap_or_default();
            if OWN_COLUMNS.contains(&name.as_str()) {
                own.push(name);
            } else if name == geometry_column {
                geometry_type.clone_from(&kind);
            } else {
                properties.push((name, kind.eq_ignore_ascii_case("BOOLEAN")));
                declared.push(kind);
            }
        }
        if let Some(missing) = OWN_COLUMNS.iter().find(|c| !own.iter().any(|o| o == *c)) {
            return Err(
                self.malformed(format!("table {table}: column {missing} is missing (it must stay as packaged)"))
            );
        }
        Ok(Layer {
            collection: collection.to_owned(),
            table,
            geometry_column,
            epsg,
            geometry_type,
            properties,
            declared,
        })
    }

    /// Up to `limit` rows of a layer with `fid` above `after`, in `fid` order.
    ///
    /// # Errors
    /// [`ImportError::Malformed`] naming the table and the row.
    pub fn rows(&self, layer: &Layer, after: i64, limit: usize) -> Result<Vec<PackageRow>, ImportError> {
        let table = &layer.table;
        let sql = |e: rusqlite::Error| self.malformed(format!("table {table}: {e}"));
        let columns = ["fid", "geosector_id", "geosector_version", layer.geometry_column.as_str()]
            .into_iter()
            .chain(layer.properties.iter().map(|(c, _)| c.as_str()))
            .map(quote)
            .collect::<Vec<_>>()
            .join(", ");
        let mut statement = self
            .db
            .prepare_cached(&format!("SELECT {columns} FROM {} WHERE fid > ?1 ORDER BY fid LIMIT ?2", quote(table)))
            .map_err(sql)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut rows = statement.query(rusqlite::params![after, limit]).map_err(sql)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(sql)? {
            let fid: i64 = row.get(0).map_err(sql)?;
            let at =
                |column: &str, e: String| self.malformed(format!("table {table}, feature fid {fid}, {column}: {e}"));
            let id = match row.get_ref(1).map_err(sql)? {
                ValueRef::Null => None,
                ValueRef::Integer(i) => Some(i),
                _ => return Err(at("geosector_id", "not an integer (it must stay as packaged)".into())),
            };
            let version = match row.get_ref(2).map_err(sql)? {
                ValueRef::Null => None,
                ValueRef::Integer(i) => {
                    Some(i32::try_from(i).map_err(|_| at("geosector_version", format!("{i} is not a version")))?)
                }
                _ => return Err(at("geosector_version", "not an integer (it must stay as packaged)".into())),
            };
            if id.is_some() != version.is_some() {
                return Err(at(
                    "geosector_version",
                    "geosector_id and geosector_version are both set (a packaged feature) or both empty (a new one)"
                        .into(),
                ));
            }
            let geometry = match row.get_ref(3).map_err(sql)? {
                ValueRef::Null => Ok(None),
                ValueRef::Blob(b) => crate::readers::gpkg::geometry(b),
                _ => Err(format!("column {} is not a geometry blob", layer.geometry_column)),
            };
            let mut properties = Map::with_capacity(layer.properties.len());
            for (i, (name, boolean)) in layer.properties.iter().enumerate() {
                let value = match row.get_ref(i + 4).map_err(sql)? {
                    ValueRef::Null | ValueRef::Blob(_) => Value::Null,
                    ValueRef::Integer(v) if *boolean => Value::Bool(v != 0),
                    ValueRef::Integer(v) => Value::from(v),
                    ValueRef::Real(v) => serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number),
                    ValueRef::Text(t) => Value::from(String::from_utf8_lossy(t).nfc().collect::<String>()),
                };
                properties.insert(name.clone(), value);
            }
            out.push(PackageRow { fid, id, version, geometry, properties });
        }
        Ok(out)
    }

    /// The features of a layer's collection that were packaged (`geosector_origin`) and are no
    /// longer in its table: deleted in the field. Their ids and packaged versions, by id.
    ///
    /// # Errors
    /// [`ImportError::Malformed`] when `geosector_origin` cannot be read.
    pub fn deleted(&self, layer: &Layer) -> Result<Vec<(i64, i32)>, ImportError> {
        let sql = format!(
            "SELECT o.id, o.version FROM geosector_origin AS o
             WHERE o.collection = ?1 AND NOT EXISTS (SELECT 1 FROM {} AS t WHERE t.geosector_id = o.id)
             ORDER BY o.id",
            quote(&layer.table)
        );
        self.db
            .prepare(&sql)
            .and_then(|mut s| s.query_map([&layer.collection], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .map_err(|e| self.malformed(format!("geosector_origin: {e}")))
    }
}

/// The feature table of a collection: its id with `.` replaced by `_`.
pub fn table_of(collection: &str) -> String {
    collection.replace('.', "_")
}

/// An SQL identifier in double quotes.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The conflicts GeoPackage of a package: `<package>-conflicts.gpkg` beside it.
pub fn conflicts_path(package: &Path) -> PathBuf {
    let stem = package.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "package".into());
    package.with_file_name(format!("{stem}-conflicts.gpkg"))
}

/// One side of a conflict, for the conflicts GeoPackage.
#[derive(Debug, Clone, PartialEq)]
pub enum Side {
    /// The package's row, copied as it is (`fid` in the package's table).
    PackageRow(i64),
    /// A version given by its values (the server's, or the packaged version of a feature
    /// deleted in the field, from the server's history).
    Values {
        /// The geometry as WKB (EPSG:4326).
        wkb: Option<Vec<u8>>,
        /// Property values by column name (columns the table lacks are left out).
        properties: Map<String, Value>,
    },
}

/// One row of the conflicts GeoPackage.
#[derive(Debug, Clone, PartialEq)]
pub struct ConflictRow {
    /// `package` or `server`.
    pub side: &'static str,
    /// What that side did: `update`, `delete` (package), `update`, `retired` (server).
    pub change: &'static str,
    /// The feature's server id.
    pub id: i64,
    /// The version this side starts from or is at.
    pub version: Option<i32>,
    /// Its values.
    pub values: Side,
}

/// Writes the conflicts GeoPackage `out` (replacing it) from the package's structure: for each
/// layer with conflicts, its table (the package's columns, plus `side`, `change`) with both
/// versions of each conflicting feature.
///
/// # Errors
/// [`ImportError::File`] naming `out` when it cannot be written.
pub fn write_conflicts(
    package: &Package,
    out: &Path,
    layers: &[(&Layer, Vec<ConflictRow>)],
) -> Result<(), ImportError> {
    let failed = |e: rusqlite::Error| ImportError::File { path: out.to_owned(), reason: format!("cannot write: {e}") };
    if out.exists() {
        std::fs::remove_file(out)
            .map_err(|e| ImportError::File { path: out.to_owned(), reason: format!("cannot replace: {e}") })?;
    }
    let db = Connection::open(out).map_err(failed)?;
    db.execute_batch("PRAGMA application_id = 1196444487; PRAGMA user_version = 10300;").map_err(failed)?;
    db.execute("ATTACH DATABASE ?1 AS p", [package.path().to_string_lossy().as_ref()]).map_err(failed)?;
    let ddl = |name: &str| -> Result<String, ImportError> {
        db.query_row("SELECT sql FROM p.sqlite_master WHERE type = 'table' AND name = ?1", [name], |r| r.get(0))
            .map_err(failed)
    };
    for meta in ["gpkg_spatial_ref_sys", "gpkg_contents", "gpkg_geometry_columns"] {
        db.execute_batch(&ddl(meta)?).map_err(failed)?;
    }
    db.execute_batch("INSERT INTO main.gpkg_spatial_ref_sys SELECT * FROM p.gpkg_spatial_ref_sys").map_err(failed)?;
    for (layer, rows) in layers.iter().filter(|(_, rows)| !rows.is_empty()) {
        let t = quote(&layer.table);
        // The package's columns and types, without its constraints (a side may lack a value).
        let mut columns = vec![
            "fid INTEGER PRIMARY KEY AUTOINCREMENT".to_owned(),
            format!("{} {}", quote(&layer.geometry_column), layer.geometry_type),
            "geosector_id INTEGER".to_owned(),
            "geosector_version INTEGER".to_owned(),
        ];
        for ((name, _), kind) in layer.properties.iter().zip(&layer.declared) {
            columns.push(format!("{} {kind}", quote(name)));
        }
        columns.extend(["side TEXT NOT NULL".to_owned(), "change TEXT NOT NULL".to_owned()]);
        db.execute_batch(&format!("CREATE TABLE {t} ({})", columns.join(", "))).map_err(failed)?;
        db.execute(
            "INSERT INTO main.gpkg_contents (table_name, data_type, identifier, description, last_change, min_x, min_y, max_x, max_y, srs_id)
             SELECT table_name, data_type, identifier || ' (conflicts)', description, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), min_x, min_y, max_x, max_y, srs_id
             FROM p.gpkg_contents WHERE table_name = ?1",
            [&layer.table],
        )
        .map_err(failed)?;
        db.execute(
            "INSERT INTO main.gpkg_geometry_columns SELECT * FROM p.gpkg_geometry_columns WHERE table_name = ?1",
            [&layer.table],
        )
        .map_err(failed)?;
        let copied = ["geosector_id", "geosector_version", layer.geometry_column.as_str()]
            .into_iter()
            .chain(layer.properties.iter().map(|(c, _)| c.as_str()))
            .map(quote)
            .collect::<Vec<_>>()
            .join(", ");
        let placeholders = (1..=layer.properties.len() + 5).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ");
        for row in rows {
            match &row.values {
                Side::PackageRow(fid) => {
                    db.execute(
                        &format!("INSERT INTO main.{t} ({copied}, side, change) SELECT {copied}, ?1, ?2 FROM p.{t} WHERE fid = ?3"),
                        rusqlite::params![row.side, row.change, fid],
                    )
                    .map_err(failed)?;
                }
                Side::Values { wkb, properties } => {
                    let mut values: Vec<SqlValue> = vec![
                        SqlValue::Integer(row.id),
                        row.version.map_or(SqlValue::Null, |v| SqlValue::Integer(i64::from(v))),
                        wkb.as_deref()
                            .map_or(SqlValue::Null, |w| SqlValue::Blob(gpkg_blob(w, layer.epsg.unwrap_or(4326)))),
                    ];
                    for (name, boolean) in &layer.properties {
                        values.push(sql_value(properties.get(name).unwrap_or(&Value::Null), *boolean));
                    }
                    values.push(SqlValue::Text(row.side.to_owned()));
                    values.push(SqlValue::Text(row.change.to_owned()));
                    db.execute(
                        &format!("INSERT INTO main.{t} ({copied}, side, change) VALUES ({placeholders})"),
                        params_from_iter(values),
                    )
                    .map_err(failed)?;
                }
            }
        }
    }
    db.execute_batch("DETACH DATABASE p").map_err(failed)?;
    Ok(())
}

/// A GeoPackage geometry blob: the "GP" header (version 0, little-endian, no envelope) and WKB.
pub fn gpkg_blob(wkb: &[u8], srs_id: i64) -> Vec<u8> {
    let mut blob = Vec::with_capacity(wkb.len() + 8);
    blob.extend_from_slice(b"GP");
    blob.push(0);
    blob.push(0b0000_0001);
    blob.extend_from_slice(&i32::try_from(srs_id).unwrap_or(4326).to_le_bytes());
    blob.extend_from_slice(wkb);
    blob
}

/// A JSON value as an SQLite value: arrays and objects as JSON text.
fn sql_value(value: &Value, boolean: bool) -> SqlValue {
    match value {
        Value::Null => SqlValue::Null,
        Value::Bool(b) => SqlValue::Integer(i64::from(*b)),
        Value::Number(n) if boolean => SqlValue::Integer(i64::from(n.as_i64() != Some(0))),
        Value::Number(n) => {
            n.as_i64().map_or_else(|| SqlValue::Real(n.as_f64().unwrap_or(f64::NAN)), SqlValue::Integer)
        }
        Value::String(s) => SqlValue::Text(s.clone()),
        other => SqlValue::Text(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_read_back() {
        use geozero::{CoordDimensions, ToWkb};
        let point = geo_types::Geometry::Point(geo_types::Point::new(105.8, 21.2));
        let wkb = point.to_wkb(CoordDimensions::xy()).unwrap();
        let blob = gpkg_blob(&wkb, 4326);
        assert_eq!(crate::readers::gpkg::geometry(&blob).unwrap(), Some(point));
    }

    #[test]
    fn names() {
        assert_eq!(table_of("land.parcels"), "land_parcels");
        assert_eq!(conflicts_path(Path::new("/x/package.gpkg")), Path::new("/x/package-conflicts.gpkg"));
        assert_eq!(sql_value(&serde_json::json!(["ONT", "CLN"]), false), SqlValue::Text("[\"ONT\",\"CLN\"]".into()));
        assert_eq!(sql_value(&serde_json::json!(true), true), SqlValue::Integer(1));
    }
}
