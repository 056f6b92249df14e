//! The WGS 84 ellipsoid: radii of curvature, metres per degree, and the area a lon/lat polygon
//! has in the plane of a transverse Mercator projection, computed without projecting its vertices.
//!
//! # Transverse Mercator areas ([`tm_area`])
//!
//! The area stored for a parcel delivered in lon/lat is the area of the polygon whose vertices
//! are the parcel's vertices projected into a TM plane (straight edges in that plane), as a
//! per-vertex projection followed by the shoelace formula gives it. [`tm_area`] computes the same
//! quantity from a second-order expansion of the projection about the centre `w₀` of each
//! polygon's envelope, which costs a few multiplications per vertex instead of a projection.
//!
//! TM (Gauss–Krüger) is conformal: with the isometric latitude ψ and w = ψ + iΔλ, the plane
//! coordinates are z = northing + i·easting = f(w), f holomorphic, and |f′(w)| = k·N cos φ (k the
//! point scale factor, N the prime-vertical radius of curvature). Hence
//!
//! z − z₀ = f′(w₀) · (ζ + g′ ζ² / 2) + O(ζ³),  ζ = w − w₀,  g = log f′,
//!
//! and, as multiplying by the complex constant f′(w₀) scales areas by |f′(w₀)|², the plane area
//! of the polygon of the z's is (k₀·N₀ cos φ₀)² times the shoelace area of the polygon of the
//! points ζ + g′ζ²/2 (k₀ here the point scale factor at w₀). The pieces:
//! - ψ − ψ₀ = ψ′(φ₀)·Δφ + ψ″(φ₀)·Δφ²/2, with ψ′ = M / (N cos φ) = (1 − e²) / (cos φ (1 − e² sin² φ));
//! - k from the series of Snyder (*Map Projections — A Working Manual*, 1987, eq. 8-11) in
//!   A = Δλ cos φ up to A⁶: its truncation error is below 10⁻¹⁰ within 3° of the central meridian;
//! - g′ = ∂u/∂ψ − i ∂u/∂λ (Cauchy–Riemann) with u = ln |f′| = ln k + ln(N cos φ), whose
//!   ψ-derivative is ∂ ln k/∂ψ − sin φ; the derivatives of ln k are taken from the series (the
//!   A⁴ term of the φ-derivative is left out: it changes a parcel's area by less than 10⁻¹⁰).
//!
//! The error is of third order: relative to the area it grows as the square of the polygon's size
//! over the Earth's radius. The tests measure it against the per-vertex projection with proj4rs
//! (irregular 8-gons at 8.5°–23.3° N, up to 3° from the central meridian of every VN-2000 TM-3
//! zone): at most 1.1·10⁻⁹ for parcels reaching 10–500 m from their centre (down to the rounding
//! of the projected coordinates for the smallest), 4·10⁻⁹ at 1 km, 1.1·10⁻⁷ at 5 km and
//! 4.2·10⁻⁷ at 10 km (polygons 20 km across). Polygons larger than [`TM_AREA_MAX_EXTENT`] degrees, or
//! further than [`TM_AREA_MAX_OFFSET`] degrees from the central meridian, or beyond 60° of
//! latitude, or with a non-finite coordinate, are left to the per-vertex projection (`None`);
//! so is a multipolygon any of whose polygons is.

use geo_types::{Coord, Geometry, LineString, Polygon};

/// WGS 84 semi-major axis, m.
pub const WGS84_A: f64 = 6_378_137.0;
/// WGS 84 flattening.
pub const WGS84_F: f64 = 1.0 / 298.257_223_563;
/// WGS 84 first eccentricity squared, e² = f (2 − f).
pub const WGS84_E2: f64 = WGS84_F * (2.0 - WGS84_F);

/// The largest envelope of one polygon (width or height, in degrees) [`tm_area`] handles:
/// about 22 km.
pub const TM_AREA_MAX_EXTENT: f64 = 0.2;
/// The largest distance in longitude (degrees) of a polygon's envelope centre from the central
/// meridian that [`tm_area`] handles.
pub const TM_AREA_MAX_OFFSET: f64 = 3.0;

/// The meridional and prime-vertical radii of curvature (M, N) in metres at latitude `phi`
/// (radians) on the WGS 84 ellipsoid.
pub fn radii(phi: f64) -> (f64, f64) {
    let w2 = 1.0 - WGS84_E2 * phi.sin().powi(2);
    let n = WGS84_A / w2.sqrt();
    (n * (1.0 - WGS84_E2) / w2, n)
}

/// Metres per degree of longitude and of latitude at `lat` (degrees) on the WGS 84 ellipsoid:
/// N(φ) cos φ · π/180 and M(φ) · π/180.
pub fn metres_per_degree(lat: f64) -> (f64, f64) {
    let phi = lat.to_radians();
    let (m, n) = radii(phi);
    let rad = std::f64::consts::PI / 180.0;
    (n * phi.cos() * rad, m * rad)
}

/// The second-order expansion of a TM projection about one point (see the module docs).
struct LocalTm {
    /// Reference longitude and latitude, degrees.
    lon0: f64,
    lat0: f64,
    /// ψ′(φ₀) and ψ″(φ₀)/2, per radian of latitude.
    psi1: f64,
    psi2: f64,
    /// g′ = gr + i·gi.
    gr: f64,
    gi: f64,
    /// |f′(w₀)|² = (k N cos φ₀)², m² per rad².
    scale2: f64,
}

impl LocalTm {
    /// The expansion about (`lon0`, `lat0`) (degrees) of the TM projection of the WGS 84
    /// ellipsoid with central meridian `central_meridian` (degrees) and scale `k0` on it.
    fn new(lon0: f64, lat0: f64, central_meridian: f64, k0: f64) -> LocalTm {
        let e2 = WGS84_E2;
        let ep2 = e2 / (1.0 - e2);
        let phi = lat0.to_radians();
        let (s, c) = phi.sin_cos();
        let l = (lon0 - central_meridian).to_radians();
        let (_, n) = radii(phi);
        let w2 = 1.0 - e2 * s * s;
        let psi1 = (1.0 - e2) / (c * w2);
        let psi2 = 0.5 * (1.0 - e2) * s * (w2 + 2.0 * e2 * c * c) / (c * c * w2 * w2);
        // Snyder (8-11): k / k0 = 1 + (1 + C) A²/2 + (5 − 4T + 42C + 13C² − 28e′²) A⁴/24
        // + (61 − 148T + 16T²) A⁶/720, with A = Δλ cos φ, T = tan² φ, C = e′² cos² φ.
        let a = l * c;
        let t = (s / c).powi(2);
        let cc = ep2 * c * c;
        let a2 = a * a;
        let p4 = (5.0 - 4.0 * t + 42.0 * cc + 13.0 * cc * cc - 28.0 * ep2) / 24.0;
        let p6 = (61.0 - 148.0 * t + 16.0 * t * t) / 720.0;
        let ratio = 1.0 + (1.0 + cc) * a2 / 2.0 + p4 * a2 * a2 + p6 * a2 * a2 * a2;
        let k = k0 * ratio;
        // ∂ ln k/∂λ (through A) and ∂ ln k/∂φ (of the A² term), then u_ψ = ∂ ln k/∂ψ − sin φ.
        let dk_dl = ((1.0 + cc) * a + 4.0 * p4 * a2 * a + 6.0 * p6 * a2 * a2 * a) * c / ratio;
        let dk_dphi = -l * l * c * s * (1.0 + 2.0 * ep2 * c * c) / ratio;
        let u_psi = dk_dphi / psi1 - s;
        let scale = k * n * c;
        LocalTm { lon0, lat0, psi1, psi2, gr: u_psi, gi: -dk_dl, scale2: scale * scale }
    }

    /// The point ζ + g′ζ²/2 of a lon/lat coordinate (radians of w; real part along ψ).
    fn map(&self, c: Coord<f64>) -> (f64, f64) {
        let dphi = (c.y - self.lat0).to_radians();
        let a = dphi * (self.psi1 + self.psi2 * dphi);
        let b = (c.x - self.lon0).to_radians();
        let re = a * a - b * b;
        let im = 2.0 * a * b;
        (a + 0.5 * (self.gr * re - self.gi * im), b + 0.5 * (self.gi * re + self.gr * im))
    }

    /// Twice the signed shoelace area of a ring's mapped points.
    fn ring2(&self, ring: &LineString<f64>) -> f64 {
        let mut points = ring.0.iter().map(|&c| self.map(c));
        let Some(first) = points.next() else { return 0.0 };
        let mut prev = first;
        let mut sum = 0.0;
        for p in points {
            sum += prev.0 * p.1 - p.0 * prev.1;
            prev = p;
        }
        // Close the ring when it is not closed (geo's shoelace does the same).
        sum + prev.0 * first.1 - first.0 * prev.1
    }

    /// The signed area of a polygon as geo's `Area` combines its rings: |exterior| − Σ |hole|,
    /// with the exterior's sign, in m².
    fn polygon(&self, p: &Polygon<f64>) -> f64 {
        let exterior = self.ring2(p.exterior());
        let area = p.interiors().iter().fold(exterior.abs(), |total, hole| total - self.ring2(hole).abs());
        0.5 * self.scale2 * if exterior < 0.0 { -area } else { area }
    }
}

/// An envelope in degrees; not finite when a coordinate is not (or there is none).
struct Envelope {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

impl Envelope {
    fn of<'a>(rings: impl Iterator<Item = &'a LineString<f64>>) -> Envelope {
        let mut e = Envelope { x0: f64::INFINITY, y0: f64::INFINITY, x1: f64::NEG_INFINITY, y1: f64::NEG_INFINITY };
        for c in rings.flat_map(|r| r.0.iter()) {
            if !(c.x.is_finite() && c.y.is_finite()) {
                return Envelope { x0: f64::NAN, y0: f64::NAN, x1: f64::NAN, y1: f64::NAN };
            }
            e.x0 = e.x0.min(c.x);
            e.y0 = e.y0.min(c.y);
            e.x1 = e.x1.max(c.x);
            e.y1 = e.y1.max(c.y);
        }
        e
    }
}

/// The unsigned area in m² of a polygon or multipolygon given in WGS 84 lon/lat degrees, in the
/// plane of the TM projection of the WGS 84 ellipsoid with scale factor `k0` on its central
/// meridian, which `central_meridian` gives (in degrees) for the longitude of the centre of the
/// geometry's envelope: the area of the polygon whose vertices are the
/// projected vertices, as geo's `unsigned_area` gives it on the projected geometry (the sum over
/// polygons of |exterior − holes|), to within the error stated in the module docs.
///
/// `None` for other geometry types and for polygons outside the domain of the expansion (see
/// the module docs): project those vertex by vertex.
pub fn tm_area(g: &Geometry<f64>, central_meridian: impl FnOnce(f64) -> f64, k0: f64) -> Option<f64> {
    let polygons = match g {
        Geometry::Polygon(p) => std::slice::from_ref(p),
        Geometry::MultiPolygon(m) => m.0.as_slice(),
        _ => return None,
    };
    // The centre of the envelope of the exterior rings, as geo's `BoundingRect` takes it,
    // chooses the zone; each polygon is expanded about the centre of its own envelope.
    let exteriors = Envelope::of(polygons.iter().map(Polygon::exterior));
    let central_meridian = central_meridian((exteriors.x0 + exteriors.x1) / 2.0);
    let mut total = 0.0;
    for p in polygons {
        let e = Envelope::of(std::iter::once(p.exterior()).chain(p.interiors()));
        let (lon0, lat0) = ((e.x0 + e.x1) / 2.0, (e.y0 + e.y1) / 2.0);
        let inside = e.x1 - e.x0 <= TM_AREA_MAX_EXTENT
            && e.y1 - e.y0 <= TM_AREA_MAX_EXTENT
            && (lon0 - central_meridian).abs() <= TM_AREA_MAX_OFFSET
            && lat0.abs() <= 60.0;
        if !inside {
            return None;
        }
        total += LocalTm::new(lon0, lat0, central_meridian, k0).polygon(p).abs();
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use geo_types::{MultiPolygon, Polygon};

    use super::*;
    use crate::{Crs, CrsKind, Transformer};

    /// The per-vertex reference: proj4rs into the TM plane, then the shoelace formula (geo's
    /// `unsigned_area` combination, written out: |exterior| − Σ |holes| per polygon).
    fn projected_area(g: &Geometry<f64>, central_meridian: f64, k0: f64) -> f64 {
        let plane = Crs {
            epsg: None,
            name: "test plane".into(),
            kind: CrsKind::Projected,
            proj: format!(
                "+proj=tmerc +lat_0=0 +lon_0={central_meridian} +k={k0} +x_0=500000 +y_0=0 +ellps=WGS84 +units=m +no_defs"
            ),
        };
        let t = Transformer::new(&Crs::wgs84(), &plane).unwrap();
        let mut projected = g.clone();
        t.geometry(&mut projected).unwrap();
        let ring = |r: &LineString<f64>| {
            let o = r.0[0];
            r.0.windows(2).map(|w| (w[0].x - o.x) * (w[1].y - o.y) - (w[1].x - o.x) * (w[0].y - o.y)).sum::<f64>() / 2.0
        };
        let polygon = |p: &Polygon<f64>| {
            (ring(p.exterior()).abs() - p.interiors().iter().map(|h| ring(h).abs()).sum::<f64>()).abs()
        };
        match &projected {
            Geometry::Polygon(p) => polygon(p),
            Geometry::MultiPolygon(m) => m.0.iter().map(polygon).sum(),
            _ => unreachable!(),
        }
    }

    /// A deterministic pseudo-random sequence in [0, 1).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> f64 {
            self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// An irregular star-shaped ring of `n` vertices and radius about `size_m` metres round
    /// (lon, lat), counter-clockwise, closed.
    fn star(rng: &mut Lcg, lon: f64, lat: f64, size_m: f64, n: usize) -> LineString<f64> {
        let (mx, my) = metres_per_degree(lat);
        let mut points: Vec<Coord<f64>> = (0..n)
            .map(|i| {
                let angle = (i as f64 + 0.8 * rng.next()) * std::f64::consts::TAU / n as f64;
                let r = size_m * (0.4 + 0.6 * rng.next());
                Coord { x: lon + r * angle.cos() / mx, y: lat + r * angle.sin() / my }
            })
            .collect();
        points.push(points[0]);
        LineString(points)
    }

    /// The largest relative difference between [`tm_area`] and the per-vertex projection over
    /// 8-vertex polygons reaching up to `size_m` metres from their centre, across Vietnam's latitudes and up to `offset`° from the
    /// central meridians of the TM-3 zones.
    fn worst(size_m: f64, offset: f64) -> f64 {
        let mut rng = Lcg(7);
        let mut worst: f64 = 0.0;
        for zone in crate::tm3_zones() {
            for lat in [8.5, 10.8, 12.0, 16.0, 21.0, 23.3] {
                for _ in 0..4 {
                    let lon = zone.central_meridian + offset * (2.0 * rng.next() - 1.0);
                    let g = Geometry::Polygon(Polygon::new(star(&mut rng, lon, lat, size_m, 8), Vec::new()));
                    let reference = projected_area(&g, zone.central_meridian, zone.scale);
                    let fast = tm_area(&g, |_| zone.central_meridian, zone.scale).unwrap();
                    worst = worst.max((fast / reference - 1.0).abs());
                }
            }
        }
        worst
    }

    #[test]
    fn parcels_agree_with_the_per_vertex_projection() {
        for size in [10.0, 50.0, 200.0, 500.0] {
            let w = worst(size, 1.5);
            assert!(w <= 5e-9, "parcels of {size} m: relative difference {w:e}");
        }
        let w = worst(500.0, 3.0);
        assert!(w <= 5e-9, "parcels of 500 m up to 3° from the meridian: relative difference {w:e}");
    }

    #[test]
    fn polygons_twenty_kilometres_across_agree_to_a_millionth() {
        let w = worst(10_000.0, 3.0);
        assert!(w <= 1e-6, "polygons 20 km across: relative difference {w:e}");
    }

    #[test]
    fn holes_and_parts_combine_as_geo_does() {
        let mut rng = Lcg(11);
        let outer = star(&mut rng, 105.9, 21.0, 300.0, 12);
        let hole = star(&mut rng, 105.9, 21.0, 60.0, 6);
        let other = star(&mut rng, 105.92, 21.01, 150.0, 9);
        // The hole in clockwise order, as a shapefile reader leaves it: only |area| counts.
        let hole = LineString(hole.0.into_iter().rev().collect());
        let g = Geometry::MultiPolygon(MultiPolygon(vec![
            Polygon::new(outer, vec![hole]),
            Polygon::new(LineString(other.0.into_iter().rev().collect()), Vec::new()),
        ]));
        let reference = projected_area(&g, 105.75, 0.9999);
        let fast = tm_area(&g, |_| 105.75, 0.9999).unwrap();
        assert!((fast / reference - 1.0).abs() < 5e-9, "{fast} vs {reference}");
    }

    #[test]
    fn outside_the_domain_is_left_to_the_projection() {
        let mut rng = Lcg(3);
        let square = |lon: f64, lat: f64, size: f64| {
            Geometry::Polygon(Polygon::new(star(&mut Lcg(1), lon, lat, size, 4), Vec::new()))
        };
        assert!(tm_area(&square(112.0, 10.0, 100.0), |_| 108.5, 0.9999).is_none(), "3.5° from the meridian");
        assert!(tm_area(&square(105.0, 21.0, 30_000.0), |_| 105.0, 0.9999).is_none(), "too large");
        assert!(tm_area(&Geometry::Point(geo_types::Point::new(105.0, 21.0)), |_| 105.0, 0.9999).is_none());
        let mut nan = star(&mut rng, 105.0, 21.0, 100.0, 5);
        nan.0[2].x = f64::NAN;
        assert!(tm_area(&Geometry::Polygon(Polygon::new(nan, Vec::new())), |_| 105.0, 0.9999).is_none());
    }

    #[test]
    fn metres_per_degree_matches_known_values() {
        // WGS 84 at the equator: a·π/180 = 111 319.49 m per degree of longitude, and
        // M(0)·π/180 = 110 574.27 m per degree of latitude.
        let (x, y) = metres_per_degree(0.0);
        assert!((x - 111_319.49).abs() < 0.01, "{x}");
        assert!((y - 110_574.27).abs() < 0.01, "{y}");
        // At the pole a degree of latitude is 111 693.98 m and one of longitude nothing.
        let (x, y) = metres_per_degree(90.0);
        assert!(x.abs() < 1e-6 && (y - 111_693.98).abs() < 0.01, "{x} {y}");
    }
}
