//! The catalogue of sectors: the one place that names every sector crate, so the CLI (and the
//! test suite) get every importable dataset and every published collection from one list. A new
//! sector crate is added here and nowhere else in the core.

use geosector_domain::{CollectionDecl, Dataset};

/// Every importable dataset, from every sector crate.
pub fn datasets() -> impl Iterator<Item = &'static Dataset> {
    geosector_land::DATASETS
        .iter()
        .chain(geosector_minerals::DATASETS)
        .chain(geosector_water::DATASETS)
        .chain(geosector_environment::DATASETS)
}

/// Every published collection, from every sector crate.
pub fn collections() -> Vec<&'static CollectionDecl> {
    geosector_land::COLLECTIONS
        .iter()
        .chain(geosector_minerals::COLLECTIONS)
        .chain(geosector_water::COLLECTIONS)
        .chain(geosector_environment::COLLECTIONS)
        .collect()
}
