//! The seam between readers and the pipeline: readers push [`RawFeature`]s into a
//! [`FeatureSink`].
//!
//! Invariants every reader keeps: `begin` is called once per file and before any feature of that
//! file; features come in file order with increasing `location.index`; when `feature` returns
//! [`Flow::Stop`] the reader returns promptly without reading further.

use std::sync::{Arc, OnceLock};

use geosector_domain::Dataset;
use serde_json::{Map, Value};

use crate::error::{ImportError, Location};

/// What a reader knows about a file before its first feature.
#[derive(Debug, Clone, Default)]
pub struct SourceInfo {
    /// The CRS the file declares, as written (e.g. `urn:ogc:def:crs:EPSG::5897`, `EPSG:5897`),
    /// if it declares one. Resolved by the sink, so `--crs` can override what cannot be read.
    pub declared_crs: Option<String>,
    /// Whether features of this file carry geometry at all (station files do not).
    pub has_geometry: bool,
    /// The text encoding of the attributes and how it was chosen (e.g. `TCVN3 (detected)`), for
    /// formats whose text is not always UTF-8 (Shapefile DBF).
    pub encoding: Option<String>,
}

/// One feature as read, not yet checked.
#[derive(Debug, Clone)]
pub struct RawFeature {
    /// Where it is.
    pub location: Location,
    /// Its content.
    pub body: RawBody,
}

/// A feature's content as the reader found it; checking happens in the parallel pipeline.
#[derive(Debug, Clone)]
pub enum RawBody {
    /// A GeoJSON `Feature` object, unchecked.
    GeoJson(Value),
    /// Properties and geometry already decoded by the reader (binary formats, and the
    /// GeoJSONSeq lines that take its fast path).
    Decoded {
        /// Properties by name.
        properties: Properties,
        /// Geometry, if any.
        geometry: Option<geo_types::Geometry<f64>>,
    },
    /// The reader could not make a feature of this record (e.g. a station-file line with the
    /// wrong number of columns); the reason is reported as this feature's error.
    Unreadable(String),
    /// The reader found one field of this record wrong (e.g. a station-file line whose time is
    /// not the file's); reported as this feature's error on that field.
    Invalid {
        /// The field.
        field: String,
        /// Why.
        reason: String,
    },
}

/// A feature's properties as a reader decoded them: the same thing as a JSON object (a map
/// from name to value, in the order the names first came), in one of two forms.
#[derive(Debug, Clone)]
pub enum Properties {
    /// Names with each value: for formats whose features name their own properties (GeoJSON,
    /// CSV, GeoPackage, station files).
    Map(Map<String, Value>),
    /// Values by column of a schema the file declares once (FlatGeobuf, DBF): no name is
    /// allocated, hashed or looked up per feature.
    Columns(ColumnValues),
}

impl From<Map<String, Value>> for Properties {
    fn from(map: Map<String, Value>) -> Properties {
        Properties::Map(map)
    }
}

impl Properties {
    /// The properties in order, as (name, value).
    pub fn iter(&self) -> Box<dyn Iterator<Item = (&String, &Value)> + '_> {
        match self {
            Properties::Map(map) => Box::new(map.iter()),
            Properties::Columns(c) => Box::new(c.iter().map(|(slot, v)| (&c.columns.names[slot], v))),
        }
    }

    /// The value of a property.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// How many properties there are.
    pub fn len(&self) -> usize {
        match self {
            Properties::Map(map) => map.len(),
            Properties::Columns(c) => c.values.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values in order.
    pub fn values(&self) -> impl Iterator<Item = &Value> {
        self.iter().map(|(_, v)| v)
    }

    /// The properties as a JSON object.
    pub fn into_map(self) -> Map<String, Value> {
        match self {
            Properties::Map(map) => map,
            Properties::Columns(c) => c.iter().map(|(slot, v)| (c.columns.names[slot].clone(), v.clone())).collect(),
        }
    }
}

impl std::ops::Index<&str> for Properties {
    type Output = Value;

    /// The value of a property; panics when there is none (as for a [`Map`]).
    fn index(&self, name: &str) -> &Value {
        self.get(name).unwrap_or_else(|| panic!("no property {name:?}"))
    }
}

/// The property names of one file's schema, shared by its features. Columns of one name are
/// one property, as in a map: it keeps the place of its first column and the value set last.
#[derive(Debug)]
pub struct Columns {
    /// The distinct names, by slot.
    names: Vec<String>,
    /// The slot of each column.
    slot_of: Vec<usize>,
    /// The dataset field of each slot, for the dataset asked first (see [`Columns::fields`]).
    fields: OnceLock<(&'static Dataset, Vec<Option<usize>>)>,
}

impl Columns {
    /// The schema of columns with these names, in column order.
    pub fn new(names: impl IntoIterator<Item = String>) -> Arc<Columns> {
        let mut distinct: Vec<String> = Vec::new();
        let mut slot_of = Vec::new();
        for name in names {
            let slot = distinct.iter().position(|n| *n == name).unwrap_or_else(|| {
                distinct.push(name);
                distinct.len() - 1
            });
            slot_of.push(slot);
        }
        Arc::new(Columns { names: distinct, slot_of, fields: OnceLock::new() })
    }

    /// An empty set of values of this schema, for one feature.
    pub fn values(self: &Arc<Columns>) -> ColumnValues {
        ColumnValues { columns: Arc::clone(self), values: Vec::with_capacity(self.names.len()), ordered: true }
    }

    /// How many columns the schema has (names may repeat: see [`Columns`]).
    pub fn column_count(&self) -> usize {
        self.slot_of.len()
    }

    /// The name of a slot.
    pub fn name(&self, slot: usize) -> &String {
        &self.names[slot]
    }

    /// The field of `dataset` each slot's name resolves to by `resolve`, worked out once per
    /// file (for the first dataset asked: another one is worked out on each call).
    pub fn fields(
        &self,
        dataset: &'static Dataset,
        resolve: impl Fn(&str) -> Option<usize>,
    ) -> std::borrow::Cow<'_, [Option<usize>]> {
        let compute = || self.names.iter().map(|n| resolve(n)).collect::<Vec<_>>();
        let (cached_for, fields) = self.fields.get_or_init(|| (dataset, compute()));
        if std::ptr::eq(*cached_for, dataset) {
            std::borrow::Cow::Borrowed(fields)
        } else {
            std::borrow::Cow::Owned(compute())
        }
    }
}

/// One feature's values in the columns of a [`Columns`] schema.
#[derive(Debug, Clone)]
pub struct ColumnValues {
    columns: Arc<Columns>,
    /// (slot, value) in the order the slots were first set.
    values: Vec<(usize, Value)>,
    /// Whether the slots so far were set in increasing order (then a new slot is surely new).
    ordered: bool,
}

impl ColumnValues {
    /// Sets the value of column `column` (its index in the schema), as `Map::insert` would by
    /// its name.
    ///
    /// # Panics
    /// When `column` is not a column of the schema.
    pub fn set(&mut self, column: usize, value: Value) {
        let slot = self.columns.slot_of[column];
        match self.values.last() {
            Some((last, _)) if self.ordered && *last < slot => {}
            None => {}
            Some(_) => {
                if let Some(entry) = self.values.iter_mut().find(|(s, _)| *s == slot) {
                    entry.1 = value;
                    return;
                }
                self.ordered = false;
            }
        }
        self.values.push((slot, value));
    }

    /// The schema.
    pub fn columns(&self) -> &Columns {
        &self.columns
    }

    /// (slot, value) in order.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &Value)> {
        self.values.iter().map(|(slot, v)| (*slot, v))
    }
}

/// Whether a reader should go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Read the next feature.
    Continue,
    /// Stop reading (the consumer has gone away or has enough).
    Stop,
}

/// Receives what a reader reads.
pub trait FeatureSink {
    /// Called once per file, before its first feature.
    ///
    /// # Errors
    /// An [`ImportError`] that ends the import (e.g. the declared CRS is unsupported).
    fn begin(&mut self, info: &SourceInfo) -> Result<(), ImportError>;

    /// Called for each feature, in file order.
    ///
    /// # Errors
    /// An [`ImportError`] that ends the import.
    fn feature(&mut self, feature: RawFeature) -> Result<Flow, ImportError>;
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Map, Value};

    use super::*;

    /// Values set column by column read back as the same object as `Map::insert` by name gives,
    /// order included, whatever the order of the columns and however names repeat.
    #[test]
    fn column_values_are_a_map_by_name() {
        let names = ["a", "B", "a", "c", "B", "d"];
        let columns = Columns::new(names.iter().map(|n| (*n).to_owned()));
        let mut next = crate::test_rng::xorshift(0x9e37_79b9_7f4a_7c15);
        for round in 0..2000 {
            let mut map = Map::new();
            let mut values = columns.values();
            for _ in 0..next(9) {
                let column = usize::try_from(next(names.len() as u64)).unwrap();
                let value = if next(4) == 0 { Value::Null } else { json!(round * 10 + column) };
                map.insert(names[column].to_owned(), value.clone());
                values.set(column, value);
            }
            let properties = Properties::Columns(values);
            assert_eq!(properties.len(), map.len());
            let pairs: Vec<_> = properties.iter().map(|(n, v)| (n.clone(), v.clone())).collect();
            let expected: Vec<_> = map.iter().map(|(n, v)| (n.clone(), v.clone())).collect();
            assert_eq!(pairs, expected);
            assert_eq!(properties.into_map(), map);
        }
    }
}
