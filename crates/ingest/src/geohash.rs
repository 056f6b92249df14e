//! GeoHash identifiers of features (the national parcel ID of TT 19/2026, brief §9): the encoder
//! and decoder, the one point rule ([`point_of`]) and the distance check of brief rule 6.
//!
//! GeoHash interleaves the bits of longitude and latitude (longitude first), each bit halving
//! the interval the coordinate lies in, and writes them five at a time in the base-32 alphabet
//! `0123456789bcdefghjkmnpqrstuvwxyz`. Twelve characters are 60 bits: a cell of about
//! 3.7 × 1.9 cm at the equator. PostGIS's `ST_GeoHash` / `ST_PointFromGeoHash` are the same code.

use geo::{Contains, Distance, Euclidean, InteriorPoint};
use geo_types::{Coord, Geometry, Point};

/// The base-32 alphabet of GeoHash.
const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";

/// The GeoHash of a lon/lat point, `length` characters (at most 12: longer ones add nothing a
/// `f64` holds); `None` for a point outside lon −180..180, lat −90..90 or a length of 0.
pub fn encode(lon: f64, lat: f64, length: usize) -> Option<String> {
    if !(1..=12).contains(&length) || !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
        return None;
    }
    let (mut lon_range, mut lat_range) = ((-180.0_f64, 180.0_f64), (-90.0_f64, 90.0_f64));
    let mut out = String::with_capacity(length);
    let mut even = true;
    for _ in 0..length {
        let mut index = 0usize;
        for _ in 0..5 {
            let (range, value) = if even { (&mut lon_range, lon) } else { (&mut lat_range, lat) };
            let mid = (range.0 + range.1) / 2.0;
            index <<= 1;
            if value >= mid {
                index |= 1;
                range.0 = mid;
            } else {
                range.1 = mid;
            }
            even = !even;
        }
        out.push(char::from(ALPHABET[index]));
    }
    Some(out)
}

/// The centre of a GeoHash's cell and its half-sizes, as `(lon, lat, lon error, lat error)`;
/// `None` when a character is not in the alphabet (GeoHash is lower case).
pub fn decode(hash: &str) -> Option<(f64, f64, f64, f64)> {
    let (mut lon_range, mut lat_range) = ((-180.0_f64, 180.0_f64), (-90.0_f64, 90.0_f64));
    let mut even = true;
    for byte in hash.bytes() {
        let index = ALPHABET.iter().position(|&a| a == byte)?;
        for bit in (0..5).rev() {
            let range = if even { &mut lon_range } else { &mut lat_range };
            let mid = (range.0 + range.1) / 2.0;
            if index >> bit & 1 == 1 {
                range.0 = mid;
            } else {
                range.1 = mid;
            }
            even = !even;
        }
    }
    Some((
        (lon_range.0 + lon_range.1) / 2.0,
        (lat_range.0 + lat_range.1) / 2.0,
        (lon_range.1 - lon_range.0) / 2.0,
        (lat_range.1 - lat_range.0) / 2.0,
    ))
}

/// Whether `text` is a GeoHash of exactly `length` characters.
pub fn is_geohash(text: &str, length: usize) -> bool {
    text.len() == length && text.bytes().all(|b| ALPHABET.contains(&b))
}

/// The point a feature's GeoHash identifier encodes, the one place its rule is kept: an interior
/// point of the lon/lat geometry (geo's `InteriorPoint`, the same construction as PostGIS's
/// `ST_PointOnSurface`, which the table's trigger uses for features that arrive without one).
/// TT 19/2026 names a "characteristic point" without defining it (brief §9: unconfirmed).
pub fn point_of(geometry: &Geometry<f64>) -> Option<Point<f64>> {
    geometry.interior_point()
}

/// The identifier of a lon/lat geometry: the GeoHash of [`point_of`], `length` characters.
pub fn identifier(geometry: &Geometry<f64>, length: usize) -> Option<String> {
    let p = point_of(geometry)?;
    encode(p.x(), p.y(), length)
}

/// Metres per degree of latitude (and of longitude at the equator) on the WGS 84 mean radius.
const METRES_PER_DEGREE: f64 = 111_195.0;

/// How far, in metres, the point a GeoHash decodes to lies from a lon/lat geometry: 0 inside
/// it; `None` when the text is not a GeoHash. Measured in a local plane around the point (an
/// equirectangular projection: well under a millimetre off over the few metres that matter).
pub fn distance_m(hash: &str, geometry: &Geometry<f64>) -> Option<f64> {
    let (lon, lat, _, _) = decode(hash)?;
    let point = Point::new(lon, lat);
    if geometry.contains(&point) {
        return Some(0.0);
    }
    let (kx, ky) = (METRES_PER_DEGREE * lat.to_radians().cos(), METRES_PER_DEGREE);
    let mut local = geometry.clone();
    geo::MapCoordsInPlace::map_coords_in_place(&mut local, |c| Coord { x: (c.x - lon) * kx, y: (c.y - lat) * ky });
    Some(Euclidean.distance(&Point::new(0.0, 0.0), &local))
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::{polygon, MultiPolygon};

    #[test]
    fn known_points_encode_as_published() {
        // Brief §9: Hoàn Kiếm, VN-2000 21.0285 N 105.8542 E, taken as WGS 84 without the datum
        // shift (the mistake the brief warns about) is w7er8u0evss2.
        assert_eq!(encode(105.8542, 21.0285, 12).as_deref(), Some("w7er8u0evss2"));
        // The classic examples of the GeoHash literature.
        assert_eq!(encode(-5.6, 42.6, 5).as_deref(), Some("ezs42"));
        assert_eq!(encode(10.40744, 57.64911, 11).as_deref(), Some("u4pruydqqvj"));
        assert_eq!(encode(0.0, 0.0, 12).as_deref(), Some("s00000000000"));
        assert_eq!(encode(-180.0, -90.0, 4).as_deref(), Some("0000"));
        assert_eq!(encode(180.0, 90.0, 4).as_deref(), Some("zzzz"));
        assert_eq!(encode(181.0, 0.0, 12), None);
        assert_eq!(encode(0.0, 0.0, 13), None);
    }

    #[test]
    fn the_shifted_hoan_kiem_point_is_the_briefs_id() {
        // Brief §9: with the EPSG:6960 shift the same point is w7er8gfn1s8n. Its cell's centre
        // is what the ID stands for; re-encoding the centre gives the ID back.
        let (lon, lat, lon_err, lat_err) = decode("w7er8gfn1s8n").unwrap();
        assert_eq!(encode(lon, lat, 12).as_deref(), Some("w7er8gfn1s8n"));
        // About 3.7 × 1.9 cm: half-sizes of 1.7e-7° and 8.4e-8°.
        assert!(lon_err < 2e-7 && lat_err < 1e-7, "{lon_err} {lat_err}");
        // The shift moves the point by about 225 m (brief): the two IDs' points are that far.
        let (lon0, lat0, _, _) = decode("w7er8u0evss2").unwrap();
        let metres =
            ((lon - lon0) * METRES_PER_DEGREE * lat.to_radians().cos()).hypot((lat - lat0) * METRES_PER_DEGREE);
        assert!((150.0..300.0).contains(&metres), "{metres} m");
        // Only the first five characters agree.
        assert_eq!(&"w7er8gfn1s8n"[..5], &"w7er8u0evss2"[..5]);
    }

    #[test]
    fn the_hoan_kiem_point_through_the_one_vn2000_rule_is_within_a_metre_of_the_briefs_id() {
        // The importer's transformation (EPSG:4756 → WGS 84 with the EPSG:6960 shift): towgs84
        // variants differ by 0.5–0.75 m (brief), so the ID is checked by distance, as rule 6 does.
        let vn2000 = geosector_crs::Crs::parse("EPSG:4756").unwrap();
        let to_wgs84 = geosector_crs::Transformer::new(&vn2000, &geosector_crs::Crs::wgs84()).unwrap();
        let p = to_wgs84.coord(Coord { x: 105.8542, y: 21.0285 }).unwrap();
        let id = encode(p.x, p.y, 12).unwrap();
        let (lon, lat, _, _) = decode("w7er8gfn1s8n").unwrap();
        let metres = ((p.x - lon) * METRES_PER_DEGREE * lat.to_radians().cos()).hypot((p.y - lat) * METRES_PER_DEGREE);
        assert!(metres < 1.0, "{id}: {metres} m from w7er8gfn1s8n");
        assert_eq!(&id[..7], "w7er8gf", "{id}");
    }

    #[test]
    fn decoding_inverts_encoding_within_the_cell() {
        for (lon, lat) in [(105.8542, 21.0285), (102.1, 8.3), (109.6, 23.4), (-73.99, 40.73), (0.0, -0.0)] {
            let hash = encode(lon, lat, 12).unwrap();
            let (x, y, ex, ey) = decode(&hash).unwrap();
            assert!((x - lon).abs() <= ex && (y - lat).abs() <= ey, "{hash}: {x} {y}");
        }
        assert_eq!(decode("w7er8a"), None, "a is not in the alphabet");
        assert!(is_geohash("w7er8gfn1s8n", 12));
        assert!(!is_geohash("w7er8gfn1s8", 12));
        assert!(!is_geohash("w7er8gfn1s8i", 12), "i is not in the alphabet");
        assert!(!is_geohash("W7ER8GFN1S8N", 12), "upper case is not GeoHash");
    }

    #[test]
    fn a_parcels_identifier_decodes_inside_it() {
        // An L-shaped parcel, whose centroid lies outside it.
        let l: Geometry<f64> = MultiPolygon(vec![polygon![
            (x: 105.0, y: 21.0), (x: 105.001, y: 21.0), (x: 105.001, y: 21.0001),
            (x: 105.0001, y: 21.0001), (x: 105.0001, y: 21.001), (x: 105.0, y: 21.001), (x: 105.0, y: 21.0),
        ]])
        .into();
        let id = identifier(&l, 12).unwrap();
        assert_eq!(distance_m(&id, &l), Some(0.0), "{id}");
        // A point 2 m east of the parcel's east edge, at its south arm.
        let east = encode(105.001 + 2.0 / (METRES_PER_DEGREE * 21f64.to_radians().cos()), 21.00005, 12).unwrap();
        let d = distance_m(&east, &l).unwrap();
        assert!((d - 2.0).abs() < 0.05, "{d}");
    }
}
