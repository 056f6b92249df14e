//! Validation rules of `land.parcels` end to end: the verdict, the exit code, the per-rule JSON
//! report, the GeoJSON of findings (opened with GDAL), the rules file and `geosector datasets`.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::clients::tool;
use crate::support::{geosector, Run, TestDb};

/// A parcel feature in lon/lat with the standard's property names; `extra` is more JSON members.
fn parcel(parcel: &str, codes: &str, extra: &str, ring: &str) -> String {
    format!(
        r#"{{"type":"Feature","properties":{{"maXa":"00376","soHieuToBanDo":1,"soThuTuThua":"{parcel}","maMucDichSuDung":"{codes}"{extra}}},"geometry":{{"type":"Polygon","coordinates":[{ring}]}}}}"#
    )
}

/// A square of about 104 × 111 m in Sóc Sơn, shifted east by `i` squares.
fn square(i: u32) -> String {
    let x = 105.85 + f64::from(i) * 0.002;
    format!("[[{x},21.24],[{},21.24],[{},21.241],[{x},21.241],[{x},21.24]]", x + 0.001, x + 0.001)
}

const BOW_TIE: &str = "[[105.85,21.24],[105.851,21.241],[105.851,21.24],[105.85,21.241],[105.85,21.24]]";

fn collection(dir: &Path, name: &str, features: &[String]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, format!("{{\"type\":\"FeatureCollection\",\"features\":[{}]}}", features.join(","))).unwrap();
    path.to_str().unwrap().to_owned()
}

/// Imports `file` into land.parcels with `--report report.json --flagged flagged.geojson` in `dir`.
fn import_reporting(db: &TestDb, dir: &Path, file: &str) -> (Run, PathBuf, PathBuf) {
    let report = dir.join("report.json");
    let flagged = dir.join("flagged.geojson");
    let run = db.geosector(&[
        "import",
        "land.parcels",
        file,
        "--report",
        report.to_str().unwrap(),
        "--flagged",
        flagged.to_str().unwrap(),
    ]);
    (run, report, flagged)
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The report's entry for one rule.
fn rule<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["rules"].as_array().unwrap().iter().find(|r| r["id"] == id).unwrap_or_else(|| panic!("no rule {id}"))
}

#[tokio::test]
async fn rules_bow_tie_is_rejected_with_location_and_repaired_on_request() {
    let Some(db) = TestDb::migrated().await else { return };
    let tmp = tempfile::tempdir().unwrap();
    let file = collection(
        tmp.path(),
        "bow-tie.geojson",
        &[parcel("1", "ONT", "", &square(0)), parcel("2", "ONT", "", BOW_TIE)],
    );
    let report = tmp.path().join("report.json");
    let run = db.geosector(&["import", "land.parcels", &file, "--report", report.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{}", run.text());
    assert!(run.stdout.contains("bow-tie.geojson feature 1, geometry: land.geometry_valid"), "{}", run.text());
    assert_eq!(db.count("land.parcels").await, 0);
    let r = json(&report);
    let valid = rule(&r, "land.geometry_valid");
    assert_eq!(valid["rejected"], 1);
    let example = &valid["examples"][0];
    assert_eq!(example["feature_index"], 1);
    assert_eq!(example["key"], "00376/1/2");
    assert!(example["message"].as_str().unwrap().contains("self-intersection"), "{example}");
    let at = example["at"].as_array().unwrap();
    assert!(
        (at[0].as_f64().unwrap() - 105.8505).abs() < 1e-6 && (at[1].as_f64().unwrap() - 21.2405).abs() < 1e-6,
        "{example}"
    );

    let run = db.geosector(&["import", "land.parcels", &file, "--repair", "--report", report.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let r = json(&report);
    assert_eq!(rule(&r, "land.geometry_valid")["repaired"], 1, "{r}");
    assert!(rule(&r, "land.geometry_valid")["examples"][0]["message"].as_str().unwrap().starts_with("repaired"));
    let client = db.client().await;
    let row = client
        .query_one(
            "SELECT bool_and(ST_IsValid(geom)), max(ST_NumGeometries(geom)) FILTER (WHERE parcel_number = '2') FROM land.parcels",
            &[],
        )
        .await
        .unwrap();
    assert!(row.get::<_, bool>(0), "stored geometries are valid");
    assert_eq!(row.get::<_, i32>(1), 2, "the bow-tie became two triangles");
}

#[tokio::test]
async fn rules_duplicate_keys_are_flagged_with_both_indexes() {
    let Some(db) = TestDb::migrated().await else { return };
    let tmp = tempfile::tempdir().unwrap();
    let file = collection(
        tmp.path(),
        "dups.geojson",
        &[parcel("5", "ONT", "", &square(0)), parcel("6", "ONT", "", &square(1)), parcel("5", "CLN", "", &square(2))],
    );
    let (run, report, flagged) = import_reporting(&db, tmp.path(), &file);
    assert_eq!(run.code, Some(0), "flags do not reject: {}", run.text());
    assert_eq!(db.count("land.parcels").await, 3, "both duplicates are kept");
    assert!(run.stdout.contains("land.parcel_key_unique"), "{}", run.text());
    let r = json(&report);
    let dup = rule(&r, "land.parcel_key_unique");
    assert_eq!(dup["flagged"], 1);
    assert_eq!(dup["examples"][0]["feature_index"], 2);
    assert_eq!(dup["examples"][0]["other"]["index"], 0);
    assert_eq!(dup["examples"][0]["key"], "00376/1/5");

    let g = json(&flagged);
    let features = g["features"].as_array().unwrap();
    assert_eq!(features.len(), 1, "{g}");
    let p = &features[0]["properties"];
    assert_eq!((p["rule"].as_str(), p["severity"].as_str()), (Some("land.parcel_key_unique"), Some("flagged")));
    assert_eq!((p["feature_index"].as_u64(), p["other_index"].as_u64()), (Some(2), Some(0)));
    assert_eq!(features[0]["geometry"]["type"], "MultiPolygon");
    if let Some(ogrinfo) = tool("ogrinfo") {
        let out = std::process::Command::new(ogrinfo).args(["-ro", "-al", "-so"]).arg(&flagged).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success() && text.contains("Feature Count: 1"), "{text}");
    }
}

#[tokio::test]
async fn rules_land_use_codes_follow_the_survey_date() {
    let Some(db) = TestDb::migrated().await else { return };
    let tmp = tempfile::tempdir().unwrap();
    let unknown = collection(tmp.path(), "unknown.geojson", &[parcel("1", "ONT+XYZ", "", &square(0))]);
    let run = db.geosector(&["validate", "land.parcels", &unknown]);
    assert_eq!(run.code, Some(1), "{}", run.text());
    assert!(run.stdout.contains("XYZ is not a land-use code of TT 08/2024"), "{}", run.text());

    let old = collection(tmp.path(), "old.geojson", &[parcel("1", "LUN", r#","ngayDoDac":"2020-05-01""#, &square(0))]);
    let run = db.geosector(&["import", "land.parcels", &old]);
    assert_eq!(run.code, Some(0), "a legacy code on a 2020 survey: {}", run.text());

    let new = collection(tmp.path(), "new.geojson", &[parcel("2", "LUN", r#","ngayDoDac":"2025-01-10""#, &square(1))]);
    let run = db.geosector(&["validate", "land.parcels", &new]);
    assert_eq!(run.code, Some(1), "{}", run.text());
    assert!(run.stdout.contains("LUN is a legacy code"), "{}", run.text());
    let run = db.geosector(&["validate", "land.parcels", &new, "--historical"]);
    assert_eq!(run.code, Some(0), "--historical forces it: {}", run.text());
}

#[tokio::test]
async fn rules_area_mismatch_is_flagged_and_the_rules_file_can_make_it_reject() {
    let Some(db) = TestDb::migrated().await else { return };
    let tmp = tempfile::tempdir().unwrap();
    // The square is about 11,600 m²; tolerance at 1:1000 is 2 × 0.0004 × 1000 × √11600 ≈ 86 m².
    let file = collection(
        tmp.path(),
        "area.geojson",
        &[parcel("1", "ONT", r#","dienTich":9000,"tyLeBanDo":1000"#, &square(0))],
    );
    let report = tmp.path().join("report.json");
    let run = db.geosector(&["validate", "land.parcels", &file, "--report", report.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let r = json(&report);
    let area = rule(&r, "land.area_tolerance");
    assert_eq!(area["flagged"], 1, "{r}");
    assert!(area["examples"][0]["message"].as_str().unwrap().contains("declared 9000.0 m²"), "{area}");

    let rules = tmp.path().join("rules.toml");
    std::fs::write(&rules, "[land.parcels]\n\"land.area_tolerance\" = \"reject\"\n").unwrap();
    let run = db.geosector(&["validate", "land.parcels", &file, "--rules", rules.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{}", run.text());
    assert!(run.stdout.contains("land.area_tolerance"), "{}", run.text());

    std::fs::write(&rules, "[land.parcels]\narea_tolerance_ratio = 0.5\n\"land.area_tolerance\" = \"reject\"\n")
        .unwrap();
    let no_scale = collection(tmp.path(), "no-scale.geojson", &[parcel("1", "ONT", r#","dienTich":9000"#, &square(0))]);
    let run = db.geosector(&["validate", "land.parcels", &no_scale, "--rules", rules.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "50 % tolerance without map scale: {}", run.text());

    std::fs::write(&rules, "[land.parcels]\n\"land.area_tolerence\" = \"off\"\n").unwrap();
    let run = db.geosector(&["validate", "land.parcels", &file, "--rules", rules.to_str().unwrap()]);
    assert_eq!(run.code, Some(2), "a typo in the rules file is a failure: {}", run.text());
    assert!(run.stderr.contains("land.area_tolerence"), "{}", run.text());
}

#[tokio::test]
async fn rules_commune_must_exist_at_the_survey_date_and_contain_the_parcel() {
    let Some(db) = TestDb::migrated().await else { return };
    let tmp = tempfile::tempdir().unwrap();
    let file = collection(tmp.path(), "c.geojson", &[parcel("1", "ONT", r#","ngayDoDac":"2025-09-01""#, &square(0))]);
    // Without reference data the rule is reported as skipped, not silently passed.
    let run = db.geosector(&["validate", "land.parcels", &file]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert!(run.stdout.contains("land.commune_exists") && run.stdout.contains("skipped"), "{}", run.text());

    let run = db.geosector(&["reference", "data-samples/reference"]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let run = db.geosector(&["validate", "land.parcels", &file]);
    assert_eq!(run.code, Some(0), "00376 exists in Sept 2025 and holds the parcel: {}", run.text());
    assert!(!run.stdout.contains("skipped: reference"), "{}", run.text());

    // A commune that ended with the 2025 reform.
    db.client()
        .await
        .batch_execute(
            "INSERT INTO reference.admin_units (level, code, valid_from, valid_to, name, source)
             VALUES ('commune', '00379', '2008-08-01', '2025-07-01', 'Xã cũ', 'test')",
        )
        .await
        .unwrap();
    let gone = file.replace("c.geojson", "gone.geojson");
    std::fs::write(&gone, std::fs::read_to_string(&file).unwrap().replace("00376", "00379")).unwrap();
    let report = tmp.path().join("report.json");
    let run = db.geosector(&["validate", "land.parcels", &gone, "--report", report.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{}", run.text());
    let r = json(&report);
    let message = rule(&r, "land.commune_exists")["examples"][0]["message"].as_str().unwrap().to_owned();
    assert!(message.contains("commune 00379 does not exist on the survey date 2025-09-01"), "{message}");
    assert!(message.contains("2008-08-01 – 2025-07-01"), "{message}");
    let earlier = gone.replace("gone.geojson", "earlier.geojson");
    std::fs::write(&earlier, std::fs::read_to_string(&gone).unwrap().replace("2025-09-01", "2024-01-01")).unwrap();
    let run = db.geosector(&["validate", "land.parcels", &earlier]);
    assert_eq!(run.code, Some(0), "valid at its own survey date: {}", run.text());

    // A parcel of Sóc Sơn drawn in Hoàn Kiếm: flagged, not rejected.
    let far = collection(
        tmp.path(),
        "far.geojson",
        &[parcel("1", "ONT", "", "[[105.85,21.03],[105.851,21.03],[105.851,21.031],[105.85,21.031],[105.85,21.03]]")],
    );
    let run = db.geosector(&["validate", "land.parcels", &far, "--report", report.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let r = json(&report);
    let inside = rule(&r, "land.inside_commune");
    assert_eq!(inside["flagged"], 1, "{r}");
    assert!(inside["examples"][0]["message"].as_str().unwrap().contains("outside commune 00376"), "{inside}");
}

#[tokio::test]
async fn rules_sample_parcels_load_with_flags_only() {
    let Some(db) = TestDb::migrated().await else { return };
    let run = db.geosector(&["reference", "data-samples/reference"]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let tmp = tempfile::tempdir().unwrap();
    let report = tmp.path().join("report.json");
    let run = db.geosector(&[
        "import",
        "land.parcels",
        "data-samples/land/parcels_soc_son.fgb",
        "--report",
        report.to_str().unwrap(),
    ]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let r = json(&report);
    for rule in r["rules"].as_array().unwrap() {
        assert_eq!(rule["rejected"], 0, "{rule}");
    }
    // The sample has about 0.2 % repeated parcel numbers and 1 % declared areas 5–15 % off.
    assert!(rule(&r, "land.parcel_key_unique")["flagged"].as_u64().unwrap() >= 1, "{r}");
    assert!(rule(&r, "land.area_tolerance")["flagged"].as_u64().unwrap() >= 1, "{r}");
    assert_eq!(rule(&r, "land.inside_commune")["flagged"], 0, "all sample parcels lie in Sóc Sơn");
}

#[test]
fn rules_are_listed_by_geosector_datasets() {
    let run = geosector(None, &["datasets"]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    for needle in
        ["land.parcel_key_unique", "land.geometry_valid", "land.overlaps", "brief rule 6", "overlap_min_m2 = 0.5"]
    {
        assert!(run.stdout.contains(needle), "{needle}: {}", run.text());
    }
    let help = geosector(None, &["import", "--help"]);
    assert!(help.stdout.contains("1 rejected") && help.stdout.contains("2 failed"), "{}", help.text());
}

#[tokio::test]
async fn rules_overlapping_parcels_are_flagged_in_pairs_and_can_reject() {
    let Some(db) = TestDb::migrated().await else { return };
    let tmp = tempfile::tempdir().unwrap();
    // Squares 0 and 1 are neighbours apart; the third is square 0 shifted north by a tenth of its
    // height (about 11 m): it overlaps square 0 by about 9/10 of ~11,600 m².
    let shifted = "[[105.85,21.2401],[105.851,21.2401],[105.851,21.2411],[105.85,21.2411],[105.85,21.2401]]";
    let file = collection(
        tmp.path(),
        "overlaps.geojson",
        &[parcel("1", "ONT", "", &square(0)), parcel("2", "ONT", "", &square(1)), parcel("3", "ONT", "", shifted)],
    );
    let (run, report, flagged) = import_reporting(&db, tmp.path(), &file);
    assert_eq!(run.code, Some(0), "an overlap is flagged, not rejected, by default: {}", run.text());
    assert_eq!(db.count("land.parcels").await, 3);
    let r = json(&report);
    let overlaps = rule(&r, "land.overlaps");
    assert_eq!(overlaps["flagged"], 1, "exactly the one overlapping pair: {overlaps}");
    let example = &overlaps["examples"][0];
    assert_eq!(example["feature_index"], 2, "{example}");
    assert_eq!(example["other"]["index"], 0, "{example}");
    let area = example["area_m2"].as_f64().unwrap();
    // 0.001° of longitude at 21.24° N is about 103.9 m, 0.001° of latitude about 110.7 m.
    let expected = 0.9 * 103.9 * 110.7;
    assert!((area / expected - 1.0).abs() < 0.02, "{area} m² vs about {expected} m²");
    let text = std::fs::read_to_string(&flagged).unwrap();
    assert!(text.contains("\"rule\":\"land.overlaps\""), "{text}");

    // Set to reject, the same file is refused and nothing is stored.
    let rules = tmp.path().join("rules.toml");
    std::fs::write(&rules, "[land.parcels]\n\"land.overlaps\" = \"reject\"\n").unwrap();
    let run = db.geosector(&["import", "land.parcels", &file, "--replace", "--rules", rules.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{}", run.text());
    assert!(run.stdout.contains("land.overlaps"), "{}", run.text());
    assert_eq!(db.count("land.parcels").await, 3, "the rejected replace left the parcels as they were");
    // Its load table, committed for the parallel index builds before the overlaps were known, is
    // dropped too.
    assert_eq!(db.parcel_load_tables().await, 0, "no load table is left behind");
}
