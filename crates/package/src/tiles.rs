//! Tile arithmetic shared by the tile writers: which WebMercatorQuad tiles cover a lon/lat box,
//! PMTiles' Hilbert tile ids, and the gzip every stored tile goes through (no file name, no
//! time: the same tile always compresses to the same bytes).

use std::io::Write as _;

/// The largest latitude of Web Mercator.
const MAX_LAT: f64 = 85.051_128_779_806_59;

/// The tiles of zoom `z` covering `[min lon, min lat, max lon, max lat]`: columns and rows
/// (inclusive ranges).
pub fn cover(bbox: [f64; 4], z: u8) -> (std::ops::RangeInclusive<u64>, std::ops::RangeInclusive<u64>) {
    let n = 1u64 << z;
    let column = |lon: f64| (((lon.clamp(-180.0, 180.0) + 180.0) / 360.0 * n as f64).floor() as u64).min(n - 1);
    let row = |lat: f64| {
        let lat = lat.clamp(-MAX_LAT, MAX_LAT).to_radians();
        let y = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n as f64;
        (y.floor().max(0.0) as u64).min(n - 1)
    };
    (column(bbox[0])..=column(bbox[2]), row(bbox[3])..=row(bbox[1]))
}

/// How many tiles [`cover`] gives at zoom `z`.
pub fn count(bbox: [f64; 4], z: u8) -> u64 {
    let (xs, ys) = cover(bbox, z);
    (xs.end() - xs.start() + 1) * (ys.end() - ys.start() + 1)
}

/// The PMTiles v3 tile id of a tile: the tiles of lower zooms, then the tile's position along
/// the Hilbert curve of its zoom.
pub fn tile_id(z: u8, x: u64, y: u64) -> u64 {
    let before: u64 = (0..z).map(|t| 1u64 << (2 * u32::from(t))).sum();
    let n = 1u64 << z;
    let (mut x, mut y) = (x, y);
    let mut d = 0u64;
    let mut s = n / 2;
    while s > 0 {
        let rx = u64::from(x & s > 0);
        let ry = u64::from(y & s > 0);
        d += s * s * ((3 * rx) ^ ry);
        if ry == 0 {
            if rx == 1 {
                x = n - 1 - x;
                y = n - 1 - y;
            }
            std::mem::swap(&mut x, &mut y);
        }
        s /= 2;
    }
    before + d
}

/// Gzip with a fixed header (no name, no time), best compression.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder =
        flate2::GzBuilder::new().mtime(0).write(Vec::with_capacity(data.len() / 2 + 64), flate2::Compression::best());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(data);
    encoder.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_ids_follow_the_pmtiles_spec() {
        // Values from the PMTiles specification's test suite.
        assert_eq!(tile_id(0, 0, 0), 0);
        assert_eq!(tile_id(1, 0, 0), 1);
        assert_eq!(tile_id(1, 0, 1), 2);
        assert_eq!(tile_id(1, 1, 1), 3);
        assert_eq!(tile_id(1, 1, 0), 4);
        assert_eq!(tile_id(2, 0, 0), 5);
        assert_eq!(tile_id(3, 0, 0), 21);
        assert_eq!(tile_id(3, 7, 0), 84);
        assert_eq!(tile_id(20, 0, 0), 366_503_875_925);
        assert_eq!(tile_id(21, 0, 0), 1_466_015_503_701);
        // Every tile of zoom 4 has its own id in the zoom's range.
        let mut ids: Vec<u64> = (0..16).flat_map(|x| (0..16).map(move |y| tile_id(4, x, y))).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 256);
        assert_eq!((ids[0], ids[255]), (85, 340));
    }

    #[test]
    fn a_box_is_covered_by_its_tiles() {
        assert_eq!(cover([-180.0, -85.0, 180.0, 85.0], 0), (0..=0, 0..=0));
        let (xs, ys) = cover([105.0, 20.0, 106.0, 21.0], 10);
        assert_eq!((*xs.start(), *xs.end()), (810, 813));
        assert!(ys.start() <= ys.end());
        assert_eq!(count([105.0, 20.0, 106.0, 21.0], 10), 4 * (ys.end() - ys.start() + 1));
        assert_eq!(gzip(b"abc"), gzip(b"abc"));
    }
}
