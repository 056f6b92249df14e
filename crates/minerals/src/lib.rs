//! The geology and minerals sector: mineral-activity licences, licence areas with their corner
//! points, and zones where mineral activity is prohibited or temporarily prohibited.
//!
//! Fields follow the licence records of Law 54/2024/QH15 practice as seen in provincial
//! mineral-management systems (vietnam-brief.md §4): licence number (`soGiayPhep`), type
//! (`loaiCapPhep`), issuing authority (`coQuanCapPhep`), dates, previous licence
//! (`idGiayPhepLs`), corner coordinates (`toaDoX`/`toaDoY`, X = northing as written on licences).

pub mod style;

use geosector_domain::{
    AccessDecl, AreaDecl, CollectionDecl, Dataset, Field, FieldType as T, GeometrySpec, History, SectorDecl,
};
use geosector_domain::{CatalogueDecl, CatalogueEntry, Frequency, Topic};

/// Licence types (loại giấy phép), stored as these English codes.
pub const LICENCE_TYPES: &[(&str, &str)] = &[
    ("exploration", "Giấy phép thăm dò khoáng sản"),
    ("mining", "Giấy phép khai thác khoáng sản"),
    ("recovery", "Giấy phép khai thác tận thu khoáng sản"),
    ("reserve_approval", "Phê duyệt trữ lượng khoáng sản"),
    ("other", "Khác"),
];

/// `minerals.licences`: one row per licence.
pub const LICENCES: Dataset = Dataset {
    id: "minerals.licences",
    description: "Mineral exploration and mining licences (giấy phép hoạt động khoáng sản)",
    schema: "minerals",
    table: "licences",
    fields: &[
        Field::new("licence_number", &["licence_number", "soGiayPhep"], T::Text, true),
        Field::new("licence_type", &["licence_type", "loaiCapPhep"], T::Text, true),
        Field::new("minerals", &["minerals", "loaiKhoangSan"], T::TextList, true),
        Field::new("holder_name", &["holder_name", "tenToChuc"], T::Text, true),
        Field::new("issuing_authority", &["issuing_authority", "coQuanCapPhep"], T::Text, true),
        Field::new("issued_on", &["issued_on", "ngayCapPhep"], T::Date, true),
        Field::new("valid_from", &["valid_from", "ngayBatDauHieuLuc"], T::Date, false),
        Field::new("valid_to", &["valid_to", "ngayKetThucHieuLuc"], T::Date, false),
        Field::new("status", &["status", "trangThai"], T::Text, false),
        Field::new("previous_licence_number", &["previous_licence_number", "soGiayPhepTruoc"], T::Text, false),
        Field::new("province_code", &["province_code", "maTinh"], T::Code { digits: 2 }, false),
    ],
    geometry: None,
    conflict_key: Some(&["licence_number"]),
    prepare_sql: None,
    partition: None,
    rules: &[],
    history: Some(History { key: &["licence_number"], geohash_id: None }),
};

/// `minerals.licence_areas`: the licensed area of a licence, with the corner points as written
/// on the licence annex (ordered; X = northing, Y = easting, in the stated source CRS).
pub const LICENCE_AREAS: Dataset = Dataset {
    id: "minerals.licence_areas",
    description: "Licensed mining and exploration areas with their ordered corner points",
    schema: "minerals",
    table: "licence_areas",
    fields: &[
        Field::new("licence_number", &["licence_number", "soGiayPhep"], T::Text, true),
        Field::new("area_name", &["area_name", "tenMo", "tenKhuVuc"], T::Text, false),
        Field::new("declared_area_m2", &["declared_area_m2", "dienTich"], T::Float, false),
        Field::new("corner_points", &["corner_points", "toaDoKhepGoc"], T::Json, true),
        Field::new("commune_code", &["commune_code", "maXa"], T::Code { digits: 5 }, false),
    ],
    geometry: Some(GeometrySpec::multipolygon(true)),
    conflict_key: None,
    prepare_sql: None,
    partition: None,
    rules: &[],
    history: Some(History { key: &["licence_number", "area_name"], geohash_id: None }),
};

/// `minerals.prohibited_zones`: zones where mineral activity is prohibited or temporarily
/// prohibited (khu vực cấm / tạm thời cấm hoạt động khoáng sản).
pub const PROHIBITED_ZONES: Dataset = Dataset {
    id: "minerals.prohibited_zones",
    description: "Zones prohibited or temporarily prohibited for mineral activity",
    schema: "minerals",
    table: "prohibited_zones",
    fields: &[
        Field::new("zone_code", &["zone_code", "maKhuVuc"], T::Text, true),
        Field::new("name", &["name", "ten"], T::Text, true),
        Field::new("zone_kind", &["zone_kind", "loaiKhuVuc"], T::Text, true),
        Field::new("category", &["category", "nhom"], T::Text, false),
        Field::new("decision_number", &["decision_number", "soQuyetDinh"], T::Text, false),
        Field::new("decided_on", &["decided_on", "ngayQuyetDinh"], T::Date, false),
        Field::new("province_code", &["province_code", "maTinh"], T::Code { digits: 2 }, false),
    ],
    geometry: Some(GeometrySpec::multipolygon(false)),
    conflict_key: None,
    prepare_sql: None,
    partition: None,
    rules: &[],
    history: Some(History { key: &["zone_code"], geohash_id: None }),
};

/// Every importable dataset of the minerals sector.
pub const DATASETS: &[Dataset] = &[LICENCES, LICENCE_AREAS, PROHIBITED_ZONES];

/// The minerals sector: its titles (map and styles), datasets and collections; the catalogue lists it.
pub const SECTOR: SectorDecl = SectorDecl {
    id: "minerals",
    title_vi: "Địa chất và khoáng sản",
    title_en: "Geology and minerals",
    datasets: DATASETS,
    collections: COLLECTIONS,
    change_types: LICENCE_DECISIONS,
    catalogue: Some(&CATALOGUE),
    reports: &[],
};

/// What the data catalogue says of the minerals data (the agency is [U] and can be overridden in
/// the catalogue file, docs/catalogue.md).
pub const CATALOGUE: CatalogueDecl = CatalogueDecl {
    agency_vi: "Sở Nông nghiệp và Môi trường (quản lý địa chất và khoáng sản)",
    agency_en: "Department of Agriculture and Environment (geology and minerals)",
    agency_code: "",
    email: "dulieu@example.invalid",
    topic: Topic::GeoscientificInformation,
    keywords: &["khoáng sản", "minerals", "địa chất", "geology"],
    legal_basis: &["Luật Địa chất và khoáng sản 54/2024/QH15", "Nghị định 193/2025/NĐ-CP"],
    licence: "Dữ liệu mở theo Nghị định 194/2025/NĐ-CP / open data under Decree 194/2025/ND-CP",
    frequency: Frequency::AsNeeded,
    entries: &[CatalogueEntry {
        keywords: &["khu vực cấm hoạt động khoáng sản", "prohibited zones"],
        ..CatalogueEntry::new("minerals.prohibited_zones")
    }],
};

/// The decisions of a licence's life cycle (Law 54/2024, Decree 11/2025; brief §13), as the
/// change types of the changesets that record them.
pub const LICENCE_DECISIONS: &[(&str, &str)] = &[
    ("grant", "Cấp giấy phép / licence granted"),
    ("extend", "Gia hạn / extended"),
    ("adjust", "Điều chỉnh / adjusted"),
    ("transfer", "Chuyển nhượng / transferred"),
    ("return", "Trả lại (toàn bộ hoặc một phần) / returned, wholly or in part"),
    ("revoke", "Thu hồi / revoked"),
    ("terminate", "Chấm dứt hiệu lực / terminated"),
    ("close", "Đóng cửa mỏ / mine closed"),
];

/// The minerals sector's published collections.
pub const COLLECTIONS: &[CollectionDecl] = &[
    CollectionDecl {
        id: "minerals.licences",
        dataset: &LICENCES,
        title_vi: "Giấy phép hoạt động khoáng sản",
        title_en: "Mineral licences",
        description_vi:
            "Giấy phép thăm dò, khai thác khoáng sản: số giấy phép, loại, khoáng sản, tổ chức được cấp phép, thời hạn.",
        description_en: "Mineral exploration and mining licences: number, type, minerals, holder, validity.",
        keywords: &["khoáng sản", "giấy phép", "minerals", "licences"],
        hidden: &[],
        extra: &[],
        datetime: Some("issued_on"),
        datetime_end: None,
        tiles: geosector_domain::TileDecl::ALL,
        style: None,
        series: None,
        access: AccessDecl::public_in(AreaDecl::province("province_code")),
        relations: &[],
    },
    CollectionDecl {
        id: "minerals.licence_areas",
        dataset: &LICENCE_AREAS,
        title_vi: "Khu vực được cấp phép khoáng sản",
        title_en: "Mineral licence areas",
        description_vi: "Ranh giới khu vực được cấp phép, với tọa độ các điểm khép góc như trong giấy phép.",
        description_en: "Licensed areas with the corner points as written on the licence.",
        keywords: &["khoáng sản", "khu vực cấp phép", "minerals", "licence areas"],
        hidden: &[],
        extra: &[("computed_area_m2", T::Float), ("source_srid", T::Integer)],
        datetime: None,
        datetime_end: None,
        tiles: geosector_domain::TileDecl::ALL,
        style: Some(&style::LICENCE_AREAS),
        series: None,
        access: AccessDecl::public_in(AreaDecl::commune("commune_code")),
        relations: &[],
    },
    CollectionDecl {
        id: "minerals.prohibited_zones",
        dataset: &PROHIBITED_ZONES,
        title_vi: "Khu vực cấm, tạm thời cấm hoạt động khoáng sản",
        title_en: "Zones prohibited for mineral activity",
        description_vi: "Khu vực cấm và tạm thời cấm hoạt động khoáng sản do UBND cấp tỉnh phê duyệt.",
        description_en: "Zones where mineral activity is prohibited or temporarily prohibited.",
        keywords: &["khoáng sản", "khu vực cấm", "minerals", "prohibited zones"],
        hidden: &[],
        extra: &[],
        datetime: Some("decided_on"),
        datetime_end: None,
        tiles: geosector_domain::TileDecl::ALL,
        style: Some(&style::PROHIBITED_ZONES),
        series: None,
        access: AccessDecl::public_in(AreaDecl::province("province_code")),
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
