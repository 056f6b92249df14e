//! The catalogue file (`geosector serve --catalogue FILE`, TOML; docs/catalogue.md): records of
//! datasets kept elsewhere (another agency's server, a download), and overrides of a sector's
//! owning agency, which the brief leaves to each deployment. Unknown keys are errors, and every
//! error names the file and the record.

use std::collections::BTreeMap;

use geosector_domain::{Frequency, Topic};
use serde::Deserialize;

use crate::record::{stable_uuid, Access, Agency, Record, RecordLink};
use crate::CatalogueError;

/// The catalogue file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueFile {
    /// A sector's owning agency, by sector id.
    #[serde(default)]
    pub agencies: BTreeMap<String, AgencyOverride>,
    /// External records.
    #[serde(default, rename = "record")]
    pub records: Vec<ExternalRecord>,
}

/// An agency, as the file gives it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgencyOverride {
    /// Name in Vietnamese.
    pub name_vi: String,
    /// Name in English.
    pub name_en: String,
    /// Code.
    #[serde(default)]
    pub code: String,
    /// Contact e-mail.
    #[serde(default)]
    pub email: String,
}

/// A record of a dataset kept elsewhere.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalRecord {
    /// Its id (letters, digits, `.`, `-`, `_`; not beginning with `collection.` or `dataset.`).
    pub id: String,
    /// ISO scope code (`dataset`, `series`, `service`, `document`, …).
    #[serde(default = "dataset", rename = "type")]
    pub kind: String,
    /// Title in Vietnamese.
    pub title_vi: String,
    /// Title in English.
    pub title_en: String,
    /// Description in Vietnamese.
    #[serde(default)]
    pub description_vi: String,
    /// Description in English.
    #[serde(default)]
    pub description_en: String,
    /// Owning agency.
    pub agency: AgencyOverride,
    /// ISO 19115 topic category code.
    pub topic: String,
    /// Keywords.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Spatial extent in CRS84.
    pub bbox: Option<[f64; 4]>,
    /// Temporal extent: start and end (dates or RFC 3339; `..` open).
    pub time: Option<[String; 2]>,
    /// CRS URIs.
    #[serde(default)]
    pub crs: Vec<String>,
    /// Last change (RFC 3339 or a date).
    pub updated: Option<String>,
    /// ISO 19115 maintenance frequency code.
    #[serde(default = "unknown")]
    pub frequency: String,
    /// `public` or `restricted`.
    #[serde(default = "public")]
    pub access: String,
    /// Personal-data fields.
    #[serde(default)]
    pub personal: Vec<String>,
    /// Legal basis.
    #[serde(default)]
    pub legal_basis: Vec<String>,
    /// Licence.
    #[serde(default)]
    pub licence: String,
    /// Row count, when known.
    pub rows: Option<i64>,
    /// Where the data are.
    #[serde(default)]
    pub links: Vec<RecordLink>,
}

fn dataset() -> String {
    "dataset".into()
}
fn unknown() -> String {
    "unknown".into()
}
fn public() -> String {
    "public".into()
}

fn open_bound(s: &str) -> Option<String> {
    (!s.is_empty() && s != "..").then(|| s.to_owned())
}

impl CatalogueFile {
    /// Reads and checks a catalogue file.
    ///
    /// # Errors
    /// A message naming the file, and the record and field at fault.
    pub fn read(path: &std::path::Path) -> Result<CatalogueFile, CatalogueError> {
        let at = |m: String| CatalogueError::File(format!("{}: {m}", path.display()));
        let text = std::fs::read_to_string(path).map_err(|e| at(e.to_string()))?;
        let file: CatalogueFile = toml::from_str(&text).map_err(|e| at(e.to_string()))?;
        file.check().map_err(at)?;
        Ok(file)
    }

    fn check(&self) -> Result<(), String> {
        for (i, r) in self.records.iter().enumerate() {
            let at = |m: &str| format!("record {} ({}): {m}", i + 1, r.id);
            let good = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
            if r.id.is_empty() || !r.id.chars().all(good) {
                return Err(at("id: use letters, digits, '.', '-' and '_' only"));
            }
            if r.id.starts_with("collection.") || r.id.starts_with("dataset.") {
                return Err(at("id: collection.* and dataset.* are the declared records' ids"));
            }
            if self.records[..i].iter().any(|o| o.id == r.id) {
                return Err(at("id: given twice"));
            }
            if Topic::from_code(&r.topic).is_none() {
                return Err(at("topic: not an ISO 19115 topic category code (e.g. planningCadastre)"));
            }
            if Frequency::from_code(&r.frequency).is_none() {
                return Err(at("frequency: not an ISO 19115 maintenance frequency code (e.g. annually)"));
            }
            if !matches!(r.access.as_str(), "public" | "restricted") {
                return Err(at("access: public or restricted"));
            }
            if let Some(b) = r.bbox {
                let inside = (-180.0..=180.0).contains(&b[0])
                    && (-180.0..=180.0).contains(&b[2])
                    && (-90.0..=90.0).contains(&b[1])
                    && (-90.0..=90.0).contains(&b[3]);
                if !inside || b[1] > b[3] || b[0] > b[2] {
                    return Err(at("bbox: [min lon, min lat, max lon, max lat] in CRS84"));
                }
            }
            for bound in r.time.iter().flatten() {
                let ok = open_bound(bound).is_none_or(|t| {
                    chrono::DateTime::parse_from_rfc3339(&t).is_ok()
                        || chrono::NaiveDate::parse_from_str(&t, "%Y-%m-%d").is_ok()
                });
                if !ok {
                    return Err(at(&format!("time: \"{bound}\" is neither a date nor an RFC 3339 date-time")));
                }
            }
        }
        Ok(())
    }

    /// The external records.
    pub fn records(&self) -> Vec<Record> {
        self.records
            .iter()
            .map(|r| Record {
                id: r.id.clone(),
                uuid: stable_uuid(&r.id),
                kind: r.kind.clone(),
                origin: "external".to_owned(),
                sector: None,
                title_vi: r.title_vi.clone(),
                title_en: r.title_en.clone(),
                description_vi: r.description_vi.clone(),
                description_en: r.description_en.clone(),
                agency: r.agency.to_agency(),
                topic: r.topic.clone(),
                keywords: r.keywords.clone(),
                bbox: r.bbox,
                time: r.time.as_ref().map(|[a, b]| (open_bound(a), open_bound(b))),
                crs: r.crs.clone(),
                rows: r.rows,
                rows_estimated: false,
                updated: r.updated.clone(),
                frequency: r.frequency.clone(),
                access: Access {
                    level: r.access.clone(),
                    personal: r.personal.iter().map(|p| (p.clone(), "hidden".to_owned())).collect(),
                    area_scoped: false,
                    open: None,
                },
                legal_basis: r.legal_basis.clone(),
                licence: r.licence.clone(),
                collections: Vec::new(),
                links: r.links.clone(),
            })
            .collect()
    }
}

impl AgencyOverride {
    /// As a record's agency.
    pub fn to_agency(&self) -> Agency {
        Agency {
            name_vi: self.name_vi.clone(),
            name_en: self.name_en.clone(),
            code: self.code.clone(),
            email: self.email.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<CatalogueFile, String> {
        let file: CatalogueFile = toml::from_str(text).map_err(|e| e.to_string())?;
        file.check()?;
        Ok(file)
    }

    const GOOD: &str = r#"
[agencies.land]
name_vi = "Sở Nông nghiệp và Môi trường Hà Nội"
name_en = "Hanoi Department of Agriculture and Environment"

[[record]]
id = "hn.quy-hoach"
title_vi = "Quy hoạch sử dụng đất Hà Nội"
title_en = "Hanoi land-use plan"
topic = "planningCadastre"
bbox = [105.3, 20.5, 106.0, 21.4]
time = ["2021-01-01", ".."]
agency = { name_vi = "UBND Thành phố Hà Nội", name_en = "Hanoi People's Committee" }
links = [{ href = "https://example.invalid/qh.zip", rel = "enclosure", type = "application/zip", title = "Shapefile", protocol = "WWW:DOWNLOAD" }]
"#;

    #[test]
    fn a_file_gives_records_and_agencies() {
        let file = parse(GOOD).unwrap();
        let records = file.records();
        assert_eq!(records[0].kind, "dataset");
        assert_eq!(records[0].time, Some((Some("2021-01-01".into()), None)));
        assert_eq!(file.agencies["land"].name_en, "Hanoi Department of Agriculture and Environment");
    }

    #[test]
    fn errors_name_the_record_and_field() {
        let bad = GOOD.replace("planningCadastre", "cadastre");
        assert!(parse(&bad).unwrap_err().contains("record 1 (hn.quy-hoach): topic"));
        let bad = GOOD.replace("hn.quy-hoach", "dataset.x");
        assert!(parse(&bad).unwrap_err().contains("id"));
        let bad = GOOD.replace("[105.3, 20.5, 106.0, 21.4]", "[106.3, 20.5, 106.0, 21.4]");
        assert!(parse(&bad).unwrap_err().contains("bbox"));
        assert!(parse(&GOOD.replace("title_en", "titel_en")).unwrap_err().contains("titel_en"));
    }
}
