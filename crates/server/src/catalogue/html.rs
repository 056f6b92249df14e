//! The catalogue's HTML pages, in Vietnamese (`lang=vi`, the default) or English (`lang=en`):
//! the records collection with a search form, a page of records, and one record with its
//! extent, access level, legal basis, links and exports. Built on the server's page frame.

use std::fmt::Write as _;

use geosector_catalogue::Record;
use serde_json::Value;

use crate::html::{escape, page};
use crate::viewer::Lang;

/// Interface texts (key, Vietnamese, English).
const TEXTS: &[(&str, &str, &str)] = &[
    ("catalogue", "Danh mục dữ liệu", "Data catalogue"),
    ("search", "Tìm kiếm", "Search"),
    ("q", "Từ khóa tìm kiếm (không cần dấu)", "Search terms (accents optional)"),
    ("type", "Loại", "Type"),
    ("records", "bản ghi", "records"),
    ("next", "Trang sau", "Next page"),
    ("prev", "Trang trước", "Previous page"),
    ("agency", "Cơ quan chủ quản", "Owner agency"),
    ("topic", "Chủ đề (ISO 19115)", "Topic (ISO 19115)"),
    ("keywords", "Từ khóa", "Keywords"),
    ("bbox", "Phạm vi không gian (CRS84)", "Spatial extent (CRS84)"),
    ("time", "Phạm vi thời gian", "Temporal extent"),
    ("crs", "Hệ quy chiếu", "Coordinate reference systems"),
    ("rows", "Số bản ghi dữ liệu", "Rows"),
    ("updated", "Thay đổi gần nhất", "Last change"),
    ("frequency", "Tần suất cập nhật", "Update frequency"),
    ("access", "Mức truy cập", "Access level"),
    ("personal", "Trường dữ liệu cá nhân", "Personal-data fields"),
    ("legal", "Căn cứ pháp lý", "Legal basis"),
    ("licence", "Giấy phép", "Licence"),
    ("links", "Truy cập dữ liệu", "Data access"),
    ("exports", "Siêu dữ liệu", "Metadata"),
    ("public", "công khai", "public"),
    ("restricted", "hạn chế", "restricted"),
    ("none", "không có", "none"),
    ("open", "Đọc không cần đăng nhập", "Readable without credentials"),
    ("yes", "có", "yes"),
    ("no", "không", "no"),
];

fn t(lang: Lang, key: &str) -> &'static str {
    TEXTS.iter().find(|(k, _, _)| *k == key).map_or("", |(_, vi, en)| lang.pick(vi, en))
}

fn title(r: &Record, lang: Lang) -> &str {
    lang.pick(&r.title_vi, &r.title_en)
}

fn search_form(pairs: &[(String, String)], lang: Lang) -> String {
    let q = pairs.iter().find(|(k, _)| k == "q").map_or("", |(_, v)| v.as_str());
    format!(
        "<form method=\"get\" action=\"/collections/catalogue/items\"><input type=\"hidden\" name=\"f\" value=\"html\">\
         <input type=\"hidden\" name=\"lang\" value=\"{l}\"><input name=\"q\" size=\"40\" value=\"{q}\" placeholder=\"{ph}\"> \
         <button>{s}</button></form>",
        l = if lang == Lang::En { "en" } else { "vi" },
        q = escape(q),
        ph = escape(t(lang, "q")),
        s = t(lang, "search"),
    )
}

/// The records collection.
pub fn collection(value: &Value, lang: Lang) -> String {
    let description = value["description"].as_str().unwrap_or_default();
    let body = format!(
        "<p>{}</p>{}<p><a href=\"/collections/catalogue/items?f=html&amp;lang={}\">{}</a></p>",
        escape(description),
        search_form(&[], lang),
        if lang == Lang::En { "en" } else { "vi" },
        t(lang, "records")
    );
    page(t(lang, "catalogue"), "/collections/catalogue?f=json", &body)
}

/// A page of records.
pub fn items(
    records: &[(Record, f32)],
    pairs: &[(String, String)],
    matched: i64,
    next: Option<&str>,
    prev: Option<&str>,
    lang: Lang,
) -> String {
    let code = if lang == Lang::En { "en" } else { "vi" };
    let mut body = search_form(pairs, lang);
    let _ = write!(
        body,
        "<p>{matched} {}</p><table><tr><th>id</th><th>{}</th><th>{}</th></tr>",
        t(lang, "records"),
        t(lang, "type"),
        t(lang, "catalogue")
    );
    for (r, _) in records {
        let _ = write!(
            body,
            "<tr><td><a href=\"/collections/catalogue/items/{id}?f=html&amp;lang={code}\">{id}</a></td><td>{k}</td><td>{t}<br><span class=\"en\">{d}</span></td></tr>",
            id = escape(&r.id),
            k = escape(&r.kind),
            t = escape(title(r, lang)),
            d = escape(lang.pick(&r.description_vi, &r.description_en)),
        );
    }
    body.push_str("</table><p>");
    if let Some(prev) = prev {
        let _ = write!(body, "<a href=\"{}\">{}</a> ", escape(prev), t(lang, "prev"));
    }
    if let Some(next) = next {
        let _ = write!(body, "<a href=\"{}\">{}</a>", escape(next), t(lang, "next"));
    }
    body.push_str("</p>");
    page(t(lang, "catalogue"), "/collections/catalogue/items?f=json", &body)
}

/// One record.
pub fn record(r: &Record, base: &str, lang: Lang) -> String {
    let row = |key: &str, value: &str| format!("<tr><th>{}</th><td>{}</td></tr>", t(lang, key), escape(value));
    let mut body = format!("<p>{}</p><table>", escape(lang.pick(&r.description_vi, &r.description_en)));
    body.push_str(&row("type", &r.kind));
    body.push_str(&row("agency", lang.pick(&r.agency.name_vi, &r.agency.name_en)));
    body.push_str(&row("topic", &r.topic));
    body.push_str(&row("keywords", &r.keywords.join(", ")));
    let bbox = r.bbox.map_or("—".to_owned(), |b| format!("{:.5}, {:.5}, {:.5}, {:.5}", b[0], b[1], b[2], b[3]));
    body.push_str(&row("bbox", &bbox));
    let time = r.time.as_ref().map_or("—".to_owned(), |(a, b)| {
        format!("{} / {}", a.as_deref().unwrap_or(".."), b.as_deref().unwrap_or(".."))
    });
    body.push_str(&row("time", &time));
    body.push_str(&row("crs", &r.crs.join(", ")));
    let rows = r.rows.map_or("—".to_owned(), |n| if r.rows_estimated { format!("≈ {n}") } else { n.to_string() });
    body.push_str(&row("rows", &rows));
    body.push_str(&row("updated", r.updated.as_deref().unwrap_or("—")));
    body.push_str(&row("frequency", &r.frequency));
    body.push_str(&row("access", t(lang, if r.access.level == "restricted" { "restricted" } else { "public" })));
    let personal = if r.access.personal.is_empty() {
        t(lang, "none").to_owned()
    } else {
        r.access.personal.iter().map(|(f, m)| format!("{f} ({m})")).collect::<Vec<_>>().join(", ")
    };
    body.push_str(&row("personal", &personal));
    if let Some(open) = r.access.open {
        body.push_str(&row("open", t(lang, if open { "yes" } else { "no" })));
    }
    body.push_str(&row("legal", &r.legal_basis.join("; ")));
    body.push_str(&row("licence", &r.licence));
    body.push_str("</table>");
    let _ = write!(body, "<h2>{}</h2><ul>", t(lang, "links"));
    for l in &r.links {
        let _ = write!(
            body,
            "<li><a href=\"{}\">{}</a> <span class=\"en\">({})</span></li>",
            escape(&l.absolute(base)),
            escape(&l.title),
            escape(&l.media_type)
        );
    }
    let _ = write!(
        body,
        "</ul><h2>{}</h2><ul><li><a href=\"?f=iso\">ISO 19139 (QCVN 42:2020)</a></li><li><a href=\"?f=dcat\">DCAT (JSON-LD)</a></li><li><a href=\"?f=json\">GeoJSON</a></li></ul>",
        t(lang, "exports")
    );
    page(title(r, lang), &format!("/collections/catalogue/items/{}?f=json", r.id), &body)
}
