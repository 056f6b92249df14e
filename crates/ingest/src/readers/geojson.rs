//! GeoJSON readers: a FeatureCollection streamed feature by feature (the `features` array is
//! never held in memory), a single Feature, and newline-delimited GeoJSON (GeoJSONSeq, RFC 8142).
//!
//! A legacy `crs` member (`{"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::5897"}}`,
//! as GDAL writes for non-WGS 84 data) declares the source CRS; it must come before `features`.
//! Without it, RFC 7946 says the coordinates are WGS 84 lon/lat.

use std::fmt;
use std::io::{BufRead, BufReader};
use std::path::Path;

use geo_types::{Coord, Geometry, LineString, Polygon};
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::error::{ImportError, Location};
use crate::source::{FeatureSink, Flow, RawBody, RawFeature, SourceInfo};

/// Reads a GeoJSON document (FeatureCollection or Feature), streaming the features.
///
/// # Errors
/// [`ImportError::Malformed`] with the line and column for invalid JSON or a document that is
/// not a FeatureCollection or Feature; errors from the sink.
pub fn read_collection(path: &Path, sink: &mut dyn FeatureSink) -> Result<(), ImportError> {
    let file = super::files::open_text(path)?;
    let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(1 << 16, file));
    let mut state =
        State { path, file: path.into(), sink, index: 0, crs: None, began: false, stopped: false, error: None };
    let outcome = (&mut de).deserialize_any(DocumentVisitor { state: &mut state });
    if let Some(err) = state.error.take() {
        return Err(err);
    }
    let malformed = |reason: String| ImportError::Malformed { path: path.to_owned(), reason };
    match outcome {
        Err(e) => Err(malformed(describe(&e))),
        Ok(Document::Feature(feature)) => {
            state.begin()?;
            state.emit(Value::Object(feature))?;
            Ok(())
        }
        Ok(Document::Collection { saw_features }) => {
            if !state.stopped {
                de.end().map_err(|e| malformed(describe(&e)))?;
            }
            if !saw_features {
                return Err(malformed("FeatureCollection has no \"features\" array".into()));
            }
            Ok(())
        }
        Ok(Document::Other(kind)) => {
            Err(malformed(format!("expected a GeoJSON FeatureCollection or Feature, found {kind}")))
        }
    }
}

/// Reads newline-delimited GeoJSON: one Feature per line; blank lines and RFC 8142 record
/// separators are skipped.
///
/// # Errors
/// [`ImportError::Malformed`] naming the line for a line that is not JSON; errors from the sink.
pub fn read_seq(path: &Path, sink: &mut dyn FeatureSink) -> Result<(), ImportError> {
    let mut reader = BufReader::with_capacity(1 << 16, super::files::open(path)?);
    sink.begin(&SourceInfo { declared_crs: None, has_geometry: true, encoding: None })?;
    let file: std::sync::Arc<Path> = path.into();
    let mut index = 0;
    let mut line = String::new();
    for n in 0u64.. {
        line.clear();
        let read = reader
            .read_line(&mut line)
            .map_err(|e| ImportError::File { path: path.to_owned(), reason: super::files::io_reason(&e) })?;
        if read == 0 {
            break;
        }
        let text = line.trim_start_matches('\u{1e}').trim();
        if text.is_empty() {
            continue;
        }
        let body = decode_feature(text).map_err(|e| ImportError::Malformed {
            path: path.to_owned(),
            reason: format!("line {}: invalid JSON: {e}", n + 1),
        })?;
        let feature = RawFeature { location: Location { file: file.clone(), index, is_line: false }, body };
        index += 1;
        if sink.feature(feature)? == Flow::Stop {
            break;
        }
    }
    Ok(())
}

/// One feature's JSON text (a GeoJSONSeq line, a feature of a harvested page) as a feature
/// body: through the fast path ([`fast_feature`]) when it fits, else as a JSON tree that the
/// row pipeline checks and reports like any feature.
///
/// # Errors
/// When the text is not JSON.
pub(crate) fn decode_feature(text: &str) -> Result<RawBody, serde_json::Error> {
    Ok(match fast_feature(text) {
        Some((properties, geometry)) => RawBody::Decoded { properties: properties.into(), geometry },
        None => RawBody::GeoJson(serde_json::from_str(text)?),
    })
}

/// The fast path of a GeoJSONSeq line: a `Feature` whose geometry is null or a Polygon or
/// MultiPolygon (its `type` before its `coordinates`) that [`crate::geometry::from_geojson`]
/// accepts, read straight into geo types without building a JSON tree of the coordinates.
/// `None` for anything else, valid or not (an unexpected member, a duplicate one, an escaped key,
/// a ring that is open or too short, a non-numeric Z, …): the general path then reads the line
/// and checks and reports it exactly as for any feature.
fn fast_feature(text: &str) -> Option<Split> {
    let mut de = serde_json::Deserializer::from_str(text);
    let feature = de.deserialize_map(FastFeature).ok()?;
    de.end().ok()?;
    Some(feature)
}

/// Any departure from the fast path's shape (see [`fast_feature`]).
fn not_fast<E: serde::de::Error>() -> E {
    E::custom("not on the fast path")
}

/// A feature's properties and geometry.
type Split = (Map<String, Value>, Option<Geometry<f64>>);

struct FastFeature;

impl<'de> Visitor<'de> for FastFeature {
    type Value = Split;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a GeoJSON Feature")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut kind, mut properties, mut geometry) = (None, None, None);
        while let Some(key) = map.next_key::<&str>()? {
            match key {
                "type" if kind.is_none() => kind = Some(map.next_value::<&str>()?),
                "properties" if properties.is_none() => {
                    properties = Some(map.next_value::<Option<Map<String, Value>>>()?.unwrap_or_default());
                }
                "geometry" if geometry.is_none() => geometry = Some(map.next_value_seed(FastGeometry)?),
                "type" | "properties" | "geometry" => return Err(not_fast()),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        match (kind, geometry) {
            (Some("Feature"), Some(geometry)) => Ok((properties.unwrap_or_default(), geometry)),
            _ => Err(not_fast()),
        }
    }
}

/// A geometry member: null, or a Polygon or MultiPolygon object.
struct FastGeometry;

impl<'de> DeserializeSeed<'de> for FastGeometry {
    type Value = Option<Geometry<f64>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FastGeometry {
    type Value = Option<Geometry<f64>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Polygon or MultiPolygon or null")
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        if map.next_key::<&str>()? != Some("type") {
            return Err(not_fast());
        }
        let multi = match map.next_value::<&str>()? {
            "Polygon" => false,
            "MultiPolygon" => true,
            _ => return Err(not_fast()),
        };
        let mut geometry = None;
        while let Some(key) = map.next_key::<&str>()? {
            match key {
                "coordinates" if geometry.is_none() => {
                    geometry = Some(if multi {
                        let polygons: Vec<FastPolygon> = map.next_value()?;
                        Geometry::MultiPolygon(geo_types::MultiPolygon(polygons.into_iter().map(|p| p.0).collect()))
                    } else {
                        Geometry::Polygon(map.next_value::<FastPolygon>()?.0)
                    });
                }
                "coordinates" | "type" => return Err(not_fast()),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        geometry.map(Some).ok_or_else(not_fast)
    }
}

/// A polygon's rings as `from_geojson` accepts them: at least one ring, each closed and of at
/// least four positions.
struct FastPolygon(Polygon<f64>);

impl<'de> serde::Deserialize<'de> for FastPolygon {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let rings: Vec<Vec<FastPosition>> = serde::Deserialize::deserialize(deserializer)?;
        let mut rings = rings.into_iter().map(|r| LineString(r.into_iter().map(|p| p.0).collect()));
        let exterior = rings.next().ok_or_else(not_fast)?;
        let interiors: Vec<LineString<f64>> = rings.collect();
        let closed = |r: &LineString<f64>| r.0.len() >= 4 && r.0.first() == r.0.last();
        if !closed(&exterior) || !interiors.iter().all(closed) {
            return Err(not_fast());
        }
        Ok(FastPolygon(Polygon::new(exterior, interiors)))
    }
}

/// A position of two or three numbers (the third dropped).
struct FastPosition(Coord<f64>);

impl<'de> serde::Deserialize<'de> for FastPosition {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(FastPositionVisitor)
    }
}

struct FastPositionVisitor;

impl<'de> Visitor<'de> for FastPositionVisitor {
    type Value = FastPosition;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a position")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FastPosition, A::Error> {
        let x: f64 = seq.next_element()?.ok_or_else(not_fast)?;
        let y: f64 = seq.next_element()?.ok_or_else(not_fast)?;
        if seq.next_element::<f64>()?.is_some() && seq.next_element::<IgnoredAny>()?.is_some() {
            return Err(not_fast());
        }
        Ok(FastPosition(Coord { x, y }))
    }
}

fn describe(e: &serde_json::Error) -> String {
    match e.classify() {
        serde_json::error::Category::Io => format!("cannot read: {e}"),
        serde_json::error::Category::Eof => {
            format!("unexpected end of file (truncated JSON?) at line {} column {}", e.line(), e.column())
        }
        _ => format!("invalid GeoJSON: {e}"),
    }
}

struct State<'a> {
    path: &'a Path,
    /// The path as the features' locations share it.
    file: std::sync::Arc<Path>,
    sink: &'a mut dyn FeatureSink,
    index: u64,
    crs: Option<Value>,
    began: bool,
    stopped: bool,
    /// An error from the sink, carried out of serde (which only knows its own error type).
    error: Option<ImportError>,
}

impl State<'_> {
    fn begin(&mut self) -> Result<(), ImportError> {
        if self.began {
            return Ok(());
        }
        self.began = true;
        let declared_crs = match &self.crs {
            None => None,
            Some(crs) => {
                let name =
                    crs.pointer("/properties/name").and_then(Value::as_str).ok_or_else(|| ImportError::Malformed {
                        path: self.path.to_owned(),
                        reason: format!("crs member without properties.name: {crs}"),
                    })?;
                Some(name.to_owned())
            }
        };
        self.sink.begin(&SourceInfo { declared_crs, has_geometry: true, encoding: None })
    }

    fn emit(&mut self, value: Value) -> Result<Flow, ImportError> {
        let feature = RawFeature {
            location: Location { file: self.file.clone(), index: self.index, is_line: false },
            body: RawBody::GeoJson(value),
        };
        self.index += 1;
        let flow = self.sink.feature(feature)?;
        if flow == Flow::Stop {
            self.stopped = true;
        }
        Ok(flow)
    }
}

enum Document {
    Collection { saw_features: bool },
    Feature(Map<String, Value>),
    Other(String),
}

struct DocumentVisitor<'s, 'a> {
    state: &'s mut State<'a>,
}

impl<'de> Visitor<'de> for DocumentVisitor<'_, '_> {
    type Value = Document;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a GeoJSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Document, A::Error> {
        let mut kind: Option<String> = None;
        let mut others = Map::new();
        let mut saw_features = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "features" => {
                    if let Err(e) = self.state.begin() {
                        self.state.error = Some(e);
                        return Err(serde::de::Error::custom("stopped"));
                    }
                    saw_features = true;
                    map.next_value_seed(FeaturesSeed { state: self.state })?;
                    if self.state.stopped {
                        return Ok(Document::Collection { saw_features });
                    }
                }
                "crs" => {
                    let crs: Value = map.next_value()?;
                    if saw_features {
                        self.state.error = Some(ImportError::Malformed {
                            path: self.state.path.to_owned(),
                            reason: "the crs member comes after the features; move it first or pass --crs".into(),
                        });
                        return Err(serde::de::Error::custom("stopped"));
                    }
                    self.state.crs = Some(crs);
                }
                "type" => kind = Some(map.next_value()?),
                _ if saw_features => {
                    map.next_value::<IgnoredAny>()?;
                }
                _ => {
                    let value: Value = map.next_value()?;
                    others.insert(key, value);
                }
            }
        }
        match kind.as_deref() {
            Some("FeatureCollection") => Ok(Document::Collection { saw_features }),
            Some("Feature") if !saw_features => {
                others.insert("type".into(), Value::String("Feature".into()));
                Ok(Document::Feature(others))
            }
            Some(other) => Ok(Document::Other(format!("an object of type \"{other}\""))),
            None => Ok(Document::Other("an object without \"type\"".into())),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Document, A::Error> {
        Ok(Document::Other("an array".into()))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Document, E> {
        Ok(Document::Other("a boolean".into()))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Document, E> {
        Ok(Document::Other("a number".into()))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Document, E> {
        Ok(Document::Other("a number".into()))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Document, E> {
        Ok(Document::Other("a number".into()))
    }
    fn visit_str<E>(self, _: &str) -> Result<Document, E> {
        Ok(Document::Other("a string".into()))
    }
    fn visit_unit<E>(self) -> Result<Document, E> {
        Ok(Document::Other("null".into()))
    }
}

struct FeaturesSeed<'s, 'a> {
    state: &'s mut State<'a>,
}

impl<'de> DeserializeSeed<'de> for FeaturesSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for FeaturesSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of GeoJSON features")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(value) = seq.next_element::<Value>()? {
            match self.state.emit(value) {
                Ok(Flow::Continue) => {}
                Ok(Flow::Stop) => return Ok(()),
                Err(e) => {
                    self.state.error = Some(e);
                    return Err(serde::de::Error::custom("stopped"));
                }
            }
        }
        Ok(())
    }
}

/// Splits a GeoJSON Feature value into properties and geometry value, checking its structure.
///
/// # Errors
/// A sentence: not an object, wrong `type`, properties not an object.
pub fn split_feature(value: Value) -> Result<(Map<String, Value>, Value), String> {
    let Value::Object(mut obj) = value else {
        return Err("a feature must be a JSON object".into());
    };
    match obj.get("type").and_then(Value::as_str) {
        Some("Feature") => {}
        Some(other) => return Err(format!("expected an object of type \"Feature\", got \"{other}\"")),
        None => return Err("feature has no \"type\": \"Feature\"".into()),
    }
    let geometry = obj.remove("geometry").ok_or("feature has no \"geometry\" member (use null for none)")?;
    let properties = match obj.remove("properties") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(p)) => p,
        Some(_) => return Err("\"properties\" must be an object or null".into()),
    };
    Ok((properties, geometry))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the general path makes of a line: properties and geometry, or `None` when it would
    /// report an error.
    fn general(text: &str) -> Option<Split> {
        let value: Value = serde_json::from_str(text).ok()?;
        let (properties, geometry) = split_feature(value).ok()?;
        Some((properties, crate::geometry::from_geojson(&geometry).ok()?))
    }

    #[test]
    fn the_fast_path_reads_what_the_general_path_reads() {
        let square = "[[105,21],[105.001,21],[105.001,21.001],[105,21.001],[105,21]]";
        let lines = [
            format!(
                r#"{{"type":"Feature","properties":{{"a":1,"b":"x","c":[1,2],"a":null}},"geometry":{{"type":"Polygon","coordinates":[{square}]}}}}"#
            ),
            format!(
                r#"{{"geometry":{{"type":"MultiPolygon","bbox":[1,2,3,4],"coordinates":[[{square},{square}]]}},"id":7,"properties":null,"type":"Feature"}}"#
            ),
            r#"{"type":"Feature","geometry":{"type":"MultiPolygon","coordinates":[[[[105,21,3],[106,21,4.5],[106,22,0],[105,21,1]]]]}}"#.to_owned(),
            r#"{"type":"Feature","properties":{"n":-0,"m":1e3,"u":18446744073709551615},"geometry":null}"#.to_owned(),
            r#"{"type":"Feature","geometry":{"type":"MultiPolygon","coordinates":[]}}"#.to_owned(),
        ];
        for line in &lines {
            let fast = fast_feature(line);
            assert!(fast.is_some(), "{line}");
            assert_eq!(fast, general(line), "{line}");
        }
    }

    #[test]
    fn anything_else_is_left_to_the_general_path() {
        let square = "[[105,21],[105.001,21],[105.001,21.001],[105,21.001],[105,21]]";
        let lines = [
            // valid, but not on the fast path
            format!(r#"{{"type":"Feature","geometry":{{"coordinates":[{square}],"type":"Polygon"}}}}"#),
            r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[105,21]}}"#.to_owned(),
            r#"{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[105,21,"z"],[106,21],[106,22],[105,21]]]}}"#.to_owned(),
            format!(
                r#"{{"type":"Feature","properties":{{}},"properties":{{"a":1}},"geometry":{{"type":"Polygon","coordinates":[{square}]}}}}"#
            ),
            format!(
                r#"{{"type":"Feature","geom\u0065try":null,"geometry":{{"type":"Polygon","coordinates":[{square}]}}}}"#
            ),
            // invalid: the general path reports them
            r#"{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[105,21],[106,21],[106,22],[105,22]]]}}"#.to_owned(),
            r#"{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[105,21],[106,21],[105,21]]]}}"#.to_owned(),
            r#"{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[105,21,1,2],[106,21],[106,22],[105,21]]]}}"#.to_owned(),
            r#"{"type":"Feature","geometry":{"type":"Polygon","coordinates":[]}}"#.to_owned(),
            format!(
                r#"{{"type":"Feature","properties":[1],"geometry":{{"type":"Polygon","coordinates":[{square}]}}}}"#
            ),
            format!(r#"{{"type":"Feature","geometry":{{"type":"Polygon","coordinates":[{square}]}}}} x"#),
            format!(r#"{{"type":"Feature","geometry":{{"type":"Polygon","coordinates":[{square}],"type":"Point"}}}}"#),
            r#"{"type":"Feature","geometry":{"type":"Polygon"}}"#.to_owned(),
            format!(r#"{{"type":"feature","geometry":{{"type":"Polygon","coordinates":[{square}]}}}}"#),
            r#"{"type":"Feature","properties":{}}"#.to_owned(),
            r#"{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[1e999,21]]]}}"#.to_owned(),
        ];
        for line in &lines {
            assert_eq!(fast_feature(line), None, "{line}");
        }
    }
}
