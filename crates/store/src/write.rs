//! Writes of single features of a versioned dataset (OGC API - Features Part 4, changesets):
//! the transaction's changeset, then inserts, replacements and deletions, each of which the row
//! triggers of migration 0021 turn into versions and history rows in the same transaction.
//!
//! The caller opens the transaction, begins its changeset ([`begin`]), locks what it changes
//! ([`lock`]: the current version, to compare with the client's `If-Match`, and whether the row
//! lies in the caller's area), writes, and commits. Statements are built from the dataset's
//! declaration; every value — ids, cells, geometry, codes — is bound.

use chrono::{DateTime, NaiveDate, Utc};
use geosector_domain::{AreaDecl, CellValue, Dataset, History};
use tokio_postgres::types::ToSql;
use tokio_postgres::GenericClient;

use crate::plan::{area_condition, AreaScope};
use crate::values::{Cell, Ewkb};
use crate::{quote_ident, table_name, Result};

/// Where a changeset comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// An edit through the HTTP API.
    Api,
    /// A bulk import.
    Import,
}

impl Source {
    /// Its name in `meta.changesets.source`.
    pub fn name(self) -> &'static str {
        match self {
            Source::Api => "api",
            Source::Import => "import",
        }
    }
}

/// What a changeset records besides its time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changeset {
    /// Who: a token subject, `key:<id>`, `cli:<user>`.
    pub actor: String,
    /// The client (address or program).
    pub client: Option<String>,
    /// API edit or import.
    pub source: Source,
    /// The change type (a sector's code, e.g. a land change code).
    pub change_type: Option<String>,
    /// The legal reference: the decision's number.
    pub reference: Option<String>,
    /// The decision's date.
    pub reference_date: Option<NaiveDate>,
    /// A free note.
    pub note: Option<String>,
}

/// A changeset begun in a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Begun {
    /// Its id.
    pub id: i64,
    /// Its time: the `version_from` of every version it writes.
    pub at: DateTime<Utc>,
}

/// Records a changeset and makes it the transaction's (migration 0021's
/// `meta.begin_changeset`): every version written afterwards in the transaction carries it.
///
/// # Errors
/// A database error.
pub async fn begin(tx: &impl GenericClient, changeset: &Changeset) -> Result<Begun> {
    let row = tx
        .query_one(
            "SELECT id, at FROM meta.begin_changeset($1, $2, $3, $4, $5, $6, $7)",
            &[
                &changeset.actor,
                &changeset.client,
                &changeset.source.name(),
                &changeset.change_type,
                &changeset.reference,
                &changeset.reference_date,
                &changeset.note,
            ],
        )
        .await?;
    Ok(Begun { id: row.get(0), at: row.get(1) })
}

/// The values of a feature to store: its declared fields in declaration order, and its
/// geometry's columns.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureValues {
    /// One cell per declared field.
    pub cells: Vec<CellValue>,
    /// EWKB in EPSG:4326, when the dataset has geometry; `None` keeps the stored geometry (an
    /// update that does not touch it) or writes NULL (an insert).
    pub geometry: Option<Vec<u8>>,
    /// The source CRS's EPSG code (0 for a custom zone).
    pub source_srid: Option<i32>,
    /// The planar area in m² (the dataset's area column).
    pub area_m2: Option<f64>,
}

/// A stored feature, locked for a write.
#[derive(Debug, Clone, PartialEq)]
pub struct Current {
    /// Its version.
    pub version: i32,
    /// When that version began.
    pub since: DateTime<Utc>,
    /// Whether it lies in the caller's write area.
    pub in_scope: bool,
    /// Its declared fields, by column name.
    pub properties: serde_json::Map<String, serde_json::Value>,
    /// Its geometry as GeoJSON in lon/lat (full precision), if any.
    pub geometry: Option<serde_json::Value>,
}

/// What is stored under an id.
#[derive(Debug, Clone, PartialEq)]
pub enum Stored {
    /// A current feature.
    Live(Current),
    /// A feature that was retired (it has history, no current version).
    Retired,
    /// Nothing ever.
    Missing,
}

/// Locks the feature `id` (`SELECT … FOR UPDATE`) and reads its version, its values and
/// whether it lies in `scope` (always, without one).
///
/// # Errors
/// A database error.
pub async fn lock(
    tx: &impl GenericClient,
    dataset: &Dataset,
    area: Option<&AreaDecl>,
    id: i64,
    scope: Option<&AreaScope>,
) -> Result<Stored> {
    stored(tx, dataset, area, id, scope, true).await
}

/// [`lock`] without the lock: what is stored under `id` now.
///
/// # Errors
/// A database error.
pub async fn peek(
    client: &impl GenericClient,
    dataset: &Dataset,
    area: Option<&AreaDecl>,
    id: i64,
    scope: Option<&AreaScope>,
) -> Result<Stored> {
    stored(client, dataset, area, id, scope, false).await
}

async fn stored(
    tx: &impl GenericClient,
    dataset: &Dataset,
    area: Option<&AreaDecl>,
    id: i64,
    scope: Option<&AreaScope>,
    lock: bool,
) -> Result<Stored> {
    let table = table_name(dataset);
    let mut object = String::from("json_build_object(");
    for (i, field) in dataset.fields.iter().enumerate() {
        if i > 0 {
            object.push_str(", ");
        }
        object.push_str(&format!("'{}', {}", field.column.replace('\'', "''"), quote_ident(field.column)));
    }
    object.push_str(")::text");
    let geometry = dataset
        .geometry
        .map_or_else(|| "NULL::text".to_owned(), |g| format!("ST_AsGeoJSON({}, 15)", quote_ident(g.column)));
    let codes: Vec<String> = scope.map(|s| s.codes.clone()).unwrap_or_default();
    let (in_scope, params): (String, Vec<&(dyn ToSql + Sync)>) = match (scope, area) {
        (Some(_), Some(area)) => (area_condition(&table, area, 2), vec![&id, &codes]),
        _ => ("TRUE".to_owned(), vec![&id]),
    };
    let lock = if lock { " FOR UPDATE" } else { "" };
    let sql =
        format!("SELECT version, ({in_scope}), {object}, {geometry}, version_from FROM {table} WHERE id = $1{lock}");
    if let Some(row) = tx.query_opt(&sql, &params).await? {
        let properties: String = row.get(2);
        let properties = match serde_json::from_str(&properties) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        };
        let geometry: Option<String> = row.get(3);
        return Ok(Stored::Live(Current {
            version: row.get(0),
            since: row.get(4),
            in_scope: row.get(1),
            properties,
            geometry: geometry.and_then(|g| serde_json::from_str(&g).ok()),
        }));
    }
    let history = format!("{}.{}", quote_ident(dataset.schema), quote_ident(&History::table(dataset)));
    let retired: bool =
        tx.query_one(&format!("SELECT EXISTS (SELECT 1 FROM {history} WHERE id = $1)"), &[&id]).await?.get(0);
    Ok(if retired { Stored::Retired } else { Stored::Missing })
}

/// Whether values would place a feature in `scope` (by the collection's area columns; a
/// collection placed otherwise, or without an area, is not bound to one).
///
/// # Errors
/// A database error.
pub async fn values_in_scope(
    tx: &impl GenericClient,
    dataset: &Dataset,
    area: Option<&AreaDecl>,
    values: &FeatureValues,
    scope: &AreaScope,
) -> Result<bool> {
    let Some(AreaDecl::Columns { province, commune }) = area else { return Ok(area.is_none()) };
    let text_of = |column: &Option<&'static str>| -> Option<String> {
        let i = dataset.fields.iter().position(|f| Some(f.column) == *column)?;
        match values.cells.get(i) {
            Some(CellValue::Text(t)) => Some(t.clone()),
            _ => None,
        }
    };
    let (province, commune) = (text_of(province), text_of(commune));
    let row = tx
        .query_one(
            "SELECT coalesce($1::text = ANY($3::text[]), false) OR coalesce($2::text = ANY($3::text[]), false)
                 OR coalesce($2::text = ANY((SELECT meta.communes_of($3::text[]))::text[]), false)",
            &[&province, &commune, &scope.codes],
        )
        .await?;
    Ok(row.get(0))
}

/// The columns written, in order: the declared fields, then the geometry's (when `geometry`).
fn columns(dataset: &Dataset, geometry: bool) -> Vec<&'static str> {
    let mut columns: Vec<&'static str> = dataset.fields.iter().map(|f| f.column).collect();
    if let (true, Some(g)) = (geometry, &dataset.geometry) {
        columns.push(g.column);
        columns.extend(g.source_srid_column);
        columns.extend(g.area_column);
    }
    columns
}

/// The bound values of `columns(dataset, geometry)`, in order.
fn params<'a>(dataset: &Dataset, values: &'a FeatureValues, geometry: bool) -> Vec<Box<dyn ToSql + Sync + 'a>> {
    let mut params: Vec<Box<dyn ToSql + Sync + 'a>> =
        values.cells.iter().map(|c| Box::new(Cell(c)) as Box<dyn ToSql + Sync>).collect();
    if let (true, Some(g)) = (geometry, &dataset.geometry) {
        params.push(Box::new(Ewkb(values.geometry.as_deref())));
        if g.source_srid_column.is_some() {
            params.push(Box::new(values.source_srid));
        }
        if g.area_column.is_some() {
            params.push(Box::new(values.area_m2));
        }
    }
    params
}

/// Stores a new feature; returns its id and version (1).
///
/// # Errors
/// A database error (a refused value: a check constraint, a type).
pub async fn insert(tx: &impl GenericClient, dataset: &Dataset, values: &FeatureValues) -> Result<(i64, i32)> {
    let columns = columns(dataset, true);
    let list = columns.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ");
    let placeholders = (1..=columns.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
    let sql = format!("INSERT INTO {} ({list}) VALUES ({placeholders}) RETURNING id, version", table_name(dataset));
    let params = params(dataset, values, true);
    let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(AsRef::as_ref).collect();
    let row = tx.query_one(&sql, &refs).await?;
    Ok((row.get(0), row.get(1)))
}

/// Replaces the values of feature `id` (its geometry too unless `values.geometry` is `None`);
/// returns its version afterwards (unchanged when nothing but bookkeeping changed).
///
/// # Errors
/// A database error.
pub async fn update(tx: &impl GenericClient, dataset: &Dataset, id: i64, values: &FeatureValues) -> Result<i32> {
    let geometry = values.geometry.is_some();
    let columns = columns(dataset, geometry);
    let sets = columns.iter().enumerate().map(|(i, c)| format!("{} = ${}", quote_ident(c), i + 2)).collect::<Vec<_>>();
    let sql = format!("UPDATE {} SET {} WHERE id = $1 RETURNING version", table_name(dataset), sets.join(", "));
    let mut params = params(dataset, values, geometry);
    params.insert(0, Box::new(id));
    let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(AsRef::as_ref).collect();
    Ok(tx.query_one(&sql, &refs).await?.get(0))
}

/// Retires feature `id` (its last version goes to the history).
///
/// # Errors
/// A database error.
pub async fn delete(tx: &impl GenericClient, dataset: &Dataset, id: i64) -> Result<()> {
    tx.execute(&format!("DELETE FROM {} WHERE id = $1", table_name(dataset)), &[&id]).await?;
    Ok(())
}

/// The current version of feature `id`, if it is live.
///
/// # Errors
/// A database error.
pub async fn live_version(tx: &impl GenericClient, dataset: &Dataset, id: i64) -> Result<Option<i32>> {
    let sql = format!("SELECT version FROM {} WHERE id = $1", table_name(dataset));
    Ok(tx.query_opt(&sql, &[&id]).await?.map(|r| r.get(0)))
}

/// The share of a parent version's area that a (live) child covers, from 0 to 1; `None` without
/// geometry or area.
///
/// # Errors
/// A database error.
pub async fn area_share(
    tx: &impl GenericClient,
    dataset: &Dataset,
    parent: (i64, i32),
    child: i64,
) -> Result<Option<f64>> {
    let Some(g) = dataset.geometry.map(|g| quote_ident(g.column)) else { return Ok(None) };
    let table = table_name(dataset);
    let history = format!("{}.{}", quote_ident(dataset.schema), quote_ident(&History::table(dataset)));
    let sql = format!(
        "SELECT CASE WHEN ST_Area(p.g::geography) > 0
                     THEN least(1.0, ST_Area(ST_Intersection(p.g, c.{g})::geography) / ST_Area(p.g::geography)) END
         FROM (SELECT {g} AS g FROM {table} WHERE id = $1 AND version = $2
               UNION ALL SELECT {g} FROM {history} WHERE id = $1 AND version = $2 LIMIT 1) AS p,
              {table} AS c
         WHERE c.id = $3"
    );
    Ok(tx.query_opt(&sql, &[&parent.0, &parent.1, &child]).await?.and_then(|r| r.get(0)))
}

/// The versions changeset `changeset` wrote in a dataset, and the features it retired: (id,
/// version, retired), by id and version.
///
/// # Errors
/// A database error.
pub async fn written_by(
    client: &impl GenericClient,
    dataset: &Dataset,
    changeset: i64,
) -> Result<Vec<(i64, i32, bool)>> {
    let table = table_name(dataset);
    let history = format!("{}.{}", quote_ident(dataset.schema), quote_ident(&History::table(dataset)));
    let sql = format!(
        "SELECT id, version, false FROM {table} WHERE changeset_id = $1
         UNION ALL SELECT id, version, false FROM {history} WHERE changeset_id = $1
         UNION ALL SELECT id, version, true FROM {history} WHERE ended_by = $1 AND retired
         ORDER BY 1, 2"
    );
    Ok(client.query(&sql, &[&changeset]).await?.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect())
}

/// Records a lineage edge: `parent` (at `parent_version`) became, in part, `child` (at
/// `child_version`) through the transaction's changeset.
///
/// # Errors
/// A database error (e.g. no changeset begun).
pub async fn lineage(tx: &impl GenericClient, dataset: &Dataset, edge: &LineageEdge<'_>) -> Result<()> {
    tx.execute(
        "INSERT INTO meta.lineage (schema_name, table_name, parent_id, parent_version, child_id, child_version, changeset_id, change_type, area_share)
         VALUES ($1, $2, $3, $4, $5, $6, meta.current_changeset(), $7, $8)",
        &[
            &dataset.schema,
            &dataset.table,
            &edge.parent.0,
            &edge.parent.1,
            &edge.child.0,
            &edge.child.1,
            &edge.change_type,
            &edge.area_share,
        ],
    )
    .await?;
    Ok(())
}

/// One lineage edge ([`lineage`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineageEdge<'a> {
    /// The parent's id and version.
    pub parent: (i64, i32),
    /// The child's id and version.
    pub child: (i64, i32),
    /// The change type's code.
    pub change_type: &'a str,
    /// The share of the parent's area the child took (0–1), when known.
    pub area_share: Option<f64>,
}

/// An offline package whose field changes a changeset applies (`geosector import --changes`):
/// what names it, as its `geosector_package` table says. One package applies once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageMark {
    /// `made_at`, as written in the package (RFC 3339).
    pub made_at: String,
    /// `source`: the server's base URL or `database`.
    pub source: String,
    /// `caller`: who made it.
    pub caller: String,
    /// `area`, as given.
    pub area: String,
    /// `collections` (a JSON array).
    pub collections: String,
    /// The file it was read from (for the operator).
    pub file: String,
}

/// Records that the transaction's changeset applies a package (migration 0029's
/// `meta.package_imports`).
///
/// # Errors
/// A unique violation when the package was applied already (by a concurrent import); a
/// database error.
pub async fn mark_package(tx: &impl GenericClient, mark: &PackageMark) -> Result<()> {
    tx.execute(
        "INSERT INTO meta.package_imports (made_at, source, caller, area, collections, file, changeset_id)
         VALUES ($1, $2, $3, $4, $5, $6, meta.current_changeset())",
        &[&mark.made_at, &mark.source, &mark.caller, &mark.area, &mark.collections, &mark.file],
    )
    .await?;
    Ok(())
}

/// The changeset that applied a package already, and its time, if one did.
///
/// # Errors
/// A database error.
pub async fn package_applied(client: &impl GenericClient, mark: &PackageMark) -> Result<Option<(i64, DateTime<Utc>)>> {
    let row = client
        .query_opt(
            "SELECT c.id, c.at FROM meta.package_imports AS p JOIN meta.changesets AS c ON c.id = p.changeset_id
             WHERE p.made_at = $1 AND p.source = $2 AND p.caller = $3 AND p.area = $4 AND p.collections = $5",
            &[&mark.made_at, &mark.source, &mark.caller, &mark.area, &mark.collections],
        )
        .await?;
    Ok(row.map(|r| (r.get(0), r.get(1))))
}

/// The versions of features of a versioned dataset, live or in the history: for each
/// `(id, version)` asked that exists, its declared fields by column name and its geometry as WKB
/// (EPSG:4326).
///
/// # Errors
/// A database error.
pub async fn versions_of(
    client: &impl GenericClient,
    dataset: &Dataset,
    wanted: &[(i64, i32)],
) -> Result<Vec<StoredVersion>> {
    let table = table_name(dataset);
    let history = format!("{}.{}", quote_ident(dataset.schema), quote_ident(&History::table(dataset)));
    let mut object = String::from("json_build_object(");
    for (i, field) in dataset.fields.iter().enumerate() {
        if i > 0 {
            object.push_str(", ");
        }
        object.push_str(&format!("'{}', v.{}", field.column.replace('\'', "''"), quote_ident(field.column)));
    }
    object.push_str(")::text");
    let geometry = dataset
        .geometry
        .map_or_else(|| "NULL::bytea".to_owned(), |g| format!("ST_AsBinary(v.{})", quote_ident(g.column)));
    let sql = format!(
        "WITH w AS (SELECT * FROM unnest($1::bigint[], $2::int[]) AS w(id, version))
         SELECT v.id, v.version, {object}, {geometry}
         FROM (SELECT t.* FROM {table} AS t JOIN w USING (id, version)) AS v
         UNION ALL
         SELECT v.id, v.version, {object}, {geometry}
         FROM (SELECT h.* FROM {history} AS h JOIN w USING (id, version)) AS v"
    );
    let ids: Vec<i64> = wanted.iter().map(|w| w.0).collect();
    let versions: Vec<i32> = wanted.iter().map(|w| w.1).collect();
    let rows = client.query(&sql, &[&ids, &versions]).await?;
    Ok(rows
        .iter()
        .map(|r| {
            let properties: String = r.get(2);
            StoredVersion {
                id: r.get(0),
                version: r.get(1),
                properties: match serde_json::from_str(&properties) {
                    Ok(serde_json::Value::Object(map)) => map,
                    _ => serde_json::Map::new(),
                },
                wkb: r.get(3),
            }
        })
        .collect())
}

/// The live versions of features (`None`: retired or never stored), in the order asked.
///
/// # Errors
/// A database error.
pub async fn live_versions(client: &impl GenericClient, dataset: &Dataset, ids: &[i64]) -> Result<Vec<Option<i32>>> {
    let sql = format!(
        "SELECT w.id, t.version FROM unnest($1::bigint[]) AS w(id) LEFT JOIN {} AS t USING (id)",
        table_name(dataset)
    );
    let rows = client.query(&sql, &[&ids]).await?;
    let found: std::collections::HashMap<i64, Option<i32>> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    Ok(ids.iter().map(|id| found.get(id).copied().flatten()).collect())
}

/// One version of a feature ([`versions_of`]).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredVersion {
    /// The feature.
    pub id: i64,
    /// The version.
    pub version: i32,
    /// Its declared fields, by column name.
    pub properties: serde_json::Map<String, serde_json::Value>,
    /// Its geometry as WKB in EPSG:4326 (`None`: none).
    pub wkb: Option<Vec<u8>>,
}
