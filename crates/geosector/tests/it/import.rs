//! `geosector import` / `validate`: samples load with the right counts through COPY BINARY;
//! bad input gets a clear error naming the problem, and nothing stored is lost or half-replaced.

use std::path::Path;

use crate::support::{testdata, TestDb};

const PARCELS_FGB: &str = "data-samples/land/parcels_soc_son.fgb";
const PARCELS_GEOJSON: &str = "data-samples/land/parcels_soc_son.geojson";

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

#[tokio::test]
async fn sample_parcels_load_from_flatgeobuf_and_geojson_alike() {
    let Some(db) = TestDb::migrated().await else { return };
    let run = db.geosector(&["import", "land.parcels", PARCELS_FGB]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert!(run.stdout.contains("600 rows written"), "{}", run.text());
    assert!(run.stdout.contains("EPSG:5897"), "the CRS comes from the file header: {}", run.text());
    assert_eq!(db.count("land.parcels").await, 600);

    let client = db.client().await;
    client
        .batch_execute("CREATE TABLE fgb_copy AS SELECT * FROM land.parcels; DELETE FROM land.parcels")
        .await
        .unwrap();
    let run = db.geosector(&["import", "land.parcels", PARCELS_GEOJSON]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert_eq!(db.count("land.parcels").await, 600);

    // Same parcels, same attributes, same places (GeoJSON keeps mm in TM-3: < 1e-7 degree).
    let row = client
        .query_one(
            "SELECT count(*), max(ST_HausdorffDistance(a.geom, b.geom)), max(abs(a.computed_area_m2 - b.computed_area_m2)),
                    count(*) FILTER (WHERE a.land_use_codes = b.land_use_codes AND a.declared_area_m2 = b.declared_area_m2
                                       AND a.survey_date = b.survey_date AND a.address = b.address AND a.source_srid = 5897)
             FROM land.parcels a JOIN fgb_copy b USING (commune_code, sheet_number, parcel_number, legal_area_m2, declared_area_m2)",
            &[],
        )
        .await
        .unwrap();
    let (pairs, distance, area_delta, same): (i64, f64, f64, i64) = (row.get(0), row.get(1), row.get(2), row.get(3));
    assert!(pairs >= 600, "{pairs}");
    assert!(distance < 1e-7, "{distance}");
    // GeoJSON rounds TM-3 coordinates to the millimetre: on a ~190 m perimeter that moves the area
    // by up to ~0.1 m².
    assert!(area_delta < 0.2, "{area_delta}");
    assert_eq!(same, pairs);

    // Areas are planar in the source TM-3 CRS: they agree with the ellipsoidal area within the
    // TM-3 scale error (k = 0.9999 near the central meridian: well under 0.1 %).
    let ratio: f64 = client
        .query_one("SELECT max(abs(computed_area_m2 / ST_Area(geom::geography) - 1)) FROM land.parcels", &[])
        .await
        .unwrap()
        .get(0);
    assert!(ratio < 1e-3, "{ratio}");
    let mixed: i64 = client
        .query_one("SELECT count(*) FROM land.parcels WHERE cardinality(land_use_codes) > 1", &[])
        .await
        .unwrap()
        .get(0);
    assert!(mixed > 0, "the sample has multi-purpose parcels");
}

#[tokio::test]
async fn every_sample_loads_with_its_row_count() {
    let Some(db) = TestDb::migrated().await else { return };
    let cases: &[(&str, &str, i64)] = &[
        ("land.map_sheets", "data-samples/land/map_sheets_soc_son.geojson", 4),
        ("minerals.licences", "data-samples/minerals/licences.geojson", 6),
        ("minerals.licence_areas", "data-samples/minerals/licence_areas.geojson", 6),
        ("minerals.prohibited_zones", "data-samples/minerals/prohibited_zones.geojson", 4),
        ("water.works", "data-samples/water/works.geojson", 6),
        ("water.permits", "data-samples/water/permits.geojson", 6),
        ("water.stations", "data-samples/water/stations.geojson", 4),
        ("water.river_basins", "data-samples/water/river_basins.geojson", 2),
        ("environment.stations", "data-samples/environment/stations.geojson", 28),
        ("environment.pollution_sources", "data-samples/environment/pollution_sources.geojson", 5),
    ];
    for (dataset, file, rows) in cases {
        let run = db.geosector(&["import", dataset, file]);
        assert_eq!(run.code, Some(0), "{dataset}: {}", run.text());
        assert_eq!(db.count(dataset).await, *rows, "{dataset}");
    }
    // Areas of lon/lat sources are planar in the nearest TM-3 zone: within the zone's scale
    // error (k = 0.9999, under 0.1 % this close to its meridian) of the ellipsoidal area.
    let basins: f64 = db
        .client()
        .await
        .query_one("SELECT max(abs(computed_area_m2 / ST_Area(geom::geography) - 1)) FROM water.river_basins", &[])
        .await
        .unwrap()
        .get(0);
    assert!(basins < 2e-3, "{basins}");

    // Corner points keep their order and their licence coordinates (X = northing).
    let client = db.client().await;
    let row = client
        .query_one(
            "SELECT jsonb_array_length(corner_points), (corner_points -> 0 ->> 'x')::float8 > 2000000,
                    abs(declared_area_m2 - computed_area_m2) < 1
             FROM minerals.licence_areas WHERE licence_number = '1532/GP-BTNMT'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i32>(0), 4);
    assert!(row.get::<_, bool>(1) && row.get::<_, bool>(2));
}

#[tokio::test]
async fn bad_input_names_the_problem_and_stores_nothing() {
    let Some(db) = TestDb::migrated().await else { return };
    // Something stored first, which no failed import may touch.
    let run = db.geosector(&["import", "land.parcels", PARCELS_FGB]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let checksum = |db: &TestDb| {
        let url = db.url.clone();
        async move {
            let client = crate::support::TestDb::client_for(&url).await;
            client
                .query_one(
                    "SELECT count(*), md5(string_agg(id::text || ST_AsEWKT(geom), ',' ORDER BY id)) FROM land.parcels",
                    &[],
                )
                .await
                .unwrap()
                .get::<_, String>(1)
        }
    };
    let before = checksum(&db).await;
    let tmp = tempfile::tempdir().unwrap();

    // A missing file: the message names it.
    let run = db.geosector(&["import", "land.parcels", "data-samples/land/no-such-file.geojson", "--replace"]);
    assert_eq!(run.code, Some(2), "{}", run.text());
    assert!(run.stderr.contains("no-such-file.geojson") && run.stderr.contains("no such file"), "{}", run.text());

    // An unknown format.
    let odd = write(tmp.path(), "parcels.xyz", "whatever");
    let run = db.geosector(&["import", "land.parcels", &odd, "--replace"]);
    assert_eq!(run.code, Some(2), "{}", run.text());
    assert!(run.stderr.contains("parcels.xyz") && run.stderr.contains("unknown format"), "{}", run.text());

    // Invalid JSON, with its position.
    let broken = write(
        tmp.path(),
        "broken.geojson",
        "{\"type\": \"FeatureCollection\", \"features\": [\n {\"type\": \"Feature\",, }\n]}",
    );
    let run = db.geosector(&["import", "land.parcels", &broken, "--replace"]);
    assert_eq!(run.code, Some(2), "{}", run.text());
    assert!(run.stderr.contains("broken.geojson") && run.stderr.contains("line 2"), "{}", run.text());

    // A geometry of the wrong type, after valid features: rejected, with feature index and field.
    let wrong = format!(
        "{{\"type\":\"FeatureCollection\",\"features\":[{},{}]}}",
        r#"{"type":"Feature","properties":{"maXa":"00376","soHieuToBanDo":1,"soThuTuThua":"9001","maMucDichSuDung":"ONT"},"geometry":{"type":"Polygon","coordinates":[[[105.85,21.24],[105.851,21.24],[105.851,21.241],[105.85,21.24]]]}}"#,
        r#"{"type":"Feature","properties":{"maXa":"00376","soHieuToBanDo":1,"soThuTuThua":"9002","maMucDichSuDung":"ONT"},"geometry":{"type":"Point","coordinates":[105.85,21.24]}}"#
    );
    let wrong = write(tmp.path(), "wrong-type.geojson", &wrong);
    let run = db.geosector(&["import", "land.parcels", &wrong, "--replace"]);
    assert_eq!(run.code, Some(1), "{}", run.text());
    assert!(
        run.stdout.contains("wrong-type.geojson feature 1, geometry: geometry type Point is not accepted here, expected Polygon or MultiPolygon"),
        "{}",
        run.text()
    );
    assert!(run.stdout.contains("nothing was stored"), "{}", run.text());

    // A bad value: the field is named with the spelling the file used.
    let bad_value = write(
        tmp.path(),
        "bad-value.geojson",
        r#"{"type":"Feature","properties":{"maXa":"00376","soHieuToBanDo":"một","soThuTuThua":"1","maMucDichSuDung":"ONT"},"geometry":{"type":"Polygon","coordinates":[[[105.85,21.24],[105.851,21.24],[105.851,21.241],[105.85,21.24]]]}}"#,
    );
    let run = db.geosector(&["import", "land.parcels", &bad_value]);
    assert_eq!(run.code, Some(1), "{}", run.text());
    assert!(run.stdout.contains("feature 0, soHieuToBanDo: expected an integer"), "{}", run.text());

    // Projected coordinates without a CRS are not silently loaded as lon/lat; swapped X/Y neither.
    let no_crs = write(
        tmp.path(),
        "no-crs.geojson",
        r#"{"type":"Feature","properties":{"maXa":"00376","soHieuToBanDo":1,"soThuTuThua":"1","maMucDichSuDung":"ONT"},"geometry":{"type":"Polygon","coordinates":[[[588000,2350000],[588040,2350000],[588040,2350040],[588000,2350000]]]}}"#,
    );
    let run = db.geosector(&["import", "land.parcels", &no_crs]);
    assert_eq!(run.code, Some(1), "{}", run.text());
    assert!(run.stdout.contains("lies outside Vietnam") && run.stdout.contains("--crs"), "{}", run.text());
    let swapped = write(
        tmp.path(),
        "swapped.geojson",
        r#"{"type":"Feature","properties":{"maXa":"00376","soHieuToBanDo":1,"soThuTuThua":"1","maMucDichSuDung":"ONT"},"geometry":{"type":"Polygon","coordinates":[[[2350000,588000],[2350000,588040],[2350040,588040],[2350000,588000]]]}}"#,
    );
    // X = northing in a VN-2000 TM-3 file: refused as a whole (axis check, brief rule 3).
    let run = db.geosector(&["import", "land.parcels", &swapped, "--crs", "EPSG:5897"]);
    assert_eq!(run.code, Some(2), "{}", run.text());
    assert!(run.stderr.contains("coordinates look swapped (X = northing)"), "{}", run.text());
    // ... and the same file loads when the CRS is given.
    let run = db.geosector(&["validate", "land.parcels", &no_crs, "--crs", "EPSG:5897"]);
    assert_eq!(run.code, Some(0), "{}", run.text());

    // Unknown dataset, unsupported CRS.
    let run = db.geosector(&["import", "land.owners", PARCELS_FGB]);
    assert_eq!(run.code, Some(2), "{}", run.text());
    assert!(run.stderr.contains("unknown dataset land.owners"), "{}", run.text());
    let run = db.geosector(&["import", "land.parcels", PARCELS_FGB, "--crs", "EPSG:2154"]);
    assert_eq!(run.code, Some(2), "{}", run.text());
    assert!(run.stderr.contains("unsupported CRS EPSG:2154"), "{}", run.text());

    // An empty input never wipes a dataset.
    let empty = write(tmp.path(), "empty.geojson", r#"{"type":"FeatureCollection","features":[]}"#);
    let run = db.geosector(&["import", "land.parcels", &empty, "--replace"]);
    assert_eq!(run.code, Some(2), "{}", run.text());
    assert!(run.stderr.contains("no features"), "{}", run.text());

    assert_eq!(checksum(&db).await, before, "the stored parcels are exactly as before");
}

#[tokio::test]
async fn validate_writes_nothing_and_replace_is_atomic() {
    let Some(db) = TestDb::migrated().await else { return };
    let run = db.geosector(&["validate", "land.parcels", PARCELS_GEOJSON]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert!(run.stdout.contains("valid: 600 features checked, nothing written"), "{}", run.text());
    assert_eq!(db.count("land.parcels").await, 0);

    for _ in 0..2 {
        let run = db.geosector(&["import", "land.parcels", PARCELS_FGB, "--replace"]);
        assert_eq!(run.code, Some(0), "{}", run.text());
    }
    assert_eq!(db.count("land.parcels").await, 600, "replace converges: running twice stores the set once");
}

#[tokio::test]
async fn generated_parcels_are_deterministic_and_load() {
    let Some(db) = TestDb::migrated().await else { return };
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a.geojsonl");
    let b = tmp.path().join("b.geojsonl");
    for path in [&a, &b] {
        let run = crate::support::geosector(
            None,
            &["sample-data", "--parcels", "5000", "--seed", "7", "--out", path.to_str().unwrap()],
        );
        assert_eq!(run.code, Some(0), "{}", run.text());
    }
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap(), "same seed, same bytes");
    let run = db.geosector(&["import", "land.parcels", a.to_str().unwrap(), "--crs", "EPSG:5897"]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert_eq!(db.count("land.parcels").await, 5000);
    // A gap-free, overlap-free tessellation: no two parcels overlap by more than 0.01 m².
    let overlaps: i64 = db
        .client()
        .await
        .query_one(
            "SELECT count(*) FROM land.parcels a JOIN land.parcels b ON a.id < b.id AND a.geom && b.geom
             AND ST_Area(ST_Intersection(a.geom, b.geom)::geography) > 0.01 WHERE a.id <= 500",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(overlaps, 0);
}

#[tokio::test]
async fn shared_bad_inputs_never_crash_and_never_store() {
    let testdata = testdata();
    let Some(db) = TestDb::migrated().await else { return };
    let mut files: Vec<std::path::PathBuf> = Vec::new();
    for dir in ["bad-inputs/geojson/geojsonhint-bad", "bad-inputs/flatgeobuf"] {
        for entry in std::fs::read_dir(testdata.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if name.ends_with(".geojson") || name.ends_with(".fgb") || name.starts_with("clusterfuzz") {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(files.len() > 20, "{files:?}");
    let mut outcomes = Vec::new();
    for file in &files {
        let path = file.to_str().unwrap();
        let mut args = vec!["import", "land.parcels", path];
        if path.contains("clusterfuzz") {
            args.extend(["--format", "fgb"]);
        }
        let run = db.geosector(&args);
        assert!(matches!(run.code, Some(0..=2)), "{path}: no panic or signal allowed: {}", run.text());
        if run.code != Some(0) {
            let message = if run.code == Some(1) { &run.stdout } else { &run.stderr };
            assert!(
                message.contains(file.file_name().unwrap().to_str().unwrap()),
                "{path}: the message names the file: {}",
                run.text()
            );
        }
        outcomes.push((file.file_name().unwrap().to_string_lossy().to_string(), run.code));
        // Every bad-input file is rejected or fails as a whole for parcels, so nothing is stored.
        assert_eq!(db.count("land.parcels").await, 0, "{path}: {}", run.text());
    }
    let bad_json = outcomes.iter().find(|(n, _)| n == "bad-json.geojson").unwrap();
    assert_eq!(bad_json.1, Some(2));
}
