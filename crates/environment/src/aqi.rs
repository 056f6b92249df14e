//! VN_AQI, the air-quality index of Decision 1459/QĐ-TCMT (12 Nov 2019), as pure functions.
//!
//! - A pollutant's sub-index interpolates linearly between the breakpoints of its row:
//!   `Ix = (I_{i+1} − I_i) / (BP_{i+1} − BP_i) × (C − BP_i) + I_i`, concentrations in µg/m³.
//! - The hourly AQI is the maximum of the hourly sub-indices of SO2, CO, NO2, O3 (1-hour means)
//!   and of PM10 and PM2.5, whose concentration is the 12-hour NowCast ([`nowcast`]). Without a
//!   PM10 or PM2.5 sub-index there is no AQI.
//! - The daily AQI ([`daily_aqi`]) is the maximum of the sub-indices of the 24-hour mean of
//!   PM10/PM2.5 and of the day's largest hourly sub-index of each gas. This reading of the
//!   decision's daily method is marked unconfirmed in docs/monitoring.md.
//! - Values are rounded to an integer and capped at 500; bands and colours are [`AqiConfig::bands`].
//!
//! Every breakpoint and rule the domain brief marks unconfirmed is a field of [`AqiConfig`], with
//! the brief's values as defaults; see docs/monitoring.md for how to override them.

use serde::{Deserialize, Serialize};

/// The pollutants of VN_AQI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Pollutant {
    /// Fine particles, PM2.5 (NowCast).
    Pm25,
    /// Particles, PM10 (NowCast).
    Pm10,
    /// Ozone, 1-hour mean.
    O3,
    /// Nitrogen dioxide.
    No2,
    /// Sulphur dioxide.
    So2,
    /// Carbon monoxide.
    Co,
}

/// Sub-index columns in the order of the tables (si_pm25 … si_co).
pub(crate) const SUB_INDEX_ORDER: [Pollutant; 6] =
    [Pollutant::Pm25, Pollutant::Pm10, Pollutant::O3, Pollutant::No2, Pollutant::So2, Pollutant::Co];

impl Pollutant {
    /// Every pollutant, PM first.
    pub const ALL: [Pollutant; 6] =
        [Pollutant::Pm25, Pollutant::Pm10, Pollutant::O3, Pollutant::No2, Pollutant::So2, Pollutant::Co];

    /// The canonical parameter symbol stored in observations (see [`crate::parameters`]).
    pub fn symbol(self) -> &'static str {
        match self {
            Pollutant::Pm25 => "PM2.5",
            Pollutant::Pm10 => "PM10",
            Pollutant::O3 => "O3",
            Pollutant::No2 => "NO2",
            Pollutant::So2 => "SO2",
            Pollutant::Co => "CO",
        }
    }

    /// The pollutant of a canonical parameter symbol.
    pub fn from_symbol(symbol: &str) -> Option<Pollutant> {
        Pollutant::ALL.into_iter().find(|p| p.symbol() == symbol)
    }

    /// Whether its hourly concentration is a NowCast (PM10, PM2.5).
    pub fn is_pm(self) -> bool {
        matches!(self, Pollutant::Pm25 | Pollutant::Pm10)
    }
}

/// One band of an index scale: a range of values, its level name and colour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    /// Lowest value of the band (inclusive).
    pub min: f64,
    /// Highest value of the band (inclusive).
    pub max: f64,
    /// Level name in Vietnamese, as the decision writes it.
    pub name_vi: String,
    /// Level name in English.
    pub name_en: String,
    /// Colour as R, G, B.
    pub rgb: [u8; 3],
}

impl Band {
    /// The colour as `#rrggbb`.
    pub fn colour_hex(&self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.rgb[0], self.rgb[1], self.rgb[2])
    }
}

fn band(min: f64, max: f64, vi: &str, en: &str, rgb: [u8; 3]) -> Band {
    Band { min, max, name_vi: vi.to_owned(), name_en: en.to_owned(), rgb }
}

/// The band a value falls in (the first whose range holds it; values between two bands' ranges,
/// e.g. 50.5 before rounding, go to the upper one).
pub fn band_of(bands: &[Band], value: f64) -> Option<&Band> {
    band_index_of(bands, value).and_then(|i| bands.get(i))
}

/// The position of [`band_of`]'s band in `bands`.
pub fn band_index_of(bands: &[Band], value: f64) -> Option<usize> {
    bands.iter().position(|b| value >= b.min && value <= b.max).or_else(|| bands.iter().position(|b| value < b.min))
}

/// VN_AQI settings: breakpoints, NowCast and daily rules, bands. Defaults are the domain brief's
/// values; fields left out of a TOML override keep their default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AqiConfig {
    /// Index values `I_i` the breakpoint rows map to (0/50/100/150/200/300/400/500).
    pub levels: Vec<f64>,
    /// PM2.5 breakpoints, µg/m³ (NowCast or 24-hour mean).
    pub pm25: Vec<f64>,
    /// PM10 breakpoints, µg/m³.
    pub pm10: Vec<f64>,
    /// O3 1-hour breakpoints, µg/m³.
    pub o3_1h: Vec<f64>,
    /// NO2 breakpoints, µg/m³.
    pub no2: Vec<f64>,
    /// SO2 breakpoints, µg/m³.
    pub so2: Vec<f64>,
    /// CO breakpoints, µg/m³.
    pub co: Vec<f64>,
    /// Hours of the NowCast window (12).
    pub nowcast_hours: usize,
    /// How many of the 3 most recent hours the NowCast needs (2, the EPA rule; unconfirmed for
    /// QĐ 1459).
    pub nowcast_min_recent: usize,
    /// Lower bound of the NowCast weight for PM (0.5).
    pub nowcast_min_weight: f64,
    /// Hourly means a 24-hour PM mean needs for a daily AQI (18 of 24; unconfirmed).
    pub daily_min_hours: usize,
    /// Bands and colours.
    pub bands: Vec<Band>,
}

impl Default for AqiConfig {
    fn default() -> Self {
        AqiConfig {
            levels: vec![0.0, 50.0, 100.0, 150.0, 200.0, 300.0, 400.0, 500.0],
            pm25: vec![0.0, 25.0, 50.0, 80.0, 150.0, 250.0, 350.0, 500.0],
            pm10: vec![0.0, 50.0, 150.0, 250.0, 350.0, 420.0, 500.0, 600.0],
            o3_1h: vec![0.0, 160.0, 200.0, 300.0, 400.0, 800.0, 1000.0, 1200.0],
            no2: vec![0.0, 100.0, 200.0, 700.0, 1200.0, 2350.0, 3100.0, 3850.0],
            so2: vec![0.0, 125.0, 350.0, 550.0, 800.0, 1600.0, 2100.0, 2630.0],
            co: vec![0.0, 10000.0, 30000.0, 45000.0, 60000.0, 90000.0, 120000.0, 150000.0],
            nowcast_hours: 12,
            nowcast_min_recent: 2,
            nowcast_min_weight: 0.5,
            daily_min_hours: 18,
            bands: vec![
                band(0.0, 50.0, "Tốt", "Good", [0, 228, 0]),
                band(51.0, 100.0, "Trung bình", "Moderate", [255, 255, 0]),
                band(101.0, 150.0, "Kém", "Poor", [255, 126, 0]),
                band(151.0, 200.0, "Xấu", "Bad", [255, 0, 0]),
                band(201.0, 300.0, "Rất xấu", "Very bad", [143, 63, 151]),
                band(301.0, 500.0, "Nguy hại", "Hazardous", [126, 0, 35]),
            ],
        }
    }
}

impl AqiConfig {
    /// The breakpoint row of a pollutant.
    pub fn breakpoints(&self, p: Pollutant) -> &[f64] {
        match p {
            Pollutant::Pm25 => &self.pm25,
            Pollutant::Pm10 => &self.pm10,
            Pollutant::O3 => &self.o3_1h,
            Pollutant::No2 => &self.no2,
            Pollutant::So2 => &self.so2,
            Pollutant::Co => &self.co,
        }
    }

    /// Checks the settings: every row as long as `levels` and increasing, sensible NowCast rules.
    ///
    /// # Errors
    /// A sentence naming the first bad setting.
    pub fn validate(&self) -> Result<(), String> {
        increasing("aqi.levels", &self.levels)?;
        for p in Pollutant::ALL {
            let row = self.breakpoints(p);
            let name = format!("aqi breakpoints of {}", p.symbol());
            increasing(&name, row)?;
            if row.len() != self.levels.len() {
                return Err(format!("{name}: {} values, but aqi.levels has {}", row.len(), self.levels.len()));
            }
        }
        if self.nowcast_hours < 3 || self.nowcast_min_recent > 3 || self.nowcast_min_recent == 0 {
            return Err("aqi.nowcast_hours must be at least 3 and aqi.nowcast_min_recent 1 to 3".into());
        }
        if !(0.0..=1.0).contains(&self.nowcast_min_weight) {
            return Err("aqi.nowcast_min_weight must be between 0 and 1".into());
        }
        if self.daily_min_hours == 0 || self.daily_min_hours > 24 {
            return Err("aqi.daily_min_hours must be 1 to 24".into());
        }
        if self.bands.is_empty() {
            return Err("aqi.bands is empty".into());
        }
        Ok(())
    }
}

pub(crate) fn increasing(name: &str, row: &[f64]) -> Result<(), String> {
    if row.len() < 2 {
        return Err(format!("{name}: needs at least 2 values"));
    }
    if row.windows(2).any(|w| w[1].partial_cmp(&w[0]) != Some(std::cmp::Ordering::Greater)) {
        return Err(format!("{name}: values must increase strictly"));
    }
    Ok(())
}

/// The sub-index of a concentration on a breakpoint row (QĐ 1459 interpolation). Concentrations
/// above the last breakpoint get the last level (500: the index is capped). `None` for a
/// negative or non-finite concentration.
pub fn sub_index(concentration: f64, breakpoints: &[f64], levels: &[f64]) -> Option<f64> {
    if !concentration.is_finite() || concentration < 0.0 || breakpoints.len() < 2 {
        return None;
    }
    let n = breakpoints.len().min(levels.len());
    for i in 0..n - 1 {
        let (bp0, bp1) = (breakpoints[i], breakpoints[i + 1]);
        if concentration <= bp1 {
            let (i0, i1) = (levels[i], levels[i + 1]);
            return Some((i1 - i0) / (bp1 - bp0) * (concentration - bp0) + i0);
        }
    }
    Some(levels[n - 1])
}

/// The NowCast concentration of PM at an hour.
///
/// `hours[0]` is the hour's mean, `hours[1]` the hour before, …; `None` marks a missing hour
/// (no valid measurement). Only the first `cfg.nowcast_hours` entries count. It needs at least
/// `cfg.nowcast_min_recent` of the 3 most recent hours, else `None`.
/// `w* = Cmin / Cmax` over the hours present, `w = max(w*, cfg.nowcast_min_weight)`,
/// `NowCast = Σ wⁱ·cᵢ / Σ wⁱ` over the hours present (a missing hour drops its term).
pub fn nowcast(hours: &[Option<f64>], cfg: &AqiConfig) -> Option<f64> {
    let window = &hours[..hours.len().min(cfg.nowcast_hours)];
    let recent = window.iter().take(3).filter(|h| h.is_some()).count();
    if recent < cfg.nowcast_min_recent {
        return None;
    }
    let present = || window.iter().enumerate().filter_map(|(i, c)| c.map(|c| (i, c)));
    let cmax = present().map(|(_, c)| c).fold(f64::NEG_INFINITY, f64::max);
    let cmin = present().map(|(_, c)| c).fold(f64::INFINITY, f64::min);
    if cmax <= 0.0 {
        return Some(0.0);
    }
    let w = (cmin / cmax).max(cfg.nowcast_min_weight);
    let (mut num, mut den) = (0.0, 0.0);
    for (i, c) in present() {
        let wi = w.powi(i32::try_from(i).unwrap_or(i32::MAX));
        num += wi * c;
        den += wi;
    }
    Some(num / den)
}

/// An index value with its dominant pollutant and every sub-index.
#[derive(Debug, Clone, PartialEq)]
pub struct AqiValue {
    /// The index, rounded to an integer and capped at 500.
    pub aqi: i32,
    /// The pollutant with the largest sub-index.
    pub dominant: Pollutant,
    /// Sub-index of each pollutant that had one (unrounded).
    pub sub_indices: Vec<(Pollutant, f64)>,
}

/// The AQI of a set of concentrations (µg/m³; PM already as NowCast or 24-hour mean): the
/// largest sub-index, or `None` when neither PM10 nor PM2.5 is among them.
pub fn aqi_of(concentrations: &[(Pollutant, f64)], cfg: &AqiConfig) -> Option<AqiValue> {
    let sub: Vec<(Pollutant, f64)> = concentrations
        .iter()
        .filter_map(|&(p, c)| sub_index(c, cfg.breakpoints(p), &cfg.levels).map(|i| (p, i)))
        .collect();
    combine(sub)
}

fn combine(sub: Vec<(Pollutant, f64)>) -> Option<AqiValue> {
    if !sub.iter().any(|(p, _)| p.is_pm()) {
        return None;
    }
    let &(dominant, max) = sub.iter().max_by(|a, b| a.1.total_cmp(&b.1))?;
    // Round half up, as the decision rounds to an integer; cap at 500.
    let aqi = (max + 0.5).floor().clamp(0.0, 500.0);
    #[expect(clippy::cast_possible_truncation, reason = "clamped to 0..=500 above")]
    Some(AqiValue { aqi: aqi as i32, dominant, sub_indices: sub })
}

/// Hourly means of one station, pollutant by pollutant, indexed by hour number (hours since the
/// Unix epoch, UTC; hour `h` holds the mean of measurements in `[h, h+1)`).
pub type HourlySeries = std::collections::BTreeMap<Pollutant, std::collections::BTreeMap<i64, f64>>;

/// The hourly AQI of a station at hour `hour`: gases from that hour's means, PM from the NowCast
/// over the hours before it. `None` when no PM sub-index can be computed.
pub fn hourly_aqi(series: &HourlySeries, hour: i64, cfg: &AqiConfig) -> Option<AqiValue> {
    let mut conc = Vec::new();
    for (&p, values) in series {
        let c = if p.is_pm() {
            // One range walk over the window instead of a lookup per hour.
            let mut window = vec![None; cfg.nowcast_hours];
            let first =
                hour.saturating_sub(i64::try_from(cfg.nowcast_hours).unwrap_or(i64::MAX).saturating_sub(1).max(0));
            for (&h, &c) in values.range(first..=hour) {
                if let Some(slot) = usize::try_from(hour - h).ok().and_then(|back| window.get_mut(back)) {
                    *slot = Some(c);
                }
            }
            nowcast(&window, cfg)
        } else {
            values.get(&hour).copied()
        };
        if let Some(c) = c {
            conc.push((p, c));
        }
    }
    aqi_of(&conc, cfg)
}

/// The daily AQI of a station for the 24 hours starting at hour `first_hour` (a local day:
/// Vietnam is UTC+7): PM from the 24-hour mean of the hourly means (at least
/// `cfg.daily_min_hours` of them), each gas from its largest hourly sub-index of the day.
pub fn daily_aqi(series: &HourlySeries, first_hour: i64, cfg: &AqiConfig) -> Option<AqiValue> {
    let mut sub = Vec::new();
    for (&p, values) in series {
        let day: Vec<f64> = values.range(first_hour..first_hour + 24).map(|(_, &c)| c).collect();
        if day.is_empty() {
            continue;
        }
        let index = if p.is_pm() {
            if day.len() < cfg.daily_min_hours {
                continue;
            }
            #[expect(clippy::cast_precision_loss, reason = "at most 24 values")]
            let mean = day.iter().sum::<f64>() / day.len() as f64;
            sub_index(mean, cfg.breakpoints(p), &cfg.levels)
        } else {
            day.iter().filter_map(|&c| sub_index(c, cfg.breakpoints(p), &cfg.levels)).max_by(f64::total_cmp)
        };
        if let Some(i) = index {
            sub.push((p, i));
        }
    }
    combine(sub)
}

/// The hour number (hours since the Unix epoch) at which the local (UTC+7) day holding `hour`
/// starts.
pub fn local_day_start(hour: i64) -> i64 {
    (hour + 7).div_euclid(24) * 24 - 7
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn defaults_are_valid() {
        AqiConfig::default().validate().unwrap();
    }

    #[test]
    fn sub_index_interpolates_between_breakpoints() {
        let cfg = AqiConfig::default();
        // PM2.5 = 35 µg/m³ lies in [25, 50] ↦ [50, 100]: (100 − 50)/(50 − 25) × (35 − 25) + 50 = 70.
        assert!(close(sub_index(35.0, &cfg.pm25, &cfg.levels).unwrap(), 70.0));
        // PM10 = 200 in [150, 250] ↦ [100, 150]: 50/100 × 50 + 100 = 125.
        assert!(close(sub_index(200.0, &cfg.pm10, &cfg.levels).unwrap(), 125.0));
        // NO2 = 150 in [100, 200] ↦ [50, 100]: 50/100 × 50 + 50 = 75.
        assert!(close(sub_index(150.0, &cfg.no2, &cfg.levels).unwrap(), 75.0));
        // CO = 5000 in [0, 10000] ↦ [0, 50]: 50/10000 × 5000 = 25.
        assert!(close(sub_index(5000.0, &cfg.co, &cfg.levels).unwrap(), 25.0));
        // On a breakpoint: PM2.5 = 50 → 100. Above the last (500) → capped at 500.
        assert!(close(sub_index(50.0, &cfg.pm25, &cfg.levels).unwrap(), 100.0));
        assert!(close(sub_index(900.0, &cfg.pm25, &cfg.levels).unwrap(), 500.0));
        assert_eq!(sub_index(-1.0, &cfg.pm25, &cfg.levels), None);
        assert_eq!(sub_index(f64::NAN, &cfg.pm25, &cfg.levels), None);
    }

    #[test]
    fn aqi_is_the_largest_sub_index_and_needs_pm() {
        let cfg = AqiConfig::default();
        // Sub-indices: PM2.5 35 → 70; PM10 200 → 125; NO2 150 → 75; SO2 100 → 50/125 × 100 = 40.
        // AQI = max = 125 (PM10), band "Kém" (101–150), orange 255;126;0.
        let v = aqi_of(
            &[(Pollutant::Pm25, 35.0), (Pollutant::Pm10, 200.0), (Pollutant::No2, 150.0), (Pollutant::So2, 100.0)],
            &cfg,
        )
        .unwrap();
        assert_eq!(v.aqi, 125);
        assert_eq!(v.dominant, Pollutant::Pm10);
        let b = band_of(&cfg.bands, f64::from(v.aqi)).unwrap();
        assert_eq!((b.name_vi.as_str(), b.colour_hex().as_str()), ("Kém", "#ff7e00"));
        // Gases only: no AQI (QĐ 1459: PM10 or PM2.5 is mandatory).
        assert_eq!(aqi_of(&[(Pollutant::No2, 150.0), (Pollutant::O3, 300.0)], &cfg), None);
        // O3 = 300 → 150 dominates PM2.5 = 10 → 20; 50.4 rounds to 50 (Tốt), 50.5 to 51.
        assert_eq!(aqi_of(&[(Pollutant::Pm25, 10.0), (Pollutant::O3, 300.0)], &cfg).unwrap().aqi, 150);
        assert_eq!(aqi_of(&[(Pollutant::Pm25, 25.2)], &cfg).unwrap().aqi, 50); // 50 + 2 × 0.2 = 50.4
        assert_eq!(aqi_of(&[(Pollutant::Pm25, 25.25)], &cfg).unwrap().aqi, 51); // 50.5
        assert_eq!(aqi_of(&[(Pollutant::Pm10, 5000.0)], &cfg).unwrap().aqi, 500);
    }

    #[test]
    fn nowcast_weights_recent_hours() {
        let cfg = AqiConfig::default();
        // Three hours 50, 40, 30 (most recent first), nine missing: Cmin/Cmax = 30/50 = 0.6 > 0.5,
        // so w = 0.6: (50 + 0.6·40 + 0.36·30) / (1 + 0.6 + 0.36) = 84.8 / 1.96 = 43.2653…
        let mut hours = vec![Some(50.0), Some(40.0), Some(30.0)];
        hours.resize(12, None);
        let c = nowcast(&hours, &cfg).unwrap();
        assert!(close(c, 84.8 / 1.96), "{c}");
        // As PM2.5: (100 − 50)/(50 − 25) × (43.2653 − 25) + 50 = 86.53 → AQI 87.
        assert_eq!(aqi_of(&[(Pollutant::Pm25, c)], &cfg).unwrap().aqi, 87);
        // Cmin/Cmax = 10/100 = 0.1 < 0.5 → w = 0.5: (100 + 0.5·10) / 1.5 = 70.
        assert!(close(nowcast(&[Some(100.0), Some(10.0)], &cfg).unwrap(), 70.0));
        // Twelve equal hours: the mean itself.
        assert!(close(nowcast(&[Some(20.0); 12], &cfg).unwrap(), 20.0));
        // Hours beyond the 12-hour window are ignored.
        let mut long = vec![Some(20.0); 12];
        long.push(Some(1000.0));
        assert!(close(nowcast(&long, &cfg).unwrap(), 20.0));
    }

    #[test]
    fn nowcast_edge_cases() {
        let cfg = AqiConfig::default();
        // Only 1 of the 3 most recent hours: too few (the EPA rule: 2 of 3).
        assert_eq!(nowcast(&[Some(30.0), None, None, Some(30.0), Some(30.0)], &cfg), None);
        // Current hour missing but the two before present: allowed. A missing hour drops its
        // term, the weights keep their age: w* = 20/40 = 0.5, (0.5·40 + 0.25·20)/(0.5 + 0.25) = 33.33…
        let c = nowcast(&[None, Some(40.0), Some(20.0)], &cfg).unwrap();
        assert!(close(c, 25.0 / 0.75), "{c}");
        // Nothing at all, or an empty window.
        assert_eq!(nowcast(&[None; 12], &cfg), None);
        assert_eq!(nowcast(&[], &cfg), None);
        // All zero: 0, not a division by zero.
        assert_eq!(nowcast(&[Some(0.0), Some(0.0)], &cfg), Some(0.0));
        // A stricter rule set in the configuration: all 3 recent hours required.
        let strict = AqiConfig { nowcast_min_recent: 3, ..AqiConfig::default() };
        assert_eq!(nowcast(&[Some(10.0), Some(10.0), None], &strict), None);
    }

    #[test]
    fn hourly_and_daily_from_series() {
        let cfg = AqiConfig::default();
        let mut series = HourlySeries::new();
        // PM2.5 50, 40, 30 at hours 102, 101, 100; NO2 250 at hour 102.
        series.entry(Pollutant::Pm25).or_default().extend([(100, 30.0), (101, 40.0), (102, 50.0)]);
        series.entry(Pollutant::No2).or_default().insert(102, 250.0);
        // Hour 102: PM2.5 NowCast 43.265 → 86.53; NO2 250 in [200, 700] ↦ [100, 150]:
        // 50/500 × 50 + 100 = 105 → AQI 105 (NO2).
        let v = hourly_aqi(&series, 102, &cfg).unwrap();
        assert_eq!((v.aqi, v.dominant), (105, Pollutant::No2));
        // Hour 103: PM 2 of the 3 recent hours (102, 101): NowCast (0.6·50 + 0.36·40 + 0.216·30) /
        // (0.6 + 0.36 + 0.216) = 50.88 / 1.176 = 43.265… again (the same weights, scaled) → 87.
        assert_eq!(hourly_aqi(&series, 103, &cfg).unwrap().aqi, 87);
        // Hour 105: only 0 of the 3 recent hours → no PM, no AQI.
        assert_eq!(hourly_aqi(&series, 105, &cfg), None);

        // A local day: 24 hourly PM10 means of 100 → 24-hour mean 100 in [50, 150] ↦ [50, 100]:
        // 50/100 × 50 + 50 = 75; NO2 peaks at 150 → 75 too; SO2 peaks at 400 in [350, 550] ↦
        // [100, 150]: 50/200 × 50 + 100 = 112.5 → daily AQI 113 (SO2).
        let day = local_day_start(500_000);
        let mut series = HourlySeries::new();
        for h in day..day + 24 {
            series.entry(Pollutant::Pm10).or_default().insert(h, 100.0);
            series.entry(Pollutant::No2).or_default().insert(h, if h == day + 8 { 150.0 } else { 40.0 });
        }
        series.entry(Pollutant::So2).or_default().insert(day + 9, 400.0);
        let v = daily_aqi(&series, day, &cfg).unwrap();
        assert_eq!((v.aqi, v.dominant), (113, Pollutant::So2));
        // With only 17 PM hours the 24-hour mean is not representative: no daily AQI.
        let pm = series.get_mut(&Pollutant::Pm10).unwrap();
        for h in day..day + 7 {
            pm.remove(&h);
        }
        assert_eq!(daily_aqi(&series, day, &cfg), None);
    }

    #[test]
    fn local_days_start_at_midnight_utc_plus_7() {
        // 2026-11-02 00:00+07 = 2026-11-01 17:00 UTC = hour 1_793_552_400 / 3600 = 498_209.
        let h = 1_793_552_400 / 3600;
        assert_eq!(local_day_start(h), h);
        assert_eq!(local_day_start(h + 23), h);
        assert_eq!(local_day_start(h + 24), h + 24);
        assert_eq!(local_day_start(h - 1), h - 24);
    }
}
