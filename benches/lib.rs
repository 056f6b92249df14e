//! Criterion micro-benchmarks of geosector's hot paths live in `benches/`; this library is
//! empty. Run them with `cargo bench -p geosector-benches`; figures go to docs/benchmarks.md.
