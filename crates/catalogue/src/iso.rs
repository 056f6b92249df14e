//! A record as ISO 19139 XML (`gmd:MD_Metadata`, the ISO 19115 encoding QCVN 42:2020/BTNMT's
//! metadata profile is built on): metadata language `vie`, UTF-8, the record's stable UUID as
//! `fileIdentifier`, English titles and abstracts as `PT_FreeText` in an `eng` locale, the owning
//! agency as point of contact, topic category, keywords, the bounding box and temporal extent,
//! the CRSs, the update frequency, the access level as legal constraints (sharing scope: mở /
//! hạn chế), every link as an online resource, and the Vietnamese additions (legal basis,
//! personal-data fields, row count, last change) as `supplementalInformation`. Elements come in
//! the order the ISO 19139 schemas require (the suite validates the output against them).

use std::fmt::Write as _;

use crate::record::Record;

const CODELISTS: &str = "http://standards.iso.org/iso/19139/resources/gmxCodelists.xml";

/// Escapes text for XML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

fn text(value: &str) -> String {
    format!("<gco:CharacterString>{}</gco:CharacterString>", escape(value))
}

/// A Vietnamese text with its English translation in the `eng` locale.
fn bilingual(element: &str, vi: &str, en: &str) -> String {
    if en.is_empty() || en == vi {
        return format!("<gmd:{element}>{}</gmd:{element}>", text(vi));
    }
    format!(
        "<gmd:{element} xsi:type=\"gmd:PT_FreeText_PropertyType\">{}<gmd:PT_FreeText><gmd:textGroup>\
         <gmd:LocalisedCharacterString locale=\"#locale-eng\">{}</gmd:LocalisedCharacterString>\
         </gmd:textGroup></gmd:PT_FreeText></gmd:{element}>",
        text(vi),
        escape(en)
    )
}

fn code(list: &str, value: &str) -> String {
    format!("<gmd:{list} codeList=\"{CODELISTS}#{list}\" codeListValue=\"{v}\">{v}</gmd:{list}>", v = escape(value))
}

/// A date or date-time as its gco element.
fn date(value: &str) -> String {
    if value.len() == 10 {
        format!("<gco:Date>{}</gco:Date>", escape(value))
    } else {
        format!("<gco:DateTime>{}</gco:DateTime>", escape(value.trim_end_matches('Z')))
    }
}

fn party(record: &Record, role: &str) -> String {
    let mail = if record.agency.email.is_empty() {
        String::new()
    } else {
        format!(
            "<gmd:contactInfo><gmd:CI_Contact><gmd:address><gmd:CI_Address><gmd:electronicMailAddress>{}</gmd:electronicMailAddress>\
             </gmd:CI_Address></gmd:address></gmd:CI_Contact></gmd:contactInfo>",
            text(&record.agency.email)
        )
    };
    let position = if record.agency.code.is_empty() {
        String::new()
    } else {
        format!(
            "<gmd:positionName>{}</gmd:positionName>",
            text(&format!("Mã cơ quan / agency code: {}", record.agency.code))
        )
    };
    format!(
        "<gmd:CI_ResponsibleParty>{}{position}{mail}<gmd:role>{}</gmd:role></gmd:CI_ResponsibleParty>",
        bilingual("organisationName", &record.agency.name_vi, &record.agency.name_en),
        code("CI_RoleCode", role)
    )
}

/// The Vietnamese additions, one per line.
pub fn supplemental(record: &Record) -> String {
    let mut lines = Vec::new();
    if !record.legal_basis.is_empty() {
        lines.push(format!("Căn cứ pháp lý / Legal basis: {}", record.legal_basis.join("; ")));
    }
    let personal = if record.access.personal.is_empty() {
        "không / none".to_owned()
    } else {
        record.access.personal.iter().map(|(f, m)| format!("{f} ({m})")).collect::<Vec<_>>().join(", ")
    };
    lines.push(format!("Dữ liệu cá nhân / Personal data: {personal}"));
    if let Some(open) = record.access.open {
        let open = if open { "có / yes" } else { "không / no" };
        lines.push(format!("Đọc không cần đăng nhập / Readable without credentials: {open}"));
    }
    if let Some(rows) = record.rows {
        let about = if record.rows_estimated { "≈ " } else { "" };
        lines.push(format!("Số bản ghi / Rows: {about}{rows}"));
    }
    if let Some(updated) = &record.updated {
        lines.push(format!("Thay đổi gần nhất / Last change: {updated}"));
    }
    if !record.collections.is_empty() {
        lines.push(format!("Bộ dữ liệu công bố / Published collections: {}", record.collections.join(", ")));
    }
    lines.join("\n")
}

/// The ISO 19139 document of a record; `base` is this server's base URL (for its links).
pub fn document(record: &Record, base: &str, now: &str) -> String {
    let mut x = String::with_capacity(8192);
    x.push_str(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<gmd:MD_Metadata xmlns:gmd=\"http://www.isotc211.org/2005/gmd\" \
         xmlns:gco=\"http://www.isotc211.org/2005/gco\" xmlns:gml=\"http://www.opengis.net/gml\" \
         xmlns:xlink=\"http://www.w3.org/1999/xlink\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">",
    );
    let _ = write!(x, "<gmd:fileIdentifier>{}</gmd:fileIdentifier>", text(&record.uuid));
    let _ = write!(
        x,
        "<gmd:language><gmd:LanguageCode codeList=\"http://www.loc.gov/standards/iso639-2/\" codeListValue=\"vie\">vie</gmd:LanguageCode></gmd:language>"
    );
    let _ = write!(x, "<gmd:characterSet>{}</gmd:characterSet>", code("MD_CharacterSetCode", "utf8"));
    let scope = match record.kind.as_str() {
        "collection" => "dataset",
        other => other,
    };
    let _ = write!(x, "<gmd:hierarchyLevel>{}</gmd:hierarchyLevel>", code("MD_ScopeCode", scope));
    let _ = write!(x, "<gmd:contact>{}</gmd:contact>", party(record, "pointOfContact"));
    let _ = write!(x, "<gmd:dateStamp>{}</gmd:dateStamp>", date(record.updated.as_deref().unwrap_or(now)));
    let _ = write!(
        x,
        "<gmd:metadataStandardName>{}</gmd:metadataStandardName>",
        text("ISO 19115:2003/19139 (QCVN 42:2020/BTNMT)")
    );
    let _ = write!(x, "<gmd:metadataStandardVersion>{}</gmd:metadataStandardVersion>", text("1.0"));
    let _ = write!(
        x,
        "<gmd:locale><gmd:PT_Locale id=\"locale-eng\"><gmd:languageCode><gmd:LanguageCode codeList=\"http://www.loc.gov/standards/iso639-2/\" codeListValue=\"eng\">eng</gmd:LanguageCode></gmd:languageCode>\
         <gmd:characterEncoding>{}</gmd:characterEncoding></gmd:PT_Locale></gmd:locale>",
        code("MD_CharacterSetCode", "utf8")
    );
    for crs in &record.crs {
        let (space, value) = crs_code(crs);
        let _ = write!(
            x,
            "<gmd:referenceSystemInfo><gmd:MD_ReferenceSystem><gmd:referenceSystemIdentifier><gmd:RS_Identifier>\
             <gmd:code>{}</gmd:code><gmd:codeSpace>{}</gmd:codeSpace></gmd:RS_Identifier></gmd:referenceSystemIdentifier>\
             </gmd:MD_ReferenceSystem></gmd:referenceSystemInfo>",
            text(&value),
            text(&space)
        );
    }
    // Identification.
    x.push_str("<gmd:identificationInfo><gmd:MD_DataIdentification><gmd:citation><gmd:CI_Citation>");
    x.push_str(&bilingual("title", &record.title_vi, &record.title_en));
    let _ = write!(
        x,
        "<gmd:date><gmd:CI_Date><gmd:date>{}</gmd:date><gmd:dateType>{}</gmd:dateType></gmd:CI_Date></gmd:date>",
        date(record.updated.as_deref().unwrap_or(now)),
        code("CI_DateTypeCode", "revision")
    );
    let _ = write!(
        x,
        "<gmd:identifier><gmd:MD_Identifier><gmd:code>{}</gmd:code></gmd:MD_Identifier></gmd:identifier>",
        text(&record.id)
    );
    x.push_str("</gmd:CI_Citation></gmd:citation>");
    x.push_str(&bilingual("abstract", &record.description_vi, &record.description_en));
    let _ = write!(x, "<gmd:pointOfContact>{}</gmd:pointOfContact>", party(record, "owner"));
    let _ = write!(
        x,
        "<gmd:resourceMaintenance><gmd:MD_MaintenanceInformation><gmd:maintenanceAndUpdateFrequency>{}</gmd:maintenanceAndUpdateFrequency>\
         </gmd:MD_MaintenanceInformation></gmd:resourceMaintenance>",
        code("MD_MaintenanceFrequencyCode", &record.frequency)
    );
    if !record.keywords.is_empty() {
        x.push_str("<gmd:descriptiveKeywords><gmd:MD_Keywords>");
        for k in &record.keywords {
            let _ = write!(x, "<gmd:keyword>{}</gmd:keyword>", text(k));
        }
        let _ = write!(
            x,
            "<gmd:type>{}</gmd:type></gmd:MD_Keywords></gmd:descriptiveKeywords>",
            code("MD_KeywordTypeCode", "theme")
        );
    }
    // Access (sharing scope) and licence.
    let (restriction, scope_text) = if record.access.level == "restricted" {
        ("restricted", "Hạn chế: chỉ người được cấp quyền / restricted: granted users only")
    } else {
        ("otherRestrictions", "Mở / open")
    };
    x.push_str("<gmd:resourceConstraints><gmd:MD_LegalConstraints>");
    let _ = write!(x, "<gmd:accessConstraints>{}</gmd:accessConstraints>", code("MD_RestrictionCode", restriction));
    if !record.licence.is_empty() {
        let _ = write!(x, "<gmd:useConstraints>{}</gmd:useConstraints>", code("MD_RestrictionCode", "license"));
    }
    let _ = write!(x, "<gmd:otherConstraints>{}</gmd:otherConstraints>", text(scope_text));
    if !record.licence.is_empty() {
        let _ = write!(x, "<gmd:otherConstraints>{}</gmd:otherConstraints>", text(&record.licence));
    }
    x.push_str("</gmd:MD_LegalConstraints></gmd:resourceConstraints>");
    if !record.crs.is_empty() {
        let _ = write!(
            x,
            "<gmd:spatialRepresentationType>{}</gmd:spatialRepresentationType>",
            code("MD_SpatialRepresentationTypeCode", "vector")
        );
    }
    let _ = write!(
        x,
        "<gmd:language><gmd:LanguageCode codeList=\"http://www.loc.gov/standards/iso639-2/\" codeListValue=\"vie\">vie</gmd:LanguageCode></gmd:language>"
    );
    let _ = write!(x, "<gmd:characterSet>{}</gmd:characterSet>", code("MD_CharacterSetCode", "utf8"));
    let _ = write!(
        x,
        "<gmd:topicCategory><gmd:MD_TopicCategoryCode>{}</gmd:MD_TopicCategoryCode></gmd:topicCategory>",
        escape(&record.topic)
    );
    if record.bbox.is_some() || record.time.is_some() {
        x.push_str("<gmd:extent><gmd:EX_Extent>");
        if let Some(b) = record.bbox {
            let _ = write!(
                x,
                "<gmd:geographicElement><gmd:EX_GeographicBoundingBox>\
                 <gmd:westBoundLongitude><gco:Decimal>{}</gco:Decimal></gmd:westBoundLongitude>\
                 <gmd:eastBoundLongitude><gco:Decimal>{}</gco:Decimal></gmd:eastBoundLongitude>\
                 <gmd:southBoundLatitude><gco:Decimal>{}</gco:Decimal></gmd:southBoundLatitude>\
                 <gmd:northBoundLatitude><gco:Decimal>{}</gco:Decimal></gmd:northBoundLatitude>\
                 </gmd:EX_GeographicBoundingBox></gmd:geographicElement>",
                b[0], b[2], b[1], b[3]
            );
        }
        if let Some((start, end)) = &record.time {
            let position = |name: &str, value: &Option<String>, open: &str| match value {
                Some(v) => format!("<gml:{name}>{}</gml:{name}>", escape(v)),
                None => format!("<gml:{name} indeterminatePosition=\"{open}\"/>"),
            };
            let _ = write!(
                x,
                "<gmd:temporalElement><gmd:EX_TemporalExtent><gmd:extent><gml:TimePeriod gml:id=\"time-{}\">{}{}</gml:TimePeriod>\
                 </gmd:extent></gmd:EX_TemporalExtent></gmd:temporalElement>",
                escape(&record.uuid),
                position("beginPosition", start, "unknown"),
                position("endPosition", end, "now")
            );
        }
        x.push_str("</gmd:EX_Extent></gmd:extent>");
    }
    let _ = write!(x, "<gmd:supplementalInformation>{}</gmd:supplementalInformation>", text(&supplemental(record)));
    x.push_str("</gmd:MD_DataIdentification></gmd:identificationInfo>");
    // Distribution.
    if !record.links.is_empty() {
        x.push_str("<gmd:distributionInfo><gmd:MD_Distribution><gmd:transferOptions><gmd:MD_DigitalTransferOptions>");
        for link in &record.links {
            let _ = write!(
                x,
                "<gmd:onLine><gmd:CI_OnlineResource><gmd:linkage><gmd:URL>{}</gmd:URL></gmd:linkage><gmd:protocol>{}</gmd:protocol>\
                 <gmd:name>{}</gmd:name><gmd:description>{}</gmd:description></gmd:CI_OnlineResource></gmd:onLine>",
                escape(&link.absolute(base)),
                text(&link.protocol),
                text(&link.title),
                text(&link.media_type)
            );
        }
        x.push_str(
            "</gmd:MD_DigitalTransferOptions></gmd:transferOptions></gmd:MD_Distribution></gmd:distributionInfo>",
        );
    }
    // Lineage.
    let lineage = match record.origin.as_str() {
        "declared" => "Dẫn xuất từ khai báo của ngành và cơ sở dữ liệu đang vận hành (phạm vi, số bản ghi, thay đổi gần nhất) / derived from the sector's declarations and the live database (extent, rows, last change)",
        _ => "Khai báo trong tệp danh mục / declared in the catalogue file",
    };
    let _ = write!(
        x,
        "<gmd:dataQualityInfo><gmd:DQ_DataQuality><gmd:scope><gmd:DQ_Scope><gmd:level>{}</gmd:level></gmd:DQ_Scope></gmd:scope>\
         <gmd:lineage><gmd:LI_Lineage><gmd:statement>{}</gmd:statement></gmd:LI_Lineage></gmd:lineage></gmd:DQ_DataQuality></gmd:dataQualityInfo>",
        code("MD_ScopeCode", scope),
        text(lineage)
    );
    x.push_str("</gmd:MD_Metadata>\n");
    x
}

/// The code space and code of a CRS URI (`EPSG`, `4326`); other URIs as they are.
pub fn crs_code(uri: &str) -> (String, String) {
    if let Some(code) = uri.strip_prefix("http://www.opengis.net/def/crs/EPSG/0/") {
        return ("EPSG".into(), code.into());
    }
    if let Some(code) = uri.strip_prefix("http://www.opengis.net/def/crs/OGC/1.3/") {
        return ("OGC".into(), code.into());
    }
    ("URI".into(), uri.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_control_characters_dropped() {
        assert_eq!(escape("a<b & \"c\"\u{1}"), "a&lt;b &amp; &quot;c&quot;");
        assert_eq!(crs_code("http://www.opengis.net/def/crs/EPSG/0/9210"), ("EPSG".into(), "9210".into()));
    }
}
