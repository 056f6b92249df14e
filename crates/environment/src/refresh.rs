//! The set-based refresh of VN_AQI after an import ([`refresh_aqi`]): every touched station's
//! observations read in a few statements, the hourly means and the index computed in Rust with
//! the pure functions of [`crate::aqi`] (the same calls, in the same order, as one station at a
//! time), and the values written with COPY and one statement per table.
//!
//! 1. The touched ranges are cut by UTC month (the partitions of `environment.aqi_hourly`,
//!    migration 0032), then into chunks of at most [`CHUNK_HOURS`] station-hours (the memory of
//!    one chunk's hourly means is bounded by it).
//! 2. Per table, one query tells whether any value is stored in the touched ranges. When none
//!    is (the usual load: new hours), the values are COPYed straight into the table; else into
//!    a temporary table, merged at the end (step 5).
//! 3. A month the hourly table does not hold yet is written in bulk: into a table of its own
//!    created in this transaction, without indexes, attached (its indexes built once over its
//!    rows) after the chunks; a year of new months costs about half of the COPY into the
//!    indexed table.
//! 4. Per chunk, one query returns the observations of every station of the chunk (per station
//!    and pollutant, its times and values as two arrays; the range scan pruned to the chunk's
//!    months), the hourly means are summed up in Rust (`avg` by hour in SQL cost more than the
//!    read), and the computed hourly and daily values are COPYed.
//! 5. For a table with stored values in the ranges (hours re-sent as calibration), the stale
//!    values of the ranges are deleted and the new ones upserted, changed rows only.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use futures_util::{pin_mut, TryStreamExt};
use geosector_store::hook::HookError;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::Transaction;

use crate::aqi::SUB_INDEX_ORDER;
use crate::aqi::{self, AqiValue, HourlySeries, Pollutant};
use crate::hours::{hour_of, local_date_of_day_start, month_of_hour, time_of_hour};
use crate::IndexConfig;

/// Station-hours (of the hours read, NowCast window included) per chunk: with six pollutants,
/// at most 1.2 M hourly means in memory at a time.
pub const CHUNK_HOURS: i64 = 200_000;

/// One touched station's ranges, in hour numbers (see [`crate::aqi::HourlySeries`]).
#[derive(Debug, Clone)]
pub struct Span {
    /// The station.
    pub station: String,
    /// First and last hour whose hourly AQI is recomputed.
    pub hours: (i64, i64),
    /// First hours of the first and last local day whose daily AQI is recomputed.
    pub days: (i64, i64),
    /// The hours read: `[from, to)`.
    pub read: (i64, i64),
}

impl Span {
    /// The span of a station whose first and last staged hour are `first` and `last`: the hours
    /// from `first` to `last` plus the NowCast window after them, their local days, and the hours
    /// those need (the window before the first hour, whole days).
    pub fn new(station: String, first: i64, last: i64, window: i64) -> Span {
        let (h0, h1) = (first, last + window - 1);
        let (d0, d1) = (aqi::local_day_start(first), aqi::local_day_start(last));
        let from = (h0 - window + 1).min(d0);
        let to = (h1 + 1).max(d1 + 24);
        Span { station, hours: (h0, h1), days: (d0, d1), read: (from, to) }
    }

    /// The part of the span in the hours `[month.0, month.1)`: its hours there, the local days
    /// starting there, and the hours those need; `None` when neither lies there. An empty part
    /// of the two is `(first, last)` with `first > last`.
    pub fn within(&self, month: (i64, i64), window: i64) -> Option<Span> {
        let hours = (self.hours.0.max(month.0), self.hours.1.min(month.1 - 1));
        // Day starts are `days.0 + 24 k`: the first at or after the month's start, the last before its end.
        let first_day = self.days.0 + ((month.0 - self.days.0).max(0) + 23) / 24 * 24;
        let last_day = self.days.1 - ((self.days.1 - (month.1 - 1)).max(0) + 23) / 24 * 24;
        let days = (first_day, last_day);
        let (has_hours, has_days) = (hours.0 <= hours.1, days.0 <= days.1);
        let from = [has_hours.then(|| hours.0 - window + 1), has_days.then_some(days.0)].into_iter().flatten().min()?;
        let to = [has_hours.then_some(hours.1 + 1), has_days.then_some(days.1 + 24)].into_iter().flatten().max()?;
        Some(Span { station: self.station.clone(), hours, days, read: (from, to) })
    }

    /// Whether the span has hourly values to compute.
    fn has_hours(&self) -> bool {
        self.hours.0 <= self.hours.1
    }
}

/// The spans cut into chunks of at most [`CHUNK_HOURS`] hours read (a station with more is a
/// chunk of its own).
fn chunks(spans: &[Span]) -> impl Iterator<Item = &[Span]> {
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= spans.len() {
            return None;
        }
        let mut end = start + 1;
        let mut hours = spans[start].read.1 - spans[start].read.0;
        while end < spans.len() && hours + (spans[end].read.1 - spans[end].read.0) <= CHUNK_HOURS {
            hours += spans[end].read.1 - spans[end].read.0;
            end += 1;
        }
        let chunk = &spans[start..end];
        start = end;
        Some(chunk)
    })
}

/// Level name and colour of every band, worked out once.
struct BandTexts(Vec<(String, String)>);

impl BandTexts {
    fn new(bands: &[aqi::Band]) -> BandTexts {
        BandTexts(bands.iter().map(|b| (b.name_vi.clone(), b.colour_hex())).collect())
    }

    fn of(&self, bands: &[aqi::Band], value: i32) -> (&str, &str) {
        aqi::band_index_of(bands, f64::from(value))
            .and_then(|i| self.0.get(i))
            .map_or(("", ""), |(name, colour)| (name.as_str(), colour.as_str()))
    }
}

/// The sub-indices of a value in the tables' column order, rounded to one decimal.
fn sub_columns(v: &AqiValue) -> [Option<f64>; 6] {
    SUB_INDEX_ORDER.map(|p| v.sub_indices.iter().find(|(q, _)| *q == p).map(|&(_, s)| (s * 10.0).round() / 10.0))
}

const AQI_TYPES: [Type; 12] = [
    Type::TEXT,
    Type::TIMESTAMPTZ,
    Type::INT4,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::FLOAT8,
    Type::FLOAT8,
    Type::FLOAT8,
    Type::FLOAT8,
    Type::FLOAT8,
    Type::FLOAT8,
];

/// Hourly and daily values written by [`refresh_aqi`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AqiWritten {
    /// Hourly values inserted or changed.
    pub hours: u64,
    /// Daily values inserted or changed.
    pub days: u64,
}

/// Recomputes the hourly and daily VN_AQI of `spans` in the import's transaction (see the
/// module's documentation); returns the rows inserted or changed.
///
/// # Errors
/// A database error; the import is then rolled back.
pub async fn refresh_aqi(tx: &Transaction<'_>, cfg: &IndexConfig, spans: &[Span]) -> Result<AqiWritten, HookError> {
    if spans.is_empty() {
        return Ok(AqiWritten::default());
    }
    let codes: Vec<&str> = spans.iter().map(|s| s.station.as_str()).collect();
    let hour_range = |f: fn(&Span) -> i64| spans.iter().map(|s| time_of_hour(f(s))).collect::<Vec<_>>();
    let day_range = |f: fn(&Span) -> i64| spans.iter().map(|s| local_date_of_day_start(f(s))).collect::<Vec<_>>();
    let (hour_from, hour_to) = (hour_range(|s| s.hours.0), hour_range(|s| s.hours.1 + 1));
    let (day_from, day_to) = (day_range(|s| s.days.0), day_range(|s| s.days.1 + 24));
    let hourly = Target::of(tx, HOURLY, &codes, (&hour_from, &hour_to)).await?;
    let daily = Target::of(tx, DAILY, &codes, (&day_from, &day_to)).await?;
    let aqi_params: Vec<&str> = Pollutant::ALL.iter().map(|p| p.symbol()).collect();
    let readings = tx
        .prepare(
            "SELECT t.i, m.parameter, m.times, m.values
             FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) WITH ORDINALITY AS t(code, t0, t1, i)
             CROSS JOIN LATERAL (
                 SELECT parameter, array_agg(observed_at) AS times, array_agg(value) AS values
                 FROM environment.observations
                 WHERE station_code = t.code AND parameter = ANY($4) AND status = '00'
                   AND observed_at >= t.t0 AND observed_at < t.t1 AND observed_at >= $5 AND observed_at < $6
                 GROUP BY parameter) AS m",
        )
        .await?;
    let texts = BandTexts::new(&cfg.aqi.bands);
    let window = i64::try_from(cfg.aqi.nowcast_hours).unwrap_or(12);
    let first = spans.iter().map(|s| s.hours.0.min(s.days.0)).min().unwrap_or_default();
    let last = spans.iter().map(|s| s.hours.1.max(s.days.1)).max().unwrap_or_default();
    let mut written = AqiWritten::default();
    let mut new_months = Vec::new();
    let (mut reading, mut writing) = (Duration::ZERO, Duration::ZERO);
    let mut month = month_of_hour(first);
    while month.0 <= last {
        let parts: Vec<Span> = spans.iter().filter_map(|s| s.within(month, window)).collect();
        let fresh: Option<String> = if parts.iter().any(Span::has_hours) {
            tx.query_one("SELECT environment.begin_aqi_hourly_month($1)", &[&time_of_hour(month.0)]).await?.get(0)
        } else {
            None
        };
        let into = (fresh.as_deref().unwrap_or(hourly.copy_into()), daily.copy_into());
        for chunk in chunks(&parts) {
            let start = Instant::now();
            let series = hourly_means(tx, &readings, chunk, &aqi_params).await?;
            reading += start.elapsed();
            let start = Instant::now();
            let copied = write_chunk(tx, cfg, &texts, chunk, &series, into).await?;
            writing += start.elapsed();
            written.hours += copied.hours;
            written.days += copied.days;
        }
        if fresh.is_some() {
            new_months.push(month.0);
        }
        if month.1 <= month.0 {
            break; // past chrono's last date: no month after this one
        }
        month = month_of_hour(month.1);
    }
    let start = Instant::now();
    if hourly.stored {
        written.hours = merge(tx, HOURLY, &codes, (&hour_from, &hour_to)).await?;
    }
    if daily.stored {
        written.days = merge(tx, DAILY, &codes, (&day_from, &day_to)).await?;
    }
    let merging = start.elapsed();
    let start = Instant::now();
    for &m in &new_months {
        tx.execute("SELECT environment.attach_aqi_hourly_month($1)", &[&time_of_hour(m)]).await?;
    }
    tracing::info!(
        reading = reading.as_secs_f64(),
        computing_and_copying = writing.as_secs_f64(),
        merging = merging.as_secs_f64(),
        attaching = start.elapsed().as_secs_f64(),
        new_months = new_months.len(),
        "VN_AQI written"
    );
    Ok(written)
}

/// The hourly means of a chunk's stations, by position in the chunk: the observations of each
/// station's range, read by `readings` as one pair of arrays (times, values) per pollutant
/// (a row per observation cost half as much again), summed up by pollutant and hour.
async fn hourly_means(
    tx: &Transaction<'_>,
    readings: &tokio_postgres::Statement,
    chunk: &[Span],
    aqi_params: &[&str],
) -> Result<Vec<HourlySeries>, HookError> {
    let codes: Vec<&str> = chunk.iter().map(|s| s.station.as_str()).collect();
    let from: Vec<DateTime<Utc>> = chunk.iter().map(|s| time_of_hour(s.read.0)).collect();
    let to: Vec<DateTime<Utc>> = chunk.iter().map(|s| time_of_hour(s.read.1)).collect();
    let lower = from.iter().min().copied().unwrap_or_default();
    let upper = to.iter().max().copied().unwrap_or_default();
    let params: [&(dyn ToSql + Sync); 6] = [&codes, &from, &to, &aqi_params, &lower, &upper];
    let rows = tx.query_raw(readings, params).await?;
    pin_mut!(rows);
    type Sums = BTreeMap<Pollutant, BTreeMap<i64, (f64, u32)>>;
    let mut sums: Vec<Sums> = vec![Sums::new(); chunk.len()];
    while let Some(r) = rows.try_next().await? {
        let at = usize::try_from(r.get::<_, i64>(0) - 1).unwrap_or(usize::MAX);
        let symbol: &str = r.get(1);
        if let (Some(s), Some(p)) = (sums.get_mut(at), Pollutant::from_symbol(symbol)) {
            let hours = s.entry(p).or_default();
            let (times, values): (Vec<DateTime<Utc>>, Vec<f64>) = (r.get(2), r.get(3));
            for (t, v) in times.into_iter().zip(values) {
                let sum = hours.entry(hour_of(t)).or_insert((0.0, 0));
                sum.0 += v;
                sum.1 += 1;
            }
        }
    }
    Ok(sums
        .into_iter()
        .map(|s| {
            s.into_iter()
                .map(|(p, hours)| (p, hours.into_iter().map(|(h, (sum, n))| (h, sum / f64::from(n))).collect()))
                .collect()
        })
        .collect())
}

/// Computes a chunk's hourly and daily values and COPYs them into `into` (the tables or their
/// temporary tables, see [`Target::copy_into`]); returns the rows copied.
async fn write_chunk(
    tx: &Transaction<'_>,
    cfg: &IndexConfig,
    texts: &BandTexts,
    chunk: &[Span],
    series: &[HourlySeries],
    into: (&str, &str),
) -> Result<AqiWritten, HookError> {
    let bands = &cfg.aqi.bands;
    let sink = tx.copy_in(&format!("COPY {} ({}) FROM STDIN (FORMAT binary)", into.0, HOURLY.columns())).await?;
    let writer = BinaryCopyInWriter::new(sink, &AQI_TYPES);
    pin_mut!(writer);
    let mut days: Vec<(usize, NaiveDate, AqiValue)> = Vec::new();
    for (i, (span, series)) in chunk.iter().zip(series).enumerate() {
        for h in span.hours.0..=span.hours.1 {
            if let Some(v) = aqi::hourly_aqi(series, h, &cfg.aqi) {
                let (level, colour) = texts.of(bands, v.aqi);
                let [a, b, c, d, e, f] = sub_columns(&v);
                let at = time_of_hour(h);
                let dominant = v.dominant.symbol();
                writer
                    .as_mut()
                    .write(&[&span.station, &at, &v.aqi, &level, &colour, &dominant, &a, &b, &c, &d, &e, &f])
                    .await?;
            }
        }
        let mut d = span.days.0;
        while d <= span.days.1 {
            if let Some(v) = aqi::daily_aqi(series, d, &cfg.aqi) {
                days.push((i, local_date_of_day_start(d), v));
            }
            d += 24;
        }
    }
    let hours = writer.finish().await?;
    let sink = tx.copy_in(&format!("COPY {} ({}) FROM STDIN (FORMAT binary)", into.1, DAILY.columns())).await?;
    let mut types = AQI_TYPES;
    types[1] = Type::DATE;
    let writer = BinaryCopyInWriter::new(sink, &types);
    pin_mut!(writer);
    for (i, day, v) in &days {
        let (level, colour) = texts.of(bands, v.aqi);
        let [a, b, c, d, e, f] = sub_columns(v);
        let dominant = v.dominant.symbol();
        writer
            .as_mut()
            .write(&[&chunk[*i].station, day, &v.aqi, &level, &colour, &dominant, &a, &b, &c, &d, &e, &f])
            .await?;
    }
    let days = writer.finish().await?;
    Ok(AqiWritten { hours, days })
}

/// An index table, its key column and the temporary table of its new values. Names are
/// constants of this module; every value is bound.
#[derive(Clone, Copy)]
struct Table {
    name: &'static str,
    key: &'static str,
    key_type: &'static str,
    new: &'static str,
}

const HOURLY: Table =
    Table { name: "environment.aqi_hourly", key: "observed_at", key_type: "timestamptz", new: "geosector_aqi_hours" };
const DAILY: Table = Table { name: "environment.aqi_daily", key: "day", key_type: "date", new: "geosector_aqi_days" };

impl Table {
    /// The columns the refresh writes.
    fn columns(self) -> String {
        format!(
            "station_code, {}, aqi, level, colour, dominant, si_pm25, si_pm10, si_o3, si_no2, si_so2, si_co",
            self.key
        )
    }

    /// The touched ranges, `unnest`ed from the bound codes ($1) and range bounds ($2, $3).
    fn spans(self) -> String {
        format!("unnest($1::text[], $2::{}[], $3::{}[]) AS s(code, k0, k1)", self.key_type, self.key_type)
    }

    /// A stored row `t` lies in a touched range `s`.
    fn in_span(self) -> String {
        format!("t.station_code = s.code AND t.{key} >= s.k0 AND t.{key} < s.k1", key = self.key)
    }
}

/// Where a table's new values go: straight into it, or (when values are stored in the touched
/// ranges) into its temporary table, merged by [`merge`].
struct Target {
    table: Table,
    stored: bool,
}

impl Target {
    /// Looks whether `table` holds values in the touched ranges, and creates the temporary
    /// table when it does.
    async fn of<K: ToSql + Sync>(
        tx: &Transaction<'_>,
        table: Table,
        codes: &[&str],
        ranges: (&[K], &[K]),
    ) -> Result<Target, HookError> {
        let (spans, in_span, name, new) = (table.spans(), table.in_span(), table.name, table.new);
        let stored: bool = tx
            .query_one(
                &format!("SELECT EXISTS (SELECT 1 FROM {spans} WHERE EXISTS (SELECT 1 FROM {name} t WHERE {in_span}))"),
                &[&codes, &ranges.0, &ranges.1],
            )
            .await?
            .get(0);
        if stored {
            tx.batch_execute(&format!(
                "CREATE TEMP TABLE IF NOT EXISTS {new} ON COMMIT DROP AS SELECT {} FROM {name} WITH NO DATA;
                 TRUNCATE {new}",
                table.columns()
            ))
            .await?;
        }
        Ok(Target { table, stored })
    }

    /// The table the COPY writes into.
    fn copy_into(&self) -> &'static str {
        if self.stored {
            self.table.new
        } else {
            self.table.name
        }
    }
}

/// Merges a table's temporary table of new values into it: deletes the ranges' stale values
/// and upserts the new ones (changed rows only). Returns the rows inserted or changed.
async fn merge<K: ToSql + Sync>(
    tx: &Transaction<'_>,
    table: Table,
    codes: &[&str],
    ranges: (&[K], &[K]),
) -> Result<u64, HookError> {
    let (spans, in_span) = (table.spans(), table.in_span());
    let Table { name, key, new, .. } = table;
    tx.batch_execute(&format!("ANALYZE {new}")).await?;
    let columns = table.columns();
    tx.execute(
        &format!(
            "DELETE FROM {name} t USING {spans}
             WHERE {in_span} AND NOT EXISTS (SELECT 1 FROM {new} n WHERE n.station_code = t.station_code AND n.{key} = t.{key})"
        ),
        &[&codes, &ranges.0, &ranges.1],
    )
    .await?;
    Ok(tx
        .execute(
            &format!("INSERT INTO {name} AS t ({columns}) SELECT {columns} FROM {new} {}", upsert_changed(key)),
            &[],
        )
        .await?)
}

/// The `ON CONFLICT` clause of an index table (`t`) keyed by station and `key`: a stored row is
/// rewritten only when a value differs.
pub(crate) fn upsert_changed(key: &str) -> String {
    format!(
        "ON CONFLICT (station_code, {key}) DO UPDATE SET
                aqi = EXCLUDED.aqi, level = EXCLUDED.level, colour = EXCLUDED.colour, dominant = EXCLUDED.dominant,
                si_pm25 = EXCLUDED.si_pm25, si_pm10 = EXCLUDED.si_pm10, si_o3 = EXCLUDED.si_o3,
                si_no2 = EXCLUDED.si_no2, si_so2 = EXCLUDED.si_so2, si_co = EXCLUDED.si_co, computed_at = now()
         WHERE (t.aqi, t.dominant, t.si_pm25, t.si_pm10, t.si_o3, t.si_no2, t.si_so2, t.si_co)
               IS DISTINCT FROM (EXCLUDED.aqi, EXCLUDED.dominant, EXCLUDED.si_pm25, EXCLUDED.si_pm10,
                                 EXCLUDED.si_o3, EXCLUDED.si_no2, EXCLUDED.si_so2, EXCLUDED.si_co)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_covers_the_nowcast_window_and_whole_local_days() {
        // Hour 498_209 = 2026-11-02 00:00 local; a load of hours 498_210 to 498_220.
        let s = Span::new("S".into(), 498_210, 498_220, 12);
        assert_eq!(s.hours, (498_210, 498_231), "the 11 hours after the last read it");
        assert_eq!(s.days, (498_209, 498_209));
        assert_eq!(s.read, (498_199, 498_233), "11 hours before the first, and the whole last day");
    }

    #[test]
    fn a_span_is_cut_at_the_month() {
        let hour = |t: &str| crate::hours::hour_of(t.parse().unwrap());
        // 2026-08-31 06:00Z to 2026-09-01 11:00Z (+11 NowCast hours); local days start at 17:00Z.
        let s = Span::new("S".into(), hour("2026-08-31T06:00:00Z"), hour("2026-09-01T11:00:00Z"), 12);
        let aug = month_of_hour(s.hours.0);
        let sep = month_of_hour(aug.1);
        let a = s.within(aug, 12).unwrap();
        assert_eq!(a.hours, (s.hours.0, aug.1 - 1), "August's hours of the span");
        assert_eq!(a.days, (s.days.0, hour("2026-08-31T17:00:00Z")), "the days starting in August");
        assert_eq!(a.read, (s.read.0, a.days.1 + 24), "the whole last day, which runs into September");
        let b = s.within(sep, 12).unwrap();
        assert_eq!(b.hours, (aug.1, s.hours.1));
        assert!(b.days.0 > b.days.1, "no local day starts in September's part: {:?}", b.days);
        assert_eq!(b.read, (aug.1 - 11, s.hours.1 + 1), "the NowCast window reaches back into August");
        assert!(s.within(month_of_hour(sep.1), 12).is_none(), "nothing in October");
        // Every hour and day of the span is in exactly one part.
        assert_eq!((a.hours.1 - a.hours.0 + 1) + (b.hours.1 - b.hours.0 + 1), s.hours.1 - s.hours.0 + 1);
        assert_eq!(a.days.1 - a.days.0, s.days.1 - s.days.0);
    }

    #[test]
    fn chunks_hold_at_most_chunk_hours_unless_one_span_is_longer() {
        let span = |len: i64| Span { station: "S".into(), hours: (0, 0), days: (0, 0), read: (0, len) };
        let spans = [span(CHUNK_HOURS / 2), span(CHUNK_HOURS / 2), span(1), span(CHUNK_HOURS * 3), span(5)];
        let sizes: Vec<usize> = chunks(&spans).map(<[Span]>::len).collect();
        assert_eq!(sizes, [2, 1, 1, 1]);
        assert_eq!(chunks(&[]).count(), 0);
    }

    #[test]
    fn band_texts_are_the_bands_names_and_colours() {
        let cfg = IndexConfig::default();
        let texts = BandTexts::new(&cfg.aqi.bands);
        for v in [0, 50, 51, 87, 150, 151, 250, 301, 500] {
            let band = aqi::band_of(&cfg.aqi.bands, f64::from(v)).unwrap();
            assert_eq!(texts.of(&cfg.aqi.bands, v), (band.name_vi.as_str(), band.colour_hex().as_str()), "{v}");
        }
    }
}
