//! OGC API - Tiles (vector tiles) for every collection with geometry, in the WebMercatorQuad tile
//! matrix set: `/tileMatrixSets`, the tileset list and tileset metadata with
//! `tileMatrixSetLimits`, TileJSON 3.0, and Mapbox Vector Tiles from `ST_AsMVT`, whose SQL is
//! built once per collection (only z/x/y are bound).
//!
//! Tiles outside the collection's limits are 404, malformed tile coordinates 400, an empty tile
//! 204. Tiles carry an ETag from the table's data version, so a client cache revalidates with 304
//! and learns at once when an import changed the data. On a versioned collection `datetime`
//! draws the tile as of an instant (feature by feature, never cached here; see
//! [`crate::history`]).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use geosector_access::policy::Operation;
use geosector_crs::web_mercator::{tile_range, HALF_WORLD};
use geosector_domain::FieldType;
use geosector_store::plan::{Statement, TileRequest, TileVariant};
use geosector_store::Collection;
use serde_json::{json, Value};

use crate::auth::{self, Caller, Opened};
use crate::error::ApiError;
use crate::links::{base_url, Link};
use crate::params::{self, Format};
use crate::peer::PeerSocket;
use crate::state::AppState;
use crate::tilecache::{self, CachedTile, Coding};
use crate::{etag, history};
use std::sync::Arc;

/// Media type of Mapbox Vector Tiles.
pub const MVT: &str = "application/vnd.mapbox-vector-tile";
/// The one tile matrix set served.
pub const TMS: &str = "WebMercatorQuad";
/// Deepest zoom level served.
pub const MAX_ZOOM: u32 = 22;

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

/// A collection opened for tiles by the caller (its view, area scope and fingerprint).
fn with_geometry(state: &AppState, caller: &Caller, id: &str) -> Result<Opened, ApiError> {
    let opened = auth::open(state, caller, id, Operation::ReadTiles)?;
    if !opened.collection.has_geometry() {
        return Err(ApiError::NotFound(format!("collection {id} has no geometry, so no tiles")));
    }
    Ok(opened)
}

fn json_response(req: &HttpRequest, value: &Value) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(crate::links::keyed_text(value, req))
}

fn check_tms(tms: &str) -> Result<(), ApiError> {
    if tms == TMS {
        Ok(())
    } else {
        Err(ApiError::NotFound(format!("tile matrix set {tms} not found (served: {TMS})")))
    }
}

/// `GET /tileMatrixSets`.
///
/// # Errors
/// 400 for a parameter other than `f`.
pub async fn tile_matrix_sets(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    params::format_only(&req)?;
    let base = base_url(&req);
    Ok(json_response(
        &req,
        &json!({ "tileMatrixSets": [{
            "id": TMS, "title": "Google Maps Compatible for the World",
            "uri": "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
            "links": [Link::new(&format!("{base}/tileMatrixSets/{TMS}"), "self", "application/json", "WebMercatorQuad")]
        }]}),
    ))
}

/// `GET /tileMatrixSets/{tileMatrixSetId}`.
///
/// # Errors
/// 404 for another tile matrix set.
pub async fn tile_matrix_set(req: HttpRequest, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    params::format_only(&req)?;
    check_tms(&path)?;
    Ok(json_response(&req, &web_mercator_quad()))
}

/// A tileset: one collection's (`/collections/{id}/tiles/WebMercatorQuad`), or the dataset's,
/// several collections as layers of one tile (`/tiles/WebMercatorQuad?collections=...`).
struct Tileset {
    /// The tileset's URL, without query.
    url: String,
    /// The query the tile URLs carry (`?collections=...`), or empty.
    query: String,
    title: String,
    /// The layers with their extents at the current data.
    layers: Vec<(Arc<Collection>, Option<[f64; 4]>)>,
}

impl Tileset {
    /// One collection's tileset.
    async fn of_collection(state: &AppState, req: &HttpRequest, id: &str) -> Result<Tileset, ApiError> {
        let caller = auth::caller(state, req).await?;
        let c = with_geometry(state, &caller, id)?.collection;
        let mut db = Db::new(state, req);
        let bbox = current_layer(&mut db, &c).await?.bbox;
        Ok(Tileset {
            url: format!("{}/collections/{id}/tiles/{TMS}", base_url(req)),
            query: String::new(),
            title: format!("{} / {}", c.decl.title_vi, c.decl.title_en),
            layers: vec![(c, bbox)],
        })
    }

    /// The dataset's tileset over the chosen collections.
    async fn of_dataset(
        state: &AppState,
        req: &HttpRequest,
        chosen: &[Opened],
        all: bool,
    ) -> Result<Tileset, ApiError> {
        let mut db = Db::new(state, req);
        let mut layers = Vec::with_capacity(chosen.len());
        for c in chosen {
            layers.push((Arc::clone(&c.collection), current_layer(&mut db, &c.collection).await?.bbox));
        }
        let chosen: Vec<&Collection> = chosen.iter().map(|o| &*o.collection).collect();
        let query = if all {
            String::new()
        } else {
            format!("?collections={}", chosen.iter().map(|c| c.id()).collect::<Vec<_>>().join(","))
        };
        Ok(Tileset {
            url: format!("{}/tiles/{TMS}", base_url(req)),
            query,
            title: "geosector: mọi lớp dữ liệu / all layers".to_owned(),
            layers,
        })
    }

    /// The union of the layers' extents.
    fn bbox(&self) -> Option<[f64; 4]> {
        self.layers
            .iter()
            .filter_map(|(_, b)| *b)
            .reduce(|a, b| [a[0].min(b[0]), a[1].min(b[1]), a[2].max(b[2]), a[3].max(b[3])])
    }

    /// Tileset metadata (OGC API - Tiles, TileSet with `tileMatrixSetLimits`).
    fn metadata(&self, base: &str) -> Value {
        let limits: Vec<Value> = self
            .bbox()
            .map(|bbox| {
                (0..=MAX_ZOOM)
                    .map(|z| {
                        let (c0, c1, r0, r1) = tile_range(bbox, z);
                        json!({ "tileMatrix": z.to_string(), "minTileRow": r0, "maxTileRow": r1, "minTileCol": c0, "maxTileCol": c1 })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let layers: Vec<Value> = self
            .layers
            .iter()
            .map(|(c, _)| {
                json!({ "id": c.id(), "title": format!("{} / {}", c.decl.title_vi, c.decl.title_en), "dataType": "vector",
                        "geometryDimension": geometry_dimension(c), "minTileMatrix": min_zoom(c).to_string(),
                        "maxTileMatrix": MAX_ZOOM.to_string(), "propertiesSchema": { "type": "object", "properties": fields(c) } })
            })
            .collect();
        let (url, query) = (&self.url, &self.query);
        let mut links = vec![
            Link::new(&format!("{url}{query}"), "self", "application/json", "this tileset"),
            Link::new(
                &format!("{base}/tileMatrixSets/{TMS}"),
                "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme",
                "application/json",
                "tile matrix set",
            ),
            Link::new(&format!("{url}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}{query}"), "item", MVT, "tiles"),
            Link::new(&format!("{url}/tilejson.json{query}"), "describedby", "application/json", "TileJSON 3.0"),
        ];
        if let [(c, _)] = self.layers.as_slice() {
            links.push(Link::new(
                &format!("{base}/collections/{}", c.id()),
                "collection",
                "application/json",
                "the collection",
            ));
        }
        json!({
            "title": self.title, "dataType": "vector",
            "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
            "tileMatrixSetURI": "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
            "tileMatrixSetLimits": limits, "layers": layers, "links": links,
        })
    }

    /// TileJSON 3.0.
    fn tilejson(&self) -> Value {
        let layers: Vec<Value> = self
            .layers
            .iter()
            .map(|(c, _)| {
                let fields: serde_json::Map<String, Value> = fields(c).into_iter().map(|(k, v)| (k, v["type"].clone())).collect();
                json!({ "id": c.id(), "fields": fields, "minzoom": min_zoom(c), "maxzoom": MAX_ZOOM, "description": c.decl.description_en })
            })
            .collect();
        let minzoom = self.layers.iter().map(|(c, _)| min_zoom(c)).min().unwrap_or(0);
        let name = match self.layers.as_slice() {
            [(c, _)] => c.id().to_owned(),
            _ => "geosector".to_owned(),
        };
        let mut doc = json!({
            "tilejson": "3.0.0", "name": name, "description": self.title,
            "tiles": [format!("{}/{{z}}/{{y}}/{{x}}{}", self.url, self.query)],
            "minzoom": minzoom, "maxzoom": MAX_ZOOM, "vector_layers": layers,
        });
        if let Some([x0, y0, x1, y1]) = self.bbox() {
            doc["bounds"] = json!([x0, y0, x1, y1]);
            doc["center"] = json!([(x0 + x1) / 2.0, (y0 + y1) / 2.0, 14]);
        }
        doc
    }

    /// The list with this one tileset (`/tiles`, `/collections/{id}/tiles`).
    fn list(&self, base: &str) -> Value {
        json!({ "tilesets": [{
            "title": self.title, "dataType": "vector",
            "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
            "tileMatrixSetURI": "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
            "links": [
                Link::new(&format!("{}{}", self.url, self.query), "self", "application/json", "tileset metadata"),
                Link::new(&format!("{base}/tileMatrixSets/{TMS}"), "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme", "application/json", "tile matrix set"),
            ]
        }]})
    }
}

fn geometry_dimension(c: &Collection) -> u8 {
    match c.decl.dataset.geometry.map(|g| g.kind) {
        Some(geosector_domain::GeometryKind::Point) => 0,
        Some(geosector_domain::GeometryKind::MultiLineString) => 1,
        _ => 2,
    }
}

/// Property types as tiles carry them (lists joined with `+`, dates as text): the declared tile
/// properties, and those of the overview cells at the zooms below the detail.
fn fields(c: &Collection) -> serde_json::Map<String, Value> {
    let overview = c.decl.tiles.overview.map(|o| o.properties());
    c.plan
        .tile_properties
        .iter()
        .map(|p| (p.name, p.kind))
        .chain(overview.into_iter().flatten())
        .map(|(name, kind)| {
            let kind = match kind {
                FieldType::Integer | FieldType::Float => "number",
                FieldType::Boolean => "boolean",
                _ => "string",
            };
            (name.to_owned(), json!({ "type": kind }))
        })
        .collect()
}

/// The lowest zoom with features: 0 with an overview, else the first detailed zoom.
fn min_zoom(c: &Collection) -> u32 {
    if c.decl.tiles.overview.is_some() {
        0
    } else {
        u32::from(c.decl.tiles.detail_min_zoom)
    }
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
    let tileset = Tileset::of_collection(&state, &req, &path).await?;
    Ok(json_response(&req, &tileset.list(&base_url(&req))))
}

/// The checks of a collection's tileset request (only `f`, the served tile matrix set), then the
/// tileset.
async fn collection_tileset(
    state: &AppState,
    req: &HttpRequest,
    (id, tms): (String, String),
) -> Result<Tileset, ApiError> {
    params::format_only(req)?;
    check_tms(&tms)?;
    Tileset::of_collection(state, req, &id).await
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
    let tileset = collection_tileset(&state, &req, path.into_inner()).await?;
    Ok(json_response(&req, &tileset.metadata(&base_url(&req))))
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
    let tileset = collection_tileset(&state, &req, path.into_inner()).await?;
    Ok(json_response(&req, &tileset.tilejson()))
}

/// The collections a dataset-level request chose with `collections` (comma-separated ids; when
/// absent, every collection with geometry the caller may draw), opened for the caller, and
/// whether that is the default choice. Any other parameter but `f` is refused.
fn chosen_collections(
    state: &AppState,
    caller: &Caller,
    req: &HttpRequest,
    allow_f: bool,
) -> Result<(Vec<Opened>, bool), ApiError> {
    let pairs = params::query_pairs(req)?;
    if let Some((name, _)) = pairs.iter().find(|(k, _)| k != "collections" && !(allow_f && k == "f")) {
        return Err(ApiError::param(name, "unknown parameter; dataset tiles accept only collections"));
    }
    let Some((_, list)) = pairs.iter().find(|(k, _)| k == "collections") else {
        let all = state
            .registry
            .iter()
            .filter(|c| c.has_geometry())
            .filter_map(|c| with_geometry(state, caller, c.id()).ok());
        return Ok((all.collect(), true));
    };
    let mut chosen: Vec<Opened> = Vec::new();
    for id in list.split(',').map(str::trim) {
        let opened = match with_geometry(state, caller, id) {
            Ok(opened) => opened,
            Err(ApiError::NotFound(_)) => {
                return Err(ApiError::param("collections", format!("no collection with geometry named \"{id}\"")))
            }
            Err(other) => return Err(other),
        };
        if !chosen.iter().any(|k| k.collection.id() == opened.collection.id()) {
            chosen.push(opened);
        }
    }
    Ok((chosen, false))
}

/// The dataset tileset over the collections the request chose.
async fn dataset_tileset_of(state: &AppState, req: &HttpRequest) -> Result<Tileset, ApiError> {
    let caller = auth::caller(state, req).await?;
    let (chosen, all) = chosen_collections(state, &caller, req, true)?;
    Tileset::of_dataset(state, req, &chosen, all).await
}

/// `GET /tiles`: the dataset's tileset list.
///
/// # Errors
/// 400 for a parameter other than `f` and `collections`, or an unknown collection.
pub async fn dataset_tilesets(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let tileset = dataset_tileset_of(&state, &req).await?;
    Ok(json_response(&req, &tileset.list(&base_url(&req))))
}

/// `GET /tiles/{tileMatrixSetId}`: the dataset tileset's metadata.
///
/// # Errors
/// 404 for another tile matrix set; 400 for an unknown parameter or collection.
pub async fn dataset_tileset(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    check_tms(&path)?;
    let tileset = dataset_tileset_of(&state, &req).await?;
    Ok(json_response(&req, &tileset.metadata(&base_url(&req))))
}

/// `GET /tiles/{tileMatrixSetId}/tilejson.json`: TileJSON 3.0 of the dataset tileset.
///
/// # Errors
/// 404 for another tile matrix set; 400 for an unknown parameter or collection.
pub async fn dataset_tilejson(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    check_tms(&path)?;
    let tileset = dataset_tileset_of(&state, &req).await?;
    Ok(json_response(&req, &tileset.tilejson()))
}

/// `GET /tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}`: one tile with a layer per
/// chosen collection that has data there (`collections`, default all with geometry).
///
/// # Errors
/// 404 for another tile matrix set or a tile outside every chosen collection's limits; 400 for
/// bad coordinates, an unknown parameter or collection.
pub async fn dataset_tile(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (tms, z, row, col) = path.into_inner();
    check_tms(&tms)?;
    let caller = auth::caller(&state, &req).await?;
    let (chosen, _) = chosen_collections(&state, &caller, &req, false)?;
    let (z, row, col) = tile_coordinates(&z, &row, &col)?;
    let mut db = Db::new(&state, &req);
    let mut covering = Vec::with_capacity(chosen.len());
    let mut stale = false;
    // One tag over every chosen layer's version (FNV-1a), plus the path and query.
    let mut combined: u64 = 0xcbf2_9ce4_8422_2325;
    for c in &chosen {
        let layer = current_layer(&mut db, &c.collection).await?;
        stale |= layer.stale;
        combined = (combined ^ layer.version.unsigned_abs()).wrapping_mul(0x0100_0000_01b3);
        combined = (combined ^ c.fingerprint).wrapping_mul(0x0100_0000_01b3);
        if layer.covers(z, col, row) {
            covering.push((c, layer.version));
        }
    }
    if covering.is_empty() {
        return Err(ApiError::NotFound(format!(
            "tile {z}/{row}/{col} is outside the limits of every chosen collection"
        )));
    }
    let tag = etag::tag(i64::from_ne_bytes(combined.to_ne_bytes()), &req, Format::Json, 0);
    if etag::matches(&req, &tag) {
        return Ok(HttpResponse::NotModified().insert_header((header::ETAG, tag)).finish());
    }
    let mut layers = Vec::with_capacity(covering.len());
    let mut all_hits = true;
    for (c, version) in covering {
        let (tile, cache) = layer_tile(&mut db, c, version, (z, col, row)).await?;
        all_hits &= cache == "hit";
        layers.push((c.collection.id(), tile));
    }
    let mut response = tile_response(&req, tag, &layers, if all_hits { "hit" } else { "miss" });
    if stale {
        mark_stale(&mut response);
    }
    Ok(response)
}

/// `GET /collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}`.
///
/// # Errors
/// 404 for an unknown collection or tile matrix set and for a tile outside the limits; 400 for
/// tile coordinates that are not numbers or for a query parameter; 503 when the database is down.
pub async fn tile(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String, String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, tms, z, row, col) = path.into_inner();
    let caller = auth::caller(&state, &req).await?;
    let opened = with_geometry(&state, &caller, &id)?;
    let c = Arc::clone(&opened.collection);
    check_tms(&tms)?;
    let pairs = params::query_pairs(&req)?;
    let filter = crate::filter::of_tile(&c, &pairs, state.request_limits.filter).await?;
    let at = history::requested(&pairs, &c)?;
    let in_force = in_force_at(&pairs, &c)?;
    let (z, row, col) = tile_coordinates(&z, &row, &col)?;
    let mut db = Db::new(&state, &req);
    let layer = current_layer(&mut db, &c).await?;
    if !layer.covers(z, col, row) {
        return Err(ApiError::NotFound(format!("tile {z}/{row}/{col} is outside the limits of {id}")));
    }
    // A tile at an instant past the margin never changes: its tag is the instant's.
    let immutable = at.is_some_and(|at| history::settled(&state, at));
    let tag = if immutable {
        etag::settled(&req, Format::Json, opened.fingerprint)
    } else {
        etag::tag(layer.version, &req, Format::Json, opened.fingerprint)
    };
    let stamped = |mut response: HttpResponse| {
        if at.is_some() {
            history::stamp(&mut response, at, immutable);
        }
        response
    };
    if etag::matches(&req, &tag) {
        return Ok(stamped(HttpResponse::NotModified().insert_header((header::ETAG, tag)).finish()));
    }
    if filter.is_some() || at.is_some() || in_force.is_some() {
        // A filtered tile is one client's view, and a tile at an instant is not the current one:
        // rendered for the request, never cached (the cache holds current tiles only).
        let as_of = at.or(in_force);
        let request = TileRequest { z, x: col, y: row, filter: filter.as_ref(), scope: opened.scope.as_ref(), as_of };
        let tile = render_capped(&mut db, &c, &request).await?;
        return Ok(stamped(tile_response(&req, tag, &[(c.id(), tile)], "bypass")));
    }
    let (tile, cache) = layer_tile(&mut db, &opened, layer.version, (z, col, row)).await?;
    let mut response = tile_response(&req, tag, &[(c.id(), tile)], cache);
    if layer.stale {
        mark_stale(&mut response);
    }
    Ok(response)
}

/// The instant a tile of a collection whose features span an interval draws them at (`datetime`,
/// one instant; `None`: now, the cached tile).
///
/// # Errors
/// 400 naming `datetime` for a malformed value or an interval.
fn in_force_at(pairs: &[(String, String)], c: &Collection) -> Result<Option<DateTime<Utc>>, ApiError> {
    let Some((_, text)) = pairs.iter().find(|(k, _)| k == "datetime").filter(|_| c.plan.draws_in_force()) else {
        return Ok(None);
    };
    if text.contains('/') {
        return Err(ApiError::param(
            "datetime",
            format!("tiles of {} draw the features in force at one instant (a date or an RFC 3339 date-time), not over an interval", c.id()),
        ));
    }
    history::instant(text, c).map(Some)
}

/// Validated tile coordinates (z within the served levels; row and column are checked against
/// the limits by the caller).
fn tile_coordinates(z: &str, row: &str, col: &str) -> Result<(u32, u64, u64), ApiError> {
    let number = |name: &str, v: &str| {
        v.parse::<u64>().map_err(|_| ApiError::param(name, format!("expected a whole number, got \"{v}\"")))
    };
    let (z, row, col) = (number("tileMatrix", z)?, number("tileRow", row)?, number("tileCol", col)?);
    let z = u32::try_from(z)
        .ok()
        .filter(|z| *z <= MAX_ZOOM)
        .ok_or_else(|| ApiError::NotFound(format!("tile matrix {z} is not in {TMS} (0 to {MAX_ZOOM})")))?;
    Ok((z, row, col))
}

/// A pooled connection taken only when a request needs the database (a cache hit with the change
/// feed live needs none).
struct Db<'a> {
    state: &'a AppState,
    client: Option<deadpool_postgres::Object>,
    /// The requesting client's connection, watched while a tile renders.
    peer: Option<PeerSocket>,
    /// When the request arrived: what was committed before must be in its answer (a replica
    /// answers only once it has replayed that, see [`crate::replicas`]).
    arrived: std::time::Instant,
}

impl<'a> Db<'a> {
    fn new(state: &'a AppState, req: &HttpRequest) -> Db<'a> {
        Db { state, client: None, peer: PeerSocket::of(req), arrived: std::time::Instant::now() }
    }

    async fn client(&mut self) -> Result<&deadpool_postgres::Object, ApiError> {
        if self.client.is_none() {
            self.client = Some(self.state.reads.get_since(self.arrived).await?);
        }
        self.client.as_ref().ok_or_else(|| ApiError::Internal("no connection".into()))
    }
}

/// A collection's data version and extent as of now.
struct LayerNow {
    version: i64,
    bbox: Option<[f64; 4]>,
    /// The database is away: the version is the last one known, and only cached tiles of it
    /// can be served (marked stale).
    stale: bool,
}

impl LayerNow {
    fn covers(&self, z: u32, col: u64, row: u64) -> bool {
        self.bbox.is_some_and(|bbox| {
            let (c0, c1, r0, r1) = tile_range(bbox, z);
            (c0..=c1).contains(&col) && (r0..=r1).contains(&row)
        })
    }
}

/// The version from the read fence when replicas are in use, else from the change feed when it
/// is live (and the extent known at it), else both from the database.
async fn current_layer(db: &mut Db<'_>, c: &Collection) -> Result<LayerNow, ApiError> {
    let known = match db.state.reads.version(db.arrived, c.table_key()).await {
        Some(version) => Some(version),
        None => db.state.feed.version(c.table_key()),
    };
    if let Some(version) = known {
        if let Some(bbox) = c.extent_if_current(version) {
            return Ok(LayerNow { version, bbox, stale: false });
        }
    }
    let refreshed = match db.client().await {
        Ok(client) => etag::refresh_extent(client, c).await,
        Err(e) => Err(e),
    };
    match refreshed {
        Ok((version, bbox)) => Ok(LayerNow { version, bbox, stale: false }),
        // The database is away: the tiles cached at the last version known can still be served.
        Err(ApiError::Unavailable(cause)) => match c.last_extent() {
            (version, bbox) if version > 0 => Ok(LayerNow { version, bbox, stale: true }),
            _ => Err(ApiError::Unavailable(cause)),
        },
        Err(e) => Err(e),
    }
}

/// Marks a tile served from the cache while the database is away (RFC 7234's stale warning,
/// and a header of ours that says so plainly).
fn mark_stale(response: &mut HttpResponse) {
    let headers = response.headers_mut();
    headers.insert(header::WARNING, header::HeaderValue::from_static("110 - \"Response is Stale\""));
    headers.insert(
        header::HeaderName::from_static("geosector-stale"),
        header::HeaderValue::from_static("database unavailable"),
    );
}

/// One collection's layer of a tile at a data version: from the cache, or rendered (and cached).
/// Returns the tile and whether it was a cache hit.
async fn layer_tile(
    db: &mut Db<'_>,
    opened: &Opened,
    version: i64,
    (z, col, row): (u32, u64, u64),
) -> Result<(Arc<CachedTile>, &'static str), ApiError> {
    let c = &*opened.collection;
    let tiles = &db.state.tiles;
    // Bring the cache up to the data version: drop exactly the tiles the changes met.
    match tiles.version(c.id()) {
        Some(known) if known == version => {}
        Some(known) => {
            let client = db.client().await?;
            let rows = crate::db::all(client, &c.plan.changes(known, version)).await?;
            let extents: Vec<tilecache::Extent> = rows
                .iter()
                .map(|r| match (r.get(1), r.get(2), r.get(3), r.get(4)) {
                    (Some(a), Some(b), Some(c), Some(d)) => Some([a, b, c, d]),
                    _ => None,
                })
                .collect();
            tiles.advance(c.id(), version, &extents);
        }
        None => tiles.advance(c.id(), version, &[]),
    }
    if let Some(hit) = tiles.get(c.id(), opened.fingerprint, z, col, row) {
        return Ok((hit, "hit"));
    }
    let request = TileRequest { z, x: col, y: row, filter: None, scope: opened.scope.as_ref(), as_of: None };
    let tile = render_capped(db, c, &request).await?;
    tiles.put(c.id(), opened.fingerprint, version, (z, col, row), Arc::clone(&tile));
    Ok((tile, "miss"))
}

/// Renders one collection's layer of a tile under the size cap, for cached and filtered tiles
/// alike: with its tile properties, or — when that is over the cap and the zoom draws features
/// one by one — the same features with their ids only (a click still finds the record),
/// reported in the tile's note and the log.
async fn render_capped(
    db: &mut Db<'_>,
    c: &Collection,
    request: &TileRequest<'_>,
) -> Result<Arc<CachedTile>, ApiError> {
    let max_bytes = db.state.max_tile_bytes;
    let filtered = request.filter.is_some();
    let (z, row, col) = (request.z, request.y, request.x);
    let mut rendered = match c.plan.tile(request, TileVariant::Full) {
        Some(statement) => render(db, &statement, filtered).await?,
        None => Bytes::new(),
    };
    let mut reduced = None;
    if rendered.len() > max_bytes {
        if let Some(lean) = c.plan.tile(request, TileVariant::IdsOnly) {
            let full = rendered.len();
            rendered = render(db, &lean, filtered).await?;
            let what = if filtered { "filtered tile" } else { "tile" };
            reduced = Some(format!(
                "{what} {}/{z}/{row}/{col} was {full} bytes, over the {max_bytes}-byte cap: served without properties ({} bytes)",
                c.id(),
                rendered.len()
            ));
            tracing::warn!(
                collection = c.id(),
                z,
                row,
                col,
                filtered,
                full,
                served = rendered.len(),
                cap = max_bytes,
                "tile over the size cap"
            );
        }
    }
    if rendered.len() > max_bytes {
        tracing::error!(
            collection = c.id(),
            z,
            row,
            col,
            filtered,
            bytes = rendered.len(),
            cap = max_bytes,
            "tile still over the size cap"
        );
        let note = reduced.get_or_insert_with(String::new);
        note.push_str("; still over the cap");
    }
    Ok(Arc::new(CachedTile::new(rendered, reduced)))
}

/// Runs a tile statement. If the client goes away (or the request is dropped) while PostgreSQL
/// is still rendering, the query is cancelled rather than left to finish for nobody. Database
/// errors a filter caused are the client's (400).
async fn render(db: &mut Db<'_>, statement: &Statement, filtered: bool) -> Result<Bytes, ApiError> {
    let peer = db.peer.clone();
    let client = db.client().await?;
    let guard = CancelOnDrop(Some(client.cancel_token()));
    let query = crate::db::one(client, statement);
    let result = match peer {
        Some(peer) => tokio::select! {
            result = query => result,
            () = peer.closed() => {
                // The guard, dropped armed, cancels the query.
                return Err(ApiError::Unavailable("the client closed the connection; its tile query was cancelled".into()));
            }
        },
        None => query.await,
    };
    // The query has finished, with rows or an error: nothing is left to cancel (a cancel sent
    // now could reach the next statement of this pooled connection).
    guard.disarm();
    let row = result.map_err(|e| crate::filter::db_error(e, filtered))?;
    Ok(Bytes::from(row.and_then(|r| r.get::<_, Option<Vec<u8>>>(0)).unwrap_or_default()))
}

/// Cancels the connection's running query when dropped armed.
struct CancelOnDrop(Option<tokio_postgres::CancelToken>);

impl CancelOnDrop {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(token) = self.0.take() {
            tracing::info!("client went away: cancelling its tile query");
            tokio::spawn(async move {
                let _ = token.cancel_query(tokio_postgres::NoTls).await;
            });
        }
    }
}

/// The response for the layers of one tile: concatenated MVT layers (a tile is a list of
/// layers, so concatenating tiles merges them), compressed as the client accepts, 204 when no
/// layer has a feature. Reports a size-capped layer in `Geosector-Tile-Reduced`.
fn tile_response(req: &HttpRequest, tag: String, layers: &[(&str, Arc<CachedTile>)], cache: &str) -> HttpResponse {
    let accept = req.headers().get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok());
    let coding = Coding::negotiate(accept);
    let notes: Vec<&str> = layers.iter().filter_map(|(_, t)| t.reduced.as_deref()).collect();
    let mut response =
        if layers.iter().all(|(_, t)| t.mvt.is_empty()) { HttpResponse::NoContent() } else { HttpResponse::Ok() };
    response.insert_header((header::ETAG, tag)).insert_header(("X-Tile-Cache", cache.to_owned()));
    response.insert_header((header::VARY, "Accept-Encoding"));
    if !notes.is_empty() {
        response.insert_header(("Geosector-Tile-Reduced", notes.join(" | ")));
    }
    if layers.iter().all(|(_, t)| t.mvt.is_empty()) {
        return response.finish();
    }
    response.content_type(MVT);
    let body = match layers {
        [(_, only)] => only.encoded(coding),
        many if coding == Coding::Identity => {
            Bytes::from(many.iter().flat_map(|(_, t)| t.mvt.iter().copied()).collect::<Vec<u8>>())
        }
        many => {
            let merged =
                CachedTile::new(many.iter().flat_map(|(_, t)| t.mvt.iter().copied()).collect::<Vec<u8>>().into(), None);
            merged.encoded(coding)
        }
    };
    if let Some(value) = coding.header() {
        response.insert_header((header::CONTENT_ENCODING, value));
    }
    response.body(body)
}

#[cfg(test)]
mod tests {
    use super::*;

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
