//! The import hot paths on synthetic parcels (EPSG:5897): VN-2000 reprojection of one
//! coordinate, streaming GeoJSONSeq reading, and building typed rows (parse, area, reproject,
//! EWKB) for a batch of 2,048 parcels.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use geosector_crs::{Crs, Transformer};
use geosector_ingest::error::ImportError;
use geosector_ingest::readers::{self, Format};
use geosector_ingest::rows::RowBuilder;
use geosector_ingest::source::{FeatureSink, Flow, RawFeature, SourceInfo};
use geosector_land_synth::{write_parcels, ParcelGenerator, ParcelOptions, SynthFormat};

struct Collect(Vec<RawFeature>);

impl FeatureSink for Collect {
    fn begin(&mut self, _: &SourceInfo) -> Result<(), ImportError> {
        Ok(())
    }
    fn feature(&mut self, feature: RawFeature) -> Result<Flow, ImportError> {
        self.0.push(feature);
        Ok(Flow::Continue)
    }
}

fn parcels_file(dir: &Path, count: usize) -> std::path::PathBuf {
    let path = dir.join("parcels.geojsonl");
    let generator = ParcelGenerator::new(ParcelOptions { count, ..ParcelOptions::default() });
    let file = std::fs::File::create(&path).expect("create");
    write_parcels(&generator, SynthFormat::GeoJsonSeq, std::io::BufWriter::new(file)).expect("write");
    path
}

fn benches(c: &mut Criterion) {
    let tm3 = Crs::from_epsg(5897).expect("5897");
    let to_wgs84 = Transformer::new(&tm3, &Crs::wgs84()).expect("transformer");
    c.bench_function("reproject_tm3_to_wgs84_point", |b| {
        b.iter(|| to_wgs84.coord(black_box(geo_types::Coord { x: 588_788.0, y: 2_326_237.0 })))
    });

    let dir = tempfile::tempdir().expect("tempdir");
    let file = parcels_file(dir.path(), 2048);
    let mut group = c.benchmark_group("parcels_2048");
    group.throughput(Throughput::Elements(2048));
    group.bench_function("read_geojsonseq", |b| {
        b.iter(|| {
            let mut sink = Collect(Vec::with_capacity(2048));
            readers::read(&file, Format::GeoJsonSeq, &readers::ReadOptions::default(), &mut sink).expect("read");
            sink.0.len()
        })
    });
    let mut sink = Collect(Vec::new());
    readers::read(&file, Format::GeoJsonSeq, &readers::ReadOptions::default(), &mut sink).expect("read");
    let builder = RowBuilder::new(&geosector_land::PARCELS, &tm3).expect("builder");
    group.bench_function("build_rows", |b| {
        b.iter(|| sink.0.iter().cloned().map(|f| builder.build(f).is_ok()).filter(|ok| *ok).count())
    });
    group.finish();
}

criterion_group!(import_pipeline, benches);
criterion_main!(import_pipeline);
