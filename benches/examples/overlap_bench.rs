//! The overlap check of `geosector import` (`geosector_ingest::overlaps`) on a PostGIS table,
//! for comparison with PostGIS's own self-join (`benches/overlaps.sh` runs both).
//!
//! Streams `SELECT id, ST_AsBinary(geom) FROM <table> ORDER BY id`, feeds every geometry to an
//! `OverlapFinder` with the row id as its index, then finishes it, and prints the time to read
//! and add (and the time spent in `add` alone), the time of `finish` (wall, and CPU of the whole
//! process during it, all threads), the pairs found, the finder's counts and the process's peak
//! RSS.
//!
//! Usage: `overlap_bench <postgres-url> [table = land.parcels] [min-area-m2 = 0.5] [pairs-out]`;
//! `pairs-out`, when given, receives the pairs found, one `a b` per line, sorted.

use std::io::Write;
use std::pin::pin;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use futures_util::TryStreamExt;
use geosector_ingest::overlaps::OverlapFinder;
use geozero::wkb::Wkb;
use geozero::ToGeo;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(url) = args.first() else {
        bail!("usage: overlap_bench <postgres-url> [table] [min-area-m2] [pairs-out]");
    };
    let table = args.get(1).map_or("land.parcels", String::as_str);
    if !table.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
        bail!("table: expected a [schema.]name, got {table:?}");
    }
    let min_area: f64 = args.get(2).map_or(Ok(0.5), |a| a.parse()).context("min-area-m2")?;
    let mut finder = OverlapFinder::new(min_area)?;

    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let in_add = runtime.block_on(read(url, table, &mut finder))?;
    let read_time = started.elapsed();

    let (started, cpu) = (Instant::now(), cpu_seconds());
    let (overlaps, stats) = finder.finish_with_stats()?;
    let finish_time = started.elapsed();
    let finish_cpu = cpu_seconds().zip(cpu).map_or(f64::NAN, |(after, before)| after - before);

    let mut out = std::io::stdout().lock();
    writeln!(out, "table {table}, min area {min_area} m²")?;
    writeln!(out, "read+add  {:.2} s (in add: {:.2} s)", read_time.as_secs_f64(), in_add.as_secs_f64())?;
    writeln!(out, "finish    {:.2} s (cpu {finish_cpu:.2} s)", finish_time.as_secs_f64())?;
    writeln!(out, "features  {} indexed", stats.indexed)?;
    writeln!(
        out,
        "pairs     {} (candidates {}, exact {}, failed {})",
        overlaps.len(),
        stats.candidates,
        stats.exact,
        stats.failed
    )?;
    writeln!(out, "peak RSS  {} kB", peak_rss_kb().unwrap_or(0))?;
    if let Some(path) = args.get(3) {
        let mut file = std::io::BufWriter::new(std::fs::File::create(path).with_context(|| path.clone())?);
        for o in &overlaps {
            writeln!(file, "{} {}", o.a, o.b)?;
        }
        file.flush()?;
    }
    Ok(())
}

/// Streams the table into `finder`; returns the time spent in `add`.
async fn read(url: &str, table: &str, finder: &mut OverlapFinder) -> anyhow::Result<Duration> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    let connection = tokio::spawn(connection);
    let sql = format!("SELECT id, ST_AsBinary(geom) FROM {table} ORDER BY id");
    let mut rows = pin!(client.query_raw(sql.as_str(), Vec::<i64>::new()).await?);
    let mut in_add = Duration::ZERO;
    while let Some(row) = rows.try_next().await? {
        let id: i64 = row.try_get(0)?;
        let wkb: &[u8] = row.try_get(1)?;
        let geometry = match Wkb(wkb).to_geo().with_context(|| format!("id {id}"))? {
            geo_types::Geometry::MultiPolygon(m) => m,
            geo_types::Geometry::Polygon(p) => geo_types::MultiPolygon(vec![p]),
            other => bail!("id {id}: not a polygon: {other:?}"),
        };
        let index = u64::try_from(id).with_context(|| format!("negative id {id}"))?;
        let t = Instant::now();
        finder.add(index, &geometry)?;
        in_add += t.elapsed();
    }
    drop(client);
    connection.await??;
    Ok(in_add)
}

/// User + system CPU time of the process so far, all threads, from /proc/self/stat (Linux;
/// USER_HZ = 100).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces), from field 3 on: utime is 14, stime 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: f64 = fields.next()?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// VmHWM of /proc/self/status, in kB (Linux).
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
