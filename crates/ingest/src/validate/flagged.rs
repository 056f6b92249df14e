//! The GeoJSON of findings (`--flagged findings.geojson`): one Feature per finding, written as
//! findings arrive (nothing is held in memory), so an officer can open the problems in QGIS.
//!
//! Properties: `rule`, `severity` (`rejected` / `flagged` / `repaired`), `message`,
//! `feature_index`, `key`, `file`, `field`, and for pairs `other_index` / `other_file`.
//! Geometry: the feature's geometry in EPSG:4326 when it was built, else the problem's location
//! (a point), else null.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use geo_types::{Coord, Geometry, LineString, Polygon};
use geozero::ToGeo;
use serde_json::{json, Value};

use crate::error::ImportError;
use crate::finding::Finding;

/// A findings file being written.
#[derive(Debug)]
pub struct FlaggedWriter {
    path: PathBuf,
    out: BufWriter<File>,
    count: u64,
}

impl FlaggedWriter {
    /// Creates the file and writes the collection's head.
    ///
    /// # Errors
    /// [`ImportError::File`] naming the file.
    pub fn create(path: &Path) -> Result<FlaggedWriter, ImportError> {
        let file = File::create(path).map_err(|e| io_error(path, &e))?;
        let mut writer = FlaggedWriter { path: path.to_owned(), out: BufWriter::new(file), count: 0 };
        writer
            .out
            .write_all(b"{\"type\":\"FeatureCollection\",\"name\":\"geosector findings\",\"features\":[\n")
            .map_err(|e| io_error(path, &e))?;
        Ok(writer)
    }

    /// Writes one finding; `ewkb` is the feature's geometry in EPSG:4326, if built.
    ///
    /// # Errors
    /// [`ImportError::File`] naming the file.
    pub fn write(&mut self, f: &Finding, ewkb: Option<&[u8]>) -> Result<(), ImportError> {
        let geometry = ewkb
            .and_then(|b| geozero::wkb::Ewkb(b.to_vec()).to_geo().ok())
            .map(|g| to_geojson(&g))
            .or_else(|| f.at.map(|[x, y]| json!({"type": "Point", "coordinates": [x, y]})))
            .unwrap_or(Value::Null);
        let mut properties = json!({
            "rule": f.rule,
            "severity": f.kind,
            "message": f.message,
            "feature_index": f.feature_index,
            "key": f.key,
            "file": f.file.display().to_string(),
            "field": f.field,
        });
        if let (Some(other), Value::Object(map)) = (&f.other, &mut properties) {
            map.insert("other_index".into(), other.index.into());
            map.insert("other_file".into(), other.file.display().to_string().into());
        }
        if let (Some(area), Value::Object(map)) = (f.area_m2, &mut properties) {
            map.insert("area_m2".into(), area.into());
        }
        let feature = json!({"type": "Feature", "properties": properties, "geometry": geometry});
        let sep: &[u8] = if self.count == 0 { b"" } else { b",\n" };
        self.out.write_all(sep).map_err(|e| io_error(&self.path, &e))?;
        serde_json::to_writer(&mut self.out, &feature)
            .map_err(|e| ImportError::File { path: self.path.clone(), reason: e.to_string() })?;
        self.count += 1;
        Ok(())
    }

    /// Completes the collection; returns the path and how many findings it holds.
    ///
    /// # Errors
    /// [`ImportError::File`] naming the file.
    pub fn finish(mut self) -> Result<(PathBuf, u64), ImportError> {
        self.out.write_all(b"\n]}\n").and_then(|()| self.out.flush()).map_err(|e| io_error(&self.path, &e))?;
        Ok((self.path, self.count))
    }
}

fn io_error(path: &Path, e: &std::io::Error) -> ImportError {
    ImportError::File { path: path.to_owned(), reason: format!("cannot write the findings: {e}") }
}

fn position(c: Coord<f64>) -> Value {
    json!([c.x, c.y])
}

fn line(ls: &LineString<f64>) -> Value {
    Value::Array(ls.0.iter().copied().map(position).collect())
}

fn rings(p: &Polygon<f64>) -> Value {
    Value::Array(std::iter::once(p.exterior()).chain(p.interiors()).map(line).collect())
}

/// A geo geometry as a GeoJSON geometry object (null for kinds the datasets never hold).
pub fn to_geojson(g: &Geometry<f64>) -> Value {
    match g {
        Geometry::Point(p) => json!({"type": "Point", "coordinates": position(p.0)}),
        Geometry::MultiPoint(mp) => {
            json!({"type": "MultiPoint", "coordinates": mp.0.iter().map(|p| position(p.0)).collect::<Vec<_>>()})
        }
        Geometry::LineString(ls) => json!({"type": "LineString", "coordinates": line(ls)}),
        Geometry::MultiLineString(ml) => {
            json!({"type": "MultiLineString", "coordinates": ml.0.iter().map(line).collect::<Vec<_>>()})
        }
        Geometry::Polygon(p) => json!({"type": "Polygon", "coordinates": rings(p)}),
        Geometry::MultiPolygon(mp) => {
            json!({"type": "MultiPolygon", "coordinates": mp.0.iter().map(rings).collect::<Vec<_>>()})
        }
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use geo_types::polygon;
    use geozero::{CoordDimensions, ToWkb};

    use super::*;
    use crate::error::Location;
    use crate::finding::FindingKind;

    #[test]
    fn findings_stream_into_a_feature_collection() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("findings.geojson");
        let mut w = FlaggedWriter::create(&path).unwrap();
        let a = Location { file: std::path::Path::new("p.geojson").into(), index: 7, is_line: false };
        let b = Location { file: std::path::Path::new("p.geojson").into(), index: 3, is_line: false };
        let mut dup = Finding::pair("land.parcel_key_unique", FindingKind::Flagged, &a, &b, "dup".into());
        dup.key = Some("00376/1/5".into());
        let square = Geometry::MultiPolygon(
            vec![polygon![(x: 105.0, y: 21.0), (x: 105.1, y: 21.0), (x: 105.1, y: 21.1)]].into(),
        );
        let wkb = square.to_wkb(CoordDimensions::xy()).unwrap();
        w.write(&dup, Some(&wkb)).unwrap();
        let mut bad = Finding::new("land.geometry_valid", FindingKind::Rejected, &a, "self-intersection".into());
        bad.at = Some([105.05, 21.05]);
        w.write(&bad, None).unwrap();
        assert_eq!(w.finish().unwrap().1, 2);
        let json: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let features = json["features"].as_array().unwrap();
        assert_eq!(features[0]["properties"]["other_index"], 3);
        assert_eq!(features[0]["properties"]["key"], "00376/1/5");
        assert_eq!(features[0]["geometry"]["type"], "MultiPolygon");
        assert_eq!(features[1]["geometry"]["coordinates"], json!([105.05, 21.05]));
        assert_eq!(features[1]["properties"]["severity"], "rejected");
    }
}
