//! The area of a package: a bbox (`min lon,min lat,max lon,max lat`), or a province (2 digits)
//! or commune (5 digits) code, whose current boundary in `reference.admin_units` selects the
//! features (as a bbox polygon of the items plan: those intersecting it) and whose bounding box
//! the tiles cover.

use tokio_postgres::Client;

use crate::{PackageError, Result};

/// A resolved area.
#[derive(Debug, Clone, PartialEq)]
pub struct Area {
    /// As given (recorded in the package).
    pub text: String,
    /// Its bounding box, `[min lon, min lat, max lon, max lat]`.
    pub bbox: [f64; 4],
    /// The boundary of an administrative unit (WKB, EPSG:4326); `None` for a bbox.
    pub boundary: Option<Vec<u8>>,
}

const UNIT_SQL: &str =
    "SELECT ST_AsBinary(geom), ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom), geom IS NULL \
     FROM reference.admin_units WHERE level = $1 AND code = $2 AND valid_from <= current_date \
     AND (valid_to IS NULL OR valid_to > current_date)";

/// A bbox given as text, checked.
///
/// # Errors
/// Not four numbers, min above max, or outside lon/lat.
pub fn parse_bbox(text: &str) -> Result<[f64; 4]> {
    let bad = |why: &str| PackageError::Invalid(format!("area {text:?}: {why}"));
    let numbers: Vec<f64> =
        text.split(',').map(|v| v.trim().parse::<f64>()).collect::<std::result::Result<_, _>>().map_err(|_| {
            bad("expected a province code (2 digits), a commune code (5 digits) or min lon,min lat,max lon,max lat")
        })?;
    let [a, b, c, d]: [f64; 4] = numbers.try_into().map_err(|_| bad("a bbox has four numbers"))?;
    if !(a.is_finite() && b.is_finite() && c.is_finite() && d.is_finite()) || a >= c || b >= d {
        return Err(bad("the minimum must be below the maximum"));
    }
    if a < -180.0 || c > 180.0 || b < -90.0 || d > 90.0 {
        return Err(bad("longitudes lie in [-180, 180] and latitudes in [-90, 90]"));
    }
    Ok([a, b, c, d])
}

/// Resolves an area: a bbox, or an administrative unit in force today.
///
/// # Errors
/// A malformed area, an unknown code, a unit without a boundary, a database error.
pub async fn resolve(client: &Client, text: &str) -> Result<Area> {
    let text = text.trim();
    let level = match text.len() {
        2 if text.bytes().all(|b| b.is_ascii_digit()) => Some("province"),
        5 if text.bytes().all(|b| b.is_ascii_digit()) => Some("commune"),
        _ => None,
    };
    let Some(level) = level else {
        return Ok(Area { text: text.to_owned(), bbox: parse_bbox(text)?, boundary: None });
    };
    let row = client
        .query_opt(UNIT_SQL, &[&level, &text])
        .await?
        .ok_or_else(|| PackageError::Invalid(format!("area {text}: no {level} with this code is in force")))?;
    if row.get::<_, bool>(5) {
        return Err(PackageError::Invalid(format!(
            "area {text}: the {level}'s boundary is not loaded (geosector reference); give a bbox instead"
        )));
    }
    Ok(Area {
        text: text.to_owned(),
        bbox: [row.get(1), row.get(2), row.get(3), row.get(4)],
        boundary: Some(row.get(0)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bbox_is_four_ordered_numbers() {
        assert_eq!(parse_bbox("105,20.5, 106,21").unwrap(), [105.0, 20.5, 106.0, 21.0]);
        for bad in ["105,20,104,21", "1,2,3", "a,b,c,d", "-190,0,0,1"] {
            assert!(parse_bbox(bad).is_err(), "{bad}");
        }
    }
}
