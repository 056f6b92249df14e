//! The map viewer at `/map`: a page of our own (HTML and `viewer.js`, no framework) drawing every
//! sector's style with MapLibre GL JS, with a layer list, the legend of a fill by code, feature
//! info on click and the labels the styles declare (parcel numbers), in Vietnamese (`?lang=vi`,
//! the default) or English (`?lang=en`). Sector titles, legends and labels come from the
//! declarations; no collection is named here or in the script.
//!
//! MapLibre is served from inside the binary (`/map/assets/maplibre-gl.js` and `.css`, embedded by
//! `build.rs` from `web/node_modules`, installed by `scripts/web.sh`): the page makes no request
//! outside this server, so it works on closed government networks. A binary built before
//! `scripts/web.sh` ran answers those assets with a 503 saying so.

use std::fmt::Write as _;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use crate::error::ApiError;
use crate::html::escape;
use crate::lookup;
use crate::params;
use crate::state::AppState;
use crate::style::{sector_of, sectors, style_of};

/// MapLibre GL JS as embedded at build time.
#[derive(Debug, Clone, Copy)]
pub struct Maplibre {
    /// `dist/maplibre-gl.js`.
    pub js: &'static [u8],
    /// `dist/maplibre-gl.css`.
    pub css: &'static [u8],
    /// The package version (cache-busting query of the asset URLs).
    pub version: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/maplibre.rs"));

/// The viewer's own script.
pub const VIEWER_JS: &str = include_str!("viewer.js");
const VIEWER_JS_HASH: u64 = fnv1a(VIEWER_JS.as_bytes());

const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        h ^= bytes[i] as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    h
}

/// The language of the viewer's labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Vietnamese (the default).
    Vi,
    /// English.
    En,
}

impl Lang {
    /// Reads `lang` (`vi` or `en`; absent = `vi`).
    ///
    /// # Errors
    /// A message for any other value.
    pub fn parse(value: Option<&str>) -> Result<Lang, String> {
        match value {
            None | Some("vi") => Ok(Lang::Vi),
            Some("en") => Ok(Lang::En),
            Some(other) => Err(format!("expected vi or en, got {other:?}")),
        }
    }

    fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    /// The text in this language of a (Vietnamese, English) pair.
    pub fn pick<'a>(self, vi: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Vi => vi,
            Lang::En => en,
        }
    }
}

/// The viewer's interface texts (Vietnamese, English). The script gets them in the page's
/// configuration, so all its words are here.
const TEXTS: &[(&str, &str, &str)] = &[
    ("title", "Bản đồ tài nguyên và môi trường", "Natural resources and environment map"),
    ("layers", "Lớp bản đồ", "Layers"),
    ("home", "Trang chủ", "Home"),
    ("openPackage", "Mở gói ngoại tuyến (.pmtiles)", "Open an offline package (.pmtiles)"),
    ("packageError", "Không mở được tệp PMTiles", "The PMTiles file cannot be opened"),
    ("properties", "Thuộc tính", "Properties"),
    ("loading", "Đang tải bản ghi đầy đủ…", "Loading the full record…"),
    ("fromTile", "Thuộc tính trong ô bản đồ", "Properties from the tile"),
    ("fullRecord", "Bản ghi đầy đủ", "Full record"),
    ("cell", "Ô tổng hợp (mức thu nhỏ)", "Generalised cell (low zoom)"),
    (
        "noMaplibre",
        "Máy chủ được xây dựng khi chưa có MapLibre: chạy scripts/web.sh rồi xây dựng lại.",
        "The server was built without MapLibre: run scripts/web.sh, then rebuild.",
    ),
    ("styleError", "Không tải được kiểu bản đồ", "Cannot load the map style"),
    ("noData", "Chưa có dữ liệu", "No data yet"),
    ("lookup", "Tra cứu", "Look up"),
    ("commune", "Xã, phường (tên hoặc mã)", "Commune (name or code)"),
    ("find", "Tìm", "Find"),
    ("notFound", "Không tìm thấy", "Nothing found"),
    ("found", "Kết quả", "Found"),
    ("share", "Liên kết chia sẻ", "Link to share"),
];

/// `GET /map`: the viewer page.
///
/// # Errors
/// 400 for a parameter other than `lang`, or a `lang` other than `vi` / `en`.
pub async fn map(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let pairs = params::query_pairs(&req)?;
    // A shared lookup: `lookup=<collection>` and the key values the lookup endpoint takes.
    let looked_up = pairs.iter().find(|(k, _)| k == "lookup").map(|(_, v)| v.as_str());
    let key = match looked_up {
        Some(id) => {
            Some(state.registry.iter().find(|c| c.id() == id).and_then(|c| lookup::key_of(c.decl)).ok_or_else(
                || ApiError::param("lookup", format!("{id} is not a collection features can be looked up in")),
            )?)
        }
        None => None,
    };
    let mut lang = None;
    let mut initial = serde_json::Map::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if pairs[..i].iter().any(|(k, _)| k == name) {
            return Err(ApiError::param(name, "given more than once"));
        }
        match (name.as_str(), &key) {
            ("lang", _) => lang = Some(value.clone()),
            ("lookup", _) => {}
            (other, Some(key)) if key.accepts(other) => {
                initial.insert(other.to_owned(), json!(value));
            }
            _ => {
                return Err(ApiError::param(
                    name,
                    "unknown parameter; the map accepts lang (vi or en), and lookup (a collection) with its key values",
                ))
            }
        }
    }
    let initial = looked_up.map(|id| json!({ "collection": id, "values": initial }));
    let lang = Lang::parse(lang.as_deref()).map_err(|m| ApiError::param("lang", m))?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(page(&state, lang, initial)))
}

fn text(lang: Lang, key: &str) -> &'static str {
    TEXTS.iter().find(|(k, _, _)| *k == key).map_or("", |(_, vi, en)| lang.pick(vi, en))
}

fn page(state: &AppState, lang: Lang, initial: Option<serde_json::Value>) -> String {
    let version = MAPLIBRE.map_or("missing", |m| m.version);
    let mut panel = String::new();
    let mut config_sectors = Vec::new();
    for sector in sectors(state) {
        let (vi, en) = (sector.title_vi, sector.title_en);
        let _ = write!(panel, "<fieldset><legend>{}</legend>", escape(lang.pick(vi, en)));
        let mut collections = Vec::new();
        for c in state.registry.iter().filter(|c| c.has_geometry() && sector_of(c.decl.id) == sector.id) {
            let (first, second) = match lang {
                Lang::Vi => (c.decl.title_vi, c.decl.title_en),
                Lang::En => (c.decl.title_en, c.decl.title_vi),
            };
            let _ = write!(
                panel,
                "<label><input type=\"checkbox\" checked data-collection=\"{id}\"> {first} <span class=\"other\">{second}</span></label>",
                id = escape(c.id()),
                first = escape(first),
                second = escape(second),
            );
            collections.push(json!({ "id": c.id(), "title_vi": c.decl.title_vi, "title_en": c.decl.title_en }));
        }
        panel.push_str("</fieldset>");
        config_sectors.push(json!({ "id": sector.id, "title_vi": vi, "title_en": en, "collections": collections }));
    }
    // What features can be looked up by (their natural key), in a form of the panel.
    let mut lookups = Vec::new();
    let mut options = String::new();
    for c in state.registry.iter().filter(|c| c.has_geometry()) {
        let Some(key) = lookup::key_of(c.decl) else { continue };
        let fields: Vec<_> = key
            .fields
            .iter()
            .filter(|(name, _)| Some(*name) != key.commune)
            .map(|(name, kind)| {
                let other = c.decl.dataset.fields.iter().find(|f| f.column == *name).and_then(|f| f.names.get(1));
                json!({ "name": name, "integer": *kind == geosector_domain::FieldType::Integer, "title": other.map_or((*name).to_owned(), |o| format!("{name} ({o})")) })
            })
            .collect();
        let relations: Vec<&str> = c.decl.relations.iter().map(|r| r.name).collect();
        lookups.push(json!({ "collection": c.id(), "commune": key.commune, "fields": fields, "relations": relations }));
        let _ = write!(
            options,
            "<option value=\"{id}\">{title}</option>",
            id = escape(c.id()),
            title = escape(lang.pick(c.decl.title_vi, c.decl.title_en))
        );
    }
    let lookup_form = if lookups.is_empty() {
        String::new()
    } else {
        format!(
            "<details open id=\"lookup\"><summary>{title}</summary><form id=\"lookup-form\"><select name=\"lookup\">{options}</select>\
             <div id=\"lookup-fields\"></div><button type=\"submit\">{find}</button></form><ol id=\"lookup-results\"></ol></details>",
            title = escape(text(lang, "lookup")),
            find = escape(text(lang, "find")),
        )
    };
    // The declared labels (drawn by the script) and the legend of the first fill by code.
    let drawn = || state.registry.iter().filter(|c| c.has_geometry()).map(|c| (c.decl.id, style_of(c.decl)));
    let labels: Vec<_> = drawn()
        .filter_map(|(id, style)| style.label.map(|l| (id, l)))
        .map(|(id, l)| {
            (
                json!({ "collection": id, "property": l.property, "minzoom": l.min_zoom }),
                lang.pick(l.title_vi, l.title_en),
            )
        })
        .collect();
    let switch = if labels.is_empty() {
        String::new()
    } else {
        let titles: Vec<&str> = labels.iter().map(|(_, title)| *title).collect();
        format!("<label><input type=\"checkbox\" checked id=\"labels-toggle\"> {}</label>", escape(&titles.join(", ")))
    };
    let legend = drawn()
        .find_map(|(_, style)| style.fill.and_then(|f| f.by_code))
        .map_or("", |table| lang.pick(table.title_vi, table.title_en));
    let texts: serde_json::Map<String, serde_json::Value> =
        TEXTS.iter().map(|(k, vi, en)| ((*k).to_owned(), json!(lang.pick(vi, en)))).collect();
    let labels: Vec<_> = labels.into_iter().map(|(label, _)| label).collect();
    let config = json!({ "lang": lang.code(), "sectors": config_sectors, "labels": labels, "texts": texts, "maplibre": MAPLIBRE.is_some(),
                         "lookups": lookups, "lookup": initial });
    // `</` cannot appear inside the script element.
    let config = config.to_string().replace("</", "<\\/");
    let other = match lang {
        Lang::Vi => "<a href=\"?lang=en\" data-lang=\"en\">English</a>",
        Lang::En => "<a href=\"?lang=vi\" data-lang=\"vi\">Tiếng Việt</a>",
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"{code}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} — geosector</title><link rel=\"icon\" href=\"data:,\">\
         <link rel=\"stylesheet\" href=\"/map/assets/maplibre-gl.css?v={version}\">\
         <style>html,body{{margin:0;height:100%;font-family:system-ui,sans-serif}}#map{{position:absolute;inset:0 0 0 20rem}}\
         #panel{{position:absolute;top:0;bottom:0;left:0;width:20rem;box-sizing:border-box;overflow:auto;padding:.75rem;background:#fff;border-right:1px solid #ccc;font-size:.9rem}}\
         #panel h1{{font-size:1.05rem;margin:0 0 .5rem}}#panel nav a{{margin-right:.75rem}}fieldset{{border:1px solid #ddd;margin:.5rem 0;padding:.25rem .5rem}}\
         label{{display:block;margin:.2rem 0}}.other{{color:#666;font-size:.85em}}#status{{color:#a00}}\
         .swatch{{display:inline-block;width:.9em;height:.9em;border:1px solid #888;vertical-align:middle;margin-right:.25em}}\
         .legend-group{{margin:.25rem 0}}.legend-group span.code{{margin-right:.5em;white-space:nowrap}}\
         .popup table{{border-collapse:collapse;font-size:.8rem}}.popup td,.popup th{{border-bottom:1px solid #eee;padding:.1rem .3rem;text-align:left;vertical-align:top}}\
         .popup h2{{font-size:.9rem;margin:0 0 .25rem}}.popup .note{{color:#666;font-size:.75rem}}.popup{{max-height:20rem;overflow:auto}}\
         #labels{{position:absolute;inset:0;pointer-events:none;overflow:hidden}}\
         #lookup input,#lookup select{{width:100%;box-sizing:border-box;margin:.1rem 0}}#lookup-results{{padding-left:1.2rem;margin:.3rem 0}}\
         #lookup-results button{{background:none;border:0;padding:0;color:#0645ad;cursor:pointer;text-align:left}}\
         #labels span{{position:absolute;transform:translate(-50%,-50%);font-size:11px;color:#222;text-shadow:0 0 2px #fff,0 0 2px #fff}}\
         @media (max-width:40rem){{#map{{inset:12rem 0 0 0}}#panel{{bottom:auto;height:12rem;width:100%}}}}</style></head>\
         <body><aside id=\"panel\"><h1>{title}</h1><nav><a href=\"/\">{home}</a>{other}</nav><p id=\"status\" role=\"status\"></p>\
         {lookup_form}<h2 style=\"font-size:1rem\">{layers}</h2>{panel}\
         {switch}\
         <details open id=\"legend\"><summary>{legend}</summary></details>{package}</aside>\
         <div id=\"map\"></div><div id=\"labels\"></div>\
         <script id=\"geosector-config\" type=\"application/json\">{config}</script>\
         <script src=\"/map/assets/maplibre-gl.js?v={version}\"></script>\
         {pmtiles}<script src=\"/map/assets/viewer.js?v={hash:016x}\"></script></body></html>",
        code = lang.code(),
        title = escape(text(lang, "title")),
        home = escape(text(lang, "home")),
        layers = escape(text(lang, "layers")),
        legend = escape(legend),
        version = escape(version),
        hash = VIEWER_JS_HASH,
        pmtiles = if PMTILES_JS.is_some() {
            format!("<script src=\"/map/assets/pmtiles.js?v={version}\"></script>", version = escape(version))
        } else {
            String::new()
        },
        package = if PMTILES_JS.is_some() {
            format!(
                "<fieldset id=\"package\"><legend>{}</legend><input type=\"file\" id=\"pmtiles-file\" accept=\".pmtiles\"></fieldset>",
                escape(text(lang, "openPackage"))
            )
        } else {
            String::new()
        },
    )
}

/// `GET /map/assets/{name}`: MapLibre's script and stylesheet and the viewer's script, cached
/// for a year (their URLs change with their content).
///
/// # Errors
/// 404 for another name; 503 for MapLibre when the binary was built before `scripts/web.sh`.
pub async fn asset(path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let name = path.into_inner();
    let (body, content_type): (&'static [u8], &str) = match name.as_str() {
        "viewer.js" => (VIEWER_JS.as_bytes(), "text/javascript; charset=utf-8"),
        "pmtiles.js" => match PMTILES_JS {
            Some(js) => (js, "text/javascript; charset=utf-8"),
            None => {
                return Err(ApiError::NotFound(
                    "no map asset pmtiles.js in this build (run scripts/web.sh, then rebuild)".into(),
                ))
            }
        },
        "maplibre-gl.js" | "maplibre-gl.css" => {
            let Some(m) = MAPLIBRE else {
                // Not an outage of the database: say exactly what the operator must do.
                return Ok(HttpResponse::ServiceUnavailable().json(json!({
                    "code": "ServiceUnavailable",
                    "description": format!("{name} is not in this build of geosector: run scripts/web.sh (installs MapLibre GL JS into web/node_modules), then rebuild"),
                })));
            };
            if name.ends_with(".js") {
                (m.js, "text/javascript; charset=utf-8")
            } else {
                (m.css, "text/css; charset=utf-8")
            }
        }
        _ => return Err(ApiError::NotFound(format!("no map asset {name}"))),
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lang_defaults_to_vietnamese_and_refuses_others() {
        assert_eq!(Lang::parse(None), Ok(Lang::Vi));
        assert_eq!(Lang::parse(Some("en")), Ok(Lang::En));
        assert!(Lang::parse(Some("fr")).unwrap_err().contains("vi or en"));
        for (key, vi, en) in TEXTS {
            assert!(!vi.is_empty() && !en.is_empty(), "{key}");
        }
    }
}
