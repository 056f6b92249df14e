//! The all-or-nothing loader.
//!
//! One transaction per import: rows stream into a staging table with `COPY (FORMAT binary)`
//! while a blocking task reads and checks features in rayon batches; only when every feature of
//! every file was accepted do the rows move into the live table (append, upsert on the dataset's
//! conflict key, replace the whole dataset, or swap in whole partitions: [`swap`]). A
//! rejected load, a failed read, a database refusal, a crash or a kill all end in a rollback, so
//! the live data stay exactly as they were. (A swap of one province commits its filled load
//! table before the swap's own transaction, to build the indexes on parallel connections; that
//! table is not part of the live data, and [`import`] drops it when the import does not store.)
//! Memory is bounded by the batch size times the channel depth.
//!
//! With [`ImportOptions::skip_rejected`] (station feeds) the accepted features are stored and the
//! rejected ones, and unreadable files, are reported. A dataset's load hook
//! ([`ImportOptions::hook`], see `geosector_store::hook`) adds a per-row check prepared before
//! reading and a refresh of derived tables after the move, both in the import's transaction.

mod copy;
mod overview;
mod swap;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use geosector_crs::Crs;
use geosector_domain::Dataset;
use geosector_store::hook::{LoadHook, RowCheck};
use geosector_store::{quote_ident, table_name};
use rayon::prelude::*;
use tokio::sync::mpsc;
use tokio_postgres::Client;

use copy::{CopyIn, Tail, TupleEncoder};
use overview::{CellCounts, CellLocator};
use swap::PartitionKeys;

use crate::checked::Checked;
use crate::error::{FeatureError, ImportError};
use crate::progress::Progress;
use crate::readers::{self, Format};
use crate::report::{FileSummary, ImportReport, Outcome};
use crate::rows::RowBuilder;
use crate::source::{FeatureSink, Flow, RawFeature, SourceInfo};
use crate::validate::units::AdminUnits;
use crate::validate::{self, Session, ValidationOptions, Validator};

/// How an import runs.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Source CRS forced by the user; overrides what files declare.
    pub crs: Option<Crs>,
    /// Format forced by the user; otherwise detected per file from its extension.
    pub format: Option<Format>,
    /// Replace instead of appending, in the same transaction: the whole dataset, or for a
    /// partitioned dataset (land.parcels) the partitions the load covers, swapped in whole.
    pub replace: bool,
    /// Check everything, stage it, then roll back: nothing is written (`geosector validate`).
    pub dry_run: bool,
    /// Features checked per rayon batch.
    pub batch_size: usize,
    /// How many rejected features are kept as examples in the report.
    pub max_examples: usize,
    /// Store the accepted features and report the rejected ones (and unreadable files) instead
    /// of storing nothing: for feeds of station files, where one bad file must not hold back the
    /// others. The load is still one transaction.
    pub skip_rejected: bool,
    /// The dataset's load hook, built by the caller with its sector's settings (e.g. the
    /// observations' VN_AQI / VN_WQI refresh): a per-row check prepared before reading, and a
    /// refresh of derived tables after the move, in the import's transaction.
    pub hook: Option<Arc<dyn LoadHook>>,
    /// Text encoding of Shapefile attributes when no `.cpg` gives it (else detected).
    pub encoding: Option<readers::TextEncoding>,
    /// Swap X and Y of every coordinate as read (files in surveyors' X = northing order).
    pub swap_xy: bool,
    /// The dataset's validation rules: rules file, `--repair`, `--historical`, findings file.
    pub validation: ValidationOptions,
    /// Show a progress bar on stderr (only when it is a terminal and `CI` is not `true`).
    pub progress: bool,
    /// The database the client is connected to. With it, a partition swap of one province
    /// commits the filled load table and builds its indexes on parallel connections before
    /// swapping it in (see `swap`); without it, everything is one transaction.
    pub database_url: Option<String>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            crs: None,
            format: None,
            replace: false,
            dry_run: false,
            batch_size: 2048,
            max_examples: 20,
            skip_rejected: false,
            hook: None,
            encoding: None,
            swap_xy: false,
            validation: ValidationOptions::default(),
            progress: false,
            database_url: None,
        }
    }
}

/// The column holding the feature order in the staging table (for upserts, the last one wins).
const SEQ_COLUMN: &str = "geosector_seq";

enum Message {
    FileStarted(FileSummary),
    Batch(Vec<Prepared>),
    /// A file that could not be read at all (only with `skip_rejected`).
    FileRejected(FeatureError),
}

/// Imports files into a dataset, all or nothing.
///
/// # Errors
/// [`ImportError`] when the import cannot reach a verdict (unreadable file, malformed file,
/// database refusal); nothing is stored then. A load whose features were rejected is not an
/// error: it returns a report with [`Outcome::Rejected`], and nothing is stored either.
pub async fn import(
    client: &mut Client,
    dataset: &'static Dataset,
    paths: &[PathBuf],
    options: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let result = import_in(client, dataset, paths, options).await;
    let stored = matches!(&result, Ok(report) if matches!(report.outcome, Outcome::Accepted | Outcome::Partial));
    if !stored && options.replace && options.database_url.is_some() && dataset.partition.is_some() {
        // A load table committed for parallel index builds is not dropped by a rollback.
        if let Err(e) = swap::drop_load_table(client, dataset).await {
            tracing::warn!(error = %e, "the load table is left; the next replacing load drops it");
        }
    }
    result
}

/// [`import`], without the cleanup of a load table committed for parallel index builds.
async fn import_in(
    client: &mut Client,
    dataset: &'static Dataset,
    paths: &[PathBuf],
    options: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let started = Instant::now();
    let files = readers::expand(paths, options.format)?;
    let mut plan = Vec::with_capacity(files.len());
    for file in &files {
        let format = match options.format {
            Some(f) => f,
            None => Format::detect(file)?,
        };
        let no_geometry = match format {
            Format::StationText => true,
            Format::Csv => !readers::csv::has_geometry_columns(file)?,
            _ => false,
        };
        if no_geometry && dataset.geometry.is_some() {
            return Err(ImportError::Format {
                path: file.clone(),
                reason: format!(
                    "station files and CSV without lon/lat or WKT columns carry no geometry and cannot be imported into {}",
                    dataset.id
                ),
            });
        }
        plan.push((file.clone(), format));
    }
    if plan.is_empty() {
        return Err(ImportError::File {
            path: paths.first().cloned().unwrap_or_default(),
            reason: "no input files found".into(),
        });
    }

    let mut tx = client.transaction().await?;
    // Partitioned datasets: each row's partition key; a replacing load COPYs straight into a
    // new table that is swapped in as the partition (see [`swap`]).
    let mut keys = PartitionKeys::load(&tx, dataset).await?;
    let swap_in = keys.is_some() && options.replace && dataset.conflict_key.is_none();
    // A swap fires no trigger: the overview cells are counted from the rows as they go by.
    let mut cells = if swap_in { CellCounts::new(dataset)? } else { None };
    let mut columns = dataset.columns();
    // A swap writes the tiles' geometry itself (the load table has no trigger to fill it).
    let tile_geometry = dataset.partition.and_then(|p| p.tile_geometry_column).filter(|_| swap_in);
    columns.extend(tile_geometry);
    // And the first-element column (main_land_use), for the same reason.
    let first_element = dataset.partition.and_then(|p| p.first_element_column).filter(|_| swap_in);
    let first_element_of = match first_element {
        Some(first) => Some(dataset.fields.iter().position(|f| f.column == first.of).ok_or_else(|| {
            ImportError::Database(format!("{}: {} is not a field of the dataset", dataset.id, first.of))
        })?),
        None => None,
    };
    columns.extend(first_element.map(|first| first.column));
    columns.extend(keys.as_ref().map(PartitionKeys::column));
    let column_list = columns.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ");
    let (staging, load_table) = if swap_in {
        let (bare, name) = swap::create_load_table(&tx, dataset).await?;
        (name, Some(bare))
    } else {
        tx.batch_execute(&format!(
            "CREATE TEMP TABLE geosector_staging ON COMMIT DROP AS SELECT {column_list} FROM {} WITH NO DATA;
             ALTER TABLE geosector_staging ADD COLUMN {SEQ_COLUMN} bigint NOT NULL",
            table_name(dataset)
        ))
        .await?;
        ("geosector_staging".to_owned(), None)
    };
    let copy_list = if swap_in { column_list.clone() } else { format!("{column_list}, {SEQ_COLUMN}") };
    // Before COPY starts: the connection runs nothing else until COPY ends.
    let check = match &options.hook {
        Some(hook) => hook.prepare(&tx, dataset).await?,
        None => None,
    };
    let validator = validator(&tx, dataset, &options.validation).await?;
    let types = tx.prepare(&format!("SELECT {copy_list} FROM {staging}")).await?;
    let copy_columns = columns.iter().copied().chain((!swap_in).then_some(SEQ_COLUMN));
    // The workers encode every column but the partition key and the sequence number.
    let appended = usize::from(keys.is_some()) + usize::from(!swap_in);
    let encoder = TupleEncoder::new(
        dataset,
        copy_columns.zip(types.columns().iter().map(|c| c.type_().clone())).collect(),
        appended,
        first_element_of,
        tile_geometry.is_some(),
    )?;
    let mut copy = CopyIn::new(format!("COPY {staging} ({copy_list}) FROM STDIN (FORMAT binary)"));
    // A swap's load table is checked for the partition key of its first row while every row has
    // it (see `swap::check_key`): the key, while the check is there.
    let key_column = keys.as_ref().map(PartitionKeys::column);
    let mut checked_key: Option<String> = None;

    // Producer: read and check on a blocking thread (rayon inside), hand rows over in batches.
    let (sender, mut receiver) = mpsc::channel::<Message>(4);
    let producer = Producer {
        dataset,
        plan,
        options: options.clone(),
        check,
        rules: validator.clone(),
        tile_geometry: tile_geometry.is_some(),
        encoder,
        cells: cells.as_ref().map(CellCounts::locator),
    };
    let producer = tokio::task::spawn_blocking(move || producer.run(&sender));

    let mut report = ImportReport::new(dataset.id, options.dry_run);
    let mut session = Session::new(validator, &options.validation, options.max_examples, &mut report)?;
    let progress = Progress::new(options.progress);
    let mut seq: i64 = 0;
    while let Some(message) = receiver.recv().await {
        match message {
            Message::FileStarted(summary) => {
                progress.file(&summary.path, std::fs::metadata(&summary.path).ok().map(|m| m.len()));
                session.file_started(&summary.path);
                report.files.push(summary);
            }
            Message::FileRejected(e) => {
                report.rejected += 1;
                report.files_rejected += 1;
                if report.examples.len() < options.max_examples {
                    report.examples.push(e);
                }
            }
            Message::Batch(results) => {
                progress.advance(results.len());
                // The rows and tuples written are freed on the rayon threads, which allocated them.
                let mut spent = Vec::with_capacity(results.len());
                for Prepared { mut checked, tuple, cell } in results {
                    report.features_read += 1;
                    if let Some(file) = report.files.last_mut() {
                        file.features += 1;
                    }
                    session.observe(&mut checked, &mut report)?;
                    match checked.into_result() {
                        Ok(row) if report.rejected == 0 || options.skip_rejected => {
                            let key = keys.as_mut().map(|k| k.key(&row));
                            if let Some(cells) = cells.as_mut() {
                                cells.add(&row, cell);
                            }
                            if let (Some(bare), Some(column), Some(key)) = (&load_table, key_column, key) {
                                if !copy.started() {
                                    checked_key =
                                        swap::check_key(&tx, dataset, bare, column, key).await?.then(|| key.to_owned());
                                } else if checked_key.as_deref().is_some_and(|checked| checked != key) {
                                    copy.finish().await?;
                                    swap::uncheck_key(&tx, dataset, bare).await?;
                                    checked_key = None;
                                }
                            }
                            let tuple = tuple
                                .ok_or_else(|| ImportError::Database("an accepted row was not encoded".into()))??;
                            copy.write(&tx, &tuple, Tail { key, seq: (!swap_in).then_some(seq) }).await?;
                            seq += 1;
                            spent.push((row, tuple));
                        }
                        Ok(_) => {}
                        Err(e) => {
                            report.rejected += 1;
                            if report.examples.len() < options.max_examples {
                                report.examples.push(e);
                            }
                        }
                    }
                }
                rayon::spawn(move || spent.into_par_iter().for_each(drop));
            }
        }
    }
    match producer.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(e),
        Err(join) => return Err(ImportError::ReaderStopped(join.to_string())),
    }
    progress.finish();
    copy.finish().await?;
    // The overlap check runs on a blocking thread while PostgreSQL moves the rows and builds the
    // indexes; its verdict is awaited before the commit.
    let overlaps = session
        .take_overlaps()
        .filter(|_| report.rejected == 0 || options.skip_rejected)
        .map(|pending| (Instant::now(), tokio::task::spawn_blocking(move || pending.find())));
    tracing::info!(
        dataset = dataset.id,
        features = report.features_read,
        rejected = report.rejected,
        seconds = started.elapsed().as_secs_f64(),
        "staged"
    );

    if report.features_read == 0 && report.rejected == 0 {
        // An empty input is almost always a mistake, and with --replace it would wipe the dataset.
        return Err(ImportError::Format {
            path: files.first().cloned().unwrap_or_default(),
            reason: "no features in the input: nothing to import".into(),
        });
    }
    if report.rejected > 0 && (!options.skip_rejected || seq == 0) {
        session.finish(&mut report)?;
        tx.rollback().await?;
        report.outcome = Outcome::Rejected;
        report.elapsed_ms = started.elapsed().as_millis();
        return Ok(report);
    }
    let moving = Instant::now();
    match (&load_table, &keys) {
        (Some(bare), Some(keys)) => {
            if options.dry_run {
                // Checked and staged (the load table has the live table's checks): nothing more to try.
                settle_overlaps(overlaps, &mut session, &mut report).await?;
                session.finish(&mut report)?;
                tx.rollback().await?;
                report.outcome = if report.rejected > 0 { Outcome::Rejected } else { Outcome::Accepted };
                report.elapsed_ms = started.elapsed().as_millis();
                return Ok(report);
            }
            // One province (the usual load), with a database URL for more connections: the filled
            // load table is committed and its indexes built in parallel, then swapped in a second
            // transaction (see [`swap`]).
            let indexes = swap::parent_indexes(&tx, dataset).await?;
            let indexed = match (&options.database_url, checked_key.as_deref()) {
                (Some(url), Some(_)) if keys.seen.len() == 1 => {
                    tx.commit().await?;
                    let building = Instant::now();
                    swap::build_indexes(url, dataset, bare, &indexes).await?;
                    tracing::info!(
                        dataset = dataset.id,
                        seconds = building.elapsed().as_secs_f64(),
                        "indexes built on parallel connections"
                    );
                    tx = client.transaction().await?;
                    true
                }
                _ => false,
            };
            let load = swap::LoadTable { bare, checked: checked_key.as_deref(), indexed };
            let swapped = swap::swap_partitions(&tx, dataset, load, keys, &indexes, cells.take()).await?;
            report.rows_replaced = swapped.rows_replaced;
            report.rows_written = swapped.rows_written;
        }
        _ => {
            if let Some(sql) = dataset.prepare_sql {
                tx.batch_execute(sql).await?;
            }
            if let Some(keys) = &keys {
                swap::ensure_partitions(&tx, dataset, keys).await?;
            }
            if options.replace {
                report.rows_replaced = tx.execute(&format!("DELETE FROM {}", table_name(dataset)), &[]).await?;
            }
            report.rows_written = tx.execute(&move_sql(dataset, &columns), &[]).await?;
        }
    }
    tracing::info!(
        dataset = dataset.id,
        rows = report.rows_written,
        seconds = moving.elapsed().as_secs_f64(),
        "moved into the live table"
    );
    settle_overlaps(overlaps, &mut session, &mut report).await?;
    session.finish(&mut report)?;
    if report.rejected > 0 && !options.skip_rejected {
        // Overlaps set to reject.
        tx.rollback().await?;
        report.outcome = Outcome::Rejected;
        report.elapsed_ms = started.elapsed().as_millis();
        return Ok(report);
    }
    if let (Some(hook), false) = (&options.hook, options.dry_run) {
        let computing = Instant::now();
        let staged = load_table.is_none().then_some(staging.as_str());
        report.indices = hook.after_move(&tx, staged).await?;
        tracing::info!(refreshed = ?report.indices, seconds = computing.elapsed().as_secs_f64(), "load hook ran");
    }
    if options.dry_run {
        tx.rollback().await?;
    } else {
        tx.commit().await?;
    }
    report.outcome = if report.rejected > 0 { Outcome::Partial } else { Outcome::Accepted };
    report.elapsed_ms = started.elapsed().as_millis();
    Ok(report)
}

/// Waits for the overlap check started after COPY and reports its pairs.
async fn settle_overlaps(
    task: Option<(Instant, tokio::task::JoinHandle<Result<validate::FoundOverlaps, ImportError>>)>,
    session: &mut Session,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    let Some((started, task)) = task else { return Ok(()) };
    let found = task.await.map_err(|join| ImportError::ReaderStopped(join.to_string()))??;
    session.record_overlaps(found, report)?;
    tracing::info!(dataset = %report.dataset, seconds = started.elapsed().as_secs_f64(), "overlaps checked");
    Ok(())
}

/// The statement that moves staged rows into the live table: a plain insert, or an upsert on
/// the conflict key keeping the last occurrence of a key within the load.
fn move_sql(dataset: &Dataset, columns: &[&str]) -> String {
    let list = columns.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ");
    let target = table_name(dataset);
    match dataset.conflict_key {
        None => format!("INSERT INTO {target} ({list}) SELECT {list} FROM geosector_staging ORDER BY {SEQ_COLUMN}"),
        Some(key) => {
            let key_list = key.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ");
            let updates = columns
                .iter()
                .filter(|c| !key.contains(c))
                .map(|c| format!("{0} = EXCLUDED.{0}", quote_ident(c)))
                .chain(std::iter::once("imported_at = now()".to_owned()))
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "INSERT INTO {target} ({list}) SELECT {list} FROM (SELECT DISTINCT ON ({key_list}) * FROM geosector_staging ORDER BY {key_list}, {SEQ_COLUMN} DESC) AS last ON CONFLICT ({key_list}) DO UPDATE SET {updates}"
            )
        }
    }
}

/// The dataset's rules engine, with the reference units its rules need (read once, before COPY
/// occupies the connection); `None` for datasets without rules.
async fn validator(
    tx: &tokio_postgres::Transaction<'_>,
    dataset: &'static Dataset,
    options: &ValidationOptions,
) -> Result<Option<Arc<Validator>>, ImportError> {
    if dataset.rules.is_empty() {
        return Ok(None);
    }
    let (codes, boundaries) = validate::reference_needs(dataset, options)?;
    let units = if codes || boundaries { Some(AdminUnits::load(tx, boundaries).await?) } else { None };
    Ok(Some(Arc::new(Validator::new(dataset, options, units)?)))
}

/// A checked feature and, when it was accepted, its COPY tuple (see [`copy`]) and its
/// overview cell.
struct Prepared {
    checked: Checked,
    tuple: Option<Result<Bytes, ImportError>>,
    cell: Option<(i32, i32)>,
}

/// What the reading thread hands the checking thread, in file order.
enum Job {
    /// Passed on as it is.
    Pass(Message),
    /// A batch of features to check with the file's row builder.
    Check(Arc<RowBuilder>, Vec<RawFeature>),
}

/// The blocking side of an import: what it reads and how it builds and checks rows.
struct Producer {
    dataset: &'static Dataset,
    plan: Vec<(PathBuf, Format)>,
    options: ImportOptions,
    check: Option<Arc<dyn RowCheck>>,
    rules: Option<Arc<Validator>>,
    /// Build each row's tiles' geometry (a partition swap writes it).
    tile_geometry: bool,
    /// Encodes the accepted rows for COPY.
    encoder: TupleEncoder,
    /// Finds the accepted rows' overview cells (a partition swap counts them).
    cells: Option<CellLocator>,
}

impl Producer {
    /// One thread reads every file in order while another checks the previous batch of features
    /// in rayon and hands the rows to the COPY, so reading, checking and COPY overlap. Memory: at
    /// most two batches wait between the reader and the checker.
    fn run(&self, sender: &mpsc::Sender<Message>) -> Result<(), ImportError> {
        let (jobs, queue) = std::sync::mpsc::sync_channel::<Job>(2);
        std::thread::scope(|scope| {
            scope.spawn(move || {
                for job in queue {
                    let message = match job {
                        Job::Pass(message) => message,
                        Job::Check(builder, batch) => {
                            Message::Batch(batch.into_par_iter().map(|f| self.prepare(builder.check(f))).collect())
                        }
                    };
                    if sender.blocking_send(message).is_err() {
                        // The consumer stopped: dropping the queue stops the reader.
                        break;
                    }
                }
            });
            let read = self.read_all(&jobs);
            drop(jobs); // ends the checker's queue
            read
        })
    }

    /// Encodes the row of an accepted feature; its tiles' geometry, written only by COPY, is
    /// dropped then.
    fn prepare(&self, mut checked: Checked) -> Prepared {
        let (tuple, cell) = match (&checked.error, &mut checked.row) {
            (None, Some(row)) => {
                let tuple = self.encoder.encode(row);
                row.tile_geometry = None;
                (Some(tuple), self.cells.and_then(|c| c.cell(row)))
            }
            _ => (None, None),
        };
        Prepared { checked, tuple, cell }
    }

    /// Reads every file in order, in batches (see [`Producer::run`]).
    fn read_all(&self, sender: &std::sync::mpsc::SyncSender<Job>) -> Result<(), ImportError> {
        let options = &self.options;
        for (path, format) in &self.plan {
            let mut sink = BatchSink {
                producer: self,
                path,
                sender,
                builder: None,
                batch: Vec::with_capacity(options.batch_size),
                closed: false,
            };
            let read_options = readers::ReadOptions {
                crs: options.crs.as_ref(),
                encoding: options.encoding,
                swap_xy: options.swap_xy,
            };
            match readers::read(path, *format, &read_options, &mut sink) {
                Ok(()) => {}
                Err(e @ (ImportError::File { .. } | ImportError::Format { .. } | ImportError::Malformed { .. }))
                    if options.skip_rejected =>
                {
                    // The whole file is reported; what it yielded before the problem is dropped.
                    sink.batch.clear();
                    let reason = match e {
                        ImportError::File { reason, .. }
                        | ImportError::Format { reason, .. }
                        | ImportError::Malformed { reason, .. } => reason,
                        other => other.to_string(),
                    };
                    let rejected = FeatureError {
                        location: crate::error::Location { file: path.as_path().into(), index: 0, is_line: false },
                        field: None,
                        message: format!("file rejected: {reason}"),
                    };
                    if sender.send(Job::Pass(Message::FileRejected(rejected))).is_err() {
                        break;
                    }
                    continue;
                }
                Err(e) => return Err(e),
            }
            sink.flush()?;
            if sink.closed {
                break;
            }
        }
        Ok(())
    }
}

struct BatchSink<'a> {
    producer: &'a Producer,
    path: &'a PathBuf,
    sender: &'a std::sync::mpsc::SyncSender<Job>,
    builder: Option<Arc<RowBuilder>>,
    batch: Vec<RawFeature>,
    closed: bool,
}

impl BatchSink<'_> {
    fn flush(&mut self) -> Result<Flow, ImportError> {
        if self.batch.is_empty() || self.closed {
            return Ok(if self.closed { Flow::Stop } else { Flow::Continue });
        }
        let Some(builder) = &self.builder else { return Ok(Flow::Continue) };
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(self.producer.options.batch_size));
        if self.sender.send(Job::Check(Arc::clone(builder), batch)).is_err() {
            self.closed = true;
            return Ok(Flow::Stop);
        }
        Ok(Flow::Continue)
    }
}

impl FeatureSink for BatchSink<'_> {
    fn begin(&mut self, info: &SourceInfo) -> Result<(), ImportError> {
        let crs = match (&self.producer.options.crs, &info.declared_crs) {
            (Some(forced), _) => forced.clone(),
            (None, Some(declared)) => Crs::parse(declared).map_err(|e| ImportError::Format {
                path: self.path.clone(),
                reason: format!("the file declares {e}; pass --crs to say which CRS its coordinates are in"),
            })?,
            (None, None) => Crs::wgs84(),
        };
        let summary = FileSummary {
            path: self.path.clone(),
            crs: self.producer.dataset.geometry.map(|_| crs.to_string()),
            declared_crs: info.declared_crs.clone(),
            features: 0,
            encoding: info.encoding.clone(),
        };
        if self.sender.send(Job::Pass(Message::FileStarted(summary))).is_err() {
            self.closed = true;
        }
        self.builder = Some(Arc::new(
            RowBuilder::new(self.producer.dataset, &crs)?
                .with_check(self.producer.check.clone())
                .with_rules(self.producer.rules.clone())
                .with_tile_geometry(self.producer.tile_geometry),
        ));
        Ok(())
    }

    fn feature(&mut self, feature: RawFeature) -> Result<Flow, ImportError> {
        self.batch.push(feature);
        if self.batch.len() >= self.producer.options.batch_size {
            return self.flush();
        }
        Ok(if self.closed { Flow::Stop } else { Flow::Continue })
    }
}
