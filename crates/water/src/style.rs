//! How the water sector's collections are drawn on the map (geosector's own colours, not an
//! official legend), rendered by the server's style writer.

use geosector_domain::{Fill, StyleDecl};

/// River basins: a very light blue fill under an outline (large areas under everything else).
pub const RIVER_BASINS: StyleDecl =
    StyleDecl { fill: Some(Fill { opacity: 0.08, by_code: None }), ..StyleDecl::coloured("#0277bd") };

/// Water works: blue circles.
pub const WORKS: StyleDecl = StyleDecl::coloured("#0288d1");

/// Hydrological and water-quality stations: teal circles.
pub const STATIONS: StyleDecl = StyleDecl::coloured("#00897b");
