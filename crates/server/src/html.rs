//! HTML pages, in Vietnamese and English, for every resource. Text is escaped; the items page
//! draws a small SVG preview of the page's geometries (no script or map library needed, so it
//! works on closed government networks).

use std::fmt::Write as _;

use geosector_store::Collection;

/// Escapes text for HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A whole page around `body`.
pub fn page(title: &str, json_href: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"vi\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t} — geosector</title><link rel=\"alternate\" type=\"application/json\" href=\"{j}\">\
         <style>body{{font-family:system-ui,sans-serif;margin:1.5rem;max-width:72rem}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}}.en{{color:#555}}\
         svg{{border:1px solid #ccc;background:#f8f8f4}}nav a{{margin-right:1rem}}</style></head>\
         <body><nav><a href=\"/\">Trang chủ / Home</a><a href=\"/collections\">Bộ dữ liệu / Collections</a><a href=\"{j}\">JSON</a></nav>\
         <h1>{t}</h1>{body}</body></html>",
        t = escape(title),
        j = escape(json_href)
    )
}

/// The landing page.
pub fn landing(collections: &[std::sync::Arc<Collection>]) -> String {
    let mut body = String::from(
        "<p>Cơ sở dữ liệu tài nguyên và môi trường: đất đai, địa chất và khoáng sản, tài nguyên nước, quan trắc môi trường.</p>\
         <p class=\"en\">Vietnam's natural-resources and environment databases, served by OGC API - Features.</p><ul>\
         <li><a href=\"/collections?f=html\">Bộ dữ liệu / Collections</a></li><li><a href=\"/conformance?f=html\">Chuẩn tuân thủ / Conformance</a></li>\
         <li><a href=\"/api\">OpenAPI 3.0</a></li><li><a href=\"/map\">Bản đồ / Map</a></li>\
         <li><a href=\"/collections/catalogue?f=html\">Danh mục dữ liệu / Data catalogue</a></li></ul>",
    );
    let _ = write!(body, "<p>{} bộ dữ liệu / collections.</p>", collections.len());
    page("geosector", "/?f=json", &body)
}

/// A list of links with a heading, for the conformance page.
pub fn conformance(classes: &[&str]) -> String {
    let items: String = classes.iter().map(|c| format!("<li><a href=\"{0}\">{0}</a></li>", escape(c))).collect();
    page("Chuẩn tuân thủ / Conformance", "/conformance?f=json", &format!("<ul>{items}</ul>"))
}

fn bbox_text(c: &Collection) -> String {
    c.bbox().map_or("—".to_owned(), |b| format!("{:.5}, {:.5}, {:.5}, {:.5}", b[0], b[1], b[2], b[3]))
}

/// The list of collections.
pub fn collections(collections: &[std::sync::Arc<Collection>]) -> String {
    let mut rows = String::new();
    for c in collections {
        let _ = write!(
            rows,
            "<tr><td><a href=\"/collections/{id}?f=html\">{id}</a></td><td>{vi}<br><span class=\"en\">{en}</span></td><td>{b}</td>\
             <td><a href=\"/collections/{id}/items?f=html\">items</a></td></tr>",
            id = escape(c.id()),
            vi = escape(c.decl.title_vi),
            en = escape(c.decl.title_en),
            b = bbox_text(c)
        );
    }
    page(
        "Bộ dữ liệu / Collections",
        "/collections?f=json",
        &format!(
            "<table><tr><th>id</th><th>Tên / Title</th><th>Phạm vi / Extent (CRS84)</th><th></th></tr>{rows}</table>"
        ),
    )
}

/// One collection.
pub fn collection(c: &Collection) -> String {
    let properties: String = c
        .properties
        .iter()
        .map(|p| format!("<li>{} <span class=\"en\">({})</span></li>", escape(p.name), p.kind.sql_type()))
        .collect();
    let interval = c.interval.as_ref().map_or("—".to_owned(), |(a, b)| {
        format!("{} / {}", a.as_deref().unwrap_or(".."), b.as_deref().unwrap_or(".."))
    });
    let body = format!(
        "<p>{dvi}</p><p class=\"en\">{den}</p><table><tr><th>id</th><td>{id}</td></tr><tr><th>Tên / Title</th><td>{tvi} / {ten}</td></tr>\
         <tr><th>Phạm vi không gian / Spatial extent (CRS84)</th><td>{b}</td></tr><tr><th>Phạm vi thời gian / Temporal extent</th><td>{i}</td></tr>\
         <tr><th>Từ khóa / Keywords</th><td>{k}</td></tr></table><h2>Thuộc tính / Properties</h2><ul>{properties}</ul>\
         <p><a href=\"/collections/{id}/items?f=html\">Đối tượng / Items</a></p>",
        dvi = escape(c.decl.description_vi),
        den = escape(c.decl.description_en),
        id = escape(c.id()),
        tvi = escape(c.decl.title_vi),
        ten = escape(c.decl.title_en),
        b = bbox_text(c),
        i = escape(&interval),
        k = escape(&c.decl.keywords.join(", ")),
    );
    page(&format!("{} / {}", c.decl.title_vi, c.decl.title_en), &format!("/collections/{}?f=json", c.id()), &body)
}

/// A page of items: an SVG preview, then a table of properties.
pub fn items(
    c: &Collection,
    features: &[(i64, Option<String>, String)],
    next: Option<&str>,
    json_href: &str,
) -> String {
    let geometries: Vec<serde_json::Value> =
        features.iter().filter_map(|(_, g, _)| g.as_deref().and_then(|g| serde_json::from_str(g).ok())).collect();
    let mut body = svg_preview(&geometries);
    let names: Vec<&str> = c.properties.iter().map(|p| p.name).collect();
    body.push_str("<table><tr><th>id</th>");
    for n in &names {
        let _ = write!(body, "<th>{}</th>", escape(n));
    }
    body.push_str("</tr>");
    for (id, _, properties) in features {
        let props: serde_json::Value = serde_json::from_str(properties).unwrap_or_default();
        let _ = write!(body, "<tr><td><a href=\"/collections/{}/items/{id}?f=html\">{id}</a></td>", escape(c.id()));
        for n in &names {
            let _ = write!(body, "<td>{}</td>", escape(&cell(props.get(*n))));
        }
        body.push_str("</tr>");
    }
    body.push_str("</table>");
    let _ = write!(body, "<p>{} đối tượng / features.", features.len());
    if let Some(next) = next {
        let html_next = next.replacen("f=json", "f=html", 1);
        let target = if html_next.contains("f=html") { html_next } else { format!("{next}&f=html") };
        let _ = write!(body, " <a href=\"{}\">Trang sau / Next page</a>", escape(&target));
    }
    body.push_str("</p>");
    page(&format!("{} / {}", c.decl.title_vi, c.decl.title_en), json_href, &body)
}

/// One feature.
pub fn item(c: &Collection, id: i64, geometry: Option<&str>, properties: &str) -> String {
    let props: serde_json::Value = serde_json::from_str(properties).unwrap_or_default();
    let geometries: Vec<serde_json::Value> = geometry.and_then(|g| serde_json::from_str(g).ok()).into_iter().collect();
    let mut body = svg_preview(&geometries);
    body.push_str("<table>");
    for p in &c.properties {
        let _ = write!(body, "<tr><th>{}</th><td>{}</td></tr>", escape(p.name), escape(&cell(props.get(p.name))));
    }
    body.push_str("</table>");
    page(&format!("{} {id}", c.decl.title_vi), &format!("/collections/{}/items/{id}?f=json", c.id()), &body)
}

/// The versions of one feature (rows of the versions statement: id, geometry, properties, the
/// version's members as JSON), oldest first: when each was valid, by which change, and its
/// properties.
pub fn versions(c: &Collection, id: i64, rows: &[tokio_postgres::Row], next: Option<&str>, json_href: &str) -> String {
    let geometries: Vec<serde_json::Value> =
        rows.iter().filter_map(|r| r.get::<_, Option<&str>>(1).and_then(|g| serde_json::from_str(g).ok())).collect();
    let mut body = svg_preview(&geometries);
    body.push_str(
        "<table><tr><th>Phiên bản / Version</th><th>Từ / Valid from</th><th>Đến / Valid to</th><th>Thay đổi / Change</th>\
         <th>Căn cứ / Reference</th>",
    );
    for p in &c.properties {
        let _ = write!(body, "<th>{}</th>", escape(p.name));
    }
    body.push_str("</tr>");
    for row in rows {
        let members: serde_json::Value = serde_json::from_str(row.get::<_, &str>(3)).unwrap_or_default();
        let props: serde_json::Value = serde_json::from_str(row.get::<_, &str>(2)).unwrap_or_default();
        let until = match (&members["validTo"], members["retired"].as_bool()) {
            (serde_json::Value::Null, _) => "—".to_owned(),
            (to, Some(true)) => format!("{} (xoá / retired)", cell(Some(to))),
            (to, _) => cell(Some(to)),
        };
        let _ = write!(
            body,
            "<tr><td><a href=\"/collections/{cid}/items/{id}?datetime={from_q}&amp;f=html\">{v}</a></td><td>{from}</td><td>{until}</td>\
             <td>{change} <span class=\"en\">#{changeset}</span></td><td>{reference} {date}</td>",
            cid = escape(c.id()),
            from_q = escape(&crate::links::encode(&cell(Some(&members["validFrom"])))),
            v = escape(&cell(Some(&members["version"]))),
            from = escape(&cell(Some(&members["validFrom"]))),
            until = escape(&until),
            change = escape(&cell(Some(&members["changeType"]))),
            changeset = escape(&cell(Some(&members["changeset"]))),
            reference = escape(&cell(Some(&members["reference"]))),
            date = escape(&cell(Some(&members["referenceDate"]))),
        );
        for p in &c.properties {
            let _ = write!(body, "<td>{}</td>", escape(&cell(props.get(p.name))));
        }
        body.push_str("</tr>");
    }
    body.push_str("</table>");
    if let Some(next) = next {
        let _ = write!(body, "<p><a href=\"{}\">Tiếp / Next</a></p>", escape(next));
    }
    page(&format!("{} {id}: phiên bản / versions", c.decl.title_vi), json_href, &body)
}

fn cell(value: Option<&serde_json::Value>) -> String {
    match value {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// An SVG drawing of GeoJSON geometries (lon/lat, equirectangular, scaled to fit 480 × 320).
fn svg_preview(geometries: &[serde_json::Value]) -> String {
    let mut rings: Vec<(bool, Vec<(f64, f64)>)> = Vec::new();
    for g in geometries {
        collect(g, &mut rings);
    }
    let points = rings.iter().flat_map(|(_, r)| r.iter());
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for (x, y) in points {
        x0 = x0.min(*x);
        y0 = y0.min(*y);
        x1 = x1.max(*x);
        y1 = y1.max(*y);
    }
    if rings.is_empty() || !x0.is_finite() {
        return String::new();
    }
    let (w, h) = (480.0, 320.0);
    let span = ((x1 - x0) / w).max((y1 - y0) / h).max(1e-9) * 1.05;
    let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    let project = |(x, y): (f64, f64)| (w / 2.0 + (x - cx) / span, h / 2.0 - (y - cy) / span);
    let mut svg = format!("<svg width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"bản đồ xem trước / map preview\">");
    for (closed, ring) in &rings {
        let path: Vec<String> = ring.iter().map(|p| project(*p)).map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
        if ring.len() == 1 {
            let (x, y) = project(ring[0]);
            let _ = write!(svg, "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4\" fill=\"#c0392b\"/>");
        } else if *closed {
            let _ = write!(
                svg,
                "<polygon points=\"{}\" fill=\"#7fb77e66\" stroke=\"#2e6b30\" stroke-width=\"0.8\"/>",
                path.join(" ")
            );
        } else {
            let _ = write!(
                svg,
                "<polyline points=\"{}\" fill=\"none\" stroke=\"#1f5fa0\" stroke-width=\"1.2\"/>",
                path.join(" ")
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

fn collect(g: &serde_json::Value, out: &mut Vec<(bool, Vec<(f64, f64)>)>) {
    let pos = |p: &serde_json::Value| Some((p.get(0)?.as_f64()?, p.get(1)?.as_f64()?));
    let line =
        |l: &serde_json::Value| l.as_array().map(|a| a.iter().filter_map(pos).collect::<Vec<_>>()).unwrap_or_default();
    let coords = g.get("coordinates").cloned().unwrap_or_default();
    match g.get("type").and_then(|t| t.as_str()) {
        Some("Point") => out.extend(pos(&coords).map(|p| (false, vec![p]))),
        Some("MultiPoint") => {
            out.extend(coords.as_array().into_iter().flatten().filter_map(pos).map(|p| (false, vec![p])))
        }
        Some("LineString") => out.push((false, line(&coords))),
        Some("MultiLineString") => out.extend(coords.as_array().into_iter().flatten().map(|l| (false, line(l)))),
        Some("Polygon") => out.extend(coords.as_array().into_iter().flatten().map(|r| (true, line(r)))),
        Some("MultiPolygon") => out.extend(
            coords
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|p| p.as_array().into_iter().flatten())
                .map(|r| (true, line(r))),
        ),
        Some("GeometryCollection") => {
            for member in g.get("geometries").and_then(|m| m.as_array()).into_iter().flatten() {
                collect(member, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_geometries_drawn() {
        assert_eq!(escape("<a href=\"x\">Hà & Nội</a>"), "&lt;a href=&quot;x&quot;&gt;Hà &amp; Nội&lt;/a&gt;");
        let polygon = serde_json::json!({"type": "Polygon", "coordinates": [[[105.0, 21.0], [105.1, 21.0], [105.1, 21.1], [105.0, 21.0]]]});
        let svg = svg_preview(&[polygon, serde_json::json!({"type": "Point", "coordinates": [105.05, 21.05]})]);
        assert!(svg.contains("<polygon") && svg.contains("<circle"), "{svg}");
        assert_eq!(svg_preview(&[]), "");
    }
}
