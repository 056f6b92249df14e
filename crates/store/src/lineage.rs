//! Lineage reads (migration 0021's `meta.lineage`): the ancestors of a feature — the features it
//! was split from or merged from, theirs, and so on — and its descendants, each edge with its
//! change type, changeset, time and the share of the parent's area the child took.
//!
//! Edges point from a parent version to a child version created by the same changeset, so the
//! graph is acyclic by construction; the walk is bounded by a number of generations anyway.

use chrono::{DateTime, Utc};
use geosector_domain::Dataset;
use tokio_postgres::GenericClient;

use crate::Result;

/// One parent → child edge, `generation` steps from the feature the walk started at.
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    /// The parent feature and its version when the change happened.
    pub parent: (i64, i32),
    /// The child feature and the version the change created.
    pub child: (i64, i32),
    /// The change type's code.
    pub change_type: String,
    /// The changeset.
    pub changeset: i64,
    /// Its time.
    pub at: DateTime<Utc>,
    /// Its legal reference.
    pub reference: Option<String>,
    /// The share of the parent's area the child took (0–1).
    pub area_share: Option<f64>,
    /// 1 for the edges touching the start feature, 2 for the next, …
    pub generation: i32,
}

/// Which way a walk goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// To the parents, their parents, …
    Ancestors,
    /// To the children, their children, …
    Descendants,
}

/// The edges from feature `id` of a dataset, `generations` deep at most, nearest first.
///
/// # Errors
/// A database error.
pub async fn walk(
    client: &impl GenericClient,
    dataset: &Dataset,
    id: i64,
    direction: Direction,
    generations: i32,
) -> Result<Vec<Edge>> {
    // The column the walk starts from and the one it continues from, per direction (fixed text).
    let (from, to) = match direction {
        Direction::Ancestors => ("child_id", "parent_id"),
        Direction::Descendants => ("parent_id", "child_id"),
    };
    let sql = format!(
        "WITH RECURSIVE walk AS (
             SELECT l.parent_id, l.parent_version, l.child_id, l.child_version, l.change_type, l.changeset_id,
                    l.area_share, 1 AS generation
             FROM meta.lineage l WHERE l.schema_name = $1 AND l.table_name = $2 AND l.{from} = $3
             UNION ALL
             SELECT l.parent_id, l.parent_version, l.child_id, l.child_version, l.change_type, l.changeset_id,
                    l.area_share, w.generation + 1
             FROM meta.lineage l JOIN walk w ON l.{from} = w.{to}
             WHERE l.schema_name = $1 AND l.table_name = $2 AND w.generation < $4)
         SELECT w.parent_id, w.parent_version, w.child_id, w.child_version, w.change_type, w.changeset_id, c.at,
                c.reference, w.area_share, w.generation
         FROM walk w JOIN meta.changesets c ON c.id = w.changeset_id
         ORDER BY w.generation, c.at, w.parent_id, w.child_id"
    );
    let rows = client.query(&sql, &[&dataset.schema, &dataset.table, &id, &generations]).await?;
    Ok(rows
        .iter()
        .map(|r| Edge {
            parent: (r.get(0), r.get(1)),
            child: (r.get(2), r.get(3)),
            change_type: r.get(4),
            changeset: r.get(5),
            at: r.get(6),
            reference: r.get(7),
            area_share: r.get(8),
            generation: r.get(9),
        })
        .collect())
}
