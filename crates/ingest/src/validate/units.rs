//! Administrative units in memory for the rules `UnitExistsAt` and `InsideUnit` (brief rules 5
//! and 7): commune codes with their validity dates, and commune boundaries for a
//! point-in-polygon test.
//!
//! Both are read from `reference.admin_units` in one query each before the load starts (the
//! connection is busy with COPY during the run, and no rule may make a round trip per feature).
//! Boundaries arrive as WKB and are decoded and indexed lazily, once per commune code, on the
//! first parcel that needs them (a per-code `OnceLock`: no global lock in the hot path).
//! The index cuts the boundary's edges into horizontal bands, so a point test reads only the
//! few edges of its band instead of every vertex of a commune.

use std::sync::OnceLock;

/// Maps by commune code, looked up once or twice per feature: foldhash rather than SipHash.
type HashMap<K, V> = foldhash::HashMap<K, V>;

use chrono::NaiveDate;
use geo_types::{Coord, Geometry};
use geozero::ToGeo;
use tokio_postgres::GenericClient;

use crate::error::ImportError;

/// Commune codes by validity period, and boundaries.
#[derive(Debug, Default)]
pub struct AdminUnits {
    communes: HashMap<String, Vec<(NaiveDate, Option<NaiveDate>)>>,
    /// The earliest `valid_from` of any commune: dates before it are not covered.
    covered_from: Option<NaiveDate>,
    boundaries: HashMap<String, Lazy>,
}

#[derive(Debug)]
struct Lazy {
    wkb: Vec<u8>,
    prepared: OnceLock<Option<Boundary>>,
}

/// The answer of [`AdminUnits::exists_at`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existence {
    /// The code is valid on that date.
    Valid,
    /// The code is not valid on that date (unknown, or valid only at other dates).
    Invalid,
    /// The reference data do not reach back to that date.
    NotCovered,
}

/// Where a point lies relative to its commune.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Placement {
    /// Inside the boundary.
    Inside,
    /// Outside, at this distance in metres from the boundary.
    Outside(f64),
    /// No boundary is loaded for this code.
    NoBoundary,
}

impl AdminUnits {
    /// Loads commune codes (always) and their boundaries (when `boundaries`).
    ///
    /// # Errors
    /// [`ImportError::Database`] when the reference table cannot be read.
    pub async fn load(client: &impl GenericClient, boundaries: bool) -> Result<AdminUnits, ImportError> {
        let mut units = AdminUnits::default();
        // The units before the first reform the reference knows start at `-infinity` (and an open
        // end may be written `infinity`): chrono has no infinite date, so they arrive as NULL.
        for row in client
            .query(
                "SELECT code, CASE WHEN isfinite(valid_from) THEN valid_from END,
                        CASE WHEN isfinite(valid_to) THEN valid_to END
                 FROM reference.admin_units WHERE level = 'commune'",
                &[],
            )
            .await?
        {
            let (code, from, to): (String, Option<NaiveDate>, Option<NaiveDate>) =
                (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
            let from = from.unwrap_or(NaiveDate::MIN);
            units.covered_from = Some(units.covered_from.map_or(from, |c| c.min(from)));
            units.communes.entry(code).or_default().push((from, to));
        }
        if boundaries {
            // The boundary in force today for each code (the 2025 units carry the boundaries).
            for row in client
                .query(
                    "SELECT DISTINCT ON (code) code, ST_AsBinary(geom) FROM reference.admin_units
                     WHERE level = 'commune' AND geom IS NOT NULL ORDER BY code, valid_to IS NULL DESC, valid_from DESC",
                    &[],
                )
                .await?
            {
                let (code, wkb): (String, Vec<u8>) = (row.get(0), row.get(1));
                units.boundaries.insert(code, Lazy { wkb, prepared: OnceLock::new() });
            }
        }
        Ok(units)
    }

    /// Whether any commune code is loaded.
    pub fn has_codes(&self) -> bool {
        !self.communes.is_empty()
    }

    /// Whether any boundary is loaded.
    pub fn has_boundaries(&self) -> bool {
        !self.boundaries.is_empty()
    }

    /// The earliest date the codes cover.
    pub fn covered_from(&self) -> Option<NaiveDate> {
        self.covered_from
    }

    /// Whether commune `code` is valid on `date` (`valid_to` is exclusive).
    pub fn exists_at(&self, code: &str, date: NaiveDate) -> Existence {
        if self.covered_from.is_none_or(|from| date < from) {
            return Existence::NotCovered;
        }
        let valid = self
            .communes
            .get(code)
            .is_some_and(|periods| periods.iter().any(|(from, to)| *from <= date && to.is_none_or(|t| date < t)));
        if valid {
            Existence::Valid
        } else {
            Existence::Invalid
        }
    }

    /// The validity periods of a code, for messages: `2008-08-01 – 2025-07-01`, `until
    /// 2025-07-01` (valid since before the reference's first date), `2025-07-01 – now`.
    pub fn periods(&self, code: &str) -> Vec<String> {
        let Some(periods) = self.communes.get(code) else { return Vec::new() };
        periods
            .iter()
            .map(|(from, to)| match (*from == NaiveDate::MIN, to) {
                (true, Some(to)) => format!("until {to}"),
                (true, None) => "always".to_owned(),
                (false, Some(to)) => format!("{from} – {to}"),
                (false, None) => format!("{from} – now"),
            })
            .collect()
    }

    /// Where a lon/lat point lies relative to commune `code`'s boundary.
    pub fn place(&self, code: &str, p: Coord<f64>) -> Placement {
        let Some(lazy) = self.boundaries.get(code) else { return Placement::NoBoundary };
        match lazy.prepared.get_or_init(|| Boundary::from_wkb(&lazy.wkb)) {
            None => Placement::NoBoundary,
            Some(b) if b.contains(p) => Placement::Inside,
            Some(b) => Placement::Outside(b.distance_m(p)),
        }
    }

    /// Test support: units from (code, from, to) triples and lon/lat boundaries.
    #[cfg(test)]
    pub(crate) fn from_parts(
        communes: &[(&str, NaiveDate, Option<NaiveDate>)],
        boundaries: &[(&str, geo_types::MultiPolygon<f64>)],
    ) -> AdminUnits {
        use geozero::{CoordDimensions, ToWkb};
        let mut units = AdminUnits::default();
        for (code, from, to) in communes {
            units.covered_from = Some(units.covered_from.map_or(*from, |c| c.min(*from)));
            units.communes.entry((*code).to_owned()).or_default().push((*from, *to));
        }
        for (code, mp) in boundaries {
            let wkb = Geometry::MultiPolygon(mp.clone()).to_wkb(CoordDimensions::xy()).unwrap();
            units.boundaries.insert((*code).to_owned(), Lazy { wkb, prepared: OnceLock::new() });
        }
        units
    }
}

/// A boundary's edges in horizontal bands, for point-in-polygon tests in O(edges per band).
#[derive(Debug)]
struct Boundary {
    min_y: f64,
    band_height: f64,
    bands: Vec<Vec<[f64; 4]>>,
    edges: Vec<[f64; 4]>,
}

impl Boundary {
    fn from_wkb(wkb: &[u8]) -> Option<Boundary> {
        let g = geozero::wkb::Wkb(wkb.to_vec()).to_geo().ok()?;
        let polygons = match g {
            Geometry::Polygon(p) => vec![p],
            Geometry::MultiPolygon(mp) => mp.0,
            _ => return None,
        };
        let mut edges = Vec::new();
        for p in &polygons {
            for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
                edges.extend(ring.lines().map(|l| [l.start.x, l.start.y, l.end.x, l.end.y]));
            }
        }
        let (min_y, max_y) = edges
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), e| (lo.min(e[1].min(e[3])), hi.max(e[1].max(e[3]))));
        if edges.is_empty() || !min_y.is_finite() || !max_y.is_finite() {
            return None;
        }
        let count = (edges.len() / 8).clamp(1, 4096);
        let band_height = ((max_y - min_y) / count as f64).max(f64::MIN_POSITIVE);
        let mut bands = vec![Vec::new(); count];
        for e in &edges {
            let (lo, hi) = (e[1].min(e[3]), e[1].max(e[3]));
            let (a, b) = (band_of(lo, min_y, band_height, count), band_of(hi, min_y, band_height, count));
            for band in &mut bands[a..=b] {
                band.push(*e);
            }
        }
        Some(Boundary { min_y, band_height, bands, edges })
    }

    /// Even-odd ray casting over the edges of the point's band.
    fn contains(&self, p: Coord<f64>) -> bool {
        let count = self.bands.len();
        let band = (p.y - self.min_y) / self.band_height;
        if !(0.0..=count as f64).contains(&band) {
            return false;
        }
        let mut inside = false;
        for e in &self.bands[band_of(p.y, self.min_y, self.band_height, count)] {
            let (x1, y1, x2, y2) = (e[0], e[1], e[2], e[3]);
            if (y1 > p.y) != (y2 > p.y) && p.x < x1 + (p.y - y1) / (y2 - y1) * (x2 - x1) {
                inside = !inside;
            }
        }
        inside
    }

    /// Distance in metres from a lon/lat point to the nearest edge (local equirectangular
    /// approximation, good to well under 1 % over a commune). Linear in the edges: only called
    /// for points found outside.
    fn distance_m(&self, p: Coord<f64>) -> f64 {
        let ky = 110_574.0;
        let kx = 111_320.0 * p.y.to_radians().cos();
        self.edges
            .iter()
            .map(|e| {
                let (ax, ay, bx, by) = ((e[0] - p.x) * kx, (e[1] - p.y) * ky, (e[2] - p.x) * kx, (e[3] - p.y) * ky);
                let (dx, dy) = (bx - ax, by - ay);
                let len2 = dx * dx + dy * dy;
                let t = if len2 > 0.0 { (-(ax * dx + ay * dy) / len2).clamp(0.0, 1.0) } else { 0.0 };
                (ax + t * dx).hypot(ay + t * dy)
            })
            .fold(f64::INFINITY, f64::min)
    }
}

fn band_of(y: f64, min_y: f64, height: f64, count: usize) -> usize {
    // Truncation is the intent: the band index of a coordinate, clamped into range.
    let i = ((y - min_y) / height).floor().max(0.0) as usize;
    i.min(count - 1)
}

#[cfg(test)]
mod tests {
    use geo_types::{coord, polygon, MultiPolygon};

    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn codes_are_valid_within_their_period_only() {
        let units = AdminUnits::from_parts(
            &[("00376", d(2025, 7, 1), None), ("00379", d(2020, 1, 1), Some(d(2025, 7, 1)))],
            &[],
        );
        assert_eq!(units.exists_at("00376", d(2025, 8, 1)), Existence::Valid);
        assert_eq!(units.exists_at("00379", d(2025, 8, 1)), Existence::Invalid);
        assert_eq!(units.exists_at("00379", d(2025, 6, 30)), Existence::Valid);
        assert_eq!(units.exists_at("99999", d(2025, 8, 1)), Existence::Invalid);
        assert_eq!(units.exists_at("00376", d(2019, 1, 1)), Existence::NotCovered);
    }

    #[test]
    fn points_are_placed_against_a_banded_boundary() {
        // A square of 0.01° with a notch, and many vertices so that several bands exist.
        let mut ring: Vec<Coord<f64>> =
            (0..=100).map(|i| coord! { x: 105.0 + f64::from(i) * 0.0001, y: 21.0 }).collect();
        ring.extend([coord! { x: 105.01, y: 21.01 }, coord! { x: 105.0, y: 21.01 }, coord! { x: 105.0, y: 21.0 }]);
        let square = geo_types::Polygon::new(ring.into(), vec![]);
        let hole = polygon![(x: 105.004, y: 21.004), (x: 105.006, y: 21.004), (x: 105.006, y: 21.006), (x: 105.004, y: 21.006)];
        let with_hole = geo_types::Polygon::new(square.exterior().clone(), vec![hole.exterior().clone()]);
        let units =
            AdminUnits::from_parts(&[("00376", d(2025, 7, 1), None)], &[("00376", MultiPolygon(vec![with_hole]))]);
        assert_eq!(units.place("00376", coord! { x: 105.002, y: 21.002 }), Placement::Inside);
        assert!(matches!(units.place("00376", coord! { x: 105.005, y: 21.005 }), Placement::Outside(_)));
        // 0.00003° east of the east edge: about 3 m.
        let Placement::Outside(m) = units.place("00376", coord! { x: 105.01003, y: 21.005 }) else { panic!() };
        assert!((2.5..3.5).contains(&m), "{m}");
        assert_eq!(units.place("00001", coord! { x: 105.0, y: 21.0 }), Placement::NoBoundary);
    }
}
