//! Well-known binary (OGC 06-103r4 / ISO 13249-3 WKB, and PostGIS EWKB flags) to `geo-types`,
//! for GeoPackage geometry blobs. Z and M ordinates (ISO codes 1000/2000/3000, EWKB flag bits)
//! are read and dropped: every sector table is 2D. Curved and surface types (CircularString,
//! CompoundCurve, CurvePolygon, MultiCurve, MultiSurface, PolyhedralSurface, TIN, Triangle) are
//! refused with a sentence that says how to linearise them. Every count is checked against the
//! bytes left, so a damaged blob is an error, never a panic or a huge allocation.

use geo_types::{
    Coord, Geometry, GeometryCollection, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon,
};

/// How deep geometry collections may nest.
const MAX_DEPTH: usize = 32;

/// The most members or rings reserved before they are read: a count is only checked against the
/// bytes left, and nested collections each announcing the most their bytes allow would
/// otherwise reserve many times the blob's size at once.
const RESERVE: usize = 1024;

/// Parses one WKB geometry. An empty point (NaN coordinates) is `Ok(None)`.
///
/// # Errors
/// A sentence saying what is wrong (truncated, unknown type, curved geometry).
pub fn parse(bytes: &[u8]) -> Result<Option<Geometry<f64>>, String> {
    geometry(&mut Cursor { bytes, pos: 0, little: true }, 0)
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    little: bool,
}

impl Cursor<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let end = self
            .pos
            .checked_add(N)
            .filter(|e| *e <= self.bytes.len())
            .ok_or_else(|| format!("WKB is truncated at byte {} of {}", self.pos, self.bytes.len()))?;
        let mut out = [0u8; N];
        out.copy_from_slice(&self.bytes[self.pos..end]);
        self.pos = end;
        Ok(out)
    }

    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take::<4>()?;
        Ok(if self.little { u32::from_le_bytes(b) } else { u32::from_be_bytes(b) })
    }

    fn f64(&mut self) -> Result<f64, String> {
        let b = self.take::<8>()?;
        Ok(if self.little { f64::from_le_bytes(b) } else { f64::from_be_bytes(b) })
    }

    /// A count of items of at least `item_size` bytes each, checked against the bytes left.
    fn count(&mut self, item_size: usize) -> Result<usize, String> {
        let n = usize::try_from(self.u32()?).map_err(|_| "WKB count does not fit in memory".to_owned())?;
        let left = self.bytes.len() - self.pos;
        if n.saturating_mul(item_size) > left {
            return Err(format!("WKB announces {n} items but only {left} bytes are left"));
        }
        Ok(n)
    }
}

/// Ordinates per position.
fn dims(has_z: bool, has_m: bool) -> usize {
    2 + usize::from(has_z) + usize::from(has_m)
}

fn geometry(c: &mut Cursor<'_>, depth: usize) -> Result<Option<Geometry<f64>>, String> {
    if depth > MAX_DEPTH {
        return Err("WKB geometry collections nest too deep".into());
    }
    let [order] = c.take::<1>()?;
    c.little = match order {
        0 => false,
        1 => true,
        other => return Err(format!("WKB byte order must be 0 or 1, got {other}")),
    };
    let raw = c.u32()?;
    // EWKB flags, then ISO thousands.
    let mut has_z = raw & 0x8000_0000 != 0;
    let mut has_m = raw & 0x4000_0000 != 0;
    if raw & 0x2000_0000 != 0 {
        c.u32()?; // SRID
    }
    let code = raw & 0x0FFF_FFFF;
    let base = code % 1000;
    match code / 1000 {
        0 => {}
        1 => has_z = true,
        2 => has_m = true,
        3 => (has_z, has_m) = (true, true),
        _ => return Err(format!("unknown WKB geometry type {code}")),
    }
    let n = dims(has_z, has_m);
    let g = match base {
        1 => {
            let p = position(c, n)?;
            if p.x.is_nan() && p.y.is_nan() {
                return Ok(None);
            }
            Geometry::Point(Point(p))
        }
        2 => Geometry::LineString(line(c, n)?),
        3 => Geometry::Polygon(polygon(c, n)?),
        4..=7 => {
            let count = c.count(5)?;
            let mut members = Vec::with_capacity(count.min(RESERVE));
            for _ in 0..count {
                if let Some(m) = geometry(c, depth + 1)? {
                    members.push(m);
                }
            }
            collect(base, members)?
        }
        8..=17 => {
            return Err(format!(
                "curved geometry ({}) is not supported: linearise it, e.g. ogr2ogr -nlt CONVERT_TO_LINEAR",
                curve_name(base)
            ))
        }
        other => return Err(format!("unknown WKB geometry type {other}")),
    };
    Ok(Some(g))
}

fn curve_name(base: u32) -> &'static str {
    match base {
        8 => "CircularString",
        9 => "CompoundCurve",
        10 => "CurvePolygon",
        11 => "MultiCurve",
        12 => "MultiSurface",
        13 => "Curve",
        14 => "Surface",
        15 => "PolyhedralSurface",
        16 => "TIN",
        _ => "Triangle",
    }
}

fn collect(base: u32, members: Vec<Geometry<f64>>) -> Result<Geometry<f64>, String> {
    let wrong = |want: &str, got: &Geometry<f64>| format!("a WKB {want} holds a {}", crate::geometry::type_name(got));
    Ok(match base {
        4 => Geometry::MultiPoint(MultiPoint(
            members
                .into_iter()
                .map(|m| if let Geometry::Point(p) = m { Ok(p) } else { Err(wrong("MultiPoint", &m)) })
                .collect::<Result<_, _>>()?,
        )),
        5 => Geometry::MultiLineString(MultiLineString(
            members
                .into_iter()
                .map(|m| if let Geometry::LineString(l) = m { Ok(l) } else { Err(wrong("MultiLineString", &m)) })
                .collect::<Result<_, _>>()?,
        )),
        6 => Geometry::MultiPolygon(MultiPolygon(
            members
                .into_iter()
                .map(|m| if let Geometry::Polygon(p) = m { Ok(p) } else { Err(wrong("MultiPolygon", &m)) })
                .collect::<Result<_, _>>()?,
        )),
        _ => Geometry::GeometryCollection(GeometryCollection(members)),
    })
}

fn position(c: &mut Cursor<'_>, dims: usize) -> Result<Coord<f64>, String> {
    let x = c.f64()?;
    let y = c.f64()?;
    for _ in 2..dims {
        c.f64()?;
    }
    Ok(Coord { x, y })
}

fn line(c: &mut Cursor<'_>, dims: usize) -> Result<LineString<f64>, String> {
    let count = c.count(8 * dims)?;
    (0..count).map(|_| position(c, dims)).collect::<Result<Vec<_>, _>>().map(LineString)
}

fn polygon(c: &mut Cursor<'_>, dims: usize) -> Result<Polygon<f64>, String> {
    let rings = c.count(4)?;
    let mut all = Vec::with_capacity(rings.min(RESERVE));
    for _ in 0..rings {
        all.push(line(c, dims)?);
    }
    let mut it = all.into_iter();
    let exterior = it.next().unwrap_or_else(|| LineString(Vec::new()));
    Ok(Polygon::new(exterior, it.collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn le_point_zm(x: f64, y: f64) -> Vec<u8> {
        let mut b = vec![1];
        b.extend(3001u32.to_le_bytes());
        for v in [x, y, 7.0, 9.0] {
            b.extend(v.to_le_bytes());
        }
        b
    }

    #[test]
    fn zm_is_dropped() {
        let g = parse(&le_point_zm(105.5, 21.0)).unwrap();
        assert_eq!(g, Some(Geometry::Point(Point::new(105.5, 21.0))));
    }

    #[test]
    fn big_endian_linestring() {
        let mut b = vec![0];
        b.extend(2u32.to_be_bytes());
        b.extend(2u32.to_be_bytes());
        for v in [1.0f64, 2.0, 3.0, 4.0] {
            b.extend(v.to_be_bytes());
        }
        let g = parse(&b).unwrap().unwrap();
        assert_eq!(g, Geometry::LineString(LineString::from(vec![(1.0, 2.0), (3.0, 4.0)])));
    }

    #[test]
    fn curves_and_damage_are_errors() {
        let mut b = vec![1];
        b.extend(8u32.to_le_bytes());
        b.extend(0u32.to_le_bytes());
        let e = parse(&b).unwrap_err();
        assert!(e.contains("CircularString") && e.contains("CONVERT_TO_LINEAR"), "{e}");
        let mut b = vec![1];
        b.extend(2u32.to_le_bytes());
        b.extend(u32::MAX.to_le_bytes());
        assert!(parse(&b).unwrap_err().contains("announces"));
        assert!(parse(&le_point_zm(1.0, 2.0)[..20]).unwrap_err().contains("truncated"));
        assert!(parse(&[7]).is_err());
    }

    /// 32 nested collections, each announcing as many members as the bytes left allow, in a
    /// 1 MiB blob: an error, without reserving ~14 bytes per announced member at every level.
    #[test]
    fn nested_counts_reserve_little() {
        let mut b = Vec::new();
        for _ in 0..=MAX_DEPTH {
            b.push(1);
            b.extend(7u32.to_le_bytes());
            b.extend(200_000u32.to_le_bytes());
        }
        b.resize(1 << 20, 0);
        assert!(parse(&b).is_err());
    }
}
