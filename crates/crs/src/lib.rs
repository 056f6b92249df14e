//! Coordinate reference systems of Vietnam's natural-resources data, and transformations
//! between them.
//!
//! The key decision: **one transformation rule everywhere**. VN-2000 ↔ WGS 84 always uses the
//! EPSG:6960 "VN-2000 to WGS 84 (2)" parameters (Decision 05/2007/QĐ-BTNMT) written as a PROJ
//! `+towgs84` string ([`TOWGS84_EPSG_6960`]). PROJ and PostGIS, given bare EPSG codes, choose a
//! different operation per point (EPSG:5194 inside the Mekong-delta blocks), which moves points by
//! up to a metre; geosector never relies on that choice. Ingestion, serving and the rows seeded
//! into PostGIS's `spatial_ref_sys` all use the strings in [`table`].
//!
//! It also holds Web Mercator and its tile grid ([`web_mercator`]): the one place for the
//! sphere, the formulas and which tile holds a point, used by tiles, `tiles seed` and the
//! importer's overview cells.
//!
//! This crate is pure Rust (proj4rs): no C PROJ library is needed.

pub mod ellipsoid;
pub mod ogc;
pub mod table;
pub mod transform;
pub mod web_mercator;

pub use ogc::{ApiCrs, CRS84_URI};
pub use table::{
    lookup, nearest_tm3_zone, parse_crs_name, tm3_zones, AxisOrder, CrsDef, CrsKind, KNOWN_CRS, RULE_SRID_BASE,
    TOWGS84_EPSG_6960,
};
pub use transform::{TransformError, Transformer};

use std::fmt;

/// A coordinate reference system geosector can read or write.
#[derive(Debug, Clone, PartialEq)]
pub struct Crs {
    /// EPSG code, or `None` for a custom VN-2000 TM-3 zone given by its central meridian.
    pub epsg: Option<u32>,
    /// Human-readable name.
    pub name: String,
    /// Geographic (degrees) or projected (metres).
    pub kind: CrsKind,
    /// The PROJ string, carrying the EPSG:6960 `+towgs84` for every VN-2000 CRS.
    pub proj: String,
}

impl Crs {
    /// WGS 84 lon/lat (EPSG:4326 in lon/lat order, i.e. OGC CRS84): geosector's storage CRS.
    pub fn wgs84() -> Crs {
        Crs::from_epsg(4326).unwrap_or_else(|_| unreachable!("4326 is in the table"))
    }

    /// A CRS from the built-in table by EPSG code.
    ///
    /// # Errors
    /// [`CrsError::Unsupported`] when the code is not in the table.
    pub fn from_epsg(code: u32) -> Result<Crs, CrsError> {
        let def = lookup(code).ok_or(CrsError::Unsupported(format!("EPSG:{code}")))?;
        Ok(Crs { epsg: Some(code), name: def.name.to_owned(), kind: def.kind, proj: def.proj() })
    }

    /// A custom VN-2000 3° TM zone (k = 0.9999, FE = 500 000, FN = 0) with the given central
    /// meridian in decimal degrees, as used for provincial cadastral maps (Circular 973/2001).
    ///
    /// # Errors
    /// [`CrsError::Unsupported`] when the meridian lies outside 102°–110° E.
    pub fn vn2000_tm3(central_meridian: f64) -> Result<Crs, CrsError> {
        if !(102.0..=110.0).contains(&central_meridian) {
            return Err(CrsError::Unsupported(format!(
                "VN-2000 TM-3 central meridian {central_meridian}° is outside 102°–110° E"
            )));
        }
        if let Some(def) = table::tm3_zones().find(|d| (d.central_meridian - central_meridian).abs() < 1e-9) {
            return Crs::from_epsg(def.epsg);
        }
        Ok(Crs {
            epsg: None,
            name: format!("VN-2000 / TM-3 CM {central_meridian}"),
            kind: CrsKind::Projected,
            proj: table::tm_proj(central_meridian, 0.9999),
        })
    }

    /// Parses a CRS given by a user: `EPSG:5897`, `5897`, an OGC URI or URN, `CRS84`, or
    /// `VN2000:TM3:105.75` for a custom zone (central meridian in decimal degrees).
    ///
    /// # Errors
    /// [`CrsError::Unsupported`] naming the text when it is not understood or not supported.
    pub fn parse(text: &str) -> Result<Crs, CrsError> {
        let trimmed = text.trim();
        if let Some(cm) = trimmed.strip_prefix("VN2000:TM3:").or_else(|| trimmed.strip_prefix("vn2000:tm3:")) {
            let cm: f64 = cm
                .parse()
                .map_err(|_| CrsError::Unsupported(format!("{trimmed}: central meridian is not a number")))?;
            return Crs::vn2000_tm3(cm);
        }
        let code = parse_crs_name(trimmed).ok_or_else(|| CrsError::Unsupported(trimmed.to_owned()))?;
        Crs::from_epsg(code)
    }

    /// The SRID recorded for data in this CRS (0 for a custom zone without an EPSG code).
    pub fn srid(&self) -> i32 {
        self.epsg.and_then(|c| i32::try_from(c).ok()).unwrap_or(0)
    }
}

impl fmt::Display for Crs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.epsg {
            Some(code) => write!(f, "EPSG:{code} ({})", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// Errors of this crate.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CrsError {
    /// The CRS is not known or not supported.
    #[error("unsupported CRS {0} (supported: EPSG:4326, CRS84, 3857, 4756, 3405, 3406, 5896–5899, 9205–9218, VN2000:TM3:<central meridian>)")]
    Unsupported(String),
    /// An OGC API CRS identifier that is malformed or names a CRS this server does not offer
    /// (the text says which and how to name one).
    #[error("{0}")]
    NotOffered(String),
}
