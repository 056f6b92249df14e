//! Land statistics forms of TT 08/2024/TT-BTNMT (brief §10), served at
//! `/statistics/land/{form}`: **01/TKKK**, area by land type × land user and manager, and
//! **03/TKKK**, area by land type × administrative unit, for a commune, a province or the
//! country, at an instant (by default the end of the last 31 December).
//!
//! Rows are the land-type hierarchy of Annex II-A (brief §3): the total, the three groups NNP,
//! PNN, CSD, their sub-groups and the 52 leaf codes; parcels record rice as LUC or LUK, counted
//! under LUA. A stored code with no leaf row (a legacy code, a 2018 group code, a code outside the
//! list) is never dropped: it gets a row of its own under "other codes", unless `legacy=map` asks
//! for the brief's legacy → 2024 list ([`LEGACY_TO_2024`], only its unambiguous entries).
//!
//! What is added up (docs/statistics.md):
//! - the parcels valid at the instant: the live versions begun by then and the history's
//!   versions valid then (`land.parcels_history`, as `store::plan::history` reads them);
//! - per purpose: `land_use_areas_m2` when the parcel has an area for every purpose, else the
//!   whole parcel's area on its first (main) purpose; a parcel's area is its legal area
//!   (`legal_area_m2`, dienTichPhapLy, what the cadastral record states), else its declared area,
//!   else the area computed from its geometry;
//! - each purpose's area rounded (half up) to 0.1 m² (brief rule 8), then summed at full precision and shown
//!   in ha with 2 decimals (brief §10, [U]: declared in [`VALUE`]);
//! - form 01: the users and managers of a parcel are its rights (`land_restricted.parcel_rights`,
//!   by cadastral key) and their parties' `user_code`; the area is split by the rights' shares
//!   (normalised to sum to 1; equal parts when a share is missing). Rights are not versioned: the
//!   current rights apply at every instant. A parcel with no right, or whose party has no user
//!   code of Annex II-B, is counted in the declared column "not recorded" (CXĐ), so that column 4
//!   is the land area: col 4 = 5 + 18 + CXĐ (= 5 + 18 when every parcel has a recorded user).

use geosector_domain::{CellFilter, Columns, ReportColumn, ReportDecl, ReportRow, ValueDecl};

/// The land-type rows of forms 01 and 03: TT 08/2024 Annex II-A, groups then leaves.
pub const LAND_TYPES: &[ReportRow] = &[
    row("TOTAL", "", "Tổng diện tích đất của đơn vị hành chính", "Total area of the administrative unit", None),
    row("NNP", "1", "Nhóm đất nông nghiệp", "Agricultural land", Some("TOTAL")),
    row("CHN", "1.1", "Đất trồng cây hằng năm", "Annual crop land", Some("NNP")),
    row("LUA", "1.1.1", "Đất trồng lúa", "Rice land", Some("CHN")),
    row("HNK", "1.1.2", "Đất trồng cây hằng năm khác", "Other annual crop land", Some("CHN")),
    row("CLN", "1.2", "Đất trồng cây lâu năm", "Perennial crop land", Some("NNP")),
    row("LNP", "1.3", "Đất lâm nghiệp", "Forestry land", Some("NNP")),
    row("RDD", "1.3.1", "Đất rừng đặc dụng", "Special-use forest", Some("LNP")),
    row("RPH", "1.3.2", "Đất rừng phòng hộ", "Protection forest", Some("LNP")),
    row("RSX", "1.3.3", "Đất rừng sản xuất", "Production forest", Some("LNP")),
    row("NTS", "1.4", "Đất nuôi trồng thủy sản", "Aquaculture land", Some("NNP")),
    row("CNT", "1.5", "Đất chăn nuôi tập trung", "Concentrated livestock land", Some("NNP")),
    row("LMU", "1.6", "Đất làm muối", "Salt-making land", Some("NNP")),
    row("NKH", "1.7", "Đất nông nghiệp khác", "Other agricultural land", Some("NNP")),
    row("PNN", "2", "Nhóm đất phi nông nghiệp", "Non-agricultural land", Some("TOTAL")),
    row("OTC", "2.1", "Đất ở", "Residential land", Some("PNN")),
    row("ONT", "2.1.1", "Đất ở tại nông thôn", "Rural residential land", Some("OTC")),
    row("ODT", "2.1.2", "Đất ở tại đô thị", "Urban residential land", Some("OTC")),
    row("TSC", "2.2", "Đất xây dựng trụ sở cơ quan", "Land for offices of agencies", Some("PNN")),
    row("CQA", "2.3", "Đất quốc phòng, an ninh", "Defence and security land", Some("PNN")),
    row("CQP", "2.3.1", "Đất quốc phòng", "Defence land", Some("CQA")),
    row("CAN", "2.3.2", "Đất an ninh", "Security land", Some("CQA")),
    row("DSN", "2.4", "Đất xây dựng công trình sự nghiệp", "Land for public-service works", Some("PNN")),
    row("DVH", "2.4.1", "Đất xây dựng cơ sở văn hóa", "Cultural facilities", Some("DSN")),
    row("DXH", "2.4.2", "Đất xây dựng cơ sở xã hội", "Social facilities", Some("DSN")),
    row("DYT", "2.4.3", "Đất xây dựng cơ sở y tế", "Health facilities", Some("DSN")),
    row("DGD", "2.4.4", "Đất xây dựng cơ sở giáo dục và đào tạo", "Education and training facilities", Some("DSN")),
    row("DTT", "2.4.5", "Đất xây dựng cơ sở thể dục, thể thao", "Sports facilities", Some("DSN")),
    row("DKH", "2.4.6", "Đất xây dựng cơ sở khoa học và công nghệ", "Science and technology facilities", Some("DSN")),
    row("DMT", "2.4.7", "Đất xây dựng cơ sở môi trường", "Environmental facilities", Some("DSN")),
    row("DKT", "2.4.8", "Đất xây dựng cơ sở khí tượng thủy văn", "Hydro-meteorological facilities", Some("DSN")),
    row("DNG", "2.4.9", "Đất xây dựng cơ sở ngoại giao", "Diplomatic facilities", Some("DSN")),
    row("DSK", "2.4.10", "Đất xây dựng công trình sự nghiệp khác", "Other public-service works", Some("DSN")),
    row(
        "CSK",
        "2.5",
        "Đất sản xuất, kinh doanh phi nông nghiệp",
        "Non-agricultural production and business land",
        Some("PNN"),
    ),
    row("SKK", "2.5.1", "Đất khu công nghiệp", "Industrial zones", Some("CSK")),
    row("SKN", "2.5.2", "Đất cụm công nghiệp", "Industrial clusters", Some("CSK")),
    row("SCT", "2.5.3", "Đất khu công nghệ thông tin tập trung", "Concentrated IT parks", Some("CSK")),
    row("TMD", "2.5.4", "Đất thương mại, dịch vụ", "Trade and services", Some("CSK")),
    row("SKC", "2.5.5", "Đất cơ sở sản xuất phi nông nghiệp", "Non-agricultural production facilities", Some("CSK")),
    row("SKS", "2.5.6", "Đất sử dụng cho hoạt động khoáng sản", "Mineral activities", Some("CSK")),
    row("CCC", "2.6", "Đất sử dụng vào mục đích công cộng", "Public-purpose land", Some("PNN")),
    row("DGT", "2.6.1", "Đất công trình giao thông", "Transport works", Some("CCC")),
    row("DTL", "2.6.2", "Đất công trình thủy lợi", "Irrigation works", Some("CCC")),
    row("DCT", "2.6.3", "Đất công trình cấp nước, thoát nước", "Water supply and drainage works", Some("CCC")),
    row("DPC", "2.6.4", "Đất công trình phòng, chống thiên tai", "Disaster prevention works", Some("CCC")),
    row(
        "DDD",
        "2.6.5",
        "Đất có di tích lịch sử - văn hóa, danh lam thắng cảnh, di sản thiên nhiên",
        "Relics, scenic spots, natural heritage",
        Some("CCC"),
    ),
    row("DRA", "2.6.6", "Đất công trình xử lý chất thải", "Waste treatment works", Some("CCC")),
    row(
        "DNL",
        "2.6.7",
        "Đất công trình năng lượng, chiếu sáng công cộng",
        "Energy and public lighting works",
        Some("CCC"),
    ),
    row(
        "DBV",
        "2.6.8",
        "Đất công trình hạ tầng bưu chính, viễn thông, công nghệ thông tin",
        "Post, telecom and IT infrastructure",
        Some("CCC"),
    ),
    row("DCH", "2.6.9", "Đất chợ dân sinh, chợ đầu mối", "Markets", Some("CCC")),
    row(
        "DKV",
        "2.6.10",
        "Đất khu vui chơi, giải trí công cộng, sinh hoạt cộng đồng",
        "Public recreation and community activities",
        Some("CCC"),
    ),
    row("TTN", "2.7", "Đất tôn giáo, tín ngưỡng", "Religious and belief land", Some("PNN")),
    row("TON", "2.7.1", "Đất tôn giáo", "Religious land", Some("TTN")),
    row("TIN", "2.7.2", "Đất tín ngưỡng", "Belief land", Some("TTN")),
    row(
        "NTD",
        "2.8",
        "Đất nghĩa trang, nhà tang lễ, cơ sở hỏa táng",
        "Cemeteries, funeral homes, crematoria",
        Some("PNN"),
    ),
    row("SMN", "2.9", "Đất có mặt nước", "Land with water surface", Some("PNN")),
    row(
        "MNC",
        "2.9.1",
        "Đất có mặt nước chuyên dùng (ao, hồ, đầm, phá)",
        "Specialised water surface (ponds, lakes, lagoons)",
        Some("SMN"),
    ),
    row("SON", "2.9.2", "Đất sông, ngòi, kênh, rạch, suối", "Rivers, canals, streams", Some("SMN")),
    row("PNK", "2.10", "Đất phi nông nghiệp khác", "Other non-agricultural land", Some("PNN")),
    row("CSD", "3", "Nhóm đất chưa sử dụng", "Unused land", Some("TOTAL")),
    row(
        "CGT",
        "3.1",
        "Đất do Nhà nước thu hồi chưa giao, chưa cho thuê",
        "Land recovered, not yet allocated or leased",
        Some("CSD"),
    ),
    row("BCS", "3.2", "Đất bằng chưa sử dụng", "Unused flat land", Some("CSD")),
    row("DCS", "3.3", "Đất đồi núi chưa sử dụng", "Unused hilly land", Some("CSD")),
    row("NCS", "3.4", "Núi đá không có rừng cây", "Rocky mountains without forest", Some("CSD")),
    row("MCS", "3.5", "Đất có mặt nước chưa sử dụng", "Unused water surface", Some("CSD")),
    row("OTHER", "4", "Mã loại đất khác (ngoài TT 08/2024)", "Other codes (outside TT 08/2024)", Some("TOTAL")),
];

const fn row(
    key: &'static str,
    number: &'static str,
    label_vi: &'static str,
    label_en: &'static str,
    parent: Option<&'static str>,
) -> ReportRow {
    ReportRow { key, number, label_vi, label_en, parent }
}

const fn col(
    key: &'static str,
    number: &'static str,
    label_vi: &'static str,
    label_en: &'static str,
    sum_of: &'static [&'static str],
) -> ReportColumn {
    ReportColumn { key, number, label_vi, label_en, sum_of, fallback: false }
}

/// Parcels record rice as LUC or LUK; the forms count both as LUA (brief §3).
pub const RICE: &[(&str, &str)] = &[("LUC", "LUA"), ("LUK", "LUA")];

/// The brief's legacy → 2024 list ([U], from names), its unambiguous entries only (DCK, DTS, TTN
/// and SMN have several candidates and keep their own rows). Applied with `legacy=map`.
pub const LEGACY_TO_2024: &[(&str, &str)] = &crate::codes::join::<24>(
    &crate::codes::LEGACY_ONE_TO_ONE,
    &[("DDT", "DDD"), ("DDL", "DDD"), ("DSH", "DKV"), ("SKT", "SKK")],
);

const USERS: &[&str] = &["CNV", "CNN", "TCN", "TSN", "TXH", "TKT", "TKH", "TTG", "CDS", "TNG", "NGV", "TVN"];
const MANAGERS: &[&str] = &["TCQ", "TSQ", "KTQ", "CDQ"];

/// Form 01's columns (brief §10): 4 total = 5 + 18 (+ not recorded), 5 users = Σ 6–17, 18
/// managers = Σ 19–22, and the declared "not recorded" column.
pub const FORM_01_COLUMNS: &[ReportColumn] = &[
    col("TOTAL", "4", "Tổng diện tích", "Total area", &["NSD", "NQL", "CXD"]),
    col("NSD", "5", "Người sử dụng đất: tổng", "Land users: total", USERS),
    col("CNV", "6", "Cá nhân trong nước", "Domestic individuals", &[]),
    col("CNN", "7", "Người Việt Nam định cư ở nước ngoài", "Overseas Vietnamese", &[]),
    col("TCN", "8", "Cơ quan nhà nước, Đảng, lực lượng vũ trang", "State, party or armed-forces bodies", &[]),
    col("TSN", "9", "Đơn vị sự nghiệp công lập", "Public service units", &[]),
    col("TXH", "10", "Tổ chức chính trị xã hội, xã hội - nghề nghiệp", "Social(-professional) organisations", &[]),
    col("TKT", "11", "Tổ chức kinh tế", "Economic organisations", &[]),
    col("TKH", "12", "Tổ chức khác", "Other organisations", &[]),
    col("TTG", "13", "Tổ chức tôn giáo", "Religious organisations", &[]),
    col("CDS", "14", "Cộng đồng dân cư", "Communities", &[]),
    col("TNG", "15", "Tổ chức nước ngoài có chức năng ngoại giao", "Foreign diplomatic organisations", &[]),
    col("NGV", "16", "Người gốc Việt Nam định cư ở nước ngoài", "Persons of Vietnamese origin abroad", &[]),
    col("TVN", "17", "Tổ chức kinh tế có vốn đầu tư nước ngoài", "Foreign-invested economic organisations", &[]),
    col("NQL", "18", "Người quản lý đất: tổng", "Land managers: total", MANAGERS),
    col("TCQ", "19", "Cơ quan nhà nước", "State bodies", &[]),
    col("TSQ", "20", "Đơn vị sự nghiệp công lập", "Public service units", &[]),
    col("KTQ", "21", "Tổ chức kinh tế", "Economic organisations", &[]),
    col("CDQ", "22", "Cộng đồng dân cư", "Communities", &[]),
    ReportColumn {
        key: "CXD",
        number: "CXĐ",
        label_vi: "Chưa ghi nhận người sử dụng, quản lý",
        label_en: "User or manager not recorded",
        sum_of: &[],
        fallback: true,
    },
];

/// Display: ha, 2 decimals; each purpose's area rounded to 0.1 m² before it is added (brief §10
/// and rule 8, both [U]: change them here).
pub const VALUE: ValueDecl = ValueDecl {
    unit: "ha",
    divisor: 10_000.0,
    decimals: 2,
    rounding: "m² to 0.1 per purpose (brief rule 8), summed at full precision, shown in ha with 2 decimals",
};

/// The cells' parcels in `land.parcels` items: the row's codes in `land_use_codes`, the unit's
/// communes in `commune_code`.
pub const CELLS: CellFilter =
    CellFilter { codes_property: "land_use_codes", commune_property: "commune_code", columns_filterable: false };

/// The parcels valid at `$1` in the communes `$2` (NULL: all) as `parcels(commune_code,
/// sheet_number, parcel_number, land_use_codes, land_use_areas_m2, area_m2, complete)`:
/// `area_m2` the parcel's area (legal, else declared, else computed), `complete` whether every
/// purpose has its own area. The communes are matched by `IN (SELECT unnest($2))`, a hashed
/// lookup even in a generic plan (`= ANY ($2)` is hashed only for a constant array).
macro_rules! parcels_at {
    () => {
        "WITH parcels AS (
    SELECT *, land_use_areas_m2 IS NOT NULL AND array_position(land_use_areas_m2, NULL) IS NULL AS complete
    FROM (
        SELECT commune_code, sheet_number, parcel_number, land_use_codes, land_use_areas_m2,
               coalesce(legal_area_m2, declared_area_m2, computed_area_m2, 0) AS area_m2
        FROM land.parcels
        WHERE version_from <= $1::timestamptz
          AND ($2::text[] IS NULL OR commune_code IN (SELECT unnest($2::text[])))
        UNION ALL
        SELECT commune_code, sheet_number, parcel_number, land_use_codes, land_use_areas_m2,
               coalesce(legal_area_m2, declared_area_m2, computed_area_m2, 0)
        FROM land.parcels_history
        WHERE version_from <= $1::timestamptz AND version_to > $1::timestamptz
          AND ($2::text[] IS NULL OR commune_code IN (SELECT unnest($2::text[])))
    ) AS versions
)"
    };
}

/// The grouping of the first pass: a parcel without complete per-purpose areas by its main
/// purpose (`main`), one with them by its codes and areas (`codes`, `areas`).
macro_rules! purpose_keys {
    () => {
        "CASE WHEN complete THEN NULL ELSE land_use_codes[1] END AS main,
           CASE WHEN complete THEN land_use_codes END AS codes,
           CASE WHEN complete THEN land_use_areas_m2 END AS areas"
    };
}

/// The second pass over `pre(column_key, main, codes, areas, n, m2)`: the main-purpose groups
/// as they are, the others' purposes unnested (each area rounded half up to 0.1 m², times the
/// group's weight `n`). Rows of the same row and column key are added up by the server.
macro_rules! purposes_out {
    () => {
        "
SELECT main AS row_key, column_key, m2::float8 AS value FROM pre WHERE codes IS NULL
UNION ALL
SELECT x.code, pre.column_key, (pre.n * (floor(x.m2 * 10 + 0.5) / 10))::float8
FROM pre CROSS JOIN LATERAL unnest(pre.codes, pre.areas) AS x(code, m2)
WHERE pre.codes IS NOT NULL"
    };
}

/// Form 01's aggregate: area per code × the user code of each right (shares normalised per
/// parcel; `''` when the parcel has no right or the party no user code).
///
/// Two passes, so that the common parcel (no per-purpose areas) costs one hash-aggregate step
/// (benchmarked, docs/benchmarks.md): first grouped by user and main purpose (or, for a parcel
/// with complete per-purpose areas, by its codes and areas), each parcel's area rounded half up
/// to 0.1 m² (areas are never negative) and weighted by its holder's share; then the groups with
/// codes unnested into their purposes. Rounding is in `float8`.
pub const FORM_01_SQL: &str = concat!(
    parcels_at!(),
    ", holders AS (
    SELECT r.commune_code, r.sheet_number, r.parcel_number, coalesce(pt.user_code, '') AS user_code,
           CASE WHEN count(*) FILTER (WHERE r.share IS NULL) OVER w > 0 THEN 1.0::float8 / count(*) OVER w
                ELSE r.share / sum(r.share) OVER w END AS weight
    FROM land_restricted.parcel_rights r
    LEFT JOIN land_restricted.parties pt ON pt.id = r.party_id
    WHERE $2::text[] IS NULL OR r.commune_code IN (SELECT unnest($2::text[]))
    WINDOW w AS (PARTITION BY r.commune_code, r.sheet_number, r.parcel_number)
), pre AS (
    SELECT coalesce(h.user_code, '') AS column_key, ",
    purpose_keys!(),
    ",
           sum(coalesce(h.weight, 1)) AS n,
           sum(coalesce(h.weight, 1) * floor(p.area_m2 * 10 + 0.5) / 10) AS m2
    FROM parcels p
    LEFT JOIN holders h USING (commune_code, sheet_number, parcel_number)
    GROUP BY 1, 2, 3, 4
)",
    purposes_out!()
);

/// Form 03's aggregate: area per code × commune (the server rolls communes up to the units),
/// in the same two passes as form 01's.
pub const FORM_03_SQL: &str = concat!(
    parcels_at!(),
    ", pre AS (
    SELECT commune_code AS column_key, ",
    purpose_keys!(),
    ",
           count(*)::float8 AS n,
           sum(floor(area_m2 * 10 + 0.5) / 10) AS m2
    FROM parcels
    GROUP BY 1, 2, 3, 4
)",
    purposes_out!()
);

const NOTES: &[(&str, &str)] = &[
    (
        "Diện tích thửa: diện tích pháp lý, nếu không có thì diện tích kê khai, nếu không có thì diện tích tính từ hình thể. Thửa nhiều mục đích: diện tích từng mục đích nếu có đủ, nếu không thì cả thửa tính cho mục đích chính.",
        "Parcel area: the legal area, else the declared area, else the area computed from the geometry. Mixed-use parcels: each purpose's area when every purpose has one, else the whole parcel on its main purpose.",
    ),
    (
        "LUC và LUK được tính vào LUA. Mã không thuộc danh mục TT 08/2024 được liệt kê riêng ở mục 4 (legacy=map: quy đổi mã cũ theo bảng chuyển đổi).",
        "LUC and LUK are counted as LUA. Codes outside TT 08/2024 are listed on their own under row 4 (legacy=map: old codes mapped by the conversion list).",
    ),
];

/// Form 01/TKKK.
pub const FORM_01: ReportDecl = ReportDecl {
    id: "01",
    aliases: &["01-tkkk", "01tkkk", "01_tkkk"],
    code: "01/TKKK",
    title_vi: "Thống kê, kiểm kê diện tích đất đai theo loại đất và đối tượng sử dụng, quản lý",
    title_en: "Land area by land type and land user or manager",
    basis: "TT 08/2024/TT-BTNMT",
    collection: "land.parcels",
    rows: LAND_TYPES,
    row_aliases: RICE,
    optional_mapping: LEGACY_TO_2024,
    other_row: "OTHER",
    columns: Columns::Fixed(FORM_01_COLUMNS),
    sql: FORM_01_SQL,
    value: VALUE,
    cell_filter: CELLS,
    notes: &[
        NOTES[0],
        NOTES[1],
        (
            "Người sử dụng, quản lý: theo quyền trên thửa (hiện tại) và mã đối tượng của người có quyền, chia theo tỷ lệ sở hữu. Cột CXĐ: thửa chưa ghi nhận người sử dụng; cột 4 = 5 + 18 + CXĐ.",
            "Users and managers: the parcel's (current) rights and their holders' user codes, split by share. Column CXĐ: parcels with no recorded user; column 4 = 5 + 18 + CXĐ.",
        ),
    ],
};

/// Form 03/TKKK.
pub const FORM_03: ReportDecl = ReportDecl {
    id: "03",
    aliases: &["03-tkkk", "03tkkk", "03_tkkk"],
    code: "03/TKKK",
    title_vi: "Thống kê, kiểm kê diện tích đất đai theo đơn vị hành chính",
    title_en: "Land area by land type and administrative unit",
    columns: Columns::Units { total_number: "4" },
    sql: FORM_03_SQL,
    cell_filter: CellFilter { columns_filterable: true, ..CELLS },
    notes: &[NOTES[0], NOTES[1]],
    // The rows, the codes' aliases and mapping, the value and its rounding: form 01's.
    ..FORM_01
};

/// The land sector's statistics forms.
pub const REPORTS: &[ReportDecl] = &[FORM_01, FORM_03];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hierarchy_has_the_52_leaves_of_annex_ii_a() {
        for form in REPORTS {
            form.check().unwrap();
        }
        let leaves: Vec<&str> =
            LAND_TYPES.iter().filter(|r| FORM_01.is_leaf(r.key) && r.key != "OTHER").map(|r| r.key).collect();
        assert_eq!(leaves.len(), 52, "{leaves:?}");
        // Every current code of the import's list maps onto a leaf, except the 2018 ones the
        // brief lists as not 2024 codes.
        for (code, _) in crate::codes::CURRENT {
            let row = FORM_01.row_for(code, false);
            assert_eq!(row.is_none(), ["DSO", "DDT", "DCK", "DSH"].contains(code), "{code}");
        }
        assert_eq!(FORM_01.row_for("LUC", false).map(|r| r.key), Some("LUA"));
        assert_eq!(FORM_01.row_for("LNQ", true).map(|r| r.key), Some("CLN"));
        assert_eq!(FORM_01.row_for("LUN", true).map(|r| r.key), Some("LUA"), "LUN → LUK → LUA");
        for (from, to) in LEGACY_TO_2024 {
            assert!(FORM_01.row_for(from, true).is_some(), "{from} → {to} lands on a leaf");
        }
    }

    #[test]
    fn column_4_is_5_plus_18_plus_not_recorded() {
        let Columns::Fixed(columns) = FORM_01.columns else { panic!("fixed") };
        let numbers = |keys: &[&str]| -> Vec<&str> {
            keys.iter().map(|k| columns.iter().find(|c| c.key == *k).unwrap().number).collect()
        };
        assert_eq!(numbers(columns[0].sum_of), ["5", "18", "CXĐ"]);
        assert_eq!(numbers(columns[1].sum_of), (6..=17).map(|n| n.to_string()).collect::<Vec<_>>());
        assert_eq!(numbers(columns[14].sum_of), ["19", "20", "21", "22"]);
        assert_eq!(FORM_01.column_for("XYZ").map(|c| c.key), Some("CXD"));
        assert!(FORM_01_SQL.contains("$1::timestamptz") && FORM_01_SQL.contains("$2::text[]"));
        assert!(!FORM_03_SQL.contains("land_restricted"), "form 03 reads no restricted table");
    }
}
