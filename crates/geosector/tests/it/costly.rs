//! Legal but costly requests made cheap (issue 22): the plans the server's own statements get
//! from PostgreSQL on a loaded, analysed table. An accent-insensitive address search with a
//! leading wildcard reads the trigram index (migration 0031) instead of every parcel; a bbox
//! as large as the world reads in id order and stops at the page's end instead of sorting every
//! match (its statement is planned with its values, not prepared once). Timings are measured by
//! `benches/costly.sh` (docs/benchmarks.md), not here.

use geosector_filter::{FilterCrs, Lang, Limits, Queryables};
use geosector_store::plan::{BboxFilter, CollectionPlan, ItemsRequest, Statement};

use crate::support::TestDb;

async fn plan_of(client: &tokio_postgres::Client, statement: &Statement) -> String {
    let params: Vec<_> = statement.values().collect();
    let rows = client.query(&format!("EXPLAIN {}", statement.sql()), &params).await.unwrap();
    rows.iter().map(|r| r.get::<_, String>(0)).collect::<Vec<_>>().join("\n")
}

#[tokio::test]
async fn an_address_search_reads_the_trigram_index_and_a_world_bbox_reads_in_id_order() {
    let Some(db) = TestDb::migrated().await else { return };
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("parcels.geojsonl");
    let run = crate::support::geosector(
        None,
        &["sample-data", "--parcels", "20000", "--seed", "4", "--out", file.to_str().unwrap()],
    );
    assert_eq!(run.code, Some(0), "{}", run.text());
    let run = db.geosector(&["import", "land.parcels", file.to_str().unwrap(), "--crs", "EPSG:5897"]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let client = db.client().await;
    client.batch_execute("ANALYZE land.parcels").await.unwrap();

    let decl = geosector::collections().into_iter().find(|d| d.id == "land.parcels").expect("land.parcels");
    let properties = decl.properties();
    let plan = CollectionPlan::new(decl, &properties, &[]);
    let queryables = Queryables::new(&properties, decl.dataset.geometry.as_ref());
    // A pattern of one hamlet (a few hundred parcels), written without accents.
    let some: String = client
        .query_one("SELECT meta.accenti(address) FROM land.parcels ORDER BY id LIMIT 1", &[])
        .await
        .unwrap()
        .get(0);
    let hamlet = some.split(',').next().unwrap().to_owned();
    for (pattern, rows) in [(format!("%{hamlet},%"), None), ("%Thon 987654,%".to_owned(), Some(0))] {
        let text = format!("ACCENTI(address) LIKE '{pattern}'");
        let filter =
            geosector_filter::compile(&text, Lang::Text, &queryables, &FilterCrs::crs84(), Limits::default()).unwrap();
        let statement = plan.items(&ItemsRequest { filter: Some(&filter), limit: 10, ..ItemsRequest::default() });
        // A rare pattern (the costly case: a scan finds nothing to stop at) goes through the
        // index; a common one may read in id order and stop at the page's end, as cheap.
        let explained = plan_of(&client, &statement).await;
        assert!(
            rows.is_none() || (explained.contains("Bitmap Index Scan on") && explained.contains("accenti_idx")),
            "{text}: not through the trigram index:\n{explained}"
        );
        // Through the index, the same answer as a scan.
        let expected: i64 = client
            .query_one("SELECT count(*) FROM land.parcels WHERE meta.accenti(address) LIKE $1", &[&pattern])
            .await
            .unwrap()
            .get(0);
        if let Some(rows) = rows {
            assert_eq!(expected, rows);
        } else {
            assert!(expected > 10, "{pattern}: {expected}");
        }
        let params: Vec<_> = statement.values().collect();
        let got = client.query(statement.sql(), &params).await.unwrap();
        assert_eq!(got.len() as i64, expected.min(11), "{text}");
    }

    // The whole world: read in id order, no sort of every match.
    let world = ItemsRequest {
        bbox: BboxFilter::Envelopes(vec![[-180.0, -90.0, 180.0, 90.0]]),
        limit: 10,
        ..ItemsRequest::default()
    };
    let statement = plan.items(&world);
    assert!(!statement.is_reusable(), "a bbox is planned with its values");
    let explained = plan_of(&client, &statement).await;
    assert!(!explained.contains("Sort"), "a world bbox sorts its matches:\n{explained}");
    // A street's box still goes through the spatial index.
    let (x, y): (f64, f64) = {
        let r = client
            .query_one("SELECT ST_X(ST_Centroid(geom)), ST_Y(ST_Centroid(geom)) FROM land.parcels LIMIT 1", &[])
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    let street = ItemsRequest {
        bbox: BboxFilter::Envelopes(vec![[x - 0.0005, y - 0.0005, x + 0.0005, y + 0.0005]]),
        limit: 10,
        ..ItemsRequest::default()
    };
    let explained = plan_of(&client, &plan.items(&street)).await;
    assert!(explained.contains("geom_idx"), "a small bbox goes through the spatial index:\n{explained}");
}
