//! How the administrative units are drawn: the map's base layer, outlines only (the map has no
//! other base map offline), names from zoom 10.

use geosector_domain::{Label, Outline, StyleDecl, Width};

/// Unit boundaries: thin dark dashed outlines, no fill, names written by the viewer.
pub const ADMIN_UNITS: StyleDecl = StyleDecl {
    colour: "#6d4c41",
    fill: None,
    outline: Outline {
        colour: None,
        width: Some(Width::Zoom { from: (5, 0.6), to: (14, 1.6) }),
        dashed: true,
        min_zoom: None,
    },
    label: Some(Label {
        property: "name", min_zoom: 10, title_vi: "tên đơn vị hành chính", title_en: "unit names"
    }),
    base: true,
};
