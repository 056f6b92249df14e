//! Running the store's statements on a pooled connection: a statement planned once per shape is
//! prepared once per connection (and cached there); a per-request one is prepared for its one
//! run and not kept, so one-off filters never fill a connection's statement cache. The values
//! are the statement's own, in its own order.

use deadpool_postgres::Object;
use futures_util::TryStreamExt;
use geosector_store::plan::Statement;
use tokio_postgres::{Row, RowStream};

/// Starts a statement and streams its rows.
///
/// # Errors
/// A database error.
pub async fn stream(client: &Object, statement: &Statement) -> Result<RowStream, tokio_postgres::Error> {
    if statement.is_reusable() {
        let prepared = client.prepare_cached(statement.sql()).await?;
        client.query_raw(&prepared, statement.values()).await
    } else {
        client.query_raw(statement.sql(), statement.values()).await
    }
}

/// Runs a statement that returns at most one row, and reads its first row.
///
/// # Errors
/// A database error.
pub async fn one(client: &Object, statement: &Statement) -> Result<Option<Row>, tokio_postgres::Error> {
    let rows = stream(client, statement).await?;
    futures_util::pin_mut!(rows);
    rows.try_next().await
}

/// Runs a statement and reads all its rows (for small results: a list of changes).
///
/// # Errors
/// A database error.
pub async fn all(client: &Object, statement: &Statement) -> Result<Vec<Row>, tokio_postgres::Error> {
    stream(client, statement).await?.try_collect().await
}
