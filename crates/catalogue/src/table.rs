//! The records table (`catalogue.records`, migration 0023) and the [`Catalogue`] that keeps it
//! in step: [`Catalogue::refresh`] rebuilds the records when the data versions they were built
//! from have moved (one query tells; only the changed tables' facts are read again) and writes
//! them in one transaction; [`Catalogue::search`] and [`Catalogue::get`] read it. Records are a
//! few kilobytes each: no layer is ever held.

use std::collections::HashMap;

use geosector_domain::{CollectionDecl, SectorDecl};
use geosector_store::registry::Registry;
use tokio_postgres::Client;

use crate::build::{self, Crs, TableFacts};
use crate::external::CatalogueFile;
use crate::query::Search;
use crate::record::Record;
use crate::{live, CatalogueError};

const UPSERT_SQL: &str = "INSERT INTO catalogue.records
    (id, type, origin, collections, title, description, keywords, keywords_folded, extent,
     time_start, time_end, updated, stamp, record, search)
VALUES ($1, $2, $3, $4, $5, $6, $7, ARRAY(SELECT lower(meta.accenti(k)) FROM unnest($7::text[]) k),
    CASE WHEN $8::float8[] IS NULL THEN NULL ELSE ST_MakeEnvelope($8[1], $8[2], $8[3], $8[4], 4326) END,
    $9::text::timestamptz, $10::text::timestamptz, $11::text::timestamptz, $12, $13::text::jsonb,
    setweight(to_tsvector('simple', meta.accenti($5)), 'A')
    || setweight(to_tsvector('simple', meta.accenti($6)), 'B')
    || setweight(to_tsvector('simple', meta.accenti(array_to_string($7::text[], ' '))), 'C'))
ON CONFLICT (id) DO UPDATE SET type = EXCLUDED.type, origin = EXCLUDED.origin, collections = EXCLUDED.collections,
    title = EXCLUDED.title, description = EXCLUDED.description, keywords = EXCLUDED.keywords,
    keywords_folded = EXCLUDED.keywords_folded, extent = EXCLUDED.extent, time_start = EXCLUDED.time_start,
    time_end = EXCLUDED.time_end, updated = EXCLUDED.updated, stamp = EXCLUDED.stamp, record = EXCLUDED.record,
    search = EXCLUDED.search
WHERE catalogue.records.record IS DISTINCT FROM EXCLUDED.record";

/// The end of a temporal extent as an instant: a date ends with its last microsecond.
fn end_instant(end: &str) -> String {
    if end.len() == 10 {
        format!("{end}T23:59:59.999999Z")
    } else {
        end.to_owned()
    }
}

#[derive(Default)]
struct Built {
    /// The versions stamp the table was last built at.
    stamp: Option<String>,
    /// The facts read, by table, with the version they were read at.
    facts: HashMap<String, TableFacts>,
    /// The declared records as last written (JSON), by id: only those that changed are written.
    written: HashMap<String, String>,
    /// Whether the external records (which do not depend on the data) have been written.
    external_written: bool,
}

/// A page of search results.
#[derive(Debug)]
pub struct Page {
    /// The records, best first, with their rank (0 without `q`).
    pub records: Vec<(Record, f32)>,
    /// Whether more records follow.
    pub more: bool,
    /// How many records match in all (`numberMatched`).
    pub matched: i64,
}

/// The catalogue: what it is built from, and what it was last built at.
pub struct Catalogue {
    sectors: Vec<&'static SectorDecl>,
    file: CatalogueFile,
    crs: Crs,
    built: tokio::sync::Mutex<Built>,
}

impl std::fmt::Debug for Catalogue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalogue").field("external", &self.file.records.len()).finish_non_exhaustive()
    }
}

impl Catalogue {
    /// A catalogue of these sectors and this file; `crs` lists the CRSs data with geometry are
    /// served in.
    pub fn new(sectors: Vec<&'static SectorDecl>, file: CatalogueFile, crs: Crs) -> Catalogue {
        Catalogue { sectors, file, crs, built: tokio::sync::Mutex::new(Built::default()) }
    }

    /// Rebuilds the records when the data changed since the last build (or on the first call);
    /// returns whether it wrote. Concurrent callers wait for one rebuild.
    ///
    /// # Errors
    /// A database error.
    pub async fn refresh(&self, client: &mut Client, registry: &Registry) -> Result<bool, CatalogueError> {
        let versions = live::versions(client).await?;
        let mut stamp: Vec<String> = versions.iter().map(|(t, (v, _))| format!("{t}@{v}")).collect();
        stamp.sort_unstable();
        let stamp = stamp.join(",");
        let mut built = self.built.lock().await;
        if built.stamp.as_deref() == Some(stamp.as_str()) {
            return Ok(false);
        }
        let published: Vec<&str> = registry.iter().map(|c| c.id()).collect();
        // The facts of every declared table whose version moved.
        for sector in &self.sectors {
            let tables = sector.datasets.iter().chain(sector.collections.iter().map(|c| c.dataset));
            for d in tables {
                let key = build::table_key(d);
                let version = versions.get(&key);
                let current = version.map_or(0, |(v, _)| *v);
                if built.facts.get(&key).is_some_and(|f| f.version == current && f.version != 0) {
                    continue;
                }
                let serving: Option<&CollectionDecl> =
                    sector.collections.iter().find(|c| c.dataset.id == d.id && published.contains(&c.id));
                let collection = serving.and_then(|c| registry.get(c.id)).map(AsRef::as_ref);
                let facts = live::table_facts(client, d.schema, d.table, version, collection, serving).await?;
                built.facts.insert(key, facts);
            }
        }
        let facts = &built.facts;
        let mut records = build::declared(&self.sectors, &published, |t| facts.get(t), &self.crs);
        for record in &mut records {
            if let Some(agency) = record.sector.as_ref().and_then(|s| self.file.agencies.get(s)) {
                record.agency = agency.to_agency();
            }
        }
        // Only what changed is written: the declared records whose JSON moved, and the external
        // ones (which do not depend on the data) once.
        let ids: Vec<String> = records.iter().map(|r| r.id.clone()).collect();
        let mut changed: Vec<(Record, String)> = Vec::new();
        for record in records {
            let json = serde_json::to_string(&record).map_err(|e| CatalogueError::Record(e.to_string()))?;
            if built.written.get(&record.id) != Some(&json) {
                changed.push((record, json));
            }
        }
        let mut rows: Vec<Record> = changed.iter().map(|(r, _)| r.clone()).collect();
        let first = !built.external_written;
        if first {
            rows.extend(self.file.records());
        }
        write(client, &rows, &ids, first, &stamp).await?;
        for (record, json) in changed {
            built.written.insert(record.id, json);
        }
        built.external_written = true;
        built.stamp = Some(stamp);
        Ok(true)
    }

    /// One page of a search: the records, best first, whether more follow, and how many
    /// records match in all.
    ///
    /// # Errors
    /// A database error, or a stored record that does not read back.
    pub async fn search(&self, client: &Client, search: &Search) -> Result<Page, CatalogueError> {
        let statement = search.page_sql();
        let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
            statement.values.iter().map(crate::query::Value::as_sql).collect();
        let rows = client.query(statement.sql.as_str(), &params).await?;
        let more = usize::try_from(search.limit).is_ok_and(|limit| rows.len() > limit);
        let matched = match rows.first() {
            Some(row) => row.get::<_, i64>(3),
            None => self.count(client, search).await?,
        };
        let mut records = Vec::with_capacity(rows.len());
        for row in rows.iter().take(usize::try_from(search.limit).unwrap_or(0)) {
            let text: &str = row.get(1);
            let record: Record = serde_json::from_str(text).map_err(|e| CatalogueError::Record(e.to_string()))?;
            records.push((record, row.get::<_, f32>(2)));
        }
        Ok(Page { records, more, matched })
    }

    /// How many records match a search.
    ///
    /// # Errors
    /// A database error.
    pub async fn count(&self, client: &Client, search: &Search) -> Result<i64, CatalogueError> {
        let statement = search.count_sql();
        let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
            statement.values.iter().map(crate::query::Value::as_sql).collect();
        Ok(client.query_one(statement.sql.as_str(), &params).await?.get(0))
    }

    /// One record, unless it describes a collection in `hidden`.
    ///
    /// # Errors
    /// A database error, or a stored record that does not read back.
    pub async fn get(&self, client: &Client, id: &str, hidden: &[String]) -> Result<Option<Record>, CatalogueError> {
        let search = Search { ids: vec![id.to_owned()], hidden: hidden.to_vec(), limit: 1, ..Search::default() };
        Ok(self.search(client, &search).await?.records.into_iter().next().map(|(r, _)| r))
    }
}

/// Writes records in one transaction: upserts (rows whose record is unchanged stay untouched),
/// then deletes the declared records no longer built (`declared` lists those that are) and, on
/// the first write (`replace_external`), the external records no longer in the file.
async fn write(
    client: &mut Client,
    records: &[Record],
    declared: &[String],
    replace_external: bool,
    stamp: &str,
) -> Result<(), CatalogueError> {
    let tx = client.transaction().await?;
    let upsert = tx.prepare(UPSERT_SQL).await?;
    for r in records {
        let restricted: Vec<String> = if r.access.level == "restricted" { r.collections.clone() } else { Vec::new() };
        let bbox: Option<Vec<f64>> = r.bbox.map(|b| b.to_vec());
        let (start, end) = r.time.clone().unwrap_or((None, None));
        let end = end.as_deref().map(end_instant);
        let json = serde_json::to_string(r).map_err(|e| CatalogueError::Record(e.to_string()))?;
        tx.execute(
            &upsert,
            &[
                &r.id,
                &r.kind,
                &r.origin,
                &restricted,
                &format!("{} {}", r.title_vi, r.title_en),
                &format!("{} {}", r.description_vi, r.description_en),
                &r.keywords,
                &bbox,
                &start,
                &end,
                &r.updated,
                &stamp,
                &json,
            ],
        )
        .await?;
    }
    tx.execute("DELETE FROM catalogue.records WHERE origin = 'declared' AND NOT (id = ANY($1))", &[&declared]).await?;
    if replace_external {
        let external: Vec<&str> = records.iter().filter(|r| r.origin == "external").map(|r| r.id.as_str()).collect();
        tx.execute("DELETE FROM catalogue.records WHERE origin = 'external' AND NOT (id = ANY($1))", &[&external])
            .await?;
    }
    tx.commit().await?;
    Ok(())
}
