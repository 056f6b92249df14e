//! VN_WQI, the surface-water quality index of Decision 1460/QĐ-TCMT (12 Nov 2019), as pure
//! functions over one sample (the values a station measured at one time).
//!
//! Five parameter groups: I pH; II pesticides; III metals; IV organic and nutrient parameters
//! (DO, BOD5, COD, TOC, N-NH4, N-NO3, N-NO2, P-PO4); V bacteria (Coliform, E. coli). Each
//! parameter's sub-index comes from a piecewise-linear [`Curve`] (`q` between breakpoints,
//! constant outside); DO is first turned into % saturation at the water temperature.
//!
//! `WQI = (WQI_I/100) × (WQI_II/100) × (WQI_III/100) × [(WQI_IV)² × WQI_V]^(1/3)`, where groups
//! I–III are the geometric mean of their sub-indices and IV, V the arithmetic mean; a missing
//! group I–III drops its factor, and without group V the last factor is WQI_IV. A sample needs
//! at least [`WqiConfig::min_groups`] groups and [`WqiConfig::min_group_iv`] group-IV parameters
//! (DO only counts with a temperature). The result is rounded and kept in 0–100.
//!
//! Only the pH curve, the formula, the minimum-data rules and the "rất tốt" band are confirmed
//! or secondary in the domain brief; the other curves and bands are unconfirmed defaults, all
//! overridable (docs/monitoring.md).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::aqi::Band;

/// The five parameter groups of QĐ 1460.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Group {
    /// I: pH.
    I,
    /// II: pesticides.
    II,
    /// III: metals.
    III,
    /// IV: organic and nutrient parameters.
    IV,
    /// V: bacteria.
    V,
}

/// A piecewise-linear sub-index curve: `(concentration, q)` points with increasing
/// concentrations, `below` before the first point and `above` after the last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Curve {
    /// The group the parameter belongs to.
    pub group: Group,
    /// Breakpoints `[concentration, q]`.
    pub points: Vec<[f64; 2]>,
    /// `q` below the first breakpoint.
    pub below: f64,
    /// `q` above the last breakpoint.
    pub above: f64,
}

impl Curve {
    /// The sub-index of a value: linear between the two breakpoints around it.
    pub fn q(&self, c: f64) -> Option<f64> {
        if !c.is_finite() {
            return None;
        }
        let first = self.points.first()?;
        let last = self.points.last()?;
        if c < first[0] {
            return Some(self.below);
        }
        if c > last[0] {
            return Some(self.above);
        }
        for w in self.points.windows(2) {
            let ([c0, q0], [c1, q1]) = (w[0], w[1]);
            if c <= c1 {
                return Some(q0 + (q1 - q0) * (c - c0) / (c1 - c0));
            }
        }
        Some(last[1])
    }
}

fn lower_is_better(group: Group, bps: &[f64]) -> Curve {
    let qs = [100.0, 75.0, 50.0, 25.0, 10.0];
    Curve { group, points: bps.iter().zip(qs).map(|(&c, q)| [c, q]).collect(), below: 100.0, above: 10.0 }
}

fn threshold(group: Group, limit: f64) -> Curve {
    // 100 up to the limit, 10 above it (pesticides).
    Curve { group, points: vec![[0.0, 100.0], [limit, 100.0]], below: 100.0, above: 10.0 }
}

/// VN_WQI settings. Defaults: the brief's pH curve and rules, unconfirmed curves for the rest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WqiConfig {
    /// Sub-index curves by canonical parameter symbol (see [`crate::parameters`]); units are the
    /// canonical ones (mg/L; µg/L for pesticides; MPN/100 mL for bacteria). `DO` is a curve over
    /// % saturation.
    pub curves: BTreeMap<String, Curve>,
    /// Groups a sample needs (3).
    pub min_groups: usize,
    /// Group-IV parameters a sample needs (3).
    pub min_group_iv: usize,
    /// Bands and colours.
    pub bands: Vec<Band>,
}

impl Default for WqiConfig {
    fn default() -> Self {
        let mut curves = BTreeMap::new();
        let mut put = |name: &str, curve: Curve| {
            curves.insert(name.to_owned(), curve);
        };
        // Group I [S]: 100 for pH 6–8.5, linear to 50 at 5.5 and 9, 10 outside 5.5–9.
        put(
            "pH",
            Curve {
                group: Group::I,
                points: vec![[5.5, 50.0], [6.0, 100.0], [8.5, 100.0], [9.0, 50.0]],
                below: 10.0,
                above: 10.0,
            },
        );
        // Group II [U]: limits in µg/L.
        for (name, limit) in [("Aldrin", 0.1), ("BHC", 0.02), ("Dieldrin", 0.1), ("DDTs", 1.0), ("Heptachlor", 0.2)] {
            put(name, threshold(Group::II, limit));
        }
        // Group III [U]: mg/L at q = 100, 75, 50, 25, 10.
        for (name, bps) in [
            ("As", [0.01, 0.02, 0.05, 0.1, 0.5]),
            ("Cd", [0.005, 0.008, 0.01, 0.05, 0.1]),
            ("Pb", [0.02, 0.03, 0.05, 0.5, 1.0]),
            ("Cr6+", [0.01, 0.02, 0.04, 0.1, 0.5]),
            ("Cu", [0.1, 0.2, 0.5, 1.0, 2.0]),
            ("Zn", [0.5, 1.0, 1.5, 2.0, 3.0]),
            ("Hg", [0.001, 0.0015, 0.002, 0.01, 0.02]),
        ] {
            put(name, lower_is_better(Group::III, &bps));
        }
        // Group IV [U]: mg/L at q = 100, 75, 50, 25, 10.
        for (name, bps) in [
            ("BOD5", [4.0, 6.0, 15.0, 25.0, 50.0]),
            ("COD", [10.0, 15.0, 30.0, 50.0, 150.0]),
            ("TOC", [4.0, 6.0, 15.0, 30.0, 40.0]),
            ("N-NH4", [0.1, 0.2, 0.5, 1.0, 5.0]),
            ("N-NO3", [2.0, 5.0, 10.0, 15.0, 20.0]),
            ("N-NO2", [0.05, 0.1, 0.2, 0.5, 1.0]),
            ("P-PO4", [0.1, 0.2, 0.3, 0.5, 4.0]),
        ] {
            put(name, lower_is_better(Group::IV, &bps));
        }
        // DO over % saturation [U]: 100 between 88 and 112 %, down to 25 at 20 % and 200 %.
        put(
            "DO",
            Curve {
                group: Group::IV,
                points: vec![
                    [20.0, 25.0],
                    [50.0, 50.0],
                    [75.0, 75.0],
                    [88.0, 100.0],
                    [112.0, 100.0],
                    [125.0, 75.0],
                    [150.0, 50.0],
                    [200.0, 25.0],
                ],
                below: 10.0,
                above: 10.0,
            },
        );
        // Group V [U]: MPN/100 mL.
        put("Coliform", lower_is_better(Group::V, &[2500.0, 5000.0, 7500.0, 10000.0, 20000.0]));
        put("E.coli", lower_is_better(Group::V, &[20.0, 50.0, 100.0, 200.0, 500.0]));
        let band = |min: f64, max: f64, vi: &str, en: &str, rgb: [u8; 3]| Band {
            min,
            max,
            name_vi: vi.to_owned(),
            name_en: en.to_owned(),
            rgb,
        };
        WqiConfig {
            curves,
            min_groups: 3,
            min_group_iv: 3,
            bands: vec![
                band(0.0, 9.0, "Ô nhiễm rất nặng", "Very heavily polluted", [126, 0, 35]),
                band(10.0, 25.0, "Kém", "Poor", [255, 0, 0]),
                band(26.0, 50.0, "Xấu", "Bad", [255, 126, 0]),
                band(51.0, 75.0, "Trung bình", "Medium", [255, 255, 0]),
                band(76.0, 90.0, "Tốt", "Good", [0, 228, 0]),
                band(91.0, 100.0, "Rất tốt", "Very good", [51, 51, 255]),
            ],
        }
    }
}

impl WqiConfig {
    /// Checks the curves (increasing concentrations) and rules.
    ///
    /// # Errors
    /// A sentence naming the first bad setting.
    pub fn validate(&self) -> Result<(), String> {
        for (name, curve) in &self.curves {
            let cs: Vec<f64> = curve.points.iter().map(|p| p[0]).collect();
            crate::aqi::increasing(&format!("wqi curve {name}"), &cs)?;
        }
        if self.min_groups == 0 || self.min_groups > 5 {
            return Err("wqi.min_groups must be 1 to 5".into());
        }
        if self.bands.is_empty() {
            return Err("wqi.bands is empty".into());
        }
        Ok(())
    }
}

/// Dissolved-oxygen saturation (mg/L) at a water temperature in °C (QĐ 1460's polynomial):
/// `14.652 − 0.41022·T + 0.007991·T² − 0.000077774·T³`.
pub fn do_saturation(temp_c: f64) -> f64 {
    14.652 - 0.41022 * temp_c + 0.007991 * temp_c.powi(2) - 0.000_077_774 * temp_c.powi(3)
}

/// Why a sample has no WQI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WqiMissing {
    /// Fewer groups than required.
    TooFewGroups {
        /// Groups present.
        found: usize,
        /// Groups required.
        required: usize,
    },
    /// Fewer group-IV parameters than required.
    TooFewGroupIv {
        /// Group-IV parameters present.
        found: usize,
        /// Required.
        required: usize,
    },
}

impl std::fmt::Display for WqiMissing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WqiMissing::TooFewGroups { found, required } => {
                write!(f, "{found} parameter groups, VN_WQI needs {required}")
            }
            WqiMissing::TooFewGroupIv { found, required } => {
                write!(f, "{found} group-IV parameters, VN_WQI needs {required}")
            }
        }
    }
}

/// A sample's WQI with its group values.
#[derive(Debug, Clone, PartialEq)]
pub struct WqiValue {
    /// The index, rounded, in 0–100.
    pub wqi: i32,
    /// The unrounded value.
    pub exact: f64,
    /// Each present group's value (geometric mean for I–III, arithmetic for IV and V).
    pub groups: BTreeMap<Group, f64>,
}

/// The WQI of one sample: canonical parameter symbols and values (canonical units; DO in mg/L
/// with `Temp` in °C beside it). Parameters without a curve are ignored.
///
/// # Errors
/// [`WqiMissing`] when the minimum-data rules are not met.
pub fn wqi(sample: &[(&str, f64)], cfg: &WqiConfig) -> Result<WqiValue, WqiMissing> {
    let temp = sample.iter().find(|(p, _)| *p == "Temp").map(|&(_, v)| v);
    let mut by_group: BTreeMap<Group, Vec<f64>> = BTreeMap::new();
    for &(param, value) in sample {
        let Some(curve) = cfg.curves.get(param) else { continue };
        let x = if param == "DO" {
            match temp {
                Some(t) if do_saturation(t) > 0.0 => value / do_saturation(t) * 100.0,
                _ => continue,
            }
        } else {
            value
        };
        if let Some(q) = curve.q(x) {
            by_group.entry(curve.group).or_default().push(q);
        }
    }
    let iv = by_group.get(&Group::IV).map_or(0, Vec::len);
    if iv < cfg.min_group_iv {
        return Err(WqiMissing::TooFewGroupIv { found: iv, required: cfg.min_group_iv });
    }
    if by_group.len() < cfg.min_groups {
        return Err(WqiMissing::TooFewGroups { found: by_group.len(), required: cfg.min_groups });
    }
    #[expect(clippy::cast_precision_loss, reason = "a handful of parameters")]
    let groups: BTreeMap<Group, f64> = by_group
        .iter()
        .map(|(&g, qs)| {
            let n = qs.len() as f64;
            let v = match g {
                Group::I | Group::II | Group::III => (qs.iter().map(|q| q.ln()).sum::<f64>() / n).exp(),
                Group::IV | Group::V => qs.iter().sum::<f64>() / n,
            };
            (g, v)
        })
        .collect();
    let mut value = 1.0;
    for g in [Group::I, Group::II, Group::III] {
        if let Some(v) = groups.get(&g) {
            value *= v / 100.0;
        }
    }
    let g4 = groups.get(&Group::IV).copied().unwrap_or(0.0);
    value *= match groups.get(&Group::V) {
        Some(g5) => (g4 * g4 * g5).cbrt(),
        None => g4,
    };
    let exact = value.clamp(0.0, 100.0);
    #[expect(clippy::cast_possible_truncation, reason = "clamped to 0..=100")]
    let rounded = (exact + 0.5).floor() as i32;
    Ok(WqiValue { wqi: rounded.min(100), exact, groups })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        WqiConfig::default().validate().unwrap();
    }

    #[test]
    fn ph_curve() {
        let c = &WqiConfig::default().curves["pH"];
        assert_eq!(c.q(7.0), Some(100.0));
        assert_eq!(c.q(5.75), Some(75.0)); // halfway 5.5 (50) → 6 (100)
        assert_eq!(c.q(8.75), Some(75.0)); // halfway 8.5 (100) → 9 (50)
        assert_eq!(c.q(5.0), Some(10.0));
        assert_eq!(c.q(9.5), Some(10.0));
    }

    #[test]
    fn hand_worked_sample() {
        let cfg = WqiConfig::default();
        // pH 7.0 → 100 (group I).
        // DO 6.0 mg/L at 25 °C: saturation 14.652 − 0.41022·25 + 0.007991·625 − 0.000077774·15625
        //   = 14.652 − 10.2555 + 4.994375 − 1.21521875 = 8.17565625 mg/L; 6 / 8.17565625 = 73.3886 %
        //   in [50, 75] ↦ [50, 75] → q = 73.3886.
        // BOD5 5 in [4, 6] ↦ [100, 75] → 87.5. COD 12 in [10, 15] ↦ [100, 75] → 100 − 25·2/5 = 90.
        // N-NH4 0.3 in [0.2, 0.5] ↦ [75, 50] → 75 − 25·0.1/0.3 = 66.6667. P-PO4 0.1 → 100.
        // WQI_IV = (73.3886 + 87.5 + 90 + 66.6667 + 100) / 5 = 83.5111.
        // Coliform 3000 in [2500, 5000] ↦ [100, 75] → 100 − 25·500/2500 = 95 = WQI_V.
        // WQI = (100/100) × (83.5111² × 95)^(1/3) = (6974.10 × 95)^(1/3) = 662539.1^(1/3) = 87.18 → 87.
        let sample = [
            ("pH", 7.0),
            ("Temp", 25.0),
            ("DO", 6.0),
            ("BOD5", 5.0),
            ("COD", 12.0),
            ("N-NH4", 0.3),
            ("P-PO4", 0.1),
            ("Coliform", 3000.0),
        ];
        let v = wqi(&sample, &cfg).unwrap();
        let do_q = 6.0 / 8.175_656_25 * 100.0;
        let g4 = (do_q + 87.5 + 90.0 + (75.0 - 25.0 / 3.0) + 100.0) / 5.0;
        assert!((v.groups[&Group::IV] - g4).abs() < 1e-9);
        assert!((v.exact - (g4 * g4 * 95.0).cbrt()).abs() < 1e-9);
        assert!((v.exact - 87.18).abs() < 0.01, "{}", v.exact);
        assert_eq!(v.wqi, 87);
    }

    #[test]
    fn group_factors_and_fallbacks() {
        let cfg = WqiConfig::default();
        // pH 9.5 → 10: the group-I factor 0.1 scales everything. Group IV: BOD5 4, COD 10,
        // N-NH4 0.1 → 100 each; Coliform 100 → 100: WQI = 0.1 × (100² × 100)^(1/3) = 10 ("Kém").
        // Group III: As 0.05 → 50 and Cu 0.1 → 100: geometric mean √(50·100) = 70.71 → × 0.7071.
        let base = [("pH", 9.5), ("BOD5", 4.0), ("COD", 10.0), ("N-NH4", 0.1), ("Coliform", 100.0)];
        assert_eq!(wqi(&base, &cfg).unwrap().wqi, 10);
        let mut with_metals = base.to_vec();
        with_metals.extend([("As", 0.05), ("Cu", 0.1)]);
        let v = wqi(&with_metals, &cfg).unwrap();
        assert!((v.exact - 0.1 * (50.0f64 * 100.0).sqrt() / 100.0 * 100.0).abs() < 1e-9);
        assert_eq!(v.wqi, 7);
        // Without group V the last factor is WQI_IV: pH 7 (100), IV at 100, As 0.05 (50) → 50.
        let no_v = [("pH", 7.0), ("BOD5", 4.0), ("COD", 10.0), ("N-NH4", 0.1), ("As", 0.05)];
        assert_eq!(wqi(&no_v, &cfg).unwrap().wqi, 50);
    }

    #[test]
    fn minimum_data_rules() {
        let cfg = WqiConfig::default();
        // Two group-IV parameters only.
        let few_iv = [("pH", 7.0), ("BOD5", 4.0), ("COD", 10.0), ("Coliform", 100.0)];
        assert_eq!(wqi(&few_iv, &cfg), Err(WqiMissing::TooFewGroupIv { found: 2, required: 3 }));
        // DO without a temperature does not count: still two.
        let mut no_temp = few_iv.to_vec();
        no_temp.push(("DO", 7.0));
        assert_eq!(wqi(&no_temp, &cfg), Err(WqiMissing::TooFewGroupIv { found: 2, required: 3 }));
        no_temp.push(("Temp", 25.0));
        assert!(wqi(&no_temp, &cfg).is_ok());
        // Three group-IV parameters but group IV alone: one group of three.
        let one_group = [("BOD5", 4.0), ("COD", 10.0), ("N-NH4", 0.1)];
        assert_eq!(wqi(&one_group, &cfg), Err(WqiMissing::TooFewGroups { found: 1, required: 3 }));
    }
}
