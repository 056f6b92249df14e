//! geosector's HTTP server: OGC API - Features (Part 1: core, GeoJSON, HTML, OpenAPI 3.0; Part
//! 3: CQL2 filtering) over PostGIS.
//!
//! What is served comes from the collection registry (`geosector-store`), built at start from the
//! sector crates' declarations; this crate never names a sector and never builds SQL — it parses
//! requests into typed queries ([`query`], [`filter`]), hands them to the registry's plans, runs
//! the statements it gets back with their own values ([`db`]), and encodes rows. Styles and time
//! series are written from the collections' declarations. GeoJSON is streamed row by row. Every
//! error is an OGC exception naming what was wrong.

pub mod audit;
pub mod auth;
pub mod catalogue;
pub mod changes;
pub mod checkers;
pub mod clients;
pub mod crs;
pub mod db;
pub mod edit;
pub mod error;
pub mod etag;
pub mod features;
pub mod filter;
pub mod history;
pub mod html;
pub mod keycache;
pub mod limits;
pub mod lineage;
pub mod links;
pub mod lookup;
pub mod metrics;
pub mod openapi;
pub mod package;
pub mod pages;
pub mod params;
pub mod peer;
pub mod proxies;
pub mod query;
pub mod queryables;
pub mod replicas;
pub mod rows;
pub mod state;
pub mod statistics;
pub mod style;
pub mod tilecache;
pub mod tiles;
pub mod timeseries;
pub mod versions;
pub mod viewer;
pub mod wfs;

pub use state::AppState;

use std::str::FromStr;
use std::time::Duration;

use actix_cors::Cors;
use actix_web::dev::Service as _;
use actix_web::http::header;
use actix_web::http::Method;
use actix_web::{guard, middleware, web, App, HttpResponse, HttpServer, ResponseError as _};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use geosector_domain::{CollectionDecl, SectorDecl};
use geosector_store::Registry;

/// Registers the routes: each path once, with its methods and their handlers. A `GET` route
/// answers `HEAD` too (the body left out); any other method on a known path is a 405 whose
/// `Allow` lists the path's methods. The order is the matching order (fixed paths such as
/// `/collections/catalogue` before `/collections/{collectionId}`).
macro_rules! routes {
    ($app:expr, { $($path:literal => [$($method:ident => $handler:expr),+ $(,)?]),+ $(,)? }) => {{
        let app = $app;
        $(
            let app = app.service(
                web::resource($path)
                    $(.route(route_for(&Method::$method).to($handler)))+
                    .default_service(web::to(|req: actix_web::HttpRequest| async move {
                        Err::<HttpResponse, ApiError>(method_not_allowed(&req, &[$(Method::$method),+]))
                    })),
            );
        )+
        app
    }};
}

/// The route of a method (`GET` takes `HEAD` as well).
fn route_for(method: &Method) -> actix_web::Route {
    if *method == Method::GET {
        web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
    } else {
        web::route().guard(guard::Method(method.clone()))
    }
}

/// The 405 of a method a path does not take, with the methods it does.
fn method_not_allowed(req: &actix_web::HttpRequest, methods: &[Method]) -> ApiError {
    let mut allow: Vec<&str> = Vec::new();
    for m in methods {
        allow.push(m.as_str());
        if *m == Method::GET {
            allow.push("HEAD");
        }
    }
    ApiError::MethodNotAllowed {
        allow: allow.join(", "),
        message: format!("{} is not allowed on {}; allowed: {}", req.method(), req.path(), allow.join(", ")),
    }
}

use crate::error::ApiError;
use crate::params::Limits;

/// Server settings: from a TOML file, then `GEOSECTOR_*` variables, then flags (the binary
/// merges them in that order). Unknown keys in the file are an error.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on (`127.0.0.1:8080`; port 0 picks a free port).
    pub bind: String,
    /// PostgreSQL URL (the primary: writes, the change feed, and reads no replica can take).
    pub database_url: Option<String>,
    /// Streaming replicas of that database (hot standbys) that take reads once they have
    /// replayed what was committed before the request (see [`replicas`]).
    pub replica_urls: Vec<String>,
    /// Connections in the pool.
    pub pool_size: usize,
    /// How long a request waits for a free connection, in milliseconds, before it is answered
    /// 503 with `Retry-After`: when every connection is busy, waiting requests do not pile up
    /// for longer than this. Opening a connection is bounded by the same time.
    pub pool_timeout_ms: u64,
    /// Features per page when the request gives no `limit`.
    pub default_limit: i64,
    /// Largest page; larger `limit`s are capped.
    pub max_limit: i64,
    /// Statement timeout of every query, in milliseconds.
    pub statement_timeout_ms: u64,
    /// HTTP worker threads (0 = one per core).
    pub workers: usize,
    /// Parallel workers PostgreSQL may add to one request's query (`max_parallel_workers_per_gather`).
    /// 0 by default: under concurrent requests, parallel plans spend more CPU per request and
    /// lower throughput.
    pub parallel_workers_per_query: u32,
    /// Size of the in-memory tile cache in MiB (0 turns it off).
    pub tile_cache_mb: usize,
    /// Largest tile served with its properties, in KiB: a larger one is served with ids only
    /// and reported (`Geosector-Tile-Reduced` header and a warning in the log).
    pub max_tile_kb: usize,
    /// The access policy file (roles, grants, tokens, audit retention; docs/security.md),
    /// reloaded when it changes and on SIGHUP. `None`: public collections open to everyone,
    /// restricted ones closed, tokens refused.
    pub access_file: Option<std::path::PathBuf>,
    /// Collections whose edits must carry `If-Match` (optimistic locking required: 428 without).
    pub require_if_match: Vec<String>,
    /// Change types accepted besides those the sectors declare (codes).
    pub change_types: Vec<String>,
    /// Seconds after which answers at an instant of a versioned collection are immutable
    /// (`Cache-Control: immutable`): longer than any write lasts, since a changeset's versions
    /// begin when it begins (see [`history`]).
    pub history_margin_s: u64,
    /// Proxies whose `Forwarded` / `X-Forwarded-*` headers are honoured (addresses or CIDR
    /// blocks, e.g. `127.0.0.1`, `10.0.0.0/8`); from any other peer they are ignored.
    pub trusted_proxies: Vec<String>,
    /// The catalogue file: external records and agency overrides (docs/catalogue.md).
    pub catalogue_file: Option<std::path::PathBuf>,
    /// Requests one client may have in flight at once (its credential, else its address, the
    /// forwarded one only from `trusted_proxies`); more are answered 429 with `Retry-After`.
    /// 0: no limit.
    pub max_concurrent_per_client: usize,
    /// Largest request body in bytes (edits, changesets, WFS POST): 413 beyond.
    pub max_body_bytes: usize,
    /// Longest URL (path and query) in bytes: 414 beyond. At most 65,000: longer URLs are
    /// refused by the HTTP layer itself, without an exception body.
    pub max_url_bytes: usize,
    /// Longest value of one query parameter (other than `filter`) in characters: 400 beyond.
    pub max_parameter_chars: usize,
    /// Longest `filter` in bytes: 400 beyond.
    pub max_filter_bytes: usize,
    /// Deepest nesting of a `filter` (parentheses, brackets, nested expressions): 400 beyond.
    pub max_filter_depth: usize,
    /// Most expressions of a `filter`: 400 beyond.
    pub max_filter_nodes: usize,
    /// Most vertices of one geometry, in a filter's geometry literal or an edit body: 400 beyond.
    pub max_vertices: usize,
    /// Largest bbox area (square degrees of CRS84) an anonymous caller may ask on items: 400
    /// naming bbox beyond. 0, the default, sets no limit.
    pub anonymous_bbox_deg2: f64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: "127.0.0.1:8080".into(),
            database_url: None,
            replica_urls: Vec::new(),
            pool_size: 16,
            pool_timeout_ms: 5_000,
            default_limit: 10,
            max_limit: 10_000,
            statement_timeout_ms: 30_000,
            workers: 0,
            parallel_workers_per_query: 0,
            tile_cache_mb: 256,
            max_tile_kb: 500,
            access_file: None,
            require_if_match: Vec::new(),
            change_types: Vec::new(),
            history_margin_s: history::DEFAULT_MARGIN_S,
            trusted_proxies: Vec::new(),
            catalogue_file: None,
            max_concurrent_per_client: 32,
            max_body_bytes: 16 * 1024 * 1024,
            max_url_bytes: 60 * 1024,
            max_parameter_chars: 1024,
            max_filter_bytes: 16 * 1024,
            max_filter_depth: 64,
            max_filter_nodes: 1000,
            max_vertices: 10_000,
            anonymous_bbox_deg2: 0.0,
        }
    }
}

impl ServerConfig {
    /// Reads a TOML configuration file.
    ///
    /// # Errors
    /// A message naming the file and the unknown key or bad value.
    pub fn from_toml_file(path: &std::path::Path) -> Result<ServerConfig, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Checks the values before anything starts.
    ///
    /// # Errors
    /// A message naming the setting.
    pub fn validate(&self) -> Result<(), String> {
        if self.database_url.is_none() {
            return Err("database_url: not set (flag --database-url, DATABASE_URL, or the config file)".into());
        }
        if self.pool_size == 0 {
            return Err("pool_size: must be at least 1".into());
        }
        if self.pool_timeout_ms == 0 {
            return Err("pool_timeout_ms: must be at least 1".into());
        }
        if self.default_limit < 1 || self.max_limit < self.default_limit {
            return Err(format!(
                "default_limit/max_limit: need 1 <= default_limit ({}) <= max_limit ({})",
                self.default_limit, self.max_limit
            ));
        }
        let positive = [
            ("max_body_bytes", self.max_body_bytes),
            ("max_url_bytes", self.max_url_bytes),
            ("max_parameter_chars", self.max_parameter_chars),
            ("max_filter_bytes", self.max_filter_bytes),
            ("max_filter_depth", self.max_filter_depth),
            ("max_filter_nodes", self.max_filter_nodes),
            ("max_vertices", self.max_vertices),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(format!("{name}: must be at least 1"));
        }
        if self.max_url_bytes > 65_000 {
            return Err(format!(
                "max_url_bytes: {} is more than 65000, the longest URL the HTTP layer reads",
                self.max_url_bytes
            ));
        }
        if !(self.anonymous_bbox_deg2 >= 0.0 && self.anonymous_bbox_deg2.is_finite()) {
            return Err("anonymous_bbox_deg2: must be 0 (no limit) or a positive number of square degrees".into());
        }
        Ok(())
    }

    /// The request limits of these settings.
    pub fn request_limits(&self) -> limits::RequestLimits {
        limits::RequestLimits {
            max_body_bytes: self.max_body_bytes,
            max_url_bytes: self.max_url_bytes,
            max_parameter_chars: self.max_parameter_chars,
            filter: geosector_filter::Limits {
                max_bytes: self.max_filter_bytes,
                max_depth: self.max_filter_depth,
                max_nodes: self.max_filter_nodes,
                max_vertices: self.max_vertices,
            },
            max_vertices: self.max_vertices,
            anonymous_bbox_deg2: self.anonymous_bbox_deg2,
        }
    }
}

/// The connection settings of every server connection: the statement timeout, parallel
/// workers, UTC, and no JIT (compiling a tile's query costs more than running it).
///
/// # Errors
/// A message for a URL that does not parse.
pub fn pg_config(config: &ServerConfig) -> Result<tokio_postgres::Config, String> {
    let url = config.database_url.as_deref().ok_or("database_url: not set")?;
    pg_config_of(config, url, "database_url")
}

/// The connection settings of a server connection to `url` (`setting` names it in errors).
fn pg_config_of(config: &ServerConfig, url: &str, setting: &str) -> Result<tokio_postgres::Config, String> {
    let mut pg = tokio_postgres::Config::from_str(url).map_err(|e| format!("{setting}: {e}"))?;
    pg.options(format!(
        "-c statement_timeout={} -c max_parallel_workers_per_gather={} -c TimeZone=UTC -c jit=off",
        config.statement_timeout_ms, config.parallel_workers_per_query
    ));
    pg.application_name("geosector");
    pg.connect_timeout(Duration::from_millis(config.pool_timeout_ms));
    Ok(pg)
}

/// Builds the pool with the statement timeout set on every connection.
///
/// # Errors
/// A message for a URL that does not parse.
pub fn pool(config: &ServerConfig) -> Result<Pool, String> {
    pool_of(pg_config(config)?, config.pool_size, Duration::from_millis(config.pool_timeout_ms))
        .map_err(|e| format!("pool: {e}"))
}

/// A pool of `size` connections that gives up waiting for, or opening, one after `timeout`.
fn pool_of(pg: tokio_postgres::Config, size: usize, timeout: Duration) -> Result<Pool, String> {
    let manager =
        Manager::from_config(pg, tokio_postgres::NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
    Pool::builder(manager)
        .max_size(size)
        .wait_timeout(Some(timeout))
        .create_timeout(Some(timeout))
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .build()
        .map_err(|e| e.to_string())
}

/// The replicas' pools: each as large as the primary's, quick to give up on a replica that does
/// not answer (its reads then go to the primary).
///
/// # Errors
/// A message naming the replica URL that does not parse.
pub fn replica_pools(config: &ServerConfig) -> Result<Vec<replicas::Replica>, String> {
    config
        .replica_urls
        .iter()
        .enumerate()
        .map(|(i, url)| {
            let pg = pg_config_of(config, url, &format!("replica_urls[{i}]"))?;
            let label = replicas::label(&pg);
            let pool =
                pool_of(pg, config.pool_size, Duration::from_secs(2)).map_err(|e| format!("replica_urls[{i}]: {e}"))?;
            Ok(replicas::Replica::new(label, pool))
        })
        .collect()
}

/// A started server: its bound addresses, and the future that runs it until shutdown
/// (SIGINT/SIGTERM stop it gracefully).
pub struct Started {
    /// Where it listens.
    pub addrs: Vec<std::net::SocketAddr>,
    /// Run this to serve.
    pub server: actix_web::dev::Server,
}

/// Loads the registry and binds the server.
///
/// # Errors
/// A message when the configuration is invalid, the database cannot be reached, a declared table
/// is missing (run `geosector migrate`), or the address cannot be bound.
pub async fn start(
    config: &ServerConfig,
    decls: &[&'static CollectionDecl],
    sectors: &[&'static SectorDecl],
) -> Result<Started, String> {
    config.validate()?;
    let policy = std::sync::Arc::new(
        geosector_access::policy::PolicyHandle::load(config.access_file.clone())
            .map_err(|e| format!("access_file: {e}"))?,
    );
    let retention = {
        let policy = std::sync::Arc::clone(&policy);
        move || policy.current().file.audit.retention_days
    };
    let trusted_proxies =
        config.trusted_proxies.iter().map(|t| proxies::Block::parse(t)).collect::<Result<Vec<_>, _>>()?;
    let client_limit =
        web::Data::new(clients::ClientLimit::new(config.max_concurrent_per_client, trusted_proxies.clone()));
    let file = match &config.catalogue_file {
        Some(path) => geosector_catalogue::CatalogueFile::read(path).map_err(|e| format!("catalogue_file: {e}"))?,
        None => geosector_catalogue::CatalogueFile::default(),
    };
    let catalogue = geosector_catalogue::Catalogue::new(
        sectors.to_vec(),
        file,
        geosector_catalogue::Crs { with_geometry: crs::all_uris() },
    );
    let pool = pool(config)?;
    let mut client = pool.get().await.map_err(|e| format!("database: {e}"))?;
    let registry = Registry::load(&client, decls)
        .await
        .map_err(|e| format!("loading the collections (has `geosector migrate` run?): {e}"))?;
    catalogue
        .refresh(&mut client, &registry)
        .await
        .map_err(|e| format!("building the catalogue (has `geosector migrate` run?): {e}"))?;
    drop(client);
    let feed = std::sync::Arc::new(changes::ChangeFeed::new(registry.iter().map(|c| c.table_key().to_owned())));
    tokio::spawn(std::sync::Arc::clone(&feed).run(pg_config(config)?));
    let reads = std::sync::Arc::new(replicas::Reads::new(pool.clone(), replica_pools(config)?));
    tokio::spawn(std::sync::Arc::clone(&reads).watch());
    let limits = Limits { default: config.default_limit, max: config.max_limit };
    // The public document: every collection but the restricted ones, without personal
    // properties (a caller who sees more gets its own, see `openapi::api`).
    let public: Vec<std::sync::Arc<geosector_store::Collection>> =
        registry.iter().filter(|c| !c.decl.access.restricted).cloned().collect();
    let request_limits = config.request_limits();
    let mut openapi = openapi::document(&public, limits);
    statistics::document(&mut openapi, sectors);
    openapi::harden(&mut openapi, &request_limits);
    let state = web::Data::new(AppState {
        pool: pool.clone(),
        reads,
        registry,
        sectors: sectors.to_vec(),
        limits,
        request_limits,
        openapi,
        metrics: metrics::Metrics::default(),
        tiles: tilecache::TileCache::new(config.tile_cache_mb * 1024 * 1024),
        feed: std::sync::Arc::clone(&feed),
        max_tile_bytes: config.max_tile_kb * 1024,
        policy,
        keys: keycache::KeyCache::default(),
        audit: audit::AuditLog::start(pool.clone(), retention),
        checkers: checkers::Checkers::default(),
        require_if_match: config.require_if_match.clone(),
        change_types: config.change_types.clone(),
        history_margin: Duration::from_secs(config.history_margin_s),
        trusted_proxies,
        catalogue,
    });
    reload_on_hangup(state.clone());
    let mut server = HttpServer::new(move || {
        let cors = Cors::default()
            .allow_any_origin()
            .allowed_methods(["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"])
            .allow_any_header()
            .expose_headers([
                "Content-Crs",
                "ETag",
                "WWW-Authenticate",
                "Location",
                "Allow",
                "Accept-Patch",
                "Link",
                "Memento-Datetime",
                "Last-Modified",
            ])
            .max_age(3600);
        let app = App::new()
            .app_data(state.clone())
            .app_data(client_limit.clone())
            .wrap(middleware::Compress::default())
            .wrap(cors)
            .wrap_fn(clients::limit)
            .wrap_fn(|req, srv| {
                let started = std::time::Instant::now();
                let (method, path) = (req.method().to_string(), req.path().to_owned());
                let route = req.match_pattern().unwrap_or_else(|| "other".to_owned());
                let state = req.app_data::<web::Data<AppState>>().cloned();
                let credentials = auth::presents_credentials(req.request());
                // Request limits are checked before any handler: a refusal answers at once.
                let refused = state.as_ref().and_then(|s| s.request_limits.check_request(req.request()).err());
                let response = match refused {
                    Some(e) => futures_util::future::Either::Left(std::future::ready(Ok::<_, actix_web::Error>(
                        req.into_response(e.error_response()),
                    ))),
                    None => {
                        let call = srv.call(req);
                        futures_util::future::Either::Right(async move {
                            call.await.map(actix_web::dev::ServiceResponse::map_into_boxed_body)
                        })
                    }
                };
                async move {
                    let mut response = response.await?;
                    // Answers depend on who asks: no shared cache may hand one caller's answer to
                    // another.
                    let headers = response.headers_mut();
                    headers.append(header::VARY, header::HeaderValue::from_static("Authorization, X-API-Key"));
                    if credentials {
                        headers.insert(header::CACHE_CONTROL, header::HeaderValue::from_static("private"));
                    }
                    let status = response.status().as_u16();
                    let seconds = started.elapsed().as_secs_f64();
                    if let Some(state) = state {
                        state.metrics.observe(&route, status, seconds);
                    }
                    tracing::info!(%method, %path, status, ms = seconds * 1000.0, "request");
                    Ok(response)
                }
            });
        routes!(app, {
                "/" => [GET => pages::landing],
                "/conformance" => [GET => pages::conformance],
                "/api" => [GET => openapi::api],
                "/health" => [GET => pages::health],
                "/metrics" => [GET => metrics_endpoint],
                "/collections" => [GET => pages::collections],
                "/catalogue" => [GET => catalogue::collection],
                "/catalogue/items" => [GET => catalogue::items],
                "/catalogue/items/{recordId}" => [GET => catalogue::record],
                "/collections/catalogue" => [GET => catalogue::collection],
                "/collections/catalogue/items" => [GET => catalogue::items],
                "/collections/catalogue/items/{recordId}" => [GET => catalogue::record],
                "/collections/{collectionId}" => [GET => pages::collection],
                "/collections/{collectionId}/items" => [GET => features::items, POST => edit::create, OPTIONS => edit::options],
                "/collections/{collectionId}/items/{featureId}" => [GET => features::item, PUT => edit::replace, PATCH => edit::update, DELETE => edit::delete, OPTIONS => edit::options],
                "/changesets" => [POST => edit::changesets::create],
                "/changesets/{changesetId}" => [GET => edit::changesets::get],
                "/packages/changes" => [POST => edit::package::upload],
                "/collections/{collectionId}/items/{featureId}/timeseries" => [GET => timeseries::timeseries],
                "/collections/{collectionId}/items/{featureId}/lineage" => [GET => lineage::lineage],
                "/collections/{collectionId}/items/{featureId}/versions" => [GET => versions::versions],
                "/collections/{collectionId}/items/{featureId}/{relation}" => [GET => features::related],
                "/collections/{collectionId}/lookup" => [GET => lookup::lookup],
                "/collections/{collectionId}/queryables" => [GET => queryables::queryables],
                "/collections/{collectionId}/sortables" => [GET => queryables::sortables],
                "/tileMatrixSets" => [GET => tiles::tile_matrix_sets],
                "/tileMatrixSets/{tileMatrixSetId}" => [GET => tiles::tile_matrix_set],
                "/tiles" => [GET => tiles::dataset_tilesets],
                "/tiles/{tileMatrixSetId}" => [GET => tiles::dataset_tileset],
                "/tiles/{tileMatrixSetId}/tilejson.json" => [GET => tiles::dataset_tilejson],
                "/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}" => [GET => tiles::dataset_tile],
                "/collections/{collectionId}/tiles" => [GET => tiles::tilesets],
                "/collections/{collectionId}/tiles/{tileMatrixSetId}" => [GET => tiles::tileset],
                "/collections/{collectionId}/tiles/{tileMatrixSetId}/tilejson.json" => [GET => tiles::tilejson],
                "/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}" => [GET => tiles::tile],
                "/styles" => [GET => style::styles],
                "/styles/{styleId}" => [GET => style::style],
                "/statistics/{sector}/{form}" => [GET => statistics::form],
                "/packages" => [GET => package::package],
                "/map" => [GET => viewer::map],
                "/map/assets/{name}" => [GET => viewer::asset],
                "/wfs" => [GET => wfs::get, POST => wfs::post],
        })
        .default_service(web::to(not_found))
    });
    server = server.on_connect(peer::on_connect);
    if config.workers > 0 {
        server = server.workers(config.workers);
    }
    let server = server.shutdown_timeout(10).bind(&config.bind).map_err(|e| format!("bind {}: {e}", config.bind))?;
    let addrs = server.addrs();
    Ok(Started { addrs, server: server.run() })
}

/// Re-reads the access policy on SIGHUP (it is also re-read when its file changes).
fn reload_on_hangup(state: web::Data<AppState>) {
    tokio::spawn(async move {
        let Ok(mut hangups) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
            tracing::warn!("SIGHUP cannot be watched: the access policy reloads only when its file changes");
            return;
        };
        while hangups.recv().await.is_some() {
            if let Err(e) = state.policy.reload() {
                tracing::error!(error = %e, "the access policy was not reloaded; the previous one stays in force");
            }
        }
    });
}

async fn metrics_endpoint(state: web::Data<AppState>) -> HttpResponse {
    use std::fmt::Write as _;
    let mut body = state.metrics.render(&state.pool.status());
    body.push_str(&state.reads.metrics());
    body.push_str("# HELP geosector_change_feed_live Whether data-change notifications are received (1) or versions are read per request (0).\n# TYPE geosector_change_feed_live gauge\n");
    let _ = writeln!(body, "geosector_change_feed_live {}", u8::from(state.feed.is_live()));
    body.push_str("# HELP geosector_data_version Data version of each published table, as the change feed last heard.\n# TYPE geosector_data_version gauge\n");
    // Restricted collections are not named to whoever scrapes the metrics.
    let restricted: Vec<&str> =
        state.registry.iter().filter(|c| c.decl.access.restricted).map(|c| c.table_key()).collect();
    for (table, version) in state.feed.snapshot() {
        if restricted.contains(&table.as_str()) {
            continue;
        }
        let _ = writeln!(body, "geosector_data_version{{table=\"{table}\"}} {version}");
    }
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(body)
}

async fn not_found(req: actix_web::HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(format!("no resource at {}", req.path())))
}
