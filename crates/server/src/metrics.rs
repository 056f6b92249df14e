//! Prometheus metrics at `/metrics`: requests by route and status, latency histograms by route,
//! and the connection pool's size and idle connections. Kept in memory with atomics and one
//! short-held lock per request; no extra dependency.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Mutex;

/// Latency bucket bounds in seconds.
const BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Default)]
struct RouteStats {
    by_status: HashMap<u16, u64>,
    buckets: Vec<u64>,
    sum: f64,
    count: u64,
}

/// The server's metrics.
#[derive(Default)]
pub struct Metrics {
    routes: Mutex<HashMap<String, RouteStats>>,
}

impl Metrics {
    /// Records one request.
    pub fn observe(&self, route: &str, status: u16, seconds: f64) {
        let mut routes = self.routes.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Allocate the route's key only the first time it is seen, not on every request.
        if !routes.contains_key(route) {
            routes.insert(route.to_owned(), RouteStats { buckets: vec![0; BUCKETS.len()], ..RouteStats::default() });
        }
        let Some(stats) = routes.get_mut(route) else { return };
        *stats.by_status.entry(status).or_default() += 1;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                stats.buckets[i] += 1;
            }
        }
        stats.sum += seconds;
        stats.count += 1;
    }

    /// The Prometheus text exposition.
    pub fn render(&self, pool: &deadpool_postgres::Status) -> String {
        let routes = self.routes.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut out = String::from("# HELP geosector_http_requests_total HTTP requests by route and status.\n# TYPE geosector_http_requests_total counter\n");
        let mut names: Vec<&String> = routes.keys().collect();
        names.sort();
        for name in &names {
            let mut statuses: Vec<_> = routes[*name].by_status.iter().collect();
            statuses.sort();
            for (status, n) in statuses {
                let _ = writeln!(out, "geosector_http_requests_total{{route=\"{name}\",status=\"{status}\"}} {n}");
            }
        }
        out.push_str("# HELP geosector_http_request_duration_seconds Request latency by route.\n# TYPE geosector_http_request_duration_seconds histogram\n");
        for name in &names {
            let s = &routes[*name];
            for (bound, n) in BUCKETS.iter().zip(&s.buckets) {
                let _ = writeln!(
                    out,
                    "geosector_http_request_duration_seconds_bucket{{route=\"{name}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "geosector_http_request_duration_seconds_bucket{{route=\"{name}\",le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(out, "geosector_http_request_duration_seconds_sum{{route=\"{name}\"}} {}", s.sum);
            let _ = writeln!(out, "geosector_http_request_duration_seconds_count{{route=\"{name}\"}} {}", s.count);
        }
        let _ = write!(
            out,
            "# HELP geosector_db_pool_connections Database connections open.\n# TYPE geosector_db_pool_connections gauge\ngeosector_db_pool_connections {}\n\
             # HELP geosector_db_pool_idle Database connections idle.\n# TYPE geosector_db_pool_idle gauge\ngeosector_db_pool_idle {}\n\
             # HELP geosector_db_pool_max Database connections allowed.\n# TYPE geosector_db_pool_max gauge\ngeosector_db_pool_max {}\n\
             # HELP geosector_db_pool_waiting Requests waiting for a connection.\n# TYPE geosector_db_pool_waiting gauge\ngeosector_db_pool_waiting {}\n",
            pool.size, pool.available, pool.max_size, pool.waiting
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histograms() {
        let m = Metrics::default();
        m.observe("/collections/{collectionId}/items", 200, 0.02);
        m.observe("/collections/{collectionId}/items", 400, 0.001);
        let text = m.render(&deadpool_postgres::Status { max_size: 4, size: 2, available: 1, waiting: 0 });
        assert!(
            text.contains(
                "geosector_http_requests_total{route=\"/collections/{collectionId}/items\",status=\"200\"} 1"
            ),
            "{text}"
        );
        assert!(text.contains("le=\"0.025\"} 2"), "{text}");
        assert!(text.contains("geosector_db_pool_max 4"));
    }
}
