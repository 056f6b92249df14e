//! A record as OGC API - Records Part 1 GeoJSON (`record-core`): `id`, `type: Feature`,
//! `conformsTo`, `time`, `geometry` (the bounding box as a polygon), `properties` (type, title,
//! description, keywords, themes, language, contacts, updated, license, rights, formats and the
//! geosector members: English texts, agency, access, legal basis, rows, CRS) and `links` (the
//! record's own, its alternates and exports, and where its data are served).

use serde_json::{json, Value};

use crate::record::Record;

/// The conformance URI a record states.
pub const RECORD_CORE: &str = "http://www.opengis.net/spec/ogcapi-records-1/1.0/req/record-core";

/// The GeoJSON feature of a record; `items` is the URL of the records collection's items.
pub fn feature(record: &Record, base: &str, items: &str) -> Value {
    let url = format!("{items}/{}", record.id);
    let geometry = record.bbox.map_or(Value::Null, |b| {
        json!({ "type": "Polygon", "coordinates": [[[b[0], b[1]], [b[2], b[1]], [b[2], b[3]], [b[0], b[3]], [b[0], b[1]]]] })
    });
    let time = record.time.as_ref().map_or(
        Value::Null,
        |(a, b)| json!({ "interval": [a.as_deref().unwrap_or(".."), b.as_deref().unwrap_or("..")] }),
    );
    let mut links = vec![
        json!({ "href": url, "rel": "self", "type": "application/geo+json", "title": "this record" }),
        json!({ "href": format!("{url}?f=html"), "rel": "alternate", "type": "text/html", "title": "this record as HTML" }),
        json!({ "href": format!("{url}?f=iso"), "rel": "alternate", "type": "application/vnd.iso.19139+xml", "title": "ISO 19139 (QCVN 42:2020)" }),
        json!({ "href": format!("{url}?f=dcat"), "rel": "alternate", "type": "application/ld+json", "title": "DCAT (JSON-LD)" }),
        json!({ "href": items, "rel": "collection", "type": "application/json", "title": "the catalogue" }),
    ];
    links.extend(
        record
            .links
            .iter()
            .map(|l| json!({ "href": l.absolute(base), "rel": l.rel, "type": l.media_type, "title": l.title })),
    );
    let contact_email =
        if record.agency.email.is_empty() { json!([]) } else { json!([{ "value": record.agency.email }]) };
    json!({
        "id": record.id,
        "type": "Feature",
        "conformsTo": [RECORD_CORE],
        "time": time,
        "geometry": geometry,
        "properties": {
            "type": record.kind,
            "title": record.title_vi,
            "description": record.description_vi,
            "title_en": record.title_en,
            "description_en": record.description_en,
            "keywords": record.keywords,
            "themes": [{
                "concepts": [{ "id": record.topic }],
                "scheme": "https://standards.iso.org/iso/19139/resources/gmxCodelists.xml#MD_TopicCategoryCode"
            }],
            "language": { "code": "vi", "name": "Tiếng Việt" },
            "languages": [{ "code": "vi", "name": "Tiếng Việt" }, { "code": "en", "name": "English" }],
            "contacts": [{
                "organization": record.agency.name_vi,
                "organization_en": record.agency.name_en,
                "identifier": record.agency.code,
                "emails": contact_email,
                "roles": ["owner", "pointOfContact"]
            }],
            "updated": record.updated,
            "license": record.licence,
            "rights": record.access.level,
            "accessLevel": record.access.level,
            "personalData": record.access.personal.iter().map(|(f, m)| json!({ "field": f, "mask": m })).collect::<Vec<_>>(),
            "areaScoped": record.access.area_scoped,
            "openToAnonymous": record.access.open,
            "legalBasis": record.legal_basis,
            "updateFrequency": record.frequency,
            "rowCount": record.rows,
            "rowCountEstimated": record.rows_estimated,
            "crs": record.crs,
            "collections": record.collections,
            "uuid": record.uuid,
            "externalIds": [{ "scheme": "urn:uuid", "value": format!("urn:uuid:{}", record.uuid) }],
            "origin": record.origin,
            "sector": record.sector,
            "formats": record.links.iter().map(|l| l.media_type.clone()).collect::<std::collections::BTreeSet<_>>(),
        },
        "links": links,
    })
}
