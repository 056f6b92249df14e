//! Turning raw features into typed rows for one dataset: property lookup by the declared names,
//! value parsing, geometry checks, planar area (in the source CRS when it is projected, Web
//! Mercator excepted, else in the nearest VN-2000 TM-3 zone), and reprojection to
//! the storage CRS (EPSG:4326) with the one VN-2000 rule. Runs in rayon workers: a
//! [`RowBuilder`] is shared read-only between threads.

use geo::Area;
use geo_types::Geometry;
use geosector_crs::{Crs, CrsKind, Transformer};
use geosector_domain::{CellValue, Dataset};
use geosector_store::hook::RowCheck;
use serde_json::Value;

use crate::checked::{Checked, Row};
use crate::error::{FeatureError, ImportError, Location};
use crate::finding::{Finding, FindingKind};
use crate::geometry;
use crate::readers::geojson::split_feature;
use crate::source::{Properties, RawBody, RawFeature};
use crate::validate::Validator;

/// Geographic bounds every stored coordinate must fall in: mainland Vietnam and its islands,
/// Hoàng Sa and Trường Sa included (lon 102–118° E, lat 6–24° N). A point outside is almost
/// always a wrong CRS or swapped X/Y.
pub const VIETNAM_BOUNDS: (f64, f64, f64, f64) = (102.0, 6.0, 118.0, 24.0);

/// The SRID geometry is stored in.
pub const STORAGE_SRID: i32 = 4326;

/// Builds rows of one dataset from the features of one file.
pub struct RowBuilder {
    dataset: &'static Dataset,
    /// Field index by property name in ASCII lower case.
    by_name: foldhash::HashMap<String, usize>,
    source: Option<SourceCrs>,
    check: Option<std::sync::Arc<dyn RowCheck>>,
    validator: Option<std::sync::Arc<Validator>>,
    tile_geometry: bool,
    /// The field holding the feature's GeoHash identifier and its length (see
    /// [`geosector_domain::GeohashId`]), if the dataset has one.
    geohash_id: Option<(usize, usize)>,
}

struct SourceCrs {
    crs: Crs,
    to_storage: Transformer,
    /// For geographic sources: transformers into each VN-2000 TM-3 zone (by EPSG code), for
    /// planar areas.
    area_zones: Vec<(u32, Transformer)>,
}

/// The scale on the central meridian of the TM-3 zones (and so of [`area_plane`]).
const AREA_PLANE_SCALE: f64 = 0.9999;

/// The plane areas of geographic sources are measured in: the TM-3 projection of a zone applied
/// to the WGS 84 coordinates directly. The zone's EPSG:6960 shift is left out: it moves a parcel
/// by about 200 m and its scale is 0.25 ppm, which changes a parcel's TM-3 area by about 1 ppm,
/// while going through it (geocentric coordinates both ways) is most of the cost per vertex.
fn area_plane(zone: &geosector_crs::CrsDef) -> Crs {
    Crs {
        epsg: None,
        name: format!("TM-3 {} on WGS 84 (areas)", zone.central_meridian),
        kind: CrsKind::Projected,
        proj: format!(
            "+proj=tmerc +lat_0=0 +lon_0={} +k={AREA_PLANE_SCALE} +x_0=500000 +y_0=0 +ellps=WGS84 +units=m +no_defs",
            zone.central_meridian
        ),
    }
}

/// Records property `name` as the source of field `i`: the first non-null spelling wins when a
/// file carries two aliases.
fn take<'a>(found: &mut [Option<(&'a String, &'a Value)>], i: usize, name: &'a String, value: &'a Value) {
    if found[i].is_none_or(|(_, v)| v.is_null()) {
        found[i] = Some((name, value));
    }
}

/// A geometry placed in the storage CRS: its EWKB, its planar area, the lon/lat geometry and
/// its bounding box.
struct Placed {
    ewkb: Vec<u8>,
    area: Option<f64>,
    lonlat: Geometry<f64>,
    bbox: Option<[f64; 4]>,
    tile: Option<Vec<u8>>,
}

impl std::fmt::Debug for RowBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowBuilder").field("dataset", &self.dataset.id).finish_non_exhaustive()
    }
}

impl RowBuilder {
    /// A builder for `dataset` reading coordinates in `source_crs` (ignored without geometry).
    ///
    /// # Errors
    /// [`ImportError::Crs`] when a transformation cannot be set up.
    pub fn new(dataset: &'static Dataset, source_crs: &Crs) -> Result<RowBuilder, ImportError> {
        let mut by_name = foldhash::HashMap::default();
        for (i, field) in dataset.fields.iter().enumerate() {
            for name in field.names {
                by_name.entry(name.to_ascii_lowercase()).or_insert(i);
            }
        }
        let source = match dataset.geometry {
            None => None,
            Some(_) => {
                let storage = Crs::wgs84();
                let setup = |e: geosector_crs::TransformError| geosector_crs::CrsError::Unsupported(e.to_string());
                let to_storage = Transformer::new(source_crs, &storage).map_err(setup)?;
                let mut area_zones = Vec::new();
                if source_crs.kind == CrsKind::Geographic || source_crs.epsg == Some(3857) {
                    for def in geosector_crs::tm3_zones() {
                        area_zones.push((def.epsg, Transformer::new(&storage, &area_plane(def)).map_err(setup)?));
                    }
                }
                Some(SourceCrs { crs: source_crs.clone(), to_storage, area_zones })
            }
        };
        let geohash_id = dataset
            .history
            .and_then(|h| h.geohash_id)
            .and_then(|id| dataset.fields.iter().position(|f| f.column == id.column).map(|i| (i, id.length)));
        Ok(RowBuilder { dataset, by_name, source, check: None, validator: None, tile_geometry: false, geohash_id })
    }

    /// Adds the per-row check of the dataset's load hook (see `geosector_store::hook`), run on
    /// the parsed fields before the geometry.
    #[must_use]
    pub fn with_check(mut self, check: Option<std::sync::Arc<dyn RowCheck>>) -> RowBuilder {
        self.check = check;
        self
    }

    /// Also builds each row's tiles' copy of its geometry ([`Row::tile_geometry`]).
    #[must_use]
    pub fn with_tile_geometry(mut self, wanted: bool) -> RowBuilder {
        self.tile_geometry = wanted;
        self
    }

    /// Adds the dataset's validation rules (see [`crate::validate`]).
    #[must_use]
    pub fn with_rules(mut self, validator: Option<std::sync::Arc<Validator>>) -> RowBuilder {
        self.validator = validator;
        self
    }

    /// Checks one feature and builds its row.
    ///
    /// # Errors
    /// A [`FeatureError`] naming the feature, and the field or `geometry` at fault.
    pub fn build(&self, raw: RawFeature) -> Result<Row, FeatureError> {
        self.check(raw).into_result()
    }

    /// Checks one feature, builds its row and runs the per-feature validation rules on it.
    pub fn check(&self, raw: RawFeature) -> Checked {
        let RawFeature { location, body } = raw;
        let mut findings = Vec::new();
        let mut centroid = None;
        let mut polygons = None;
        let built = self.build_row(&location, body, &mut findings, &mut centroid, &mut polygons);
        let (row, error) = match built {
            Ok(row) => (Some(row), None),
            Err(e) => (None, Some(e)),
        };
        let mut checked = Checked { location, row, error, findings, key_hash: None, unchecked: Vec::new(), polygons };
        if let Some(v) = &self.validator {
            if checked.error.is_none() {
                v.check_row(&mut checked, centroid);
            } else {
                v.finish(&mut checked);
            }
        }
        checked
    }

    fn build_row(
        &self,
        location: &Location,
        body: RawBody,
        findings: &mut Vec<Finding>,
        centroid: &mut Option<geo_types::Coord<f64>>,
        polygons: &mut Option<geo_types::MultiPolygon<f64>>,
    ) -> Result<Row, FeatureError> {
        let fail = |field: Option<&str>, message: String| FeatureError {
            location: location.clone(),
            field: field.map(str::to_owned),
            message,
        };
        let (properties, geometry) = match body {
            RawBody::GeoJson(value) => {
                let (properties, geometry) = split_feature(value).map_err(|m| fail(None, m))?;
                let geometry = geometry::from_geojson(&geometry).map_err(|m| fail(Some("geometry"), m))?;
                (Properties::Map(properties), geometry)
            }
            RawBody::Decoded { properties, geometry } => (properties, geometry),
            RawBody::Unreadable(reason) => return Err(fail(None, reason)),
            RawBody::Invalid { field, reason } => return Err(fail(Some(&field), reason)),
        };
        let mut cells = self.cells(&properties).map_err(|(field, m)| fail(Some(&field), m))?;
        if let Some(check) = &self.check {
            check.check(&mut cells).map_err(|r| fail(Some(&r.column), r.message))?;
        }
        let mut row = Row { cells, geometry: None, source_srid: None, area_m2: None, bbox: None, tile_geometry: None };
        if let (Some(spec), Some(source)) = (self.dataset.geometry, &self.source) {
            match geometry {
                None if spec.required => return Err(fail(Some("geometry"), "geometry is missing".into())),
                None => {}
                Some(g) => {
                    let mut g = geometry::conform(g, spec.kind).map_err(|m| fail(Some("geometry"), m))?;
                    if let Some(v) = &self.validator {
                        let to_lonlat = |c| source.to_storage.coord(c).ok();
                        v.check_geometry(&mut g, location, &to_lonlat, findings);
                        for f in findings.iter_mut() {
                            f.key = v.key_text(&row.cells);
                        }
                        if let Some(f) = findings.iter().find(|f| f.kind == FindingKind::Rejected) {
                            return Err(fail(Some("geometry"), format!("{}: {}", f.rule, f.message)));
                        }
                        if v.wants_centroid() {
                            use geo::Centroid;
                            *centroid = g.centroid().and_then(|p| source.to_storage.coord(p.0).ok());
                        }
                    }
                    let Placed { ewkb, area, lonlat, bbox, tile } = self
                        .place(g, source, spec.area_column.is_some(), spec.in_vietnam)
                        .map_err(|m| fail(Some("geometry"), m))?;
                    self.geohash_id(&mut row.cells, &lonlat, location, findings);
                    if let Geometry::MultiPolygon(m) = lonlat {
                        if self.validator.as_ref().is_some_and(|v| v.wants_polygons()) {
                            *polygons = Some(m);
                        }
                    }
                    row.geometry = Some(ewkb);
                    row.area_m2 = area;
                    row.bbox = bbox;
                    row.tile_geometry = tile;
                }
            }
            row.source_srid = Some(source.crs.srid());
        }
        Ok(row)
    }

    /// The feature's GeoHash identifier, when the dataset has one: computed from the lon/lat
    /// geometry when the feature has none, else checked by the dataset's rules (brief rule 6).
    fn geohash_id(
        &self,
        cells: &mut [CellValue],
        lonlat: &Geometry<f64>,
        location: &Location,
        findings: &mut Vec<Finding>,
    ) {
        let Some((i, length)) = self.geohash_id else { return };
        match cells.get(i) {
            Some(CellValue::Null) => {
                if let Some(id) = crate::geohash::identifier(lonlat, length) {
                    cells[i] = CellValue::Text(id);
                }
            }
            Some(CellValue::Text(given)) => {
                if let Some(v) = &self.validator {
                    let key = v.key_text(cells);
                    let at = findings.len();
                    v.check_geohash_id(given, length, lonlat, location, findings);
                    for f in &mut findings[at..] {
                        f.key.clone_from(&key);
                    }
                }
            }
            _ => {}
        }
    }

    /// The field a property name stands for (names compare in ASCII lower case).
    fn field_of(&self, name: &str, lower: &mut String) -> Option<usize> {
        lower.clear();
        lower.push_str(name);
        lower.make_ascii_lowercase();
        self.by_name.get(lower.as_str()).copied()
    }

    fn cells(&self, properties: &Properties) -> Result<Vec<CellValue>, (String, String)> {
        let mut found: Vec<Option<(&String, &Value)>> = vec![None; self.dataset.fields.len()];
        match properties {
            Properties::Map(map) => {
                let mut lower = String::new();
                for (name, value) in map {
                    if let Some(i) = self.field_of(name, &mut lower) {
                        take(&mut found, i, name, value);
                    }
                }
            }
            Properties::Columns(values) => {
                let columns = values.columns();
                let fields = columns.fields(self.dataset, |name| self.field_of(name, &mut String::new()));
                for (slot, value) in values.iter() {
                    if let Some(i) = fields[slot] {
                        take(&mut found, i, columns.name(slot), value);
                    }
                }
            }
        }
        self.dataset
            .fields
            .iter()
            .zip(found)
            .map(|(field, hit)| {
                let name = hit.map_or(field.names[0], |(n, _)| n.as_str());
                field.parse(hit.map(|(_, v)| v)).map_err(|e| (name.to_owned(), e.to_string()))
            })
            .collect()
    }

    /// Area in the source projected CRS, then reprojection and the bounds check (Vietnam, unless
    /// the dataset covers the world).
    fn place(
        &self,
        mut g: Geometry<f64>,
        source: &SourceCrs,
        want_area: bool,
        in_vietnam: bool,
    ) -> Result<Placed, String> {
        let source_is_planar = source.area_zones.is_empty();
        let mut area = (want_area && source_is_planar).then(|| g.unsigned_area());
        let source_first = geometry::first_coord(&g);
        source.to_storage.geometry(&mut g).map_err(|e| format!("{e} from {}", source.crs))?;
        let (min_lon, min_lat, max_lon, max_lat) = VIETNAM_BOUNDS;
        let outside = if in_vietnam {
            geometry::find_coord(&g, |c| !(min_lon..=max_lon).contains(&c.x) || !(min_lat..=max_lat).contains(&c.y))
        } else {
            None
        };
        if let Some(c) = outside {
            let given = source_first.map_or(String::new(), |s| format!(" (first source coordinate {}, {})", s.x, s.y));
            return Err(format!(
                "lies outside Vietnam after transformation from {} (lon {:.4}, lat {:.4}){given}: check the CRS (--crs) and the X/Y order",
                source.crs, c.x, c.y
            ));
        }
        if want_area && !source_is_planar {
            area = Some(self.zone_area(&g, source)?);
        }
        let ewkb = geometry::to_ewkb(&g, STORAGE_SRID)?;
        let bbox = {
            use geo::BoundingRect;
            g.bounding_rect().map(|r| [r.min().x, r.min().y, r.max().x, r.max().y])
        };
        let tile = if self.tile_geometry { Some(geometry::to_tile_ewkb(&g)?) } else { None };
        Ok(Placed { ewkb, area, lonlat: g, bbox, tile })
    }

    /// Planar area in the VN-2000 TM-3 zone whose central meridian is nearest to the geometry,
    /// for sources in geographic coordinates (areas are never computed on lon/lat): the area of
    /// the polygon of the vertices projected into that zone's plane ([`area_plane`]). Computed by
    /// [`geosector_crs::ellipsoid::tm_area`] (a second-order expansion of the projection, within
    /// 10⁻⁸ of the projected area for parcels), else by projecting every vertex.
    fn zone_area(&self, g: &Geometry<f64>, source: &SourceCrs) -> Result<f64, String> {
        use geo::BoundingRect;
        let zone_of = |lon: f64| geosector_crs::nearest_tm3_zone(lon).central_meridian;
        if let Some(area) = geosector_crs::ellipsoid::tm_area(g, zone_of, AREA_PLANE_SCALE) {
            return Ok(area);
        }
        let lon = g.bounding_rect().map_or(105.0, |r| r.center().x);
        let nearest = geosector_crs::nearest_tm3_zone(lon);
        let (_, zone) = source.area_zones.iter().find(|(epsg, _)| *epsg == nearest.epsg).ok_or("no TM-3 zone")?;
        let mut projected = g.clone();
        zone.geometry(&mut projected).map_err(|e| e.to_string())?;
        Ok(projected.unsigned_area())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Map, Value};

    use super::*;
    use crate::source::Columns;

    /// Rows from properties by column are the rows from the same properties by name: aliases
    /// (the first non-null wins), names in other cases, nulls, missing values and the name an
    /// error gives.
    #[test]
    fn properties_by_column_give_the_rows_by_name() {
        let builder = RowBuilder::new(&geosector_land::PARCELS, &Crs::wgs84()).unwrap();
        let names = ["ma_xa", "maXa", "SO_TO", "so_thua", "loai_dat", "dienTich", "area_m2", "ngayDoDac", "other"];
        let columns = Columns::new(names.iter().map(|n| (*n).to_owned()));
        let samples: [&[(usize, Value)]; 6] = [
            &[(0, json!("00376")), (2, json!(3)), (3, json!("12")), (4, json!("ONT+CLN")), (5, json!(120.5))],
            &[(1, json!("376")), (0, Value::Null), (2, json!("4")), (3, json!(7)), (6, json!(99.0)), (5, json!(98))],
            &[(0, Value::Null), (1, json!("00377")), (2, json!(1)), (3, json!("1")), (7, json!("05/03/2024"))],
            &[(2, json!(1)), (3, json!("1"))],
            &[(0, json!("00376")), (2, json!("x")), (3, json!("1"))],
            &[(8, json!(1)), (0, json!("123456")), (2, json!(1)), (3, json!("1")), (7, json!("2024-13-01"))],
        ];
        for sample in samples {
            let mut map = Map::new();
            let mut values = columns.values();
            for (column, value) in sample {
                map.insert(names[*column].to_owned(), value.clone());
                values.set(*column, value.clone());
            }
            let by_name = builder.cells(&Properties::Map(map));
            let by_column = builder.cells(&Properties::Columns(values));
            assert_eq!(format!("{by_column:?}"), format!("{by_name:?}"));
        }
    }
}
