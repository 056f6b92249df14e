//! How the environment sector's collections are drawn on the map (geosector's own colours, not
//! an official legend), rendered by the server's style writer. Station tiles also carry
//! `aqi_colour`, the VN_AQI band's colour, for clients that colour stations by it.

use geosector_domain::StyleDecl;

/// Monitoring stations: green circles.
pub const STATIONS: StyleDecl = StyleDecl::coloured("#2e7d32");

/// Pollution sources: orange circles.
pub const POLLUTION_SOURCES: StyleDecl = StyleDecl::coloured("#e65100");
