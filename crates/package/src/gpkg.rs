//! A GeoPackage 1.3 writer on SQLite: the core tables, feature tables in EPSG:4326 (the storage
//! CRS) with the RTree spatial index extension, attribute tables, and QGIS's `layer_styles`.
//!
//! Geometries are written as GeoPackage binary: the `GP` header with the XY envelope, then the
//! ISO WKB as PostGIS gives it. The RTree is filled while rows are inserted and its standard
//! triggers are created once the table is full (they call `ST_*` functions that GDAL and QGIS
//! register and plain SQLite lacks).

use rusqlite::types::Value;
use rusqlite::{params, Connection};

use crate::Result;

/// The `application_id` of a GeoPackage (`GPKG`).
pub const APPLICATION_ID: i32 = 0x4750_4B47;
/// The `user_version` of GeoPackage 1.3.0.
pub const USER_VERSION: i32 = 10300;
/// The storage CRS of every geometry (EPSG:4326, longitude first as GeoPackage wants).
pub const SRS_ID: i32 = 4326;

const WGS84_WKT: &str = "GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\",6378137,298.257223563,AUTHORITY[\"EPSG\",\"7030\"]],AUTHORITY[\"EPSG\",\"6326\"]],PRIMEM[\"Greenwich\",0,AUTHORITY[\"EPSG\",\"8901\"]],UNIT[\"degree\",0.0174532925199433,AUTHORITY[\"EPSG\",\"9122\"]],AXIS[\"Latitude\",NORTH],AXIS[\"Longitude\",EAST],AUTHORITY[\"EPSG\",\"4326\"]]";

/// The type of a column of a feature table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// `TEXT` (also lists and objects, as JSON).
    Text,
    /// `INTEGER`.
    Integer,
    /// `REAL`.
    Real,
    /// `DATE` (`YYYY-MM-DD`).
    Date,
    /// `DATETIME` (`YYYY-MM-DDTHH:MM:SS.SSSZ`).
    DateTime,
    /// `BOOLEAN` (0 or 1).
    Boolean,
}

impl ColumnType {
    fn sql(self) -> &'static str {
        match self {
            ColumnType::Text => "TEXT",
            ColumnType::Integer => "INTEGER",
            ColumnType::Real => "REAL",
            ColumnType::Date => "DATE",
            ColumnType::DateTime => "DATETIME",
            ColumnType::Boolean => "BOOLEAN",
        }
    }
}

/// A table to write: a feature table when it has a geometry type, else an attribute table.
#[derive(Debug, Clone)]
pub struct Table {
    /// Its name (an identifier made from a collection id: letters, digits, `_`).
    pub name: String,
    /// Its title (`gpkg_contents.identifier`).
    pub title: String,
    /// Its description.
    pub description: String,
    /// The geometry type name (`POINT`, `MULTILINESTRING`, `MULTIPOLYGON`), or `None`.
    pub geometry: Option<&'static str>,
    /// The property columns, after `fid`, `geom`, `geosector_id`, `geosector_version`.
    pub columns: Vec<(String, ColumnType)>,
}

/// Quotes an identifier for SQLite.
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Creates the GeoPackage core tables, the mandatory CRS rows and `layer_styles` in an empty
/// database, and sets the header's application id and version.
///
/// # Errors
/// SQLite errors.
pub fn create_core(conn: &Connection) -> Result<()> {
    conn.execute_batch(&format!(
        "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {USER_VERSION};
         CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
           organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
         CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
           description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
           min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
           CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
         CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
           srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
           CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
           CONSTRAINT uk_gc_table_name UNIQUE (table_name),
           CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
           CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
         CREATE TABLE gpkg_extensions (table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL,
           scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
         CREATE TABLE layer_styles (id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), f_table_schema TEXT(256),
           f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT,
           useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30), update_time DATETIME);"
    ))?;
    conn.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change) \
         VALUES ('layer_styles', 'attributes', 'layer_styles', 'QGIS layer styles', '2000-01-01T00:00:00.000Z')",
        [],
    )?;
    let mut srs = conn.prepare("INSERT INTO gpkg_spatial_ref_sys VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
    srs.execute(params![
        "Undefined cartesian SRS",
        -1,
        "NONE",
        -1,
        "undefined",
        "undefined cartesian coordinate reference system"
    ])?;
    srs.execute(params![
        "Undefined geographic SRS",
        0,
        "NONE",
        0,
        "undefined",
        "undefined geographic coordinate reference system"
    ])?;
    srs.execute(params![
        "WGS 84 geodetic",
        SRS_ID,
        "EPSG",
        SRS_ID,
        WGS84_WKT,
        "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid"
    ])?;
    Ok(())
}

/// Creates an attribute table of key/value text registered in `gpkg_contents` (for the
/// package's own tables).
///
/// # Errors
/// SQLite errors.
pub fn create_attributes(conn: &Connection, name: &str, columns_sql: &str, made_at: &str) -> Result<()> {
    conn.execute_batch(&format!("CREATE TABLE {} ({columns_sql})", quote(name)))?;
    conn.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change) VALUES (?1, 'attributes', ?1, '', ?2)",
        params![name, made_at],
    )?;
    Ok(())
}

/// Creates a feature (or attribute) table with its contents row, and with a geometry its
/// geometry column and its RTree (filled by [`TableWriter::insert`]).
///
/// # Errors
/// SQLite errors.
pub fn create_table(conn: &Connection, table: &Table, made_at: &str) -> Result<()> {
    let mut columns = String::from("fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL");
    if table.geometry.is_some() {
        columns.push_str(", geom ");
        columns.push_str(table.geometry.unwrap_or("GEOMETRY"));
    }
    columns.push_str(", geosector_id INTEGER, geosector_version INTEGER");
    for (name, kind) in &table.columns {
        columns.push_str(&format!(", {} {}", quote(name), kind.sql()));
    }
    let name = quote(&table.name);
    conn.execute_batch(&format!("CREATE TABLE {name} ({columns})"))?;
    let data_type = if table.geometry.is_some() { "features" } else { "attributes" };
    conn.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change, srs_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![table.name, data_type, table.title, table.description, made_at, table.geometry.map(|_| SRS_ID)],
    )?;
    if let Some(kind) = table.geometry {
        conn.execute(
            "INSERT INTO gpkg_geometry_columns VALUES (?1, 'geom', ?2, ?3, 0, 0)",
            params![table.name, kind, SRS_ID],
        )?;
        conn.execute_batch(&format!(
            "CREATE VIRTUAL TABLE {} USING rtree(id, minx, maxx, miny, maxy)",
            quote(&format!("rtree_{}_geom", table.name))
        ))?;
        conn.execute(
            "INSERT INTO gpkg_extensions VALUES (?1, 'geom', 'gpkg_rtree_index', 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
            params![table.name],
        )?;
    }
    Ok(())
}

/// The inserts of one table, with the running bounds of its geometries.
pub struct TableWriter<'c> {
    insert: rusqlite::Statement<'c>,
    rtree: Option<rusqlite::Statement<'c>>,
    bounds: Option<[f64; 4]>,
    rows: u64,
    blob: Vec<u8>,
}

impl<'c> TableWriter<'c> {
    /// Prepares the inserts of a table made by [`create_table`].
    ///
    /// # Errors
    /// SQLite errors.
    pub fn new(conn: &'c Connection, table: &Table) -> Result<TableWriter<'c>> {
        let mut names = Vec::new();
        if table.geometry.is_some() {
            names.push("geom".to_owned());
        }
        names.extend(["geosector_id".to_owned(), "geosector_version".to_owned()]);
        names.extend(table.columns.iter().map(|(n, _)| quote(n)));
        let marks: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
        let insert = conn.prepare(&format!(
            "INSERT INTO {} ({}) VALUES ({})",
            quote(&table.name),
            names.join(", "),
            marks.join(", ")
        ))?;
        let rtree = match table.geometry {
            Some(_) => Some(conn.prepare(&format!(
                "INSERT INTO {} VALUES (?1, ?2, ?3, ?4, ?5)",
                quote(&format!("rtree_{}_geom", table.name))
            ))?),
            None => None,
        };
        Ok(TableWriter { insert, rtree, bounds: None, rows: 0, blob: Vec::new() })
    }

    /// Inserts a row: its geometry (ISO WKB and its envelope `[min x, min y, max x, max y]`, or
    /// none; `None` envelope with WKB: an empty geometry), id, version and property values in
    /// the table's column order.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn insert(
        &mut self,
        geometry: Option<(&[u8], Option<[f64; 4]>)>,
        id: Option<i64>,
        version: Option<i64>,
        values: Vec<Value>,
    ) -> Result<()> {
        let mut all: Vec<Value> = Vec::with_capacity(values.len() + 3);
        if self.rtree.is_some() {
            match geometry {
                Some((wkb, envelope)) => {
                    geometry_blob(&mut self.blob, wkb, envelope);
                    all.push(Value::Blob(self.blob.clone()));
                }
                None => all.push(Value::Null),
            }
        }
        all.push(id.map_or(Value::Null, Value::Integer));
        all.push(version.map_or(Value::Null, Value::Integer));
        all.extend(values);
        self.insert.execute(rusqlite::params_from_iter(all))?;
        self.rows += 1;
        if let (Some(rtree), Some((_, Some(e)))) = (self.rtree.as_mut(), geometry) {
            rtree.execute(params![self.rows as i64, e[0], e[2], e[1], e[3]])?;
            self.bounds = Some(match self.bounds {
                None => e,
                Some(b) => [b[0].min(e[0]), b[1].min(e[1]), b[2].max(e[2]), b[3].max(e[3])],
            });
        }
        Ok(())
    }

    /// How many rows were inserted (the fids are 1 to this, in order).
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The bounds of the geometries inserted.
    pub fn bounds(&self) -> Option<[f64; 4]> {
        self.bounds
    }
}

/// Ends a table: its bounds in `gpkg_contents` and, with a geometry, the RTree triggers.
///
/// # Errors
/// SQLite errors.
pub fn finish_table(conn: &Connection, table: &Table, bounds: Option<[f64; 4]>) -> Result<()> {
    if let Some(b) = bounds {
        conn.execute(
            "UPDATE gpkg_contents SET min_x = ?2, min_y = ?3, max_x = ?4, max_y = ?5 WHERE table_name = ?1",
            params![table.name, b[0], b[1], b[2], b[3]],
        )?;
    }
    if table.geometry.is_some() {
        conn.execute_batch(&rtree_triggers(&table.name))?;
    }
    Ok(())
}

/// The standard triggers keeping `rtree_<t>_geom` in step with table `t` (GeoPackage 1.3).
fn rtree_triggers(table: &str) -> String {
    let t = quote(table);
    let r = quote(&format!("rtree_{table}_geom"));
    let trigger = |suffix: &str| quote(&format!("rtree_{table}_geom_{suffix}"));
    let values = "NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom)";
    format!(
        "CREATE TRIGGER {insert} AFTER INSERT ON {t} WHEN (new.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom))
         BEGIN INSERT OR REPLACE INTO {r} VALUES ({values}); END;
         CREATE TRIGGER {update1} AFTER UPDATE OF geom ON {t} WHEN OLD.fid = NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
         BEGIN INSERT OR REPLACE INTO {r} VALUES ({values}); END;
         CREATE TRIGGER {update2} AFTER UPDATE OF geom ON {t} WHEN OLD.fid = NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
         BEGIN DELETE FROM {r} WHERE id = OLD.fid; END;
         CREATE TRIGGER {update3} AFTER UPDATE ON {t} WHEN OLD.fid != NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
         BEGIN DELETE FROM {r} WHERE id = OLD.fid; INSERT OR REPLACE INTO {r} VALUES ({values}); END;
         CREATE TRIGGER {update4} AFTER UPDATE ON {t} WHEN OLD.fid != NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
         BEGIN DELETE FROM {r} WHERE id IN (OLD.fid, NEW.fid); END;
         CREATE TRIGGER {delete} AFTER DELETE ON {t} WHEN old.geom NOT NULL
         BEGIN DELETE FROM {r} WHERE id = OLD.fid; END;",
        insert = trigger("insert"),
        update1 = trigger("update1"),
        update2 = trigger("update2"),
        update3 = trigger("update3"),
        update4 = trigger("update4"),
        delete = trigger("delete"),
    )
}

/// GeoPackage binary of a geometry: header (version 0, little-endian, XY envelope or the empty
/// flag), SRS id, then the WKB.
pub fn geometry_blob(out: &mut Vec<u8>, wkb: &[u8], envelope: Option<[f64; 4]>) {
    out.clear();
    out.extend_from_slice(b"GP");
    out.push(0);
    match envelope {
        Some(e) => {
            out.push(0b0000_0011);
            out.extend_from_slice(&SRS_ID.to_le_bytes());
            for v in [e[0], e[2], e[1], e[3]] {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        None => {
            out.push(0b0001_0001);
            out.extend_from_slice(&SRS_ID.to_le_bytes());
        }
    }
    out.extend_from_slice(wkb);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_is_registered_indexed_and_filled() {
        let conn = Connection::open_in_memory().unwrap();
        create_core(&conn).unwrap();
        let table = Table {
            name: "a_points".into(),
            title: "a.points".into(),
            description: String::new(),
            geometry: Some("POINT"),
            columns: vec![("name".into(), ColumnType::Text)],
        };
        create_table(&conn, &table, "2026-01-01T00:00:00.000Z").unwrap();
        let mut point = vec![1u8];
        point.extend_from_slice(&1u32.to_le_bytes());
        point.extend_from_slice(&105.5f64.to_le_bytes());
        point.extend_from_slice(&21.0f64.to_le_bytes());
        let bounds = {
            let mut writer = TableWriter::new(&conn, &table).unwrap();
            writer
                .insert(
                    Some((&point, Some([105.5, 21.0, 105.5, 21.0]))),
                    Some(7),
                    Some(2),
                    vec![Value::Text("x".into())],
                )
                .unwrap();
            assert_eq!(writer.rows(), 1);
            writer.bounds()
        };
        finish_table(&conn, &table, bounds).unwrap();
        let (id, blob): (i64, Vec<u8>) =
            conn.query_row("SELECT geosector_id, geom FROM a_points", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        assert_eq!(id, 7);
        assert_eq!(&blob[..4], b"GP\0\x03");
        assert_eq!(&blob[40..], &point[..]);
        let indexed: i64 =
            conn.query_row("SELECT count(*) FROM rtree_a_points_geom WHERE minx <= 106", [], |r| r.get(0)).unwrap();
        assert_eq!(indexed, 1);
        let app: i32 = conn.query_row("PRAGMA application_id", [], |r| r.get(0)).unwrap();
        assert_eq!(app, APPLICATION_ID);
    }
}
