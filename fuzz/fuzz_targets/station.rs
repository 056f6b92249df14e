//! TT 10/2021 monitoring-station text files through the importer's reader and row checks (the name carries the station and time, as the reader requires).
#![no_main]

use geosector_ingest::readers::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| geosector_fuzz::read_files(Format::StationText, &[("HN_KK_01_20250301100000.txt", data)]));
