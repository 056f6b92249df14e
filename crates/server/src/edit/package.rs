//! Field changes coming back from an offline package (`geosector import --changes`,
//! `POST /packages/changes`; docs/packages.md): what changed in the package since it was made,
//! applied as **one changeset** through the same write path as every other edit ([`super::apply_with`]:
//! permission and area, the sector's rules, history, the audit row).
//!
//! Detection, per collection of the package: a row without `geosector_id` is a new feature
//! (create); a row whose geometry or visible properties differ from the server's version
//! `geosector_version` (read from the history) is changed (a merge patch of what differs, so the
//! fields the package does not show are kept); an id of `geosector_origin` missing from its table
//! was deleted in the field. A changed or deleted feature whose live version is no longer the
//! packaged one was changed on the server meanwhile: a **conflict**, never applied, written with
//! both versions to the conflicts GeoPackage and listed. The rest applies, all or nothing: a
//! feature a rule rejects fails the whole changeset (as an import does), naming the file, the
//! table, the feature and the field. Each edit carries `If-Match` of its packaged version, so a
//! write landing between detection and the changeset fails it rather than being overwritten.
//! A package applies once: the changeset records it, and a second import is answered "already
//! applied".

use std::path::{Path, PathBuf};
use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt as _;
use geosector_crs::ApiCrs;
use geosector_domain::{CellValue, FieldType};
use geosector_ingest::package::{self as file, ConflictRow, Layer, Package, PackageRow, Side};
use geosector_store::plan::AreaScope;
use geosector_store::write::{self, Begun, Changeset, PackageMark, StoredVersion};
use geosector_store::Collection;
use serde_json::{json, Map, Value};

use super::input::Preconditions;
use super::{Applied, ApplyOptions, Edit, EditKind, Writer};
use crate::audit::WriteOrigin;
use crate::auth;
use crate::error::ApiError;
use crate::state::AppState;

/// The most changed features one package applies (one changeset).
pub const MAX_CHANGES: usize = 20_000;

/// The largest package `POST /packages/changes` takes (1 GiB).
pub const MAX_UPLOAD: usize = 1 << 30;

/// Rows read from the package at a time.
const CHUNK: usize = 2_000;

/// A collection opened for writing: its view, and the caller's write area.
pub type Opened = (Arc<Collection>, Option<AreaScope>);

/// How to import a package's changes.
#[derive(Debug, Clone)]
pub struct ChangesOptions {
    /// The name of the package in messages (the file as given, or the upload's name).
    pub name: String,
    /// Where to write the conflicts GeoPackage (`None`: not written).
    pub conflicts_out: Option<PathBuf>,
    /// Check everything and store nothing.
    pub dry_run: bool,
}

/// What kind of change a package feature brings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// Added in the field.
    Create,
    /// Changed in the field.
    Update,
    /// Deleted in the field.
    Delete,
}

/// One feature changed in the field and applied.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AppliedChange {
    /// The change.
    pub change: Change,
    /// The collection.
    pub collection: &'static str,
    /// The package's table.
    pub table: String,
    /// The row in the package (`None`: deleted in the field).
    pub fid: Option<i64>,
    /// The feature (new: the id the server gave it).
    pub id: i64,
    /// Its version now (`None`: retired).
    pub version: Option<i32>,
    /// Its version before (`None`: created).
    pub previous: Option<i32>,
    /// What the rules flagged.
    pub findings: Value,
}

/// One feature changed both in the field and on the server since the package was made.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Conflict {
    /// What the field did.
    pub change: Change,
    /// The collection.
    pub collection: String,
    /// The package's table.
    pub table: String,
    /// The row in the package (`None`: deleted in the field).
    pub fid: Option<i64>,
    /// The feature.
    pub id: i64,
    /// The version packaged.
    pub packaged_version: i32,
    /// The server's version now (`None`: retired on the server).
    pub server_version: Option<i32>,
}

/// What importing a package's changes did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ChangesReport {
    /// The package, as named.
    pub package: String,
    /// When it was made.
    pub made_at: String,
    /// The changeset that applied it before, and when (then nothing else was done).
    pub already_applied: Option<(i64, String)>,
    /// The changeset written, and its time (`None`: nothing to apply, or a dry run).
    pub changeset: Option<(i64, String)>,
    /// Whether nothing was stored on purpose.
    pub dry_run: bool,
    /// The features applied.
    pub applied: Vec<AppliedChange>,
    /// The conflicts, not applied.
    pub conflicts: Vec<Conflict>,
    /// Packaged features unchanged in the field.
    pub unchanged: u64,
    /// Collections of the package not read, and why (not versioned: reference layers).
    pub skipped: Vec<String>,
    /// The conflicts GeoPackage, when written.
    pub conflicts_file: Option<PathBuf>,
}

impl ChangesReport {
    /// The report as text, one line per applied change and conflict.
    pub fn text(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        if let Some((id, at)) = &self.already_applied {
            let _ = writeln!(
                out,
                "{}: already applied by changeset {id} at {at}; nothing done (make a new package to go on editing)",
                self.package
            );
            return out;
        }
        let count = |c: Change| self.applied.iter().filter(|a| a.change == c).count();
        let _ = writeln!(
            out,
            "{} (made {}): {} applied ({} created, {} updated, {} deleted), {} conflict(s), {} unchanged{}",
            self.package,
            self.made_at,
            self.applied.len(),
            count(Change::Create),
            count(Change::Update),
            count(Change::Delete),
            self.conflicts.len(),
            self.unchanged,
            match (&self.changeset, self.dry_run) {
                (_, true) => " — dry run, nothing stored".to_owned(),
                (Some((id, at)), false) => format!(" — changeset {id} at {at}"),
                (None, false) => " — nothing to apply".to_owned(),
            }
        );
        for a in &self.applied {
            let fid = a.fid.map_or_else(|| "deleted row".to_owned(), |f| format!("fid {f}"));
            let _ = writeln!(
                out,
                "  {:<6} {} {} → {}/{} version {}",
                format!("{:?}", a.change).to_lowercase(),
                a.table,
                fid,
                a.collection,
                a.id,
                a.version.map_or_else(|| "retired".to_owned(), |v| v.to_string())
            );
        }
        for c in &self.conflicts {
            let fid = c.fid.map_or_else(|| "deleted row".to_owned(), |f| format!("fid {f}"));
            let _ = writeln!(
                out,
                "  CONFLICT {} {} ({}/{}): {} in the field from version {}, but the server is at {}; not applied",
                c.table,
                fid,
                c.collection,
                c.id,
                match c.change {
                    Change::Delete => "deleted",
                    _ => "changed",
                },
                c.packaged_version,
                c.server_version.map_or_else(|| "retired".to_owned(), |v| format!("version {v}"))
            );
        }
        for skipped in &self.skipped {
            let _ = writeln!(out, "  skipped {skipped}");
        }
        if let Some(path) = &self.conflicts_file {
            let _ = writeln!(out, "  both versions of each conflict: {}", path.display());
        }
        out
    }
}

/// One edit found in the package, with where it comes from.
struct Found {
    change: Change,
    collection: &'static str,
    table: String,
    fid: Option<i64>,
    id: Option<i64>,
    version: Option<i32>,
    edit: Edit,
}

/// A changed or deleted packaged feature, before its live version is compared.
struct Candidate {
    change: Change,
    fid: Option<i64>,
    id: i64,
    version: i32,
    kind: EditKind,
}

/// Imports a package's field changes (see the module).
///
/// # Errors
/// 400 naming the file, the table, the feature and the column for a package that does not
/// read; 404/405/401/403 for a collection the actor may not write; 422 with the findings of a
/// feature the rules reject (nothing is stored); 409 when the server changed a feature between
/// detection and the changeset (nothing is stored: run it again).
pub async fn import_changes(
    writer: &Writer<'_>,
    origin: &WriteOrigin,
    open: &dyn Fn(&str) -> Result<Opened, ApiError>,
    path: &Path,
    changeset: &Changeset,
    options: &ChangesOptions,
) -> Result<ChangesReport, ApiError> {
    let name = options.name.as_str();
    let bad = |e: geosector_ingest::ImportError| package_error(name, path, &e);
    let package = Package::open(path).map_err(bad)?;
    let info = package.info().clone();
    let mark = PackageMark {
        made_at: info.made_at.clone(),
        source: info.source.clone(),
        caller: info.caller.clone(),
        area: info.area.clone(),
        collections: info.collections_json.clone(),
        file: name.to_owned(),
    };
    let mut report = ChangesReport {
        package: name.to_owned(),
        made_at: info.made_at.clone(),
        already_applied: None,
        changeset: None,
        dry_run: options.dry_run,
        applied: Vec::new(),
        conflicts: Vec::new(),
        unchanged: 0,
        skipped: Vec::new(),
        conflicts_file: None,
    };
    let client = writer.pool.get().await?;
    if let Some((id, at)) = write::package_applied(&**client, &mark).await.map_err(ApiError::from)? {
        report.already_applied = Some((id, at.to_rfc3339()));
        return Ok(report);
    }
    let mut found: Vec<Found> = Vec::new();
    let mut conflict_rows: Vec<(Layer, Vec<ConflictRow>)> = Vec::new();
    for collection_id in &info.collections {
        let (collection, scope) = match open(collection_id) {
            Ok(opened) => opened,
            // A collection without history takes no edit: a layer packaged for reference only.
            Err(ApiError::MethodNotAllowed { message, .. }) => {
                report.skipped.push(format!("{collection_id}: {message}; its table is not read"));
                continue;
            }
            Err(e) => return Err(e),
        };
        let layer = package.layer(collection_id).map_err(bad)?;
        check_layer(name, &layer, &collection)?;
        let dataset = collection.decl.dataset;
        let edit_of = |kind: EditKind, version: Option<i32>, id: Option<i64>| Edit {
            kind,
            collection: Arc::clone(&collection),
            scope: scope.clone(),
            crs: ApiCrs::Crs84,
            preconditions: Preconditions {
                if_match: version.zip(id).map(|(v, id)| vec![crate::etag::feature(id, v, 0)]),
                if_unmodified_since: None,
            },
            parents: Vec::new(),
        };
        // Rows in fid order, a chunk at a time, each packaged one compared with its version.
        let mut candidates: Vec<Candidate> = Vec::new();
        let mut after = i64::MIN;
        loop {
            let rows = package.rows(&layer, after, CHUNK).map_err(bad)?;
            let Some(last) = rows.last() else { break };
            after = last.fid;
            let wanted: Vec<(i64, i32)> = rows.iter().filter_map(|r| r.id.zip(r.version)).collect();
            let versions = write::versions_of(&**client, dataset, &wanted).await.map_err(ApiError::from)?;
            for row in rows {
                let label = || format!("{name}: table {}, feature fid {}", layer.table, row.fid);
                let geometry = match &row.geometry {
                    Ok(g) => g.clone(),
                    Err(why) => return Err(ApiError::param("geometry", format!("{}: {why}", label()))),
                };
                match row.id.zip(row.version) {
                    None => {
                        let feature = json!({
                            "type": "Feature",
                            "geometry": geometry.as_ref().map_or(Value::Null, geosector_ingest::validate::flagged::to_geojson),
                            "properties": Value::Object(edit_properties(&collection, &row.properties)),
                        });
                        found.push(Found {
                            change: Change::Create,
                            collection: collection.id(),
                            table: layer.table.clone(),
                            fid: Some(row.fid),
                            id: None,
                            version: None,
                            edit: edit_of(EditKind::Create(feature), None, None),
                        });
                    }
                    Some((id, version)) => {
                        let Some(stored) = versions.iter().find(|v| v.id == id && v.version == version) else {
                            return Err(ApiError::param(
                                "geosector_id",
                                format!(
                                    "{}: feature {id} version {version} is not a version of {} (geosector_id and geosector_version must stay as packaged)",
                                    label(),
                                    collection.id()
                                ),
                            ));
                        };
                        match patch_of(&collection, &row, geometry.as_ref(), stored) {
                            Some(patch) => candidates.push(Candidate {
                                change: Change::Update,
                                fid: Some(row.fid),
                                id,
                                version,
                                kind: EditKind::Patch(id, patch),
                            }),
                            None => report.unchanged += 1,
                        }
                    }
                }
            }
            if found.len() + candidates.len() > MAX_CHANGES {
                return Err(ApiError::param(
                    "package",
                    format!("{name}: more than {MAX_CHANGES} changed features; apply them in several packages"),
                ));
            }
        }
        for (id, version) in package.deleted(&layer).map_err(bad)? {
            candidates.push(Candidate { change: Change::Delete, fid: None, id, version, kind: EditKind::Delete(id) });
        }
        // Optimistic locking per feature: changed on the server since the package → a conflict.
        let ids: Vec<i64> = candidates.iter().map(|c| c.id).collect();
        let live = write::live_versions(&**client, dataset, &ids).await.map_err(ApiError::from)?;
        let mut rows: Vec<ConflictRow> = Vec::new();
        let mut conflicting: Vec<(&Candidate, Option<i32>)> = Vec::new();
        for (candidate, live) in candidates.iter().zip(live) {
            if live == Some(candidate.version) {
                found.push(Found {
                    change: candidate.change,
                    collection: collection.id(),
                    table: layer.table.clone(),
                    fid: candidate.fid,
                    id: Some(candidate.id),
                    version: Some(candidate.version),
                    edit: edit_of(candidate.kind.clone(), Some(candidate.version), Some(candidate.id)),
                });
            } else {
                conflicting.push((candidate, live));
            }
        }
        if !conflicting.is_empty() {
            // Both versions: the package's row (or the packaged version of a deleted one) and the
            // server's now.
            let mut wanted: Vec<(i64, i32)> = Vec::new();
            for (c, live) in &conflicting {
                wanted.extend(live.map(|v| (c.id, v)));
                if c.change == Change::Delete {
                    wanted.push((c.id, c.version));
                }
            }
            let versions = write::versions_of(&**client, dataset, &wanted).await.map_err(ApiError::from)?;
            let values = |id: i64, version: i32| {
                versions.iter().find(|v| v.id == id && v.version == version).map_or_else(
                    || Side::Values { wkb: None, properties: Map::new() },
                    |v| Side::Values { wkb: v.wkb.clone(), properties: v.properties.clone() },
                )
            };
            for (c, live) in &conflicting {
                rows.push(ConflictRow {
                    side: "package",
                    change: if c.change == Change::Delete { "delete" } else { "update" },
                    id: c.id,
                    version: Some(c.version),
                    values: match c.fid {
                        Some(fid) => Side::PackageRow(fid),
                        None => values(c.id, c.version),
                    },
                });
                rows.push(ConflictRow {
                    side: "server",
                    change: if live.is_some() { "update" } else { "retired" },
                    id: c.id,
                    version: *live,
                    values: live.map_or(Side::Values { wkb: None, properties: Map::new() }, |v| values(c.id, v)),
                });
                report.conflicts.push(Conflict {
                    change: c.change,
                    collection: collection.id().to_owned(),
                    table: layer.table.clone(),
                    fid: c.fid,
                    id: c.id,
                    packaged_version: c.version,
                    server_version: *live,
                });
            }
        }
        conflict_rows.push((layer, rows));
    }
    drop(client);
    if !found.is_empty() {
        let labels: Vec<String> = found
            .iter()
            .map(|f| match (f.fid, f.id) {
                (Some(fid), Some(id)) => format!("{name}: table {}, feature fid {fid} (id {id})", f.table),
                (Some(fid), None) => format!("{name}: table {}, feature fid {fid} (new)", f.table),
                (None, id) => format!("{name}: table {}, feature {} (deleted in the field)", f.table, id.unwrap_or(0)),
            })
            .collect();
        let edits: Vec<Edit> = found.iter().map(|f| f.edit.clone()).collect();
        let options = ApplyOptions { labels: Some(&labels), package: Some(&mark), dry_run: options.dry_run };
        let (begun, applied): (Begun, Vec<Applied>) =
            super::apply_with(writer, origin, changeset, &edits, options).await?;
        if !report.dry_run {
            report.changeset = Some((begun.id, begun.at.to_rfc3339()));
        }
        for (f, a) in found.iter().zip(applied) {
            report.applied.push(AppliedChange {
                change: f.change,
                collection: f.collection,
                table: f.table.clone(),
                fid: f.fid,
                id: a.id,
                version: a.version,
                previous: a.previous.or(f.version),
                findings: super::findings_json(&a.findings),
            });
        }
    }
    if let Some(out) = &options.conflicts_out {
        if !report.conflicts.is_empty() {
            let layers: Vec<(&Layer, Vec<ConflictRow>)> = conflict_rows.iter().map(|(l, r)| (l, r.clone())).collect();
            file::write_conflicts(&package, out, &layers)
                .map_err(|e| ApiError::Internal(format!("the conflicts GeoPackage: {e}")))?;
            report.conflicts_file = Some(out.clone());
        }
    }
    Ok(report)
}

/// An error of the package file, naming it as the caller knows it.
fn package_error(name: &str, path: &Path, e: &geosector_ingest::ImportError) -> ApiError {
    let text = e.to_string().replace(&path.display().to_string(), name);
    ApiError::param("package", if text.starts_with(name) { text } else { format!("{name}: {text}") })
}

/// Checks a layer against its collection: geometry in the storage CRS, every column a property.
fn check_layer(name: &str, layer: &Layer, collection: &Collection) -> Result<(), ApiError> {
    if collection.has_geometry() && layer.epsg != Some(4326) {
        return Err(ApiError::param(
            "package",
            format!(
                "{name}: table {}: geometry in {}, not the server's storage CRS EPSG:4326 (keep the package's CRS when editing)",
                layer.table,
                layer.epsg.map_or_else(|| "an unknown CRS".to_owned(), |c| format!("EPSG:{c}"))
            ),
        ));
    }
    for (column, _) in &layer.properties {
        if !collection.properties.iter().any(|p| p.name == column) {
            return Err(ApiError::param(
                "package",
                format!(
                    "{name}: table {}: column {column} is not a property of {} that can be written (added in the field?)",
                    layer.table,
                    collection.id()
                ),
            ));
        }
    }
    Ok(())
}

/// The writable fields the package shows: declared fields the collection shows, in the table.
fn writable_fields<'a>(
    collection: &'a Collection,
    properties: &'a Map<String, Value>,
) -> impl Iterator<Item = (&'static str, FieldType, &'a Value)> + 'a {
    collection.decl.dataset.fields.iter().filter_map(move |f| {
        let shown = collection.properties.iter().any(|p| p.name == f.column);
        properties.get(f.column).filter(|_| shown).map(|v| (f.column, f.kind, v))
    })
}

/// The properties of a new feature: the package's writable fields, typed for the edit.
fn edit_properties(collection: &Collection, properties: &Map<String, Value>) -> Map<String, Value> {
    writable_fields(collection, properties).map(|(c, kind, v)| (c.to_owned(), edit_value(kind, v))).collect()
}

/// A package value as an edit sends it: lists and JSON fields are JSON text in the package.
fn edit_value(kind: FieldType, value: &Value) -> Value {
    match (kind, value) {
        (FieldType::TextList | FieldType::FloatList | FieldType::Json, Value::String(s)) => {
            serde_json::from_str::<Value>(s)
                .ok()
                .filter(|v| v.is_array() || v.is_object())
                .unwrap_or_else(|| value.clone())
        }
        _ => value.clone(),
    }
}

/// A value as the field stores it (`None`: it does not parse, so it can only be compared as is).
fn cell(kind: FieldType, value: &Value) -> Option<CellValue> {
    if value.is_null() {
        return Some(CellValue::Null);
    }
    kind.parse(value).ok()
}

/// Whether the package's value is the stored one.
fn same(kind: FieldType, package: &Value, stored: &Value) -> bool {
    let package = edit_value(kind, package);
    match (cell(kind, &package), cell(kind, stored)) {
        (Some(a), Some(b)) => a == b,
        _ => package == *stored,
    }
}

/// The merge patch that makes the packaged version the package's row (the geometry and the
/// fields that differ), or `None` when the row is unchanged.
fn patch_of(
    collection: &Collection,
    row: &PackageRow,
    geometry: Option<&geo_types::Geometry<f64>>,
    stored: &StoredVersion,
) -> Option<Value> {
    let mut properties = Map::new();
    for (column, kind, value) in writable_fields(collection, &row.properties) {
        let before = stored.properties.get(column).unwrap_or(&Value::Null);
        if !same(kind, value, before) {
            properties.insert(column.to_owned(), edit_value(kind, value));
        }
    }
    let stored_geometry = stored.wkb.as_deref().and_then(|w| geosector_ingest::readers::wkb::parse(w).ok().flatten());
    let geometry_changed = collection.has_geometry() && geometry != stored_geometry.as_ref();
    if properties.is_empty() && !geometry_changed {
        return None;
    }
    let mut patch = json!({ "properties": Value::Object(properties) });
    if geometry_changed {
        patch["geometry"] = geometry.map_or(Value::Null, geosector_ingest::validate::flagged::to_geojson);
    }
    Some(patch)
}

/// `POST /packages/changes`: the body is a package (`application/geopackage+sqlite3`, at most
/// [`MAX_UPLOAD`]); its field changes are applied as one changeset with the caller's write
/// grants and area, the `Geosector-*` headers giving the changeset's reference and note. 200
/// with the report (conflicts listed, not applied); `?dryRun=true` checks and stores nothing.
///
/// # Errors
/// As [`import_changes`]; 413 beyond the size, 415 for another media type.
pub async fn upload(
    state: web::Data<AppState>,
    req: HttpRequest,
    mut payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::caller(&state, &req).await?;
    let mut dry_run = false;
    for (name, value) in crate::params::query_pairs(&req)? {
        match (name.as_str(), value.as_str()) {
            ("dryRun", "true") => dry_run = true,
            ("dryRun", "false") => dry_run = false,
            ("dryRun", _) => return Err(ApiError::param("dryRun", "true or false")),
            _ => return Err(ApiError::param(&name, "unknown parameter; this takes only dryRun")),
        }
    }
    let given = req.headers().get(actix_web::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = given.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if !["application/geopackage+sqlite3", "application/x-sqlite3", "application/octet-stream"]
        .contains(&essence.as_str())
    {
        return Err(ApiError::UnsupportedMediaType(format!(
            "Content-Type {given:?} is not accepted here; send the package as application/geopackage+sqlite3"
        )));
    }
    let changeset = super::changeset_of(&req, &caller)?;
    // The body goes to a temporary file (SQLite reads files), never whole into memory.
    let temp = tempfile::Builder::new()
        .suffix(".gpkg")
        .tempfile()
        .map_err(|e| ApiError::Internal(format!("a temporary file for the package: {e}")))?;
    {
        use std::io::Write as _;
        let mut out = std::io::BufWriter::new(temp.as_file());
        let mut size = 0usize;
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| ApiError::param("body", format!("the body could not be read: {e}")))?;
            size += chunk.len();
            if size > MAX_UPLOAD {
                return Err(ApiError::PayloadTooLarge(format!("a package is at most {} MiB", MAX_UPLOAD >> 20)));
            }
            out.write_all(&chunk).map_err(|e| ApiError::Internal(format!("writing the package: {e}")))?;
        }
        out.flush().map_err(|e| ApiError::Internal(format!("writing the package: {e}")))?;
    }
    let origin = WriteOrigin::of(&caller, &req);
    let open = |id: &str| -> Result<Opened, ApiError> {
        let opened = super::writable(&state, &caller, id)?;
        Ok((opened.collection, opened.scope))
    };
    let options = ChangesOptions { name: "package".into(), conflicts_out: None, dry_run };
    let collections: Vec<String> = Package::open(temp.path())
        .map(|p| p.info().collections.clone())
        .map_err(|e| package_error("package", temp.path(), &e))?;
    let ids: Vec<&str> = collections.iter().map(String::as_str).collect();
    super::check_change_type(&state, &ids, changeset.change_type.as_deref(), "Geosector-Change-Type")?;
    let report = import_changes(&state.writer(), &origin, &open, temp.path(), &changeset, &options).await?;
    Ok(HttpResponse::Ok().json(report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_values_compare_as_the_field_stores_them() {
        assert!(same(FieldType::TextList, &json!("[\"ONT\",\"CLN\"]"), &json!(["ONT", "CLN"])));
        assert!(!same(FieldType::TextList, &json!("[\"ONT\"]"), &json!(["ONT", "CLN"])));
        assert!(same(FieldType::Date, &json!("2020-01-21"), &json!("2020-01-21")));
        assert!(same(FieldType::Timestamp, &json!("2026-12-06T03:00:00Z"), &json!("2026-12-06T10:00:00+07:00")));
        assert!(same(FieldType::Float, &json!(120), &json!(120.0)));
        assert!(same(FieldType::Boolean, &json!(true), &json!(true)));
        assert!(same(FieldType::Text, &Value::Null, &Value::Null));
        assert!(!same(FieldType::Text, &json!("Thôn 9"), &json!("Thôn 8")));
        assert!(!same(FieldType::Integer, &json!("abc"), &json!(3)), "a value that does not parse differs");
    }
}
