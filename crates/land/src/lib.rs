//! The land (cadastre) sector: parcels and cadastral map sheets.
//!
//! Field names follow the cadastral database standard (TT 75/2015/TT-BTNMT, `DC_ThuaDat` and
//! `DC_MucDichSuDung`): the English column comes first, the standard's Vietnamese names
//! (`maXa`, `soHieuToBanDo`, `soThuTuThua`, `dienTich`, `dienTichPhapLy`, `maMucDichSuDung`)
//! and the flattened GIS-layer names (`KyHieuMucDichSuDung`, `SoThuTuThua`) are accepted as
//! aliases.
//!
//! Owners, ID numbers and certificates are importable ([`personal`]: `land.parties`,
//! `land.certificates`, `land.parcel_rights`, with the standard's `DC_CaNhan` and
//! `DC_GiayChungNhan` names as aliases) into the restricted schema `land_restricted`, whose
//! `USAGE` is revoked from `PUBLIC`; this crate declares no collection for them, so no endpoint
//! publishes them. Their checks against the database (a right's parcel, party and certificate
//! exist) are the sector's load hook, [`load_hook`].
//!
//! The land-use code lists of TT 08/2024/TT-BTNMT are in [`codes`]; the loader rules of
//! `land.parcels` (brief rules 5–10) are declared, and where they are pure domain logic
//! implemented, in [`rules`]; those of the personal data (brief rule 11) in [`personal`]. The
//! statistics forms of TT 08/2024 (01/TKKK, 03/TKKK) are declared in [`statistics`].

pub mod audit;
pub mod changes;
pub mod codes;
pub mod load_hook;
pub mod owners;
pub mod personal;
pub mod rules;
pub mod statistics;
pub mod style;

use geosector_domain::{
    AccessDecl, AreaDecl, CollectionDecl, Dataset, Field, FieldType as T, FirstElement, GeohashId, GeometrySpec,
    History, Overview, Partitioning, SectorDecl, TileDecl,
};
use geosector_domain::{CatalogueDecl, CatalogueEntry, Frequency, Topic};

/// `land.parcels`: one row per cadastral parcel (thửa đất).
pub const PARCELS: Dataset = Dataset {
    id: "land.parcels",
    description: "Cadastral parcels (thửa đất) with land-use purposes and areas",
    schema: "land",
    table: "parcels",
    fields: &[
        Field::new("commune_code", &["commune_code", "maXa", "ma_xa"], T::Code { digits: 5 }, true),
        Field::new("former_commune_code", &["former_commune_code", "maXaCu", "ma_xa_cu"], T::Code { digits: 5 }, false),
        Field::new("sheet_number", &["sheet_number", "soHieuToBanDo", "so_to"], T::Integer, true),
        Field::new("parcel_number", &["parcel_number", "soThuTuThua", "so_thua"], T::Text, true),
        Field::new("former_sheet_number", &["former_sheet_number", "soHieuToBanDoCu"], T::Integer, false),
        Field::new("former_parcel_number", &["former_parcel_number", "soThuTuThuaCu"], T::Text, false),
        Field::new(
            "land_use_codes",
            &["land_use_codes", "maMucDichSuDung", "KyHieuMucDichSuDung", "loai_dat"],
            T::TextList,
            true,
        ),
        Field::new("land_use_areas_m2", &["land_use_areas_m2", "dienTichMucDichSuDung"], T::FloatList, false),
        Field::new("declared_area_m2", &["declared_area_m2", "dienTich", "area_m2"], T::Float, false),
        Field::new("legal_area_m2", &["legal_area_m2", "dienTichPhapLy"], T::Float, false),
        Field::new("address", &["address", "diaChi"], T::Text, false),
        Field::new("map_scale", &["map_scale", "tyLeBanDo"], T::Integer, false),
        Field::new("survey_date", &["survey_date", "ngayDoDac"], T::Date, false),
        // The national parcel ID (mã định danh thửa đất, TT 19/2026): see [`NATIONAL_ID`].
        Field::new("national_id", &["national_id", "maDinhDanh", "ma_dinh_danh"], T::Text, false),
    ],
    geometry: Some(GeometrySpec::multipolygon(true)),
    conflict_key: None,
    prepare_sql: None,
    partition: Some(Partitioning {
        column: "province_code",
        commune_field: "commune_code",
        // A swap fires no trigger: the importer recomputes the overview cells of the swapped area.
        cells: Some(PARCEL_CELLS),
        tile_geometry_column: Some("geom_3857"),
        first_element_column: Some(FirstElement { column: "main_land_use", of: "land_use_codes" }),
    }),
    rules: rules::PARCEL_RULES,
    history: Some(History { key: &["commune_code", "sheet_number", "parcel_number"], geohash_id: Some(NATIONAL_ID) }),
};

/// The national parcel ID (TT 19/2026, brief §9): 12 GeoHash characters of a point inside the
/// parcel in WGS 84, after the VN-2000 datum shift (the stored geometry is already shifted).
/// The point rule is not published (brief: unconfirmed); geosector takes an interior point of
/// the stored polygon (docs/data-model.md, "National parcel ID"). Computed once, when the parcel
/// is first stored; a file may carry it (checked by brief rule 6).
pub const NATIONAL_ID: GeohashId = GeohashId { column: "national_id", length: 12 };

/// The parcels' land-use cells (`land.parcel_cells`, migration 0008): the tiles draw them below
/// zoom 14 ([`PARCEL_TILES`]), and a swap recomputes them ([`PARCELS`]) by the same rule as
/// `land.refresh_parcel_cells`.
pub const PARCEL_CELLS: Overview = Overview {
    schema: "land",
    table: "parcel_cells",
    finest_zoom: 13,
    class_column: "main_land_use",
    count_column: "parcels",
    area_column: "area_m2",
    class_field: "land_use_codes",
    area_fields: &["legal_area_m2", "declared_area_m2"],
    kept_rows_sql: "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b), main_land_use,
                           coalesce(computed_area_m2, legal_area_m2, declared_area_m2, 0)
                    FROM (SELECT box2d(geom) AS b, main_land_use, computed_area_m2, legal_area_m2, declared_area_m2
                          FROM land.parcels
                          WHERE geom && ST_MakeEnvelope($1, $2, $3, $4, 4326) AND province_code <> ALL ($5)
                          OFFSET 0) AS kept",
};

/// `land.map_sheets`: cadastral map sheets (tờ bản đồ địa chính).
pub const MAP_SHEETS: Dataset = Dataset {
    id: "land.map_sheets",
    description: "Cadastral map sheets (tờ bản đồ địa chính) per commune",
    schema: "land",
    table: "map_sheets",
    fields: &[
        Field::new("commune_code", &["commune_code", "maXa"], T::Code { digits: 5 }, true),
        Field::new("former_commune_code", &["former_commune_code", "maXaCu"], T::Code { digits: 5 }, false),
        Field::new("sheet_number", &["sheet_number", "soHieuToBanDo"], T::Integer, true),
        Field::new("map_scale", &["map_scale", "tyLeBanDo"], T::Integer, false),
        Field::new("survey_date", &["survey_date", "ngayDoDac"], T::Date, false),
    ],
    geometry: Some(GeometrySpec::multipolygon(false)),
    conflict_key: None,
    prepare_sql: None,
    partition: None,
    rules: &[],
    history: Some(History { key: &["commune_code", "sheet_number"], geohash_id: None }),
};

/// Parcels in vector tiles: one by one from zoom 14 (a parcel of 20 m is then about 8 pixels),
/// with the properties a map colours and labels by; below zoom 14, where a tile would hold
/// tens of thousands of sub-pixel parcels, land-use cells (`land.parcel_cells`, migration 0008):
/// squares of 4 pixels coloured by the land use covering most of the parcels' area in them.
pub const PARCEL_TILES: TileDecl = TileDecl {
    properties: Some(&[
        "commune_code",
        "sheet_number",
        "parcel_number",
        "main_land_use",
        "land_use_codes",
        "legal_area_m2",
    ]),
    detail_min_zoom: 14,
    overview: Some(PARCEL_CELLS),
    low_zoom: None,
};

/// Every importable dataset of the land sector (the restricted ones in the order they load).
pub const DATASETS: &[Dataset] =
    &[PARCELS, MAP_SHEETS, personal::PARTIES, personal::CERTIFICATES, personal::PARCEL_RIGHTS];

/// The land sector: its titles (map and styles), datasets and collections; the catalogue lists it.
pub const SECTOR: SectorDecl = SectorDecl {
    id: "land",
    title_vi: "Đất đai",
    title_en: "Land",
    datasets: DATASETS,
    collections: COLLECTIONS,
    change_types: changes::CHANGE_TYPES,
    catalogue: Some(&CATALOGUE),
    reports: statistics::REPORTS,
};

/// What the data catalogue says of the land data (agency, topic, legal basis; the agency is [U]
/// and can be overridden in the catalogue file, docs/catalogue.md).
pub const CATALOGUE: CatalogueDecl = CatalogueDecl {
    agency_vi: "Văn phòng Đăng ký đất đai, Sở Nông nghiệp và Môi trường",
    agency_en: "Land Registration Office, Department of Agriculture and Environment",
    agency_code: "",
    email: "dulieu@example.invalid",
    topic: Topic::PlanningCadastre,
    keywords: &["đất đai", "land"],
    legal_basis: &["Luật Đất đai 31/2024/QH15", "Thông tư 08/2024/TT-BTNMT"],
    licence: "Dữ liệu mở theo Nghị định 194/2025/NĐ-CP / open data under Decree 194/2025/ND-CP",
    frequency: Frequency::Continual,
    entries: &[
        CatalogueEntry {
            keywords: &["bản đồ địa chính", "cadastral map"], ..CatalogueEntry::new("land.map_sheets")
        },
        CatalogueEntry {
            title_vi: Some("Chủ sử dụng đất"),
            title_en: Some("Land users (parties)"),
            description_vi: Some("Người sử dụng đất: họ tên, giấy tờ tùy thân, địa chỉ (dữ liệu cá nhân)."),
            topic: Some(Topic::Society),
            legal_basis: &["Nghị định 13/2023/NĐ-CP (bảo vệ dữ liệu cá nhân)"],
            ..CatalogueEntry::new("land.parties")
        },
        CatalogueEntry {
            title_vi: Some("Giấy chứng nhận quyền sử dụng đất"),
            title_en: Some("Land-use right certificates"),
            description_vi: Some("Giấy chứng nhận: số vào sổ, ngày cấp, cơ quan cấp."),
            ..CatalogueEntry::new("land.certificates")
        },
        CatalogueEntry {
            title_vi: Some("Quyền sử dụng thửa đất"),
            title_en: Some("Rights on parcels"),
            description_vi: Some("Quyền của người sử dụng đất trên từng thửa đất, với tỷ lệ sở hữu."),
            ..CatalogueEntry::new("land.parcel_rights")
        },
    ],
};

/// The land sector's published collections: parcels and map sheets, open by default, then the
/// restricted ones ([`owners`]), closed unless a grant names them.
pub const COLLECTIONS: &[CollectionDecl] = &[
    CollectionDecl {
        id: "land.parcels",
        dataset: &PARCELS,
        title_vi: "Thửa đất",
        title_en: "Cadastral parcels",
        description_vi: "Thửa đất địa chính: số hiệu tờ bản đồ, số thửa, mục đích sử dụng đất (TT 08/2024), diện tích.",
        description_en:
            "Cadastral parcels: map sheet and parcel numbers, land-use purposes (TT 08/2024 codes) and areas.",
        keywords: &["địa chính", "thửa đất", "cadastre", "parcels", "land use"],
        hidden: &[],
        extra: &[("main_land_use", T::Text), ("computed_area_m2", T::Float), ("source_srid", T::Integer)],
        datetime: Some("survey_date"),
        datetime_end: None,
        tiles: PARCEL_TILES,
        style: Some(&style::PARCELS),
        series: None,
        access: AccessDecl::public_in(AreaDecl::Columns {
            province: Some("province_code"),
            commune: Some("commune_code"),
        }),
        relations: &[owners::PARCEL_OWNERS],
    },
    CollectionDecl {
        id: "land.map_sheets",
        dataset: &MAP_SHEETS,
        title_vi: "Tờ bản đồ địa chính",
        title_en: "Cadastral map sheets",
        description_vi: "Khung tờ bản đồ địa chính theo xã.",
        description_en: "Frames of the cadastral map sheets of each commune.",
        keywords: &["địa chính", "tờ bản đồ", "cadastre", "map sheets"],
        hidden: &[],
        extra: &[("source_srid", T::Integer)],
        datetime: Some("survey_date"),
        datetime_end: None,
        tiles: geosector_domain::TileDecl::ALL,
        style: Some(&style::MAP_SHEETS),
        series: None,
        access: AccessDecl::public_in(AreaDecl::commune("commune_code")),
        relations: &[],
    },
    owners::COLLECTIONS[0],
    owners::COLLECTIONS[1],
    owners::COLLECTIONS[2],
    owners::COLLECTIONS[3],
];

#[cfg(test)]
mod tests {
    #[test]
    fn declarations_are_consistent() {
        for d in super::DATASETS {
            d.check().unwrap();
        }
    }

    #[test]
    fn the_overview_covers_every_zoom_below_the_detail() {
        let tiles = super::PARCEL_TILES;
        let cells = tiles.overview.expect("parcels have an overview");
        assert_eq!(cells.finest_zoom + 1, tiles.detail_min_zoom);
        assert!(super::PARCELS.partition.and_then(|p| p.cells).is_some_and(|c| c.table == cells.table));
    }

    #[test]
    fn vietnamese_names_find_their_columns() {
        let f = super::PARCELS.field_for_property("MAXA").unwrap();
        assert_eq!(f.column, "commune_code");
        assert_eq!(super::PARCELS.field_for_property("dienTichPhapLy").unwrap().column, "legal_area_m2");
        assert!(super::PARCELS.field_for_property("tenChu").is_none(), "owner names never go into parcels");
    }
}
