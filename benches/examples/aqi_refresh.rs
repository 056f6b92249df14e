//! The VN_AQI refresh of an observations import (`geosector_environment::load_hook::
//! refresh_indices`, what the import's load hook runs) on observations already stored, against
//! its floor: a plain COPY of the very same hourly and daily values into the same tables.
//!
//! Each round, alternately: the refresh over every stored observation (`environment.
//! observations` given as the staged table), timed, its values written to a file with COPY TO,
//! rolled back; then the floor, the file COPYed into `environment.aqi_hourly` (through the
//! partitioned table, its months created empty first) and `aqi_daily`, timed, rolled back; both on freshly vacuumed tables. The database is left as it was. `benches/monitoring.sh` (part 3) loads
//! the observations and runs this.
//!
//! Usage: `aqi_refresh <postgres-url> [rounds = 3] [work-dir = /tmp]`.

use std::io::Write;
use std::pin::pin;
use std::time::Instant;

use anyhow::{bail, Context};
use bytes::Bytes;
use futures_util::{SinkExt, TryStreamExt};
use geosector_environment::config::IndexConfig;
use geosector_environment::load_hook::refresh_indices;

/// The index tables and the columns the refresh writes.
const TABLES: [(&str, &str); 2] = [
    (
        "environment.aqi_hourly",
        "station_code, observed_at, aqi, level, colour, dominant, si_pm25, si_pm10, si_o3, si_no2, si_so2, si_co",
    ),
    (
        "environment.aqi_daily",
        "station_code, day, aqi, level, colour, dominant, si_pm25, si_pm10, si_o3, si_no2, si_so2, si_co",
    ),
];

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(url) = args.first() else { bail!("usage: aqi_refresh <postgres-url> [rounds] [work-dir]") };
    let rounds: usize = args.get(1).map_or(Ok(3), |r| r.parse()).context("rounds: expected a number")?;
    let dir = std::path::PathBuf::from(args.get(2).map_or("/tmp", String::as_str));
    let (mut client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    let cfg = IndexConfig::default();
    let files = [dir.join("aqi_refresh_hourly.bin"), dir.join("aqi_refresh_daily.bin")];
    let (mut refreshes, mut floors) = (Vec::new(), Vec::new());
    // A rolled-back COPY leaves its rows dead in the tables and their indexes, where the next
    // write's unique checks would visit them: each timed step starts on vacuumed tables.
    let vacuum = "VACUUM environment.aqi_hourly, environment.aqi_daily";
    for round in 1..=rounds {
        client.batch_execute(vacuum).await?;
        let tx = client.transaction().await?;
        let start = Instant::now();
        let done = refresh_indices(&tx, &cfg, "environment.observations").await?;
        refreshes.push(start.elapsed().as_secs_f64());
        for (file, (table, columns)) in files.iter().zip(TABLES) {
            let out = tx.copy_out(&format!("COPY (SELECT {columns} FROM {table}) TO STDOUT (FORMAT binary)")).await?;
            let mut out = pin!(out);
            let mut f = std::io::BufWriter::new(std::fs::File::create(file)?);
            while let Some(chunk) = out.try_next().await? {
                f.write_all(&chunk)?;
            }
            f.flush()?;
        }
        tx.rollback().await?;
        client.batch_execute(vacuum).await?;
        let tx = client.transaction().await?;
        // The floor writes through the partitioned table: its months first, empty (not timed).
        tx.batch_execute(
            "SELECT environment.ensure_aqi_hourly_months(min(observed_at), max(observed_at) + interval '1 day')
             FROM environment.observations",
        )
        .await?;
        let start = Instant::now();
        let mut copied = 0;
        for (file, (table, columns)) in files.iter().zip(TABLES) {
            let bytes = std::fs::read(file)?;
            let sink = tx.copy_in(&format!("COPY {table} ({columns}) FROM STDIN (FORMAT binary)")).await?;
            let mut sink = pin!(sink);
            for chunk in bytes.chunks(1 << 20) {
                sink.send(Bytes::copy_from_slice(chunk)).await?;
            }
            copied += sink.as_mut().finish().await?;
        }
        floors.push(start.elapsed().as_secs_f64());
        tx.rollback().await?;
        writeln!(
            std::io::stdout(),
            "round {round}: refresh {:.1} s ({} stations, {} hourly and {} daily values); floor, COPY of the same {copied} rows {:.1} s",
            refreshes[round - 1],
            done.stations,
            done.aqi_hours,
            done.aqi_days,
            floors[round - 1]
        )?;
    }
    for file in &files {
        let _ = std::fs::remove_file(file);
    }
    let (r, f) = (median(&mut refreshes), median(&mut floors));
    writeln!(std::io::stdout(), "median of {rounds}: refresh {r:.1} s, floor {f:.1} s, ratio {:.2}", r / f)?;
    Ok(())
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}
