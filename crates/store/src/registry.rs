//! The collection registry: the published collections, built once at start from the sector
//! crates' declarations, each with its spatial and temporal extent and its query plan.
//!
//! Only declared collections exist; a restricted schema is never declared, so it can never be
//! reached. Each declared table must be published (`meta.publish`, migration 0017): the registry
//! refuses to load when one lacks its data-version trigger or row (ETags and the change feed read
//! them) or, with geometry, its Web Mercator twin (the tile statement reads it), naming the table
//! and what is missing. Extents are read at start with `ST_EstimatedExtent` (statistics, no scan) and fall
//! back to `ST_Extent` for a table without statistics; both run under the pool's statement
//! timeout.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use geosector_domain::{CollectionDecl, Property};
use tokio_postgres::Client;

use crate::plan::CollectionPlan;
use crate::series::SeriesPlan;
use crate::{quote_ident, table_name, Result, StoreError};

/// The column of a versioned table holding when its current version began (migration 0021).
const VERSION_FROM: &str = "version_from";

/// Which personal properties a view of a collection shows: whole, or masked. Every other
/// personal property is absent from it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct FieldView {
    /// Shown whole.
    pub whole: Vec<&'static str>,
    /// Shown through their declared mask.
    pub masked: Vec<&'static str>,
}

impl FieldView {
    /// No personal property at all.
    pub const CLOSED: FieldView = FieldView { whole: Vec::new(), masked: Vec::new() };

    /// Whether it shows no personal property.
    pub fn is_closed(&self) -> bool {
        self.whole.is_empty() && self.masked.is_empty()
    }
}

/// A published collection, as one view of its personal properties: the registry holds the
/// closed view (no personal property), and [`Collection::view`] gives the others.
#[derive(Debug)]
pub struct Collection {
    /// Its declaration.
    pub decl: &'static CollectionDecl,
    /// The properties a request may name (filter, sort, select, equality) and that tiles and
    /// queryables show, in order: published ones less the personal properties this view does
    /// not show whole.
    pub properties: Vec<Property>,
    /// The personal properties of this view.
    pub fields: FieldView,
    /// Spatial extent in CRS84 (`[min lon, min lat, max lon, max lat]`) and the data version it
    /// was computed at; refreshed when the data change (see [`Collection::extent_at`]). Shared
    /// by every view.
    extent: Arc<RwLock<(i64, Option<[f64; 4]>)>>,
    /// The other views, built on first use (on the closed view only).
    views: Mutex<HashMap<FieldView, Arc<Collection>>>,
    /// Temporal extent (RFC 3339 or dates; `None` = open), when it has a time property.
    pub interval: Option<(Option<String>, Option<String>)>,
    /// The SQL of its requests.
    pub plan: CollectionPlan,
    /// What a CQL2 filter may name (its properties and geometry), mapped to columns.
    pub queryables: geosector_filter::Queryables,
    /// The statements of its features' time series, when it declares one.
    pub series: Option<SeriesPlan>,
    table_key: String,
}

impl Collection {
    /// Plans one view of a collection. Pure: no database.
    fn build(
        decl: &'static CollectionDecl,
        fields: FieldView,
        extent: Arc<RwLock<(i64, Option<[f64; 4]>)>>,
        interval: Option<(Option<String>, Option<String>)>,
    ) -> Collection {
        let personal = |name: &str| decl.access.mask_of(name).is_some();
        let shown: Vec<Property> = decl
            .properties()
            .into_iter()
            .filter(|p| !personal(p.name) || fields.whole.contains(&p.name) || fields.masked.contains(&p.name))
            .collect();
        let plan = CollectionPlan::new(decl, &shown, &fields.masked);
        let properties: Vec<Property> = shown.into_iter().filter(|p| !fields.masked.contains(&p.name)).collect();
        let mut queryables = geosector_filter::Queryables::new(&properties, decl.dataset.geometry.as_ref());
        if decl.dataset.history.is_some() {
            // When the current version began: what a harvester asks for to fetch only the
            // features changed since an instant (`geosector import --since`).
            queryables = queryables.with_column(VERSION_FROM, geosector_filter::Kind::Timestamp);
        }
        let series = decl.series.map(|s| SeriesPlan::new(decl, s));
        Collection {
            decl,
            properties,
            fields,
            extent,
            views: Mutex::new(HashMap::new()),
            interval,
            plan,
            queryables,
            series,
            table_key: format!("{}.{}", decl.dataset.schema, decl.dataset.table),
        }
    }

    /// The view of this collection that shows these personal properties (only those it
    /// declares personal count; the closed view is itself).
    pub fn view(self: &Arc<Self>, fields: &FieldView) -> Arc<Collection> {
        let fields = FieldView {
            whole: fields.whole.iter().copied().filter(|n| self.decl.access.mask_of(n).is_some()).collect(),
            masked: fields.masked.iter().copied().filter(|n| self.decl.access.mask_of(n).is_some()).collect(),
        };
        if fields == self.fields {
            return Arc::clone(self);
        }
        let mut views = self.views.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let view = views.entry(fields.clone()).or_insert_with(|| {
            Arc::new(Collection::build(self.decl, fields, Arc::clone(&self.extent), self.interval.clone()))
        });
        Arc::clone(view)
    }

    /// Its id.
    pub fn id(&self) -> &'static str {
        self.decl.id
    }

    /// Whether it has a geometry column.
    pub fn has_geometry(&self) -> bool {
        self.decl.dataset.geometry.is_some()
    }

    /// A published property by name.
    pub fn property(&self, name: &str) -> Option<&Property> {
        self.properties.iter().find(|p| p.name == name)
    }

    /// The spatial extent last computed, in CRS84 (`None` without geometry or rows).
    pub fn bbox(&self) -> Option<[f64; 4]> {
        self.extent.read().unwrap_or_else(std::sync::PoisonError::into_inner).1
    }

    /// Its table as `schema.table` (the change feed's key).
    pub fn table_key(&self) -> &str {
        &self.table_key
    }

    /// The data version and extent last computed (version 0: never), for answering from caches
    /// while the database is away.
    pub fn last_extent(&self) -> (i64, Option<[f64; 4]>) {
        *self.extent.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The stored extent, when it was computed at this data version.
    pub fn extent_if_current(&self, version: i64) -> Option<Option<[f64; 4]>> {
        let (known, bbox) = *self.extent.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        (known == version).then_some(bbox)
    }

    /// The spatial extent at a data version: the stored one when the version is the same, else
    /// recomputed exactly with `ST_Extent` (statistics may lag behind a fresh import).
    ///
    /// # Errors
    /// A database error.
    pub async fn extent_at(&self, client: &Client, version: i64) -> Result<Option<[f64; 4]>> {
        let (known, bbox) = *self.extent.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        if known == version {
            return Ok(bbox);
        }
        let bbox = match self.decl.dataset.geometry {
            Some(g) => exact_extent(client, self.decl, g.column).await?,
            None => None,
        };
        *self.extent.write().unwrap_or_else(std::sync::PoisonError::into_inner) = (version, bbox);
        Ok(bbox)
    }
}

/// Every published collection, by id.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    collections: Vec<Arc<Collection>>,
}

impl Registry {
    /// Builds the registry: plans every collection and reads its extents.
    ///
    /// # Errors
    /// A database error (e.g. a declared table is missing: run `geosector migrate`).
    pub async fn load(client: &Client, decls: &[&'static CollectionDecl]) -> Result<Registry> {
        let mut collections = Vec::with_capacity(decls.len());
        for decl in decls {
            check_published(client, decl).await?;
            let version_sql = crate::plan::version_of(decl.dataset);
            let version = client.query_opt(version_sql.sql(), &[]).await?.map_or(0, |row| row.get::<_, i64>(0));
            let bbox = match decl.dataset.geometry {
                Some(g) => spatial_extent(client, decl, g.column).await?,
                None => None,
            };
            let interval = match decl.datetime {
                Some(column) => {
                    let sql = format!(
                        "SELECT min({c})::text, max({c})::text FROM {t}",
                        c = quote_ident(column),
                        t = table_name(decl.dataset)
                    );
                    let row = client.query_one(&sql, &[]).await?;
                    Some((row.get(0), row.get(1)))
                }
                None => None,
            };
            let extent = Arc::new(RwLock::new((version, bbox)));
            collections.push(Arc::new(Collection::build(decl, FieldView::CLOSED, extent, interval)));
        }
        Ok(Registry { collections })
    }

    /// The collection with this id, closed view (no personal property).
    pub fn get(&self, id: &str) -> Option<&Arc<Collection>> {
        self.collections.iter().find(|c| c.id() == id)
    }

    /// Every collection, in declaration order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Collection>> {
        self.collections.iter()
    }
}

/// What `meta.publish` installs that serving reads: the data-version trigger and row, and with a
/// geometry its Web Mercator twin and the four change-extent triggers (the tile cache drops what
/// they record). A view (without geometry) is published by `meta.publish_view`, which puts its
/// version trigger (`bump_version_<view>`) on the tables it reads.
const PUBLISHED_SQL: &str = "SELECT
    EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2),
    EXISTS (SELECT 1 FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relname = $2 AND g.tgname = 'bump_version')
    OR EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgname = 'bump_version_' || $2 AND EXISTS (
            SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind = 'v')),
    EXISTS (SELECT 1 FROM meta.table_versions WHERE schema_name = $1 AND table_name = $2),
    $3::text IS NULL OR EXISTS (
        SELECT 1 FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2 AND a.attname = $3 AND NOT a.attisdropped),
    $3::text IS NULL OR (
        SELECT count(DISTINCT g.tgname) FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2
          AND g.tgname IN ('record_extent_insert', 'record_extent_update', 'record_extent_delete', 'record_extent_truncate')) = 4";

/// Refuses a declared table that is not published, with a sentence naming it and the fix.
async fn check_published(client: &Client, decl: &CollectionDecl) -> Result<()> {
    let (schema, table) = (decl.dataset.schema, decl.dataset.table);
    let twin = decl.dataset.geometry.map(|g| format!("{}_3857", g.column));
    let row = client.query_one(PUBLISHED_SQL, &[&schema, &table, &twin]).await?;
    let (exists, trigger, version, mercator, extents): (bool, bool, bool, bool, bool) =
        (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4));
    if !exists {
        return Err(StoreError::NotPublished(format!("table {schema}.{table} does not exist: run geosector migrate")));
    }
    let fix = match decl.dataset.geometry.map(|g| g.column) {
        Some(column) if column != "geom" => {
            format!("call meta.publish('{schema}.{table}', '{column}') in its migration")
        }
        _ => format!("call meta.publish('{schema}.{table}') in its migration"),
    };
    if let (false, Some(twin)) = (mercator, &twin) {
        return Err(StoreError::NotPublished(format!(
            "table {schema}.{table} has no column {twin}, which the tile statement reads: {fix}"
        )));
    }
    if !extents {
        return Err(StoreError::NotPublished(format!(
            "table {schema}.{table} lacks a change-extent trigger (record_extent_insert, _update, _delete, _truncate), \
             which the tile cache reads to drop what a change touched: {fix}"
        )));
    }
    if !trigger || !version {
        let missing = if trigger { "no row in meta.table_versions" } else { "no data-version trigger (bump_version)" };
        return Err(StoreError::NotPublished(format!(
            "table {schema}.{table} has {missing}, which ETags and the change feed read: {fix}"
        )));
    }
    Ok(())
}

async fn spatial_extent(client: &Client, decl: &CollectionDecl, column: &str) -> Result<Option<[f64; 4]>> {
    let estimated = client
        .query_one(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_EstimatedExtent($1, $2, $3) AS e) s",
            &[&decl.dataset.schema, &decl.dataset.table, &column],
        )
        .await;
    match estimated {
        Ok(row) if row.get::<_, Option<f64>>(0).is_some() => Ok(four(&row)),
        // No statistics yet (a fresh or small table): scan it.
        _ => exact_extent(client, decl, column).await,
    }
}

/// The exact extent (`ST_Extent`: one scan of the table).
async fn exact_extent(client: &Client, decl: &CollectionDecl, column: &str) -> Result<Option<[f64; 4]>> {
    let sql = format!(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent({}) AS e FROM {}) s",
        quote_ident(column),
        table_name(decl.dataset)
    );
    Ok(four(&client.query_one(&sql, &[]).await?))
}

fn four(row: &tokio_postgres::Row) -> Option<[f64; 4]> {
    match (
        row.get::<_, Option<f64>>(0),
        row.get::<_, Option<f64>>(1),
        row.get::<_, Option<f64>>(2),
        row.get::<_, Option<f64>>(3),
    ) {
        (Some(a), Some(b), Some(c), Some(d)) => Some([a, b, c, d]),
        _ => None,
    }
}
