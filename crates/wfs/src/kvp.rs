//! KVP requests (WFS 2.0 §6.2.5, and WFS 1.1.0): the query's name/value pairs, keys compared
//! without case, read into a [`Request`]. Each error names the parameter (the exception's
//! locator). Parameters this service does not know are ignored, as OWS Common asks; a
//! parameter given twice is an error.

use crate::fes;
use crate::request::{Bbox, GetFeature, OutputFormat, Query, Request, ResultType, Version};
use crate::xml::Limits;
use crate::{Code, WfsError};

/// Reads a KVP request.
///
/// # Errors
/// The exception to answer: a missing `REQUEST`, an unknown operation, a bad value (naming its
/// parameter).
pub fn parse(pairs: &[(String, String)]) -> Result<Request, WfsError> {
    let mut upper: Vec<(String, &str)> = Vec::with_capacity(pairs.len());
    for (k, v) in pairs {
        let key = k.trim().to_ascii_uppercase();
        if upper.iter().any(|(u, _)| *u == key) {
            return Err(WfsError::invalid(k, "given more than once"));
        }
        upper.push((key, v.as_str()));
    }
    let get = |name: &str| upper.iter().find(|(k, _)| k == name).map(|(_, v)| *v);
    if let Some(service) = get("SERVICE") {
        if !service.trim().eq_ignore_ascii_case("WFS") {
            return Err(WfsError::invalid("service", format!("this is a WFS, not \"{service}\"")));
        }
    }
    let request = get("REQUEST").ok_or_else(|| WfsError::missing("request"))?;
    let op = request.trim();
    if op.eq_ignore_ascii_case("GetCapabilities") {
        if get("SERVICE").is_none() {
            return Err(WfsError::missing("service"));
        }
        return Ok(Request::GetCapabilities { version: negotiate(get("ACCEPTVERSIONS"), get("VERSION"))? });
    }
    let version = version(get("VERSION"))?;
    if op.eq_ignore_ascii_case("DescribeFeatureType") {
        let names = get("TYPENAMES").or_else(|| get("TYPENAME")).map(list).unwrap_or_default();
        return Ok(Request::DescribeFeatureType { version, type_names: names });
    }
    if op.eq_ignore_ascii_case("ListStoredQueries") {
        return Ok(Request::ListStoredQueries);
    }
    if op.eq_ignore_ascii_case("DescribeStoredQueries") {
        let ids = get("STOREDQUERY_ID").map(list).unwrap_or_default();
        return Ok(Request::DescribeStoredQueries { ids });
    }
    let property_value = op.eq_ignore_ascii_case("GetPropertyValue");
    if !op.eq_ignore_ascii_case("GetFeature") && !property_value {
        return Err(WfsError::new(
            Code::OperationNotSupported,
            "request",
            format!("\"{op}\" is not offered (GetCapabilities, DescribeFeatureType, GetFeature, GetPropertyValue, ListStoredQueries, DescribeStoredQueries are)"),
        ));
    }
    if property_value && version == Version::V110 {
        return Err(WfsError::new(Code::OperationNotSupported, "request", "GetPropertyValue is a WFS 2.0 operation"));
    }
    let mut g = GetFeature {
        version,
        query: Query {
            type_names: get("TYPENAMES").or_else(|| get("TYPENAME")).map(list).unwrap_or_default(),
            bbox: get("BBOX").map(bbox).transpose()?,
            filter: None,
            resource_ids: get("RESOURCEID").or_else(|| get("FEATUREID")).map(list).unwrap_or_default(),
            srs_name: get("SRSNAME").map(|s| s.trim().to_owned()),
            sort_by: get("SORTBY").map(sort_by).transpose()?.unwrap_or_default(),
            property_names: get("PROPERTYNAME").map(|p| list(p).iter().map(|n| strip_prefix(n)).collect()),
        },
        count: get("COUNT").or_else(|| get("MAXFEATURES")).map(|v| count(v, "count")).transpose()?,
        start_index: get("STARTINDEX").map(|v| count(v, "startIndex")).transpose()?.unwrap_or(0),
        result_type: get("RESULTTYPE").map(result_type).transpose()?.unwrap_or_default(),
        output_format: get("OUTPUTFORMAT")
            .map(|f| output_format(f, version))
            .transpose()?
            .unwrap_or(default_format(version)),
        by_id: None,
        value_reference: None,
    };
    // OWSLib (0.35) sends its filter as `QUERY`: taken as FILTER when it is XML.
    let filter = get("FILTER").or_else(|| get("QUERY").filter(|q| q.trim_start().starts_with('<')));
    if let Some(text) = filter {
        if let Some(lang) = get("FILTER_LANGUAGE") {
            let lang = lang.trim();
            if lang != "urn:ogc:def:query:OGC-FES::Filter" && !lang.eq_ignore_ascii_case("fes:Filter") {
                return Err(WfsError::new(
                    Code::OptionNotSupported,
                    "filter_language",
                    format!("\"{lang}\" is not supported (urn:ogc:def:query:OGC-FES::Filter is)"),
                ));
            }
        }
        g.query.filter = Some(fes::parse_text(text, Limits::default()).map_err(|e| WfsError::invalid("filter", e))?);
    }
    let given = [g.query.bbox.is_some(), g.query.filter.is_some(), !g.query.resource_ids.is_empty()];
    if given.iter().filter(|g| **g).count() > 1 {
        let locator = if g.query.bbox.is_some() { "bbox" } else { "filter" };
        return Err(WfsError::invalid(locator, "bbox, filter and resourceId are mutually exclusive"));
    }
    if let Some(id) = get("STOREDQUERY_ID") {
        if id.trim() != crate::GET_FEATURE_BY_ID {
            return Err(WfsError::invalid(
                "storedQuery_Id",
                format!("no stored query \"{}\" (the one offered is {})", id.trim(), crate::GET_FEATURE_BY_ID),
            ));
        }
        let feature = get("ID").ok_or_else(|| WfsError::missing("id"))?;
        g.by_id = Some(feature.trim().to_owned());
    } else if g.query.type_names.is_empty() && g.query.resource_ids.is_empty() {
        return Err(WfsError::missing("typeNames"));
    }
    if property_value {
        let reference = get("VALUEREFERENCE").ok_or_else(|| WfsError::missing("valueReference"))?;
        g.value_reference = Some(strip_prefix(reference));
    }
    Ok(Request::GetFeature(Box::new(g)))
}

/// A comma-separated list, items trimmed, empty ones left out; `(a)(b)` groups are flattened.
pub fn list(text: &str) -> Vec<String> {
    text.split([',', '(', ')']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// A name without its prefix or path (`gs:land.parcels/gs:area` → `area`).
pub fn strip_prefix(name: &str) -> String {
    let last = name.trim().rsplit('/').next().unwrap_or("");
    last.rsplit_once(':').map_or(last, |(_, l)| l).to_owned()
}

fn version(v: Option<&str>) -> Result<Version, WfsError> {
    match v.map(str::trim) {
        None | Some("2.0.0" | "2.0.2" | "2.0") => Ok(Version::V200),
        Some("1.1.0" | "1.1") => Ok(Version::V110),
        Some(other) => Err(WfsError::invalid("version", format!("\"{other}\" is not offered (2.0.0 and 1.1.0 are)"))),
    }
}

/// The version answered to GetCapabilities: the first of `ACCEPTVERSIONS` offered, else
/// `VERSION` when offered, else 2.0.0.
fn negotiate(accept: Option<&str>, version: Option<&str>) -> Result<Version, WfsError> {
    if let Some(accept) = accept {
        for v in list(accept) {
            if let Ok(v) = self::version(Some(&v)) {
                return Ok(v);
            }
        }
        return Err(WfsError::new(
            Code::VersionNegotiationFailed,
            "acceptVersions",
            format!("none of \"{accept}\" is offered (2.0.0 and 1.1.0 are)"),
        ));
    }
    // Old clients send VERSION=1.0.0: answer the nearest offered one.
    Ok(match version.map(str::trim) {
        Some(v) if v.starts_with('1') => Version::V110,
        _ => Version::V200,
    })
}

fn bbox(text: &str) -> Result<Bbox, WfsError> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let (numbers, crs) = match parts.last() {
        Some(last) if last.parse::<f64>().is_err() && parts.len() > 1 => {
            (&parts[..parts.len() - 1], Some((*last).to_owned()))
        }
        _ => (&parts[..], None),
    };
    let coords = numbers
        .iter()
        .map(|n| {
            n.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| WfsError::invalid("bbox", format!("\"{n}\" is not a number")))
        })
        .collect::<Result<Vec<f64>, _>>()?;
    if coords.len() != 4 && coords.len() != 6 {
        return Err(WfsError::invalid(
            "bbox",
            format!("expected 4 numbers (and an optional CRS), got {}", coords.len()),
        ));
    }
    Ok(Bbox { coords, crs })
}

/// A whole number of at least 0.
pub(crate) fn count(text: &str, name: &str) -> Result<i64, WfsError> {
    text.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .ok_or_else(|| WfsError::invalid(name, format!("expected a whole number of at least 0, got \"{text}\"")))
}

pub(crate) fn result_type(text: &str) -> Result<ResultType, WfsError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "results" => Ok(ResultType::Results),
        "hits" => Ok(ResultType::Hits),
        _ => Err(WfsError::invalid("resultType", format!("\"{text}\" is neither results nor hits"))),
    }
}

/// The default output format of a version.
pub fn default_format(version: Version) -> OutputFormat {
    match version {
        Version::V200 => OutputFormat::Gml32,
        Version::V110 => OutputFormat::Gml31,
    }
}

/// Reads `outputFormat` (a `+` decoded as a space is forgiven).
pub(crate) fn output_format(text: &str, version: Version) -> Result<OutputFormat, WfsError> {
    let n: String =
        text.chars().filter(|c| !c.is_whitespace() && *c != '+' && *c != '"').collect::<String>().to_ascii_lowercase();
    match n.as_str() {
        "application/gmlxml;version=3.2"
        | "text/xml;subtype=gml/3.2"
        | "text/xml;subtype=gml/3.2.1"
        | "application/gmlxml"
        | "gml32" => Ok(OutputFormat::Gml32),
        "text/xml;subtype=gml/3.1.1" | "gml3" | "application/gmlxml;version=3.1" => Ok(OutputFormat::Gml31),
        "text/xml" | "application/xml" => Ok(default_format(version)),
        "application/json" | "application/geojson" | "json" | "geojson" => Ok(OutputFormat::GeoJson),
        _ => Err(WfsError::new(
            Code::InvalidParameterValue,
            "outputFormat",
            format!(
                "\"{text}\" is not offered ({}, text/xml; subtype=gml/3.1.1, application/json are)",
                crate::GML32_MEDIA
            ),
        )),
    }
}

/// `sortBy`: `name [ASC|DESC]` (or 1.1.0's `A`/`D`), comma separated.
pub(crate) fn sort_by(text: &str) -> Result<Vec<(String, bool)>, WfsError> {
    let mut keys = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let mut words = part.split_whitespace();
        let name = words.next().unwrap_or_default();
        // `name+DESC` arrives as `name DESC`; `name+D` too.
        let descending = match words.next().map(str::to_ascii_uppercase).as_deref() {
            None | Some("ASC" | "A") => false,
            Some("DESC" | "D") => true,
            Some(other) => return Err(WfsError::invalid("sortBy", format!("\"{other}\" is neither ASC nor DESC"))),
        };
        if words.next().is_some() {
            return Err(WfsError::invalid("sortBy", format!("\"{part}\": expected a name and ASC or DESC")));
        }
        keys.push((strip_prefix(name), descending));
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn keys_are_case_insensitive_and_values_typed() {
        let r = parse(&pairs(&[
            ("service", "WFS"),
            ("Version", "2.0.0"),
            ("REQUEST", "GetFeature"),
            ("typeNames", "gs:land.parcels"),
            ("count", "25"),
            ("STARTINDEX", "50"),
            ("srsName", "urn:ogc:def:crs:EPSG::5897"),
            ("sortBy", "gs:area_m2 DESC,commune_code"),
            ("bbox", "21,105,22,106,urn:ogc:def:crs:EPSG::4326"),
            ("outputFormat", "application/gml xml; version=3.2"),
        ]))
        .unwrap();
        let Request::GetFeature(g) = r else { panic!("{r:?}") };
        assert_eq!(g.query.type_names, ["gs:land.parcels"]);
        assert_eq!((g.count, g.start_index), (Some(25), 50));
        assert_eq!(g.query.sort_by, [("area_m2".to_owned(), true), ("commune_code".to_owned(), false)]);
        assert_eq!(g.query.bbox.as_ref().unwrap().crs.as_deref(), Some("urn:ogc:def:crs:EPSG::4326"));
        assert_eq!(g.output_format, OutputFormat::Gml32);
    }

    #[test]
    fn errors_name_their_parameter() {
        let locator = |list: &[(&str, &str)]| parse(&pairs(list)).unwrap_err().locator;
        let base = [("service", "WFS"), ("request", "GetFeature"), ("typeNames", "a")];
        assert_eq!(locator(&[("service", "WFS")]), "request");
        assert_eq!(locator(&[("request", "GetFeature")]), "typeNames");
        assert_eq!(locator(&[base[0], base[1], base[2], ("count", "-1")]), "count");
        assert_eq!(locator(&[base[0], base[1], base[2], ("startindex", "x")]), "startIndex");
        assert_eq!(locator(&[base[0], base[1], base[2], ("bbox", "1,2,3")]), "bbox");
        assert_eq!(locator(&[base[0], base[1], base[2], ("resulttype", "all")]), "resultType");
        assert_eq!(locator(&[base[0], base[1], base[2], ("outputformat", "shape-zip")]), "outputFormat");
        assert_eq!(locator(&[base[0], base[1], base[2], ("filter", "<Filter><Foo/></Filter>")]), "filter");
        assert_eq!(locator(&[base[0], base[1], base[2], ("version", "3.0.0")]), "version");
        assert_eq!(locator(&[base[0], ("request", "Transaction")]), "request");
        assert_eq!(locator(&[base[0], ("request", "GetFeature"), ("storedquery_id", "x")]), "storedQuery_Id");
        assert_eq!(locator(&[base[0], base[1], base[2], ("TYPENAMES", "b")]), "TYPENAMES");
        let e = parse(&pairs(&[base[0], base[1], base[2], ("bbox", "1,2,3,4"), ("resourceid", "a.1")])).unwrap_err();
        assert!(e.message.contains("mutually exclusive"));
        let e = parse(&pairs(&[("service", "WFS"), ("request", "GetCapabilities"), ("acceptversions", "3.0.0")]))
            .unwrap_err();
        assert_eq!(e.code, Code::VersionNegotiationFailed);
    }

    #[test]
    fn capabilities_negotiate_and_stored_queries_read() {
        let caps = |list: &[(&str, &str)]| parse(&pairs(list)).unwrap();
        assert_eq!(
            caps(&[("SERVICE", "WFS"), ("REQUEST", "GetCapabilities")]),
            Request::GetCapabilities { version: Version::V200 }
        );
        assert_eq!(
            caps(&[("SERVICE", "WFS"), ("REQUEST", "GetCapabilities"), ("ACCEPTVERSIONS", "1.1.0,2.0.0")]),
            Request::GetCapabilities { version: Version::V110 }
        );
        assert_eq!(
            caps(&[("SERVICE", "WFS"), ("REQUEST", "GetCapabilities"), ("VERSION", "1.1.0")]),
            Request::GetCapabilities { version: Version::V110 }
        );
        let Request::GetFeature(g) = caps(&[
            ("service", "WFS"),
            ("request", "GetFeature"),
            ("storedquery_id", crate::GET_FEATURE_BY_ID),
            ("id", "land.parcels.3"),
        ]) else {
            panic!()
        };
        assert_eq!(g.by_id.as_deref(), Some("land.parcels.3"));
        let Request::GetFeature(old) = caps(&[
            ("service", "WFS"),
            ("version", "1.1.0"),
            ("request", "GetFeature"),
            ("typeName", "gs:x"),
            ("maxFeatures", "5"),
        ]) else {
            panic!()
        };
        assert_eq!((old.count, old.output_format), (Some(5), OutputFormat::Gml31));
        let Request::GetFeature(owslib) = caps(&[
            ("service", "WFS"),
            ("request", "GetFeature"),
            ("typenames", "gs:x"),
            ("query", "<Filter><ResourceId rid=\"x.1\"/></Filter>"),
        ]) else {
            panic!()
        };
        assert!(owslib.query.filter.is_some(), "OWSLib's QUERY is the filter");
    }
}
