//! The loader rules of the land sector (../shared/domain/vietnam-brief.md, "Validation rules a
//! loader should enforce", rules 5–10), declared for `land.parcels`.
//!
//! Rules on one parcel's values are implemented here as [`FeatureRule`]s: land-use codes of
//! TT 08/2024 (or the legacy lists in historical mode), per-purpose areas adding up, declared
//! vs computed area, minimum area. Rules needing the geometry, the whole load or the reference
//! administrative units (validity, duplicate keys, commune at the survey date, parcel inside
//! its commune, overlaps) are declared here and carried out by the ingestion engine.

use chrono::NaiveDate;
use geosector_domain::rules::{Check, FeatureRule, FeatureView, ParamDecl, Params, RuleDecl, Severity, Violation};

use crate::codes;

/// The day TT 08/2024/TT-BTNMT took effect: surveys before it may carry legacy codes.
pub const TT08_EFFECTIVE: NaiveDate = match NaiveDate::from_ymd_opt(2024, 8, 1) {
    Some(d) => d,
    None => panic!("a valid date"),
};

/// Parameters of [`AreaTolerance`] (brief rule 8; the formula is unconfirmed, hence settable).
const AREA_PARAMS: &[ParamDecl] = &[
    ParamDecl { name: "area_tolerance_factor", description: "k in |ΔP| ≤ k × c × M × √P", default: 2.0 },
    ParamDecl {
        name: "area_tolerance_coefficient",
        description: "c in |ΔP| ≤ k × c × M × √P (m per unit of scale)",
        default: 0.0004,
    },
    ParamDecl {
        name: "area_tolerance_min_m2",
        description: "without map scale: tolerance max(this m², ratio × P)",
        default: 1.0,
    },
    ParamDecl {
        name: "area_tolerance_ratio",
        description: "without map scale: tolerance max(min m², this × P)",
        default: 0.02,
    },
];

/// Every rule of `land.parcels`.
pub const PARCEL_RULES: &[RuleDecl] = &[
    RuleDecl {
        id: "land.geometry_valid",
        description: "Polygon valid (rings closed, ≥ 4 points, no self-intersection; ST_IsValid); reason and location reported; --repair repairs (brief rule 7)",
        default_severity: Severity::Reject,
        params: &[],
        check: Check::ValidGeometry,
    },
    RuleDecl {
        id: "land.area_min",
        description: "Parcel area ≥ 0.1 m² in the native TM-3 CRS (brief rule 7)",
        default_severity: Severity::Reject,
        params: &[ParamDecl { name: "min_area_m2", description: "smallest parcel area, m²", default: 0.1 }],
        check: Check::Feature(&MinArea),
    },
    RuleDecl {
        id: "land.parcel_key_unique",
        description: "Parcel key (commune, map sheet, parcel number) unique within the load; both features reported (brief rule 6)",
        default_severity: Severity::Flag,
        params: &[],
        check: Check::UniqueKey { columns: &["commune_code", "sheet_number", "parcel_number"] },
    },
    RuleDecl {
        id: "land.land_use_codes",
        description: "Land-use codes in TT 08/2024 Annex II-A; legacy TT 25/2014 / TT 27/2018 codes when surveyed before 1 Aug 2024 or with --historical (brief rule 9)",
        default_severity: Severity::Reject,
        params: &[],
        check: Check::Feature(&LandUseCodes),
    },
    RuleDecl {
        id: "land.purpose_areas_sum",
        description: "Per-purpose areas of a multi-purpose parcel add up to its area within 0.1 m² (brief rule 9)",
        default_severity: Severity::Flag,
        params: &[ParamDecl {
            name: "purpose_areas_tolerance_m2",
            description: "allowed difference, m²",
            default: 0.1,
        }],
        check: Check::Feature(&PurposeAreasSum),
    },
    RuleDecl {
        id: "land.area_tolerance",
        description: "Declared area vs planar area in the native TM-3 CRS: |ΔP| ≤ 2 × 0.0004 × M × √P, else max(1 m², 2 %) (brief rule 8, formula unconfirmed vs TT 26/2024)",
        default_severity: Severity::Flag,
        params: AREA_PARAMS,
        check: Check::Feature(&AreaTolerance),
    },
    RuleDecl {
        id: "land.commune_exists",
        description: "Commune code exists in reference.admin_units at the survey date (today without one; QĐ 19/2025/QĐ-TTg codes, brief rule 5)",
        default_severity: Severity::Reject,
        params: &[],
        check: Check::UnitExistsAt { code: "commune_code", date: "survey_date" },
    },
    RuleDecl {
        id: "land.inside_commune",
        description: "Parcel centroid inside its commune's boundary in reference.admin_units; distance given when within 5 m (brief rule 7)",
        default_severity: Severity::Flag,
        params: &[ParamDecl {
            name: "boundary_note_m",
            description: "an outside centroid this close to the boundary is called a boundary difference, m",
            default: 5.0,
        }],
        check: Check::InsideUnit { code: "commune_code" },
    },
    RuleDecl {
        id: "land.overlaps",
        description: "Parcels overlap by more than 0.5 m²; reported in pairs (brief rule 10)",
        default_severity: Severity::Flag,
        params: &[ParamDecl { name: "overlap_min_m2", description: "smallest reported overlap, m²", default: 0.5 }],
        check: Check::Overlaps,
    },
    RuleDecl {
        id: "land.national_id_format",
        description: "National parcel ID, when the file gives one, is 12 GeoHash characters [0-9b-hjkmnp-z] (TT 19/2026; brief rule 6)",
        default_severity: Severity::Reject,
        params: &[],
        check: Check::GeohashFormat { column: "national_id" },
    },
    RuleDecl {
        id: "land.national_id_inside",
        description: "National parcel ID, when the file gives one, decodes to a point in the parcel or within 1 m of it; ~225 m off means the VN-2000 shift was skipped (brief rule 6)",
        default_severity: Severity::Flag,
        params: &[ParamDecl {
            name: "geohash_tolerance_m",
            description: "largest distance of the decoded point from the parcel, m",
            default: 1.0,
        }],
        check: Check::GeohashInside { column: "national_id" },
    },
];

/// The codes of a parcel must be in TT 08/2024, or in the legacy lists in historical mode
/// (forced, or automatic when the survey predates [`TT08_EFFECTIVE`]).
#[derive(Debug)]
pub struct LandUseCodes;

impl FeatureRule for LandUseCodes {
    fn check(&self, f: &FeatureView<'_>, _: &Params, report: &mut dyn FnMut(Violation)) {
        let Some(list) = f.texts("land_use_codes") else { return };
        let historical = f.historical || f.date("survey_date").is_some_and(|d| d < TT08_EFFECTIVE);
        if list.is_empty() {
            report(Violation::on("land_use_codes", "no land-use code given".into()));
        }
        for code in list {
            let code = code.trim();
            if codes::is_current(code) || (historical && codes::is_legacy(code)) {
                continue;
            }
            let message = if codes::is_legacy(code) {
                match f.date("survey_date") {
                    Some(d) => format!(
                        "{code} is a legacy code (TT 25/2014, TT 27/2018), accepted only for surveys before 2024-08-01; this one is dated {d} (--historical forces it)"
                    ),
                    None => format!(
                        "{code} is a legacy code (TT 25/2014, TT 27/2018) and the parcel has no survey date; --historical accepts it"
                    ),
                }
            } else {
                format!("{code} is not a land-use code of TT 08/2024 Annex II-A")
            };
            report(Violation::on("land_use_codes", message));
        }
    }
}

/// The per-purpose areas of a parcel (`dienTichMucDichSuDung`) must add up to its declared area.
#[derive(Debug)]
pub struct PurposeAreasSum;

impl FeatureRule for PurposeAreasSum {
    fn check(&self, f: &FeatureView<'_>, params: &Params, report: &mut dyn FnMut(Violation)) {
        let Some(areas) = f.numbers("land_use_areas_m2") else { return };
        let codes = f.texts("land_use_codes").map_or(0, <[String]>::len);
        if areas.len() != codes {
            report(Violation::on(
                "land_use_areas_m2",
                format!("{} per-purpose areas for {codes} land-use codes", areas.len()),
            ));
            return;
        }
        let Some(total) = declared_area(f) else { return };
        let sum: f64 = areas.iter().sum();
        let tolerance = params.get("purpose_areas_tolerance_m2", 0.1);
        if (sum - total).abs() > tolerance + 1e-9 {
            report(Violation::on(
                "land_use_areas_m2",
                format!("per-purpose areas add up to {sum:.1} m², the parcel's area is {total:.1} m² (tolerance {tolerance} m²)"),
            ));
        }
    }
}

/// The declared area must match the planar area within the cadastral tolerance.
#[derive(Debug)]
pub struct AreaTolerance;

impl FeatureRule for AreaTolerance {
    fn check(&self, f: &FeatureView<'_>, params: &Params, report: &mut dyn FnMut(Violation)) {
        let (Some(declared), Some(computed)) = (declared_area(f), f.area_m2) else { return };
        let scale = f.number("map_scale").filter(|m| *m > 0.0);
        let tolerance = area_tolerance(computed, scale, params);
        let delta = declared - computed;
        if delta.abs() > tolerance {
            let rule = match scale {
                Some(m) => format!("2 × 0.0004 × {m} × √P"),
                None => "max(1 m², 2 %) without map scale".to_owned(),
            };
            report(Violation::on(
                "declared_area_m2",
                format!(
                    "declared {declared:.1} m², geometry {computed:.1} m²: off by {delta:+.1} m², more than the tolerance {tolerance:.1} m² ({rule})"
                ),
            ));
        }
    }
}

/// The tolerance of rule 8 for a parcel of `area` m²: `k × c × M × √P` with the map-scale
/// denominator `M`, else `max(min m², ratio × P)`; constants from `params` (see
/// `AREA_PARAMS` for the defaults).
pub fn area_tolerance(area: f64, scale: Option<f64>, params: &Params) -> f64 {
    let area = area.max(0.0);
    match scale {
        Some(m) => {
            params.get("area_tolerance_factor", 2.0)
                * params.get("area_tolerance_coefficient", 0.0004)
                * m
                * area.sqrt()
        }
        None => params.get("area_tolerance_min_m2", 1.0).max(params.get("area_tolerance_ratio", 0.02) * area),
    }
}

/// A parcel must have at least `min_area_m2` of planar area.
#[derive(Debug)]
pub struct MinArea;

impl FeatureRule for MinArea {
    fn check(&self, f: &FeatureView<'_>, params: &Params, report: &mut dyn FnMut(Violation)) {
        let min = params.get("min_area_m2", 0.1);
        if let Some(area) = f.area_m2.filter(|a| *a < min) {
            report(Violation { field: None, message: format!("area {area:.3} m² is below {min} m²") });
        }
    }
}

/// The parcel's declared area: `dienTich`, else a positive `dienTichPhapLy` (0 for roads).
fn declared_area(f: &FeatureView<'_>) -> Option<f64> {
    f.number("declared_area_m2").or_else(|| f.number("legal_area_m2").filter(|a| *a > 0.0))
}

#[cfg(test)]
mod tests {
    use geosector_domain::CellValue as V;

    use super::*;
    use crate::PARCELS;

    /// A parcel's cells in the order of `PARCELS.fields`, from (column, value) pairs.
    fn parcel(values: &[(&str, V)]) -> Vec<V> {
        PARCELS
            .fields
            .iter()
            .map(|f| values.iter().find(|(c, _)| *c == f.column).map_or(V::Null, |(_, v)| v.clone()))
            .collect()
    }

    fn run(rule: &dyn FeatureRule, cells: &[V], area: Option<f64>, historical: bool) -> Vec<String> {
        let params = Params::defaults(PARCEL_RULES);
        let view = FeatureView { dataset: &PARCELS, cells, area_m2: area, historical };
        let mut found = Vec::new();
        rule.check(&view, &params, &mut |v| found.push(v.message));
        found
    }

    macro_rules! assert_passes {
        ($rule:expr, $cells:expr, $area:expr) => {
            assert_eq!(run(&$rule, &$cells, $area, false), Vec::<String>::new())
        };
    }

    macro_rules! assert_violations {
        ($rule:expr, $cells:expr, $area:expr, $($needle:expr),+) => {{
            let found = run(&$rule, &$cells, $area, false);
            let needles: &[&str] = &[$($needle),+];
            assert_eq!(found.len(), needles.len(), "{found:?}");
            for (f, n) in found.iter().zip(needles) {
                assert!(f.contains(n), "{f:?} should contain {n:?}");
            }
        }};
    }

    fn codes(list: &[&str]) -> V {
        V::TextList(list.iter().map(|s| (*s).to_owned()).collect())
    }

    fn date(y: i32, m: u32, d: u32) -> V {
        V::Date(NaiveDate::from_ymd_opt(y, m, d).unwrap())
    }

    #[test]
    fn declarations_are_consistent() {
        geosector_domain::rules::check_rules(&PARCELS).unwrap();
    }

    #[test]
    fn current_codes_pass_and_unknown_codes_are_named() {
        assert_passes!(LandUseCodes, parcel(&[("land_use_codes", codes(&["ONT", "CLN"]))]), None);
        assert_violations!(
            LandUseCodes,
            parcel(&[("land_use_codes", codes(&["ONT", "XYZ"]))]),
            None,
            "XYZ is not a land-use code of TT 08/2024"
        );
    }

    #[test]
    fn legacy_codes_need_an_old_survey_or_historical_mode() {
        let old = parcel(&[("land_use_codes", codes(&["LUN"])), ("survey_date", date(2024, 7, 31))]);
        assert_passes!(LandUseCodes, old, None);
        let new = parcel(&[("land_use_codes", codes(&["LUN"])), ("survey_date", date(2024, 8, 1))]);
        assert_violations!(LandUseCodes, new, None, "LUN is a legacy code");
        assert!(run(&LandUseCodes, &new, None, true).is_empty(), "--historical forces legacy codes");
        let undated = parcel(&[("land_use_codes", codes(&["LNK"]))]);
        assert_violations!(LandUseCodes, undated, None, "no survey date");
    }

    #[test]
    fn purpose_areas_must_add_up_and_match_the_codes() {
        let ok = parcel(&[
            ("land_use_codes", codes(&["ONT", "CLN"])),
            ("land_use_areas_m2", V::FloatList(vec![200.0, 85.5])),
            ("declared_area_m2", V::Float(285.55)),
        ]);
        assert_passes!(PurposeAreasSum, ok, None);
        let off = parcel(&[
            ("land_use_codes", codes(&["ONT", "CLN"])),
            ("land_use_areas_m2", V::FloatList(vec![200.0, 85.5])),
            ("declared_area_m2", V::Float(290.0)),
        ]);
        assert_violations!(PurposeAreasSum, off, None, "add up to 285.5 m², the parcel's area is 290.0");
        let count =
            parcel(&[("land_use_codes", codes(&["ONT", "CLN"])), ("land_use_areas_m2", V::FloatList(vec![1.0]))]);
        assert_violations!(PurposeAreasSum, count, None, "1 per-purpose areas for 2 land-use codes");
    }

    #[test]
    fn area_tolerance_follows_the_map_scale_formula() {
        let params = Params::defaults(PARCEL_RULES);
        // 2 × 0.0004 × 1000 × √400 = 16 m².
        assert!((area_tolerance(400.0, Some(1000.0), &params) - 16.0).abs() < 1e-9);
        // Without scale: max(1, 2 %): 1 m² for 30 m², 20 m² for 1000 m².
        assert!((area_tolerance(30.0, None, &params) - 1.0).abs() < 1e-9);
        assert!((area_tolerance(1000.0, None, &params) - 20.0).abs() < 1e-9);

        let scaled =
            |declared: f64| parcel(&[("declared_area_m2", V::Float(declared)), ("map_scale", V::Integer(1000))]);
        assert_passes!(AreaTolerance, scaled(415.0), Some(400.0));
        assert_violations!(AreaTolerance, scaled(417.0), Some(400.0), "off by +17.0 m²");
        // Roads: legal area 0 and no declared area → not checked.
        assert_passes!(AreaTolerance, parcel(&[("legal_area_m2", V::Float(0.0))]), Some(400.0));
    }

    #[test]
    fn area_constants_are_configurable() {
        let mut params = Params::defaults(PARCEL_RULES);
        assert!(params.set("area_tolerance_ratio", 0.05));
        assert!((area_tolerance(1000.0, None, &params) - 50.0).abs() < 1e-9);
    }

    #[test]
    fn tiny_parcels_are_reported() {
        assert_passes!(MinArea, parcel(&[]), Some(0.1));
        assert_violations!(MinArea, parcel(&[]), Some(0.05), "below 0.1 m²");
    }
}
