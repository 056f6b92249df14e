//! WFS-T: `Transaction` documents posted to `/wfs` (WFS 2.0, 1.1.0 and the 1.0.0 that QGIS 3.22
//! sends), checked against the stored rows, the history, the changesets and the audit log: insert,
//! update and delete, optimistic locking by `fes:ResourceId` version, a rule's refusal and a failed
//! third action leaving nothing, the permission answers, and hostile bodies refused fast.

use std::time::{Duration, Instant};

use tokio_postgres::Client;

use crate::editing::history;
use crate::support::{Response, Server, TestDb};

const PARCELS: &str = "data-samples/land/parcels_soc_son.fgb";
const XML: (&str, &str) = ("Content-Type", "text/xml");

/// Anonymous callers read; `editor` writes land; `reader` only reads.
const POLICY: &str = r#"
[[grant]]
role = "anonymous"
collections = ["*"]
operations = ["read_items", "read_tiles"]

[[grant]]
role = "editor"
collections = ["land.*", "environment.*"]
operations = ["read_items", "read_tiles", "write"]

[[grant]]
role = "reader"
collections = ["land.*"]
operations = ["read_items"]
"#;

struct Fixture {
    db: TestDb,
    policy: std::path::PathBuf,
    editor: String,
    reader: String,
}

async fn fixture(name: &str) -> Option<Fixture> {
    let db = TestDb::migrated().await?;
    let loaded = db.geosector(&["import", "land.parcels", PARCELS]);
    assert_eq!(loaded.code, Some(0), "{}", loaded.text());
    let policy = std::env::temp_dir().join(format!("geosector-wfst-{name}-{}.toml", std::process::id()));
    std::fs::write(&policy, POLICY).unwrap();
    let key = |role: &str| {
        let created = db.geosector(&["keys", "create", "--name", role, "--role", role, "--days", "1"]);
        assert_eq!(created.code, Some(0), "{}", created.text());
        created.stdout.lines().find(|l| l.starts_with("gsk_")).expect("the key is printed").trim().to_owned()
    };
    let (editor, reader) = (key("editor"), key("reader"));
    Some(Fixture { db, policy, editor, reader })
}

/// POSTs a document to `/wfs` with this key in the query (as QGIS sends it).
fn post(server: &Server, key: Option<&str>, body: &str) -> Response {
    let path = key.map_or_else(|| "/wfs".to_owned(), |k| format!("/wfs?apikey={k}"));
    server.request("POST", &path, &[XML], Some(body.as_bytes()))
}

const WFS20: &str = r#"xmlns:wfs="http://www.opengis.net/wfs/2.0" xmlns:fes="http://www.opengis.net/fes/2.0" xmlns:gml="http://www.opengis.net/gml/3.2" xmlns:gs="urn:geosector:features""#;

fn transaction20(actions: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><wfs:Transaction service="WFS" version="2.0.0" {WFS20}>{actions}</wfs:Transaction>"#
    )
}

/// A square parcel in VN-2000 TM-3 105°30' (EPSG:5897) as a GML 3.2 MultiSurface.
fn insert20(number: &str, east: f64, north: f64, side: f64) -> String {
    let ring = [(east, north), (east + side, north), (east + side, north + side), (east, north + side), (east, north)]
        .iter()
        .map(|(x, y)| format!("{x} {y}"))
        .collect::<Vec<_>>()
        .join(" ");
    format!(
        r#"<wfs:Insert handle="new {number}"><gs:land.parcels>
        <gs:geometry><gml:MultiSurface srsName="http://www.opengis.net/def/crs/EPSG/0/5897"><gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing><gml:posList>{ring}</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember></gml:MultiSurface></gs:geometry>
        <gs:commune_code>00376</gs:commune_code><gs:sheet_number>99</gs:sheet_number><gs:parcel_number>{number}</gs:parcel_number>
        <gs:land_use_codes>ODT</gs:land_use_codes><gs:address>Thôn 9, Xã Sóc Sơn</gs:address><gs:map_scale>1000</gs:map_scale>
        <gs:survey_date>2026-11-02</gs:survey_date></gs:land.parcels></wfs:Insert>"#
    )
}

fn update20(id: i64, version: Option<i32>, address: &str) -> String {
    let version = version.map(|v| format!(r#" version="{v}""#)).unwrap_or_default();
    format!(
        r#"<wfs:Update typeName="gs:land.parcels"><wfs:Property><wfs:ValueReference>address</wfs:ValueReference><wfs:Value>{address}</wfs:Value></wfs:Property><fes:Filter><fes:ResourceId rid="land.parcels.{id}"{version}/></fes:Filter></wfs:Update>"#
    )
}

fn delete20(id: i64) -> String {
    format!(
        r#"<wfs:Delete typeName="gs:land.parcels"><fes:Filter><fes:ResourceId rid="land.parcels.{id}"/></fes:Filter></wfs:Delete>"#
    )
}

/// The ids in `rid="land.parcels.N"` / `fid="land.parcels.N"` attributes of an answer.
fn ids(text: &str) -> Vec<i64> {
    text.split("land.parcels.")
        .skip(1)
        .filter_map(|rest| rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok())
        .collect()
}

async fn row(client: &Client, id: i64) -> Option<(i32, String, i32)> {
    client
        .query_opt("SELECT version, coalesce(address, ''), source_srid FROM land.parcels WHERE id = $1", &[&id])
        .await
        .unwrap()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
}

async fn centroid(client: &Client, id: i64) -> (f64, f64) {
    let r = client
        .query_one("SELECT ST_X(ST_Centroid(geom)), ST_Y(ST_Centroid(geom)) FROM land.parcels WHERE id = $1", &[&id])
        .await
        .unwrap();
    (r.get(0), r.get(1))
}

#[tokio::test]
async fn wfst_insert_update_delete_through_the_editing_path() {
    let Some(f) = fixture("crud").await else { return };
    let server = Server::start(&f.db, &["--access-file", f.policy.to_str().unwrap()]);
    let client = f.db.client().await;
    let key = Some(f.editor.as_str());
    let (parcels, changesets) = (f.db.count("land.parcels").await, f.db.count("meta.changesets").await);

    // WFS 2.0 Insert of two features in VN-2000 (one changeset): the ids come back as ResourceIds.
    let inserted = post(
        &server,
        key,
        &transaction20(&format!(
            "{}{}",
            insert20("9101", 588_700.0, 2_349_800.0, 20.0),
            insert20("9102", 588_700.0, 2_349_700.0, 20.0)
        )),
    );
    let text = inserted.text();
    assert_eq!(inserted.status, 200, "{text}");
    assert!(
        text.contains("<wfs:totalInserted>2</wfs:totalInserted>")
            && text.contains("<wfs:totalDeleted>0</wfs:totalDeleted>"),
        "{text}"
    );
    assert!(text.contains(r#"<wfs:Feature handle="new 9101"><fes:ResourceId rid="land.parcels."#), "{text}");
    let new = ids(&text);
    assert_eq!(new.len(), 2, "{text}");
    let (id, other) = (new[0], new[1]);
    assert_eq!(f.db.count("land.parcels").await, parcels + 2);
    assert_eq!(f.db.count("meta.changesets").await, changesets + 1, "one transaction, one changeset");
    assert_eq!(row(&client, id).await, Some((1, "Thôn 9, Xã Sóc Sơn".into(), 5897)));
    let area: f64 =
        client.query_one("SELECT computed_area_m2 FROM land.parcels WHERE id = $1", &[&id]).await.unwrap().get(0);
    assert!((area - 400.0).abs() < 1e-6, "the area in the source plane: {area}");
    let audited: i64 = client
        .query_one("SELECT count(*) FROM meta.audit WHERE action = 'write' AND $1 = ANY(feature_ids)", &[&id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(audited, 1, "audited in the transaction");
    let actor: String = client
        .query_one(
            "SELECT c.actor FROM land.parcels p JOIN meta.changesets c ON c.id = p.changeset_id WHERE p.id = $1",
            &[&id],
        )
        .await
        .unwrap()
        .get(0);
    assert!(actor.starts_with("key:"), "{actor}");

    // Update with the version it starts from; the same version again is stale (lost update refused).
    let updated = post(&server, key, &transaction20(&update20(id, Some(1), "Số 1, Thôn 9")));
    assert_eq!(updated.status, 200, "{}", updated.text());
    assert!(
        updated.text().contains(&format!(
            r#"<wfs:UpdateResults><wfs:Feature><fes:ResourceId rid="land.parcels.{id}" version="2"/>"#
        )),
        "{}",
        updated.text()
    );
    assert_eq!(row(&client, id).await.unwrap().0, 2);
    let stale = post(&server, key, &transaction20(&update20(id, Some(1), "lost update")));
    assert_eq!(stale.status, 412, "{}", stale.text());
    assert!(stale.text().contains(r#"exceptionCode="OperationProcessingFailed""#), "{}", stale.text());
    assert_eq!(row(&client, id).await.unwrap().1, "Số 1, Thôn 9");

    // The WFS 1.0.0 update QGIS 3.22 sends (prefixed property name, ogc:FeatureId).
    let qgis_update = format!(
        r#"<Transaction xmlns="http://www.opengis.net/wfs" version="1.0.0" xmlns:gs="urn:geosector:features" service="WFS" xmlns:gml="http://www.opengis.net/gml"><Update xmlns="http://www.opengis.net/wfs" typeName="gs:land.parcels"><Property><Name>gs:address</Name><Value>Số 2, Thôn 9</Value></Property><Filter xmlns="http://www.opengis.net/ogc"><FeatureId fid="land.parcels.{id}"/></Filter></Update></Transaction>"#
    );
    let answer = post(&server, key, &qgis_update);
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert!(answer.text().contains("<wfs:SUCCESS/>"), "{}", answer.text());
    assert_eq!(row(&client, id).await.unwrap().0, 3);

    // Delete: retired, its versions kept; visible through OGC API - Features.
    let deleted = post(&server, key, &transaction20(&delete20(id)));
    assert_eq!(deleted.status, 200, "{}", deleted.text());
    assert!(deleted.text().contains("<wfs:totalDeleted>1</wfs:totalDeleted>"), "{}", deleted.text());
    assert!(row(&client, id).await.is_none());
    assert_eq!(history(&client, id).await, [(1, false), (2, false), (3, true)]);
    assert_eq!(server.get(&format!("/collections/land.parcels/items/{id}")).status, 410);
    let versions = server.get(&format!("/collections/land.parcels/items/{id}/versions")).json();
    let addresses: Vec<&str> =
        versions["features"].as_array().unwrap().iter().filter_map(|v| v["properties"]["address"].as_str()).collect();
    assert_eq!(addresses, ["Thôn 9, Xã Sóc Sơn", "Số 1, Thôn 9", "Số 2, Thôn 9"]);
    let again = post(&server, key, &transaction20(&delete20(id)));
    assert_eq!(again.status, 410, "{}", again.text());

    // A WFS 1.0.0 insert as QGIS writes it: GML 2, longitude first whatever the srsName says.
    let qgis_insert = r#"<Transaction xmlns="http://www.opengis.net/wfs" version="1.0.0" xmlns:gs="urn:geosector:features" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" service="WFS" xmlns:gml="http://www.opengis.net/gml"><Insert xmlns="http://www.opengis.net/wfs"><land.parcels xmlns="urn:geosector:features"><commune_code>00376</commune_code><sheet_number>98</sheet_number><parcel_number>9103</parcel_number><land_use_codes>ODT</land_use_codes><geometry><gml:MultiPolygon srsName="urn:ogc:def:crs:EPSG::4326"><gml:polygonMember><gml:Polygon><gml:outerBoundaryIs><gml:LinearRing><gml:coordinates cs="," ts=" ">105.9000,21.2500 105.9002,21.2500 105.9002,21.2502 105.9000,21.2502 105.9000,21.2500</gml:coordinates></gml:LinearRing></gml:outerBoundaryIs></gml:Polygon></gml:polygonMember></gml:MultiPolygon></geometry></land.parcels></Insert></Transaction>"#;
    let answer = post(&server, key, qgis_insert);
    let text = answer.text();
    assert_eq!(answer.status, 200, "{text}");
    assert!(
        text.contains("<wfs:WFS_TransactionResponse")
            && text.contains("<wfs:InsertResult><ogc:FeatureId fid=\"land.parcels."),
        "{text}"
    );
    let (lon, lat) = centroid(&client, ids(&text)[0]).await;
    assert!((lon - 105.9001).abs() < 1e-6 && (lat - 21.2501).abs() < 1e-6, "{lon} {lat}");

    // WFS 1.1.0 with GML 3.1.1 in EPSG:4326 by URN: latitude first, as EPSG defines it.
    let insert11 = r#"<wfs:Transaction service="WFS" version="1.1.0" xmlns:wfs="http://www.opengis.net/wfs" xmlns:ogc="http://www.opengis.net/ogc" xmlns:gml="http://www.opengis.net/gml" xmlns:gs="urn:geosector:features"><wfs:Insert><gs:land.parcels><gs:geometry><gml:MultiSurface srsName="urn:ogc:def:crs:EPSG::4326"><gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing><gml:posList>21.2600 105.9100 21.2600 105.9102 21.2602 105.9102 21.2602 105.9100 21.2600 105.9100</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember></gml:MultiSurface></gs:geometry><gs:commune_code>00376</gs:commune_code><gs:sheet_number>98</gs:sheet_number><gs:parcel_number>9104</gs:parcel_number><gs:land_use_codes>ODT</gs:land_use_codes></gs:land.parcels></wfs:Insert></wfs:Transaction>"#;
    let answer = post(&server, key, insert11);
    let text = answer.text();
    assert_eq!(answer.status, 200, "{text}");
    assert!(
        text.contains("<wfs:totalInserted>1</wfs:totalInserted>")
            && text.contains("<ogc:FeatureId fid=\"land.parcels."),
        "{text}"
    );
    let (lon, lat) = centroid(&client, ids(&text)[0]).await;
    assert!((lon - 105.9101).abs() < 1e-6 && (lat - 21.2601).abs() < 1e-6, "{lon} {lat}");

    // The other inserted feature is still there, readable through OGC API - Features.
    let read = server.get(&format!("/collections/land.parcels/items/{other}"));
    assert_eq!(read.status, 200, "{}", read.text());
    assert_eq!(read.json()["properties"]["parcel_number"], "9102");
    let _ = std::fs::remove_file(&f.policy);
}

#[tokio::test]
async fn wfst_refusals_leave_nothing_stored() {
    let Some(f) = fixture("refusals").await else { return };
    let server = Server::start(&f.db, &["--access-file", f.policy.to_str().unwrap()]);
    let client = f.db.client().await;
    let key = Some(f.editor.as_str());
    let seed = post(&server, key, &transaction20(&insert20("9201", 588_700.0, 2_349_600.0, 20.0)));
    assert_eq!(seed.status, 200, "{}", seed.text());
    let id = ids(&seed.text())[0];
    let (parcels, changesets) = (f.db.count("land.parcels").await, f.db.count("meta.changesets").await);

    // A bow tie breaks the geometry rule: InvalidParameterValue listing the finding, nothing stored.
    let bow_tie = insert20("9202", 588_700.0, 2_349_500.0, 20.0).replace(
        "588700 2349500 588720 2349500 588720 2349520 588700 2349520 588700 2349500",
        "588700 2349500 588720 2349520 588720 2349500 588700 2349520 588700 2349500",
    );
    assert!(bow_tie.contains("588720 2349520 588720 2349500"), "the test's ring was rewritten");
    let refused = post(&server, key, &transaction20(&bow_tie));
    let text = refused.text();
    assert_eq!(refused.status, 400, "{text}");
    assert!(
        text.contains(r#"exceptionCode="InvalidParameterValue""#)
            && text.contains(r#"locator="Insert 1 (handle &quot;new 9202&quot;), feature 1""#),
        "{text}"
    );
    assert!(text.contains("land.geometry_valid (reject)"), "every finding is listed: {text}");
    assert_eq!((f.db.count("land.parcels").await, f.db.count("meta.changesets").await), (parcels, changesets));

    // Three actions whose third fails (a feature that does not exist): the first two are undone.
    let three = transaction20(&format!(
        "{}{}{}",
        insert20("9203", 588_700.0, 2_349_400.0, 20.0),
        update20(id, None, "changed then undone"),
        delete20(999_999_999)
    ));
    let refused = post(&server, key, &three);
    let text = refused.text();
    assert_eq!(refused.status, 404, "{text}");
    assert!(text.contains(r#"locator="Delete 1, feature land.parcels.999999999""#), "{text}");
    assert_eq!((f.db.count("land.parcels").await, f.db.count("meta.changesets").await), (parcels, changesets));
    assert_eq!(row(&client, id).await.unwrap().1, "Thôn 9, Xã Sóc Sơn");

    // The same refusal in WFS 1.0.0 is a FAILED transaction response (status 200, as QGIS reads it).
    let qgis = format!(
        r#"<Transaction xmlns="http://www.opengis.net/wfs" version="1.0.0" service="WFS"><Update typeName="gs:land.parcels" xmlns:gs="urn:geosector:features"><Property><Name>gs:land_use_codes</Name><Value>XYZ</Value></Property><Filter xmlns="http://www.opengis.net/ogc"><FeatureId fid="land.parcels.{id}"/></Filter></Update></Transaction>"#
    );
    let refused = post(&server, key, &qgis);
    let text = refused.text();
    assert_eq!(refused.status, 200, "{text}");
    assert!(text.contains("<wfs:FAILED/>") && text.contains("land.land_use_codes (reject)"), "{text}");
    assert_eq!(row(&client, id).await.unwrap().0, 1);

    // A property the collection does not have is named.
    let odd = transaction20(&format!(
        r#"<wfs:Update typeName="gs:land.parcels"><wfs:Property><wfs:ValueReference>colour</wfs:ValueReference><wfs:Value>red</wfs:Value></wfs:Property><fes:Filter><fes:ResourceId rid="land.parcels.{id}"/></fes:Filter></wfs:Update>"#
    ));
    let refused = post(&server, key, &odd);
    assert_eq!(refused.status, 400, "{}", refused.text());
    assert!(refused.text().contains(r#"locator="properties.colour""#), "{}", refused.text());
    // A filter other than ResourceId is refused, naming it.
    let by_filter = transaction20(
        r#"<wfs:Delete typeName="gs:land.parcels"><fes:Filter><fes:PropertyIsEqualTo><fes:ValueReference>parcel_number</fes:ValueReference><fes:Literal>9201</fes:Literal></fes:PropertyIsEqualTo></fes:Filter></wfs:Delete>"#,
    );
    let refused = post(&server, key, &by_filter);
    assert_eq!(refused.status, 400, "{}", refused.text());
    assert!(refused.text().contains("PropertyIsEqualTo"), "{}", refused.text());
    assert_eq!((f.db.count("land.parcels").await, f.db.count("meta.changesets").await), (parcels, changesets));
    let _ = std::fs::remove_file(&f.policy);
}

#[tokio::test]
async fn wfst_permissions_and_hostile_bodies() {
    let Some(f) = fixture("hostile").await else { return };
    let server = Server::start(&f.db, &["--access-file", f.policy.to_str().unwrap()]);
    let parcels = f.db.count("land.parcels").await;
    let insert = transaction20(&insert20("9301", 588_700.0, 2_349_300.0, 20.0));

    // Anonymous: 401; a key without the write grant: 403; nothing stored.
    let anonymous = post(&server, None, &insert);
    assert_eq!(anonymous.status, 401, "{}", anonymous.text());
    assert!(anonymous.header("www-authenticate").is_some());
    let reader = post(&server, Some(&f.reader), &insert);
    assert_eq!(reader.status, 403, "{}", reader.text());
    assert!(
        reader.text().contains("<ows:ExceptionReport") && reader.text().contains("OperationProcessingFailed"),
        "{}",
        reader.text()
    );
    // A key in the X-API-Key header works as well as in the query.
    let header = server.request("POST", "/wfs", &[XML, ("X-API-Key", f.editor.as_str())], Some(insert.as_bytes()));
    assert_eq!(header.status, 200, "{}", header.text());
    assert_eq!(f.db.count("land.parcels").await, parcels + 1);

    // A restricted collection the caller may not see is answered like one that does not exist.
    let key = Some(f.editor.as_str());
    let restricted = post(
        &server,
        key,
        &transaction20(r#"<wfs:Insert><gs:land.owners><gs:note>x</gs:note></gs:land.owners></wfs:Insert>"#),
    );
    let missing = post(
        &server,
        key,
        &transaction20(r#"<wfs:Insert><gs:land.nothing><gs:note>x</gs:note></gs:land.nothing></wfs:Insert>"#),
    );
    assert_eq!((restricted.status, missing.status), (404, 404), "{} {}", restricted.text(), missing.text());
    assert_eq!(restricted.text().replace("owners", "X"), missing.text().replace("nothing", "X"));
    // A collection without history takes no transaction.
    let unversioned = post(
        &server,
        key,
        &transaction20(
            r#"<wfs:Delete typeName="gs:environment.stations"><fes:Filter><fes:ResourceId rid="environment.stations.1"/></fes:Filter></wfs:Delete>"#,
        ),
    );
    assert_eq!(unversioned.status, 400, "{}", unversioned.text());
    assert!(unversioned.text().contains("not versioned"), "{}", unversioned.text());

    // Hostile or broken bodies: 400 naming the problem, fast, and never a 500.
    let deep = format!("{}{}", "<a>".repeat(100_000), "</a>".repeat(100_000));
    let laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><wfs:Transaction xmlns:wfs="http://www.opengis.net/wfs/2.0">&lol2;</wfs:Transaction>"#.to_owned();
    let huge =
        format!("{}{}", transaction20("").replace("</wfs:Transaction>", "<wfs:Insert><gs:x>"), "a".repeat(17 << 20));
    let wide = transaction20(&format!("<wfs:Insert>{}</wfs:Insert>", "<gs:land.parcels/>".repeat(20_000)));
    let cases: [(&str, String, &str); 6] = [
        ("deep", deep, "nested deeper"),
        ("entities", laughs, "DTD"),
        ("huge", huge, "larger than"),
        ("not XML", "{\"type\": \"Feature\"}".to_owned(), "not well-formed"),
        ("unclosed", transaction20("<wfs:Insert>"), "not well-formed"),
        ("too many features", wide, "at most 10000 features"),
    ];
    for (what, body, expected) in cases {
        let started = Instant::now();
        let answer = post(&server, key, &body);
        let took = started.elapsed();
        let text = answer.text();
        // The shared body reader answers an oversized body with 413.
        let expected_status = if what == "huge" { [400, 413] } else { [400, 400] };
        assert!(expected_status.contains(&answer.status), "{what}: {} {}", answer.status, &text[..text.len().min(500)]);
        // A body that is no transaction is read by the WFS request parser, with its own words.
        let named = text.contains(expected) || text.contains(r#"exceptionCode="OperationParsingFailed""#);
        assert!(text.contains("<ows:ExceptionReport") && named, "{what}: {text}");
        assert!(took < Duration::from_secs(5), "{what} took {took:?}");
    }
    assert_eq!(f.db.count("land.parcels").await, parcels + 1);
    let _ = std::fs::remove_file(&f.policy);
}

/// The system python3 with QGIS's bindings (python3-qgis, qgis-providers from Debian, which
/// scripts/test.sh installs); without them the test skips locally and fails when `CI=true`.
fn qgis_python() -> Option<std::path::PathBuf> {
    let python = std::path::PathBuf::from("/usr/bin/python3");
    let ok = python.is_file()
        && std::path::Path::new("/usr/lib/qgis/plugins/libprovider_wfs.so").is_file()
        && std::process::Command::new(&python)
            .args(["-c", "import qgis.core"])
            .env("QT_QPA_PLATFORM", "offscreen")
            .output()
            .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but python3-qgis is missing: scripts/test.sh installs it"
        );
        eprintln!("skipped: python3-qgis / qgis-providers not installed (scripts/test.sh installs them)");
        return None;
    }
    Some(python)
}

#[tokio::test]
async fn qgis_3_22_commits_an_insert_an_update_and_a_delete_through_wfs_t() {
    let Some(python) = qgis_python() else { return };
    let Some(f) = fixture("qgis").await else { return };
    let server = Server::start(&f.db, &["--access-file", f.policy.to_str().unwrap()]);
    let client = f.db.client().await;
    let count = f.db.count("land.parcels").await;
    let keys = client
        .query("SELECT id, commune_code, sheet_number, parcel_number FROM land.parcels ORDER BY id LIMIT 2", &[])
        .await
        .unwrap();
    let key_of = |i: usize| {
        serde_json::json!({
            "commune_code": keys[i].get::<_, String>(1),
            "sheet_number": keys[i].get::<_, i32>(2),
            "parcel_number": keys[i].get::<_, String>(3),
        })
    };
    let (updated, deleted): (i64, i64) = (keys[0].get(0), keys[1].get(0));
    // A 20 m square with no neighbour, in lon/lat (the layer's CRS).
    let wkt: String = client
        .query_one(
            "SELECT ST_AsText(ST_Multi(ST_Transform(ST_MakeEnvelope(588700, 2349200, 588720, 2349220, 5897), 4326)))",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let new = serde_json::json!({
        "wkt": wkt,
        "attributes": { "commune_code": "00376", "sheet_number": 97, "parcel_number": "9401", "land_use_codes": "ODT",
                        "address": "Thêm bằng QGIS", "map_scale": 1000, "survey_date": "2026-11-02" }
    });
    let home = tempfile_dir("qgis-home");
    let output = std::process::Command::new(python)
        .arg(crate::support::repo().join("tests/clients/qgis_wfst.py"))
        .args([
            &format!("{}/wfs?apikey={}", server.base, f.editor),
            "gs:land.parcels",
            &new.to_string(),
            &key_of(0).to_string(),
            "Sửa bằng QGIS",
            &key_of(1).to_string(),
        ])
        .env("QT_QPA_PLATFORM", "offscreen")
        .env("HOME", &home)
        .env("XDG_RUNTIME_DIR", &home)
        .output()
        .expect("run QGIS");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let seen: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    assert_eq!(seen["valid"], true, "{seen}");
    assert_eq!(seen["count"], count, "{seen}");
    assert_eq!(seen["iterated"], count, "{seen}");
    assert_eq!(seen["editable"], true, "QGIS enables editing from the capabilities: {seen}");
    for step in ["insert", "update", "delete"] {
        assert_eq!(seen[format!("{step}_committed")], true, "{step}: {seen}");
    }

    // The insert: stored once, version 1, an API changeset by the key; visible in OGC API - Features.
    let new_id: i64 = client
        .query_one("SELECT id FROM land.parcels WHERE sheet_number = 97 AND parcel_number = '9401'", &[])
        .await
        .unwrap()
        .get(0);
    let (version, address, _) = row(&client, new_id).await.unwrap();
    assert_eq!((version, address.as_str()), (1, "Thêm bằng QGIS"));
    let item = server.get(&format!("/collections/land.parcels/items/{new_id}"));
    assert_eq!(item.status, 200, "{}", item.text());
    assert_eq!(item.json()["properties"]["address"], "Thêm bằng QGIS");
    assert_eq!(f.db.count("land.parcels").await, count, "one inserted, one deleted");

    // The update: a second version, the first one in the history.
    assert_eq!(row(&client, updated).await.map(|r| (r.0, r.1)), Some((2, "Sửa bằng QGIS".to_owned())));
    let versions = server.get(&format!("/collections/land.parcels/items/{updated}/versions")).json();
    assert_eq!(versions["features"].as_array().map(Vec::len), Some(2), "{versions}");
    assert_eq!(versions["features"][1]["properties"]["address"], "Sửa bằng QGIS");
    assert_eq!(
        server.get(&format!("/collections/land.parcels/items/{updated}")).json()["properties"]["address"],
        "Sửa bằng QGIS"
    );

    // The delete: retired, 410 through the API, its versions kept.
    assert!(row(&client, deleted).await.is_none());
    assert_eq!(history(&client, deleted).await, [(1, true)]);
    assert_eq!(server.get(&format!("/collections/land.parcels/items/{deleted}")).status, 410);
    let versions = server.get(&format!("/collections/land.parcels/items/{deleted}/versions")).json();
    assert_eq!(versions["features"][0]["retired"], true, "{versions}");
    let written: i64 = client
        .query_one("SELECT count(*) FROM meta.changesets WHERE source = 'api' AND actor LIKE 'key:%'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(written, 3, "three commits, three changesets");
    let _ = std::fs::remove_dir_all(&home);
    let _ = std::fs::remove_file(&f.policy);
}

fn tempfile_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("geosector-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Qt wants its runtime directory private.
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    dir
}
