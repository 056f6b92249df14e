//! The parcel overlap check of `geosector import`: every pair of polygons of a whole dataset
//! whose interiors overlap by more than a threshold area, found with an R-tree, checked in
//! parallel with rayon, in bounded memory.
//!
//! # How
//!
//! [`OverlapFinder::add`] keeps only the feature's envelope in memory and writes its coordinates
//! to an anonymous spill file ([`tempfile::tempfile`]). [`OverlapFinder::finish`] bulk-loads an
//! R-tree ([`rstar`]) of the envelopes and joins it with itself: one depth-first traversal
//! descends only into pairs of subtrees whose envelopes meet and yields each candidate pair
//! (envelopes intersect) once, spatially clustered. (One query per leaf, as before, repeated the
//! descent from the root a million times and met every pair from both sides: the traversal cut
//! the CPU of `finish` on 1M parcels from about 4.1–4.7 s to 3.4–4.3 s.) The pairs are checked in
//! batches of [`BATCH`]: the batch's features are read back from the spill file and decoded, and
//! the pairs checked in parallel (rayon tasks of 2,048 pairs, each with its own reused buffers).
//!
//! For each candidate pair a **cheap exact filter** first proves, for the common case of
//! neighbours that share edges (a tessellation), that the interiors do not overlap; only the
//! pairs it cannot clear go to the exact intersection ([`geo::BooleanOps`]) and its area. The
//! filter rests on this: for valid (multi)polygons A and B, the interiors intersect exactly when
//! a point of A's boundary lies in B's interior, or a point of B's boundary in A's interior, or a
//! part of A equals a part of B. It therefore reports "may overlap" when
//!
//! 1. an edge of A properly crosses an edge of B, or
//! 2. a vertex of A lies strictly inside B, or
//! 3. a piece of an edge of A (cut at the vertices of B lying on it) has both ends on B's
//!    boundary, does not run along an edge of B, and its midpoint lies strictly inside B, or
//! 4. every vertex of a part of A's exterior ring lies on B's boundary (a duplicate),
//!
//! or the same with A and B swapped. Every predicate is exact (geo's robust `orient2d` on the
//! input coordinates) except the midpoint of rule 3, which matters only for slivers thinner than
//! the rounding of a coordinate. The proof assumes OGC-valid input (the validity rule of the
//! import rejects or repairs invalid polygons); on invalid input the answer is not guaranteed,
//! but nothing panics.
//!
//! Shortcuts, each exact, keep neighbours cheap: only the vertices and edges that meet the
//! intersection of the two envelopes are looked at (every common point lies in it); an edge of A
//! and an edge of B whose envelopes do not meet have no point in common, so they are not compared
//! with `orient2d`; a vertex of A equal to a vertex of B is on B's boundary (no point-in-polygon
//! test); and an edge of A equal to an edge of B (either way round) lies on B's boundary, so no
//! point of it is inside B and rules 1 and 3 skip it. In a tessellation only the few edges
//! around the shared vertices then reach `orient2d`, and the point-in-polygon tests are mostly
//! skipped.
//!
//! A separating-line test (an edge whose supporting line has A on one closed side and B on the
//! other) was tried before the filter and dropped: the shared sides of the generated parcels are
//! bent (a vertex between two corners), so no line separates side neighbours; it cleared 41 % of
//! the candidate pairs of a generated tessellation (mostly diagonal neighbours, which share one
//! corner) but cost more than it saved once the filter had these shortcuts.
//!
//! # Areas
//!
//! The exact intersection is computed in a local plane, in metres, centred on the centre of the
//! two envelopes' intersection at latitude φ₀: x = Δλ · N(φ₀) cos φ₀, y = Δφ · M(φ₀), with M and
//! N the meridional and prime-vertical radii of curvature of the WGS 84 ellipsoid. The relative
//! area error is about tan φ₀ · δφ (δφ in radians, the distance in latitude between φ₀ and the
//! intersection's centroid, at most half the envelope intersection's height) plus terms in δφ²:
//! below 10⁻⁵ for parcels (≤ 100 m), 0.03 % for a 10 km intersection at 21° N, and under 0.5 %
//! up to about 150 km at Vietnam's latitudes. Against PostGIS's `ST_Area(geography)` (Karney on
//! the ellipsoid) parcels agree to about 10⁻⁶.
//!
//! # Failures
//!
//! A feature with a non-finite coordinate, or no polygon with at least 4 coordinates in its
//! exterior ring, is counted by [`OverlapFinder::len`] but not indexed; its index is listed by
//! [`OverlapFinder::unchecked`] (degenerate rings of other features are dropped: they have no
//! area). A pair whose exact intersection cannot be computed (the overlay library panicked, which
//! it should not) is reported as an [`Overlap`] with a NaN `area_m2` and `at` the centre of the
//! envelopes' intersection, so that it is shown to the user instead of silently dropped; see
//! [`Overlap::is_unevaluated`].
//!
//! # Memory
//!
//! In memory, per feature: an R-tree leaf (a 32-byte f64 envelope and a 4-byte slot, in an
//! `rstar` node enum of at most 64 bytes), its share of the inner nodes (about 64 / 6 ≈ 11
//! bytes), an 8-byte spill-file offset and a 4-byte position used while checking: ≤ 87 bytes.
//! While adding, the leaves wait in a `Vec` (40 bytes each, up to twice that while it grows) that
//! the bulk load turns into the tree. The coordinates (16 bytes per vertex, plus 20 bytes of
//! header per feature) live in the spill file, on disk or in the page cache. Measured: 127 MB
//! peak RSS for the whole `overlap_bench` process (PostgreSQL client, rayon threads and all) on
//! 1M parcels, ≈ 127 bytes per feature.
//! While checking, at most one batch of pairs and their decoded features is in memory (in a
//! tessellation about [`BATCH`] / 4 features), whatever the size of the layer.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};

use geo::coordinate_position::CoordPos;
use geo::kernels::RobustKernel;
use geo::{Area, BooleanOps, CoordinatePosition, InteriorPoint, Kernel, Orientation};
use geo_types::{Coord, LineString, MultiPolygon, Polygon, Rect};
use rayon::prelude::*;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{Envelope, ParentNode, RTree, RTreeNode, RTreeObject};

/// Candidate pairs checked together: the memory bound of [`OverlapFinder::finish`] (their
/// features are decoded together; in a tessellation about a quarter as many as the pairs).
pub const BATCH: usize = 128 * 1024;

/// Above this many edge pairs the cheap filter is skipped and the exact intersection computed
/// directly (the filter is quadratic in the vertex counts).
const FILTER_MAX_EDGE_PAIRS: usize = 1 << 20;

/// Candidate pairs checked by one rayon task.
const PAIRS_PER_TASK: usize = 2048;

/// Reads of the spill file closer than this are merged into one.
const READ_GAP: u64 = 64 * 1024;

type Leaf = GeomWithData<Rectangle<[f64; 2]>, u32>;

/// Collects polygons as they stream by, then finds the overlapping pairs.
#[derive(Debug)]
pub struct OverlapFinder {
    min_area_m2: f64,
    spill: BufWriter<File>,
    written: u64,
    /// Spill-file offset of each slot's record.
    offsets: Vec<u64>,
    leaves: Vec<Leaf>,
    added: usize,
    unchecked: Vec<u64>,
    /// The record being written, reused from feature to feature.
    record: Vec<u8>,
}

/// One overlapping pair.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Overlap {
    /// The smaller feature index of the pair.
    pub a: u64,
    /// The larger feature index of the pair.
    pub b: u64,
    /// Intersection area in m²; NaN when the intersection could not be computed.
    pub area_m2: f64,
    /// A point of the intersection (lon, lat), to show where.
    pub at: geo::Coord<f64>,
}

impl Overlap {
    /// Whether the pair's intersection could not be computed (its area is NaN).
    pub fn is_unevaluated(&self) -> bool {
        self.area_m2.is_nan()
    }
}

/// What [`OverlapFinder::finish_with_stats`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OverlapStats {
    /// Features in the R-tree.
    pub indexed: usize,
    /// Pairs whose envelopes intersect.
    pub candidates: u64,
    /// Candidate pairs the cheap filter could not clear, whose intersection was computed.
    pub exact: u64,
    /// Pairs whose intersection could not be computed (reported with a NaN area).
    pub failed: u64,
}

impl std::ops::Add for OverlapStats {
    type Output = OverlapStats;
    fn add(self, o: OverlapStats) -> OverlapStats {
        OverlapStats {
            indexed: self.indexed + o.indexed,
            candidates: self.candidates + o.candidates,
            exact: self.exact + o.exact,
            failed: self.failed + o.failed,
        }
    }
}

impl OverlapFinder {
    /// `min_area_m2`: pairs whose intersection is at most this are ignored (the brief says 0.5 m²).
    pub fn new(min_area_m2: f64) -> io::Result<OverlapFinder> {
        Ok(OverlapFinder {
            min_area_m2,
            spill: BufWriter::with_capacity(1 << 20, tempfile::tempfile()?),
            written: 0,
            offsets: Vec::new(),
            leaves: Vec::new(),
            added: 0,
            unchecked: Vec::new(),
            record: Vec::with_capacity(256),
        })
    }

    /// Adds feature `index` (its position in the input, as reported to users) with its geometry in
    /// EPSG:4326 lon/lat. Called from one thread, in any order of index. Cheap: an envelope goes to
    /// memory, the coordinates to a spill file (tempfile), so memory does not hold the layer.
    pub fn add(&mut self, index: u64, geometry: &geo::MultiPolygon<f64>) -> io::Result<()> {
        self.added += 1;
        let usable = |ring: &LineString<f64>| ring.0.len() >= 4;
        let polygons = geometry.0.iter().filter(|p| usable(p.exterior()));
        let finite_all = geometry
            .0
            .iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .flat_map(|r| r.0.iter())
            .all(|c| c.x.is_finite() && c.y.is_finite());
        let (mut min, mut max) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for c in polygons.clone().flat_map(|p| p.exterior().0.iter()) {
            min = [min[0].min(c.x), min[1].min(c.y)];
            max = [max[0].max(c.x), max[1].max(c.y)];
        }
        let count = polygons.clone().count();
        if !finite_all || count == 0 {
            self.unchecked.push(index);
            return Ok(());
        }
        let slot = u32::try_from(self.offsets.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "more than 2³² polygons to check for overlaps"))?;
        let record = &mut self.record;
        record.clear();
        record.extend_from_slice(&index.to_le_bytes());
        push_u32(record, count)?;
        for p in polygons {
            let holes = p.interiors().iter().filter(|r| usable(r));
            push_u32(record, 1 + holes.clone().count())?;
            for ring in std::iter::once(p.exterior()).chain(holes) {
                push_u32(record, ring.0.len())?;
                for c in &ring.0 {
                    record.extend_from_slice(&c.x.to_le_bytes());
                    record.extend_from_slice(&c.y.to_le_bytes());
                }
            }
        }
        self.spill.write_all(record)?;
        self.offsets.push(self.written);
        self.written += record.len() as u64;
        self.leaves.push(GeomWithData::new(Rectangle::from_corners(min, max), slot));
        Ok(())
    }

    /// How many were added.
    pub fn len(&self) -> usize {
        self.added
    }

    /// Whether nothing was added.
    pub fn is_empty(&self) -> bool {
        self.added == 0
    }

    /// Indices of the added features that cannot be checked (a non-finite coordinate, or no
    /// polygon with an exterior ring of at least 4 coordinates); they are in no pair.
    pub fn unchecked(&self) -> &[u64] {
        &self.unchecked
    }

    /// Bulk-loads the R-tree and checks every candidate pair in parallel (rayon). Each pair once (a < b).
    pub fn finish(self) -> io::Result<Vec<Overlap>> {
        self.finish_with_stats().map(|(overlaps, _)| overlaps)
    }

    /// [`finish`](Self::finish), with counts of what was done. Pairs are sorted by (a, b).
    pub fn finish_with_stats(self) -> io::Result<(Vec<Overlap>, OverlapStats)> {
        self.finish_in_batches(BATCH)
    }

    /// [`finish_with_stats`](Self::finish_with_stats), checking `batch` candidate pairs at a time.
    fn finish_in_batches(self, batch: usize) -> io::Result<(Vec<Overlap>, OverlapStats)> {
        let OverlapFinder { min_area_m2, spill, written, mut offsets, leaves, .. } = self;
        let file = spill.into_inner().map_err(io::IntoInnerError::into_error)?;
        offsets.push(written);
        let tree = RTree::bulk_load(leaves);
        let spill = Spill { file, offsets };
        let mut stats = OverlapStats { indexed: tree.size(), ..OverlapStats::default() };
        let mut overlaps = Vec::new();
        let mut pairs = Vec::with_capacity(batch);
        let mut positions = Positions::new(spill.offsets.len());
        let mut check = |pairs: &mut Vec<(u32, u32)>| -> io::Result<()> {
            let (found, batch_stats) = check_pairs(&spill, &mut positions, pairs, min_area_m2)?;
            overlaps.extend(found);
            stats = stats + batch_stats;
            pairs.clear();
            Ok(())
        };
        self_join(tree.root(), &mut |a, b| {
            pairs.push((a.min(b), a.max(b)));
            if pairs.len() >= batch {
                check(&mut pairs)?;
            }
            Ok(())
        })?;
        check(&mut pairs)?;
        overlaps.sort_by_key(|x| (x.a, x.b));
        Ok((overlaps, stats))
    }
}

/// Calls `pair` once for every unordered pair of distinct leaves under `node` whose envelopes
/// intersect: a traversal of the tree against itself, which descends only into pairs of
/// subtrees whose envelopes meet, so that the work above the leaves is shared instead of
/// repeated by one query per leaf, and each pair is met once instead of from both sides.
/// Depth first: the pairs come out spatially clustered.
fn self_join(node: &ParentNode<Leaf>, pair: &mut impl FnMut(u32, u32) -> io::Result<()>) -> io::Result<()> {
    let children = node.children();
    for (i, child) in children.iter().enumerate() {
        if let RTreeNode::Parent(inner) = child {
            self_join(inner, pair)?;
        }
        let envelope = child.envelope();
        for other in &children[i + 1..] {
            if envelope.intersects(&other.envelope()) {
                cross_join(child, other, pair)?;
            }
        }
    }
    Ok(())
}

/// Calls `pair` for every leaf of `a` and leaf of `b` whose envelopes intersect (`a` and `b` are
/// disjoint subtrees whose envelopes intersect).
fn cross_join(
    a: &RTreeNode<Leaf>,
    b: &RTreeNode<Leaf>,
    pair: &mut impl FnMut(u32, u32) -> io::Result<()>,
) -> io::Result<()> {
    match (a, b) {
        (RTreeNode::Leaf(x), RTreeNode::Leaf(y)) => pair(x.data, y.data),
        (RTreeNode::Leaf(_), RTreeNode::Parent(q)) => {
            let envelope = a.envelope();
            for d in q.children().iter().filter(|d| d.envelope().intersects(&envelope)) {
                cross_join(a, d, pair)?;
            }
            Ok(())
        }
        (RTreeNode::Parent(p), RTreeNode::Leaf(_)) => {
            let envelope = b.envelope();
            for c in p.children().iter().filter(|c| c.envelope().intersects(&envelope)) {
                cross_join(c, b, pair)?;
            }
            Ok(())
        }
        (RTreeNode::Parent(p), RTreeNode::Parent(q)) => {
            let (pe, qe) = (p.envelope(), q.envelope());
            let right: Vec<(&RTreeNode<Leaf>, _)> =
                q.children().iter().map(|d| (d, d.envelope())).filter(|(_, e)| e.intersects(&pe)).collect();
            for c in p.children() {
                let ce = c.envelope();
                if !ce.intersects(&qe) {
                    continue;
                }
                for (d, de) in &right {
                    if ce.intersects(de) {
                        cross_join(c, d, pair)?;
                    }
                }
            }
            Ok(())
        }
    }
}

fn push_u32(out: &mut Vec<u8>, n: usize) -> io::Result<()> {
    let n =
        u32::try_from(n).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "ring or polygon count above 2³²"))?;
    out.extend_from_slice(&n.to_le_bytes());
    Ok(())
}

/// The spill file, read back by offset.
struct Spill {
    file: File,
    /// One more than the slots: the end of the last record.
    offsets: Vec<u64>,
}

/// A feature read back from the spill file.
struct Shape {
    index: u64,
    geometry: MultiPolygon<f64>,
    envelope: Rect<f64>,
}

impl Spill {
    fn range(&self, slot: u32) -> io::Result<(u64, u64)> {
        let i = slot as usize;
        match (self.offsets.get(i), self.offsets.get(i + 1)) {
            (Some(&start), Some(&end)) => Ok((start, end)),
            _ => Err(io::Error::new(io::ErrorKind::InvalidData, "overlap spill: slot out of range")),
        }
    }

    /// Reads and decodes `slots` (sorted, distinct), merging nearby records into one read.
    fn read(&self, slots: &[u32]) -> io::Result<Vec<Shape>> {
        let mut runs: Vec<(usize, usize, u64, u64)> = Vec::new(); // slots[i..j], bytes start..end
        for (k, &slot) in slots.iter().enumerate() {
            let (start, end) = self.range(slot)?;
            match runs.last_mut() {
                Some(run) if start >= run.3 && start - run.3 <= READ_GAP && end - run.2 <= 16 << 20 => {
                    run.1 = k + 1;
                    run.3 = end;
                }
                _ => runs.push((k, k + 1, start, end)),
            }
        }
        let decoded: Vec<io::Result<Vec<Shape>>> = runs
            .par_iter()
            .map(|&(i, j, start, end)| {
                let len = usize::try_from(end - start)
                    .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "overlap spill: read too large"))?;
                let mut buf = vec![0u8; len];
                read_exact_at(&self.file, &mut buf, start)?;
                slots[i..j]
                    .iter()
                    .map(|&slot| {
                        let (s, e) = self.range(slot)?;
                        let from = usize::try_from(s - start).unwrap_or(usize::MAX);
                        let to = usize::try_from(e - start).unwrap_or(usize::MAX);
                        decode(buf.get(from..to).ok_or_else(corrupt)?)
                    })
                    .collect()
            })
            .collect();
        let mut shapes = Vec::with_capacity(slots.len());
        for run in decoded {
            shapes.extend(run?);
        }
        Ok(shapes)
    }
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    while !buf.is_empty() {
        let n = std::os::windows::fs::FileExt::seek_read(file, buf, offset)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf = &mut buf[n..];
        offset += n as u64;
    }
    Ok(())
}

fn corrupt() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "overlap spill: corrupt record")
}

/// Decodes one record: index, then polygons → rings → coordinates, counts as u32 LE.
fn decode(bytes: &[u8]) -> io::Result<Shape> {
    struct Cursor<'a>(&'a [u8]);
    impl Cursor<'_> {
        fn take<const N: usize>(&mut self) -> io::Result<[u8; N]> {
            let (head, rest) = self.0.split_first_chunk::<N>().ok_or_else(corrupt)?;
            self.0 = rest;
            Ok(*head)
        }
        fn count(&mut self) -> io::Result<usize> {
            usize::try_from(u32::from_le_bytes(self.take()?)).map_err(|_| corrupt())
        }
        fn f64(&mut self) -> io::Result<f64> {
            Ok(f64::from_le_bytes(self.take()?))
        }
    }
    let mut c = Cursor(bytes);
    let index = u64::from_le_bytes(c.take()?);
    let count = c.count()?;
    let mut polygons = Vec::with_capacity(count.min(bytes.len()));
    for _ in 0..count {
        let rings = c.count()?;
        let mut ring = || -> io::Result<LineString<f64>> {
            let n = c.count()?;
            let mut coords = Vec::with_capacity(n.min(c.0.len() / 16));
            for _ in 0..n {
                coords.push(Coord { x: c.f64()?, y: c.f64()? });
            }
            Ok(LineString(coords))
        };
        if rings == 0 {
            return Err(corrupt());
        }
        let exterior = ring()?;
        let holes = (1..rings).map(|_| ring()).collect::<io::Result<Vec<_>>>()?;
        polygons.push(Polygon::new(exterior, holes));
    }
    let geometry = MultiPolygon(polygons);
    let envelope = geo::BoundingRect::bounding_rect(&geometry).ok_or_else(corrupt)?;
    Ok(Shape { index, geometry, envelope })
}

/// Where each slot's shape is in the batch being checked: one entry per slot, `u32::MAX` when
/// the batch does not need it (reset after each batch), so that finding a pair's shapes costs
/// two array reads and listing the batch's slots sorts only the distinct ones.
struct Positions(Vec<u32>);

impl Positions {
    const ABSENT: u32 = u32::MAX;

    fn new(slots: usize) -> Positions {
        Positions(vec![Self::ABSENT; slots])
    }

    /// The distinct slots of `pairs`, sorted; each slot's position in that list is recorded.
    fn mark(&mut self, pairs: &[(u32, u32)]) -> io::Result<Vec<u32>> {
        let mut needed = Vec::with_capacity(pairs.len() / 2);
        for slot in pairs.iter().flat_map(|&(a, b)| [a, b]) {
            let at = self.0.get_mut(slot as usize).ok_or_else(corrupt)?;
            if *at == Self::ABSENT {
                *at = 0;
                needed.push(slot);
            }
        }
        needed.par_sort_unstable();
        for (i, &slot) in needed.iter().enumerate() {
            self.0[slot as usize] = i as u32;
        }
        Ok(needed)
    }

    fn get(&self, slot: u32) -> Option<usize> {
        self.0.get(slot as usize).filter(|&&at| at != Self::ABSENT).map(|&at| at as usize)
    }

    /// Forgets the slots of [`Positions::mark`].
    fn clear(&mut self, needed: &[u32]) {
        for &slot in needed {
            self.0[slot as usize] = Self::ABSENT;
        }
    }
}

/// Checks a batch of candidate pairs (first added, other), in parallel.
fn check_pairs(
    spill: &Spill,
    positions: &mut Positions,
    pairs: &[(u32, u32)],
    min_area_m2: f64,
) -> io::Result<(Vec<Overlap>, OverlapStats)> {
    let needed = positions.mark(pairs)?;
    let shapes = spill.read(&needed);
    let result = shapes.and_then(|shapes| check_with(&shapes, positions, pairs, min_area_m2));
    positions.clear(&needed);
    result
}

/// [`check_pairs`] once the shapes are read.
fn check_with(
    shapes: &[Shape],
    positions: &Positions,
    pairs: &[(u32, u32)],
    min_area_m2: f64,
) -> io::Result<(Vec<Overlap>, OverlapStats)> {
    let shape = |slot: u32| positions.get(slot).and_then(|i| shapes.get(i)).ok_or_else(corrupt);
    let checked: Vec<io::Result<(Vec<Overlap>, OverlapStats)>> = pairs
        .par_chunks(PAIRS_PER_TASK)
        .map(|pairs| {
            let mut filter = Filter::default();
            let mut found = Vec::new();
            let mut stats = OverlapStats { candidates: pairs.len() as u64, ..OverlapStats::default() };
            for &(x, y) in pairs {
                let (a, b) = (shape(x)?, shape(y)?);
                if !filter.may_overlap(&a.geometry, a.envelope, &b.geometry, b.envelope) {
                    continue;
                }
                stats.exact += 1;
                if let Some(overlap) = exact_overlap(a, b, min_area_m2) {
                    stats.failed += u64::from(overlap.is_unevaluated());
                    found.push(overlap);
                }
            }
            Ok((found, stats))
        })
        .collect();
    let mut overlaps = Vec::new();
    let mut stats = OverlapStats::default();
    for result in checked {
        let (found, s) = result?;
        overlaps.extend(found);
        stats = stats + s;
    }
    Ok((overlaps, stats))
}

pub use geosector_crs::ellipsoid::metres_per_degree;

/// The exact intersection of a candidate pair, if its area exceeds `min_area_m2` or cannot be
/// computed (then NaN).
fn exact_overlap(a: &Shape, b: &Shape, min_area_m2: f64) -> Option<Overlap> {
    let (lo, hi) = (a.index.min(b.index), a.index.max(b.index));
    let (ea, eb) = (a.envelope, b.envelope);
    let origin = Coord {
        x: (ea.min().x.max(eb.min().x) + ea.max().x.min(eb.max().x)) / 2.0,
        y: (ea.min().y.max(eb.min().y) + ea.max().y.min(eb.max().y)) / 2.0,
    };
    let (kx, ky) = metres_per_degree(origin.y);
    let local = |g: &MultiPolygon<f64>| {
        let mut g = g.clone();
        geo::MapCoordsInPlace::map_coords_in_place(&mut g, |c| Coord {
            x: (c.x - origin.x) * kx,
            y: (c.y - origin.y) * ky,
        });
        g
    };
    let (la, lb) = (local(&a.geometry), local(&b.geometry));
    match catch_unwind(AssertUnwindSafe(|| la.intersection(&lb))) {
        Ok(inter) => {
            let area = inter.unsigned_area();
            if area.is_nan() || area <= min_area_m2 {
                return None;
            }
            let p = inter.interior_point().map_or(Coord { x: 0.0, y: 0.0 }, |p| p.0);
            Some(Overlap { a: lo, b: hi, area_m2: area, at: Coord { x: origin.x + p.x / kx, y: origin.y + p.y / ky } })
        }
        Err(_) => {
            tracing::warn!(a = lo, b = hi, "overlap check: the intersection could not be computed");
            Some(Overlap { a: lo, b: hi, area_m2: f64::NAN, at: origin })
        }
    }
}

fn orient(p: Coord<f64>, q: Coord<f64>, r: Coord<f64>) -> Orientation {
    RobustKernel::orient2d(p, q, r)
}

/// Whether `c` lies on the closed segment `s`–`e` (exact).
fn on_segment(c: Coord<f64>, s: Coord<f64>, e: Coord<f64>) -> bool {
    c.x >= s.x.min(e.x)
        && c.x <= s.x.max(e.x)
        && c.y >= s.y.min(e.y)
        && c.y <= s.y.max(e.y)
        && orient(s, e, c) == Orientation::Collinear
}

/// Whether the envelopes of the segments `p`–`q` and `r`–`s` intersect (closed): if not, the
/// segments have no point in common.
fn boxes_meet(p: Coord<f64>, q: Coord<f64>, r: Coord<f64>, s: Coord<f64>) -> bool {
    p.x.max(q.x) >= r.x.min(s.x)
        && r.x.max(s.x) >= p.x.min(q.x)
        && p.y.max(q.y) >= r.y.min(s.y)
        && r.y.max(s.y) >= p.y.min(q.y)
}

/// Where `c` is relative to `g`, part by part: geo's `MultiPolygon` impl counts boundaries
/// mod 2, so a vertex where two parts touch would be "outside".
fn position(g: &MultiPolygon<f64>, c: Coord<f64>) -> CoordPos {
    let mut on_boundary = false;
    for polygon in &g.0 {
        match polygon.coordinate_position(&c) {
            CoordPos::Inside => return CoordPos::Inside,
            CoordPos::OnBoundary => on_boundary = true,
            CoordPos::Outside => {}
        }
    }
    if on_boundary {
        CoordPos::OnBoundary
    } else {
        CoordPos::Outside
    }
}

/// Replaces `out` with the edges of `g`'s rings whose envelopes meet `within` (zero-length ones
/// skipped).
fn collect_edges(g: &MultiPolygon<f64>, within: Rect<f64>, out: &mut Vec<(Coord<f64>, Coord<f64>)>) {
    out.clear();
    for polygon in &g.0 {
        for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
            for w in ring.0.windows(2) {
                if w[0] != w[1] && boxes_meet(w[0], w[1], within.min(), within.max()) {
                    out.push((w[0], w[1]));
                }
            }
        }
    }
}

fn vertex_count(g: &MultiPolygon<f64>) -> usize {
    g.0.iter().map(|p| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>()).sum()
}

/// The cheap exact filter: `false` proves that the interiors of `a` and `b` do not overlap
/// (for valid input); `true` means the exact intersection must be computed. See the module doc.
pub fn may_overlap(a: &MultiPolygon<f64>, b: &MultiPolygon<f64>) -> bool {
    let bounds = |g: &MultiPolygon<f64>| geo::BoundingRect::bounding_rect(g);
    match (bounds(a), bounds(b)) {
        (Some(ea), Some(eb)) => Filter::default().may_overlap(a, ea, b, eb),
        _ => false, // an empty geometry has no interior
    }
}

/// The cheap exact filter, with buffers reused from pair to pair.
#[derive(Default)]
struct Filter {
    /// The edges of the polygon tested against that meet the intersection of the envelopes.
    edges: Vec<(Coord<f64>, Coord<f64>)>,
    /// The vertices of the other polygon on an edge, by position along it.
    on_edge: Vec<(f64, Coord<f64>)>,
}

impl Filter {
    /// [`may_overlap`] of `a` and `b`, whose envelopes are `ea` and `eb`.
    fn may_overlap(&mut self, a: &MultiPolygon<f64>, ea: Rect<f64>, b: &MultiPolygon<f64>, eb: Rect<f64>) -> bool {
        if vertex_count(a).saturating_mul(vertex_count(b)) > FILTER_MAX_EDGE_PAIRS {
            return true;
        }
        // Every point the two have in common lies in the intersection of their envelopes.
        let lo = Coord { x: ea.min().x.max(eb.min().x), y: ea.min().y.max(eb.min().y) };
        let hi = Coord { x: ea.max().x.min(eb.max().x), y: ea.max().y.min(eb.max().y) };
        if lo.x > hi.x || lo.y > hi.y {
            return false;
        }
        let common = Rect::new(lo, hi);
        self.boundary_enters(a, b, common) || self.boundary_enters(b, a, common)
    }

    /// Whether a point of `a`'s boundary lies in `b`'s interior (rules 1–3), or a part of `a` has
    /// every exterior vertex on `b`'s boundary (rule 4). `bb` is the intersection of the envelopes
    /// of `a` and `b`: only the edges of `b` that meet it can meet `a`, and only the vertices and
    /// edges of `a` that meet it can meet `b`.
    fn boundary_enters(&mut self, a: &MultiPolygon<f64>, b: &MultiPolygon<f64>, bb: Rect<f64>) -> bool {
        let Filter { edges: b_edges, on_edge } = self;
        collect_edges(b, bb, b_edges);
        let near = |s: Coord<f64>, e: Coord<f64>| {
            s.x.max(e.x) >= bb.min().x
                && s.x.min(e.x) <= bb.max().x
                && s.y.max(e.y) >= bb.min().y
                && s.y.min(e.y) <= bb.max().y
        };
        for polygon in &a.0 {
            let mut part_on_boundary = true;
            for (ring_no, ring) in std::iter::once(polygon.exterior()).chain(polygon.interiors()).enumerate() {
                // Where each vertex is relative to b: outside if outside b's envelope, on b's boundary if
                // it is a vertex of b.
                let locate = |c: Coord<f64>| {
                    if !near(c, c) {
                        CoordPos::Outside
                    } else if b_edges.iter().any(|&(r, _)| r == c) {
                        CoordPos::OnBoundary
                    } else {
                        position(b, c)
                    }
                };
                let mut prev: Option<(Coord<f64>, CoordPos)> = None;
                for &q in &ring.0 {
                    let q_pos = match prev {
                        Some((p, _)) if p == q => continue,
                        _ => locate(q),
                    };
                    if q_pos == CoordPos::Inside {
                        return true;
                    }
                    if ring_no == 0 && q_pos != CoordPos::OnBoundary {
                        part_on_boundary = false;
                    }
                    let Some((p, p_pos)) = prev.replace((q, q_pos)) else {
                        continue;
                    };
                    if !near(p, q) || b_edges.iter().any(|&e| e == (p, q) || e == (q, p)) {
                        continue; // away from b, or an edge of b: no point of it is inside b
                    }
                    on_edge.clear();
                    for &(r, s) in b_edges.iter() {
                        if !boxes_meet(p, q, r, s) {
                            continue;
                        }
                        let (o1, o2) = (orient(p, q, r), orient(p, q, s));
                        if o1 != Orientation::Collinear && o2 != Orientation::Collinear && o1 != o2 {
                            let (o3, o4) = (orient(r, s, p), orient(r, s, q));
                            if o3 != Orientation::Collinear && o4 != Orientation::Collinear && o3 != o4 {
                                return true; // rule 1: a proper crossing
                            }
                        }
                        if o1 == Orientation::Collinear && r != p && r != q && on_segment(r, p, q) {
                            on_edge.push(((r.x - p.x) * (q.x - p.x) + (r.y - p.y) * (q.y - p.y), r));
                        }
                    }
                    // Rule 3: the pieces of p–q between points on b's boundary.
                    on_edge.sort_by(|x, y| x.0.total_cmp(&y.0));
                    let mut from = (p, p_pos);
                    for (u, u_pos) in
                        on_edge.iter().map(|&(_, r)| (r, CoordPos::OnBoundary)).chain(std::iter::once((q, q_pos)))
                    {
                        let (v, v_pos) = from;
                        from = (u, u_pos);
                        if u == v || u_pos != CoordPos::OnBoundary || v_pos != CoordPos::OnBoundary {
                            continue;
                        }
                        if b_edges.iter().any(|&(r, s)| on_segment(u, r, s) && on_segment(v, r, s)) {
                            continue; // runs along b's boundary
                        }
                        let mid = Coord { x: (u.x + v.x) / 2.0, y: (u.y + v.y) / 2.0 };
                        if position(b, mid) == CoordPos::Inside {
                            return true;
                        }
                    }
                }
            }
            if part_on_boundary {
                return true; // rule 4: a possible duplicate part
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{BoundingRect, GeodesicArea};

    const LON: f64 = 105.8;
    const LAT: f64 = 21.0;

    /// A rectangle given in metres east / north of (LON, LAT), as lon/lat.
    fn rect_m(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon<f64> {
        let (kx, ky) = metres_per_degree(LAT);
        let c = |x: f64, y: f64| Coord { x: LON + x / kx, y: LAT + y / ky };
        MultiPolygon(vec![Polygon::new(
            LineString(vec![c(x0, y0), c(x1, y0), c(x1, y1), c(x0, y1), c(x0, y0)]),
            vec![],
        )])
    }

    fn find(min: f64, features: &[MultiPolygon<f64>]) -> Vec<Overlap> {
        let mut finder = OverlapFinder::new(min).unwrap();
        for (i, f) in features.iter().enumerate() {
            finder.add(i as u64, f).unwrap();
        }
        assert_eq!(finder.len(), features.len());
        finder.finish().unwrap()
    }

    fn pairs(overlaps: &[Overlap]) -> Vec<(u64, u64)> {
        overlaps.iter().map(|o| (o.a, o.b)).collect()
    }

    #[test]
    fn squares_sharing_an_edge_do_not_overlap() {
        let found = find(0.5, &[rect_m(0.0, 0.0, 10.0, 10.0), rect_m(10.0, 0.0, 20.0, 10.0)]);
        assert!(found.is_empty(), "{found:?}");
        // Sharing an edge partly (T-junction vertices on the other's edge) and a corner only.
        let found =
            find(0.5, &[rect_m(0.0, 0.0, 10.0, 10.0), rect_m(10.0, 5.0, 20.0, 20.0), rect_m(-5.0, 10.0, 0.0, 15.0)]);
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn the_filter_clears_neighbours_but_not_an_overlap_without_a_crossing() {
        let (a, b) = (rect_m(0.0, 0.0, 10.0, 10.0), rect_m(10.0, 0.0, 20.0, 10.0));
        assert!(!may_overlap(&a, &b));
        // No proper crossing, no vertex strictly inside, yet half of each overlaps.
        let (a, b) = (rect_m(0.0, 0.0, 20.0, 10.0), rect_m(10.0, 0.0, 30.0, 10.0));
        assert!(may_overlap(&a, &b));
        let found = find(0.5, &[a, b]);
        assert_eq!(pairs(&found), vec![(0, 1)]);
        assert!((found[0].area_m2 - 100.0).abs() < 0.01, "{found:?}");
        // Sharing a whole edge (skipped as on the boundary) but lying on the same side of it.
        let (a, b) = (rect_m(0.0, 0.0, 10.0, 10.0), rect_m(4.0, 0.0, 10.0, 10.0));
        assert!(may_overlap(&a, &b) && may_overlap(&b, &a));
        // A neighbour across a bent shared side (its vertices are a's vertices) is cleared.
        let (kx, ky) = metres_per_degree(LAT);
        let c = |x: f64, y: f64| Coord { x: LON + x / kx, y: LAT + y / ky };
        let ring = |r: &[(f64, f64)]| {
            MultiPolygon(vec![Polygon::new(LineString(r.iter().map(|&(x, y)| c(x, y)).collect()), vec![])])
        };
        let a = ring(&[(0.0, 0.0), (10.0, 0.0), (11.0, 5.0), (10.0, 10.0), (0.0, 10.0), (0.0, 0.0)]);
        let b = ring(&[(10.0, 0.0), (20.0, 0.0), (20.0, 10.0), (10.0, 10.0), (11.0, 5.0), (10.0, 0.0)]);
        assert!(!may_overlap(&a, &b) && !may_overlap(&b, &a));
    }

    #[test]
    fn an_overlap_of_one_square_metre_is_found_with_its_area_and_place() {
        let found = find(0.5, &[rect_m(0.0, 0.0, 10.0, 10.0), rect_m(9.0, 9.0, 19.0, 19.0)]);
        assert_eq!(pairs(&found), vec![(0, 1)]);
        let inter = rect_m(9.0, 9.0, 10.0, 10.0);
        let geodesic = inter.geodesic_area_unsigned();
        assert!((found[0].area_m2 - 1.0).abs() < 0.02, "{found:?}");
        assert!((found[0].area_m2 - geodesic).abs() / geodesic < 1e-4, "{} vs geodesic {geodesic}", found[0].area_m2);
        assert_eq!(inter.coordinate_position(&found[0].at), CoordPos::Inside, "{found:?}");
    }

    #[test]
    fn identical_duplicates_are_one_pair_with_the_full_area() {
        let p = rect_m(0.0, 0.0, 30.0, 20.0);
        let found = find(0.5, &[rect_m(100.0, 0.0, 110.0, 10.0), p.clone(), p.clone()]);
        assert_eq!(pairs(&found), vec![(1, 2)]);
        let full = p.geodesic_area_unsigned();
        assert!((found[0].area_m2 - full).abs() / full < 1e-4, "{} vs {full}", found[0].area_m2);
        // Same ring, different start vertex and orientation.
        let mut q = p.clone();
        q.0[0].exterior_mut(|r| {
            r.0.reverse();
            r.0.rotate_left(1);
            r.0.pop();
            r.0.push(r.0[0]);
        });
        assert_eq!(pairs(&find(0.5, &[p, q])), vec![(0, 1)]);
    }

    #[test]
    fn a_duplicate_of_a_part_touching_another_part_is_found() {
        // geo counts a vertex shared by two parts as outside the multipolygon (mod 2).
        let mut two = rect_m(0.0, 0.0, 10.0, 10.0);
        two.0.extend(rect_m(10.0, 10.0, 20.0, 20.0).0);
        let found = find(0.5, &[two, rect_m(0.0, 0.0, 10.0, 10.0)]);
        assert_eq!(pairs(&found), vec![(0, 1)]);
        assert!((found[0].area_m2 - 100.0).abs() < 0.01, "{found:?}");
    }

    #[test]
    fn one_inside_another_is_one_pair() {
        let found = find(0.5, &[rect_m(0.0, 0.0, 50.0, 50.0), rect_m(10.0, 10.0, 20.0, 15.0)]);
        assert_eq!(pairs(&found), vec![(0, 1)]);
        assert!((found[0].area_m2 - 50.0).abs() < 0.01, "{found:?}");
        // Inside and sharing two edges (no vertex strictly inside, no crossing).
        let found = find(0.5, &[rect_m(0.0, 0.0, 50.0, 50.0), rect_m(0.0, 0.0, 20.0, 15.0)]);
        assert_eq!(pairs(&found), vec![(0, 1)]);
        assert!((found[0].area_m2 - 300.0).abs() < 0.02, "{found:?}");
    }

    #[test]
    fn the_threshold_is_respected() {
        let features = [rect_m(0.0, 0.0, 10.0, 10.0), rect_m(9.0, 9.0, 19.0, 19.0), rect_m(9.7, 0.0, 20.0, 8.0)];
        // Areas: 0–1 1 m², 0–2 0.3 × 8 = 2.4 m², 1–2 none (they touch? no: y 8 < 9).
        assert_eq!(pairs(&find(0.5, &features)), vec![(0, 1), (0, 2)]);
        assert_eq!(pairs(&find(1.5, &features)), vec![(0, 2)]);
        assert_eq!(pairs(&find(2.4 + 0.01, &features)), Vec::<(u64, u64)>::new());
        assert_eq!(pairs(&find(0.0, &features)).len(), 2);
    }

    #[test]
    fn pairs_come_once_ordered_whatever_the_order_of_adding() {
        let mut finder = OverlapFinder::new(0.5).unwrap();
        finder.add(7, &rect_m(9.0, 9.0, 19.0, 19.0)).unwrap();
        finder.add(3, &rect_m(0.0, 0.0, 10.0, 10.0)).unwrap();
        finder.add(5, &rect_m(1.0, 1.0, 12.0, 3.0)).unwrap();
        let found = finder.finish().unwrap();
        assert_eq!(pairs(&found), vec![(3, 5), (3, 7)]);
    }

    #[test]
    fn bad_input_does_not_panic() {
        let bowtie = MultiPolygon(vec![Polygon::new(
            LineString(vec![
                Coord { x: LON, y: LAT },
                Coord { x: LON + 1e-4, y: LAT + 1e-4 },
                Coord { x: LON + 1e-4, y: LAT },
                Coord { x: LON, y: LAT + 1e-4 },
                Coord { x: LON, y: LAT },
            ]),
            vec![],
        )]);
        let nan = MultiPolygon(vec![Polygon::new(
            LineString(vec![Coord { x: f64::NAN, y: LAT }, Coord { x: LON, y: LAT }, Coord { x: LON, y: 1.0 }]),
            vec![],
        )]);
        let sliver = MultiPolygon(vec![Polygon::new(
            LineString(vec![Coord { x: LON, y: LAT }, Coord { x: LON, y: LAT }]),
            vec![],
        )]);
        let empty = MultiPolygon::<f64>(vec![]);
        let mut finder = OverlapFinder::new(0.5).unwrap();
        for (i, g) in [bowtie.clone(), bowtie, nan, sliver, empty, rect_m(0.0, 0.0, 5.0, 5.0)].iter().enumerate() {
            finder.add(i as u64, g).unwrap();
        }
        assert_eq!(finder.unchecked(), &[2, 3, 4]);
        let found = finder.finish().unwrap();
        // The two bowties are duplicates (a proper crossing sends them to the exact check).
        assert!(found.iter().any(|o| (o.a, o.b) == (0, 1)), "{found:?}");
        assert!(found.iter().all(|o| o.a < o.b && o.b != 2 && o.b != 3 && o.b != 4), "{found:?}");
    }

    /// A tessellation of `n` parcels from the generator, in lon/lat, with `moved` parcels shifted
    /// by (2 m, 1.5 m) before reprojection.
    fn tessellation(n: usize, moved: &[usize]) -> Vec<MultiPolygon<f64>> {
        use geosector_crs::{Crs, Transformer};
        use geosector_land_synth::{ParcelGenerator, ParcelOptions, PARCEL_EPSG};
        let generator = ParcelGenerator::new(ParcelOptions { count: n, ..ParcelOptions::default() });
        let from = Crs::from_epsg(PARCEL_EPSG).unwrap();
        let to = Transformer::new(&from, &Crs::wgs84()).unwrap();
        (0..n)
            .map(|i| {
                let mut g = generator.parcel(i).unwrap().geometry;
                if moved.contains(&i) {
                    geo::MapCoordsInPlace::map_coords_in_place(&mut g, |c| Coord { x: c.x + 2.0, y: c.y + 1.5 });
                }
                let mut geometry = geo_types::Geometry::MultiPolygon(g);
                to.geometry(&mut geometry).unwrap();
                match geometry {
                    geo_types::Geometry::MultiPolygon(m) => m,
                    other => panic!("{other:?}"),
                }
            })
            .collect()
    }

    #[test]
    fn a_tessellation_has_no_overlaps_and_moved_parcels_give_exactly_their_pairs() {
        let moved = [1234, 5678, 9012];
        let clean = tessellation(10_000, &[]);
        let mut finder = OverlapFinder::new(0.5).unwrap();
        for (i, f) in clean.iter().enumerate() {
            finder.add(i as u64, f).unwrap();
        }
        let (found, stats) = finder.finish_with_stats().unwrap();
        assert!(found.is_empty(), "{:?}", &found[..found.len().min(5)]);
        // A 100 × 100 grid: every pair of the 8-neighbourhood, sides and diagonals.
        assert!(stats.candidates >= 2 * 99 * 100 + 2 * 99 * 99, "{stats:?}");
        assert_eq!(stats.exact, 0, "the filter clears every neighbour: {stats:?}");

        let shifted = tessellation(10_000, &moved);
        let found = find(0.5, &shifted);
        // Expected: brute force, every moved parcel against every parcel, exact intersection.
        let mut expected = Vec::new();
        for &m in &moved {
            for j in 0..shifted.len() {
                if j == m {
                    continue;
                }
                let (a, b) = (m.min(j), m.max(j));
                let (ra, rb) = (shifted[a].bounding_rect().unwrap(), shifted[b].bounding_rect().unwrap());
                if !geo::Intersects::intersects(&ra, &rb) {
                    continue;
                }
                let area = shifted[a].intersection(&shifted[b]).geodesic_area_unsigned();
                if area > 0.5 && !expected.contains(&(a as u64, b as u64)) {
                    expected.push((a as u64, b as u64));
                }
            }
        }
        expected.sort_unstable();
        assert!(expected.len() >= 2 * moved.len(), "{expected:?}");
        assert_eq!(pairs(&found), expected);
        // The same in batches far smaller than the layer.
        let mut finder = OverlapFinder::new(0.5).unwrap();
        for (i, f) in shifted.iter().enumerate() {
            finder.add(i as u64, f).unwrap();
        }
        let (batched, stats) = finder.finish_in_batches(999).unwrap();
        assert_eq!(pairs(&batched), expected);
        assert!(stats.candidates > 39_000 && stats.exact >= expected.len() as u64, "{stats:?}");
        for o in &found {
            let exact = shifted[o.a as usize].intersection(&shifted[o.b as usize]).geodesic_area_unsigned();
            assert!((o.area_m2 - exact).abs() / exact < 1e-4, "{o:?} vs geodesic {exact}");
        }
    }

    #[test]
    fn the_filter_never_clears_an_overlapping_pair() {
        // Random rectangles and triangles on a coarse lattice, so that they share vertices, edges
        // (whole or partly), parts, and have vertices on each other's edges.
        let mut next = crate::test_rng::xorshift(0x9E37_79B9_7F4A_7C15);
        let mut checked = 0;
        for _ in 0..20_000 {
            let mut shape = || {
                let c = |x: u64, y: u64| Coord { x: LON + x as f64 * 1e-5, y: LAT + y as f64 * 1e-5 };
                let ring = if next(2) == 0 {
                    let (x, y, w, h) = (next(4), next(4), 1 + next(3), 1 + next(3));
                    vec![c(x, y), c(x + w, y), c(x + w, y + h), c(x, y + h), c(x, y)]
                } else {
                    loop {
                        let (p, q, r) = (c(next(6), next(6)), c(next(6), next(6)), c(next(6), next(6)));
                        if orient(p, q, r) != Orientation::Collinear {
                            break vec![p, q, r, p];
                        }
                    }
                };
                MultiPolygon(vec![Polygon::new(LineString(ring), vec![])])
            };
            let (a, b) = (shape(), shape());
            if !may_overlap(&a, &b) {
                checked += 1;
                assert!(a.intersection(&b).unsigned_area() < 1e-20, "{a:?} {b:?}");
            }
        }
        assert!(checked > 1_000, "{checked}");
    }

    #[test]
    fn the_self_join_meets_every_intersecting_pair_once() {
        // Random boxes of very different sizes, some nested, some touching at an edge.
        let mut next = crate::test_rng::xorshift(0x2545_F491_4F6C_DD1D);
        let boxes: Vec<([f64; 2], [f64; 2])> = (0..3_000)
            .map(|_| {
                let (x, y) = (next(1000) as f64, next(1000) as f64);
                let (w, h) =
                    if next(10) == 0 { (next(200) as f64, next(200) as f64) } else { (next(8) as f64, next(8) as f64) };
                ([x, y], [x + w, y + h])
            })
            .collect();
        let leaves: Vec<Leaf> = boxes
            .iter()
            .enumerate()
            .map(|(i, &(lo, hi))| GeomWithData::new(Rectangle::from_corners(lo, hi), i as u32))
            .collect();
        let tree = RTree::bulk_load(leaves);
        let mut met = Vec::new();
        self_join(tree.root(), &mut |a, b| {
            met.push((a.min(b), a.max(b)));
            Ok(())
        })
        .unwrap();
        let count = met.len();
        met.sort_unstable();
        met.dedup();
        assert_eq!(met.len(), count, "no pair twice");
        let mut expected = Vec::new();
        for (i, a) in boxes.iter().enumerate() {
            for (j, b) in boxes.iter().enumerate().skip(i + 1) {
                if a.0[0] <= b.1[0] && b.0[0] <= a.1[0] && a.0[1] <= b.1[1] && b.0[1] <= a.1[1] {
                    expected.push((i as u32, j as u32));
                }
            }
        }
        assert!(expected.len() > 3_000, "{}", expected.len());
        assert_eq!(met, expected);
    }

    #[test]
    fn a_tree_node_is_at_most_64_bytes() {
        // The memory per feature stated in the module doc.
        assert!(std::mem::size_of::<rstar::RTreeNode<Leaf>>() <= 64);
        assert_eq!(std::mem::size_of::<Leaf>(), 40);
    }

    #[test]
    fn decode_rejects_truncated_records() {
        let mut finder = OverlapFinder::new(0.5).unwrap();
        finder.add(1, &rect_m(0.0, 0.0, 1.0, 1.0)).unwrap();
        let bytes = finder.spill.buffer().to_vec();
        assert_eq!(decode(&bytes).unwrap().index, 1);
        for cut in [0, 7, 12, 20, bytes.len() - 1] {
            assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }
}
