//! The migrated schema: every table and column the sector crates declare exists with the
//! declared type, geometry is EPSG:4326 with a GiST index, personal data sit in the restricted
//! schema, and spatial_ref_sys carries the crs crate's VN-2000 definitions.

use crate::support::TestDb;
use geosector_domain::Dataset;

fn datasets() -> Vec<&'static Dataset> {
    // The OGC conformance datasets are checked too, whether or not they are switched on.
    let mut all: Vec<&'static Dataset> = geosector::datasets().collect();
    all.extend(
        geosector_conformance::DATASETS.iter().filter(|d| !all.iter().any(|a| a.id == d.id)).collect::<Vec<_>>(),
    );
    all
}

#[tokio::test]
async fn every_table_is_present() {
    let Some(db) = TestDb::migrated().await else { return };
    let client = db.client().await;
    let expected = [
        "reference.admin_units",
        "land.parcels",
        "land.map_sheets",
        "land_restricted.parties",
        "land_restricted.certificates",
        "land_restricted.parcel_rights",
        "minerals.licences",
        "minerals.licence_areas",
        "minerals.prohibited_zones",
        "water.permits",
        "water.works",
        "water.stations",
        "water.river_basins",
        "environment.stations",
        "environment.observations",
        "environment.pollution_sources",
    ];
    for table in expected {
        let present: bool = client.query_one("SELECT to_regclass($1) IS NOT NULL", &[&table]).await.unwrap().get(0);
        assert!(present, "{table} is missing");
    }
    let partitioned: bool = client
        .query_one("SELECT relkind = 'p' FROM pg_class WHERE oid = 'environment.observations'::regclass", &[])
        .await
        .unwrap()
        .get(0);
    assert!(partitioned, "observations must be partitioned by time");
}

#[tokio::test]
async fn declared_columns_match_the_database() {
    let Some(db) = TestDb::migrated().await else { return };
    let client = db.client().await;
    let column_type = |schema: &'static str, table: &'static str, column: &'static str| {
        let client = &client;
        async move {
            client
                .query_opt(
                    "SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
                     WHERE a.attrelid = format('%I.%I', $1::text, $2::text)::regclass AND a.attname = $3 AND NOT a.attisdropped",
                    &[&schema, &table, &column],
                )
                .await
                .unwrap()
                .map(|r| r.get::<_, String>(0))
        }
    };
    for d in datasets() {
        for f in d.fields {
            let found = column_type(d.schema, d.table, f.column).await;
            assert_eq!(found.as_deref(), Some(f.kind.sql_type()), "{}.{}", d.id, f.column);
        }
        if let Some(g) = d.geometry {
            let found = column_type(d.schema, d.table, g.column).await.unwrap_or_default();
            assert!(
                found.starts_with("geometry(") && found.ends_with(",4326)"),
                "{}: geometry column is {found}",
                d.id
            );
            if let Some(c) = g.source_srid_column {
                assert_eq!(column_type(d.schema, d.table, c).await.as_deref(), Some("integer"), "{}.{c}", d.id);
            }
            if let Some(c) = g.area_column {
                assert_eq!(
                    column_type(d.schema, d.table, c).await.as_deref(),
                    Some("double precision"),
                    "{}.{c}",
                    d.id
                );
            }
        }
        if let Some(key) = d.conflict_key {
            // An upsert needs a unique index or constraint on exactly the key.
            let cols = key.join(", ");
            let unique: bool = client
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = format('%I.%I', $1::text, $2::text)::regclass AND i.indisunique
                       AND (SELECT string_agg(a.attname, ', ' ORDER BY k.ord) FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
                            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum) = $3)",
                    &[&d.schema, &d.table, &cols],
                )
                .await
                .unwrap()
                .get(0);
            assert!(unique, "{}: no unique index on ({cols})", d.id);
            // The upsert refreshes imported_at.
            let stamped = column_type(d.schema, d.table, "imported_at").await;
            assert_eq!(stamped.as_deref(), Some("timestamp with time zone"), "{}.imported_at", d.id);
        }
    }
}

#[tokio::test]
async fn every_geometry_column_has_a_gist_index() {
    let Some(db) = TestDb::migrated().await else { return };
    let rows = db
        .client()
        .await
        .query(
            "SELECT c.f_table_schema || '.' || c.f_table_name || '.' || c.f_geometry_column
             FROM geometry_columns c
             WHERE c.f_table_schema IN ('reference', 'land', 'minerals', 'water', 'environment')
               -- the Web Mercator copies (generated, migration 0008, or kept by a trigger, 0014) are
               -- read by tiles, never searched: candidates come from the lon/lat column's index;
               -- so are the simplified copies drawn at low zooms (0025)
               AND c.f_geometry_column NOT IN ('geom_3857', 'geom_overview_3857')
               AND NOT EXISTS (
                 SELECT 1 FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
                 WHERE i.indrelid = format('%I.%I', c.f_table_schema, c.f_table_name)::regclass
                   AND am.amname = 'gist' AND a.attname = c.f_geometry_column)",
            &[],
        )
        .await
        .unwrap();
    let missing: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert!(missing.is_empty(), "geometry columns without a GiST index: {missing:?}");
}

#[tokio::test]
async fn personal_data_live_only_in_the_restricted_schema() {
    let Some(db) = TestDb::migrated().await else { return };
    let rows = db
        .client()
        .await
        .query(
            "SELECT table_schema || '.' || table_name || '.' || column_name FROM information_schema.columns
             WHERE column_name IN ('id_number', 'full_name', 'birth_date', 'owner_name')
               AND table_schema IN ('reference', 'land', 'land_restricted', 'minerals', 'water', 'environment')",
            &[],
        )
        .await
        .unwrap();
    let found: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert!(!found.is_empty());
    assert!(found.iter().all(|c| c.starts_with("land_restricted.")), "{found:?}");
    // Importable (land.parties, land.certificates, land.parcel_rights), and published only as
    // restricted collections (closed unless a grant names them, docs/security.md), each declaring
    // its personal columns.
    assert!(datasets().iter().any(|d| d.schema == "land_restricted"));
    for c in geosector::collections() {
        if c.dataset.schema == "land_restricted" {
            assert!(c.access.restricted, "{} must be restricted", c.id);
        }
        for column in ["id_number", "full_name", "birth_date"] {
            if c.properties().iter().any(|p| p.name == column) {
                assert!(c.access.mask_of(column).is_some(), "{}.{column} must be declared personal", c.id);
            }
        }
    }
}

#[tokio::test]
async fn spatial_ref_sys_carries_the_one_vn2000_rule() {
    let Some(db) = TestDb::migrated().await else { return };
    let client = db.client().await;
    for def in geosector_crs::KNOWN_CRS.iter().filter(|d| d.is_vn2000()) {
        let srid = def.epsg as i32;
        let row = client
            .query_opt("SELECT trim(proj4text), auth_name, auth_srid FROM spatial_ref_sys WHERE srid = $1", &[&srid])
            .await
            .unwrap();
        let row = row.unwrap_or_else(|| panic!("EPSG:{srid} is missing from spatial_ref_sys"));
        assert_eq!(row.get::<_, String>(0), def.proj(), "EPSG:{srid}");
        assert!(def.proj().contains(geosector_crs::TOWGS84_EPSG_6960));
        assert_eq!(row.get::<_, Option<String>>(1).as_deref(), Some("EPSG"));
    }
    // PostGIS (through PROJ) and the crs crate agree on a TM-3 105-45 point when given the same
    // explicit definition: one rule in SQL and in Rust.
    let (x, y) = (585_000.0_f64, 2_324_000.0_f64);
    let row = client
        .query_one(
            "SELECT ST_X(g), ST_Y(g) FROM (SELECT ST_Transform(ST_SetSRID(ST_MakePoint($1, $2), 9210),
                 (SELECT proj4text FROM spatial_ref_sys WHERE srid = 9210), '+proj=longlat +datum=WGS84 +no_defs') AS g) s",
            &[&x, &y],
        )
        .await
        .unwrap();
    let t =
        geosector_crs::Transformer::new(&geosector_crs::Crs::from_epsg(9210).unwrap(), &geosector_crs::Crs::wgs84())
            .unwrap();
    let ours = t.coord(geo_types::Coord { x, y }).unwrap();
    let (lon, lat): (f64, f64) = (row.get(0), row.get(1));
    // 1e-8 degree is about 1 mm.
    assert!((ours.x - lon).abs() < 1e-8 && (ours.y - lat).abs() < 1e-8, "PostGIS {lon},{lat} vs crs crate {:?}", ours);
}

#[tokio::test]
async fn parcel_codes_are_exactly_their_digits() {
    // Migration 0015 checks the codes without regular expressions: the same rule.
    let Some(db) = TestDb::migrated().await else { return };
    let client = db.client().await;
    let insert = |commune: &'static str, province: &'static str| {
        let client = &client;
        async move {
            client
                .execute(
                    "INSERT INTO land.parcels (commune_code, sheet_number, parcel_number, land_use_codes, geom, source_srid, province_code)
                     VALUES ($1, 1, '1', '{ONT}', 'SRID=4326;MULTIPOLYGON(((105 21,105.001 21,105.001 21.001,105 21)))', 4326, $2)",
                    &[&commune, &province],
                )
                .await
        }
    };
    client.batch_execute("CREATE TABLE land.parcels_p01 PARTITION OF land.parcels FOR VALUES IN ('01')").await.unwrap();
    assert!(insert("00376", "01").await.is_ok());
    // Arabic-Indic digits are digits to a Unicode regex class, not to a commune code.
    for commune in ["0037", "003760", "0037a", " 0037", "٠٠٣٧٦", ""] {
        let refused = insert(commune, "01").await.unwrap_err();
        let constraint = refused.as_db_error().and_then(|e| e.constraint()).unwrap_or_default();
        assert!(constraint.contains("commune_code"), "{commune:?}: {refused:?}");
    }
    for province in ["1", "001", "0a"] {
        assert!(insert("00376", province).await.is_err(), "province {province:?}");
    }
}
