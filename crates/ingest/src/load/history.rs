//! The history of a versioned dataset in an import (issue 19, migrations 0021 and 0022): every
//! import is a changeset, and a replacing import keeps the identity of the features it reloads.
//!
//! The changeset is reserved when the import starts ([`Changeset::reserve`]: its id and time are
//! fixed then) and recorded in the transaction that moves the rows ([`Changeset::record`]), with
//! the import's audit row, so that a failed or rejected import leaves neither.
//!
//! A replacing load is diffed against the stored rows on the dataset's natural key
//! ([`geosector_domain::History::key`]; duplicates of a key are matched by occurrence: stored
//! rows in id order, loaded rows in file order). A matched feature keeps its id; when a data
//! column differs ([`compared_columns`]) it gets the next version, else it keeps its version and
//! makes no history row; stored features the load lacks are retired; the others are new.
//! - Ordinary tables ([`replace_sql`]): the unmatched stored rows are deleted, the changed ones
//!   updated and the new ones inserted, and the row triggers of migration 0021 write the history.
//!   Unchanged rows are not written at all.
//! - A partition swap fires no trigger: the rows COPYed into the load table already carry the id
//!   and version of their match ([`super::identity`]); [`settle_swap_load`] then gives the changed
//!   ones their new version, and [`end_swapped_versions`] writes the history of the changed and
//!   retired rows in one statement before the old partition is dropped.
//!
//! A dataset's GeoHash identifier (the national parcel ID) is kept from the stored row on a
//! reload and is not a data change.
//!
//! Identifiers come from the declarations and the catalogue; every value is bound.

use chrono::{DateTime, NaiveDate, Utc};
use geosector_domain::{Dataset, History};
use geosector_store::quote_ident;
use tokio_postgres::Transaction;

use crate::error::ImportError;

/// The id column of every versioned table.
pub(crate) const ID: &str = "id";
/// The version columns of migration 0021, in the order a swap's load table is filled.
pub(crate) const VERSION_COLUMNS: [&str; 3] = ["version", "version_from", "changeset_id"];

/// What an import's changeset says about the write (`meta.changesets`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangesetInfo {
    /// Who writes: `cli:<user>` for the command line.
    pub actor: String,
    /// The program, e.g. `geosector import`.
    pub client: Option<String>,
    /// The change-type code (brief §9, e.g. `DH` for an administrative-unit change).
    pub change_type: Option<String>,
    /// The legal reference: the decision's number.
    pub reference: Option<String>,
    /// The decision's date.
    pub reference_date: Option<NaiveDate>,
    /// A free note.
    pub note: Option<String>,
}

impl Default for ChangesetInfo {
    fn default() -> Self {
        ChangesetInfo {
            actor: "geosector-ingest".into(),
            client: None,
            change_type: None,
            reference: None,
            reference_date: None,
            note: None,
        }
    }
}

/// An import's changeset, reserved when the import starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Changeset {
    /// Its id.
    pub(crate) id: i64,
    /// Its time: the time of every version the import writes, and the end of every version it
    /// supersedes or retires.
    pub(crate) at: DateTime<Utc>,
}

impl Changeset {
    /// Reserves the id and time of the import's changeset, for a versioned dataset (`None` for
    /// the others).
    pub(crate) async fn reserve(tx: &Transaction<'_>, dataset: &Dataset) -> Result<Option<Changeset>, ImportError> {
        if dataset.history.is_none() {
            return Ok(None);
        }
        let row = tx.query_one("SELECT id, at FROM meta.reserve_changeset()", &[]).await?;
        Ok(Some(Changeset { id: row.get(0), at: row.get(1) }))
    }

    /// Records the changeset (source `import`) and makes it the transaction's, so the row
    /// triggers version what the import writes.
    pub(crate) async fn record(&self, tx: &Transaction<'_>, info: &ChangesetInfo) -> Result<(), ImportError> {
        tx.execute(
            "SELECT FROM meta.begin_reserved_changeset($1, $2, $3, $4, 'import', $5, $6, $7, $8)",
            &[
                &self.id,
                &self.at,
                &info.actor,
                &info.client,
                &info.change_type,
                &info.reference,
                &info.reference_date,
                &info.note,
            ],
        )
        .await?;
        Ok(())
    }

    /// Its time in PostgreSQL's binary `timestamptz`: microseconds since 2000-01-01 UTC.
    pub(crate) fn at_micros(&self) -> i64 {
        pg_micros(self.at)
    }
}

/// A time in PostgreSQL's binary `timestamptz`: microseconds since 2000-01-01 UTC.
pub(crate) fn pg_micros(at: DateTime<Utc>) -> i64 {
    const PG_EPOCH_UNIX_SECONDS: i64 = 946_684_800;
    at.timestamp_micros() - PG_EPOCH_UNIX_SECONDS * 1_000_000
}

/// The columns whose change makes a new version on a reload: the declared fields but the
/// GeoHash identifier, the geometry and its source CRS. The derived columns (the computed area,
/// the tiles' geometry, the first land use, the partition key) follow from these, and the
/// bookkeeping ones (`imported_at`, the version columns) are not data: the same notion as the
/// row trigger's (migration 0021).
pub(crate) fn compared_columns(dataset: &Dataset) -> Vec<&'static str> {
    let kept = kept_column(dataset);
    let mut columns: Vec<&'static str> = dataset.fields.iter().map(|f| f.column).filter(|c| Some(*c) != kept).collect();
    if let Some(g) = dataset.geometry {
        columns.push(g.column);
        columns.extend(g.source_srid_column);
    }
    columns
}

/// The column whose stored value a reload keeps (the GeoHash identifier), if any.
pub(crate) fn kept_column(dataset: &Dataset) -> Option<&'static str> {
    dataset.history.and_then(|h| h.geohash_id).map(|id| id.column)
}

/// `ROW(a.c1, …) IS DISTINCT FROM ROW(b.c1, …)` over `columns`.
fn differ(a: &str, b: &str, columns: &[&str]) -> String {
    let list =
        |alias: &str| columns.iter().map(|c| format!("{alias}.{}", quote_ident(c))).collect::<Vec<_>>().join(", ");
    format!("ROW({}) IS DISTINCT FROM ROW({})", list(a), list(b))
}

/// `ROW(a.c1, …) IS NOT DISTINCT FROM ROW(b.c1, …)` over `columns`.
fn same(a: &str, b: &str, columns: &[&str]) -> String {
    let list =
        |alias: &str| columns.iter().map(|c| format!("{alias}.{}", quote_ident(c))).collect::<Vec<_>>().join(", ");
    format!("ROW({}) IS NOT DISTINCT FROM ROW({})", list(a), list(b))
}

/// Raises `work_mem` for the transaction to 256 MB (never lowers it): the diff's joins hash a
/// province's ids.
pub(crate) const RAISE_WORK_MEM: &str = "SELECT set_config('work_mem', '256MB', true)
     WHERE pg_size_bytes(current_setting('work_mem')) < pg_size_bytes('256MB')";

/// The statements of a replacing import into an ordinary versioned table, run in order on the
/// filled staging table (`staging`, with the sequence column `seq`) after the changeset is
/// recorded: the triggers write the history. Each returns one row of `bigint` counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReplaceSql {
    /// Matches stored and staged rows (a temporary table, for datasets without a conflict key).
    pub(crate) prepare: Option<String>,
    /// Deletes the stored rows the load lacks (retired).
    pub(crate) retire: String,
    /// Writes the changed rows and inserts the new ones: (new, changed, unchanged).
    pub(crate) write: String,
}

/// The temporary table matching stored and staged rows of a replacing import.
const MATCHES: &str = "geosector_matches";

/// The statements of a replacing import into an ordinary versioned table: delete the missing,
/// update the changed (only those), insert the new. `columns` are the columns the load writes,
/// `staging` the staging table and `seq` its sequence column. A dataset with a conflict key
/// (which is its natural key) upserts on it, the last occurrence of a key in the load winning;
/// the others match on the natural key by occurrence.
pub(crate) fn replace_sql(
    dataset: &Dataset,
    history: History,
    columns: &[&str],
    staging: &str,
    seq: &str,
) -> ReplaceSql {
    let target = geosector_store::table_name(dataset);
    let compared = compared_columns(dataset);
    let kept = kept_column(dataset);
    let list = columns.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ");
    let id = quote_ident(ID);
    match dataset.conflict_key {
        Some(key) => {
            let retire = format!(
                "WITH gone AS (DELETE FROM {target} AS t WHERE NOT EXISTS (SELECT 1 FROM {staging} AS s WHERE {}) RETURNING 1)
                 SELECT count(*) FROM gone",
                same("s", "t", key)
            );
            ReplaceSql { prepare: None, retire, write: upsert_sql(dataset, key, columns, staging, seq) }
        }
        None => {
            let key = history.key;
            let key_list = key.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ");
            let prepare = format!(
                "DROP TABLE IF EXISTS {MATCHES};
                 CREATE TEMP TABLE {MATCHES} ON COMMIT DROP AS
                 SELECT s.{seq}, t.{id} FROM
                     (SELECT {seq}, {key_list}, row_number() OVER (PARTITION BY {key_list} ORDER BY {seq}) AS occurrence FROM {staging}) AS s
                     JOIN (SELECT {id}, {key_list}, row_number() OVER (PARTITION BY {key_list} ORDER BY {id}) AS occurrence FROM {target}) AS t
                     ON {} AND s.occurrence = t.occurrence;
                 CREATE INDEX ON {MATCHES} ({seq}); CREATE INDEX ON {MATCHES} ({id})",
                same("s", "t", key)
            );
            let retire = format!(
                "WITH gone AS (DELETE FROM {target} AS t WHERE NOT EXISTS (SELECT 1 FROM {MATCHES} AS m WHERE m.{id} = t.{id}) RETURNING 1)
                 SELECT count(*) FROM gone"
            );
            let sets = columns
                .iter()
                .map(|c| match kept {
                    Some(k) if k == *c => format!("{0} = coalesce(t.{0}, s.{0})", quote_ident(c)),
                    _ => format!("{0} = s.{0}", quote_ident(c)),
                })
                .chain(std::iter::once("imported_at = now()".to_owned()))
                .collect::<Vec<_>>()
                .join(", ");
            let write = format!(
                "WITH changed AS (
                     UPDATE {target} AS t SET {sets} FROM {MATCHES} AS m JOIN {staging} AS s ON s.{seq} = m.{seq}
                     WHERE t.{id} = m.{id} AND {differ} RETURNING 1),
                 new AS (
                     INSERT INTO {target} ({list}) SELECT {list} FROM {staging} AS s
                     WHERE NOT EXISTS (SELECT 1 FROM {MATCHES} AS m WHERE m.{seq} = s.{seq}) ORDER BY s.{seq} RETURNING 1)
                 SELECT (SELECT count(*) FROM new), (SELECT count(*) FROM changed),
                        (SELECT count(*) FROM {MATCHES}) - (SELECT count(*) FROM changed)",
                differ = differ("t", "s", &compared)
            );
            ReplaceSql { prepare: Some(prepare), retire, write }
        }
    }
}

/// The upsert of a versioned dataset on its conflict key: the last occurrence of a key in the
/// load wins, and a stored row is updated only when its data differ (an unchanged row is not
/// written, and no trigger fires for it). Returns (new, changed, unchanged).
pub(crate) fn upsert_sql(dataset: &Dataset, key: &[&str], columns: &[&str], staging: &str, seq: &str) -> String {
    let target = geosector_store::table_name(dataset);
    let list = columns.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ");
    let key_list = key.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ");
    let kept = kept_column(dataset);
    let updates = columns
        .iter()
        .filter(|c| !key.contains(c))
        .map(|c| match kept {
            Some(k) if k == *c => format!("{0} = coalesce({target}.{0}, EXCLUDED.{0})", quote_ident(c)),
            _ => format!("{0} = EXCLUDED.{0}", quote_ident(c)),
        })
        .chain(std::iter::once("imported_at = now()".to_owned()))
        .collect::<Vec<_>>()
        .join(", ");
    let compared = compared_columns(dataset);
    let stored = compared.iter().map(|c| format!("{target}.{}", quote_ident(c))).collect::<Vec<_>>().join(", ");
    let excluded = compared.iter().map(|c| format!("EXCLUDED.{}", quote_ident(c))).collect::<Vec<_>>().join(", ");
    format!(
        "WITH written AS (
             INSERT INTO {target} ({list}) SELECT {list} FROM (SELECT DISTINCT ON ({key_list}) * FROM {staging} ORDER BY {key_list}, {seq} DESC) AS last
             ON CONFLICT ({key_list}) DO UPDATE SET {updates} WHERE ROW({stored}) IS DISTINCT FROM ROW({excluded})
             RETURNING (xmax = 0) AS inserted)
         SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted),
                (SELECT count(*) FROM (SELECT DISTINCT {key_list} FROM {staging}) AS keys) - count(*) FROM written"
    )
}

/// Gives the changed rows of a swap's load table their new version, and every matched row the
/// stored GeoHash identifier, from the stored partition `stored` (qualified, quoted). The rows
/// were COPYed with their match's id and version ([`super::identity`]); a changed row gets the
/// next version, from the changeset. Returns how many rows changed.
pub(crate) async fn settle_swap_load(
    tx: &Transaction<'_>,
    dataset: &Dataset,
    load: &str,
    stored: &str,
    changeset: &Changeset,
) -> Result<u64, ImportError> {
    let changed = differ("o", "l", &compared_columns(dataset));
    let id = quote_ident(ID);
    let [version, version_from, changeset_id] = VERSION_COLUMNS.map(quote_ident);
    let (keep, kept_differs) = match kept_column(dataset) {
        Some(k) => {
            let k = quote_ident(k);
            (
                format!(", {k} = coalesce(o.{k}, l.{k})"),
                format!(" OR (o.{k} IS NOT NULL AND o.{k} IS DISTINCT FROM l.{k})"),
            )
        }
        None => (String::new(), String::new()),
    };
    let sql = format!(
        "WITH settled AS (
             UPDATE {load} AS l SET
                 {version} = CASE WHEN {changed} THEN o.{version} + 1 ELSE l.{version} END,
                 {version_from} = CASE WHEN {changed} THEN $1 ELSE l.{version_from} END,
                 {changeset_id} = CASE WHEN {changed} THEN $2 ELSE l.{changeset_id} END{keep}
             FROM {stored} AS o
             WHERE o.{id} = l.{id} AND ({changed}{kept_differs})
             RETURNING l.{changeset_id} IS NOT DISTINCT FROM $2 AS changed)
         SELECT count(*) FILTER (WHERE changed) FROM settled"
    );
    tx.batch_execute(RAISE_WORK_MEM).await?;
    let row = tx.query_one(&sql, &[&changeset.at, &changeset.id]).await?;
    Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
}

/// Before a swap drops the stored partition `stored`: refuses when it changed since the import
/// began (a write after the changeset's time would be lost), then copies into the history the
/// versions the swap ends: the stored rows whose match in `loaded` (the filled table swapped in)
/// changed, and those without a match (retired). Returns (changed, retired).
pub(crate) async fn end_swapped_versions(
    tx: &Transaction<'_>,
    dataset: &Dataset,
    stored: &str,
    loaded: &str,
    key_column: &str,
    key: &str,
    changeset: &Changeset,
) -> Result<(u64, u64), ImportError> {
    let history = format!("{}.{}", quote_ident(dataset.schema), quote_ident(&History::table(dataset)));
    let id = quote_ident(ID);
    let [_, version_from, changeset_id] = VERSION_COLUMNS.map(quote_ident);
    tx.batch_execute(&format!("LOCK TABLE {stored} IN SHARE ROW EXCLUSIVE MODE")).await?;
    let moved: bool = tx
        .query_one(
            &format!(
                "SELECT EXISTS (SELECT 1 FROM {stored} WHERE {version_from} >= $1)
                     OR EXISTS (SELECT 1 FROM {history} WHERE version_to >= $1 AND {} = $2)",
                quote_ident(key_column)
            ),
            &[&changeset.at, &key],
        )
        .await?
        .get(0);
    if moved {
        return Err(ImportError::Database(format!(
            "{}: partition {key} was written while this import ran; nothing was stored: run the import again",
            dataset.id
        )));
    }
    // The history's columns but its own three, all of which the stored partition has.
    let lists = tx
        .query_one(
            "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum),
                    string_agg('o.' || quote_ident(attname), ', ' ORDER BY attnum)
             FROM pg_attribute
             WHERE attrelid = $1::text::regclass AND attnum > 0 AND NOT attisdropped
               AND attname NOT IN ('version_to', 'ended_by', 'retired')",
            &[&history],
        )
        .await?;
    let (columns, copied): (String, String) = (lists.get(0), lists.get(1));
    let sql = format!(
        "WITH ended AS (
             INSERT INTO {history} ({columns}, version_to, ended_by, retired)
             SELECT {copied}, $1, $2, l.{id} IS NULL FROM {stored} AS o LEFT JOIN {loaded} AS l ON l.{id} = o.{id}
             WHERE l.{id} IS NULL OR l.{changeset_id} = $2
             RETURNING retired)
         SELECT count(*) FILTER (WHERE NOT retired), count(*) FILTER (WHERE retired) FROM ended"
    );
    tx.batch_execute(RAISE_WORK_MEM).await?;
    let row = tx.query_one(&sql, &[&changeset.at, &changeset.id]).await?;
    let count = |i| u64::try_from(row.get::<_, i64>(i)).unwrap_or(0);
    Ok((count(0), count(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compared_columns_leave_out_the_kept_identifier_and_derived_columns() {
        let columns = compared_columns(&geosector_land::PARCELS);
        assert!(columns.contains(&"parcel_number") && columns.contains(&"geom") && columns.contains(&"source_srid"));
        for derived in ["national_id", "computed_area_m2", "main_land_use", "province_code", "imported_at", "version"] {
            assert!(!columns.contains(&derived), "{derived}");
        }
        assert_eq!(kept_column(&geosector_land::PARCELS), Some("national_id"));
    }

    #[test]
    fn a_replace_updates_only_rows_whose_data_differ() {
        let dataset = geosector_land::MAP_SHEETS;
        let history = dataset.history.unwrap();
        let sql = replace_sql(&dataset, history, &dataset.columns(), "geosector_staging", "geosector_seq");
        assert!(sql
            .prepare
            .unwrap()
            .contains("row_number() OVER (PARTITION BY \"commune_code\", \"sheet_number\" ORDER BY \"id\")"));
        assert!(sql.write.contains("IS DISTINCT FROM"), "{}", sql.write);
        assert!(sql.retire.starts_with("WITH gone AS (DELETE"), "{}", sql.retire);
    }

    #[test]
    fn times_are_counted_from_postgresqls_epoch() {
        let at = DateTime::parse_from_rfc3339("2000-01-01T00:00:01.000002Z").unwrap().with_timezone(&Utc);
        assert_eq!(pg_micros(at), 1_000_002);
    }
}
