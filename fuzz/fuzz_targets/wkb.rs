//! The WKB decoder the GeoPackage reader uses for every geometry.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = geosector_ingest::readers::wkb::parse(data);
});
