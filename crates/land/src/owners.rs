//! The restricted collections of the land sector: land users, certificates, rights and the
//! owners of each parcel (one relation, the view `land_restricted.owners` of migration 0020).
//!
//! All four are closed by default: only a grant naming them opens them (docs/security.md), and
//! their personal properties are shown whole only to grants that read restricted fields, masked
//! (initials, `0010****1234`, a birth year) to grants that mask them, and not at all to others.
//! Their rows lie in the communes of the parcels the rights are on.

use geosector_domain::{
    AccessDecl, AreaDecl, CollectionDecl, Dataset, Field, FieldType as T, Mask, RelationDecl, TileDecl,
};

use crate::personal;

/// A party's personal properties and their masks.
const PARTY_PERSONAL: &[(&str, Mask)] = &[
    ("full_name", Mask::Initials),
    ("id_number", Mask::KeepEnds),
    ("birth_date", Mask::Year),
    ("address", Mask::Hidden),
];

/// A certificate's identifying numbers.
const CERTIFICATE_PERSONAL: &[(&str, Mask)] =
    &[("certificate_serial", Mask::KeepEnds), ("register_number", Mask::KeepEnds)];

/// Placed by the rights that point at a row (parties, certificates).
const fn placed_by_rights(key: &'static str) -> AreaDecl {
    AreaDecl::Through { schema: "land_restricted", table: "parcel_rights", key, commune: "commune_code" }
}

/// `land_restricted.owners` (a view, not importable): one row per right, with its party and
/// certificate.
pub const OWNERS: Dataset = Dataset {
    id: "land.owners",
    description: "Owners of parcels: rights with their holders and certificates (restricted, a view)",
    schema: "land_restricted",
    table: "owners",
    fields: &[
        Field::new("commune_code", &["commune_code"], T::Code { digits: 5 }, true),
        Field::new("sheet_number", &["sheet_number"], T::Integer, true),
        Field::new("parcel_number", &["parcel_number"], T::Text, true),
        Field::new("share", &["share"], T::Float, false),
        Field::new("party_code", &["party_code"], T::Text, true),
        Field::new("party_type", &["party_type"], T::Text, true),
        Field::new("full_name", &["full_name"], T::Text, true),
        Field::new("id_type", &["id_type"], T::Text, false),
        Field::new("id_number", &["id_number"], T::Text, false),
        Field::new("birth_date", &["birth_date"], T::Date, false),
        Field::new("address", &["address"], T::Text, false),
        Field::new("certificate_code", &["certificate_code"], T::Text, false),
        Field::new("certificate_serial", &["certificate_serial"], T::Text, false),
        Field::new("register_number", &["register_number"], T::Text, false),
        Field::new("issued_on", &["issued_on"], T::Date, false),
    ],
    geometry: None,
    conflict_key: None,
    prepare_sql: None,
    partition: None,
    rules: &[],
    history: None,
};

/// A parcel's owners: the rows of `land.owners` with its cadastral key.
pub const PARCEL_OWNERS: RelationDecl = RelationDecl {
    name: "owners",
    collection: "land.owners",
    keys: &[("commune_code", "commune_code"), ("sheet_number", "sheet_number"), ("parcel_number", "parcel_number")],
    title: "the owners of this parcel (restricted)",
};

const RESTRICTED: CollectionDecl = CollectionDecl {
    id: "",
    dataset: &personal::PARTIES,
    title_vi: "",
    title_en: "",
    description_vi: "",
    description_en: "",
    keywords: &["địa chính", "cadastre", "dữ liệu cá nhân", "personal data"],
    hidden: &[],
    extra: &[],
    datetime: None,
    datetime_end: None,
    tiles: TileDecl::ALL,
    style: None,
    series: None,
    access: AccessDecl { restricted: true, area: None, personal: &[] },
    relations: &[],
};

/// The restricted collections, in the catalogue's order.
pub const COLLECTIONS: [CollectionDecl; 4] = [
    CollectionDecl {
        id: "land.owners",
        dataset: &OWNERS,
        title_vi: "Chủ sử dụng đất theo thửa",
        title_en: "Owners of parcels",
        description_vi: "Quyền sử dụng đất của từng thửa với người sử dụng và giấy chứng nhận (dữ liệu cá nhân).",
        description_en: "Rights on each parcel with their holders and certificates (personal data).",
        access: AccessDecl {
            restricted: true,
            area: Some(AreaDecl::commune("commune_code")),
            personal: &[
                ("full_name", Mask::Initials),
                ("id_number", Mask::KeepEnds),
                ("birth_date", Mask::Year),
                ("address", Mask::Hidden),
                ("certificate_serial", Mask::KeepEnds),
                ("register_number", Mask::KeepEnds),
            ],
        },
        ..RESTRICTED
    },
    CollectionDecl {
        id: "land.parties",
        dataset: &personal::PARTIES,
        title_vi: "Người sử dụng đất",
        title_en: "Land users",
        description_vi: "Cá nhân, hộ gia đình, tổ chức sử dụng đất (dữ liệu cá nhân).",
        description_en: "Persons, households and organisations using land (personal data).",
        access: AccessDecl { restricted: true, area: Some(placed_by_rights("party_id")), personal: PARTY_PERSONAL },
        ..RESTRICTED
    },
    CollectionDecl {
        id: "land.certificates",
        dataset: &personal::CERTIFICATES,
        title_vi: "Giấy chứng nhận quyền sử dụng đất",
        title_en: "Land-use right certificates",
        description_vi: "Giấy chứng nhận: số phát hành, số vào sổ, ngày cấp (dữ liệu cá nhân).",
        description_en: "Certificates: serial, register number, issue date (personal data).",
        datetime: Some("issued_on"),
        datetime_end: None,
        access: AccessDecl {
            restricted: true,
            area: Some(placed_by_rights("certificate_id")),
            personal: CERTIFICATE_PERSONAL,
        },
        ..RESTRICTED
    },
    CollectionDecl {
        id: "land.parcel_rights",
        dataset: &personal::PARCEL_RIGHTS,
        title_vi: "Quyền sử dụng đất theo thửa",
        title_en: "Rights on parcels",
        description_vi: "Thửa đất, người sử dụng, giấy chứng nhận và tỷ lệ (dữ liệu cá nhân).",
        description_en: "Parcel, holder, certificate and share of each right (personal data).",
        access: AccessDecl { restricted: true, area: Some(AreaDecl::commune("commune_code")), personal: &[] },
        ..RESTRICTED
    },
];
