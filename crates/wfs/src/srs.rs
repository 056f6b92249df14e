//! CRS names of WFS requests and answers (`srsName`, a BBOX's CRS, a geometry literal's
//! `srsName`): every CRS of geosector's table, in the axis order its EPSG definition gives.
//!
//! Accepted: `urn:ogc:def:crs:EPSG::n` (written in answers), `http://www.opengis.net/def/crs/EPSG/0/n`,
//! `EPSG:n`, `[EPSG:n]`, CRS84 (`urn:ogc:def:crs:OGC:1.3:CRS84`, `CRS:84`, the http form) and
//! `http://www.opengis.net/gml/srs/epsg.xml#n`. `EPSG:4326` is latitude first in WFS 2.0 as EPSG
//! says; in WFS 1.1.0, and in the `…/gml/srs/epsg.xml#4326` form, it is longitude first, as the
//! clients of that version (MapInfo, ArcGIS 10) and GeoServer read it.

use geosector_crs::{lookup, ApiCrs};
use geosector_filter::FilterCrs;

use crate::request::Version;

/// The CRS features are given in when the request names none.
pub const DEFAULT: ApiCrs = ApiCrs::Epsg(4326);

/// Reads a CRS name.
///
/// # Errors
/// A sentence naming the value and the CRSs offered.
pub fn parse(text: &str, version: Version) -> Result<ApiCrs, String> {
    let t = text.trim();
    let lower = t.to_ascii_lowercase();
    if lower == "crs:84" || lower == "crs84" || lower.ends_with("crs84") {
        return Ok(ApiCrs::Crs84);
    }
    let lon_lat_4326 = |code: u32| if code == 4326 { ApiCrs::Crs84 } else { ApiCrs::Epsg(code) };
    let offered = |code: &str| -> Result<u32, String> {
        code.parse::<u32>().ok().filter(|c| lookup(*c).is_some()).ok_or_else(|| not_offered(t))
    };
    if let Some(code) = lower.strip_prefix("epsg:") {
        let code = offered(code)?;
        return Ok(if version == Version::V110 { lon_lat_4326(code) } else { ApiCrs::Epsg(code) });
    }
    if let Some(code) = lower.strip_prefix("http://www.opengis.net/gml/srs/epsg.xml#") {
        return Ok(lon_lat_4326(offered(code)?));
    }
    ApiCrs::parse(t).map_err(|_| not_offered(t))
}

fn not_offered(text: &str) -> String {
    let codes: Vec<String> = ApiCrs::supported()
        .filter_map(|c| match c {
            ApiCrs::Epsg(code) => Some(code.to_string()),
            ApiCrs::Crs84 => None,
        })
        .collect();
    format!("\"{text}\" is not offered (CRS84 and EPSG {} are, e.g. urn:ogc:def:crs:EPSG::5897)", codes.join(", "))
}

/// The name written in answers: `urn:ogc:def:crs:EPSG::n`, or CRS84's URN.
pub fn name(crs: ApiCrs) -> String {
    match crs {
        ApiCrs::Crs84 => "urn:ogc:def:crs:OGC:1.3:CRS84".to_owned(),
        ApiCrs::Epsg(code) => format!("urn:ogc:def:crs:EPSG::{code}"),
    }
}

/// How a filter's geometry literals in this CRS are read.
pub fn filter_crs(crs: ApiCrs) -> FilterCrs {
    match crs {
        ApiCrs::Crs84 => FilterCrs::crs84(),
        ApiCrs::Epsg(code) => FilterCrs::parse(&format!("EPSG:{code}")).unwrap_or_else(|_| FilterCrs::crs84()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_axis_orders() {
        assert_eq!(parse("urn:ogc:def:crs:EPSG::4326", Version::V200).unwrap(), ApiCrs::Epsg(4326));
        assert_eq!(parse("EPSG:4326", Version::V200).unwrap(), ApiCrs::Epsg(4326));
        assert_eq!(parse("EPSG:4326", Version::V110).unwrap(), ApiCrs::Crs84, "1.1.0 clients mean lon/lat");
        assert_eq!(parse("http://www.opengis.net/def/crs/EPSG/0/5897", Version::V200).unwrap(), ApiCrs::Epsg(5897));
        assert_eq!(parse("http://www.opengis.net/gml/srs/epsg.xml#4326", Version::V200).unwrap(), ApiCrs::Crs84);
        assert_eq!(parse("urn:ogc:def:crs:OGC:1.3:CRS84", Version::V200).unwrap(), ApiCrs::Crs84);
        assert_eq!(parse("EPSG:9210", Version::V110).unwrap(), ApiCrs::Epsg(9210));
        assert!(parse("EPSG:2154", Version::V200).unwrap_err().contains("5897"));
        assert!(parse("nonsense", Version::V200).is_err());
        assert_eq!(name(ApiCrs::Epsg(5897)), "urn:ogc:def:crs:EPSG::5897");
        assert!(filter_crs(ApiCrs::Epsg(4326)).lat_lon);
        assert!(!filter_crs(ApiCrs::Crs84).lat_lon);
        assert!(filter_crs(ApiCrs::Epsg(5897)).proj.is_some());
    }
}
