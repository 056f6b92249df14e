//! Declarations of importable datasets: the target table, the fields read from source
//! properties, the geometry column, and the tile overview ([`Overview`]) that the importer and
//! the tiles share.

use crate::value::{CellValue, FieldError, FieldType};

/// An importable dataset, declared by a sector crate, e.g. `land.parcels`.
///
/// Invariants (checked by [`Dataset::check`] in each sector crate's tests): column names are
/// unique, every `conflict_key` column is a declared field, and the table exists in the
/// migrations (checked by the integration tests).
#[derive(Debug, Clone, Copy)]
pub struct Dataset {
    /// Public id, `<sector>.<dataset>`, e.g. `land.parcels`.
    pub id: &'static str,
    /// One line in English saying what the dataset holds.
    pub description: &'static str,
    /// PostgreSQL schema of the target table.
    pub schema: &'static str,
    /// Target table name.
    pub table: &'static str,
    /// Fields filled from source properties, in column order.
    pub fields: &'static [Field],
    /// The geometry column, if the dataset has one.
    pub geometry: Option<GeometrySpec>,
    /// When set, rows with the same values in these columns replace existing rows (upsert),
    /// so re-sending the same data is harmless.
    pub conflict_key: Option<&'static [&'static str]>,
    /// SQL run inside the load transaction after staging is filled and before rows move into
    /// the live table (e.g. create time partitions). It may read the temporary table
    /// `geosector_staging`. It is a constant of the crate: no user input ever reaches it.
    pub prepare_sql: Option<&'static str>,
    /// When set, the table is list-partitioned and `--replace` swaps whole partitions.
    pub partition: Option<Partitioning>,
    /// The validation rules of the dataset (see [`crate::rules`]); empty when only the
    /// declaration's own checks (field types, geometry kind, bounds) apply.
    pub rules: &'static [crate::rules::RuleDecl],
    /// When set, the dataset keeps the history of its features (migration 0021's
    /// `meta.version`): every write makes a version, and reloads match features on its key.
    pub history: Option<History>,
}

/// How a dataset's features keep their identity and history (docs/editing.md).
///
/// The table has `version`, `version_from` and `changeset_id`, and `<table>_history` holds the
/// superseded and retired versions; row triggers keep both on every write but a partition swap,
/// which the importer diffs itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct History {
    /// The natural key: the declared fields that name a feature across bulk reloads (a parcel:
    /// commune, sheet and number), so a reload keeps the id of every feature it still holds.
    /// Text, code, integer or date fields (they are matched by their text).
    pub key: &'static [&'static str],
    /// A declared field holding an identifier computed once from the feature's geometry (the
    /// national parcel ID), if the dataset has one.
    pub geohash_id: Option<GeohashId>,
}

/// An identifier that is the GeoHash of a point inside the feature's geometry (in EPSG:4326),
/// computed when the feature is first stored and never again (the national parcel ID of
/// TT 19/2026, docs/data-model.md). A feature arriving with one keeps it (checked by the
/// dataset's rules); one arriving without gets it from the importer or the table's trigger; a
/// reload or an edit keeps the stored one, and it is not part of what makes a new version on a
/// reload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GeohashId {
    /// The declared text field holding it.
    pub column: &'static str,
    /// Its length in GeoHash characters.
    pub length: usize,
}

impl History {
    /// The history table's name, in the dataset's schema.
    pub fn table(dataset: &Dataset) -> String {
        format!("{}_history", dataset.table)
    }
}

/// How a list-partitioned table is loaded: the importer fills the partition key from the rows,
/// and a replacing load builds each partition as a new table and swaps it in (migration 0012).
#[derive(Debug, Clone, Copy)]
pub struct Partitioning {
    /// The partition key column (not a declared field: the importer fills it).
    pub column: &'static str,
    /// The declared field holding a commune code; the key is the 2025 province of that commune
    /// in `reference.admin_units`, or [`Partitioning::UNKNOWN`] when it is not there.
    pub commune_field: &'static str,
    /// The overview cells a swap keeps in step (swaps fire no trigger), if the dataset has any:
    /// the same declaration as its collection's tile overview.
    pub cells: Option<Overview>,
    /// The tiles' Web Mercator copy of the geometry (`geom_3857`, clockwise shells): a plain
    /// column that a trigger fills on ordinary writes and the importer writes itself into the
    /// table it swaps in, so PostgreSQL does not reproject a province row by row inside COPY.
    pub tile_geometry_column: Option<&'static str>,
    /// A plain column holding the first element of a text-list field (`main_land_use`, the
    /// first of `land_use_codes`, migration 0016): a trigger fills it on ordinary writes and the
    /// importer writes it itself into the table it swaps in (a stored generated column costs
    /// PostgreSQL a second copy of every row inside COPY).
    pub first_element_column: Option<FirstElement>,
}

/// A column holding the first element of a text-list field (see
/// [`Partitioning::first_element_column`]).
#[derive(Debug, Clone, Copy)]
pub struct FirstElement {
    /// The column.
    pub column: &'static str,
    /// The text-list field (its column name) whose first element it holds.
    pub of: &'static str,
}

/// A dataset's tile overview: a pyramid of square Web Mercator cells, one declaration for the
/// tiles, which draw the cells below the collection's detail zoom, and for the importer, which
/// recomputes the cells of the area a partition swap changed (swaps fire no trigger).
///
/// At the finest zoom each cell holds the class covering the largest area of the rows whose
/// bounding-box centre falls in it (ties: the smallest class), their number and total area;
/// each coarser cell is rolled up from its four sub-cells. Triggers of the sector's migration
/// keep the table in step with ordinary writes, by the same rule.
///
/// The table has the columns [`Overview::ZOOM_COLUMN`] (`smallint`), [`Overview::X_COLUMN`]
/// and [`Overview::Y_COLUMN`] (`integer`, cell indexes counted like tile columns and rows,
/// [`Overview::CELLS_PER_TILE`] per tile side), then the class (`text`), count (`integer`)
/// and area (`float8`) columns named here, which are also the properties tiles carry.
#[derive(Debug, Clone, Copy)]
pub struct Overview {
    /// Schema of the cell table.
    pub schema: &'static str,
    /// Name of the cell table.
    pub table: &'static str,
    /// The finest zoom (the pyramid goes from it down to 0).
    pub finest_zoom: u8,
    /// The cell's class column (`text`), e.g. the main land use.
    pub class_column: &'static str,
    /// The column counting the cell's rows (`integer`).
    pub count_column: &'static str,
    /// The column summing the cell's rows' areas in m² (`float8`).
    pub area_column: &'static str,
    /// The declared field whose first value is a row's class (e.g. the land-use codes).
    pub class_field: &'static str,
    /// Declared fields giving a row's area when it has no computed area, in order of preference.
    pub area_fields: &'static [&'static str],
    /// SQL listing the rows of the partitions kept that may fall in a lon/lat box: `$1..$4` the
    /// box (xmin, ymin, xmax, ymax), `$5` the replaced partition keys (`text[]`); it returns each
    /// row's lon/lat bounding box (four `float8`), class (`text`) and area (`float8`), computed
    /// as the triggers' SQL does. A crate constant.
    pub kept_rows_sql: &'static str,
}

impl Overview {
    /// Cells along one side of a tile: 64, i.e. 4 pixels of a 256-pixel tile.
    pub const CELLS_PER_TILE: u32 = 64;
    /// The zoom column of the cell table.
    pub const ZOOM_COLUMN: &'static str = "zoom";
    /// The column of a cell's x index.
    pub const X_COLUMN: &'static str = "cell_x";
    /// The column of a cell's y index.
    pub const Y_COLUMN: &'static str = "cell_y";

    /// The properties of a cell, as tiles carry them: class, count and area.
    pub const fn properties(&self) -> [(&'static str, FieldType); 3] {
        [
            (self.class_column, FieldType::Text),
            (self.count_column, FieldType::Integer),
            (self.area_column, FieldType::Float),
        ]
    }
}

impl Partitioning {
    /// The key of rows whose province is not known.
    pub const UNKNOWN: &'static str = "00";
}

impl Dataset {
    /// Checks the declaration's internal consistency; sector crates call it in their tests.
    ///
    /// # Errors
    /// A sentence naming the first problem found.
    pub fn check(&self) -> Result<(), String> {
        let mut seen = std::collections::HashSet::new();
        for column in self.columns() {
            if !seen.insert(column) {
                return Err(format!("{}: column {column} declared twice", self.id));
            }
        }
        if let Some(key) = self.conflict_key {
            for column in key {
                if !self.fields.iter().any(|f| f.column == *column) {
                    return Err(format!("{}: conflict key column {column} is not a field", self.id));
                }
            }
        }
        if let Some(history) = self.history {
            if history.key.is_empty() {
                return Err(format!("{}: a history needs a natural key", self.id));
            }
            for column in history.key {
                match self.fields.iter().find(|f| f.column == *column) {
                    None => return Err(format!("{}: natural key column {column} is not a field", self.id)),
                    Some(f)
                        if !matches!(
                            f.kind,
                            FieldType::Text | FieldType::Code { .. } | FieldType::Integer | FieldType::Date
                        ) =>
                    {
                        return Err(format!(
                            "{}: natural key column {column} is not text, code, integer or date",
                            self.id
                        ));
                    }
                    Some(_) => {}
                }
            }
            if let Some(id) = history.geohash_id {
                if !self.fields.iter().any(|f| f.column == id.column && f.kind == FieldType::Text) {
                    return Err(format!("{}: GeoHash id column {} is not a text field", self.id, id.column));
                }
                if self.geometry.is_none() || !(1..=12).contains(&id.length) {
                    return Err(format!("{}: a GeoHash id needs a geometry and 1 to 12 characters", self.id));
                }
            }
        }
        if !self.in_sector_of_schema(self.id) {
            return Err(format!("{}: id must start with its schema's sector {}", self.id, self.schema));
        }
        Ok(())
    }

    /// Whether an id (`<sector>.<name>`, of the dataset or of one of its rules) belongs to the
    /// sector of the dataset's schema: the schema itself (`land`), or the sector's second schema
    /// `<sector>_<suffix>` (`land_restricted`, whose datasets are still `land.parties`, ...).
    pub fn in_sector_of_schema(&self, id: &str) -> bool {
        let Some((sector, _)) = id.split_once('.') else { return false };
        self.schema == sector || self.schema.strip_prefix(sector).is_some_and(|rest| rest.starts_with('_'))
    }

    /// Every column the importer writes, in order: fields, then the geometry's columns.
    pub fn columns(&self) -> Vec<&'static str> {
        let mut columns: Vec<&'static str> = self.fields.iter().map(|f| f.column).collect();
        if let Some(g) = &self.geometry {
            columns.push(g.column);
            columns.extend(g.source_srid_column);
            columns.extend(g.area_column);
        }
        columns
    }

    /// The field whose aliases match a source property name (case-insensitive).
    pub fn field_for_property(&self, property: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.names.iter().any(|n| n.eq_ignore_ascii_case(property)))
    }
}

/// One attribute column filled from a source property.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// Target column (English name).
    pub column: &'static str,
    /// Property names accepted in source files, matched case-insensitively: the English
    /// column name first, then the standard's Vietnamese field names (e.g. `maXa`).
    pub names: &'static [&'static str],
    /// Value type; decides how a source value is parsed.
    pub kind: FieldType,
    /// Whether a feature without this property (or with null) is rejected.
    pub required: bool,
}

impl Field {
    /// A field declaration (a `const fn`, so sector crates can declare datasets as constants).
    pub const fn new(column: &'static str, names: &'static [&'static str], kind: FieldType, required: bool) -> Field {
        Field { column, names, kind, required }
    }

    /// Parses one source value into a cell of this field's type.
    ///
    /// # Errors
    /// [`FieldError`] saying why the value does not fit, or that a required value is missing.
    pub fn parse(&self, value: Option<&serde_json::Value>) -> Result<CellValue, FieldError> {
        let cell = match value {
            None | Some(serde_json::Value::Null) => CellValue::Null,
            Some(v) => self.kind.parse(v)?,
        };
        if self.required && cell.is_null() {
            return Err(FieldError::Missing);
        }
        Ok(cell)
    }
}

/// Geometry kinds a dataset accepts; single geometries are promoted to their multi form when
/// the column is a multi type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeometryKind {
    /// `geometry(Point, 4326)`.
    Point,
    /// `geometry(MultiLineString, 4326)`; LineString is promoted.
    MultiLineString,
    /// `geometry(MultiPolygon, 4326)`; Polygon is promoted.
    MultiPolygon,
}

impl GeometryKind {
    /// The GeoJSON type names accepted for this kind.
    pub fn accepts(self) -> &'static [&'static str] {
        match self {
            GeometryKind::Point => &["Point"],
            GeometryKind::MultiLineString => &["LineString", "MultiLineString"],
            GeometryKind::MultiPolygon => &["Polygon", "MultiPolygon"],
        }
    }
}

/// The geometry column of a dataset.
#[derive(Debug, Clone, Copy)]
pub struct GeometrySpec {
    /// Column name (stored in EPSG:4326, see docs/architecture.md).
    pub column: &'static str,
    /// Accepted geometry kind.
    pub kind: GeometryKind,
    /// Whether every coordinate must lie in Vietnam after reprojection (the import's sanity
    /// check against a wrong CRS or swapped axes). Only test datasets covering the world, such
    /// as the OGC conformance data, turn it off.
    pub in_vietnam: bool,
    /// Whether a feature without geometry is rejected.
    pub required: bool,
    /// Column that records the EPSG code of the source CRS, if any.
    pub source_srid_column: Option<&'static str>,
    /// Column that receives the planar area in m² computed in the source projected CRS
    /// (never on lon/lat), if any.
    pub area_column: Option<&'static str>,
}

impl GeometrySpec {
    /// The usual point column: required `geom`, source CRS in `source_srid`.
    pub const fn point() -> GeometrySpec {
        GeometrySpec {
            column: "geom",
            kind: GeometryKind::Point,
            in_vietnam: true,
            required: true,
            source_srid_column: Some("source_srid"),
            area_column: None,
        }
    }

    /// The usual area column: required `geom`, source CRS in `source_srid`, and the planar
    /// area in `computed_area_m2` when `with_area`.
    pub const fn multipolygon(with_area: bool) -> GeometrySpec {
        GeometrySpec {
            column: "geom",
            kind: GeometryKind::MultiPolygon,
            in_vietnam: true,
            required: true,
            source_srid_column: Some("source_srid"),
            area_column: if with_area { Some("computed_area_m2") } else { None },
        }
    }
}
