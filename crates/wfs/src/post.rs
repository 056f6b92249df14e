//! POST XML requests (WFS 2.0 §7–§10 XML encodings, and WFS 1.1.0's), dispatched on the root
//! element. The body is read within [`crate::xml::Limits`]; a Transaction root is recognised
//! and handed back as [`Request::Transaction`] for the server to route.

use crate::kvp::{count, default_format, list, output_format, result_type, strip_prefix};
use crate::request::{GetFeature, Query, Request, Version};
use crate::xml::{Element, Limits};
use crate::{fes, Code, WfsError};

/// Reads a POST body.
///
/// # Errors
/// `OperationParsingFailed` for a body that is not well-formed XML within the limits;
/// `OperationNotSupported` for a root element naming no offered operation; the errors of the
/// parameters otherwise.
pub fn parse(body: &str, limits: Limits) -> Result<Request, WfsError> {
    let root = crate::xml::parse(body, limits).map_err(|e| WfsError::new(Code::OperationParsingFailed, "body", e))?;
    let version = match root.attr("version").map(str::trim) {
        None | Some("2.0.0" | "2.0.2") => Version::V200,
        Some("1.1.0") => Version::V110,
        Some(other) => {
            return Err(WfsError::invalid("version", format!("\"{other}\" is not offered (2.0.0 and 1.1.0 are)")))
        }
    };
    match root.name.as_str() {
        "GetCapabilities" => {
            let accepted: Vec<String> = root
                .child("AcceptVersions")
                .map(|a| a.children_named("Version").map(|v| v.trimmed().to_owned()).collect())
                .unwrap_or_default();
            if accepted.is_empty() {
                return Ok(Request::GetCapabilities { version });
            }
            for v in &accepted {
                match v.as_str() {
                    "2.0.0" | "2.0.2" => return Ok(Request::GetCapabilities { version: Version::V200 }),
                    "1.1.0" => return Ok(Request::GetCapabilities { version: Version::V110 }),
                    _ => {}
                }
            }
            Err(WfsError::new(
                Code::VersionNegotiationFailed,
                "AcceptVersions",
                format!("none of {} is offered", accepted.join(", ")),
            ))
        }
        "DescribeFeatureType" => Ok(Request::DescribeFeatureType {
            version,
            type_names: root.children_named("TypeName").map(|t| t.trimmed().to_owned()).collect(),
        }),
        "ListStoredQueries" => Ok(Request::ListStoredQueries),
        "DescribeStoredQueries" => Ok(Request::DescribeStoredQueries {
            ids: root.children_named("StoredQueryId").map(|t| t.trimmed().to_owned()).collect(),
        }),
        "GetFeature" | "GetPropertyValue" => get_feature(&root, version),
        "Transaction" => Ok(Request::Transaction),
        other => Err(WfsError::new(
            Code::OperationNotSupported,
            other,
            format!("<{other}> is not an operation offered here"),
        )),
    }
}

fn get_feature(root: &Element, version: Version) -> Result<Request, WfsError> {
    let mut g = GetFeature {
        version,
        query: Query {
            type_names: Vec::new(),
            bbox: None,
            filter: None,
            resource_ids: Vec::new(),
            srs_name: None,
            sort_by: Vec::new(),
            property_names: None,
        },
        count: root.attr("count").or_else(|| root.attr("maxFeatures")).map(|v| count(v, "count")).transpose()?,
        start_index: root.attr("startIndex").map(|v| count(v, "startIndex")).transpose()?.unwrap_or(0),
        result_type: root.attr("resultType").map(result_type).transpose()?.unwrap_or_default(),
        output_format: root
            .attr("outputFormat")
            .map(|f| output_format(f, version))
            .transpose()?
            .unwrap_or(default_format(version)),
        by_id: None,
        value_reference: None,
    };
    if root.name == "GetPropertyValue" {
        let reference = root.attr("valueReference").ok_or_else(|| WfsError::missing("valueReference"))?;
        g.value_reference = Some(strip_prefix(reference));
    }
    let queries: Vec<&Element> =
        root.children.iter().filter(|c| c.name == "Query" || c.name == "StoredQuery").collect();
    let [query] = queries.as_slice() else {
        return Err(WfsError::new(
            Code::OperationNotSupported,
            "Query",
            format!("one Query or StoredQuery per request is answered, got {}", queries.len()),
        ));
    };
    if query.name == "StoredQuery" {
        let id = query.attr("id").unwrap_or_default().trim();
        if id != crate::GET_FEATURE_BY_ID {
            return Err(WfsError::invalid(
                "storedQuery_Id",
                format!("no stored query \"{id}\" (the one offered is {})", crate::GET_FEATURE_BY_ID),
            ));
        }
        let value = query
            .children_named("Parameter")
            .find(|p| p.attr("name").is_some_and(|n| n.eq_ignore_ascii_case("ID")))
            .ok_or_else(|| WfsError::missing("id"))?;
        g.by_id = Some(value.trimmed().to_owned());
        return Ok(Request::GetFeature(Box::new(g)));
    }
    g.query.type_names = query
        .attr("typeNames")
        .or_else(|| query.attr("typeName"))
        .map(list)
        .ok_or_else(|| WfsError::missing("typeNames"))?;
    g.query.srs_name = query.attr("srsName").map(|s| s.trim().to_owned());
    if let Some(filter) = query.child("Filter") {
        g.query.filter = Some(fes::parse(filter).map_err(|e| WfsError::invalid("filter", e))?);
    }
    if let Some(sort) = query.child("SortBy") {
        for p in sort.children_named("SortProperty") {
            let name = p
                .children
                .iter()
                .find(|c| c.name == "ValueReference" || c.name == "PropertyName")
                .ok_or_else(|| WfsError::invalid("sortBy", "a SortProperty names no ValueReference"))?;
            let descending = match p.child("SortOrder").map(|o| o.trimmed().to_ascii_uppercase()).as_deref() {
                None | Some("ASC" | "A") => false,
                Some("DESC" | "D") => true,
                Some(other) => return Err(WfsError::invalid("sortBy", format!("\"{other}\" is neither ASC nor DESC"))),
            };
            g.query.sort_by.push((strip_prefix(name.trimmed()), descending));
        }
    }
    let names: Vec<String> = query
        .children
        .iter()
        .filter(|c| c.name == "PropertyName" || c.name == "ValueReference")
        .map(|c| strip_prefix(c.trimmed()))
        .collect();
    if !names.is_empty() {
        g.query.property_names = Some(names);
    }
    Ok(Request::GetFeature(Box::new(g)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{OutputFormat, ResultType};

    #[test]
    fn get_feature_with_a_query_filter_and_sort() {
        let body = r#"<?xml version="1.0"?>
<wfs:GetFeature service="WFS" version="2.0.0" count="10" startIndex="20" resultType="hits" outputFormat="application/json"
    xmlns:wfs="http://www.opengis.net/wfs/2.0" xmlns:fes="http://www.opengis.net/fes/2.0" xmlns:gs="urn:geosector:features">
  <wfs:Query typeNames="gs:land.parcels" srsName="urn:ogc:def:crs:EPSG::5897">
    <fes:Filter><fes:PropertyIsEqualTo><fes:ValueReference>commune_code</fes:ValueReference><fes:Literal>00376</fes:Literal></fes:PropertyIsEqualTo></fes:Filter>
    <fes:SortBy><fes:SortProperty><fes:ValueReference>area_m2</fes:ValueReference><fes:SortOrder>DESC</fes:SortOrder></fes:SortProperty></fes:SortBy>
  </wfs:Query>
</wfs:GetFeature>"#;
        let Request::GetFeature(g) = parse(body, Limits::default()).unwrap() else { panic!() };
        assert_eq!(
            (g.count, g.start_index, g.result_type, g.output_format),
            (Some(10), 20, ResultType::Hits, OutputFormat::GeoJson)
        );
        assert_eq!(g.query.type_names, ["gs:land.parcels"]);
        assert_eq!(g.query.srs_name.as_deref(), Some("urn:ogc:def:crs:EPSG::5897"));
        assert!(g.query.filter.is_some());
        assert_eq!(g.query.sort_by, [("area_m2".to_owned(), true)]);
    }

    #[test]
    fn roots_dispatch_and_errors_name_what_failed() {
        assert_eq!(
            parse(r#"<wfs:Transaction xmlns:wfs="x" version="2.0.0"/>"#, Limits::default()).unwrap(),
            Request::Transaction
        );
        assert_eq!(
            parse("<GetCapabilities service=\"WFS\"/>", Limits::default()).unwrap(),
            Request::GetCapabilities { version: Version::V200 }
        );
        assert_eq!(parse("<LockFeature/>", Limits::default()).unwrap_err().code, Code::OperationNotSupported);
        assert_eq!(parse("<GetFeature", Limits::default()).unwrap_err().code, Code::OperationParsingFailed);
        let stored = format!(
            r#"<GetFeature version="2.0.0"><StoredQuery id="{}"><Parameter name="ID">land.parcels.4</Parameter></StoredQuery></GetFeature>"#,
            crate::GET_FEATURE_BY_ID
        );
        let Request::GetFeature(g) = parse(&stored, Limits::default()).unwrap() else { panic!() };
        assert_eq!(g.by_id.as_deref(), Some("land.parcels.4"));
        let two = "<GetFeature><Query typeNames=\"a\"/><Query typeNames=\"b\"/></GetFeature>";
        assert_eq!(parse(two, Limits::default()).unwrap_err().locator, "Query");
    }
}
