//! Opening input files, shared by every reader: the error names the file and says why in a few
//! words; a text file whose name ends in `.gz` is read through gzip. A leaf module, so the readers
//! and their parent module do not use each other for it.

use std::io::Read;
use std::path::Path;

use crate::error::ImportError;

/// A short, human reason for an I/O error.
pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => e.to_string(),
    }
}

/// Opens a file for reading; the error names it.
pub(crate) fn open(path: &Path) -> Result<std::fs::File, ImportError> {
    std::fs::File::open(path).map_err(|e| ImportError::File { path: path.to_owned(), reason: io_reason(&e) })
}

/// Opens a text file for reading, through gzip when its name ends in `.gz`; the error names it.
pub(crate) fn open_text(path: &Path) -> Result<Box<dyn Read + Send>, ImportError> {
    let file = open(path)?;
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz")) {
        return Ok(Box::new(flate2::read::MultiGzDecoder::new(std::io::BufReader::with_capacity(1 << 16, file))));
    }
    Ok(Box::new(file))
}
