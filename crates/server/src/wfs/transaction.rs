//! WFS-T: the `Transaction` operation (Insert, Update, Delete) of WFS 2.0, 1.1.0 and 1.0.0,
//! applied through the editing path ([`crate::edit::apply`]): one transaction is one changeset,
//! all or nothing, with the caller's `write` grant and area, the sector's rules, versions in the
//! history and the audit row — the same as an OGC API - Features - Part 4 edit.
//!
//! Feature ids are `<collection id>.<id>` (`sector.things.601`, the read side's `gml:id`); a
//! `fes:ResourceId` with `version="n"` applies only while the feature is at version n (412
//! otherwise). Update and Delete select features by `fes:ResourceId`, `ogc:FeatureId` or
//! `ogc:GmlObjectId`; other filters are refused, naming the filter. Geometries are GML 2, 3.1.1
//! or 3.2 ([`gml`]); their `srsName` says the CRS and the axis order: the EPSG URNs and URIs in
//! the EPSG order (EPSG:4326 latitude first), `EPSG:n` and `…/epsg.xml#n` easting first, and a
//! WFS 1.0.0 transaction always easting first (GML 2, and what QGIS writes there).
//!
//! QGIS 3.22 edits a WFS 2.0.0 layer with WFS 1.0.0 transactions (namespace
//! `http://www.opengis.net/wfs`, GML 2 geometries, `ogc:FeatureId`) and reads the 1.0.0 answer;
//! it shows a failure's text only from an answer with status 200. So the answer follows the
//! request's version, and WFS 1.x failures are sent as documents with status 200 (a
//! `WFS_TransactionResponse` with `FAILED` for 1.0.0, an exception report for 1.1.0), except
//! 401/403 and server failures; WFS 2.0 failures carry their HTTP status (OGC 09-025r2, table D.2).

pub mod gml;
pub mod xml;

use std::collections::HashMap;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use geosector_crs::ApiCrs;
use quick_xml::escape::escape;
use serde_json::{json, Map, Value};

use crate::auth::{self, Caller};
use crate::edit::input::Preconditions;
use crate::edit::{self, Applied, Edit, EditKind};
use crate::error::ApiError;
use crate::state::AppState;
use xml::Element;

/// WFS 2.0 namespace.
pub const WFS20: &str = "http://www.opengis.net/wfs/2.0";
/// WFS 1.0.0 and 1.1.0 namespace.
pub const WFS1: &str = "http://www.opengis.net/wfs";
/// FES 2.0 namespace.
pub const FES20: &str = "http://www.opengis.net/fes/2.0";
/// OGC Filter 1.x namespace.
pub const OGC: &str = "http://www.opengis.net/ogc";
/// XML Schema instance namespace (`xsi:nil`).
const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// The most features one transaction may touch.
pub const MAX_EDITS: usize = 10_000;

/// The WFS version of a transaction, which its answer follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// WFS 1.0.0 (GML 2; what QGIS 3.22 sends).
    V100,
    /// WFS 1.1.0 (GML 3.1.1).
    V110,
    /// WFS 2.0.0 / 2.0.2 (GML 3.2, FES 2.0).
    V200,
}

/// A failure, as an exception report (or a `FAILED` transaction response) will say it.
#[derive(Debug, Clone)]
pub struct Fault {
    /// The HTTP status WFS 2.0 gives it.
    pub status: StatusCode,
    /// The OWS exception code.
    pub code: &'static str,
    /// What it is about (an action, a parameter).
    pub locator: Option<String>,
    /// The sentences: the first says it all, the others list findings.
    pub texts: Vec<String>,
}

impl Fault {
    fn new(status: StatusCode, code: &'static str, locator: Option<&str>, text: impl Into<String>) -> Fault {
        Fault { status, code, locator: locator.map(str::to_owned), texts: vec![text.into()] }
    }

    /// A request that is not a transaction geosector reads (400 `OperationParsingFailed`).
    pub fn parsing(locator: Option<&str>, text: impl Into<String>) -> Fault {
        Fault::new(StatusCode::BAD_REQUEST, "OperationParsingFailed", locator, text)
    }

    fn invalid(locator: &str, text: impl Into<String>) -> Fault {
        Fault::new(StatusCode::BAD_REQUEST, "InvalidParameterValue", Some(locator), text)
    }

    /// The fault of an API error of the editing path; `labels` name the edits (`operation n:`
    /// in messages and `"operation": n` in findings become the action they came from).
    pub fn from_api(e: ApiError, labels: &[String]) -> Fault {
        let (locator, message) = relabel(&e.to_string(), labels);
        let status = actix_web::ResponseError::status_code(&e);
        match e {
            ApiError::BadParameter { param, .. } => Fault::new(status, "InvalidParameterValue", Some(&param), message),
            ApiError::NotFound(_) | ApiError::Gone(_) => Fault::new(status, "NotFound", locator.as_deref(), message),
            ApiError::Unprocessable { findings, .. } => {
                let mut texts = vec![message];
                let mut locator = locator;
                for finding in findings.as_array().into_iter().flatten() {
                    if locator.is_none() {
                        locator =
                            finding["operation"].as_u64().and_then(|i| labels.get(usize::try_from(i).ok()?)).cloned();
                    }
                    texts.push(finding_text(finding));
                }
                Fault {
                    // WFS gives InvalidParameterValue a 400 (the API answers 422).
                    status: StatusCode::BAD_REQUEST,
                    code: "InvalidParameterValue",
                    locator: locator.or_else(|| labels.first().cloned()),
                    texts,
                }
            }
            ApiError::Internal(_) | ApiError::Unavailable(_) => {
                // Logged (and the 503's Retry-After) by the API error itself.
                let _ = actix_web::ResponseError::error_response(&e);
                Fault::new(status, "NoApplicableCode", None, message)
            }
            _ => Fault::new(status, "OperationProcessingFailed", locator.as_deref(), message),
        }
    }
}

/// A message's `operation n: ` prefix replaced by the label of edit n; the label is the locator.
/// Without a prefix, a transaction of one edit is located at that edit.
fn relabel(message: &str, labels: &[String]) -> (Option<String>, String) {
    if let Some(rest) = message.strip_prefix("operation ") {
        if let Some((n, tail)) = rest.split_once(": ") {
            if let Some(label) = n.parse::<usize>().ok().and_then(|i| labels.get(i)) {
                return (Some(label.clone()), format!("{label}: {tail}"));
            }
        }
    }
    match labels {
        [one] => (Some(one.clone()), format!("{one}: {message}")),
        _ => (None, message.to_owned()),
    }
}

/// One finding in one line: rule (severity): message [field] [at lon lat].
fn finding_text(finding: &Value) -> String {
    let mut text = format!(
        "{} ({}): {}",
        finding["rule"].as_str().unwrap_or("rule"),
        finding["severity"].as_str().unwrap_or("reject"),
        finding["message"].as_str().unwrap_or("")
    );
    if let Some(field) = finding["field"].as_str() {
        text.push_str(&format!(" [field {field}]"));
    }
    if let Some([lon, lat]) =
        finding["location"]["coordinates"].as_array().map(|c| [c[0].clone(), c.get(1).cloned().unwrap_or(Value::Null)])
    {
        text.push_str(&format!(" [at {lon} {lat}]"));
    }
    text
}

/// What a transaction will do: its edits, a label per edit for messages, the totals and the
/// inserted features per Insert action (its handle and the indexes of its edits).
struct Plan {
    edits: Vec<Edit>,
    labels: Vec<String>,
    inserts: Vec<(Option<String>, Vec<usize>)>,
}

/// Answers a `Transaction` document (the body of a POST to `/wfs`).
pub async fn handle(state: &AppState, req: &HttpRequest, body: &[u8]) -> HttpResponse {
    let root = match xml::parse(body) {
        Ok(root) => root,
        Err(why) => return exception(Version::V200, &Fault::parsing(Some("body"), why)),
    };
    let version = match version_of(&root) {
        Ok(v) => v,
        Err(fault) => return exception(Version::V200, &fault),
    };
    match transaction(state, req, &root, version).await {
        Ok(response) => response,
        Err(fault) => exception(version, &fault),
    }
}

/// Whether a body's root element is a `Transaction` (in any namespace), read only up to it: the
/// POST dispatcher hands such a body here whatever its version (1.0.0 included).
pub fn is_transaction(body: &[u8]) -> bool {
    let mut reader = quick_xml::Reader::from_reader(body);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e)) => {
                return e.local_name().as_ref() == b"Transaction"
            }
            Ok(quick_xml::events::Event::Eof) | Err(_) => return false,
            Ok(_) => {}
        }
    }
}

/// The version of a `Transaction` root element.
///
/// # Errors
/// 400 when the root is not a WFS `Transaction` or names a version geosector does not speak.
pub fn version_of(root: &Element) -> Result<Version, Fault> {
    if root.name != "Transaction" || (root.ns != WFS20 && root.ns != WFS1) {
        return Err(Fault::parsing(
            Some("request"),
            format!(
                "the body's root element is <{}> ({}); expected a wfs:Transaction",
                root.name,
                if root.ns.is_empty() { "no namespace" } else { &root.ns }
            ),
        ));
    }
    if let Some(service) = root.attr("service") {
        if service != "WFS" {
            return Err(Fault::invalid("service", format!("service=\"{service}\"; expected WFS")));
        }
    }
    match (root.attr("version").map(str::trim), root.ns.as_str()) {
        (Some("2.0.0" | "2.0.2"), WFS20) | (None, WFS20) => Ok(Version::V200),
        (Some("1.1.0"), WFS1) | (None, WFS1) => Ok(Version::V110),
        (Some("1.0.0"), WFS1) => Ok(Version::V100),
        (None, ns) => Err(Fault::parsing(Some("version"), format!("no version in namespace {ns}"))),
        (Some(v), ns) => Err(Fault::new(
            StatusCode::BAD_REQUEST,
            "VersionNegotiationFailed",
            Some("version"),
            format!("version=\"{v}\" in namespace {ns}: geosector's transactions are WFS 2.0.0 ({WFS20}), 1.1.0 and 1.0.0 ({WFS1})"),
        )),
    }
}

async fn transaction(
    state: &AppState,
    req: &HttpRequest,
    root: &Element,
    version: Version,
) -> Result<HttpResponse, Fault> {
    let caller = auth::caller(state, req).await.map_err(|e| Fault::from_api(e, &[]))?;
    let plan = plan(state, &caller, root, version)?;
    let mut changeset = edit::changeset_of(req, &caller).map_err(|e| Fault::from_api(e, &[]))?;
    if changeset.note.is_none() {
        changeset.note = root.attr("handle").map(str::trim).filter(|h| !h.is_empty()).map(str::to_owned);
    }
    let mut collections: Vec<&str> = plan.edits.iter().map(|e| e.collection.id()).collect();
    collections.sort_unstable();
    collections.dedup();
    edit::check_change_type(state, &collections, changeset.change_type.as_deref(), "Geosector-Change-Type")
        .map_err(|e| Fault::from_api(e, &[]))?;
    let applied = if plan.edits.is_empty() {
        Vec::new()
    } else {
        edit::apply(state, req, &caller, &changeset, &plan.edits).await.map_err(|e| Fault::from_api(e, &plan.labels))?.1
    };
    Ok(HttpResponse::Ok().content_type("text/xml; charset=utf-8").body(response(version, &plan, &applied)))
}

/// The edits of a transaction's actions, each collection opened for writing by the caller.
fn plan(state: &AppState, caller: &Caller, root: &Element, version: Version) -> Result<Plan, Fault> {
    let mut opened: HashMap<String, auth::Opened> = HashMap::new();
    let mut open = |type_name: &str, locator: &str| -> Result<auth::Opened, Fault> {
        let id = collection_id(type_name);
        if let Some(o) = opened.get(&id) {
            return Ok(o.clone());
        }
        let o = edit::writable(state, caller, &id).map_err(|e| match e {
            ApiError::MethodNotAllowed { message, .. } => {
                Fault::new(StatusCode::BAD_REQUEST, "InvalidParameterValue", Some(locator), message)
            }
            other => {
                let mut fault = Fault::from_api(other, &[]);
                fault.locator.get_or_insert_with(|| locator.to_owned());
                fault
            }
        })?;
        opened.insert(id, o.clone());
        Ok(o)
    };
    let mut plan = Plan { edits: Vec::new(), labels: Vec::new(), inserts: Vec::new() };
    let (mut inserts, mut updates, mut deletes) = (0, 0, 0);
    for action in &root.children {
        if action.ns != root.ns {
            return Err(Fault::parsing(
                Some(&action.name),
                format!("<{}> ({}) is not a transaction action", action.name, action.ns),
            ));
        }
        let handle = action.attr("handle").map(str::to_owned);
        match action.name.as_str() {
            "Insert" => {
                inserts += 1;
                let name = label("Insert", inserts, handle.as_deref());
                let mut indexes = Vec::new();
                for (n, element) in action.children.iter().enumerate() {
                    let at = format!("{name}, feature {}", n + 1);
                    let o = open(&element.name, &at)?;
                    let (feature, crs) = insert_feature(element, version, &at)?;
                    indexes.push(plan.edits.len());
                    plan.labels.push(at);
                    plan.edits.push(edit_of(o, EditKind::Create(feature), crs, None));
                }
                plan.inserts.push((handle, indexes));
            }
            "Update" => {
                updates += 1;
                let name = label("Update", updates, handle.as_deref());
                let o = open(type_name(action, &name)?, &name)?;
                let (patch, crs) = update_patch(action, version, &name)?;
                for (id, at_version) in selected(action, o.collection.id(), &name)? {
                    plan.labels.push(format!("{name}, feature {}.{id}", o.collection.id()));
                    plan.edits.push(edit_of(o.clone(), EditKind::Patch(id, patch.clone()), crs, at_version));
                }
            }
            "Delete" => {
                deletes += 1;
                let name = label("Delete", deletes, handle.as_deref());
                let o = open(type_name(action, &name)?, &name)?;
                for (id, at_version) in selected(action, o.collection.id(), &name)? {
                    plan.labels.push(format!("{name}, feature {}.{id}", o.collection.id()));
                    plan.edits.push(edit_of(o.clone(), EditKind::Delete(id), ApiCrs::Crs84, at_version));
                }
            }
            "Replace" | "Native" => {
                return Err(Fault::new(
                    StatusCode::NOT_IMPLEMENTED,
                    "OperationNotSupported",
                    Some(&action.name),
                    format!(
                        "wfs:{} is not offered; use wfs:Update (or OGC API - Features PUT) to replace a feature",
                        action.name
                    ),
                ))
            }
            "LockId" => return Err(Fault::new(
                StatusCode::NOT_IMPLEMENTED,
                "OperationNotSupported",
                Some("LockId"),
                "locks are not offered: state the version a change starts from with fes:ResourceId's version attribute",
            )),
            other => {
                return Err(Fault::parsing(
                    Some(other),
                    format!("<wfs:{other}> is not a transaction action (Insert, Update, Delete)"),
                ))
            }
        }
        if plan.edits.len() > MAX_EDITS {
            return Err(Fault::invalid("Transaction", format!("a transaction touches at most {MAX_EDITS} features")));
        }
    }
    Ok(plan)
}

fn label(action: &str, n: usize, handle: Option<&str>) -> String {
    match handle {
        Some(h) => format!("{action} {n} (handle \"{h}\")"),
        None => format!("{action} {n}"),
    }
}

fn edit_of(opened: auth::Opened, kind: EditKind, crs: ApiCrs, version: Option<i32>) -> Edit {
    let id = match &kind {
        EditKind::Patch(id, _) | EditKind::Delete(id) | EditKind::Replace(id, _) => Some(*id),
        EditKind::Create(_) => None,
    };
    let preconditions = match (id, version) {
        (Some(id), Some(v)) => {
            Preconditions { if_match: Some(vec![crate::etag::feature(id, v, 0)]), if_unmodified_since: None }
        }
        _ => Preconditions::default(),
    };
    Edit { kind, collection: opened.collection, scope: opened.scope, crs, preconditions, parents: Vec::new() }
}

/// The collection a feature type name names: its local part (`gs:sector.things` →
/// `sector.things`).
pub fn collection_id(type_name: &str) -> String {
    let local = type_name.trim().rsplit(':').next().unwrap_or_default();
    local.to_owned()
}

fn type_name<'a>(action: &'a Element, name: &str) -> Result<&'a str, Fault> {
    action
        .attr("typeName")
        .or_else(|| action.attr("typeNames"))
        .ok_or_else(|| Fault::parsing(Some(name), format!("{name} has no typeName")))
}

/// The GeoJSON feature of an inserted feature element, and the CRS of its coordinates.
fn insert_feature(element: &Element, version: Version, at: &str) -> Result<(Value, ApiCrs), Fault> {
    let mut properties = Map::new();
    let mut geometry = Value::Null;
    let mut crs = ApiCrs::Crs84;
    for property in &element.children {
        if gml::is_gml(property) {
            continue; // gml:name, gml:description, gml:boundedBy: not properties of the collections.
        }
        match value_of(property, version, at)? {
            Read::Geometry(json, geometry_crs) => {
                if !geometry.is_null() {
                    return Err(Fault::invalid(
                        at,
                        format!("{at}: a second geometry (<{}>); a feature has one", property.name),
                    ));
                }
                geometry = json;
                crs = geometry_crs;
            }
            Read::Value(value) => match properties.get_mut(&property.name) {
                // A repeated property is a list (the read side writes a list of codes so).
                Some(Value::Array(items)) => items.push(value),
                Some(first) => *first = Value::Array(vec![first.take(), value]),
                None => {
                    properties.insert(property.name.clone(), value);
                }
            },
        }
    }
    Ok((json!({ "type": "Feature", "geometry": geometry, "properties": properties }), crs))
}

/// A property's content: a geometry, or a value (text; `xsi:nil` or nothing is null).
enum Read {
    Geometry(Value, ApiCrs),
    Value(Value),
}

fn value_of(property: &Element, version: Version, at: &str) -> Result<Read, Fault> {
    if property.attr_ns(XSI, "nil").is_some_and(|v| v.trim() == "true") {
        return Ok(Read::Value(Value::Null));
    }
    match property.children.as_slice() {
        [] => Ok(Read::Value(if property.text.trim().is_empty() {
            Value::Null
        } else {
            Value::String(property.text.clone())
        })),
        [geometry] if gml::is_gml(geometry) => {
            let read =
                gml::read(geometry).map_err(|why| Fault::invalid(at, format!("{at}, {}: {why}", property.name)))?;
            let (crs, east_north) = crs_of(read.srs_name.as_deref(), version)
                .map_err(|why| Fault::invalid(at, format!("{at}, {}: {why}", property.name)))?;
            let mut json = read.json;
            if east_north && crs.swaps_axes() {
                crate::edit::input::swap_axes(&mut json);
            }
            Ok(Read::Geometry(json, crs))
        }
        _ => Err(Fault::invalid(
            at,
            format!("{at}: the property {} holds elements; a property holds text or one GML geometry", property.name),
        )),
    }
}

/// The CRS a `srsName` names and whether the coordinates are written easting (longitude)
/// first. No `srsName`: EPSG:4326 as its EPSG definition orders it (latitude first) in WFS 1.1
/// and 2.0, longitude first in WFS 1.0.
///
/// # Errors
/// A sentence naming the `srsName` that is not a CRS of the server.
pub fn crs_of(srs_name: Option<&str>, version: Version) -> Result<(ApiCrs, bool), String> {
    let gml2 = version == Version::V100;
    let Some(name) = srs_name.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok((ApiCrs::Epsg(4326), gml2));
    };
    let lower = name.to_ascii_lowercase();
    let legacy = lower
        .strip_prefix("epsg:")
        .or_else(|| lower.strip_prefix("http://www.opengis.net/gml/srs/epsg.xml#"))
        .or_else(|| lower.strip_prefix("https://www.opengis.net/gml/srs/epsg.xml#"));
    let (uri, east_north) = match legacy {
        Some(code) => (format!("urn:ogc:def:crs:EPSG::{code}"), true),
        None => match lower.strip_prefix("urn:x-ogc:def:crs:epsg:") {
            Some(rest) => (format!("urn:ogc:def:crs:EPSG::{}", rest.rsplit(':').next().unwrap_or(rest)), gml2),
            None => (name.to_owned(), gml2),
        },
    };
    let crs = ApiCrs::parse(&uri).map_err(|e| format!("srsName=\"{name}\": {e}"))?;
    Ok((crs, east_north || crs == ApiCrs::Crs84))
}

/// The merge patch of an Update's properties (`wfs:Property` with `wfs:ValueReference` (2.0)
/// or `wfs:Name` (1.x), and `wfs:Value`; no value: null), and the CRS of its geometry.
fn update_patch(action: &Element, version: Version, name: &str) -> Result<(Value, ApiCrs), Fault> {
    let mut properties = Map::new();
    let mut geometry = None;
    let mut crs = ApiCrs::Crs84;
    for property in action.children_named("Property") {
        let reference = property
            .child("ValueReference")
            .or_else(|| property.child("Name"))
            .map(|r| r.trimmed())
            .filter(|r| !r.is_empty())
            .ok_or_else(|| {
                Fault::parsing(Some(name), format!("{name}: a wfs:Property without wfs:ValueReference or wfs:Name"))
            })?;
        if let Some(action) = property.child("ValueReference").and_then(|r| r.attr("action")) {
            if action != "replace" && action != "remove" {
                return Err(Fault::invalid(
                    name,
                    format!(
                        "{name}: action=\"{action}\" on {reference}; geosector replaces or removes a property's value"
                    ),
                ));
            }
        }
        let property_name = reference.trim_start_matches("./").rsplit(':').next().unwrap_or(reference);
        if property_name.contains(['/', '[', '@', '(']) {
            return Err(Fault::invalid(
                name,
                format!("{name}: {reference} is not a property name (XPath beyond a name is not read)"),
            ));
        }
        let remove = property.child("ValueReference").and_then(|r| r.attr("action")) == Some("remove");
        let value = match (property.child("Value"), remove) {
            (Some(value), false) => value_of(value, version, name)?,
            _ => Read::Value(Value::Null),
        };
        match value {
            Read::Geometry(json, geometry_crs) => {
                geometry = Some(json);
                crs = geometry_crs;
            }
            Read::Value(value) => {
                properties.insert(property_name.to_owned(), value);
            }
        }
    }
    if properties.is_empty() && geometry.is_none() {
        return Err(Fault::parsing(Some(name), format!("{name} changes no property (no wfs:Property)")));
    }
    let mut patch = json!({ "properties": properties });
    if let Some(g) = geometry {
        patch["geometry"] = g;
    }
    Ok((patch, crs))
}

/// The features an Update or Delete selects, each with the version it must be at (if stated).
fn selected(action: &Element, collection: &str, name: &str) -> Result<Vec<(i64, Option<i32>)>, Fault> {
    let filter = action.child("Filter").filter(|f| f.ns == FES20 || f.ns == OGC).ok_or_else(|| {
        Fault::parsing(Some(name), format!("{name} has no fes:Filter (ogc:Filter) selecting its features"))
    })?;
    let mut ids = Vec::new();
    for condition in &filter.children {
        let (rid, version) = match condition.name.as_str() {
            "ResourceId" => (condition.attr("rid"), condition.attr("version")),
            "FeatureId" => (condition.attr("fid"), None),
            "GmlObjectId" => (condition.attr_ns(gml::GML, "id").or_else(|| condition.attr("id")), None),
            other => {
                return Err(Fault::new(
                    StatusCode::BAD_REQUEST,
                    "OperationProcessingFailed",
                    Some(name),
                    format!("{name}: the filter <{other}> is not taken in a transaction; select features by fes:ResourceId (ogc:FeatureId, ogc:GmlObjectId)"),
                ))
            }
        };
        let rid = rid.map(str::trim).filter(|r| !r.is_empty()).ok_or_else(|| {
            Fault::parsing(Some(name), format!("{name}: <{}> without its identifier", condition.name))
        })?;
        let id = feature_id(rid, collection)
            .map_err(|why| Fault::new(StatusCode::NOT_FOUND, "NotFound", Some(name), format!("{name}: {why}")))?;
        let version = match version.map(str::trim) {
            None | Some("LAST" | "ALL") => None,
            Some(v) => Some(v.parse::<i32>().ok().filter(|v| *v > 0).ok_or_else(|| {
                Fault::invalid(
                    name,
                    format!("{name}: version=\"{v}\" of {rid}; a transaction states a version number (or LAST)"),
                )
            })?),
        };
        ids.push((id, version));
    }
    if ids.is_empty() {
        return Err(Fault::parsing(Some(name), format!("{name}: the filter selects no feature")));
    }
    Ok(ids)
}

/// The id of a feature of `collection` from its identifier: `<collection>.<id>` or `<id>`.
fn feature_id(rid: &str, collection: &str) -> Result<i64, String> {
    let id = match rid.rsplit_once('.') {
        Some((prefix, id)) if prefix == collection => id,
        Some(_) => return Err(format!("{rid} is not a feature of {collection}")),
        None => rid,
    };
    id.parse::<i64>().map_err(|_| format!("feature {rid} not found"))
}

/// The `TransactionResponse` of a successful transaction, in the request's version.
fn response(version: Version, plan: &Plan, applied: &[Applied]) -> String {
    let count = |f: fn(&EditKind) -> bool| plan.edits.iter().filter(|e| f(&e.kind)).count();
    let inserted = count(|k| matches!(k, EditKind::Create(_)));
    let updated = count(|k| matches!(k, EditKind::Patch(..) | EditKind::Replace(..)));
    let deleted = count(|k| matches!(k, EditKind::Delete(_)));
    let rid = |i: usize| applied.get(i).map(|a| format!("{}.{}", a.collection, a.id)).unwrap_or_default();
    let handle =
        |h: &Option<String>| h.as_ref().map(|h| format!(" handle=\"{}\"", escape(h.as_str()))).unwrap_or_default();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    match version {
        Version::V100 => {
            out.push_str(&format!(
                "<wfs:WFS_TransactionResponse version=\"1.0.0\" xmlns:wfs=\"{WFS1}\" xmlns:ogc=\"{OGC}\">"
            ));
            for (h, indexes) in &plan.inserts {
                out.push_str(&format!("<wfs:InsertResult{}>", handle(h)));
                for &i in indexes {
                    out.push_str(&format!("<ogc:FeatureId fid=\"{}\"/>", escape(rid(i).as_str())));
                }
                out.push_str("</wfs:InsertResult>");
            }
            out.push_str("<wfs:TransactionResult><wfs:Status><wfs:SUCCESS/></wfs:Status></wfs:TransactionResult></wfs:WFS_TransactionResponse>");
        }
        Version::V110 => {
            out.push_str(&format!(
                "<wfs:TransactionResponse version=\"1.1.0\" xmlns:wfs=\"{WFS1}\" xmlns:ogc=\"{OGC}\">"
            ));
            out.push_str(&format!("<wfs:TransactionSummary><wfs:totalInserted>{inserted}</wfs:totalInserted><wfs:totalUpdated>{updated}</wfs:totalUpdated><wfs:totalDeleted>{deleted}</wfs:totalDeleted></wfs:TransactionSummary>"));
            if inserted > 0 {
                out.push_str("<wfs:InsertResults>");
                for (h, indexes) in &plan.inserts {
                    for &i in indexes {
                        out.push_str(&format!(
                            "<wfs:Feature{}><ogc:FeatureId fid=\"{}\"/></wfs:Feature>",
                            handle(h),
                            escape(rid(i).as_str())
                        ));
                    }
                }
                out.push_str("</wfs:InsertResults>");
            }
            out.push_str("</wfs:TransactionResponse>");
        }
        Version::V200 => {
            out.push_str(&format!(
                "<wfs:TransactionResponse version=\"2.0.0\" xmlns:wfs=\"{WFS20}\" xmlns:fes=\"{FES20}\">"
            ));
            out.push_str(&format!("<wfs:TransactionSummary><wfs:totalInserted>{inserted}</wfs:totalInserted><wfs:totalUpdated>{updated}</wfs:totalUpdated><wfs:totalReplaced>0</wfs:totalReplaced><wfs:totalDeleted>{deleted}</wfs:totalDeleted></wfs:TransactionSummary>"));
            let resource = |i: usize| {
                let version =
                    applied.get(i).and_then(|a| a.version).map(|v| format!(" version=\"{v}\"")).unwrap_or_default();
                format!("<fes:ResourceId rid=\"{}\"{version}/>", escape(rid(i).as_str()))
            };
            if inserted > 0 {
                out.push_str("<wfs:InsertResults>");
                for (h, indexes) in &plan.inserts {
                    for &i in indexes {
                        out.push_str(&format!("<wfs:Feature{}>{}</wfs:Feature>", handle(h), resource(i)));
                    }
                }
                out.push_str("</wfs:InsertResults>");
            }
            if updated > 0 {
                out.push_str("<wfs:UpdateResults>");
                for (i, e) in plan.edits.iter().enumerate() {
                    if matches!(e.kind, EditKind::Patch(..)) {
                        out.push_str(&format!("<wfs:Feature>{}</wfs:Feature>", resource(i)));
                    }
                }
                out.push_str("</wfs:UpdateResults>");
            }
            out.push_str("</wfs:TransactionResponse>");
        }
    }
    out
}

/// The answer to a failure, in the request's version: an OWS exception report (WFS 2.0: OWS
/// 1.1 with the HTTP status of the code; WFS 1.1.0: OWS 1.0), or for WFS 1.0.0 a
/// `WFS_TransactionResponse` whose status is `FAILED` and whose message lists every text. WFS
/// 1.x answers have status 200 unless the failure is about credentials or the server.
pub fn exception(version: Version, fault: &Fault) -> HttpResponse {
    let locator = fault.locator.as_ref().map(|l| format!(" locator=\"{}\"", escape(l.as_str()))).unwrap_or_default();
    let texts: String =
        fault.texts.iter().map(|t| format!("<ows:ExceptionText>{}</ows:ExceptionText>", escape(t.as_str()))).collect();
    let body = match version {
        Version::V200 => format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ows:ExceptionReport xmlns:ows=\"http://www.opengis.net/ows/1.1\" version=\"2.0.0\" xml:lang=\"en\"><ows:Exception exceptionCode=\"{}\"{locator}>{texts}</ows:Exception></ows:ExceptionReport>",
            fault.code
        ),
        Version::V110 => format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ows:ExceptionReport xmlns:ows=\"http://www.opengis.net/ows\" version=\"1.0.0\" language=\"en\"><ows:Exception exceptionCode=\"{}\"{locator}>{texts}</ows:Exception></ows:ExceptionReport>",
            fault.code
        ),
        Version::V100 => format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<wfs:WFS_TransactionResponse version=\"1.0.0\" xmlns:wfs=\"{WFS1}\"><wfs:TransactionResult{}><wfs:Status><wfs:FAILED/></wfs:Status>{}<wfs:Message>{}</wfs:Message></wfs:TransactionResult></wfs:WFS_TransactionResponse>",
            fault.locator.as_ref().map(|l| format!(" handle=\"{}\"", escape(l.as_str()))).unwrap_or_default(),
            fault.locator.as_ref().map(|l| format!("<wfs:Locator>{}</wfs:Locator>", escape(l.as_str()))).unwrap_or_default(),
            escape(format!("{}: {}", fault.code, fault.texts.join("\n")).as_str())
        ),
    };
    let keeps_status = matches!(version, Version::V200)
        || matches!(fault.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
        || fault.status.is_server_error();
    let mut response = HttpResponse::build(if keeps_status { fault.status } else { StatusCode::OK });
    if fault.status == StatusCode::UNAUTHORIZED {
        response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"geosector\""));
    }
    if fault.status == StatusCode::SERVICE_UNAVAILABLE {
        response.insert_header((header::RETRY_AFTER, crate::error::RETRY_AFTER_S.to_string()));
    }
    response.content_type("text/xml; charset=utf-8").body(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srs_names_give_the_crs_and_the_axis_order() {
        let urn = crs_of(Some("urn:ogc:def:crs:EPSG::4326"), Version::V200).unwrap();
        assert_eq!(urn, (ApiCrs::Epsg(4326), false));
        assert_eq!(crs_of(Some("urn:ogc:def:crs:EPSG::4326"), Version::V100).unwrap(), (ApiCrs::Epsg(4326), true));
        assert_eq!(crs_of(Some("EPSG:4326"), Version::V200).unwrap(), (ApiCrs::Epsg(4326), true));
        assert_eq!(
            crs_of(Some("http://www.opengis.net/gml/srs/epsg.xml#5897"), Version::V110).unwrap(),
            (ApiCrs::Epsg(5897), true)
        );
        assert_eq!(
            crs_of(Some("http://www.opengis.net/def/crs/EPSG/0/9210"), Version::V200).unwrap().0,
            ApiCrs::Epsg(9210)
        );
        assert_eq!(crs_of(Some("urn:x-ogc:def:crs:EPSG:4756"), Version::V110).unwrap(), (ApiCrs::Epsg(4756), false));
        assert_eq!(crs_of(None, Version::V200).unwrap(), (ApiCrs::Epsg(4326), false));
        assert_eq!(
            crs_of(Some("http://www.opengis.net/def/crs/OGC/1.3/CRS84"), Version::V200).unwrap(),
            (ApiCrs::Crs84, true)
        );
        assert!(crs_of(Some("EPSG:2000"), Version::V200).unwrap_err().contains("EPSG:2000"));
    }

    #[test]
    fn feature_ids_name_their_collection() {
        assert_eq!(feature_id("land.parcels.601", "land.parcels"), Ok(601));
        assert_eq!(feature_id("601", "land.parcels"), Ok(601));
        assert!(feature_id("water.permits.3", "land.parcels").unwrap_err().contains("not a feature of land.parcels"));
        assert!(feature_id("land.parcels.x", "land.parcels").unwrap_err().contains("not found"));
    }

    #[test]
    fn messages_name_the_action() {
        let labels = vec!["Insert 1, feature 1".to_owned(), "Delete 1, feature land.parcels.7".to_owned()];
        let (locator, text) = relabel("operation 1: feature 7 not found", &labels);
        assert_eq!(locator.as_deref(), Some("Delete 1, feature land.parcels.7"));
        assert_eq!(text, "Delete 1, feature land.parcels.7: feature 7 not found");
        let fault = Fault::from_api(
            ApiError::Unprocessable {
                message: "operation 0: the feature breaks the rules: r: bad".into(),
                findings: json!([{"rule": "r", "severity": "reject", "message": "bad", "operation": 0, "location": {"type": "Point", "coordinates": [105.8, 21.2]}}]),
            },
            &labels,
        );
        assert_eq!(fault.locator.as_deref(), Some("Insert 1, feature 1"));
        assert_eq!(fault.texts[1], "r (reject): bad [at 105.8 21.2]");
    }

    #[test]
    fn roots_and_versions() {
        let root = |text: &str| xml::parse(text.as_bytes()).unwrap();
        assert_eq!(
            version_of(&root(r#"<Transaction xmlns="http://www.opengis.net/wfs" version="1.0.0"/>"#)).unwrap(),
            Version::V100
        );
        assert_eq!(
            version_of(&root(r#"<wfs:Transaction xmlns:wfs="http://www.opengis.net/wfs/2.0" version="2.0.2"/>"#))
                .unwrap(),
            Version::V200
        );
        assert_eq!(
            version_of(&root(r#"<Transaction xmlns="http://www.opengis.net/wfs/2.0" version="1.1.0"/>"#))
                .unwrap_err()
                .code,
            "VersionNegotiationFailed"
        );
        assert_eq!(
            version_of(&root(r#"<GetFeature xmlns="http://www.opengis.net/wfs/2.0"/>"#)).unwrap_err().code,
            "OperationParsingFailed"
        );
    }
}
