//! OGC Filter Encoding 2.0 (OGC 09-026r2) — and the Filter Encoding 1.1 spelling WFS 1.1.0
//! clients send (`PropertyName`, `FeatureId`, `GmlObjectId`) — read into a small tree
//! ([`Filter`]), then turned into the `cql2::Expr` the CQL2 path builds ([`Filter::to_expr`]),
//! typed by the collection's queryables. `geosector-filter` translates that expression to SQL
//! with every literal a bound parameter: nothing here ever becomes SQL text.
//!
//! Operators (and exactly these are listed in the capabilities, [`COMPARISON`], [`SPATIAL`]):
//! - comparison: `PropertyIsEqualTo`, `…NotEqualTo`, `…LessThan`, `…GreaterThan`,
//!   `…LessThanOrEqualTo`, `…GreaterThanOrEqualTo` (`matchCase="false"` compares `CASEI`
//!   of both sides), `PropertyIsLike` (`wildCard`, `singleChar`, `escapeChar`),
//!   `PropertyIsNull`, `PropertyIsNil` (as null), `PropertyIsBetween`;
//! - logical: `And`, `Or`, `Not`;
//! - spatial: `BBOX`, `Intersects`, `Within`, `Contains`, `Disjoint`, `Equals`, `Touches`,
//!   `Overlaps`, `Crosses`, with a GML `Envelope`/`Box`, `Point`, `LineString`, `Polygon`,
//!   `MultiPoint`, `MultiCurve`/`MultiLineString`, `MultiSurface`/`MultiPolygon` operand;
//! - `ResourceId` (`rid="type.id"`), and 1.1's `FeatureId`/`GmlObjectId`.
//!
//! Literals take the type of the property they are compared with (a number for a numeric
//! property, a boolean, a date…); an equality on a list property matches when the list holds
//! the value (`A_OVERLAPS`). Geometry literals are in the CRS of their `srsName` (or the
//! query's), in that CRS's axis order.

use cql2::{Expr, Geometry};
use geosector_filter::{Kind, Queryables};

use crate::xml::Element;

/// The comparison operators translated (FES 2.0 names).
pub const COMPARISON: &[&str] = &[
    "PropertyIsEqualTo",
    "PropertyIsNotEqualTo",
    "PropertyIsLessThan",
    "PropertyIsGreaterThan",
    "PropertyIsLessThanOrEqualTo",
    "PropertyIsGreaterThanOrEqualTo",
    "PropertyIsLike",
    "PropertyIsNull",
    "PropertyIsNil",
    "PropertyIsBetween",
];

/// The spatial operators translated (FES 2.0 names) and their CQL2 functions.
pub const SPATIAL: &[(&str, &str)] = &[
    ("BBOX", "s_intersects"),
    ("Intersects", "s_intersects"),
    ("Within", "s_within"),
    ("Contains", "s_contains"),
    ("Disjoint", "s_disjoint"),
    ("Equals", "s_equals"),
    ("Touches", "s_touches"),
    ("Overlaps", "s_overlaps"),
    ("Crosses", "s_crosses"),
];

/// The GML geometry operands understood in filters.
pub const GEOMETRY_OPERANDS: &[&str] =
    &["Envelope", "Point", "LineString", "Polygon", "MultiPoint", "MultiCurve", "MultiSurface"];

const COMPARE_OPS: &[(&str, &str)] = &[
    ("PropertyIsEqualTo", "="),
    ("PropertyIsNotEqualTo", "<>"),
    ("PropertyIsLessThan", "<"),
    ("PropertyIsGreaterThan", ">"),
    ("PropertyIsLessThanOrEqualTo", "<="),
    ("PropertyIsGreaterThanOrEqualTo", ">="),
];

/// An operand of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A property (`ValueReference` / `PropertyName`), prefix and path stripped.
    Property(String),
    /// A literal, untyped until compared.
    Literal(String),
}

/// A geometry operand.
#[derive(Debug, Clone, PartialEq)]
pub enum Geom {
    /// An envelope: lower and upper corners, in the CRS's axis order.
    Envelope([f64; 4]),
    /// Any other geometry, as WKT in the CRS's axis order.
    Wkt(String),
}

/// A node of a filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// All of them.
    And(Vec<Node>),
    /// Any of them.
    Or(Vec<Node>),
    /// Not it.
    Not(Box<Node>),
    /// A binary comparison (`=`, `<>`, `<`, `>`, `<=`, `>=`).
    Compare {
        /// The CQL2 operator.
        op: &'static str,
        /// Left operand.
        left: Operand,
        /// Right operand.
        right: Operand,
        /// `matchCase` (true unless `"false"`).
        match_case: bool,
    },
    /// `PropertyIsLike`, the pattern already in SQL LIKE form (`%`, `_`, `\`).
    Like {
        /// The property.
        property: String,
        /// The pattern.
        pattern: String,
        /// `matchCase`.
        match_case: bool,
    },
    /// `PropertyIsNull` / `PropertyIsNil`.
    IsNull(String),
    /// `PropertyIsBetween`.
    Between {
        /// The property.
        property: String,
        /// Lower boundary.
        low: String,
        /// Upper boundary.
        high: String,
    },
    /// A spatial operator.
    Spatial {
        /// The CQL2 function.
        function: &'static str,
        /// The geometry property (`None`: the collection's geometry).
        property: Option<String>,
        /// The literal.
        geometry: Geom,
    },
    /// Features by id (`ResourceId`, `FeatureId`, `GmlObjectId`), as given.
    ResourceIds(Vec<String>),
}

/// A filter: its tree and the CRS its geometry literals name (the first `srsName` met).
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// The root.
    pub root: Node,
    /// The `srsName` of its geometry literals, when one is given.
    pub srs_name: Option<String>,
}

/// Reads a filter from its XML text.
///
/// # Errors
/// A sentence saying what cannot be read.
pub fn parse_text(text: &str, limits: crate::xml::Limits) -> Result<Filter, String> {
    let root = crate::xml::parse(text, limits)?;
    parse(&root)
}

/// Reads a `Filter` element.
///
/// # Errors
/// A sentence naming the element that cannot be read.
pub fn parse(filter: &Element) -> Result<Filter, String> {
    if filter.name != "Filter" {
        return Err(format!("expected a Filter element, got <{}>", filter.name));
    }
    let mut srs = None;
    let ids: Vec<&Element> = filter
        .children
        .iter()
        .filter(|c| matches!(c.name.as_str(), "ResourceId" | "FeatureId" | "GmlObjectId"))
        .collect();
    let root = if !ids.is_empty() {
        if ids.len() != filter.children.len() {
            return Err("a Filter holds either ResourceId elements or one predicate, not both".into());
        }
        let mut list = Vec::new();
        for id in ids {
            let value = id
                .attr("rid")
                .or_else(|| id.attr("fid"))
                .or_else(|| id.attr("id"))
                .ok_or_else(|| format!("<{}> without its id attribute (rid)", id.name))?;
            list.push(value.trim().to_owned());
        }
        Node::ResourceIds(list)
    } else {
        match filter.children.as_slice() {
            [one] => node(one, &mut srs, None)?,
            [] => return Err("an empty Filter".into()),
            _ => return Err("a Filter holds one predicate (combine several with And or Or)".into()),
        }
    };
    Ok(Filter { root, srs_name: srs })
}

/// A property name: prefix and any path before the last step left out.
fn property_name(e: &Element) -> Result<String, String> {
    let text = e.trimmed();
    let last = text.rsplit('/').next().unwrap_or(text);
    let last = last.rsplit_once(':').map_or(last, |(_, l)| l);
    if last.is_empty() {
        return Err(format!("an empty <{}>", e.name));
    }
    Ok(last.to_owned())
}

fn is_property(e: &Element) -> bool {
    matches!(e.name.as_str(), "ValueReference" | "PropertyName")
}

fn operand(e: &Element) -> Result<Operand, String> {
    if is_property(e) {
        return property_name(e).map(Operand::Property);
    }
    if e.name == "Literal" {
        return Ok(Operand::Literal(e.text.clone()));
    }
    Err(format!("<{}> is not supported as an operand (use ValueReference or Literal)", e.name))
}

fn property_child(e: &Element) -> Result<String, String> {
    let p =
        e.children.iter().find(|c| is_property(c)).ok_or_else(|| format!("<{}> names no ValueReference", e.name))?;
    property_name(p)
}

fn literal_of(e: &Element, what: &str) -> Result<String, String> {
    e.child("Literal").map(|l| l.text.clone()).ok_or_else(|| format!("<{what}> holds no Literal"))
}

fn node(e: &Element, srs: &mut Option<String>, inherited: Option<&str>) -> Result<Node, String> {
    let name = e.name.as_str();
    match name {
        "And" | "Or" => {
            let parts = e.children.iter().map(|c| node(c, srs, inherited)).collect::<Result<Vec<_>, _>>()?;
            if parts.is_empty() {
                return Err(format!("<{name}> needs operands"));
            }
            Ok(if name == "And" { Node::And(parts) } else { Node::Or(parts) })
        }
        "Not" => match e.children.as_slice() {
            [one] => Ok(Node::Not(Box::new(node(one, srs, inherited)?))),
            _ => Err("<Not> takes one predicate".into()),
        },
        _ if COMPARE_OPS.iter().any(|(n, _)| *n == name) => {
            let op = COMPARE_OPS.iter().find(|(n, _)| *n == name).map(|(_, op)| *op).unwrap_or("=");
            let [a, b] = e.children.as_slice() else {
                return Err(format!("<{name}> takes two operands"));
            };
            Ok(Node::Compare {
                op,
                left: operand(a)?,
                right: operand(b)?,
                match_case: e.attr("matchCase").is_none_or(|v| v.trim() != "false"),
            })
        }
        "PropertyIsLike" => {
            let property = property_child(e)?;
            let pattern = literal_of(e, name)?;
            let wild = e.attr("wildCard").unwrap_or("*");
            let single = e.attr("singleChar").unwrap_or("?");
            let escape = e.attr("escapeChar").or_else(|| e.attr("escape")).unwrap_or("\\");
            Ok(Node::Like {
                property,
                pattern: like_pattern(&pattern, wild, single, escape)?,
                match_case: e.attr("matchCase").is_none_or(|v| v.trim() != "false"),
            })
        }
        "PropertyIsNull" | "PropertyIsNil" => Ok(Node::IsNull(property_child(e)?)),
        "PropertyIsBetween" => {
            let property = property_child(e)?;
            let bound = |b: &str| -> Result<String, String> {
                let boundary = e.child(b).ok_or_else(|| format!("<PropertyIsBetween> has no <{b}>"))?;
                literal_of(boundary, b)
            };
            Ok(Node::Between { property, low: bound("LowerBoundary")?, high: bound("UpperBoundary")? })
        }
        _ if SPATIAL.iter().any(|(n, _)| *n == name) => {
            let function = SPATIAL.iter().find(|(n, _)| *n == name).map(|(_, f)| *f).unwrap_or("s_intersects");
            let property = e.children.iter().find(|c| is_property(c)).map(property_name).transpose()?;
            let g = e.children.iter().find(|c| !is_property(c)).ok_or_else(|| format!("<{name}> holds no geometry"))?;
            // A Literal may wrap the geometry.
            let g = if g.name == "Literal" { g.children.first().ok_or("<Literal> holds no geometry")? } else { g };
            if let Some(s) = g.attr("srsName").or(inherited) {
                srs.get_or_insert_with(|| s.trim().to_owned());
            }
            Ok(Node::Spatial { function, property, geometry: geometry(g)? })
        }
        "DWithin" | "Beyond" => Err(format!("<{name}> is not supported (see the Filter_Capabilities)")),
        "ResourceId" | "FeatureId" | "GmlObjectId" => {
            Err(format!("<{name}> must be a direct child of Filter, not inside <And>, <Or> or <Not>"))
        }
        other => Err(format!("<{other}> is not a supported filter operator")),
    }
}

/// A FES `PropertyIsLike` pattern as an SQL LIKE pattern (`%`, `_`, `\` escapes).
///
/// # Errors
/// When the wildcard, single character or escape is not one character, or the pattern ends
/// in its escape.
pub fn like_pattern(pattern: &str, wild: &str, single: &str, escape: &str) -> Result<String, String> {
    let one = |s: &str, what: &str| -> Result<char, String> {
        let mut chars = s.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => Ok(c),
            _ => Err(format!("PropertyIsLike: {what} must be one character, got \"{s}\"")),
        }
    };
    let (wild, single, escape) = (one(wild, "wildCard")?, one(single, "singleChar")?, one(escape, "escapeChar")?);
    let mut out = String::with_capacity(pattern.len() + 4);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == escape {
            let next = chars.next().ok_or("PropertyIsLike: the pattern ends in its escape character")?;
            push_literal(&mut out, next);
        } else if c == wild {
            out.push('%');
        } else if c == single {
            out.push('_');
        } else {
            push_literal(&mut out, c);
        }
    }
    Ok(out)
}

fn push_literal(out: &mut String, c: char) {
    if matches!(c, '%' | '_' | '\\') {
        out.push('\\');
    }
    out.push(c);
}

/// The numbers of a coordinate list (`pos`, `posList`, `lowerCorner`: space separated; GML 2
/// `coordinates`: tuples split by spaces, numbers by commas).
fn numbers(text: &str) -> Result<Vec<f64>, String> {
    text.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
        .map(|t| t.parse::<f64>().map_err(|_| format!("\"{t}\" is not a number")).and_then(finite))
        .collect()
}

fn finite(v: f64) -> Result<f64, String> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(format!("{v} is not a finite number"))
    }
}

/// The points of an element holding `pos`, `posList`, `coordinates` or `coord`.
fn points(e: &Element) -> Result<Vec<(f64, f64)>, String> {
    let dim = e
        .attr("srsDimension")
        .or_else(|| e.child("posList").and_then(|p| p.attr("srsDimension")))
        .map_or(Ok(2), |d| d.trim().parse::<usize>().map_err(|_| format!("srsDimension \"{d}\" is not a number")))?;
    if !(2..=3).contains(&dim) {
        return Err(format!("srsDimension {dim} is not supported (2 or 3)"));
    }
    let mut flat = Vec::new();
    let mut step = 2;
    if let Some(list) = e.child("posList") {
        flat = numbers(list.trimmed())?;
        step = dim;
    } else if let Some(c) = e.child("coordinates") {
        let tuples: Vec<&str> = c.trimmed().split_whitespace().collect();
        for t in &tuples {
            let n = numbers(t)?;
            if n.len() < 2 {
                return Err(format!("coordinates \"{t}\" has fewer than 2 numbers"));
            }
            flat.extend_from_slice(&n[..2]);
        }
    } else {
        for p in e.children_named("pos") {
            let n = numbers(p.trimmed())?;
            if n.len() < 2 {
                return Err("a pos needs 2 numbers".into());
            }
            flat.extend_from_slice(&n[..2]);
        }
        for c in e.children_named("coord") {
            let get = |n: &str| c.child(n).map(|x| numbers(x.trimmed())).transpose();
            match (get("X")?, get("Y")?) {
                (Some(x), Some(y)) if !x.is_empty() && !y.is_empty() => flat.extend([x[0], y[0]]),
                _ => return Err("a coord needs X and Y".into()),
            }
        }
    }
    if flat.len() % step != 0 || flat.is_empty() {
        return Err(format!("<{}>: {} numbers do not make points of {step}", e.name, flat.len()));
    }
    Ok(flat.chunks(step).map(|c| (c[0], c[1])).collect())
}

fn wkt_points(points: &[(f64, f64)]) -> String {
    points.iter().map(|(x, y)| format!("{x} {y}")).collect::<Vec<_>>().join(", ")
}

fn ring(e: &Element) -> Result<String, String> {
    let r = e.child("LinearRing").ok_or_else(|| format!("<{}> holds no LinearRing", e.name))?;
    let pts = points(r)?;
    if pts.len() < 4 || pts.first() != pts.last() {
        return Err("a LinearRing needs at least 4 points, the last equal to the first".into());
    }
    Ok(format!("({})", wkt_points(&pts)))
}

fn polygon_body(e: &Element) -> Result<String, String> {
    let exterior = e
        .child("exterior")
        .or_else(|| e.child("outerBoundaryIs"))
        .ok_or_else(|| "a Polygon holds no exterior".to_owned())?;
    let mut rings = vec![ring(exterior)?];
    for interior in e.children.iter().filter(|c| c.name == "interior" || c.name == "innerBoundaryIs") {
        rings.push(ring(interior)?);
    }
    Ok(format!("({})", rings.join(", ")))
}

/// The members of a multi-geometry (`…Member` elements, each holding one, or `…Members`
/// holding several).
fn members<'a>(e: &'a Element, inner: &'a str) -> Vec<&'a Element> {
    let mut out = Vec::new();
    for m in &e.children {
        if m.name.ends_with("Member") || m.name.ends_with("Members") {
            out.extend(m.children.iter().filter(|c| c.name == inner));
        }
    }
    out
}

fn geometry(e: &Element) -> Result<Geom, String> {
    match e.name.as_str() {
        "Envelope" | "Box" => {
            let corners = match (e.child("lowerCorner"), e.child("upperCorner")) {
                (Some(l), Some(u)) => {
                    let (l, u) = (numbers(l.trimmed())?, numbers(u.trimmed())?);
                    if l.len() < 2 || u.len() < 2 {
                        return Err("an Envelope's corners need 2 numbers each".into());
                    }
                    [l[0], l[1], u[0], u[1]]
                }
                _ => {
                    let p = points(e)?;
                    match p.as_slice() {
                        [a, b] => [a.0, a.1, b.0, b.1],
                        _ => return Err("an Envelope needs lowerCorner and upperCorner".into()),
                    }
                }
            };
            Ok(Geom::Envelope(corners))
        }
        "Point" => {
            let p = points(e)?;
            Ok(Geom::Wkt(format!("POINT({})", wkt_points(&p[..1]))))
        }
        "LineString" => {
            let p = points(e)?;
            if p.len() < 2 {
                return Err("a LineString needs 2 points".into());
            }
            Ok(Geom::Wkt(format!("LINESTRING({})", wkt_points(&p))))
        }
        "Polygon" => Ok(Geom::Wkt(format!("POLYGON{}", polygon_body(e)?))),
        "MultiPoint" => {
            let parts = members(e, "Point").into_iter().map(points).collect::<Result<Vec<_>, _>>()?;
            let list: Vec<String> = parts.iter().map(|p| format!("({})", wkt_points(&p[..1]))).collect();
            non_empty(&list, "MultiPoint")?;
            Ok(Geom::Wkt(format!("MULTIPOINT({})", list.join(", "))))
        }
        "MultiCurve" | "MultiLineString" => {
            let parts = members(e, "LineString").into_iter().map(points).collect::<Result<Vec<_>, _>>()?;
            let list: Vec<String> = parts.iter().map(|p| format!("({})", wkt_points(p))).collect();
            non_empty(&list, &e.name)?;
            Ok(Geom::Wkt(format!("MULTILINESTRING({})", list.join(", "))))
        }
        "MultiSurface" | "MultiPolygon" => {
            let list = members(e, "Polygon").into_iter().map(polygon_body).collect::<Result<Vec<_>, _>>()?;
            non_empty(&list, &e.name)?;
            Ok(Geom::Wkt(format!("MULTIPOLYGON({})", list.join(", "))))
        }
        other => Err(format!("<{other}> is not a supported geometry (see the Filter_Capabilities)")),
    }
}

fn non_empty(list: &[String], what: &str) -> Result<(), String> {
    if list.is_empty() {
        Err(format!("an empty {what}"))
    } else {
        Ok(())
    }
}

/// The collection's feature ids named by `ResourceId`s: `type.n` (or a bare `n`) of
/// `type_name`; ids of other types are left out (they match nothing here).
///
/// # Errors
/// An id of this type that is not a whole number.
pub fn ids_of(rids: &[String], type_name: &str) -> Result<Vec<i64>, String> {
    let mut out = Vec::new();
    for rid in rids {
        let rid = rid.trim();
        let number = match rid.strip_prefix(type_name).and_then(|r| r.strip_prefix('.')) {
            Some(n) => n,
            None if rid.bytes().all(|b| b.is_ascii_digit()) => rid,
            None => continue,
        };
        out.push(number.parse().map_err(|_| format!("\"{rid}\" is not an id of {type_name}"))?);
    }
    Ok(out)
}

/// The name of the id queryable a server adds so that `ResourceId` can be translated.
pub const ID_QUERYABLE: &str = "id";

impl Filter {
    /// The CQL2 expression of this filter over a collection named `type_name` with these
    /// queryables (which must hold [`ID_QUERYABLE`] for `ResourceId`).
    ///
    /// # Errors
    /// A sentence: an unknown property, a literal that is not of its property's type, an
    /// operator on the wrong kind of property.
    pub fn to_expr(&self, type_name: &str, queryables: &Queryables) -> Result<Expr, String> {
        expr(&self.root, type_name, queryables)
    }
}

fn op(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Operation { op: name.to_owned(), args: args.into_iter().map(Box::new).collect() }
}

fn kind_of(queryables: &Queryables, name: &str) -> Result<Kind, String> {
    queryables
        .get(name)
        .map(|q| q.kind)
        .ok_or_else(|| format!("unknown property \"{name}\" (properties: {})", queryables.names()))
}

/// A literal as the type of a property.
fn typed(text: &str, kind: Kind) -> Result<Expr, String> {
    let t = text.trim();
    match kind {
        Kind::Integer | Kind::Float | Kind::FloatArray => t
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .map(Expr::Float)
            .ok_or_else(|| format!("\"{t}\" is not a number")),
        Kind::Boolean => match t {
            "true" | "1" => Ok(Expr::Bool(true)),
            "false" | "0" => Ok(Expr::Bool(false)),
            _ => Err(format!("\"{t}\" is not a boolean")),
        },
        Kind::Date => Ok(Expr::Date { date: Box::new(Expr::Literal(t.to_owned())) }),
        Kind::Timestamp => Ok(Expr::Timestamp { timestamp: Box::new(Expr::Literal(t.to_owned())) }),
        Kind::Text | Kind::TextArray => Ok(Expr::Literal(text.to_owned())),
        Kind::Geometry(_) => Err("a geometry property is compared with spatial operators".into()),
    }
}

fn property(name: &str) -> Expr {
    Expr::Property { property: name.to_owned() }
}

fn expr(n: &Node, type_name: &str, q: &Queryables) -> Result<Expr, String> {
    Ok(match n {
        Node::And(parts) | Node::Or(parts) => {
            let args = parts.iter().map(|p| expr(p, type_name, q)).collect::<Result<Vec<_>, _>>()?;
            if args.len() == 1 {
                return args.into_iter().next().ok_or_else(|| "an empty And".to_owned());
            }
            op(if matches!(n, Node::And(_)) { "and" } else { "or" }, args)
        }
        Node::Not(inner) => op("not", vec![expr(inner, type_name, q)?]),
        Node::Compare { op: cmp, left, right, match_case } => {
            let (name, literal, swapped) = match (left, right) {
                (Operand::Property(p), Operand::Literal(l)) => (p, l, false),
                (Operand::Literal(l), Operand::Property(p)) => (p, l, true),
                (Operand::Property(a), Operand::Property(b)) => {
                    let (ka, kb) = (kind_of(q, a)?, kind_of(q, b)?);
                    let (mut a, mut b) = (property(a), property(b));
                    if !match_case && ka == Kind::Text && kb == Kind::Text {
                        (a, b) = (op("casei", vec![a]), op("casei", vec![b]));
                    }
                    return Ok(op(cmp, vec![a, b]));
                }
                (Operand::Literal(_), Operand::Literal(_)) => {
                    return Err("a comparison of two literals names no property".into())
                }
            };
            let kind = kind_of(q, name)?;
            if matches!(kind, Kind::TextArray | Kind::FloatArray) {
                // A list property equals a value when it holds it.
                let holds = op("a_overlaps", vec![property(name), Expr::Array(vec![Box::new(typed(literal, kind)?)])]);
                return match *cmp {
                    "=" => Ok(holds),
                    "<>" => Ok(op("not", vec![holds])),
                    other => Err(format!("\"{name}\" is a list: only equality applies to it, not {other}")),
                };
            }
            let (mut p, mut v) = (property(name), typed(literal, kind)?);
            if !match_case && kind == Kind::Text {
                (p, v) = (op("casei", vec![p]), op("casei", vec![v]));
            }
            if swapped {
                op(cmp, vec![v, p])
            } else {
                op(cmp, vec![p, v])
            }
        }
        Node::Like { property: name, pattern, match_case } => {
            if kind_of(q, name)? != Kind::Text {
                return Err(format!("PropertyIsLike needs a text property; \"{name}\" is not one"));
            }
            let (p, v) = (property(name), Expr::Literal(pattern.clone()));
            if *match_case {
                op("like", vec![p, v])
            } else {
                op("like", vec![op("casei", vec![p]), op("casei", vec![v])])
            }
        }
        Node::IsNull(name) => {
            kind_of(q, name)?;
            op("isNull", vec![property(name)])
        }
        Node::Between { property: name, low, high } => {
            let kind = kind_of(q, name)?;
            op("between", vec![property(name), typed(low, kind)?, typed(high, kind)?])
        }
        Node::Spatial { function, property: name, geometry } => {
            let name = name.clone().unwrap_or_else(|| "geometry".to_owned());
            if !matches!(kind_of(q, &name)?, Kind::Geometry(_)) {
                return Err(format!("\"{name}\" is not a geometry"));
            }
            let literal = match geometry {
                Geom::Envelope(c) => Expr::BBox { bbox: c.iter().map(|v| Box::new(Expr::Float(*v))).collect() },
                Geom::Wkt(wkt) => Expr::Geometry(Geometry::Wkt(wkt.clone())),
            };
            op(function, vec![property(&name), literal])
        }
        Node::ResourceIds(rids) => {
            let ids = ids_of(rids, type_name)?;
            if ids.is_empty() {
                return Ok(Expr::Bool(false));
            }
            // Feature ids stay far below 2^53: exact as numbers.
            let list = ids.into_iter().map(|i| Box::new(Expr::Float(i as f64))).collect();
            op("in", vec![property(ID_QUERYABLE), Expr::Array(list)])
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use geosector_domain::{FieldType, GeometrySpec, Property};

    fn queryables() -> Queryables {
        let props = [
            Property { name: "commune_code", kind: FieldType::Code { digits: 5 } },
            Property { name: "area_m2", kind: FieldType::Float },
            Property { name: "land_use_codes", kind: FieldType::TextList },
            Property { name: "survey_date", kind: FieldType::Date },
        ];
        Queryables::new(&props, Some(&GeometrySpec::multipolygon(true))).with_column(ID_QUERYABLE, Kind::Integer)
    }

    fn cql(xml: &str) -> String {
        let f = parse_text(xml, crate::xml::Limits::default()).unwrap();
        serde_json::to_string(&f.to_expr("land.parcels", &queryables()).unwrap()).unwrap()
    }

    const NS: &str = r#"xmlns:fes="http://www.opengis.net/fes/2.0" xmlns:gml="http://www.opengis.net/gml/3.2""#;

    #[test]
    fn comparisons_take_their_property_type() {
        let json = cql(&format!(
            r#"<fes:Filter {NS}><fes:And>
                 <fes:PropertyIsEqualTo><fes:ValueReference>gs:commune_code</fes:ValueReference><fes:Literal>00376</fes:Literal></fes:PropertyIsEqualTo>
                 <fes:PropertyIsGreaterThan><fes:ValueReference>area_m2</fes:ValueReference><fes:Literal>150.5</fes:Literal></fes:PropertyIsGreaterThan>
                 <fes:PropertyIsBetween><fes:ValueReference>survey_date</fes:ValueReference><fes:LowerBoundary><fes:Literal>2020-01-01</fes:Literal></fes:LowerBoundary><fes:UpperBoundary><fes:Literal>2021-01-01</fes:Literal></fes:UpperBoundary></fes:PropertyIsBetween>
                 <fes:Not><fes:PropertyIsNull><fes:ValueReference>survey_date</fes:ValueReference></fes:PropertyIsNull></fes:Not>
                 <fes:PropertyIsEqualTo><fes:ValueReference>land_use_codes</fes:ValueReference><fes:Literal>ONT</fes:Literal></fes:PropertyIsEqualTo>
               </fes:And></fes:Filter>"#
        ));
        assert!(json.contains(r#"{"op":"=","args":[{"property":"commune_code"},"00376"]}"#), "{json}");
        assert!(json.contains(r#"{"op":">","args":[{"property":"area_m2"},150.5]}"#), "{json}");
        assert!(json.contains(r#""op":"between""#) && json.contains(r#"{"date":"2020-01-01"}"#), "{json}");
        assert!(json.contains(r#"{"op":"not","args":[{"op":"isNull""#), "{json}");
        assert!(json.contains(r#"{"op":"a_overlaps","args":[{"property":"land_use_codes"},["ONT"]]}"#), "{json}");
    }

    #[test]
    fn like_patterns_become_sql_patterns() {
        assert_eq!(like_pattern("a*b?c!*d%_", "*", "?", "!").unwrap(), "a%b_c*d\\%\\_");
        assert!(like_pattern("abc!", "*", "?", "!").is_err());
        assert!(like_pattern("a", "**", "?", "!").is_err());
        let json = cql(&format!(
            r#"<fes:Filter {NS}><fes:PropertyIsLike wildCard="*" singleChar="." escapeChar="\" matchCase="false"><fes:ValueReference>commune_code</fes:ValueReference><fes:Literal>003*</fes:Literal></fes:PropertyIsLike></fes:Filter>"#
        ));
        assert_eq!(
            json,
            r#"{"op":"like","args":[{"op":"casei","args":[{"property":"commune_code"}]},{"op":"casei","args":["003%"]}]}"#
        );
    }

    #[test]
    fn spatial_operators_carry_their_geometry_and_crs() {
        let f = parse_text(
            &format!(
                r#"<fes:Filter {NS}><fes:BBOX><fes:ValueReference>geom</fes:ValueReference><gml:Envelope srsName="urn:ogc:def:crs:EPSG::4326"><gml:lowerCorner>21 105</gml:lowerCorner><gml:upperCorner>22 106</gml:upperCorner></gml:Envelope></fes:BBOX></fes:Filter>"#
            ),
            crate::xml::Limits::default(),
        )
        .unwrap();
        assert_eq!(f.srs_name.as_deref(), Some("urn:ogc:def:crs:EPSG::4326"));
        let json = serde_json::to_string(&f.to_expr("land.parcels", &queryables()).unwrap()).unwrap();
        assert_eq!(json, r#"{"op":"s_intersects","args":[{"property":"geom"},{"bbox":[21.0,105.0,22.0,106.0]}]}"#);
        let within = cql(&format!(
            r#"<fes:Filter {NS}><fes:Within><fes:ValueReference>geom</fes:ValueReference><gml:Polygon gml:id="p"><gml:exterior><gml:LinearRing><gml:posList>0 0 1 0 1 1 0 0</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></fes:Within></fes:Filter>"#
        ));
        assert!(within.contains(r#""op":"s_within""#) && within.contains("Polygon"), "{within}");
        let f = parse_text(
            &format!(r#"<fes:Filter {NS}><fes:Intersects><fes:ValueReference>geom</fes:ValueReference><gml:MultiSurface><gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing><gml:posList>0 0 1 0 1 1 0 0</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember></gml:MultiSurface></fes:Intersects></fes:Filter>"#),
            crate::xml::Limits::default(),
        )
        .unwrap();
        assert_eq!(
            f.root,
            Node::Spatial {
                function: "s_intersects",
                property: Some("geom".into()),
                geometry: Geom::Wkt("MULTIPOLYGON(((0 0, 1 0, 1 1, 0 0)))".into())
            }
        );
    }

    #[test]
    fn resource_ids_become_an_id_list() {
        let json = cql(&format!(
            r#"<fes:Filter {NS}><fes:ResourceId rid="land.parcels.12"/><fes:ResourceId rid="other.type.3"/><fes:ResourceId rid="14"/></fes:Filter>"#
        ));
        assert_eq!(json, r#"{"op":"in","args":[{"property":"id"},[12.0,14.0]]}"#);
        assert_eq!(cql(&format!(r#"<fes:Filter {NS}><fes:ResourceId rid="x.1"/></fes:Filter>"#)), "false");
    }

    #[test]
    fn what_cannot_be_translated_says_why() {
        let bad = |xml: &str| {
            let f = parse_text(xml, crate::xml::Limits::default());
            match f {
                Err(e) => e,
                Ok(f) => f.to_expr("land.parcels", &queryables()).unwrap_err(),
            }
        };
        assert!(bad(&format!(r#"<fes:Filter {NS}><fes:PropertyIsEqualTo><fes:ValueReference>owner</fes:ValueReference><fes:Literal>x</fes:Literal></fes:PropertyIsEqualTo></fes:Filter>"#)).contains("unknown property \"owner\""));
        assert!(bad(&format!(r#"<fes:Filter {NS}><fes:PropertyIsEqualTo><fes:ValueReference>area_m2</fes:ValueReference><fes:Literal>big</fes:Literal></fes:PropertyIsEqualTo></fes:Filter>"#)).contains("not a number"));
        assert!(bad(&format!(r#"<fes:Filter {NS}><fes:DWithin/></fes:Filter>"#)).contains("not supported"));
        assert!(bad(&format!(r#"<fes:Filter {NS}><fes:Foo/></fes:Filter>"#)).contains("<Foo>"));
        assert!(bad("<Filter/>").contains("empty"));
        assert!(bad(&format!(r#"<fes:Filter {NS}><fes:And><fes:ResourceId rid="1"/></fes:And></fes:Filter>"#))
            .contains("direct child"));
    }
}
