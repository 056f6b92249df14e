//! MapLibre styles (Style Specification v8), one per sector, generated from the collection
//! registry: `GET /styles` lists them, `GET /styles/{sector}` returns one.
//!
//! A sector is the part of a collection id before the dot (`land.parcels` → `land`); every
//! collection with geometry gets one vector source pointing at this server's own tiles
//! (`/collections/{id}/tiles/WebMercatorQuad/{z}/{y}/{x}`, the source layer named after the
//! collection) and one to three layers. No SQL and no table name here: only collection ids,
//! their declared titles, and colours.
//!
//! **The colours are geosector's own choice, not the official legend** of TT 08/2024 (the brief
//! the project works from gives none). Land-use colours are all in [`LAND_USE_COLOURS`]; the
//! other collections' colours are in [`COLLECTION_COLOURS`]. Change them there.
//!
//! Styles carry no text layers, so they need no glyphs and no sprites: nothing is fetched from
//! outside (government networks are closed). The map viewer draws parcel numbers itself.

use actix_web::{web, HttpRequest, HttpResponse};
use geosector_domain::{CollectionDecl, GeometryKind};
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::etag;
use crate::links::{base_url, Link};
use crate::params;
use crate::AppState;

/// Media type of a MapLibre / Mapbox style.
pub const STYLE_MEDIA_TYPE: &str = "application/vnd.mapbox.style+json";

/// Titles of the sectors (id, Vietnamese, English); a sector not listed is titled by its id.
pub const SECTORS: &[(&str, &str, &str)] = &[
    ("land", "Đất đai", "Land"),
    ("minerals", "Địa chất và khoáng sản", "Geology and minerals"),
    ("water", "Tài nguyên nước", "Water resources"),
    ("environment", "Quan trắc môi trường", "Environmental monitoring"),
];

/// A group of land-use codes: Vietnamese name, English name, and each code with its colour
/// (`#rrggbb`).
pub type LandUseGroup = (&'static str, &'static str, &'static [(&'static str, &'static str)]);

/// Fill colours of parcels by main land-use code (TT 08/2024/TT-BTNMT Annex II-A), in groups
/// (Vietnamese name, English name, codes with their colours).
///
/// **Our colours, not the official legend.** Groups share a hue (rice yellows, annual crops
/// orange, perennial crops yellow-green, forests greens, water blues, residential pinks and reds,
/// public services purples, industry violets, transport and infrastructure greys, unused land
/// beiges) and every code has its own shade. This is the one table to edit.
pub const LAND_USE_COLOURS: &[LandUseGroup] = &[
    ("Đất trồng lúa", "Rice", &[("LUC", "#f2d33c"), ("LUK", "#f7e68a")]),
    ("Đất trồng cây hằng năm khác", "Other annual crops", &[("HNK", "#f5b461")]),
    ("Đất trồng cây lâu năm", "Perennial crops", &[("CLN", "#c3d45c")]),
    ("Đất rừng", "Forest", &[("RDD", "#1f7a45"), ("RPH", "#3c9a4f"), ("RSX", "#7dbb5a")]),
    (
        "Đất nông nghiệp khác",
        "Aquaculture, livestock, salt, other agriculture",
        &[("NTS", "#6cc3d5"), ("CNT", "#d9b48f"), ("LMU", "#d4e3ee"), ("NKH", "#d8e7a9")],
    ),
    ("Đất ở", "Residential", &[("ONT", "#f19aa4"), ("ODT", "#d9475a")]),
    (
        "Đất xây dựng trụ sở, quốc phòng, an ninh",
        "Offices, defence, security",
        &[("TSC", "#e0835b"), ("CQP", "#8a6a5c"), ("CAN", "#a48b7e")],
    ),
    (
        "Đất xây dựng công trình sự nghiệp",
        "Public services",
        &[
            ("DVH", "#c991d6"),
            ("DYT", "#b05fc4"),
            ("DGD", "#9d4fb5"),
            ("DTT", "#d6a9e3"),
            ("DKH", "#8e63b8"),
            ("DSK", "#bf8fcf"),
            ("DSO", "#a77cc0"),
        ],
    ),
    (
        "Đất sản xuất, kinh doanh phi nông nghiệp",
        "Industry, commerce, mining",
        &[("SKK", "#8f86c2"), ("SKN", "#a39bd0"), ("TMD", "#f27d52"), ("SKC", "#b3a9d9"), ("SKS", "#7d6657")],
    ),
    (
        "Đất công trình công cộng",
        "Transport and public works",
        &[
            ("DGT", "#b4b4b4"),
            ("DTL", "#5fa8e0"),
            ("DDT", "#c4a57a"),
            ("DRA", "#7a6a5a"),
            ("DCK", "#cfc6c0"),
            ("DSH", "#e3c2e8"),
            ("DKV", "#9fd49d"),
            ("DNL", "#f0c940"),
            ("DBV", "#8fa3ad"),
        ],
    ),
    (
        "Đất nghĩa trang, tôn giáo, tín ngưỡng",
        "Cemeteries, religion",
        &[("NTD", "#5e5e5e"), ("TON", "#ab98d6"), ("TIN", "#8d74c9")],
    ),
    ("Đất sông, mặt nước", "Rivers and water surfaces", &[("SON", "#3fb4ea"), ("MNC", "#86cff2")]),
    ("Đất phi nông nghiệp khác", "Other non-agricultural", &[("PNK", "#dedede")]),
    ("Đất chưa sử dụng", "Unused land", &[("BCS", "#efe8d2"), ("DCS", "#d6ccaa"), ("NCS", "#b5ac94")]),
];

/// Legacy codes (TT 25/2014, TT 27/2018) drawn in the colour of the current code they became.
pub const LEGACY_LAND_USE: &[(&str, &str)] = &[
    ("LUN", "LUK"),
    ("COC", "HNK"),
    ("BHK", "HNK"),
    ("NHK", "HNK"),
    ("LNC", "CLN"),
    ("LNQ", "CLN"),
    ("LNK", "CLN"),
    ("RSN", "RSX"),
    ("RST", "RSX"),
    ("RSK", "RSX"),
    ("RSM", "RSX"),
    ("RPN", "RPH"),
    ("RPT", "RPH"),
    ("RPK", "RPH"),
    ("RPM", "RPH"),
    ("RDN", "RDD"),
    ("RDT", "RDD"),
    ("RDK", "RDD"),
    ("RDM", "RDD"),
    ("TSL", "NTS"),
    ("TSN", "NTS"),
    ("KCN", "SKK"),
    ("DDL", "DDT"),
    ("DTS", "TSC"),
];

/// Parcels whose code is in neither table.
pub const UNKNOWN_LAND_USE: &str = "#cfcfcf";

/// Colours of the other collections (by collection id); collections not listed get a grey.
pub const COLLECTION_COLOURS: &[(&str, &str)] = &[
    ("land.map_sheets", "#6d4c41"),
    ("minerals.licence_areas", "#9c4f96"),
    ("minerals.prohibited_zones", "#d32f2f"),
    ("water.river_basins", "#0277bd"),
    ("water.works", "#0288d1"),
    ("water.stations", "#00897b"),
    ("environment.stations", "#2e7d32"),
    ("environment.pollution_sources", "#e65100"),
];

/// The collection whose fill is coloured by land use, and the property it matches on (present
/// in parcel features and in the generalised land-use cells of low zooms alike).
pub const PARCELS: &str = "land.parcels";
/// The land-use property of parcels.
pub const LAND_USE_PROPERTY: &str = "main_land_use";
/// Background colour of the styles.
pub const BACKGROUND: &str = "#f4f1ea";

/// The colour of a land-use code (legacy codes take their successor's).
pub fn land_use_colour(code: &str) -> &'static str {
    let code = LEGACY_LAND_USE.iter().find(|(legacy, _)| *legacy == code).map_or(code, |(_, current)| current);
    LAND_USE_COLOURS
        .iter()
        .flat_map(|(_, _, codes)| codes.iter())
        .find(|(c, _)| *c == code)
        .map_or(UNKNOWN_LAND_USE, |(_, colour)| colour)
}

/// The sector of a collection id: the part before the first dot.
pub fn sector_of(collection_id: &str) -> &str {
    collection_id.split_once('.').map_or(collection_id, |(sector, _)| sector)
}

/// The Vietnamese and English titles of a sector.
pub fn sector_titles(sector: &str) -> (&str, &str) {
    SECTORS.iter().find(|(id, _, _)| *id == sector).map_or((sector, sector), |(_, vi, en)| (*vi, *en))
}

/// What a style needs to know of one collection: its declaration and current extent.
#[derive(Debug, Clone, Copy)]
pub struct StyledCollection {
    /// The declaration (id, titles, geometry kind).
    pub decl: &'static CollectionDecl,
    /// Extent in CRS84, when it has rows.
    pub bbox: Option<[f64; 4]>,
}

fn collection_colour(id: &str) -> &'static str {
    COLLECTION_COLOURS.iter().find(|(c, _)| *c == id).map_or("#757575", |(_, colour)| colour)
}

/// The `match` expression colouring parcels by [`LAND_USE_PROPERTY`].
pub fn land_use_fill() -> Value {
    let mut expression = vec![json!("match"), json!(["get", LAND_USE_PROPERTY])];
    for (_, _, codes) in LAND_USE_COLOURS {
        for (code, colour) in *codes {
            expression.push(json!(code));
            expression.push(json!(colour));
        }
    }
    for (legacy, current) in LEGACY_LAND_USE {
        expression.push(json!(legacy));
        expression.push(json!(land_use_colour(current)));
    }
    expression.push(json!(UNKNOWN_LAND_USE));
    Value::Array(expression)
}

fn legend() -> Value {
    LAND_USE_COLOURS.iter().map(|(vi, en, codes)| json!({ "title_vi": vi, "title_en": en, "codes": codes })).collect()
}

/// The layers of one collection, bottom to top. Each carries metadata naming its collection and
/// titles, which the viewer uses for its layer list and feature info.
pub fn layers(decl: &CollectionDecl) -> Vec<Value> {
    let id = decl.id;
    let Some(geometry) = decl.dataset.geometry else { return Vec::new() };
    let metadata = |extra: Option<Value>| {
        let mut m = json!({ "geosector:collection": id, "geosector:title_vi": decl.title_vi, "geosector:title_en": decl.title_en });
        if let Some(legend) = extra {
            m["geosector:legend"] = legend;
        }
        m
    };
    let layer = |suffix: &str, kind: &str, paint: Value, minzoom: Option<u32>, meta: Value| {
        let mut l = json!({ "id": format!("{id}-{suffix}"), "type": kind, "source": id, "source-layer": id, "paint": paint, "metadata": meta });
        if let Some(z) = minzoom {
            l["minzoom"] = json!(z);
        }
        l
    };
    let colour = collection_colour(id);
    if id == PARCELS {
        // Opaque fill: the same colours whether the tile holds parcels or, at low zooms,
        // generalised land-use cells; outlines only where parcels are big enough to see.
        return vec![
            layer(
                "fill",
                "fill",
                json!({ "fill-color": land_use_fill(), "fill-opacity": 1.0 }),
                None,
                metadata(Some(legend())),
            ),
            layer(
                "line",
                "line",
                json!({ "line-color": "#6b5844", "line-width": ["interpolate", ["linear"], ["zoom"], 15, 0.3, 19, 1.2] }),
                Some(15),
                metadata(None),
            ),
        ];
    }
    match geometry.kind {
        GeometryKind::Point => vec![layer(
            "circle",
            "circle",
            json!({ "circle-color": colour, "circle-radius": ["interpolate", ["linear"], ["zoom"], 5, 3, 14, 7],
                    "circle-stroke-color": "#ffffff", "circle-stroke-width": 1.5 }),
            None,
            metadata(None),
        )],
        GeometryKind::MultiLineString => {
            vec![layer("line", "line", json!({ "line-color": colour, "line-width": 2 }), None, metadata(None))]
        }
        GeometryKind::MultiPolygon => {
            // Frames (map sheets) are outlines only; areas get a light fill under an outline.
            let outline_only = id == "land.map_sheets";
            let dashed = id == "minerals.prohibited_zones" || outline_only;
            let mut line_paint = json!({ "line-color": colour, "line-width": 1.5 });
            if dashed {
                line_paint["line-dasharray"] = json!([4, 2]);
            }
            let mut out = Vec::new();
            if !outline_only {
                let opacity = if id == "water.river_basins" { 0.08 } else { 0.25 };
                out.push(layer(
                    "fill",
                    "fill",
                    json!({ "fill-color": colour, "fill-opacity": opacity }),
                    None,
                    metadata(None),
                ));
            }
            out.push(layer("line", "line", line_paint, None, metadata(None)));
            out
        }
    }
}

/// The style of one sector. `base` is this server's URL (`http://host:port`).
pub fn sector_style(base: &str, sector: &str, collections: &[StyledCollection]) -> Value {
    let (vi, en) = sector_titles(sector);
    let mut sources = serde_json::Map::new();
    let mut layer_list =
        vec![json!({ "id": "background", "type": "background", "paint": { "background-color": BACKGROUND } })];
    let mut extent: Option<[f64; 4]> = None;
    for c in collections.iter().filter(|c| c.decl.dataset.geometry.is_some()) {
        let id = c.decl.id;
        let mut source = json!({
            "type": "vector",
            "tiles": [format!("{base}/collections/{id}/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}")],
            "minzoom": 0,
            "maxzoom": 22,
            "attribution": "geosector",
        });
        if let Some(b) = c.bbox.map(clamp) {
            source["bounds"] = json!(b);
            extent = Some(extent.map_or(b, |e| [e[0].min(b[0]), e[1].min(b[1]), e[2].max(b[2]), e[3].max(b[3])]));
        }
        sources.insert(id.to_owned(), source);
        layer_list.extend(layers(c.decl));
    }
    let mut style = json!({
        "version": 8,
        "name": format!("geosector — {vi} / {en}"),
        "metadata": { "geosector:sector": sector, "geosector:title_vi": vi, "geosector:title_en": en,
                      "geosector:colours": "geosector's own colours, not an official legend" },
        "sources": sources,
        "layers": layer_list,
    });
    if let Some(e) = extent {
        style["metadata"]["geosector:bounds"] = json!(e);
        style["center"] = json!([(e[0] + e[2]) / 2.0, (e[1] + e[3]) / 2.0]);
        style["zoom"] = json!(fit_zoom(e));
    }
    style
}

/// A bbox inside MapLibre's valid source bounds.
fn clamp(b: [f64; 4]) -> [f64; 4] {
    let lat = 85.051_128_78;
    [b[0].max(-180.0), b[1].max(-lat), b[2].min(180.0), b[3].min(lat)]
}

/// A zoom at which the extent fits about 1,000 pixels.
fn fit_zoom(e: [f64; 4]) -> f64 {
    let span = (e[2] - e[0]).max((e[3] - e[1]) * 1.2).max(1e-6);
    (360.0 * 4.0 / span).log2().floor().clamp(0.0, 18.0)
}

/// The sectors that have at least one collection with geometry, in registry order.
pub fn sectors(state: &AppState) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for c in state.registry.iter().filter(|c| c.has_geometry()) {
        let sector = sector_of(c.decl.id);
        if !out.contains(&sector) {
            out.push(sector);
        }
    }
    out
}

/// `GET /styles`: the sector styles.
///
/// # Errors
/// 400 for a parameter other than `f`.
pub async fn styles(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    params::format_only(&req)?;
    let base = base_url(&req);
    let list: Vec<Value> = sectors(&state)
        .into_iter()
        .map(|s| {
            let (vi, en) = sector_titles(s);
            json!({ "id": s, "title": format!("{vi} / {en}"), "links": [
                Link::new(&format!("{base}/styles/{s}"), "stylesheet", STYLE_MEDIA_TYPE, &format!("MapLibre style: {en}")),
            ]})
        })
        .collect();
    let body = json!({
        "styles": list,
        "links": [
            Link::new(&format!("{base}/styles"), "self", "application/json", "the styles"),
            Link::new(&format!("{base}/map"), "related", "text/html", "the map viewer"),
        ],
    });
    Ok(HttpResponse::Ok().content_type("application/json").body(body.to_string()))
}

/// `GET /styles/{sector}`: a MapLibre style v8 for one sector, with the extents of now.
///
/// # Errors
/// 404 for a sector without collections with geometry, 400 for a parameter other than `f`.
pub async fn style(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    params::format_only(&req)?;
    let sector = path.into_inner();
    let members: Vec<_> =
        state.registry.iter().filter(|c| c.has_geometry() && sector_of(c.decl.id) == sector).cloned().collect();
    if members.is_empty() {
        let known = sectors(&state).join(", ");
        return Err(ApiError::NotFound(format!("style {sector} not found (styles: {known})")));
    }
    let client = state.pool.get().await?;
    let mut styled = Vec::with_capacity(members.len());
    for c in &members {
        let (_, bbox) = etag::refresh_extent(&client, c).await?;
        styled.push(StyledCollection { decl: c.decl, bbox });
    }
    drop(client);
    let body = sector_style(&base_url(&req), &sector, &styled);
    Ok(HttpResponse::Ok().content_type(STYLE_MEDIA_TYPE).body(body.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use geosector_domain::{Dataset, Field, FieldType, GeometrySpec};

    const PARCELS_DATASET: Dataset = Dataset {
        id: "land.parcels",
        description: "parcels",
        schema: "land",
        table: "parcels",
        fields: &[Field::new("parcel_number", &["parcel_number"], FieldType::Text, true)],
        geometry: Some(GeometrySpec::multipolygon(true)),
        conflict_key: None,
        prepare_sql: None,
        partition: None,
        rules: &[],
    };
    const DECL: CollectionDecl = CollectionDecl {
        id: "land.parcels",
        dataset: &PARCELS_DATASET,
        title_vi: "Thửa đất",
        title_en: "Cadastral parcels",
        description_vi: "",
        description_en: "",
        keywords: &[],
        hidden: &[],
        extra: &[],
        datetime: None,
        tiles: geosector_domain::TileDecl::ALL,
    };

    #[test]
    fn every_code_has_one_distinct_colour() {
        let mut seen = std::collections::HashSet::new();
        for (_, _, codes) in LAND_USE_COLOURS {
            for (code, colour) in *codes {
                assert!(seen.insert(*colour), "{code}: colour {colour} used twice");
                assert!(colour.len() == 7 && colour.starts_with('#'), "{code}: {colour}");
            }
        }
        for code in [
            "LUC", "LUK", "HNK", "CLN", "RSX", "RPH", "RDD", "NTS", "ONT", "ODT", "DGT", "DTL", "SON", "TMD", "SKC",
            "NTD", "TON",
        ] {
            assert_ne!(land_use_colour(code), UNKNOWN_LAND_USE, "{code}");
        }
        assert_eq!(land_use_colour("LNQ"), land_use_colour("CLN"));
        assert_eq!(land_use_colour("XYZ"), UNKNOWN_LAND_USE);
    }

    #[test]
    fn parcels_style_points_at_our_tiles_and_matches_on_main_land_use() {
        let style = sector_style(
            "http://h:1",
            "land",
            &[StyledCollection { decl: &DECL, bbox: Some([105.8, 21.2, 105.9, 21.3]) }],
        );
        assert_eq!(style["version"], 8);
        let source = &style["sources"]["land.parcels"];
        assert_eq!(source["tiles"][0], "http://h:1/collections/land.parcels/tiles/WebMercatorQuad/{z}/{y}/{x}");
        assert_eq!(source["bounds"], json!([105.8, 21.2, 105.9, 21.3]));
        assert_eq!((source["minzoom"].as_u64(), source["maxzoom"].as_u64()), (Some(0), Some(22)));
        let fill = style["layers"].as_array().unwrap().iter().find(|l| l["id"] == "land.parcels-fill").unwrap();
        assert_eq!(fill["source-layer"], "land.parcels");
        assert_eq!(fill["paint"]["fill-color"][0], "match");
        assert_eq!(fill["paint"]["fill-color"][1], json!(["get", "main_land_use"]));
        assert_eq!(fill["metadata"]["geosector:title_en"], "Cadastral parcels");
        let line = style["layers"].as_array().unwrap().iter().find(|l| l["id"] == "land.parcels-line").unwrap();
        assert_eq!(line["minzoom"], 15);
        assert!(style.get("glyphs").is_none() && style.get("sprite").is_none(), "nothing fetched from outside");
        assert_eq!(sector_of("land.parcels"), "land");
    }
}
