//! Queryables and sortables (OGC API - Features Part 3, `/collections/{id}/queryables`): the
//! properties a filter may name, each mapped to its column and type, and their JSON Schema
//! (2020-12) description.
//!
//! They are the collection's published properties plus its geometry, under the geometry
//! column's name (`geom`; `geometry` is accepted as an alias in filters). JSON properties are
//! left out (CQL2 has no operator for them). Sortables are the queryables less the geometry and
//! the lists.

use geosector_domain::{FieldType, GeometryKind, GeometrySpec, Property};
use serde_json::{json, Map, Value};

/// The type of a queryable, as CQL2 sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string (text and codes).
    Text,
    /// A whole number.
    Integer,
    /// A number.
    Float,
    /// A boolean.
    Boolean,
    /// A calendar date.
    Date,
    /// An instant (`timestamptz`).
    Timestamp,
    /// A list of strings.
    TextArray,
    /// A list of numbers.
    FloatArray,
    /// The geometry, of this kind.
    Geometry(GeometryKind),
}

/// One queryable: its name in filters, its SQL column (quoted) and type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queryable {
    /// The name filters use.
    pub name: &'static str,
    /// The quoted column.
    pub column: String,
    /// The type.
    pub kind: Kind,
}

impl Queryable {
    /// Whether `sortby` may name it.
    pub fn sortable(&self) -> bool {
        !matches!(self.kind, Kind::Geometry(_) | Kind::TextArray | Kind::FloatArray)
    }
}

/// A collection's queryables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Queryables {
    list: Vec<Queryable>,
}

/// Quotes an SQL identifier (the names come from declarations, never from requests).
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl Queryables {
    /// The queryables of a collection: its published properties (less JSON ones) and its
    /// geometry.
    pub fn new(properties: &[Property], geometry: Option<&GeometrySpec>) -> Queryables {
        let mut list: Vec<Queryable> = properties
            .iter()
            .filter_map(|p| {
                let kind = match p.kind {
                    FieldType::Text | FieldType::Code { .. } => Kind::Text,
                    FieldType::Integer => Kind::Integer,
                    FieldType::Float => Kind::Float,
                    FieldType::Boolean => Kind::Boolean,
                    FieldType::Date => Kind::Date,
                    FieldType::Timestamp | FieldType::UtcTimestamp => Kind::Timestamp,
                    FieldType::TextList => Kind::TextArray,
                    FieldType::FloatList => Kind::FloatArray,
                    FieldType::Json => return None,
                };
                Some(Queryable { name: p.name, column: quote(p.name), kind })
            })
            .collect();
        if let Some(g) = geometry {
            list.push(Queryable { name: g.column, column: quote(g.column), kind: Kind::Geometry(g.kind) });
        }
        Queryables { list }
    }

    /// Adds a queryable on a column that is not a published property (e.g. the time a
    /// versioned feature's current version began, `version_from`), before the geometry. The
    /// name is the column's and comes from declarations.
    #[must_use]
    pub fn with_column(mut self, name: &'static str, kind: Kind) -> Queryables {
        let at = self.list.iter().position(|q| matches!(q.kind, Kind::Geometry(_))).unwrap_or(self.list.len());
        self.list.insert(at, Queryable { name, column: quote(name), kind });
        self
    }

    /// The queryable a filter names (`geometry` also names the geometry).
    pub fn get(&self, name: &str) -> Option<&Queryable> {
        self.list.iter().find(|q| q.name == name).or_else(|| {
            (name == "geometry").then(|| self.list.iter().find(|q| matches!(q.kind, Kind::Geometry(_)))).flatten()
        })
    }

    /// Every queryable, in declaration order (the geometry last).
    pub fn iter(&self) -> impl Iterator<Item = &Queryable> {
        self.list.iter()
    }

    /// The names, for messages.
    pub fn names(&self) -> String {
        self.list.iter().map(|q| q.name).collect::<Vec<_>>().join(", ")
    }

    /// The sortable names, for messages.
    pub fn sortable_names(&self) -> String {
        self.list.iter().filter(|q| q.sortable()).map(|q| q.name).collect::<Vec<_>>().join(", ")
    }

    /// The JSON Schema (2020-12) of the queryables (or, with `sortables`, of the sortables), as
    /// served at `id` (the resource's URL).
    pub fn schema(&self, id: &str, title: &str, sortables: bool) -> Value {
        let mut properties = Map::new();
        for q in self.list.iter().filter(|q| !sortables || q.sortable()) {
            properties.insert(q.name.to_owned(), schema_of(q));
        }
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": id,
            "type": "object",
            "title": title,
            "properties": properties,
            "additionalProperties": false,
        })
    }
}

fn schema_of(q: &Queryable) -> Value {
    let mut schema = match q.kind {
        Kind::Text => json!({ "type": "string" }),
        Kind::Integer => json!({ "type": "integer" }),
        Kind::Float => json!({ "type": "number" }),
        Kind::Boolean => json!({ "type": "boolean" }),
        Kind::Date => json!({ "type": "string", "format": "date" }),
        Kind::Timestamp => json!({ "type": "string", "format": "date-time" }),
        Kind::TextArray => json!({ "type": "array", "items": { "type": "string" } }),
        Kind::FloatArray => json!({ "type": "array", "items": { "type": "number" } }),
        Kind::Geometry(kind) => {
            let format = match kind {
                GeometryKind::Point => "geometry-point",
                GeometryKind::MultiLineString => "geometry-multilinestring",
                GeometryKind::MultiPolygon => "geometry-multipolygon",
            };
            json!({ "format": format, "x-ogc-role": "primary-geometry" })
        }
    };
    schema["title"] = Value::String(q.name.to_owned());
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_has_types_formats_and_the_geometry() {
        let props = [
            Property { name: "commune_code", kind: FieldType::Code { digits: 5 } },
            Property { name: "legal_area_m2", kind: FieldType::Float },
            Property { name: "land_use_codes", kind: FieldType::TextList },
            Property { name: "extra", kind: FieldType::Json },
        ];
        let q = Queryables::new(&props, Some(&GeometrySpec::multipolygon(true)));
        assert_eq!(q.get("geometry").unwrap().name, "geom");
        assert!(q.get("extra").is_none(), "JSON properties are not queryable");
        let s = q.schema("http://x/collections/land.parcels/queryables", "Parcels", false);
        assert_eq!(s["$schema"], "https://json-schema.org/draft/2020-12/schema");
        assert_eq!(s["properties"]["geom"]["format"], "geometry-multipolygon");
        assert_eq!(s["properties"]["legal_area_m2"]["type"], "number");
        let sortables = q.schema("http://x/sortables", "Parcels", true);
        assert!(
            sortables["properties"].get("geom").is_none() && sortables["properties"].get("land_use_codes").is_none()
        );
        assert_eq!(q.sortable_names(), "commune_code, legal_area_m2");
    }
}
