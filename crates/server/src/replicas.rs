//! Reads on streaming replicas, writes on the primary, and never a stale answer.
//!
//! The server has one pool on the primary (writes, the audit log, the change feed, packages)
//! and one per replica. A read ([`Reads::get`]) goes to a replica only when that replica has
//! replayed everything committed before the request arrived; otherwise — or when no replica
//! answers — to the primary.
//!
//! "Everything committed before the request arrived" is known by a *read fence*: a query on the
//! primary, started after the request arrived, that reads `pg_current_wal_insert_lsn()` and the
//! data versions (`meta.table_versions`). Whatever commit a client saw acknowledged before
//! sending its request (a CLI import, an edit through this or another instance) has its commit
//! record at or before that LSN, and a replica whose `pg_last_wal_replay_lsn()` is at or past it
//! has replayed it. Concurrent requests share one fence query: a request waits for the first
//! fence query that *started* after it arrived, so under load the primary sees one tiny query
//! per round trip, not one per request. The insert position (not the write position) is used
//! because an acknowledged commit may not be written yet under `synchronous_commit = off`.
//!
//! Why not the change feed's LSN alone: a notification reaches the server a little after the
//! commit is acknowledged, so a request sent right after an import returns could be answered
//! from a replica before the feed heard of it. The fence has no such window. The data versions
//! it reads serve the tile cache the same way (a cached tile is checked against the version the
//! fence read, not the one the feed last heard), so a cache hit is exact too.
//!
//! Each replica is watched once a second (`pg_last_wal_replay_lsn()`); a replica that does not
//! answer, or is not in recovery, is skipped until it answers again, and `/health` says which.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use deadpool_postgres::{Object, Pool, PoolError};

/// Size of a WAL page header (`SizeOfXLogShortPHD`) and of the long one at a segment's start
/// (`SizeOfXLogLongPHD`), and the default page and segment sizes.
const SHORT_HEADER: u64 = 24;
const LONG_HEADER: u64 = 40;
const PAGE: u64 = 8192;
const SEGMENT: u64 = 16 * 1024 * 1024;

/// The LSN a replica must have replayed: the insert position read by the fence, moved back over
/// a page header it may point just past (the insert position of an idle primary at a page
/// boundary points after the next page's header, where no record can end).
fn replay_target(insert: u64) -> u64 {
    if insert % SEGMENT == LONG_HEADER {
        insert - LONG_HEADER
    } else if insert % PAGE == SHORT_HEADER && insert % SEGMENT != SHORT_HEADER {
        // A segment's first page has the long header: 24 bytes into it is inside that header.
        insert - SHORT_HEADER
    } else {
        insert
    }
}

/// What a fence query read on the primary.
#[derive(Debug, Clone)]
pub struct Fence {
    /// When the query was sent.
    started: Instant,
    /// The LSN a replica must have replayed to answer.
    pub lsn: u64,
    /// Every table's data version (`schema.table`).
    pub versions: Arc<std::collections::HashMap<String, i64>>,
}

/// One replica.
pub struct Replica {
    /// `host:port/database`, without credentials (for `/health` and logs).
    pub label: String,
    pool: Pool,
    /// The last replay LSN seen (a lower bound of the current one).
    replayed: AtomicU64,
    /// Whether it answered its last check.
    up: AtomicBool,
    /// Why it is not used, when it is not.
    problem: Mutex<Option<String>>,
    /// Reads it answered.
    served: AtomicU64,
}

impl Replica {
    /// A replica reached through this pool.
    pub fn new(label: String, pool: Pool) -> Replica {
        Replica {
            label,
            pool,
            replayed: AtomicU64::new(0),
            up: AtomicBool::new(true),
            problem: Mutex::new(None),
            served: AtomicU64::new(0),
        }
    }

    fn set_problem(&self, problem: Option<String>) {
        let was_up = self.up.swap(problem.is_none(), Ordering::AcqRel);
        match (&problem, was_up) {
            (Some(p), true) => {
                tracing::warn!(replica = %self.label, problem = %p, "replica not used: reads go to the primary")
            }
            (None, false) => tracing::info!(replica = %self.label, "replica answers again"),
            _ => {}
        }
        *self.problem.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = problem;
    }

    /// Reads its replay LSN on a connection (`None`: not a standby).
    async fn replay_lsn(client: &Object) -> Result<Option<u64>, String> {
        let row = client
            .query_one("SELECT (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint", &[])
            .await
            .map_err(|e| e.to_string())?;
        Ok(row.get::<_, Option<i64>>(0).and_then(|v| u64::try_from(v).ok()))
    }
}

/// Why a read went to the primary.
#[derive(Debug, Clone, Copy)]
enum Fallback {
    /// Every replica is behind the fence.
    Lagging,
    /// No replica answered.
    Down,
    /// The fence could not be read (the primary is away): the read goes to the primary too,
    /// which answers 503 as without replicas.
    NoFence,
}

/// Where reads go.
pub struct Reads {
    primary: Pool,
    replicas: Vec<Replica>,
    next: AtomicUsize,
    fence: tokio::sync::Mutex<Option<Fence>>,
    to_primary: [AtomicU64; 3],
}

impl Reads {
    /// Reads spread over these replicas, checked against the primary.
    pub fn new(primary: Pool, replicas: Vec<Replica>) -> Reads {
        Reads {
            primary,
            replicas,
            next: AtomicUsize::new(0),
            fence: tokio::sync::Mutex::new(None),
            to_primary: Default::default(),
        }
    }

    /// Whether any replica is configured.
    pub fn has_replicas(&self) -> bool {
        !self.replicas.is_empty()
    }

    /// The replicas.
    pub fn replicas(&self) -> &[Replica] {
        &self.replicas
    }

    /// The fence for a request that arrived at `arrived`: the result of a fence query started
    /// after it, shared with the requests that wait for the same query.
    ///
    /// # Errors
    /// The primary could not be asked.
    pub async fn fence(&self, arrived: Instant) -> Result<Fence, String> {
        let mut last = self.fence.lock().await;
        if let Some(fence) = last.as_ref().filter(|f| f.started > arrived) {
            return Ok(fence.clone());
        }
        let started = Instant::now();
        let client = self.primary.get().await.map_err(|e| e.to_string())?;
        let statement = client
            .prepare_cached(
                "SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint,
                        coalesce(array_agg(schema_name || '.' || table_name), '{}'),
                        coalesce(array_agg(version), '{}')
                   FROM meta.table_versions",
            )
            .await
            .map_err(|e| e.to_string())?;
        let row = client.query_one(&statement, &[]).await.map_err(|e| e.to_string())?;
        let lsn = u64::try_from(row.get::<_, i64>(0)).unwrap_or(0);
        let tables: Vec<String> = row.get(1);
        let versions: Vec<i64> = row.get(2);
        let fence =
            Fence { started, lsn: replay_target(lsn), versions: Arc::new(tables.into_iter().zip(versions).collect()) };
        *last = Some(fence.clone());
        Ok(fence)
    }

    /// A table's data version as of a request that arrived at `arrived`, when replicas are in use
    /// (`None` without replicas, or when the primary cannot be asked: callers then use the
    /// change feed or read it from the database).
    pub async fn version(&self, arrived: Instant, table: &str) -> Option<i64> {
        if self.replicas.is_empty() {
            return None;
        }
        self.fence(arrived).await.ok().and_then(|f| f.versions.get(table).copied())
    }

    /// A connection for reading, for a request that arrived now.
    ///
    /// # Errors
    /// The primary's pool error when no replica could take the read and the primary cannot.
    pub async fn get(&self) -> Result<Object, PoolError> {
        self.get_since(Instant::now()).await
    }

    /// A connection for reading what was committed before `arrived`: a replica that has replayed
    /// it, else the primary.
    ///
    /// # Errors
    /// The primary's pool error when no replica could take the read and the primary cannot.
    pub async fn get_since(&self, arrived: Instant) -> Result<Object, PoolError> {
        if self.replicas.is_empty() {
            return self.primary.get().await;
        }
        let target = match self.fence(arrived).await {
            Ok(fence) => fence.lsn,
            Err(_) => return self.to_primary(Fallback::NoFence).await,
        };
        let first = self.next.fetch_add(1, Ordering::Relaxed);
        let mut answered = false;
        for i in 0..self.replicas.len() {
            let replica = &self.replicas[(first + i) % self.replicas.len()];
            if !replica.up.load(Ordering::Acquire) {
                continue;
            }
            let client = match replica.pool.get().await {
                Ok(client) => client,
                Err(e) => {
                    replica.set_problem(Some(format!("unreachable: {e}")));
                    continue;
                }
            };
            if replica.replayed.load(Ordering::Acquire) < target {
                match Replica::replay_lsn(&client).await {
                    Ok(Some(lsn)) => {
                        replica.replayed.fetch_max(lsn, Ordering::AcqRel);
                    }
                    Ok(None) => {
                        replica.set_problem(Some("not a standby (not in recovery)".into()));
                        continue;
                    }
                    Err(e) => {
                        replica.set_problem(Some(format!("unreachable: {e}")));
                        continue;
                    }
                }
            }
            answered = true;
            if replica.replayed.load(Ordering::Acquire) >= target {
                replica.served.fetch_add(1, Ordering::Relaxed);
                return Ok(client);
            }
        }
        self.to_primary(if answered { Fallback::Lagging } else { Fallback::Down }).await
    }

    async fn to_primary(&self, why: Fallback) -> Result<Object, PoolError> {
        self.to_primary[why as usize].fetch_add(1, Ordering::Relaxed);
        self.primary.get().await
    }

    /// Watches every replica once a second until the process ends.
    pub async fn watch(self: Arc<Self>) {
        if self.replicas.is_empty() {
            return;
        }
        loop {
            for replica in &self.replicas {
                let checked = match tokio::time::timeout(Duration::from_secs(2), replica.pool.get()).await {
                    Err(_) => Err("no connection within 2 s".to_owned()),
                    Ok(Err(e)) => Err(format!("unreachable: {e}")),
                    Ok(Ok(client)) => Replica::replay_lsn(&client).await.map_err(|e| format!("unreachable: {e}")),
                };
                match checked {
                    Ok(Some(lsn)) => {
                        replica.replayed.fetch_max(lsn, Ordering::AcqRel);
                        replica.set_problem(None);
                    }
                    Ok(None) => replica.set_problem(Some("not a standby (not in recovery)".into())),
                    Err(e) => replica.set_problem(Some(e)),
                }
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// The replicas' state for `/health`: each one's label, `ok` or why not, and how far its
    /// replay is behind the last fence (bytes of WAL).
    pub fn health(&self) -> Vec<serde_json::Value> {
        let fence = self.fence.try_lock().ok().and_then(|f| f.as_ref().map(|f| f.lsn));
        self.replicas
            .iter()
            .map(|r| {
                let problem = r.problem.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
                let replayed = r.replayed.load(Ordering::Acquire);
                serde_json::json!({
                    "replica": r.label,
                    "status": if problem.is_none() { "ok" } else { "unavailable" },
                    "problem": problem,
                    "behind_bytes": fence.map(|f| f.saturating_sub(replayed)),
                })
            })
            .collect()
    }

    /// Prometheus lines: reads by where they went and why.
    pub fn metrics(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        if self.replicas.is_empty() {
            return out;
        }
        out.push_str("# HELP geosector_replica_reads_total Reads answered by each replica.\n# TYPE geosector_replica_reads_total counter\n");
        for r in &self.replicas {
            let _ = writeln!(
                out,
                "geosector_replica_reads_total{{replica=\"{}\"}} {}",
                r.label,
                r.served.load(Ordering::Relaxed)
            );
        }
        out.push_str("# HELP geosector_replica_up Whether a replica answered its last check.\n# TYPE geosector_replica_up gauge\n");
        for r in &self.replicas {
            let _ = writeln!(
                out,
                "geosector_replica_up{{replica=\"{}\"}} {}",
                r.label,
                u8::from(r.up.load(Ordering::Acquire))
            );
        }
        out.push_str("# HELP geosector_primary_reads_total Reads sent to the primary although replicas are configured, by reason.\n# TYPE geosector_primary_reads_total counter\n");
        for (reason, i) in [("lagging", Fallback::Lagging), ("down", Fallback::Down), ("no_fence", Fallback::NoFence)] {
            let _ = writeln!(
                out,
                "geosector_primary_reads_total{{reason=\"{reason}\"}} {}",
                self.to_primary[i as usize].load(Ordering::Relaxed)
            );
        }
        out
    }
}

/// `host:port/database` of a PostgreSQL URL, without user or password.
pub fn label(config: &tokio_postgres::Config) -> String {
    let host = config
        .get_hosts()
        .first()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .unwrap_or_default();
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}/{}", config.get_dbname().unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fence_at_a_page_header_asks_only_for_the_page_boundary() {
        assert_eq!(replay_target(3 * PAGE + 100), 3 * PAGE + 100);
        assert_eq!(replay_target(3 * PAGE + SHORT_HEADER), 3 * PAGE);
        assert_eq!(replay_target(2 * SEGMENT + LONG_HEADER), 2 * SEGMENT);
        assert_eq!(replay_target(2 * SEGMENT + SHORT_HEADER), 2 * SEGMENT + SHORT_HEADER, "no short header there");
    }
}
