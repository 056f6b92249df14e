//! `filter-crs`: the CRS of the geometry literals of a filter (OGC API - Features Part 3,
//! requirement /req/filter/filter-crs-wkt). CRS84 by default.
//!
//! Coordinates are read in the CRS's axis order: CRS84 is longitude/latitude; EPSG:4326 and
//! EPSG:4756 (VN-2000 geographic) are latitude/longitude, so their literals are flipped first.
//! Projected CRSs (EPSG:3857, VN-2000 UTM and TM-3 zones, custom `VN2000:TM3:<meridian>`) are
//! read easting/northing. Literals in another CRS than the storage one are transformed in SQL
//! with the project's explicit PROJ string (for VN-2000, the one EPSG:6960 rule), bound as a
//! parameter.

use geosector_crs::{Crs, CrsKind};

use crate::FilterError;

/// The CRS of a filter's geometry literals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterCrs {
    /// The PROJ string to transform from, or `None` when literals are already in EPSG:4326.
    pub proj: Option<String>,
    /// Whether literals are written latitude first (and must be flipped).
    pub lat_lon: bool,
    /// Whether coordinates are degrees (a `BBOX` crossing the antimeridian is then split).
    pub geographic: bool,
    /// The CRS's URI, for messages and the `Content-Crs`-like echo.
    pub uri: String,
}

/// The URI of CRS84.
pub const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";

impl FilterCrs {
    /// CRS84: longitude/latitude on WGS 84, the default.
    pub fn crs84() -> FilterCrs {
        FilterCrs { proj: None, lat_lon: false, geographic: true, uri: CRS84.to_owned() }
    }

    /// Reads `filter-crs`: a CRS URI or URN, `EPSG:n`, `CRS84`, or `VN2000:TM3:<meridian>`.
    ///
    /// # Errors
    /// A sentence naming the value and the supported CRSs.
    pub fn parse(text: &str) -> Result<FilterCrs, FilterError> {
        let lower = text.trim().to_ascii_lowercase();
        if lower == "crs84" || lower.ends_with("/ogc/1.3/crs84") || lower.ends_with("ogc:1.3:crs84") {
            return Ok(FilterCrs::crs84());
        }
        let crs = Crs::parse(text).map_err(|e| FilterError::new(e.to_string()))?;
        let geographic = crs.kind == CrsKind::Geographic;
        let uri = match crs.epsg {
            Some(code) => format!("http://www.opengis.net/def/crs/EPSG/0/{code}"),
            None => text.trim().to_owned(),
        };
        Ok(FilterCrs {
            proj: (crs.epsg != Some(4326)).then(|| crs.proj.clone()),
            // EPSG's geographic CRSs are latitude first.
            lat_lon: geographic,
            geographic,
            uri,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_order_and_transforms() {
        let crs84 = FilterCrs::parse("http://www.opengis.net/def/crs/OGC/1.3/CRS84").unwrap();
        assert_eq!(crs84, FilterCrs::crs84());
        let epsg4326 = FilterCrs::parse("http://www.opengis.net/def/crs/EPSG/0/4326").unwrap();
        assert!(epsg4326.lat_lon && epsg4326.proj.is_none());
        let vn = FilterCrs::parse("EPSG:5897").unwrap();
        assert!(!vn.lat_lon && !vn.geographic);
        assert!(vn.proj.unwrap().contains("+towgs84"), "the one VN-2000 rule");
        assert!(FilterCrs::parse("EPSG:2154").is_err());
    }
}
