//! Recording reads of personal data in the audit log (`meta.audit`, through
//! `geosector_store::audit`): handlers make an entry when a response holds personal properties
//! or comes from a restricted collection, complete it with the feature ids returned, and hand it
//! to [`AuditLog`], whose task appends entries in batches on its own pooled connection, so a
//! response never waits for its audit row. An entry that cannot be written is logged as an
//! error with its content (never silently lost).

use actix_web::HttpRequest;
use deadpool_postgres::Pool;
use geosector_store::audit::AuditEntry;
use geosector_store::Collection;

use crate::auth::Caller;
use crate::params::KEY_PARAMETER;

/// Entries waiting to be written, at most.
const QUEUE: usize = 10_000;

/// The sending side of the audit log (cheap to clone).
#[derive(Debug, Clone)]
pub struct AuditLog {
    sender: tokio::sync::mpsc::Sender<AuditEntry>,
}

impl AuditLog {
    /// Starts the task that writes entries, and the one that prunes rows older than the
    /// retention (`retention_days`, read again each day: a policy reload changes it) an hour
    /// after start and then daily.
    pub fn start(pool: Pool, retention_days: impl Fn() -> u32 + Send + 'static) -> AuditLog {
        let pruning = pool.clone();
        tokio::spawn(async move {
            let mut daily = tokio::time::interval_at(
                tokio::time::Instant::now() + std::time::Duration::from_secs(3600),
                std::time::Duration::from_secs(24 * 3600),
            );
            loop {
                daily.tick().await;
                let days = retention_days();
                let pruned = match pruning.get().await {
                    Ok(client) => geosector_store::audit::prune(&client, days).await.map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                };
                match pruned {
                    Ok(n) => tracing::info!(rows = n, days, "audit rows past their retention deleted"),
                    Err(error) => tracing::error!(%error, "the audit log could not be pruned"),
                }
            }
        });
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<AuditEntry>(QUEUE);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(256);
            while receiver.recv_many(&mut batch, 256).await > 0 {
                let written = match pool.get().await {
                    Ok(client) => geosector_store::audit::append(&**client, &batch).await.map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                };
                if let Err(error) = written {
                    for entry in &batch {
                        tracing::error!(%error, ?entry, "audit entry not written");
                    }
                }
                batch.clear();
            }
        });
        AuditLog { sender }
    }

    /// Queues an entry.
    pub fn record(&self, entry: AuditEntry) {
        if let Err(e) = self.sender.try_send(entry) {
            tracing::error!(entry = ?e.into_inner(), "audit queue full: entry not written");
        }
    }
}

/// An entry for a read of a collection by a caller (to complete with what it returned).
pub fn read_entry(caller: &Caller, req: &HttpRequest, collection: &Collection, filter: Option<String>) -> AuditEntry {
    let fields = &collection.fields;
    AuditEntry {
        action: "read",
        actor: caller.identity.subject.clone(),
        roles: caller.roles.clone(),
        client: caller.client.clone(),
        method: req.method().to_string(),
        path: path_without_key(req),
        collection: Some(collection.id().to_owned()),
        filter,
        features: 0,
        feature_ids: Vec::new(),
        properties: fields.whole.iter().chain(&fields.masked).map(|p| (*p).to_owned()).collect(),
    }
}

/// Who made a write and how, for its audit rows: an HTTP caller and request, or a local actor
/// (`geosector import --changes`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOrigin {
    /// The actor: a token subject, `key:<id>`, `cli:<user>`.
    pub actor: String,
    /// Its roles.
    pub roles: Vec<String>,
    /// The client's address.
    pub client: Option<String>,
    /// The request's method (or the command).
    pub method: String,
    /// The request's path, less the API key (or the file).
    pub path: String,
}

impl WriteOrigin {
    /// The origin of a request's writes.
    pub fn of(caller: &Caller, req: &HttpRequest) -> WriteOrigin {
        WriteOrigin {
            actor: caller.identity.subject.clone(),
            roles: caller.roles.clone(),
            client: caller.client.clone(),
            method: req.method().to_string(),
            path: path_without_key(req),
        }
    }
}

/// The audit entry of a write: the features written in one collection.
pub fn write_entry(origin: &WriteOrigin, collection: &str, ids: Vec<i64>) -> AuditEntry {
    AuditEntry {
        action: "write",
        actor: origin.actor.clone(),
        roles: origin.roles.clone(),
        client: origin.client.clone(),
        method: origin.method.clone(),
        path: origin.path.clone(),
        collection: Some(collection.to_owned()),
        ..AuditEntry::default()
    }
    .returned(ids)
}

/// The `filter` parameter of a request, as sent.
pub fn filter_of(pairs: &[(String, String)]) -> Option<String> {
    pairs.iter().find(|(k, _)| k == "filter").map(|(_, v)| v.clone())
}

/// The request's path and query, less the API key (a credential never goes into the log).
fn path_without_key(req: &HttpRequest) -> String {
    let pairs: Vec<(String, String)> =
        crate::params::raw_query_pairs(req).into_iter().filter(|(k, _)| k != KEY_PARAMETER).collect();
    if pairs.is_empty() {
        req.path().to_owned()
    } else {
        format!("{}?{}", req.path(), crate::links::query_with(&pairs, &[]))
    }
}
