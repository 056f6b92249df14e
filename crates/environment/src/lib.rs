//! The environment-monitoring sector: air and water monitoring stations, their observations
//! (partitioned by time) and pollution sources.
//!
//! Observations arrive as TT 10/2021/TT-BTNMT station text files (one file per station and
//! measurement time; `parameter TAB value TAB unit TAB YYYYMMDDhhmmss TAB status`), read by the
//! ingest crate's station reader, or as CSV from manual sampling campaigns. Re-sending a file is
//! harmless: observations are upserted on (station, parameter, time).
//!
//! The index methods are pure functions here: VN_AQI of QĐ 1459/QĐ-TCMT with NowCast in [`aqi`],
//! VN_WQI of QĐ 1460/QĐ-TCMT in [`wqi`], parameter symbols and units in [`parameters`], and the
//! overridable settings in [`config`]. The observations load hook ([`load_hook`], called by the
//! importer through `geosector_store::hook::LoadHook`) checks and normalises every observation
//! as it is read, and runs the index methods after each import over the station-hours the
//! import touched, storing the results in the tables of migration 0011 in the import's
//! transaction.

pub mod aqi;
pub mod config;
mod hours;
pub mod load_hook;
pub mod parameters;
pub mod refresh;
pub mod series;
pub mod style;
pub mod wqi;

pub use config::IndexConfig;

use geosector_domain::{
    AccessDecl, AreaDecl, CollectionDecl, Dataset, Field, FieldType as T, GeometrySpec, SectorDecl, TileDecl,
};
use geosector_domain::{CatalogueDecl, CatalogueEntry, Frequency, Topic};

/// Status codes of TT 10/2021: 00 measuring, 01 calibrating, 02 device error.
pub const OBSERVATION_STATUS: &[(&str, &str)] = &[("00", "measuring"), ("01", "calibrating"), ("02", "device error")];

/// `environment.stations`: air and water monitoring stations.
pub const STATIONS: Dataset = Dataset {
    id: "environment.stations",
    description: "Air and water quality monitoring stations (automatic and manual)",
    schema: "environment",
    table: "stations",
    fields: &[
        Field::new("station_code", &["station_code", "maTram"], T::Text, true),
        Field::new("name", &["name", "tenTram"], T::Text, true),
        Field::new("medium", &["medium", "moiTruong"], T::Text, true),
        Field::new("mode", &["mode", "phuongThuc"], T::Text, true),
        Field::new("province_code", &["province_code", "maTinh"], T::Code { digits: 2 }, false),
        Field::new("commune_code", &["commune_code", "maXa"], T::Code { digits: 5 }, false),
        Field::new("operator", &["operator", "donViQuanLy"], T::Text, false),
    ],
    geometry: Some(GeometrySpec::point()),
    conflict_key: Some(&["station_code"]),
    prepare_sql: None,
    partition: None,
    rules: &[],
    history: None,
};

/// `environment.observations`: one measured value per station, parameter and time.
pub const OBSERVATIONS: Dataset = Dataset {
    id: "environment.observations",
    description: "Monitoring observations (TT 10/2021 station files), partitioned by month",
    schema: "environment",
    table: "observations",
    fields: &[
        Field::new("station_code", &["station_code", "maTram", "station", "station_id"], T::Text, true),
        Field::new("parameter", &["parameter", "thongSo"], T::Text, true),
        Field::new("value", &["value", "giaTri"], T::Float, true),
        Field::new("unit", &["unit", "donVi"], T::Text, false),
        Field::new("observed_at", &["observed_at", "thoiGian", "sampled_at", "time"], T::Timestamp, true),
        // Manual samples carry no status: the importer fills in 00.
        Field::new("status", &["status", "trangThai"], T::Text, false),
        Field::new("source_file", &["source_file"], T::Text, false),
    ],
    geometry: None,
    conflict_key: Some(&["station_code", "parameter", "observed_at"]),
    prepare_sql: Some(
        "SELECT environment.ensure_observation_partitions(min(observed_at), max(observed_at)) FROM geosector_staging",
    ),
    partition: None,
    rules: &[],
    history: None,
};

/// `environment.pollution_sources`: registered pollution sources (factories, outfalls, …).
pub const POLLUTION_SOURCES: Dataset = Dataset {
    id: "environment.pollution_sources",
    description: "Pollution sources (nguồn thải)",
    schema: "environment",
    table: "pollution_sources",
    fields: &[
        Field::new("source_code", &["source_code", "maNguonThai"], T::Text, true),
        Field::new("name", &["name", "ten"], T::Text, true),
        Field::new("source_type", &["source_type", "loaiNguonThai"], T::Text, true),
        Field::new("industry", &["industry", "nganhNghe"], T::Text, false),
        Field::new("commune_code", &["commune_code", "maXa"], T::Code { digits: 5 }, false),
        Field::new("permit_number", &["permit_number", "soGiayPhepMoiTruong"], T::Text, false),
    ],
    geometry: Some(GeometrySpec::point()),
    conflict_key: Some(&["source_code"]),
    prepare_sql: None,
    partition: None,
    rules: &[],
    history: None,
};

/// Every importable dataset of the environment sector.
pub const DATASETS: &[Dataset] = &[STATIONS, OBSERVATIONS, POLLUTION_SOURCES];

/// `environment.aqi_hourly`: hourly VN_AQI per station (computed, not importable).
pub const AQI_HOURLY: Dataset = Dataset {
    id: "environment.aqi_hourly",
    description: "Hourly VN_AQI per station (QĐ 1459/QĐ-TCMT), computed after each import",
    schema: "environment",
    table: "aqi_hourly",
    fields: &[
        Field::new("station_code", &["station_code"], T::Text, true),
        Field::new("observed_at", &["observed_at"], T::Timestamp, true),
        Field::new("aqi", &["aqi"], T::Integer, true),
        Field::new("level", &["level"], T::Text, true),
        Field::new("colour", &["colour"], T::Text, true),
        Field::new("dominant", &["dominant"], T::Text, true),
        Field::new("si_pm25", &["si_pm25"], T::Float, false),
        Field::new("si_pm10", &["si_pm10"], T::Float, false),
        Field::new("si_o3", &["si_o3"], T::Float, false),
        Field::new("si_no2", &["si_no2"], T::Float, false),
        Field::new("si_so2", &["si_so2"], T::Float, false),
        Field::new("si_co", &["si_co"], T::Float, false),
    ],
    geometry: None,
    conflict_key: Some(&["station_code", "observed_at"]),
    prepare_sql: None,
    partition: None,
    rules: &[],
    history: None,
};

/// `environment.aqi_daily`: daily VN_AQI per station and local day.
pub const AQI_DAILY: Dataset = Dataset {
    id: "environment.aqi_daily",
    description: "Daily VN_AQI per station and local day (QĐ 1459/QĐ-TCMT), computed after each import",
    schema: "environment",
    table: "aqi_daily",
    fields: &[
        Field::new("station_code", &["station_code"], T::Text, true),
        Field::new("day", &["day"], T::Date, true),
        Field::new("aqi", &["aqi"], T::Integer, true),
        Field::new("level", &["level"], T::Text, true),
        Field::new("colour", &["colour"], T::Text, true),
        Field::new("dominant", &["dominant"], T::Text, true),
        Field::new("si_pm25", &["si_pm25"], T::Float, false),
        Field::new("si_pm10", &["si_pm10"], T::Float, false),
        Field::new("si_o3", &["si_o3"], T::Float, false),
        Field::new("si_no2", &["si_no2"], T::Float, false),
        Field::new("si_so2", &["si_so2"], T::Float, false),
        Field::new("si_co", &["si_co"], T::Float, false),
    ],
    geometry: None,
    conflict_key: Some(&["station_code", "day"]),
    prepare_sql: None,
    partition: None,
    rules: &[],
    history: None,
};

/// `environment.wqi`: VN_WQI per water sample (one station, one time).
pub const WQI: Dataset = Dataset {
    id: "environment.wqi",
    description: "VN_WQI per water sample (QĐ 1460/QĐ-TCMT), computed after each import",
    schema: "environment",
    table: "wqi",
    fields: &[
        Field::new("station_code", &["station_code"], T::Text, true),
        Field::new("observed_at", &["observed_at"], T::Timestamp, true),
        Field::new("wqi", &["wqi"], T::Integer, true),
        Field::new("level", &["level"], T::Text, true),
        Field::new("colour", &["colour"], T::Text, true),
        Field::new("wqi_i", &["wqi_i"], T::Float, false),
        Field::new("wqi_ii", &["wqi_ii"], T::Float, false),
        Field::new("wqi_iii", &["wqi_iii"], T::Float, false),
        Field::new("wqi_iv", &["wqi_iv"], T::Float, false),
        Field::new("wqi_v", &["wqi_v"], T::Float, false),
    ],
    geometry: None,
    conflict_key: Some(&["station_code", "observed_at"]),
    prepare_sql: None,
    partition: None,
    rules: &[],
    history: None,
};

/// The latest indices of a station: columns of `environment.stations` kept by the importer.
const STATION_INDEX_COLUMNS: &[(&str, T)] = &[
    ("aqi", T::Integer),
    ("aqi_level", T::Text),
    ("aqi_colour", T::Text),
    ("aqi_at", T::Timestamp),
    ("wqi", T::Integer),
    ("wqi_level", T::Text),
    ("wqi_colour", T::Text),
    ("wqi_at", T::Timestamp),
];

const TIME_SERIES: TileDecl = TileDecl::ALL;

/// The environment sector: its titles (map and styles), datasets and collections; the catalogue lists it.
pub const SECTOR: SectorDecl = SectorDecl {
    id: "environment",
    title_vi: "Quan trắc môi trường",
    title_en: "Environmental monitoring",
    datasets: DATASETS,
    collections: COLLECTIONS,
    change_types: &[],
    catalogue: Some(&CATALOGUE),
    reports: &[],
};

/// What the data catalogue says of the monitoring data (the agency is [U] and can be overridden in
/// the catalogue file, docs/catalogue.md).
pub const CATALOGUE: CatalogueDecl = CatalogueDecl {
    agency_vi: "Sở Nông nghiệp và Môi trường (quan trắc môi trường)",
    agency_en: "Department of Agriculture and Environment (environmental monitoring)",
    agency_code: "",
    email: "dulieu@example.invalid",
    topic: Topic::Environment,
    keywords: &["quan trắc môi trường", "environmental monitoring"],
    legal_basis: &["Luật Bảo vệ môi trường 72/2020/QH14", "Thông tư 10/2021/TT-BTNMT"],
    licence: "Dữ liệu mở theo Nghị định 194/2025/NĐ-CP / open data under Decree 194/2025/ND-CP",
    frequency: Frequency::Continual,
    entries: &[CatalogueEntry {
        topic: Some(Topic::ClimatologyMeteorologyAtmosphere),
        frequency: Some(Frequency::Continual),
        keywords: &["chất lượng không khí", "VN_AQI", "air quality"],
        ..CatalogueEntry::new("environment.aqi_hourly")
    }],
};

/// The environment sector's published collections. Stations carry their latest AQI/WQI, level
/// and colour (tiles are styled by `aqi_colour`); observations and the index tables are
/// collections without geometry, filtered by `datetime`, `station_code` and `parameter`.
pub const COLLECTIONS: &[CollectionDecl] = &[
    CollectionDecl {
        id: "environment.stations",
        dataset: &STATIONS,
        title_vi: "Trạm quan trắc môi trường",
        title_en: "Environmental monitoring stations",
        description_vi: "Trạm quan trắc không khí và nước, tự động và định kỳ.",
        description_en: "Air and water monitoring stations, automatic and manual.",
        keywords: &["quan trắc môi trường", "không khí", "monitoring", "air quality"],
        hidden: &[],
        extra: STATION_INDEX_COLUMNS,
        datetime: None,
        datetime_end: None,
        tiles: geosector_domain::TileDecl::ALL,
        style: Some(&style::STATIONS),
        series: Some(&series::STATIONS),
        access: AccessDecl::public_in(AreaDecl::Columns {
            province: Some("province_code"),
            commune: Some("commune_code"),
        }),
        relations: &[],
    },
    CollectionDecl {
        id: "environment.observations",
        dataset: &OBSERVATIONS,
        title_vi: "Số liệu quan trắc",
        title_en: "Monitoring observations",
        description_vi: "Giá trị quan trắc theo trạm, thông số và thời gian (TT 10/2021/TT-BTNMT).",
        description_en: "Measured values by station, parameter and time (TT 10/2021/TT-BTNMT).",
        keywords: &["quan trắc", "observations", "time series"],
        hidden: &[],
        extra: &[],
        datetime: Some("observed_at"),
        datetime_end: None,
        tiles: TIME_SERIES,
        style: None,
        series: None,
        access: AccessDecl::PUBLIC,
        relations: &[],
    },
    CollectionDecl {
        id: "environment.aqi_hourly",
        dataset: &AQI_HOURLY,
        title_vi: "VN_AQI giờ",
        title_en: "Hourly VN_AQI",
        description_vi: "Chỉ số chất lượng không khí giờ theo QĐ 1459/QĐ-TCMT (NowCast cho bụi).",
        description_en: "Hourly air-quality index per QĐ 1459/QĐ-TCMT (NowCast for PM).",
        keywords: &["VN_AQI", "AQI", "chất lượng không khí"],
        hidden: &[],
        extra: &[],
        datetime: Some("observed_at"),
        datetime_end: None,
        tiles: TIME_SERIES,
        style: None,
        series: None,
        access: AccessDecl::PUBLIC,
        relations: &[],
    },
    CollectionDecl {
        id: "environment.aqi_daily",
        dataset: &AQI_DAILY,
        title_vi: "VN_AQI ngày",
        title_en: "Daily VN_AQI",
        description_vi: "Chỉ số chất lượng không khí ngày theo QĐ 1459/QĐ-TCMT.",
        description_en: "Daily air-quality index per QĐ 1459/QĐ-TCMT.",
        keywords: &["VN_AQI", "AQI", "chất lượng không khí"],
        hidden: &[],
        extra: &[],
        datetime: Some("day"),
        datetime_end: None,
        tiles: TIME_SERIES,
        style: None,
        series: None,
        access: AccessDecl::PUBLIC,
        relations: &[],
    },
    CollectionDecl {
        id: "environment.wqi",
        dataset: &WQI,
        title_vi: "VN_WQI",
        title_en: "VN_WQI",
        description_vi: "Chỉ số chất lượng nước mặt theo QĐ 1460/QĐ-TCMT, theo mẫu.",
        description_en: "Surface-water quality index per QĐ 1460/QĐ-TCMT, per sample.",
        keywords: &["VN_WQI", "WQI", "chất lượng nước"],
        hidden: &[],
        extra: &[],
        datetime: Some("observed_at"),
        datetime_end: None,
        tiles: TIME_SERIES,
        style: None,
        series: None,
        access: AccessDecl::PUBLIC,
        relations: &[],
    },
    CollectionDecl {
        id: "environment.pollution_sources",
        dataset: &POLLUTION_SOURCES,
        title_vi: "Nguồn thải",
        title_en: "Pollution sources",
        description_vi: "Nguồn thải: khu công nghiệp, làng nghề, bãi chôn lấp, cơ sở y tế.",
        description_en: "Pollution sources: industrial parks, craft villages, landfills, hospitals.",
        keywords: &["nguồn thải", "pollution sources"],
        hidden: &[],
        extra: &[],
        datetime: None,
        datetime_end: None,
        tiles: geosector_domain::TileDecl::ALL,
        style: Some(&style::POLLUTION_SOURCES),
        series: None,
        access: AccessDecl::public_in(AreaDecl::commune("commune_code")),
        relations: &[],
    },
];

#[cfg(test)]
mod tests {
    #[test]
    fn declarations_are_consistent() {
        for d in super::DATASETS.iter().chain([&super::AQI_HOURLY, &super::AQI_DAILY, &super::WQI]) {
            d.check().unwrap();
        }
    }
}
