//! The in-memory tile cache: tiles by collection and z/x/y, bounded in bytes (oldest out first),
//! and kept exact against the data. Every tile request reads the table's data version (one tiny
//! query); when it moved, the changes since the cache's version are read from
//! `meta.changed_extents` (migration 0007) and exactly the cached tiles meeting a changed extent
//! — at every zoom, buffer included — are dropped. A change without a recorded extent (or a
//! TRUNCATE) drops the collection's tiles.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use bytes::Bytes;

type Key = (String, u32, u64, u64);

/// The cache.
pub struct TileCache {
    max_bytes: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    tiles: HashMap<Key, Bytes>,
    order: VecDeque<Key>,
    bytes: usize,
    versions: HashMap<String, i64>,
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

    /// Brings a collection to `version`, dropping the tiles that meet any of `changes`.
    pub fn advance(&self, collection: &str, version: i64, changes: &[Extent]) {
        let mut inner = self.lock();
        let everything = changes.is_empty() || changes.iter().any(Option::is_none);
        let boxes: Vec<[f64; 4]> = changes.iter().flatten().copied().collect();
        let doomed: Vec<Key> = inner
            .tiles
            .keys()
            .filter(|(c, z, x, y)| c == collection && (everything || boxes.iter().any(|b| meets(*z, *x, *y, b))))
            .cloned()
            .collect();
        for key in doomed {
            if let Some(bytes) = inner.tiles.remove(&key) {
                inner.bytes -= bytes.len();
            }
        }
        let Inner { order, tiles, .. } = &mut *inner;
        order.retain(|k| tiles.contains_key(k));
        inner.versions.insert(collection.to_owned(), version);
    }

    /// A cached tile.
    pub fn get(&self, collection: &str, z: u32, x: u64, y: u64) -> Option<Bytes> {
        self.lock().tiles.get(&(collection.to_owned(), z, x, y)).cloned()
    }

    /// Stores a tile rendered at `version`, unless the cache moved on meanwhile.
    pub fn put(&self, collection: &str, version: i64, z: u32, x: u64, y: u64, tile: Bytes) {
        if tile.len() > self.max_bytes {
            return;
        }
        let mut inner = self.lock();
        if inner.versions.get(collection) != Some(&version) {
            return;
        }
        let key = (collection.to_owned(), z, x, y);
        if let Some(old) = inner.tiles.insert(key.clone(), tile.clone()) {
            inner.bytes -= old.len();
        } else {
            inner.order.push_back(key);
        }
        inner.bytes += tile.len();
        while inner.bytes > self.max_bytes {
            let Some(oldest) = inner.order.pop_front() else { break };
            if let Some(bytes) = inner.tiles.remove(&oldest) {
                inner.bytes -= bytes.len();
            }
        }
    }
}

/// Whether tile z/x/y (with its 64/4096 buffer) meets a lon/lat box.
fn meets(z: u32, x: u64, y: u64, b: &[f64; 4]) -> bool {
    let n = (1u64 << z) as f64;
    let lon = |x: f64| x / n * 360.0 - 180.0;
    let lat = |y: f64| (std::f64::consts::PI * (1.0 - 2.0 * y / n)).sinh().atan().to_degrees();
    let pad = 64.0 / 4096.0;
    let (x0, x1) = (lon(x as f64 - pad), lon(x as f64 + 1.0 + pad));
    let (y1, y0) = (lat(y as f64 - pad), lat(y as f64 + 1.0 + pad));
    x0 <= b[2] && b[0] <= x1 && y0 <= b[3] && b[1] <= y1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_drop_exactly_the_tiles_they_meet() {
        let cache = TileCache::new(1 << 20);
        cache.advance("c", 1, &[]);
        // Two z16 tiles in Hà Nội, far apart, and a z10 tile holding both.
        cache.put("c", 1, 16, 52037, 28808, Bytes::from_static(b"near"));
        cache.put("c", 1, 16, 52100, 28900, Bytes::from_static(b"far"));
        cache.put("c", 1, 10, 813, 450, Bytes::from_static(b"low"));
        let change = [105.8504, 21.2458, 105.8506, 21.2460];
        assert!(meets(16, 52037, 28808, &change));
        cache.advance("c", 2, &[Some(change)]);
        assert!(cache.get("c", 16, 52037, 28808).is_none(), "the changed tile is dropped");
        assert!(cache.get("c", 10, 813, 450).is_none(), "at every zoom");
        assert_eq!(cache.get("c", 16, 52100, 28900).as_deref(), Some(&b"far"[..]), "others stay");
        cache.put("c", 1, 16, 1, 1, Bytes::from_static(b"stale"));
        assert!(cache.get("c", 16, 1, 1).is_none(), "a tile rendered at an old version is not stored");
        cache.advance("c", 3, &[None]);
        assert!(cache.get("c", 16, 52100, 28900).is_none(), "TRUNCATE drops everything");
    }

    #[test]
    fn size_is_bounded() {
        let cache = TileCache::new(10);
        cache.advance("c", 1, &[]);
        for i in 0..5 {
            cache.put("c", 1, 5, i, 0, Bytes::from_static(b"xxxx"));
        }
        let kept = (0..5).filter(|i| cache.get("c", 5, *i, 0).is_some()).count();
        assert_eq!(kept, 2, "10 bytes hold two 4-byte tiles; the oldest went first");
        assert!(cache.get("c", 5, 4, 0).is_some());
    }
}
