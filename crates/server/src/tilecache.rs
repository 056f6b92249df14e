//! The in-memory tile cache: tiles by collection and z/x/y, bounded in bytes (oldest out first),
//! and kept exact against the data. When a collection's data version moves (pushed by the change
//! feed, or read from the database while the feed is down), the changes since the cache's
//! version are read from `meta.changed_extents` (migration 0007) and exactly the cached tiles
//! meeting a changed extent — at every zoom, buffer included — are dropped. A change without a
//! recorded extent (or a TRUNCATE) drops the collection's tiles.
//!
//! A cached tile keeps its gzip and brotli encodings once a client asked for them, so a hit never
//! compresses again. The byte bound counts the uncompressed tiles (the encodings are smaller).

use std::collections::{HashMap, VecDeque};
use std::io::Write as _;
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;

/// A rendered tile and what is known of it.
#[derive(Debug, Default)]
pub struct CachedTile {
    /// The MVT bytes (empty: no feature there).
    pub mvt: Bytes,
    /// Why the tile is lighter than the full one, when the size cap made it so.
    pub reduced: Option<String>,
    gzip: OnceLock<Bytes>,
    brotli: OnceLock<Bytes>,
}

/// A content coding a client accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    /// No compression.
    Identity,
    /// gzip (RFC 1952).
    Gzip,
    /// Brotli (RFC 7932).
    Brotli,
}

impl Coding {
    /// The best coding an `Accept-Encoding` header allows (brotli, then gzip); q=0 refuses.
    pub fn negotiate(accept: Option<&str>) -> Coding {
        let Some(accept) = accept else { return Coding::Identity };
        let allowed = |name: &str| {
            accept.split(',').any(|part| {
                let mut it = part.split(';');
                let token = it.next().unwrap_or("").trim();
                let refused =
                    it.any(|p| p.trim().strip_prefix("q=").is_some_and(|q| q.trim().parse::<f32>().ok() == Some(0.0)));
                (token.eq_ignore_ascii_case(name) || token == "*") && !refused
            })
        };
        if allowed("br") {
            Coding::Brotli
        } else if allowed("gzip") {
            Coding::Gzip
        } else {
            Coding::Identity
        }
    }

    /// The `Content-Encoding` value, if any.
    pub fn header(self) -> Option<&'static str> {
        match self {
            Coding::Identity => None,
            Coding::Gzip => Some("gzip"),
            Coding::Brotli => Some("br"),
        }
    }
}

impl CachedTile {
    /// A tile as rendered.
    pub fn new(mvt: Bytes, reduced: Option<String>) -> CachedTile {
        CachedTile { mvt, reduced, ..CachedTile::default() }
    }

    /// The tile in a coding, compressed once and kept.
    pub fn encoded(&self, coding: Coding) -> Bytes {
        match coding {
            Coding::Identity => self.mvt.clone(),
            Coding::Gzip => self.gzip.get_or_init(|| gzip(&self.mvt)).clone(),
            Coding::Brotli => self.brotli.get_or_init(|| brotli(&self.mvt)).clone(),
        }
    }
}

fn gzip(bytes: &[u8]) -> Bytes {
    let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(bytes.len() / 3), flate2::Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    Bytes::from(encoder.finish().unwrap_or_default())
}

fn brotli(bytes: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(bytes.len() / 3);
    {
        let mut writer = brotli::CompressorWriter::new(&mut out, 4096, 4, 22);
        let _ = writer.write_all(bytes);
    }
    Bytes::from(out)
}

/// Collection, view (what the caller may see, see `geosector_access`'s fingerprints), z, x, y.
type Key = (&'static str, u64, u32, u64, u64);

/// The cache.
pub struct TileCache {
    max_bytes: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    tiles: HashMap<Key, Arc<CachedTile>>,
    order: VecDeque<Key>,
    bytes: usize,
    versions: HashMap<&'static str, i64>,
}

/// A change's extent, `[min lon, min lat, max lon, max lat]`; `None` means everything.
pub type Extent = Option<[f64; 4]>;

impl TileCache {
    /// A cache holding at most `max_bytes` of tiles (0 disables it).
    pub fn new(max_bytes: usize) -> TileCache {
        TileCache { max_bytes, inner: Mutex::new(Inner::default()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The data version the cached tiles of a collection reflect.
    pub fn version(&self, collection: &str) -> Option<i64> {
        self.lock().versions.get(collection).copied()
    }

    /// Brings a collection to `version`, dropping the tiles that meet any of `changes`. A no-op
    /// when the cache is already there: concurrent requests that saw the same change advance
    /// once, and tiles rendered at the new version by the first stay.
    pub fn advance(&self, collection: &'static str, version: i64, changes: &[Extent]) {
        let mut inner = self.lock();
        if inner.versions.get(collection).is_some_and(|known| *known >= version) {
            return;
        }
        let everything = changes.is_empty() || changes.iter().any(Option::is_none);
        let boxes: Vec<[f64; 4]> = changes.iter().flatten().copied().collect();
        let doomed: Vec<Key> = inner
            .tiles
            .keys()
            .filter(|(c, _, z, x, y)| *c == collection && (everything || boxes.iter().any(|b| meets(*z, *x, *y, b))))
            .cloned()
            .collect();
        for key in doomed {
            if let Some(tile) = inner.tiles.remove(&key) {
                inner.bytes -= tile.mvt.len();
            }
        }
        let Inner { order, tiles, .. } = &mut *inner;
        order.retain(|k| tiles.contains_key(k));
        inner.versions.insert(collection, version);
    }

    /// A cached tile of a view of a collection.
    pub fn get(&self, collection: &'static str, view: u64, z: u32, x: u64, y: u64) -> Option<Arc<CachedTile>> {
        self.lock().tiles.get(&(collection, view, z, x, y)).cloned()
    }

    /// Stores a tile of a view rendered at `version`, unless the cache moved on meanwhile.
    pub fn put(
        &self,
        collection: &'static str,
        view: u64,
        version: i64,
        (z, x, y): (u32, u64, u64),
        tile: Arc<CachedTile>,
    ) {
        if tile.mvt.len() > self.max_bytes {
            return;
        }
        let mut inner = self.lock();
        if inner.versions.get(collection) != Some(&version) {
            return;
        }
        let key = (collection, view, z, x, y);
        if let Some(old) = inner.tiles.insert(key, tile.clone()) {
            inner.bytes -= old.mvt.len();
        } else {
            inner.order.push_back(key);
        }
        inner.bytes += tile.mvt.len();
        while inner.bytes > self.max_bytes {
            let Some(oldest) = inner.order.pop_front() else { break };
            if let Some(tile) = inner.tiles.remove(&oldest) {
                inner.bytes -= tile.mvt.len();
            }
        }
    }
}

/// Whether tile z/x/y (with its 64/4096 buffer) meets a lon/lat box.
fn meets(z: u32, x: u64, y: u64, b: &[f64; 4]) -> bool {
    let [x0, y0, x1, y1] = geosector_crs::web_mercator::tile_bounds(z, x, y, 64.0 / 4096.0);
    x0 <= b[2] && b[0] <= x1 && y0 <= b[3] && b[1] <= y1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tile(bytes: &'static [u8]) -> Arc<CachedTile> {
        Arc::new(CachedTile::new(Bytes::from_static(bytes), None))
    }

    #[test]
    fn codings_are_negotiated_and_round_trip() {
        assert_eq!(Coding::negotiate(None), Coding::Identity);
        assert_eq!(Coding::negotiate(Some("gzip, deflate, br")), Coding::Brotli);
        assert_eq!(Coding::negotiate(Some("gzip;q=1.0, br;q=0")), Coding::Gzip);
        assert_eq!(Coding::negotiate(Some("identity")), Coding::Identity);
        let body: Vec<u8> = (0..10_000u32).flat_map(|i| (i % 97).to_le_bytes()).collect();
        let cached = CachedTile::new(Bytes::from(body.clone()), None);
        let mut unzipped = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&cached.encoded(Coding::Gzip)[..]), &mut unzipped)
            .unwrap();
        assert_eq!(unzipped, body);
        let mut unbrotli = Vec::new();
        std::io::Read::read_to_end(
            &mut brotli::Decompressor::new(&cached.encoded(Coding::Brotli)[..], 4096),
            &mut unbrotli,
        )
        .unwrap();
        assert_eq!(unbrotli, body);
    }

    #[test]
    fn changes_drop_exactly_the_tiles_they_meet() {
        let cache = TileCache::new(1 << 20);
        cache.advance("c", 1, &[]);
        // Two z16 tiles in Hà Nội, far apart, and a z10 tile holding both.
        cache.put("c", 0, 1, (16, 52037, 28808), tile(b"near"));
        cache.put("c", 0, 1, (16, 52100, 28900), tile(b"far"));
        cache.put("c", 0, 1, (10, 813, 450), tile(b"low"));
        let change = [105.8504, 21.2458, 105.8506, 21.2460];
        assert!(meets(16, 52037, 28808, &change));
        cache.advance("c", 2, &[Some(change)]);
        assert!(cache.get("c", 0, 16, 52037, 28808).is_none(), "the changed tile is dropped");
        assert!(cache.get("c", 0, 10, 813, 450).is_none(), "at every zoom");
        assert_eq!(
            cache.get("c", 0, 16, 52100, 28900).map(|t| t.mvt.clone()),
            Some(Bytes::from_static(b"far")),
            "others stay"
        );
        cache.put("c", 0, 2, (16, 52037, 28808), tile(b"new"));
        cache.advance("c", 2, &[Some(change)]);
        assert!(
            cache.get("c", 0, 16, 52037, 28808).is_some(),
            "a second request advancing to the same version drops nothing"
        );
        cache.put("c", 0, 1, (16, 1, 1), tile(b"stale"));
        assert!(cache.get("c", 0, 16, 1, 1).is_none(), "a tile rendered at an old version is not stored");
        cache.advance("c", 3, &[None]);
        assert!(cache.get("c", 0, 16, 52100, 28900).is_none(), "TRUNCATE drops everything");
    }

    #[test]
    fn size_is_bounded() {
        let cache = TileCache::new(10);
        cache.advance("c", 1, &[]);
        for i in 0..5 {
            cache.put("c", 0, 1, (5, i, 0), tile(b"xxxx"));
        }
        let kept = (0..5).filter(|i| cache.get("c", 0, 5, *i, 0).is_some()).count();
        assert_eq!(kept, 2, "10 bytes hold two 4-byte tiles; the oldest went first");
        assert!(cache.get("c", 0, 5, 4, 0).is_some());
    }

    #[test]
    fn views_never_share_a_tile() {
        let cache = TileCache::new(1 << 20);
        cache.advance("c", 1, &[]);
        cache.put("c", 7, 1, (3, 1, 1), tile(b"scoped"));
        assert!(cache.get("c", 0, 3, 1, 1).is_none() && cache.get("c", 8, 3, 1, 1).is_none());
        assert_eq!(cache.get("c", 7, 3, 1, 1).map(|t| t.mvt.clone()), Some(Bytes::from_static(b"scoped")));
    }
}
