//! A fifth sector declared only here — sea and islands (biển và hải đảo), with its buoys and their
//! readings — proving that a sector plugs in without a change to `store`, `ingest` or `server`:
//! its own migration (SQL that calls `meta.publish`), a dataset with a rule, a collection with
//! tiles, a style and a time series; a file imported through `geosector_ingest::import`, then
//! items, a tile, a style and a series served by `geosector_server::start`. The steps are those
//! of docs/adding-a-sector.md.

use geosector_domain::rules::{Check, FeatureRule, FeatureView, Params, RuleDecl, Severity, Violation};
use geosector_domain::{
    CollectionDecl, Column, Dataset, Field, FieldType, GeometrySpec, SectorDecl, Selector, Selects, SeriesDecl,
    SeriesSource, StyleDecl, TileDecl,
};
use geozero::mvt::{Message, Tile};

use crate::support::{http_get, TestDb};

/// The sector's migration: its tables, then one call that publishes the buoys (data version,
/// change extents, the Web Mercator twin the tiles read).
const MIGRATION: &str = "
CREATE SCHEMA sea;
CREATE TABLE sea.buoys (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    buoy_code   text NOT NULL UNIQUE,
    name        text NOT NULL,
    depth_m     float8,
    geom        geometry(Point, 4326) NOT NULL,
    source_srid integer NOT NULL,
    imported_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sea_buoys_geom_idx ON sea.buoys USING gist (geom);
SELECT meta.publish('sea.buoys');
CREATE TABLE sea.readings (
    buoy_code   text NOT NULL,
    parameter   text NOT NULL,
    observed_at timestamptz NOT NULL,
    value       float8 NOT NULL,
    unit        text NOT NULL,
    PRIMARY KEY (buoy_code, parameter, observed_at)
);
";

/// Depth is measured downwards: a buoy's water depth cannot be negative.
#[derive(Debug)]
struct DepthNotNegative;

impl FeatureRule for DepthNotNegative {
    fn check(&self, f: &FeatureView<'_>, _: &Params, report: &mut dyn FnMut(Violation)) {
        if let Some(depth) = f.number("depth_m").filter(|d| *d < 0.0) {
            report(Violation::on("depth_m", format!("a water depth of {depth} m is negative")));
        }
    }
}

const BUOYS: Dataset = Dataset {
    id: "sea.buoys",
    description: "Wave and tide buoys",
    schema: "sea",
    table: "buoys",
    fields: &[
        Field::new("buoy_code", &["buoy_code", "maPhao"], FieldType::Text, true),
        Field::new("name", &["name", "tenPhao"], FieldType::Text, true),
        Field::new("depth_m", &["depth_m", "doSau"], FieldType::Float, false),
    ],
    geometry: Some(GeometrySpec::point()),
    conflict_key: Some(&["buoy_code"]),
    prepare_sql: None,
    partition: None,
    rules: &[RuleDecl {
        id: "sea.depth_not_negative",
        description: "A buoy's water depth is not negative",
        default_severity: Severity::Reject,
        params: &[],
        check: Check::Feature(&DepthNotNegative),
    }],
    history: None,
};

const SERIES: SeriesDecl = SeriesDecl {
    key: "buoy_code",
    selector: Selector {
        name: "parameter",
        decimal_comma: false,
        description: "The measured quantity: wave_height or tide_level",
        hint: "wave_height, tide_level",
    },
    sources: &[SeriesSource {
        schema: "sea",
        table: "readings",
        key: "buoy_code",
        selects: Selects::Column("parameter"),
        time: "observed_at",
        value: Column::same("value"),
        fields: &[Column::same("unit")],
    }],
    summary: "One buoy's readings of one quantity over time",
};

const STYLE: StyleDecl = StyleDecl::coloured("#0277bd");

const SECTOR: SectorDecl = SectorDecl {
    id: "sea",
    title_vi: "Biển và hải đảo",
    title_en: "Sea and islands",
    datasets: &[BUOYS],
    collections: &[COLLECTION],
    change_types: &[],
    catalogue: None,
    reports: &[],
};

const COLLECTION: CollectionDecl = CollectionDecl {
    id: "sea.buoys",
    dataset: &BUOYS,
    title_vi: "Phao đo sóng và thủy triều",
    title_en: "Wave and tide buoys",
    description_vi: "Phao đo sóng, mực nước biển.",
    description_en: "Buoys measuring waves and sea level.",
    keywords: &["biển", "phao", "sea", "buoys"],
    hidden: &[],
    extra: &[],
    datetime: None,
    datetime_end: None,
    tiles: TileDecl::ALL,
    style: Some(&STYLE),
    series: Some(&SERIES),
    access: geosector_domain::AccessDecl::PUBLIC,
    relations: &[],
};

const BUOYS_FILE: &str = r#"{"type":"FeatureCollection","features":[
 {"type":"Feature","properties":{"maPhao":"BĐ-01","tenPhao":"Phao Bạch Long Vĩ","doSau":48.5},"geometry":{"type":"Point","coordinates":[107.73,20.13]}},
 {"type":"Feature","properties":{"maPhao":"BĐ-02","tenPhao":"Phao Cồn Cỏ","doSau":22},"geometry":{"type":"Point","coordinates":[107.34,17.16]}}
]}"#;

const BAD_FILE: &str = r#"{"type":"FeatureCollection","features":[
 {"type":"Feature","properties":{"maPhao":"BĐ-03","tenPhao":"Phao Lý Sơn","doSau":-5},"geometry":{"type":"Point","coordinates":[109.12,15.38]}}
]}"#;

async fn import(db: &TestDb, text: &str) -> geosector_ingest::ImportReport {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("buoys.geojson");
    std::fs::write(&path, text).expect("write the file");
    let (mut client, connection) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(connection);
    let options = geosector_ingest::ImportOptions::default();
    geosector_ingest::import(&mut client, &BUOYS, &[path], &options).await.expect("an import report")
}

fn get(base: &str, path: &str) -> crate::support::Response {
    http_get(&format!("{base}{path}"), &[])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sector_declared_only_in_the_tests_imports_and_is_served() {
    let Some(db) = TestDb::migrated().await else { return };
    let client = db.client().await;
    client.batch_execute(MIGRATION).await.expect("the sector's migration");

    // Import: the sector's rule rejects a negative depth and nothing is stored; a good file loads.
    let rejected = import(&db, BAD_FILE).await;
    assert_eq!(rejected.outcome, geosector_ingest::Outcome::Rejected, "{rejected:?}");
    assert_eq!(db.count("sea.buoys").await, 0);
    let report = import(&db, BUOYS_FILE).await;
    assert_eq!(report.outcome, geosector_ingest::Outcome::Accepted, "{report:?}");
    assert_eq!(db.count("sea.buoys").await, 2);
    client
        .batch_execute(
            "INSERT INTO sea.readings VALUES
               ('BĐ-01', 'wave_height', '2026-11-01T00:00:00Z', 1.5, 'm'),
               ('BĐ-01', 'wave_height', '2026-11-01T01:00:00Z', 1.75, 'm'),
               ('BĐ-01', 'tide_level', '2026-11-01T00:00:00Z', 0.4, 'm')",
        )
        .await
        .expect("readings");

    // Serve: only this sector, through the server's public start.
    let config = geosector_server::ServerConfig {
        bind: "127.0.0.1:0".into(),
        database_url: Some(db.url.clone()),
        pool_size: 4,
        workers: 1,
        ..geosector_server::ServerConfig::default()
    };
    let started = geosector_server::start(&config, &[&COLLECTION], &[&SECTOR]).await.expect("the server starts");
    let base = format!("http://{}", started.addrs[0]);
    let handle = started.server.handle();
    tokio::spawn(started.server);

    let checks = tokio::task::spawn_blocking(move || {
        let collections = get(&base, "/collections").json();
        let ids: Vec<&str> = collections["collections"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["itemType"] == "feature")
            .filter_map(|c| c["id"].as_str())
            .collect();
        assert_eq!(ids, ["sea.buoys"]);
        // The data catalogue describes it too, with the neutral defaults of a sector that
        // declares no catalogue metadata.
        let record = get(&base, "/collections/catalogue/items/collection.sea.buoys").json();
        assert_eq!(record["properties"]["title"], COLLECTION.title_vi);
        assert_eq!(record["properties"]["rowCount"], 2);

        let items = get(&base, "/collections/sea.buoys/items?bbox=107,19,108,21").json();
        let features = items["features"].as_array().unwrap();
        assert_eq!(features.len(), 1);
        assert_eq!(features[0]["properties"]["buoy_code"], "BĐ-01");
        assert_eq!(features[0]["properties"]["depth_m"], 48.5);
        let id = features[0]["id"].as_i64().unwrap();
        let filtered = get(&base, "/collections/sea.buoys/items?filter=depth_m%20%3C%2030").json();
        assert_eq!(filtered["features"][0]["properties"]["buoy_code"], "BĐ-02");

        let (x, y) = geosector_crs::web_mercator::tile_of(107.73, 20.13, 12);
        let tile = get(&base, &format!("/collections/sea.buoys/tiles/WebMercatorQuad/12/{y}/{x}"));
        assert_eq!(tile.status, 200);
        let tile = Tile::decode(tile.body.as_slice()).expect("an MVT");
        assert_eq!(tile.layers[0].name, "sea.buoys");
        assert_eq!(tile.layers[0].features.len(), 1);

        let style = get(&base, "/styles/sea").json();
        assert_eq!(style["name"].as_str().map(|n| n.contains("Sea and islands")), Some(true), "{style}");
        assert!(style["sources"]["sea.buoys"]["tiles"][0]
            .as_str()
            .unwrap()
            .ends_with("/collections/sea.buoys/tiles/WebMercatorQuad/{z}/{y}/{x}"));
        assert!(style.to_string().contains("#0277bd"));

        let series = get(&base, &format!("/collections/sea.buoys/items/{id}/timeseries?parameter=wave_height")).json();
        let values: Vec<f64> =
            series["values"].as_array().unwrap().iter().map(|v| v["value"].as_f64().unwrap()).collect();
        assert_eq!(values, [1.5, 1.75], "{series}");
        let csv = get(&base, "/collections/sea.buoys/items/B%C4%90-01/timeseries?parameter=tide_level&f=csv");
        assert_eq!(csv.status, 200);
        assert!(csv.text().contains("0.4"), "{}", csv.text());
        assert_eq!(get(&base, "/collections/sea.buoys/items/999/timeseries?parameter=wave_height").status, 404);
    })
    .await;
    handle.stop(true).await;
    if let Err(e) = checks {
        std::panic::resume_unwind(e.into_panic());
    }
}
