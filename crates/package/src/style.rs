//! A collection's style declaration as the QGIS layer style (QML) and an OGC SLD 1.1 the
//! GeoPackage's `layer_styles` holds: a simple fill, line or marker in the declared colours, or
//! — when the fill is coloured by code — one category per code (legacy codes with their
//! successor's colour, any other value with the `unknown` colour).
//!
//! Symbol layers are written as `<prop k v>` pairs, which every QGIS 3 reads (3.22 included).

use std::fmt::Write as _;

use geosector_domain::{GeometryKind, StyleDecl, Width};

/// `#rrggbb` as `r,g,b`.
fn rgb(colour: &str) -> String {
    let hex = colour.trim_start_matches('#');
    let channel = |i: usize| hex.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()).unwrap_or(0);
    format!("{},{},{}", channel(0), channel(2), channel(4))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

/// The line width in millimetres (QGIS's unit; a pixel is 0.26 mm at 96 dpi).
fn width_mm(style: &StyleDecl, kind: GeometryKind) -> f64 {
    let px = match style.outline.width {
        Some(Width::Fixed(w)) => w,
        Some(Width::Zoom { to, .. }) => to.1,
        None if kind == GeometryKind::MultiLineString => 2.0,
        None => 1.0,
    };
    (px * 0.26 * 100.0).round() / 100.0
}

/// One QGIS symbol in a colour.
fn symbol(out: &mut String, name: &str, style: &StyleDecl, kind: GeometryKind, colour: &str) {
    let outline = rgb(style.outline.colour.unwrap_or(style.colour));
    let width = width_mm(style, kind);
    let pen = if style.outline.dashed { "dash" } else { "solid" };
    let prop = |out: &mut String, k: &str, v: &str| {
        let _ = write!(out, "<prop k=\"{k}\" v=\"{}\"/>", escape(v));
    };
    match kind {
        GeometryKind::MultiPolygon => {
            let alpha = style.fill.map_or(0, |f| (f.opacity.clamp(0.0, 1.0) * 255.0).round() as u8);
            let _ = write!(out, "<symbol type=\"fill\" name=\"{name}\" alpha=\"1\" clip_to_extent=\"1\" force_rhr=\"0\"><layer class=\"SimpleFill\" enabled=\"1\" locked=\"0\" pass=\"0\">");
            prop(out, "color", &format!("{},{alpha}", rgb(colour)));
            prop(out, "style", if style.fill.is_some() { "solid" } else { "no" });
            prop(out, "outline_color", &format!("{outline},255"));
            prop(out, "outline_style", pen);
            prop(out, "outline_width", &width.to_string());
            prop(out, "outline_width_unit", "MM");
            prop(out, "joinstyle", "bevel");
        }
        GeometryKind::MultiLineString => {
            let _ = write!(out, "<symbol type=\"line\" name=\"{name}\" alpha=\"1\" clip_to_extent=\"1\" force_rhr=\"0\"><layer class=\"SimpleLine\" enabled=\"1\" locked=\"0\" pass=\"0\">");
            prop(out, "line_color", &format!("{},255", rgb(colour)));
            prop(out, "line_style", pen);
            prop(out, "line_width", &width.to_string());
            prop(out, "line_width_unit", "MM");
            prop(out, "capstyle", "round");
            prop(out, "joinstyle", "round");
        }
        GeometryKind::Point => {
            let _ = write!(out, "<symbol type=\"marker\" name=\"{name}\" alpha=\"1\" clip_to_extent=\"1\" force_rhr=\"0\"><layer class=\"SimpleMarker\" enabled=\"1\" locked=\"0\" pass=\"0\">");
            prop(out, "name", "circle");
            prop(out, "color", &format!("{},255", rgb(colour)));
            prop(out, "outline_color", "255,255,255,255");
            prop(out, "outline_width", "0.4");
            prop(out, "outline_width_unit", "MM");
            prop(out, "size", "2.6");
            prop(out, "size_unit", "MM");
        }
    }
    out.push_str("</layer></symbol>");
}

/// A category: its value (`None`: every other value) and its colour.
type Category = (Option<&'static str>, &'static str);

/// The categories of a style coloured by code: value, label and colour, then `None` (every other
/// value) with the `unknown` colour.
fn categories(style: &StyleDecl) -> Option<(&'static str, Vec<Category>)> {
    let codes = style.fill.and_then(|f| f.by_code)?;
    let mut list: Vec<Category> = codes.codes().map(|(c, colour)| (Some(*c), *colour)).collect();
    list.extend(codes.legacy.iter().map(|(legacy, _)| (Some(*legacy), codes.colour(legacy))));
    list.push((None, codes.unknown));
    Some((codes.property, list))
}

/// The QML of a collection's style. `code_is_list`: the coloured property holds a list (written
/// as a JSON array in the GeoPackage), so its first code decides the colour.
pub fn qml(style: &StyleDecl, kind: GeometryKind, code_is_list: bool) -> String {
    let mut out = String::from(
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n<qgis version=\"3.22.0\" styleCategories=\"Symbology\">",
    );
    match categories(style) {
        Some((property, list)) if kind == GeometryKind::MultiPolygon => {
            let attr = if code_is_list {
                format!("array_first(from_json(\"{property}\"))")
            } else {
                format!("\"{property}\"")
            };
            let _ = write!(out, "<renderer-v2 type=\"categorizedSymbol\" attr=\"{}\" symbollevels=\"0\" enableorderby=\"0\" forceraster=\"0\"><categories>", escape(&attr));
            for (i, (value, _)) in list.iter().enumerate() {
                let value = escape(value.unwrap_or(""));
                let label = if value.is_empty() { "…".to_owned() } else { value.clone() };
                let _ = write!(out, "<category render=\"true\" symbol=\"{i}\" value=\"{value}\" label=\"{label}\"/>");
            }
            out.push_str("</categories><symbols>");
            for (i, (_, colour)) in list.iter().enumerate() {
                symbol(&mut out, &i.to_string(), style, kind, colour);
            }
            out.push_str("</symbols><source-symbol>");
            symbol(&mut out, "0", style, kind, style.colour);
            out.push_str("</source-symbol></renderer-v2>");
        }
        _ => {
            out.push_str(
                "<renderer-v2 type=\"singleSymbol\" symbollevels=\"0\" enableorderby=\"0\" forceraster=\"0\"><symbols>",
            );
            symbol(&mut out, "0", style, kind, style.colour);
            out.push_str("</symbols></renderer-v2>");
        }
    }
    out.push_str("</qgis>\n");
    out
}

/// The SLD 1.1 of a collection's style: one rule per code when coloured by a plain (not list)
/// property, else one rule.
pub fn sld(layer: &str, style: &StyleDecl, kind: GeometryKind, code_is_list: bool) -> String {
    let outline = style.outline.colour.unwrap_or(style.colour);
    let width = (width_mm(style, kind) / 0.26 * 100.0).round() / 100.0;
    let dash =
        if style.outline.dashed { "<se:SvgParameter name=\"stroke-dasharray\">4 2</se:SvgParameter>" } else { "" };
    let symbolizer = |colour: &str| {
        match kind {
        GeometryKind::MultiPolygon => format!(
            "<se:PolygonSymbolizer><se:Fill><se:SvgParameter name=\"fill\">{colour}</se:SvgParameter><se:SvgParameter name=\"fill-opacity\">{}</se:SvgParameter></se:Fill>\
             <se:Stroke><se:SvgParameter name=\"stroke\">{outline}</se:SvgParameter><se:SvgParameter name=\"stroke-width\">{width}</se:SvgParameter>{dash}</se:Stroke></se:PolygonSymbolizer>",
            style.fill.map_or(0.0, |f| f.opacity)
        ),
        GeometryKind::MultiLineString => format!(
            "<se:LineSymbolizer><se:Stroke><se:SvgParameter name=\"stroke\">{colour}</se:SvgParameter><se:SvgParameter name=\"stroke-width\">{width}</se:SvgParameter>{dash}</se:Stroke></se:LineSymbolizer>"
        ),
        GeometryKind::Point => format!(
            "<se:PointSymbolizer><se:Graphic><se:Mark><se:WellKnownName>circle</se:WellKnownName><se:Fill><se:SvgParameter name=\"fill\">{colour}</se:SvgParameter></se:Fill>\
             <se:Stroke><se:SvgParameter name=\"stroke\">#ffffff</se:SvgParameter></se:Stroke></se:Mark><se:Size>10</se:Size></se:Graphic></se:PointSymbolizer>"
        ),
    }
    };
    let mut rules = String::new();
    match categories(style) {
        Some((property, list)) if kind == GeometryKind::MultiPolygon && !code_is_list => {
            for (value, colour) in list {
                let filter = match value {
                    Some(v) => format!(
                        "<ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>{}</ogc:PropertyName><ogc:Literal>{}</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>",
                        escape(property),
                        escape(v)
                    ),
                    None => "<se:ElseFilter/>".to_owned(),
                };
                let _ = write!(
                    rules,
                    "<se:Rule><se:Name>{}</se:Name>{filter}{}</se:Rule>",
                    escape(value.unwrap_or("other")),
                    symbolizer(colour)
                );
            }
        }
        _ => {
            let _ =
                write!(rules, "<se:Rule><se:Name>{}</se:Name>{}</se:Rule>", escape(layer), symbolizer(style.colour));
        }
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<StyledLayerDescriptor xmlns=\"http://www.opengis.net/sld\" xmlns:se=\"http://www.opengis.net/se\" \
         xmlns:ogc=\"http://www.opengis.net/ogc\" version=\"1.1.0\"><NamedLayer><se:Name>{name}</se:Name><UserStyle><se:Name>{name}</se:Name>\
         <se:FeatureTypeStyle>{rules}</se:FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>\n",
        name = escape(layer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use geosector_domain::{CodeColours, CodeGroup, Fill};

    const CODES: CodeColours = CodeColours {
        property: "use",
        title_vi: "",
        title_en: "",
        groups: &[CodeGroup { title_vi: "", title_en: "", codes: &[("ONT", "#ffd0ff"), ("LUC", "#ffff64")] }],
        legacy: &[("LUA", "LUC")],
        unknown: "#cccccc",
    };

    #[test]
    fn codes_become_categories_and_a_plain_style_one_symbol() {
        let coded =
            StyleDecl { fill: Some(Fill { opacity: 0.5, by_code: Some(&CODES) }), ..StyleDecl::coloured("#112233") };
        let qml = qml(&coded, GeometryKind::MultiPolygon, true);
        assert!(qml.contains("type=\"categorizedSymbol\" attr=\"array_first(from_json(&quot;use&quot;))\""), "{qml}");
        assert!(qml.contains("value=\"LUA\"") && qml.contains("<prop k=\"color\" v=\"255,255,100,128\"/>"), "{qml}");
        assert_eq!(qml.matches("<category ").count(), 4, "two codes, one legacy code, every other value");
        let plain = super::qml(&StyleDecl::coloured("#112233"), GeometryKind::Point, false);
        assert!(plain.contains("singleSymbol") && plain.contains("17,34,51,255"), "{plain}");
        let sld = sld("a_b", &coded, GeometryKind::MultiPolygon, false);
        assert!(sld.contains("<ogc:Literal>ONT</ogc:Literal>") && sld.contains("<se:ElseFilter/>"), "{sld}");
    }
}
