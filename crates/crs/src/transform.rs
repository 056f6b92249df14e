//! Point and geometry transformation between two CRSs with proj4rs (degrees in and out for
//! geographic CRSs; proj4rs itself works in radians).

use geo_types::{Coord, Geometry};
use proj4rs::proj::Proj;

use crate::{Crs, CrsKind};

/// A prepared transformation from one CRS to another. Cheap to share between threads.
pub struct Transformer {
    from: Proj,
    to: Proj,
    from_geographic: bool,
    to_geographic: bool,
    identity: bool,
}

impl std::fmt::Debug for Transformer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transformer").field("identity", &self.identity).finish_non_exhaustive()
    }
}

/// A transformation failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TransformError {
    /// A PROJ string could not be parsed (a bug in the table, reported rather than panicking).
    #[error("cannot set up the CRS {0}")]
    Setup(String),
    /// A coordinate could not be transformed (e.g. far outside the projection's domain).
    #[error("coordinate ({x}, {y}) cannot be transformed")]
    Point {
        /// First ordinate as given.
        x: f64,
        /// Second ordinate as given.
        y: f64,
    },
}

impl Transformer {
    /// Prepares a transformation from `from` to `to`.
    ///
    /// # Errors
    /// [`TransformError::Setup`] when a PROJ string is rejected.
    pub fn new(from: &Crs, to: &Crs) -> Result<Transformer, TransformError> {
        let parse = |crs: &Crs| Proj::from_proj_string(&crs.proj).map_err(|_| TransformError::Setup(crs.to_string()));
        Ok(Transformer {
            from: parse(from)?,
            to: parse(to)?,
            from_geographic: from.kind == CrsKind::Geographic,
            to_geographic: to.kind == CrsKind::Geographic,
            identity: from.proj == to.proj,
        })
    }

    /// Transforms one coordinate (x = easting or longitude, y = northing or latitude).
    ///
    /// # Errors
    /// [`TransformError::Point`] when the coordinate is outside the projection's domain.
    pub fn coord(&self, c: Coord<f64>) -> Result<Coord<f64>, TransformError> {
        if self.identity {
            return Ok(c);
        }
        let err = TransformError::Point { x: c.x, y: c.y };
        if !c.x.is_finite() || !c.y.is_finite() {
            return Err(err);
        }
        let mut p = if self.from_geographic { (c.x.to_radians(), c.y.to_radians(), 0.0) } else { (c.x, c.y, 0.0) };
        proj4rs::transform::transform(&self.from, &self.to, &mut p).map_err(|_| err.clone())?;
        let out = if self.to_geographic {
            Coord { x: p.0.to_degrees(), y: p.1.to_degrees() }
        } else {
            Coord { x: p.0, y: p.1 }
        };
        if out.x.is_finite() && out.y.is_finite() {
            Ok(out)
        } else {
            Err(err)
        }
    }

    /// Transforms every coordinate of a geometry in place; stops at the first failure.
    ///
    /// # Errors
    /// [`TransformError::Point`] for the first coordinate that cannot be transformed.
    pub fn geometry(&self, geometry: &mut Geometry<f64>) -> Result<(), TransformError> {
        if self.identity {
            return Ok(());
        }
        let mut failure = None;
        visit_coords(geometry, &mut |c| {
            if failure.is_none() {
                match self.coord(*c) {
                    Ok(t) => *c = t,
                    Err(e) => failure = Some(e),
                }
            }
        });
        failure.map_or(Ok(()), Err)
    }
}

/// Calls `f` on every coordinate of a geometry (through `&mut dyn`, so geometry collections
/// nest without unbounded generic instantiation).
fn visit_coords(geometry: &mut Geometry<f64>, f: &mut dyn FnMut(&mut Coord<f64>)) {
    fn line(l: &mut geo_types::LineString<f64>, f: &mut dyn FnMut(&mut Coord<f64>)) {
        l.0.iter_mut().for_each(f);
    }
    fn polygon(p: &mut geo_types::Polygon<f64>, f: &mut dyn FnMut(&mut Coord<f64>)) {
        p.exterior_mut(|l| line(l, f));
        p.interiors_mut(|rings| rings.iter_mut().for_each(|l| line(l, f)));
    }
    match geometry {
        Geometry::Point(p) => f(&mut p.0),
        Geometry::Line(l) => {
            f(&mut l.start);
            f(&mut l.end);
        }
        Geometry::LineString(l) => line(l, f),
        Geometry::Polygon(p) => polygon(p, f),
        Geometry::MultiPoint(m) => m.0.iter_mut().for_each(|p| f(&mut p.0)),
        Geometry::MultiLineString(m) => m.0.iter_mut().for_each(|l| line(l, f)),
        Geometry::MultiPolygon(m) => m.0.iter_mut().for_each(|p| polygon(p, f)),
        Geometry::GeometryCollection(c) => c.0.iter_mut().for_each(|g| visit_coords(g, f)),
        Geometry::Rect(r) => {
            let mut p = r.to_polygon();
            polygon(&mut p, f);
            *geometry = Geometry::Polygon(p);
        }
        Geometry::Triangle(t) => {
            let mut p = t.to_polygon();
            polygon(&mut p, f);
            *geometry = Geometry::Polygon(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Coord<f64>, b: (f64, f64), tol: f64) -> bool {
        (a.x - b.0).abs() < tol && (a.y - b.1).abs() < tol
    }

    #[test]
    fn utm48_hanoi_matches_proj_reference() {
        // Reference from PROJ 9.1.1 cs2cs with the EPSG:6960 parameters (shared/dependencies.md §2).
        let t = Transformer::new(&Crs::from_epsg(3405).unwrap(), &Crs::wgs84()).unwrap();
        let p = t.coord(Coord { x: 585_000.0, y: 2_324_000.0 }).unwrap();
        assert!(close(p, (105.819_809_795, 21.013_785_613), 2e-9), "{p:?}");
        let t = Transformer::new(&Crs::from_epsg(3405).unwrap(), &Crs::wgs84()).unwrap();
        let p = t.coord(Coord { x: 686_000.0, y: 1_192_000.0 }).unwrap();
        assert!(close(p, (106.702_907_463, 10.777_438_626), 2e-9), "{p:?}");
    }

    #[test]
    fn tm3_round_trip_is_sub_millimetre() {
        let tm3 = Crs::from_epsg(5897).unwrap();
        let there = Transformer::new(&tm3, &Crs::wgs84()).unwrap();
        let back = Transformer::new(&Crs::wgs84(), &tm3).unwrap();
        let start = Coord { x: 588_788.0, y: 2_326_237.0 };
        let again = back.coord(there.coord(start).unwrap()).unwrap();
        assert!(close(again, (start.x, start.y), 1e-3), "{again:?}");
    }

    #[test]
    fn hoan_kiem_check_point() {
        // vietnam-brief.md §1: Hoàn Kiếm (21.0285 N, 105.8542 E) in TM-3 105-00 is about
        // E 588 788 m, N 2 326 237 m (VN-2000 coordinates; the brief's point is VN-2000 lon/lat).
        let t = Transformer::new(&Crs::from_epsg(4756).unwrap(), &Crs::from_epsg(5897).unwrap()).unwrap();
        let p = t.coord(Coord { x: 105.8542, y: 21.0285 }).unwrap();
        assert!(close(p, (588_788.0, 2_326_237.0), 2.0), "{p:?}");
    }

    #[test]
    fn custom_zone_equals_table_zone() {
        assert_eq!(Crs::vn2000_tm3(105.75).unwrap().epsg, Some(9210));
        let custom = Crs::vn2000_tm3(105.6).unwrap();
        assert_eq!(custom.epsg, None);
        assert!(Crs::vn2000_tm3(120.0).is_err());
        assert!(Crs::parse("VN2000:TM3:abc").is_err());
        assert_eq!(Crs::parse("EPSG:9218").unwrap().name, "VN-2000 / TM-3 108-30");
    }

    #[test]
    fn non_finite_input_is_an_error_not_a_panic() {
        let t = Transformer::new(&Crs::from_epsg(5897).unwrap(), &Crs::wgs84()).unwrap();
        assert!(t.coord(Coord { x: f64::NAN, y: 1.0 }).is_err());
    }
}
