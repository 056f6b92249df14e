//! The catalogue of sectors: the one place that names every sector crate, so the CLI (and the
//! test suite) get every importable dataset, every published collection and every load hook
//! from one list. A new sector crate is added here and nowhere else in the core.
//!
//! The OGC CQL2 conformance datasets (`geosector-conformance`) join the catalogue only when
//! `GEOSECTOR_CONFORMANCE_DATASETS=1` is set; they exist for the test suite.

use std::sync::Arc;

use geosector_domain::{CollectionDecl, Dataset};
use geosector_store::hook::LoadHook;

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

/// The settings sectors' load hooks are built with (from the command line).
#[derive(Debug, Clone, Default)]
pub struct HookSettings {
    /// VN_AQI / VN_WQI settings of the observations hook (`--index-config`).
    pub indices: geosector_environment::IndexConfig,
}

/// The load hook of a dataset, built with its sector's settings; `None` when its sector adds
/// nothing to the generic import.
pub fn load_hook(dataset: &Dataset, settings: &HookSettings) -> Option<Arc<dyn LoadHook>> {
    let observations =
        geosector_environment::load_hook::ObservationsHook::for_dataset(dataset, settings.indices.clone());
    observations.map(|hook| Arc::new(hook) as Arc<dyn LoadHook>)
}
