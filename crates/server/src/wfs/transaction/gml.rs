//! GML geometries of WFS transactions read into GeoJSON geometries: GML 2 (`gml:coordinates`,
//! `outerBoundaryIs`/`innerBoundaryIs`, `MultiPolygon`/`polygonMember`, as QGIS writes WFS 1.0
//! transactions) and GML 3.1.1/3.2 (`pos`, `posList` with `srsDimension`, `exterior`/`interior`,
//! `MultiSurface` with `surfaceMember`/`surfaceMembers`, `MultiCurve`, `Surface` of
//! `PolygonPatch`es). Coordinates stay in the order the document writes them; the caller puts
//! them in the CRS's order ([`super::crs_of`]). A third dimension is dropped.

use serde_json::{json, Value};

use super::xml::Element;

/// GML 2 and 3.1.1 namespace.
pub const GML: &str = "http://www.opengis.net/gml";
/// GML 3.2 namespace.
pub const GML32: &str = "http://www.opengis.net/gml/3.2";

/// Whether an element is in a GML namespace.
pub fn is_gml(element: &Element) -> bool {
    element.ns == GML || element.ns == GML32
}

/// A geometry read: GeoJSON (coordinates in the document's order) and the `srsName` it states
/// (the outermost one).
#[derive(Debug, Clone, PartialEq)]
pub struct Geometry {
    /// GeoJSON geometry.
    pub json: Value,
    /// `srsName` of the geometry element, or of the first member stating one.
    pub srs_name: Option<String>,
}

/// Reads a GML geometry element.
///
/// # Errors
/// A sentence naming the element that is not a geometry geosector reads, or the coordinates
/// that do not parse.
pub fn read(element: &Element) -> Result<Geometry, String> {
    let mut srs_name = None;
    let json = geometry(element, 2, &mut srs_name)?;
    Ok(Geometry { json, srs_name })
}

type Ring = Vec<[f64; 2]>;

fn geometry(el: &Element, dims: usize, srs: &mut Option<String>) -> Result<Value, String> {
    if !is_gml(el) {
        return Err(format!("<{}> is not a GML geometry", el.name));
    }
    if srs.is_none() {
        *srs = el.attr("srsName").map(str::to_owned);
    }
    let dims = dimension(el, dims)?;
    match el.name.as_str() {
        "Point" => Ok(json!({ "type": "Point", "coordinates": point(el, dims)? })),
        "LineString" => Ok(json!({ "type": "LineString", "coordinates": positions(el, dims)? })),
        "Polygon" | "PolygonPatch" => Ok(json!({ "type": "Polygon", "coordinates": polygon(el, dims)? })),
        "Surface" => {
            let patches = el.child("patches").ok_or("<gml:Surface> without <gml:patches>")?;
            let polygons = patches.children.iter().map(|p| polygon(p, dims)).collect::<Result<Vec<_>, _>>()?;
            match polygons.len() {
                1 => Ok(json!({ "type": "Polygon", "coordinates": polygons[0] })),
                _ => Ok(json!({ "type": "MultiPolygon", "coordinates": polygons })),
            }
        }
        "MultiPoint" => {
            let points = members(el, &["pointMember", "pointMembers"])?
                .into_iter()
                .map(|m| match m.name.as_str() {
                    "Point" => point(m, dimension(m, dims)?),
                    other => Err(format!("<gml:{other}> in a MultiPoint; expected gml:Point")),
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(json!({ "type": "MultiPoint", "coordinates": points }))
        }
        "MultiLineString" | "MultiCurve" => {
            let lines = members(el, &["lineStringMember", "curveMember", "curveMembers"])?
                .into_iter()
                .map(|m| match m.name.as_str() {
                    "LineString" => positions(m, dimension(m, dims)?),
                    other => Err(format!("<gml:{other}> in a {}; expected gml:LineString", el.name)),
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(json!({ "type": "MultiLineString", "coordinates": lines }))
        }
        "MultiPolygon" | "MultiSurface" => {
            let polygons = members(el, &["polygonMember", "surfaceMember", "surfaceMembers"])?
                .into_iter()
                .map(|m| match m.name.as_str() {
                    "Polygon" | "PolygonPatch" => polygon(m, dimension(m, dims)?),
                    other => Err(format!("<gml:{other}> in a {}; expected gml:Polygon", el.name)),
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(json!({ "type": "MultiPolygon", "coordinates": polygons }))
        }
        other => Err(format!(
            "<gml:{other}> is not a geometry geosector reads (Point, LineString, Polygon, Surface, MultiPoint, MultiLineString, MultiCurve, MultiPolygon, MultiSurface)"
        )),
    }
}

/// The geometries in a multi-geometry's member properties (one per `…Member`, several in a
/// `…Members`).
fn members<'a>(el: &'a Element, names: &[&str]) -> Result<Vec<&'a Element>, String> {
    let mut found = Vec::new();
    for child in &el.children {
        if !names.contains(&child.name.as_str()) {
            continue;
        }
        if child.children.is_empty() {
            return Err(format!(
                "<gml:{}> of a {} holds no geometry (xlink references are not read)",
                child.name, el.name
            ));
        }
        found.extend(child.children.iter());
    }
    Ok(found)
}

/// `srsDimension` of an element, else the inherited one.
fn dimension(el: &Element, inherited: usize) -> Result<usize, String> {
    match el.attr("srsDimension") {
        None => Ok(inherited),
        Some(text) => match text.trim().parse::<usize>() {
            Ok(d @ 2..=3) => Ok(d),
            _ => Err(format!("srsDimension=\"{text}\" of <gml:{}>: expected 2 or 3", el.name)),
        },
    }
}

fn polygon(el: &Element, dims: usize) -> Result<Vec<Ring>, String> {
    if el.name != "Polygon" && el.name != "PolygonPatch" {
        return Err(format!("<gml:{}> where a gml:Polygon was expected", el.name));
    }
    let dims = dimension(el, dims)?;
    let mut rings = Vec::new();
    let exterior = el
        .child("exterior")
        .or_else(|| el.child("outerBoundaryIs"))
        .ok_or_else(|| format!("<gml:{}> without an exterior (gml:exterior or gml:outerBoundaryIs)", el.name))?;
    rings.push(ring(exterior, dims)?);
    for interior in el.children.iter().filter(|c| c.name == "interior" || c.name == "innerBoundaryIs") {
        rings.push(ring(interior, dims)?);
    }
    Ok(rings)
}

fn ring(boundary: &Element, dims: usize) -> Result<Ring, String> {
    let ring =
        boundary.child("LinearRing").ok_or_else(|| format!("<gml:{}> without a gml:LinearRing", boundary.name))?;
    let positions = positions(ring, dimension(ring, dims)?)?;
    if positions.len() < 4 {
        return Err(format!("a gml:LinearRing of {} positions; a ring needs at least 4", positions.len()));
    }
    Ok(positions)
}

fn point(el: &Element, dims: usize) -> Result<[f64; 2], String> {
    let all = positions(el, dims)?;
    match all.as_slice() {
        [one] => Ok(*one),
        _ => Err(format!("a gml:Point with {} positions", all.len())),
    }
}

/// The positions of a Point, LineString or LinearRing: `posList`, `pos`…, `coordinates`, or
/// `coord`s.
fn positions(el: &Element, dims: usize) -> Result<Ring, String> {
    if let Some(list) = el.child("posList") {
        let dims = dimension(list, dims)?;
        let numbers = numbers(list.trimmed(), "gml:posList")?;
        if numbers.len() % dims != 0 {
            return Err(format!(
                "gml:posList of {} numbers is not a list of {dims}-dimensional positions",
                numbers.len()
            ));
        }
        return Ok(numbers.chunks(dims).map(|c| [c[0], c[1]]).collect());
    }
    let pos: Vec<&Element> = el.children_named("pos").collect();
    if !pos.is_empty() {
        return pos
            .into_iter()
            .map(|p| {
                let n = numbers(p.trimmed(), "gml:pos")?;
                match n.len() {
                    2 | 3 => Ok([n[0], n[1]]),
                    k => Err(format!("gml:pos of {k} numbers; expected 2 or 3")),
                }
            })
            .collect();
    }
    if let Some(coordinates) = el.child("coordinates") {
        return coordinates_text(coordinates);
    }
    let coords: Vec<&Element> = el.children_named("coord").collect();
    if !coords.is_empty() {
        return coords
            .into_iter()
            .map(|c| {
                let axis = |name: &str| {
                    c.child(name)
                        .ok_or_else(|| format!("gml:coord without gml:{name}"))
                        .and_then(|v| number(v.trimmed(), "gml:coord"))
                };
                Ok([axis("X")?, axis("Y")?])
            })
            .collect();
    }
    Err(format!("<gml:{}> without coordinates (gml:posList, gml:pos or gml:coordinates)", el.name))
}

/// `gml:coordinates` with its `cs` (default `,`), `ts` (default a space) and `decimal` (default
/// `.`).
fn coordinates_text(el: &Element) -> Result<Ring, String> {
    let cs = el.attr("cs").unwrap_or(",");
    let ts = el.attr("ts").unwrap_or(" ");
    let decimal = el.attr("decimal").unwrap_or(".");
    if cs.is_empty() || ts.is_empty() || decimal.is_empty() {
        return Err("gml:coordinates with an empty cs, ts or decimal".into());
    }
    let text = el.trimmed();
    let tuples: Vec<&str> = if ts.trim().is_empty() {
        text.split_whitespace().collect()
    } else {
        text.split(ts).map(str::trim).filter(|t| !t.is_empty()).collect()
    };
    tuples
        .into_iter()
        .map(|tuple| {
            let parts: Vec<f64> = tuple
                .split(cs)
                .map(|p| {
                    let p = p.trim();
                    let p = if decimal == "." { p.to_owned() } else { p.replace(decimal, ".") };
                    number(&p, "gml:coordinates")
                })
                .collect::<Result<_, _>>()?;
            match parts.len() {
                2 | 3 => Ok([parts[0], parts[1]]),
                k => Err(format!("a gml:coordinates tuple \"{tuple}\" of {k} numbers; expected 2 or 3")),
            }
        })
        .collect()
}

fn numbers(text: &str, what: &str) -> Result<Vec<f64>, String> {
    text.split_whitespace().map(|t| number(t, what)).collect()
}

fn number(text: &str, what: &str) -> Result<f64, String> {
    let short: String = text.chars().take(40).collect();
    text.parse::<f64>().ok().filter(|f| f.is_finite()).ok_or_else(|| format!("{what}: \"{short}\" is not a number"))
}

#[cfg(test)]
mod tests {
    use super::super::xml::parse;
    use super::*;

    fn read_text(text: &str) -> Result<Geometry, String> {
        read(&parse(text.as_bytes()).unwrap())
    }

    #[test]
    fn gml2_as_qgis_writes_it() {
        let g = read_text(r#"<gml:MultiPolygon xmlns:gml="http://www.opengis.net/gml" srsName="urn:ogc:def:crs:EPSG::4326"><gml:polygonMember><gml:Polygon><gml:outerBoundaryIs><gml:LinearRing><gml:coordinates cs="," ts=" ">105.8,21.2 105.801,21.2 105.801,21.201 105.8,21.2</gml:coordinates></gml:LinearRing></gml:outerBoundaryIs></gml:Polygon></gml:polygonMember></gml:MultiPolygon>"#).unwrap();
        assert_eq!(g.srs_name.as_deref(), Some("urn:ogc:def:crs:EPSG::4326"));
        assert_eq!(g.json["type"], "MultiPolygon");
        assert_eq!(g.json["coordinates"][0][0][1], json!([105.801, 21.2]));
    }

    #[test]
    fn gml32_surfaces_with_holes_and_3d_pos_lists() {
        let g = read_text(r#"<gml:MultiSurface xmlns:gml="http://www.opengis.net/gml/3.2" srsName="http://www.opengis.net/def/crs/EPSG/0/5897" srsDimension="3"><gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing><gml:posList>0 0 1 10 0 1 10 10 1 0 10 1 0 0 1</gml:posList></gml:LinearRing></gml:exterior><gml:interior><gml:LinearRing><gml:posList>2 2 0 3 2 0 3 3 0 2 2 0</gml:posList></gml:LinearRing></gml:interior></gml:Polygon></gml:surfaceMember><gml:surfaceMembers><gml:Polygon><gml:exterior><gml:LinearRing><gml:pos>20 20</gml:pos><gml:pos>21 20</gml:pos><gml:pos>21 21</gml:pos><gml:pos>20 20</gml:pos></gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMembers></gml:MultiSurface>"#).unwrap();
        assert_eq!(g.json["coordinates"].as_array().unwrap().len(), 2);
        assert_eq!(g.json["coordinates"][0][1][2], json!([3.0, 3.0]));
        assert_eq!(g.json["coordinates"][1][0][1], json!([21.0, 20.0]));
        let p = read_text(
            r#"<gml:Point xmlns:gml="http://www.opengis.net/gml/3.2"><gml:pos>1.5 2.5</gml:pos></gml:Point>"#,
        )
        .unwrap();
        assert_eq!(p.json, json!({"type": "Point", "coordinates": [1.5, 2.5]}));
        let c = read_text(r#"<gml:LineString xmlns:gml="http://www.opengis.net/gml"><gml:coordinates decimal="," cs=";" ts="|">1,5;2|3;4,25</gml:coordinates></gml:LineString>"#).unwrap();
        assert_eq!(c.json["coordinates"], json!([[1.5, 2.0], [3.0, 4.25]]));
    }

    #[test]
    fn what_is_not_read_is_named() {
        let not_geometry = read_text(r#"<gml:Curve xmlns:gml="http://www.opengis.net/gml/3.2"/>"#).unwrap_err();
        assert!(not_geometry.contains("gml:Curve"), "{not_geometry}");
        let odd = read_text(r#"<gml:LineString xmlns:gml="http://www.opengis.net/gml/3.2"><gml:posList>1 2 3</gml:posList></gml:LineString>"#).unwrap_err();
        assert!(odd.contains("posList of 3 numbers"), "{odd}");
        let nan =
            read_text(r#"<gml:Point xmlns:gml="http://www.opengis.net/gml/3.2"><gml:pos>1 NaN</gml:pos></gml:Point>"#)
                .unwrap_err();
        assert!(nan.contains("not a number"), "{nan}");
        let short = read_text(r#"<gml:Polygon xmlns:gml="http://www.opengis.net/gml/3.2"><gml:exterior><gml:LinearRing><gml:posList>0 0 1 1 0 0</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon>"#).unwrap_err();
        assert!(short.contains("at least 4"), "{short}");
    }
}
