//! The catalogue of sectors: the one place that names every sector crate, so the CLI (and the
//! test suite) get every importable dataset and every published collection from one list. A new
//! sector crate is added here and nowhere else in the core.
//!
//! The OGC CQL2 conformance datasets (`geosector-conformance`) join the catalogue only when
//! `GEOSECTOR_CONFORMANCE_DATASETS=1` is set; they exist for the test suite.
//!
//! [`seed`] is the HTTP client of `geosector tiles seed`: a client of the server, so it lives
//! here rather than in the server crate.

pub mod seed;

use geosector_domain::{CollectionDecl, Dataset};

/// Every importable dataset, from every sector crate.
pub fn datasets() -> impl Iterator<Item = &'static Dataset> {
    geosector_land::DATASETS
        .iter()
        .chain(geosector_minerals::DATASETS)
        .chain(geosector_water::DATASETS)
        .chain(geosector_environment::DATASETS)
        .chain(if conformance() { geosector_conformance::DATASETS } else { &[] })
}

/// Whether the OGC conformance datasets are switched on (`GEOSECTOR_CONFORMANCE_DATASETS=1`).
pub fn conformance() -> bool {
    geosector_conformance::enabled()
}

/// Every published collection, from every sector crate.
pub fn collections() -> Vec<&'static CollectionDecl> {
    geosector_land::COLLECTIONS
        .iter()
        .chain(geosector_minerals::COLLECTIONS)
        .chain(geosector_water::COLLECTIONS)
        .chain(geosector_environment::COLLECTIONS)
        .chain(if conformance() { geosector_conformance::COLLECTIONS } else { &[] })
        .collect()
}
