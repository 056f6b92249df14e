//! An MBTiles 1.3 writer: `metadata` (name, format `pbf`, bounds, center, zooms and the vector
//! layers as `json`) and `tiles` with TMS rows (row 0 at the south), gzip-compressed MVT.

use rusqlite::{params, Connection};

use crate::Result;

/// An MBTiles file being written, in one transaction.
pub struct Writer {
    conn: Connection,
}

/// What `metadata` holds.
#[derive(Debug, Clone)]
pub struct Metadata {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// `[min lon, min lat, max lon, max lat]`.
    pub bounds: [f64; 4],
    /// The lowest zoom.
    pub min_zoom: u8,
    /// The highest zoom.
    pub max_zoom: u8,
    /// The zoom a viewer starts at.
    pub center_zoom: u8,
    /// `{"vector_layers": [...]}`.
    pub json: serde_json::Value,
}

impl Writer {
    /// Creates the file (which must not exist) and its tables.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn create(path: &std::path::Path, metadata: &Metadata) -> Result<Writer> {
        let conn = Connection::open(path)?;
        conn.execute_batch(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA application_id = 1296188499;
             BEGIN;
             CREATE TABLE metadata (name TEXT, value TEXT);
             CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB);",
        )?;
        let b = metadata.bounds;
        let rows = [
            ("name", metadata.name.clone()),
            ("description", metadata.description.clone()),
            ("format", "pbf".to_owned()),
            ("type", "overlay".to_owned()),
            ("version", "1".to_owned()),
            ("bounds", format!("{},{},{},{}", b[0], b[1], b[2], b[3])),
            ("center", format!("{},{},{}", (b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0, metadata.center_zoom)),
            ("minzoom", metadata.min_zoom.to_string()),
            ("maxzoom", metadata.max_zoom.to_string()),
            ("json", serde_json::to_string(&metadata.json).unwrap_or_default()),
        ];
        for (name, value) in rows {
            conn.execute("INSERT INTO metadata VALUES (?1, ?2)", params![name, value])?;
        }
        Ok(Writer { conn })
    }

    /// Adds a tile (XYZ row; stored as TMS).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn add(&mut self, z: u8, x: u64, y: u64, tile: &[u8]) -> Result<()> {
        let tms = (1i64 << z) - 1 - y as i64;
        let mut insert = self.conn.prepare_cached("INSERT INTO tiles VALUES (?1, ?2, ?3, ?4)")?;
        insert.execute(params![z, x as i64, tms, tile])?;
        Ok(())
    }

    /// Indexes the tiles and commits.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn finish(self) -> Result<()> {
        self.conn
            .execute_batch("CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row); COMMIT;")?;
        Ok(())
    }
}
