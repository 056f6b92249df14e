//! The environment sector's load hook ([`ObservationsHook`]): what an import of
//! `environment.observations` does beyond the generic load, called by the importer through
//! [`geosector_store::hook::LoadHook`].
//!
//! - Before reading ([`LoadHook::prepare`]): the known station codes are fetched, so every line
//!   is checked against them ([`ObservationCheck`], run by the import's workers): the station
//!   exists, the parameter symbol and unit are known and normalised (`PM2,5` → `PM2.5`, mg/m³ →
//!   µg/m³, see [`crate::parameters`]), the value is sensible, the time is not in the future,
//!   the status is 00/01/02 (00 when a manual sample gives none).
//! - After the rows move into the live table, in the same transaction
//!   ([`LoadHook::after_move`]): [`refresh_indices`] recomputes VN_AQI (hourly with NowCast,
//!   daily) and VN_WQI with the pure functions of [`crate::aqi`] and [`crate::wqi`] for exactly
//!   what the import touched, and the latest values on the stations. The indices are never out
//!   of step with the observations: both commit together, and a failure rolls both back.
//!
//! "Touched", per station: the hours from the first to the last staged observation plus the
//! NowCast window after them (an hour's NowCast reads the 11 hours before it), the local days
//! holding those first-to-last hours, and the staged sample times with a VN_WQI parameter. Only
//! status-00 values count.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use geosector_domain::{CellValue, Dataset};
use geosector_store::hook::{HookError, HookFuture, HookReport, LoadHook, RowCheck, RowRejection};
use tokio_postgres::Transaction;

use crate::aqi::{self, AqiValue, HourlySeries, Pollutant, SUB_INDEX_ORDER};
use crate::hours::{hour_of, local_date_of_day_start, time_of_hour};
use crate::parameters::{self, Field};
use crate::wqi::{self, Group};
use crate::IndexConfig;

/// Whether a dataset is the observations dataset this hook serves.
pub fn is_observations(dataset: &Dataset) -> bool {
    dataset.id == crate::OBSERVATIONS.id
}

/// The load hook of `environment.observations`, with the VN_AQI / VN_WQI settings in force
/// (`geosector import --index-config`).
#[derive(Debug, Clone, Default)]
pub struct ObservationsHook {
    config: IndexConfig,
}

impl ObservationsHook {
    /// The hook, computing the indices with `config`.
    pub fn new(config: IndexConfig) -> ObservationsHook {
        ObservationsHook { config }
    }

    /// The hook for `dataset` when it is the observations dataset, else `None`.
    pub fn for_dataset(dataset: &Dataset, config: IndexConfig) -> Option<ObservationsHook> {
        is_observations(dataset).then(|| ObservationsHook::new(config))
    }
}

impl LoadHook for ObservationsHook {
    fn prepare<'a>(
        &'a self,
        tx: &'a Transaction<'_>,
        dataset: &'static Dataset,
    ) -> HookFuture<'a, Option<Arc<dyn RowCheck>>> {
        Box::pin(async move {
            let check = ObservationCheck::prepare(tx, dataset).await?;
            Ok(check.map(|c| Arc::new(c) as Arc<dyn RowCheck>))
        })
    }

    fn after_move<'a>(
        &'a self,
        tx: &'a Transaction<'_>,
        staging: Option<&'a str>,
    ) -> HookFuture<'a, Option<HookReport>> {
        Box::pin(async move {
            let staging = staging.ok_or_else(|| {
                HookError::Failed(
                    "the observations' indices need the staged rows, and observations are never swapped in".into(),
                )
            })?;
            let refreshed = refresh_indices(tx, &self.config, staging).await?;
            Ok(Some(refreshed.report()))
        })
    }
}

/// Per-line checks and normalisation of observations, shared read-only by the rayon workers.
#[derive(Debug)]
pub struct ObservationCheck {
    stations: HashSet<String>,
    now: DateTime<Utc>,
    columns: [usize; 6],
}

impl ObservationCheck {
    /// Fetches the known stations; `None` for any other dataset.
    ///
    /// # Errors
    /// A database error.
    pub async fn prepare(tx: &Transaction<'_>, dataset: &Dataset) -> Result<Option<ObservationCheck>, HookError> {
        if !is_observations(dataset) {
            return Ok(None);
        }
        let stations = tx
            .query("SELECT station_code FROM environment.stations", &[])
            .await?
            .iter()
            .map(|r| r.get::<_, String>(0))
            .collect();
        Ok(Some(ObservationCheck::new(stations, Utc::now(), dataset)))
    }

    /// A check against these stations at this time.
    pub fn new(stations: HashSet<String>, now: DateTime<Utc>, dataset: &Dataset) -> ObservationCheck {
        let position = |name: &str| dataset.fields.iter().position(|f| f.column == name).unwrap_or(usize::MAX);
        let columns = ["station_code", "parameter", "value", "unit", "observed_at", "status"].map(position);
        ObservationCheck { stations, now, columns }
    }
}

impl RowCheck for ObservationCheck {
    /// Checks and normalises one row's cells in place.
    fn check(&self, cells: &mut [CellValue]) -> Result<(), RowRejection> {
        let [station, parameter, value, unit, time, status] = self.columns;
        if cells.len() <= [station, parameter, value, unit, time, status].into_iter().max().unwrap_or(0) {
            return Err(RowRejection::new("station_code", "the row does not have the observation columns".into()));
        }
        let fail = |field: &str, message: String| Err(RowRejection::new(field, message));
        if let CellValue::Text(code) = &cells[station] {
            if !self.stations.contains(code) {
                return fail(
                    "station_code",
                    format!("station \"{code}\" is not in environment.stations (import the stations first)"),
                );
            }
        }
        let (CellValue::Text(symbol), CellValue::Float(v)) = (&cells[parameter], &cells[value]) else {
            return fail("parameter", "parameter and value are required".into());
        };
        let unit_text = match &cells[unit] {
            CellValue::Text(u) => Some(u.as_str()),
            _ => None,
        };
        let n = parameters::normalise(symbol, *v, unit_text).map_err(|(field, message)| {
            let name = match field {
                Field::Parameter => "parameter",
                Field::Unit => "unit",
                Field::Value => "value",
            };
            RowRejection::new(name, message)
        })?;
        cells[parameter] = CellValue::Text(n.parameter.to_owned());
        cells[value] = CellValue::Float(n.value);
        cells[unit] = n.unit.map_or(CellValue::Null, CellValue::Text);
        if let CellValue::Timestamp(t) = &cells[time] {
            if t.with_timezone(&Utc) > self.now + chrono::Duration::hours(1) {
                return fail("observed_at", format!("{t} is in the future"));
            }
        }
        match &cells[status] {
            CellValue::Null => cells[status] = CellValue::Text("00".into()),
            CellValue::Text(s) if matches!(s.as_str(), "00" | "01" | "02") => {}
            other => return fail("status", format!("must be 00, 01 or 02 (TT 10/2021), got {other:?}")),
        }
        Ok(())
    }
}

/// What [`refresh_indices`] recomputed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexRefresh {
    /// Stations touched.
    pub stations: u64,
    /// Hourly AQI values written (inserted or updated).
    pub aqi_hours: u64,
    /// Daily AQI values written.
    pub aqi_days: u64,
    /// WQI values written.
    pub wqi_samples: u64,
}

impl IndexRefresh {
    /// The import report's section (JSON key `indices`) and summary line.
    pub fn report(&self) -> HookReport {
        HookReport {
            json: vec![
                ("stations", self.stations.into()),
                ("aqi_hours", self.aqi_hours.into()),
                ("aqi_days", self.aqi_days.into()),
                ("wqi_samples", self.wqi_samples.into()),
            ],
            line: format!(
                "indices: {} stations, {} hourly and {} daily VN_AQI, {} VN_WQI values written",
                self.stations, self.aqi_hours, self.aqi_days, self.wqi_samples
            ),
        }
    }
}

#[derive(Default)]
struct AqiRows<K> {
    keys: Vec<K>,
    aqi: Vec<i32>,
    level: Vec<String>,
    colour: Vec<String>,
    dominant: Vec<String>,
    sub: [Vec<Option<f64>>; 6],
}

impl<K> AqiRows<K> {
    fn push(&mut self, key: K, v: &AqiValue, cfg: &IndexConfig) {
        let band = aqi::band_of(&cfg.aqi.bands, f64::from(v.aqi));
        self.keys.push(key);
        self.aqi.push(v.aqi);
        self.level.push(band.map(|b| b.name_vi.clone()).unwrap_or_default());
        self.colour.push(band.map(|b| b.colour_hex()).unwrap_or_default());
        self.dominant.push(v.dominant.symbol().to_owned());
        for (i, p) in SUB_INDEX_ORDER.iter().enumerate() {
            let s = v.sub_indices.iter().find(|(q, _)| q == p).map(|&(_, s)| (s * 10.0).round() / 10.0);
            self.sub[i].push(s);
        }
    }
}

/// A station the staged rows touched: its code, first and last time of a VN_AQI pollutant, and
/// the distinct times of the VN_WQI parameters.
type Touched = (String, Option<DateTime<Utc>>, Option<DateTime<Utc>>, Vec<DateTime<Utc>>);

/// The stations the staged rows (the table `staging`, a quoted name the importer gives)
/// touched, in code order. One hashed aggregate over the load, and a second (the distinct sample
/// times, over the rows of VN_WQI parameters) only when the first counted such rows: neither
/// sorts the whole load.
async fn touched(tx: &Transaction<'_>, cfg: &IndexConfig, staging: &str) -> Result<Vec<Touched>, HookError> {
    let aqi_params: Vec<&str> = Pollutant::ALL.iter().map(|p| p.symbol()).collect();
    let wqi_params: Vec<&str> = cfg.wqi.curves.keys().map(String::as_str).collect();
    let ranges = tx
        .query(
            &format!(
                "SELECT station_code,
                        min(observed_at) FILTER (WHERE parameter = ANY($1)),
                        max(observed_at) FILTER (WHERE parameter = ANY($1)),
                        count(*) FILTER (WHERE parameter = ANY($2)) > 0
                 FROM {staging} GROUP BY station_code"
            ),
            &[&aqi_params, &wqi_params],
        )
        .await?;
    let mut samples: std::collections::HashMap<String, Vec<DateTime<Utc>>> = std::collections::HashMap::new();
    if ranges.iter().any(|r| r.get::<_, bool>(3)) {
        let rows = tx
            .query(
                &format!(
                    "SELECT station_code, array_agg(DISTINCT observed_at)
                     FROM {staging} WHERE parameter = ANY($1) GROUP BY station_code"
                ),
                &[&wqi_params],
            )
            .await?;
        samples = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    }
    let mut out: Vec<Touched> = ranges
        .iter()
        .map(|r| {
            let code: String = r.get(0);
            let times = samples.remove(&code).unwrap_or_default();
            (code, r.get(1), r.get(2), times)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Recomputes the indices the staged rows (the table `staging`, a quoted name the importer
/// gives) touched, inside the import's transaction, and the latest values on the stations:
/// VN_AQI set-based ([`crate::refresh`]), VN_WQI per station and sample time.
///
/// # Errors
/// A database error; the import is then rolled back.
pub async fn refresh_indices(
    tx: &Transaction<'_>,
    cfg: &IndexConfig,
    staging: &str,
) -> Result<IndexRefresh, HookError> {
    let start = std::time::Instant::now();
    let touched = touched(tx, cfg, staging).await?;
    tracing::info!(stations = touched.len(), seconds = start.elapsed().as_secs_f64(), "touched stations found");
    let window = i64::try_from(cfg.aqi.nowcast_hours).unwrap_or(12);
    let mut out = IndexRefresh::default();
    let mut spans = Vec::new();
    let mut stations = Vec::new();
    for (station, first, last, samples) in touched {
        if let (Some(first), Some(last)) = (first, last) {
            spans.push(crate::refresh::Span::new(station.clone(), hour_of(first), hour_of(last), window));
        }
        if !samples.is_empty() {
            out.wqi_samples += refresh_wqi(tx, &station, &samples, cfg).await?;
        }
        stations.push(station);
    }
    let written = crate::refresh::refresh_aqi(tx, cfg, &spans).await?;
    out.aqi_hours = written.hours;
    out.aqi_days = written.days;
    out.stations = stations.len() as u64;
    latest_on_stations(tx, &stations).await?;
    Ok(out)
}

/// [`refresh_indices`] one station at a time: a query of its hourly means, the values computed
/// and upserted per station. The method of the first releases, kept as the reference the
/// set-based refresh is tested against (`crates/geosector/tests/it/monitoring.rs`).
///
/// # Errors
/// A database error.
#[doc(hidden)]
pub async fn refresh_indices_per_station(
    tx: &Transaction<'_>,
    cfg: &IndexConfig,
    staging: &str,
) -> Result<IndexRefresh, HookError> {
    let aqi_params: Vec<&str> = Pollutant::ALL.iter().map(|p| p.symbol()).collect();
    let touched = touched(tx, cfg, staging).await?;
    let mut out = IndexRefresh::default();
    let window = i64::try_from(cfg.aqi.nowcast_hours).unwrap_or(12);
    let fetch = tx
        .prepare(
            "SELECT parameter, floor(extract(epoch FROM observed_at) / 3600)::bigint, avg(value)
             FROM environment.observations
             WHERE station_code = $1 AND parameter = ANY($2) AND status = '00'
               AND observed_at >= $3 AND observed_at < $4
             GROUP BY 1, 2",
        )
        .await?;
    let mut stations = Vec::new();
    for (station, first, last, samples) in touched {
        if let (Some(first), Some(last)) = (first, last) {
            let (h0, h1) = (hour_of(first), hour_of(last) + window - 1);
            let (d0, d1) = (aqi::local_day_start(hour_of(first)), aqi::local_day_start(hour_of(last)));
            let from = (h0 - window + 1).min(d0);
            let to = (h1 + 1).max(d1 + 24);
            tx.execute("SELECT environment.ensure_aqi_hourly_months($1, $2)", &[&time_of_hour(h0), &time_of_hour(h1)])
                .await?;
            let mut series = HourlySeries::new();
            for r in tx.query(&fetch, &[&station, &aqi_params, &time_of_hour(from), &time_of_hour(to)]).await? {
                let symbol: String = r.get(0);
                if let Some(p) = Pollutant::from_symbol(&symbol) {
                    series.entry(p).or_default().insert(r.get::<_, i64>(1), r.get::<_, f64>(2));
                }
            }
            let mut hours = AqiRows::<DateTime<Utc>>::default();
            for h in h0..=h1 {
                if let Some(v) = aqi::hourly_aqi(&series, h, &cfg.aqi) {
                    hours.push(time_of_hour(h), &v, cfg);
                }
            }
            let mut days = AqiRows::<NaiveDate>::default();
            let mut d = d0;
            while d <= d1 {
                if let Some(v) = aqi::daily_aqi(&series, d, &cfg.aqi) {
                    days.push(local_date_of_day_start(d), &v, cfg);
                }
                d += 24;
            }
            out.aqi_hours += write_aqi(
                tx,
                "aqi_hourly",
                "observed_at",
                "timestamptz",
                &station,
                &hours,
                (&time_of_hour(h0) as &(dyn tokio_postgres::types::ToSql + Sync), &time_of_hour(h1 + 1)),
            )
            .await?;
            out.aqi_days += write_aqi(
                tx,
                "aqi_daily",
                "day",
                "date",
                &station,
                &days,
                (
                    &local_date_of_day_start(d0) as &(dyn tokio_postgres::types::ToSql + Sync),
                    &local_date_of_day_start(d1 + 24),
                ),
            )
            .await?;
        }
        if !samples.is_empty() {
            out.wqi_samples += refresh_wqi(tx, &station, &samples, cfg).await?;
        }
        stations.push(station);
    }
    out.stations = stations.len() as u64;
    latest_on_stations(tx, &stations).await?;
    Ok(out)
}

/// The latest hourly VN_AQI and VN_WQI on each touched station, written only when they moved.
async fn latest_on_stations(tx: &Transaction<'_>, stations: &[String]) -> Result<(), HookError> {
    for (index, table) in [("aqi", "aqi_hourly"), ("wqi", "wqi")] {
        let sql = format!(
            "UPDATE environment.stations s
             SET {index} = h.{index}, {index}_level = h.level, {index}_colour = h.colour, {index}_at = h.observed_at
             FROM unnest($1::text[]) AS c(code)
             CROSS JOIN LATERAL (SELECT {index}, level, colour, observed_at FROM environment.{table} i
                                 WHERE i.station_code = c.code ORDER BY observed_at DESC LIMIT 1) AS h
             WHERE s.station_code = c.code AND (s.{index}, s.{index}_at) IS DISTINCT FROM (h.{index}, h.observed_at)"
        );
        tx.execute(&sql, &[&stations]).await?;
    }
    Ok(())
}

/// Upserts one station's AQI rows of a range and deletes the range's rows that no longer have
/// a value (e.g. hours re-sent as calibration). Table and column names are constants of this
/// module; every value is bound.
async fn write_aqi<K: tokio_postgres::types::ToSql + Sync>(
    tx: &Transaction<'_>,
    table: &str,
    key: &str,
    key_type: &str,
    station: &str,
    rows: &AqiRows<K>,
    range: (&(dyn tokio_postgres::types::ToSql + Sync), &(dyn tokio_postgres::types::ToSql + Sync)),
) -> Result<u64, HookError> {
    let [s0, s1, s2, s3, s4, s5] = &rows.sub;
    tx.execute(
        &format!(
            "DELETE FROM environment.{table} WHERE station_code = $1 AND {key} >= $2 AND {key} < $3 AND {key} <> ALL($4)"
        ),
        &[&station, range.0, range.1, &rows.keys],
    )
    .await?;
    if rows.keys.is_empty() {
        return Ok(0);
    }
    let written = tx
        .execute(
            &format!(
                "INSERT INTO environment.{table} AS t (station_code, {key}, aqi, level, colour, dominant,
                        si_pm25, si_pm10, si_o3, si_no2, si_so2, si_co)
                 SELECT $1, * FROM unnest($2::{key_type}[], $3::int[], $4::text[], $5::text[], $6::text[],
                        $7::float8[], $8::float8[], $9::float8[], $10::float8[], $11::float8[], $12::float8[])
                 {}",
                crate::refresh::upsert_changed(key)
            ),
            &[&station, &rows.keys, &rows.aqi, &rows.level, &rows.colour, &rows.dominant, s0, s1, s2, s3, s4, s5],
        )
        .await?;
    Ok(written)
}

/// Recomputes the WQI of one station's sample times.
async fn refresh_wqi(
    tx: &Transaction<'_>,
    station: &str,
    times: &[DateTime<Utc>],
    cfg: &IndexConfig,
) -> Result<u64, HookError> {
    let rows = tx
        .query(
            "SELECT observed_at, parameter, value FROM environment.observations
             WHERE station_code = $1 AND observed_at = ANY($2) AND status = '00'",
            &[&station, &times],
        )
        .await?;
    let mut samples: BTreeMap<DateTime<Utc>, Vec<(String, f64)>> = BTreeMap::new();
    for r in rows {
        samples.entry(r.get(0)).or_default().push((r.get(1), r.get(2)));
    }
    let (mut at, mut value, mut level, mut colour) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut groups: [Vec<Option<f64>>; 5] = Default::default();
    for (t, values) in &samples {
        let sample: Vec<(&str, f64)> = values.iter().map(|(p, v)| (p.as_str(), *v)).collect();
        let Ok(v) = wqi::wqi(&sample, &cfg.wqi) else { continue };
        let band = aqi::band_of(&cfg.wqi.bands, f64::from(v.wqi));
        at.push(*t);
        value.push(v.wqi);
        level.push(band.map(|b| b.name_vi.clone()).unwrap_or_default());
        colour.push(band.map(|b| b.colour_hex()).unwrap_or_default());
        for (i, g) in [Group::I, Group::II, Group::III, Group::IV, Group::V].iter().enumerate() {
            groups[i].push(v.groups.get(g).map(|x| (x * 10.0).round() / 10.0));
        }
    }
    tx.execute(
        "DELETE FROM environment.wqi WHERE station_code = $1 AND observed_at = ANY($2) AND observed_at <> ALL($3)",
        &[&station, &times, &at],
    )
    .await?;
    if at.is_empty() {
        return Ok(0);
    }
    let [g1, g2, g3, g4, g5] = &groups;
    let written = tx
        .execute(
            "INSERT INTO environment.wqi AS t (station_code, observed_at, wqi, level, colour, wqi_i, wqi_ii, wqi_iii, wqi_iv, wqi_v)
             SELECT $1, * FROM unnest($2::timestamptz[], $3::int[], $4::text[], $5::text[],
                                      $6::float8[], $7::float8[], $8::float8[], $9::float8[], $10::float8[])
             ON CONFLICT (station_code, observed_at) DO UPDATE SET
                    wqi = EXCLUDED.wqi, level = EXCLUDED.level, colour = EXCLUDED.colour, wqi_i = EXCLUDED.wqi_i,
                    wqi_ii = EXCLUDED.wqi_ii, wqi_iii = EXCLUDED.wqi_iii, wqi_iv = EXCLUDED.wqi_iv,
                    wqi_v = EXCLUDED.wqi_v, computed_at = now()
             WHERE (t.wqi, t.wqi_i, t.wqi_ii, t.wqi_iii, t.wqi_iv, t.wqi_v)
                   IS DISTINCT FROM (EXCLUDED.wqi, EXCLUDED.wqi_i, EXCLUDED.wqi_ii, EXCLUDED.wqi_iii, EXCLUDED.wqi_iv, EXCLUDED.wqi_v)",
            &[&station, &at, &value, &level, &colour, g1, g2, g3, g4, g5],
        )
        .await?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check() -> ObservationCheck {
        ObservationCheck::new(HashSet::from(["S1".to_owned()]), Utc::now(), &crate::OBSERVATIONS)
    }

    fn cells(station: &str, parameter: &str, value: f64, unit: &str, status: Option<&str>) -> Vec<CellValue> {
        vec![
            CellValue::Text(station.into()),
            CellValue::Text(parameter.into()),
            CellValue::Float(value),
            CellValue::Text(unit.into()),
            CellValue::Timestamp(chrono::DateTime::parse_from_rfc3339("2026-11-02T08:00:00+07:00").unwrap()),
            status.map_or(CellValue::Null, |s| CellValue::Text(s.into())),
            CellValue::Null,
        ]
    }

    #[test]
    fn observations_are_normalised() {
        let mut row = cells("S1", "PM2,5", 35.0, "ug/Nm3", Some("00"));
        check().check(&mut row).unwrap();
        assert_eq!(row[1], CellValue::Text("PM2.5".into()));
        assert_eq!(row[3], CellValue::Text("µg/m³".into()));
        let mut row = cells("S1", "CO", 1.5, "mg/Nm3", None);
        check().check(&mut row).unwrap();
        assert_eq!(row[2], CellValue::Float(1500.0));
        assert_eq!(row[5], CellValue::Text("00".into()), "manual samples are valid measurements");
    }

    #[test]
    fn bad_rows_name_the_column() {
        let field = |mut row: Vec<CellValue>| check().check(&mut row).unwrap_err().column;
        assert_eq!(field(cells("S9", "PM10", 1.0, "ug/m3", None)), "station_code");
        assert_eq!(field(cells("S1", "XYZ", 1.0, "ug/m3", None)), "parameter");
        assert_eq!(field(cells("S1", "PM10", 1.0, "mg/L", None)), "unit");
        assert_eq!(field(cells("S1", "PM10", -1.0, "ug/m3", None)), "value");
        assert_eq!(field(cells("S1", "PM10", 1.0, "ug/m3", Some("7"))), "status");
        let mut future = cells("S1", "PM10", 1.0, "ug/m3", None);
        future[4] = CellValue::Timestamp((Utc::now() + chrono::Duration::days(2)).fixed_offset());
        assert_eq!(check().check(&mut future).unwrap_err().column, "observed_at");
    }

    #[test]
    fn the_report_section_keeps_its_members_and_line() {
        let refresh = IndexRefresh { stations: 2, aqi_hours: 30, aqi_days: 3, wqi_samples: 1 };
        let report = refresh.report();
        let names: Vec<&str> = report.json.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, ["stations", "aqi_hours", "aqi_days", "wqi_samples"]);
        assert_eq!(report.json[1].1, serde_json::json!(30));
        assert_eq!(report.line, "indices: 2 stations, 30 hourly and 3 daily VN_AQI, 1 VN_WQI values written");
    }

    #[test]
    fn the_hook_is_only_for_observations() {
        assert!(ObservationsHook::for_dataset(&crate::OBSERVATIONS, IndexConfig::default()).is_some());
        assert!(ObservationsHook::for_dataset(&crate::STATIONS, IndexConfig::default()).is_none());
    }

    #[test]
    fn local_dates() {
        // Hour 498_209 = 2026-11-01 17:00 UTC = 2026-11-02 00:00 local.
        assert_eq!(local_date_of_day_start(498_209), NaiveDate::from_ymd_opt(2026, 11, 2).unwrap());
    }
}
