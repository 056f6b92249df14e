//! `geosector import land.parties | land.certificates | land.parcel_rights`: the synthetic samples
//! load with their counts and their codes resolved to ids; bad rows (CCCD and CMND numbers,
//! dates in the future, rights naming a missing parcel, party or certificate) are rejected with
//! findings naming the feature and the field, an ID number is never shown whole, and a rejected
//! or failed import leaves the stored rows exactly as they were.

use std::path::Path;

use crate::support::{Run, TestDb};

const PARCELS: &str = "data-samples/land/parcels_soc_son.fgb";
const PARTIES: &str = "data-samples/land/parties.csv";
const CERTIFICATES: &str = "data-samples/land/certificates.csv";
const RIGHTS: &str = "data-samples/land/parcel_rights.csv";

/// Every ID number of the parties sample, read from the file.
fn sample_id_numbers() -> Vec<String> {
    let text = std::fs::read_to_string(crate::support::repo().join(PARTIES)).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = header.iter().position(|h| *h == "soGiayTo").unwrap();
    let numbers: Vec<String> =
        lines.filter_map(|l| l.split(',').nth(column)).filter(|n| !n.is_empty()).map(str::to_owned).collect();
    assert!(numbers.len() >= 9, "{numbers:?}");
    numbers
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

fn assert_ok(run: &Run) {
    assert_eq!(run.code, Some(0), "{}", run.text());
}

/// Loads the parcels and the three restricted samples.
async fn load_samples(db: &TestDb) {
    for (dataset, file) in [
        ("land.parcels", PARCELS),
        ("land.parties", PARTIES),
        ("land.certificates", CERTIFICATES),
        ("land.parcel_rights", RIGHTS),
    ] {
        let run = db.geosector(&["import", dataset, file]);
        assert_ok(&run);
    }
}

/// A digest of every stored restricted row, ids included.
async fn restricted_digest(db: &TestDb) -> String {
    let client = db.client().await;
    let mut out = String::new();
    for table in ["parties", "certificates", "parcel_rights"] {
        let row = client
            .query_one(
                &format!(
                    "SELECT count(*)::text || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t.id)), '')
                     FROM land_restricted.{table} t"
                ),
                &[],
            )
            .await
            .unwrap();
        out.push_str(&row.get::<_, String>(0));
        out.push(';');
    }
    out
}

/// What a rejected run printed and reported, with no full ID number anywhere in it.
fn rejected(run: &Run, report: &Path, numbers: &[&str]) -> String {
    assert_eq!(run.code, Some(1), "{}", run.text());
    let json = std::fs::read_to_string(report).unwrap();
    let all = format!("{}\n{json}", run.text());
    for n in numbers {
        assert!(!all.contains(n), "the ID number {n} is shown whole:\n{all}");
    }
    all
}

#[tokio::test]
async fn personal_samples_load_with_their_counts_and_codes_resolved() {
    let Some(db) = TestDb::migrated().await else { return };
    let datasets = db.geosector(&["datasets"]);
    for id in ["land.parties", "land.certificates", "land.parcel_rights", "land.party_id_number"] {
        assert!(datasets.stdout.contains(id), "{id}: {}", datasets.text());
    }
    let run = db.geosector(&["import", "land.parcels", PARCELS]);
    assert_ok(&run);
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("parties.json");
    let run = db.geosector(&["import", "land.parties", PARTIES, "--report", report.to_str().unwrap()]);
    assert_ok(&run);
    assert!(run.stdout.contains("13 rows written"), "{}", run.text());
    let shown = format!("{}{}", run.text(), std::fs::read_to_string(&report).unwrap());
    for n in sample_id_numbers() {
        assert!(!shown.contains(&n), "{n} in the report");
    }
    for (dataset, file, rows) in [("land.certificates", CERTIFICATES, 10), ("land.parcel_rights", RIGHTS, 17)] {
        let run = db.geosector(&["import", dataset, file]);
        assert_ok(&run);
        assert!(run.stdout.contains(&format!("{rows} rows written")), "{}", run.text());
    }
    assert_eq!(db.count("land_restricted.parties").await, 13);
    assert_eq!(db.count("land_restricted.certificates").await, 10);
    assert_eq!(db.count("land_restricted.parcel_rights").await, 17);

    let client = db.client().await;
    let row = client
        .query_one(
            "SELECT count(*) FILTER (WHERE p.party_code = r.party_code),
                    count(*) FILTER (WHERE c.certificate_code = r.certificate_code),
                    count(*) FILTER (WHERE r.certificate_code IS NULL AND r.certificate_id IS NULL)
             FROM land_restricted.parcel_rights r
             JOIN land_restricted.parties p ON p.id = r.party_id
             LEFT JOIN land_restricted.certificates c ON c.id = r.certificate_id",
            &[],
        )
        .await
        .unwrap();
    assert_eq!((row.get::<_, i64>(0), row.get::<_, i64>(1), row.get::<_, i64>(2)), (17, 16, 1));
    let row = client
        .query_one(
            "SELECT full_name, id_type, length(id_number), full_name = normalize(full_name, NFC), birth_date::text
             FROM land_restricted.parties WHERE party_code = 'CN-0002'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "Trần Thị Bích Ngọc");
    assert_eq!(row.get::<_, String>(1), "cccd");
    assert_eq!(row.get::<_, i32>(2), 12);
    assert!(row.get::<_, bool>(3));
    assert_eq!(row.get::<_, String>(4), "1972-11-02");
    let cmnd: i64 = client
        .query_one("SELECT count(*) FROM land_restricted.parties WHERE id_type = 'cmnd'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(cmnd, 2);

    // Replacing the parties gives them new ids; the rights follow them by code.
    let before: Vec<i64> = client
        .query("SELECT party_id FROM land_restricted.parcel_rights ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let run = db.geosector(&["import", "land.parties", PARTIES, "--replace"]);
    assert_ok(&run);
    assert!(run.stdout.contains("13 previous rows replaced"), "{}", run.text());
    let after: Vec<(i64, bool)> = client
        .query(
            "SELECT r.party_id, p.party_code = r.party_code FROM land_restricted.parcel_rights r
             JOIN land_restricted.parties p ON p.id = r.party_id ORDER BY r.id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(after.len(), 17);
    assert!(after.iter().all(|(_, same)| *same));
    assert!(after.iter().zip(&before).all(|((new, _), old)| new != old), "new ids after a replace");
    for (dataset, file) in [("land.certificates", CERTIFICATES), ("land.parcel_rights", RIGHTS)] {
        let run = db.geosector(&["import", dataset, file, "--replace"]);
        assert_ok(&run);
    }
    assert_eq!(db.count("land_restricted.certificates").await, 10);
    assert_eq!(db.count("land_restricted.parcel_rights").await, 17);
    // A plain re-import of parties updates them in place (party_code is the conflict key).
    let run = db.geosector(&["import", "land.parties", PARTIES]);
    assert_ok(&run);
    assert_eq!(db.count("land_restricted.parties").await, 13);

    // GeoJSON features without geometry load as well, with the standard's names.
    let geojson = write(
        dir.path(),
        "party.geojson",
        r#"{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": null, "properties":
            {"caNhanId": "CN-0100", "loaiChu": "Individual", "ten": "Đỗ Thị Mai", "cccd": "001190123456", "ngaySinh": "05/04/1990"}}]}"#,
    );
    let run = db.geosector(&["import", "land.parties", &geojson]);
    assert_ok(&run);
    let row = client
        .query_one(
            "SELECT party_type, id_type, birth_date::text FROM land_restricted.parties WHERE party_code = 'CN-0100'",
            &[],
        )
        .await
        .unwrap();
    let got: (String, String, String) = (row.get(0), row.get(1), row.get(2));
    assert_eq!(got, ("individual".into(), "cccd".into(), "1990-04-05".into()), "normalised, type from the number");
}

#[tokio::test]
async fn personal_bad_rows_are_rejected_naming_feature_and_field_and_nothing_changes() {
    let Some(db) = TestDb::migrated().await else { return };
    load_samples(&db).await;
    let stored = restricted_digest(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let report_arg = report.to_str().unwrap();

    // Parties: a CCCD of 11 digits, one with a letter, a CMND of 10 digits, an unknown id_type,
    // a birth date in the future; one good row.
    let parties = write(
        dir.path(),
        "parties_bad.csv",
        "party_code,party_type,ten,id_type,cccd,ngaySinh\n\
         X-1,individual,Nguyễn Văn An,cccd,00106819006,1968-03-14\n\
         X-2,individual,Trần Thị Bích Ngọc,cccd,00117212878A,1972-11-02\n\
         X-3,individual,Lê Văn Cường,cmnd,0175300421,1955-07-21\n\
         X-4,person,Phạm Thị Dung,cccd,001181350811,1981-01-30\n\
         X-5,individual,Hoàng Minh Đức,cccd,001090251130,2999-01-01\n\
         X-6,individual,Vũ Thị Hương,cccd,001163208751,1963-05-17\n",
    );
    let run = db.geosector(&["import", "land.parties", &parties, "--replace", "--report", report_arg]);
    let numbers = ["00106819006", "00117212878A", "0175300421", "001181350811", "001090251130", "001163208751"];
    let all = rejected(&run, &report, &numbers);
    assert!(run.stdout.contains("5 of 6 features have errors"), "{}", run.text());
    for (line, field, needle) in [
        (2, "id_number", "a CCCD number has exactly 12 digits: 001*****006 has 11 digits"),
        (3, "id_number", "0011****878A has 12 characters, not all digits"),
        (4, "id_number", "a CMND number has exactly 9 digits: 017****421 has 10 digits"),
        (5, "party_type", "\"person\" is not a party type"),
        (6, "birth_date", "the birth date 2999-01-01 is in the future"),
    ] {
        let expected = format!("parties_bad.csv line {line}, {field}: ");
        assert!(run.stdout.contains(&expected), "{expected}\n{}", run.text());
        assert!(all.contains(needle), "{needle}\n{all}");
    }
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let rule = json["rules"].as_array().unwrap().iter().find(|r| r["id"] == "land.party_id_number").unwrap();
    assert_eq!(rule["rejected"], 3, "{rule}");
    let example = &rule["examples"][0];
    assert_eq!((example["feature_index"].as_u64(), example["field"].as_str()), (Some(2), Some("id_number")));
    assert_eq!(example["key"], "X-1");
    assert_eq!(restricted_digest(&db).await, stored, "a rejected import changes nothing");

    // Certificates: an issue date in the future.
    let certificates = write(
        dir.path(),
        "certificates_bad.csv",
        "certificate_code,seri,soVaoSo,ngayCapGcn\nGCN-X-1,CS 000001,CS09999,2019-05-07\nGCN-X-2,CS 000002,CS09998,2999-12-31\n",
    );
    let run = db.geosector(&["import", "land.certificates", &certificates, "--replace", "--report", report_arg]);
    let all = rejected(&run, &report, &[]);
    assert!(run.stdout.contains("certificates_bad.csv line 3, issued_on: "), "{}", run.text());
    assert!(all.contains("the issue date 2999-12-31 is in the future"), "{all}");
    assert_eq!(restricted_digest(&db).await, stored);

    // Rights: a missing parcel key, a missing party, a missing certificate, a share of 0; one good.
    let rights = write(
        dir.path(),
        "rights_bad.csv",
        "maXa,soHieuToBanDo,soThuTuThua,party_code,certificate_code,share\n\
         00376,1,1,CN-0001,GCN-00376-0001,0.5\n\
         00376,1,99999,CN-0001,,1\n\
         00376,1,1,CN-9999,,1\n\
         00376,1,1,CN-0001,GCN-00376-9999,1\n\
         00376,1,1,CN-0002,,0\n",
    );
    let run = db.geosector(&["import", "land.parcel_rights", &rights, "--replace", "--report", report_arg]);
    let all = rejected(&run, &report, &[]);
    assert!(run.stdout.contains("4 of 5 features have errors"), "{}", run.text());
    for (line, field, needle) in [
        (3, "parcel_number", "parcel 00376/1/99999 (commune/sheet/parcel) is not in land.parcels"),
        (4, "party_code", "party CN-9999 is not in land_restricted.parties"),
        (5, "certificate_code", "certificate GCN-00376-9999 is not in land_restricted.certificates"),
        (6, "share", "share 0 is not in (0, 1]"),
    ] {
        let expected = format!("rights_bad.csv line {line}, {field}: ");
        assert!(run.stdout.contains(&expected), "{expected}\n{}", run.text());
        assert!(all.contains(needle), "{needle}\n{all}");
    }
    assert_eq!(restricted_digest(&db).await, stored);

    // `validate` says the same and writes nothing either.
    let run = db.geosector(&["validate", "land.parcel_rights", &rights]);
    assert_eq!(run.code, Some(1), "{}", run.text());
    assert!(run.stdout.contains("party CN-9999"), "{}", run.text());

    // With the rule turned off, the table's CHECK refuses the number (exit 2), and the
    // database's "Failing row contains (…)" is not passed on.
    let rules = write(dir.path(), "rules.toml", "[land.parties]\n\"land.party_id_number\" = \"off\"\n");
    let short = write(
        dir.path(),
        "party_short.csv",
        "party_code,party_type,ten,id_type,cccd\nX-1,individual,An,cccd,00106819006\n",
    );
    let run = db.geosector(&["import", "land.parties", &short, "--rules", &rules]);
    assert_eq!(run.code, Some(2), "{}", run.text());
    assert!(run.text().contains("the refused row is not shown"), "{}", run.text());
    assert!(!run.text().contains("00106819006"), "{}", run.text());
    assert_eq!(restricted_digest(&db).await, stored);

    // Replacing the parties without one that rights name fails (exit 2), naming the code, and
    // keeps everything as it was.
    let text = std::fs::read_to_string(crate::support::repo().join(PARTIES)).unwrap();
    let without: String = text.lines().filter(|l| !l.starts_with("CN-0007,")).map(|l| format!("{l}\n")).collect();
    let fewer = write(dir.path(), "parties_fewer.csv", &without);
    let run = db.geosector(&["import", "land.parties", &fewer, "--replace"]);
    assert_eq!(run.code, Some(2), "{}", run.text());
    assert!(run.text().contains("1 parcel rights name parties this load removes (CN-0007)"), "{}", run.text());
    for n in sample_id_numbers() {
        assert!(!run.text().contains(&n), "{n} shown");
    }
    assert_eq!(restricted_digest(&db).await, stored, "a failed import changes nothing");
}
