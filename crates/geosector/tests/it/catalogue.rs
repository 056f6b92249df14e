//! The data catalogue (docs/catalogue.md): OGC API - Records Part 1 walked black-box against
//! `geosector serve` on the samples (landing, conformance, the records collection, items, `q`,
//! `bbox`, `datetime`, `type`, `keywords`, paging to the end, a single record, errors, HTML in
//! both languages, restricted records), records derived from the live data and refreshed when
//! it changes, the catalogue file, and the Vietnamese search cases with their ranked ids.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::ats::load_samples;
use crate::support::{encode, repo, Server, TestDb};

fn link<'a>(doc: &'a Value, rel: &str) -> Option<&'a str> {
    doc["links"].as_array()?.iter().find(|l| l["rel"] == rel).and_then(|l| l["href"].as_str())
}

fn ids(page: &Value) -> Vec<String> {
    page["features"].as_array().expect("features").iter().map(|f| f["id"].as_str().expect("id").to_owned()).collect()
}

/// The catalogue file of the search cases (external records of type `document`).
pub fn search_file() -> String {
    repo().join("crates/geosector/tests/data/catalogue/search.toml").display().to_string()
}

#[tokio::test]
async fn ogc_api_records_checklist() {
    let Some(db) = TestDb::migrated().await else { return };
    load_samples(&db);
    let server = Server::start(&db, &[]);
    let client = db.client().await;

    // Landing page links the catalogue; /conformance declares the Records classes.
    let landing = server.get("/").json();
    let catalogue_url = link(&landing, "http://www.opengis.net/def/rel/ogc/1.0/catalog").expect("catalog link");
    let conformance = server.get("/conformance").json();
    let classes: Vec<&str> = conformance["conformsTo"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    for class in [
        "record-core",
        "record-collection",
        "record-core-query-parameters",
        "records-api",
        "searchable-catalog",
        "json",
        "html",
        "oas30",
    ] {
        let uri = format!("http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/{class}");
        assert!(classes.contains(&uri.as_str()), "{class}: {classes:?}");
    }

    // The records collection: among the collections with itemType record, and at /catalogue.
    let collections = server.get("/collections").json();
    let listed =
        collections["collections"].as_array().unwrap().iter().find(|c| c["id"] == "catalogue").expect("listed");
    assert_eq!(listed["itemType"], "record");
    let collection = server.get(catalogue_url);
    assert_eq!(collection.status, 200);
    let collection = collection.json();
    assert_eq!(collection["itemType"], "record");
    assert_eq!(server.get("/catalogue").json()["id"], "catalogue");
    let items_url = link(&collection, "items").expect("items link").to_owned();

    // /api describes the catalogue's paths and parameters.
    let api = server.get("/api").json();
    let op = &api["paths"]["/collections/catalogue/items"]["get"];
    for p in ["q", "bbox", "datetime", "type", "keywords", "ids", "externalIds", "limit", "offset"] {
        assert!(op["parameters"].as_array().unwrap().iter().any(|x| x["name"] == p), "{p}");
    }
    assert!(api["paths"]["/collections/catalogue/items/{recordId}"]["get"].is_object());

    // Items: GeoJSON, every record with the record-core members.
    let response = server.get(&items_url);
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("application/geo+json"));
    let page = response.json();
    assert_eq!(page["type"], "FeatureCollection");
    let matched = page["numberMatched"].as_u64().expect("numberMatched");
    assert_eq!(page["numberReturned"].as_u64(), Some(ids(&page).len() as u64));
    for f in page["features"].as_array().unwrap() {
        assert_eq!(f["type"], "Feature");
        assert!(!f["id"].as_str().unwrap().is_empty());
        assert!(f.get("geometry").is_some() && f.get("time").is_some(), "{f}");
        assert!(f["properties"]["type"].is_string() && f["properties"]["title"].is_string(), "{f}");
        assert!(link(f, "self").is_some());
        assert_eq!(f["conformsTo"][0], "http://www.opengis.net/spec/ogcapi-records-1/1.0/req/record-core");
    }

    // One record per published collection and per dataset; restricted ones hidden from
    // anonymous callers, as their collections are.
    let all = collect(&server, &format!("{items_url}?limit=4"), 4);
    assert_eq!(all.len() as u64, matched, "next links reach every record once");
    assert_eq!(all.iter().collect::<BTreeSet<_>>().len(), all.len(), "no record twice");
    for c in collections["collections"].as_array().unwrap().iter().filter(|c| c["id"] != "catalogue") {
        let id = format!("collection.{}", c["id"].as_str().unwrap());
        assert!(all.contains(&id), "{id} has no record");
    }
    assert!(all.contains(&"dataset.land.parcels".to_owned()));
    assert!(!all.iter().any(|id| id.contains("land.parties")), "restricted records hidden: {all:?}");
    let past = server.get(&format!("{items_url}?offset=100000")).json();
    assert_eq!((past["numberReturned"].as_u64(), past["numberMatched"].as_u64()), (Some(0), Some(matched)));
    assert_eq!(server.get("/collections/catalogue/items/collection.land.parties").status, 404);

    // A single record, derived from the live data: row count, extent, temporal extent, last change.
    let record = server.get("/collections/catalogue/items/collection.land.parcels");
    assert_eq!(record.status, 200);
    let record = record.json();
    let p = &record["properties"];
    let rows: i64 = client.query_one("SELECT count(*) FROM land.parcels", &[]).await.unwrap().get(0);
    assert_eq!(p["rowCount"], rows);
    let row = client
        .query_one(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e), d0, d1
             FROM (SELECT ST_Extent(geom)::geometry e, min(survey_date)::text d0, max(survey_date)::text d1 FROM land.parcels) x",
            &[],
        )
        .await
        .unwrap();
    let ring = &record["geometry"]["coordinates"][0];
    let close = |a: &Value, b: f64| (a.as_f64().unwrap() - b).abs() < 1e-9;
    assert!(close(&ring[0][0], row.get(0)) && close(&ring[0][1], row.get(1)), "{ring}");
    assert!(close(&ring[2][0], row.get(2)) && close(&ring[2][1], row.get(3)), "{ring}");
    assert_eq!(record["time"]["interval"][0], row.get::<_, String>(4));
    assert_eq!(record["time"]["interval"][1], row.get::<_, String>(5));
    assert_eq!(p["themes"][0]["concepts"][0]["id"], "planningCadastre");
    assert_eq!(p["accessLevel"], "public");
    assert_eq!(p["openToAnonymous"], true, "no policy file: public collections are open");
    assert!(p["updated"].as_str().unwrap().ends_with('Z'));
    assert!(p["legalBasis"].as_array().unwrap().iter().any(|l| l.as_str().unwrap().contains("31/2024/QH15")));
    for rel in ["items", "enclosure", "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"] {
        let href = link(&record, rel).unwrap_or_else(|| panic!("no {rel} link"));
        assert_eq!(server.get(href).status, 200, "{rel}: {href}");
    }
    let by_uuid = server.get(&format!("{items_url}?externalIds=urn:uuid:{}", p["uuid"].as_str().unwrap())).json();
    assert_eq!(ids(&by_uuid), ["collection.land.parcels"]);
    let by_ids = server.get(&format!("{items_url}?ids=collection.land.parcels,dataset.land.parcels")).json();
    assert_eq!(ids(&by_ids), ["collection.land.parcels", "dataset.land.parcels"]);
    let dataset = server.get("/collections/catalogue/items/dataset.land.parcels").json();
    assert_eq!(dataset["properties"]["collections"][0], "land.parcels");

    // q, bbox, datetime, type, keywords.
    let q = server.get(&format!("{items_url}?q={}", encode("thửa đất"))).json();
    let q_ids = ids(&q);
    let top: BTreeSet<&str> = q_ids.iter().take(2).map(String::as_str).collect();
    assert_eq!(top, BTreeSet::from(["collection.land.parcels", "dataset.land.parcels"]), "{q_ids:?}");
    let unaccented = server.get(&format!("{items_url}?q=thua%20dat")).json();
    assert_eq!(ids(&q), ids(&unaccented));
    let soc_son = server.get(&format!("{items_url}?bbox=105.80,21.20,105.90,21.30&limit=100")).json();
    assert!(ids(&soc_son).contains(&"collection.land.parcels".to_owned()), "{:?}", ids(&soc_son));
    let south = server.get(&format!("{items_url}?bbox=106.5,10.5,106.9,10.9&limit=100")).json();
    assert!(!ids(&south).contains(&"collection.land.parcels".to_owned()), "{:?}", ids(&south));
    let in_2020 = server.get(&format!("{items_url}?datetime=2020-06-01&limit=100")).json();
    assert!(ids(&in_2020).contains(&"collection.land.parcels".to_owned()));
    let in_2040 = server.get(&format!("{items_url}?datetime=2040-01-01/..&limit=100")).json();
    assert!(!ids(&in_2040).contains(&"collection.land.parcels".to_owned()), "{:?}", ids(&in_2040));
    let datasets = server.get(&format!("{items_url}?type=dataset&limit=100")).json();
    assert!(ids(&datasets).iter().all(|id| id.starts_with("dataset.")), "{:?}", ids(&datasets));
    let keywords = server.get(&format!("{items_url}?keywords={}&limit=100", encode("DIA CHINH"))).json();
    assert!(ids(&keywords).contains(&"collection.land.parcels".to_owned()), "{:?}", ids(&keywords));

    // Bad input: 400 naming the parameter; unknown record: 404.
    for (query, param) in [
        ("limit=0", "limit"),
        ("bbox=1,2,3", "bbox"),
        ("datetime=yesterday", "datetime"),
        ("q=%22%22", "q"),
        ("offset=-1", "offset"),
        ("sortby=title", "sortby"),
        ("lang=fr", "lang"),
    ] {
        let r = server.get(&format!("{items_url}?{query}"));
        assert_eq!(r.status, 400, "{query}");
        assert!(r.text().contains(param), "{query}: {}", r.text());
    }
    assert_eq!(server.get("/collections/catalogue/items/collection.nowhere").status, 404);
    assert_eq!(server.get("/collections/catalogue/items/collection.land.parcels?f=pdf").status, 400);

    // HTML in Vietnamese and English.
    let vi = server.get("/collections/catalogue/items/collection.land.parcels?f=html").text();
    assert!(vi.contains("Cơ quan chủ quản") && vi.contains("Thửa đất"), "{vi}");
    let en = server.get("/collections/catalogue/items/collection.land.parcels?f=html&lang=en").text();
    assert!(en.contains("Owner agency") && en.contains("Cadastral parcels"), "{en}");
    let list = server.get(&format!("{items_url}?f=html&q=thua%20dat")).text();
    assert!(list.contains("collection.land.parcels"), "{list}");

    // Exports.
    let iso = server.get("/collections/catalogue/items/collection.land.parcels?f=iso");
    assert!(iso.header("content-type").unwrap_or_default().contains("xml"));
    assert!(iso.text().contains(p["uuid"].as_str().unwrap()));
    let dcat = server.get("/collections/catalogue/items/collection.land.parcels?f=dcat").json();
    assert_eq!(dcat["@type"], "dcat:Dataset");
    assert_eq!(dcat["dct:identifier"], p["uuid"]);
}

/// Follows `next` links, checking each page; every id collected.
fn collect(server: &Server, first: &str, limit: usize) -> Vec<String> {
    let mut url = first.to_owned();
    let mut all = Vec::new();
    for _ in 0..1000 {
        let page = server.get(&url).json();
        assert!(ids(&page).len() <= limit);
        all.extend(ids(&page));
        match link(&page, "next") {
            Some(next) => url = next.to_owned(),
            None => return all,
        }
    }
    panic!("next links never end");
}

#[tokio::test]
async fn catalogue_records_follow_the_data_and_the_policy() {
    let Some(db) = TestDb::migrated().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        "[[grant]]\nrole = \"registrar\"\ncollections = [\"land.parties\"]\noperations = [\"read_items\", \"read_restricted\"]\n",
    )
    .unwrap();
    let server = Server::start(&db, &["--access-file", policy.to_str().unwrap()]);
    let client = db.client().await;
    let record = |id: &str| server.get(&format!("/collections/catalogue/items/{id}")).json();

    // Empty table: no rows, no extent; after an import the record follows the data (the next
    // request rebuilds it: the data version moved).
    assert_eq!(record("collection.water.works")["properties"]["rowCount"], 0);
    assert_eq!(record("collection.water.works")["geometry"], Value::Null);
    let run = db.geosector(&["import", "water.works", "data-samples/water/works.geojson"]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let rows: i64 = client.query_one("SELECT count(*) FROM water.works", &[]).await.unwrap().get(0);
    let after = record("collection.water.works");
    assert_eq!(after["properties"]["rowCount"], rows);
    assert!(rows > 0 && after["geometry"]["type"] == "Polygon", "{after}");
    let changed: String = client
        .query_one(
            "SELECT to_char(changed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM meta.table_versions
             WHERE schema_name = 'water' AND table_name = 'works'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(after["properties"]["updated"], changed.as_str());
    // Whether anonymous callers may read the data follows the policy in force (this one grants
    // nothing to them), as the items endpoint does.
    let anonymous_reads = server.get("/collections/water.works/items").status == 200;
    assert!(!anonymous_reads);
    assert_eq!(after["properties"]["openToAnonymous"], anonymous_reads);
    assert!(server
        .get("/collections/catalogue/items/collection.water.works?f=iso")
        .text()
        .contains("Readable without credentials: không / no"));

    // Records of a restricted collection (and of its dataset) exist only for a caller whose
    // grant names it; they state its access level and personal fields.
    assert_eq!(server.get("/collections/catalogue/items/collection.land.parties").status, 404);
    assert_eq!(server.get("/collections/catalogue/items/dataset.land.parties").status, 404);
    let search = server.get("/collections/catalogue/items?q=party&limit=100").json();
    assert!(!ids(&search).iter().any(|id| id.contains("land.parties")), "{:?}", ids(&search));
    let created = db.geosector(&["keys", "create", "--name", "registrar", "--role", "registrar", "--days", "1"]);
    assert_eq!(created.code, Some(0), "{}", created.text());
    let key = created.stdout.lines().find(|l| l.starts_with("gsk_")).expect("the key is printed").trim().to_owned();
    let parties = server.get_with("/collections/catalogue/items/collection.land.parties", &[("X-API-Key", &key)]);
    assert_eq!(parties.status, 200, "{}", parties.text());
    let p = parties.json()["properties"].clone();
    assert_eq!(p["accessLevel"], "restricted");
    let personal: Vec<&str> =
        p["personalData"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert!(personal.contains(&"id_number"), "{personal:?}");
    let iso = server.get_with("/collections/catalogue/items/dataset.land.parties?f=iso", &[("X-API-Key", &key)]);
    assert_eq!(iso.status, 200);
    assert!(iso.text().contains("codeListValue=\"restricted\""), "{}", iso.text());
}

#[tokio::test]
async fn catalogue_file_adds_external_records_and_agencies() {
    let Some(db) = TestDb::migrated().await else { return };
    let server = Server::start(&db, &["--catalogue", &search_file()]);
    let r = server.get("/collections/catalogue/items/ext.qh-hanoi-2030").json();
    let p = &r["properties"];
    assert_eq!(p["origin"], "external");
    assert_eq!(p["rowCount"], 1200);
    assert_eq!(r["time"]["interval"], serde_json::json!(["2021-01-01", "2030-12-31"]));
    assert_eq!(link(&r, "enclosure"), Some("https://example.invalid/qh-2030.gpkg"));
    // The land sector's agency comes from the file.
    let parcels = server.get("/collections/catalogue/items/collection.land.parcels").json();
    assert_eq!(parcels["properties"]["contacts"][0]["organization"], "Sở Nông nghiệp và Môi trường thành phố Hà Nội");
    assert_eq!(parcels["properties"]["contacts"][0]["identifier"], "HN-NNMT");
    // Found by bbox and time like any record.
    let hanoi =
        server.get("/collections/catalogue/items?bbox=105.8,21.0,105.9,21.1&datetime=2029-01-01&type=dataset").json();
    assert_eq!(ids(&hanoi), ["ext.qh-hanoi-2030"]);

    // A file with an error names the file, the record and the field; serve refuses to start.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    let text = std::fs::read_to_string(search_file()).unwrap().replace(
        "topic = \"planningCadastre\"\nkeywords = [\"quy hoạch tỉnh\"]",
        "topic = \"cadastre\"\nkeywords = []",
    );
    std::fs::write(&bad, text).unwrap();
    let run = db.geosector(&["serve", "--bind", "127.0.0.1:0", "--catalogue", bad.to_str().unwrap()]);
    assert_ne!(run.code, Some(0));
    assert!(
        run.text().contains("bad.toml") && run.text().contains("ext.qh-hanoi-2030") && run.text().contains("topic"),
        "{}",
        run.text()
    );
}

/// The Vietnamese search cases: each `q` with the ids expected, best first (ties by id). The
/// records are the catalogue file's ten `document`s (tests/data/catalogue/search.toml).
const CASES: &[(&str, &[&str])] = &[
    // Without accents, with them, capitals with tone marks, NFD (combining marks): the same.
    // Ranked title (A) > description (B) > keywords (C).
    ("ha noi", &["t.hanoi-lua", "t.hanoi-quyhoach", "t.xa-phuong", "t.tram-khong-khi"]),
    ("Hà Nội", &["t.hanoi-lua", "t.hanoi-quyhoach", "t.xa-phuong", "t.tram-khong-khi"]),
    ("HÀ NỘI", &["t.hanoi-lua", "t.hanoi-quyhoach", "t.xa-phuong", "t.tram-khong-khi"]),
    ("Ha\u{300} No\u{323}\u{302}i", &["t.hanoi-lua", "t.hanoi-quyhoach", "t.xa-phuong", "t.tram-khong-khi"]),
    // đ → d; all terms in any order vs a quoted phrase in order.
    ("dat lua", &["t.hanoi-lua", "t.lua-dat-phen", "t.dong-thap"]),
    ("\"dat lua\"", &["t.hanoi-lua", "t.dong-thap"]),
    ("\"đất lúa\"", &["t.hanoi-lua", "t.dong-thap"]),
    ("\"lua dat\"", &[]),
    ("\"lua tren dat\"", &["t.lua-dat-phen"]),
    ("DONG THAP", &["t.dong-thap"]),
    ("Đồng Tháp", &["t.dong-thap"]),
    ("dien bien", &["t.dien-bien"]),
    ("ĐIỆN BIÊN", &["t.dien-bien"]),
    ("da nang", &["t.da-nang"]),
    ("ho chi minh", &["t.hcm-dat-o"]),
    ("\"thành phố hồ chí minh\"", &["t.hcm-dat-o"]),
    ("ĐẤT Ở", &["t.hcm-dat-o"]),
    // A title hit ranks above description hits.
    ("thanh pho", &["t.hcm-dat-o", "t.hanoi-lua", "t.hanoi-quyhoach"]),
    ("nuoc duoi dat", &["t.nuoc-ngam"]),
    // Keyword written in capitals (ĐỒNG BẰNG) and a description hit.
    ("dong bang", &["t.dong-thap"]),
    // Description and keyword.
    ("khong khi", &["t.tram-khong-khi"]),
    ("xa phuong", &["t.xa-phuong"]),
    ("rung phong ho", &["t.dien-bien"]),
    // Accent folding conflates biển and Biên: two title hits (vi and en) outrank one title, one
    // description and one keyword hit.
    ("bien", &["t.dien-bien", "t.da-nang"]),
    // Commas separate alternatives.
    ("ha noi, da nang", &["t.da-nang", "t.hanoi-lua", "t.hanoi-quyhoach", "t.xa-phuong", "t.tram-khong-khi"]),
    ("sa mac", &[]),
];

#[tokio::test]
async fn vietnamese_search_cases() {
    let Some(db) = TestDb::migrated().await else { return };
    let server = Server::start(&db, &["--catalogue", &search_file()]);
    let mut failures = Vec::new();
    for (q, expected) in CASES {
        let page = server.get(&format!("/collections/catalogue/items?type=document&limit=50&q={}", encode(q))).json();
        let got = ids(&page);
        if got != *expected {
            failures.push(format!("q={q:?}: expected {expected:?}, got {got:?}"));
        }
        let ranks: Vec<f64> =
            page["features"].as_array().unwrap().iter().map(|f| f["properties"]["rank"].as_f64().unwrap()).collect();
        assert!(ranks.windows(2).all(|w| w[0] >= w[1]), "q={q:?}: ranks not descending: {ranks:?}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(CASES.len() >= 20);
    // The keywords parameter folds case and accents too.
    let k = server.get(&format!("/collections/catalogue/items?keywords={}", encode("dong bang"))).json();
    assert_eq!(ids(&k), ["t.dong-thap"]);
}

/// OWSLib's Records client lists and searches the catalogue; OWSLib's ISO reader reads a
/// record's ISO 19139 export back field by field; xmllint validates it against the ISO 19139
/// schemas pycsw ships (scripts/test.sh installs them and xmllint).
#[tokio::test]
async fn owslib_reads_the_catalogue_and_the_iso_export_validates() {
    use crate::clients::{python, run, tool};
    let (Some(python), Some(_)) = (python(), tool("xmllint")) else { return };
    let Some(db) = TestDb::migrated().await else { return };
    let run_import = db.geosector(&["import", "land.parcels", "data-samples/land/parcels_soc_son.fgb"]);
    assert_eq!(run_import.code, Some(0), "{}", run_import.text());
    let server = Server::start(&db, &["--catalogue", &search_file()]);
    let script = repo().join("tests/clients/owslib_records_check.py");
    for record_id in ["ext.qh-hanoi-2030", "collection.land.parcels"] {
        let out = run(std::process::Command::new(&python).arg(&script).args([&server.base, record_id, "ha noi"]));
        let seen: Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
        assert_eq!(seen["catalogues"], serde_json::json!(["catalogue"]));
        assert_eq!(seen["item_type"], "record");
        assert_eq!(
            seen["found"],
            serde_json::json!(["t.hanoi-lua", "t.hanoi-quyhoach", "t.xa-phuong", "t.tram-khong-khi"])
        );
        assert_eq!(seen["paged"], 3);
        assert_eq!(seen["has_next"], true);
        assert_eq!(seen["single_id"], record_id);
        assert_eq!(seen["xmllint"]["returncode"], 0, "ISO 19139 schema validation: {}", seen["xmllint"]["stderr"]);

        // Field by field against the record's GeoJSON.
        let record = server.get(&format!("/collections/catalogue/items/{record_id}")).json();
        let p = &record["properties"];
        let iso = &seen["iso"];
        assert_eq!(iso["identifier"], p["uuid"]);
        assert_eq!(iso["languagecode"], "vie");
        assert_eq!(iso["resourcelanguagecode"], serde_json::json!(["vie"]));
        assert_eq!(iso["charset"], "utf8");
        assert_eq!(iso["hierarchy"], "dataset");
        assert_eq!(iso["title"], p["title"]);
        assert_eq!(iso["abstract"], p["description"]);
        assert_eq!(iso["topiccategory"], serde_json::json!([p["themes"][0]["concepts"][0]["id"]]));
        assert_eq!(iso["keywords"], p["keywords"]);
        assert_eq!(iso["contact_organization"], p["contacts"][0]["organization"]);
        let ring = &record["geometry"]["coordinates"][0];
        let bbox: Vec<f64> =
            iso["bbox"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().parse().unwrap()).collect();
        let expected = [&ring[0][0], &ring[0][1], &ring[2][0], &ring[2][1]].map(|v| v.as_f64().unwrap());
        assert!(bbox.iter().zip(expected).all(|(a, b)| (a - b).abs() < 1e-9), "{bbox:?} vs {expected:?}");
        assert_eq!(iso["temporal"], record["time"]["interval"]);
        assert_eq!(iso["accessconstraints"], serde_json::json!(["otherRestrictions"]));
        assert!(iso["otherconstraints"].as_array().unwrap().iter().any(|c| c == &p["license"]), "{iso}");
        let supplemental = iso["supplementalinformation"].as_str().unwrap();
        for basis in p["legalBasis"].as_array().unwrap() {
            assert!(supplemental.contains(basis.as_str().unwrap()), "{supplemental}");
        }
        assert!(supplemental.contains(&format!("{}", p["rowCount"])), "{supplemental}");
        let links: Vec<&str> =
            record["links"].as_array().unwrap().iter().skip(5).map(|l| l["href"].as_str().unwrap()).collect();
        assert_eq!(iso["online"].as_array().unwrap().iter().map(|u| u.as_str().unwrap()).collect::<Vec<_>>(), links);
        let crs: Vec<String> = p["crs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                c.as_str()
                    .unwrap()
                    .replace("http://www.opengis.net/def/crs/EPSG/0/", "EPSG:")
                    .replace("http://www.opengis.net/def/crs/OGC/1.3/", "OGC:")
            })
            .collect();
        // OWSLib reads the first reference system.
        assert_eq!(iso["crs"][0].as_str(), crs.first().map(String::as_str), "{iso}");
    }
}
