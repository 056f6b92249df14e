//! Bulk imports keep stable identity and write history (issue 19, deliverables 1 and 4): every
//! import of a versioned dataset is a changeset with its audit row in the same transaction; a
//! `--replace` reload diffs against the stored rows on the natural key (partition swap and
//! ordinary tables alike): unchanged features keep id and version and make no history row,
//! changed ones get the next version, missing ones are retired, new ones get new ids; a
//! rejected reload leaves nothing. Parcels get their national parcel ID once.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use tokio_postgres::Client;

use crate::support::TestDb;

const PARCELS: &str = "data-samples/land/parcels_soc_son.geojson";
const MAP_SHEETS: &str = "data-samples/land/map_sheets_soc_son.geojson";
const LICENCES: &str = "data-samples/minerals/licences.geojson";

/// One stored feature: id, version, version_from (as text) and changeset.
type Stored = (i64, i32, String, Option<i64>);

/// The stored features of a table by natural key (`key` is an SQL text expression) and
/// occurrence (in id order).
async fn stored(client: &Client, table: &str, key: &str) -> BTreeMap<(String, i64), Stored> {
    client
        .query(
            &format!(
                "SELECT {key}, row_number() OVER (PARTITION BY {key} ORDER BY id), id, version, version_from::text, changeset_id
                 FROM {table}"
            ),
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| ((r.get(0), r.get(1)), (r.get(2), r.get(3), r.get(4), r.get(5))))
        .collect()
}

const PARCEL_KEY: &str = "commune_code || '/' || sheet_number || '/' || parcel_number";

/// The features of a GeoJSON file.
fn features(path: &str) -> (Value, Vec<Value>) {
    let mut doc: Value =
        serde_json::from_str(&std::fs::read_to_string(crate::support::repo().join(path)).unwrap()).unwrap();
    let features = doc["features"].as_array_mut().map(std::mem::take).unwrap();
    (doc, features)
}

/// Writes a GeoJSON file with these features (and the original's other members).
fn write(dir: &Path, name: &str, doc: &Value, features: Vec<Value>) -> String {
    let mut doc = doc.clone();
    doc["features"] = Value::Array(features);
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string(&doc).unwrap()).unwrap();
    path.to_str().unwrap().to_owned()
}

/// Every parcel's national ID by id.
async fn national_ids(client: &Client) -> BTreeMap<i64, String> {
    client
        .query("SELECT id, national_id FROM land.parcels", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

async fn one_i64(client: &Client, sql: &str) -> i64 {
    client.query_one(sql, &[]).await.unwrap().get(0)
}

/// (changesets, history rows, audit write rows).
async fn trail(client: &Client, history: &str) -> (i64, i64, i64) {
    (
        one_i64(client, "SELECT count(*) FROM meta.changesets").await,
        one_i64(client, &format!("SELECT count(*) FROM {history}")).await,
        one_i64(client, "SELECT count(*) FROM meta.audit WHERE action = 'write'").await,
    )
}

#[tokio::test]
async fn history_import_parcel_reloads_keep_ids_and_version_only_what_changed() {
    let Some(db) = TestDb::migrated().await else { return };
    let tmp = tempfile::tempdir().unwrap();
    let client = db.client().await;
    let run = db.geosector(&["reference", "data-samples/reference"]);
    assert_eq!(run.code, Some(0), "{}", run.text());

    // First load: a changeset with its reference, every parcel version 1 of it.
    let run = db.geosector(&[
        "import",
        "land.parcels",
        PARCELS,
        "--replace",
        "--reference",
        "1234/QĐ-UBND",
        "--reference-date",
        "2026-03-01",
        "--note",
        "first load",
        "--change-type",
        "DH",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let row = client
        .query_one(
            "SELECT id, actor, client, source, change_type, reference, reference_date::text, note FROM meta.changesets",
            &[],
        )
        .await
        .unwrap();
    let first: i64 = row.get(0);
    assert!(row.get::<_, String>(1).starts_with("cli:"));
    assert_eq!(row.get::<_, Option<String>>(2).as_deref(), Some("geosector import"));
    assert_eq!(row.get::<_, String>(3), "import");
    assert_eq!(row.get::<_, Option<String>>(4).as_deref(), Some("DH"));
    assert_eq!(row.get::<_, Option<String>>(5).as_deref(), Some("1234/QĐ-UBND"));
    assert_eq!(row.get::<_, Option<String>>(6).as_deref(), Some("2026-03-01"));
    assert_eq!(row.get::<_, Option<String>>(7).as_deref(), Some("first load"));
    let loaded = stored(&client, "land.parcels", PARCEL_KEY).await;
    assert_eq!(loaded.len(), 600);
    assert!(loaded.values().all(|s| s.1 == 1 && s.3 == Some(first)), "version 1 of the first changeset");
    let at: String = client.query_one("SELECT at::text FROM meta.changesets", &[]).await.unwrap().get(0);
    assert!(loaded.values().all(|s| s.2 == at), "valid from the changeset's time");
    assert_eq!(trail(&client, "land.parcels_history").await, (1, 0, 1));
    // The parcel key (00376, 5, 57) is there twice in the sample: both kept.
    assert!(loaded.contains_key(&("00376/5/57".to_owned(), 2)));

    // Every parcel has its national ID, and it decodes to a point inside the parcel.
    let ids = "SELECT count(*), count(national_id),
                      count(*) FILTER (WHERE ST_Contains(geom, ST_SetSRID(ST_PointFromGeoHash(national_id), 4326))),
                      count(DISTINCT national_id)
               FROM land.parcels";
    let row = client.query_one(ids, &[]).await.unwrap();
    let counts: (i64, i64, i64, i64) = (row.get(0), row.get(1), row.get(2), row.get(3));
    assert_eq!(counts.0, 600);
    assert_eq!(counts.1, 600, "every parcel has a national ID");
    assert_eq!(counts.2, 600, "each decodes to a point inside its parcel");
    let first_ids = national_ids(&client).await;

    // An unchanged reload: no history row, every id, version and national ID kept.
    let run = db.geosector(&["import", "land.parcels", PARCELS, "--replace"]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert!(run.stdout.contains("600 unchanged, 0 changed, 0 new, 0 retired"), "{}", run.text());
    assert_eq!(stored(&client, "land.parcels", PARCEL_KEY).await, loaded);
    assert_eq!(national_ids(&client).await, first_ids);
    assert_eq!(trail(&client, "land.parcels_history").await, (2, 0, 2));

    // A reload with 1 % changed (5 attributes, 1 geometry), 3 parcels gone and 2 new: a new
    // parcel and a second occurrence of a stored key.
    let (doc, mut list) = features(PARCELS);
    let key = |f: &Value| {
        let p = &f["properties"];
        format!("{}/{}/{}", p["maXa"].as_str().unwrap(), p["soHieuToBanDo"], p["soThuTuThua"].as_str().unwrap())
    };
    let changed_keys: Vec<String> = [10, 110, 210, 310, 410, 510].iter().map(|&i| key(&list[i])).collect();
    for &i in &[10, 110, 210, 310, 410] {
        list[i]["properties"]["diaChi"] = Value::String("Thôn mới, Xã Sóc Sơn".into());
    }
    // The geometry of one moves by 1 cm.
    for ring in list[510]["geometry"]["coordinates"][0].as_array_mut().unwrap() {
        for point in ring.as_array_mut().unwrap() {
            point[0] = Value::from(point[0].as_f64().unwrap() + 0.01);
        }
    }
    let gone: Vec<String> = [20, 120, 220].iter().map(|&i| key(&list[i])).collect();
    let mut duplicate = list[30].clone();
    duplicate["properties"]["diaChi"] = Value::String("bản sao".into());
    let mut fresh = list[40].clone();
    fresh["properties"]["soThuTuThua"] = Value::String("9001".into());
    list.retain(|f| !gone.contains(&key(f)));
    list.push(duplicate.clone());
    list.push(fresh);
    let changed_file = write(tmp.path(), "changed.geojson", &doc, list.clone());
    let run = db.geosector(&["import", "land.parcels", &changed_file, "--replace", "--note", "1 % changed"]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert!(run.stdout.contains("591 unchanged, 6 changed, 2 new, 3 retired"), "{}", run.text());
    let second: i64 = one_i64(&client, "SELECT max(id) FROM meta.changesets").await;
    let at2: String =
        client.query_one("SELECT at::text FROM meta.changesets WHERE id = $1", &[&second]).await.unwrap().get(0);
    let after = stored(&client, "land.parcels", PARCEL_KEY).await;
    assert_eq!(after.len(), 599);
    for (k, s) in &after {
        match loaded.get(k) {
            Some(before) if changed_keys.contains(&k.0) => {
                assert_eq!((s.0, s.1, &s.2, s.3), (before.0, 2, &at2, Some(second)), "{k:?} changed");
            }
            Some(before) => assert_eq!(s, before, "{k:?} unchanged"),
            None => {
                assert!(s.0 > loaded.values().map(|s| s.0).max().unwrap(), "{k:?}: a new id");
                assert_eq!((s.1, &s.2, s.3), (1, &at2, Some(second)), "{k:?} new");
            }
        }
    }
    assert!(after.contains_key(&(key(&duplicate), 2)), "the second occurrence of a key is new");
    assert!(gone.iter().all(|g| !after.contains_key(&(g.clone(), 1))));
    // The history: the old versions of the changed, and the retired.
    let history = client
        .query(
            &format!(
                "SELECT {PARCEL_KEY}, id, version, retired, version_to::text, ended_by, national_id IS NOT NULL
                 FROM land.parcels_history ORDER BY 1"
            ),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(history.len(), 9);
    for r in &history {
        let (k, id, version, retired): (String, i64, i32, bool) = (r.get(0), r.get(1), r.get(2), r.get(3));
        assert_eq!(loaded[&(k.clone(), 1)].0, id, "{k}");
        assert_eq!(version, 1);
        assert_eq!(retired, gone.contains(&k), "{k}");
        assert!(retired || changed_keys.contains(&k), "{k}");
        assert_eq!((r.get::<_, String>(4), r.get::<_, i64>(5), r.get::<_, bool>(6)), (at2.clone(), second, true));
    }
    // The national IDs of the kept parcels are the stored ones, the moved one's too.
    let now = national_ids(&client).await;
    for (id, national_id) in &now {
        if let Some(before) = first_ids.get(id) {
            assert_eq!(national_id, before, "parcel {id} keeps its national ID");
        }
    }
    assert_eq!(trail(&client, "land.parcels_history").await, (3, 9, 3));

    // The same file again: nothing changes.
    let run = db.geosector(&["import", "land.parcels", &changed_file, "--replace"]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert!(run.stdout.contains("599 unchanged, 0 changed, 0 new, 0 retired"), "{}", run.text());
    assert_eq!(stored(&client, "land.parcels", PARCEL_KEY).await, after);

    // A rejected reload (an unknown land-use code) leaves no changeset, history or audit row.
    list[0]["properties"]["maMucDichSuDung"] = serde_json::json!(["XYZ"]);
    list[1]["properties"]["diaChi"] = Value::String("would change".into());
    let rejected = write(tmp.path(), "rejected.geojson", &doc, list);
    let run = db.geosector(&["import", "land.parcels", &rejected, "--replace"]);
    assert_eq!(run.code, Some(1), "{}", run.text());
    assert_eq!(trail(&client, "land.parcels_history").await, (4, 9, 4));
    assert_eq!(stored(&client, "land.parcels", PARCEL_KEY).await, after);
    assert_eq!(db.parcel_load_tables().await, 0);
}

#[tokio::test]
async fn history_import_parcels_keep_a_given_national_id_and_check_it() {
    let Some(db) = TestDb::migrated().await else { return };
    let tmp = tempfile::tempdir().unwrap();
    let client = db.client().await;
    let (doc, list) = features(PARCELS);
    let mut list: Vec<Value> = list.into_iter().take(3).collect();
    // 0: a given ID inside the parcel (its first vertex's cell, nudged in); 1: an ID 225 m off
    // (flagged); the third has none and gets one.
    let run = db.geosector(&["import", "land.parcels", &write(tmp.path(), "a.geojson", &doc, list.clone())]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let computed: Vec<String> = client
        .query("SELECT national_id FROM land.parcels ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let far: String = client
        .query_one(
            "SELECT ST_GeoHash(ST_Translate(ST_PointOnSurface(geom), 0.002, 0), 12) FROM land.parcels ORDER BY id LIMIT 1 OFFSET 1",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    client.batch_execute("TRUNCATE land.parcels").await.unwrap();
    list[0]["properties"]["maDinhDanh"] = Value::String(computed[0].clone());
    list[1]["properties"]["national_id"] = Value::String(far.clone());
    let run = db.geosector(&["import", "land.parcels", &write(tmp.path(), "b.geojson", &doc, list.clone())]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let line = run.stdout.lines().find(|l| l.contains("land.national_id_inside")).unwrap_or_default();
    assert!(line.contains("0 rejected, 1 flagged"), "{}", run.text());
    let stored: Vec<String> = client
        .query("SELECT national_id FROM land.parcels ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        stored,
        vec![computed[0].clone(), far, computed[2].clone()],
        "given IDs are kept, a missing one computed"
    );

    // Not GeoHash: rejected (brief rule 6, E).
    list[0]["properties"]["maDinhDanh"] = Value::String("w7er8gfn1s8a".into());
    let run = db.geosector(&["import", "land.parcels", &write(tmp.path(), "c.geojson", &doc, list)]);
    assert_eq!(run.code, Some(1), "{}", run.text());
    assert!(run.stdout.contains("land.national_id_format"), "{}", run.text());

    // A parcel written without one (an API edit, an operator's SQL) gets one from the trigger,
    // and an update never recomputes it.
    client
        .batch_execute(
            "INSERT INTO land.parcels (commune_code, sheet_number, parcel_number, land_use_codes, geom, source_srid)
             SELECT commune_code, sheet_number, '77', land_use_codes, geom, source_srid FROM land.parcels ORDER BY id LIMIT 1",
        )
        .await
        .unwrap();
    let row = client
        .query_one(
            "SELECT national_id, ST_Contains(geom, ST_SetSRID(ST_PointFromGeoHash(national_id), 4326)) FROM land.parcels WHERE parcel_number = '77'",
            &[],
        )
        .await
        .unwrap();
    let (by_trigger, inside): (String, bool) = (row.get(0), row.get(1));
    assert!(inside, "{by_trigger}");
    client
        .batch_execute(
            "UPDATE land.parcels SET geom = ST_Multi(ST_Translate(geom, 0.01, 0)), national_id = NULL WHERE parcel_number = '77'",
        )
        .await
        .unwrap();
    let kept: String =
        client.query_one("SELECT national_id FROM land.parcels WHERE parcel_number = '77'", &[]).await.unwrap().get(0);
    assert_eq!(kept, by_trigger, "an edit keeps the ID");
}

#[tokio::test]
async fn history_import_ordinary_tables_version_only_what_changed() {
    let Some(db) = TestDb::migrated().await else { return };
    let tmp = tempfile::tempdir().unwrap();
    let client = db.client().await;

    // Licences: upserted on their number (the natural key).
    let run = db.geosector(&["import", "minerals.licences", LICENCES, "--replace", "--reference", "5/QĐ-BTNMT"]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let key = "licence_number";
    let loaded = stored(&client, "minerals.licences", key).await;
    assert_eq!(loaded.len(), 6);
    let run = db.geosector(&["import", "minerals.licences", LICENCES, "--replace"]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert!(run.stdout.contains("6 unchanged, 0 changed, 0 new, 0 retired"), "{}", run.text());
    assert_eq!(stored(&client, "minerals.licences", key).await, loaded);
    assert_eq!(trail(&client, "minerals.licences_history").await, (2, 0, 2));

    let (doc, mut list) = features(LICENCES);
    list[1]["properties"]["trangThai"] = Value::String("revoked".into());
    let gone = list.remove(4)["properties"]["soGiayPhep"].as_str().unwrap().to_owned();
    let changed = list[1]["properties"]["soGiayPhep"].as_str().unwrap().to_owned();
    let mut fresh = list[0].clone();
    fresh["properties"]["soGiayPhep"] = Value::String("999/GP-BTNMT".into());
    list.push(fresh);
    let file = write(tmp.path(), "licences.geojson", &doc, list);
    let run = db.geosector(&["import", "minerals.licences", &file, "--replace"]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert!(run.stdout.contains("4 unchanged, 1 changed, 1 new, 1 retired"), "{}", run.text());
    let after = stored(&client, "minerals.licences", key).await;
    let cs = one_i64(&client, "SELECT max(id) FROM meta.changesets").await;
    for (k, s) in &after {
        match loaded.get(k) {
            Some(before) if k.0 == changed => assert_eq!((s.0, s.1, s.3), (before.0, 2, Some(cs))),
            Some(before) => assert_eq!(s, before),
            None => assert_eq!((s.1, s.3), (1, Some(cs))),
        }
    }
    let history = client
        .query("SELECT licence_number, retired, ended_by FROM minerals.licences_history ORDER BY retired", &[])
        .await
        .unwrap();
    let history: Vec<(String, bool, i64)> = history.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect();
    assert_eq!(history, vec![(changed, false, cs), (gone, true, cs)]);

    // Map sheets: no conflict key; matched on (commune, sheet) by occurrence.
    let run = db.geosector(&["import", "land.map_sheets", MAP_SHEETS, "--replace"]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let key = "commune_code || '/' || sheet_number";
    let loaded = stored(&client, "land.map_sheets", key).await;
    let run = db.geosector(&["import", "land.map_sheets", MAP_SHEETS, "--replace"]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert!(run.stdout.contains(&format!("{} unchanged, 0 changed", loaded.len())), "{}", run.text());
    assert_eq!(stored(&client, "land.map_sheets", key).await, loaded);
    assert_eq!(one_i64(&client, "SELECT count(*) FROM land.map_sheets_history").await, 0);
    let (doc, mut list) = features(MAP_SHEETS);
    list[0]["properties"]["tyLeBanDo"] = Value::from(2000);
    let duplicate = list[1].clone();
    list.push(duplicate);
    let gone = list.remove(2);
    let file = write(tmp.path(), "sheets.geojson", &doc, list);
    let run = db.geosector(&["import", "land.map_sheets", &file, "--replace"]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let n = loaded.len() - 2;
    assert!(run.stdout.contains(&format!("{n} unchanged, 1 changed, 1 new, 1 retired")), "{}", run.text());
    let history: Vec<(i32, bool)> = client
        .query("SELECT sheet_number, retired FROM land.map_sheets_history ORDER BY retired", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let sheet = |f: &Value| i32::try_from(f["properties"]["soHieuToBanDo"].as_i64().unwrap()).unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[1], (sheet(&gone), true));
}
