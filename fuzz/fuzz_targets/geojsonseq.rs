//! GeoJSONSeq (one Feature per line, RFC 8142) through the importer's reader and row checks.
#![no_main]

use libfuzzer_sys::fuzz_target;
use geosector_ingest::readers::Format;

fuzz_target!(|data: &[u8]| geosector_fuzz::read_files(Format::GeoJsonSeq, &[("input.geojsonl", data)]));
