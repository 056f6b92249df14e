//! Land statistics (TT 08/2024 forms 01/TKKK and 03/TKKK, issue 20): the sample parcels, their
//! rights and parties, a change made through the editing API, then both forms for the commune,
//! the province and the country at an instant before and after the change, each checked against
//! an independent computation written here in SQL; the brief's rule 16 identities (group rows,
//! column sums, form 03 total = form 01 column 4); the XLSX read back by openpyxl with the same
//! numbers; a cell's link followed to the parcels behind it; the area rules of access; bad input.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use tokio_postgres::Client;

use crate::support::{encode, Server, TestDb};

const PARCELS: &str = "data-samples/land/parcels_soc_son.fgb";
const ITEMS: &str = "/collections/land.parcels/items";
const MERGE_PATCH: (&str, &str) = ("Content-Type", "application/merge-patch+json");

/// Anonymous callers read no land; `editor` reads and writes land; `commune_reader` reads the
/// parcels of commune 00376 only.
const POLICY: &str = r#"
[[grant]]
role = "anonymous"
collections = ["minerals.*"]
operations = ["read_items"]

[[grant]]
role = "editor"
collections = ["land.*"]
operations = ["read_items", "read_tiles", "write"]

[[grant]]
role = "commune_reader"
collections = ["land.parcels"]
operations = ["read_items"]
area = ["00376"]
"#;

const USERS: &[&str] =
    &["CNV", "CNN", "TCN", "TSN", "TXH", "TKT", "TKH", "TTG", "CDS", "TNG", "NGV", "TVN", "TCQ", "TSQ", "KTQ", "CDQ"];

/// The parcels' purposes valid at `$1` with their areas rounded to 0.1 m², written apart from
/// the form's SQL: subscripts instead of a lateral unnest, `CASE` instead of `UNION ALL`.
const PURPOSES: &str = "
WITH v AS (
    SELECT commune_code, sheet_number, parcel_number, land_use_codes AS c, land_use_areas_m2 AS a,
           coalesce(legal_area_m2, declared_area_m2, computed_area_m2, 0) AS whole
    FROM land.parcels WHERE version_from <= $1
    UNION ALL
    SELECT commune_code, sheet_number, parcel_number, land_use_codes, land_use_areas_m2,
           coalesce(legal_area_m2, declared_area_m2, computed_area_m2, 0)
    FROM land.parcels_history WHERE version_from <= $1 AND $1 < version_to
), p AS (
    SELECT v.commune_code, v.sheet_number, v.parcel_number,
           CASE WHEN v.c[i] IN ('LUC', 'LUK') THEN 'LUA' ELSE v.c[i] END AS row_key,
           round((CASE WHEN v.a IS NULL OR NULL = ANY (v.a) THEN CASE WHEN i = 1 THEN v.whole END ELSE v.a[i] END)::numeric, 1) AS m2
    FROM v, generate_subscripts(v.c, 1) AS i
)";

/// Form 03 by hand: ha per (row, commune).
async fn expected_03(client: &Client, at: &str) -> BTreeMap<(String, String), f64> {
    let sql = format!(
        "{PURPOSES} SELECT row_key, commune_code, (sum(m2) / 10000)::float8 FROM p WHERE m2 IS NOT NULL GROUP BY 1, 2"
    );
    let at: chrono::DateTime<chrono::Utc> = at.parse().unwrap();
    client.query(&sql, &[&at]).await.unwrap().iter().map(|r| ((r.get(0), r.get(1)), r.get(2))).collect()
}

/// Form 01 by hand: ha per (row, user column), rights weighted by share over the parcel's shares.
async fn expected_01(client: &Client, at: &str) -> BTreeMap<(String, String), f64> {
    let sql = format!(
        "{PURPOSES}, w AS (
            SELECT r.commune_code, r.sheet_number, r.parcel_number, pt.user_code,
                   r.share / (SELECT sum(r2.share) FROM land_restricted.parcel_rights r2
                              WHERE r2.commune_code = r.commune_code AND r2.sheet_number = r.sheet_number
                                AND r2.parcel_number = r.parcel_number) AS weight
            FROM land_restricted.parcel_rights r JOIN land_restricted.parties pt ON pt.id = r.party_id)
         SELECT p.row_key, CASE WHEN w.user_code = ANY ($2) THEN w.user_code ELSE 'CXD' END,
                (sum(p.m2 * coalesce(w.weight, 1)::numeric) / 10000)::float8
         FROM p LEFT JOIN w ON w.commune_code = p.commune_code AND w.sheet_number = p.sheet_number
                           AND w.parcel_number = p.parcel_number
         WHERE p.m2 IS NOT NULL GROUP BY 1, 2"
    );
    let at: chrono::DateTime<chrono::Utc> = at.parse().unwrap();
    let users: Vec<String> = USERS.iter().map(|u| (*u).to_owned()).collect();
    client.query(&sql, &[&at, &users]).await.unwrap().iter().map(|r| ((r.get(0), r.get(1)), r.get(2))).collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()))
}

fn column_index(form: &Value, key: &str) -> usize {
    form["columns"].as_array().unwrap().iter().position(|c| c["key"] == key).unwrap_or_else(|| panic!("column {key}"))
}

fn row<'a>(form: &'a Value, key: &str) -> &'a Value {
    form["rows"].as_array().unwrap().iter().find(|r| r["key"] == key).unwrap_or_else(|| panic!("row {key}"))
}

fn values(row: &Value) -> Vec<f64> {
    row["values"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect()
}

fn is_leaf(form: &Value, key: &str) -> bool {
    !form["rows"].as_array().unwrap().iter().any(|r| r["parent"] == key)
}

/// Brief rule 16: each group row is the sum of its children, each sum column the sum of its parts.
fn identities_hold(form: &Value) {
    let rows = form["rows"].as_array().unwrap();
    for group in rows.iter().filter(|r| !is_leaf(form, r["key"].as_str().unwrap())) {
        let children: Vec<Vec<f64>> = rows.iter().filter(|r| r["parent"] == group["key"]).map(values).collect();
        for (c, v) in values(group).iter().enumerate() {
            let sum: f64 = children.iter().map(|child| child[c]).sum();
            assert!(close(*v, sum), "{} row {} column {c}: {v} ≠ Σ children {sum}", form["form"], group["key"]);
        }
    }
    for (c, column) in form["columns"].as_array().unwrap().iter().enumerate() {
        let parts: Vec<usize> =
            column["sumOf"].as_array().unwrap().iter().map(|k| column_index(form, k.as_str().unwrap())).collect();
        if parts.is_empty() {
            continue;
        }
        for r in rows {
            let v = values(r);
            let sum: f64 = parts.iter().map(|p| v[*p]).sum();
            assert!(close(v[c], sum), "{} row {} column {}: {} ≠ {sum}", form["form"], r["key"], column["key"], v[c]);
        }
    }
}

/// The form's leaf cells of data columns equal the hand computation, and every computed cell
/// is in the form (nothing dropped). `column_of`: the hand computation's column key → the form's.
fn equals_expected(form: &Value, expected: &BTreeMap<(String, String), f64>, column_of: &dyn Fn(&str) -> String) {
    let mut by_cell: BTreeMap<(String, String), f64> = BTreeMap::new();
    for ((row, column), v) in expected {
        *by_cell.entry((row.clone(), column_of(column))).or_default() += v;
    }
    let data_columns: Vec<(usize, String)> = form["columns"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .filter(|(_, c)| c["sumOf"].as_array().unwrap().is_empty())
        .map(|(i, c)| (i, c["key"].as_str().unwrap().to_owned()))
        .collect();
    let mut seen = 0;
    for r in form["rows"].as_array().unwrap() {
        let key = r["key"].as_str().unwrap();
        if !is_leaf(form, key) || r["codes"].as_array().unwrap().is_empty() {
            continue;
        }
        let v = values(r);
        for (c, column) in &data_columns {
            let want = by_cell.get(&(key.to_owned(), column.clone())).copied().unwrap_or(0.0);
            seen += usize::from(want != 0.0);
            assert!(close(v[*c], want), "{} {key} × {column}: form {} ≠ SQL {want}", form["form"], v[*c]);
        }
    }
    assert_eq!(seen, by_cell.values().filter(|v| **v != 0.0).count(), "a computed cell is missing from the form");
}

fn form(server: &Server, key: &str, path: &str) -> Value {
    let response = server.get_with(path, &[("X-API-Key", key)]);
    assert_eq!(response.status, 200, "{path}: {}", response.text());
    response.json()
}

async fn instant(client: &Client) -> String {
    let t: String = client
        .query_one("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')", &[])
        .await
        .unwrap()
        .get(0);
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    t
}

#[tokio::test]
async fn forms_01_and_03_equal_sql_before_and_after_an_edit_and_their_identities_hold() {
    let Some(db) = TestDb::migrated().await else { return };
    assert_eq!(db.geosector(&["reference", "data-samples/reference"]).code, Some(0));
    for (dataset, file) in [
        ("land.parcels", PARCELS),
        ("land.parties", "data-samples/land/parties.csv"),
        ("land.certificates", "data-samples/land/certificates.csv"),
        ("land.parcel_rights", "data-samples/land/parcel_rights.csv"),
    ] {
        let run = db.geosector(&["import", dataset, file]);
        assert_eq!(run.code, Some(0), "{dataset}: {}", run.text());
    }
    let policy = std::env::temp_dir().join(format!("geosector-stats-{}-{}.toml", std::process::id(), db.url.len()));
    std::fs::write(&policy, POLICY).unwrap();
    let key = |role: &str| {
        let created = db.geosector(&["keys", "create", "--name", role, "--role", role, "--days", "1"]);
        assert_eq!(created.code, Some(0), "{}", created.text());
        created.stdout.lines().find(|l| l.starts_with("gsk_")).expect("the key is printed").trim().to_owned()
    };
    let (editor, reader) = (key("editor"), key("commune_reader"));
    let server = Server::start(&db, &["--access-file", policy.to_str().unwrap()]);
    let client = db.client().await;

    // The change: a rice parcel (LUC) becomes residential + perennial with no per-purpose
    // areas (the whole parcel on its main purpose), and a parcel with a right is deleted.
    let t0 = instant(&client).await;
    let rice: i64 = client
        .query_one("SELECT id FROM land.parcels WHERE land_use_codes = '{LUC}' ORDER BY id LIMIT 1", &[])
        .await
        .unwrap()
        .get(0);
    let held: i64 = client
        .query_one(
            "SELECT p.id FROM land.parcels p JOIN land_restricted.parcel_rights r USING (commune_code, sheet_number, parcel_number) ORDER BY p.id LIMIT 1",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let patch = json!({ "properties": { "land_use_codes": ["ONT", "CLN"], "land_use_areas_m2": null } });
    let key_header = ("X-API-Key", editor.as_str());
    let patched = server.request(
        "PATCH",
        &format!("{ITEMS}/{rice}"),
        &[key_header, MERGE_PATCH],
        Some(&serde_json::to_vec(&patch).unwrap()),
    );
    assert_eq!(patched.status, 200, "{}", patched.text());
    let deleted = server.request("DELETE", &format!("{ITEMS}/{held}"), &[key_header], None);
    assert_eq!(deleted.status, 204, "{}", deleted.text());
    let t1 = instant(&client).await;

    let mut totals = Vec::new();
    for t in [&t0, &t1] {
        let (e01, e03) = (expected_01(&client, t).await, expected_03(&client, t).await);
        let date = encode(t);
        let commune_01 = form(&server, &editor, &format!("/statistics/land/01?unit=00376&date={date}"));
        let commune_03 = form(&server, &editor, &format!("/statistics/land/03-TKKK?unit=00376&date={date}"));
        let province_03 = form(&server, &editor, &format!("/statistics/land/03?unit=01&date={date}"));
        let province_01 = form(&server, &editor, &format!("/statistics/land/01?unit=01&date={date}"));
        let country_03 = form(&server, &editor, &format!("/statistics/land/03?date={date}"));
        let country_01 = form(&server, &editor, &format!("/statistics/land/01?unit=VN&date={date}"));
        assert_eq!(commune_01["unit"]["name"], "Xã Sóc Sơn");
        assert_eq!(province_03["unit"]["level"], "province");
        assert_eq!(
            commune_01["header"],
            format!("(Đến ngày {})", {
                let d = commune_01["date"].as_str().unwrap();
                format!("{}/{}/{}", &d[8..10], &d[5..7], &d[..4])
            })
        );
        let user_column = |k: &str| k.to_owned();
        for f in [&commune_01, &province_01, &country_01] {
            equals_expected(f, &e01, &user_column);
            identities_hold(f);
            // The brief's own statement of the columns: 4 = 5 + 18 (+ not recorded), 5 = Σ 6–17, 18 = Σ 19–22.
            let number = |n: &str| {
                f["columns"].as_array().unwrap().iter().position(|c| c["number"] == n).unwrap_or_else(|| panic!("{n}"))
            };
            for r in f["rows"].as_array().unwrap() {
                let v = values(r);
                assert!(close(v[number("4")], v[number("5")] + v[number("18")] + v[number("CXĐ")]));
                assert!(close(v[number("5")], (6..=17).map(|n| v[number(&n.to_string())]).sum()));
                assert!(close(v[number("18")], (19..=22).map(|n| v[number(&n.to_string())]).sum()));
            }
        }
        equals_expected(&commune_03, &e03, &|c: &str| c.to_owned());
        equals_expected(&province_03, &e03, &|c: &str| c.to_owned());
        equals_expected(&country_03, &e03, &|c: &str| {
            if c.starts_with("00") {
                "01".into()
            } else {
                "UNPLACED".into()
            }
        });
        for f in [&commune_03, &province_03, &country_03] {
            identities_hold(f);
        }
        // Form 03's total is form 01's column 4, row by row, at every level.
        for (f01, f03) in [(&commune_01, &commune_03), (&province_01, &province_03), (&country_01, &country_03)] {
            for (a, b) in f01["rows"].as_array().unwrap().iter().zip(f03["rows"].as_array().unwrap()) {
                assert_eq!(a["key"], b["key"]);
                assert!(close(values(a)[0], values(b)[0]), "{}: {} ≠ {}", a["key"], values(a)[0], values(b)[0]);
            }
        }
        assert_eq!(province_03["columns"].as_array().unwrap().len(), 126 + 2, "total, 126 communes, unplaced");
        let land = values(row(&commune_01, "TOTAL"))[0];
        let by_sql: f64 = e03.values().sum();
        assert!(close(land, by_sql) && land > 0.0, "{land} {by_sql}");
        // Codes outside the 2024 list keep their area in rows of their own (the sample's DSH),
        // and users with a legacy code (UBQ) are in the declared not-recorded column.
        assert!(values(row(&commune_01, "DSH"))[0] > 0.0);
        assert_eq!(row(&commune_01, "DSH")["parent"], "OTHER");
        assert!(values(row(&commune_01, "TOTAL"))[column_index(&commune_01, "CXD")] > 0.0);
        let mapped = form(&server, &editor, &format!("/statistics/land/01?unit=00376&date={date}&legacy=map"));
        assert!(mapped["rows"].as_array().unwrap().iter().all(|r| r["key"] != "DSH"));
        assert!(close(
            values(row(&mapped, "DKV"))[0],
            values(row(&commune_01, "DKV"))[0] + values(row(&commune_01, "DSH"))[0]
        ));
        identities_hold(&mapped);
        totals.push((values(row(&commune_01, "LUA"))[0], values(row(&commune_01, "ONT"))[0], land));
    }
    // The edit is seen after, not before.
    assert!(totals[1].0 < totals[0].0 && totals[1].1 > totals[0].1, "{totals:?}");
    assert!(totals[1].2 < totals[0].2, "the deleted parcel's area is gone: {totals:?}");

    // A cell's link: the parcels behind LUA in the commune at t0, whose rice areas add up to it.
    let at_t0 = form(&server, &editor, &format!("/statistics/land/03?unit=00376&date={}", encode(&t0)));
    let lua = row(&at_t0, "LUA");
    let href = lua["cells"][column_index(&at_t0, "00376")].as_str().expect("a non-zero cell links");
    assert!(href.contains("datetime=") && href.contains("filter="), "{href}");
    let path = &href[href.find("/collections").unwrap()..];
    let items = server.get_with(&format!("{path}&limit=1000"), &[key_header]);
    assert_eq!(items.status, 200, "{}", items.text());
    let mut rice_m2 = 0.0;
    for f in items.json()["features"].as_array().unwrap() {
        let codes = f["properties"]["land_use_codes"].as_array().unwrap();
        let areas = f["properties"]["land_use_areas_m2"].as_array().unwrap();
        for (c, a) in codes.iter().zip(areas) {
            if c == "LUC" || c == "LUK" {
                rice_m2 += (a.as_f64().unwrap() * 10.0).round() / 10.0;
            }
        }
    }
    assert!(close(rice_m2 / 10_000.0, values(lua)[1]), "{rice_m2} m² behind {}", values(lua)[1]);
    assert!(at_t0["query"]["sql"].as_str().unwrap().contains("parcels_history"));
    assert_eq!(at_t0["query"]["parameters"][1], json!(["00376"]));

    // XLSX, read back by openpyxl: the same rows and numbers as the JSON.
    if let Some(python) = crate::clients::python() {
        let response =
            server.get_with(&format!("/statistics/land/01?unit=01&date={}&f=xlsx", encode(&t1)), &[key_header]);
        assert_eq!(response.status, 200);
        let file = std::env::temp_dir().join(format!("geosector-stats-{}.xlsx", std::process::id()));
        std::fs::write(&file, &response.body).unwrap();
        let script = "import json, sys, openpyxl\n\
            ws = openpyxl.load_workbook(sys.argv[1], read_only=True).active\n\
            rows = list(ws.iter_rows(values_only=True))\n\
            start = next(i for i, r in enumerate(rows) if r[0] == 'STT') + 1\n\
            print(json.dumps({'title': ws.title, 'asof': rows[3][0], 'rows': [[r[2], list(r[3:])] for r in rows[start:]]}))\n";
        let out = crate::clients::run(std::process::Command::new(python).arg("-c").arg(script).arg(&file));
        let read: Value = serde_json::from_str(out.trim()).unwrap();
        let json = form(&server, &editor, &format!("/statistics/land/01?unit=01&date={}", encode(&t1)));
        assert_eq!(read["title"], "01-TKKK");
        assert_eq!(read["asof"], json["header"]);
        let rows = json["rows"].as_array().unwrap();
        assert_eq!(read["rows"].as_array().unwrap().len(), rows.len());
        for (x, j) in read["rows"].as_array().unwrap().iter().zip(rows) {
            assert_eq!(x[0], j["key"]);
            let (xs, js) = (x[1].as_array().unwrap(), values(j));
            assert_eq!(xs.len(), js.len());
            for (a, b) in xs.iter().zip(js) {
                assert!(close(a.as_f64().unwrap(), b), "{}: xlsx {a} ≠ json {b}", j["key"]);
            }
        }
        let _ = std::fs::remove_file(&file);
    }

    // HTML and CSV.
    let page = server.get_with(&format!("/statistics/land/03?unit=00376&date={}&f=html", encode(&t1)), &[key_header]);
    assert_eq!(page.status, 200);
    let text = page.text();
    assert!(text.contains("(Đến ngày") && text.contains("Nhóm đất nông nghiệp") && text.contains("Agricultural land"));
    assert!(text.contains("/collections/land.parcels/items?datetime="), "cells link to their parcels");
    let csv = server.get_with(&format!("/statistics/land/01?unit=00376&date={}&f=csv", encode(&t1)), &[key_header]);
    assert!(csv.text().starts_with("number,code,title_vi,title_en,TOTAL,NSD,CNV"), "{}", csv.text());

    // Access: the caller's area, the whole unit or nothing; anonymous callers have no land here.
    let scoped = |path: &str| server.get_with(path, &[("X-API-Key", reader.as_str())]).status;
    assert_eq!(scoped("/statistics/land/03?unit=00376"), 200);
    assert_eq!(scoped("/statistics/land/03?unit=01"), 403);
    assert_eq!(scoped("/statistics/land/01"), 403);
    assert_eq!(server.get("/statistics/land/01?unit=00376").status, 401);

    // Bad input names the parameter.
    for (path, status, param) in [
        ("/statistics/land/02", 404, "form"),
        ("/statistics/water/01", 404, "sector"),
        ("/statistics/land/01?unit=1234", 400, "unit"),
        ("/statistics/land/01?unit=01&date=2025-13-01", 400, "date"),
        ("/statistics/land/01?unit=99", 404, "unit"),
        ("/statistics/land/03?unit=00376&date=2020-12-31", 404, "unit"),
        ("/statistics/land/03?f=pdf", 400, "f"),
        ("/statistics/land/03?bbox=1,2,3,4", 400, "bbox"),
    ] {
        let response = server.get_with(path, &[key_header]);
        assert_eq!(response.status, status, "{path}: {}", response.text());
        let description = response.json()["description"].as_str().unwrap_or_default().to_owned();
        assert!(description.starts_with(&format!("{param}:")), "{path}: {description}");
    }
    // The default date is the last 31 December, before the sample was loaded: nothing yet.
    let default = form(&server, &editor, "/statistics/land/01?unit=01");
    assert!(default["header"].as_str().unwrap().starts_with("(Đến ngày 31/12/"));
    assert!(values(row(&default, "TOTAL")).iter().all(|v| *v == 0.0));
    // ... and the form says so, with the day the data begin.
    let notice = &default["notes"][0];
    assert!(notice["en"].as_str().unwrap().starts_with("No data at this instant"), "{notice}");
    assert!(notice["dataSince"].as_str().is_some_and(|t| t > "2026"), "{notice}");
    let page = server.get_with("/statistics/land/01?unit=01&f=html", &[key_header]).text();
    assert!(page.contains("class=\"notice\"") && page.contains("Chưa có dữ liệu tại thời điểm này"));
    assert!(form(&server, &editor, &format!("/statistics/land/01?unit=01&date={}", encode(&t1)))["notes"][0]
        .get("dataSince")
        .is_none());
    let _ = std::fs::remove_file(&policy);
}
