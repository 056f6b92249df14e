//! The CRS part of a query plan (OGC API - Features - Part 2): how a statement writes
//! geometries in the CRS a request asks for, and reads a bbox given in another CRS.
//!
//! Geometries are stored in EPSG:4326, longitude first. A request may want them:
//! - as stored (CRS84): no SQL change at all;
//! - with the axes swapped (EPSG:4326, latitude first): `ST_FlipCoordinates`;
//! - transformed (VN-2000, Web Mercator): `ST_Transform(geom, $1::integer)` with the target's
//!   **rule SRID bound as the first parameter**, then flipped too when the target is north
//!   first (EPSG:4756).
//!
//! The rule SRIDs (`geosector_crs::CrsDef::rule_srid`, 900000 + the EPSG code, migration 0010)
//! are `spatial_ref_sys` rows with no authority and no WKT, only the PROJ string of
//! `geosector-crs`'s table, which carries the EPSG:6960 `+towgs84`: PostGIS then hands PROJ
//! exactly that string, and caches the transformation per connection. Not the EPSG SRIDs: given
//! `ST_Transform(geom, 5897)`, PostGIS hands PROJ the authority code `EPSG:5897` first, and PROJ
//! picks a VN-2000 ↔ WGS 84 operation per point (EPSG:5194 in the Mekong delta, 0.8 m away at
//! Cần Thơ). Not `ST_Transform(geom, from_proj, to_proj)` either: same strings, but PROJ is set
//! up again for every row (7 ms a row, against 20 µs). Binding the SRID keeps one statement per
//! shape, whatever the CRS; it comes from the table, never from the request's text.
//!
//! A bbox in a CRS other than CRS84/EPSG:4326 arrives as one polygon in storage coordinates
//! (the rectangle densified and transformed by the caller with the same rule), bound as WKB
//! after the SRID: `ST_Intersects(geom, ST_GeomFromWKB($n, 4326))`.

/// The CRS part of a statement's shape; one statement per distinct value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CrsShape {
    /// Geometries are transformed: `$1` is the target's rule SRID (integer).
    pub transform: bool,
    /// Output axes are swapped (north first).
    pub flip: bool,
    /// The bbox is one polygon in storage coordinates, bound as WKB (bytea) right after the
    /// rule SRID; the envelope parameters of the shape are then unused (`bbox_parts` 0).
    pub bbox_polygon: bool,
}

impl CrsShape {
    /// How many parameters this part binds ahead of every other value of the statement.
    pub fn leading_parameters(&self) -> usize {
        usize::from(self.transform) + usize::from(self.bbox_polygon)
    }

    /// The GeoJSON text of a geometry column in the requested CRS (9 decimals: nanodegrees, or
    /// nanometres for projected CRSs).
    pub(crate) fn geometry_json(&self, column: &str) -> String {
        let mut expr = column.to_owned();
        if self.transform {
            expr = format!("ST_Transform({expr}, $1::integer)");
        }
        if self.flip {
            expr = format!("ST_FlipCoordinates({expr})");
        }
        // Options 0: no `crs` member (the default would look up an authority the rule SRIDs
        // deliberately lack; the CRS is said by the Content-Crs header).
        let options = if self.transform { ", 0" } else { "" };
        format!("ST_AsGeoJSON({expr}, 9{options})")
    }

    /// The bbox condition when the bbox is a bound polygon.
    pub(crate) fn bbox_condition(&self, column: &str) -> Option<String> {
        let n = usize::from(self.transform) + 1;
        self.bbox_polygon.then(|| format!("ST_Intersects({column}, ST_GeomFromWKB(${n}::bytea, 4326))"))
    }
}

/// Well-known binary of one polygon ring (closed here if it is not), little-endian: how a bbox
/// transformed out of its CRS is bound.
pub fn polygon_wkb(ring: &[(f64, f64)]) -> Vec<u8> {
    let closed = ring.first() != ring.last();
    let points = ring.len() + usize::from(closed);
    let mut out = Vec::with_capacity(13 + 16 * points);
    out.push(1);
    out.extend_from_slice(&3u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&u32::try_from(points).unwrap_or(u32::MAX).to_le_bytes());
    for (x, y) in ring.iter().chain(ring.first().filter(|_| closed)) {
        out.extend_from_slice(&x.to_le_bytes());
        out.extend_from_slice(&y.to_le_bytes());
    }
    out
}

/// The lon/lat envelope `[min x, min y, max x, max y]` of a polygon written by
/// [`polygon_wkb`]; `None` for other bytes.
pub fn polygon_wkb_envelope(wkb: &[u8]) -> Option<[f64; 4]> {
    if wkb.first() != Some(&1) || wkb.len() < 13 + 16 {
        return None;
    }
    let number = |at: usize| wkb.get(at..at + 8).and_then(|b| b.try_into().ok()).map(f64::from_le_bytes);
    let mut envelope = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
    let mut at = 13;
    while let (Some(x), Some(y)) = (number(at), number(at + 8)) {
        envelope = [envelope[0].min(x), envelope[1].min(y), envelope[2].max(x), envelope[3].max(y)];
        at += 16;
    }
    envelope[0].is_finite().then_some(envelope)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_expressions() {
        assert_eq!(CrsShape::default().geometry_json("\"geom\""), "ST_AsGeoJSON(\"geom\", 9)");
        let flip = CrsShape { flip: true, ..CrsShape::default() };
        assert_eq!(flip.geometry_json("\"geom\""), "ST_AsGeoJSON(ST_FlipCoordinates(\"geom\"), 9)");
        let both = CrsShape { transform: true, flip: true, bbox_polygon: true };
        assert_eq!(
            both.geometry_json("\"geom\""),
            "ST_AsGeoJSON(ST_FlipCoordinates(ST_Transform(\"geom\", $1::integer)), 9, 0)"
        );
        assert_eq!(both.leading_parameters(), 2);
        assert_eq!(
            both.bbox_condition("\"geom\"").unwrap(),
            "ST_Intersects(\"geom\", ST_GeomFromWKB($2::bytea, 4326))"
        );
        let bbox_only = CrsShape { bbox_polygon: true, ..CrsShape::default() };
        assert_eq!(bbox_only.bbox_condition("g").unwrap(), "ST_Intersects(g, ST_GeomFromWKB($1::bytea, 4326))");
        assert!(CrsShape::default().bbox_condition("g").is_none());
    }

    #[test]
    fn wkb_polygon_is_closed() {
        let wkb = polygon_wkb(&[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0)]);
        assert_eq!(wkb.len(), 13 + 16 * 4);
        assert_eq!(&wkb[..13], &[1, 3, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0]);
        assert_eq!(&wkb[13..29], &wkb[wkb.len() - 16..], "first point repeated last");
        assert_eq!(polygon_wkb(&[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 0.0)]).len(), 13 + 16 * 4);
    }
}
