//! CSV (without geometry, with lon/lat or WKT columns) through the importer's reader and row checks.
#![no_main]

use geosector_ingest::readers::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| geosector_fuzz::read_files(Format::Csv, &[("input.csv", data)]));
