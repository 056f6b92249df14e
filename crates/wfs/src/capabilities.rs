//! GetCapabilities: the WFS 2.0 document (OWS 1.1 service metadata, the operations actually
//! offered with their constraints, the feature types the caller may see, Filter_Capabilities
//! listing exactly the operators [`crate::fes`] translates) and the WFS 1.1.0 one.

use crate::fes::{COMPARISON, SPATIAL};
use crate::xml::escape;

/// A feature type as the capabilities list it.
#[derive(Debug, Clone)]
pub struct FeatureType {
    /// Its name (the collection id).
    pub name: String,
    /// Title.
    pub title: String,
    /// Abstract.
    pub abstract_text: String,
    /// Keywords.
    pub keywords: Vec<String>,
    /// Extent in WGS 84, longitude first.
    pub wgs84_bbox: Option<[f64; 4]>,
    /// The CRS names it is offered in, the default first.
    pub crs: Vec<String>,
}

/// The service as described.
#[derive(Debug, Clone)]
pub struct Service {
    /// The URL of the endpoint (GET and POST).
    pub url: String,
    /// Title.
    pub title: String,
    /// Abstract.
    pub abstract_text: String,
    /// The page size when `count` is not given, and the largest one.
    pub count_default: i64,
    /// Whether the Transaction operation is offered.
    pub transaction: bool,
}

/// The output formats of GetFeature (WFS 2.0).
pub const OUTPUT_FORMATS_V200: &[&str] =
    &[crate::GML32_MEDIA, "text/xml; subtype=gml/3.2", "application/json", crate::GEOJSON_MEDIA];
/// The output formats of GetFeature (WFS 1.1.0).
pub const OUTPUT_FORMATS_V110: &[&str] = &[crate::GML31_MEDIA, "application/json"];

fn dcp(url: &str) -> String {
    let url = escape(url);
    format!("<ows:DCP><ows:HTTP><ows:Get xlink:href=\"{url}\"/><ows:Post xlink:href=\"{url}\"/></ows:HTTP></ows:DCP>")
}

fn values(name: &str, values: &[&str]) -> String {
    let list: String = values.iter().map(|v| format!("<ows:Value>{}</ows:Value>", escape(v))).collect();
    format!("<ows:Parameter name=\"{name}\"><ows:AllowedValues>{list}</ows:AllowedValues></ows:Parameter>")
}

fn constraint(name: &str, value: &str) -> String {
    format!(
        "<ows:Constraint name=\"{name}\"><ows:NoValues/><ows:DefaultValue>{value}</ows:DefaultValue></ows:Constraint>"
    )
}

fn keywords(t: &FeatureType) -> String {
    if t.keywords.is_empty() {
        return String::new();
    }
    let list: String = t.keywords.iter().map(|k| format!("<ows:Keyword>{}</ows:Keyword>", escape(k))).collect();
    format!("<ows:Keywords>{list}</ows:Keywords>")
}

fn wgs84(t: &FeatureType) -> String {
    t.wgs84_bbox.map_or(String::new(), |[a, b, c, d]| {
        format!("<ows:WGS84BoundingBox><ows:LowerCorner>{a} {b}</ows:LowerCorner><ows:UpperCorner>{c} {d}</ows:UpperCorner></ows:WGS84BoundingBox>")
    })
}

fn service_identification(s: &Service, version: &str) -> String {
    format!(
        "<ows:ServiceIdentification><ows:Title>{}</ows:Title><ows:Abstract>{}</ows:Abstract><ows:ServiceType>WFS</ows:ServiceType><ows:ServiceTypeVersion>{version}</ows:ServiceTypeVersion><ows:Fees>NONE</ows:Fees><ows:AccessConstraints>NONE</ows:AccessConstraints></ows:ServiceIdentification><ows:ServiceProvider><ows:ProviderName>{}</ows:ProviderName></ows:ServiceProvider>",
        escape(&s.title),
        escape(&s.abstract_text),
        escape(&s.title)
    )
}

/// The WFS 2.0 capabilities.
pub fn v200(s: &Service, types: &[FeatureType]) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<wfs:WFS_Capabilities version=\"2.0.0\" xmlns:wfs=\"{}\" xmlns:ows=\"{}\" xmlns:fes=\"{}\" xmlns:gml=\"{}\" xmlns:xlink=\"{}\" xmlns:xsi=\"{}\" xmlns:gs=\"{}\" xsi:schemaLocation=\"{} http://schemas.opengis.net/wfs/2.0/wfs.xsd\">",
        crate::WFS20_NS,
        crate::OWS11_NS,
        crate::FES20_NS,
        crate::GML32_NS,
        crate::XLINK_NS,
        crate::XSI_NS,
        crate::FEATURE_NS,
        crate::WFS20_NS,
    );
    out.push_str(&service_identification(s, "2.0.0"));
    out.push_str("<ows:OperationsMetadata>");
    let d = dcp(&s.url);
    out.push_str(&format!(
        "<ows:Operation name=\"GetCapabilities\">{d}{}{}</ows:Operation>",
        values("AcceptVersions", &["2.0.0", "1.1.0"]),
        values("AcceptFormats", &["text/xml"])
    ));
    out.push_str(&format!(
        "<ows:Operation name=\"DescribeFeatureType\">{d}{}</ows:Operation>",
        values("outputFormat", &["application/gml+xml; version=3.2", "text/xml; subtype=gml/3.2"])
    ));
    out.push_str(&format!("<ows:Operation name=\"ListStoredQueries\">{d}</ows:Operation>"));
    out.push_str(&format!("<ows:Operation name=\"DescribeStoredQueries\">{d}</ows:Operation>"));
    for op in ["GetFeature", "GetPropertyValue"] {
        out.push_str(&format!(
            "<ows:Operation name=\"{op}\">{d}{}{}</ows:Operation>",
            values("outputFormat", OUTPUT_FORMATS_V200),
            values("resultType", &["results", "hits"])
        ));
    }
    if s.transaction {
        out.push_str(&format!("<ows:Operation name=\"Transaction\">{d}</ows:Operation>"));
    }
    out.push_str(&values("version", &["2.0.0"]));
    let t = if s.transaction { "TRUE" } else { "FALSE" };
    for (name, value) in [
        ("ImplementsBasicWFS", "TRUE"),
        ("ImplementsTransactionalWFS", t),
        ("ImplementsLockingWFS", "FALSE"),
        ("KVPEncoding", "TRUE"),
        ("XMLEncoding", "TRUE"),
        ("SOAPEncoding", "FALSE"),
        ("ImplementsInheritance", "FALSE"),
        ("ImplementsRemoteResolve", "FALSE"),
        ("ImplementsResultPaging", "TRUE"),
        ("ImplementsStandardJoins", "FALSE"),
        ("ImplementsSpatialJoins", "FALSE"),
        ("ImplementsTemporalJoins", "FALSE"),
        ("ImplementsFeatureVersioning", "FALSE"),
        ("ManageStoredQueries", "FALSE"),
    ] {
        out.push_str(&constraint(name, value));
    }
    out.push_str(&constraint("CountDefault", &s.count_default.to_string()));
    out.push_str("<ows:Constraint name=\"QueryExpressions\"><ows:AllowedValues><ows:Value>wfs:Query</ows:Value><ows:Value>wfs:StoredQuery</ows:Value></ows:AllowedValues></ows:Constraint>");
    out.push_str("</ows:OperationsMetadata><wfs:FeatureTypeList>");
    for t in types {
        feature_type(&mut out, t, "CRS", OUTPUT_FORMATS_V200);
    }
    out.push_str("</wfs:FeatureTypeList>");
    out.push_str(&filter_capabilities_v200());
    out.push_str("</wfs:WFS_Capabilities>\n");
    out
}

fn filter_capabilities_v200() -> String {
    let mut out = String::from("<fes:Filter_Capabilities><fes:Conformance>");
    for (name, value) in [
        ("ImplementsQuery", "TRUE"),
        ("ImplementsAdHocQuery", "TRUE"),
        ("ImplementsFunctions", "FALSE"),
        ("ImplementsResourceId", "TRUE"),
        ("ImplementsMinStandardFilter", "TRUE"),
        ("ImplementsStandardFilter", "TRUE"),
        ("ImplementsMinSpatialFilter", "TRUE"),
        ("ImplementsSpatialFilter", "FALSE"),
        ("ImplementsMinTemporalFilter", "FALSE"),
        ("ImplementsTemporalFilter", "FALSE"),
        ("ImplementsVersionNav", "FALSE"),
        ("ImplementsSorting", "TRUE"),
        ("ImplementsExtendedOperators", "FALSE"),
        ("ImplementsMinimumXPath", "TRUE"),
        ("ImplementsSchemaElementFunc", "FALSE"),
    ] {
        out.push_str(&format!(
            "<fes:Constraint name=\"{name}\"><ows:NoValues/><ows:DefaultValue>{value}</ows:DefaultValue></fes:Constraint>"
        ));
    }
    out.push_str("</fes:Conformance><fes:Id_Capabilities><fes:ResourceIdentifier name=\"fes:ResourceId\"/></fes:Id_Capabilities>");
    out.push_str("<fes:Scalar_Capabilities><fes:LogicalOperators/><fes:ComparisonOperators>");
    for op in COMPARISON {
        out.push_str(&format!("<fes:ComparisonOperator name=\"{op}\"/>"));
    }
    out.push_str(
        "</fes:ComparisonOperators></fes:Scalar_Capabilities><fes:Spatial_Capabilities><fes:GeometryOperands>",
    );
    for g in crate::fes::GEOMETRY_OPERANDS {
        out.push_str(&format!("<fes:GeometryOperand name=\"gml:{g}\"/>"));
    }
    out.push_str("</fes:GeometryOperands><fes:SpatialOperators>");
    for (op, _) in SPATIAL {
        out.push_str(&format!("<fes:SpatialOperator name=\"{op}\"/>"));
    }
    out.push_str("</fes:SpatialOperators></fes:Spatial_Capabilities></fes:Filter_Capabilities>");
    out
}

/// The WFS 1.1.0 capabilities (GetCapabilities, DescribeFeatureType, GetFeature).
pub fn v110(s: &Service, types: &[FeatureType]) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<wfs:WFS_Capabilities version=\"1.1.0\" xmlns:wfs=\"{}\" xmlns:ows=\"{}\" xmlns:ogc=\"{}\" xmlns:gml=\"{}\" xmlns:xlink=\"{}\" xmlns:xsi=\"{}\" xmlns:gs=\"{}\" xsi:schemaLocation=\"{} http://schemas.opengis.net/wfs/1.1.0/wfs.xsd\">",
        crate::WFS11_NS,
        crate::OWS10_NS,
        crate::OGC_NS,
        crate::GML31_NS,
        crate::XLINK_NS,
        crate::XSI_NS,
        crate::FEATURE_NS,
        crate::WFS11_NS,
    );
    out.push_str(&service_identification(s, "1.1.0"));
    out.push_str("<ows:OperationsMetadata>");
    let d = dcp(&s.url);
    out.push_str(&format!(
        "<ows:Operation name=\"GetCapabilities\">{d}{}</ows:Operation>",
        values("AcceptVersions", &["1.1.0", "2.0.0"])
    ));
    out.push_str(&format!(
        "<ows:Operation name=\"DescribeFeatureType\">{d}{}</ows:Operation>",
        values("outputFormat", &["text/xml; subtype=gml/3.1.1"])
    ));
    out.push_str(&format!(
        "<ows:Operation name=\"GetFeature\">{d}{}{}</ows:Operation>",
        values("outputFormat", OUTPUT_FORMATS_V110),
        values("resultType", &["results", "hits"])
    ));
    out.push_str("</ows:OperationsMetadata><wfs:FeatureTypeList><wfs:Operations><wfs:Operation>Query</wfs:Operation></wfs:Operations>");
    for t in types {
        feature_type(&mut out, t, "SRS", OUTPUT_FORMATS_V110);
    }
    out.push_str("</wfs:FeatureTypeList><ogc:Filter_Capabilities><ogc:Spatial_Capabilities><ogc:GeometryOperands>");
    for g in ["Envelope", "Point", "LineString", "Polygon"] {
        out.push_str(&format!("<ogc:GeometryOperand>gml:{g}</ogc:GeometryOperand>"));
    }
    out.push_str("</ogc:GeometryOperands><ogc:SpatialOperators>");
    for (op, _) in SPATIAL {
        out.push_str(&format!("<ogc:SpatialOperator name=\"{op}\"/>"));
    }
    out.push_str("</ogc:SpatialOperators></ogc:Spatial_Capabilities><ogc:Scalar_Capabilities><ogc:LogicalOperators/><ogc:ComparisonOperators>");
    for op in [
        "LessThan",
        "GreaterThan",
        "LessThanEqualTo",
        "GreaterThanEqualTo",
        "EqualTo",
        "NotEqualTo",
        "Like",
        "Between",
        "NullCheck",
    ] {
        out.push_str(&format!("<ogc:ComparisonOperator>{op}</ogc:ComparisonOperator>"));
    }
    out.push_str("</ogc:ComparisonOperators></ogc:Scalar_Capabilities><ogc:Id_Capabilities><ogc:FID/><ogc:EID/></ogc:Id_Capabilities></ogc:Filter_Capabilities></wfs:WFS_Capabilities>\n");
    out
}

/// The ListStoredQueries answer: the one stored query, returning every type listed.
pub fn list_stored_queries(type_names: &[String]) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<wfs:ListStoredQueriesResponse xmlns:wfs=\"{}\" xmlns:gs=\"{}\"><wfs:StoredQuery id=\"{}\"><wfs:Title>Get feature by identifier</wfs:Title>",
        crate::WFS20_NS,
        crate::FEATURE_NS,
        crate::GET_FEATURE_BY_ID
    );
    for t in type_names {
        out.push_str(&format!("<wfs:ReturnFeatureType>gs:{}</wfs:ReturnFeatureType>", escape(t)));
    }
    out.push_str("</wfs:StoredQuery></wfs:ListStoredQueriesResponse>\n");
    out
}

/// The DescribeStoredQueries answer.
///
/// # Errors
/// The first id asked for that is not the one stored query.
pub fn describe_stored_queries(ids: &[String], type_names: &[String]) -> Result<String, String> {
    if let Some(other) = ids.iter().find(|id| id.trim() != crate::GET_FEATURE_BY_ID) {
        return Err(format!("no stored query \"{other}\" (the one offered is {})", crate::GET_FEATURE_BY_ID));
    }
    let returned: Vec<String> = type_names.iter().map(|t| format!("gs:{}", escape(t))).collect();
    Ok(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<wfs:DescribeStoredQueriesResponse xmlns:wfs=\"{}\" xmlns:xsd=\"{}\" xmlns:gs=\"{}\"><wfs:StoredQueryDescription id=\"{}\"><wfs:Title>Get feature by identifier</wfs:Title><wfs:Abstract>Returns the one feature whose gml:id is ID (type.id), or 404.</wfs:Abstract><wfs:Parameter name=\"ID\" type=\"xsd:string\"/><wfs:QueryExpressionText isPrivate=\"true\" language=\"urn:ogc:def:queryLanguage:OGC-WFS::WFS_QueryExpression\" returnFeatureTypes=\"{}\"/></wfs:StoredQueryDescription></wfs:DescribeStoredQueriesResponse>\n",
        crate::WFS20_NS,
        crate::XSD_NS,
        crate::FEATURE_NS,
        crate::GET_FEATURE_BY_ID,
        returned.join(" ")
    ))
}

/// One `wfs:FeatureType` of a FeatureTypeList: its CRSs tagged `Default<crs_tag>` /
/// `Other<crs_tag>` (`CRS` in 2.0, `SRS` in 1.1.0) and its output formats.
fn feature_type(out: &mut String, t: &FeatureType, crs_tag: &str, formats: &[&str]) {
    out.push_str(&format!(
        "<wfs:FeatureType><wfs:Name>gs:{}</wfs:Name><wfs:Title>{}</wfs:Title><wfs:Abstract>{}</wfs:Abstract>{}",
        escape(&t.name),
        escape(&t.title),
        escape(&t.abstract_text),
        keywords(t)
    ));
    for (i, crs) in t.crs.iter().enumerate() {
        let tag = if i == 0 { "Default" } else { "Other" };
        out.push_str(&format!("<wfs:{tag}{crs_tag}>{}</wfs:{tag}{crs_tag}>", escape(crs)));
    }
    out.push_str("<wfs:OutputFormats>");
    for f in formats {
        out.push_str(&format!("<wfs:Format>{}</wfs:Format>", escape(f)));
    }
    out.push_str("</wfs:OutputFormats>");
    out.push_str(&wgs84(t));
    out.push_str("</wfs:FeatureType>");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (Service, Vec<FeatureType>) {
        (
            Service {
                url: "http://h/wfs?apikey=a&b".into(),
                title: "geosector".into(),
                abstract_text: "x".into(),
                count_default: 10_000,
                transaction: false,
            },
            vec![FeatureType {
                name: "land.parcels".into(),
                title: "Thửa đất".into(),
                abstract_text: "<parcels>".into(),
                keywords: vec!["cadastre".into()],
                wgs84_bbox: Some([105.0, 20.0, 106.0, 21.0]),
                crs: vec!["urn:ogc:def:crs:EPSG::4326".into(), "urn:ogc:def:crs:EPSG::5897".into()],
            }],
        )
    }

    #[test]
    fn v200_lists_paging_types_crs_and_operators() {
        let (s, types) = sample();
        let doc = v200(&s, &types);
        crate::xml::parse(&doc, crate::xml::Limits::default()).expect("well-formed");
        for needle in [
            "<ows:Constraint name=\"ImplementsResultPaging\"><ows:NoValues/><ows:DefaultValue>TRUE</ows:DefaultValue>",
            "<ows:Constraint name=\"ImplementsTransactionalWFS\"><ows:NoValues/><ows:DefaultValue>FALSE",
            "<wfs:Name>gs:land.parcels</wfs:Name>",
            "<wfs:DefaultCRS>urn:ogc:def:crs:EPSG::4326</wfs:DefaultCRS><wfs:OtherCRS>urn:ogc:def:crs:EPSG::5897</wfs:OtherCRS>",
            "<ows:LowerCorner>105 20</ows:LowerCorner>",
            "<fes:ComparisonOperator name=\"PropertyIsBetween\"/>",
            "<fes:SpatialOperator name=\"Within\"/>",
            "xlink:href=\"http://h/wfs?apikey=a&amp;b\"",
            "&lt;parcels&gt;",
        ] {
            assert!(doc.contains(needle), "{needle} missing");
        }
        assert!(!doc.contains("name=\"Transaction\""), "no Transaction without the module");
        assert!(!doc.contains("DWithin"), "only operators that are translated");
    }

    #[test]
    fn v110_names_srs_and_gml_311() {
        let (s, types) = sample();
        let doc = v110(&s, &types);
        crate::xml::parse(&doc, crate::xml::Limits::default()).expect("well-formed");
        assert!(doc.contains("<wfs:DefaultSRS>urn:ogc:def:crs:EPSG::4326</wfs:DefaultSRS>"));
        assert!(doc.contains("version=\"1.1.0\"") && doc.contains("text/xml; subtype=gml/3.1.1"));
    }
}
