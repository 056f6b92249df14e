//! The change feed: data versions pushed by PostgreSQL instead of asked for on every request.
//!
//! Migration 0008 makes the version trigger send `NOTIFY geosector_data, '<schema>.<table>
//! <version>'` in the transaction that changed the table, so the notification arrives at
//! commit. One dedicated connection (outside the pool) listens; after `LISTEN` it reads every
//! version once, so nothing committed in between is missed. While the feed is live, a tile
//! served from the cache costs no database round trip. While it is down (the connection broke,
//! it reconnects with a back-off), [`ChangeFeed::version`] answers `None` and callers read the
//! version from the database as before: never a stale answer for long, only a slower one.
//!
//! What "exact" means here: a request that arrives after the notification was delivered sees
//! the change. The delivery takes well under a millisecond after commit on a local database;
//! [`ChangeFeed::version`] is also exported in `/metrics` so a test or an operator can see it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use tokio_postgres::{AsyncMessage, NoTls};

/// The channel the version trigger notifies.
pub const CHANNEL: &str = "geosector_data";

/// Data versions by table (`schema.table`), kept current by notifications.
#[derive(Debug, Default)]
pub struct ChangeFeed {
    live: AtomicBool,
    versions: HashMap<String, AtomicI64>,
}

impl ChangeFeed {
    /// A feed for these tables (`schema.table`); not live until [`ChangeFeed::run`] connects.
    pub fn new(tables: impl IntoIterator<Item = String>) -> ChangeFeed {
        ChangeFeed {
            live: AtomicBool::new(false),
            versions: tables.into_iter().map(|t| (t, AtomicI64::new(0))).collect(),
        }
    }

    /// The table's current data version, when the feed is live and knows the table.
    pub fn version(&self, table: &str) -> Option<i64> {
        if !self.live.load(Ordering::Acquire) {
            return None;
        }
        self.versions.get(table).map(|v| v.load(Ordering::Acquire))
    }

    /// Whether notifications are being received.
    pub fn is_live(&self) -> bool {
        self.live.load(Ordering::Acquire)
    }

    /// Every known version (for `/metrics`).
    pub fn snapshot(&self) -> Vec<(String, i64)> {
        let mut all: Vec<(String, i64)> =
            self.versions.iter().map(|(t, v)| (t.clone(), v.load(Ordering::Acquire))).collect();
        all.sort();
        all
    }

    fn record(&self, table: &str, version: i64) {
        if let Some(v) = self.versions.get(table) {
            v.fetch_max(version, Ordering::AcqRel);
        }
    }

    /// Listens until the process ends, reconnecting after a failure (1 s, doubling to 5 s, so
    /// that it is live again within seconds of the database's return). One warning per outage:
    /// the failed attempts while the database stays away are not logged one by one.
    pub async fn run(self: Arc<Self>, config: tokio_postgres::Config) {
        let mut pause = Duration::from_secs(1);
        let mut failed_attempts = 0_u64;
        loop {
            let outcome = self.listen(&config).await;
            let had_connected = self.live.swap(false, Ordering::AcqRel);
            match outcome {
                Ok(()) => pause = Duration::from_secs(1),
                Err(e) if had_connected || failed_attempts == 0 => {
                    tracing::warn!(error = %e, "change feed: connection lost; versions are read per request meanwhile");
                    failed_attempts = 1;
                    pause = Duration::from_secs(1);
                }
                Err(e) => {
                    failed_attempts += 1;
                    tracing::debug!(error = %e, failed_attempts, "change feed: still reconnecting");
                }
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(5));
        }
    }

    /// One connection's life: LISTEN, read every version, then apply notifications.
    async fn listen(&self, config: &tokio_postgres::Config) -> Result<(), tokio_postgres::Error> {
        let (client, mut connection) = config.connect(NoTls).await?;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let driver = tokio::spawn(async move {
            let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
            while let Some(message) = messages.next().await {
                match message {
                    Ok(AsyncMessage::Notification(n)) => {
                        if tx.send(Ok(n.payload().to_owned())).is_err() {
                            break;
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        break;
                    }
                }
            }
        });
        client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
        for row in
            client.query("SELECT schema_name || '.' || table_name, version FROM meta.table_versions", &[]).await?
        {
            self.record(row.get(0), row.get(1));
        }
        self.live.store(true, Ordering::Release);
        tracing::info!("change feed: listening");
        while let Some(message) = rx.recv().await {
            let payload = message?;
            match payload.rsplit_once(' ').and_then(|(t, v)| Some((t, v.parse::<i64>().ok()?))) {
                Some((table, version)) => self.record(table, version),
                None => tracing::warn!(%payload, "change feed: unreadable notification"),
            }
        }
        driver.abort();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_only_move_forward_and_only_while_live() {
        let feed = ChangeFeed::new(["land.parcels".to_owned()]);
        feed.record("land.parcels", 5);
        assert_eq!(feed.version("land.parcels"), None, "not live: callers ask the database");
        feed.live.store(true, Ordering::Release);
        feed.record("land.parcels", 3);
        assert_eq!(feed.version("land.parcels"), Some(5), "a late, older notification is ignored");
        feed.record("other.table", 9);
        assert_eq!(feed.version("other.table"), None);
    }
}
