//! The `geosector` command: a thin layer that parses the command line and calls one library
//! function per subcommand. No SQL, route or rule lives here.

mod admin;
mod changes;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use geosector::{collections, datasets, sectors};
use geosector_ingest::readers::ogcapi::{self, Harvest};
use geosector_ingest::readers::Format;
use geosector_ingest::validate::{RulesConfig, ValidationOptions};
use geosector_ingest::{ChangesetInfo, ImportOptions, Outcome};
use geosector_land_synth::{ParcelGenerator, ParcelOptions, SynthFormat};

/// The allocator: glibc's malloc serialises the import's rayon workers on its arena locks
/// (a quarter of a profiled import was malloc/free); mimalloc keeps per-thread heaps.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// geosector: Vietnam's natural-resources and environment databases in PostGIS.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// PostgreSQL URL, e.g. postgresql://user@127.0.0.1:5432/geosector.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    database_url: Option<String>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve OGC API - Features on the published collections.
    Serve(ServeArgs),
    /// Apply the numbered SQL migrations not yet applied (safe to run twice or concurrently).
    Migrate {
        /// Read migrations from this directory instead of those built into the binary.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// List the importable datasets with their validation rules, severities and descriptions.
    Datasets,
    /// Import files into a dataset, all or nothing, checking the dataset's rules.
    ///
    /// Exit code: 0 accepted (flagged and repaired features allowed), 1 rejected (nothing
    /// stored), 2 failed: no verdict could be reached (unreadable file, bad rules file, database
    /// error; nothing stored). See docs/validation.md.
    Import(ImportArgs),
    /// Check files as `import` would, with the same rules, and write nothing.
    ///
    /// Exit code: 0 valid (flags allowed), 1 rejected, 2 failed (no verdict).
    Validate(ImportArgs),
    /// Load administrative units (and their boundaries) from a directory laid out like
    /// data-samples/vietnam (or data-samples/reference, Hà Nội only).
    Reference {
        /// The directory.
        dir: PathBuf,
    },
    /// Write an offline package of an area: a GeoPackage of the collections' features (with
    /// their ids, versions and QGIS styles) and their tiles as PMTiles and MBTiles
    /// (docs/packages.md).
    Package(PackageArgs),
    /// Vector tiles: `seed` pre-renders tiles into a running server's cache.
    #[command(subcommand)]
    Tiles(TilesCommand),
    /// API keys: create (shown once), list, revoke.
    #[command(subcommand)]
    Keys(admin::KeysCommand),
    /// The audit log: list (by time, actor, collection, feature, parcel), prune.
    #[command(subcommand)]
    Audit(admin::AuditCommand),
    /// Write synthetic real-shaped cadastral parcels (VN-2000 TM-3 105°00′, EPSG:5897).
    SampleData {
        /// How many parcels.
        #[arg(long, default_value_t = 1000)]
        parcels: usize,
        /// Seed: the same seed gives the same file.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output file: .fgb, .geojson, or .geojsonl/.ndjson.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Subcommands of `geosector tiles`.
#[derive(Debug, Subcommand)]
enum TilesCommand {
    /// Request every tile of a zoom range over a bbox from a running server, so they are cached.
    Seed {
        /// The server.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        /// Collections to seed (comma-separated); default: the dataset tiles of every collection.
        #[arg(long, value_delimiter = ',')]
        collections: Vec<String>,
        /// min lon,min lat,max lon,max lat.
        #[arg(long, value_delimiter = ',', required = true, allow_negative_numbers = true)]
        bbox: Vec<f64>,
        /// Zoom range, e.g. 8-14 (or one zoom).
        #[arg(long, default_value = "0-14")]
        zoom: String,
        /// Parallel requests.
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
    },
}

/// `geosector package`.
#[derive(Debug, clap::Args)]
struct PackageArgs {
    /// A province code (2 digits), a commune code (5 digits), or min lon,min lat,max lon,max lat.
    #[arg(long, allow_hyphen_values = true)]
    area: String,
    /// The collections (comma-separated ids).
    #[arg(long, value_delimiter = ',', required = true)]
    collections: Vec<String>,
    /// The directory to write (package.gpkg, tiles.pmtiles, tiles.mbtiles, tiles.json).
    #[arg(long)]
    out: PathBuf,
    /// Package what this API key may see under the access policy (rows in its areas, the
    /// properties it may read); default: as the database, every row and property.
    #[arg(long)]
    key: Option<String>,
    /// The access policy the key is judged by (as `serve --access-file`).
    #[arg(long, env = "GEOSECTOR_ACCESS_FILE")]
    access_file: Option<PathBuf>,
    /// The lowest zoom of the tiles.
    #[arg(long, default_value_t = 0)]
    min_zoom: u8,
    /// The highest zoom of the tiles.
    #[arg(long, default_value_t = 16)]
    max_zoom: u8,
    /// Write the GeoPackage only.
    #[arg(long)]
    no_tiles: bool,
    /// Continue a run that was interrupted (DIR/package.partial).
    #[arg(long)]
    resume: bool,
    /// The instant recorded as made_at (RFC 3339) instead of the snapshot's: the same data then
    /// give byte-identical files.
    #[arg(long, value_name = "INSTANT")]
    made_at: Option<String>,
    /// Database connections rendering tiles (besides the one reading features).
    #[arg(long, default_value_t = 2)]
    workers: usize,
}

/// Server settings: the config file first, then GEOSECTOR_* variables and flags.
#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// TOML file with any of: bind, database_url, replica_urls, pool_size, pool_timeout_ms,
    /// default_limit, max_limit, statement_timeout_ms, workers, the request limits (max_body_bytes, max_url_bytes,
    /// max_parameter_chars, max_filter_bytes, max_filter_depth, max_filter_nodes, max_vertices,
    /// anonymous_bbox_deg2) and the other settings of docs/api.md.
    #[arg(long, env = "GEOSECTOR_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on (port 0 picks a free one) [default: 127.0.0.1:8080].
    #[arg(long, env = "GEOSECTOR_BIND")]
    bind: Option<String>,
    /// Database connections in the pool [default: 16].
    #[arg(long, env = "GEOSECTOR_POOL_SIZE")]
    pool_size: Option<usize>,
    /// Requests one client (credential, else address) may have in flight; more are 429,
    /// 0 = no limit [default: 32].
    #[arg(long, env = "GEOSECTOR_MAX_CONCURRENT_PER_CLIENT")]
    max_concurrent_per_client: Option<usize>,
    /// Milliseconds a request waits for a free connection before a 503 [default: 5000].
    #[arg(long, env = "GEOSECTOR_POOL_TIMEOUT_MS")]
    pool_timeout_ms: Option<u64>,
    /// Features per page when a request gives no limit [default: 10].
    #[arg(long, env = "GEOSECTOR_DEFAULT_LIMIT")]
    default_limit: Option<i64>,
    /// Largest page; larger limits are capped [default: 10000].
    #[arg(long, env = "GEOSECTOR_MAX_LIMIT")]
    max_limit: Option<i64>,
    /// Statement timeout of every query in milliseconds [default: 30000].
    #[arg(long, env = "GEOSECTOR_STATEMENT_TIMEOUT_MS")]
    statement_timeout_ms: Option<u64>,
    /// HTTP worker threads, 0 = one per core [default: 0].
    #[arg(long, env = "GEOSECTOR_WORKERS")]
    workers: Option<usize>,
    /// The access policy file (roles, grants, tokens; docs/security.md), reloaded when it
    /// changes [default: public collections open, restricted ones closed].
    #[arg(long, env = "GEOSECTOR_ACCESS_FILE")]
    access_file: Option<PathBuf>,
    /// A collection whose edits must carry If-Match (428 without); repeat for several.
    #[arg(long = "require-if-match", value_name = "COLLECTION")]
    require_if_match: Vec<String>,
    /// A change type accepted besides those the sectors declare (e.g. a provincial code);
    /// repeat for several.
    #[arg(long = "change-type", value_name = "CODE")]
    change_types: Vec<String>,
    /// A proxy whose Forwarded / X-Forwarded-* headers are honoured (an address or a CIDR
    /// block); repeat for several. From other peers they are ignored.
    #[arg(long = "trusted-proxy", value_name = "CIDR")]
    trusted_proxies: Vec<String>,
    /// The catalogue file (TOML): records of datasets kept elsewhere and owner-agency overrides
    /// (docs/catalogue.md).
    #[arg(long = "catalogue", env = "GEOSECTOR_CATALOGUE_FILE", value_name = "FILE")]
    catalogue_file: Option<PathBuf>,
    /// A streaming replica (hot standby) of the database that takes reads once it has replayed
    /// what each request must see (else the read goes to the primary); repeat for several
    /// (docs/deployment.md).
    #[arg(long = "replica-url", value_name = "URL")]
    replica_urls: Vec<String>,
    /// Largest request body in bytes; 413 beyond [default: 16777216].
    #[arg(long, env = "GEOSECTOR_MAX_BODY_BYTES")]
    max_body_bytes: Option<usize>,
    /// Longest URL in bytes (at most 65000); 414 beyond [default: 61440].
    #[arg(long, env = "GEOSECTOR_MAX_URL_BYTES")]
    max_url_bytes: Option<usize>,
    /// Longest value of a query parameter other than filter, in characters [default: 1024].
    #[arg(long, env = "GEOSECTOR_MAX_PARAMETER_CHARS")]
    max_parameter_chars: Option<usize>,
    /// Longest filter in bytes [default: 16384].
    #[arg(long, env = "GEOSECTOR_MAX_FILTER_BYTES")]
    max_filter_bytes: Option<usize>,
    /// Deepest nesting of a filter [default: 64].
    #[arg(long, env = "GEOSECTOR_MAX_FILTER_DEPTH")]
    max_filter_depth: Option<usize>,
    /// Most expressions of a filter [default: 1000].
    #[arg(long, env = "GEOSECTOR_MAX_FILTER_NODES")]
    max_filter_nodes: Option<usize>,
    /// Most vertices of one geometry (filter literals, edit bodies) [default: 10000].
    #[arg(long, env = "GEOSECTOR_MAX_VERTICES")]
    max_vertices: Option<usize>,
    /// Largest bbox area, in square degrees, an anonymous caller may ask on items; 0 = no
    /// limit [default: 0].
    #[arg(long, env = "GEOSECTOR_ANONYMOUS_BBOX_DEG2")]
    anonymous_bbox_deg2: Option<f64>,
}

#[derive(Debug, clap::Args)]
struct ImportArgs {
    /// Dataset id, e.g. land.parcels (see `geosector datasets`).
    #[arg(required_unless_present = "changes")]
    dataset: Option<String>,
    /// Input files (a directory is read recursively for station files), or the items URL of
    /// another server's OGC API - Features collection to harvest
    /// (`https://…/collections/{id}/items?bbox=…&filter=…`; docs/import.md).
    #[arg(required_unless_present = "changes")]
    files: Vec<PathBuf>,
    /// An offline package (`geosector package`) coming back from the field: apply what changed
    /// in it since it was made as one changeset; features changed on the server meanwhile are
    /// conflicts, written to <package>-conflicts.gpkg and not applied (docs/packages.md).
    /// `validate --changes` checks and stores nothing.
    #[arg(long, value_name = "PACKAGE.gpkg", conflicts_with_all = ["dataset", "files", "replace", "since", "crs", "format"])]
    changes: Option<PathBuf>,
    /// Source CRS: EPSG:5897, a URN or URI, CRS84, or VN2000:TM3:<central meridian>.
    #[arg(long)]
    crs: Option<String>,
    /// Input format, when the extension does not tell: geojson, geojsonseq, fgb, shp, gpkg,
    /// station, csv.
    #[arg(long)]
    format: Option<String>,
    /// Text encoding of Shapefile attributes when no .cpg gives it: utf-8, 1258, tcvn3, vni,
    /// latin1 [default: detected].
    #[arg(long)]
    encoding: Option<String>,
    /// Swap X and Y of every coordinate (files written X = northing, Y = easting).
    #[arg(long)]
    swap_xy: bool,
    /// Replace every row of the dataset instead of appending (in the same transaction).
    #[arg(long)]
    replace: bool,
    /// Also write the report as JSON to this file: counts per rule and the first examples
    /// (feature index, key, message).
    #[arg(long)]
    report: Option<PathBuf>,
    /// Write every rejected, flagged or repaired feature to this GeoJSON file (EPSG:4326, one
    /// feature per finding with rule, severity, message, feature_index, key, file), for QGIS.
    #[arg(long)]
    flagged: Option<PathBuf>,
    /// TOML file setting rule severities (reject / flag / off) and parameters per dataset
    /// (docs/validation.md).
    #[arg(long, env = "GEOSECTOR_RULES")]
    rules: Option<PathBuf>,
    /// Repair invalid polygons (self-union) and report them as repaired instead of rejecting
    /// them; unrepairable ones are still rejected.
    #[arg(long)]
    repair: bool,
    /// Historical mode: accept legacy land-use codes (TT 25/2014, TT 27/2018) whatever the
    /// survey date. Without it they are accepted only for surveys before 2024-08-01.
    #[arg(long)]
    historical: bool,
    /// Store the accepted features and report the rejected lines and unreadable files, instead
    /// of storing nothing (station feeds). Exit code 0 when something was stored.
    #[arg(long)]
    skip_rejected: bool,
    /// TOML file overriding VN_AQI / VN_WQI breakpoints and rules (docs/monitoring.md).
    #[arg(long, env = "GEOSECTOR_INDEX_CONFIG")]
    index_config: Option<PathBuf>,
    /// The legal reference of the change, recorded in the import's changeset (versioned
    /// datasets): the decision's number, e.g. "1234/QĐ-UBND".
    #[arg(long)]
    reference: Option<String>,
    /// The decision's date (YYYY-MM-DD).
    #[arg(long)]
    reference_date: Option<chrono::NaiveDate>,
    /// A note recorded in the import's changeset.
    #[arg(long)]
    note: Option<String>,
    /// The change-type code recorded in the import's changeset (e.g. DH, an administrative-unit
    /// change; docs/editing.md).
    #[arg(long)]
    change_type: Option<String>,
    /// Harvest: only the features changed since this instant (RFC 3339, or a date meaning its
    /// 00:00 UTC), loaded as an incremental changeset (stored features with the same key are
    /// updated, others added, none retired). The source must filter on a change time.
    #[arg(long, value_name = "INSTANT")]
    since: Option<String>,
    /// Harvest with --since: the source's date-time queryable recording a feature's change time
    /// [default: version_from, updated, lastModified, … whichever it lists].
    #[arg(long, value_name = "NAME")]
    since_property: Option<String>,
    /// Harvest: a request header, e.g. "Authorization: Bearer …" or "X-API-Key: …" (repeat
    /// for several), sent only to the URL's own host.
    #[arg(long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// Harvest: features per page, when the URL gives no limit (servers cap it at their
    /// maximum).
    #[arg(long, default_value_t = 5000)]
    page_size: u32,
    /// Harvest: seconds to wait for a connection, a response or more of a body.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
    /// Harvest: retries of a request that failed on the network, with a 5xx or a 429 (0.5 s,
    /// 1 s, 2 s, … apart).
    #[arg(long, default_value_t = 3)]
    retries: u32,
}

/// What `--since` and the harvest flags say, for an import whose input is a URL: the harvest
/// settings and the input as the report shows it (secrets redacted).
fn harvest_of(args: &ImportArgs) -> anyhow::Result<Option<(Harvest, PathBuf)>> {
    let urls = args.files.iter().filter(|f| ogcapi::is_url(f)).count();
    if urls == 0 {
        if args.since.is_some() || args.since_property.is_some() || !args.headers.is_empty() {
            bail!("--since, --since-property and --header apply to a harvest: give the items URL of an OGC API - Features collection");
        }
        return Ok(None);
    }
    if args.files.len() > 1 {
        bail!("a URL to harvest must be the only input of an import");
    }
    let url = args.files[0].to_string_lossy().into_owned();
    let mut harvest = Harvest::new(url.clone());
    for header in &args.headers {
        let Some((name, value)) = header.split_once(':') else {
            bail!("--header {header:?}: expected NAME: VALUE");
        };
        harvest.headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    harvest.since = match args.since.as_deref() {
        None => None,
        Some(text) => Some(parse_instant(text).with_context(|| {
            format!("--since {text}: expected an RFC 3339 instant (2026-12-01T08:00:00Z) or a date (2026-12-01)")
        })?),
    };
    harvest.since_property.clone_from(&args.since_property);
    if harvest.since_property.is_some() && harvest.since.is_none() {
        bail!("--since-property names the change time of --since: give --since too");
    }
    harvest.page_size = args.page_size.max(1);
    harvest.timeout = std::time::Duration::from_secs(args.timeout.max(1));
    harvest.retries = args.retries;
    Ok(Some((harvest, PathBuf::from(ogcapi::redact(&url)))))
}

/// An RFC 3339 instant, or a date meaning its 00:00 UTC.
fn parse_instant(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let text = text.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&chrono::Utc));
    }
    let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc())
}

fn main() -> ExitCode {
    let mut filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn,geosector_server=info".into());
    // The pool warns once per connection the database drops; the server logs the outage itself
    // (once per 10 s, issue 22), so the pool's lines are kept out unless RUST_LOG names it.
    if !std::env::var("RUST_LOG").is_ok_and(|l| l.contains("deadpool")) {
        if let Ok(quiet) = "deadpool=error".parse() {
            filter = filter.add_directive(quiet);
        }
    }
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // Structured logs: key=value text by default, one JSON object per line for log collectors.
    if std::env::var("GEOSECTOR_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        logs.json().init();
    } else {
        logs.init();
    }
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn say(text: &str) {
    // A closed stdout (e.g. `| head`) is not an error worth failing for.
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

fn database_url(cli_url: Option<&str>) -> anyhow::Result<&str> {
    cli_url.context("no database given: pass --database-url or set DATABASE_URL (scripts/dev-db.sh url prints one)")
}

async fn connect(url: Option<&str>) -> anyhow::Result<geosector_store::Client> {
    let url = database_url(url)?;
    geosector_store::connect(url).await.with_context(|| format!("database {}", geosector_store::redact_url(url)))
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let url = cli.database_url.as_deref();
    match cli.command {
        Command::Serve(args) => serve(url, args).await,
        Command::Keys(command) => admin::keys(&connect(url).await?, command, say).await,
        Command::Audit(command) => admin::audit(&connect(url).await?, command, say).await,
        Command::Migrate { dir } => {
            let migrations = match dir {
                Some(dir) => geosector_store::Migrations::from_dir(&dir)?,
                None => geosector_store::Migrations::embedded()?,
            };
            let mut client = connect(url).await?;
            let report = migrations.apply(&mut client).await?;
            for name in &report.applied {
                say(&format!("applied {name}"));
            }
            let dropped = geosector_ingest::load::sweep(&client, geosector::datasets()).await?;
            if dropped > 0 {
                say(&format!("dropped {dropped} load table(s) left by interrupted imports"));
            }
            say(&format!(
                "migrations: {} applied now, {} already applied",
                report.applied.len(),
                report.already_applied
            ));
            Ok(ExitCode::SUCCESS)
        }
        Command::Datasets => {
            for d in datasets() {
                let geometry = d.geometry.map_or("no geometry".to_owned(), |g| format!("{:?}", g.kind));
                say(&format!("{:<32} {:<14} {}", d.id, geometry, d.description));
                for rule in d.rules {
                    say(&format!("    {:<28} {:<6} {}", rule.id, rule.default_severity, rule.description));
                    for p in rule.params {
                        say(&format!("    {:<28} {:<6}   {} = {} ({})", "", "", p.name, p.default, p.description));
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Import(args) => import(url, args, false).await,
        Command::Package(args) => package(url, args).await,
        Command::Validate(args) => import(url, args, true).await,
        Command::Reference { dir } => {
            let mut client = connect(url).await?;
            let report = geosector_ingest::reference::load_admin_units(&mut client, &dir).await?;
            say(&format!(
                "reference: 2025 units: {} provinces, {} communes; pre-2025 units: {} provinces, {} districts, {} communes; {} boundaries attached",
                report.units_2025.0, report.units_2025.1, report.units_pre_2025.0, report.units_pre_2025.1, report.units_pre_2025.2, report.boundaries
            ));
            if !report.unmatched_boundaries.is_empty() {
                say(&format!(
                    "  {} boundary features matched no unit: {}",
                    report.unmatched_boundaries.len(),
                    report.unmatched_boundaries.join(", ")
                ));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Tiles(TilesCommand::Seed { url, collections, bbox, zoom, concurrency }) => {
            let zooms = match zoom.split_once('-') {
                Some((a, b)) => (a.trim().parse::<u32>(), b.trim().parse::<u32>()),
                None => (zoom.trim().parse::<u32>(), zoom.trim().parse::<u32>()),
            };
            let (Ok(z0), Ok(z1)) = zooms else { bail!("--zoom: expected a range such as 8-14, got {zoom}") };
            let bbox: [f64; 4] = bbox.try_into().map_err(|_| anyhow::anyhow!("--bbox: expected four numbers"))?;
            let options = geosector::seed::SeedOptions {
                base_url: url,
                collections,
                bbox,
                zooms: (z0, z1),
                concurrency,
                progress: true,
            };
            let started = std::time::Instant::now();
            let report = tokio::task::spawn_blocking(move || geosector::seed::seed(&options))
                .await?
                .map_err(|e| anyhow::anyhow!(e))?;
            say(&format!(
                "seeded {} tiles in {:.1} s: {} rendered, {} already cached, {} empty, {} outside the data, {} failed ({:.1} MB)",
                report.requested,
                started.elapsed().as_secs_f64(),
                report.rendered,
                report.cached,
                report.empty,
                report.outside,
                report.failed,
                report.bytes as f64 / 1e6
            ));
            Ok(if report.failed > 0 { ExitCode::from(2) } else { ExitCode::SUCCESS })
        }
        Command::SampleData { parcels, seed, out } => {
            let format = match out.extension().and_then(|e| e.to_str()) {
                Some("fgb") => SynthFormat::FlatGeobuf,
                Some("geojson" | "json") => SynthFormat::GeoJson,
                Some("geojsonl" | "ndjson" | "geojsons" | "jsonl") => SynthFormat::GeoJsonSeq,
                _ => bail!("{}: the extension must be .fgb, .geojson or .geojsonl/.ndjson", out.display()),
            };
            let started = std::time::Instant::now();
            let generator = ParcelGenerator::new(ParcelOptions { count: parcels, seed, ..ParcelOptions::default() });
            let file = std::fs::File::create(&out).with_context(|| format!("{}: cannot create", out.display()))?;
            geosector_land_synth::write_parcels(&generator, format, std::io::BufWriter::with_capacity(1 << 20, file))
                .with_context(|| format!("{}: cannot write", out.display()))?;
            say(&format!(
                "wrote {parcels} parcels (EPSG:5897, seed {seed}) to {} in {:.1} s",
                out.display(),
                started.elapsed().as_secs_f64()
            ));
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn package(url: Option<&str>, args: PackageArgs) -> anyhow::Result<ExitCode> {
    let url = database_url(url)?;
    let made_at = match args.made_at.as_deref() {
        None => None,
        Some(text) => {
            Some(parse_instant(text).with_context(|| format!("--made-at {text}: expected an RFC 3339 instant"))?)
        }
    };
    let options = geosector_package::Options {
        out: args.out.clone(),
        min_zoom: args.min_zoom,
        max_zoom: args.max_zoom,
        tiles: !args.no_tiles,
        resume: args.resume,
        progress: true,
        source: String::new(),
        caller: String::new(),
        made_at,
    };
    let request = geosector::package::PackageRequest {
        area: args.area,
        collections: args.collections,
        key: args.key,
        access_file: args.access_file,
        workers: args.workers,
    };
    let started = std::time::Instant::now();
    let report = geosector::package::make(url, &request, options).await?;
    for (collection, count) in &report.features {
        say(&format!("{collection}: {count} features"));
    }
    say(&format!(
        "package {}: {} tiles ({} distinct), made_at {}{}{} in {:.1} s",
        args.out.display(),
        report.tiles,
        report.distinct_tiles,
        report.made_at,
        if report.resumed_steps > 0 { format!(", {} steps resumed", report.resumed_steps) } else { String::new() },
        if report.restarted { ", the partial package was of other settings or data: started over" } else { "" },
        started.elapsed().as_secs_f64()
    ));
    Ok(ExitCode::SUCCESS)
}

async fn serve(url: Option<&str>, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let mut config = match &args.config {
        Some(path) => geosector_server::ServerConfig::from_toml_file(path).map_err(anyhow::Error::msg)?,
        None => geosector_server::ServerConfig::default(),
    };
    if let Some(url) = url {
        config.database_url = Some(url.to_owned());
    }
    config.bind = args.bind.unwrap_or(config.bind);
    config.pool_size = args.pool_size.unwrap_or(config.pool_size);
    config.pool_timeout_ms = args.pool_timeout_ms.unwrap_or(config.pool_timeout_ms);
    config.max_concurrent_per_client = args.max_concurrent_per_client.unwrap_or(config.max_concurrent_per_client);
    config.default_limit = args.default_limit.unwrap_or(config.default_limit);
    config.max_limit = args.max_limit.unwrap_or(config.max_limit);
    config.statement_timeout_ms = args.statement_timeout_ms.unwrap_or(config.statement_timeout_ms);
    config.workers = args.workers.unwrap_or(config.workers);
    config.access_file = args.access_file.or(config.access_file);
    config.require_if_match.extend(args.require_if_match);
    config.change_types.extend(args.change_types);
    config.trusted_proxies.extend(args.trusted_proxies);
    config.catalogue_file = args.catalogue_file.or(config.catalogue_file);
    config.replica_urls.extend(args.replica_urls);
    config.max_body_bytes = args.max_body_bytes.unwrap_or(config.max_body_bytes);
    config.max_url_bytes = args.max_url_bytes.unwrap_or(config.max_url_bytes);
    config.max_parameter_chars = args.max_parameter_chars.unwrap_or(config.max_parameter_chars);
    config.max_filter_bytes = args.max_filter_bytes.unwrap_or(config.max_filter_bytes);
    config.max_filter_depth = args.max_filter_depth.unwrap_or(config.max_filter_depth);
    config.max_filter_nodes = args.max_filter_nodes.unwrap_or(config.max_filter_nodes);
    config.max_vertices = args.max_vertices.unwrap_or(config.max_vertices);
    config.anonymous_bbox_deg2 = args.anonymous_bbox_deg2.unwrap_or(config.anonymous_bbox_deg2);
    let started = geosector_server::start(&config, &collections(), &sectors()).await.map_err(anyhow::Error::msg)?;
    for addr in &started.addrs {
        say(&format!("geosector listening on http://{addr}"));
    }
    started.server.await?;
    Ok(ExitCode::SUCCESS)
}

async fn import(url: Option<&str>, args: ImportArgs, dry_run: bool) -> anyhow::Result<ExitCode> {
    if let Some(file) = &args.changes {
        let changes = changes::ChangesArgs {
            file,
            reference: args.reference.clone(),
            reference_date: args.reference_date,
            note: args.note.clone(),
            change_type: args.change_type.clone(),
            dry_run,
            report: args.report.as_deref(),
        };
        return changes::run(database_url(url)?, changes, say).await;
    }
    let wanted = args.dataset.as_deref().unwrap_or_default();
    let Some(dataset) = datasets().find(|d| d.id == wanted) else {
        let known = datasets().map(|d| d.id).collect::<Vec<_>>().join(", ");
        bail!("unknown dataset {wanted} (known: {known})");
    };
    let crs = args.crs.as_deref().map(geosector_crs::Crs::parse).transpose()?;
    let format = match args.format.as_deref() {
        None => None,
        Some(name) => Some(Format::from_name(name).with_context(|| {
            format!("unknown --format {name}: expected geojson, geojsonseq, fgb, shp, gpkg, station or csv")
        })?),
    };
    let indices = match &args.index_config {
        Some(path) => geosector_environment::IndexConfig::from_file(path).map_err(anyhow::Error::msg)?,
        None => geosector_environment::IndexConfig::default(),
    };
    let encoding = match args.encoding.as_deref() {
        None => None,
        Some(name) => Some(
            geosector_ingest::readers::TextEncoding::from_name(name)
                .with_context(|| format!("unknown --encoding {name}: expected utf-8, 1258, tcvn3, vni or latin1"))?,
        ),
    };
    let rules = match &args.rules {
        Some(path) => {
            let rules = RulesConfig::from_file(path).map_err(anyhow::Error::msg)?;
            rules.check(&datasets().collect::<Vec<_>>()).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            rules
        }
        None => RulesConfig::default(),
    };
    let validation =
        ValidationOptions { rules, repair: args.repair, historical: args.historical, flagged: args.flagged.clone() };
    let harvest = harvest_of(&args)?;
    let files = match &harvest {
        Some((_, shown)) => vec![shown.clone()],
        None => args.files.clone(),
    };
    let merge = harvest.as_ref().is_some_and(|(h, _)| h.since.is_some());
    if merge && args.replace {
        bail!("--since loads an incremental changeset (updates and additions): it cannot be combined with --replace");
    }
    // The audit row and the changeset are written in the import's transaction.
    let audit = admin::import_entry(dataset.id, &files, args.replace);
    let changeset = ChangesetInfo {
        actor: audit.actor.clone(),
        client: Some("geosector import".into()),
        change_type: args.change_type.clone(),
        reference: args.reference.clone(),
        reference_date: args.reference_date,
        note: args.note.clone(),
    };
    let options = ImportOptions {
        crs,
        format,
        encoding,
        swap_xy: args.swap_xy,
        replace: args.replace,
        dry_run,
        skip_rejected: args.skip_rejected,
        hook: geosector::load_hook(dataset, &geosector::HookSettings { indices }),
        validation,
        progress: true,
        database_url: url.map(str::to_owned),
        changeset,
        audit: Some(audit),
        harvest: harvest.map(|(h, _)| h),
        merge,
        ..ImportOptions::default()
    };
    let mut client = connect(url).await?;
    if !dry_run {
        // What an import killed after committing its load table left (none in the usual case).
        geosector_ingest::load::sweep(&client, geosector::datasets()).await?;
    }
    let report = geosector_ingest::import(&mut client, dataset, &files, &options).await?;
    say(report.to_string().trim_end());
    if let Some(path) = &args.report {
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, json).with_context(|| format!("{}: cannot write the report", path.display()))?;
    }
    Ok(match report.outcome {
        Outcome::Accepted | Outcome::Partial => ExitCode::SUCCESS,
        Outcome::Rejected => ExitCode::from(1),
    })
}
