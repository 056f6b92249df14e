//! CQL2 JSON → SQL: `filter-lang=cql2-json` as the server compiles it (limits, parse, translation).
#![no_main]

use geosector_filter::Lang;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| geosector_fuzz::compile_filter(data, Lang::Json));
