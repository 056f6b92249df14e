//! A WFS request, typed: what [`crate::kvp`] and [`crate::post`] read and the server runs.

use crate::fes::Filter;

/// The protocol version of a request (and of its answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Version {
    /// WFS 2.0.0 (2.0.2 is answered as 2.0.0).
    #[default]
    V200,
    /// WFS 1.1.0 (GetCapabilities, DescribeFeatureType, GetFeature only).
    V110,
}

impl Version {
    /// The version string.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V200 => "2.0.0",
            Version::V110 => "1.1.0",
        }
    }
}

/// The representation of features.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// GML 3.2 (WFS 2.0's default).
    Gml32,
    /// GML 3.1.1 (WFS 1.1.0's default).
    Gml31,
    /// GeoJSON.
    GeoJson,
}

/// Whether features or only their number are asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResultType {
    /// The features.
    #[default]
    Results,
    /// Only `numberMatched` (an empty collection).
    Hits,
}

/// A bbox of the request (`BBOX=a,b,c,d[,crs]`), in the axis order of its CRS.
#[derive(Debug, Clone, PartialEq)]
pub struct Bbox {
    /// 4 numbers (or 6 with heights, which are ignored).
    pub coords: Vec<f64>,
    /// Its CRS, when given (else the query's srsName, else the default CRS).
    pub crs: Option<String>,
}

/// One query of GetFeature or GetPropertyValue (the service answers one type per query).
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The feature type names, as given (with or without a prefix).
    pub type_names: Vec<String>,
    /// The bbox.
    pub bbox: Option<Bbox>,
    /// The filter (a parsed FES filter, including `ResourceId` ones).
    pub filter: Option<Filter>,
    /// `RESOURCEID`: feature ids (`type.id`).
    pub resource_ids: Vec<String>,
    /// The CRS of the output.
    pub srs_name: Option<String>,
    /// `sortBy`: property name and whether descending.
    pub sort_by: Vec<(String, bool)>,
    /// The properties to return (`PROPERTYNAME`; `None`: all).
    pub property_names: Option<Vec<String>>,
}

/// GetFeature or GetPropertyValue.
#[derive(Debug, Clone, PartialEq)]
pub struct GetFeature {
    /// Protocol version.
    pub version: Version,
    /// The query.
    pub query: Query,
    /// `COUNT` (`MAXFEATURES` in 1.1.0).
    pub count: Option<i64>,
    /// `STARTINDEX` (0 first).
    pub start_index: i64,
    /// `RESULTTYPE`.
    pub result_type: ResultType,
    /// `OUTPUTFORMAT`.
    pub output_format: OutputFormat,
    /// `STOREDQUERY_ID=urn:ogc:def:query:OGC-WFS::GetFeatureById` with its `ID`: answer the
    /// one feature bare (or 404).
    pub by_id: Option<String>,
    /// GetPropertyValue's `VALUEREFERENCE`.
    pub value_reference: Option<String>,
}

/// A WFS request.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// GetCapabilities.
    GetCapabilities {
        /// The version answered (negotiated from `ACCEPTVERSIONS` or `VERSION`).
        version: Version,
    },
    /// DescribeFeatureType.
    DescribeFeatureType {
        /// Protocol version.
        version: Version,
        /// The types (empty: all the caller may see).
        type_names: Vec<String>,
    },
    /// GetFeature, or GetPropertyValue when `value_reference` is set.
    GetFeature(Box<GetFeature>),
    /// ListStoredQueries.
    ListStoredQueries,
    /// DescribeStoredQueries.
    DescribeStoredQueries {
        /// The ids asked for (empty: all).
        ids: Vec<String>,
    },
    /// A Transaction (POST only): handed over whole to the transaction module when the server
    /// has one.
    Transaction,
}

impl Request {
    /// The version of the answer.
    pub fn version(&self) -> Version {
        match self {
            Request::GetCapabilities { version } | Request::DescribeFeatureType { version, .. } => *version,
            Request::GetFeature(g) => g.version,
            _ => Version::V200,
        }
    }
}

/// A type name without its prefix (`gs:land.parcels` → `land.parcels`).
pub fn unprefixed(name: &str) -> &str {
    let name = name.trim();
    match name.split_once(':') {
        Some((_, local)) => local,
        None => name,
    }
}
