//! The live facts of a table, read cheaply: its data version and last change (migration 0006's
//! `meta.table_versions`, one query for all tables), its row count (exact below
//! [`EXACT_COUNT_BELOW`] rows, PostgreSQL's estimate above, so a 1M-row table costs no scan;
//! none for a view, which counting would run whole),
//! its spatial extent (the registry's, recomputed only when the data version moved) and the
//! range of its time property. Identifiers come from the declarations; nothing else is spliced.

use std::collections::HashMap;

use geosector_domain::CollectionDecl;
use geosector_store::{quote_ident, Collection};
use tokio_postgres::Client;

use crate::build::TableFacts;
use crate::CatalogueError;

/// Tables estimated at this many rows or more are not counted exactly.
pub const EXACT_COUNT_BELOW: f64 = 100_000.0;

/// Every table's data version and last change, by `schema.table`.
///
/// # Errors
/// A database error.
pub async fn versions(client: &Client) -> Result<HashMap<String, (i64, String)>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT schema_name || '.' || table_name, version,
                    to_char(changed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
             FROM meta.table_versions",
            &[],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), (r.get(1), r.get(2)))).collect())
}

/// The planner's row estimate of a table (summed over the leaves of a partitioned one) and its
/// kind (`v` for a view, which has no estimate and is not counted).
const ESTIMATE_SQL: &str = "SELECT coalesce(
    (SELECT sum(greatest(c.reltuples, 0)) FROM pg_partition_tree($1::text::regclass) t JOIN pg_class c ON c.oid = t.relid WHERE t.isleaf),
    (SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = $1::text::regclass))::float8,
    (SELECT relkind::text FROM pg_class WHERE oid = $1::text::regclass)";

/// The facts of one table: `collection` (the registry's, when it is published) gives its
/// extent, `datetime` its time property.
///
/// # Errors
/// A database error.
pub async fn table_facts(
    client: &Client,
    schema: &str,
    table: &str,
    version: Option<&(i64, String)>,
    collection: Option<&Collection>,
    datetime: Option<&CollectionDecl>,
) -> Result<TableFacts, CatalogueError> {
    let name = format!("{}.{}", quote_ident(schema), quote_ident(table));
    let row = client.query_one(ESTIMATE_SQL, &[&name]).await?;
    let (estimate, kind): (f64, Option<String>) = (row.get(0), row.get(1));
    let (rows, rows_estimated) = if kind.as_deref() == Some("v") {
        // A view: counting it would run its whole query.
        (None, false)
    } else if estimate >= EXACT_COUNT_BELOW {
        #[expect(clippy::cast_possible_truncation, reason = "a row estimate fits an i64")]
        let rows = estimate.round() as i64;
        (Some(rows), true)
    } else {
        let count: i64 = client.query_one(&format!("SELECT count(*) FROM {name}"), &[]).await?.get(0);
        (Some(count), false)
    };
    let (v, changed_at) = version.cloned().map_or((0, None), |(v, at)| (v, Some(at)));
    let bbox = match collection {
        Some(c) => c.extent_at(client, v).await.map_err(|e| CatalogueError::Store(e.to_string()))?,
        None => None,
    };
    let time = match datetime.and_then(|c| c.datetime) {
        Some(column) => {
            let c = quote_ident(column);
            let row = client
                .query_one(
                    &format!("SELECT to_char(min({c}), 'YYYY-MM-DD'), to_char(max({c}), 'YYYY-MM-DD') FROM {name}"),
                    &[],
                )
                .await?;
            let (a, b): (Option<String>, Option<String>) = (row.get(0), row.get(1));
            (a.is_some() || b.is_some()).then_some((a, b))
        }
        None => None,
    };
    Ok(TableFacts { version: v, changed_at, rows, rows_estimated, bbox, time })
}
