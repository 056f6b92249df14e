//! WFS for geosector — the Web Feature Service 2.0 (OGC 09-025r2, Simple and Basic
//! conformance, with `ImplementsResultPaging`) and the WFS 1.1.0 reads that MapInfo and older
//! ArcGIS need — as pure functions: no HTTP, no database.
//!
//! What it is for: reading a request (KVP with case-insensitive keys, or a POST XML body) into
//! a typed [`request::Request`]; turning an OGC Filter Encoding 2.0 filter into the **same
//! `cql2::Expr` the CQL2 path builds** ([`fes`]), so it is translated to SQL by
//! `geosector-filter` with every literal bound and nothing of the request spliced into SQL;
//! writing the capabilities document ([`capabilities`]), the XML Schema of a feature type
//! ([`schema`]), GML 3.2 / 3.1.1 features ([`gml`]) and OWS exception reports ([`exception`]).
//!
//! What it is not: the server (`geosector-server`'s `wfs` module) decides who may see what,
//! runs the statements and streams the answer; WFS-T Transaction is not here.
//!
//! Key decisions: feature type names are the collection ids in one namespace
//! ([`FEATURE_NS`], prefix `gs`); geometry literals and output coordinates follow the EPSG axis
//! order of the CRS named (`urn:ogc:def:crs:EPSG::4326` is latitude first), except that WFS
//! 1.1.0's `EPSG:4326` is longitude first as its clients expect.

pub mod capabilities;
pub mod exception;
pub mod fes;
pub mod gml;
pub mod kvp;
pub mod post;
pub mod request;
pub mod schema;
pub mod srs;
pub mod xml;

pub use exception::{Code, WfsError};
pub use request::{Request, Version};

/// The namespace of the feature types.
pub const FEATURE_NS: &str = "urn:geosector:features";
/// The prefix of the feature types' namespace.
pub const FEATURE_PREFIX: &str = "gs";
/// WFS 2.0.
pub const WFS20_NS: &str = "http://www.opengis.net/wfs/2.0";
/// WFS 1.1.0.
pub const WFS11_NS: &str = "http://www.opengis.net/wfs";
/// Filter Encoding 2.0.
pub const FES20_NS: &str = "http://www.opengis.net/fes/2.0";
/// Filter Encoding 1.1 (WFS 1.1.0).
pub const OGC_NS: &str = "http://www.opengis.net/ogc";
/// OWS 1.1.
pub const OWS11_NS: &str = "http://www.opengis.net/ows/1.1";
/// OWS 1.0 (WFS 1.1.0).
pub const OWS10_NS: &str = "http://www.opengis.net/ows";
/// GML 3.2.
pub const GML32_NS: &str = "http://www.opengis.net/gml/3.2";
/// GML 3.1.1.
pub const GML31_NS: &str = "http://www.opengis.net/gml";
/// XML Schema.
pub const XSD_NS: &str = "http://www.w3.org/2001/XMLSchema";
/// XML Schema instances.
pub const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// XLink.
pub const XLINK_NS: &str = "http://www.w3.org/1999/xlink";

/// The id of the one stored query every WFS 2.0 offers.
pub const GET_FEATURE_BY_ID: &str = "urn:ogc:def:query:OGC-WFS::GetFeatureById";

/// The media type of GML 3.2 features (the default output of WFS 2.0).
pub const GML32_MEDIA: &str = "application/gml+xml; version=3.2";
/// The output format name of GML 3.1.1 (the default of WFS 1.1.0).
pub const GML31_MEDIA: &str = "text/xml; subtype=gml/3.1.1";
/// The media type of GeoJSON.
pub const GEOJSON_MEDIA: &str = "application/geo+json";
