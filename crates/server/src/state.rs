//! What every handler shares: the pools (primary and replicas), the registry, the limits, the caches, the change feed,
//! the access policy and the audit log, built once by [`crate::start`].

use deadpool_postgres::Pool;
use geosector_domain::SectorDecl;
use geosector_store::Registry;

use crate::params::Limits;
use crate::{changes, metrics, tilecache};

/// What every handler shares.
pub struct AppState {
    /// The connection pool on the primary (writes, and reads when no replica is configured).
    pub pool: Pool,
    /// Where reads go: a replica that has replayed what the request must see, else the primary.
    pub reads: std::sync::Arc<crate::replicas::Reads>,
    /// The published collections.
    pub registry: Registry,
    /// The declared sectors (titles of styles and of the viewer's layer groups).
    pub sectors: Vec<&'static SectorDecl>,
    /// Page limits.
    pub limits: Limits,
    /// Request limits (body, URL, parameters, filter, vertices, anonymous bbox area).
    pub request_limits: crate::limits::RequestLimits,
    /// The OpenAPI document (servers added per request).
    pub openapi: serde_json::Value,
    /// Request counters and latencies.
    pub metrics: metrics::Metrics,
    /// Rendered tiles, kept exact against the data.
    pub tiles: tilecache::TileCache,
    /// Data versions pushed by PostgreSQL.
    pub feed: std::sync::Arc<changes::ChangeFeed>,
    /// The tile size cap, in bytes.
    pub max_tile_bytes: usize,
    /// The access policy in force.
    pub policy: std::sync::Arc<geosector_access::policy::PolicyHandle>,
    /// Recently looked-up API keys.
    pub keys: crate::keycache::KeyCache,
    /// The audit log.
    pub audit: crate::audit::AuditLog,
    /// The rules of the datasets edited so far.
    pub checkers: crate::checkers::Checkers,
    /// The collections whose writes must carry `If-Match` (428 without).
    pub require_if_match: Vec<String>,
    /// Change types accepted besides the sectors' own.
    pub change_types: Vec<String>,
    /// The proxies whose forwarded headers are honoured.
    pub trusted_proxies: Vec<crate::proxies::Block>,
    /// How far back an instant must lie for answers at it to be immutable (see
    /// [`crate::history`]).
    pub history_margin: std::time::Duration,
    /// The data catalogue (OGC API - Records).
    pub catalogue: geosector_catalogue::Catalogue,
}

impl AppState {
    /// Whether writes to a collection must carry `If-Match`.
    pub fn require_if_match(&self, collection: &str) -> bool {
        self.require_if_match.iter().any(|c| c == collection)
    }

    /// The change types a changeset touching these collections may state: their sectors'
    /// declared ones and the operator's additions.
    pub fn change_types<'a>(&'a self, collections: &[&str]) -> Vec<&'a str> {
        let sectors = collections.iter().filter_map(|c| c.split_once('.').map(|(sector, _)| sector));
        let mut codes: Vec<&str> = Vec::new();
        for sector in sectors {
            for decl in self.sectors.iter().filter(|s| s.id == sector) {
                codes.extend(decl.change_types.iter().map(|(code, _)| *code));
            }
        }
        codes.extend(self.change_types.iter().map(String::as_str));
        codes.sort_unstable();
        codes.dedup();
        codes
    }
}
