//! Web Mercator (EPSG:3857) and its tile grid, WebMercatorQuad (OGC 17-083r4): the one place
//! that knows the sphere, the forward and inverse formulas, and which tile holds a point.
//!
//! The formulas are the spherical ones of PROJ's `webmerc` (and PostGIS's EPSG:3857), so a
//! point lands in the same cell or tile whether Rust or SQL computed it. Vector tiles, the
//! overview cells of an import and `tiles seed` all use these.

/// Radius of the Web Mercator sphere, metres.
pub const RADIUS: f64 = 6_378_137.0;

/// Half the side of the Web Mercator square, metres (π × [`RADIUS`]).
pub const HALF_WORLD: f64 = 20_037_508.342_789_244;

/// The latitude tiles stop at (the square's top and bottom edges), degrees.
pub const MAX_LATITUDE: f64 = 85.051_128_78;

/// Web Mercator x of a longitude, metres.
#[inline]
pub fn x_of(lon: f64) -> f64 {
    lon.to_radians() * RADIUS
}

/// Web Mercator y of a latitude, metres.
#[inline]
pub fn y_of(lat: f64) -> f64 {
    RADIUS * (std::f64::consts::FRAC_PI_4 + lat.to_radians() / 2.0).tan().ln()
}

/// Longitude of a Web Mercator x, degrees.
#[inline]
pub fn lon_of(x: f64) -> f64 {
    (x / RADIUS).to_degrees()
}

/// Latitude of a Web Mercator y, degrees.
#[inline]
pub fn lat_of(y: f64) -> f64 {
    (y / RADIUS).sinh().atan().to_degrees()
}

/// Column and row of the WebMercatorQuad tile holding a lon/lat point at zoom `z` (clamped to
/// the grid).
pub fn tile_of(lon: f64, lat: f64, z: u32) -> (u64, u64) {
    let n = (1u64 << z) as f64;
    let lat = lat.clamp(-MAX_LATITUDE, MAX_LATITUDE).to_radians();
    let x = ((lon + 180.0) / 360.0 * n).floor().clamp(0.0, n - 1.0);
    let y = ((1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor().clamp(0.0, n - 1.0);
    // Both are whole numbers within 0..2^z (z ≤ 30), so the casts are exact.
    #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "clamped whole numbers")]
    (x as u64, y as u64)
}

/// The tiles covering a lon/lat extent `[min lon, min lat, max lon, max lat]` at zoom `z`:
/// (min col, max col, min row, max row).
pub fn tile_range(bbox: [f64; 4], z: u32) -> (u64, u64, u64, u64) {
    let [x0, y0, x1, y1] = bbox;
    let (c0, r1) = tile_of(x0, y0, z);
    let (c1, r0) = tile_of(x1, y1, z);
    (c0, c1, r0, r1)
}

/// The lon/lat box of tile `x`/`y` at zoom `z`, grown on every side by `buffer` tile widths
/// (a vector tile's 64/4096 buffer): `[min lon, min lat, max lon, max lat]`.
pub fn tile_bounds(z: u32, x: u64, y: u64, buffer: f64) -> [f64; 4] {
    let n = (1u64 << z) as f64;
    let lon = |x: f64| x / n * 360.0 - 180.0;
    let lat = |y: f64| (std::f64::consts::PI * (1.0 - 2.0 * y / n)).sinh().atan().to_degrees();
    let (x, y) = (x as f64, y as f64);
    [lon(x - buffer), lat(y + 1.0 + buffer), lon(x + 1.0 + buffer), lat(y - buffer)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_of_points() {
        assert_eq!(tile_of(0.0, 0.0, 1), (1, 1));
        assert_eq!(tile_of(-180.0, 85.0, 3), (0, 0));
        // Hoàn Kiếm at z14: 105.8542, 21.0285
        assert_eq!(tile_of(105.8542, 21.0285, 14), (13009, 7212));
        assert_eq!(tile_range([105.8542, 21.0285, 105.8542, 21.0285], 14), (13009, 13009, 7212, 7212));
        let [x0, y0, x1, y1] = tile_bounds(14, 13009, 7212, 0.0);
        assert!(x0 < 105.8542 && 105.8542 < x1 && y0 < 21.0285 && 21.0285 < y1);
        let world = tile_bounds(0, 0, 0, 0.0);
        assert_eq!((world[0], world[2]), (-180.0, 180.0));
        assert!((world[3] - MAX_LATITUDE).abs() < 1e-8 && (world[1] + MAX_LATITUDE).abs() < 1e-8, "{world:?}");
    }

    #[test]
    fn formulas_go_both_ways() {
        assert!((x_of(180.0) - HALF_WORLD).abs() < 1e-6);
        assert!((y_of(MAX_LATITUDE) - HALF_WORLD).abs() < 1.0);
        for (lon, lat) in [(105.85, 21.03), (-70.0, -33.4), (0.0, 0.0)] {
            assert!((lon_of(x_of(lon)) - lon).abs() < 1e-12 && (lat_of(y_of(lat)) - lat).abs() < 1e-12);
        }
    }
}
