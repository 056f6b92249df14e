//! CRS identifiers of OGC APIs (OGC API - Features - Part 2: Coordinate Reference Systems by
//! Reference, OGC 18-058r1): the URIs a server lists and a client names in `crs` and
//! `bbox-crs`, and the axis order each one implies.
//!
//! Two identifiers name WGS 84 and they differ only in axis order: `OGC/1.3/CRS84` is
//! longitude, latitude (the GeoJSON default and geosector's storage order), while `EPSG/0/4326`
//! is latitude, longitude as its EPSG definition says. Every other CRS of the table is named by
//! its EPSG URI and follows its EPSG axis order ([`AxisOrder`]).
//!
//! Accepted spellings: the OGC URIs (`http://www.opengis.net/def/crs/EPSG/0/5897`,
//! `http://www.opengis.net/def/crs/OGC/1.3/CRS84`, `https` too, any version segment), the safe
//! CURIEs (`[EPSG:5897]`, `[OGC:CRS84]`) and the OGC URNs (`urn:ogc:def:crs:EPSG::5897`). A bare
//! `EPSG:4326` is refused: whether it means lat/lon or lon/lat depends on who wrote it.

use std::fmt;

use crate::table::{lookup, AxisOrder, CrsDef, KNOWN_CRS};
use crate::{Crs, CrsError};

/// The URI of OGC CRS84 (WGS 84, longitude then latitude).
pub const CRS84_URI: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";

/// A CRS as an OGC API names it: CRS84, or an EPSG code of the built-in table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ApiCrs {
    /// WGS 84 longitude, latitude: the default of OGC API - Features and of GeoJSON.
    #[default]
    Crs84,
    /// An EPSG CRS of the built-in table, with its EPSG axis order (always a code of
    /// [`KNOWN_CRS`]: [`ApiCrs::parse`] and [`ApiCrs::supported`] make no other).
    Epsg(u32),
}

impl ApiCrs {
    /// Every CRS an OGC API of geosector offers: CRS84 first, then the table in its order.
    pub fn supported() -> impl Iterator<Item = ApiCrs> {
        std::iter::once(ApiCrs::Crs84).chain(KNOWN_CRS.iter().map(|d| ApiCrs::Epsg(d.epsg)))
    }

    /// Reads a CRS URI, safe CURIE or URN (see the module documentation).
    ///
    /// # Errors
    /// [`CrsError::NotOffered`] when the text is not such an identifier, or names a CRS that
    /// is not in the table.
    pub fn parse(text: &str) -> Result<ApiCrs, CrsError> {
        let lower = text.trim().to_ascii_lowercase();
        let (authority, code) = split_identifier(&lower).ok_or_else(|| {
            CrsError::NotOffered(format!(
                "\"{}\" (name a CRS by its URI, e.g. http://www.opengis.net/def/crs/EPSG/0/5897, or a safe CURIE such as [EPSG:5897])",
                text.trim()
            ))
        })?;
        match (authority, code) {
            ("ogc", "crs84") => Ok(ApiCrs::Crs84),
            ("epsg", code) => {
                let def =
                    code.parse::<u32>().ok().and_then(lookup).ok_or_else(|| not_offered(&format!("EPSG:{code}")))?;
                Ok(ApiCrs::Epsg(def.epsg))
            }
            (authority, code) => Err(not_offered(&format!("{}:{code}", authority.to_ascii_uppercase()))),
        }
    }

    /// The canonical URI (`http://www.opengis.net/def/crs/EPSG/0/5897`).
    pub fn uri(&self) -> String {
        match self {
            ApiCrs::Crs84 => CRS84_URI.to_owned(),
            ApiCrs::Epsg(code) => format!("http://www.opengis.net/def/crs/EPSG/0/{code}"),
        }
    }

    /// The table entry (EPSG:4326 for CRS84, whose datum and units it shares).
    pub fn def(&self) -> &'static CrsDef {
        let code = match self {
            ApiCrs::Crs84 => 4326,
            ApiCrs::Epsg(code) => *code,
        };
        lookup(code).or_else(|| lookup(4326)).unwrap_or_else(|| unreachable!("4326 is in the table"))
    }

    /// The PROJ string of its coordinates in x = east, y = north order (the table's string).
    pub fn proj(&self) -> String {
        self.def().proj()
    }

    /// The [`Crs`] of the table, for a [`crate::Transformer`] (coordinates x = east, y = north).
    pub fn crs(&self) -> Crs {
        Crs::from_epsg(self.def().epsg).unwrap_or_else(|_| Crs::wgs84())
    }

    /// The axis order of coordinates written or read in this CRS.
    pub fn axes(&self) -> AxisOrder {
        match self {
            ApiCrs::Crs84 => AxisOrder::EastNorth,
            ApiCrs::Epsg(_) => self.def().axes,
        }
    }

    /// Whether coordinates in this CRS are north first, so that x and y are swapped against
    /// geosector's storage order.
    pub fn swaps_axes(&self) -> bool {
        self.axes() == AxisOrder::NorthEast
    }

    /// Whether its coordinates are the stored ones up to axis order (WGS 84 lon/lat: CRS84 or
    /// EPSG:4326), so no transformation is needed.
    pub fn is_storage_datum(&self) -> bool {
        self.def().epsg == 4326
    }
}

impl fmt::Display for ApiCrs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.uri())
    }
}

fn not_offered(name: &str) -> CrsError {
    CrsError::NotOffered(format!(
        "{name} is not offered by this server (CRS84, EPSG:4326, 3857, 4756, 3405, 3406, 5896-5899 and 9205-9218 are)"
    ))
}

/// Splits a lower-cased identifier into authority and code: `(epsg, 5897)`, `(ogc, crs84)`.
fn split_identifier(lower: &str) -> Option<(&str, &str)> {
    if let Some(curie) = lower.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        let (authority, code) = curie.split_once(':')?;
        return Some((authority, code)).filter(|(a, c)| !a.is_empty() && !c.is_empty());
    }
    if let Some(urn) = lower.strip_prefix("urn:ogc:def:crs:") {
        // authority:version:code, the version possibly empty.
        let mut parts = urn.splitn(3, ':');
        let (authority, _version, code) = (parts.next()?, parts.next()?, parts.next()?);
        return Some((authority, code)).filter(|(a, c)| !a.is_empty() && !c.is_empty() && !c.contains(':'));
    }
    let path = lower
        .strip_prefix("http://www.opengis.net/def/crs/")
        .or_else(|| lower.strip_prefix("https://www.opengis.net/def/crs/"))?;
    // authority/version/code
    let mut parts = path.split('/');
    let (authority, version, code) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || version.is_empty() || authority.is_empty() || code.is_empty() {
        return None;
    }
    Some((authority, code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_curies_and_urns_parse() {
        for text in [
            "http://www.opengis.net/def/crs/EPSG/0/5897",
            "https://www.opengis.net/def/crs/EPSG/0/5897",
            "http://www.opengis.net/def/crs/EPSG/9.8.15/5897",
            "[EPSG:5897]",
            "urn:ogc:def:crs:EPSG::5897",
            " urn:ogc:def:crs:EPSG:10.076:5897 ",
        ] {
            assert_eq!(ApiCrs::parse(text).unwrap(), ApiCrs::Epsg(5897), "{text}");
        }
        for text in
            [CRS84_URI, "[OGC:CRS84]", "urn:ogc:def:crs:OGC:1.3:CRS84", "http://www.opengis.net/def/crs/OGC/0/CRS84"]
        {
            assert_eq!(ApiCrs::parse(text).unwrap(), ApiCrs::Crs84, "{text}");
        }
    }

    #[test]
    fn unknown_or_ambiguous_names_are_refused() {
        for text in [
            "EPSG:4326",
            "5897",
            "",
            "[EPSG:]",
            "http://www.opengis.net/def/crs/EPSG/0/2154",
            "http://www.opengis.net/def/crs/EPSG/0/5897/extra",
            "http://www.opengis.net/def/crs/OGC/1.3/CRS83",
            "http://example.com/def/crs/EPSG/0/5897",
            "[EPSG:99999999999999999999]",
        ] {
            assert!(ApiCrs::parse(text).is_err(), "{text}");
        }
        assert!(ApiCrs::parse("http://www.opengis.net/def/crs/EPSG/0/2154")
            .unwrap_err()
            .to_string()
            .contains("EPSG:2154"));
    }

    #[test]
    fn axis_order_follows_epsg() {
        assert!(!ApiCrs::Crs84.swaps_axes(), "CRS84 is lon/lat");
        assert!(ApiCrs::Epsg(4326).swaps_axes(), "EPSG:4326 is lat/lon");
        assert!(ApiCrs::Epsg(4756).swaps_axes(), "EPSG:4756 is lat/lon");
        for code in [3857, 3405, 3406, 5896, 5897, 5898, 5899, 9205, 9210, 9218] {
            assert!(!ApiCrs::Epsg(code).swaps_axes(), "EPSG:{code} is easting first");
        }
        assert!(ApiCrs::Crs84.is_storage_datum() && ApiCrs::Epsg(4326).is_storage_datum());
        assert!(!ApiCrs::Epsg(4756).is_storage_datum(), "VN-2000 needs the EPSG:6960 shift");
    }

    #[test]
    fn the_list_round_trips_through_its_uris() {
        let all: Vec<ApiCrs> = ApiCrs::supported().collect();
        assert_eq!(all.len(), 1 + KNOWN_CRS.len());
        assert_eq!(all[0], ApiCrs::Crs84);
        for crs in all {
            assert_eq!(ApiCrs::parse(&crs.uri()).unwrap(), crs);
        }
        assert_eq!(ApiCrs::Epsg(9210).uri(), "http://www.opengis.net/def/crs/EPSG/0/9210");
    }
}
