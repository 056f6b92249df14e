//! Values PostgreSQL would refuse — years outside 1–9999, UTC offsets past ±14:00, NUL
//! characters in text — are refused by the server with a 400 naming the parameter, never passed
//! on to become a 500 (issue 22's findings on items); the importer refuses them through the same
//! field parser, and an EMPTY part of a geometry, as that feature's error naming the line and the
//! field, instead of failing the whole load at the database.

use crate::support::{Server, TestDb};

#[tokio::test]
async fn values_postgresql_refuses_are_400s_naming_the_parameter() {
    let Some(db) = TestDb::migrated().await else { return };
    let server = Server::start(&db, &[]);
    for (path, named) in [
        ("land.parcels/items?survey_date=0000-01-01", "survey_date"),
        ("land.parcels/items?survey_date=10000-01-01", "survey_date"),
        ("land.parcels/items?address=%00", "address"),
        ("land.parcels/items?land_use_codes=ONT%00", "land_use_codes"),
        ("water.works/items?work_code=%00", "work_code"),
        ("environment.observations/items?datetime=0000-01-01", "datetime"),
        ("environment.observations/items?datetime=-0001-01-01", "datetime"),
        ("environment.observations/items?datetime=%2B10000-01-01", "datetime"),
        ("environment.observations/items?datetime=2024-01-01T00:00:00%2B20:00", "datetime"),
        ("environment.observations/items?datetime=2024-01-01/0000-01-01", "datetime"),
        ("reference.admin_units/items?datetime=0000-01-01", "datetime"),
        ("reference.admin_units/items?valid_from=0000-12-31", "valid_from"),
    ] {
        let response = server.get(&format!("/collections/{path}"));
        assert_eq!(response.status, 400, "{path}: {}", response.text());
        let body = response.json();
        assert_eq!(body["code"], "InvalidParameterValue", "{path}");
        assert!(body["description"].as_str().unwrap().starts_with(&format!("{named}:")), "{path}: {body}");
    }
    // The edges that PostgreSQL takes are taken.
    for path in [
        "environment.observations/items?datetime=0001-01-01/9999-12-31",
        "environment.observations/items?datetime=2024-01-01T00:00:00%2B14:00",
        "land.parcels/items?survey_date=9999-12-31",
    ] {
        assert_eq!(server.get(&format!("/collections/{path}")).status, 200, "{path}");
    }
}

#[tokio::test]
async fn an_empty_part_or_a_year_zero_is_one_features_error_not_the_loads() {
    let Some(db) = TestDb::migrated().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("zones.csv");
    let square = "((105.80 21.00, 105.81 21.00, 105.81 21.01, 105.80 21.00))";
    std::fs::write(
        &csv,
        format!(
            "zone_code,name,zone_kind,decided_on,wkt\n\
             Z1,Khu 1,prohibited,2024-05-01,\"MULTIPOLYGON ({square})\"\n\
             Z2,Khu 2,prohibited,2024-05-01,\"MULTIPOLYGON ({square}, EMPTY)\"\n\
             Z3,Khu 3,prohibited,0000-01-01,\"MULTIPOLYGON ({square})\"\n"
        ),
    )
    .unwrap();
    let path = csv.to_str().unwrap();
    let refused = db.geosector(&["import", "minerals.prohibited_zones", path]);
    assert_ne!(refused.code, Some(0));
    let text = refused.text();
    assert!(text.contains("line 3, geometry: MultiPolygon part 1: ring 0 is empty"), "{text}");
    assert!(text.contains("line 4, decided_on: expected a date in the years 1 to 9999"), "{text}");
    assert_eq!(db.count("minerals.prohibited_zones").await, 0, "all or nothing");
    let partial = db.geosector(&["import", "minerals.prohibited_zones", path, "--skip-rejected"]);
    assert_eq!(partial.code, Some(0), "{}", partial.text());
    assert_eq!(db.count("minerals.prohibited_zones").await, 1, "the sound feature alone");
}
