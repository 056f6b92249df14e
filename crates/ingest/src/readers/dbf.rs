//! dBASE III/IV table (`.dbf`) reader for Shapefile attributes, written here rather than taken
//! from a crate so that text fields can be decoded in the Vietnamese encodings of
//! [`super::encoding`]. Streams one fixed-length record at a time.
//!
//! Field types: C (text, decoded, trailing blanks trimmed), N and F (number: an integer when it
//! has no decimals and fits, else a float), L (logical: T/Y → true, F/N → false, ? → null),
//! D (date `YYYYMMDD` → `"YYYY-MM-DD"`), I (32-bit integer), O (double). Memo, binary and
//! other types (M, B, G, P, T, @, +, …) are skipped with a warning naming them. A blank value
//! (or dBASE's `*****` overflow marker) is null. Deleted records are skipped.

use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use std::sync::Arc;

use serde_json::Value;

use super::encoding::{self, TextEncoding};
use crate::error::ImportError;
use crate::source::{Columns, Properties};

/// How many records are sampled to detect the text encoding.
const DETECT_RECORDS: u32 = 2000;

/// One field of the table.
#[derive(Debug, Clone)]
struct Field {
    name: String,
    kind: u8,
    offset: usize,
    len: usize,
    decimals: u8,
}

/// How the encoding was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncodingSource {
    /// The `.cpg` file beside the `.dbf`.
    Cpg,
    /// `--encoding`.
    Option,
    /// Detected from the text (with whether the evidence was clear).
    Detected {
        /// Whether the text read as Vietnamese (or was valid UTF-8) in the chosen encoding.
        confident: bool,
    },
}

/// One record: its properties, or the field whose value could not be read.
pub type Record = Result<Properties, (String, String)>;

/// A DBF table being read.
pub struct DbfReader {
    path: PathBuf,
    reader: BufReader<std::fs::File>,
    fields: Vec<Field>,
    /// The fields' names, in field order, for the records' properties.
    columns: Arc<Columns>,
    records: u32,
    record_len: usize,
    next: u32,
    buf: Vec<u8>,
    /// The encoding of text fields.
    pub encoding: TextEncoding,
    /// How [`Self::encoding`] was chosen.
    pub encoding_source: EncodingSource,
}

impl DbfReader {
    /// Opens a table and settles its text encoding: `.cpg`, else `forced`, else detection over
    /// the first records.
    ///
    /// # Errors
    /// [`ImportError::File`] when it cannot be read, [`ImportError::Malformed`] for a damaged
    /// header or an unknown `.cpg`.
    pub fn open(path: &Path, forced: Option<TextEncoding>, cpg: Option<&Path>) -> Result<DbfReader, ImportError> {
        let malformed = |reason: String| ImportError::Malformed { path: path.to_owned(), reason };
        let file = super::files::open(path)?;
        let file_len = file.metadata().map(|m| m.len()).unwrap_or(u64::MAX);
        let mut reader = BufReader::with_capacity(1 << 16, file);
        let mut head = [0u8; 32];
        reader.read_exact(&mut head).map_err(|e| malformed(format!("no dBASE header: {e}")))?;
        let records = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        let header_len = usize::from(u16::from_le_bytes([head[8], head[9]]));
        let record_len = usize::from(u16::from_le_bytes([head[10], head[11]]));
        if header_len < 33 || record_len == 0 {
            return Err(malformed(format!(
                "not a dBASE table (header {header_len} bytes, records {record_len} bytes)"
            )));
        }
        let mut descriptors = vec![0u8; header_len - 32];
        reader.read_exact(&mut descriptors).map_err(|e| malformed(format!("truncated field descriptors: {e}")))?;
        let mut raw_fields = Vec::new();
        let mut offset = 1; // the deletion flag
        for d in descriptors.chunks_exact(32) {
            if d[0] == 0x0D {
                break;
            }
            let name_end = d[..11].iter().position(|b| *b == 0).unwrap_or(11);
            let len = usize::from(d[16]);
            raw_fields.push((d[..name_end].to_vec(), d[11], offset, len, d[17]));
            offset += len;
        }
        if offset > record_len {
            return Err(malformed(format!("fields take {offset} bytes but records are {record_len} bytes")));
        }
        let data_len = u64::from(records) * record_len as u64;
        if (header_len as u64).saturating_add(data_len) > file_len {
            return Err(malformed(format!(
                "the header announces {records} records of {record_len} bytes, more than the file holds ({file_len} bytes)"
            )));
        }
        let mut dbf = DbfReader {
            path: path.to_owned(),
            reader,
            fields: Vec::new(),
            columns: Columns::new([]),
            records,
            record_len,
            next: 0,
            buf: vec![0u8; record_len],
            encoding: TextEncoding::Utf8,
            encoding_source: EncodingSource::Detected { confident: true },
        };
        let from_cpg = match cpg {
            Some(cpg) => {
                let text = std::fs::read_to_string(cpg).unwrap_or_default();
                Some(TextEncoding::from_name(&text).ok_or_else(|| ImportError::Malformed {
                    path: cpg.to_owned(),
                    reason: format!(
                        "unknown code page {:?}: expected UTF-8, 1258, TCVN3 or VNI (or remove the .cpg and pass --encoding)",
                        text.trim()
                    ),
                })?)
            }
            None => None,
        };
        (dbf.encoding, dbf.encoding_source) = match (from_cpg, forced) {
            (Some(e), _) => (e, EncodingSource::Cpg),
            (None, Some(e)) => (e, EncodingSource::Option),
            (None, None) => {
                let text_fields: Vec<(usize, usize)> =
                    raw_fields.iter().filter(|f| f.1 == b'C').map(|f| (f.2, f.3)).collect();
                let mut samples: Vec<Vec<u8>> = raw_fields.iter().map(|f| f.0.clone()).collect();
                let mut record = vec![0u8; record_len];
                for _ in 0..records.min(DETECT_RECORDS) {
                    if dbf.reader.read_exact(&mut record).is_err() {
                        break;
                    }
                    for &(at, len) in &text_fields {
                        samples.push(trim(&record[at..at + len]).to_vec());
                    }
                }
                dbf.reader
                    .seek(SeekFrom::Start(header_len as u64))
                    .map_err(|e| malformed(format!("cannot seek back: {e}")))?;
                let d = encoding::detect(&samples);
                (d.encoding, EncodingSource::Detected { confident: d.confident })
            }
        };
        for (name, kind, offset, len, decimals) in raw_fields {
            let name = dbf.encoding.decode(&name).trim().to_owned();
            if !matches!(kind, b'C' | b'N' | b'F' | b'L' | b'D' | b'I' | b'O') {
                tracing::warn!(file = %path.display(), field = name, kind = %char::from(kind), "DBF field type not read (memo, binary or unknown): skipped");
                continue;
            }
            dbf.fields.push(Field { name, kind, offset, len, decimals });
        }
        dbf.columns = Columns::new(dbf.fields.iter().map(|f| f.name.clone()));
        Ok(dbf)
    }

    /// The next record (deleted ones skipped) with its 0-based record index, or `None` at the end.
    ///
    /// # Errors
    /// [`ImportError::Malformed`] naming the record when the file ends early.
    pub fn next_record(&mut self) -> Result<Option<(u32, Record)>, ImportError> {
        loop {
            if self.next >= self.records {
                return Ok(None);
            }
            let index = self.next;
            self.next += 1;
            self.reader.read_exact(&mut self.buf).map_err(|e| ImportError::Malformed {
                path: self.path.clone(),
                reason: format!("record {index}: {e} (the table should hold {} records)", self.records),
            })?;
            if self.buf[0] == b'*' {
                continue;
            }
            return Ok(Some((index, self.decode())));
        }
    }

    /// How many records the header announces.
    pub fn len(&self) -> u32 {
        self.records
    }

    /// Whether the table has no records.
    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    fn decode(&self) -> Record {
        let mut values = self.columns.values();
        for (column, f) in self.fields.iter().enumerate() {
            let raw = &self.buf[f.offset..(f.offset + f.len).min(self.record_len)];
            let value = value(f, raw, self.encoding).map_err(|reason| (f.name.clone(), reason))?;
            values.set(column, value);
        }
        Ok(Properties::Columns(values))
    }
}

fn trim(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().rposition(|b| !matches!(b, b' ' | 0)).map_or(0, |i| i + 1);
    &bytes[..end]
}

/// `bytes` without leading and trailing blanks and NULs.
fn trim_both(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| !matches!(b, b' ' | 0)).unwrap_or(bytes.len());
    trim(&bytes[start..])
}

fn value(f: &Field, raw: &[u8], encoding: TextEncoding) -> Result<Value, String> {
    Ok(match f.kind {
        b'C' => {
            let t = trim(raw);
            if t.is_empty() {
                Value::Null
            } else {
                Value::from(encoding.decode(t))
            }
        }
        b'N' | b'F' => {
            // Blanks and NULs trimmed as bytes first: they are ASCII, so decoding after trimming
            // gives the text trimmed after decoding (right-aligned numbers are mostly blanks).
            let text = String::from_utf8_lossy(trim_both(raw));
            let t = text.as_ref();
            if t.is_empty() || t.chars().all(|c| c == '*') {
                Value::Null
            } else if let Some(i) = (f.decimals == 0).then(|| t.parse::<i64>().ok()).flatten() {
                Value::from(i)
            } else {
                let v: f64 = t.parse().map_err(|_| format!("{t:?} is not a number"))?;
                serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
            }
        }
        b'L' => match raw.first().copied().unwrap_or(b' ') {
            b'T' | b't' | b'Y' | b'y' => Value::Bool(true),
            b'F' | b'f' | b'N' | b'n' => Value::Bool(false),
            b'?' | b' ' | 0 => Value::Null,
            other => return Err(format!("{:?} is not a logical value", char::from(other))),
        },
        b'D' => {
            let t = trim(raw);
            if t.is_empty() || t.iter().all(|b| *b == b'0') {
                Value::Null
            } else if t.len() == 8 && t.iter().all(u8::is_ascii_digit) {
                let s = String::from_utf8_lossy(t);
                Value::from(format!("{}-{}-{}", &s[..4], &s[4..6], &s[6..]))
            } else {
                return Err(format!("{:?} is not a date (YYYYMMDD)", String::from_utf8_lossy(t)));
            }
        }
        b'I' => match <[u8; 4]>::try_from(raw) {
            Ok(b) => Value::from(i32::from_le_bytes(b)),
            Err(_) => return Err(format!("integer field of {} bytes, expected 4", raw.len())),
        },
        _ => match <[u8; 8]>::try_from(raw) {
            Ok(b) => serde_json::Number::from_f64(f64::from_le_bytes(b)).map_or(Value::Null, Value::Number),
            Err(_) => return Err(format!("double field of {} bytes, expected 8", raw.len())),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Numbers read as they were when the whole field was decoded and then trimmed.
    #[test]
    fn numbers_are_trimmed_as_bytes_like_text() {
        let old = |raw: &[u8], decimals: u8| -> Result<Value, String> {
            let text = String::from_utf8_lossy(raw);
            let t = text.trim_matches(|c: char| c == ' ' || c == '\0');
            Ok(if t.is_empty() || t.chars().all(|c| c == '*') {
                Value::Null
            } else if let (0, Ok(i)) = (decimals, t.parse::<i64>()) {
                Value::from(i)
            } else {
                let v: f64 = t.parse().map_err(|_| format!("{t:?} is not a number"))?;
                serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
            })
        };
        let samples: [&[u8]; 14] = [
            b"      1604.8512192",
            b"   42",
            b"42\0\0\0",
            b"  \0 ",
            b"",
            b" ****** ",
            b" 12,5 ",
            b" 1e400",
            b" -7 ",
            b" 7 8 ",
            b"\xC3 12",
            b" 12\xC3",
            b" \xE1\xBB",
            b" NaN ",
        ];
        for raw in samples {
            for decimals in [0, 3] {
                let field = Field { name: "n".into(), kind: b'N', offset: 0, len: raw.len(), decimals };
                assert_eq!(value(&field, raw, TextEncoding::Utf8), old(raw, decimals), "{raw:?}");
            }
        }
    }
}
