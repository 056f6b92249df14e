//! Loading partitioned datasets (migration 0012): the partition key of each row, partitions
//! created on demand, and the swap that replaces whole partitions in the import's transaction.
//!
//! A replacing load of a partitioned dataset COPYs into a plain table shaped like the parent
//! (`<table>_load_<backend pid>`), not a temporary staging table: once accepted, the rows of
//! each partition key get their indexes built in bulk, and the old partition is detached and
//! dropped and the new one attached under its name. The version bump, the changed extent and
//! the overview cells ([`super::overview`]), which triggers do for ordinary writes, are done
//! here, and so is the history of a versioned dataset (`super::history`): the rows of the load
//! table carry the ids and versions of the stored rows they match, and the versions a swap ends
//! are copied into the history before the old partition is dropped. The swap happens in the caller's transaction: a rollback or a crash leaves the old
//! partitions in place.
//!
//! A load of one province (the usual one) may have its indexes built on parallel connections
//! ([`build_indexes`]): the caller then commits the filled load table first, so other sessions
//! can see it, and swaps in a second transaction. Until that commits the load table is only a
//! table beside the live data, never part of them; the caller drops it when the import fails
//! ([`drop_load_table`]), and one left by a crash or a kill is dropped by the next import of
//! any dataset and by `geosector migrate` ([`super::sweep`]), and before a replacing load of
//! its dataset ([`create_load_table`]).
//!
//! Identifiers: schema and table come from the dataset declaration; partition keys are checked
//! to be two digits before they become part of a partition's name; nothing from the input files
//! reaches SQL text.

use std::collections::BTreeMap;

use std::sync::atomic::{AtomicUsize, Ordering};

use geosector_domain::{CellValue, Dataset, Partitioning};
use geosector_store::quote_ident;
use tokio_postgres::{GenericClient, Transaction};

use super::history::{self, Changeset};
use super::overview::CellCounts;
use crate::checked::Row;
use crate::error::ImportError;

/// The partition key of each row: the 2025 province of its commune.
#[derive(Debug)]
pub(crate) struct PartitionKeys {
    spec: Partitioning,
    /// Position of the commune field among the dataset's fields.
    commune_index: usize,
    /// Commune code → province code, current units.
    provinces: foldhash::HashMap<String, String>,
    /// The rows seen per key.
    pub(crate) seen: BTreeMap<String, KeyRows>,
}

/// The rows of one partition key seen in a load.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct KeyRows {
    /// How many.
    pub(crate) count: u64,
    /// Their lon/lat bounding box.
    pub(crate) extent: Option<[f64; 4]>,
}

impl PartitionKeys {
    /// Reads the current commune → province mapping. `None` for an unpartitioned dataset.
    pub(crate) async fn load(tx: &Transaction<'_>, dataset: &Dataset) -> Result<Option<PartitionKeys>, ImportError> {
        let Some(spec) = dataset.partition else { return Ok(None) };
        let commune_index = dataset.fields.iter().position(|f| f.column == spec.commune_field).ok_or_else(|| {
            ImportError::Database(format!("{}: partition field {} is not declared", dataset.id, spec.commune_field))
        })?;
        let rows = tx
            .query(
                "SELECT code, parent_code FROM reference.admin_units
                 WHERE level = 'commune' AND valid_to IS NULL AND parent_code ~ '^\\d{2}$'",
                &[],
            )
            .await?;
        let provinces = rows.iter().map(|r| (r.get::<_, String>(0), r.get::<_, String>(1))).collect();
        Ok(Some(PartitionKeys { spec, commune_index, provinces, seen: BTreeMap::new() }))
    }

    /// The key column.
    pub(crate) fn column(&self) -> &'static str {
        self.spec.column
    }

    /// The key of a row (its commune's province, or [`Partitioning::UNKNOWN`]); counted, and
    /// its bounding box added to the key's extent.
    pub(crate) fn key(&mut self, row: &Row) -> &str {
        let province = match row.cells.get(self.commune_index) {
            Some(CellValue::Text(commune)) => self.provinces.get(commune).map(String::as_str),
            _ => None,
        };
        let key = province.filter(|p| is_key(p)).unwrap_or(Partitioning::UNKNOWN);
        // Looked up by &str: a key is allocated once per load, not once per row.
        let rows = match self.seen.get_mut(key) {
            Some(rows) => rows,
            None => self.seen.entry(key.to_owned()).or_default(),
        };
        rows.count += 1;
        if let Some(b) = row.bbox {
            rows.extent = Some(rows.extent.map_or(b, |e| union(e, b)));
        }
        key
    }
}

/// The smallest box holding two lon/lat boxes.
fn union(a: [f64; 4], b: [f64; 4]) -> [f64; 4] {
    [a[0].min(b[0]), a[1].min(b[1]), a[2].max(b[2]), a[3].max(b[3])]
}

/// A box as PostGIS's `box2d` text.
fn box2d_text(b: [f64; 4]) -> String {
    format!("BOX({} {},{} {})", b[0], b[1], b[2], b[3])
}

/// Whether a key may become part of a partition's name.
fn is_key(key: &str) -> bool {
    key.len() == 2 && key.bytes().all(|b| b.is_ascii_digit())
}

/// `schema.name`, quoted, for a table of the dataset's schema.
fn qualified(dataset: &Dataset, name: &str) -> String {
    format!("{}.{}", quote_ident(dataset.schema), quote_ident(name))
}

/// The partition of a key, `schema.table_p<key>`, quoted.
pub(crate) fn partition_name(dataset: &Dataset, key: &str) -> String {
    qualified(dataset, &format!("{}_p{key}", dataset.table))
}

/// The table a replacing load COPYs into, created in the transaction (shaped like the parent,
/// with its defaults, generated columns and checks, without indexes). Returns its bare name
/// (`<table>_load_<backend pid>`) and its quoted qualified name. Load tables of the dataset
/// left by imports whose session is gone (a crash or a kill after the load table was committed
/// for parallel index builds) are dropped first.
pub(crate) async fn create_load_table(
    tx: &Transaction<'_>,
    dataset: &Dataset,
) -> Result<(String, String), ImportError> {
    drop_orphans(tx, dataset).await?;
    let pid: i32 = tx.query_one("SELECT pg_backend_pid()", &[]).await?.get(0);
    let bare = format!("{}_load_{pid}", dataset.table);
    let name = qualified(dataset, &bare);
    tx.batch_execute(&format!(
        "CREATE TABLE {name} (LIKE {} INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING CONSTRAINTS)",
        geosector_store::table_name(dataset)
    ))
    .await?;
    Ok((bare, name))
}

/// Drops the load tables of a dataset left by imports whose session is gone (a crash or a kill
/// after the load table was committed for parallel index builds); returns how many.
pub(crate) async fn drop_orphans(client: &impl GenericClient, dataset: &Dataset) -> Result<usize, ImportError> {
    let orphans = client
        .query(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = $1 AND c.relkind = 'r' AND c.relname ~ ('^' || $2 || '_load_[0-9]{1,9}$')
               AND substring(c.relname FROM '[0-9]+$')::int NOT IN (SELECT pid FROM pg_stat_activity)",
            &[&dataset.schema, &dataset.table],
        )
        .await?;
    for orphan in &orphans {
        let name: &str = orphan.get(0);
        tracing::info!(table = name, "dropping the load table of an import that did not finish");
        client.batch_execute(&format!("DROP TABLE IF EXISTS {}", qualified(dataset, name))).await?;
    }
    Ok(orphans.len())
}

/// The name of the check that every row of a load table has one partition key.
const KEY_CHECK: &str = "geosector_partition_key";

/// Checks the load table, still empty, for one partition key (the key of the first row): while
/// every row has it, `ATTACH PARTITION` finds the check and does not scan the table, and the
/// check costs a comparison per row during COPY instead of a scan of the whole table after it.
/// Returns whether the check was added (a key that cannot name a partition gets none).
pub(crate) async fn check_key(
    tx: &Transaction<'_>,
    dataset: &Dataset,
    load_bare: &str,
    column: &str,
    key: &str,
) -> Result<bool, ImportError> {
    if !is_key(key) {
        return Ok(false);
    }
    tx.batch_execute(&format!(
        "ALTER TABLE {} ADD CONSTRAINT {} CHECK ({} = '{key}')",
        qualified(dataset, load_bare),
        quote_ident(KEY_CHECK),
        quote_ident(column)
    ))
    .await?;
    Ok(true)
}

/// Drops the check of [`check_key`]: a row of another key came (the swap then splits the load).
pub(crate) async fn uncheck_key(tx: &Transaction<'_>, dataset: &Dataset, load_bare: &str) -> Result<(), ImportError> {
    tx.batch_execute(&format!(
        "ALTER TABLE {} DROP CONSTRAINT {}",
        qualified(dataset, load_bare),
        quote_ident(KEY_CHECK)
    ))
    .await?;
    Ok(())
}

/// Drops this session's load table if it is there: after a failed or rejected import whose
/// load table had been committed for parallel index builds (elsewhere it is already gone with
/// its transaction, or renamed into a partition).
///
/// # Errors
/// [`ImportError::Database`] when PostgreSQL refuses (the next replacing load drops it then).
pub(crate) async fn drop_load_table(client: &impl GenericClient, dataset: &Dataset) -> Result<(), ImportError> {
    let pid: i32 = client.query_one("SELECT pg_backend_pid()", &[]).await?.get(0);
    client
        .batch_execute(&format!(
            "DROP TABLE IF EXISTS {}",
            qualified(dataset, &format!("{}_load_{pid}", dataset.table))
        ))
        .await?;
    Ok(())
}

/// One index of the parent, to build on a table shaped like it.
#[derive(Debug, Clone)]
pub(crate) struct ParentIndex {
    /// `UNIQUE` or not.
    unique: bool,
    /// The primary key's index: built as a unique index, then made the primary key.
    primary: bool,
    /// `USING <method> (<columns>)…`, from `pg_get_indexdef`.
    definition: String,
}

impl ParentIndex {
    /// The statement that builds it on `table` (bare name in the dataset's schema).
    fn create(&self, dataset: &Dataset, table: &str) -> String {
        let kind = if self.unique { "UNIQUE INDEX" } else { "INDEX" };
        let name = if self.primary { format!(" {}", quote_ident(&format!("{table}_pkey"))) } else { String::new() };
        format!("CREATE {kind}{name} ON {} {}", qualified(dataset, table), self.definition)
    }
}

/// The parent's primary key and indexes, the GiST ones (the slowest to build) first. ATTACH
/// adopts the partition's matching indexes instead of building them under its lock.
pub(crate) async fn parent_indexes(
    client: &impl GenericClient,
    dataset: &Dataset,
) -> Result<Vec<ParentIndex>, ImportError> {
    let parent = geosector_store::table_name(dataset);
    let rows = client
        .query(
            "SELECT i.indisunique, i.indisprimary, pg_get_indexdef(i.indexrelid) FROM pg_index i
             JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
             WHERE i.indrelid = $1::text::regclass ORDER BY a.amname <> 'gist', i.indexrelid",
            &[&parent],
        )
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            let definition: String = r.get(2);
            let using = definition.find(" USING ")?;
            Some(ParentIndex { unique: r.get(0), primary: r.get(1), definition: definition[using + 1..].to_owned() })
        })
        .collect())
}

/// The sort memory of an index build, at least (`maintenance_work_mem`).
const INDEX_BUILD_MEMORY: &str = "256MB";

/// Raises `maintenance_work_mem` to [`INDEX_BUILD_MEMORY`] for the session (or the transaction,
/// when `local`), never lowers it: PostgreSQL's default (64 MB) makes a province's GiST and
/// B-tree sorts spill to disk (1M parcels: GiST 3.2 s at 64 MB, 2.5 s at 256 MB).
fn raise_sort_memory(local: bool) -> String {
    format!(
        "SELECT set_config('maintenance_work_mem', '{INDEX_BUILD_MEMORY}', {local})
         WHERE pg_size_bytes(current_setting('maintenance_work_mem')) < pg_size_bytes('{INDEX_BUILD_MEMORY}')"
    )
}

/// Builds the parent's indexes on the committed load table `load_bare`, on as many parallel
/// connections to `database_url` as there are cores (at most one per index), each taking the
/// next index to build. The primary key is built as a unique index; [`swap_partitions`] makes
/// it the primary key.
///
/// # Errors
/// [`ImportError::Database`] when a connection or a build fails.
pub(crate) async fn build_indexes(
    database_url: &str,
    dataset: &'static Dataset,
    load_bare: &str,
    indexes: &[ParentIndex],
) -> Result<(), ImportError> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let statements: Vec<String> = indexes.iter().map(|i| i.create(dataset, load_bare)).collect();
    let next = AtomicUsize::new(0);
    let worker = || async {
        let client = geosector_store::connect(database_url)
            .await
            .map_err(|e| ImportError::Database(format!("index build connection: {e}")))?;
        client.batch_execute(&raise_sort_memory(false)).await?;
        while let Some(statement) = statements.get(next.fetch_add(1, Ordering::Relaxed)) {
            client.batch_execute(statement).await?;
        }
        Ok::<(), ImportError>(())
    };
    futures_util::future::try_join_all((0..cores.min(statements.len())).map(|_| worker())).await?;
    Ok(())
}

/// Creates the partitions an appending load needs.
pub(crate) async fn ensure_partitions(
    tx: &Transaction<'_>,
    dataset: &Dataset,
    keys: &PartitionKeys,
) -> Result<(), ImportError> {
    for key in keys.seen.keys().filter(|k| is_key(k)) {
        tx.batch_execute(&format!(
            "CREATE TABLE IF NOT EXISTS {} PARTITION OF {} FOR VALUES IN ('{key}')",
            partition_name(dataset, key),
            geosector_store::table_name(dataset)
        ))
        .await?;
    }
    Ok(())
}

/// What a swap did.
#[derive(Debug, Default)]
pub(crate) struct Swapped {
    /// Rows of the partitions replaced.
    pub(crate) rows_replaced: u64,
    /// Rows now in the new partitions.
    pub(crate) rows_written: u64,
    /// Stored rows whose version ended because their data changed (versioned datasets).
    pub(crate) changed: u64,
    /// Stored rows retired because the load lacks them (versioned datasets).
    pub(crate) retired: u64,
}

/// The filled load table a swap starts from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LoadTable<'a> {
    /// Its bare name, `<table>_load_<backend pid>`.
    pub(crate) bare: &'a str,
    /// The key it was checked for by [`check_key`], if the check is still there.
    pub(crate) checked: Option<&'a str>,
    /// Whether [`build_indexes`] built its indexes (a single-key load).
    pub(crate) indexed: bool,
}

/// Replaces, for every key of the load, the partition by the rows of `load`, then the overview
/// cells of the changed area from `cells` (the loaded rows' counts). `indexes` are the parent's
/// ([`parent_indexes`]). With a versioned dataset's `changeset` (recorded already), the versions
/// each swap ends go into the history first (see `super::history`).
pub(crate) async fn swap_partitions(
    tx: &Transaction<'_>,
    dataset: &Dataset,
    load: LoadTable<'_>,
    keys: &PartitionKeys,
    indexes: &[ParentIndex],
    cells: Option<CellCounts>,
    changeset: Option<&Changeset>,
) -> Result<Swapped, ImportError> {
    let LoadTable { bare: load_bare, checked, indexed } = load;
    let load_table = qualified(dataset, load_bare);
    let parent = geosector_store::table_name(dataset);
    let column = quote_ident(keys.column());
    let geom = dataset.geometry.map(|g| quote_ident(g.column));
    let mut done = Swapped::default();
    let mut changed: Option<[f64; 4]> = None;
    let several = keys.seen.len() > 1;
    // The columns a split copies (generated ones are computed again).
    let stored_columns = if several {
        tx.query_one(
            "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute
             WHERE attrelid = $1::text::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = ''",
            &[&load_table],
        )
        .await?
        .get::<_, String>(0)
    } else {
        String::new()
    };
    for (i, key) in keys.seen.keys().enumerate() {
        if !is_key(key) {
            return Err(ImportError::Database(format!("partition key {key:?} is not two digits")));
        }
        let (table_bare, table) = if several {
            // Split the load by key, each part checked for its key as it is filled; the
            // single-key load (the usual one) is used as it is.
            let part_bare = format!("{load_bare}_{i}");
            let part = qualified(dataset, &part_bare);
            tx.batch_execute(&format!(
                "CREATE TABLE {part} (LIKE {load_table} INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING CONSTRAINTS);
                 ALTER TABLE {part} ADD CHECK ({column} = '{key}');
                 INSERT INTO {part} ({stored_columns}) SELECT {stored_columns} FROM {load_table} WHERE {column} = '{key}'"
            ))
            .await?;
            (part_bare, part)
        } else {
            if checked != Some(key.as_str()) {
                tx.batch_execute(&format!("ALTER TABLE {load_table} ADD CHECK ({column} = '{key}')")).await?;
            }
            (load_bare.to_owned(), load_table.clone())
        };
        if several || !indexed {
            tx.batch_execute(&raise_sort_memory(true)).await?;
            for index in indexes {
                tx.batch_execute(&index.create(dataset, &table_bare)).await?;
            }
        }
        if indexes.iter().any(|i| i.primary) {
            tx.batch_execute(&format!(
                "ALTER TABLE {table} ADD PRIMARY KEY USING INDEX {}",
                quote_ident(&format!("{table_bare}_pkey"))
            ))
            .await?;
        }
        let target = partition_name(dataset, key);
        let exists: bool = tx.query_one("SELECT to_regclass($1) IS NOT NULL", &[&target]).await?.get(0);
        // Where the data change: the loaded rows' box (known from the rows) and the old rows'.
        let mut extent = keys.seen.get(key).and_then(|rows| rows.extent);
        if exists {
            let extent_sql = geom.as_ref().map_or_else(
                || "NULL::float8, NULL::float8, NULL::float8, NULL::float8".to_owned(),
                |g| format!("ST_XMin(ST_Extent({g})), ST_YMin(ST_Extent({g})), ST_XMax(ST_Extent({g})), ST_YMax(ST_Extent({g}))"),
            );
            let old = tx.query_one(&format!("SELECT count(*), {extent_sql} FROM {target}"), &[]).await?;
            done.rows_replaced += u64::try_from(old.get::<_, i64>(0)).unwrap_or(0);
            if let (Some(x0), Some(y0), Some(x1), Some(y1)) = (old.get(1), old.get(2), old.get(3), old.get(4)) {
                let old = [x0, y0, x1, y1];
                extent = Some(extent.map_or(old, |e| union(e, old)));
            }
        }
        changed = match (changed, extent) {
            (Some(c), Some(e)) => Some(union(c, e)),
            (c, e) => c.or(e),
        };
        let extent = extent.map(box2d_text);
        done.rows_written += keys.seen.get(key).map_or(0, |rows| rows.count);
        if exists {
            if let Some(changeset) = changeset {
                let (changed, retired) =
                    history::end_swapped_versions(tx, dataset, &target, &table, keys.column(), key, changeset).await?;
                done.changed += changed;
                done.retired += retired;
            }
            tx.batch_execute(&format!("ALTER TABLE {parent} DETACH PARTITION {target}; DROP TABLE {target}")).await?;
        }
        let bare = format!("{}_p{key}", dataset.table);
        tx.batch_execute(&format!(
            "ALTER TABLE {table} RENAME TO {}; ALTER TABLE {parent} ATTACH PARTITION {target} FOR VALUES IN ('{key}')",
            quote_ident(&bare)
        ))
        .await?;
        tx.execute("SELECT meta.record_change($1, $2, $3::text::box2d)", &[&dataset.schema, &dataset.table, &extent])
            .await?;
    }
    if let (Some(cells), Some(changed)) = (cells, changed) {
        let replaced = keys.seen.keys().cloned().collect::<Vec<_>>();
        cells.write(tx, changed, &replaced).await?;
    }
    if several {
        tx.batch_execute(&format!("DROP TABLE {load_table}")).await?;
    }
    // Rows of the same communes loaded before their province was known (reference data loaded
    // after them) are replaced too: deleted through the parent, so its triggers record it.
    let unknown = Partitioning::UNKNOWN;
    if keys.seen.keys().any(|k| k != unknown) {
        let commune = quote_ident(keys.spec.commune_field);
        let replaced_keys = keys.seen.keys().filter(|k| *k != unknown).cloned().collect::<Vec<_>>();
        let stale = format!(
            "FROM {parent} WHERE {column} = '{unknown}'
             AND {commune} IN (SELECT {commune} FROM {parent} WHERE {column} = ANY($1))"
        );
        // Checked first: a DELETE of nothing would still bump the data version.
        let any: bool = tx.query_one(&format!("SELECT EXISTS (SELECT 1 {stale})"), &[&replaced_keys]).await?.get(0);
        if any {
            done.rows_replaced += tx.execute(&format!("DELETE {stale}"), &[&replaced_keys]).await?;
        }
    }
    Ok(done)
}
