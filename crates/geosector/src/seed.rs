//! `geosector tiles seed`: pre-renders a zoom range of tiles over a bbox into a running server's
//! tile cache, by requesting them from it, so the first map users after an import or a restart
//! get cached tiles. Going through HTTP means the same code path, limits and cache as any client
//! (a tile another process rendered would not be in the server's memory).
//!
//! Several keep-alive connections request the tiles in parallel; a progress bar shows when the
//! output is a terminal (hidden when not, or with `CI=true`). The report counts tiles rendered
//! now, already cached, empty, outside the data, and failed.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use geosector_crs::web_mercator::tile_range;
use geosector_server::tiles::{MAX_ZOOM, TMS};

/// What to seed.
#[derive(Debug, Clone)]
pub struct SeedOptions {
    /// The server, e.g. `http://127.0.0.1:8080`.
    pub base_url: String,
    /// Collections to seed one by one; empty: the dataset tiles of every collection.
    pub collections: Vec<String>,
    /// `[min lon, min lat, max lon, max lat]`.
    pub bbox: [f64; 4],
    /// Lowest and highest zoom, inclusive.
    pub zooms: (u32, u32),
    /// Parallel connections.
    pub concurrency: usize,
    /// Show a progress bar (still hidden when stderr is not a terminal or `CI=true`).
    pub progress: bool,
}

/// What seeding did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SeedReport {
    /// Tiles requested.
    pub requested: u64,
    /// Rendered by this run (`X-Tile-Cache: miss`).
    pub rendered: u64,
    /// Already in the cache.
    pub cached: u64,
    /// No feature there (204).
    pub empty: u64,
    /// Outside the data's limits (404).
    pub outside: u64,
    /// Other answers or connection errors.
    pub failed: u64,
    /// Bytes of tiles received.
    pub bytes: u64,
}

/// Every tile path to request, zoom by zoom.
///
/// # Errors
/// A message for an empty zoom range or a bbox that is not `min <= max` within lon/lat bounds.
pub fn tile_paths(options: &SeedOptions) -> Result<Vec<String>, String> {
    let [x0, y0, x1, y1] = options.bbox;
    if !(x0 <= x1
        && y0 <= y1
        && (-180.0..=180.0).contains(&x0)
        && x1 <= 180.0
        && (-90.0..=90.0).contains(&y0)
        && y1 <= 90.0)
    {
        return Err(format!(
            "--bbox: expected min lon,min lat,max lon,max lat within lon/lat bounds, got {x0},{y0},{x1},{y1}"
        ));
    }
    let (z0, z1) = options.zooms;
    if z0 > z1 || z1 > MAX_ZOOM {
        return Err(format!("--zoom: expected a range such as 8-14 within 0-{}, got {z0}-{z1}", MAX_ZOOM));
    }
    let prefixes: Vec<String> = if options.collections.is_empty() {
        vec![format!("/tiles/{TMS}")]
    } else {
        options.collections.iter().map(|c| format!("/collections/{c}/tiles/{TMS}")).collect()
    };
    let mut paths = Vec::new();
    for prefix in &prefixes {
        for z in z0..=z1 {
            let (c0, c1, r0, r1) = tile_range(options.bbox, z);
            for row in r0..=r1 {
                for col in c0..=c1 {
                    paths.push(format!("{prefix}/{z}/{row}/{col}"));
                }
            }
        }
    }
    Ok(paths)
}

/// Requests every tile and counts the answers.
///
/// # Errors
/// A message when the server URL is not `http://host:port` or the server cannot be reached.
pub fn seed(options: &SeedOptions) -> Result<SeedReport, String> {
    let paths = tile_paths(options)?;
    let host = options
        .base_url
        .strip_prefix("http://")
        .map(|rest| rest.trim_end_matches('/'))
        .filter(|h| !h.is_empty() && !h.contains('/'))
        .ok_or_else(|| format!("--url: expected http://host:port, got {}", options.base_url))?
        .to_owned();
    TcpStream::connect(&host).map_err(|e| format!("{}: {e} (is `geosector serve` running?)", options.base_url))?;
    let bar = progress_bar(options.progress, paths.len() as u64);
    let next = AtomicUsize::new(0);
    let counts: [AtomicU64; 7] = Default::default();
    std::thread::scope(|scope| {
        for _ in 0..options.concurrency.max(1) {
            scope.spawn(|| {
                let mut connection: Option<Connection> = None;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = paths.get(i) else { break };
                    let slot = match get(&mut connection, &host, path) {
                        Ok((200, cache, bytes)) => {
                            counts[6].fetch_add(bytes, Ordering::Relaxed);
                            if cache {
                                2
                            } else {
                                1
                            }
                        }
                        Ok((204, _, _)) => 3,
                        Ok((404, _, _)) => 4,
                        Ok(_) | Err(_) => 5,
                    };
                    counts[0].fetch_add(1, Ordering::Relaxed);
                    counts[slot].fetch_add(1, Ordering::Relaxed);
                    bar.inc(1);
                }
            });
        }
    });
    bar.finish_and_clear();
    let n = |i: usize| counts[i].load(Ordering::Relaxed);
    Ok(SeedReport {
        requested: n(0),
        rendered: n(1),
        cached: n(2),
        empty: n(3),
        outside: n(4),
        failed: n(5),
        bytes: n(6),
    })
}

fn progress_bar(wanted: bool, total: u64) -> indicatif::ProgressBar {
    use std::io::IsTerminal as _;
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    if !wanted || ci || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total);
    if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} tiles, {per_sec}, eta {eta}") {
        bar.set_style(style);
    }
    bar
}

type Connection = BufReader<TcpStream>;

/// One GET on a keep-alive connection (reconnecting once if the server closed it): the status,
/// whether the server answered from its cache, and the body length.
fn get(connection: &mut Option<Connection>, host: &str, path: &str) -> std::io::Result<(u16, bool, u64)> {
    for attempt in 0..2 {
        if connection.is_none() {
            let stream = TcpStream::connect(host)?;
            stream.set_read_timeout(Some(Duration::from_secs(120)))?;
            *connection = Some(BufReader::new(stream));
        }
        let Some(conn) = connection.as_mut() else { continue };
        let started = Instant::now();
        match exchange(conn, host, path) {
            Ok(answer) => return Ok(answer),
            Err(e) if attempt == 0 && started.elapsed() < Duration::from_secs(1) => {
                tracing::debug!(error = %e, "seed: reconnecting");
                *connection = None;
            }
            Err(e) => {
                *connection = None;
                return Err(e);
            }
        }
    }
    Err(std::io::Error::other("no connection"))
}

fn exchange(conn: &mut Connection, host: &str, path: &str) -> std::io::Result<(u16, bool, u64)> {
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept-Encoding: identity\r\n\r\n");
    conn.get_mut().write_all(request.as_bytes())?;
    let mut line = String::new();
    if conn.read_line(&mut line)? == 0 {
        return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed"));
    }
    let status: u16 =
        line.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| std::io::Error::other("bad status line"))?;
    let (mut length, mut chunked, mut hit) = (0u64, false, false);
    loop {
        line.clear();
        conn.read_line(&mut line)?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let value = value.trim();
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = value.parse().unwrap_or(0),
                "transfer-encoding" => chunked = value.contains("chunked"),
                "x-tile-cache" => hit = value == "hit",
                _ => {}
            }
        }
    }
    if !chunked {
        std::io::copy(&mut conn.by_ref().take(length), &mut std::io::sink())?;
        return Ok((status, hit, length));
    }
    let mut total = 0;
    loop {
        line.clear();
        conn.read_line(&mut line)?;
        let size = u64::from_str_radix(line.trim(), 16).map_err(|_| std::io::Error::other("bad chunk size"))?;
        std::io::copy(&mut conn.by_ref().take(size), &mut std::io::sink())?;
        line.clear();
        conn.read_line(&mut line)?;
        if size == 0 {
            return Ok((status, hit, total));
        }
        total += size;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(bbox: [f64; 4], zooms: (u32, u32)) -> SeedOptions {
        SeedOptions { base_url: String::new(), collections: vec![], bbox, zooms, concurrency: 1, progress: false }
    }

    #[test]
    fn paths_cover_the_bbox_at_every_zoom() {
        // Hoàn Kiếm, a few hundred metres: one tile per zoom up to z14, then more.
        let paths = tile_paths(&options([105.850, 21.025, 105.856, 21.031], (10, 14))).unwrap();
        assert_eq!(paths.len(), 5);
        assert_eq!(paths[4], "/tiles/WebMercatorQuad/14/7212/13009");
        let mut two = options([105.850, 21.025, 105.856, 21.031], (16, 16));
        two.collections = vec!["land.parcels".into(), "land.map_sheets".into()];
        let paths = tile_paths(&two).unwrap();
        assert!(paths.iter().all(|p| p.starts_with("/collections/land.")), "{paths:?}");
        assert_eq!(paths.len() % 2, 0);
        assert!(tile_paths(&options([106.0, 21.0, 105.0, 22.0], (8, 9))).unwrap_err().starts_with("--bbox"));
        assert!(tile_paths(&options([105.0, 21.0, 106.0, 22.0], (9, 8))).unwrap_err().starts_with("--zoom"));
    }
}
