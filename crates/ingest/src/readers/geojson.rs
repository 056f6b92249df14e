//! GeoJSON readers: a FeatureCollection streamed feature by feature (the `features` array is
//! never held in memory), a single Feature, and newline-delimited GeoJSON (GeoJSONSeq, RFC 8142).
//!
//! A legacy `crs` member (`{"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::5897"}}`,
//! as GDAL writes for non-WGS 84 data) declares the source CRS; it must come before `features`.
//! Without it, RFC 7946 says the coordinates are WGS 84 lon/lat.

use std::fmt;
use std::io::{BufRead, BufReader};
use std::path::Path;

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
    let file = super::open(path)?;
    let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(1 << 16, file));
    let mut state = State { path, sink, index: 0, crs: None, began: false, stopped: false, error: None };
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
    let mut reader = BufReader::with_capacity(1 << 16, super::open(path)?);
    sink.begin(&SourceInfo { declared_crs: None, has_geometry: true, encoding: None })?;
    let mut index = 0;
    let mut line = String::new();
    for n in 0u64.. {
        line.clear();
        let read = reader
            .read_line(&mut line)
            .map_err(|e| ImportError::File { path: path.to_owned(), reason: super::io_reason(&e) })?;
        if read == 0 {
            break;
        }
        let text = line.trim_start_matches('\u{1e}').trim();
        if text.is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(text).map_err(|e| ImportError::Malformed {
            path: path.to_owned(),
            reason: format!("line {}: invalid JSON: {e}", n + 1),
        })?;
        let feature = RawFeature {
            location: Location { file: path.to_owned(), index, is_line: false },
            body: RawBody::GeoJson(value),
        };
        index += 1;
        if sink.feature(feature)? == Flow::Stop {
            break;
        }
    }
    Ok(())
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
            location: Location { file: self.path.to_owned(), index: self.index, is_line: false },
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
