//! A Shapefile: `.shp` and `.dbf` cut from one input (`geosector_fuzz::split_two`), through the importer's reader and row checks.
#![no_main]

use geosector_ingest::readers::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (shp, dbf) = geosector_fuzz::split_two(data);
    geosector_fuzz::read_files(Format::Shapefile, &[("input.shp", shp), ("input.dbf", dbf)]);
});
