//! The environment-monitoring sector: air and water monitoring stations, their observations
//! (partitioned by time) and pollution sources.
//!
//! Observations arrive as TT 10/2021/TT-BTNMT station text files (one file per station and
//! measurement time; `parameter TAB value TAB unit TAB YYYYMMDDhhmmss TAB status`), read by the
//! ingest crate's station reader. Re-sending a file is harmless: observations are upserted on
//! (station, parameter, time).

use geosector_domain::{CollectionDecl, Dataset, Field, FieldType as T, GeometrySpec};

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
};

/// `environment.observations`: one measured value per station, parameter and time.
pub const OBSERVATIONS: Dataset = Dataset {
    id: "environment.observations",
    description: "Monitoring observations (TT 10/2021 station files), partitioned by month",
    schema: "environment",
    table: "observations",
    fields: &[
        Field::new("station_code", &["station_code", "maTram"], T::Text, true),
        Field::new("parameter", &["parameter", "thongSo"], T::Text, true),
        Field::new("value", &["value", "giaTri"], T::Float, true),
        Field::new("unit", &["unit", "donVi"], T::Text, false),
        Field::new("observed_at", &["observed_at", "thoiGian"], T::Timestamp, true),
        Field::new("status", &["status", "trangThai"], T::Text, true),
        Field::new("source_file", &["source_file"], T::Text, false),
    ],
    geometry: None,
    conflict_key: Some(&["station_code", "parameter", "observed_at"]),
    prepare_sql: Some(
        "SELECT environment.ensure_observation_partitions(min(observed_at), max(observed_at)) FROM geosector_staging",
    ),
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
};

/// Every importable dataset of the environment sector.
pub const DATASETS: &[Dataset] = &[STATIONS, OBSERVATIONS, POLLUTION_SOURCES];

/// The environment sector's published collections (observations are served by the monitoring
/// work, with their time-series shape).
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
        extra: &[],
        datetime: None,
        tiles: geosector_domain::TileDecl::ALL,
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
        tiles: geosector_domain::TileDecl::ALL,
    },
];

#[cfg(test)]
mod tests {
    #[test]
    fn declarations_are_consistent() {
        for d in super::DATASETS {
            d.check().unwrap();
        }
    }
}
