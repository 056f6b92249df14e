//! The colours of parcels by land use (TT 08/2024/TT-BTNMT Annex II-A codes, [`crate::codes`]) and
//! the styles of the land sector's collections, rendered by the server's style writer.
//!
//! **Our colours, not the official legend** of TT 08/2024 (the sources the project works from
//! give no official colours). Groups share a hue (rice yellows, annual crops orange, perennial
//! crops yellow-green, forests greens, water blues, residential pinks and reds, public services
//! purples, industry violets, transport and infrastructure greys, unused land beiges) and every
//! code has its own shade. [`LAND_USE`] is the one table to edit.

use geosector_domain::{CodeColours, CodeGroup, Fill, Label, Outline, StyleDecl, Width};

/// Fill colours of parcels by main land-use code, in legend groups; legacy codes (TT 25/2014,
/// TT 27/2018) take the colour of the current code they became; other codes are light grey.
pub const LAND_USE: CodeColours = CodeColours {
    property: "main_land_use",
    title_vi: "Chú giải mục đích sử dụng đất (màu của geosector, không phải chú giải chính thức)",
    title_en: "Land-use legend (geosector's colours, not the official legend)",
    groups: LAND_USE_GROUPS,
    legacy: LEGACY_LAND_USE,
    unknown: "#cfcfcf",
};

const LAND_USE_GROUPS: &[CodeGroup] = &[
    CodeGroup { title_vi: "Đất trồng lúa", title_en: "Rice", codes: &[("LUC", "#f2d33c"), ("LUK", "#f7e68a")] },
    CodeGroup {
        title_vi: "Đất trồng cây hằng năm khác", title_en: "Other annual crops", codes: &[("HNK", "#f5b461")]
    },
    CodeGroup { title_vi: "Đất trồng cây lâu năm", title_en: "Perennial crops", codes: &[("CLN", "#c3d45c")] },
    CodeGroup {
        title_vi: "Đất rừng",
        title_en: "Forest",
        codes: &[("RDD", "#1f7a45"), ("RPH", "#3c9a4f"), ("RSX", "#7dbb5a")],
    },
    CodeGroup {
        title_vi: "Đất nông nghiệp khác",
        title_en: "Aquaculture, livestock, salt, other agriculture",
        codes: &[("NTS", "#6cc3d5"), ("CNT", "#d9b48f"), ("LMU", "#d4e3ee"), ("NKH", "#d8e7a9")],
    },
    CodeGroup { title_vi: "Đất ở", title_en: "Residential", codes: &[("ONT", "#f19aa4"), ("ODT", "#d9475a")] },
    CodeGroup {
        title_vi: "Đất xây dựng trụ sở, quốc phòng, an ninh",
        title_en: "Offices, defence, security",
        codes: &[("TSC", "#e0835b"), ("CQP", "#8a6a5c"), ("CAN", "#a48b7e")],
    },
    CodeGroup {
        title_vi: "Đất xây dựng công trình sự nghiệp",
        title_en: "Public services",
        codes: &[
            ("DVH", "#c991d6"),
            ("DYT", "#b05fc4"),
            ("DGD", "#9d4fb5"),
            ("DTT", "#d6a9e3"),
            ("DKH", "#8e63b8"),
            ("DSK", "#bf8fcf"),
            ("DSO", "#a77cc0"),
        ],
    },
    CodeGroup {
        title_vi: "Đất sản xuất, kinh doanh phi nông nghiệp",
        title_en: "Industry, commerce, mining",
        codes: &[("SKK", "#8f86c2"), ("SKN", "#a39bd0"), ("TMD", "#f27d52"), ("SKC", "#b3a9d9"), ("SKS", "#7d6657")],
    },
    CodeGroup {
        title_vi: "Đất công trình công cộng",
        title_en: "Transport and public works",
        codes: &[
            ("DGT", "#b4b4b4"),
            ("DTL", "#5fa8e0"),
            ("DDT", "#c4a57a"),
            ("DRA", "#7a6a5a"),
            ("DCK", "#cfc6c0"),
            ("DSH", "#e3c2e8"),
            ("DKV", "#9fd49d"),
            ("DNL", "#f0c940"),
            ("DBV", "#8fa3ad"),
        ],
    },
    CodeGroup {
        title_vi: "Đất nghĩa trang, tôn giáo, tín ngưỡng",
        title_en: "Cemeteries, religion",
        codes: &[("NTD", "#5e5e5e"), ("TON", "#ab98d6"), ("TIN", "#8d74c9")],
    },
    CodeGroup {
        title_vi: "Đất sông, mặt nước",
        title_en: "Rivers and water surfaces",
        codes: &[("SON", "#3fb4ea"), ("MNC", "#86cff2")],
    },
    CodeGroup {
        title_vi: "Đất phi nông nghiệp khác",
        title_en: "Other non-agricultural",
        codes: &[("PNK", "#dedede")],
    },
    CodeGroup {
        title_vi: "Đất chưa sử dụng",
        title_en: "Unused land",
        codes: &[("BCS", "#efe8d2"), ("DCS", "#d6ccaa"), ("NCS", "#b5ac94")],
    },
];

/// Legacy codes (TT 25/2014, TT 27/2018) and the current code whose colour they take.
/// Besides the one-to-one ones, a crop code that became annual crops, and planning codes
/// coloured like the code closest in use.
const LEGACY_LAND_USE: &[(&str, &str)] = &crate::codes::join::<24>(
    &crate::codes::LEGACY_ONE_TO_ONE,
    &[("COC", "HNK"), ("KCN", "SKK"), ("DDL", "DDT"), ("DTS", "TSC")],
);

/// Parcels: an opaque fill by `main_land_use` (the same colours whether the tile holds parcels
/// or, at low zooms, generalised land-use cells, which carry the same property); outlines only
/// from zoom 15, where parcels are big enough to see; parcel numbers from zoom 17.
pub const PARCELS: StyleDecl = StyleDecl {
    colour: "#6b5844",
    fill: Some(Fill { opacity: 1.0, by_code: Some(&LAND_USE) }),
    outline: Outline {
        colour: None,
        width: Some(Width::Zoom { from: (15, 0.3), to: (19, 1.2) }),
        dashed: false,
        min_zoom: Some(15),
    },
    label: Some(Label {
        property: "parcel_number",
        min_zoom: 17,
        title_vi: "Số thửa (từ mức 17)",
        title_en: "Parcel numbers (from zoom 17)",
    }),
    base: false,
};

/// Map sheets: frames, drawn as a dashed outline only.
pub const MAP_SHEETS: StyleDecl = StyleDecl { fill: None, outline: Outline::DASHED, ..StyleDecl::coloured("#6d4c41") };

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_one_distinct_colour() {
        let mut seen = std::collections::HashSet::new();
        for (code, colour) in LAND_USE.codes() {
            assert!(seen.insert(*colour), "{code}: colour {colour} used twice");
            assert!(colour.len() == 7 && colour.starts_with('#'), "{code}: {colour}");
        }
        for (code, _) in crate::codes::CURRENT {
            assert_ne!(LAND_USE.colour(code), LAND_USE.unknown, "{code} has no colour");
        }
        for (legacy, current) in LEGACY_LAND_USE {
            assert!(LAND_USE.codes().any(|(c, _)| c == current), "{legacy} becomes {current}, which has no colour");
        }
        assert_eq!(LAND_USE.colour("LNQ"), LAND_USE.colour("CLN"));
        assert_eq!(LAND_USE.colour("XYZ"), LAND_USE.unknown);
    }
}
