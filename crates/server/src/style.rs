//! MapLibre styles (Style Specification v8), one per sector, generated from the collection
//! registry: `GET /styles` lists them, `GET /styles/{sector}` returns one.
//!
//! A sector is the part of a collection id before the dot (`sea.buoys` → `sea`), titled by
//! its [`SectorDecl`]; every collection with geometry gets one vector source pointing at this
//! server's own tiles (`/collections/{id}/tiles/WebMercatorQuad/{z}/{y}/{x}`, the source layer
//! named after the collection) and one or two layers drawn from its [`StyleDecl`]: one writer for
//! every declaration, so no collection, code or colour is named here. The colours are the
//! sectors' (each sector crate's `style` module), geosector's own and not an official legend.
//!
//! Styles carry no text layers, so they need no glyphs and no sprites: nothing is fetched from
//! outside (government networks are closed). The map viewer draws declared labels itself.

use actix_web::{web, HttpRequest, HttpResponse};
use geosector_domain::{CodeColours, CollectionDecl, GeometryKind, SectorDecl, StyleDecl, Width};
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::etag;
use crate::links::{base_url, Link};
use crate::params;
use crate::state::AppState;

/// Media type of a MapLibre / Mapbox style.
pub const STYLE_MEDIA_TYPE: &str = "application/vnd.mapbox.style+json";

/// Background colour of the styles.
pub const BACKGROUND: &str = "#f4f1ea";

/// The sector of a collection id: the part before the first dot.
pub fn sector_of(collection_id: &str) -> &str {
    collection_id.split_once('.').map_or(collection_id, |(sector, _)| sector)
}

/// The declaration of a sector; one that is not declared is titled by its id.
pub fn sector_decl(declared: &[&'static SectorDecl], id: &'static str) -> SectorDecl {
    declared.iter().find(|s| s.id == id).map_or(SectorDecl::untitled(id), |s| **s)
}

/// What a style needs to know of one collection: its declaration and current extent.
#[derive(Debug, Clone, Copy)]
pub struct StyledCollection {
    /// The declaration (id, titles, geometry kind, style).
    pub decl: &'static CollectionDecl,
    /// Extent in CRS84, when it has rows.
    pub bbox: Option<[f64; 4]>,
}

/// The style a collection is drawn with: its declared one, else the default.
pub fn style_of(decl: &CollectionDecl) -> &'static StyleDecl {
    decl.style.unwrap_or(&StyleDecl::DEFAULT)
}

/// The `match` expression colouring features by the code in a property: every code, then every
/// legacy code in its successor's colour, then the colour of anything else.
pub fn code_fill(table: &CodeColours) -> Value {
    let mut expression = vec![json!("match"), json!(["get", table.property])];
    for (code, colour) in table.codes() {
        expression.push(json!(code));
        expression.push(json!(colour));
    }
    for (legacy, current) in table.legacy {
        expression.push(json!(legacy));
        expression.push(json!(table.colour(current)));
    }
    expression.push(json!(table.unknown));
    Value::Array(expression)
}

fn legend(table: &CodeColours) -> Value {
    table.groups.iter().map(|g| json!({ "title_vi": g.title_vi, "title_en": g.title_en, "codes": g.codes })).collect()
}

fn width(declared: Option<Width>, default: Value) -> Value {
    match declared {
        None => default,
        Some(Width::Fixed(w)) => json!(w),
        Some(Width::Zoom { from, to }) => json!(["interpolate", ["linear"], ["zoom"], from.0, from.1, to.0, to.1]),
    }
}

/// The layers of one collection, bottom to top, from its style declaration. Each carries
/// metadata naming its collection and titles (and, for a fill by code, the legend), which the
/// viewer uses for its layer list, legend and feature info.
pub fn layers(decl: &CollectionDecl) -> Vec<Value> {
    let id = decl.id;
    let Some(geometry) = decl.dataset.geometry else { return Vec::new() };
    let style = style_of(decl);
    let metadata = |extra: Option<Value>| {
        let mut m = json!({ "geosector:collection": id, "geosector:title_vi": decl.title_vi, "geosector:title_en": decl.title_en });
        if let Some(legend) = extra {
            m["geosector:legend"] = legend;
        }
        m
    };
    let layer = |suffix: &str, kind: &str, paint: Value, minzoom: Option<u8>, meta: Value| {
        let mut l = json!({ "id": format!("{id}-{suffix}"), "type": kind, "source": id, "source-layer": id, "paint": paint, "metadata": meta });
        if let Some(z) = minzoom {
            l["minzoom"] = json!(z);
        }
        l
    };
    let outline = style.outline;
    let line = |default_width: Value| {
        let mut paint = json!({ "line-color": outline.colour.unwrap_or(style.colour), "line-width": width(outline.width, default_width) });
        if outline.dashed {
            paint["line-dasharray"] = json!([4, 2]);
        }
        layer("line", "line", paint, outline.min_zoom, metadata(None))
    };
    match geometry.kind {
        GeometryKind::Point => vec![layer(
            "circle",
            "circle",
            json!({ "circle-color": style.colour, "circle-radius": ["interpolate", ["linear"], ["zoom"], 5, 3, 14, 7],
                    "circle-stroke-color": "#ffffff", "circle-stroke-width": 1.5 }),
            None,
            metadata(None),
        )],
        GeometryKind::MultiLineString => vec![line(json!(2))],
        GeometryKind::MultiPolygon => {
            // A fill (flat, or by code with its legend) under the outline; frames are outlines only.
            let mut out = Vec::new();
            if let Some(fill) = style.fill {
                let (colour, legend) = match fill.by_code {
                    Some(table) => (code_fill(table), Some(legend(table))),
                    None => (json!(style.colour), None),
                };
                out.push(layer(
                    "fill",
                    "fill",
                    json!({ "fill-color": colour, "fill-opacity": fill.opacity }),
                    None,
                    metadata(legend),
                ));
            }
            out.push(line(json!(1.5)));
            out
        }
    }
}

/// The style of one sector. `base` is this server's URL (`http://host:port`).
pub fn sector_style(base: &str, sector: &SectorDecl, collections: &[StyledCollection]) -> Value {
    let (vi, en) = (sector.title_vi, sector.title_en);
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
        // A base layer's extent (the country's boundaries) is not where the data are.
        if let Some(b) = c.bbox.map(clamp).filter(|_| !style_of(c.decl).base) {
            source["bounds"] = json!(b);
            extent = Some(extent.map_or(b, |e| [e[0].min(b[0]), e[1].min(b[1]), e[2].max(b[2]), e[3].max(b[3])]));
        }
        sources.insert(id.to_owned(), source);
        layer_list.extend(layers(c.decl));
    }
    let mut style = json!({
        "version": 8,
        "name": format!("geosector — {vi} / {en}"),
        "metadata": { "geosector:sector": sector.id, "geosector:title_vi": vi, "geosector:title_en": en,
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
pub fn sectors(state: &AppState) -> Vec<SectorDecl> {
    let mut out: Vec<SectorDecl> = Vec::new();
    for c in state.registry.iter().filter(|c| c.has_geometry()) {
        let sector = sector_of(c.decl.id);
        if !out.iter().any(|s| s.id == sector) {
            out.push(sector_decl(&state.sectors, sector));
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
            let (id, vi, en) = (s.id, s.title_vi, s.title_en);
            json!({ "id": id, "title": format!("{vi} / {en}"), "links": [
                Link::new(&format!("{base}/styles/{id}"), "stylesheet", STYLE_MEDIA_TYPE, &format!("MapLibre style: {en}")),
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
        let known = sectors(&state).iter().map(|s| s.id).collect::<Vec<_>>().join(", ");
        return Err(ApiError::NotFound(format!("style {sector} not found (styles: {known})")));
    }
    let client = state.reads.get().await?;
    let mut styled = Vec::with_capacity(members.len());
    for c in &members {
        let (_, bbox) = etag::refresh_extent(&client, c).await?;
        styled.push(StyledCollection { decl: c.decl, bbox });
    }
    drop(client);
    let body = sector_style(&base_url(&req), &sector_decl(&state.sectors, sector_of(members[0].decl.id)), &styled);
    Ok(HttpResponse::Ok().content_type(STYLE_MEDIA_TYPE).body(body.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use geosector_domain::{CodeGroup, Dataset, Field, FieldType, Fill, GeometrySpec, Outline};

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
        history: None,
    };
    const USES: CodeColours = CodeColours {
        property: "main_land_use",
        title_vi: "",
        title_en: "",
        groups: &[CodeGroup { title_vi: "Lúa", title_en: "Rice", codes: &[("LUC", "#f2d33c"), ("LUK", "#f7e68a")] }],
        legacy: &[("LUN", "LUK")],
        unknown: "#cfcfcf",
    };
    const STYLE: StyleDecl = StyleDecl {
        colour: "#6b5844",
        fill: Some(Fill { opacity: 1.0, by_code: Some(&USES) }),
        outline: Outline {
            colour: None,
            width: Some(Width::Zoom { from: (15, 0.3), to: (19, 1.2) }),
            dashed: false,
            min_zoom: Some(15),
        },
        label: None,
        base: false,
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
        datetime_end: None,
        tiles: geosector_domain::TileDecl::ALL,
        style: Some(&STYLE),
        series: None,
        access: geosector_domain::AccessDecl::PUBLIC,
        relations: &[],
    };
    const LAND: SectorDecl = SectorDecl {
        id: "land",
        title_vi: "Đất đai",
        title_en: "Land",
        datasets: &[],
        collections: &[],
        change_types: &[],
        catalogue: None,
        reports: &[],
    };

    #[test]
    fn a_style_points_at_our_tiles_and_fills_by_the_declared_code() {
        let style = sector_style(
            "http://h:1",
            &LAND,
            &[StyledCollection { decl: &DECL, bbox: Some([105.8, 21.2, 105.9, 21.3]) }],
        );
        assert_eq!(style["version"], 8);
        let source = &style["sources"]["land.parcels"];
        assert_eq!(source["tiles"][0], "http://h:1/collections/land.parcels/tiles/WebMercatorQuad/{z}/{y}/{x}");
        assert_eq!(source["bounds"], json!([105.8, 21.2, 105.9, 21.3]));
        assert_eq!((source["minzoom"].as_u64(), source["maxzoom"].as_u64()), (Some(0), Some(22)));
        let fill = style["layers"].as_array().unwrap().iter().find(|l| l["id"] == "land.parcels-fill").unwrap();
        assert_eq!(fill["source-layer"], "land.parcels");
        assert_eq!(
            fill["paint"]["fill-color"],
            json!(["match", ["get", "main_land_use"], "LUC", "#f2d33c", "LUK", "#f7e68a", "LUN", "#f7e68a", "#cfcfcf"])
        );
        assert_eq!(fill["metadata"]["geosector:title_en"], "Cadastral parcels");
        assert_eq!(fill["metadata"]["geosector:legend"][0]["codes"][1], json!(["LUK", "#f7e68a"]));
        let line = style["layers"].as_array().unwrap().iter().find(|l| l["id"] == "land.parcels-line").unwrap();
        assert_eq!(line["minzoom"], 15);
        assert_eq!(line["paint"]["line-width"], json!(["interpolate", ["linear"], ["zoom"], 15, 0.3, 19, 1.2]));
        assert!(style.get("glyphs").is_none() && style.get("sprite").is_none(), "nothing fetched from outside");
        assert_eq!(style["metadata"]["geosector:title_en"], "Land");
        assert_eq!(sector_of("land.parcels"), "land");
        assert_eq!(sector_decl(&[&LAND], "water").title_en, "water", "an undeclared sector is titled by its id");
    }
}
