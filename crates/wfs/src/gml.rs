//! GML 3.2 (WFS 2.0) and GML 3.1.1 (WFS 1.1.0) features, simple features profile, written
//! from what the store's statements give: the id, the geometry as GeoJSON text (already in the
//! requested CRS and axis order) and the properties as a JSON object.
//!
//! The geometry is rewritten without parsing its numbers: the coordinate text is copied as is
//! (9 decimals, as PostGIS wrote it) into `gml:pos` / `gml:posList`, so a feature costs one scan
//! of its coordinates. Properties are written in declaration order (the order of the feature
//! type's XML Schema); a null is left out (every property is `minOccurs="0"`), a list repeats
//! its element, a JSON value is its text.

use std::collections::HashMap;

use bytes::{BufMut, BytesMut};
use geosector_domain::FieldType;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::xml::escape;

/// The GML version written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GmlVersion {
    /// GML 3.2 (namespace `http://www.opengis.net/gml/3.2`).
    V32,
    /// GML 3.1.1 (namespace `http://www.opengis.net/gml`).
    V31,
}

impl GmlVersion {
    /// Its namespace.
    pub fn namespace(self) -> &'static str {
        match self {
            GmlVersion::V32 => crate::GML32_NS,
            GmlVersion::V31 => crate::GML31_NS,
        }
    }
}

/// The XML Schema type of a property's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XsdType {
    /// `xsd:string`.
    String,
    /// `xsd:long`.
    Long,
    /// `xsd:double`.
    Double,
    /// `xsd:boolean`.
    Boolean,
    /// `xsd:date`.
    Date,
    /// `xsd:dateTime`.
    DateTime,
}

impl XsdType {
    /// The type's qualified name.
    pub fn qname(self) -> &'static str {
        match self {
            XsdType::String => "xsd:string",
            XsdType::Long => "xsd:long",
            XsdType::Double => "xsd:double",
            XsdType::Boolean => "xsd:boolean",
            XsdType::Date => "xsd:date",
            XsdType::DateTime => "xsd:dateTime",
        }
    }
}

/// A property of a feature type: name, type, and whether it holds a list (repeated element).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertySpec {
    /// Its name (the element's local name).
    pub name: &'static str,
    /// The values' type.
    pub xsd: XsdType,
    /// Whether it holds a list.
    pub list: bool,
}

impl PropertySpec {
    /// The spec of a declared property; `masked` ones are text (their mask's output).
    pub fn of(name: &'static str, kind: FieldType, masked: bool) -> PropertySpec {
        let (xsd, list) = match kind {
            _ if masked => (XsdType::String, false),
            FieldType::Text | FieldType::Code { .. } | FieldType::Json => (XsdType::String, false),
            FieldType::Integer => (XsdType::Long, false),
            FieldType::Float => (XsdType::Double, false),
            FieldType::Boolean => (XsdType::Boolean, false),
            FieldType::Date => (XsdType::Date, false),
            FieldType::Timestamp | FieldType::UtcTimestamp => (XsdType::DateTime, false),
            FieldType::TextList => (XsdType::String, true),
            FieldType::FloatList => (XsdType::Double, true),
        };
        PropertySpec { name, xsd, list }
    }
}

/// The geometry property of a feature type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GeometrySpec {
    /// Its name.
    pub name: &'static str,
    /// Its kind.
    pub kind: geosector_domain::GeometryKind,
}

impl GeometrySpec {
    /// The GML property type of the schema.
    pub fn property_type(&self) -> &'static str {
        match self.kind {
            geosector_domain::GeometryKind::Point => "gml:PointPropertyType",
            geosector_domain::GeometryKind::MultiLineString => "gml:MultiCurvePropertyType",
            geosector_domain::GeometryKind::MultiPolygon => "gml:MultiSurfacePropertyType",
        }
    }
}

/// Writes the features of one type.
#[derive(Debug, Clone)]
pub struct FeatureWriter {
    /// GML version.
    pub version: GmlVersion,
    /// The feature type's name (the collection id).
    pub type_name: String,
    /// The `srsName` written on geometries.
    pub srs_name: String,
    /// The properties, in schema order.
    pub properties: Vec<PropertySpec>,
    /// The geometry property.
    pub geometry: Option<GeometrySpec>,
}

impl FeatureWriter {
    /// Writes one feature element (`gs:<type> gml:id="<type>.<id>"`), without its member
    /// wrapper.
    ///
    /// # Errors
    /// When the properties are not a JSON object or the geometry is not GeoJSON of a supported
    /// type (the statement's output, so a server fault).
    pub fn write(&self, out: &mut BytesMut, id: i64, geometry: Option<&str>, properties: &str) -> Result<(), String> {
        let ty = &self.type_name;
        let fail = |e: serde_json::Error| format!("properties of {ty}.{id}: {e}");
        let id_text = id.to_string();
        out.put_slice(b"<gs:");
        out.put_slice(ty.as_bytes());
        out.put_slice(b" gml:id=\"");
        out.put_slice(ty.as_bytes());
        out.put_u8(b'.');
        out.put_slice(id_text.as_bytes());
        out.put_slice(b"\">");
        // The values are written from their JSON text: no tree of values per feature.
        let values: HashMap<&str, &RawValue> = serde_json::from_str(properties).map_err(fail)?;
        for p in &self.properties {
            let Some(raw) = values.get(p.name) else { continue };
            match raw.get().as_bytes().first() {
                Some(b'n') => {}
                Some(b'[') => {
                    let items: Vec<&RawValue> = serde_json::from_str(raw.get()).map_err(fail)?;
                    for item in items.into_iter().filter(|i| i.get() != "null") {
                        write_value(out, p.name, item).map_err(fail)?;
                    }
                }
                _ => write_value(out, p.name, raw).map_err(fail)?,
            }
        }
        if let (Some(g), Some(json)) = (&self.geometry, geometry) {
            tag(out, b"<gs:", g.name);
            let gid = format!("{ty}.{id_text}.g");
            geometry_gml(out, json, &self.srs_name, &gid)?;
            tag(out, b"</gs:", g.name);
        }
        tag(out, b"</gs:", ty);
        Ok(())
    }
}

/// `<gs:name>` or `</gs:name>`, as `start` says.
fn tag(out: &mut BytesMut, start: &[u8], name: &str) {
    out.put_slice(start);
    out.put_slice(name.as_bytes());
    out.put_u8(b'>');
}

/// One property element from the value's JSON text: a string unescaped from JSON and escaped
/// for XML, a number or boolean as written, an object or list as its compact JSON text.
fn write_value(out: &mut BytesMut, name: &str, raw: &RawValue) -> Result<(), serde_json::Error> {
    let text = raw.get();
    tag(out, b"<gs:", name);
    match text.as_bytes().first() {
        Some(b'"') => match serde_json::from_str::<&str>(text) {
            Ok(plain) => put_escaped(out, plain),
            // Escapes in the JSON string: it cannot be borrowed.
            Err(_) => put_escaped(out, &serde_json::from_str::<String>(text)?),
        },
        Some(b'{' | b'[') => put_escaped(out, &serde_json::from_str::<Value>(text)?.to_string()),
        _ => out.put_slice(text.as_bytes()),
    }
    tag(out, b"</gs:", name);
    Ok(())
}

/// Text escaped for XML; as it is when nothing in it needs escaping.
fn put_escaped(out: &mut BytesMut, text: &str) {
    let plain = !text.bytes().any(|b| matches!(b, b'&' | b'<' | b'>' | b'"' | b'\'') || b < 0x20);
    if plain {
        out.put_slice(text.as_bytes());
    } else {
        out.put_slice(escape(text).as_bytes());
    }
}

/// A cursor over the coordinates of a GeoJSON geometry.
struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn skip_ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        self.skip_ws();
        if self.s.get(self.i) == Some(&b) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, b: u8) -> Result<(), String> {
        if self.eat(b) {
            Ok(())
        } else {
            Err(format!("expected '{}' at {} of the geometry", b as char, self.i))
        }
    }

    fn number(&mut self) -> Result<&'a [u8], String> {
        self.skip_ws();
        let start = self.i;
        while self.i < self.s.len() && matches!(self.s[self.i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
            self.i += 1;
        }
        if start == self.i {
            return Err(format!("expected a number at {start} of the geometry"));
        }
        Ok(&self.s[start..self.i])
    }

    /// `[x, y(, z)]` written as `x y` (a third ordinate is dropped: 2D profile).
    fn position(&mut self, out: &mut BytesMut) -> Result<(), String> {
        self.expect(b'[')?;
        let x = self.number()?;
        self.expect(b',')?;
        let y = self.number()?;
        while self.eat(b',') {
            self.number()?;
        }
        self.expect(b']')?;
        out.put_slice(x);
        out.put_u8(b' ');
        out.put_slice(y);
        Ok(())
    }

    /// `[[x, y], ...]` written as a posList's text.
    fn positions(&mut self, out: &mut BytesMut) -> Result<(), String> {
        self.expect(b'[')?;
        let mut first = true;
        loop {
            if !first && !self.eat(b',') {
                break;
            }
            if !first {
                out.put_u8(b' ');
            }
            self.position(out)?;
            first = false;
        }
        self.expect(b']')
    }

    /// A list of items, each written by `item`.
    fn list(
        &mut self,
        out: &mut BytesMut,
        mut item: impl FnMut(&mut Self, &mut BytesMut, usize) -> Result<(), String>,
    ) -> Result<(), String> {
        self.expect(b'[')?;
        if self.eat(b']') {
            return Ok(());
        }
        let mut n = 0;
        loop {
            item(self, out, n)?;
            n += 1;
            if !self.eat(b',') {
                break;
            }
        }
        self.expect(b']')
    }
}

/// An opening tag; a geometry carries its `gml:id` (GML 3.2 requires one on every geometry),
/// the outer one also `srsName` and `srsDimension`.
fn open(out: &mut BytesMut, element: &str, id: Option<&str>, srs: Option<&str>) {
    out.put_slice(b"<gml:");
    out.put_slice(element.as_bytes());
    if let Some(gid) = id {
        out.put_slice(b" gml:id=\"");
        out.put_slice(gid.as_bytes());
        out.put_u8(b'"');
    }
    if let Some(srs) = srs {
        out.put_slice(b" srsName=\"");
        out.put_slice(srs.as_bytes());
        out.put_slice(b"\" srsDimension=\"2\"");
    }
    out.put_u8(b'>');
}

fn close(out: &mut BytesMut, element: &str) {
    out.put_slice(b"</gml:");
    out.put_slice(element.as_bytes());
    out.put_u8(b'>');
}

fn polygon(c: &mut Cursor<'_>, out: &mut BytesMut, id: &str, srs: Option<&str>) -> Result<(), String> {
    open(out, "Polygon", Some(id), srs);
    c.list(out, |c, out, n| {
        let wrapper = if n == 0 { "exterior" } else { "interior" };
        open(out, wrapper, None, None);
        out.put_slice(b"<gml:LinearRing><gml:posList>");
        c.positions(out)?;
        out.put_slice(b"</gml:posList></gml:LinearRing>");
        close(out, wrapper);
        Ok(())
    })?;
    close(out, "Polygon");
    Ok(())
}

fn line(c: &mut Cursor<'_>, out: &mut BytesMut, id: &str, srs: Option<&str>) -> Result<(), String> {
    open(out, "LineString", Some(id), srs);
    out.put_slice(b"<gml:posList>");
    c.positions(out)?;
    out.put_slice(b"</gml:posList>");
    close(out, "LineString");
    Ok(())
}

fn point(c: &mut Cursor<'_>, out: &mut BytesMut, id: &str, srs: Option<&str>) -> Result<(), String> {
    open(out, "Point", Some(id), srs);
    out.put_slice(b"<gml:pos>");
    c.position(out)?;
    out.put_slice(b"</gml:pos>");
    close(out, "Point");
    Ok(())
}

/// Writes a GeoJSON geometry (`{"type":…,"coordinates":…}` as PostGIS writes it) as GML, with
/// `gml:id`, `srsName` and `srsDimension` on the outer element.
///
/// # Errors
/// When the text is not such a geometry.
pub fn geometry_gml(out: &mut BytesMut, json: &str, srs_name: &str, gid: &str) -> Result<(), String> {
    let kind = member(json, "\"type\"").ok_or("a geometry without its type")?;
    let kind = kind.trim().trim_matches('"');
    let at = json.find("\"coordinates\"").ok_or("a geometry without coordinates")?;
    let rest = &json[at + "\"coordinates\"".len()..];
    let rest = rest.trim_start().strip_prefix(':').ok_or("a geometry without coordinates")?;
    let mut c = Cursor { s: rest.as_bytes(), i: 0 };
    let top = Some(srs_name);
    match kind {
        "Point" => point(&mut c, out, gid, top),
        "LineString" => line(&mut c, out, gid, top),
        "Polygon" => polygon(&mut c, out, gid, top),
        "MultiPoint" => multi(&mut c, out, gid, top, "MultiPoint", "pointMember", point),
        "MultiLineString" => multi(&mut c, out, gid, top, "MultiCurve", "curveMember", line),
        "MultiPolygon" => multi(&mut c, out, gid, top, "MultiSurface", "surfaceMember", polygon),
        other => Err(format!("geometry type {other} is not written as GML")),
    }
}

fn multi(
    c: &mut Cursor<'_>,
    out: &mut BytesMut,
    gid: &str,
    srs: Option<&str>,
    element: &str,
    member_element: &str,
    item: fn(&mut Cursor<'_>, &mut BytesMut, &str, Option<&str>) -> Result<(), String>,
) -> Result<(), String> {
    open(out, element, Some(gid), srs);
    c.list(out, |c, out, n| {
        open(out, member_element, None, None);
        item(c, out, &format!("{gid}.{n}"), None)?;
        close(out, member_element);
        Ok(())
    })?;
    close(out, element);
    Ok(())
}

/// The text of a top-level member's value up to the next comma (enough for `"type"`).
fn member<'a>(json: &'a str, key: &str) -> Option<&'a str> {
    let at = json.find(key)?;
    let rest = json[at + key.len()..].trim_start().strip_prefix(':')?;
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    Some(&rest[..end])
}

/// The opening of a WFS 2.0 `wfs:FeatureCollection` (its members follow, each in
/// `wfs:member`).
pub fn collection_start_v200(
    number_matched: Option<i64>,
    number_returned: i64,
    time_stamp: &str,
    next: Option<&str>,
    previous: Option<&str>,
) -> String {
    let matched = number_matched.map_or("unknown".to_owned(), |n| n.to_string());
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<wfs:FeatureCollection xmlns:wfs=\"{}\" xmlns:gml=\"{}\" xmlns:gs=\"{}\" xmlns:xsi=\"{}\" timeStamp=\"{time_stamp}\" numberMatched=\"{matched}\" numberReturned=\"{number_returned}\"",
        crate::WFS20_NS,
        crate::GML32_NS,
        crate::FEATURE_NS,
        crate::XSI_NS,
    );
    for (name, url) in [("next", next), ("previous", previous)] {
        if let Some(url) = url {
            out.push_str(&format!(" {name}=\"{}\"", escape(url)));
        }
    }
    out.push('>');
    out
}

/// The opening of a WFS 1.1.0 `wfs:FeatureCollection` (members in `gml:featureMember`).
pub fn collection_start_v110(number_returned: i64, time_stamp: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<wfs:FeatureCollection xmlns:wfs=\"{}\" xmlns:gml=\"{}\" xmlns:gs=\"{}\" xmlns:xsi=\"{}\" timeStamp=\"{time_stamp}\" numberOfFeatures=\"{number_returned}\">",
        crate::WFS11_NS,
        crate::GML31_NS,
        crate::FEATURE_NS,
        crate::XSI_NS,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use geosector_domain::GeometryKind;

    fn gml(json: &str) -> String {
        let mut out = BytesMut::new();
        geometry_gml(&mut out, json, "urn:ogc:def:crs:EPSG::4326", "t.1.g").unwrap();
        String::from_utf8(out.to_vec()).unwrap()
    }

    #[test]
    fn geometries_copy_their_coordinate_text() {
        assert_eq!(
            gml(r#"{"type":"Point","coordinates":[105.123456789,21.5]}"#),
            "<gml:Point gml:id=\"t.1.g\" srsName=\"urn:ogc:def:crs:EPSG::4326\" srsDimension=\"2\"><gml:pos>105.123456789 21.5</gml:pos></gml:Point>"
        );
        let multi = gml(
            r#"{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]],[[0.1,0.1],[0.2,0.1],[0.2,0.2],[0.1,0.1]]],[[[5,5],[6,5],[6,6],[5,5]]]]}"#,
        );
        assert!(multi.starts_with("<gml:MultiSurface gml:id=\"t.1.g\""), "{multi}");
        assert!(
            multi.contains("<gml:surfaceMember><gml:Polygon gml:id=\"t.1.g.0\">")
                && multi.contains("<gml:Polygon gml:id=\"t.1.g.1\">"),
            "{multi}"
        );
        assert!(multi.contains("<gml:exterior><gml:LinearRing><gml:posList>0 0 1 0 1 1 0 0</gml:posList></gml:LinearRing></gml:exterior><gml:interior>"));
        let lines = gml(r#"{"type":"MultiLineString","coordinates":[[[1e-05,2],[3,4]]]}"#);
        assert!(
            lines
                .contains("<gml:curveMember><gml:LineString gml:id=\"t.1.g.0\"><gml:posList>1e-05 2 3 4</gml:posList>"),
            "{lines}"
        );
        let mut out = BytesMut::new();
        assert!(geometry_gml(&mut out, r#"{"type":"GeometryCollection","geometries":[]}"#, "x", "g").is_err());
        assert!(geometry_gml(&mut out, r#"{"type":"Point","coordinates":[1]}"#, "x", "g").is_err());
    }

    #[test]
    fn features_write_properties_in_schema_order_and_leave_nulls_out() {
        let writer = FeatureWriter {
            version: GmlVersion::V32,
            type_name: "land.parcels".into(),
            srs_name: "urn:ogc:def:crs:EPSG::4326".into(),
            properties: vec![
                PropertySpec::of("parcel_number", FieldType::Integer, false),
                PropertySpec::of("land_use_codes", FieldType::TextList, false),
                PropertySpec::of("owner", FieldType::Text, false),
                PropertySpec::of("note", FieldType::Text, false),
            ],
            geometry: Some(GeometrySpec { name: "geom", kind: GeometryKind::Point }),
        };
        let mut out = BytesMut::new();
        writer
            .write(
                &mut out,
                7,
                Some(r#"{"type":"Point","coordinates":[1,2]}"#),
                r#"{"note":"a < b & c","owner":null,"land_use_codes":["ONT","CLN"],"parcel_number":12}"#,
            )
            .unwrap();
        let text = String::from_utf8(out.to_vec()).unwrap();
        assert_eq!(
            text,
            "<gs:land.parcels gml:id=\"land.parcels.7\"><gs:parcel_number>12</gs:parcel_number><gs:land_use_codes>ONT</gs:land_use_codes><gs:land_use_codes>CLN</gs:land_use_codes><gs:note>a &lt; b &amp; c</gs:note><gs:geom><gml:Point gml:id=\"land.parcels.7.g\" srsName=\"urn:ogc:def:crs:EPSG::4326\" srsDimension=\"2\"><gml:pos>1 2</gml:pos></gml:Point></gs:geom></gs:land.parcels>"
        );
        let start = collection_start_v200(None, 1, "2026-01-01T00:00:00Z", Some("http://x/wfs?a=1&b=2"), None);
        assert!(start.contains("numberMatched=\"unknown\" numberReturned=\"1\" next=\"http://x/wfs?a=1&amp;b=2\""));
    }
}
