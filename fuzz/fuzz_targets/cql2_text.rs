//! CQL2 text → SQL: `filter=` as the server compiles it (limits, parse, translation).
#![no_main]

use geosector_filter::Lang;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| geosector_fuzz::compile_filter(data, Lang::Text));
