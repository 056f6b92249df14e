//! The built-in CRS table: WGS 84, Web Mercator and every VN-2000 CRS the sector uses, with
//! the EPSG:6960 parameters. Source: EPSG dataset v10.076 as shipped in PROJ 9.1.1's proj.db
//! (see `docs/architecture.md`); PostGIS 3.3 lacks EPSG:9205–9218, which the migrations seed
//! from this table.

/// The EPSG:6960 "VN-2000 to WGS 84 (2)" Helmert parameters as a PROJ `+towgs84` string.
///
/// EPSG publishes them in the Coordinate Frame convention (rX/rY/rZ = −0.00928836, +0.01975479,
/// −0.00427372″); PROJ's `+towgs84` uses Position Vector, so the rotation signs are flipped here.
pub const TOWGS84_EPSG_6960: &str =
    "+towgs84=-191.90441429,-39.30318279,-111.45032835,0.00928836,-0.01975479,0.00427372,0.252906278";

/// Added to an EPSG code to make its [`CrsDef::rule_srid`].
pub const RULE_SRID_BASE: i32 = 900_000;

/// Whether a CRS is geographic (degrees) or projected (metres).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrsKind {
    /// Longitude/latitude in degrees.
    Geographic,
    /// Easting/northing in metres.
    Projected,
}

/// The order of the two horizontal axes as the EPSG definition of a CRS gives them.
///
/// geosector's own coordinates are always x = east (easting or longitude), y = north; this is
/// what an OGC API must follow when a client names the CRS by its EPSG URI (OGC API - Features
/// Part 2): EPSG:4326 and EPSG:4756 are latitude first, every projected CRS of the table is
/// easting first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AxisOrder {
    /// Easting (or longitude) first.
    EastNorth,
    /// Latitude (or northing) first.
    NorthEast,
}

/// One entry of the built-in table.
#[derive(Debug, Clone, Copy)]
pub struct CrsDef {
    /// EPSG code.
    pub epsg: u32,
    /// EPSG name.
    pub name: &'static str,
    /// Geographic or projected.
    pub kind: CrsKind,
    /// Axis order of the EPSG definition (EPSG dataset v10.076, coordinate systems 6422 for the
    /// geographic CRSs, 4400 for the VN-2000 projected ones, 4499 for Web Mercator).
    pub axes: AxisOrder,
    /// Central meridian in decimal degrees (projected VN-2000 only; 0 otherwise).
    pub central_meridian: f64,
    /// Scale factor at the central meridian (projected VN-2000 only; 0 otherwise).
    pub scale: f64,
}

impl CrsDef {
    /// The PROJ string of this CRS; every VN-2000 CRS carries [`TOWGS84_EPSG_6960`].
    pub fn proj(&self) -> String {
        match self.epsg {
            4326 => "+proj=longlat +datum=WGS84 +no_defs".to_owned(),
            3857 => "+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 +k=1 +units=m +nadgrids=@null +wktext +no_defs".to_owned(),
            4756 => format!("+proj=longlat +ellps=WGS84 {TOWGS84_EPSG_6960} +no_defs"),
            _ => tm_proj(self.central_meridian, self.scale),
        }
    }

    /// The SRID of the `spatial_ref_sys` row that carries this entry's PROJ string and nothing
    /// else (no authority, no WKT; migration `0010_crs_rule_srids.sql`): `ST_Transform(geom,
    /// rule_srid)` makes PostGIS hand PROJ exactly [`CrsDef::proj`], so VN-2000 goes through the
    /// EPSG:6960 parameters, where `ST_Transform(geom, 5897)` would let PROJ pick an operation by
    /// the EPSG code.
    pub fn rule_srid(&self) -> i32 {
        RULE_SRID_BASE + i32::try_from(self.epsg).unwrap_or(0)
    }

    /// Whether this is a VN-2000 CRS.
    pub fn is_vn2000(&self) -> bool {
        self.name.starts_with("VN-2000")
    }
}

/// PROJ string of a VN-2000 Transverse Mercator zone.
pub fn tm_proj(central_meridian: f64, scale: f64) -> String {
    format!(
        "+proj=tmerc +lat_0=0 +lon_0={central_meridian} +k={scale} +x_0=500000 +y_0=0 +ellps=WGS84 {TOWGS84_EPSG_6960} +units=m +no_defs"
    )
}

const fn tm(epsg: u32, name: &'static str, central_meridian: f64, scale: f64) -> CrsDef {
    CrsDef { epsg, name, kind: CrsKind::Projected, axes: AxisOrder::EastNorth, central_meridian, scale }
}

/// Every CRS geosector knows by EPSG code.
pub const KNOWN_CRS: &[CrsDef] = &[
    CrsDef {
        epsg: 4326,
        name: "WGS 84",
        kind: CrsKind::Geographic,
        axes: AxisOrder::NorthEast,
        central_meridian: 0.0,
        scale: 0.0,
    },
    CrsDef {
        epsg: 3857,
        name: "WGS 84 / Pseudo-Mercator",
        kind: CrsKind::Projected,
        axes: AxisOrder::EastNorth,
        central_meridian: 0.0,
        scale: 0.0,
    },
    CrsDef {
        epsg: 4756,
        name: "VN-2000",
        kind: CrsKind::Geographic,
        axes: AxisOrder::NorthEast,
        central_meridian: 0.0,
        scale: 0.0,
    },
    tm(3405, "VN-2000 / UTM zone 48N", 105.0, 0.9996),
    tm(3406, "VN-2000 / UTM zone 49N", 111.0, 0.9996),
    tm(5896, "VN-2000 / TM-3 zone 481", 102.0, 0.9999),
    tm(5897, "VN-2000 / TM-3 zone 482", 105.0, 0.9999),
    tm(5898, "VN-2000 / TM-3 zone 491", 108.0, 0.9999),
    tm(5899, "VN-2000 / TM-3 107-45", 107.75, 0.9999),
    tm(9205, "VN-2000 / TM-3 103-00", 103.0, 0.9999),
    tm(9206, "VN-2000 / TM-3 104-00", 104.0, 0.9999),
    tm(9207, "VN-2000 / TM-3 104-30", 104.5, 0.9999),
    tm(9208, "VN-2000 / TM-3 104-45", 104.75, 0.9999),
    tm(9209, "VN-2000 / TM-3 105-30", 105.5, 0.9999),
    tm(9210, "VN-2000 / TM-3 105-45", 105.75, 0.9999),
    tm(9211, "VN-2000 / TM-3 106-00", 106.0, 0.9999),
    tm(9212, "VN-2000 / TM-3 106-15", 106.25, 0.9999),
    tm(9213, "VN-2000 / TM-3 106-30", 106.5, 0.9999),
    tm(9214, "VN-2000 / TM-3 107-00", 107.0, 0.9999),
    tm(9215, "VN-2000 / TM-3 107-15", 107.25, 0.9999),
    tm(9216, "VN-2000 / TM-3 107-30", 107.5, 0.9999),
    tm(9217, "VN-2000 / TM-3 108-15", 108.25, 0.9999),
    tm(9218, "VN-2000 / TM-3 108-30", 108.5, 0.9999),
];

/// The provincial VN-2000 3° TM zones (k = 0.9999) of the table.
pub fn tm3_zones() -> impl Iterator<Item = &'static CrsDef> {
    KNOWN_CRS.iter().filter(|d| d.kind == CrsKind::Projected && d.scale == 0.9999)
}

/// The TM-3 zone whose central meridian is nearest to a longitude: where planar areas of data
/// delivered in geographic coordinates are taken (areas are never computed on lon/lat).
pub fn nearest_tm3_zone(lon: f64) -> &'static CrsDef {
    // The zones, picked out of the table once (this runs once per feature of such data).
    static ZONES: std::sync::LazyLock<Vec<&'static CrsDef>> = std::sync::LazyLock::new(|| tm3_zones().collect());
    ZONES
        .iter()
        .copied()
        .min_by(|a, b| (a.central_meridian - lon).abs().total_cmp(&(b.central_meridian - lon).abs()))
        .unwrap_or_else(|| unreachable!("the table has TM-3 zones"))
}

/// The table entry for an EPSG code.
pub fn lookup(epsg: u32) -> Option<&'static CrsDef> {
    KNOWN_CRS.iter().find(|d| d.epsg == epsg)
}

/// Reads an EPSG code from the usual spellings: `EPSG:5897`, `5897`,
/// `urn:ogc:def:crs:EPSG::5897`, `http://www.opengis.net/def/crs/EPSG/0/5897`; `CRS84` and its
/// URIs give 4326 (lon/lat order, which is how geosector stores EPSG:4326).
pub fn parse_crs_name(text: &str) -> Option<u32> {
    let t = text.trim();
    let lower = t.to_ascii_lowercase();
    if lower == "crs84" || lower.ends_with("/ogc/1.3/crs84") || lower.ends_with("ogc:1.3:crs84") || lower == "ogc:crs84"
    {
        return Some(4326);
    }
    let code = if let Some(rest) = lower.strip_prefix("epsg:") {
        rest
    } else if let Some(rest) = lower.strip_prefix("urn:ogc:def:crs:epsg:") {
        rest.rsplit(':').next().unwrap_or(rest)
    } else if lower.contains("opengis.net/def/crs/epsg/") {
        lower.rsplit('/').next().unwrap_or("")
    } else {
        &lower
    };
    code.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse() {
        assert_eq!(parse_crs_name("EPSG:5897"), Some(5897));
        assert_eq!(parse_crs_name("urn:ogc:def:crs:EPSG::9210"), Some(9210));
        assert_eq!(parse_crs_name("urn:ogc:def:crs:EPSG:10.076:3405"), Some(3405));
        assert_eq!(parse_crs_name("http://www.opengis.net/def/crs/EPSG/0/4756"), Some(4756));
        assert_eq!(parse_crs_name("http://www.opengis.net/def/crs/OGC/1.3/CRS84"), Some(4326));
        assert_eq!(parse_crs_name("urn:ogc:def:crs:OGC:1.3:CRS84"), Some(4326));
        assert_eq!(parse_crs_name("nonsense"), None);
    }

    #[test]
    fn nearest_zone_by_central_meridian() {
        assert_eq!(nearest_tm3_zone(105.10).epsg, 5897, "105°00′");
        assert_eq!(nearest_tm3_zone(105.85).epsg, 9210, "Hoàn Kiếm is nearer 105°45′ than 105°00′");
        assert_eq!(nearest_tm3_zone(106.70).epsg, 9213, "HCM City: 106°30′ is nearer than 107°00′");
        assert_eq!(nearest_tm3_zone(100.0).epsg, 5896, "west of the table: the westmost zone");
        assert_eq!(tm3_zones().count(), 18);
    }

    #[test]
    fn every_vn2000_entry_carries_the_one_rule() {
        for def in KNOWN_CRS.iter().filter(|d| d.is_vn2000()) {
            assert!(def.proj().contains(TOWGS84_EPSG_6960), "{}", def.epsg);
        }
        assert_eq!(KNOWN_CRS.iter().filter(|d| (9205..=9218).contains(&d.epsg)).count(), 14);
    }

    #[test]
    fn geographic_crs_are_latitude_first_projected_easting_first() {
        for def in KNOWN_CRS {
            let expected = if def.kind == CrsKind::Geographic { AxisOrder::NorthEast } else { AxisOrder::EastNorth };
            assert_eq!(def.axes, expected, "EPSG:{}", def.epsg);
        }
    }
}
