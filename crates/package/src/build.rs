//! Making a package: features and tiles read in one REPEATABLE READ snapshot (exported to the
//! tile workers' connections), written through a resumable work area, then the final files.
//!
//! `DIR/package.partial/` holds the work: `work.gpkg` (the GeoPackage being filled, one SQLite
//! transaction per collection) and `state.sqlite` (attached to it, so a collection's rows and
//! the record that it is done commit together; also the tiles, one transaction per zoom). A
//! killed run leaves it; `resume` continues where it stopped when the settings and the data
//! versions of the collections are those it began with (else it starts over). The end writes
//! `package.gpkg` with `VACUUM INTO` (a fresh file whose bytes depend only on its content),
//! `tiles.mbtiles` and `tiles.pmtiles` from the tiles in a fixed order, and `tiles.json`, then
//! removes the work area. `made_at` is the snapshot's instant of the first run (or the one
//! given), so the same data make byte-identical files.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use futures_util::StreamExt;
use geosector_access::policy::{CollectionAccess, Operation, Rows};
use geosector_domain::{FieldType, GeometryKind, StyleDecl};
use geosector_store::plan::{AreaScope, BboxFilter, ItemsRequest, TileRequest, TileVariant};
use geosector_store::{Collection, FieldView};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rusqlite::types::Value;
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::json;
use tokio_postgres::Client;

use crate::gpkg::{self, ColumnType, Table, TableWriter};
use crate::{mbtiles, pmtiles, tiles, Area, PackageError, Result};

/// One collection of a package, as the caller may see it.
#[derive(Debug, Clone)]
pub struct Layer {
    /// The view of the collection (the personal properties the caller may see).
    pub collection: Arc<Collection>,
    /// Its features go in the GeoPackage (the caller may read items).
    pub features: bool,
    /// The rows of its features (`None`: every row).
    pub scope: Option<AreaScope>,
    /// It has a layer in the tiles (the caller may read tiles).
    pub tiles: bool,
    /// The rows of its tiles (`None`: every row).
    pub tile_scope: Option<AreaScope>,
}

impl Layer {
    /// The layer of a collection as a caller's access allows: its features when it may read
    /// items, its tiles when it may read tiles, each limited to the rows granted, with the
    /// personal properties it may see (whole or masked); `None` when it may do neither (or may
    /// not know the collection exists).
    pub fn for_access(collection: &Arc<Collection>, access: &CollectionAccess) -> Option<Layer> {
        if !access.visible {
            return None;
        }
        let scope = |rows: Option<&Rows>| match rows {
            Some(Rows::In(codes)) => Some(AreaScope::new(codes.clone())),
            _ => None,
        };
        let items = access.rows(Operation::ReadItems);
        let tiles = access.rows(Operation::ReadTiles);
        if items.is_none() && tiles.is_none() {
            return None;
        }
        let fields = FieldView { whole: access.whole.clone(), masked: access.masked.clone() };
        Some(Layer {
            collection: collection.view(&fields),
            features: items.is_some(),
            scope: scope(items),
            tiles: tiles.is_some(),
            tile_scope: scope(tiles),
        })
    }

    /// The layer of a collection read as the database owner: every row, every property whole.
    pub fn whole(collection: &Arc<Collection>) -> Layer {
        let personal: Vec<&'static str> = collection.decl.access.personal.iter().map(|(name, _)| *name).collect();
        Layer {
            collection: collection.view(&FieldView { whole: personal, masked: Vec::new() }),
            features: true,
            scope: None,
            tiles: true,
            tile_scope: None,
        }
    }
}

/// How to make a package.
#[derive(Debug, Clone)]
pub struct Options {
    /// The directory.
    pub out: std::path::PathBuf,
    /// The lowest zoom of the tiles.
    pub min_zoom: u8,
    /// The highest zoom of the tiles.
    pub max_zoom: u8,
    /// Whether to write the tiles at all.
    pub tiles: bool,
    /// Continue an interrupted run found in `DIR/package.partial`.
    pub resume: bool,
    /// Show a progress bar (on a terminal).
    pub progress: bool,
    /// Where the data came from (`database`, or the server's URL).
    pub source: String,
    /// Who made it.
    pub caller: String,
    /// The instant recorded as `made_at` (default: the snapshot's).
    pub made_at: Option<DateTime<Utc>>,
}

/// What a package holds.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Features per collection.
    pub features: Vec<(String, u64)>,
    /// Tiles written (non-empty).
    pub tiles: u64,
    /// Distinct tile contents.
    pub distinct_tiles: u64,
    /// The instant recorded.
    pub made_at: String,
    /// Steps skipped because an interrupted run had done them.
    pub resumed_steps: usize,
    /// Whether a partial package of other settings or older data was discarded.
    pub restarted: bool,
}

/// The package's file names.
pub const GPKG: &str = "package.gpkg";
/// PMTiles file name.
pub const PMTILES: &str = "tiles.pmtiles";
/// MBTiles file name.
pub const MBTILES: &str = "tiles.mbtiles";
/// TileJSON file name.
pub const TILEJSON: &str = "tiles.json";
/// The work area.
pub const PARTIAL: &str = "package.partial";

/// Makes a package of `layers` over `area`. `main` reads the features (and the tiles when no
/// `workers` are given); the tiles are spread over `workers`, which share `main`'s snapshot.
///
/// # Errors
/// A database error, a file that cannot be written, a partial package found without `resume`.
pub async fn build(
    main: &Client,
    workers: &[&Client],
    layers: &[Layer],
    area: &Area,
    options: &Options,
) -> Result<Report> {
    if options.min_zoom > options.max_zoom || options.max_zoom > 22 {
        return Err(PackageError::Invalid(format!(
            "zooms {}-{}: expected 0 <= min <= max <= 22",
            options.min_zoom, options.max_zoom
        )));
    }
    std::fs::create_dir_all(&options.out)?;
    let partial = options.out.join(PARTIAL);
    if partial.exists() && !options.resume {
        return Err(PackageError::Invalid(format!(
            "{} exists: an earlier run was interrupted; pass --resume to continue it, or remove it",
            partial.display()
        )));
    }
    std::fs::create_dir_all(&partial)?;

    main.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; SET LOCAL statement_timeout = 0").await?;
    let result = build_in(main, workers, layers, area, options, &partial).await;
    // Read only: ending it either way changes nothing.
    let _ = main.batch_execute("COMMIT").await;
    result
}

async fn build_in(
    main: &Client,
    workers: &[&Client],
    layers: &[Layer],
    area: &Area,
    options: &Options,
    partial: &Path,
) -> Result<Report> {
    let row = main.query_one("SELECT pg_export_snapshot(), transaction_timestamp()", &[]).await?;
    let snapshot: String = row.get(0);
    let instant: DateTime<Utc> = options.made_at.unwrap_or_else(|| row.get(1));
    let mut versions = Vec::with_capacity(layers.len());
    for layer in layers {
        let statement = layer.collection.plan.version();
        let version = main.query_opt(statement.sql(), &[]).await?.map_or(0, |r| r.get::<_, i64>(0));
        versions.push(version);
    }
    let fingerprint = json!({
        "area": area.text,
        "bbox": area.bbox,
        "layers": layers.iter().zip(&versions).map(|(l, v)| json!({
            "id": l.collection.id(),
            "version": v,
            "features": l.features.then(|| l.scope.as_ref().map(|s| s.codes.clone())),
            "tiles": l.tiles.then(|| l.tile_scope.as_ref().map(|s| s.codes.clone())),
            "whole": l.collection.fields.whole,
            "masked": l.collection.fields.masked,
        })).collect::<Vec<_>>(),
        "zooms": [options.min_zoom, options.max_zoom],
        "tiles": options.tiles,
        "source": options.source,
        "caller": options.caller,
        "made_at": options.made_at.map(|t| t.to_rfc3339()),
    })
    .to_string();

    let mut report = Report::default();
    let work_path = partial.join("work.gpkg");
    let state_path = partial.join("state.sqlite");
    let mut conn = open_work(&work_path, &state_path)?;
    let stored: Option<String> =
        conn.query_row("SELECT value FROM work.state WHERE key = 'fingerprint'", [], |r| r.get(0)).optional()?;
    if stored.as_deref().is_some_and(|s| s != fingerprint) {
        drop(conn);
        std::fs::remove_file(&work_path)?;
        std::fs::remove_file(&state_path)?;
        conn = open_work(&work_path, &state_path)?;
        report.restarted = true;
    }
    let made_at = match conn
        .query_row("SELECT value FROM work.state WHERE key = 'made_at'", [], |r| r.get(0))
        .optional()?
    {
        Some(kept) if !report.restarted => kept,
        _ => {
            let made_at = instant.to_rfc3339_opts(SecondsFormat::Millis, true);
            let tx = conn.unchecked_transaction()?;
            gpkg::create_core(&tx)?;
            gpkg::create_attributes(&tx, "geosector_package", "key TEXT PRIMARY KEY, value TEXT NOT NULL", &made_at)?;
            gpkg::create_attributes(
                &tx,
                "geosector_origin",
                "collection TEXT NOT NULL, id INTEGER NOT NULL, version INTEGER NOT NULL, PRIMARY KEY (collection, id)",
                &made_at,
            )?;
            let ids: Vec<&str> = layers.iter().filter(|l| l.features).map(|l| l.collection.id()).collect();
            for (key, value) in [
                ("format", "geosector-package/1".to_owned()),
                ("made_at", made_at.clone()),
                ("area", area.text.clone()),
                ("collections", serde_json::to_string(&ids).unwrap_or_default()),
                ("source", options.source.clone()),
                ("caller", options.caller.clone()),
            ] {
                tx.execute("INSERT INTO geosector_package VALUES (?1, ?2)", params![key, value])?;
            }
            tx.execute(
                "INSERT INTO work.state VALUES ('fingerprint', ?1), ('made_at', ?2)",
                params![fingerprint, made_at],
            )?;
            tx.commit()?;
            made_at
        }
    };
    report.made_at.clone_from(&made_at);
    let made_instant = DateTime::parse_from_rfc3339(&made_at).map_or(instant, |t| t.with_timezone(&Utc));
    let done = |conn: &Connection, step: &str| -> Result<bool> {
        Ok(conn.query_row("SELECT 1 FROM work.state WHERE key = ?1", [step], |_| Ok(())).optional()?.is_some())
    };

    let bar = progress_bar(options.progress);
    for layer in layers.iter().filter(|l| l.features) {
        let step = format!("features:{}", layer.collection.id());
        if done(&conn, &step)? {
            let count: i64 = conn.query_row(
                "SELECT count(*) FROM geosector_origin WHERE collection = ?1",
                [layer.collection.id()],
                |r| r.get(0),
            )?;
            report.features.push((layer.collection.id().to_owned(), count as u64));
            report.resumed_steps += 1;
            continue;
        }
        bar.set_message(format!("features of {}", layer.collection.id()));
        let count = write_features(&conn, main, layer, area, &made_at, &bar).await?;
        report.features.push((layer.collection.id().to_owned(), count));
    }

    let tile_layers: Vec<&Layer> =
        layers.iter().filter(|l| options.tiles && l.tiles && l.collection.has_geometry()).collect();
    if !tile_layers.is_empty() {
        if !snapshot.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
            return Err(PackageError::Invalid(format!("unexpected snapshot id {snapshot:?}")));
        }
        for worker in workers {
            worker
                .batch_execute(&format!(
                    "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; SET TRANSACTION SNAPSHOT '{snapshot}'; SET LOCAL statement_timeout = 0"
                ))
                .await?;
        }
        let clients: Vec<&Client> = if workers.is_empty() { vec![main] } else { workers.to_vec() };
        let outcome = async {
            for z in options.min_zoom..=options.max_zoom {
                let step = format!("tiles:{z}");
                if done(&conn, &step)? {
                    report.resumed_steps += 1;
                    continue;
                }
                bar.set_message(format!("tiles of zoom {z} ({} tiles)", tiles::count(area.bbox, z)));
                write_zoom(&conn, &clients, &tile_layers, area, z, made_instant, &bar).await?;
            }
            Ok::<(), PackageError>(())
        }
        .await;
        for worker in workers {
            let _ = worker.batch_execute("COMMIT").await;
        }
        outcome?;
    }
    bar.set_message("writing the files");

    // The GeoPackage: a fresh copy of the work file.
    let gpkg_path = options.out.join(GPKG);
    let tmp = options.out.join("package.gpkg.tmp");
    if tmp.exists() {
        std::fs::remove_file(&tmp)?;
    }
    conn.execute("VACUUM main INTO ?1", [tmp.to_string_lossy()])?;
    std::fs::rename(&tmp, &gpkg_path)?;

    if !tile_layers.is_empty() {
        let (count, distinct) = write_tile_files(&conn, &tile_layers, area, options)?;
        report.tiles = count;
        report.distinct_tiles = distinct;
    }
    bar.finish_and_clear();
    drop(conn);
    std::fs::remove_dir_all(partial)?;
    Ok(report)
}

fn open_work(work: &Path, state: &Path) -> Result<Connection> {
    let conn = Connection::open(work)?;
    conn.execute_batch("PRAGMA journal_mode = DELETE; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536;")?;
    conn.execute("ATTACH DATABASE ?1 AS work", [state.to_string_lossy()])?;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS work.state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
         CREATE TABLE IF NOT EXISTS work.tiles (tile_id INTEGER PRIMARY KEY, z INTEGER NOT NULL, x INTEGER NOT NULL,
           y INTEGER NOT NULL, data BLOB NOT NULL);",
    )?;
    Ok(conn)
}

fn progress_bar(wanted: bool) -> ProgressBar {
    use std::io::IsTerminal as _;
    let ci = std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1");
    if !wanted || ci || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{spinner} {elapsed_precise} {human_pos} ({per_sec}) {wide_msg}") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

/// The table name of a collection: its id with `.` (and anything not a letter, digit or `_`)
/// replaced by `_`.
pub fn table_name(id: &str) -> String {
    id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect()
}

/// The properties of a view in the order its items show them, each with its column type.
fn columns(collection: &Collection) -> Vec<(String, ColumnType)> {
    let decl = collection.decl;
    let fields = &collection.fields;
    decl.properties()
        .into_iter()
        .filter(|p| {
            decl.access.mask_of(p.name).is_none() || fields.whole.contains(&p.name) || fields.masked.contains(&p.name)
        })
        .map(|p| {
            let kind = if fields.masked.contains(&p.name) { FieldType::Text } else { p.kind };
            (p.name.to_owned(), column_type(kind))
        })
        .collect()
}

fn column_type(kind: FieldType) -> ColumnType {
    match kind {
        FieldType::Integer => ColumnType::Integer,
        FieldType::Float => ColumnType::Real,
        FieldType::Date => ColumnType::Date,
        FieldType::Timestamp | FieldType::UtcTimestamp => ColumnType::DateTime,
        FieldType::Boolean => ColumnType::Boolean,
        FieldType::Text | FieldType::Code { .. } | FieldType::TextList | FieldType::FloatList | FieldType::Json => {
            ColumnType::Text
        }
    }
}

/// A property's JSON value as the column's SQLite value.
fn value_of(value: Option<&serde_json::Value>, kind: ColumnType) -> Value {
    use serde_json::Value as J;
    match value {
        None | Some(J::Null) => Value::Null,
        Some(J::Bool(b)) => Value::Integer(i64::from(*b)),
        Some(J::Number(n)) => match (kind, n.as_i64(), n.as_f64()) {
            (ColumnType::Text, _, _) => Value::Text(n.to_string()),
            (ColumnType::Integer | ColumnType::Boolean, Some(i), _) => Value::Integer(i),
            (_, _, Some(f)) => Value::Real(f),
            _ => Value::Text(n.to_string()),
        },
        Some(J::String(s)) if kind == ColumnType::DateTime => match DateTime::parse_from_rfc3339(s) {
            Ok(t) => {
                let t = t.with_timezone(&Utc);
                let precision = if t.timestamp_subsec_nanos() % 1_000_000 == 0 {
                    SecondsFormat::Millis
                } else {
                    SecondsFormat::Micros
                };
                Value::Text(t.to_rfc3339_opts(precision, true))
            }
            Err(_) => Value::Text(s.clone()),
        },
        Some(J::String(s)) => Value::Text(s.clone()),
        Some(other) => Value::Text(other.to_string()),
    }
}

fn geometry_type(kind: GeometryKind) -> &'static str {
    match kind {
        GeometryKind::Point => "POINT",
        GeometryKind::MultiLineString => "MULTILINESTRING",
        GeometryKind::MultiPolygon => "MULTIPOLYGON",
    }
}

/// Writes one collection's features, its origin rows and its style, in one transaction with
/// the record that it is done. Returns how many.
async fn write_features(
    conn: &Connection,
    client: &Client,
    layer: &Layer,
    area: &Area,
    made_at: &str,
    bar: &ProgressBar,
) -> Result<u64> {
    let collection = &layer.collection;
    let decl = collection.decl;
    let table = Table {
        name: table_name(collection.id()),
        title: collection.id().to_owned(),
        description: if decl.title_en.is_empty() { decl.title_vi.to_owned() } else { decl.title_en.to_owned() },
        geometry: decl.dataset.geometry.map(|g| geometry_type(g.kind)),
        columns: columns(collection),
    };
    let bbox = match &area.boundary {
        Some(wkb) => BboxFilter::Polygon(wkb.clone()),
        None => BboxFilter::Envelopes(vec![area.bbox]),
    };
    let request = ItemsRequest { bbox, scope: layer.scope.as_ref(), ..ItemsRequest::default() };
    let statement = collection.plan.export(&request);
    let rows = client.query_raw(statement.sql(), statement.values()).await?;
    let mut rows = std::pin::pin!(rows);

    let tx = conn.unchecked_transaction()?;
    gpkg::create_table(&tx, &table, made_at)?;
    let versioned = collection.plan.is_versioned();
    let (rows_written, bounds) = {
        let mut writer = TableWriter::new(&tx, &table)?;
        let mut origin = tx.prepare("INSERT INTO geosector_origin VALUES (?1, ?2, ?3)")?;
        while let Some(row) = rows.next().await {
            let row = row?;
            let id: i64 = row.get(0);
            let properties: serde_json::Value = serde_json::from_str(row.get::<_, &str>(1))
                .map_err(|e| PackageError::Invalid(format!("{} feature {id}: properties: {e}", collection.id())))?;
            let version = if versioned { i64::from(row.get::<_, Option<i32>>(2).unwrap_or(0)) } else { 0 };
            let wkb: Option<&[u8]> = row.get(3);
            let envelope = match (row.get(4), row.get(5), row.get(6), row.get(7)) {
                (Some(a), Some(b), Some(c), Some(d)) => Some([a, b, c, d]),
                _ => None,
            };
            let values: Vec<Value> =
                table.columns.iter().map(|(name, kind)| value_of(properties.get(name.as_str()), *kind)).collect();
            writer.insert(wkb.map(|w| (w, envelope)), Some(id), Some(version), values)?;
            origin.execute(params![collection.id(), id, version])?;
            bar.inc(1);
        }
        (writer.rows(), writer.bounds())
    };
    gpkg::finish_table(&tx, &table, bounds)?;
    if let Some(g) = decl.dataset.geometry {
        let style = decl.style.copied().unwrap_or(StyleDecl::DEFAULT);
        let code_is_list = style
            .fill
            .and_then(|f| f.by_code)
            .and_then(|codes| collection.decl.properties().into_iter().find(|p| p.name == codes.property))
            .is_some_and(|p| matches!(p.kind, FieldType::TextList | FieldType::FloatList | FieldType::Json));
        tx.execute(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName, styleQML, \
             styleSLD, useAsDefault, description, owner, ui, update_time) VALUES ('', '', ?1, 'geom', ?1, ?2, ?3, 1, ?4, '', NULL, ?5)",
            params![
                table.name,
                crate::style::qml(&style, g.kind, code_is_list),
                crate::style::sld(&table.name, &style, g.kind, code_is_list),
                format!("{} (geosector)", collection.id()),
                made_at
            ],
        )?;
    }
    tx.execute(
        "INSERT INTO work.state VALUES (?1, ?2)",
        params![format!("features:{}", collection.id()), rows_written.to_string()],
    )?;
    tx.commit()?;
    Ok(rows_written)
}

/// Renders every tile of zoom `z` over the area with the workers and stores the non-empty ones,
/// in one transaction with the record that the zoom is done.
async fn write_zoom(
    conn: &Connection,
    clients: &[&Client],
    layers: &[&Layer],
    area: &Area,
    z: u8,
    made_at: DateTime<Utc>,
    bar: &ProgressBar,
) -> Result<()> {
    let (xs, ys) = tiles::cover(area.bbox, z);
    let coordinates: Vec<(u64, u64)> = xs.flat_map(|x| ys.clone().map(move |y| (x, y))).collect();
    let next = AtomicUsize::new(0);
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<(u64, u64, Vec<u8>)>(256);
    let work: Vec<_> = clients
        .iter()
        .map(|client| {
            let sender = sender.clone();
            let (next, coordinates) = (&next, &coordinates);
            async move {
                let mut prepared: HashMap<String, tokio_postgres::Statement> = HashMap::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(x, y)) = coordinates.get(i) else { break };
                    let mut tile = Vec::new();
                    for layer in layers {
                        let plan = &layer.collection.plan;
                        let request = TileRequest {
                            z: u32::from(z),
                            x,
                            y,
                            filter: None,
                            scope: layer.tile_scope.as_ref(),
                            as_of: plan.draws_in_force().then_some(made_at),
                        };
                        let Some(statement) = plan.tile(&request, TileVariant::Full) else { continue };
                        let prepared = match prepared.get(statement.sql()) {
                            Some(p) => p.clone(),
                            None => {
                                let p = client.prepare(statement.sql()).await?;
                                prepared.insert(statement.sql().to_owned(), p.clone());
                                p
                            }
                        };
                        let values: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = statement.values().collect();
                        if let Some(row) = client.query_opt(&prepared, &values).await? {
                            if let Some(bytes) = row.get::<_, Option<&[u8]>>(0) {
                                tile.extend_from_slice(bytes);
                            }
                        }
                    }
                    if sender.send((x, y, tile)).await.is_err() {
                        break;
                    }
                }
                Ok::<(), PackageError>(())
            }
        })
        .collect();
    drop(sender);
    let tx = conn.unchecked_transaction()?;
    let store = async {
        let mut insert = tx.prepare("INSERT OR REPLACE INTO work.tiles VALUES (?1, ?2, ?3, ?4, ?5)")?;
        while let Some((x, y, tile)) = receiver.recv().await {
            bar.inc(1);
            if tile.is_empty() {
                continue;
            }
            let id = tiles::tile_id(z, x, y);
            insert.execute(params![id as i64, z, x as i64, y as i64, tiles::gzip(&tile)])?;
        }
        Ok::<(), PackageError>(())
    };
    let (rendered, stored) = futures_util::join!(futures_util::future::join_all(work), store);
    for result in rendered {
        result?;
    }
    stored?;
    tx.execute("INSERT INTO work.state VALUES (?1, 'done')", [format!("tiles:{z}")])?;
    tx.commit()?;
    Ok(())
}

/// The vector layers of the tiles, for the TileJSON and both tile files' metadata.
fn vector_layers(layers: &[&Layer], options: &Options) -> serde_json::Value {
    let list: Vec<serde_json::Value> = layers
        .iter()
        .map(|l| {
            let fields: serde_json::Map<String, serde_json::Value> = l
                .collection
                .plan
                .tile_properties
                .iter()
                .map(|p| {
                    let kind = match p.kind {
                        FieldType::Integer | FieldType::Float => "Number",
                        FieldType::Boolean => "Boolean",
                        _ => "String",
                    };
                    (p.name.to_owned(), json!(kind))
                })
                .collect();
            json!({
                "id": l.collection.id(),
                "description": l.collection.decl.title_en,
                "fields": fields,
                "minzoom": options.min_zoom,
                "maxzoom": options.max_zoom,
            })
        })
        .collect();
    json!(list)
}

/// The zoom a viewer starts at: the area spans a few tiles.
fn center_zoom(bbox: [f64; 4], options: &Options) -> u8 {
    let span = (bbox[2] - bbox[0]).max(bbox[3] - bbox[1]).max(1e-9);
    let z = (360.0 / span).log2().floor() as i64 + 1;
    z.clamp(i64::from(options.min_zoom), i64::from(options.max_zoom)) as u8
}

/// Writes the MBTiles, PMTiles and TileJSON from the stored tiles. Returns the tiles and the
/// distinct contents.
fn write_tile_files(conn: &Connection, layers: &[&Layer], area: &Area, options: &Options) -> Result<(u64, u64)> {
    let vector_layers = vector_layers(layers, options);
    let name = format!("geosector {}", area.text);
    let description = layers.iter().map(|l| l.collection.id()).collect::<Vec<_>>().join(", ");
    let center = center_zoom(area.bbox, options);
    let b = area.bbox;

    let mbtiles_path = options.out.join(MBTILES);
    let tmp = options.out.join("tiles.mbtiles.tmp");
    if tmp.exists() {
        std::fs::remove_file(&tmp)?;
    }
    let metadata = mbtiles::Metadata {
        name: name.clone(),
        description: description.clone(),
        bounds: b,
        min_zoom: options.min_zoom,
        max_zoom: options.max_zoom,
        center_zoom: center,
        json: json!({ "vector_layers": vector_layers }),
    };
    let mut mb = mbtiles::Writer::create(&tmp, &metadata)?;
    let mut count = 0u64;
    {
        let mut select = conn.prepare("SELECT z, x, y, data FROM work.tiles ORDER BY z, x, y")?;
        let mut rows = select.query([])?;
        while let Some(row) = rows.next()? {
            let (z, x, y): (u8, i64, i64) = (row.get(0)?, row.get(1)?, row.get(2)?);
            let data: Vec<u8> = row.get(3)?;
            mb.add(z, x as u64, y as u64, &data)?;
            count += 1;
        }
    }
    mb.finish()?;
    std::fs::rename(&tmp, &mbtiles_path)?;

    let mut pm = pmtiles::Writer::new(&options.out.join("tiles.pmtiles.data"))?;
    {
        let mut select = conn.prepare("SELECT tile_id, data FROM work.tiles ORDER BY tile_id")?;
        let mut rows = select.query([])?;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            let data: Vec<u8> = row.get(1)?;
            pm.add(id as u64, &data)?;
        }
    }
    let distinct = pm.distinct() as u64;
    let pm_metadata = json!({
        "name": name,
        "description": description,
        "format": "pbf",
        "type": "overlay",
        "version": "1",
        "bounds": format!("{},{},{},{}", b[0], b[1], b[2], b[3]),
        "minzoom": options.min_zoom.to_string(),
        "maxzoom": options.max_zoom.to_string(),
        "vector_layers": vector_layers,
    });
    let header =
        pmtiles::Header { min_zoom: options.min_zoom, max_zoom: options.max_zoom, bounds: b, center_zoom: center };
    pm.finish(&options.out.join(PMTILES), header, &pm_metadata)?;

    let tilejson = json!({
        "tilejson": "3.0.0",
        "name": name,
        "description": description,
        "version": "1.0.0",
        "scheme": "xyz",
        "tiles": [format!("pmtiles://{PMTILES}/{{z}}/{{x}}/{{y}}")],
        "vector_layers": vector_layers,
        "bounds": b,
        "center": [(b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0, center],
        "minzoom": options.min_zoom,
        "maxzoom": options.max_zoom,
    });
    std::fs::write(options.out.join(TILEJSON), serde_json::to_string_pretty(&tilejson).unwrap_or_default() + "\n")?;
    Ok((count, distinct))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_take_their_column_types() {
        assert_eq!(table_name("land.parcels"), "land_parcels");
        assert_eq!(value_of(Some(&json!(true)), ColumnType::Boolean), Value::Integer(1));
        assert_eq!(value_of(Some(&json!(3)), ColumnType::Real), Value::Real(3.0));
        assert_eq!(value_of(Some(&json!(["A", "B"])), ColumnType::Text), Value::Text("[\"A\",\"B\"]".into()));
        assert_eq!(
            value_of(Some(&json!("2024-05-01T10:00:00+07:00")), ColumnType::DateTime),
            Value::Text("2024-05-01T03:00:00.000Z".into())
        );
        assert_eq!(
            value_of(Some(&json!("2024-05-01T10:00:00.123456+07:00")), ColumnType::DateTime),
            Value::Text("2024-05-01T03:00:00.123456Z".into())
        );
        assert_eq!(value_of(None, ColumnType::Text), Value::Null);
    }
}
