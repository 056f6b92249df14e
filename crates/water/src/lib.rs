//! The water-resources sector: water-use permits, the works they license (intakes, wells,
//! outfalls), monitoring stations and river basins.
//!
//! Permits follow Decree 54/2024/NĐ-CP practice (vietnam-brief.md §5): groundwater flow is
//! licensed in m³/ngày đêm (m³/day), surface water in m³/s; the unit is stored beside the value.

pub mod style;

use geosector_domain::{
    AccessDecl, AreaDecl, CollectionDecl, Dataset, Field, FieldType as T, GeometrySpec, History, SectorDecl,
};
use geosector_domain::{CatalogueDecl, CatalogueEntry, Frequency, Topic};

/// `water.permits`: water-resource permits; linked to their work by `work_code`.
pub const PERMITS: Dataset = Dataset {
    id: "water.permits",
    description: "Water-resource exploitation and exploration permits",
    schema: "water",
    table: "permits",
    fields: &[
        Field::new("permit_number", &["permit_number", "soGiayPhep"], T::Text, true),
        Field::new("permit_type", &["permit_type", "loaiGiayPhep"], T::Text, true),
        Field::new("holder_name", &["holder_name", "tenToChuc"], T::Text, true),
        Field::new("issuing_authority", &["issuing_authority", "coQuanCapPhep"], T::Text, true),
        Field::new("work_code", &["work_code", "maCongTrinh"], T::Text, false),
        Field::new("water_source", &["water_source", "nguonNuoc"], T::Text, false),
        Field::new("purpose", &["purpose", "mucDich"], T::Text, false),
        Field::new("max_flow", &["max_flow", "luuLuongLonNhat"], T::Float, true),
        Field::new("flow_unit", &["flow_unit", "donViLuuLuong"], T::Text, true),
        Field::new("valid_from", &["valid_from", "ngayHieuLuc"], T::Date, true),
        Field::new("valid_to", &["valid_to", "ngayHetHieuLuc"], T::Date, false),
        Field::new("status", &["status", "trangThai"], T::Text, false),
        Field::new("previous_permit_number", &["previous_permit_number", "soGiayPhepTruoc"], T::Text, false),
    ],
    geometry: None,
    conflict_key: Some(&["permit_number"]),
    prepare_sql: None,
    partition: None,
    rules: &[],
    history: Some(History { key: &["permit_number"], geohash_id: None }),
};

/// `water.works`: intakes, wells and outfalls.
pub const WORKS: Dataset = Dataset {
    id: "water.works",
    description: "Water works: surface intakes, groundwater wells and outfalls",
    schema: "water",
    table: "works",
    fields: &[
        Field::new("work_code", &["work_code", "maCongTrinh"], T::Text, true),
        Field::new("name", &["name", "tenCongTrinh"], T::Text, true),
        Field::new("work_type", &["work_type", "loaiCongTrinh"], T::Text, true),
        Field::new("commune_code", &["commune_code", "maXa"], T::Code { digits: 5 }, false),
        Field::new("water_source", &["water_source", "nguonNuoc"], T::Text, false),
        Field::new("aquifer", &["aquifer", "tangChuaNuoc"], T::Text, false),
        Field::new("well_depth_m", &["well_depth_m", "chieuSauGieng"], T::Float, false),
    ],
    geometry: Some(GeometrySpec::point()),
    conflict_key: Some(&["work_code"]),
    prepare_sql: None,
    partition: None,
    rules: &[],
    history: Some(History { key: &["work_code"], geohash_id: None }),
};

/// `water.stations`: hydrological, rainfall, groundwater and water-quality stations.
pub const STATIONS: Dataset = Dataset {
    id: "water.stations",
    description: "Water-resource monitoring stations",
    schema: "water",
    table: "stations",
    fields: &[
        Field::new("station_code", &["station_code", "maTram"], T::Text, true),
        Field::new("name", &["name", "tenTram"], T::Text, true),
        Field::new("station_type", &["station_type", "loaiTram"], T::Text, true),
        Field::new("basin_code", &["basin_code", "maLuuVuc"], T::Text, false),
        Field::new("river", &["river", "tenSong"], T::Text, false),
        Field::new("operator", &["operator", "donViQuanLy"], T::Text, false),
    ],
    geometry: Some(GeometrySpec::point()),
    conflict_key: Some(&["station_code"]),
    prepare_sql: None,
    partition: None,
    rules: &[],
    history: None,
};

/// `water.river_basins`: river basins (lưu vực sông).
pub const RIVER_BASINS: Dataset = Dataset {
    id: "water.river_basins",
    description: "River basins (lưu vực sông)",
    schema: "water",
    table: "river_basins",
    fields: &[
        Field::new("basin_code", &["basin_code", "maLuuVuc"], T::Text, true),
        Field::new("name", &["name", "tenLuuVuc"], T::Text, true),
    ],
    geometry: Some(GeometrySpec::multipolygon(true)),
    conflict_key: Some(&["basin_code"]),
    prepare_sql: None,
    partition: None,
    rules: &[],
    history: None,
};

/// Every importable dataset of the water sector.
pub const DATASETS: &[Dataset] = &[PERMITS, WORKS, STATIONS, RIVER_BASINS];

/// The water sector: its titles (map and styles), datasets and collections; the catalogue lists it.
pub const SECTOR: SectorDecl = SectorDecl {
    id: "water",
    title_vi: "Tài nguyên nước",
    title_en: "Water resources",
    datasets: DATASETS,
    collections: COLLECTIONS,
    change_types: PERMIT_DECISIONS,
    catalogue: Some(&CATALOGUE),
    reports: &[],
};

/// What the data catalogue says of the water-resources data (the agency is [U] and can be
/// overridden in the catalogue file, docs/catalogue.md).
pub const CATALOGUE: CatalogueDecl = CatalogueDecl {
    agency_vi: "Sở Nông nghiệp và Môi trường (quản lý tài nguyên nước)",
    agency_en: "Department of Agriculture and Environment (water resources)",
    agency_code: "",
    email: "dulieu@example.invalid",
    topic: Topic::InlandWaters,
    keywords: &["tài nguyên nước", "water resources"],
    legal_basis: &["Luật Tài nguyên nước 28/2023/QH15", "Nghị định 53/2024/NĐ-CP", "Thông tư 64/2025/TT-BNNMT"],
    licence: "Dữ liệu mở theo Nghị định 194/2025/NĐ-CP / open data under Decree 194/2025/ND-CP",
    frequency: Frequency::AsNeeded,
    entries: &[CatalogueEntry { frequency: Some(Frequency::Continual), ..CatalogueEntry::new("water.stations") }],
};

/// The decisions of a water permit's life cycle (Decree 54/2024; brief §5 and §13; which
/// articles govern each is unconfirmed), as the change types of the changesets that record them.
pub const PERMIT_DECISIONS: &[(&str, &str)] = &[
    ("grant", "Cấp giấy phép / permit granted"),
    ("extend", "Gia hạn / extended"),
    ("adjust", "Điều chỉnh / adjusted"),
    ("reissue", "Cấp lại / re-issued"),
    ("return", "Trả lại / returned"),
    ("suspend", "Đình chỉ / suspended"),
    ("revoke", "Thu hồi / revoked"),
];

/// The water sector's published collections.
pub const COLLECTIONS: &[CollectionDecl] = &[
    CollectionDecl {
        id: "water.permits",
        dataset: &PERMITS,
        title_vi: "Giấy phép tài nguyên nước",
        title_en: "Water-resource permits",
        description_vi: "Giấy phép khai thác, sử dụng tài nguyên nước: lưu lượng lớn nhất, nguồn nước, thời hạn.",
        description_en: "Water exploitation permits: maximum flow, water source, validity.",
        keywords: &["tài nguyên nước", "giấy phép", "water", "permits"],
        hidden: &[],
        extra: &[],
        datetime: Some("valid_from"),
        datetime_end: None,
        tiles: geosector_domain::TileDecl::ALL,
        style: None,
        series: None,
        access: AccessDecl::PUBLIC,
        relations: &[],
    },
    CollectionDecl {
        id: "water.works",
        dataset: &WORKS,
        title_vi: "Công trình khai thác, xả nước",
        title_en: "Water works",
        description_vi: "Giếng khai thác, cửa lấy nước, cửa xả.",
        description_en: "Wells, surface intakes and outfalls.",
        keywords: &["tài nguyên nước", "công trình", "water", "wells"],
        hidden: &[],
        extra: &[],
        datetime: None,
        datetime_end: None,
        tiles: geosector_domain::TileDecl::ALL,
        style: Some(&style::WORKS),
        series: None,
        access: AccessDecl::public_in(AreaDecl::commune("commune_code")),
        relations: &[],
    },
    CollectionDecl {
        id: "water.stations",
        dataset: &STATIONS,
        title_vi: "Trạm quan trắc tài nguyên nước",
        title_en: "Water monitoring stations",
        description_vi: "Trạm thủy văn, đo mưa, giếng quan trắc nước dưới đất, trạm chất lượng nước.",
        description_en: "Hydrological, rainfall, groundwater and water-quality stations.",
        keywords: &["tài nguyên nước", "trạm quan trắc", "water", "stations"],
        hidden: &[],
        extra: &[],
        datetime: None,
        datetime_end: None,
        tiles: geosector_domain::TileDecl::ALL,
        style: Some(&style::STATIONS),
        series: None,
        access: AccessDecl::PUBLIC,
        relations: &[],
    },
    CollectionDecl {
        id: "water.river_basins",
        dataset: &RIVER_BASINS,
        title_vi: "Lưu vực sông",
        title_en: "River basins",
        description_vi: "Ranh giới lưu vực sông.",
        description_en: "River basin outlines.",
        keywords: &["lưu vực sông", "river basins"],
        hidden: &[],
        extra: &[("computed_area_m2", T::Float)],
        datetime: None,
        datetime_end: None,
        tiles: geosector_domain::TileDecl::ALL,
        style: Some(&style::RIVER_BASINS),
        series: None,
        access: AccessDecl::PUBLIC,
        relations: &[],
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
