//! Query plans: the SQL of a collection's requests, built from its declaration only, and the
//! values each request binds.
//!
//! Identifiers come from the declaration (quoted); every value a request carries — bbox,
//! datetime bounds, property filter values, CQL2 literals, the paging cursor, the limit, the
//! tile coordinates — is a bound parameter. The caller hands a typed request
//! ([`ItemsRequest`], [`TileRequest`], an id) and gets a [`Statement`]: the SQL and its values
//! in the order of its placeholders, which no other crate knows. The statement for each
//! combination of present filters is built once and cached, so a request only binds values;
//! a CQL2 filter, `sortby` or `properties` make a statement per request. Features are read in
//! `id` order with a keyset cursor (`id > $n`), never a growing OFFSET (except with sort keys),
//! and one row more than the limit is read to know whether a next page exists.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use geosector_domain::{AreaDecl, CollectionDecl, FieldType, GeometryKind, GeometrySpec, LowZoom, Overview, Property};

use crate::reproject::CrsShape;
use crate::{quote_ident, table_name};

mod area;
mod export;
mod history;
mod query;
mod request;
mod statement;
pub(crate) use area::condition as area_condition;
pub use area::AreaScope;
use query::QuerySpec;
pub use request::{BboxFilter, ItemsRequest, OutputCrs, Page, TileRequest, TileVariant};
pub use statement::{Param, Statement};

/// Which optional filters a request uses; one statement per distinct value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
struct FilterShape {
    /// A bbox filter: one envelope, or two when it crosses the antimeridian.
    bbox_parts: u8,
    /// A versioned collection read as of an instant (one `timestamptz`, numbered where the time
    /// bounds would be; see [`history`]); then no time bound.
    as_of: bool,
    /// A lower time bound.
    time_from: bool,
    /// An upper time bound.
    time_to: bool,
    /// Equality filters on these published properties, in this order.
    properties: Vec<&'static str>,
    /// A keyset cursor.
    cursor: bool,
    /// An area scope (one `text[]` of codes).
    scope: bool,
    /// Output CRS and bbox CRS (OGC API - Features Part 2); see [`crate::reproject`].
    crs: CrsShape,
}

/// The SQL of one collection.
#[derive(Debug)]
pub struct CollectionPlan {
    properties_sql: String,
    page_columns: String,
    from: String,
    time_column: Option<(String, FieldType)>,
    /// The column ending a feature's time interval (quoted) and whether the end is excluded.
    time_end: Option<(String, bool)>,
    /// Whether its tile statements draw the features in force at an instant (`$4`).
    tile_in_force: bool,
    geometry_column: Option<String>,
    /// The properties a request may filter, sort and select by (masked ones may not).
    property_kinds: Vec<(&'static str, FieldType)>,
    /// Where its rows lie, for area scopes (`None`: not tied to an area).
    area: Option<AreaDecl>,
    /// The statements for one feature by id, by output shape, scope and instant (see
    /// [`Self::item_sql_in`]).
    item_sqls: Vec<String>,
    /// The versions of its table, when it keeps a history.
    versions: Option<history::Versions>,
    /// The tile statements as of an instant (`$4`), full and ids only, and the same with an area
    /// scope (`$5`); drawn feature by feature at every zoom. `None` without geometry or history.
    tile_sql_as_of: Option<[[Arc<str>; 2]; 2]>,
    /// The statement for the table's data version (no parameter).
    version_sql: Arc<str>,
    /// The statement for one Mapbox Vector Tile of the collection drawn feature by feature
    /// (`$1` z, `$2` x, `$3` y as integers), or `None` without geometry. One layer named after
    /// the collection; extent 4096, buffer 64 units; list properties are joined with `+` (MVT
    /// values are scalars).
    tile_sql: Option<Arc<str>>,
    /// The tile statement without properties (features and ids only), for tiles over the size cap.
    tile_sql_ids_only: Option<Arc<str>>,
    /// The tile statements with an area scope (`$4`), full and ids only, drawn feature by
    /// feature at every zoom; `None` without geometry or without an area.
    tile_sql_scoped: Option<[Arc<str>; 2]>,
    /// The statement for a tile of the collection's overview (same parameters), when it has one.
    overview_sql: Option<Arc<str>>,
    /// The lowest zoom drawn feature by feature (below it: the overview, or nothing).
    detail_min_zoom: u8,
    /// The properties its tiles carry.
    pub tile_properties: Vec<Property>,
    /// The statement for the extents changed between two data versions (`$1` exclusive, `$2`
    /// inclusive, bigint).
    changes_sql: Arc<str>,
    cache: Mutex<HashMap<FilterShape, Arc<str>>>,
}

impl CollectionPlan {
    /// Plans a collection. Pure: no database. `properties` are those shown, in order; those
    /// named in `masked` are written through their declared mask and cannot be filtered, sorted,
    /// selected or drawn in tiles.
    pub fn new(decl: &CollectionDecl, properties: &[Property], masked: &[&str]) -> CollectionPlan {
        let geometry_column = decl.dataset.geometry.map(|g| quote_ident(g.column));
        let mut props = String::from("json_build_object(");
        for (i, p) in properties.iter().enumerate() {
            if i > 0 {
                props.push_str(", ");
            }
            let column = quote_ident(p.name);
            let value = match decl.access.mask_of(p.name).filter(|_| masked.contains(&p.name)) {
                Some(mask) => area::masked(&column, mask),
                None => column,
            };
            let _ = write!(props, "'{}', {value}", p.name.replace('\'', "''"));
        }
        let unmasked: Vec<Property> = properties.iter().filter(|p| !masked.contains(&p.name)).copied().collect();
        props.push_str(")::text");
        let list = |crs: CrsShape| select_list(geometry_column.as_deref(), &props, crs);
        let page_columns = std::iter::once("id".to_owned())
            .chain(geometry_column.iter().cloned())
            .chain(properties.iter().map(|p| quote_ident(p.name)))
            .collect::<Vec<_>>()
            .join(", ");
        let from = table_name(decl.dataset);
        let time_column = decl.datetime.zip(decl.datetime_kind()).map(|(c, k)| (quote_ident(c), k));
        let time_end = decl.datetime_end.map(|end| (quote_ident(end.column), end.exclusive));
        let area = decl.access.area;
        let versions = history::Versions::new(decl, properties);
        // A versioned feature's statement also reads its version, when it began and ended, whether
        // it was retired then, and when the version before it began (for its links).
        let version_list = versions.as_ref().map(|v| format!(", {}", v.predecessor_from()));
        let mut item_sqls = Vec::with_capacity(16);
        for as_of in [false, true] {
            for scoped in [false, true] {
                for (transform, flip) in [(false, false), (false, true), (true, false), (true, true)] {
                    let crs = CrsShape { transform, flip, bbox_polygon: false };
                    let id = crs.leading_parameters() + 1;
                    let (source, row, next) = match (&versions, as_of) {
                        (Some(v), true) => (v.at(id + 1), v.alias.clone(), id + 2),
                        _ => (from.clone(), from.clone(), id + 1),
                    };
                    let scope = match (scoped, &area) {
                        (true, Some(area)) => format!(" AND {}", area::condition(&row, area, next)),
                        _ => String::new(),
                    };
                    let extra = match (&version_list, as_of) {
                        (Some(pred), true) => format!(", version, version_from, version_to, retired{pred}"),
                        (Some(pred), false) => {
                            format!(", version, version_from, NULL::timestamptz AS version_to, false AS retired{pred}")
                        }
                        (None, _) => String::new(),
                    };
                    item_sqls.push(format!("SELECT {}{extra} FROM {source} WHERE id = ${id}{scope}", list(crs)));
                }
            }
        }
        let version_sql = version_sql(decl.dataset);
        let tile_properties: Vec<Property> = match decl.tiles.properties {
            Some(names) => unmasked.iter().filter(|p| names.contains(&p.name)).copied().collect(),
            None => unmasked.clone(),
        };
        // A collection whose features span an interval draws those in force at an instant
        // (`$4`, see [`TileRequest::as_of`]); a versioned one draws versions instead.
        let in_force = match (&time_column, &time_end, &versions) {
            (Some((start, kind)), Some((end, exclusive)), None) => {
                let at = format!("$4::timestamptz::{}", cast_of(*kind));
                Some(format!("{start} <= {at} AND {}", not_ended(end, *exclusive, &at)))
            }
            _ => None,
        };
        let tile_statement = |properties: &[Property]| {
            decl.dataset.geometry.map(|g| {
                let sql = tile_sql(decl.id, &from, &g, properties, decl.tiles.low_zoom);
                match &in_force {
                    Some(condition) => with_tile_condition(&sql, condition),
                    None => sql,
                }
            })
        };
        let tile_sql_ids_only: Option<Arc<str>> = tile_statement(&[]).map(Arc::from);
        let tile_sql: Option<Arc<str>> = tile_statement(&tile_properties).map(Arc::from);
        let tile_sql_scoped = match (&tile_sql, &tile_sql_ids_only, &area) {
            (Some(full), Some(lean), Some(area)) => {
                let condition = area::condition(&from, area, 4 + usize::from(in_force.is_some()));
                Some([full, lean].map(|base| with_tile_condition(base, &condition).into()))
            }
            _ => None,
        };
        let tile_sql_as_of = match (&versions, decl.dataset.geometry) {
            (Some(v), Some(g)) => {
                let [full, lean] =
                    [&tile_properties[..], &[]].map(|p| self::tile_sql(decl.id, &v.at(4), &g, p, decl.tiles.low_zoom));
                let scoped = |base: &str| match &area {
                    Some(area) => with_tile_condition(base, &area::condition(&v.alias, area, 5)),
                    None => base.to_owned(),
                };
                let scoped = [scoped(&full), scoped(&lean)].map(Arc::from);
                Some([[Arc::from(full), Arc::from(lean)], scoped])
            }
            _ => None,
        };
        let overview_sql = decl.tiles.overview.as_ref().map(|o| overview_sql(decl.id, o).into());
        let changes_sql = format!(
            "SELECT version, ST_XMin(extent), ST_YMin(extent), ST_XMax(extent), ST_YMax(extent) FROM meta.changed_extents \
             WHERE schema_name = '{}' AND table_name = '{}' AND version > $1 AND version <= $2 ORDER BY version",
            decl.dataset.schema.replace('\'', "''"),
            decl.dataset.table.replace('\'', "''")
        );
        CollectionPlan {
            tile_sql,
            overview_sql,
            tile_sql_ids_only,
            tile_sql_scoped,
            detail_min_zoom: decl.tiles.detail_min_zoom,
            tile_properties,
            changes_sql: changes_sql.into(),
            properties_sql: props,
            page_columns,
            from,
            time_column,
            time_end,
            geometry_column,
            property_kinds: unmasked.iter().map(|p| (p.name, p.kind)).collect(),
            area,
            item_sqls,
            versions,
            tile_sql_as_of,
            tile_in_force: in_force.is_some(),
            version_sql: version_sql.into(),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The statement for one feature with an output CRS shape (its bbox part is ignored):
    /// the rule SRID first when transforming (`$1` integer), then the id (bigint), then the
    /// instant (`timestamptz`) when `as_of` and the collection keeps a history, then the area
    /// scope (`text[]`) when `scoped` and the collection has an area.
    fn item_sql_in(&self, crs: CrsShape, scoped: bool, as_of: bool) -> &str {
        let as_of = as_of && self.versions.is_some();
        let index =
            usize::from(as_of) * 8 + usize::from(scoped) * 4 + usize::from(crs.transform) * 2 + usize::from(crs.flip);
        &self.item_sqls[index]
    }

    /// Whether its features span an interval, so that tiles draw those in force at an instant
    /// (by default now).
    pub fn draws_in_force(&self) -> bool {
        self.tile_in_force
    }

    /// Whether the collection keeps a history of its features (then `datetime` selects versions).
    pub fn is_versioned(&self) -> bool {
        self.versions.is_some()
    }

    /// Whether an area scope is a condition on this collection (it declares where its rows lie).
    pub fn is_area_bound(&self) -> bool {
        self.area.is_some()
    }

    /// The items statement for a filter shape. Parameters, in order: the CRS part's leading
    /// values (see [`crate::reproject`]), the bbox envelopes (4 each:
    /// min lon, min lat, max lon, max lat), the time bounds (as text, cast to the column's
    /// type after validation), the property values (as text, likewise), the cursor (bigint), the row limit (bigint).
    fn items_sql(&self, shape: &FilterShape) -> Arc<str> {
        let mut cache = self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(sql) = cache.get(shape) {
            return Arc::clone(sql);
        }
        let sql: Arc<str> = self.build(shape).into();
        cache.insert(shape.clone(), Arc::clone(&sql));
        sql
    }

    fn build(&self, shape: &FilterShape) -> String {
        let mut n = 0;
        let (from, mut conditions) = self.shape_conditions(shape, &mut n);
        let mut next = || {
            n += 1;
            n
        };
        if shape.cursor {
            conditions.push(format!("id > ${}::bigint", next()));
        }
        let filter = if conditions.is_empty() { String::new() } else { format!(" WHERE {}", conditions.join(" AND ")) };
        // The page is cut in a subquery of raw columns and serialised outside it: otherwise
        // PostgreSQL evaluates json_build_object (costed as cheap) for every matching row before
        // the sort, not only for the rows of the page.
        format!(
            "SELECT {} FROM (SELECT {} FROM {}{filter} ORDER BY id LIMIT ${}::bigint) AS page ORDER BY id",
            select_list(self.geometry_column.as_deref(), &self.properties_sql, shape.crs),
            self.page_columns,
            from,
            next()
        )
    }
}

/// The statement of a table's data version (no parameter).
fn version_sql(dataset: &geosector_domain::Dataset) -> String {
    format!(
        "SELECT version FROM meta.table_versions WHERE schema_name = '{}' AND table_name = '{}'",
        dataset.schema.replace('\'', "''"),
        dataset.table.replace('\'', "''")
    )
}

/// The statement of a dataset's data version, without planning its collection (the registry
/// reads it before it plans).
pub fn version_of(dataset: &geosector_domain::Dataset) -> Statement {
    Statement::reusable(version_sql(dataset).into(), Vec::new())
}

/// A tile statement with one more condition on its candidates.
fn with_tile_condition(base: &str, condition: &str) -> String {
    base.replacen(query::TILE_WHERE, &format!("{}{condition} AND ", query::TILE_WHERE), 1)
}

/// The select list of features: id, GeoJSON geometry in the shape's CRS (NULL without a
/// geometry column), properties as JSON text.
fn select_list(geometry_column: Option<&str>, properties: &str, crs: CrsShape) -> String {
    let geometry = geometry_column.map_or("NULL::text".to_owned(), |g| crs.geometry_json(g));
    format!("id, {geometry}, {properties}")
}

/// The tile statement of a layer drawn feature by feature (`$1` z, `$2` x, `$3` y).
///
/// Cheaper than the usual `ST_AsMVTGeom(ST_Transform(geom, 3857), ...)` for every feature:
/// - candidates come from the lon/lat GiST index with the tile's box (buffer included) computed
///   by the inverse Mercator formulas, so no PROJ call at all;
/// - geometries are read already in Web Mercator with clockwise rings (`geom_3857`, migration
///   0008), and a feature whose box lies within two buffer widths of the tile (128 of 4096
///   units) is only scaled into tile coordinates and snapped to the integer grid — the y flip
///   turns its rings the way MVT wants. MVT coordinates may extend beyond the extent and
///   renderers clip at the tile's edge, so such a feature needs no clipping; only larger ones
///   reaching further out go through `ST_AsMVTGeom`'s clipping (measured on z14 parcel tiles:
///   clipping the third of the features that touch the tile's edge or buffer was a third of the
///   tile's cost);
/// - polygons and lines smaller than a pixel (of a 256-pixel tile) are left out, and below zoom
///   12 simplified to half a pixel first.
fn tile_sql(
    layer: &str,
    from: &str,
    geometry: &GeometrySpec,
    properties: &[Property],
    low_zoom: Option<LowZoom>,
) -> String {
    let (kind, geom) = (geometry.kind, quote_ident(geometry.column));
    // Migration 0008 keeps the Web Mercator twin of each geometry column next to it.
    let mercator = quote_ident(&format!("{}_3857", geometry.column));
    let mut raw = String::new();
    let mut columns = String::new();
    for p in properties {
        let column = quote_ident(p.name);
        let _ = write!(raw, ", {column}");
        let _ = write!(columns, ", {} AS {column}", tile_value(&column, p.kind));
    }
    let (subpixel, simplified) = if kind == GeometryKind::Point {
        (String::new(), mercator.clone())
    } else {
        (
            format!(
                " AND (ST_XMax({mercator}) - ST_XMin({mercator}) >= tile.pixel OR ST_YMax({mercator}) - ST_YMin({mercator}) >= tile.pixel)"
            ),
            match low_zoom {
                Some(low) => format!(
                    "CASE WHEN $1::integer < {below} THEN ST_Simplify({low}, tile.pixel / 2, true) \
                     WHEN $1::integer < 12 THEN ST_Simplify({mercator}, tile.pixel / 2, true) ELSE {mercator} END",
                    below = low.below_zoom,
                    low = quote_ident(low.column)
                ),
                None => format!(
                    "CASE WHEN $1::integer < 12 THEN ST_Simplify({mercator}, tile.pixel / 2, true) ELSE {mercator} END"
                ),
            },
        )
    };
    format!(
        "WITH tile AS ( \
           SELECT e AS envelope, ST_Expand(e, 2 * m) AS loose, 4096 / w AS scale, ST_XMin(e) AS x0, ST_YMax(e) AS y1, w / 256 AS pixel, \
                  ST_MakeEnvelope(degrees((ST_XMin(e) - m) / {R}), degrees(atan(sinh((ST_YMin(e) - m) / {R}))), \
                                  degrees((ST_XMax(e) + m) / {R}), degrees(atan(sinh((ST_YMax(e) + m) / {R}))), 4326) AS search \
           FROM (SELECT e, ST_XMax(e) - ST_XMin(e) AS w, (ST_XMax(e) - ST_XMin(e)) * 64 / 4096 AS m \
                 FROM (SELECT ST_TileEnvelope($1::integer, $2::integer, $3::integer) AS e) AS t) AS s) \
         SELECT ST_AsMVT(features, '{layer}', 4096, 'mvt_geometry', 'id') FROM ( \
           SELECT id, CASE WHEN g @ tile.loose \
                           THEN ST_SnapToGrid(ST_Affine(g, tile.scale, 0, 0, -tile.scale, -tile.x0 * tile.scale, tile.y1 * tile.scale), 1) \
                           ELSE ST_AsMVTGeom(g, tile.envelope, 4096, 64, true) END AS mvt_geometry{columns} \
           FROM (SELECT id, {simplified} AS g{raw} FROM {from}, tile WHERE {geom} && tile.search{subpixel}) AS candidates, tile \
         ) AS features WHERE mvt_geometry IS NOT NULL AND NOT ST_IsEmpty(mvt_geometry)",
        R = format!("{:.1}", geosector_crs::web_mercator::RADIUS),
        layer = layer.replace('\'', "''")
    )
}

/// The tile statement of an overview (`$1` z, `$2` x, `$3` y): the cells of the tile, as squares
/// built in tile coordinates (cells never cross a tile edge), rings counter-clockwise in those
/// y-down coordinates as MVT wants.
fn overview_sql(layer: &str, overview: &Overview) -> String {
    let size = 4096 / Overview::CELLS_PER_TILE;
    let n = Overview::CELLS_PER_TILE;
    let mut columns = String::new();
    for (name, kind) in overview.properties() {
        let column = quote_ident(name);
        let _ = write!(columns, ", {} AS {column}", tile_value(&column, kind));
    }
    let [zoom, x, y] = [Overview::ZOOM_COLUMN, Overview::X_COLUMN, Overview::Y_COLUMN].map(quote_ident);
    format!(
        "SELECT ST_AsMVT(cells, '{layer}', 4096, 'mvt_geometry') FROM ( \
           SELECT ST_ForcePolygonCCW(ST_MakeEnvelope(({x} - $2::integer * {n}) * {size}, ({y} - $3::integer * {n}) * {size}, \
                                                     ({x} - $2::integer * {n} + 1) * {size}, ({y} - $3::integer * {n} + 1) * {size})) AS mvt_geometry{columns} \
           FROM {schema}.{table} \
           WHERE {zoom} = $1::integer AND {x} BETWEEN $2::integer * {n} AND $2::integer * {n} + {last} \
             AND {y} BETWEEN $3::integer * {n} AND $3::integer * {n} + {last}) AS cells",
        layer = layer.replace('\'', "''"),
        schema = quote_ident(overview.schema),
        table = quote_ident(overview.table),
        last = n - 1,
    )
}

/// A property as a tile value: MVT values are scalars, so lists are joined with `+`, and dates
/// and JSON become text.
fn tile_value(column: &str, kind: FieldType) -> String {
    match kind {
        FieldType::TextList | FieldType::FloatList => format!("array_to_string({column}, '+')"),
        FieldType::Json | FieldType::Date | FieldType::Timestamp | FieldType::UtcTimestamp => format!("{column}::text"),
        _ => column.to_owned(),
    }
}

/// The condition that an interval ending in column `end` (NULL: open; `exclusive`: the end
/// itself is outside it) has not ended at the value `at` (an expression).
fn not_ended(end: &str, exclusive: bool, at: &str) -> String {
    let after = if exclusive { ">" } else { ">=" };
    format!("({end} IS NULL OR {end} {after} {at})")
}

/// The SQL type a text parameter is cast to for a field type.
fn cast_of(kind: FieldType) -> &'static str {
    match kind {
        FieldType::Text | FieldType::Code { .. } => "text",
        FieldType::Integer => "integer",
        FieldType::Float => "float8",
        FieldType::Date => "date",
        FieldType::Timestamp | FieldType::UtcTimestamp => "timestamptz",
        FieldType::Boolean => "boolean",
        FieldType::TextList => "text[]",
        FieldType::FloatList => "float8[]",
        FieldType::Json => "jsonb",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geosector_domain::{Dataset, Field, GeometrySpec};

    const DATASET: Dataset = Dataset {
        id: "land.parcels",
        description: "",
        schema: "land",
        table: "parcels",
        fields: &[
            Field::new("commune_code", &["maXa"], FieldType::Code { digits: 5 }, true),
            Field::new("land_use_codes", &["maMucDichSuDung"], FieldType::TextList, true),
            Field::new("survey_date", &["ngayDoDac"], FieldType::Date, false),
        ],
        geometry: Some(GeometrySpec::multipolygon(true)),
        conflict_key: None,
        prepare_sql: None,
        partition: None,
        rules: &[],
        history: None,
    };
    pub(super) const DECL: CollectionDecl = CollectionDecl {
        id: "land.parcels",
        dataset: &DATASET,
        title_vi: "",
        title_en: "",
        description_vi: "",
        description_en: "",
        keywords: &[],
        hidden: &[],
        extra: &[],
        datetime: Some("survey_date"),
        datetime_end: None,
        tiles: geosector_domain::TileDecl::ALL,
        style: None,
        series: None,
        access: geosector_domain::AccessDecl::PUBLIC,
        relations: &[],
    };

    #[test]
    fn tiles_carry_the_declared_properties_and_bind_only_the_tile() {
        const LEAN: CollectionDecl = CollectionDecl {
            tiles: geosector_domain::TileDecl {
                properties: Some(&["land_use_codes"]),
                detail_min_zoom: 14,
                overview: Some(Overview {
                    schema: "land",
                    table: "parcel_cells",
                    finest_zoom: 13,
                    class_column: "main_land_use",
                    count_column: "parcels",
                    area_column: "area_m2",
                    class_field: "land_use_codes",
                    area_fields: &[],
                    kept_rows_sql: "",
                }),
                low_zoom: None,
            },
            ..DECL
        };
        let plan = CollectionPlan::new(&LEAN, &LEAN.properties(), &[]);
        assert_eq!(plan.tile_properties.iter().map(|p| p.name).collect::<Vec<_>>(), ["land_use_codes"]);
        let tile = plan.tile_sql.as_deref().unwrap();
        let overview = plan.overview_sql.as_deref().unwrap();
        for sql in [tile, overview] {
            eprintln!("{sql}");
            let placeholders: std::collections::BTreeSet<&str> =
                sql.match_indices('$').map(|(i, _)| &sql[i..i + 2]).collect();
            assert_eq!(placeholders.into_iter().collect::<Vec<_>>(), ["$1", "$2", "$3"]);
        }
        assert!(tile.contains("array_to_string(\"land_use_codes\", '+') AS \"land_use_codes\""));
        assert!(!tile.contains("survey_date") && !tile.contains("ST_Transform"), "no other property, no PROJ");
        assert!(tile.contains("FROM \"land\".\"parcels\", tile WHERE \"geom\" && tile.search"));
        assert!(
            overview.contains("FROM \"land\".\"parcel_cells\"")
                && overview.contains("\"main_land_use\" AS \"main_land_use\"")
        );
    }

    #[test]
    fn features_spanning_an_interval_are_met_by_the_request_and_tiles_draw_those_in_force() {
        const SPAN: CollectionDecl = CollectionDecl {
            datetime_end: Some(geosector_domain::TimeEnd { column: "survey_date", exclusive: true }),
            tiles: geosector_domain::TileDecl {
                low_zoom: Some(LowZoom { column: "geom_low", below_zoom: 9 }),
                ..geosector_domain::TileDecl::ALL
            },
            ..DECL
        };
        let plan = CollectionPlan::new(&SPAN, &SPAN.properties(), &[]);
        assert!(plan.draws_in_force());
        let shape = FilterShape { time_from: true, time_to: true, ..FilterShape::default() };
        let (_, conditions) = plan.shape_conditions(&shape, &mut 0);
        assert_eq!(
            conditions,
            ["(\"survey_date\" IS NULL OR \"survey_date\" > $1::text::date)", "\"survey_date\" <= $2::text::date"]
        );
        let tile = plan.tile_sql.as_deref().unwrap();
        assert!(tile.contains("\"survey_date\" <= $4::timestamptz::date AND (\"survey_date\" IS NULL OR \"survey_date\" > $4::timestamptz::date)"), "{tile}");
        assert!(
            tile.contains("CASE WHEN $1::integer < 9 THEN ST_Simplify(\"geom_low\", tile.pixel / 2, true)"),
            "{tile}"
        );
        let request = TileRequest { z: 3, x: 1, y: 1, filter: None, scope: None, as_of: None };
        let statement = plan.tile(&request, TileVariant::Full).unwrap();
        assert_eq!(statement.values().len(), 4, "z, x, y and the instant (now)");
        assert!(!CollectionPlan::new(&DECL, &DECL.properties(), &[]).draws_in_force());
    }

    #[test]
    fn every_value_is_a_parameter() {
        let plan = CollectionPlan::new(&DECL, &DECL.properties(), &[]);
        let shape = FilterShape {
            bbox_parts: 2,
            as_of: false,
            time_from: true,
            time_to: false,
            properties: vec!["land_use_codes", "commune_code"],
            cursor: true,
            scope: false,
            crs: CrsShape::default(),
        };
        let sql = plan.items_sql(&shape);
        assert_eq!(
            &*sql,
            "SELECT id, ST_AsGeoJSON(\"geom\", 9), json_build_object('commune_code', \"commune_code\", 'land_use_codes', \"land_use_codes\", 'survey_date', \"survey_date\")::text \
             FROM (SELECT id, \"geom\", \"commune_code\", \"land_use_codes\", \"survey_date\" \
             FROM \"land\".\"parcels\" WHERE (ST_Intersects(\"geom\", ST_MakeEnvelope($1, $2, $3, $4, 4326)) OR ST_Intersects(\"geom\", ST_MakeEnvelope($5, $6, $7, $8, 4326))) \
             AND \"survey_date\" >= $9::text::date AND $10::text = ANY(\"land_use_codes\") AND \"commune_code\" = $11::text::text AND id > $12::bigint ORDER BY id LIMIT $13::bigint) AS page ORDER BY id"
        );
        assert!(Arc::ptr_eq(&sql, &plan.items_sql(&shape)), "built once, then cached");
        let plain = plan.items_sql(&FilterShape::default());
        assert!(
            plain.ends_with("FROM \"land\".\"parcels\" ORDER BY id LIMIT $1::bigint) AS page ORDER BY id"),
            "{plain}"
        );
    }

    #[test]
    fn crs_values_lead_and_the_rest_follow() {
        let plan = CollectionPlan::new(&DECL, &DECL.properties(), &[]);
        let crs = CrsShape { transform: true, flip: false, bbox_polygon: true };
        let sql = plan.items_sql(&FilterShape { cursor: true, crs, ..FilterShape::default() });
        assert!(sql.starts_with("SELECT id, ST_AsGeoJSON(ST_Transform(\"geom\", $1::integer), 9, 0), "), "{sql}");
        assert!(
            sql.contains("WHERE ST_Intersects(\"geom\", ST_GeomFromWKB($2::bytea, 4326)) AND id > $3::bigint ORDER BY id LIMIT $4::bigint"),
            "{sql}"
        );
        let flipped = plan.items_sql(&FilterShape {
            bbox_parts: 1,
            crs: CrsShape { flip: true, ..CrsShape::default() },
            ..FilterShape::default()
        });
        assert!(flipped.starts_with("SELECT id, ST_AsGeoJSON(ST_FlipCoordinates(\"geom\"), 9), "), "{flipped}");
        assert!(flipped.contains("ST_MakeEnvelope($1, $2, $3, $4, 4326)"), "{flipped}");
        assert_eq!(plan.item_sql_in(CrsShape::default(), false, false), plan.item_sqls[0]);
        assert!(
            plan.item_sql_in(crs, false, false).ends_with("WHERE id = $2"),
            "{}",
            plan.item_sql_in(crs, false, false)
        );
        assert!(plan
            .item_sql_in(CrsShape { flip: true, ..CrsShape::default() }, false, false)
            .ends_with("WHERE id = $1"));
    }
}
