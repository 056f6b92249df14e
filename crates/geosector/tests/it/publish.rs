//! Publishing (`meta.publish`, migration 0017): every collection of the catalogue is published —
//! its data-version trigger and row, and with geometry its change-extent triggers and the Web
//! Mercator twin the tile statement reads —, publishing again changes nothing, and the registry
//! refuses a declared table that was not published, saying what is missing and how to fix it.

use geosector_domain::{CollectionDecl, Dataset, Field, FieldType, GeometrySpec, TileDecl};
use geosector_store::Registry;

use crate::support::TestDb;

/// Triggers on a table, by name, and the generation kind of its `geom_3857` (None: no column).
async fn published(client: &tokio_postgres::Client, table: &str) -> (Vec<String>, Option<String>, bool) {
    let triggers = client
        .query(
            "SELECT tgname::text FROM pg_trigger WHERE tgrelid = $1::text::regclass AND NOT tgisinternal ORDER BY 1",
            &[&table],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let twin = client
        .query_opt(
            "SELECT attgenerated::text FROM pg_attribute WHERE attrelid = $1::text::regclass AND attname = 'geom_3857' AND NOT attisdropped",
            &[&table],
        )
        .await
        .unwrap()
        .map(|r| r.get(0));
    let (schema, name) = table.split_once('.').unwrap();
    let version = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM meta.table_versions WHERE schema_name = $1 AND table_name = $2)",
            &[&schema, &name],
        )
        .await
        .unwrap()
        .get(0);
    (triggers, twin, version)
}

#[tokio::test]
async fn every_declared_collection_is_published_and_publishing_again_changes_nothing() {
    let Some(db) = TestDb::migrated().await else { return };
    let client = db.client().await;
    for c in geosector::collections() {
        let table = format!("{}.{}", c.dataset.schema, c.dataset.table);
        let before = published(&client, &table).await;
        let (triggers, twin, version) = &before;
        assert!(version, "{table}: no row in meta.table_versions");
        let kind: i8 = client
            .query_one("SELECT relkind FROM pg_class WHERE oid = $1::text::regclass", &[&table])
            .await
            .unwrap()
            .get(0);
        if kind == b'v' as i8 {
            // A view is published by meta.publish_view: its version trigger is on the tables it
            // reads (migration 0020).
            let on: i64 = client
                .query_one("SELECT count(*) FROM pg_trigger WHERE tgname = 'bump_version_' || $1", &[&c.dataset.table])
                .await
                .unwrap()
                .get(0);
            assert!(on > 0, "{table}: no bump_version_{} trigger on the tables it reads", c.dataset.table);
            continue;
        }
        assert!(triggers.iter().any(|t| t == "bump_version"), "{table}: no version trigger: {triggers:?}");
        if c.dataset.geometry.is_some() {
            for op in ["insert", "update", "delete", "truncate"] {
                let name = format!("record_extent_{op}");
                assert!(triggers.contains(&name), "{table}: no {name}: {triggers:?}");
            }
            assert!(twin.is_some(), "{table}: no geom_3857, which its tiles read");
        }
        client.execute("SELECT meta.publish($1::text::regclass)", &[&table]).await.unwrap();
        assert_eq!(published(&client, &table).await, before, "{table}: publishing again changed it");
    }
    // A change to a table a published view reads bumps the view's version.
    const OWNERS_VERSION: &str =
        "SELECT version FROM meta.table_versions WHERE schema_name = 'land_restricted' AND table_name = 'owners'";
    let before: i64 = client.query_one(OWNERS_VERSION, &[]).await.unwrap().get(0);
    client.batch_execute("DELETE FROM land_restricted.parcel_rights").await.unwrap();
    let after: i64 = client.query_one(OWNERS_VERSION, &[]).await.unwrap().get(0);
    assert!(after > before, "the owners view's version follows its tables");
    // land.parcels keeps the plain twin its row trigger and the importer write (migration 0014).
    assert_eq!(published(&client, "land.parcels").await.1.as_deref(), Some(""));
}

const THINGS: Dataset = Dataset {
    id: "scratch.things",
    description: "a table declared only in this test",
    schema: "scratch",
    table: "things",
    fields: &[Field::new("name", &["name"], FieldType::Text, false)],
    geometry: Some(GeometrySpec::point()),
    conflict_key: None,
    prepare_sql: None,
    partition: None,
    rules: &[],
    history: None,
};

const THINGS_COLLECTION: CollectionDecl = CollectionDecl {
    id: "scratch.things",
    dataset: &THINGS,
    title_vi: "Vật",
    title_en: "Things",
    description_vi: "",
    description_en: "",
    keywords: &[],
    hidden: &[],
    extra: &[],
    datetime: None,
    datetime_end: None,
    tiles: TileDecl::ALL,
    style: None,
    series: None,
    access: geosector_domain::AccessDecl::PUBLIC,
    relations: &[],
};

#[tokio::test]
async fn the_registry_refuses_a_table_that_was_not_published() {
    let Some(db) = TestDb::migrated().await else { return };
    let client = db.client().await;
    let decls: &[&'static CollectionDecl] = &[&THINGS_COLLECTION];
    let error = Registry::load(&client, decls).await.unwrap_err().to_string();
    assert_eq!(error, "table scratch.things does not exist: run geosector migrate");
    client
        .batch_execute(
            "CREATE SCHEMA scratch;
             CREATE TABLE scratch.things (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text, geom geometry(Point, 4326));
             INSERT INTO scratch.things (name, geom) VALUES ('một', ST_SetSRID(ST_MakePoint(105.85, 21.03), 4326));",
        )
        .await
        .unwrap();
    let error = Registry::load(&client, decls).await.unwrap_err().to_string();
    assert_eq!(
        error,
        "table scratch.things has no column geom_3857, which the tile statement reads: call meta.publish('scratch.things') in its migration"
    );
    client.batch_execute("ALTER TABLE scratch.things ADD COLUMN geom_3857 geometry").await.unwrap();
    let error = Registry::load(&client, decls).await.unwrap_err().to_string();
    assert!(error.starts_with("table scratch.things lacks a change-extent trigger (record_extent_insert"), "{error}");
    assert!(error.ends_with("call meta.publish('scratch.things') in its migration"), "{error}");
    client
        .batch_execute(
            "CREATE TRIGGER record_extent_insert AFTER INSERT ON scratch.things REFERENCING NEW TABLE AS new_rows
               FOR EACH STATEMENT EXECUTE FUNCTION meta.record_changed_extent();
             CREATE TRIGGER record_extent_update AFTER UPDATE ON scratch.things REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
               FOR EACH STATEMENT EXECUTE FUNCTION meta.record_changed_extent();
             CREATE TRIGGER record_extent_delete AFTER DELETE ON scratch.things REFERENCING OLD TABLE AS old_rows
               FOR EACH STATEMENT EXECUTE FUNCTION meta.record_changed_extent();",
        )
        .await
        .unwrap();
    let error = Registry::load(&client, decls).await.unwrap_err().to_string();
    assert!(error.contains("lacks a change-extent trigger"), "three of the four are not enough: {error}");
    client
        .batch_execute(
            "CREATE TRIGGER record_extent_truncate AFTER TRUNCATE ON scratch.things
               FOR EACH STATEMENT EXECUTE FUNCTION meta.record_changed_extent()",
        )
        .await
        .unwrap();
    let error = Registry::load(&client, decls).await.unwrap_err().to_string();
    assert!(error.starts_with("table scratch.things has no data-version trigger (bump_version)"), "{error}");
    assert!(error.ends_with("call meta.publish('scratch.things') in its migration"), "{error}");
    client.batch_execute("ALTER TABLE scratch.things DROP COLUMN geom_3857").await.unwrap();

    client.batch_execute("SELECT meta.publish('scratch.things')").await.unwrap();
    let registry = Registry::load(&client, decls).await.unwrap();
    assert_eq!(registry.get("scratch.things").map(|c| c.bbox()), Some(Some([105.85, 21.03, 105.85, 21.03])));
    // The published table keeps its version and extents: an insert bumps one and records the other.
    client
        .batch_execute(
            "INSERT INTO scratch.things (name, geom) VALUES ('hai', ST_SetSRID(ST_MakePoint(106, 21), 4326))",
        )
        .await
        .unwrap();
    let row = client
        .query_one(
            "SELECT v.version, (SELECT count(*) FROM meta.changed_extents e WHERE e.schema_name = 'scratch' AND e.table_name = 'things'),
                    (SELECT ST_AsText(geom_3857) FROM scratch.things WHERE name = 'hai')
             FROM meta.table_versions v WHERE v.schema_name = 'scratch' AND v.table_name = 'things'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!((row.get::<_, i64>(0), row.get::<_, i64>(1)), (2, 1));
    assert!(row.get::<_, String>(2).starts_with("POINT(11799"), "the twin is in Web Mercator");

    // A geometry column with another name: its own twin and extents.
    let decls: &[&'static CollectionDecl] = &[&SHAPES_COLLECTION];
    client
        .batch_execute("CREATE TABLE scratch.shapes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text, shape geometry(Point, 4326))")
        .await
        .unwrap();
    let error = Registry::load(&client, decls).await.unwrap_err().to_string();
    assert!(error.ends_with("no column shape_3857, which the tile statement reads: call meta.publish('scratch.shapes', 'shape') in its migration"), "{error}");
    let misspelt = client.batch_execute("SELECT meta.publish('scratch.shapes', 'shap')").await.unwrap_err();
    assert!(
        misspelt.as_db_error().is_some_and(|e| e.message() == "meta.publish: table scratch.shapes has no column shap"),
        "{misspelt:?}"
    );
    client.batch_execute("SELECT meta.publish('scratch.shapes', 'shape')").await.unwrap();
    client
        .batch_execute(
            "INSERT INTO scratch.shapes (name, shape) VALUES ('ba', ST_SetSRID(ST_MakePoint(107, 16), 4326))",
        )
        .await
        .unwrap();
    client.batch_execute("UPDATE scratch.shapes SET shape = ST_SetSRID(ST_MakePoint(107.5, 16), 4326)").await.unwrap();
    let extents: Vec<String> = client
        .query(
            "SELECT ST_AsText(extent) FROM meta.changed_extents WHERE schema_name = 'scratch' AND table_name = 'shapes' ORDER BY version",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(extents.len(), 2, "{extents:?}");
    assert!(extents[1].starts_with("POLYGON((106.99"), "old and new rows of the update: {extents:?}");
    assert!(Registry::load(&client, decls).await.is_ok());
}

const SHAPES: Dataset = Dataset {
    id: "scratch.shapes",
    table: "shapes",
    geometry: Some(GeometrySpec { column: "shape", ..GeometrySpec::point() }),
    ..THINGS
};

const SHAPES_COLLECTION: CollectionDecl =
    CollectionDecl { id: "scratch.shapes", dataset: &SHAPES, ..THINGS_COLLECTION };
