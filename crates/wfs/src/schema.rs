//! DescribeFeatureType: the XML Schema of feature types, GML 3.2 simple features profile (or
//! GML 3.1.1 for WFS 1.1.0). One element per type (`gs:<collection id>`) substituting for
//! `gml:AbstractFeature`, its properties in declaration order, each optional, lists repeated,
//! the geometry last.

use crate::gml::{GeometrySpec, GmlVersion, PropertySpec};
use crate::xml::escape;

/// A feature type as its schema describes it.
#[derive(Debug, Clone)]
pub struct TypeSchema {
    /// Its name (the collection id).
    pub name: String,
    /// Its properties, in order.
    pub properties: Vec<PropertySpec>,
    /// Its geometry.
    pub geometry: Option<GeometrySpec>,
}

/// Where the GML schemas are (the OGC's schema repository).
pub fn gml_schema_location(version: GmlVersion) -> &'static str {
    match version {
        GmlVersion::V32 => "http://schemas.opengis.net/gml/3.2.1/gml.xsd",
        GmlVersion::V31 => "http://schemas.opengis.net/gml/3.1.1/base/gml.xsd",
    }
}

/// The schema of these types.
pub fn write(types: &[TypeSchema], version: GmlVersion) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xsd:schema xmlns:xsd=\"{}\" xmlns:gml=\"{}\" xmlns:gs=\"{}\" targetNamespace=\"{}\" elementFormDefault=\"qualified\" version=\"1.0\">\n  <xsd:import namespace=\"{}\" schemaLocation=\"{}\"/>\n",
        crate::XSD_NS,
        version.namespace(),
        crate::FEATURE_NS,
        crate::FEATURE_NS,
        version.namespace(),
        gml_schema_location(version),
    );
    let substitution = match version {
        GmlVersion::V32 => "gml:AbstractFeature",
        GmlVersion::V31 => "gml:_Feature",
    };
    for t in types {
        let name = escape(&t.name);
        out.push_str(&format!(
            "  <xsd:element name=\"{name}\" type=\"gs:{name}_Type\" substitutionGroup=\"{substitution}\"/>\n  <xsd:complexType name=\"{name}_Type\">\n    <xsd:complexContent>\n      <xsd:extension base=\"gml:AbstractFeatureType\">\n        <xsd:sequence>\n"
        ));
        for p in &t.properties {
            let max = if p.list { " maxOccurs=\"unbounded\"" } else { "" };
            out.push_str(&format!(
                "          <xsd:element name=\"{}\" type=\"{}\" minOccurs=\"0\"{max}/>\n",
                escape(p.name),
                p.xsd.qname()
            ));
        }
        if let Some(g) = &t.geometry {
            out.push_str(&format!(
                "          <xsd:element name=\"{}\" type=\"{}\" minOccurs=\"0\"/>\n",
                escape(g.name),
                g.property_type()
            ));
        }
        out.push_str(
            "        </xsd:sequence>\n      </xsd:extension>\n    </xsd:complexContent>\n  </xsd:complexType>\n",
        );
    }
    out.push_str("</xsd:schema>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use geosector_domain::{FieldType, GeometryKind};

    #[test]
    fn a_type_extends_the_abstract_feature() {
        let t = TypeSchema {
            name: "land.parcels".into(),
            properties: vec![
                PropertySpec::of("commune_code", FieldType::Code { digits: 5 }, false),
                PropertySpec::of("land_use_codes", FieldType::TextList, false),
                PropertySpec::of("area_m2", FieldType::Float, false),
            ],
            geometry: Some(GeometrySpec { name: "geom", kind: GeometryKind::MultiPolygon }),
        };
        let xsd = write(std::slice::from_ref(&t), GmlVersion::V32);
        assert!(xsd.contains("<xsd:element name=\"land.parcels\" type=\"gs:land.parcels_Type\" substitutionGroup=\"gml:AbstractFeature\"/>"));
        assert!(xsd.contains(
            "<xsd:element name=\"land_use_codes\" type=\"xsd:string\" minOccurs=\"0\" maxOccurs=\"unbounded\"/>"
        ));
        assert!(xsd.contains("<xsd:element name=\"geom\" type=\"gml:MultiSurfacePropertyType\" minOccurs=\"0\"/>"));
        assert!(xsd.contains("schemaLocation=\"http://schemas.opengis.net/gml/3.2.1/gml.xsd\""));
        let old = write(&[t], GmlVersion::V31);
        assert!(old.contains("substitutionGroup=\"gml:_Feature\"") && old.contains(crate::GML31_NS));
        crate::xml::parse(&xsd, crate::xml::Limits::default()).expect("well-formed");
    }
}
