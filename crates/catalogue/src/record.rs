//! A catalogue record: what the catalogue knows of one dataset, published collection or
//! external dataset, in one language-neutral structure from which the OGC API - Records GeoJSON,
//! the HTML page, ISO 19139 and DCAT are all written. Links whose `href` begins with `/` point at
//! this server and get its base URL when written out.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Its id in URLs: `collection.<collection id>`, `dataset.<dataset id>`, or an external
    /// record's declared id.
    pub id: String,
    /// A UUID derived from the id (stable across rebuilds and servers): ISO `fileIdentifier`.
    pub uuid: String,
    /// The resource type (`dataset`, `collection`, or an external record's ISO scope code).
    #[serde(rename = "type")]
    pub kind: String,
    /// Where it comes from: `declared` (sectors and live data) or `external` (the catalogue file).
    pub origin: String,
    /// The sector it belongs to, when declared.
    pub sector: Option<String>,
    /// Title in Vietnamese.
    pub title_vi: String,
    /// Title in English.
    pub title_en: String,
    /// Description in Vietnamese.
    pub description_vi: String,
    /// Description in English.
    pub description_en: String,
    /// The owning agency.
    pub agency: Agency,
    /// ISO 19115 topic category code.
    pub topic: String,
    /// Keywords.
    pub keywords: Vec<String>,
    /// Spatial extent in CRS84 (`[min lon, min lat, max lon, max lat]`).
    pub bbox: Option<[f64; 4]>,
    /// Temporal extent: start and end (RFC 3339 or dates; `None` = open).
    pub time: Option<(Option<String>, Option<String>)>,
    /// The CRSs it is served in (URIs); the first is the storage CRS.
    pub crs: Vec<String>,
    /// Its row count.
    pub rows: Option<i64>,
    /// Whether `rows` is PostgreSQL's estimate (large tables) rather than an exact count.
    pub rows_estimated: bool,
    /// When its data last changed (RFC 3339).
    pub updated: Option<String>,
    /// ISO 19115 maintenance frequency code.
    pub frequency: String,
    /// Who may read it and what of it is personal data.
    pub access: Access,
    /// The legal basis of the data.
    pub legal_basis: Vec<String>,
    /// Its licence.
    pub licence: String,
    /// The published collections it describes.
    pub collections: Vec<String>,
    /// Where its data are served.
    pub links: Vec<RecordLink>,
}

/// The agency that owns the data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agency {
    /// Name in Vietnamese.
    pub name_vi: String,
    /// Name in English.
    pub name_en: String,
    /// Its code, when it has one.
    pub code: String,
    /// Contact e-mail.
    pub email: String,
}

/// The access level of a record's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    /// `public` or `restricted` (personal data, reachable only through a grant naming it).
    pub level: String,
    /// The personal-data fields, each with how it is masked for roles that see it masked.
    pub personal: Vec<(String, String)>,
    /// Whether reads are limited to the caller's area (province or commune) when its grant says so.
    pub area_scoped: bool,
    /// Whether callers without credentials may read its items under the access policy in force
    /// (set by the server when it serves the record; `None` when not known, e.g. external data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open: Option<bool>,
}

/// A link of a record: an endpoint its data are served at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordLink {
    /// Target: absolute, or a path on this server (beginning with `/`).
    pub href: String,
    /// Relation (`items`, `http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector`, `enclosure`, …).
    pub rel: String,
    /// Media type.
    #[serde(rename = "type")]
    pub media_type: String,
    /// Title.
    pub title: String,
    /// The protocol, for ISO `CI_OnlineResource/protocol` (`OGC API - Features`, `WWW:LINK`, …).
    pub protocol: String,
}

impl RecordLink {
    /// The absolute URL, given this server's base URL.
    pub fn absolute(&self, base: &str) -> String {
        if self.href.starts_with('/') {
            format!("{base}{}", self.href)
        } else {
            self.href.clone()
        }
    }
}

/// A stable UUID for a record id: the SHA-256 of a namespace and the id, as an RFC 9562 version 8
/// (name-based, custom hash) UUID. The same id gives the same UUID on every server and rebuild.
pub fn stable_uuid(id: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(b"geosector-catalogue-record:");
    hash.update(id.as_bytes());
    let mut b: [u8; 16] = [0; 16];
    b.copy_from_slice(&hash.finalize()[..16]);
    b[6] = (b[6] & 0x0f) | 0x80; // version 8
    b[8] = (b[8] & 0x3f) | 0x80; // variant RFC 9562
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_stable_and_well_formed() {
        let a = stable_uuid("collection.land.parcels");
        assert_eq!(a, stable_uuid("collection.land.parcels"));
        assert_ne!(a, stable_uuid("dataset.land.parcels"));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "8", "{a}");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"), "{a}");
    }
}
