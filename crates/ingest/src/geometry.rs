//! Geometry handling of the pipeline: GeoJSON geometry objects to `geo-types` with structural
//! checks (RFC 7946 positions, closed rings of at least four positions), the dataset's geometry
//! kind (with single → multi promotion), and EWKB with an SRID for COPY.
//!
//! Z ordinates are accepted and dropped: every sector table is 2D.

use geo_types::{Coord, Geometry, LineString, MultiLineString, MultiPolygon, Point, Polygon};
use geosector_domain::GeometryKind;
use geozero::{CoordDimensions, ToWkb};
use serde_json::Value;

/// Converts a GeoJSON geometry object. `Ok(None)` for a JSON `null` geometry.
///
/// # Errors
/// A sentence saying what is wrong with the geometry object.
pub fn from_geojson(value: &Value) -> Result<Option<Geometry<f64>>, String> {
    let obj = match value {
        Value::Null => return Ok(None),
        Value::Object(o) => o,
        other => return Err(format!("geometry must be an object or null, got {}", json_kind(other))),
    };
    let kind = obj.get("type").and_then(Value::as_str).ok_or("geometry has no \"type\"")?;
    if kind == "GeometryCollection" {
        let members =
            obj.get("geometries").and_then(Value::as_array).ok_or("GeometryCollection has no \"geometries\" array")?;
        let parsed = members
            .iter()
            .map(|m| from_geojson(m)?.ok_or_else(|| "GeometryCollection member is null".to_owned()))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(Some(Geometry::GeometryCollection(geo_types::GeometryCollection(parsed))));
    }
    let coords = obj.get("coordinates").ok_or_else(|| format!("{kind} has no \"coordinates\""))?;
    let geometry = match kind {
        "Point" => Geometry::Point(Point(position(coords)?)),
        "MultiPoint" => Geometry::MultiPoint(
            array(coords, "MultiPoint")?.iter().map(|p| position(p).map(Point)).collect::<Result<Vec<_>, _>>()?.into(),
        ),
        "LineString" => Geometry::LineString(line(coords)?),
        "MultiLineString" => {
            Geometry::MultiLineString(MultiLineString(array(coords, kind)?.iter().map(line).collect::<Result<_, _>>()?))
        }
        "Polygon" => Geometry::Polygon(polygon(coords)?),
        "MultiPolygon" => {
            Geometry::MultiPolygon(MultiPolygon(array(coords, kind)?.iter().map(polygon).collect::<Result<_, _>>()?))
        }
        other => return Err(format!("unknown geometry type \"{other}\"")),
    };
    Ok(Some(geometry))
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn array<'a>(v: &'a Value, what: &str) -> Result<&'a Vec<Value>, String> {
    v.as_array().ok_or_else(|| format!("{what} coordinates must be an array, got {}", json_kind(v)))
}

fn position(v: &Value) -> Result<Coord<f64>, String> {
    let items = array(v, "a position's")?;
    if !(2..=3).contains(&items.len()) {
        return Err(format!("a position must have 2 or 3 numbers, got {}", items.len()));
    }
    let n = |i: usize| {
        items[i]
            .as_f64()
            .filter(|f| f.is_finite())
            .ok_or_else(|| format!("position ordinate {} is not a number: {}", i, items[i]))
    };
    Ok(Coord { x: n(0)?, y: n(1)? })
}

fn line(v: &Value) -> Result<LineString<f64>, String> {
    let points = array(v, "LineString")?.iter().map(position).collect::<Result<Vec<_>, _>>()?;
    if points.len() < 2 {
        return Err(format!("a LineString needs at least 2 positions, got {}", points.len()));
    }
    Ok(LineString(points))
}

fn polygon(v: &Value) -> Result<Polygon<f64>, String> {
    let rings = array(v, "Polygon")?;
    if rings.is_empty() {
        return Err("a Polygon needs at least one ring".to_owned());
    }
    let mut parsed = Vec::with_capacity(rings.len());
    for (i, ring) in rings.iter().enumerate() {
        let points = array(ring, "a ring's")?.iter().map(position).collect::<Result<Vec<_>, _>>()?;
        if points.len() < 4 {
            return Err(format!("ring {i} has {} positions, a closed ring needs at least 4", points.len()));
        }
        if points.first() != points.last() {
            return Err(format!("ring {i} is not closed (first and last positions differ)"));
        }
        parsed.push(LineString(points));
    }
    let exterior = parsed.remove(0);
    Ok(Polygon::new(exterior, parsed))
}

/// The GeoJSON type name of a geometry.
pub fn type_name(g: &Geometry<f64>) -> &'static str {
    match g {
        Geometry::Point(_) => "Point",
        Geometry::Line(_) | Geometry::LineString(_) => "LineString",
        Geometry::Polygon(_) | Geometry::Rect(_) | Geometry::Triangle(_) => "Polygon",
        Geometry::MultiPoint(_) => "MultiPoint",
        Geometry::MultiLineString(_) => "MultiLineString",
        Geometry::MultiPolygon(_) => "MultiPolygon",
        Geometry::GeometryCollection(_) => "GeometryCollection",
    }
}

/// Checks a geometry against the dataset's kind and promotes single to multi.
///
/// # Errors
/// A sentence naming the found and the expected types, or saying the geometry is empty.
pub fn conform(g: Geometry<f64>, kind: GeometryKind) -> Result<Geometry<f64>, String> {
    let found = type_name(&g);
    let converted = match (kind, g) {
        (GeometryKind::Point, Geometry::Point(p)) => Geometry::Point(p),
        (GeometryKind::MultiPolygon, Geometry::Polygon(p)) => Geometry::MultiPolygon(MultiPolygon(vec![p])),
        (GeometryKind::MultiPolygon, Geometry::MultiPolygon(m)) => Geometry::MultiPolygon(m),
        (GeometryKind::MultiLineString, Geometry::LineString(l)) => Geometry::MultiLineString(MultiLineString(vec![l])),
        (GeometryKind::MultiLineString, Geometry::MultiLineString(m)) => Geometry::MultiLineString(m),
        _ => {
            return Err(format!(
                "geometry type {found} is not accepted here, expected {}",
                kind.accepts().join(" or ")
            ));
        }
    };
    let empty = match &converted {
        Geometry::MultiPolygon(m) => m.0.is_empty(),
        Geometry::MultiLineString(m) => m.0.is_empty(),
        _ => false,
    };
    if empty {
        return Err(format!("{found} is empty"));
    }
    // Readers of WKB (FlatGeobuf, GeoPackage, CSV with WKT) can hand over an EMPTY part, or a
    // ring too short to close, which PostGIS would refuse for the whole load: refused here, for
    // this feature alone.
    let short = match &converted {
        Geometry::MultiPolygon(m) => m.0.iter().enumerate().find_map(|(i, p)| {
            std::iter::once(p.exterior())
                .chain(p.interiors())
                .position(|ring| ring.0.len() < 4)
                .map(|r| format!("{found} part {i}: ring {r} is empty or has fewer than 4 positions"))
        }),
        Geometry::MultiLineString(m) => {
            m.0.iter()
                .position(|l| l.0.len() < 2)
                .map(|i| format!("{found} part {i} is empty or has fewer than 2 positions"))
        }
        _ => None,
    };
    if let Some(message) = short {
        return Err(message);
    }
    Ok(converted)
}

/// Encodes a geometry as PostGIS EWKB with the given SRID (little-endian, 2D; the SRID on the
/// outer geometry only). The stored kinds (Point, MultiLineString, MultiPolygon) are written here
/// into a buffer of the exact size; the others go through geozero, which writes the same bytes.
///
/// # Errors
/// The encoder's message (not expected for geometries built by this module).
pub fn to_ewkb(g: &Geometry<f64>, srid: i32) -> Result<Vec<u8>, String> {
    let size = match g {
        Geometry::Point(_) => HEADER + 4 + 16,
        Geometry::MultiLineString(m) => {
            HEADER + 4 + 4 + m.0.iter().map(|l| HEADER + lines(std::slice::from_ref(l))).sum::<usize>()
        }
        Geometry::MultiPolygon(m) => multipolygon_size(m),
        _ => return g.to_ewkb(CoordDimensions::xy(), Some(srid)).map_err(|e| e.to_string()),
    };
    let mut out = Vec::with_capacity(size);
    match g {
        Geometry::Point(p) => {
            head(&mut out, 1, Some(srid));
            out.extend_from_slice(&p.x().to_le_bytes());
            out.extend_from_slice(&p.y().to_le_bytes());
        }
        Geometry::MultiLineString(m) => {
            head(&mut out, 5, Some(srid));
            count(&mut out, m.0.len());
            for l in &m.0 {
                head(&mut out, 2, None);
                coords(&mut out, l.0.iter().copied());
            }
        }
        Geometry::MultiPolygon(m) => {
            write_multipolygon(&mut out, m, srid, |out, ring, _| coords(out, ring.0.iter().copied()))
        }
        _ => unreachable!("sized above"),
    }
    debug_assert_eq!(out.len(), size);
    Ok(out)
}

/// Byte order and geometry type of an EWKB geometry.
const HEADER: usize = 1 + 4;

/// The EWKB size of rings or lines: a point count and the points of each.
fn lines(ls: &[LineString<f64>]) -> usize {
    ls.iter().map(|l| 4 + 16 * l.0.len()).sum::<usize>()
}

/// The EWKB size of a MultiPolygon with an SRID.
fn multipolygon_size(m: &MultiPolygon<f64>) -> usize {
    HEADER
        + 4
        + 4
        + m.0
            .iter()
            .map(|p| HEADER + 4 + lines(std::slice::from_ref(p.exterior())) + lines(p.interiors()))
            .sum::<usize>()
}

/// Writes the byte order and the type, with the SRID flag and the SRID when there is one.
fn head(out: &mut Vec<u8>, kind: u32, srid: Option<i32>) {
    out.push(1);
    match srid {
        Some(srid) => {
            out.extend_from_slice(&(kind | 0x2000_0000).to_le_bytes());
            out.extend_from_slice(&srid.to_le_bytes());
        }
        None => out.extend_from_slice(&kind.to_le_bytes()),
    }
}

/// Writes a count.
fn count(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
}

/// Writes a point count and the points.
fn coords(out: &mut Vec<u8>, points: impl ExactSizeIterator<Item = Coord<f64>>) {
    count(out, points.len());
    for c in points {
        out.extend_from_slice(&c.x.to_le_bytes());
        out.extend_from_slice(&c.y.to_le_bytes());
    }
}

/// Writes a MultiPolygon with an SRID, each ring through `ring` (given the ring and whether it
/// is an exterior), which writes the ring's point count and points.
fn write_multipolygon(
    out: &mut Vec<u8>,
    m: &MultiPolygon<f64>,
    srid: i32,
    mut ring: impl FnMut(&mut Vec<u8>, &LineString<f64>, bool),
) {
    head(out, 6, Some(srid));
    count(out, m.0.len());
    for p in &m.0 {
        head(out, 3, None);
        count(out, 1 + p.interiors().len());
        ring(out, p.exterior(), true);
        for hole in p.interiors() {
            ring(out, hole, false);
        }
    }
}

/// EPSG:3857 coordinates of a lon/lat coordinate (the spherical Mercator of PROJ's `webmerc`;
/// the formulas are `geosector_crs::web_mercator`'s).
#[inline]
pub fn web_mercator(c: Coord<f64>) -> Coord<f64> {
    Coord { x: geosector_crs::web_mercator::x_of(c.x), y: geosector_crs::web_mercator::y_of(c.y) }
}

/// The tiles' copy of a lon/lat geometry, as PostGIS's
/// `ST_ForcePolygonCW(ST_Transform(g, 3857))` gives it (migration 0008): EWKB with SRID 3857,
/// exterior rings clockwise and holes counter-clockwise. A MultiPolygon (the stored polygonal
/// kind) is written ring by ring from one scratch ring, without building the projected copy;
/// the winding is decided on the projected ring, as `geo`'s `orient` decides it.
///
/// # Errors
/// The encoder's message (not expected for geometries built by this module).
pub fn to_tile_ewkb(g: &Geometry<f64>) -> Result<Vec<u8>, String> {
    use geo::orient::{Direction, Orient};
    use geo::winding_order::{Winding, WindingOrder};
    use geo::MapCoords;
    if let Geometry::MultiPolygon(m) = g {
        let mut out = Vec::with_capacity(multipolygon_size(m));
        let mut projected = LineString(Vec::new());
        write_multipolygon(&mut out, m, 3857, |out, ring, exterior| {
            projected.0.clear();
            projected.0.extend(ring.0.iter().map(|&c| web_mercator(c)));
            let wanted = if exterior { WindingOrder::Clockwise } else { WindingOrder::CounterClockwise };
            match projected.winding_order() {
                Some(order) if order != wanted => coords(out, projected.0.iter().rev().copied()),
                _ => coords(out, projected.0.iter().copied()),
            }
        });
        return Ok(out);
    }
    let mercator = match g.map_coords(web_mercator) {
        Geometry::Polygon(p) => Geometry::Polygon(p.orient(Direction::Reversed)),
        other => other,
    };
    to_ewkb(&mercator, 3857)
}

/// The first coordinate of a geometry, in `geo`'s `coords_iter` order (polygons in order, each
/// exterior then holes), for which `pred` holds: rings are walked directly for the stored
/// polygonal kinds, through `coords_iter` for the others.
pub fn find_coord(g: &Geometry<f64>, mut pred: impl FnMut(&Coord<f64>) -> bool) -> Option<Coord<f64>> {
    let polygons = match g {
        Geometry::Polygon(p) => std::slice::from_ref(p),
        Geometry::MultiPolygon(m) => m.0.as_slice(),
        _ => {
            use geo::CoordsIter;
            return g.coords_iter().find(|c| pred(c));
        }
    };
    polygons
        .iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .find_map(|ring| ring.0.iter().find(|c| pred(c)).copied())
}

/// The first coordinate of a geometry (to report where a problem is).
pub fn first_coord(g: &Geometry<f64>) -> Option<Coord<f64>> {
    use geo::CoordsIter;
    g.coords_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tile_geometries_are_web_mercator_with_clockwise_shells() {
        use geo::orient::{Direction, Orient};
        use geozero::ToGeo;
        // PROJ: echo 21.0 105.8 | cs2cs -f %.3f EPSG:4326 EPSG:3857 → 11777602.126 2391878.588
        let c = web_mercator(Coord { x: 105.8, y: 21.0 });
        assert!((c.x - 11_777_602.126).abs() < 0.001 && (c.y - 2_391_878.588).abs() < 0.001, "{c:?}");
        let ring = vec![(105.8, 21.0), (105.801, 21.0), (105.801, 21.001), (105.8, 21.001), (105.8, 21.0)];
        let square = geo_types::Polygon::new(geo_types::LineString::from(ring), vec![]);
        let ccw = Geometry::MultiPolygon(geo_types::MultiPolygon(vec![square.orient(Direction::Default)]));
        let ewkb = to_tile_ewkb(&ccw).unwrap();
        assert_eq!(&ewkb[5..9], &3857u32.to_le_bytes(), "SRID 3857");
        let back = geozero::wkb::Ewkb(ewkb).to_geo().unwrap();
        let Geometry::MultiPolygon(mp) = back else { panic!("a multipolygon") };
        use geo::Area;
        assert!(mp.0[0].signed_area() < 0.0, "the shell is clockwise");
        assert!((mp.0[0].exterior().0[0].x - 11_777_602.126).abs() < 0.001);
    }

    #[test]
    fn tile_geometries_written_ring_by_ring_are_the_projected_and_oriented_copy() {
        use geo::orient::{Direction, Orient};
        use geo::MapCoords;
        let ring = |x: f64, y: f64, d: f64, clockwise: bool| {
            let mut points = vec![(x, y), (x + d, y), (x + d, y + d), (x, y + d), (x, y)];
            if clockwise {
                points.reverse();
            }
            LineString::from(points)
        };
        // Shells and holes in both windings, one polygon with two holes, one without.
        for (shell_cw, hole_cw) in [(false, false), (false, true), (true, false), (true, true)] {
            let with_holes = Polygon::new(
                ring(105.8, 21.0, 0.01, shell_cw),
                vec![ring(105.801, 21.001, 0.002, hole_cw), ring(105.805, 21.005, 0.002, !hole_cw)],
            );
            let plain = Polygon::new(ring(106.0, 10.5, 0.001, !shell_cw), vec![]);
            let m = MultiPolygon(vec![with_holes, plain]);
            let expected =
                to_ewkb(&Geometry::MultiPolygon(m.map_coords(web_mercator).orient(Direction::Reversed)), 3857).unwrap();
            assert_eq!(
                to_tile_ewkb(&Geometry::MultiPolygon(m)).unwrap(),
                expected,
                "shell cw {shell_cw}, hole cw {hole_cw}"
            );
        }
    }

    #[test]
    fn polygons_must_be_closed_and_long_enough() {
        let open = json!({"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,1]]]});
        assert!(from_geojson(&open).unwrap_err().contains("not closed"));
        let short = json!({"type": "Polygon", "coordinates": [[[0,0],[1,0],[0,0]]]});
        assert!(from_geojson(&short).unwrap_err().contains("at least 4"));
        let ok = json!({"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,0]]]});
        assert!(from_geojson(&ok).unwrap().is_some());
    }

    #[test]
    fn bad_positions_are_named() {
        let s = json!({"type": "Point", "coordinates": ["1", 2]});
        assert!(from_geojson(&s).unwrap_err().contains("not a number"));
        let four = json!({"type": "Point", "coordinates": [1, 2, 3, 4]});
        assert!(from_geojson(&four).unwrap_err().contains("2 or 3 numbers"));
        assert!(from_geojson(&json!({"type": "Circle", "coordinates": []})).unwrap_err().contains("Circle"));
        assert_eq!(from_geojson(&Value::Null), Ok(None));
    }

    #[test]
    fn kinds_are_enforced_and_promoted() {
        let p = from_geojson(&json!({"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,0]]]})).unwrap().unwrap();
        assert!(matches!(conform(p.clone(), GeometryKind::MultiPolygon), Ok(Geometry::MultiPolygon(_))));
        let err = conform(p, GeometryKind::Point).unwrap_err();
        assert!(err.contains("Polygon") && err.contains("expected Point"), "{err}");
        let empty = from_geojson(&json!({"type": "MultiPolygon", "coordinates": []})).unwrap().unwrap();
        assert!(conform(empty, GeometryKind::MultiPolygon).unwrap_err().contains("empty"));
        // An EMPTY part among others (as WKB readers can produce) is this feature's error.
        let square = Polygon::new(LineString::from(vec![(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 0.0)]), vec![]);
        let hollow = Polygon::new(LineString(vec![]), vec![]);
        let with_empty = Geometry::MultiPolygon(MultiPolygon(vec![square.clone(), hollow]));
        assert_eq!(
            conform(with_empty, GeometryKind::MultiPolygon).unwrap_err(),
            "MultiPolygon part 1: ring 0 is empty or has fewer than 4 positions"
        );
        let short_hole = Polygon::new(square.exterior().clone(), vec![LineString::from(vec![(0.1, 0.1), (0.2, 0.2)])]);
        assert!(conform(Geometry::Polygon(short_hole), GeometryKind::MultiPolygon).unwrap_err().contains("ring 1"));
        let lines = Geometry::MultiLineString(MultiLineString(vec![
            LineString::from(vec![(0.0, 0.0), (1.0, 1.0)]),
            LineString(vec![]),
        ]));
        assert!(conform(lines, GeometryKind::MultiLineString).unwrap_err().contains("part 1"));
    }

    #[test]
    fn ewkb_is_the_bytes_geozero_writes() {
        let ring = |x: f64, n: usize| {
            let mut points: Vec<Coord<f64>> =
                (0..n).map(|i| Coord { x: x + (i as f64).cos(), y: 21.0 + (i as f64).sin() }).collect();
            points.push(points[0]);
            LineString(points)
        };
        let geometries = [
            Geometry::Point(Point::new(105.8, 21.0)),
            Geometry::MultiPolygon(MultiPolygon(vec![Polygon::new(ring(105.0, 8), Vec::new())])),
            Geometry::MultiPolygon(MultiPolygon(vec![
                Polygon::new(ring(105.0, 12), vec![ring(105.1, 4), ring(105.2, 5)]),
                Polygon::new(ring(106.0, 3), Vec::new()),
            ])),
            Geometry::MultiPolygon(MultiPolygon(Vec::new())),
            Geometry::MultiLineString(MultiLineString(vec![ring(105.0, 3), LineString(Vec::new())])),
            Geometry::LineString(ring(105.0, 4)),
        ];
        for g in &geometries {
            let geozero = g.to_ewkb(CoordDimensions::xy(), Some(4326)).unwrap();
            assert_eq!(to_ewkb(g, 4326).unwrap(), geozero, "{g:?}");
        }
    }

    #[test]
    fn ewkb_carries_the_srid() {
        let g = Geometry::Point(Point::new(105.8, 21.0));
        let wkb = to_ewkb(&g, 4326).unwrap();
        // little-endian, type Point with the SRID flag 0x20000000, then SRID 4326
        assert_eq!(&wkb[..9], &[1, 1, 0, 0, 0x20, 0xE6, 0x10, 0, 0]);
    }
}
