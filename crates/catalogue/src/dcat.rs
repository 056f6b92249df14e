//! A record as DCAT in JSON-LD (brief §12's ISO → DCAT mapping): `dct:identifier` the UUID,
//! title and description in Vietnamese and English (language-tagged), `dcat:theme` the ISO topic,
//! `dcat:keyword`, `dct:publisher` and `dcat:contactPoint` the owning agency, `dct:spatial` the
//! bounding box, `dct:temporal`, `dct:accrualPeriodicity`, `dct:conformsTo` the CRSs,
//! `dct:accessRights` the sharing scope, `dct:license`, `dct:language` Vietnamese,
//! `dct:provenance`, and one `dcat:distribution` per link. The Vietnamese additions go in the
//! access rights' `dct:description` (personal data, rows, last change) and `rdfs:comment` (legal
//! basis).

use serde_json::{json, Value};

use crate::iso::supplemental;
use crate::record::Record;

/// The DCAT JSON-LD document of a record; `base` is this server's base URL.
pub fn document(record: &Record, base: &str) -> Value {
    let url = format!("{base}/collections/catalogue/items/{}", record.id);
    let mut dataset = json!({
        "@context": {
            "dcat": "http://www.w3.org/ns/dcat#",
            "dct": "http://purl.org/dc/terms/",
            "foaf": "http://xmlns.com/foaf/0.1/",
            "vcard": "http://www.w3.org/2006/vcard/ns#",
            "locn": "http://www.w3.org/ns/locn#",
            "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
            "xsd": "http://www.w3.org/2001/XMLSchema#"
        },
        "@id": url,
        "@type": "dcat:Dataset",
        "dct:identifier": record.uuid,
        "dct:title": [
            { "@value": record.title_vi, "@language": "vi" },
            { "@value": record.title_en, "@language": "en" }
        ],
        "dct:description": [
            { "@value": record.description_vi, "@language": "vi" },
            { "@value": record.description_en, "@language": "en" }
        ],
        "dcat:theme": { "@id": format!("https://standards.iso.org/iso/19115/resources/Codelists/gml/MD_TopicCategoryCode.xml#{}", record.topic), "rdfs:label": record.topic },
        "dcat:keyword": record.keywords,
        "dct:publisher": {
            "@type": "foaf:Organization",
            "foaf:name": [
                { "@value": record.agency.name_vi, "@language": "vi" },
                { "@value": record.agency.name_en, "@language": "en" }
            ]
        },
        "dcat:contactPoint": {
            "@type": "vcard:Organization",
            "vcard:fn": record.agency.name_vi,
            "vcard:hasEmail": if record.agency.email.is_empty() { Value::Null } else { json!({ "@id": format!("mailto:{}", record.agency.email) }) }
        },
        "dct:language": { "@id": "http://publications.europa.eu/resource/authority/language/VIE" },
        "dct:accessRights": {
            "@type": "dct:RightsStatement",
            "rdfs:label": record.access.level,
            "dct:description": supplemental(record)
        },
        "dct:accrualPeriodicity": { "@id": geosector_domain::Frequency::from_code(&record.frequency).unwrap_or(geosector_domain::Frequency::Unknown).dcat_uri() },
        "dct:conformsTo": record.crs.iter().map(|c| json!({ "@id": c })).collect::<Vec<_>>(),
        "dct:provenance": { "@type": "dct:ProvenanceStatement", "rdfs:label": if record.origin == "declared" { "derived from the sector's declarations and the live database" } else { "declared in the catalogue file" } },
        "rdfs:comment": record.legal_basis.iter().map(|l| format!("Căn cứ pháp lý / legal basis: {l}")).collect::<Vec<_>>(),
        "dcat:distribution": record.links.iter().map(|l| json!({
            "@type": "dcat:Distribution",
            "dct:title": l.title,
            "dcat:accessURL": { "@id": l.absolute(base) },
            "dcat:mediaType": l.media_type,
            "dct:format": l.protocol
        })).collect::<Vec<_>>(),
    });
    if !record.licence.is_empty() {
        dataset["dct:license"] = json!({ "@type": "dct:LicenseDocument", "rdfs:label": record.licence });
    }
    if let Some(b) = record.bbox {
        dataset["dct:spatial"] = json!({
            "@type": "dct:Location",
            "dcat:bbox": {
                "@value": format!("POLYGON(({0} {1},{2} {1},{2} {3},{0} {3},{0} {1}))", b[0], b[1], b[2], b[3]),
                "@type": "http://www.opengis.net/ont/geosparql#wktLiteral"
            }
        });
    }
    if let Some((start, end)) = &record.time {
        let mut period = json!({ "@type": "dct:PeriodOfTime" });
        if let Some(s) = start {
            period["dcat:startDate"] =
                json!({ "@value": s, "@type": if s.len() == 10 { "xsd:date" } else { "xsd:dateTime" } });
        }
        if let Some(e) = end {
            period["dcat:endDate"] =
                json!({ "@value": e, "@type": if e.len() == 10 { "xsd:date" } else { "xsd:dateTime" } });
        }
        dataset["dct:temporal"] = period;
    }
    if let Some(updated) = &record.updated {
        dataset["dct:modified"] = json!({ "@value": updated, "@type": "xsd:dateTime" });
    }
    dataset
}
