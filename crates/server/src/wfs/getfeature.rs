//! GetFeature and GetPropertyValue (and the GetFeatureById stored query): the query read into
//! the store's [`ItemsRequest`] — bbox in its CRS, the FES filter translated by
//! `geosector-filter`, sort keys among the sortables, `startIndex` as an offset — and the rows
//! written as GML 3.2 / 3.1.1 or GeoJSON.
//!
//! Memory stays bounded whatever the page: a GeoJSON page is streamed as items are (its counts
//! at its end); a GML page must say `numberReturned` (and `next`) on its root element, before
//! its members, so its members are spooled — the first 4 MiB in memory, the rest in an
//! anonymous temporary file — and sent once the page is read. `resultType=hits` runs the plan's
//! count statement (a client asks for it explicitly; pages never count).

use std::io::{Read, Seek, Write};
use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};
use bytes::{BufMut, Bytes, BytesMut};
use futures_util::StreamExt;
use geosector_crs::ApiCrs;
use geosector_filter::{Kind, Sql};
use geosector_store::plan::{BboxFilter, ItemsRequest, Page};
use geosector_store::Collection;
use geosector_wfs::fes::{Filter, Node, ID_QUERYABLE};
use geosector_wfs::gml::{FeatureWriter, GmlVersion};
use geosector_wfs::request::{GetFeature, OutputFormat, ResultType, Version};
use geosector_wfs::{srs, Code, WfsError};

use super::{open_type, Fail};
use crate::auth::{self, Caller};
use crate::links::query_with;
use crate::state::AppState;
use crate::{audit, db, filter};

const CHUNK: usize = 64 * 1024;
/// Members of a GML page kept in memory before the rest goes to a temporary file.
const SPOOL_MEMORY: usize = 4 * 1024 * 1024;

/// The feature type a request reads, and how its name was given (for the locator).
fn type_of(state: &AppState, caller: &Caller, g: &GetFeature) -> Result<(String, &'static str), Fail> {
    let locator = if g.version == Version::V110 { "typeName" } else { "typeNames" };
    if let Some(id) = &g.by_id {
        return type_of_id(state, caller, id).map(|t| (t, "id"));
    }
    match g.query.type_names.as_slice() {
        [one] => Ok((one.clone(), locator)),
        [] => match g.query.resource_ids.first() {
            Some(rid) => type_of_id(state, caller, rid).map(|t| (t, "resourceId")),
            None => Err(WfsError::missing(locator).into()),
        },
        _ => Err(WfsError::new(
            Code::OperationNotSupported,
            locator,
            "one feature type per query (joins are not offered)",
        )
        .into()),
    }
}

/// The type of a feature id `type.n` among the types the caller may see.
fn type_of_id(state: &AppState, caller: &Caller, id: &str) -> Result<String, Fail> {
    let id = id.trim();
    auth::visible(state, caller)
        .map(|c| c.id())
        .filter(|t| id.strip_prefix(*t).and_then(|r| r.strip_prefix('.')).is_some_and(|n| n.parse::<i64>().is_ok()))
        .max_by_key(|t| t.len())
        .map(str::to_owned)
        .ok_or_else(|| WfsError::new(Code::NotFound, "id", format!("no feature \"{id}\"")).into())
}

/// Runs GetFeature / GetPropertyValue.
pub(super) async fn run(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    caller: &Caller,
    g: GetFeature,
    pairs: Option<&[(String, String)]>,
) -> Result<HttpResponse, Fail> {
    let (type_name, locator) = type_of(state, caller, &g)?;
    let opened = open_type(state, caller, &type_name, locator)?;
    let collection = Arc::clone(&opened.collection);
    let crs = match &g.query.srs_name {
        Some(s) => srs::parse(s, g.version).map_err(|m| WfsError::invalid("srsName", m))?,
        None => srs::DEFAULT,
    };
    let bbox = match &g.query.bbox {
        None => BboxFilter::None,
        Some(_) if !collection.has_geometry() => {
            return Err(WfsError::invalid("bbox", "this feature type has no geometry").into())
        }
        Some(b) => {
            let bbox_crs = match b.crs.as_deref().or(g.query.srs_name.as_deref()) {
                Some(s) => srs::parse(s, g.version).map_err(|m| WfsError::invalid("bbox", m))?,
                None => srs::DEFAULT,
            };
            let text = b.coords.iter().map(f64::to_string).collect::<Vec<_>>().join(",");
            crate::crs::bbox(&text, bbox_crs).map_err(|m| WfsError::invalid("bbox", m))?
        }
    };
    let (fes, filter_locator) = if let Some(id) = &g.by_id {
        (Some(Filter { root: Node::ResourceIds(vec![id.clone()]), srs_name: None }), "id")
    } else if !g.query.resource_ids.is_empty() {
        (Some(Filter { root: Node::ResourceIds(g.query.resource_ids.clone()), srs_name: None }), "resourceId")
    } else {
        (g.query.filter.clone(), "filter")
    };
    let compiled = match fes {
        None => None,
        Some(f) => Some(compile(&collection, f, crs, g.version, filter_locator, state.request_limits.filter).await?),
    };
    let sort = sort_keys(&g.query.sort_by, &collection)?;
    let value_reference = match &g.value_reference {
        None => None,
        Some(name) => Some(value_reference(name, &collection)?),
    };
    let properties = match (&value_reference, &g.query.property_names) {
        (Some(ValueOf::Property(p)), _) => Some(vec![*p]),
        (Some(ValueOf::Geometry), _) => Some(Vec::new()),
        (None, Some(names)) => Some(selection(names, &collection)?),
        (None, None) => None,
    };
    let max = state.limits.max;
    let limit = if g.by_id.is_some() { 1 } else { g.count.unwrap_or(max).min(max) };
    let page = if g.start_index == 0 && sort.is_empty() { Page::First } else { Page::Offset(g.start_index) };
    let request = ItemsRequest {
        bbox,
        filter: compiled.as_ref(),
        sort,
        properties: properties.clone(),
        page,
        limit: limit.max(1),
        output: crate::crs::output(crs),
        scope: opened.scope.as_ref(),
        ..ItemsRequest::default()
    };
    let client = state.reads.get().await?;
    let filtered = compiled.is_some();
    let time_stamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    if g.result_type == ResultType::Hits {
        let row =
            db::one(&client, &collection.plan.count(&request)).await.map_err(|e| filter::db_error(e, filtered))?;
        let matched: i64 = row.map_or(0, |r| r.get(0));
        return Ok(hits(&g, matched, &time_stamp));
    }
    let statement = collection.plan.items(&request);
    let rows = db::stream(&client, &statement).await.map_err(|e| filter::db_error(e, filtered))?;
    let mut rows = Box::pin(rows);
    let first = rows.next().await.transpose().map_err(|e| filter::db_error(e, filtered))?;
    let audited = opened.is_personal().then(|| audit::read_entry(caller, req, &collection, None));
    let gml = match g.output_format {
        OutputFormat::Gml31 => Some(GmlVersion::V31),
        OutputFormat::Gml32 => Some(GmlVersion::V32),
        OutputFormat::GeoJson => None,
    };
    let writer = FeatureWriter {
        version: gml.unwrap_or(GmlVersion::V32),
        type_name: collection.id().to_owned(),
        srs_name: srs::name(crs),
        properties: super::property_specs(&collection)
            .into_iter()
            .filter(|p| properties.as_ref().is_none_or(|chosen| chosen.contains(&p.name)))
            .collect(),
        geometry: super::geometry_spec(&collection),
    };
    if g.by_id.is_some() {
        return by_id(first, writer, gml, crs, audited.map(|e| (e, state.audit.clone())));
    }
    let links = pairs.map(|p| Paging::new(req, p, g.start_index, limit));
    let page = PageOut {
        version: g.version,
        gml,
        value: value_reference,
        writer,
        limit,
        start_index: g.start_index,
        time_stamp,
        links,
        audit: audited.map(|e| (e, state.audit.clone())),
    };
    let body = stream(client, first, rows, page);
    let media = match gml {
        Some(GmlVersion::V32) => geosector_wfs::GML32_MEDIA,
        Some(GmlVersion::V31) => "text/xml; subtype=gml/3.1.1",
        None => geosector_wfs::GEOJSON_MEDIA,
    };
    Ok(HttpResponse::Ok().content_type(media).streaming(body))
}

/// Translates a FES filter over a collection, the `id` queryable added for `ResourceId`, within
/// the server's filter limits (as a CQL2 filter).
async fn compile(
    c: &Arc<Collection>,
    f: Filter,
    crs: ApiCrs,
    version: Version,
    locator: &'static str,
    limits: geosector_filter::Limits,
) -> Result<Sql, Fail> {
    let literal_crs = match &f.srs_name {
        Some(s) => srs::parse(s, version).map_err(|m| WfsError::invalid(locator, format!("srsName {m}")))?,
        None => crs,
    };
    let queryables = c.queryables.clone().with_column(ID_QUERYABLE, Kind::Integer);
    let expr = f.to_expr(c.id(), &queryables).map_err(|m| WfsError::invalid(locator, m))?;
    let filter_crs = srs::filter_crs(literal_crs);
    web::block(move || geosector_filter::compile_expr(expr, &queryables, &filter_crs, limits))
        .await
        .map_err(|e| Fail::Api(crate::error::ApiError::Internal(format!("filter worker: {e}"))))?
        .map_err(|e| WfsError::invalid(locator, e.0).into())
}

/// `sortBy` over the sortables.
fn sort_keys(keys: &[(String, bool)], c: &Collection) -> Result<Vec<(&'static str, bool)>, Fail> {
    let mut out = Vec::new();
    for (name, descending) in keys {
        let q = c.queryables.get(name).filter(|q| q.sortable()).ok_or_else(|| {
            WfsError::invalid(
                "sortBy",
                format!("\"{name}\" is not sortable (sortables: {})", c.queryables.sortable_names()),
            )
        })?;
        if !out.iter().any(|(k, _)| *k == q.name) {
            out.push((q.name, *descending));
        }
    }
    Ok(out)
}

/// `PROPERTYNAME`: published properties (the geometry is always written).
fn selection(names: &[String], c: &Collection) -> Result<Vec<&'static str>, Fail> {
    let geometry = c.decl.dataset.geometry.map(|g| g.column);
    let mut out = Vec::new();
    for name in names {
        if Some(name.as_str()) == geometry {
            continue;
        }
        let p = c.property(name).ok_or_else(|| {
            WfsError::invalid(
                "propertyName",
                format!(
                    "unknown property \"{name}\" (properties: {})",
                    c.properties.iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
                ),
            )
        })?;
        if !out.contains(&p.name) {
            out.push(p.name);
        }
    }
    Ok(out)
}

/// What GetPropertyValue returns.
#[derive(Debug, Clone, Copy)]
enum ValueOf {
    Property(&'static str),
    Geometry,
}

fn value_reference(name: &str, c: &Collection) -> Result<ValueOf, Fail> {
    if c.decl.dataset.geometry.is_some_and(|g| g.column == name) {
        return Ok(ValueOf::Geometry);
    }
    c.property(name)
        .map(|p| ValueOf::Property(p.name))
        .ok_or_else(|| WfsError::invalid("valueReference", format!("unknown property \"{name}\" of {}", c.id())).into())
}

fn hits(g: &GetFeature, matched: i64, time_stamp: &str) -> HttpResponse {
    let body = match (g.output_format, g.version) {
        (OutputFormat::GeoJson, _) => {
            let doc = serde_json::json!({ "type": "FeatureCollection", "features": [], "numberMatched": matched, "numberReturned": 0, "timeStamp": time_stamp });
            return HttpResponse::Ok().content_type(geosector_wfs::GEOJSON_MEDIA).body(doc.to_string());
        }
        (_, Version::V110) => {
            let start = geosector_wfs::gml::collection_start_v110(matched, time_stamp);
            format!("{start}</wfs:FeatureCollection>\n")
        }
        (_, Version::V200) => {
            let root = if g.value_reference.is_some() { "ValueCollection" } else { "FeatureCollection" };
            let start = geosector_wfs::gml::collection_start_v200(Some(matched), 0, time_stamp, None, None);
            format!("{}</wfs:{root}>\n", start.replacen("<wfs:FeatureCollection", &format!("<wfs:{root}"), 1))
        }
    };
    HttpResponse::Ok().content_type("application/xml; charset=utf-8").body(body)
}

/// GetFeatureById: the bare feature, or 404.
fn by_id(
    row: Option<tokio_postgres::Row>,
    writer: FeatureWriter,
    gml: Option<GmlVersion>,
    crs: ApiCrs,
    audit: Option<(geosector_store::audit::AuditEntry, audit::AuditLog)>,
) -> Result<HttpResponse, Fail> {
    let Some(row) = row else {
        return Err(WfsError::new(Code::NotFound, "id", "no such feature").into());
    };
    let id: i64 = row.get(0);
    let (geometry, properties): (Option<&str>, &str) = (row.get(1), row.get(2));
    if let Some((entry, log)) = audit {
        log.record(entry.returned([id]));
    }
    let mut out = BytesMut::new();
    if gml.is_none() {
        crate::features::write_feature(&mut out, id, geometry, properties);
        return Ok(HttpResponse::Ok()
            .content_type(geosector_wfs::GEOJSON_MEDIA)
            .insert_header(("Content-Crs", crate::crs::content_crs(crs)))
            .body(out.freeze()));
    }
    writer.write(&mut out, id, geometry, properties).map_err(|e| Fail::Api(crate::error::ApiError::Internal(e)))?;
    let text = String::from_utf8_lossy(&out);
    let open = format!("<gs:{} ", writer.type_name);
    let declared = format!(
        "<gs:{} xmlns:gs=\"{}\" xmlns:gml=\"{}\" ",
        writer.type_name,
        geosector_wfs::FEATURE_NS,
        writer.version.namespace()
    );
    let body = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}\n", text.replacen(&open, &declared, 1));
    Ok(HttpResponse::Ok().content_type(geosector_wfs::GML32_MEDIA).body(body))
}

/// The paging links of a KVP request: its own pairs with `STARTINDEX` and `COUNT` replaced.
struct Paging {
    url: String,
    pairs: Vec<(String, String)>,
    start: i64,
    count: i64,
}

impl Paging {
    fn new(req: &HttpRequest, pairs: &[(String, String)], start: i64, count: i64) -> Paging {
        let keep = |k: &str| !matches!(k.to_ascii_uppercase().as_str(), "STARTINDEX" | "COUNT" | "MAXFEATURES");
        let mut pairs: Vec<(String, String)> = pairs.iter().filter(|(k, _)| keep(k)).cloned().collect();
        if let Some(key) = crate::links::query_key(req) {
            pairs.push((crate::params::KEY_PARAMETER.to_owned(), key));
        }
        Paging { url: format!("{}/wfs", crate::links::base_url(req)), pairs, start, count }
    }

    fn at(&self, start: i64) -> String {
        let (s, c) = (start.to_string(), self.count.to_string());
        format!(
            "{}?{}",
            self.url,
            query_with(&self.pairs, &[("STARTINDEX", Some(s.as_str())), ("COUNT", Some(c.as_str()))])
        )
    }

    fn next(&self) -> String {
        self.at(self.start + self.count)
    }

    fn previous(&self) -> Option<String> {
        (self.start > 0).then(|| self.at((self.start - self.count).max(0)))
    }
}

/// What a streamed page needs besides its rows.
struct PageOut {
    version: Version,
    /// GML version, or `None` for GeoJSON.
    gml: Option<GmlVersion>,
    value: Option<ValueOf>,
    writer: FeatureWriter,
    limit: i64,
    start_index: i64,
    time_stamp: String,
    links: Option<Paging>,
    audit: Option<(geosector_store::audit::AuditEntry, audit::AuditLog)>,
}

impl PageOut {
    /// `numberMatched` when known without counting: a page that ends the matches.
    fn matched(&self, returned: i64, more: bool) -> Option<i64> {
        (!more && (returned > 0 || self.start_index == 0)).then_some(self.start_index + returned)
    }

    fn member_open(&self) -> &'static [u8] {
        match self.version {
            Version::V110 => b"<gml:featureMember>",
            Version::V200 => b"<wfs:member>",
        }
    }

    fn member_close(&self) -> &'static [u8] {
        match self.version {
            Version::V110 => b"</gml:featureMember>",
            Version::V200 => b"</wfs:member>",
        }
    }

    fn root(&self) -> &'static str {
        if self.value.is_some() {
            "ValueCollection"
        } else {
            "FeatureCollection"
        }
    }

    /// The opening of the GML answer, once the page is read.
    fn gml_head(&self, returned: i64, more: bool) -> String {
        match self.version {
            Version::V110 => geosector_wfs::gml::collection_start_v110(returned, &self.time_stamp),
            Version::V200 => {
                let next = if more { self.links.as_ref().map(Paging::next) } else { None };
                let previous = self.links.as_ref().and_then(Paging::previous);
                let head = geosector_wfs::gml::collection_start_v200(
                    self.matched(returned, more),
                    returned,
                    &self.time_stamp,
                    next.as_deref(),
                    previous.as_deref(),
                );
                head.replacen("<wfs:FeatureCollection", &format!("<wfs:{}", self.root()), 1)
            }
        }
    }

    /// One member (GML).
    fn write_gml(&self, out: &mut BytesMut, id: i64, geometry: Option<&str>, properties: &str) -> Result<(), String> {
        out.put_slice(self.member_open());
        match self.value {
            None => self.writer.write(out, id, geometry, properties)?,
            Some(ValueOf::Geometry) => {
                if let Some(g) = geometry {
                    geosector_wfs::gml::geometry_gml(
                        out,
                        g,
                        &self.writer.srs_name,
                        &format!("{}.{id}.g", self.writer.type_name),
                    )?;
                }
            }
            Some(ValueOf::Property(name)) => {
                // The property's element, as the feature would hold it.
                let mut feature = BytesMut::new();
                self.writer.write(&mut feature, id, None, properties)?;
                let text = String::from_utf8_lossy(&feature);
                let open = format!("<gs:{name}>");
                if let (Some(start), Some(end)) = (text.find(&open), text.rfind(&format!("</gs:{name}>"))) {
                    out.put_slice(text[start..end + name.len() + 6].as_bytes());
                }
            }
        }
        out.put_slice(self.member_close());
        Ok(())
    }
}

/// Spooled GML members: memory first, then an anonymous temporary file.
struct Spool {
    memory: BytesMut,
    file: Option<std::fs::File>,
}

impl Spool {
    fn spill_if_full(&mut self) -> std::io::Result<()> {
        if self.memory.len() < SPOOL_MEMORY {
            return Ok(());
        }
        if self.file.is_none() {
            self.file = Some(tempfile::tempfile()?);
        }
        if let Some(file) = self.file.as_mut() {
            file.write_all(&self.memory)?;
        }
        self.memory.clear();
        Ok(())
    }
}

/// Streams a page: GeoJSON as it is read; GML spooled, then sent after its head.
fn stream<S>(
    client: deadpool_postgres::Object,
    first: Option<tokio_postgres::Row>,
    rows: std::pin::Pin<Box<S>>,
    mut page: PageOut,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>>
where
    S: futures_util::Stream<Item = Result<tokio_postgres::Row, tokio_postgres::Error>> + Send + 'static,
{
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    tokio::spawn(async move {
        let _client = client;
        let geojson = page.gml.is_none();
        let mut spool = Spool { memory: BytesMut::with_capacity(CHUNK + 4096), file: None };
        if geojson {
            spool.memory.put_slice(b"{\"type\":\"FeatureCollection\",\"features\":[");
        }
        let (mut returned, mut more) = (0i64, false);
        let mut ids: Vec<i64> = Vec::new();
        let mut rows = crate::rows::AfterFirst::new(first, rows);
        loop {
            let row = match rows.next_or_break("wfs", &sender).await {
                Ok(Some(row)) => row,
                Ok(None) => break,
                Err(()) => return,
            };
            if returned == page.limit {
                more = true;
                break;
            }
            let id: i64 = row.get(0);
            let (geometry, properties): (Option<&str>, &str) = (row.get(1), row.get(2));
            if geojson {
                if returned > 0 {
                    spool.memory.put_u8(b',');
                }
                crate::features::write_feature(&mut spool.memory, id, geometry, properties);
                if spool.memory.len() >= CHUNK && sender.send(Ok(spool.memory.split().freeze())).await.is_err() {
                    return;
                }
            } else {
                if let Err(e) = page.write_gml(&mut spool.memory, id, geometry, properties) {
                    tracing::error!(error = %e, "wfs: a row could not be written as GML");
                    let _ = sender.send(Err(std::io::Error::other("encoding error"))).await;
                    return;
                }
                if let Err(e) = spool.spill_if_full() {
                    tracing::error!(error = %e, "wfs: the page could not be spooled");
                    let _ = sender.send(Err(std::io::Error::other("spool error"))).await;
                    return;
                }
            }
            returned += 1;
            if page.audit.is_some() {
                ids.push(id);
            }
        }
        // The query is done: the connection goes back to the pool before the page is sent.
        drop(rows);
        drop(_client);
        if let Some((entry, log)) = page.audit.take() {
            log.record(entry.returned(ids));
        }
        if geojson {
            let mut tail = serde_json::Map::new();
            tail.insert("numberReturned".into(), returned.into());
            if let Some(m) = page.matched(returned, more) {
                tail.insert("numberMatched".into(), m.into());
            }
            tail.insert("timeStamp".into(), page.time_stamp.clone().into());
            if let (true, Some(links)) = (more, &page.links) {
                tail.insert(
                    "links".into(),
                    serde_json::json!([{ "href": links.next(), "rel": "next", "type": geosector_wfs::GEOJSON_MEDIA }]),
                );
            }
            let tail = serde_json::Value::Object(tail).to_string();
            spool.memory.put_slice(b"],");
            spool.memory.put_slice(&tail.as_bytes()[1..]);
            let _ = sender.send(Ok(spool.memory.freeze())).await;
            return;
        }
        if sender.send(Ok(Bytes::from(page.gml_head(returned, more)))).await.is_err() {
            return;
        }
        if let Some(mut file) = spool.file.take() {
            if file.rewind().is_err() {
                let _ = sender.send(Err(std::io::Error::other("spool error"))).await;
                return;
            }
            let mut buffer = vec![0u8; CHUNK];
            loop {
                match file.read(&mut buffer) {
                    Ok(0) => break,
                    Ok(n) => {
                        if sender.send(Ok(Bytes::copy_from_slice(&buffer[..n]))).await.is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "wfs: the spooled page could not be read");
                        let _ = sender.send(Err(std::io::Error::other("spool error"))).await;
                        return;
                    }
                }
            }
        }
        spool.memory.put_slice(format!("</wfs:{}>\n", page.root()).as_bytes());
        let _ = sender.send(Ok(spool.memory.freeze())).await;
    });
    futures_util::stream::unfold(receiver, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) })
}
