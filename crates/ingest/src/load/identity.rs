//! The identity of the rows a partition swap loads (issue 19): each row is COPYed with the id
//! and version of the stored feature it matches, so that the table swapped in keeps every
//! feature's id without a second write of the province.
//!
//! When the first row of a partition key comes, the stored partition's rows are read (streamed)
//! as a 128-bit hash of (partition key, natural key) with their id and version columns, about
//! 48 bytes a row, sorted by (hash, id). Each loaded row then takes the first stored row of its
//! hash not taken yet: duplicates of a key match in stored id order and file order. A row
//! without a match gets a new id from the table's sequence (reserved in blocks) and version 1
//! of the import's changeset. Which matched rows changed is settled in SQL after COPY
//! ([`super::history::settle_swap_load`]).
//!
//! Natural-key values are compared as text: text and code fields as they are, integers in
//! decimal, dates as `YYYY-MM-DD`, the same in Rust and in SQL.

use std::collections::BTreeSet;
use std::hash::{BuildHasher, Hasher};

use futures_util::TryStreamExt;
use geosector_domain::{CellValue, Dataset, FieldType};
use geosector_store::quote_ident;
use tokio_postgres::types::ToSql;
use tokio_postgres::Transaction;

use super::history::{pg_micros, Changeset, ID, VERSION_COLUMNS};
use crate::checked::Row;
use crate::error::ImportError;

/// The id and version columns a loaded row is COPYed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Identity {
    /// `id`.
    pub(crate) id: i64,
    /// `version`.
    pub(crate) version: i32,
    /// `version_from`, in PostgreSQL's binary `timestamptz` (µs since 2000-01-01 UTC).
    pub(crate) version_from: i64,
    /// `changeset_id` (0: none, a version written without a changeset).
    pub(crate) changeset_id: i64,
}

/// One stored row: the hash of its keys, its identity, and whether a loaded row took it.
#[derive(Debug, Clone, Copy)]
struct Stored {
    hash: [u64; 2],
    identity: Identity,
    taken: bool,
}

/// The first new-id block reserved, and the largest (blocks double).
const FIRST_BLOCK: usize = 4096;
const LARGEST_BLOCK: usize = 262_144;

/// Seeds of the two halves of a key's 128-bit hash.
const SEEDS: [u64; 2] = [0x6765_6f73_6563_746f, 0x6964_656e_7469_7479];

/// The stored identities of the partitions a swap replaces, and the new ids it hands out.
#[derive(Debug)]
pub(crate) struct Identities {
    dataset: &'static Dataset,
    /// Positions of the natural key's fields among the dataset's fields.
    key_fields: Vec<usize>,
    /// The stored rows of the partitions read so far, sorted by (hash, id).
    stored: Vec<Stored>,
    /// The partition keys whose stored rows were read.
    read: BTreeSet<String>,
    /// New ids reserved and not handed out yet (handed out from the end).
    fresh: Vec<i64>,
    /// The size of the next block of new ids.
    block: usize,
    /// The import's changeset.
    changeset: Changeset,
    /// How many loaded rows got a new id.
    pub(crate) new: u64,
}

impl Identities {
    /// For a versioned dataset's swap (`None` otherwise).
    ///
    /// # Errors
    /// [`ImportError::Database`] when the natural key names a field the dataset lacks.
    pub(crate) fn new(
        dataset: &'static Dataset,
        changeset: Option<Changeset>,
    ) -> Result<Option<Identities>, ImportError> {
        let (Some(history), Some(changeset)) = (dataset.history, changeset) else { return Ok(None) };
        let key_fields = history
            .key
            .iter()
            .map(|c| {
                dataset.fields.iter().position(|f| f.column == *c).ok_or_else(|| {
                    ImportError::Database(format!("{}: natural key column {c} is not a field", dataset.id))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(Identities {
            dataset,
            key_fields,
            stored: Vec::new(),
            read: BTreeSet::new(),
            fresh: Vec::new(),
            block: FIRST_BLOCK,
            changeset,
            new: 0,
        }))
    }

    /// The import's changeset.
    pub(crate) fn changeset(&self) -> &Changeset {
        &self.changeset
    }

    /// The import's changeset's id.
    pub(crate) fn changeset_id(&self) -> i64 {
        self.changeset.id
    }

    /// Whether a row of partition `key` needs the connection first: to read the stored rows of
    /// its partition, or to reserve new ids. No COPY may be open then.
    pub(crate) fn needs_database(&self, key: &str) -> bool {
        !self.read.contains(key) || self.fresh.is_empty()
    }

    /// Reads the stored rows of partition `key` (`partition`: its qualified, quoted name) if not
    /// read yet, and reserves new ids if none are left.
    ///
    /// # Errors
    /// [`ImportError::Database`] when PostgreSQL refuses.
    pub(crate) async fn prepare(
        &mut self,
        tx: &Transaction<'_>,
        key: &str,
        partition: &str,
    ) -> Result<(), ImportError> {
        if !self.read.contains(key) {
            self.read_partition(tx, key, partition).await?;
            self.read.insert(key.to_owned());
        }
        if self.fresh.is_empty() {
            // Handed out from the end: the smallest ids first.
            let row = tx
                .query_one(
                    "SELECT array_agg(nextval(pg_get_serial_sequence($2, $3)) ORDER BY i DESC)
                     FROM generate_series(1, $1) AS i",
                    &[&i32::try_from(self.block).unwrap_or(i32::MAX), &geosector_store::table_name(self.dataset), &ID],
                )
                .await?;
            self.fresh = row.get(0);
            self.block = (self.block * 2).min(LARGEST_BLOCK);
        }
        Ok(())
    }

    /// Reads the stored rows of one partition, if it exists.
    async fn read_partition(&mut self, tx: &Transaction<'_>, key: &str, partition: &str) -> Result<(), ImportError> {
        let exists: bool = tx.query_one("SELECT to_regclass($1) IS NOT NULL", &[&partition]).await?.get(0);
        if !exists {
            return Ok(());
        }
        let key_list = self
            .key_fields
            .iter()
            .map(|&i| {
                let field = &self.dataset.fields[i];
                let column = quote_ident(field.column);
                match field.kind {
                    FieldType::Date => format!("to_char({column}, 'YYYY-MM-DD')"),
                    _ => format!("{column}::text"),
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        let [version, version_from, changeset_id] = VERSION_COLUMNS.map(quote_ident);
        let id = quote_ident(ID);
        let sql = format!(
            "SELECT {id}, {version}, {version_from}, {changeset_id}, {key_list} FROM {partition} ORDER BY {id}"
        );
        let no_params: [&(dyn ToSql + Sync); 0] = [];
        let rows = tx.query_raw(&sql, no_params).await?;
        futures_util::pin_mut!(rows);
        let n = self.key_fields.len();
        while let Some(row) = rows.try_next().await? {
            let parts: Vec<Option<&str>> = (0..n).map(|i| row.get(4 + i)).collect();
            let at: chrono::DateTime<chrono::Utc> = row.get(2);
            self.stored.push(Stored {
                hash: key_hash(key, &parts),
                identity: Identity {
                    id: row.get(0),
                    version: row.get(1),
                    version_from: pg_micros(at),
                    changeset_id: row.get::<_, Option<i64>>(3).unwrap_or(0),
                },
                taken: false,
            });
        }
        self.stored.sort_unstable_by_key(|s| (s.hash, s.identity.id));
        tracing::info!(dataset = self.dataset.id, partition = key, rows = self.stored.len(), "stored identities read");
        Ok(())
    }

    /// The identity of a loaded row of partition `key`: its match's, else a new id (version 1 of
    /// the changeset). [`Identities::prepare`] must have run for the key since the last new id.
    pub(crate) fn assign(&mut self, key: &str, row: &Row) -> Option<Identity> {
        let texts: Vec<Option<String>> = self.key_fields.iter().map(|&i| key_text(row.cells.get(i))).collect();
        let parts: Vec<Option<&str>> = texts.iter().map(Option::as_deref).collect();
        let hash = key_hash(key, &parts);
        let first = self.stored.partition_point(|s| s.hash < hash);
        if let Some(stored) = self.stored[first..].iter_mut().take_while(|s| s.hash == hash).find(|s| !s.taken) {
            stored.taken = true;
            return Some(stored.identity);
        }
        let id = self.fresh.pop()?;
        self.new += 1;
        Some(Identity { id, version: 1, version_from: self.changeset.at_micros(), changeset_id: self.changeset.id })
    }
}

/// A natural-key value as text (see the module doc); `None` for NULL.
fn key_text(cell: Option<&CellValue>) -> Option<String> {
    match cell? {
        CellValue::Null => None,
        CellValue::Text(s) => Some(s.clone()),
        CellValue::Integer(v) => Some(v.to_string()),
        CellValue::Date(d) => Some(d.format("%Y-%m-%d").to_string()),
        other => Some(format!("{other:?}")),
    }
}

/// The 128-bit hash of a partition key and a natural key's parts: two 64-bit foldhash quality
/// hashes with fixed seeds (a false match needs a 128-bit collision).
fn key_hash(partition: &str, parts: &[Option<&str>]) -> [u64; 2] {
    SEEDS.map(|seed| {
        let mut h = foldhash::quality::FixedState::with_seed(seed).build_hasher();
        h.write(partition.as_bytes());
        h.write_u8(0xff);
        for part in parts {
            match part {
                Some(text) => {
                    h.write_u8(1);
                    h.write_usize(text.len());
                    h.write(text.as_bytes());
                }
                None => h.write_u8(0),
            }
        }
        h.finish()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_hash_by_their_text_and_nulls_differ_from_empty_text() {
        let cells = [CellValue::Text("00376".into()), CellValue::Integer(12), CellValue::Text("45".into())];
        let parts: Vec<Option<String>> = cells.iter().map(|c| key_text(Some(c))).collect();
        let parts: Vec<Option<&str>> = parts.iter().map(Option::as_deref).collect();
        assert_eq!(key_hash("01", &parts), key_hash("01", &[Some("00376"), Some("12"), Some("45")]));
        assert_ne!(key_hash("01", &parts), key_hash("02", &parts), "the partition is part of the key");
        assert_ne!(key_hash("01", &[Some(""), None]), key_hash("01", &[None, Some("")]));
        assert_ne!(key_hash("01", &[Some("1"), Some("23")]), key_hash("01", &[Some("12"), Some("3")]));
        let date = chrono::NaiveDate::from_ymd_opt(2024, 8, 1).unwrap();
        assert_eq!(key_text(Some(&CellValue::Date(date))).as_deref(), Some("2024-08-01"));
    }
}
