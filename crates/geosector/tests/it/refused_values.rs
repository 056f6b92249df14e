//! Values PostgreSQL would refuse — years outside 1–9999, UTC offsets past ±14:00, NUL
//! characters in text — are refused by the server with a 400 naming the parameter, never passed
//! on to become a 500 (issue 22's findings on items; the importer refuses them through the same
//! field parser, naming the feature and the field).

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
