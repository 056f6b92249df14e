//! The catalogue of sectors: the one place that names every sector crate, so the CLI (and the
//! test suite) get every sector, importable dataset and published collection from one list,
//! [`SECTORS`], and a dataset's load hook from [`load_hook`]. A new sector crate is one line
//! there (and one in `load_hook` when it has a hook) and nowhere else in the core.
//!
//! The OGC CQL2 conformance datasets (`geosector-conformance`) join the catalogue only when
//! `GEOSECTOR_CONFORMANCE_DATASETS=1` is set; they exist for the test suite.
//!
//! [`seed`] is the HTTP client of `geosector tiles seed`: a client of the server, so it lives
//! here rather than in the server crate.

pub mod package;
pub mod seed;

use std::sync::Arc;

use geosector_domain::{CollectionDecl, Dataset, SectorDecl};
use geosector_store::hook::LoadHook;

/// Every sector, each declared by its crate (titles, datasets, collections); first the reference
/// data every sector shares (the administrative units, the map's base layer).
pub const SECTORS: &[&SectorDecl] = &[
    &geosector_reference::SECTOR,
    &geosector_land::SECTOR,
    &geosector_minerals::SECTOR,
    &geosector_water::SECTOR,
    &geosector_environment::SECTOR,
];

/// Which audited features concern one parcel (`geosector audit list --parcel`): collection ids
/// and the statements of their feature ids by parcel key.
pub const PARCEL_SUBJECTS: &[(&str, &str)] = geosector_land::audit::PARCEL_SUBJECTS;

/// Every importable dataset, from every sector crate.
pub fn datasets() -> impl Iterator<Item = &'static Dataset> {
    SECTORS.iter().flat_map(|s| s.datasets).chain(if conformance() { geosector_conformance::DATASETS } else { &[] })
}

/// Whether the OGC conformance datasets are switched on (`GEOSECTOR_CONFORMANCE_DATASETS=1`).
pub fn conformance() -> bool {
    geosector_conformance::enabled()
}

/// Every sector, for the titles of its styles and map layers.
pub fn sectors() -> Vec<&'static SectorDecl> {
    SECTORS.to_vec()
}

/// Every published collection, from every sector crate.
pub fn collections() -> Vec<&'static CollectionDecl> {
    SECTORS
        .iter()
        .flat_map(|s| s.collections)
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
    let personal = geosector_land::load_hook::PersonalDataHook::for_dataset(dataset);
    observations
        .map(|hook| Arc::new(hook) as Arc<dyn LoadHook>)
        .or_else(|| personal.map(|hook| Arc::new(hook) as Arc<dyn LoadHook>))
}

#[cfg(test)]
mod tests {
    use geosector_server::style::{sector_decl, sector_of, sector_style, StyledCollection};

    /// Every sector's MapLibre style, rendered with a fixed base URL and extents, is the one saved
    /// in `tests/data/styles/{sector}.json` (`GEOSECTOR_UPDATE_STYLES=1` writes them again).
    #[test]
    fn sector_styles_are_the_saved_ones() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/styles");
        let all = super::collections();
        let mut sectors: Vec<&'static str> = Vec::new();
        for c in &all {
            if !sectors.contains(&sector_of(c.id)) {
                sectors.push(sector_of(c.id));
            }
        }
        for sector in sectors {
            let styled: Vec<StyledCollection> = all
                .iter()
                .filter(|c| sector_of(c.id) == sector)
                .enumerate()
                .map(|(i, c)| StyledCollection {
                    decl: c,
                    bbox: (i % 2 == 0).then_some([105.0 + i as f64 / 10.0, 20.5, 106.0 + i as f64 / 10.0, 21.5]),
                })
                .collect();
            let style = sector_style("http://example.test:8080", &sector_decl(&super::sectors(), sector), &styled);
            let text = serde_json::to_string_pretty(&style).unwrap() + "\n";
            let path = dir.join(format!("{sector}.json"));
            if std::env::var_os("GEOSECTOR_UPDATE_STYLES").is_some() {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &text).unwrap();
            }
            let saved = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(text, saved, "{sector}: the style changed (GEOSECTOR_UPDATE_STYLES=1 saves it)");
        }
    }
}
