//! OGC API - Tiles (vector tiles) for every collection with geometry, in the WebMercatorQuad tile
//! matrix set: `/tileMatrixSets`, the tileset list and tileset metadata with
//! `tileMatrixSetLimits`, TileJSON 3.0, and Mapbox Vector Tiles from `ST_AsMVT`, whose SQL is
//! built once per collection (only z/x/y are bound).
//!
//! Tiles outside the collection's limits are 404, malformed tile coordinates 400, an empty tile
//! 204. Tiles carry an ETag from the table's data version, so a client cache revalidates with 304
//! and learns at once when an import changed the data.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;
use geosector_domain::FieldType;
use geosector_store::Collection;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::etag;
use crate::links::{base_url, Link};
use crate::params::{self, Format};
use crate::tilecache;
use crate::AppState;

/// Media type of Mapbox Vector Tiles.
pub const MVT: &str = "application/vnd.mapbox-vector-tile";
/// The one tile matrix set served.
pub const TMS: &str = "WebMercatorQuad";
/// Deepest zoom level served.
pub const MAX_ZOOM: u32 = 22;
const HALF_WORLD: f64 = 20_037_508.342_789_244;

/// The WebMercatorQuad definition (OGC 17-083r4, 2D Tile Matrix Set 2.0), generated.
pub fn web_mercator_quad() -> Value {
    let matrices: Vec<Value> = (0..=MAX_ZOOM)
        .map(|z| {
            let n = 1u64 << z;
            let cell = 2.0 * HALF_WORLD / 256.0 / n as f64;
            json!({
                "id": z.to_string(), "scaleDenominator": cell / 0.00028, "cellSize": cell,
                "cornerOfOrigin": "topLeft", "pointOfOrigin": [-HALF_WORLD, HALF_WORLD],
                "tileWidth": 256, "tileHeight": 256, "matrixWidth": n, "matrixHeight": n
            })
        })
        .collect();
    json!({
        "id": TMS, "title": "Google Maps Compatible for the World",
        "uri": "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
        "crs": "http://www.opengis.net/def/crs/EPSG/0/3857", "orderedAxes": ["X", "Y"],
        "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
        "tileMatrices": matrices
    })
}

/// Column and row of the tile holding a lon/lat point at zoom z.
fn tile_of(lon: f64, lat: f64, z: u32) -> (u64, u64) {
    let n = (1u64 << z) as f64;
    let lat = lat.clamp(-85.051_128_78, 85.051_128_78).to_radians();
    let x = ((lon + 180.0) / 360.0 * n).floor().clamp(0.0, n - 1.0);
    let y = ((1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor().clamp(0.0, n - 1.0);
    (x as u64, y as u64)
}

/// The tile range covering an extent at zoom z: (min col, max col, min row, max row).
fn limits_at(bbox: [f64; 4], z: u32) -> (u64, u64, u64, u64) {
    let [x0, y0, x1, y1] = bbox;
    let (c0, r1) = tile_of(x0, y0, z);
    let (c1, r0) = tile_of(x1, y1, z);
    (c0, c1, r0, r1)
}

fn with_geometry(state: &AppState, id: &str) -> Result<std::sync::Arc<Collection>, ApiError> {
    let c = state.registry.get(id).cloned().ok_or_else(|| ApiError::NotFound(format!("collection {id} not found")))?;
    if !c.has_geometry() {
        return Err(ApiError::NotFound(format!("collection {id} has no geometry, so no tiles")));
    }
    Ok(c)
}

fn json_response(value: &Value) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(value.to_string())
}

fn check_tms(tms: &str) -> Result<(), ApiError> {
    if tms == TMS {
        Ok(())
    } else {
        Err(ApiError::NotFound(format!("tile matrix set {tms} not found (served: {TMS})")))
    }
}

/// What the tileset metadata and TileJSON handlers share: checks (only `f`, a collection with
/// geometry, the served tile matrix set), the base URL, and the extent at the current data.
async fn tileset_request(
    state: &AppState,
    req: &HttpRequest,
    (id, tms): (String, String),
) -> Result<(String, std::sync::Arc<Collection>, String, Option<[f64; 4]>), ApiError> {
    params::format_only(req)?;
    let c = with_geometry(state, &id)?;
    check_tms(&tms)?;
    let (_, bbox) = etag::refresh_extent(&state.pool.get().await?, &c).await?;
    Ok((id, c, base_url(req), bbox))
}

/// `GET /tileMatrixSets`.
///
/// # Errors
/// 400 for a parameter other than `f`.
pub async fn tile_matrix_sets(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    params::format_only(&req)?;
    let base = base_url(&req);
    Ok(json_response(&json!({ "tileMatrixSets": [{
        "id": TMS, "title": "Google Maps Compatible for the World",
        "uri": "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
        "links": [Link::new(&format!("{base}/tileMatrixSets/{TMS}"), "self", "application/json", "WebMercatorQuad")]
    }]})))
}

/// `GET /tileMatrixSets/{tileMatrixSetId}`.
///
/// # Errors
/// 404 for another tile matrix set.
pub async fn tile_matrix_set(req: HttpRequest, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    params::format_only(&req)?;
    check_tms(&path)?;
    Ok(json_response(&web_mercator_quad()))
}

/// `GET /collections/{collectionId}/tiles`: the tileset list.
///
/// # Errors
/// 404 for an unknown collection or one without geometry.
pub async fn tilesets(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    params::format_only(&req)?;
    let c = with_geometry(&state, &path)?;
    let base = base_url(&req);
    let url = format!("{base}/collections/{}/tiles/{TMS}", c.id());
    Ok(json_response(&json!({ "tilesets": [{
        "title": format!("{} / {}", c.decl.title_vi, c.decl.title_en), "dataType": "vector",
        "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
        "tileMatrixSetURI": "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
        "links": [
            Link::new(&url, "self", "application/json", "tileset metadata"),
            Link::new(&format!("{base}/tileMatrixSets/{TMS}"), "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme", "application/json", "tile matrix set"),
        ]
    }]})))
}

/// `GET /collections/{collectionId}/tiles/{tileMatrixSetId}`: tileset metadata.
///
/// # Errors
/// 404 for an unknown collection, one without geometry, or another tile matrix set.
pub async fn tileset(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, c, base, bbox) = tileset_request(&state, &req, path.into_inner()).await?;
    let url = format!("{base}/collections/{id}/tiles/{TMS}");
    let limits: Vec<Value> = bbox
        .map(|bbox| {
            (0..=MAX_ZOOM)
                .map(|z| {
                    let (c0, c1, r0, r1) = limits_at(bbox, z);
                    json!({ "tileMatrix": z.to_string(), "minTileRow": r0, "maxTileRow": r1, "minTileCol": c0, "maxTileCol": c1 })
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(json_response(&json!({
        "title": format!("{} / {}", c.decl.title_vi, c.decl.title_en),
        "dataType": "vector",
        "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
        "tileMatrixSetURI": "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
        "tileMatrixSetLimits": limits,
        "layers": [{ "id": id, "dataType": "vector", "geometryDimension": geometry_dimension(&c), "minTileMatrix": "0", "maxTileMatrix": MAX_ZOOM.to_string(),
                     "propertiesSchema": { "type": "object", "properties": fields(&c) } }],
        "links": [
            Link::new(&url, "self", "application/json", "this tileset"),
            Link::new(&format!("{base}/tileMatrixSets/{TMS}"), "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme", "application/json", "tile matrix set"),
            Link::new(&format!("{url}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"), "item", MVT, "tiles"),
            Link::new(&format!("{url}/tilejson.json"), "describedby", "application/json", "TileJSON 3.0"),
            Link::new(&format!("{base}/collections/{id}"), "collection", "application/json", "the collection"),
        ]
    })))
}

fn geometry_dimension(c: &Collection) -> u8 {
    match c.decl.dataset.geometry.map(|g| g.kind) {
        Some(geosector_domain::GeometryKind::Point) => 0,
        Some(geosector_domain::GeometryKind::MultiLineString) => 1,
        _ => 2,
    }
}

/// Property types as tiles carry them (lists joined with `+`, dates as text).
fn fields(c: &Collection) -> serde_json::Map<String, Value> {
    c.properties
        .iter()
        .map(|p| {
            let kind = match p.kind {
                FieldType::Integer | FieldType::Float => "number",
                _ => "string",
            };
            (p.name.to_owned(), json!({ "type": kind }))
        })
        .collect()
}

/// `GET /collections/{collectionId}/tiles/{tileMatrixSetId}/tilejson.json`: TileJSON 3.0.
///
/// # Errors
/// 404 for an unknown collection, one without geometry, or another tile matrix set.
pub async fn tilejson(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, c, base, bbox) = tileset_request(&state, &req, path.into_inner()).await?;
    let fields: serde_json::Map<String, Value> = fields(&c).into_iter().map(|(k, v)| (k, v["type"].clone())).collect();
    let mut doc = json!({
        "tilejson": "3.0.0",
        "name": id,
        "description": format!("{} / {}", c.decl.title_vi, c.decl.title_en),
        "tiles": [format!("{base}/collections/{id}/tiles/{TMS}/{{z}}/{{y}}/{{x}}")],
        "minzoom": 0, "maxzoom": MAX_ZOOM,
        "vector_layers": [{ "id": id, "fields": fields, "minzoom": 0, "maxzoom": MAX_ZOOM, "description": c.decl.description_en }],
    });
    if let Some([x0, y0, x1, y1]) = bbox {
        doc["bounds"] = json!([x0, y0, x1, y1]);
        doc["center"] = json!([(x0 + x1) / 2.0, (y0 + y1) / 2.0, 14]);
    }
    Ok(json_response(&doc))
}

/// `GET /collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}`.
///
/// # Errors
/// 404 for an unknown collection or tile matrix set and for a tile outside the limits; 400 for
/// tile coordinates that are not numbers; 503 when the database is down.
pub async fn tile(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String, String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, tms, z, row, col) = path.into_inner();
    let c = with_geometry(&state, &id)?;
    check_tms(&tms)?;
    let pairs = params::query_pairs(&req)?;
    if let Some((name, _)) = pairs.first() {
        return Err(ApiError::param(name, "unknown parameter; a tile takes none"));
    }
    let number = |name: &str, v: &str| {
        v.parse::<u64>().map_err(|_| ApiError::param(name, format!("expected a whole number, got \"{v}\"")))
    };
    let (z, row, col) = (number("tileMatrix", &z)?, number("tileRow", &row)?, number("tileCol", &col)?);
    let outside = || ApiError::NotFound(format!("tile {z}/{row}/{col} is outside the limits of {id}"));
    let z32 = u32::try_from(z).ok().filter(|z| *z <= MAX_ZOOM).ok_or_else(outside)?;
    let sql = c.plan.tile_sql.as_deref().ok_or_else(outside)?;
    let client = state.pool.get().await?;
    let (version, bbox) = etag::refresh_extent(&client, &c).await?;
    let (c0, c1, r0, r1) = limits_at(bbox.ok_or_else(outside)?, z32);
    if !(c0..=c1).contains(&col) || !(r0..=r1).contains(&row) {
        return Err(outside());
    }
    let tag = etag::tag(version, &req, Format::Json);
    if etag::matches(&req, &tag) {
        return Ok(HttpResponse::NotModified().insert_header((header::ETAG, tag)).finish());
    }
    // Bring the cache up to the data version: drop exactly the tiles the changes met.
    match state.tiles.version(c.id()) {
        Some(known) if known == version => {}
        Some(known) => {
            let statement = client.prepare_cached(&c.plan.changes_sql).await?;
            let rows = client.query(&statement, &[&known, &version]).await?;
            let extents: Vec<tilecache::Extent> = rows
                .iter()
                .map(|r| match (r.get(1), r.get(2), r.get(3), r.get(4)) {
                    (Some(a), Some(b), Some(c), Some(d)) => Some([a, b, c, d]),
                    _ => None,
                })
                .collect();
            state.tiles.advance(c.id(), version, &extents);
        }
        None => state.tiles.advance(c.id(), version, &[]),
    }
    let (bytes, cache) = match state.tiles.get(c.id(), z32, col, row) {
        Some(hit) => (hit, "hit"),
        None => {
            let statement = client.prepare_cached(sql).await?;
            let (z, x, y) =
                (i32::try_from(z32).unwrap_or(0), i32::try_from(col).unwrap_or(0), i32::try_from(row).unwrap_or(0));
            let rendered: Option<Vec<u8>> = client.query_one(&statement, &[&z, &x, &y]).await?.get(0);
            let rendered = Bytes::from(rendered.unwrap_or_default());
            state.tiles.put(c.id(), version, z32, col, row, rendered.clone());
            (rendered, "miss")
        }
    };
    if bytes.is_empty() {
        return Ok(HttpResponse::NoContent()
            .insert_header((header::ETAG, tag))
            .insert_header(("X-Tile-Cache", cache))
            .finish());
    }
    Ok(HttpResponse::Ok()
        .content_type(MVT)
        .insert_header((header::ETAG, tag))
        .insert_header(("X-Tile-Cache", cache))
        .body(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_of_points() {
        assert_eq!(tile_of(0.0, 0.0, 1), (1, 1));
        assert_eq!(tile_of(-180.0, 85.0, 3), (0, 0));
        // Hoàn Kiếm at z14: 105.8542, 21.0285
        assert_eq!(tile_of(105.8542, 21.0285, 14), (13009, 7212));
    }

    #[test]
    fn the_tile_matrix_set_has_every_level() {
        let tms = web_mercator_quad();
        let matrices = tms["tileMatrices"].as_array().unwrap();
        assert_eq!(matrices.len() as u32, MAX_ZOOM + 1);
        assert_eq!(matrices[0]["matrixWidth"], 1);
        let s0 = matrices[0]["scaleDenominator"].as_f64().unwrap();
        assert!((s0 - 559_082_264.028_717_2).abs() < 1e-3, "{s0}");
    }
}
