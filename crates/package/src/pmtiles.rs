//! A PMTiles v3 writer: tiles added in tile-id order (clustered), each distinct content stored
//! once (a SHA-256 of the bytes finds repeats; consecutive repeats become one run), then the
//! directories — a root of at most 16 KiB with the 127-byte header, leaf directories when the
//! entries do not fit — and the gzip-compressed JSON metadata.
//!
//! The crates.io `pmtiles` crate has a writer too; this one is a page long, takes tiles from the
//! package's resumable tile store and keeps every byte of the output under our control (the
//! same tiles always make the same file).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Read as _, Write as _};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::tiles::gzip;
use crate::Result;

const HEADER_LEN: usize = 127;
const ROOT_MAX: usize = 16_384 - HEADER_LEN;
const COMPRESSION_GZIP: u8 = 2;
const TILE_TYPE_MVT: u8 = 1;

/// One directory entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    tile_id: u64,
    offset: u64,
    length: u32,
    /// 0: a leaf directory.
    run_length: u32,
}

/// What the header says besides the sections.
#[derive(Debug, Clone, Copy)]
pub struct Header {
    /// The lowest zoom.
    pub min_zoom: u8,
    /// The highest zoom.
    pub max_zoom: u8,
    /// `[min lon, min lat, max lon, max lat]`.
    pub bounds: [f64; 4],
    /// The zoom a viewer starts at (at the bounds' centre).
    pub center_zoom: u8,
}

/// Writes one PMTiles file.
pub struct Writer {
    data: BufWriter<File>,
    data_path: PathBuf,
    entries: Vec<Entry>,
    stored: HashMap<[u8; 32], (u64, u32)>,
    last: Option<[u8; 32]>,
    offset: u64,
    addressed: u64,
}

impl Writer {
    /// A writer keeping the tile data in `data_path` (a scratch file, removed by
    /// [`Writer::finish`]) until the directories are known.
    ///
    /// # Errors
    /// The scratch file cannot be created.
    pub fn new(data_path: &Path) -> Result<Writer> {
        Ok(Writer {
            data: BufWriter::with_capacity(1 << 20, File::create(data_path)?),
            data_path: data_path.to_owned(),
            entries: Vec::new(),
            stored: HashMap::new(),
            last: None,
            offset: 0,
            addressed: 0,
        })
    }

    /// Adds a tile (compressed as the header says: gzip). Tile ids must increase.
    ///
    /// # Errors
    /// The scratch file cannot be written; a tile id not above the last one.
    pub fn add(&mut self, tile_id: u64, tile: &[u8]) -> Result<()> {
        if let Some(last) = self.entries.last() {
            if tile_id < last.tile_id + u64::from(last.run_length) {
                return Err(crate::PackageError::Invalid(format!("PMTiles: tile id {tile_id} added out of order")));
            }
        }
        let hash: [u8; 32] = Sha256::digest(tile).into();
        self.addressed += 1;
        if let (Some(last), Some(previous)) = (self.entries.last_mut(), self.last) {
            if previous == hash && last.tile_id + u64::from(last.run_length) == tile_id {
                last.run_length += 1;
                return Ok(());
            }
        }
        let (offset, length) = match self.stored.get(&hash) {
            Some(&stored) => stored,
            None => {
                let length = u32::try_from(tile.len())
                    .map_err(|_| crate::PackageError::Invalid(format!("PMTiles: tile {tile_id} over 4 GiB")))?;
                self.data.write_all(tile)?;
                let stored = (self.offset, length);
                self.offset += u64::from(length);
                self.stored.insert(hash, stored);
                stored
            }
        };
        self.entries.push(Entry { tile_id, offset, length, run_length: 1 });
        self.last = Some(hash);
        Ok(())
    }

    /// How many distinct tile contents were stored.
    pub fn distinct(&self) -> usize {
        self.stored.len()
    }

    /// Writes the file: header, root directory, metadata, leaf directories, tile data.
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn finish(mut self, out: &Path, header: Header, metadata: &serde_json::Value) -> Result<()> {
        self.data.flush()?;
        drop(self.data);
        let (root, leaves) = directories(&self.entries);
        let metadata = gzip(serde_json::to_string(metadata).unwrap_or_default().as_bytes());
        let root_offset = HEADER_LEN as u64;
        let metadata_offset = root_offset + root.len() as u64;
        let leaves_offset = metadata_offset + metadata.len() as u64;
        let data_offset = leaves_offset + leaves.len() as u64;
        let mut h = Vec::with_capacity(HEADER_LEN);
        h.extend_from_slice(b"PMTiles");
        h.push(3);
        for v in [
            root_offset,
            root.len() as u64,
            metadata_offset,
            metadata.len() as u64,
            leaves_offset,
            leaves.len() as u64,
            data_offset,
            self.offset,
            self.addressed,
            self.entries.len() as u64,
            self.stored.len() as u64,
        ] {
            h.extend_from_slice(&v.to_le_bytes());
        }
        h.extend_from_slice(&[1, COMPRESSION_GZIP, COMPRESSION_GZIP, TILE_TYPE_MVT, header.min_zoom, header.max_zoom]);
        let e7 = |v: f64| ((v * 1e7).round() as i32).to_le_bytes();
        let b = header.bounds;
        for v in b {
            h.extend_from_slice(&e7(v));
        }
        h.push(header.center_zoom);
        h.extend_from_slice(&e7((b[0] + b[2]) / 2.0));
        h.extend_from_slice(&e7((b[1] + b[3]) / 2.0));
        debug_assert_eq!(h.len(), HEADER_LEN);
        let tmp = out.with_extension("pmtiles.tmp");
        {
            let mut file = BufWriter::with_capacity(1 << 20, File::create(&tmp)?);
            file.write_all(&h)?;
            file.write_all(&root)?;
            file.write_all(&metadata)?;
            file.write_all(&leaves)?;
            let mut data = File::open(&self.data_path)?;
            let mut buffer = vec![0u8; 1 << 20];
            loop {
                let n = data.read(&mut buffer)?;
                if n == 0 {
                    break;
                }
                file.write_all(&buffer[..n])?;
            }
            file.flush()?;
        }
        std::fs::remove_file(&self.data_path)?;
        std::fs::rename(&tmp, out)?;
        Ok(())
    }
}

/// The root directory and the leaf directories (go-pmtiles' layout: everything in the root when
/// it fits, else leaves of at least 4,096 entries, growing until the root fits).
fn directories(entries: &[Entry]) -> (Vec<u8>, Vec<u8>) {
    if entries.len() < 16_384 {
        let root = serialize(entries);
        if root.len() <= ROOT_MAX {
            return (root, Vec::new());
        }
    }
    let mut leaf_size = (entries.len() / 3500).max(4096);
    loop {
        let mut leaves = Vec::new();
        let mut root_entries = Vec::new();
        for chunk in entries.chunks(leaf_size) {
            let leaf = serialize(chunk);
            root_entries.push(Entry {
                tile_id: chunk[0].tile_id,
                offset: leaves.len() as u64,
                length: u32::try_from(leaf.len()).unwrap_or(u32::MAX),
                run_length: 0,
            });
            leaves.extend_from_slice(&leaf);
        }
        let root = serialize(&root_entries);
        if root.len() <= ROOT_MAX {
            return (root, leaves);
        }
        leaf_size += leaf_size / 5;
    }
}

/// A directory: entry count, tile-id deltas, run lengths, lengths, offsets (0: right after the
/// previous entry, else offset + 1), as varints, gzip-compressed.
fn serialize(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::with_capacity(entries.len() * 6 + 8);
    varint(&mut out, entries.len() as u64);
    let mut last = 0;
    for e in entries {
        varint(&mut out, e.tile_id - last);
        last = e.tile_id;
    }
    for e in entries {
        varint(&mut out, u64::from(e.run_length));
    }
    for e in entries {
        varint(&mut out, u64::from(e.length));
    }
    for (i, e) in entries.iter().enumerate() {
        let follows = i > 0 && e.offset == entries[i - 1].offset + u64::from(entries[i - 1].length);
        varint(&mut out, if follows { 0 } else { e.offset + 1 });
    }
    gzip(&out)
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_are_stored_once_and_runs_merge() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = Writer::new(&dir.path().join("data")).unwrap();
        writer.add(1, b"a").unwrap();
        writer.add(2, b"a").unwrap();
        writer.add(4, b"b").unwrap();
        writer.add(9, b"a").unwrap();
        assert!(writer.add(3, b"c").is_err(), "out of order");
        assert_eq!(writer.entries.len(), 3);
        assert_eq!(writer.entries[0].run_length, 2);
        assert_eq!(writer.entries[2].offset, 0, "the repeat points at the first copy");
        assert_eq!(writer.offset, 2);
        let out = dir.path().join("t.pmtiles");
        let header = Header { min_zoom: 0, max_zoom: 3, bounds: [105.0, 20.0, 106.0, 21.0], center_zoom: 2 };
        writer.finish(&out, header, &serde_json::json!({"name": "t"})).unwrap();
        let bytes = std::fs::read(&out).unwrap();
        assert_eq!(&bytes[..8], b"PMTiles\x03");
        assert_eq!(u64::from_le_bytes(bytes[8..16].try_into().unwrap()), 127);
        assert_eq!(&bytes[bytes.len() - 2..], b"ab");
    }

    #[test]
    fn a_large_directory_goes_to_leaves() {
        let entries: Vec<Entry> =
            (0..200_000u64).map(|i| Entry { tile_id: i * 3, offset: i * 10, length: 10, run_length: 1 }).collect();
        let (root, leaves) = directories(&entries);
        assert!(root.len() <= ROOT_MAX && !leaves.is_empty());
    }
}
