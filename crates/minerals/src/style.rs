//! How the minerals sector's collections are drawn on the map (geosector's own colours, not an
//! official legend), rendered by the server's style writer.

use geosector_domain::{Outline, StyleDecl};

/// Licence areas: a light purple fill under an outline.
pub const LICENCE_AREAS: StyleDecl = StyleDecl::coloured("#9c4f96");

/// Zones where mining is prohibited or suspended: a light red fill under a dashed outline.
pub const PROHIBITED_ZONES: StyleDecl = StyleDecl { outline: Outline::DASHED, ..StyleDecl::coloured("#d32f2f") };
