//! The tile overview cells of a partitioned dataset, recomputed after a partition swap (the
//! dataset's [`geosector_domain::Overview`], the declaration the tiles draw from too).
//!
//! Ordinary writes keep the cells in step through the sector migration's triggers, which
//! read back every parcel of the changed box: for a province of a million parcels that is most
//! of an import's time. A swap fires no trigger, and the importer has every row it loads in
//! hand, so it counts them per finest cell and class as it COPYs them ([`CellCounts::add`]);
//! after the swap ([`CellCounts::write`]) it adds the rows of the partitions it kept that fall in
//! the changed box (usually a border strip of the neighbouring provinces), resolves each cell's
//! class, rolls the coarser zooms up from the finer ones (reading only the border cells around
//! the changed box from the table), then replaces the cells of the changed box that changed (a
//! cell whose class and parcel count are the same and whose area is within
//! [`AREA_TOLERANCE`] is kept): one DELETE per zoom and one COPY.
//!
//! The rule is the SQL one, step for step: a row falls in the cell of the centre of its Web
//! Mercator bounding box; its area is the computed area, else the first declared area field
//! set, else 0; a cell's class is the one with the largest total area (ties: the smallest
//! class); a coarser cell is built from its four sub-cells' classes, parcels and areas. The
//! Mercator formulas are the spherical ones of EPSG:3857, so a row whose centre lies within
//! about 10⁻⁹ m of a cell edge may be counted in the neighbouring cell by one path and not the
//! other: an overview cannot show the difference.

use foldhash::HashMap;

use geosector_domain::{CellValue, Dataset, Overview};
use geosector_store::quote_ident;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::Type;
use tokio_postgres::Transaction;

use crate::checked::Row;
use crate::error::ImportError;
use geosector_crs::web_mercator::{lat_of as latitude, lon_of as longitude, x_of as mercator_x, y_of as mercator_y};

/// Half the side of the Web Mercator square, metres.
const HALF: f64 = geosector_crs::web_mercator::HALF_WORLD;
/// The side of the Web Mercator square, metres.
const WORLD: f64 = 2.0 * HALF;
/// The latitude Web Mercator boxes are clamped to, as in the SQL.
const MAX_LAT: f64 = 85.05;

/// A lon/lat box in Web Mercator, clamped to the Mercator square: `[xmin, ymin, xmax, ymax]`.
fn mercator_box(lonlat: [f64; 4]) -> [f64; 4] {
    [
        mercator_x(lonlat[0].max(-180.0)),
        mercator_y(lonlat[1].max(-MAX_LAT)),
        mercator_x(lonlat[2].min(180.0)),
        mercator_y(lonlat[3].min(MAX_LAT)),
    ]
}

/// The cells (inclusive index ranges) a Web Mercator box touches on a grid of `n` cells a side.
#[derive(Debug, Clone, Copy, PartialEq)]
struct CellRange {
    x0: i32,
    x1: i32,
    y0: i32,
    y1: i32,
}

impl CellRange {
    #[allow(clippy::cast_possible_truncation)] // cell indexes of a grid of at most 2^31 cells
    fn of(mercator: [f64; 4], n: f64) -> CellRange {
        let last = n - 1.0;
        CellRange {
            x0: ((mercator[0] + HALF) / WORLD * n).floor() as i32,
            x1: ((mercator[2] + HALF) / WORLD * n).floor().min(last) as i32,
            y0: ((HALF - mercator[3]) / WORLD * n).floor() as i32,
            y1: ((HALF - mercator[1]) / WORLD * n).floor().min(last) as i32,
        }
    }

    fn contains(&self, (x, y): (i32, i32)) -> bool {
        (self.x0..=self.x1).contains(&x) && (self.y0..=self.y1).contains(&y)
    }

    /// The lon/lat box of the cells.
    fn lonlat(&self, n: f64) -> [f64; 4] {
        [
            longitude(f64::from(self.x0) / n * WORLD - HALF),
            latitude(HALF - f64::from(self.y1 + 1) / n * WORLD),
            longitude(f64::from(self.x1 + 1) / n * WORLD - HALF),
            latitude(HALF - f64::from(self.y0) / n * WORLD),
        ]
    }
}

/// The cell of a row's lon/lat bounding box on a grid of `n` cells a side.
#[allow(clippy::cast_possible_truncation)] // cell indexes of a grid of at most 2^31 cells
fn cell_of(bbox: [f64; 4], n: f64) -> (i32, i32) {
    let x = (mercator_x(bbox[0]) + mercator_x(bbox[2])) / 2.0;
    let y = (mercator_y(bbox[1]) + mercator_y(bbox[3])) / 2.0;
    (((x + HALF) / WORLD * n).floor() as i32, ((HALF - y) / WORLD * n).floor() as i32)
}

/// How far a cell's stored area may be from the recomputed one and the cell still be kept:
/// 0.1 % (at least 1 m²). An overview shows areas, it does not measure them; a province exported
/// again with rounded coordinates (GeoJSON's 7 decimals move parcel corners by up to 1 cm) shifts
/// cell areas by about 0.02 % (99th percentile at zoom 13), and would otherwise rewrite every
/// cell of the province.
const AREA_TOLERANCE: f64 = 1e-3;

/// Whether a stored cell area is the recomputed one, within [`AREA_TOLERANCE`].
fn same_area(stored: f64, computed: f64) -> bool {
    (stored - computed).abs() <= AREA_TOLERANCE * computed.abs().max(1000.0)
}

/// Parcels and area of one class in one cell.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Tally {
    rows: i64,
    area: f64,
}

/// One resolved cell: its class (an index into [`CellCounts::classes`]) and totals.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Cell {
    class: u32,
    total: Tally,
}

/// The finest cell of a row, found where the row is built: the Mercator formulas are most of
/// the cost of counting a row, and the thread that counts also feeds COPY.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CellLocator {
    /// Cells a side of the finest grid.
    n: f64,
}

impl CellLocator {
    /// The finest cell of the centre of the row's Web Mercator bounding box; `None` without a
    /// geometry.
    pub(crate) fn cell(&self, row: &Row) -> Option<(i32, i32)> {
        row.bbox.map(|bbox| cell_of(bbox, self.n))
    }
}

/// The statements on a cell table, built once per swap from the overview declaration: the
/// table and every column quoted from it (`$1` is always the zoom).
#[derive(Debug)]
struct CellSql {
    /// The quoted, schema-qualified table, for the log.
    table: String,
    /// The cells of a zoom in a range of cells (`$2..$5`: x0, x1, y0, y1).
    range: String,
    /// The cells of a zoom in a range of cells (`$2..$5`) but not in an inner one (`$6..$9`).
    border: String,
    /// Deletes the cells of a zoom in a range (`$2..$5`).
    delete_range: String,
    /// Deletes the cells of a zoom listed by x (`$2`) and y (`$3`) arrays.
    delete_cells: String,
    /// COPYs cells in: zoom, x, y, class, count, area.
    copy: String,
}

impl CellSql {
    fn new(overview: &Overview) -> CellSql {
        let table = format!("{}.{}", quote_ident(overview.schema), quote_ident(overview.table));
        let [zoom, x, y] = [Overview::ZOOM_COLUMN, Overview::X_COLUMN, Overview::Y_COLUMN].map(quote_ident);
        let [class, count, area] =
            [overview.class_column, overview.count_column, overview.area_column].map(quote_ident);
        let in_range = format!("{zoom} = $1 AND {x} BETWEEN $2 AND $3 AND {y} BETWEEN $4 AND $5");
        let select = format!("SELECT {x}, {y}, {class}, {count}, {area} FROM {table}");
        CellSql {
            range: format!("{select} WHERE {in_range}"),
            border: format!("{select} WHERE {in_range} AND NOT ({x} BETWEEN $6 AND $7 AND {y} BETWEEN $8 AND $9)"),
            delete_range: format!("DELETE FROM {table} WHERE {in_range}"),
            delete_cells: format!(
                "DELETE FROM {table} WHERE {zoom} = $1 AND ({x}, {y}) IN (SELECT * FROM unnest($2::integer[], $3::integer[]))"
            ),
            copy: format!("COPY {table} ({zoom}, {x}, {y}, {class}, {count}, {area}) FROM STDIN (FORMAT binary)"),
            table,
        }
    }
}

/// Rows counted per finest cell and class, for a swap's overview.
#[derive(Debug)]
pub(crate) struct CellCounts {
    pyramid: Overview,
    class_index: usize,
    area_indexes: Vec<usize>,
    classes: Vec<String>,
    class_ids: HashMap<String, u32>,
    counts: HashMap<(i32, i32, u32), Tally>,
}

/// Cells a side of the grid of `zoom`.
fn cells_across(zoom: u8) -> f64 {
    f64::from(Overview::CELLS_PER_TILE) * 2f64.powi(i32::from(zoom))
}

impl CellCounts {
    /// Counts for a dataset with overview cells; `None` for one without.
    ///
    /// # Errors
    /// [`ImportError::Database`] when the declaration names a field the dataset lacks.
    pub(crate) fn new(dataset: &Dataset) -> Result<Option<CellCounts>, ImportError> {
        let Some(pyramid) = dataset.partition.and_then(|p| p.cells) else { return Ok(None) };
        let position =
            |name: &str| {
                dataset.fields.iter().position(|f| f.column == name).ok_or_else(|| {
                    ImportError::Database(format!("{}: overview field {name} is not declared", dataset.id))
                })
            };
        let class_index = position(pyramid.class_field)?;
        let area_indexes = pyramid.area_fields.iter().map(|f| position(f)).collect::<Result<_, _>>()?;
        Ok(Some(CellCounts {
            pyramid,
            class_index,
            area_indexes,
            classes: Vec::new(),
            class_ids: HashMap::default(),
            counts: HashMap::default(),
        }))
    }

    fn class_id(&mut self, class: &str) -> u32 {
        if let Some(&id) = self.class_ids.get(class) {
            return id;
        }
        let id = u32::try_from(self.classes.len()).unwrap_or(u32::MAX);
        self.classes.push(class.to_owned());
        self.class_ids.insert(class.to_owned(), id);
        id
    }

    fn count(&mut self, cell: (i32, i32), class: &str, area: f64) {
        let class = self.class_id(class);
        let tally = self.counts.entry((cell.0, cell.1, class)).or_default();
        tally.rows += 1;
        tally.area += area;
    }

    /// Where the checking workers find each row's finest cell, for [`CellCounts::add`].
    pub(crate) fn locator(&self) -> CellLocator {
        CellLocator { n: cells_across(self.pyramid.finest_zoom) }
    }

    /// Counts one loaded row in its finest cell (from [`CellLocator::cell`]; rows without a
    /// geometry or a class are not in the overview).
    pub(crate) fn add(&mut self, row: &Row, cell: Option<(i32, i32)>) {
        let Some(cell) = cell else { return };
        let class = match row.cells.get(self.class_index) {
            Some(CellValue::TextList(list)) => list.first(),
            Some(CellValue::Text(text)) => Some(text),
            _ => None,
        };
        let Some(class) = class else { return };
        let area = row
            .area_m2
            .or_else(|| {
                self.area_indexes.iter().find_map(|&i| match row.cells.get(i) {
                    Some(CellValue::Float(a)) => Some(*a),
                    _ => None,
                })
            })
            .unwrap_or(0.0);
        self.count(cell, class, area);
    }

    /// Picks each cell's class: the largest total area, ties to the smallest class.
    fn resolve(&self, tallies: HashMap<(i32, i32, u32), Tally>) -> HashMap<(i32, i32), Cell> {
        use std::collections::hash_map::Entry;
        // Per cell: the cell so far and the area of its current class.
        let mut cells: HashMap<(i32, i32), (Cell, f64)> =
            HashMap::with_capacity_and_hasher(tallies.len(), foldhash::fast::RandomState::default());
        for ((x, y, class), tally) in tallies {
            match cells.entry((x, y)) {
                Entry::Vacant(e) => {
                    e.insert((Cell { class, total: tally }, tally.area));
                }
                Entry::Occupied(mut e) => {
                    let (cell, best) = e.get_mut();
                    cell.total.rows += tally.rows;
                    cell.total.area += tally.area;
                    let wins = tally.area > *best
                        || (tally.area == *best && self.classes[class as usize] < self.classes[cell.class as usize]);
                    if wins {
                        cell.class = class;
                        *best = tally.area;
                    }
                }
            }
        }
        cells.into_iter().map(|(at, (cell, _))| (at, cell)).collect()
    }

    /// Replaces the cells of every zoom that meet `changed` (a lon/lat box holding every row
    /// replaced and loaded) in the transaction of the swap; `replaced` are the partition keys
    /// swapped in. Returns how many cells were written.
    ///
    /// # Errors
    /// [`ImportError::Database`] when PostgreSQL refuses a statement.
    pub(crate) async fn write(
        mut self,
        tx: &Transaction<'_>,
        changed: [f64; 4],
        replaced: &[String],
    ) -> Result<u64, ImportError> {
        let pyramid = self.pyramid;
        let sql = CellSql::new(&pyramid);
        let mercator = mercator_box(changed);
        let finest = pyramid.finest_zoom;
        let n = cells_across(finest);
        let range = CellRange::of(mercator, n);

        // The rows of the partitions kept whose cell is in the changed range.
        let [xmin, ymin, xmax, ymax] = range.lonlat(n);
        // Streamed: a neighbouring province may have many rows in the box.
        let kept = tx
            .query_raw(
                pyramid.kept_rows_sql,
                [&xmin as &(dyn tokio_postgres::types::ToSql + Sync), &ymin, &xmax, &ymax, &replaced],
            )
            .await?;
        futures_util::pin_mut!(kept);
        while let Some(row) = futures_util::TryStreamExt::try_next(&mut kept).await? {
            let bbox: [Option<f64>; 4] = [row.get(0), row.get(1), row.get(2), row.get(3)];
            let (Some(x0), Some(y0), Some(x1), Some(y1)) = (bbox[0], bbox[1], bbox[2], bbox[3]) else { continue };
            let Some(class) = row.get::<_, Option<&str>>(4) else { continue };
            let cell = cell_of([x0, y0, x1, y1], n);
            if range.contains(cell) {
                self.count(cell, class, row.get::<_, Option<f64>>(5).unwrap_or(0.0));
            }
        }
        let tallies = std::mem::take(&mut self.counts).into_iter().filter(|((x, y, _), _)| range.contains((*x, *y)));
        let mut levels = vec![(finest, range, self.resolve(tallies.collect()))];

        // Coarser zooms from the finer ones: the recomputed cells plus the unchanged cells of
        // the finer zoom around the changed range.
        for zoom in (0..finest).rev() {
            let Some((_, finer, level)) = levels.last() else { break };
            let finer = *finer;
            let coarse = CellRange::of(mercator, cells_across(zoom));
            let children =
                CellRange { x0: 2 * coarse.x0, x1: 2 * coarse.x1 + 1, y0: 2 * coarse.y0, y1: 2 * coarse.y1 + 1 };
            let border = tx
                .query(
                    &sql.border,
                    &[
                        &i16::from(zoom + 1),
                        &children.x0,
                        &children.x1,
                        &children.y0,
                        &children.y1,
                        &finer.x0,
                        &finer.x1,
                        &finer.y0,
                        &finer.y1,
                    ],
                )
                .await?;
            let mut parts: Vec<((i32, i32), String, Tally)> = Vec::with_capacity(border.len());
            for row in &border {
                let tally = Tally { rows: i64::from(row.get::<_, i32>(3)), area: row.get(4) };
                parts.push(((row.get(0), row.get(1)), row.get(2), tally));
            }
            let mut tallies: HashMap<(i32, i32, u32), Tally> =
                HashMap::with_capacity_and_hasher(level.len() / 2, foldhash::fast::RandomState::default());
            let mut add = |(x, y): (i32, i32), class: u32, t: Tally| {
                let tally = tallies.entry((x.div_euclid(2), y.div_euclid(2), class)).or_default();
                tally.rows += t.rows;
                tally.area += t.area;
            };
            for (&cell, c) in level {
                if children.contains(cell) {
                    add(cell, c.class, c.total);
                }
            }
            for (cell, class, tally) in parts {
                add(cell, self.class_id(&class), tally);
            }
            let coarser = self.resolve(tallies);
            levels.push((zoom, coarse, coarser));
        }

        // Replace, at every zoom, the cells of the changed range that differ: a province loaded
        // again with a few corrections rewrites a few cells, not all of them.
        let mut written = Vec::new();
        let (mut deleted, mut kept) = (0, 0);
        for (zoom, range, mut cells) in levels {
            let zoom = i16::from(zoom);
            let (same, stale) = self.compare_stored(tx, &sql.range, zoom, range, &cells).await?;
            if stale.0.len() > same.len() {
                // Mostly new: clearing the range is much cheaper than deleting cell by cell.
                deleted += stale.0.len() + same.len();
                tx.execute(&sql.delete_range, &[&zoom, &range.x0, &range.x1, &range.y0, &range.y1]).await?;
            } else if !stale.0.is_empty() {
                kept += same.len();
                deleted += stale.0.len();
                for at in &same {
                    cells.remove(at);
                }
                tx.execute(&sql.delete_cells, &[&zoom, &stale.0, &stale.1]).await?;
            } else {
                kept += same.len();
                for at in &same {
                    cells.remove(at);
                }
            }
            let mut cells: Vec<((i32, i32), Cell)> = cells.into_iter().collect();
            cells.sort_unstable_by_key(|(at, _)| *at); // primary key order: appends to the index
            written.push((zoom, cells));
        }
        let sink = tx.copy_in(&sql.copy).await?;
        let writer =
            BinaryCopyInWriter::new(sink, &[Type::INT2, Type::INT4, Type::INT4, Type::TEXT, Type::INT4, Type::FLOAT8]);
        futures_util::pin_mut!(writer);
        for (zoom, cells) in &written {
            for ((x, y), cell) in cells {
                let class = &self.classes[cell.class as usize];
                let rows = i32::try_from(cell.total.rows).unwrap_or(i32::MAX);
                writer.as_mut().write(&[zoom, x, y, class, &rows, &cell.total.area]).await?;
            }
        }
        let written = writer.finish().await?;
        tracing::info!(table = %sql.table, kept, deleted, written, "overview cells of the swapped area");
        Ok(written)
    }

    /// Compares the stored cells of one zoom in `range` with the recomputed `cells`: returns the
    /// stored cells that are as recomputed, and those to delete (gone or changed) as parallel x
    /// and y lists. The stored cells are streamed, not collected.
    async fn compare_stored(
        &self,
        tx: &Transaction<'_>,
        range_sql: &str,
        zoom: i16,
        range: CellRange,
        cells: &HashMap<(i32, i32), Cell>,
    ) -> Result<(Vec<(i32, i32)>, (Vec<i32>, Vec<i32>)), ImportError> {
        use futures_util::TryStreamExt;
        let stored = tx
            .query_raw(
                range_sql,
                [&zoom as &(dyn tokio_postgres::types::ToSql + Sync), &range.x0, &range.x1, &range.y0, &range.y1],
            )
            .await?;
        futures_util::pin_mut!(stored);
        let mut same_cells = Vec::new();
        let mut stale = (Vec::new(), Vec::new());
        while let Some(row) = stored.try_next().await? {
            let at: (i32, i32) = (row.get(0), row.get(1));
            let same = cells.get(&at).is_some_and(|cell| {
                let (class, rows, area): (&str, i32, f64) = (row.get(2), row.get(3), row.get(4));
                self.classes[cell.class as usize] == class
                    && i64::from(rows) == cell.total.rows
                    && same_area(area, cell.total.area)
            });
            if same {
                same_cells.push(at);
            } else {
                stale.0.push(at.0);
                stale.1.push(at.1);
            }
        }
        Ok((same_cells, stale))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use geosector_domain::{Field, FieldType, Partitioning};

    const CELLS: Overview = Overview {
        schema: "test",
        table: "cells",
        finest_zoom: 13,
        class_column: "main_class",
        count_column: "rows",
        area_column: "area_m2",
        class_field: "classes",
        area_fields: &["declared_area_m2"],
        kept_rows_sql: "",
    };

    /// A partitioned dataset with overview cells, declared here so that the tests name no sector.
    const TEST_PARCELS: Dataset = Dataset {
        id: "test.parcels",
        description: "",
        schema: "test",
        table: "parcels",
        fields: &[
            Field::new("commune_code", &["commune_code"], FieldType::Code { digits: 5 }, true),
            Field::new("classes", &["classes"], FieldType::TextList, true),
            Field::new("declared_area_m2", &["declared_area_m2"], FieldType::Float, false),
        ],
        geometry: None,
        conflict_key: None,
        prepare_sql: None,
        partition: Some(Partitioning {
            column: "province_code",
            commune_field: "commune_code",
            cells: Some(CELLS),
            tile_geometry_column: None,
            first_element_column: None,
        }),
        rules: &[],
        history: None,
    };

    #[test]
    fn statements_quote_the_declared_table_and_columns() {
        let sql = CellSql::new(&CELLS);
        assert_eq!(
            sql.copy,
            "COPY \"test\".\"cells\" (\"zoom\", \"cell_x\", \"cell_y\", \"main_class\", \"rows\", \"area_m2\") FROM STDIN (FORMAT binary)"
        );
        assert!(sql.border.starts_with(
            "SELECT \"cell_x\", \"cell_y\", \"main_class\", \"rows\", \"area_m2\" FROM \"test\".\"cells\" WHERE \"zoom\" = $1"
        ));
        assert!(sql.border.ends_with("AND NOT (\"cell_x\" BETWEEN $6 AND $7 AND \"cell_y\" BETWEEN $8 AND $9)"));
    }

    #[test]
    fn mercator_is_epsg_3857() {
        // PROJ: echo 21.0 105.8 | cs2cs -f %.3f EPSG:4326 EPSG:3857 → 11777602.126 2391878.588
        assert!((mercator_x(105.8) - 11_777_602.126).abs() < 0.001, "{}", mercator_x(105.8));
        assert!((mercator_y(21.0) - 2_391_878.588).abs() < 0.001, "{}", mercator_y(21.0));
        assert!((longitude(mercator_x(105.8)) - 105.8).abs() < 1e-12);
        assert!((latitude(mercator_y(21.0)) - 21.0).abs() < 1e-12);
    }

    #[test]
    fn the_cells_of_a_box_cover_it_and_hold_its_rows() {
        let n = 64.0 * 2f64.powi(13);
        let lonlat = [105.70, 21.15, 105.95, 21.40];
        let range = CellRange::of(mercator_box(lonlat), n);
        let covered = range.lonlat(n);
        assert!(
            covered[0] <= lonlat[0] && covered[1] <= lonlat[1] && covered[2] >= lonlat[2] && covered[3] >= lonlat[3]
        );
        // A row anywhere in the box falls in one of its cells, at every zoom.
        for zoom in 0..=13 {
            let n = 64.0 * 2f64.powi(zoom);
            let range = CellRange::of(mercator_box(lonlat), n);
            for row in
                [[105.70, 21.15, 105.7001, 21.1501], [105.9499, 21.3999, 105.95, 21.40], [105.8, 21.2, 105.81, 21.21]]
            {
                assert!(range.contains(cell_of(row, n)), "zoom {zoom}: {row:?} outside {range:?}");
            }
        }
        // A parcel's cell is the one of its box centre: 76 m cells at zoom 13.
        let (x, y) = cell_of([105.8, 21.2, 105.8002, 21.2002], n);
        assert_eq!(cell_of([105.8001, 21.2001, 105.8001, 21.2001], n), (x, y));
    }

    #[test]
    fn a_cell_takes_the_class_of_the_largest_area_ties_to_the_smallest_class() {
        let mut counts = CellCounts::new(&TEST_PARCELS).unwrap().expect("the dataset has overview cells");
        counts.count((1, 1), "ONT", 100.0);
        counts.count((1, 1), "LUC", 60.0);
        counts.count((1, 1), "LUC", 60.0);
        counts.count((2, 1), "ONT", 50.0);
        counts.count((2, 1), "CLN", 50.0);
        let tallies = std::mem::take(&mut counts.counts);
        let cells = counts.resolve(tallies);
        let class = |at| counts.classes[cells[&at].class as usize].as_str();
        assert_eq!(class((1, 1)), "LUC");
        assert_eq!(cells[&(1, 1)].total, Tally { rows: 3, area: 220.0 });
        assert_eq!(class((2, 1)), "CLN");
    }
}
