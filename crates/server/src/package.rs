//! `GET /packages?area=…&collections=…`: an offline package made for the caller, downloaded as
//! one file — the GeoPackage (`f=gpkg`, the default), or its tiles as PMTiles (`f=pmtiles`) or
//! MBTiles (`f=mbtiles`).
//!
//! The caller's access applies as on items and tiles: a restricted collection it may not know
//! is 404, one it may not read 401 (anonymous) or 403; features and tiles are limited to its
//! areas and carry the properties it may see. The package is built on two pooled connections in
//! one snapshot, in a scratch directory on its own thread (SQLite writes never block the HTTP
//! workers), then streamed from disk and removed.

use std::path::PathBuf;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;
use geosector_package::{Layer, Options};

use crate::error::ApiError;
use crate::state::AppState;
use crate::{auth, params};

/// The most collections one package may hold.
const MAX_COLLECTIONS: usize = 16;

/// `GET /packages`.
///
/// # Errors
/// 400 for a bad parameter, 401/403/404 as for items, 503 when the database is down.
pub async fn package(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let caller = auth::caller(&state, &req).await?;
    let pairs = params::query_pairs(&req)?;
    let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned());
    for (name, _) in &pairs {
        if !["area", "collections", "f", "maxzoom", "minzoom"].contains(&name.as_str()) {
            return Err(ApiError::param(name, "unknown parameter (area, collections, f, minzoom, maxzoom)"));
        }
    }
    let area_text =
        get("area").ok_or_else(|| ApiError::param("area", "required: a province or commune code, or a bbox"))?;
    let ids: Vec<String> = get("collections")
        .ok_or_else(|| ApiError::param("collections", "required: comma-separated collection ids"))?
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    if ids.is_empty() || ids.len() > MAX_COLLECTIONS {
        return Err(ApiError::param("collections", format!("between 1 and {MAX_COLLECTIONS} collection ids")));
    }
    let format = get("f").unwrap_or_else(|| "gpkg".to_owned());
    let (file, media_type) = match format.as_str() {
        "gpkg" => ("package.gpkg", "application/geopackage+sqlite3"),
        "pmtiles" => ("tiles.pmtiles", "application/vnd.pmtiles"),
        "mbtiles" => ("tiles.mbtiles", "application/vnd.mapbox-vector-tile+sqlite3"),
        _ => return Err(ApiError::param("f", "gpkg, pmtiles or mbtiles")),
    };
    let zoom = |name: &str, default: u8| -> Result<u8, ApiError> {
        match get(name) {
            None => Ok(default),
            Some(v) => {
                v.parse::<u8>().ok().filter(|z| *z <= 18).ok_or_else(|| ApiError::param(name, "a zoom from 0 to 18"))
            }
        }
    };
    let (min_zoom, max_zoom) = (zoom("minzoom", 0)?, zoom("maxzoom", 16)?);
    if min_zoom > max_zoom {
        return Err(ApiError::param("minzoom", "at most maxzoom"));
    }
    let mut layers = Vec::with_capacity(ids.len());
    for id in &ids {
        let not_found = || ApiError::NotFound(format!("collection {id} not found"));
        let collection = state.registry.get(id).ok_or_else(not_found)?;
        let access = caller.access(collection);
        if !access.visible {
            return Err(not_found());
        }
        let layer = Layer::for_access(collection, &access).ok_or_else(|| auth::refused(&caller))?;
        if !layer.features {
            return Err(auth::refused(&caller));
        }
        layers.push(layer);
    }
    let main = state.pool.get().await?;
    let area = geosector_package::area::resolve(&main, &area_text).await.map_err(|e| match e {
        geosector_package::PackageError::Invalid(message) => ApiError::param("area", message),
        other => ApiError::Internal(other.to_string()),
    })?;
    let worker = state.pool.get().await?;
    let dir = scratch_dir();
    let cleanup = Cleanup(dir.clone());
    let options = Options {
        out: dir.clone(),
        min_zoom,
        max_zoom,
        tiles: format != "gpkg",
        resume: false,
        progress: false,
        source: crate::links::base_url(&req),
        caller: caller.identity.subject.clone(),
        made_at: None,
    };
    // On its own thread: the SQLite writes block, and the build's future is not `Send`.
    let (done, result) = tokio::sync::oneshot::channel();
    let handle = tokio::runtime::Handle::current();
    std::thread::spawn(move || {
        let report = handle.block_on(async {
            let workers: Vec<&tokio_postgres::Client> = vec![&**worker];
            geosector_package::build(&main, &workers, &layers, &area, &options).await
        });
        let _ = done.send(report);
    });
    let report = result.await.map_err(|_| ApiError::Internal("the package thread ended".into()))?;
    report.map_err(|e| ApiError::Internal(format!("package: {e}")))?;
    let path = dir.join(file);
    let length = std::fs::metadata(&path).map_err(|e| ApiError::Internal(e.to_string()))?.len();
    let reader = std::fs::File::open(&path).map_err(|e| ApiError::Internal(e.to_string()))?;
    let body = futures_util::stream::unfold((reader, cleanup), |(mut reader, cleanup)| async move {
        let mut buffer = vec![0u8; 256 * 1024];
        match std::io::Read::read(&mut reader, &mut buffer) {
            Ok(0) => None,
            Ok(n) => {
                buffer.truncate(n);
                Some((Ok::<Bytes, std::io::Error>(Bytes::from(buffer)), (reader, cleanup)))
            }
            Err(e) => Some((Err(e), (reader, cleanup))),
        }
    });
    let name = format!("geosector-{}.{}", area_text.replace([',', ' ', '/', '"'], "_"), format);
    Ok(HttpResponse::Ok()
        .content_type(media_type)
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")))
        .no_chunking(length)
        .streaming(body))
}

/// A scratch directory for one package.
fn scratch_dir() -> PathBuf {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::env::temp_dir().join(format!("geosector-package-{}-{n}", std::process::id()))
}

/// Removes a package's scratch directory when the download ends or is dropped.
struct Cleanup(PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
