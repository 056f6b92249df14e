//! Load hooks: what a sector needs around an import of one of its datasets, called by the core
//! importer (`geosector-ingest`), which itself never names a sector.
//!
//! A [`LoadHook`] has two moments, both inside the import's transaction (its last one, after a
//! one-province partition swap that commits its load table first to build indexes in parallel):
//! - [`LoadHook::prepare`], before any row is read: it may read what its checks need (e.g. the
//!   known station codes) and return a [`RowCheck`] that the rayon workers run on every row;
//! - [`LoadHook::after_move`], once the accepted rows are in the live table and before the
//!   commit: it refreshes tables derived from them (e.g. air and water quality indices), so the
//!   derived data never get out of step with the rows, and reports what it did ([`HookReport`]).
//!
//! The trait lives here rather than in `geosector-domain` because it takes a transaction, and
//! the domain crate never sees a database driver. A sector crate that has hooks depends on this
//! crate for the trait; the binary's catalogue, the one place that names every sector, builds
//! the hook of a dataset with the sector's settings and hands it to the importer.

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use geosector_domain::{CellValue, Dataset};
use tokio_postgres::Transaction;

/// Why a hook failed. Whatever it is, the import rolls back and stores nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HookError {
    /// A statement of the hook failed.
    #[error(transparent)]
    Db(#[from] tokio_postgres::Error),
    /// Anything else, as a sentence.
    #[error("{0}")]
    Failed(String),
}

/// The future a hook method returns: boxed, so that [`LoadHook`] stays object-safe.
pub type HookFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, HookError>> + Send + 'a>>;

/// Behaviour a sector adds to the import of a dataset.
///
/// Invariants, as the importer calls it:
/// - [`prepare`](LoadHook::prepare) is called once per import (dry runs included), in the
///   import's transaction, after the staging table is created and before the first row is read
///   (COPY then occupies the connection until every row is staged). The [`RowCheck`] it returns
///   is shared read-only by the worker threads for the whole import.
/// - [`after_move`](LoadHook::after_move) is called at most once, in the transaction that makes
///   the load visible (the same as `prepare`'s, except after a one-province partition swap, whose
///   load table is committed first for parallel index builds and swapped in a second one), after
///   every accepted row has moved into the live table and the whole-load rules have passed, and
///   just before the commit. It is not called for a dry run or a rejected load (nothing is
///   moved then). The rows of this load are still readable in the staging table it is given,
///   except after a partition swap, where the load table has itself become the partitions.
/// - An error from either method ends the import without a verdict: the transaction is rolled
///   back and nothing of the load, nor anything the hook wrote, is stored.
pub trait LoadHook: Send + Sync + Debug {
    /// Prepares the per-row check of an import into `dataset`; `None` when rows need none.
    ///
    /// # Errors
    /// [`HookError`] when what the check needs cannot be read; the import rolls back.
    fn prepare<'a>(
        &'a self,
        tx: &'a Transaction<'_>,
        dataset: &'static Dataset,
    ) -> HookFuture<'a, Option<Arc<dyn RowCheck>>>;

    /// Refreshes what derives from the rows just moved into the live table; `staging` is the
    /// quoted name of the table holding the rows of this load (one row per accepted feature,
    /// with the dataset's columns), `None` after a partition swap. Returns the report's section,
    /// if it has one.
    ///
    /// # Errors
    /// [`HookError`] when a statement fails; the import rolls back.
    fn after_move<'a>(
        &'a self,
        tx: &'a Transaction<'_>,
        staging: Option<&'a str>,
    ) -> HookFuture<'a, Option<HookReport>>;
}

/// A per-row check and normaliser, run by the import's worker threads on every row after its
/// fields are parsed and before its geometry is checked. It must not block (no I/O, no lock):
/// it runs on the hot path of a load of millions of rows.
pub trait RowCheck: Send + Sync + Debug {
    /// Checks `cells` (the dataset's fields, in declaration order) and normalises them in place.
    ///
    /// # Errors
    /// [`RowRejection`]: the row is rejected, naming the column at fault.
    fn check(&self, cells: &mut [CellValue]) -> Result<(), RowRejection>;
}

/// Why a [`RowCheck`] rejected a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowRejection {
    /// The column at fault.
    pub column: String,
    /// What is wrong, as a sentence fragment.
    pub message: String,
}

impl RowRejection {
    /// A rejection of `column` because of `message`.
    pub fn new(column: &str, message: String) -> RowRejection {
        RowRejection { column: column.to_owned(), message }
    }
}

/// What [`LoadHook::after_move`] did, for the import report: its own section of the JSON report
/// and one line of the terminal summary.
#[derive(Debug, Clone, PartialEq)]
pub struct HookReport {
    /// The section of the JSON report: an object with these members, in this order.
    pub json: Vec<(&'static str, serde_json::Value)>,
    /// The line of the terminal summary, without its trailing newline.
    pub line: String,
}
