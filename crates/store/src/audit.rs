//! The audit log in `meta.audit` (migration 0019): one row per read that returned personal data
//! and per write, appended and never changed; rows older than the retention are pruned.

use chrono::{DateTime, Utc};
use tokio_postgres::types::ToSql;
use tokio_postgres::Client;

use crate::Result;

/// One audited access.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditEntry {
    /// `read` or `write`.
    pub action: &'static str,
    /// The token subject, `key:<id>`, or `anonymous`.
    pub actor: String,
    /// The caller's roles.
    pub roles: Vec<String>,
    /// The client's address.
    pub client: Option<String>,
    /// HTTP method (or `import`).
    pub method: String,
    /// Path and query (credentials removed).
    pub path: String,
    /// The collection.
    pub collection: Option<String>,
    /// The request's filter, as sent.
    pub filter: Option<String>,
    /// Features returned or written.
    pub features: i64,
    /// Their ids (when known).
    pub feature_ids: Vec<i64>,
    /// The personal properties returned.
    pub properties: Vec<String>,
}

impl AuditEntry {
    /// The entry with what a read returned: these feature ids.
    #[must_use]
    pub fn returned(mut self, ids: impl IntoIterator<Item = i64>) -> AuditEntry {
        self.feature_ids = ids.into_iter().collect();
        self.features = i64::try_from(self.feature_ids.len()).unwrap_or(i64::MAX);
        self
    }
}

/// A stored audit row.
#[derive(Debug, Clone)]
pub struct AuditRow {
    /// When.
    pub at: DateTime<Utc>,
    /// What was recorded.
    pub entry: AuditEntry,
}

/// Appends entries.
///
/// # Errors
/// A database error.
pub async fn append(client: &impl tokio_postgres::GenericClient, entries: &[AuditEntry]) -> Result<()> {
    let statement = client
        .prepare(
            "INSERT INTO meta.audit (action, actor, roles, client, method, path, collection, filter, features, feature_ids, properties) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .await?;
    for e in entries {
        client
            .execute(
                &statement,
                &[
                    &e.action,
                    &e.actor,
                    &e.roles,
                    &e.client,
                    &e.method,
                    &e.path,
                    &e.collection,
                    &e.filter,
                    &e.features,
                    &e.feature_ids,
                    &e.properties,
                ],
            )
            .await?;
    }
    Ok(())
}

/// What to look for in the log (every part optional).
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// From this time (inclusive).
    pub since: Option<DateTime<Utc>>,
    /// Until this time (exclusive).
    pub until: Option<DateTime<Utc>>,
    /// This actor.
    pub actor: Option<String>,
    /// This collection.
    pub collection: Option<String>,
    /// Accesses that returned one of these feature ids (of `collection` when given).
    pub feature_ids: Vec<i64>,
    /// Most rows, newest first.
    pub limit: i64,
}

/// The rows matching a query, newest first.
///
/// # Errors
/// A database error.
pub async fn query(client: &Client, q: &AuditQuery) -> Result<Vec<AuditRow>> {
    let ids = (!q.feature_ids.is_empty()).then_some(&q.feature_ids);
    let params: [&(dyn ToSql + Sync); 6] = [&q.since, &q.until, &q.actor, &q.collection, &ids, &q.limit];
    let rows = client
        .query(
            "SELECT at, action, actor, roles, client, method, path, collection, filter, features, feature_ids, properties \
             FROM meta.audit \
             WHERE ($1::timestamptz IS NULL OR at >= $1) AND ($2::timestamptz IS NULL OR at < $2) \
               AND ($3::text IS NULL OR actor = $3) AND ($4::text IS NULL OR collection = $4) \
               AND ($5::bigint[] IS NULL OR feature_ids && $5) \
             ORDER BY at DESC, id DESC LIMIT $6",
            &params,
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| AuditRow {
            at: r.get(0),
            entry: AuditEntry {
                action: if r.get::<_, &str>(1) == "write" { "write" } else { "read" },
                actor: r.get(2),
                roles: r.get(3),
                client: r.get(4),
                method: r.get::<_, Option<String>>(5).unwrap_or_default(),
                path: r.get::<_, Option<String>>(6).unwrap_or_default(),
                collection: r.get(7),
                filter: r.get(8),
                features: r.get(9),
                feature_ids: r.get(10),
                properties: r.get(11),
            },
        })
        .collect())
}

/// Deletes the rows older than `days`; returns how many.
///
/// # Errors
/// A database error.
pub async fn prune(client: &Client, days: u32) -> Result<i64> {
    let keep = format!("{days} days");
    Ok(client.query_one("SELECT meta.prune_audit($1::text::interval)", &[&keep]).await?.get(0))
}
