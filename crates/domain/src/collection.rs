//! Declarations of published collections (OGC API - Features): which dataset a collection
//! serves, its titles and descriptions in Vietnamese and English, its keywords, the properties it
//! publishes, its time property, its map style and its time series. The server builds its
//! registry from these; restricted schemas are never declared.

use crate::access::AccessDecl;
use crate::dataset::{Dataset, Overview};
use crate::series::SeriesDecl;
use crate::style::StyleDecl;
use crate::value::FieldType;

/// A published collection, declared by a sector crate.
#[derive(Debug, Clone, Copy)]
pub struct CollectionDecl {
    /// Collection id in URLs, e.g. `land.parcels`.
    pub id: &'static str,
    /// The dataset (table, fields, geometry) it serves.
    pub dataset: &'static Dataset,
    /// Title in Vietnamese.
    pub title_vi: &'static str,
    /// Title in English.
    pub title_en: &'static str,
    /// Description in Vietnamese.
    pub description_vi: &'static str,
    /// Description in English.
    pub description_en: &'static str,
    /// Keywords.
    pub keywords: &'static [&'static str],
    /// Dataset fields not published (by column name).
    pub hidden: &'static [&'static str],
    /// Further published columns that are not import fields (computed or generated).
    pub extra: &'static [(&'static str, FieldType)],
    /// The column that gives a feature its time (for `datetime` filters), if any.
    pub datetime: Option<&'static str>,
    /// When a feature's time is an interval, the column where it ends (`datetime` is where it
    /// starts; NULL = still running): `datetime` then selects the features whose interval meets
    /// the requested instant or interval, e.g. the administrative units in force on a date.
    pub datetime_end: Option<TimeEnd>,
    /// How its features are drawn in vector tiles.
    pub tiles: TileDecl,
    /// How it is drawn on the map (`None`: the default style); only for collections with
    /// geometry.
    pub style: Option<&'static StyleDecl>,
    /// The time series of its features (`None`: it has none).
    pub series: Option<&'static SeriesDecl>,
    /// What the access policy needs: restricted or public, where its rows lie, its personal
    /// properties.
    pub access: AccessDecl,
    /// Features of other collections related to each of its features, served at
    /// `/collections/{id}/items/{featureId}/{relation}` (e.g. a parcel's owners).
    pub relations: &'static [RelationDecl],
}

/// The end of a feature's time interval (see [`CollectionDecl::datetime_end`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeEnd {
    /// The column (same type as the start column; NULL = open).
    pub column: &'static str,
    /// Whether the end is excluded (`valid_to` of a unit replaced that day) or included (the
    /// last day of a permit).
    pub exclusive: bool,
}

/// Features of another collection related to a feature: those whose `keys` equal the feature's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelationDecl {
    /// Its name in URLs (`owners`).
    pub name: &'static str,
    /// The related collection's id (read with the caller's access to it).
    pub collection: &'static str,
    /// Pairs of this collection's property and the related collection's property that must be
    /// equal.
    pub keys: &'static [(&'static str, &'static str)],
    /// What it is, in English (OpenAPI and link titles).
    pub title: &'static str,
}

/// How a collection is drawn in vector tiles.
///
/// Tiles stay lean: they carry the properties a map styles and labels with, and every feature
/// its id, so a click can fetch the full record from the items endpoint.
#[derive(Debug, Clone, Copy)]
pub struct TileDecl {
    /// The published properties tiles carry (`None`: all of them).
    pub properties: Option<&'static [&'static str]>,
    /// The lowest zoom at which features are drawn one by one. Below it the layer is drawn from
    /// its overview, or not at all.
    pub detail_min_zoom: u8,
    /// A generalised representation for the zooms below `detail_min_zoom`: the dataset's
    /// overview cells (the importer keeps the same declaration in step after a swap).
    pub overview: Option<Overview>,
    /// A stored simplified copy of the geometry drawn instead of it at the lowest zooms, if any.
    pub low_zoom: Option<LowZoom>,
}

/// A stored, simplified Web Mercator copy of a collection's geometry (clockwise shells, like the
/// `<geometry>_3857` twin), drawn below a zoom instead of the full geometry: large detailed
/// boundaries (provinces, communes) then cost a tile what their simplified copy costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LowZoom {
    /// The column (kept by the table's migration, e.g. a generated column).
    pub column: &'static str,
    /// Tiles of lower zooms read it.
    pub below_zoom: u8,
}

impl TileDecl {
    /// Every property, every feature at every zoom (sub-pixel features are still dropped).
    pub const ALL: TileDecl = TileDecl { properties: None, detail_min_zoom: 0, overview: None, low_zoom: None };
}

/// One published property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Property {
    /// Name in responses (the column name).
    pub name: &'static str,
    /// Value type.
    pub kind: FieldType,
}

impl CollectionDecl {
    /// The published properties, in order: the dataset's fields less the hidden ones, then the
    /// extra columns.
    pub fn properties(&self) -> Vec<Property> {
        self.dataset
            .fields
            .iter()
            .filter(|f| !self.hidden.contains(&f.column))
            .map(|f| Property { name: f.column, kind: f.kind })
            .chain(self.extra.iter().map(|(name, kind)| Property { name, kind: *kind }))
            .collect()
    }

    /// The type of the time property, when there is one and it is published or a field.
    pub fn datetime_kind(&self) -> Option<FieldType> {
        let column = self.datetime?;
        self.properties().into_iter().find(|p| p.name == column).map(|p| p.kind)
    }
}
