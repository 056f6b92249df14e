//! `/wfs` against real clients and as a black box: GDAL's WFS driver (`ogrinfo WFS:…`,
//! `ogr2ogr` of a whole collection across small pages, `-where`, `-spat`), OWSLib's WFS 2.0.0
//! client, xmllint (GML against the DescribeFeatureType schema and pycsw's GML 3.2.1 schemas),
//! GDAL's GML reader, and a walk of the WFS 2.0 Simple and Basic conformance items (each
//! listed in docs/wfs.md with the assertion that covers it).

use std::collections::HashMap;
use std::process::Command;

use serde_json::Value;

use crate::ats::load_samples;
use crate::clients::{python, run, tool};
use crate::support::{encode, repo, Server, TestDb};

const W: &str = "/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=";
const FES: &str = r#"xmlns:fes="http://www.opengis.net/fes/2.0" xmlns:gml="http://www.opengis.net/gml/3.2""#;

/// The value of an attribute of the first element named `element` (by its qualified name).
fn attr(xml: &str, element: &str, name: &str) -> Option<String> {
    let at = xml.find(&format!("<{element} "))?;
    let tag = &xml[at..at + xml[at..].find('>')?];
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    Some(tag[start..start + tag[start..].find('"')?].replace("&amp;", "&"))
}

/// The feature ids of a GML page (`gml:id="type.n"` of the members).
fn member_ids(xml: &str, type_name: &str) -> Vec<i64> {
    let key = format!("<gs:{type_name} gml:id=\"{type_name}.");
    xml.match_indices(&key)
        .map(|(i, _)| {
            let rest = &xml[i + key.len()..];
            rest[..rest.find('"').unwrap()].parse().unwrap()
        })
        .collect()
}

/// The exception code and locator of a report.
fn exception(xml: &str) -> (String, String) {
    (
        attr(xml, "ows:Exception", "exceptionCode").unwrap_or_default(),
        attr(xml, "ows:Exception", "locator").unwrap_or_default(),
    )
}

/// Every number of a GeoJSON geometry, in order.
fn numbers(v: &Value, out: &mut Vec<f64>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| numbers(i, out)),
        Value::Number(n) => out.push(n.as_f64().unwrap()),
        Value::Object(o) => numbers(o.get("coordinates").unwrap_or(&Value::Null), out),
        _ => {}
    }
}

async fn stored_geometries(db: &TestDb) -> HashMap<i64, Vec<f64>> {
    let client = db.client().await;
    let rows = client.query("SELECT id, ST_AsGeoJSON(geom, 9) FROM land.parcels", &[]).await.unwrap();
    rows.iter()
        .map(|r| {
            let mut n = Vec::new();
            numbers(&serde_json::from_str(r.get::<_, &str>(1)).unwrap(), &mut n);
            (r.get(0), n)
        })
        .collect()
}

/// The WFS 2.0 Simple and Basic conformance items, walked as a black box (docs/wfs.md lists
/// each with the assertion here that covers it).
#[tokio::test]
async fn wfs_simple_and_basic_conformance_walk() {
    let Some(db) = TestDb::migrated().await else { return };
    load_samples(&db);
    let server = Server::start(&db, &[]);
    let client = db.client().await;
    let total: i64 = client.query_one("SELECT count(*) FROM land.parcels", &[]).await.unwrap().get(0);
    let ids: Vec<i64> =
        client.query("SELECT id FROM land.parcels ORDER BY id", &[]).await.unwrap().iter().map(|r| r.get(0)).collect();

    // GetCapabilities (KVP, keys of any case; POST): paging, operations, every visible type,
    // every CRS, the filter operators.
    let caps = server.get("/wfs?service=WFS&request=GetCapabilities");
    assert_eq!(caps.status, 200);
    let caps = caps.text();
    assert!(caps.contains("<ows:Constraint name=\"ImplementsResultPaging\"><ows:NoValues/><ows:DefaultValue>TRUE"));
    assert!(caps.contains("<ows:Constraint name=\"ImplementsBasicWFS\"><ows:NoValues/><ows:DefaultValue>TRUE"));
    for op in [
        "GetCapabilities",
        "DescribeFeatureType",
        "ListStoredQueries",
        "DescribeStoredQueries",
        "GetFeature",
        "GetPropertyValue",
    ] {
        assert!(caps.contains(&format!("<ows:Operation name=\"{op}\">")), "{op}");
    }
    assert!(!caps.contains("<ows:Operation name=\"Transaction\">"));
    let collections = server.get("/collections").json();
    for c in collections["collections"].as_array().unwrap() {
        let id = c["id"].as_str().unwrap();
        if id != "catalogue" {
            assert!(caps.contains(&format!("<wfs:Name>gs:{id}</wfs:Name>")), "{id} not listed");
        }
    }
    let parcels_type = &caps[caps.find("<wfs:Name>gs:land.parcels</wfs:Name>").unwrap()..];
    let parcels_type = &parcels_type[..parcels_type.find("</wfs:FeatureType>").unwrap()];
    assert!(parcels_type.contains("<wfs:DefaultCRS>urn:ogc:def:crs:EPSG::4326</wfs:DefaultCRS>"));
    assert_eq!(
        parcels_type.matches("<wfs:OtherCRS>").count(),
        geosector_crs::KNOWN_CRS.len(),
        "CRS84 and every other CRS of the table"
    );
    assert!(parcels_type.contains("<wfs:OtherCRS>urn:ogc:def:crs:EPSG::5897</wfs:OtherCRS>"));
    assert!(parcels_type.contains("<ows:WGS84BoundingBox>"));
    let post_caps = server.request(
        "POST",
        "/wfs",
        &[],
        Some(b"<GetCapabilities xmlns=\"http://www.opengis.net/wfs/2.0\" service=\"WFS\"/>"),
    );
    assert_eq!(post_caps.status, 200);
    assert!(post_caps.text().contains("ImplementsResultPaging"));
    let old = server.get("/wfs?SERVICE=WFS&VERSION=1.1.0&REQUEST=GetCapabilities").text();
    assert!(
        old.contains("version=\"1.1.0\"")
            && old.contains("<wfs:DefaultSRS>urn:ogc:def:crs:EPSG::4326</wfs:DefaultSRS>")
    );

    // DescribeFeatureType: one schema, the declared properties typed.
    let xsd = server.get(&format!("{W}DescribeFeatureType&TYPENAMES=gs:land.parcels")).text();
    assert!(xsd.contains(
        "<xsd:element name=\"land.parcels\" type=\"gs:land.parcels_Type\" substitutionGroup=\"gml:AbstractFeature\"/>"
    ));
    assert!(xsd.contains("<xsd:element name=\"sheet_number\" type=\"xsd:long\" minOccurs=\"0\"/>"));
    assert!(xsd.contains(
        "<xsd:element name=\"land_use_codes\" type=\"xsd:string\" minOccurs=\"0\" maxOccurs=\"unbounded\"/>"
    ));
    assert!(xsd.contains("<xsd:element name=\"geom\" type=\"gml:MultiSurfacePropertyType\" minOccurs=\"0\"/>"));

    // Stored queries: listed, described, and GetFeatureById (404 for a missing feature).
    let list = server.get(&format!("{W}ListStoredQueries")).text();
    assert!(list.contains("id=\"urn:ogc:def:query:OGC-WFS::GetFeatureById\""));
    let described = server
        .get(&format!("{W}DescribeStoredQueries&STOREDQUERY_ID=urn:ogc:def:query:OGC-WFS::GetFeatureById"))
        .text();
    assert!(described.contains("<wfs:Parameter name=\"ID\" type=\"xsd:string\"/>"));
    let one = server.get(&format!(
        "{W}GetFeature&STOREDQUERY_ID=urn:ogc:def:query:OGC-WFS::GetFeatureById&ID=land.parcels.{}",
        ids[3]
    ));
    assert_eq!(one.status, 200, "{}", one.text());
    assert!(one.text().contains(&format!("<gs:land.parcels xmlns:gs=\"urn:geosector:features\" xmlns:gml=\"http://www.opengis.net/gml/3.2\" gml:id=\"land.parcels.{}\">", ids[3])));
    let missing = server.get(&format!(
        "{W}GetFeature&STOREDQUERY_ID=urn:ogc:def:query:OGC-WFS::GetFeatureById&ID=land.parcels.999999999"
    ));
    assert_eq!(missing.status, 404);
    assert_eq!(exception(&missing.text()).0, "NotFound");

    // GetFeature: hits, paging with next/previous, sortBy, resourceId, the counts.
    let hits = server.get(&format!("{W}GetFeature&TYPENAMES=gs:land.parcels&RESULTTYPE=hits")).text();
    assert_eq!(attr(&hits, "wfs:FeatureCollection", "numberMatched").unwrap(), total.to_string());
    assert_eq!(attr(&hits, "wfs:FeatureCollection", "numberReturned").unwrap(), "0");
    let page = server.get(&format!("{W}GetFeature&TYPENAMES=gs:land.parcels&COUNT=5"));
    assert_eq!(page.status, 200);
    assert_eq!(page.header("content-type").unwrap(), "application/gml+xml; version=3.2");
    let page = page.text();
    assert_eq!(attr(&page, "wfs:FeatureCollection", "numberReturned").unwrap(), "5");
    assert_eq!(attr(&page, "wfs:FeatureCollection", "numberMatched").unwrap(), "unknown");
    assert!(attr(&page, "wfs:FeatureCollection", "timeStamp").is_some());
    assert_eq!(member_ids(&page, "land.parcels"), ids[..5]);
    assert!(attr(&page, "wfs:FeatureCollection", "previous").is_none());
    let next = attr(&page, "wfs:FeatureCollection", "next").expect("a next page");
    let second = server.get(&next).text();
    assert_eq!(member_ids(&second, "land.parcels"), ids[5..10]);
    assert!(attr(&second, "wfs:FeatureCollection", "previous").unwrap().contains("STARTINDEX=0"));
    let last = server.get(&format!("{W}GetFeature&TYPENAMES=gs:land.parcels&COUNT=10&STARTINDEX={}", total - 3)).text();
    assert_eq!(member_ids(&last, "land.parcels"), ids[ids.len() - 3..]);
    assert_eq!(
        attr(&last, "wfs:FeatureCollection", "numberMatched").unwrap(),
        total.to_string(),
        "the last page knows the total"
    );
    assert!(attr(&last, "wfs:FeatureCollection", "next").is_none());
    let sorted = server
        .get(&format!("{W}GetFeature&TYPENAMES=gs:land.parcels&COUNT=3&SORTBY=sheet_number%20DESC,parcel_number"))
        .text();
    let expected: Vec<i64> = client
        .query("SELECT id FROM land.parcels ORDER BY sheet_number DESC, parcel_number, id LIMIT 3", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(member_ids(&sorted, "land.parcels"), expected);
    let by_rid =
        server.get(&format!("{W}GetFeature&RESOURCEID=land.parcels.{},land.parcels.{}", ids[1], ids[7])).text();
    assert_eq!(member_ids(&by_rid, "land.parcels"), [ids[1], ids[7]]);

    // FES 2.0 by KVP and by POST: comparison, Like, Between, Null, logical, spatial, ResourceId.
    let sheet: i32 = client.query_one("SELECT min(sheet_number) FROM land.parcels", &[]).await.unwrap().get(0);
    let count_where = |sql: &'static str| {
        let client = &client;
        async move { client.query_one(sql, &[]).await.unwrap().get::<_, i64>(0) }
    };
    let filters: Vec<(String, i64)> = vec![
        (
            format!(r#"<fes:Filter {FES}><fes:PropertyIsEqualTo><fes:ValueReference>sheet_number</fes:ValueReference><fes:Literal>{sheet}</fes:Literal></fes:PropertyIsEqualTo></fes:Filter>"#),
            client.query_one("SELECT count(*) FROM land.parcels WHERE sheet_number = $1", &[&sheet]).await.unwrap().get(0),
        ),
        (
            format!(r#"<fes:Filter {FES}><fes:And><fes:PropertyIsLike wildCard="*" singleChar="." escapeChar="!"><fes:ValueReference>parcel_number</fes:ValueReference><fes:Literal>1*</fes:Literal></fes:PropertyIsLike><fes:Not><fes:PropertyIsNull><fes:ValueReference>declared_area_m2</fes:ValueReference></fes:PropertyIsNull></fes:Not></fes:And></fes:Filter>"#),
            count_where("SELECT count(*) FROM land.parcels WHERE parcel_number LIKE '1%' AND declared_area_m2 IS NOT NULL").await,
        ),
        (
            format!(r#"<fes:Filter {FES}><fes:PropertyIsBetween><fes:ValueReference>declared_area_m2</fes:ValueReference><fes:LowerBoundary><fes:Literal>1000</fes:Literal></fes:LowerBoundary><fes:UpperBoundary><fes:Literal>2000</fes:Literal></fes:UpperBoundary></fes:PropertyIsBetween></fes:Filter>"#),
            count_where("SELECT count(*) FROM land.parcels WHERE declared_area_m2 BETWEEN 1000 AND 2000").await,
        ),
        (
            format!(r#"<fes:Filter {FES}><fes:BBOX><fes:ValueReference>geom</fes:ValueReference><gml:Envelope srsName="urn:ogc:def:crs:EPSG::4326"><gml:lowerCorner>21.242 105.846</gml:lowerCorner><gml:upperCorner>21.246 105.850</gml:upperCorner></gml:Envelope></fes:BBOX></fes:Filter>"#),
            count_where("SELECT count(*) FROM land.parcels WHERE ST_Intersects(geom, ST_MakeEnvelope(105.846, 21.242, 105.850, 21.246, 4326))").await,
        ),
        (
            format!(r#"<fes:Filter {FES}><fes:Within><fes:ValueReference>geom</fes:ValueReference><gml:Polygon srsName="http://www.opengis.net/def/crs/OGC/1.3/CRS84"><gml:exterior><gml:LinearRing><gml:posList>105.846 21.242 105.850 21.242 105.850 21.246 105.846 21.246 105.846 21.242</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></fes:Within></fes:Filter>"#),
            count_where("SELECT count(*) FROM land.parcels WHERE ST_Within(geom, ST_MakeEnvelope(105.846, 21.242, 105.850, 21.246, 4326))").await,
        ),
        (format!(r#"<fes:Filter {FES}><fes:ResourceId rid="land.parcels.{}"/></fes:Filter>"#, ids[2]), 1),
    ];
    for (filter, expected) in &filters {
        assert!(*expected > 0 || filter.contains("Within"), "a filter that selects nothing proves little: {filter}");
        let kvp = server
            .get(&format!("{W}GetFeature&TYPENAMES=gs:land.parcels&COUNT=10000&FILTER={}", encode(filter)))
            .text();
        assert_eq!(
            member_ids(&kvp, "land.parcels").len() as i64,
            *expected,
            "{filter}: {}",
            &kvp[..kvp.len().min(600)]
        );
        let hits = server
            .get(&format!("{W}GetFeature&TYPENAMES=gs:land.parcels&RESULTTYPE=hits&FILTER={}", encode(filter)))
            .text();
        assert_eq!(attr(&hits, "wfs:FeatureCollection", "numberMatched").unwrap(), expected.to_string());
        let body = format!(
            r#"<wfs:GetFeature service="WFS" version="2.0.0" count="10000" xmlns:wfs="http://www.opengis.net/wfs/2.0" {FES}><wfs:Query typeNames="gs:land.parcels">{}</wfs:Query></wfs:GetFeature>"#,
            filter.replace(&format!(" {FES}"), "")
        );
        let posted =
            server.request("POST", "/wfs", &[("Content-Type", "application/xml")], Some(body.as_bytes())).text();
        assert_eq!(member_ids(&posted, "land.parcels").len() as i64, *expected, "POST {filter}");
    }

    // GetPropertyValue, GeoJSON, srsName in VN-2000 and in lat/lon.
    let values = server
        .get(&format!("{W}GetPropertyValue&TYPENAMES=gs:land.parcels&VALUEREFERENCE=parcel_number&COUNT=2"))
        .text();
    assert!(
        values.starts_with("<?xml")
            && values.contains("<wfs:ValueCollection")
            && values.matches("<wfs:member><gs:parcel_number>").count() == 2,
        "{values}"
    );
    let json =
        server.get(&format!("{W}GetFeature&TYPENAMES=gs:land.parcels&COUNT=3&OUTPUTFORMAT=application/json")).json();
    assert_eq!(json["features"].as_array().unwrap().len(), 3);
    assert_eq!(json["numberReturned"], 3);
    let first_id = ids[0];
    let stored: String = client
        .query_one(
            "SELECT ST_AsText(ST_PointN(ST_ExteriorRing(ST_GeometryN(geom, 1)), 1)) FROM land.parcels WHERE id = $1",
            &[&first_id],
        )
        .await
        .unwrap()
        .get(0);
    let lonlat: Vec<f64> =
        stored.trim_start_matches("POINT(").trim_end_matches(')').split(' ').map(|v| v.parse().unwrap()).collect();
    let first_pos = |xml: &str| -> Vec<f64> {
        let at = xml.find("<gml:posList>").unwrap() + "<gml:posList>".len();
        xml[at..].split(' ').take(2).map(|v| v.parse().unwrap()).collect()
    };
    let latlon = server
        .get(&format!("{W}GetFeature&TYPENAMES=gs:land.parcels&COUNT=1&SRSNAME=urn:ogc:def:crs:EPSG::4326"))
        .text();
    assert!(latlon.contains("srsName=\"urn:ogc:def:crs:EPSG::4326\""));
    let p = first_pos(&latlon);
    assert!(
        (p[0] - lonlat[1]).abs() < 1e-9 && (p[1] - lonlat[0]).abs() < 1e-9,
        "EPSG::4326 is latitude first: {p:?} vs {lonlat:?}"
    );
    let crs84 = server
        .get(&format!("{W}GetFeature&TYPENAMES=gs:land.parcels&COUNT=1&SRSNAME=urn:ogc:def:crs:OGC:1.3:CRS84"))
        .text();
    let p = first_pos(&crs84);
    assert!((p[0] - lonlat[0]).abs() < 1e-9, "CRS84 is longitude first");
    let vn = server.get(&format!("{W}GetFeature&TYPENAMES=gs:land.parcels&COUNT=1&SRSNAME=EPSG:5897")).text();
    assert!(vn.contains("srsName=\"urn:ogc:def:crs:EPSG::5897\""));
    let p = first_pos(&vn);
    // The sample was surveyed in VN-2000 / TM-3 105° (x ≈ 587,400–588,610, y ≈ 2,349,760–2,350,870).
    assert!((587_000.0..589_000.0).contains(&p[0]) && (2_349_000.0..2_351_000.0).contains(&p[1]), "{p:?}");
    let vn_bbox = server.get(&format!("{W}GetFeature&TYPENAMES=gs:land.parcels&RESULTTYPE=hits&BBOX=587300,2349700,588700,2350900,urn:ogc:def:crs:EPSG::5897")).text();
    assert_eq!(
        attr(&vn_bbox, "wfs:FeatureCollection", "numberMatched").unwrap(),
        total.to_string(),
        "a VN-2000 bbox around the sample"
    );
    let old = server.get("/wfs?SERVICE=WFS&VERSION=1.1.0&REQUEST=GetFeature&TYPENAME=gs:land.parcels&MAXFEATURES=2&SRSNAME=EPSG:4326").text();
    assert_eq!(attr(&old, "wfs:FeatureCollection", "numberOfFeatures").unwrap(), "2");
    assert!(old.contains("<gml:featureMember>") && old.contains("xmlns:gml=\"http://www.opengis.net/gml\""));
    let p = first_pos(&old);
    assert!((p[0] - lonlat[0]).abs() < 1e-9, "WFS 1.1.0's EPSG:4326 is longitude first");

    // Exceptions: an OWS report naming the parameter, with the status WFS 2.0 §7.5 gives.
    for (query, code, locator) in [
        ("/wfs?SERVICE=WFS&VERSION=2.0.0", "MissingParameterValue", "request"),
        ("/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature", "MissingParameterValue", "typeNames"),
        ("/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=LockFeature", "OperationNotSupported", "request"),
        (
            "/wfs?SERVICE=WFS&VERSION=3.0.0&REQUEST=GetFeature&TYPENAMES=gs:land.parcels",
            "InvalidParameterValue",
            "version",
        ),
        ("/wfs?SERVICE=WFS&REQUEST=GetCapabilities&ACCEPTVERSIONS=3.0.0", "VersionNegotiationFailed", "acceptVersions"),
        (
            "/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=gs:no.such",
            "InvalidParameterValue",
            "typeNames",
        ),
        (
            "/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=gs:land.parcels&COUNT=-1",
            "InvalidParameterValue",
            "count",
        ),
        (
            "/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=gs:land.parcels&STARTINDEX=x",
            "InvalidParameterValue",
            "startIndex",
        ),
        (
            "/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=gs:land.parcels&SRSNAME=EPSG:2154",
            "InvalidParameterValue",
            "srsName",
        ),
        (
            "/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=gs:land.parcels&BBOX=1,2,3",
            "InvalidParameterValue",
            "bbox",
        ),
        (
            "/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=gs:land.parcels&BBOX=100,10,101,11",
            "InvalidParameterValue",
            "bbox",
        ),
        (
            "/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=gs:land.parcels&RESULTTYPE=all",
            "InvalidParameterValue",
            "resultType",
        ),
        (
            "/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=gs:land.parcels&OUTPUTFORMAT=shape-zip",
            "InvalidParameterValue",
            "outputFormat",
        ),
        (
            "/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=gs:land.parcels&SORTBY=geom",
            "InvalidParameterValue",
            "sortBy",
        ),
        (
            "/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=gs:land.parcels&PROPERTYNAME=nothing",
            "InvalidParameterValue",
            "propertyName",
        ),
        (
            "/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=gs:land.parcels&FILTER=%3CFilter%3E",
            "InvalidParameterValue",
            "filter",
        ),
        (
            "/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetPropertyValue&TYPENAMES=gs:land.parcels&VALUEREFERENCE=nothing",
            "InvalidParameterValue",
            "valueReference",
        ),
        (
            "/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&STOREDQUERY_ID=urn:x",
            "InvalidParameterValue",
            "storedQuery_Id",
        ),
    ] {
        let response = server.get(query);
        let text = response.text();
        assert_eq!(response.status, 400, "{query}: {text}");
        assert!(text.contains("<ows:ExceptionReport"), "{query}: {text}");
        assert_eq!(exception(&text), (code.to_owned(), locator.to_owned()), "{query}");
    }
    let unknown_property = format!(
        r#"<fes:Filter {FES}><fes:PropertyIsEqualTo><fes:ValueReference>owner</fes:ValueReference><fes:Literal>x</fes:Literal></fes:PropertyIsEqualTo></fes:Filter>"#
    );
    let refused = server.get(&format!("{W}GetFeature&TYPENAMES=gs:land.parcels&FILTER={}", encode(&unknown_property)));
    assert_eq!((refused.status, exception(&refused.text()).1), (400, "filter".to_owned()));
    assert!(refused.text().contains("unknown property"));
    let transaction = server.request(
        "POST",
        "/wfs",
        &[],
        Some(b"<wfs:Transaction xmlns:wfs=\"http://www.opengis.net/wfs/2.0\" service=\"WFS\" version=\"2.0.0\"/>"),
    );
    // Transactions are the WFS-T module's (it/wfst.rs): an empty one changes nothing.
    assert_eq!(transaction.status, 200, "{}", transaction.text());
    assert!(transaction.text().contains("<wfs:totalInserted>0</wfs:totalInserted>"), "{}", transaction.text());
    let broken = server.request("POST", "/wfs", &[], Some(b"<wfs:GetFeature"));
    assert_eq!((broken.status, exception(&broken.text()).0), (400, "OperationParsingFailed".to_owned()));
    let deep = format!(
        "<GetFeature><Query typeNames=\"gs:land.parcels\"><Filter>{}{}</Filter></Query></GetFeature>",
        "<And>".repeat(80),
        "</And>".repeat(80)
    );
    let deep = server.request("POST", "/wfs", &[], Some(deep.as_bytes()));
    assert_eq!((deep.status, exception(&deep.text()).0), (400, "OperationParsingFailed".to_owned()));
}

/// GDAL's WFS driver: lists the types, copies a whole collection across pages of 50 with equal
/// count and geometries, and filters with `-where` and `-spat`.
#[tokio::test]
async fn gdal_wfs_driver_lists_pages_filters_and_copies() {
    let (Some(ogrinfo), Some(ogr2ogr)) = (tool("ogrinfo"), tool("ogr2ogr")) else { return };
    let Some(db) = TestDb::migrated().await else { return };
    load_samples(&db);
    let server = Server::start(&db, &[]);
    let source = format!("WFS:{}/wfs", server.base);
    let paged = [("OGR_WFS_PAGING_ALLOWED", "ON"), ("OGR_WFS_PAGE_SIZE", "50"), ("GDAL_HTTP_TIMEOUT", "60")];
    let listing = run(Command::new(&ogrinfo).args(["-ro", "-q", &source]).envs(paged));
    for id in ["land.parcels", "land.map_sheets", "minerals.licences", "water.works", "environment.stations"] {
        assert!(listing.contains(&format!("gs:{id}")), "ogrinfo does not list {id}:\n{listing}");
    }
    let client = db.client().await;
    let total: i64 = client.query_one("SELECT count(*) FROM land.parcels", &[]).await.unwrap().get(0);
    assert!(total > 100, "more than two pages");
    let summary = run(Command::new(&ogrinfo).args(["-ro", "-so", &source, "gs:land.parcels"]).envs(paged));
    assert!(summary.contains(&format!("Feature Count: {total}")), "{summary}");

    let copy = |extra: &[&str]| -> Value {
        let mut command = Command::new(&ogr2ogr);
        command.args(["-f", "GeoJSON", "/vsistdout/", &source, "gs:land.parcels"]).args(extra).envs(paged);
        serde_json::from_str(&run(&mut command)).expect("GeoJSON from ogr2ogr")
    };
    let whole = copy(&[]);
    let features = whole["features"].as_array().unwrap();
    assert_eq!(features.len() as i64, total);
    let stored = stored_geometries(&db).await;
    let mut seen = std::collections::BTreeSet::new();
    for f in features {
        let gml_id = f["properties"]["gml_id"].as_str().expect("gml_id");
        let id: i64 = gml_id.strip_prefix("land.parcels.").unwrap().parse().unwrap();
        assert!(seen.insert(id), "{id} twice: pages overlap");
        let mut got = Vec::new();
        numbers(&f["geometry"], &mut got);
        let want = &stored[&id];
        assert_eq!(got.len(), want.len(), "feature {id}");
        assert!(
            got.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-9),
            "feature {id}: GDAL read lat/lon back as lon/lat"
        );
    }
    let sheet: i32 = client.query_one("SELECT min(sheet_number) FROM land.parcels", &[]).await.unwrap().get(0);
    let on_sheet: i64 =
        client.query_one("SELECT count(*) FROM land.parcels WHERE sheet_number = $1", &[&sheet]).await.unwrap().get(0);
    let filtered = copy(&["-where", &format!("sheet_number = {sheet}")]);
    assert_eq!(filtered["features"].as_array().unwrap().len() as i64, on_sheet);
    let in_box: i64 = client
        .query_one("SELECT count(*) FROM land.parcels WHERE ST_Intersects(geom, ST_MakeEnvelope(105.846, 21.242, 105.850, 21.246, 4326))", &[])
        .await
        .unwrap()
        .get(0);
    assert!(in_box > 0 && in_box < total);
    let spatial = copy(&["-spat", "105.846", "21.242", "105.850", "21.246"]);
    assert_eq!(spatial["features"].as_array().unwrap().len() as i64, in_box);
}

/// OWSLib's WFS 2.0.0 client reads the capabilities and gets features by bbox and by filter.
#[tokio::test]
async fn owslib_wfs_200_reads_capabilities_bbox_and_filter() {
    let Some(python) = python() else { return };
    let Some(db) = TestDb::migrated().await else { return };
    load_samples(&db);
    let server = Server::start(&db, &[]);
    let client = db.client().await;
    let sheet: i32 = client.query_one("SELECT min(sheet_number) FROM land.parcels", &[]).await.unwrap().get(0);
    let out = run(Command::new(python).arg(repo().join("tests/clients/owslib_wfs_check.py")).args([
        &server.base,
        "land.parcels",
        "105.846,21.242,105.850,21.246",
        "sheet_number",
        &sheet.to_string(),
    ]));
    let seen: Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(seen["version"], "2.0.0");
    assert!(seen["contents"].as_array().unwrap().iter().any(|c| c == "gs:land.parcels"));
    assert!(seen["operations"].as_array().unwrap().iter().any(|o| o == "GetFeature"));
    assert!(seen["crs"].as_array().unwrap().iter().any(|c| c == "urn:ogc:def:crs:EPSG::5897"));
    let ids = |sql: &str| {
        let client = &client;
        let sql = sql.to_owned();
        async move { client.query(&sql, &[]).await.unwrap().iter().map(|r| r.get::<_, i64>(0)).collect::<Vec<i64>>() }
    };
    let in_box = ids("SELECT id FROM land.parcels WHERE ST_Intersects(geom, ST_MakeEnvelope(105.846, 21.242, 105.850, 21.246, 4326)) ORDER BY id").await;
    assert!(!in_box.is_empty());
    assert_eq!(seen["bbox_ids"], serde_json::json!(in_box));
    assert_eq!(seen["bbox_returned"], in_box.len().to_string());
    let on_sheet = ids(&format!("SELECT id FROM land.parcels WHERE sheet_number = {sheet} ORDER BY id")).await;
    assert_eq!(seen["filter_ids"], serde_json::json!(on_sheet));
}

/// GML pages validate against the DescribeFeatureType schema (with pycsw's GML 3.2.1 schemas,
/// offline) and GDAL's GML reader reads them back with equal geometries.
#[tokio::test]
async fn gml_validates_against_its_schema_and_reads_back_in_gdal() {
    let (Some(python), Some(xmllint), Some(ogr2ogr)) = (python(), tool("xmllint"), tool("ogr2ogr")) else { return };
    let Some(db) = TestDb::migrated().await else { return };
    load_samples(&db);
    let server = Server::start(&db, &[]);
    let located = run(Command::new(python).args([
        "-c",
        "import importlib.metadata as m; print(m.distribution('pycsw').locate_file('pycsw/core/schemas/ogc/gml/3.2.1/gml.xsd'))",
    ]));
    let gml_xsd = located.trim().to_owned();
    assert!(std::path::Path::new(&gml_xsd).is_file(), "{gml_xsd}");
    let tmp = tempfile::tempdir().unwrap();
    for type_name in ["land.parcels", "land.map_sheets", "water.works", "environment.stations"] {
        let xsd = server.get(&format!("{W}DescribeFeatureType&TYPENAMES=gs:{type_name}")).text();
        let schema = tmp.path().join(format!("{type_name}.xsd"));
        std::fs::write(&schema, xsd.replace("http://schemas.opengis.net/gml/3.2.1/gml.xsd", &gml_xsd)).unwrap();
        // WFS 2.0's own schemas ship in no Debian or PyPI package found (see docs/wfs.md): the
        // members are validated as a document of their own, each feature against the schema.
        let page = server.get(&format!("{W}GetFeature&TYPENAMES=gs:{type_name}&COUNT=200")).text();
        let body_start = page.find("<wfs:member>").unwrap_or(page.len());
        let body_end = page.rfind("</wfs:FeatureCollection>").unwrap();
        let members = page[body_start..body_end].replace("<wfs:member>", "").replace("</wfs:member>", "");
        assert!(!members.is_empty(), "{type_name}: no member");
        for (i, feature) in members.split_inclusive(&format!("</gs:{type_name}>")).take(50).enumerate() {
            let doc = tmp.path().join(format!("{type_name}.{i}.xml"));
            let declared = feature.replacen(
                &format!("<gs:{type_name} "),
                &format!(
                    "<gs:{type_name} xmlns:gs=\"urn:geosector:features\" xmlns:gml=\"http://www.opengis.net/gml/3.2\" "
                ),
                1,
            );
            std::fs::write(&doc, declared).unwrap();
            let lint = Command::new(&xmllint)
                .args(["--noout", "--nonet", "--schema"])
                .arg(&schema)
                .arg(&doc)
                .output()
                .unwrap();
            assert!(lint.status.success(), "{type_name} feature {i}: {}", String::from_utf8_lossy(&lint.stderr));
        }
    }
    // GDAL's GML reader: a whole page read back with equal geometries.
    let page = server
        .get(&format!("{W}GetFeature&TYPENAMES=gs:land.parcels&COUNT=10000&SRSNAME=urn:ogc:def:crs:EPSG::4326"))
        .text();
    let gml = tmp.path().join("parcels.gml");
    std::fs::write(&gml, &page).unwrap();
    let json = run(Command::new(&ogr2ogr)
        .args(["-f", "GeoJSON", "/vsistdout/", gml.to_str().unwrap()])
        .env("GML_SKIP_RESOLVE_ELEMS", "ALL"));
    let read: Value = serde_json::from_str(&json).expect("GeoJSON from the GML");
    let stored = stored_geometries(&db).await;
    let features = read["features"].as_array().unwrap();
    assert_eq!(features.len(), stored.len());
    for f in features {
        let id: i64 =
            f["properties"]["gml_id"].as_str().unwrap().strip_prefix("land.parcels.").unwrap().parse().unwrap();
        let mut got = Vec::new();
        numbers(&f["geometry"], &mut got);
        let want = &stored[&id];
        assert_eq!(got.len(), want.len(), "feature {id}");
        assert!(got.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-9), "feature {id}");
    }
}
