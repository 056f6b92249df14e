//! Query plans: the SQL of a collection's requests, built from its declaration only.
//!
//! Identifiers come from the declaration (quoted); every value a request carries — bbox,
//! datetime bounds, property filter values, the paging cursor, the limit — is a bound parameter.
//! The statement for each combination of present filters is built once and cached, so a request
//! only binds values. Features are read in `id` order with a keyset cursor (`id > $n`), never a
//! growing OFFSET, and one row more than the limit is read to know whether a next page exists.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use geosector_domain::{CollectionDecl, FieldType, Property};

use crate::{quote_ident, table_name};

/// Which optional filters a request uses; one statement per distinct value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct FilterShape {
    /// A bbox filter: one envelope, or two when it crosses the antimeridian.
    pub bbox_parts: u8,
    /// A lower time bound.
    pub time_from: bool,
    /// An upper time bound.
    pub time_to: bool,
    /// Equality filters on these published properties, in this order.
    pub properties: Vec<&'static str>,
    /// A keyset cursor.
    pub cursor: bool,
}

/// The SQL of one collection.
#[derive(Debug)]
pub struct CollectionPlan {
    select_list: String,
    page_columns: String,
    from: String,
    time_column: Option<(String, FieldType)>,
    geometry_column: Option<String>,
    property_kinds: Vec<(&'static str, FieldType)>,
    /// The statement for one feature by id (`$1` bigint).
    pub item_sql: String,
    /// The statement for the table's data version (no parameter; one `bigint` row, or none
    /// when the table has no version counter).
    pub version_sql: String,
    /// The statement for one Mapbox Vector Tile of the collection (`$1` z, `$2` x, `$3` y as
    /// integers), or `None` without geometry. One layer named after the collection; extent
    /// 4096, buffer 64 pixels; list properties are joined with `+` (MVT values are scalars).
    pub tile_sql: Option<String>,
    /// The statement for the extents changed between two data versions (`$1` exclusive, `$2`
    /// inclusive, bigint): one row per change with its version and bbox (NULLs = everything).
    pub changes_sql: String,
    cache: Mutex<HashMap<FilterShape, Arc<str>>>,
}

impl CollectionPlan {
    /// Plans a collection. Pure: no database.
    pub fn new(decl: &CollectionDecl, properties: &[Property]) -> CollectionPlan {
        let geometry_column = decl.dataset.geometry.map(|g| quote_ident(g.column));
        let geometry = geometry_column.as_ref().map_or("NULL::text".to_owned(), |g| format!("ST_AsGeoJSON({g}, 9)"));
        let mut props = String::from("json_build_object(");
        for (i, p) in properties.iter().enumerate() {
            if i > 0 {
                props.push_str(", ");
            }
            let _ = write!(props, "'{}', {}", p.name.replace('\'', "''"), quote_ident(p.name));
        }
        props.push_str(")::text");
        let select_list = format!("id, {geometry}, {props}");
        let page_columns = std::iter::once("id".to_owned())
            .chain(geometry_column.iter().cloned())
            .chain(properties.iter().map(|p| quote_ident(p.name)))
            .collect::<Vec<_>>()
            .join(", ");
        let from = table_name(decl.dataset);
        let time_column = decl.datetime.zip(decl.datetime_kind()).map(|(c, k)| (quote_ident(c), k));
        let item_sql = format!("SELECT {select_list} FROM {from} WHERE id = $1");
        let version_sql = format!(
            "SELECT version FROM meta.table_versions WHERE schema_name = '{}' AND table_name = '{}'",
            decl.dataset.schema.replace('\'', "''"),
            decl.dataset.table.replace('\'', "''")
        );
        let tile_sql = geometry_column.as_ref().map(|g| tile_sql(decl.id, &from, g, properties));
        let changes_sql = format!(
            "SELECT version, ST_XMin(extent), ST_YMin(extent), ST_XMax(extent), ST_YMax(extent) FROM meta.changed_extents \
             WHERE schema_name = '{}' AND table_name = '{}' AND version > $1 AND version <= $2 ORDER BY version",
            decl.dataset.schema.replace('\'', "''"),
            decl.dataset.table.replace('\'', "''")
        );
        CollectionPlan {
            tile_sql,
            changes_sql,
            select_list,
            page_columns,
            from,
            time_column,
            geometry_column,
            property_kinds: properties.iter().map(|p| (p.name, p.kind)).collect(),
            item_sql,
            version_sql,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The items statement for a filter shape. Parameters, in order: the bbox envelopes (4 each:
    /// min lon, min lat, max lon, max lat), the time bounds (as text, cast to the column's
    /// type after validation), the property values (as text, likewise), the cursor (bigint), the row limit (bigint).
    pub fn items_sql(&self, shape: &FilterShape) -> Arc<str> {
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
        let mut next = || {
            n += 1;
            n
        };
        let mut conditions: Vec<String> = Vec::new();
        if shape.bbox_parts > 0 {
            if let Some(g) = &self.geometry_column {
                let envelopes: Vec<String> = (0..shape.bbox_parts)
                    .map(|_| {
                        let (a, b, c, d) = (next(), next(), next(), next());
                        format!("ST_Intersects({g}, ST_MakeEnvelope(${a}, ${b}, ${c}, ${d}, 4326))")
                    })
                    .collect();
                conditions.push(format!("({})", envelopes.join(" OR ")));
            }
        }
        if let Some((column, kind)) = &self.time_column {
            let cast = cast_of(*kind);
            if shape.time_from {
                conditions.push(format!("{column} >= ${}::text::{cast}", next()));
            }
            if shape.time_to {
                conditions.push(format!("{column} <= ${}::text::{cast}", next()));
            }
        }
        for name in &shape.properties {
            let Some((_, kind)) = self.property_kinds.iter().find(|(p, _)| p == name) else { continue };
            let column = quote_ident(name);
            let i = next();
            conditions.push(match kind {
                FieldType::TextList => format!("${i}::text = ANY({column})"),
                FieldType::FloatList => format!("${i}::text::float8 = ANY({column})"),
                FieldType::Json => format!("{column} = ${i}::text::jsonb"),
                other => format!("{column} = ${i}::text::{}", cast_of(*other)),
            });
        }
        if shape.cursor {
            conditions.push(format!("id > ${}::bigint", next()));
        }
        let filter = if conditions.is_empty() { String::new() } else { format!(" WHERE {}", conditions.join(" AND ")) };
        // The page is cut in a subquery of raw columns and serialised outside it: otherwise
        // PostgreSQL evaluates json_build_object (costed as cheap) for every matching row before
        // the sort, not only for the rows of the page.
        format!(
            "SELECT {} FROM (SELECT {} FROM {}{filter} ORDER BY id LIMIT ${}::bigint) AS page ORDER BY id",
            self.select_list,
            self.page_columns,
            self.from,
            next()
        )
    }
}

/// The tile statement: features whose bbox meets the tile envelope expanded by the buffer,
/// clipped and quantised by `ST_AsMVTGeom`, encoded by `ST_AsMVT`.
fn tile_sql(layer: &str, from: &str, geometry: &str, properties: &[Property]) -> String {
    let mut columns = String::new();
    for p in properties {
        let column = quote_ident(p.name);
        let value = match p.kind {
            FieldType::TextList | FieldType::FloatList => format!("array_to_string({column}, '+')"),
            FieldType::Json => format!("{column}::text"),
            FieldType::Date | FieldType::Timestamp => format!("{column}::text"),
            _ => column.clone(),
        };
        let _ = write!(columns, ", {value} AS {column}");
    }
    format!(
        "WITH tile AS (SELECT ST_TileEnvelope($1::integer, $2::integer, $3::integer) AS envelope) \
         SELECT ST_AsMVT(features, '{layer}', 4096, 'mvt_geometry', 'id') FROM ( \
           SELECT id, ST_AsMVTGeom(ST_Transform({geometry}, 3857), tile.envelope, 4096, 64, true) AS mvt_geometry{columns} \
           FROM {from}, tile \
           WHERE {geometry} && ST_Transform(ST_Expand(tile.envelope, (ST_XMax(tile.envelope) - ST_XMin(tile.envelope)) * 64 / 4096), 4326) \
         ) AS features WHERE mvt_geometry IS NOT NULL",
        layer = layer.replace('\'', "''")
    )
}

/// The SQL type a text parameter is cast to for a field type.
fn cast_of(kind: FieldType) -> &'static str {
    match kind {
        FieldType::Text | FieldType::Code { .. } => "text",
        FieldType::Integer => "integer",
        FieldType::Float => "float8",
        FieldType::Date => "date",
        FieldType::Timestamp => "timestamptz",
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
    };
    const DECL: CollectionDecl = CollectionDecl {
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
    };

    #[test]
    fn every_value_is_a_parameter() {
        let plan = CollectionPlan::new(&DECL, &DECL.properties());
        let shape = FilterShape {
            bbox_parts: 2,
            time_from: true,
            time_to: false,
            properties: vec!["land_use_codes", "commune_code"],
            cursor: true,
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
}
