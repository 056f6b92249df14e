//! The leak suite: with owners, ID numbers and certificates loaded, an anonymous caller and an
//! officer of another province get no owner name and no ID number from any route or format —
//! landing pages, collections, items (GeoJSON, HTML), single features, relations, queryables,
//! OpenAPI, tiles (decoded as bytes), error bodies, and filters, sorting and selections that try
//! to infer a hidden value. An entitled officer sees exactly the owners of their area; a masked
//! role only masked values; every read of personal data is audited.

use std::collections::BTreeSet;

use geosector_access::test_issuer::{Alg, TestIssuer};
use serde_json::{json, Value};

use crate::support::{Response, Server, TestDb};

const RESTRICTED: [&str; 4] = ["land.owners", "land.parties", "land.certificates", "land.parcel_rights"];

fn policy(issuer: &TestIssuer) -> String {
    let restricted = RESTRICTED.map(|c| format!("\"{c}\"")).join(", ");
    format!(
        r#"{token}
[[grant]]
role = "anonymous"
collections = ["*"]
operations = ["read_items", "read_tiles"]

[[grant]]
role = "cadastral_officer"
collections = [{restricted}]
operations = ["read_items", "read_restricted"]
area = "claim"

[[grant]]
role = "clerk"
collections = [{restricted}]
operations = ["read_items", "read_restricted"]
area = "claim"
masked = ["full_name", "id_number", "birth_date", "address", "certificate_serial", "register_number"]
"#,
        token = crate::access::token_section(issuer)
    )
}

fn token(issuer: &TestIssuer, subject: &str, role: &str, areas: &[&str]) -> String {
    let mut claims = issuer.claims(subject, "geosector");
    claims["realm_access"] = json!({ "roles": [role] });
    claims["province_codes"] = json!(areas);
    format!("Bearer {}", issuer.sign(&claims, Alg::Es256))
}

/// Every response body of a caller, by URL.
fn crawl(server: &Server, auth: Option<&str>, paths: &[String]) -> Vec<(String, Response)> {
    let headers: Vec<(&str, &str)> = auth.map(|a| vec![("Authorization", a)]).unwrap_or_default();
    paths.iter().map(|p| (p.clone(), server.get_with(p, &headers))).collect()
}

/// Asserts no response holds a secret, except one its own request spelled out (echoed in its
/// `self` link: the caller's own words, not stored data).
fn assert_no_secret(who: &str, responses: &[(String, Response)], secrets: &BTreeSet<String>) {
    for (path, response) in responses {
        let body = String::from_utf8_lossy(&response.body);
        let asked = decode(path);
        for secret in secrets.iter().filter(|s| !asked.contains(s.as_str())) {
            assert!(!body.contains(secret.as_str()), "{who}: {path} ({}) reveals {secret:?}", response.status);
        }
        for (name, value) in &response.headers {
            assert!(
                !secrets.iter().any(|s| value.contains(s.as_str())),
                "{who}: {path} header {name} reveals a secret"
            );
        }
    }
}

/// A URL with its percent-escapes decoded.
fn decode(url: &str) -> String {
    let bytes = url.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (
            bytes[i],
            bytes.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()),
        ) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn features(response: &Response) -> Vec<Value> {
    assert_eq!(response.status, 200, "{}", response.text());
    response.json()["features"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn no_owner_leaks_to_anyone_not_entitled() {
    let Some(db) = TestDb::migrated().await else { return };
    for args in [
        vec!["reference", "data-samples/reference"],
        vec!["import", "land.parcels", "data-samples/land/parcels_soc_son.fgb"],
        vec!["import", "land.parties", "data-samples/land/parties.csv"],
        vec!["import", "land.certificates", "data-samples/land/certificates.csv"],
        vec!["import", "land.parcel_rights", "data-samples/land/parcel_rights.csv"],
    ] {
        let run = db.geosector(&args);
        assert_eq!(run.code, Some(0), "{}", run.text());
    }
    let client = db.client().await;
    // One owner in a commune of another province (79), written directly.
    client
        .batch_execute(
            "INSERT INTO land_restricted.parties (party_code, party_type, full_name, id_type, id_number, birth_date)
             VALUES ('HCM-1', 'individual', 'Võ Thị Sáu Mươi', 'cccd', '079199012345', '1990-01-01');
             INSERT INTO land_restricted.parcel_rights (commune_code, sheet_number, parcel_number, party_code, share)
             VALUES ('26734', 3, '77', 'HCM-1', 1);",
        )
        .await
        .unwrap();
    let people = client
        .query(
            "SELECT full_name, id_number FROM land_restricted.parties WHERE party_type IN ('individual', 'household')",
            &[],
        )
        .await
        .unwrap();
    let mut secrets = BTreeSet::new();
    for row in &people {
        secrets.insert(row.get::<_, String>(0));
        if let Some(id) = row.get::<_, Option<String>>(1) {
            secrets.insert(id);
        }
    }
    assert!(secrets.len() >= 20 && secrets.iter().any(|s| s.contains('ễ')), "{secrets:?}");

    let issuer = TestIssuer::start();
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("access.toml");
    std::fs::write(&rules, policy(&issuer)).unwrap();
    let server = Server::start(&db, &["--access-file", rules.to_str().unwrap()]);
    let parcel: i64 = client
        .query_one(
            "SELECT p.id FROM land.parcels p JOIN land_restricted.parcel_rights r USING (commune_code, sheet_number, parcel_number) LIMIT 1",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let ids = |table: &str| format!("SELECT id FROM land_restricted.{table} ORDER BY id");
    let mut paths: Vec<String> =
        ["/", "/?f=html", "/collections", "/collections?f=html", "/api", "/tiles/WebMercatorQuad/tilejson.json"]
            .map(str::to_owned)
            .to_vec();
    let geometry: String = client
        .query_one("SELECT ST_AsText(ST_PointOnSurface(geom)) FROM land.parcels WHERE id = $1", &[&parcel])
        .await
        .unwrap()
        .get(0);
    let xy: Vec<f64> =
        geometry.trim_start_matches("POINT(").trim_end_matches(')').split(' ').map(|v| v.parse().unwrap()).collect();
    for z in [12, 15, 17] {
        let (x, y) = geosector_crs::web_mercator::tile_of(xy[0], xy[1], z);
        paths.push(format!("/collections/land.parcels/tiles/WebMercatorQuad/{z}/{y}/{x}"));
        paths.push(format!("/tiles/WebMercatorQuad/{z}/{y}/{x}"));
        paths.push(format!("/tiles/WebMercatorQuad/{z}/{y}/{x}?collections=land.parcels,land.owners"));
    }
    for c in RESTRICTED.iter().chain(&["land.parcels"]) {
        for suffix in ["", "?f=html", "/items?limit=1000", "/items?limit=1000&f=html", "/queryables", "/sortables"] {
            paths.push(format!("/collections/{c}{suffix}"));
        }
        for attempt in [
            "filter=full_name%20LIKE%20%27Ng%25%27",
            "filter=id_number%20LIKE%20%27001%25%27",
            "filter=id_number%20%3D%20%27001068190069%27",
            "sortby=full_name",
            "sortby=-id_number",
            "properties=full_name,id_number",
            "full_name=Nguy%E1%BB%85n%20V%C4%83n%20An",
            "id_number=001068190069",
        ] {
            paths.push(format!("/collections/{c}/items?{attempt}"));
        }
    }
    for table in ["parties", "certificates", "parcel_rights"] {
        for row in client.query(&ids(table), &[]).await.unwrap() {
            let id: i64 = row.get(0);
            let collection = format!("land.{table}");
            paths.push(format!("/collections/{collection}/items/{id}"));
            paths.push(format!("/collections/land.owners/items/{id}?f=html"));
            paths.push(format!("/collections/{collection}/items/{id}/timeseries?parameter=aqi&f=csv"));
        }
    }
    paths.push(format!("/collections/land.parcels/items/{parcel}"));
    paths.push(format!("/collections/land.parcels/items/{parcel}/owners"));
    paths.push(format!("/collections/land.parcels/items/{parcel}/owners?f=html"));
    // The data catalogue: its searches, and the records of the restricted collections in every
    // format.
    for search in
        ["limit=1000", "limit=1000&f=html", "q=owner,party,certificate,rights&limit=1000", "type=dataset&limit=1000"]
    {
        paths.push(format!("/collections/catalogue/items?{search}"));
    }
    for c in RESTRICTED {
        for kind in ["collection", "dataset"] {
            for f in ["json", "html", "iso", "dcat"] {
                paths.push(format!("/collections/catalogue/items/{kind}.{c}?f={f}"));
            }
        }
    }
    // WFS: the same collections, rows and fields, whatever the operation, version or format.
    let wfs = "/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=";
    paths.push("/wfs?SERVICE=WFS&REQUEST=GetCapabilities".into());
    paths.push("/wfs?SERVICE=WFS&VERSION=1.1.0&REQUEST=GetCapabilities".into());
    paths.push(format!("{wfs}DescribeFeatureType"));
    paths.push(format!("{wfs}ListStoredQueries"));
    let like = |property: &str, pattern: &str| {
        crate::support::encode(&format!(
            r#"<fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0"><fes:PropertyIsLike wildCard="*" singleChar="." escapeChar="!"><fes:ValueReference>{property}</fes:ValueReference><fes:Literal>{pattern}</fes:Literal></fes:PropertyIsLike></fes:Filter>"#
        ))
    };
    for c in RESTRICTED.iter().chain(&["land.parcels"]) {
        paths.push(format!("{wfs}DescribeFeatureType&TYPENAMES={c}"));
        for extra in [
            String::new(),
            "&OUTPUTFORMAT=application/json".into(),
            "&SORTBY=full_name".into(),
            "&SORTBY=id_number%20DESC".into(),
            "&PROPERTYNAME=full_name,id_number".into(),
            format!("&FILTER={}", like("full_name", "Ng*")),
            format!("&FILTER={}", like("id_number", "001*")),
        ] {
            paths.push(format!("{wfs}GetFeature&TYPENAMES={c}&COUNT=1000{extra}"));
        }
        for property in ["full_name", "id_number"] {
            paths.push(format!("{wfs}GetPropertyValue&TYPENAMES={c}&VALUEREFERENCE={property}&COUNT=1000"));
        }
        paths.push(format!("/wfs?SERVICE=WFS&VERSION=1.1.0&REQUEST=GetFeature&TYPENAME={c}&MAXFEATURES=1000"));
    }
    for table in ["parties", "certificates"] {
        for row in client.query(&ids(table), &[]).await.unwrap() {
            let id: i64 = row.get(0);
            paths.push(format!(
                "{wfs}GetFeature&STOREDQUERY_ID=urn:ogc:def:query:OGC-WFS::GetFeatureById&ID=land.{table}.{id}"
            ));
        }
    }

    // Anonymous and an officer of another province: nothing, whatever they ask.
    let anonymous = crawl(&server, None, &paths);
    assert_no_secret("anonymous", &anonymous, &secrets);
    for (path, response) in &anonymous {
        if RESTRICTED.iter().any(|c| path.starts_with(&format!("/collections/{c}"))) || path.ends_with("/owners") {
            assert_eq!(response.status, 404, "anonymous: {path} must not exist ({})", response.text());
        }
    }
    for (path, response) in &anonymous {
        let record_of = |c: &str| {
            path.contains(&format!("/catalogue/items/collection.{c}?"))
                || path.contains(&format!("/catalogue/items/dataset.{c}?"))
        };
        if RESTRICTED.iter().any(|c| record_of(c)) {
            assert_eq!(response.status, 404, "anonymous: {path} must not exist ({})", response.text());
        }
        if path.starts_with("/collections/catalogue/items?") {
            let text = response.text();
            let named = |c: &str| {
                ["collection", "dataset"].iter().any(|kind| {
                    let id = format!("{kind}.{c}");
                    text.contains(&format!("{id}\""))
                        || text.contains(&format!("{id}?"))
                        || text.contains(&format!("{id}<"))
                })
            };
            assert!(!RESTRICTED.iter().any(|c| named(c)), "anonymous: {path} lists a restricted record");
        }
    }
    for (path, response) in anonymous.iter().filter(|(p, _)| p.starts_with("/wfs")) {
        let text = response.text();
        for c in RESTRICTED {
            assert!(!text.contains(&format!("gs:{c}<")), "anonymous: {path} lists the restricted {c}");
            if path.contains(&format!("={c}"))
                || path.contains(&format!("={c}&"))
                || path.contains(&format!("ID=land.{}", &c[5..]))
            {
                assert!(
                    matches!(response.status, 400 | 404) && text.contains("ows:ExceptionReport"),
                    "anonymous: {path} must not exist ({})",
                    response.status
                );
            }
        }
    }
    let metrics = server.get("/metrics").text();
    assert!(!metrics.contains("land_restricted"), "metrics name no restricted table");
    let saigon_officer = token(&issuer, "officer-79", "cadastral_officer", &["79"]);
    let saigon = crawl(&server, Some(&saigon_officer), &paths);
    assert_no_secret("officer of province 79", &saigon, &secrets);
    let (_, owners79) = saigon.iter().find(|(p, _)| p == "/collections/land.owners/items?limit=1000").unwrap();
    assert!(features(owners79).is_empty(), "no owner of province 79 is in province 01's communes");

    // Inference through filters, sorting, selections and property filters is a 400 naming the
    // property as unknown, exactly as for a property that does not exist.
    let clerk = token(&issuer, "clerk-01", "clerk", &["01"]);
    let hidden = server
        .get_with("/collections/land.owners/items?filter=full_name%20LIKE%20%27Ng%25%27", &[("Authorization", &clerk)]);
    let absent = server
        .get_with("/collections/land.owners/items?filter=no_such%20LIKE%20%27Ng%25%27", &[("Authorization", &clerk)]);
    assert_eq!((hidden.status, absent.status), (400, 400), "{}", hidden.text());
    assert_eq!(
        hidden.json()["description"].as_str().unwrap().replace("full_name", "no_such"),
        absent.json()["description"]
    );
    for attempt in ["sortby=id_number", "properties=full_name", "id_number=001068190069"] {
        let refused =
            server.get_with(&format!("/collections/land.owners/items?{attempt}"), &[("Authorization", &clerk)]);
        assert_eq!(refused.status, 400, "{attempt}: {}", refused.text());
    }
    let queryables = server.get_with("/collections/land.owners/queryables", &[("Authorization", &clerk)]).json();
    assert!(
        queryables["properties"].get("full_name").is_none() && queryables["properties"].get("commune_code").is_some()
    );

    // The clerk sees only masked values.
    let masked = crawl(&server, Some(&clerk), &paths);
    assert_no_secret("clerk (masked)", &masked, &secrets);
    let owners = features(&server.get_with("/collections/land.owners/items?limit=1000", &[("Authorization", &clerk)]));
    assert_eq!(owners.len(), 17);
    for owner in &owners {
        let p = &owner["properties"];
        if let Some(id) = p["id_number"].as_str() {
            assert!(id.contains("***"), "{id}");
        }
        assert!(p["full_name"].as_str().unwrap().ends_with('.'), "{p}");
    }

    // The entitled officer sees exactly their area's owners, whole.
    let hanoi = token(&issuer, "officer-01", "cadastral_officer", &["01"]);
    let seen: BTreeSet<String> =
        features(&server.get_with("/collections/land.owners/items?limit=1000", &[("Authorization", &hanoi)]))
            .iter()
            .map(|f| f["properties"]["full_name"].as_str().unwrap().to_owned())
            .collect();
    let expected: BTreeSet<String> = client
        .query("SELECT DISTINCT full_name FROM land_restricted.owners WHERE commune_code = '00376'", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(seen, expected);
    assert!(!seen.contains("Võ Thị Sáu Mươi"));
    let other = token(&issuer, "officer-26734", "cadastral_officer", &["26734"]);
    let theirs = features(&server.get_with("/collections/land.parties/items?limit=1000", &[("Authorization", &other)]));
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0]["properties"]["full_name"], "Võ Thị Sáu Mươi");
    let of_parcel = features(
        &server.get_with(&format!("/collections/land.parcels/items/{parcel}/owners"), &[("Authorization", &hanoi)]),
    );
    assert!(!of_parcel.is_empty() && of_parcel.iter().all(|f| f["properties"]["full_name"].as_str().is_some()));

    // Every read of personal data is audited, with who, what and how much; nothing else is.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let rows = client
            .query("SELECT actor, features, properties FROM meta.audit WHERE actor = 'officer-01' AND collection = 'land.owners'", &[])
            .await
            .unwrap();
        if rows.iter().any(|r| r.get::<_, i64>(1) == expected.len() as i64 || r.get::<_, i64>(1) > 0) {
            let properties: Vec<String> = rows[0].get(2);
            assert!(properties.contains(&"full_name".to_owned()) && properties.contains(&"id_number".to_owned()));
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no audit row for officer-01");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let anonymous_rows: i64 =
        client.query_one("SELECT count(*) FROM meta.audit WHERE actor = 'anonymous'", &[]).await.unwrap().get(0);
    assert_eq!(anonymous_rows, 0, "public reads are not personal data");
    let refused = client.batch_execute("UPDATE meta.audit SET actor = 'someone else'").await;
    assert!(refused.is_err(), "the audit log is append-only");
    let listed = db.geosector(&["audit", "list", "--parcel", "00376/1/1", "--actor", "officer-01"]);
    assert_eq!(listed.code, Some(0), "{}", listed.text());
    assert!(listed.stdout.contains("officer-01"), "{}", listed.text());
}
