//! Records from declarations: one per published collection and one per importable dataset, from
//! the sector's [`SectorDecl`] (titles, descriptions, keywords, access declarations, catalogue
//! metadata) and the live facts of its table ([`TableFacts`]: row count, extents, last change).
//! Pure: the facts are read elsewhere ([`crate::live`]).
//!
//! The links of a collection's record come from [`ENDPOINTS`], one line per kind of endpoint
//! with the condition under which a collection has it: a new endpoint (WFS, a download package)
//! is one more line.

use geosector_domain::{AccessDecl, CatalogueDecl, CollectionDecl, Dataset, Frequency, Mask, SectorDecl, Topic};

use crate::record::{stable_uuid, Access, Agency, Record, RecordLink};

/// What the live database says of one table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableFacts {
    /// Its data version (migration 0006).
    pub version: i64,
    /// When it last changed (RFC 3339).
    pub changed_at: Option<String>,
    /// Row count.
    pub rows: Option<i64>,
    /// Whether `rows` is an estimate.
    pub rows_estimated: bool,
    /// Spatial extent in CRS84.
    pub bbox: Option<[f64; 4]>,
    /// Temporal extent of the time property.
    pub time: Option<(Option<String>, Option<String>)>,
}

/// A kind of endpoint a collection's data are served at.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    /// Path on this server, `{id}` standing for the collection id.
    pub path: &'static str,
    /// Link relation.
    pub rel: &'static str,
    /// Media type.
    pub media_type: &'static str,
    /// Title.
    pub title: &'static str,
    /// Protocol (ISO `CI_OnlineResource/protocol`).
    pub protocol: &'static str,
    /// Whether a collection has it.
    pub applies: fn(&CollectionDecl) -> bool,
}

fn always(_: &CollectionDecl) -> bool {
    true
}

fn with_geometry(c: &CollectionDecl) -> bool {
    c.dataset.geometry.is_some()
}

/// The endpoints of a published collection, in the order records list them.
pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        path: "/collections/{id}",
        rel: "collection",
        media_type: "application/json",
        title: "OGC API - Features collection",
        protocol: "OGC API - Features",
        applies: always,
    },
    Endpoint {
        path: "/collections/{id}/items",
        rel: "items",
        media_type: "application/geo+json",
        title: "Đối tượng / Features (GeoJSON)",
        protocol: "OGC API - Features",
        applies: always,
    },
    Endpoint {
        path: "/collections/{id}/items?f=html",
        rel: "items",
        media_type: "text/html",
        title: "Đối tượng / Features (HTML)",
        protocol: "WWW:LINK",
        applies: always,
    },
    Endpoint {
        path: "/collections/{id}/items?limit=10000",
        rel: "enclosure",
        media_type: "application/geo+json",
        title: "Tải về / Download (GeoJSON, paged by next links)",
        protocol: "WWW:DOWNLOAD",
        applies: always,
    },
    Endpoint {
        path: "/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=gs:{id}",
        rel: "alternate",
        media_type: "application/gml+xml; version=3.2",
        title: "Dịch vụ WFS / WFS 2.0 (GML 3.2)",
        protocol: "OGC:WFS",
        applies: always,
    },
    Endpoint {
        path: "/collections/{id}/tiles",
        rel: "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
        media_type: "application/json",
        title: "Ô bản đồ vector / Vector tiles (OGC API - Tiles)",
        protocol: "OGC API - Tiles",
        applies: with_geometry,
    },
    Endpoint {
        path: "/collections/{id}/tiles/WebMercatorQuad/tilejson.json",
        rel: "describedby",
        media_type: "application/json",
        title: "TileJSON",
        protocol: "TileJSON",
        applies: with_geometry,
    },
];

/// The metadata of a sector that declares none.
pub const NEUTRAL: CatalogueDecl = CatalogueDecl {
    agency_vi: "Cơ quan quản lý dữ liệu",
    agency_en: "Data owner",
    agency_code: "",
    email: "",
    topic: Topic::Location,
    keywords: &[],
    legal_basis: &[],
    licence: "",
    frequency: Frequency::Unknown,
    entries: &[],
};

/// The CRS URIs a record lists for data with geometry: the storage CRS (CRS84) and the others
/// the server offers, given by the caller.
#[derive(Debug, Clone, Default)]
pub struct Crs {
    /// URIs, storage CRS first.
    pub with_geometry: Vec<String>,
}

fn mask_name(mask: Mask) -> &'static str {
    match mask {
        Mask::KeepEnds => "keep-ends",
        Mask::Initials => "initials",
        Mask::Year => "year",
        Mask::Hidden => "hidden",
    }
}

fn access_of(decls: &[&AccessDecl]) -> Access {
    let restricted = decls.iter().any(|a| a.restricted);
    let mut personal: Vec<(String, String)> = Vec::new();
    for decl in decls {
        for (name, mask) in decl.personal {
            if !personal.iter().any(|(n, _)| n == name) {
                personal.push(((*name).to_owned(), mask_name(*mask).to_owned()));
            }
        }
    }
    Access {
        level: if restricted { "restricted" } else { "public" }.to_owned(),
        personal,
        area_scoped: decls.iter().any(|a| a.area.is_some()),
        open: None,
    }
}

fn merged_keywords(parts: &[&[&str]]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in parts {
        for k in *part {
            if !out.iter().any(|o| o == k) {
                out.push((*k).to_owned());
            }
        }
    }
    out
}

fn agency(meta: &CatalogueDecl) -> Agency {
    Agency {
        name_vi: meta.agency_vi.to_owned(),
        name_en: meta.agency_en.to_owned(),
        code: meta.agency_code.to_owned(),
        email: meta.email.to_owned(),
    }
}

fn links_of(collection: &CollectionDecl) -> Vec<RecordLink> {
    ENDPOINTS
        .iter()
        .filter(|e| (e.applies)(collection))
        .map(|e| RecordLink {
            href: e.path.replace("{id}", collection.id),
            rel: e.rel.to_owned(),
            media_type: e.media_type.to_owned(),
            title: e.title.to_owned(),
            protocol: e.protocol.to_owned(),
        })
        .collect()
}

/// The record of a published collection.
pub fn collection_record(sector: &SectorDecl, c: &CollectionDecl, facts: &TableFacts, crs: &Crs) -> Record {
    let meta = sector.catalogue.unwrap_or(&NEUTRAL);
    let entry = meta.entry(c.id);
    let id = format!("collection.{}", c.id);
    Record {
        uuid: stable_uuid(&id),
        id,
        kind: "collection".to_owned(),
        origin: "declared".to_owned(),
        sector: Some(sector.id.to_owned()),
        title_vi: c.title_vi.to_owned(),
        title_en: c.title_en.to_owned(),
        description_vi: c.description_vi.to_owned(),
        description_en: c.description_en.to_owned(),
        agency: agency(meta),
        topic: entry.and_then(|e| e.topic).unwrap_or(meta.topic).code().to_owned(),
        keywords: merged_keywords(&[c.keywords, entry.map_or(&[], |e| e.keywords), meta.keywords]),
        bbox: facts.bbox,
        time: facts.time.clone(),
        crs: if c.dataset.geometry.is_some() { crs.with_geometry.clone() } else { Vec::new() },
        rows: facts.rows,
        rows_estimated: facts.rows_estimated,
        updated: facts.changed_at.clone(),
        frequency: entry.and_then(|e| e.frequency).unwrap_or(meta.frequency).code().to_owned(),
        access: access_of(&[&c.access]),
        legal_basis: merged_keywords(&[meta.legal_basis, entry.map_or(&[], |e| e.legal_basis)]),
        licence: meta.licence.to_owned(),
        collections: vec![c.id.to_owned()],
        links: links_of(c),
    }
}

/// The record of an importable dataset, served by these collections (possibly none).
pub fn dataset_record(
    sector: &SectorDecl,
    d: &Dataset,
    served_by: &[&CollectionDecl],
    facts: &TableFacts,
    crs: &Crs,
) -> Record {
    let meta = sector.catalogue.unwrap_or(&NEUTRAL);
    let entry = meta.entry(d.id);
    let first = served_by.first();
    let id = format!("dataset.{}", d.id);
    let pick = |over: Option<&'static str>, from: Option<&'static str>, fallback: &str| {
        over.or(from).unwrap_or(fallback).to_owned()
    };
    let mut keywords: Vec<&[&str]> = served_by.iter().map(|c| c.keywords).collect();
    keywords.push(entry.map_or(&[], |e| e.keywords));
    keywords.push(meta.keywords);
    let access_decls: Vec<&AccessDecl> = served_by.iter().map(|c| &c.access).collect();
    let mut links: Vec<RecordLink> = Vec::new();
    for c in served_by {
        links.extend(links_of(c));
    }
    Record {
        uuid: stable_uuid(&id),
        id,
        kind: "dataset".to_owned(),
        origin: "declared".to_owned(),
        sector: Some(sector.id.to_owned()),
        title_vi: pick(entry.and_then(|e| e.title_vi), first.map(|c| c.title_vi), d.id),
        title_en: pick(entry.and_then(|e| e.title_en), first.map(|c| c.title_en), d.id),
        description_vi: pick(entry.and_then(|e| e.description_vi), first.map(|c| c.description_vi), d.description),
        description_en: d.description.to_owned(),
        agency: agency(meta),
        topic: entry.and_then(|e| e.topic).unwrap_or(meta.topic).code().to_owned(),
        keywords: merged_keywords(&keywords),
        bbox: facts.bbox,
        time: facts.time.clone(),
        crs: if d.geometry.is_some() { crs.with_geometry.clone() } else { Vec::new() },
        rows: facts.rows,
        rows_estimated: facts.rows_estimated,
        updated: facts.changed_at.clone(),
        frequency: entry.and_then(|e| e.frequency).unwrap_or(meta.frequency).code().to_owned(),
        access: access_of(&access_decls),
        legal_basis: merged_keywords(&[meta.legal_basis, entry.map_or(&[], |e| e.legal_basis)]),
        licence: meta.licence.to_owned(),
        collections: served_by.iter().map(|c| c.id.to_owned()).collect(),
        links,
    }
}

/// `schema.table` of a dataset: the key of its facts.
pub fn table_key(d: &Dataset) -> String {
    format!("{}.{}", d.schema, d.table)
}

/// Every declared record: each sector's published collections (among `published`, the ids the
/// server serves) and datasets, with the facts of their tables (`facts(table key)`).
pub fn declared<'a>(
    sectors: &[&'static SectorDecl],
    published: &[&str],
    facts: impl Fn(&str) -> Option<&'a TableFacts>,
    crs: &Crs,
) -> Vec<Record> {
    let empty = TableFacts::default();
    let mut out = Vec::new();
    for sector in sectors {
        let served: Vec<&CollectionDecl> = sector.collections.iter().filter(|c| published.contains(&c.id)).collect();
        for c in &served {
            out.push(collection_record(sector, c, facts(&table_key(c.dataset)).unwrap_or(&empty), crs));
        }
        for d in sector.datasets {
            let by: Vec<&CollectionDecl> = served.iter().copied().filter(|c| c.dataset.id == d.id).collect();
            out.push(dataset_record(sector, d, &by, facts(&table_key(d)).unwrap_or(&empty), crs));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use geosector_domain::{CatalogueEntry, Field, FieldType, GeometrySpec, TileDecl};

    const FIELDS: &[Field] = &[Field::new("name", &["name"], FieldType::Text, false)];
    const D: Dataset = Dataset {
        id: "sea.buoys",
        description: "Buoys at sea",
        schema: "sea",
        table: "buoys",
        fields: FIELDS,
        geometry: Some(GeometrySpec::point()),
        conflict_key: None,
        prepare_sql: None,
        partition: None,
        rules: &[],
        history: None,
    };
    const C: CollectionDecl = CollectionDecl {
        id: "sea.buoys",
        dataset: &D,
        title_vi: "Phao biển",
        title_en: "Buoys",
        description_vi: "Phao đo sóng",
        description_en: "Wave buoys",
        keywords: &["phao"],
        hidden: &[],
        extra: &[],
        datetime: None,
        datetime_end: None,
        tiles: TileDecl::ALL,
        style: None,
        series: None,
        access: AccessDecl { restricted: false, area: None, personal: &[("name", Mask::Initials)] },
        relations: &[],
    };
    const META: CatalogueDecl = CatalogueDecl {
        keywords: &["biển"],
        legal_basis: &["Luật Biển Việt Nam 18/2012/QH13"],
        entries: &[CatalogueEntry { topic: Some(Topic::Oceans), ..CatalogueEntry::new("sea.buoys") }],
        ..NEUTRAL
    };
    const SECTOR: SectorDecl = SectorDecl {
        id: "sea",
        title_vi: "Biển",
        title_en: "Sea",
        datasets: &[D],
        collections: &[C],
        change_types: &[],
        catalogue: Some(&META),
        reports: &[],
    };

    #[test]
    fn a_collection_and_its_dataset_become_two_linked_records() {
        let facts = TableFacts { rows: Some(3), bbox: Some([105.0, 20.0, 106.0, 21.0]), ..TableFacts::default() };
        let crs = Crs { with_geometry: vec!["http://www.opengis.net/def/crs/OGC/1.3/CRS84".into()] };
        let records = declared(&[&SECTOR], &["sea.buoys"], |t| (t == "sea.buoys").then_some(&facts), &crs);
        let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["collection.sea.buoys", "dataset.sea.buoys"]);
        let c = &records[0];
        assert_eq!(c.topic, "oceans");
        assert_eq!(c.keywords, ["phao", "biển"]);
        assert_eq!(c.access.personal, [("name".to_owned(), "initials".to_owned())]);
        assert_eq!(c.rows, Some(3));
        assert!(c.links.iter().any(|l| l.href == "/collections/sea.buoys/tiles"));
        let d = &records[1];
        assert_eq!(d.title_vi, "Phao biển");
        assert_eq!(d.collections, ["sea.buoys"]);
        // Unpublished: the dataset stays, without links; the collection record goes.
        let records = declared(&[&SECTOR], &[], |_| None, &crs);
        assert_eq!(records.len(), 1);
        assert!(records[0].links.is_empty());
    }
}
