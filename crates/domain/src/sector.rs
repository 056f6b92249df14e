//! The declaration of a sector as a whole: its id (the part of its collection ids before the
//! dot), its titles, its importable datasets and its published collections. Each sector crate
//! exports one `SECTOR`; the catalogue of the `geosector` crate lists them, one line per sector,
//! and everything else (import, registry, styles, viewer) is derived from that list.

use crate::catalogue::CatalogueDecl;
use crate::collection::CollectionDecl;
use crate::dataset::Dataset;
use crate::report::ReportDecl;

/// A sector.
#[derive(Debug, Clone, Copy)]
pub struct SectorDecl {
    /// Id, e.g. `land` (collections `land.parcels`, `land.map_sheets`).
    pub id: &'static str,
    /// Title in Vietnamese (styles, the viewer's layer groups).
    pub title_vi: &'static str,
    /// Title in English.
    pub title_en: &'static str,
    /// Its importable datasets.
    pub datasets: &'static [Dataset],
    /// Its published collections.
    pub collections: &'static [CollectionDecl],
    /// The change types its changesets may state (code, title), e.g. a land split/merge or a
    /// licence extension; the server accepts these and the operator's additions.
    pub change_types: &'static [(&'static str, &'static str)],
    /// What the data catalogue says of its data beyond the declarations (agency, topic,
    /// frequency, legal basis, licence); `None`: the catalogue's neutral defaults.
    pub catalogue: Option<&'static CatalogueDecl>,
    /// Its statistics forms, served at `/statistics/{id}/{form}` (e.g. land's TT 08/2024 forms).
    pub reports: &'static [ReportDecl],
}

impl SectorDecl {
    /// A sector known only by its id (titled by it), with nothing declared.
    pub const fn untitled(id: &'static str) -> SectorDecl {
        SectorDecl {
            id,
            title_vi: id,
            title_en: id,
            datasets: &[],
            collections: &[],
            change_types: &[],
            catalogue: None,
            reports: &[],
        }
    }
}
