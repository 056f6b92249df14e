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
//! [`import`] runs as named steps, each in its own function: plan the files, prepare the
//! target ([`Target`]: staging or load table, the load hook's row check, the rules, the COPY
//! encoder), stage (read, check and COPY, the reading side in [`read`]), decide, move the rows
//! (insert, upsert or partition swap), settle the whole-load rules, run the load hook, and
//! commit or roll back; one exit returns the report.
//!
//! With [`ImportOptions::skip_rejected`] (station feeds) the accepted features are stored and the
//! rejected ones, and unreadable files, are reported. A dataset's load hook
//! ([`ImportOptions::hook`], see `geosector_store::hook`) adds a per-row check prepared before
//! reading and a refresh of derived tables after the move, both in the import's transaction.
//!
//! An import of a versioned dataset is a changeset ([`history`]): reserved when the import
//! starts, recorded in the transaction that moves the rows, with the import's audit row
//! ([`ImportOptions::audit`]); a replacing load keeps the ids of the features it reloads and
//! versions only the changed ones (a swap's rows take their identity as they are COPYed:
//! [`identity`]).

mod copy;
mod history;
mod identity;
mod overview;
mod read;
mod swap;

pub use history::ChangesetInfo;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use geosector_crs::Crs;
use geosector_domain::Dataset;
use geosector_store::audit::AuditEntry;
use geosector_store::hook::{LoadHook, RowCheck};
use geosector_store::{quote_ident, table_name};
use rayon::prelude::*;
use tokio::sync::mpsc;
use tokio_postgres::{Client, Transaction};

use copy::{CopyIn, Tail, TupleEncoder};
use history::Changeset;
use identity::Identities;
use overview::CellCounts;
use read::{Message, Prepared, Producer, ReadSettings};
use swap::PartitionKeys;

use crate::error::ImportError;
use crate::progress::Progress;
use crate::readers::{self, Format};
use crate::report::{ImportReport, Outcome, VersionCounts};
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
    /// partitioned dataset the partitions the load covers, swapped in whole.
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
    /// Who imports and why: the changeset of an import into a versioned dataset (source
    /// `import`), recorded in the import's transaction.
    pub changeset: ChangesetInfo,
    /// The audit row of an import that stores something, appended in the import's transaction
    /// with the number of rows written (`features`).
    pub audit: Option<AuditEntry>,
    /// How to harvest an input that is an OGC API - Features items URL (headers, `since`,
    /// page size, timeouts); without it, such an input is harvested with the defaults.
    pub harvest: Option<readers::ogcapi::Harvest>,
    /// An incremental load (`import --since`): the loaded features update the stored ones with
    /// the same natural key (the dataset's history key, else its conflict key) and the others
    /// are added; nothing is deleted or retired. An empty incremental load stores nothing and
    /// is accepted.
    pub merge: bool,
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
            changeset: ChangesetInfo::default(),
            audit: None,
            harvest: None,
            merge: false,
        }
    }
}

/// The column holding the feature order in the staging table (for upserts, the last one wins).
const SEQ_COLUMN: &str = "geosector_seq";

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

/// Drops the load tables that imports killed or crashed after committing them left behind,
/// for every partitioned dataset given (only those whose session is gone: an import running
/// beside keeps its own); returns how many. Run by every import and by `geosector migrate`,
/// so nothing an interrupted load left lingers beside the live data.
///
/// # Errors
/// A database error.
pub async fn sweep<'a>(client: &Client, datasets: impl IntoIterator<Item = &'a Dataset>) -> Result<usize, ImportError> {
    let mut dropped = 0;
    for dataset in datasets.into_iter().filter(|d| d.partition.is_some()) {
        dropped += swap::drop_orphans(client, dataset).await?;
    }
    Ok(dropped)
}

/// [`import`], without the cleanup of a load table committed for parallel index builds. The
/// named steps, in order; any error rolls the transaction back (it is dropped uncommitted).
async fn import_in(
    client: &mut Client,
    dataset: &'static Dataset,
    paths: &[PathBuf],
    options: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let started = Instant::now();
    let plan = plan_files(dataset, paths, options)?;
    let mut tx = client.transaction().await?;
    let changeset = Changeset::reserve(&tx, dataset).await?;
    let target = Target::prepare(&tx, dataset, options, changeset).await?;
    let mut report = ImportReport::new(dataset.id, options.dry_run);
    let mut staged = stage(&tx, dataset, plan, options, target, &mut report, started).await?;
    let decision = decide(options, &staged, &report)?;
    if decision == Decision::Move {
        staged.settle_identities(&tx, dataset, &mut report).await?;
        let indexes = staged.parent_indexes(&tx, dataset).await?;
        let indexed = match staged.parallel_index_url(options) {
            Some(url) => {
                // The filled load table is committed so that other connections can index it; it
                // is not part of the live data until the swap commits (see [`swap`]).
                tx.commit().await?;
                staged.build_indexes(url, dataset, &indexes).await?;
                tx = client.transaction().await?;
                true
            }
            None => false,
        };
        if let Some(changeset) = &changeset {
            changeset.record(&tx, &options.changeset).await?;
        }
        let moving = Moving { dataset, options, changeset: changeset.as_ref(), indexes: &indexes, indexed };
        move_rows(&tx, moving, &mut staged, &mut report).await?;
    }
    if decision != Decision::Reject {
        settle_overlaps(staged.overlaps.take(), &mut staged.session, &mut report).await?;
    }
    staged.session.finish(&mut report)?;
    // Overlaps set to reject may still reject a load that was moved.
    let keep = decision == Decision::Move && (report.rejected == 0 || options.skip_rejected);
    if keep && !options.dry_run {
        run_hook(&tx, options, &staged.target, &mut report).await?;
        audit(&tx, options, changeset.is_some(), &report).await?;
    }
    finish(tx, keep && !options.dry_run).await?;
    if !keep || options.dry_run {
        report.versions = None;
    }
    report.outcome = outcome(decision, keep, report.rejected);
    report.elapsed_ms = started.elapsed().as_millis();
    Ok(report)
}

/// Step 1: the files to read (directories expanded) and the format of each.
///
/// # Errors
/// [`ImportError::File`] when there is none or one cannot be read, [`ImportError::Format`] when
/// a format is unknown or carries no geometry for a dataset that needs it.
fn plan_files(
    dataset: &Dataset,
    paths: &[PathBuf],
    options: &ImportOptions,
) -> Result<Vec<(PathBuf, Format)>, ImportError> {
    if options.merge && options.replace {
        return Err(ImportError::Format {
            path: paths.first().cloned().unwrap_or_default(),
            reason: "an incremental load (--since) updates and adds; it cannot also replace (--replace)".into(),
        });
    }
    if options.merge && dataset.history.is_none() && dataset.conflict_key.is_none() {
        return Err(ImportError::Format {
            path: paths.first().cloned().unwrap_or_default(),
            reason: format!(
                "{} has no natural key to match features on, so it cannot be loaded incrementally (--since)",
                dataset.id
            ),
        });
    }
    let files = readers::expand(paths, options.format)?;
    let mut plan = Vec::with_capacity(files.len());
    for file in files {
        let format = match options.format {
            Some(f) => f,
            None => Format::detect(&file)?,
        };
        let no_geometry = match format {
            Format::StationText => true,
            Format::Csv => !readers::csv::has_geometry_columns(&file)?,
            _ => false,
        };
        if no_geometry && dataset.geometry.is_some() {
            return Err(ImportError::Format {
                path: file,
                reason: format!(
                    "station files and CSV without lon/lat or WKT columns carry no geometry and cannot be imported into {}",
                    dataset.id
                ),
            });
        }
        plan.push((file, format));
    }
    if plan.is_empty() {
        return Err(ImportError::File {
            path: paths.first().cloned().unwrap_or_default(),
            reason: "no input files found".into(),
        });
    }
    Ok(plan)
}

/// Where the rows of a load go and how they are encoded (step 2), set up in the import's
/// transaction before COPY occupies the connection.
struct Target {
    /// Each row's partition key, for a partitioned dataset.
    keys: Option<PartitionKeys>,
    /// Whether the load is swapped in as whole partitions (a replacing load of a partitioned
    /// dataset without a conflict key).
    swap_in: bool,
    /// The overview cells counted from the rows as they go by (a swap fires no trigger).
    cells: Option<CellCounts>,
    /// The columns the move writes into the live table.
    columns: Vec<&'static str>,
    /// The table COPY fills: `geosector_staging`, or a swap's qualified load table.
    staging: String,
    /// A swap's load table, bare name.
    load_table: Option<String>,
    /// The COPY into `staging`.
    copy: CopyIn,
    /// The stored identities a versioned dataset's swap gives its rows.
    identities: Option<Identities>,
}

/// What [`Target::prepare`] sets up for the reading side.
struct ProducerParts {
    /// The load hook's row check.
    check: Option<Arc<dyn RowCheck>>,
    /// The dataset's rules engine, if it has rules.
    rules: Option<Arc<Validator>>,
    /// Whether rows carry their tiles' geometry (a swap writes it).
    tile_geometry: bool,
    /// Encodes the accepted rows for COPY.
    encoder: TupleEncoder,
}

impl Target {
    /// Creates the staging table (or a swap's load table), prepares the load hook's row check
    /// and the rules engine, and the COPY encoder for the staging table's column types.
    ///
    /// # Errors
    /// [`ImportError`] when the database refuses a statement, the hook or the rules file fail,
    /// or the declaration names a field the dataset lacks.
    async fn prepare(
        tx: &Transaction<'_>,
        dataset: &'static Dataset,
        options: &ImportOptions,
        changeset: Option<Changeset>,
    ) -> Result<(Target, ProducerParts), ImportError> {
        // Partitioned datasets: each row's partition key; a replacing load COPYs straight into a
        // new table that is swapped in as the partition (see [`swap`]).
        let keys = PartitionKeys::load(tx, dataset).await?;
        let swap_in = keys.is_some() && options.replace && dataset.conflict_key.is_none();
        // A swap fires no trigger: the overview cells are counted from the rows as they go by.
        let cells = if swap_in { CellCounts::new(dataset)? } else { None };
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
        // A versioned dataset's swap writes the id and version columns too (see [`identity`]).
        let identities = if swap_in { Identities::new(dataset, changeset)? } else { None };
        if identities.is_some() {
            columns.push(history::ID);
            columns.extend(history::VERSION_COLUMNS);
        }
        let column_list = columns.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ");
        let (staging, load_table) = if swap_in {
            let (bare, name) = swap::create_load_table(tx, dataset).await?;
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
            Some(hook) => hook.prepare(tx, dataset).await?,
            None => None,
        };
        let validator = validator(tx, dataset, &options.validation).await?;
        let types = tx.prepare(&format!("SELECT {copy_list} FROM {staging}")).await?;
        let copy_columns = columns.iter().copied().chain((!swap_in).then_some(SEQ_COLUMN));
        // The workers encode every column but the partition key and the sequence number.
        let appended = usize::from(keys.is_some())
            + usize::from(!swap_in)
            + identities.as_ref().map_or(0, |_| 1 + history::VERSION_COLUMNS.len());
        let encoder = TupleEncoder::new(
            dataset,
            copy_columns.zip(types.columns().iter().map(|c| c.type_().clone())).collect(),
            appended,
            first_element_of,
            tile_geometry.is_some(),
        )?;
        let copy = CopyIn::new(format!("COPY {staging} ({copy_list}) FROM STDIN (FORMAT binary)"));
        let target = Target { keys, swap_in, cells, columns, staging, load_table, copy, identities };
        Ok((target, ProducerParts { check, rules: validator, tile_geometry: tile_geometry.is_some(), encoder }))
    }
}

/// A load read, checked and COPYed (step 3), waiting for its verdict.
struct Staged {
    target: Target,
    /// The whole-load half of the rules engine.
    session: Session,
    /// Rows written to COPY.
    rows: i64,
    /// The partition key a swap's load table is checked for, while the check is there (see
    /// `swap::check_key`).
    checked_key: Option<String>,
    /// The overlap check, running on a blocking thread since COPY ended.
    overlaps: Option<PendingCheck>,
    /// The first input file, for a message about the whole input.
    first_file: PathBuf,
}

/// An overlap check in progress: when it started, and its task.
type PendingCheck = (Instant, tokio::task::JoinHandle<Result<validate::FoundOverlaps, ImportError>>);

/// Step 3: reads and checks every file on a blocking thread (rayon inside) while the accepted
/// rows stream into `target` through COPY; counts everything into `report`. Once every
/// feature is seen, the overlap check (if its rule is on) starts on a blocking thread.
///
/// # Errors
/// [`ImportError`] when a file cannot be read to the end, the reading side stops, or the
/// database refuses the COPY.
async fn stage(
    tx: &Transaction<'_>,
    dataset: &'static Dataset,
    plan: Vec<(PathBuf, Format)>,
    options: &ImportOptions,
    (target, parts): (Target, ProducerParts),
    report: &mut ImportReport,
    started: Instant,
) -> Result<Staged, ImportError> {
    let first_file = plan.first().map(|(path, _)| path.clone()).unwrap_or_default();
    let (sender, mut receiver) = mpsc::channel::<Message>(4);
    let ProducerParts { check, rules, tile_geometry, encoder } = parts;
    let producer = Producer {
        dataset,
        plan,
        settings: ReadSettings {
            crs: options.crs.clone(),
            encoding: options.encoding,
            swap_xy: options.swap_xy,
            skip_rejected: options.skip_rejected,
            batch_size: options.batch_size,
            harvest: options.harvest.clone(),
        },
        check,
        rules: rules.clone(),
        tile_geometry,
        encoder,
        cells: target.cells.as_ref().map(CellCounts::locator),
    };
    let producer = tokio::task::spawn_blocking(move || producer.run(&sender));

    let session = Session::new(rules, &options.validation, options.max_examples, report)?;
    let key_column = target.keys.as_ref().map(PartitionKeys::column);
    let mut consumer = Consumer { tx, dataset, options, target, session, rows: 0, checked_key: None, key_column };
    let progress = Progress::new(options.progress);
    while let Some(message) = receiver.recv().await {
        match message {
            Message::FileStarted(summary) => {
                progress.file(&summary.path, std::fs::metadata(&summary.path).ok().map(|m| m.len()));
                consumer.session.file_started(&summary.path);
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
                consumer.batch(results, report).await?;
            }
        }
    }
    producer.await.map_err(|join| ImportError::ReaderStopped(join.to_string()))??;
    progress.finish();
    let Consumer { mut target, mut session, rows, checked_key, .. } = consumer;
    target.copy.finish().await?;
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
    Ok(Staged { target, session, rows, checked_key, overlaps, first_file })
}

/// The consuming side of [`stage`]: takes the checked features in file order, runs the
/// whole-load rules on them and COPYs the accepted rows.
struct Consumer<'a, 't> {
    tx: &'a Transaction<'t>,
    dataset: &'static Dataset,
    options: &'a ImportOptions,
    target: Target,
    session: Session,
    /// Rows written to COPY so far (the next row's sequence number).
    rows: i64,
    /// The partition key a swap's load table is checked for, while the check is there.
    checked_key: Option<String>,
    /// The partition key column, for a partitioned dataset.
    key_column: Option<&'static str>,
}

impl Consumer<'_, '_> {
    /// One batch of checked features, in order: counted, judged by the whole-load rules, and
    /// COPYed when accepted (until a feature is rejected, unless rejected ones are skipped).
    async fn batch(&mut self, results: Vec<Prepared>, report: &mut ImportReport) -> Result<(), ImportError> {
        let Consumer { tx, dataset, options, target, session, rows, checked_key, key_column } = self;
        let Target { keys, swap_in, cells, load_table, copy, identities, .. } = target;
        // The rows and tuples written are freed on the rayon threads, which allocated them.
        let mut spent = Vec::with_capacity(results.len());
        for Prepared { mut checked, tuple, cell } in results {
            report.features_read += 1;
            if let Some(file) = report.files.last_mut() {
                file.features += 1;
            }
            session.observe(&mut checked, report)?;
            match checked.into_result() {
                Ok(row) if report.rejected == 0 || options.skip_rejected => {
                    let key = keys.as_mut().map(|k| k.key(&row));
                    if let Some(cells) = cells.as_mut() {
                        cells.add(&row, cell);
                    }
                    if let (Some(bare), Some(column), Some(key)) = (&*load_table, *key_column, key) {
                        if *rows == 0 {
                            *checked_key =
                                swap::check_key(tx, dataset, bare, column, key).await?.then(|| key.to_owned());
                        } else if checked_key.as_deref().is_some_and(|checked| checked != key) {
                            copy.finish().await?;
                            swap::uncheck_key(tx, dataset, bare).await?;
                            *checked_key = None;
                        }
                    }
                    let identity = match (identities.as_mut(), key) {
                        (Some(ids), Some(key)) => {
                            if ids.needs_database(key) {
                                // No statement runs while a COPY is open.
                                copy.finish().await?;
                                ids.prepare(tx, key, &swap::partition_name(dataset, key)).await?;
                            }
                            let identity = ids.assign(key, &row);
                            if identity.is_none() {
                                return Err(ImportError::Database("no id was reserved for a new row".into()));
                            }
                            identity
                        }
                        _ => None,
                    };
                    let tuple =
                        tuple.ok_or_else(|| ImportError::Database("an accepted row was not encoded".into()))??;
                    copy.write(tx, &tuple, Tail { key, seq: (!*swap_in).then_some(*rows), identity }).await?;
                    *rows += 1;
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
        Ok(())
    }
}

/// What becomes of a staged load (step 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    /// Features were rejected and nothing is to be stored: roll back.
    Reject,
    /// A dry run of a partition swap: checked and staged (the load table has the live table's
    /// checks), nothing more to try; or an incremental load with nothing in it.
    CheckOnly,
    /// Move the rows into the live table (a dry run rolls the move back at the end).
    Move,
}

/// Step 4: the verdict on a staged load.
///
/// # Errors
/// [`ImportError::Format`] for an empty input: almost always a mistake, and with `--replace` it
/// would wipe the dataset.
fn decide(options: &ImportOptions, staged: &Staged, report: &ImportReport) -> Result<Decision, ImportError> {
    if report.features_read == 0 && report.rejected == 0 && options.merge {
        // Nothing changed at the source: nothing to write, and no empty changeset.
        return Ok(Decision::CheckOnly);
    }
    if report.features_read == 0 && report.rejected == 0 {
        return Err(ImportError::Format {
            path: staged.first_file.clone(),
            reason: "no features in the input: nothing to import".into(),
        });
    }
    Ok(if report.rejected > 0 && (!options.skip_rejected || staged.rows == 0) {
        Decision::Reject
    } else if staged.target.load_table.is_some() && options.dry_run {
        Decision::CheckOnly
    } else {
        Decision::Move
    })
}

impl Staged {
    /// For a versioned dataset's swap: gives the changed rows of the load table their new
    /// version and the matched ones their stored identifier, against each stored partition the
    /// load replaces (see [`history::settle_swap_load`]), before the table may be committed and
    /// indexed.
    async fn settle_identities(
        &self,
        tx: &Transaction<'_>,
        dataset: &Dataset,
        report: &mut ImportReport,
    ) -> Result<(), ImportError> {
        let (Some(identities), Some(keys)) = (&self.target.identities, &self.target.keys) else { return Ok(()) };
        let settling = Instant::now();
        let mut counts =
            VersionCounts { changeset: identities.changeset_id(), new: identities.new, ..VersionCounts::default() };
        for key in keys.seen.keys() {
            let stored = swap::partition_name(dataset, key);
            let exists: bool = tx.query_one("SELECT to_regclass($1) IS NOT NULL", &[&stored]).await?.get(0);
            if exists {
                counts.changed +=
                    history::settle_swap_load(tx, dataset, &self.target.staging, &stored, identities.changeset())
                        .await?;
            }
        }
        let rows = u64::try_from(self.rows).unwrap_or(0);
        counts.unchanged = rows.saturating_sub(counts.new + counts.changed);
        report.versions = Some(counts);
        tracing::info!(dataset = dataset.id, seconds = settling.elapsed().as_secs_f64(), "versions settled");
        Ok(())
    }

    /// The parent's indexes a swap builds on its load table (none without a swap).
    async fn parent_indexes(
        &self,
        tx: &Transaction<'_>,
        dataset: &Dataset,
    ) -> Result<Vec<swap::ParentIndex>, ImportError> {
        if self.target.load_table.is_some() {
            swap::parent_indexes(tx, dataset).await
        } else {
            Ok(Vec::new())
        }
    }

    /// The database to build a swap's indexes from on parallel connections: one province (the
    /// usual load), with its load table still checked for it, and a database URL for more
    /// connections.
    fn parallel_index_url<'o>(&self, options: &'o ImportOptions) -> Option<&'o str> {
        let one_key = self.target.keys.as_ref().is_some_and(|k| k.seen.len() == 1);
        let swap = self.target.load_table.is_some() && self.checked_key.is_some() && one_key;
        options.database_url.as_deref().filter(|_| swap)
    }

    /// Builds the swap's indexes on parallel connections (after the load table is committed).
    async fn build_indexes(
        &self,
        url: &str,
        dataset: &'static Dataset,
        indexes: &[swap::ParentIndex],
    ) -> Result<(), ImportError> {
        let Some(bare) = &self.target.load_table else { return Ok(()) };
        let building = Instant::now();
        swap::build_indexes(url, dataset, bare, indexes).await?;
        tracing::info!(
            dataset = dataset.id,
            seconds = building.elapsed().as_secs_f64(),
            "indexes built on parallel connections"
        );
        Ok(())
    }
}

/// What [`move_rows`] works with besides the staged load.
#[derive(Clone, Copy)]
struct Moving<'a> {
    dataset: &'a Dataset,
    options: &'a ImportOptions,
    /// The import's changeset, recorded already (a versioned dataset).
    changeset: Option<&'a Changeset>,
    /// The parent's indexes, for a swap.
    indexes: &'a [swap::ParentIndex],
    /// Whether a swap's indexes were built on parallel connections.
    indexed: bool,
}

/// Step 5: moves the staged rows into the live table: swaps in whole partitions, or inserts
/// (upserts on the conflict key), after deleting every row with `--replace`; a versioned
/// dataset's replacing load deletes, updates and inserts only what differs (see [`history`]).
///
/// # Errors
/// [`ImportError::Database`] when PostgreSQL refuses a statement.
async fn move_rows(
    tx: &Transaction<'_>,
    moving: Moving<'_>,
    staged: &mut Staged,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    let Moving { dataset, options, changeset, indexes, indexed } = moving;
    let moving = Instant::now();
    let target = &mut staged.target;
    let count = |row: &tokio_postgres::Row, i: usize| u64::try_from(row.get::<_, i64>(i)).unwrap_or(0);
    match (&target.load_table, &target.keys) {
        (Some(bare), Some(keys)) => {
            let load = swap::LoadTable { bare, checked: staged.checked_key.as_deref(), indexed };
            let swapped =
                swap::swap_partitions(tx, dataset, load, keys, indexes, target.cells.take(), changeset).await?;
            report.rows_replaced = swapped.rows_replaced;
            report.rows_written = swapped.rows_written;
            if let Some(versions) = report.versions.as_mut() {
                versions.retired = swapped.retired;
                if swapped.changed != versions.changed {
                    return Err(ImportError::Database(format!(
                        "{}: {} changed rows settled but {} versions ended",
                        dataset.id, versions.changed, swapped.changed
                    )));
                }
            }
        }
        _ => {
            if let Some(sql) = dataset.prepare_sql {
                tx.batch_execute(sql).await?;
            }
            if let Some(keys) = &target.keys {
                swap::ensure_partitions(tx, dataset, keys).await?;
            }
            match (dataset.history, changeset) {
                (Some(history), Some(changeset))
                    if options.replace || options.merge || dataset.conflict_key.is_some() =>
                {
                    let mut versions = VersionCounts { changeset: changeset.id, ..VersionCounts::default() };
                    let write = if options.replace || (options.merge && dataset.conflict_key.is_none()) {
                        let sql = history::replace_sql(dataset, history, &target.columns, &target.staging, SEQ_COLUMN);
                        if let Some(prepare) = &sql.prepare {
                            tx.batch_execute(prepare).await?;
                        }
                        // An incremental load retires nothing: it only updates and adds.
                        if options.replace {
                            versions.retired = count(&tx.query_one(&sql.retire, &[]).await?, 0);
                            report.rows_replaced = versions.retired;
                        }
                        sql.write
                    } else {
                        history::upsert_sql(
                            dataset,
                            dataset.conflict_key.unwrap_or_default(),
                            &target.columns,
                            &target.staging,
                            SEQ_COLUMN,
                        )
                    };
                    let written = tx.query_one(&write, &[]).await?;
                    versions.new = count(&written, 0);
                    versions.changed = count(&written, 1);
                    versions.unchanged = count(&written, 2);
                    report.rows_written = versions.new + versions.changed;
                    report.versions = Some(versions);
                }
                _ => {
                    if options.replace {
                        report.rows_replaced = tx.execute(&format!("DELETE FROM {}", table_name(dataset)), &[]).await?;
                    }
                    report.rows_written = insert_or_upsert(tx, dataset, &target.columns).await?;
                    if let Some(changeset) = changeset {
                        report.versions = Some(VersionCounts {
                            changeset: changeset.id,
                            new: report.rows_written,
                            ..VersionCounts::default()
                        });
                    }
                }
            }
        }
    }
    tracing::info!(
        dataset = dataset.id,
        rows = report.rows_written,
        seconds = moving.elapsed().as_secs_f64(),
        "moved into the live table"
    );
    Ok(())
}

/// Step 7: the load hook's refresh of derived tables, with the rows of this load still staged
/// (see `geosector_store::hook`).
///
/// # Errors
/// The hook's, as an [`ImportError`].
async fn run_hook(
    tx: &Transaction<'_>,
    options: &ImportOptions,
    target: &Target,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    let Some(hook) = &options.hook else { return Ok(()) };
    let computing = Instant::now();
    let staging = target.load_table.is_none().then_some(target.staging.as_str());
    report.indices = hook.after_move(tx, staging).await?;
    tracing::info!(refreshed = ?report.indices, seconds = computing.elapsed().as_secs_f64(), "load hook ran");
    Ok(())
}

/// The import's audit row, in its transaction: when it stored rows, or recorded a changeset.
///
/// # Errors
/// [`ImportError::Database`] when PostgreSQL refuses.
async fn audit(
    tx: &Transaction<'_>,
    options: &ImportOptions,
    changeset: bool,
    report: &ImportReport,
) -> Result<(), ImportError> {
    let Some(entry) = &options.audit else { return Ok(()) };
    if report.rows_written == 0 && !changeset {
        return Ok(());
    }
    let entry = AuditEntry { features: i64::try_from(report.rows_written).unwrap_or(i64::MAX), ..entry.clone() };
    geosector_store::audit::append(tx, &[entry])
        .await
        .map_err(|e| ImportError::Database(format!("writing the import's audit row: {e}")))
}

/// Step 8: commits what is to be kept, else rolls everything back.
///
/// # Errors
/// [`ImportError::Database`] when the commit fails (nothing is stored then).
async fn finish(tx: Transaction<'_>, commit: bool) -> Result<(), ImportError> {
    if commit {
        tx.commit().await?;
    } else {
        tx.rollback().await?;
    }
    Ok(())
}

/// The verdict in the report: `keep` when the moved rows stay (a dry run excepted).
fn outcome(decision: Decision, keep: bool, rejected: u64) -> Outcome {
    match decision {
        Decision::Move if keep && rejected > 0 => Outcome::Partial,
        Decision::Move if keep => Outcome::Accepted,
        Decision::CheckOnly if rejected == 0 => Outcome::Accepted,
        Decision::Move | Decision::CheckOnly | Decision::Reject => Outcome::Rejected,
    }
}

/// Step 6: waits for the overlap check started after COPY and reports its pairs.
async fn settle_overlaps(
    task: Option<PendingCheck>,
    session: &mut Session,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    let Some((started, task)) = task else { return Ok(()) };
    let found = task.await.map_err(|join| ImportError::ReaderStopped(join.to_string()))??;
    session.record_overlaps(found, report)?;
    tracing::info!(dataset = %report.dataset, seconds = started.elapsed().as_secs_f64(), "overlaps checked");
    Ok(())
}

/// How many staged rows [`insert_or_upsert`] looks up in the live table before it tries the
/// plain insert: a re-sent load finds its first rows there and goes straight to the upsert.
const PROBE_ROWS: i64 = 1000;

/// Moves the staged rows into the live table and returns how many were written (inserted, or
/// inserted and updated). Without a conflict key, a plain insert. With one, the rows whose
/// keys are all new (the usual load: the next hours of a feed, a new campaign) are inserted as
/// they are, without sorting the load by key or probing the key's index twice per row; only a
/// load that holds a key the live table has, or one key twice, is upserted:
///
/// 1. a probe: do the first [`PROBE_ROWS`] staged rows have a key the live table has? Then the
///    upsert, at once;
/// 2. else the plain insert, under a savepoint; a unique violation (a stored key further on, or
///    a key twice in the load) rolls back to the savepoint and the upsert runs instead.
///
/// Either way the stored rows are those of the upsert (the last occurrence of a key within the
/// load wins), and the count is the number of distinct keys written.
///
/// # Errors
/// [`ImportError::Database`] when PostgreSQL refuses a statement (the upsert's refusal, when
/// the plain insert was refused too).
async fn insert_or_upsert(tx: &Transaction<'_>, dataset: &Dataset, columns: &[&str]) -> Result<u64, ImportError> {
    let Some(key) = dataset.conflict_key else {
        return Ok(tx.execute(&move_sql(dataset, columns), &[]).await?);
    };
    let started = Instant::now();
    let target = table_name(dataset);
    let matches = key.iter().map(|c| format!("l.{0} = s.{0}", quote_ident(c))).collect::<Vec<_>>().join(" AND ");
    let key_list = key.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ");
    let probe = format!(
        "SELECT EXISTS (SELECT 1 FROM (SELECT {key_list} FROM geosector_staging LIMIT {PROBE_ROWS}) AS s
                        WHERE EXISTS (SELECT 1 FROM {target} AS l WHERE {matches}))"
    );
    let stored: bool = tx.query_one(&probe, &[]).await?.get(0);
    if !stored {
        let list = columns.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ");
        tx.batch_execute("SAVEPOINT geosector_new_keys").await?;
        let insert = format!("INSERT INTO {target} ({list}) SELECT {list} FROM geosector_staging");
        match tx.execute(&insert, &[]).await {
            Ok(written) => {
                tx.batch_execute("RELEASE SAVEPOINT geosector_new_keys").await?;
                tracing::info!(dataset = dataset.id, rows = written, "every key was new: inserted without an upsert");
                return Ok(written);
            }
            Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) => {
                tx.batch_execute("ROLLBACK TO SAVEPOINT geosector_new_keys").await?;
                tracing::info!(
                    dataset = dataset.id,
                    seconds = started.elapsed().as_secs_f64(),
                    "a key is stored or repeated: upserting"
                );
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(tx.execute(&move_sql(dataset, columns), &[]).await?)
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
