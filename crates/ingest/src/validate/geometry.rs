//! Geometry validity (brief rule 7, OGC Simple Features / `ST_IsValid`): geo's `Validation` gives
//! the reason; this module finds *where* (a coordinate of the offending ring, or the crossing
//! point of two segments) and, with `--repair`, repairs polygons by a self-union (which splits a
//! bow-tie at its crossing and dissolves overlapping parts), then validates the result again.
//!
//! Cost: geo's ring check compares every pair of segments. `surely_valid` first decides the
//! common case (polygons without holes whose parts lie apart) with the same exact segment test,
//! but only on pairs of segments whose bounding boxes touch, found by a sweep along x; geo's
//! check then runs only on what that cannot vouch for, so the verdict is always geo's. The
//! location search runs only on invalid input.
//!
//! geo checks each pair of rings but not whether the interior stays connected; `disconnected`
//! adds GEOS's rule (`PolygonTopologyAnalyzer`): rings that touch at two distinct points, or
//! touches that chain rings into a cycle, cut the interior into pieces, and the polygon is
//! invalid as `ST_IsValid` says. It runs only on polygons with holes that geo found valid.

use geo::algorithm::line_intersection::{line_intersection, LineIntersection};
use geo::algorithm::validation::{InvalidMultiPolygon, InvalidPolygon, RingRole, Validation};
use geo::{Area, BooleanOps};
use geo_types::{Coord, Geometry, Line, LineString, MultiPolygon, Polygon};

/// The verdict on one geometry.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Valid as given (or not an areal geometry: only polygons are checked).
    Valid,
    /// Invalid, and repaired in place (only with `repair`).
    Repaired {
        /// The reason it was invalid.
        before: String,
        /// Where, in the geometry's own coordinates.
        at: Option<Coord<f64>>,
        /// Area before → after, in the geometry's units².
        areas: (f64, f64),
    },
    /// Invalid (and not repairable when repair was asked for).
    Invalid {
        /// The reason (with the repair attempt's outcome when one was made).
        reason: String,
        /// Where, in the geometry's own coordinates.
        at: Option<Coord<f64>>,
    },
}

/// Checks a polygonal geometry and, when `repair` is set, repairs it in place.
pub fn check(g: &mut Geometry<f64>, repair: bool) -> Verdict {
    let first = match g {
        Geometry::Polygon(p) => problem_polygon(p),
        Geometry::MultiPolygon(mp) => problem_multi(mp),
        _ => None,
    };
    let Some((reason, at)) = first else { return Verdict::Valid };
    if !repair {
        return Verdict::Invalid { reason, at };
    }
    let before_area = g.unsigned_area();
    match repaired(g) {
        Ok(fixed) => {
            let after_area = fixed.unsigned_area();
            *g = Geometry::MultiPolygon(fixed);
            Verdict::Repaired { before: reason, at, areas: (before_area, after_area) }
        }
        Err(why) => Verdict::Invalid { reason: format!("{reason}; not repairable: {why}"), at },
    }
}

/// The repair: a union of the parts with nothing resolves self-intersections (even-odd filling)
/// and overlapping parts; the result must be valid and keep some area.
fn repaired(g: &Geometry<f64>) -> Result<MultiPolygon<f64>, String> {
    let parts = match g {
        Geometry::Polygon(p) => MultiPolygon(vec![p.clone()]),
        Geometry::MultiPolygon(mp) => mp.clone(),
        _ => return Err("not a polygon".into()),
    };
    if parts
        .0
        .iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .any(|r| r.0.iter().any(|c| !c.x.is_finite() || !c.y.is_finite()))
    {
        return Err("it has non-finite coordinates".into());
    }
    let fixed = parts.union(&MultiPolygon::new(Vec::new()));
    if fixed.0.is_empty() || fixed.unsigned_area() <= 0.0 {
        return Err("nothing with an area is left".into());
    }
    match problem_multi(&fixed) {
        None => Ok(fixed),
        Some((reason, _)) => Err(format!("the repaired geometry is still invalid: {reason}")),
    }
}

/// The first problem of a polygon, with a location.
fn problem_polygon(p: &Polygon<f64>) -> Option<(String, Option<Coord<f64>>)> {
    if surely_valid(std::slice::from_ref(p)) {
        return collapsed(p);
    }
    match p.check_validation() {
        Err(e) => {
            let at = locate_polygon(p, &e);
            Some((e.to_string(), at))
        }
        Ok(()) => collapsed(p).or_else(|| disconnected(p).map(|at| (DISCONNECTED.to_owned(), Some(at)))),
    }
}

/// The message of a polygon whose rings cut its interior in pieces.
const DISCONNECTED: &str = "interior is disconnected: its rings touch so as to cut it in pieces";

/// Where the rings of a polygon (valid by geo's checks: rings meet at points only) cut its
/// interior in pieces, as GEOS finds it: two rings touching at two distinct points, or the
/// touches linking rings in a cycle (a chain of holes from the shell back to it, or around an
/// area). Touches at one shared point do not count as a cycle (GEOS skips the entry point).
fn disconnected(p: &Polygon<f64>) -> Option<Coord<f64>> {
    if p.interiors().is_empty() {
        return None;
    }
    let rings: Vec<&LineString<f64>> = std::iter::once(p.exterior()).chain(p.interiors()).collect();
    let boxes: Vec<[f64; 4]> = rings.iter().map(|r| bounds(&r.0)).collect();
    // touches[i]: (other ring, point), at most one per pair.
    let mut touches: Vec<Vec<(usize, Coord<f64>)>> = vec![Vec::new(); rings.len()];
    for i in 0..rings.len() {
        for j in (i + 1)..rings.len() {
            if apart(&boxes[i], &boxes[j]) {
                continue;
            }
            let mut found: Option<Coord<f64>> = None;
            for a in rings[i].lines() {
                let box_a = bounds(&[a.start, a.end]);
                if apart(&box_a, &boxes[j]) {
                    continue;
                }
                for b in rings[j].lines() {
                    let point = match line_intersection(a, b) {
                        Some(LineIntersection::SinglePoint { intersection, .. }) => intersection,
                        Some(LineIntersection::Collinear { intersection }) => intersection.start,
                        None => continue,
                    };
                    match found {
                        None => found = Some(point),
                        Some(seen) if seen != point => return Some(point),
                        Some(_) => {}
                    }
                }
            }
            if let Some(point) = found {
                touches[i].push((j, point));
                touches[j].push((i, point));
            }
        }
    }
    // GEOS's hole-cycle scan: from each ring not yet reached, walk the touches, never leaving a
    // ring by the point it was entered at; reaching a ring already in this set is a cycle.
    let mut root: Vec<Option<usize>> = vec![None; rings.len()];
    for start in 0..rings.len() {
        if root[start].is_some() {
            continue;
        }
        root[start] = Some(start);
        let mut stack: Vec<(usize, Option<Coord<f64>>)> = vec![(start, None)];
        while let Some((ring, entered_at)) = stack.pop() {
            for &(other, point) in &touches[ring] {
                if Some(point) == entered_at {
                    continue;
                }
                if root[other] == Some(start) {
                    return Some(point);
                }
                root[other] = Some(start);
                stack.push((other, Some(point)));
            }
        }
    }
    None
}

/// A ring of four or more points enclosing no area (`0 0, 10 0, 20 0, 0 0`) folds back on
/// itself; GEOS calls it a self-intersection, geo's `Validation` does not look for it.
fn collapsed(p: &Polygon<f64>) -> Option<(String, Option<Coord<f64>>)> {
    let ring = p.exterior();
    // Without holes the polygon's own area is the ring's (the same sum), and no copy is made.
    let area = |p: &Polygon<f64>| {
        if p.interiors().is_empty() {
            p.unsigned_area()
        } else {
            Polygon::new(ring.clone(), Vec::new()).unsigned_area()
        }
    };
    if ring.0.len() >= 4 && area(p) == 0.0 {
        return Some(("exterior ring encloses no area (it folds back on itself)".into(), first(ring)));
    }
    None
}

/// The first problem of a multipolygon, with a location.
fn problem_multi(mp: &MultiPolygon<f64>) -> Option<(String, Option<Coord<f64>>)> {
    let checked = if surely_valid(&mp.0) { Ok(()) } else { mp.check_validation() };
    let Err(e) = checked else {
        return mp.0.iter().enumerate().find_map(|(i, p)| {
            collapsed(p)
                .or_else(|| disconnected(p).map(|at| (DISCONNECTED.to_owned(), Some(at))))
                .map(|(reason, at)| (format!("polygon at index {i} is invalid: {reason}"), at))
        });
    };
    let at = match &e {
        InvalidMultiPolygon::InvalidPolygon(i, inner) => mp.0.get(i.0).and_then(|p| locate_polygon(p, inner)),
        InvalidMultiPolygon::ElementsOverlaps(a, b) | InvalidMultiPolygon::ElementsTouchOnALine(a, b) => {
            match (mp.0.get(a.0), mp.0.get(b.0)) {
                (Some(pa), Some(pb)) => crossing(pa.exterior(), Some(pb.exterior())).or_else(|| first(pb.exterior())),
                _ => None,
            }
        }
    };
    Some((e.to_string(), at))
}

/// Whether geo's `Validation` surely finds nothing wrong with these polygons (as one
/// multipolygon); `false` when unsure. Decided only for polygons without holes, with finite
/// coordinates, whose parts' bounding boxes are apart: geo's checks then come down to "at least
/// four distinct points" and its ring self-intersection test, which this repeats with the same
/// exact predicate (`Line::intersects`) on every pair of segments that can meet. Two segments
/// whose closed bounding boxes are apart never intersect, so skipping them changes nothing.
fn surely_valid(polygons: &[Polygon<f64>]) -> bool {
    let mut boxes = Vec::with_capacity(polygons.len());
    for p in polygons {
        let ring = p.exterior();
        if !p.interiors().is_empty() || ring.0.is_empty() {
            return false;
        }
        if ring.0.iter().any(|c| !c.x.is_finite() || !c.y.is_finite()) {
            return false;
        }
        // geo: fewer than four points once consecutive repeats are dropped.
        if 1 + ring.0.windows(2).filter(|w| w[0] != w[1]).count() < 4 {
            return false;
        }
        if ring_self_intersects(ring) {
            return false;
        }
        boxes.push(bounds(&ring.0));
    }
    // geo relates every pair of parts; parts whose boxes are apart cannot overlap or touch.
    boxes.iter().enumerate().all(|(i, a)| boxes[i + 1..].iter().all(|b| apart(a, b)))
}

/// `[min x, min y, max x, max y]` of finite coordinates.
fn bounds(coords: &[Coord<f64>]) -> [f64; 4] {
    coords.iter().fold([f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY], |b, c| {
        [b[0].min(c.x), b[1].min(c.y), b[2].max(c.x), b[3].max(c.y)]
    })
}

/// Whether two closed boxes share no point.
fn apart(a: &[f64; 4], b: &[f64; 4]) -> bool {
    a[2] < b[0] || b[2] < a[0] || a[3] < b[1] || b[3] < a[1]
}

/// geo's ring self-intersection test (`linestring_has_self_intersection`: two segments that
/// intersect and are not joined end to start), on the pairs of segments whose boxes touch. geo
/// tests each pair in both orders; so does this, because its collinear case is not symmetric.
/// Rings of up to [`SWEEP_FROM`] segments (parcels) compare every pair's boxes; longer ones are
/// swept along x.
fn ring_self_intersects(ring: &LineString<f64>) -> bool {
    use geo::Intersects;
    let meet = |(a, box_a): &(Line<f64>, [f64; 4]), (b, box_b): &(Line<f64>, [f64; 4])| {
        !apart(box_a, box_b) && a.start != b.end && a.end != b.start && (a.intersects(b) || b.intersects(a))
    };
    let mut segments: Vec<(Line<f64>, [f64; 4])> = ring.lines().map(|l| (l, bounds(&[l.start, l.end]))).collect();
    if segments.len() <= SWEEP_FROM {
        return segments.iter().enumerate().any(|(i, a)| segments[i + 1..].iter().any(|b| meet(a, b)));
    }
    segments.sort_unstable_by(|a, b| a.1[0].total_cmp(&b.1[0]));
    for (i, a) in segments.iter().enumerate() {
        for b in &segments[i + 1..] {
            if b.1[0] > a.1[2] {
                break;
            }
            if meet(a, b) {
                return true;
            }
        }
    }
    false
}

/// The ring length (in segments) from which [`ring_self_intersects`] sorts and sweeps.
const SWEEP_FROM: usize = 24;

fn ring(p: &Polygon<f64>, role: RingRole) -> Option<&LineString<f64>> {
    match role {
        RingRole::Exterior => Some(p.exterior()),
        RingRole::Interior(i) => p.interiors().get(i),
    }
}

fn locate_polygon(p: &Polygon<f64>, e: &InvalidPolygon) -> Option<Coord<f64>> {
    match e {
        InvalidPolygon::TooFewPointsInRing(r) => ring(p, *r).and_then(first),
        InvalidPolygon::NonFiniteCoord(r, i) => ring(p, *r).and_then(|ls| {
            // The non-finite coordinate itself cannot be shown; its finite neighbour can.
            ls.0.iter()
                .take(i.0)
                .rev()
                .chain(ls.0.iter().skip(i.0))
                .find(|c| c.x.is_finite() && c.y.is_finite())
                .copied()
        }),
        InvalidPolygon::SelfIntersection(r) => ring(p, *r).and_then(|ls| crossing(ls, None).or_else(|| first(ls))),
        InvalidPolygon::InteriorRingNotContainedInExteriorRing(r) => {
            ring(p, *r).and_then(|ls| crossing(p.exterior(), Some(ls)).or_else(|| first(ls)))
        }
        InvalidPolygon::IntersectingRingsOnALine(a, b) | InvalidPolygon::IntersectingRingsOnAnArea(a, b) => {
            match (ring(p, *a), ring(p, *b)) {
                (Some(ra), Some(rb)) => crossing(ra, Some(rb)).or_else(|| first(rb)),
                _ => None,
            }
        }
    }
}

fn first(ls: &LineString<f64>) -> Option<Coord<f64>> {
    ls.0.first().copied()
}

/// Where two rings (or one ring with itself) cross or overlap: the first intersection point of
/// two segments that are not neighbours along the ring (for one ring). Quadratic, so only run
/// on geometries already known to be invalid.
fn crossing(a: &LineString<f64>, b: Option<&LineString<f64>>) -> Option<Coord<f64>> {
    let lines_a: Vec<Line<f64>> = a.lines().filter(|l| l.start != l.end).collect();
    let n = lines_a.len();
    match b {
        None => {
            for i in 0..n {
                for j in (i + 1)..n {
                    let neighbours = j == i + 1 || (i == 0 && j == n - 1);
                    match line_intersection(lines_a[i], lines_a[j]) {
                        Some(LineIntersection::SinglePoint { intersection, .. }) if !neighbours => {
                            return Some(intersection)
                        }
                        // Neighbours folding back on each other (a spike), or any collinear overlap.
                        Some(LineIntersection::Collinear { intersection }) => return Some(intersection.start),
                        _ => {}
                    }
                }
            }
            None
        }
        Some(b) => {
            for la in &lines_a {
                for lb in b.lines() {
                    match line_intersection(*la, lb) {
                        Some(LineIntersection::SinglePoint { intersection, .. }) => return Some(intersection),
                        Some(LineIntersection::Collinear { intersection }) => return Some(intersection.start),
                        None => {}
                    }
                }
            }
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use geo_types::{coord, polygon};

    use super::*;

    fn bow_tie() -> Geometry<f64> {
        Geometry::Polygon(polygon![(x: 0., y: 0.), (x: 10., y: 10.), (x: 10., y: 0.), (x: 0., y: 10.), (x: 0., y: 0.)])
    }

    #[test]
    fn a_square_is_valid() {
        let mut g = Geometry::Polygon(polygon![(x: 0., y: 0.), (x: 10., y: 0.), (x: 10., y: 10.), (x: 0., y: 10.)]);
        assert_eq!(check(&mut g, false), Verdict::Valid);
    }

    #[test]
    fn a_bow_tie_is_invalid_at_its_crossing() {
        let mut g = bow_tie();
        match check(&mut g, false) {
            Verdict::Invalid { reason, at } => {
                assert!(reason.contains("self-intersection"), "{reason}");
                assert_eq!(at, Some(coord! { x: 5., y: 5. }));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_bow_tie_is_repaired_into_two_valid_triangles() {
        let mut g = bow_tie();
        match check(&mut g, true) {
            Verdict::Repaired { before, at, areas } => {
                assert!(before.contains("self-intersection"));
                assert_eq!(at, Some(coord! { x: 5., y: 5. }));
                assert!((areas.1 - 50.0).abs() < 1e-9, "two triangles of 25: {areas:?}");
            }
            other => panic!("{other:?}"),
        }
        let Geometry::MultiPolygon(mp) = &g else { panic!("{g:?}") };
        assert_eq!(mp.0.len(), 2);
        assert!(mp.is_valid());
    }

    #[test]
    fn a_hole_outside_its_shell_is_located() {
        let mut g = Geometry::Polygon(polygon!(
            exterior: [(x: 0., y: 0.), (x: 10., y: 0.), (x: 10., y: 10.), (x: 0., y: 10.)],
            interiors: [[(x: 20., y: 20.), (x: 21., y: 20.), (x: 21., y: 21.), (x: 20., y: 21.)]],
        ));
        match check(&mut g, false) {
            Verdict::Invalid { reason, at } => {
                assert!(reason.contains("not contained"), "{reason}");
                assert_eq!(at, Some(coord! { x: 20., y: 20. }));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn non_finite_coordinates_are_not_repairable() {
        let mut g =
            Geometry::Polygon(polygon![(x: 0., y: 0.), (x: f64::NAN, y: 0.), (x: 10., y: 10.), (x: 0., y: 10.)]);
        match check(&mut g, true) {
            Verdict::Invalid { reason, at } => {
                assert!(reason.contains("not repairable"), "{reason}");
                assert_eq!(at, Some(coord! { x: 0., y: 0. }));
            }
            other => panic!("{other:?}"),
        }
    }

    /// The GEOS/JTS isValid test cases (TestValid.xml, TestIsValid.xml, flattened to JSON lines
    /// in tests/data/bad-inputs/geos-xmltester): our verdict on every polygon and
    /// multipolygon case must be GEOS's, except the cases listed here, where geo's `Validation`
    /// is known to differ (see docs/validation.md).
    #[test]
    fn verdicts_match_geos_on_its_polygon_cases() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/bad-inputs/geos-xmltester");
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let mut files: Vec<_> =
            entries.flatten().map(|e| e.path()).filter(|p| p.to_string_lossy().ends_with(".isvalid.jsonl")).collect();
        files.sort();
        let mut checked = 0;
        let mut differ = Vec::new();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let case: serde_json::Value = serde_json::from_str(line).unwrap();
                let wkt_text = case["wkt"].as_str().unwrap();
                let upper = wkt_text.trim_start().to_ascii_uppercase();
                if !(upper.starts_with("POLYGON") || upper.starts_with("MULTIPOLYGON")) {
                    continue;
                }
                // The wkt crate reads no NaN; an infinite ordinate is non-finite all the same.
                let wkt_text = &wkt_text.replace("NaN", "1e999");
                let Ok(mut g) = <Geometry<f64> as wkt::TryFromWkt<f64>>::try_from_wkt_str(wkt_text) else {
                    differ.push(format!("unparsable: {}", case["desc"]));
                    continue;
                };
                checked += 1;
                let parts = match &g {
                    Geometry::Polygon(p) => vec![p.clone()],
                    Geometry::MultiPolygon(mp) => mp.0.clone(),
                    _ => Vec::new(),
                };
                if surely_valid(&parts) {
                    assert!(MultiPolygon(parts).is_valid(), "fast check vouched for {}", case["desc"]);
                }
                let ours = check(&mut g, false) == Verdict::Valid;
                if ours != case["valid"].as_bool().unwrap() {
                    differ.push(case["desc"].as_str().unwrap().to_owned());
                }
            }
        }
        assert!(checked > 50, "{checked}");
        let known: &[&str] = KNOWN_DIFFERENCES;
        assert_eq!(differ, known, "cases where geo's verdict differs from GEOS");
    }

    /// `surely_valid` only vouches for what geo's `Validation` finds valid: checked on rings
    /// drawn on a small grid (so that vertices repeat, segments touch, overlap and run
    /// collinear), one and two at a time.
    #[test]
    fn the_fast_validity_check_agrees_with_geo() {
        let mut next = crate::test_rng::xorshift(0x2545_f491_4f6c_dd1d);
        let (mut vouched, mut valid) = (0, 0);
        for _ in 0..20_000 {
            let ring = |next: &mut dyn FnMut(u64) -> u64, dx: f64| {
                let n = if next(8) == 0 { 20 + next(40) } else { 3 + next(7) };
                let mut points: Vec<Coord<f64>> =
                    (0..n).map(|_| Coord { x: dx + next(6) as f64, y: next(6) as f64 }).collect();
                points.push(points[0]);
                Polygon::new(LineString(points), Vec::new())
            };
            let parts = match next(3) {
                0 => vec![ring(&mut next, 0.0)],
                1 => vec![ring(&mut next, 0.0), ring(&mut next, 3.0)],
                _ => vec![ring(&mut next, 0.0), ring(&mut next, 10.0)],
            };
            let geo_valid = MultiPolygon(parts.clone()).is_valid();
            if surely_valid(&parts) {
                assert!(geo_valid, "vouched for an invalid geometry: {parts:?}");
                vouched += 1;
            }
            valid += usize::from(geo_valid);
        }
        assert!(vouched > 1000, "{vouched} vouched of {valid} valid");
        // Long rings (swept): a circle, and the same circle with two vertices swapped (a crossing).
        let mut circle: Vec<Coord<f64>> = (0..100)
            .map(|i| {
                let a = f64::from(i) * std::f64::consts::TAU / 100.0;
                Coord { x: 105.0 + a.cos(), y: 21.0 + a.sin() }
            })
            .collect();
        circle.push(circle[0]);
        let round = Polygon::new(LineString(circle.clone()), Vec::new());
        assert!(surely_valid(std::slice::from_ref(&round)) && round.is_valid());
        circle.swap(40, 41);
        let crossed = Polygon::new(LineString(circle), Vec::new());
        assert!(!surely_valid(std::slice::from_ref(&crossed)) && !crossed.is_valid());
    }

    /// GEOS/JTS cases where our verdict differs from GEOS's (each explained in
    /// docs/validation.md): none since the interior-connectivity check.
    const KNOWN_DIFFERENCES: &[&str] = &[];

    /// GEOS TestValid cases 73–79 (issue 22): polygons whose rings cut the interior in pieces,
    /// which geo's `Validation` alone accepts and `ST_IsValid` refuses. Each is invalid, located
    /// at a touch point; their neighbours that touch once stay valid.
    #[test]
    fn a_disconnected_interior_is_invalid_as_in_geos() {
        let cases = [
            ("hole touches shell twice", "POLYGON ((0 60, 0 0, 60 0, 60 60, 0 60), (0 40, 20 20, 60 20, 0 40))"),
            (
                "chain of holes surrounds area",
                "POLYGON ((40 300, 40 20, 280 20, 280 300, 40 300), (120 240, 80 180, 160 220, 120 240), (220 240, 160 220, 220 160, 220 240), (160 100, 80 180, 100 80, 160 100), (160 100, 220 160, 240 100, 160 100))",
            ),
            (
                "chain of holes splits polygon, touches at vertices",
                "POLYGON ((40 320, 340 320, 340 20, 40 20, 40 320), (100 120, 40 20, 180 100, 100 120), (200 200, 180 100, 240 160, 200 200), (260 260, 240 160, 300 200, 260 260), (300 300, 300 200, 340 320, 300 300))",
            ),
            (
                "chain of holes splits polygon, touches at non-vertex",
                "POLYGON ((40 320, 340 320, 340 20, 40 20, 40 320), (100 120, 40 20, 180 100, 100 120), (200 200, 180 100, 240 160, 200 200), (260 260, 240 160, 300 200, 260 260), (300 300, 300 200, 340 260, 300 300))",
            ),
            (
                "hole touches hole at all vertices",
                "POLYGON( (0 0, 0 5, 6 5, 6 0, 0 0), (2 1, 4 1, 3 2, 2 1), (2 1, 1 4, 5 4, 4 1, 4 3, 3 2, 2 3, 2 1) )",
            ),
            (
                "hole touches hole at two vertices",
                "POLYGON ((0 0, 0 5, 6 5, 6 0, 0 0), (2.5 1, 3.5 1, 3.5 2, 2.5 2, 2.5 1), (2.5 1.5, 1 4, 5 4, 3.5 1.5, 4 3, 3 2, 2 3, 2.5 1.5))",
            ),
            ("hole touches shell at all vertices", "POLYGON ((0 0, 10 10, 10 0, 0 0), (5 5, 5 0, 10 5, 5 5))"),
        ];
        let parse = |wkt: &str| <Geometry<f64> as wkt::TryFromWkt<f64>>::try_from_wkt_str(wkt).unwrap();
        for (name, wkt) in cases {
            let mut g = parse(wkt);
            let Verdict::Invalid { reason, at } = check(&mut g, false) else { panic!("{name}: accepted") };
            assert_eq!(reason, DISCONNECTED, "{name}");
            let at = at.unwrap_or_else(|| panic!("{name}: no location"));
            assert!(
                wkt.contains(&format!("{} {}", at.x, at.y))
                    || name.contains("non-vertex")
                    || name.contains("shell at all"),
                "{name}: {at:?}"
            );
            // The same polygon as a part of a multipolygon.
            let Geometry::Polygon(p) = parse(wkt) else { unreachable!() };
            let mut multi = Geometry::MultiPolygon(MultiPolygon(vec![p]));
            let Verdict::Invalid { reason, .. } = check(&mut multi, false) else {
                panic!("{name}: accepted in a multipolygon")
            };
            assert_eq!(reason, format!("polygon at index 0 is invalid: {DISCONNECTED}"), "{name}");
        }
        for (name, wkt) in [
            ("hole touches shell once", "POLYGON ((0 60, 0 0, 60 0, 60 60, 0 60), (0 40, 20 20, 40 40, 0 40))"),
            ("two holes touch once", "POLYGON ((0 0, 0 10, 10 10, 10 0, 0 0), (2 2, 4 2, 4 4, 2 2), (4 4, 6 4, 6 6, 4 4))"),
            (
                "three holes meet at one point",
                "POLYGON ((0 0, 0 10, 10 10, 10 0, 0 0), (5 5, 7 5, 7 6, 5 5), (5 5, 3 5, 3 4, 5 5), (5 5, 5 8, 4 8, 5 5))",
            ),
            ("chain of holes touching the shell at one end", "POLYGON ((0 0, 0 10, 10 10, 10 0, 0 0), (0 5, 3 4, 3 6, 0 5), (3 6, 5 5, 5 7, 3 6))"),
        ] {
            assert_eq!(check(&mut parse(wkt), false), Verdict::Valid, "{name}");
        }
    }
}
