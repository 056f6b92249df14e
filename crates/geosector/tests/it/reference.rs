//! `geosector reference`: administrative units versioned by validity dates, with boundaries.

use crate::support::{repo, TestDb};

#[tokio::test]
async fn hanoi_subset_loads_twice_to_the_same_state() {
    let Some(db) = TestDb::migrated().await else { return };
    for _ in 0..2 {
        let run = db.geosector(&["reference", "data-samples/reference"]);
        assert_eq!(run.code, Some(0), "{}", run.text());
        assert!(
            run.stdout.contains("1 provinces, 126 communes") && run.stdout.contains("127 boundaries attached"),
            "{}",
            run.text()
        );
    }
    let client = db.client().await;
    let row = client
        .query_one(
            "SELECT count(*), count(geom), count(*) FILTER (WHERE parent_code = '01') FROM reference.admin_units WHERE valid_from = '2025-07-01'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!((row.get::<_, i64>(0), row.get::<_, i64>(1), row.get::<_, i64>(2)), (127, 127, 126));
    let name: String = client
        .query_one("SELECT (reference.admin_unit_at('commune', '00070', '2026-01-01')).name", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(name, "Phường Hoàn Kiếm");
}

#[tokio::test]
async fn full_reference_keeps_reused_codes_apart_by_date() {
    let Some(db) = TestDb::migrated().await else { return };
    let dir = repo().join("data-samples/vietnam");
    let run = db.geosector(&["reference", dir.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert!(run.stdout.contains("34 provinces, 3321 communes"), "{}", run.text());
    assert!(run.stdout.contains("63 provinces"), "{}", run.text());
    let client = db.client().await;
    // Province code 15 was Yên Bái before 1 Jul 2025 and is Lào Cai since.
    let names = client
        .query_one(
            "SELECT (reference.admin_unit_at('province', '15', '2024-06-01')).name, (reference.admin_unit_at('province', '15', '2025-08-01')).name",
            &[],
        )
        .await
        .unwrap();
    let (before, after): (String, String) = (names.get(0), names.get(1));
    assert!(before.contains("Yên Bái"), "{before}");
    assert!(after.contains("Lào Cai"), "{after}");
    let with_geometry: i64 = client
        .query_one(
            "SELECT count(*) FROM reference.admin_units WHERE valid_from = '2025-07-01' AND geom IS NOT NULL",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(with_geometry, 34 + 3321);
    // Overlapping validity for one code is impossible (exclusion constraint).
    let overlap = client
        .execute(
            "INSERT INTO reference.admin_units (level, code, valid_from, name, source) VALUES ('province', '15', '2026-01-01', 'x', 'test')",
            &[],
        )
        .await;
    assert!(overlap.is_err());

    // The units before the reform start at -infinity: parcels are checked against them.
    let tmp = tempfile::tempdir().unwrap();
    let parcel = |date: &str| {
        let path = tmp.path().join(format!("vinh-hung-{date}.geojson"));
        std::fs::write(
            &path,
            format!(
                r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{"maXa":"00304","soHieuToBanDo":1,"soThuTuThua":"1","maMucDichSuDung":"ONT","ngayDoDac":"{date}"}},"geometry":{{"type":"Polygon","coordinates":[[[105.87,20.99],[105.871,20.99],[105.871,20.991],[105.87,20.991],[105.87,20.99]]]}}}}]}}"#
            ),
        )
        .unwrap();
        path.to_str().unwrap().to_owned()
    };
    let run = db.geosector(&["validate", "land.parcels", &parcel("2024-01-01")]);
    assert_eq!(run.code, Some(0), "Phường Vĩnh Hưng (00304) existed in 2024: {}", run.text());
    let run = db.geosector(&["validate", "land.parcels", &parcel("2025-09-01")]);
    assert_eq!(run.code, Some(1), "00304 ended with the 2025 reform: {}", run.text());
    assert!(run.stdout.contains("valid until 2025-07-01"), "{}", run.text());
}
