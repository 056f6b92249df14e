//! The reference data every sector shares, published: the administrative units
//! (`reference.admin_units`, migrations 0001 and 0025) as the collection `reference.admin_units`,
//! provinces and communes (and the districts of before the 2025 reform) with their codes, names
//! and validity dates, `datetime` selecting the units in force at an instant, and the map's
//! base layer.
//!
//! The units are loaded by `geosector reference <dir>` (crates/ingest's reference loader), not
//! by `geosector import`: this crate declares no importable dataset, only what is published.

pub mod style;

use geosector_domain::{
    AccessDecl, CatalogueDecl, CollectionDecl, Dataset, Field, FieldType as T, Frequency, GeometryKind, GeometrySpec,
    LowZoom, SectorDecl, TileDecl, TimeEnd, Topic,
};

/// The table as the collection reads it (the reference loader fills it).
pub const ADMIN_UNITS_TABLE: Dataset = Dataset {
    id: "reference.admin_units",
    description:
        "Administrative units (provinces, communes; districts before 2025) with codes, names and validity dates",
    schema: "reference",
    table: "admin_units",
    fields: &[
        Field::new("level", &["level", "cap"], T::Text, true),
        Field::new("code", &["code", "ma"], T::Text, true),
        Field::new("name", &["name", "ten"], T::Text, true),
        Field::new("unit_type", &["unit_type", "loai"], T::Text, false),
        Field::new("parent_code", &["parent_code", "maCapTren"], T::Text, false),
        Field::new("valid_from", &["valid_from", "hieuLucTu"], T::Date, true),
        Field::new("valid_to", &["valid_to", "hieuLucDen"], T::Date, false),
        Field::new("codename", &["codename"], T::Text, false),
        Field::new("source", &["source"], T::Text, true),
    ],
    geometry: Some(GeometrySpec {
        column: "geom",
        kind: GeometryKind::MultiPolygon,
        in_vietnam: true,
        required: false,
        source_srid_column: None,
        area_column: None,
    }),
    conflict_key: None,
    prepare_sql: None,
    partition: None,
    rules: &[],
    history: None,
};

/// Units are drawn one by one at every zoom; below zoom 9 from their simplified copy (150 m,
/// migration 0025), so a tile of the whole country stays small. Tiles carry what the base
/// layer labels and links with.
pub const ADMIN_UNIT_TILES: TileDecl = TileDecl {
    properties: Some(&["level", "code", "name", "unit_type", "parent_code"]),
    detail_min_zoom: 0,
    overview: None,
    low_zoom: Some(LowZoom { column: "geom_overview_3857", below_zoom: 9 }),
};

/// The published collections of the reference data.
pub const COLLECTIONS: &[CollectionDecl] = &[CollectionDecl {
    id: "reference.admin_units",
    dataset: &ADMIN_UNITS_TABLE,
    title_vi: "Đơn vị hành chính",
    title_en: "Administrative units",
    description_vi: "Tỉnh, thành phố và xã, phường, đặc khu (huyện trước 1/7/2025): mã, tên, cấp trên, thời gian hiệu lực và ranh giới. Mã được dùng lại sau sắp xếp năm 2025: datetime chọn các đơn vị có hiệu lực tại một thời điểm.",
    description_en: "Provinces and communes (districts before 1 July 2025): codes, names, parent unit, validity dates and boundaries. Codes are reused after the 2025 reform: datetime selects the units in force at an instant.",
    keywords: &["đơn vị hành chính", "địa giới hành chính", "tỉnh", "xã", "administrative units", "boundaries"],
    hidden: &[],
    extra: &[],
    datetime: Some("valid_from"),
    datetime_end: Some(TimeEnd { column: "valid_to", exclusive: true }),
    tiles: ADMIN_UNIT_TILES,
    style: Some(&style::ADMIN_UNITS),
    series: None,
    access: AccessDecl::PUBLIC,
    relations: &[],
}];

/// The reference data as a sector: first in the list of sectors, so the map draws it as its base.
pub const SECTOR: SectorDecl = SectorDecl {
    title_vi: "Địa giới hành chính",
    title_en: "Administrative boundaries",
    collections: COLLECTIONS,
    catalogue: Some(&CATALOGUE),
    ..SectorDecl::untitled("reference")
};

/// What the data catalogue says of the administrative units (the publishing agency is [U] and
/// can be overridden in the catalogue file, docs/catalogue.md).
pub const CATALOGUE: CatalogueDecl = CatalogueDecl {
    agency_vi: "Bộ Nội vụ (danh mục đơn vị hành chính)",
    agency_en: "Ministry of Home Affairs (list of administrative units)",
    agency_code: "",
    email: "dulieu@example.invalid",
    topic: Topic::Boundaries,
    keywords: &["địa giới hành chính", "administrative boundaries"],
    legal_basis: &[
        "Nghị quyết 202/2025/QH15 (sắp xếp đơn vị hành chính cấp tỉnh)",
        "Quyết định 19/2025/QĐ-TTg (bảng danh mục và mã số các đơn vị hành chính)",
    ],
    licence: "Dữ liệu mở / open data",
    frequency: Frequency::AsNeeded,
    entries: &[],
};

#[cfg(test)]
mod tests {
    #[test]
    fn the_declaration_holds() {
        super::ADMIN_UNITS_TABLE.check().unwrap();
        assert_eq!(super::COLLECTIONS[0].datetime_kind(), Some(geosector_domain::FieldType::Date));
    }
}
