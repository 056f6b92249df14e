//! Monitoring end to end: station files and CSV samples in, observations normalised, VN_AQI and
//! VN_WQI computed in the import's transaction and served; the hand-worked examples of
//! `crates/environment` checked through the database; malformed input reported by file, line
//! and field; re-import idempotence; the plans of the two common observation queries.

use std::path::Path;

use crate::support::{Server, TestDb};

const STATIONS: &str = "data-samples/environment/stations.geojson";
const OBSERVATIONS: &str = "data-samples/environment/observations";
const CAMPAIGN: &str = "data-samples/environment/campaign_2026_10.csv";

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

/// Two test stations (one air, one water) as GeoJSON.
fn test_stations(dir: &Path) -> String {
    write(
        dir,
        "stations.geojson",
        r#"{"type": "FeatureCollection", "features": [
          {"type": "Feature", "properties": {"maTram": "T_KK", "tenTram": "Test air", "moiTruong": "air", "phuongThuc": "automatic"},
           "geometry": {"type": "Point", "coordinates": [105.85, 21.03]}},
          {"type": "Feature", "properties": {"maTram": "T_NM", "tenTram": "Test water", "moiTruong": "surface_water", "phuongThuc": "manual"},
           "geometry": {"type": "Point", "coordinates": [105.80, 21.00]}}]}"#,
    )
}

/// A TT 10/2021 file: `lines` as (parameter, value, unit), one time and status.
fn station_file(dir: &Path, station: &str, time: &str, status: &str, lines: &[(&str, &str, &str)]) -> String {
    let text: String =
        lines.iter().map(|(p, v, u)| format!("{p}\t{v}\t{u}\t{time}\t{status}\r\n")).collect::<Vec<_>>().concat();
    write(dir, &format!("{station}/{station}_{time}.txt"), &text)
}

async fn hourly(db: &TestDb, station: &str, local: &str) -> Option<(i32, String, String, String)> {
    db.client()
        .await
        .query_opt(
            "SELECT aqi, dominant, level, colour FROM environment.aqi_hourly
             WHERE station_code = $1 AND observed_at = $2::text::timestamptz",
            &[&station, &local],
        )
        .await
        .unwrap()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
}

#[tokio::test]
async fn hand_worked_aqi_and_wqi_through_the_database() {
    let Some(db) = TestDb::migrated().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let run = db.geosector(&["import", "environment.stations", &test_stations(dir.path())]);
    assert_eq!(run.code, Some(0), "{}", run.text());

    let feed = dir.path().join("feed");
    // 09:00 is calibration (status 01): PM2,5 500 must not enter any NowCast.
    station_file(&feed, "T_KK", "20261102090000", "01", &[("PM2,5", "500", "ug/Nm3")]);
    // PM2.5 30, 40, 50 µg/m³ at 10:00, 11:00, 12:00 (local); NO2 0.25 mg/Nm3 = 250 µg/m³ at 12:00;
    // CO 1.0 mg/Nm3 = 1000 µg/m³ → sub-index 50/10000 × 1000 = 5.
    station_file(&feed, "T_KK", "20261102100000", "00", &[("PM2,5", "30", "ug/Nm3")]);
    station_file(&feed, "T_KK", "20261102110000", "00", &[("PM2,5", "40", "µg/Nm3")]);
    station_file(
        &feed,
        "T_KK",
        "20261102120000",
        "00",
        &[("PM2,5", "50", "µg/m3"), ("NO2", "0.25", "mg/Nm3"), ("CO", "1.0", "mg/Nm3")],
    );
    let run = db.geosector(&["import", "environment.observations", feed.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{}", run.text());

    // 10:00: PM2.5 NowCast needs 2 of the 3 recent hours (10, 9, 8): only 10:00 is valid
    // (09:00 is calibration) → no AQI.
    assert_eq!(hourly(&db, "T_KK", "2026-11-02 10:00+07").await, None);
    // 11:00: hours 40, 30 → w* = 30/40 = 0.75; (40 + 0.75·30) / 1.75 = 35.714 µg/m³;
    // sub-index (100 − 50)/(50 − 25) × (35.714 − 25) + 50 = 71.43 → 71, Trung bình, yellow.
    assert_eq!(
        hourly(&db, "T_KK", "2026-11-02 11:00+07").await,
        Some((71, "PM2.5".into(), "Trung bình".into(), "#ffff00".into()))
    );
    // 12:00: PM2.5 NowCast (50 + 0.6·40 + 0.36·30)/1.96 = 43.265 → 86.53; NO2 250 in
    // [200, 700] ↦ [100, 150]: 50/500 × 50 + 100 = 105 → AQI 105 (NO2), Kém, orange.
    assert_eq!(
        hourly(&db, "T_KK", "2026-11-02 12:00+07").await,
        Some((105, "NO2".into(), "Kém".into(), "#ff7e00".into()))
    );
    // 13:00: no file, but 2 of the 3 recent hours (12, 11) → NowCast (0.6·50 + 0.36·40 +
    // 0.216·30)/1.176 = 43.265 → 87 (PM2.5 only: gases need their own hour).
    assert_eq!(hourly(&db, "T_KK", "2026-11-02 13:00+07").await.map(|v| v.0), Some(87));
    // 14:00: only 12:00 among 14, 13, 12 → too few hours → no AQI.
    assert_eq!(hourly(&db, "T_KK", "2026-11-02 14:00+07").await, None);
    let client = db.client().await;
    let (pm, unit, co): (String, String, f64) = client
        .query_one(
            "SELECT min(parameter), min(unit), max(value) FILTER (WHERE parameter = 'CO') FROM environment.observations
             WHERE parameter IN ('PM2.5', 'CO')",
            &[],
        )
        .await
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .unwrap();
    assert_eq!((pm.as_str(), unit.as_str(), co), ("CO", "µg/m³", 1000.0), "symbols and units normalised");
    // The station shows its latest AQI (13:00, 87) with level and colour.
    let row = client
        .query_one("SELECT aqi, aqi_level, aqi_colour, aqi_at = '2026-11-02 13:00+07' FROM environment.stations WHERE station_code = 'T_KK'", &[])
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, i32>(0), row.get::<_, String>(1), row.get::<_, String>(2)),
        (87, "Trung bình".into(), "#ffff00".into())
    );
    assert!(row.get::<_, bool>(3));
    // No daily AQI: 3 valid PM hours are fewer than the 18 a 24-hour mean needs.
    assert_eq!(db.count("environment.aqi_daily").await, 0);

    // A late file for 11:00 re-sent as calibration: 11:00 loses its value, and the NowCasts
    // after it are recomputed (12:00 from 50 and 30: w* = 0.6, (50 + 0.36·30)/1.36 = 44.71 →
    // 89.4; NO2 still dominates with 105).
    station_file(&feed, "T_KK", "20261102110000", "01", &[("PM2,5", "40", "µg/Nm3")]);
    let run = db.geosector(&[
        "import",
        "environment.observations",
        feed.join("T_KK/T_KK_20261102110000.txt").to_str().unwrap(),
    ]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert_eq!(hourly(&db, "T_KK", "2026-11-02 11:00+07").await, None, "11:00 has 1 of 3 recent hours now");
    assert_eq!(hourly(&db, "T_KK", "2026-11-02 12:00+07").await.map(|v| v.0), Some(105));
    // 13:00: of hours 13, 12, 11 only 12 is valid now → too few hours → its AQI is removed,
    // and the station's latest AQI is 12:00's.
    assert_eq!(hourly(&db, "T_KK", "2026-11-02 13:00+07").await, None);
    let latest: i32 =
        client.query_one("SELECT aqi FROM environment.stations WHERE station_code = 'T_KK'", &[]).await.unwrap().get(0);
    assert_eq!(latest, 105);

    // VN_WQI, the hand-worked sample of crates/environment/src/wqi.rs as a manual CSV:
    // pH 7 → 100; DO 6 mg/L at 25 °C = 73.39 % → 73.39; BOD5 5 → 87.5; COD 12 → 90; N-NH4 0.3 →
    // 66.67; P-PO4 0.1 → 100; WQI_IV = 83.51; Coliform 3000 → 95;
    // WQI = 1 × (83.51² × 95)^(1/3) = 87.18 → 87, "Tốt", green.
    let csv = write(
        dir.path(),
        "campaign.csv",
        "station,parameter,value,unit,sampled_at\n\
         T_NM,pH,7.0,,2026-11-03 09:30\nT_NM,Temp,25,°C,2026-11-03 09:30\nT_NM,DO,6.0,mg/L,2026-11-03 09:30\n\
         T_NM,BOD5,5,mg/L,2026-11-03 09:30\nT_NM,COD,12,mg/L,2026-11-03 09:30\nT_NM,NH4,0.3,mg/L,2026-11-03 09:30\n\
         T_NM,PO4,100,µg/L,2026-11-03 09:30\nT_NM,Coliform,3000,MPN/100mL,2026-11-03 09:30\n\
         T_NM,pH,7.2,,2026-11-10 09:30\nT_NM,BOD5,5,mg/L,2026-11-10 09:30\nT_NM,COD,12,mg/L,2026-11-10 09:30\n",
    );
    let run = db.geosector(&["import", "environment.observations", &csv]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let rows = client
        .query("SELECT wqi, level, colour, round(wqi_iv::numeric, 1)::float8 FROM environment.wqi WHERE station_code = 'T_NM'", &[])
        .await
        .unwrap();
    // The 10 November sample has only 2 group-IV parameters and 2 groups: no WQI.
    assert_eq!(rows.len(), 1, "one sample meets the minimum-data rules");
    assert_eq!(rows[0].get::<_, i32>(0), 87);
    assert_eq!((rows[0].get::<_, String>(1), rows[0].get::<_, String>(2)), ("Tốt".into(), "#00e400".into()));
    assert_eq!(rows[0].get::<_, f64>(3), 83.5);
    let wqi: i32 =
        client.query_one("SELECT wqi FROM environment.stations WHERE station_code = 'T_NM'", &[]).await.unwrap().get(0);
    assert_eq!(wqi, 87);
}

#[tokio::test]
async fn an_index_config_file_overrides_the_breakpoints() {
    let Some(db) = TestDb::migrated().await else { return };
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(db.geosector(&["import", "environment.stations", &test_stations(dir.path())]).code, Some(0));
    let feed = dir.path().join("feed");
    station_file(&feed, "T_KK", "20261102100000", "00", &[("PM10", "100", "ug/m3")]);
    // A stricter NowCast (all 3 recent hours) and an unconfirmed PM10 row moved.
    let config = write(
        dir.path(),
        "indices.toml",
        "[aqi]\nnowcast_min_recent = 1\npm10 = [0, 100, 150, 250, 350, 420, 500, 600]\n",
    );
    let run = db.geosector(&["import", "environment.observations", feed.to_str().unwrap(), "--index-config", &config]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    // PM10 100 on [0, 100] ↦ [0, 50] → 50 (with the default row it would be 75).
    assert_eq!(hourly(&db, "T_KK", "2026-11-02 10:00+07").await.map(|v| v.0), Some(50));
    let bad = write(dir.path(), "bad.toml", "[aqi]\nnowcast_minimum = 1\n");
    let run = db.geosector(&["import", "environment.observations", feed.to_str().unwrap(), "--index-config", &bad]);
    assert_eq!(run.code, Some(2), "{}", run.text());
    assert!(run.stderr.contains("bad.toml") && run.stderr.contains("nowcast_minimum"), "{}", run.text());
}

#[tokio::test]
async fn malformed_files_and_lines_are_reported_by_file_line_and_field() {
    let Some(db) = TestDb::migrated().await else { return };
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(db.geosector(&["import", "environment.stations", &test_stations(dir.path())]).code, Some(0));
    let feed = dir.path().join("feed");
    let good =
        station_file(&feed, "T_KK", "20261102100000", "00", &[("PM2,5", "30", "ug/Nm3"), ("PM10", "50", "ug/Nm3")]);
    let lines = station_file(
        &feed,
        "T_KK",
        "20261102110000",
        "00",
        &[
            ("PM2,5", "31", "ug/Nm3"),
            ("PM10", "abc", "ug/Nm3"),
            ("XYZ", "1", "ug/m3"),
            ("PM10", "5", "mg/L"),
            ("SO2", "-3", "ug/m3"),
        ],
    );
    let mut text = std::fs::read_to_string(&lines).unwrap();
    text.push_str(
        "CO 900 ug/m3 20261102110000 00\r\nO3\t20\tug/m3\t20261102180000\t00\r\nO3\t20\tug/m3\t20261102110000\t09\r\n",
    );
    std::fs::write(&lines, text).unwrap();
    station_file(&feed, "NOPE", "20261102100000", "00", &[("PM10", "50", "ug/m3")]);
    let future = chrono_free_future();
    station_file(&feed, "T_KK", &future, "00", &[("PM10", "50", "ug/m3")]);
    write(&feed, "T_KK/T_KK_2026110210.txt", "PM10\t50\tug/m3\t20261102100000\t00\r\n");
    write(&feed, "T_KK/T_KK_20261102130000.txt", "");
    std::fs::write(feed.join("T_KK/T_KK_20261102140000.txt"), [0u8, 159, 146, 150, 0, 1]).unwrap();
    let feed_arg = feed.to_str().unwrap();

    // Strict (the default): nothing stored, every bad line named.
    let run = db.geosector(&["import", "environment.observations", &good, &lines]);
    assert_eq!(run.code, Some(1), "{}", run.text());
    assert_eq!(db.count("environment.observations").await, 0);
    for expected in [
        "T_KK_20261102110000.txt line 2, value: ",
        "T_KK_20261102110000.txt line 3, parameter: unknown parameter \"XYZ\"",
        "T_KK_20261102110000.txt line 4, unit: unit \"mg/L\" does not fit \"PM10\"",
        "T_KK_20261102110000.txt line 5, value: -3 is negative",
        "T_KK_20261102110000.txt line 6: expected 5 tab-separated columns",
        "T_KK_20261102110000.txt line 7, observed_at: 2026-11-02 18:00:00 is more than an hour from the file name's time",
        "T_KK_20261102110000.txt line 8: status must be 00, 01 or 02",
    ] {
        assert!(run.stdout.contains(expected), "missing {expected:?} in\n{}", run.text());
    }
    // A bad file name stops a strict import before anything is read.
    let run = db.geosector(&["import", "environment.observations", feed_arg]);
    assert_eq!(run.code, Some(2), "{}", run.text());
    assert!(run.stderr.contains("T_KK_2026110210.txt: a station file must be named"), "{}", run.text());

    // --skip-rejected: the good lines are stored, the bad ones and the bad files reported.
    let run = db.geosector(&[
        "import",
        "environment.observations",
        feed_arg,
        "--skip-rejected",
        "--report",
        dir.path().join("r.json").to_str().unwrap(),
    ]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    for expected in [
        "partly accepted: 3 rows written",
        "NOPE_20261102100000.txt line 1, station_code: station \"NOPE\" is not in environment.stations",
        "line 1, observed_at: ",
        "T_KK_2026110210.txt feature 0: file rejected: a station file must be named",
        "T_KK_20261102130000.txt feature 0: file rejected: no measurement lines",
        "T_KK_20261102140000.txt feature 0: file rejected: line 1: binary content",
    ] {
        assert!(run.stdout.contains(expected), "missing {expected:?} in\n{}", run.text());
    }
    assert!(run.stdout.contains("is in the future"), "{}", run.text());
    assert_eq!(db.count("environment.observations").await, 3, "PM2.5 and PM10 at 10:00, PM2.5 at 11:00");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    assert_eq!(report["outcome"], "partial");
    assert_eq!(report["files_rejected"], 3);
    assert_eq!(report["rejected"], 12, "1 unknown station + 7 bad lines + 1 future + 3 files: {report}");
}

/// Tomorrow as YYYYMMDDhhmmss (UTC+7), without a date library in the tests.
fn chrono_free_future() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 2 * 86400;
    let days = (secs + 7 * 3600) / 86400;
    // Civil from days (H. Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}{m:02}{d:02}100000")
}

/// A fingerprint of every computed index, to compare two imports.
async fn indices_fingerprint(db: &TestDb) -> (i64, i64, i64, String) {
    let client = db.client().await;
    let row = client
        .query_one(
            "SELECT (SELECT count(*) FROM environment.aqi_hourly), (SELECT count(*) FROM environment.aqi_daily),
                    (SELECT count(*) FROM environment.wqi),
                    md5((SELECT string_agg(concat_ws(',', station_code, observed_at, aqi, dominant, si_pm25, si_no2), ';' ORDER BY station_code, observed_at) FROM environment.aqi_hourly)
                     || (SELECT string_agg(concat_ws(',', station_code, day, aqi), ';' ORDER BY station_code, day) FROM environment.aqi_daily)
                     || (SELECT coalesce(string_agg(concat_ws(',', station_code, observed_at, wqi), ';' ORDER BY station_code, observed_at), '') FROM environment.wqi)
                     || (SELECT string_agg(concat_ws(',', station_code, aqi, aqi_at, wqi), ';' ORDER BY station_code) FROM environment.stations))",
            &[],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1), row.get(2), row.get(3))
}

#[tokio::test]
async fn a_month_of_samples_loads_and_reimport_is_idempotent() {
    let Some(db) = TestDb::migrated().await else { return };
    assert_eq!(db.geosector(&["import", "environment.stations", STATIONS]).code, Some(0));
    // The samples hold malformed files: a strict import stores nothing.
    let run = db.geosector(&["import", "environment.observations", OBSERVATIONS]);
    assert_eq!(run.code, Some(2), "{}", run.text());
    assert_eq!(db.count("environment.observations").await, 0);

    let run = db.geosector(&["import", "environment.observations", OBSERVATIONS, CAMPAIGN, "--skip-rejected"]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    // 16 air stations × 720 hours, less 6 (gap) + 48 (outage) files, less 2 replaced by bad
    // files, × 6 lines, + 2 good lines of the bad file; 4 water stations × 720 × 6; 8 sites ×
    // 4 weeks × 12 parameters in the campaign.
    let expected: i64 = (16 * 720 - 6 - 48 - 2) * 6 + 2 + 4 * 720 * 6 + 8 * 4 * 12;
    assert!(run.stdout.contains(&format!("{expected} rows written")), "{}", run.text());
    for bad in [
        "HN_KK_HangDau_20261105100000.txt line 2: expected 5 tab-separated columns",
        "HN_KK_HangDau_20261105100000.txt line 3, value: ",
        "BN_KK_TuSon_202611011000.txt feature 0: file rejected",
        "HN_KK_SocSon_20261110140000.txt feature 0: file rejected: no measurement lines",
    ] {
        assert!(run.stdout.contains(bad), "missing {bad:?}:\n{}", run.text());
    }
    assert_eq!(db.count("environment.observations").await, expected);
    let client = db.client().await;
    let row = client
        .query_one(
            "SELECT count(*) FILTER (WHERE status = '01'), count(*) FILTER (WHERE status = '02'),
                    count(*) FILTER (WHERE parameter = 'PM2,5'), count(*) FILTER (WHERE parameter = 'PM2.5'),
                    (SELECT count(*) FROM environment.observations_default),
                    (SELECT count(*) FROM environment.observations_2026_10) > 0 AND (SELECT count(*) FROM environment.observations_2026_11) > 0
             FROM environment.observations",
            &[],
        )
        .await
        .unwrap();
    assert!(row.get::<_, i64>(0) > 0 && row.get::<_, i64>(1) > 0, "calibration and error rows are stored");
    assert_eq!(row.get::<_, i64>(2), 0, "PM2,5 is normalised");
    assert!(row.get::<_, i64>(3) > 0);
    assert_eq!(row.get::<_, i64>(4), 0, "monthly partitions exist before rows arrive");
    assert!(row.get::<_, bool>(5), "a month across two partitions");
    // Status 01/02 hours never carry an AQI computed from their values: the device-error hours
    // of HN_KK_ThanhCong (20-21 Oct 00:00-03:00 local: hours 120-123) have PM from earlier
    // hours only; every air station has a latest AQI; automatic water stations have too few
    // groups for a WQI, the 8 manual sites have one.
    let row = client
        .query_one(
            "SELECT (SELECT count(*) FROM environment.stations WHERE medium = 'air' AND aqi IS NOT NULL),
                    (SELECT count(*) FROM environment.stations WHERE wqi IS NOT NULL),
                    (SELECT count(*) FROM environment.wqi),
                    (SELECT count(DISTINCT station_code) FROM environment.aqi_daily)",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 16);
    assert_eq!(row.get::<_, i64>(1), 8);
    assert_eq!(row.get::<_, i64>(2), 32);
    assert_eq!(row.get::<_, i64>(3), 16);
    // The hourly AQI of a device-error hour with too few valid recent hours is absent:
    // 20 Oct 02:00 (hours 122, 121, 120 all status 02).
    assert_eq!(hourly(&db, "HN_KK_ThanhCong", "2026-10-21 02:00+07").await, None);

    let before = indices_fingerprint(&db).await;
    assert!(before.0 > 16 * 600, "hourly AQI for most station-hours: {before:?}");
    let run = db.geosector(&["import", "environment.observations", OBSERVATIONS, CAMPAIGN, "--skip-rejected"]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert_eq!(db.count("environment.observations").await, expected, "re-sending upserts");
    assert_eq!(indices_fingerprint(&db).await, before, "same AQI and WQI after the same import");
}

#[tokio::test]
async fn observation_queries_use_the_indexes_and_prune_partitions() {
    let Some(db) = TestDb::migrated().await else { return };
    let client = db.client().await;
    // 60 stations × 4 parameters × hourly for three months (~520,000 rows).
    client
        .batch_execute(
            "SELECT environment.ensure_observation_partitions('2026-08-01', '2026-10-31');
             INSERT INTO environment.observations (station_code, parameter, value, unit, observed_at, status)
             SELECT 'S' || s, p, random() * 100, 'µg/m³', t, '00'
             FROM generate_series(1, 60) AS s, unnest(ARRAY['PM2.5', 'PM10', 'NO2', 'O3']) AS p,
                  generate_series('2026-08-01 00:00+00'::timestamptz, '2026-10-31 23:00+00', '1 hour') AS t;
             ANALYZE environment.observations;",
        )
        .await
        .unwrap();
    let plan = |sql: &'static str| {
        let client = &client;
        async move {
            client
                .query(&format!("EXPLAIN {sql}"), &[])
                .await
                .unwrap()
                .iter()
                .map(|r| r.get::<_, String>(0))
                .collect::<Vec<_>>()
                .join("\n")
        }
    };
    // One station, one parameter, a week: the primary key, in the one partition of the week.
    let p = plan(
        "SELECT observed_at, value FROM environment.observations
         WHERE station_code = 'S7' AND parameter = 'PM2.5' AND observed_at >= '2026-09-10' AND observed_at < '2026-09-17'",
    )
    .await;
    assert!(p.contains("observations_2026_09_pkey"), "{p}");
    assert!(!p.contains("observations_2026_08") && !p.contains("observations_2026_10"), "pruned: {p}");
    assert!(!p.contains("Seq Scan"), "{p}");
    // All stations, one hour: the observed_at index of that month only.
    let p = plan(
        "SELECT station_code, parameter, value FROM environment.observations WHERE observed_at = '2026-10-05 08:00+00'",
    )
    .await;
    assert!(p.contains("observations_2026_10_observed_at_idx"), "{p}");
    assert!(!p.contains("observations_2026_09") && !p.contains("observations_2026_08"), "pruned: {p}");
    assert!(!p.contains("Seq Scan"), "{p}");
}

#[tokio::test]
async fn indices_are_served_as_collections_time_series_and_tiles() {
    let Some(db) = TestDb::migrated().await else { return };
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(db.geosector(&["import", "environment.stations", &test_stations(dir.path())]).code, Some(0));
    let feed = dir.path().join("feed");
    for (hour, pm) in [("10", "30"), ("11", "40"), ("12", "50")] {
        station_file(
            &feed,
            "T_KK",
            &format!("202611021{}0000", &hour[1..]),
            "00",
            &[("PM2,5", pm, "ug/Nm3"), ("PM10", "60", "ug/Nm3")],
        );
    }
    let run = db.geosector(&["import", "environment.observations", feed.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let server = Server::start(&db, &[]);

    let obs = server
        .get("/collections/environment.observations/items?station_code=T_KK&parameter=PM2.5&datetime=2026-11-02T04:00:00Z/2026-11-02T05:30:00Z")
        .json();
    let values: Vec<f64> =
        obs["features"].as_array().unwrap().iter().map(|f| f["properties"]["value"].as_f64().unwrap()).collect();
    assert_eq!(values, [40.0, 50.0], "11:00 and 12:00 local: {obs}");
    let aqi = server.get("/collections/environment.aqi_hourly/items?station_code=T_KK&limit=2").json();
    assert_eq!(aqi["features"].as_array().unwrap().len(), 2);
    assert!(aqi["links"].as_array().unwrap().iter().any(|l| l["rel"] == "next"), "paging: {aqi}");
    let stations = server.get("/collections/environment.stations/items?station_code=T_KK").json();
    let props = &stations["features"][0]["properties"];
    // 13:00: PM2.5 NowCast 43.27 → 87; PM10 NowCast 60 → 55 → AQI 87, Trung bình.
    assert_eq!((props["aqi"].as_i64(), props["aqi_colour"].as_str()), (Some(87), Some("#ffff00")), "{props}");

    let series = server
        .get("/collections/environment.stations/items/T_KK/timeseries?parameter=PM2,5&datetime=2026-11-02")
        .json();
    let times: Vec<&str> =
        series["values"].as_array().unwrap().iter().map(|v| v["observed_at"].as_str().unwrap()).collect();
    assert_eq!(times, ["2026-11-02T03:00:00Z", "2026-11-02T04:00:00Z", "2026-11-02T05:00:00Z"], "{series}");
    assert_eq!(series["parameter"], "PM2.5");
    // The bytes of today's answers: members in this order, times in UTC to the second.
    let text = server
        .get("/collections/environment.stations/items/T_KK/timeseries?parameter=PM2,5&datetime=2026-11-02")
        .text();
    assert!(
        text.starts_with(
            r#"{"station_code":"T_KK","parameter":"PM2.5","numberReturned":3,"limit":10000,"values":[{"observed_at":"2026-11-02T03:00:00Z","value":"#
        ),
        "{text}"
    );
    let first = &text[text.find(r#"{"observed_at""#).unwrap()..text.find('}').unwrap()];
    let (value, unit, status) = (
        first.find(r#""value":"#).unwrap(),
        first.find(r#""unit":"#).unwrap(),
        first.find(r#""status":"00""#).unwrap(),
    );
    assert!(value < unit && unit < status, "{first}");
    assert!(text.contains(r#"],"links":[{"rel":"self","type":"application/json","href":"#), "{text}");
    let aqi_json = server.get("/collections/environment.stations/items/T_KK/timeseries?parameter=aqi").json();
    assert_eq!(aqi_json["parameter"], "AQI");
    let point = aqi_json["values"][0].as_object().unwrap();
    assert_eq!(point.keys().collect::<Vec<_>>(), ["observed_at", "value", "level", "dominant"]);
    let obs_csv = server.get(
        "/collections/environment.stations/items/T_KK/timeseries?parameter=PM10&datetime=2026-11-02T03:00:00Z&f=csv",
    );
    assert_eq!(obs_csv.header("content-disposition"), Some(r#"inline; filename="T_KK_PM10.csv""#));
    assert!(
        obs_csv.text().starts_with("observed_at,value,unit,status\n2026-11-02T03:00:00Z,60,"),
        "{}",
        obs_csv.text()
    );
    let csv = server.get("/collections/environment.stations/items/T_KK/timeseries?parameter=AQI&f=csv");
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let text = csv.text();
    assert!(text.starts_with("observed_at,value,level,dominant\n"), "{text}");
    assert!(text.contains("2026-11-02T05:00:00Z,87,Trung bình,PM2.5\n") || text.contains(",87,"), "{text}");
    assert_eq!(server.get("/collections/environment.stations/items/T_KK/timeseries").status, 400);
    assert_eq!(
        server.get("/collections/environment.stations/items/T_KK/timeseries?parameter=PM10&bbox=1,2,3,4").status,
        400
    );
    assert_eq!(server.get("/collections/environment.stations/items/NOPE/timeseries?parameter=PM10").status, 404);
    // One generic route: a collection without a declared series has none.
    let none = server.get("/collections/environment.observations/items/1/timeseries?parameter=PM10");
    assert_eq!(none.status, 404);
    assert!(none.text().contains("has no time series"), "{}", none.text());
    assert_eq!(server.get("/collections/nope/items/1/timeseries?parameter=PM10").status, 404);
    let api = server.get("/api").json();
    assert!(api["paths"]["/collections/environment.stations/items/{featureId}/timeseries"].is_object());
    assert!(api["paths"]["/collections/environment.aqi_daily/items"].is_object());

    // The stations' tile carries the AQI colour for styling (z10 tile over Hà Nội).
    let (x, y) = (813, 450);
    let tile = server.get(&format!("/collections/environment.stations/tiles/WebMercatorQuad/10/{y}/{x}"));
    assert_eq!(tile.status, 200);
    assert!(tile.body.windows(7).any(|w| w == b"#ffff00"), "the tile carries aqi_colour");
}

/// Every column of every computed VN_AQI value and the stations' latest AQI, as one text.
async fn aqi_fingerprint(client: &tokio_postgres::Transaction<'_>) -> (i64, i64, String) {
    let row = client
        .query_one(
            "SELECT (SELECT count(*) FROM environment.aqi_hourly), (SELECT count(*) FROM environment.aqi_daily),
                    md5((SELECT string_agg(concat_ws(',', station_code, observed_at, aqi, level, colour, dominant,
                                 si_pm25, si_pm10, si_o3, si_no2, si_so2, si_co), ';' ORDER BY station_code, observed_at)
                         FROM environment.aqi_hourly)
                     || (SELECT string_agg(concat_ws(',', station_code, day, aqi, level, colour, dominant,
                                 si_pm25, si_pm10, si_o3, si_no2, si_so2, si_co), ';' ORDER BY station_code, day)
                         FROM environment.aqi_daily)
                     || (SELECT string_agg(concat_ws(',', station_code, aqi, aqi_level, aqi_colour, aqi_at), ';' ORDER BY station_code)
                         FROM environment.stations))",
            &[],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1), row.get(2))
}

/// The VN_AQI of the whole database as the per-station method of the first releases computes
/// it from scratch (`refresh_indices_per_station`), in a transaction rolled back afterwards.
async fn per_station_reference(db: &TestDb) -> ((i64, i64, String), u64) {
    let mut client = db.client().await;
    let tx = client.transaction().await.unwrap();
    tx.batch_execute(
        "TRUNCATE environment.aqi_hourly, environment.aqi_daily;
         UPDATE environment.stations SET aqi = NULL, aqi_level = NULL, aqi_colour = NULL, aqi_at = NULL;
         CREATE TEMP TABLE reference_staging ON COMMIT DROP AS SELECT * FROM environment.observations",
    )
    .await
    .unwrap();
    let cfg = geosector_environment::IndexConfig::default();
    let refreshed =
        geosector_environment::load_hook::refresh_indices_per_station(&tx, &cfg, "reference_staging").await.unwrap();
    let fingerprint = aqi_fingerprint(&tx).await;
    tx.rollback().await.unwrap();
    (fingerprint, refreshed.aqi_hours)
}

async fn current(db: &TestDb) -> (i64, i64, String) {
    let mut client = db.client().await;
    let tx = client.transaction().await.unwrap();
    aqi_fingerprint(&tx).await
}

#[tokio::test]
async fn set_based_aqi_equals_the_per_station_method() {
    let Some(db) = TestDb::migrated().await else { return };
    assert_eq!(db.geosector(&["import", "environment.stations", STATIONS]).code, Some(0));
    let run = db.geosector(&["import", "environment.observations", OBSERVATIONS, CAMPAIGN, "--skip-rejected"]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let (reference, hours) = per_station_reference(&db).await;
    assert!(reference.0 > 16 * 600, "hourly AQI for most station-hours: {reference:?}");
    assert_eq!(current(&db).await, reference, "the set-based refresh of a first import");
    assert!(run.stdout.contains(&format!("{hours} hourly")), "the same count of hourly values: {}", run.text());

    // A second import that changes stored hours (the upsert and the deletion of stale values):
    // HN_KK_ThanhCong re-sends 24 Oct 07:00 local with other values, and 08:00 as calibration
    // (its hourly AQI and the NowCast of the hours after it change; a value may go away).
    let dir = tempfile::tempdir().unwrap();
    let lines = |v: &'static str| vec![("PM2,5", v, "µg/Nm3"), ("PM10", v, "µg/Nm3"), ("NO2", "250", "µg/Nm3")];
    station_file(dir.path(), "HN_KK_ThanhCong", "20261024070000", "00", &lines("180"));
    station_file(dir.path(), "HN_KK_ThanhCong", "20261024080000", "01", &lines("20"));
    let run = db.geosector(&["import", "environment.observations", dir.path().to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert!(run.stdout.contains("indices: 1 stations"), "{}", run.text());
    let after = current(&db).await;
    assert_ne!(after, reference, "the re-sent hours changed the AQI");
    assert_eq!(after, per_station_reference(&db).await.0, "the set-based refresh of a re-sent load");
}

/// The hourly PM10 and NO2 lines of T_KK from `from` for `hours` hours, as a CSV file.
fn hourly_csv(dir: &Path, name: &str, from: &str, hours: i64) -> String {
    let start: chrono::DateTime<chrono::Utc> = from.parse().unwrap();
    let mut text = String::from("station,parameter,value,unit,sampled_at\n");
    for h in 0..hours {
        let at = (start + chrono::Duration::hours(h)).to_rfc3339();
        text += &format!("T_KK,PM10,{},ug/m3,{at}\nT_KK,NO2,{},ug/m3,{at}\n", 40 + h % 90, 60 + h % 50);
    }
    write(dir, name, &text)
}

/// The months `environment.aqi_hourly` holds (its partitions), each with its index count.
async fn aqi_months(db: &TestDb) -> Vec<(String, i64)> {
    db.client()
        .await
        .query(
            "SELECT c.relname::text, (SELECT count(*) FROM pg_index x WHERE x.indrelid = c.oid)
             FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'environment.aqi_hourly'::regclass ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

async fn aqi_hourly_version(db: &TestDb) -> i64 {
    db.client()
        .await
        .query_one(
            "SELECT version FROM meta.table_versions WHERE schema_name = 'environment' AND table_name = 'aqi_hourly'",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn months_not_held_are_written_in_bulk_and_attached() {
    let Some(db) = TestDb::migrated().await else { return };
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(db.geosector(&["import", "environment.stations", &test_stations(dir.path())]).code, Some(0));
    assert_eq!(aqi_months(&db).await, [], "no month before the first import");
    let before = aqi_hourly_version(&db).await;

    // 30 hours across the end of August (UTC): the hours, their NowCast tails and the local
    // day that straddles the two months are cut at the month, each month built as a new table.
    let run = db.geosector(&[
        "import",
        "environment.observations",
        &hourly_csv(dir.path(), "a.csv", "2026-08-31T06:00:00Z", 30),
    ]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    let three = |m: &str| (format!("aqi_hourly_{m}"), 3);
    assert_eq!(aqi_months(&db).await, [three("2026_08"), three("2026_09")], "attached, with their three indexes");
    assert!(aqi_hourly_version(&db).await > before, "the attach bumps the data version (ETags, caches)");
    let (reference, hours) = per_station_reference(&db).await;
    assert!(reference.0 >= 30, "an hourly value for every hour: {reference:?}");
    assert_eq!(current(&db).await, reference, "the values of the bulk months");
    assert!(run.stdout.contains(&format!("{hours} hourly")), "{}", run.text());

    // Hours that overlap September (held: through the table, the stored values merged) and
    // run into October (not held: built in bulk) give the same values as from scratch.
    let run = db.geosector(&[
        "import",
        "environment.observations",
        &hourly_csv(dir.path(), "b.csv", "2026-09-01T08:00:00Z", 730),
    ]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert_eq!(aqi_months(&db).await, [three("2026_08"), three("2026_09"), three("2026_10")]);
    assert_eq!(current(&db).await, per_station_reference(&db).await.0, "held and new months in one import");
    let items = db
        .client()
        .await
        .query_one(
            "SELECT count(*), count(DISTINCT id) FROM environment.aqi_hourly WHERE observed_at >= '2026-10-01T00:00:00Z'",
            &[],
        )
        .await
        .unwrap();
    assert!(items.get::<_, i64>(0) > 0);
    assert_eq!(items.get::<_, i64>(0), items.get::<_, i64>(1), "ids stay unique");
}

#[tokio::test]
async fn a_second_import_starting_the_same_new_month_waits_and_finds_it_held() {
    let Some(db) = TestDb::migrated().await else { return };
    let (mut first, mut second) = (db.client().await, db.client().await);
    let tx = first.transaction().await.unwrap();
    let begin = "SELECT environment.begin_aqi_hourly_month('2026-05-10T00:00:00Z')";
    let name: Option<String> = tx.query_one(begin, &[]).await.unwrap().get(0);
    assert_eq!(name.as_deref(), Some("environment.aqi_hourly_2026_05"));
    let waiting = tokio::spawn(async move {
        let tx = second.transaction().await.unwrap();
        let name: Option<String> = tx.query_one(begin, &[]).await.unwrap().get(0);
        tx.commit().await.unwrap();
        name
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "the second waits for the first's month");
    tx.execute("SELECT environment.attach_aqi_hourly_month('2026-05-10T00:00:00Z')", &[]).await.unwrap();
    tx.commit().await.unwrap();
    let second_saw = tokio::time::timeout(std::time::Duration::from_secs(10), waiting).await.unwrap().unwrap();
    assert_eq!(second_saw, None, "then finds the month held");
    assert_eq!(aqi_months(&db).await, [("aqi_hourly_2026_05".to_owned(), 3)]);
}

#[tokio::test]
async fn new_keys_are_inserted_and_a_key_twice_or_stored_is_upserted() {
    let Some(db) = TestDb::migrated().await else { return };
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(db.geosector(&["import", "environment.stations", &test_stations(dir.path())]).code, Some(0));
    let value = |time: &'static str| {
        let db = &db;
        async move {
            db.client()
                .await
                .query_one(
                    "SELECT value FROM environment.observations
                     WHERE station_code = 'T_KK' AND parameter = 'PM10' AND observed_at = $1::text::timestamptz",
                    &[&time],
                )
                .await
                .unwrap()
                .get::<_, f64>(0)
        }
    };
    // New keys only: the plain insert.
    let csv = write(
        dir.path(),
        "new.csv",
        "station,parameter,value,unit,sampled_at\nT_KK,PM10,40,ug/m3,2026-10-01T08:00:00+07:00\nT_KK,PM10,41,ug/m3,2026-10-01T09:00:00+07:00\n",
    );
    let run = db.geosector(&["import", "environment.observations", &csv]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert!(run.stdout.contains("2 rows written"), "{}", run.text());
    // New keys, one of them twice: the plain insert is refused, the upsert keeps the last.
    let csv = write(
        dir.path(),
        "twice.csv",
        "station,parameter,value,unit,sampled_at\nT_KK,PM10,50,ug/m3,2026-10-02T08:00:00+07:00\nT_KK,PM10,51,ug/m3,2026-10-02T08:00:00+07:00\n",
    );
    let run = db.geosector(&["import", "environment.observations", &csv]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert!(run.stdout.contains("1 rows written"), "{}", run.text());
    assert_eq!(value("2026-10-02T08:00:00+07:00").await, 51.0, "the last occurrence wins");
    // A new key and a stored one (found by the probe): upserted.
    let csv = write(
        dir.path(),
        "stored.csv",
        "station,parameter,value,unit,sampled_at\nT_KK,PM10,60,ug/m3,2026-10-03T08:00:00+07:00\nT_KK,PM10,42,ug/m3,2026-10-01T09:00:00+07:00\n",
    );
    let run = db.geosector(&["import", "environment.observations", &csv]);
    assert_eq!(run.code, Some(0), "{}", run.text());
    assert!(run.stdout.contains("2 rows written"), "{}", run.text());
    assert_eq!(value("2026-10-01T09:00:00+07:00").await, 42.0, "the stored value is updated");
    assert_eq!(db.count("environment.observations").await, 4);
}
