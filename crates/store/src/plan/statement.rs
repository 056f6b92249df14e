//! A statement with its values: what a plan hands the caller for one request.
//!
//! The plan numbers the placeholders and pushes the values in the same place, so their order
//! never leaves this crate: the caller runs [`Statement::sql`] with [`Statement::values`] as they
//! are. A statement built once per shape ([`Statement::is_reusable`]) is worth preparing and
//! caching per connection; a per-request one (a CQL2 filter, `sortby`, `properties`) is not.

use std::sync::Arc;

use bytes::BytesMut;
use tokio_postgres::types::{IsNull, ToSql, Type};

type BoxError = Box<dyn std::error::Error + Sync + Send>;

/// One bound value. It is encoded as its variant's Rust type is, and checked against the type
/// PostgreSQL infers for its placeholder ([`ToSql::to_sql_checked`] of the inner value): a
/// mismatch is an error, never bytes read as another type.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    /// `integer` (tile coordinates, rule SRIDs).
    Int(i32),
    /// `bigint` (ids, cursors, limits, offsets, data versions).
    BigInt(i64),
    /// `float8` (bbox envelopes).
    Float(f64),
    /// `text` (time bounds and property values, cast in SQL after validation).
    Text(String),
    /// `text` or NULL (an open bound).
    OptionalText(Option<String>),
    /// `bytea` (a bbox polygon as WKB).
    Bytes(Vec<u8>),
    /// `text[]` (an area scope's codes).
    TextArray(Vec<String>),
    /// `text[]` or NULL (a report's communes; NULL for the whole country).
    OptionalTextArray(Option<Vec<String>>),
    /// `timestamptz` (the instant versions are read at).
    Timestamp(chrono::DateTime<chrono::Utc>),
    /// A value of a CQL2 filter.
    Filter(geosector_filter::Value),
}

impl ToSql for Param {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match self {
            Param::Int(v) => v.to_sql(ty, out),
            Param::BigInt(v) => v.to_sql(ty, out),
            Param::Float(v) => v.to_sql(ty, out),
            Param::Text(v) => v.to_sql(ty, out),
            Param::OptionalText(v) => v.to_sql(ty, out),
            Param::Bytes(v) => v.to_sql(ty, out),
            Param::TextArray(v) => v.to_sql(ty, out),
            Param::OptionalTextArray(v) => v.to_sql(ty, out),
            Param::Timestamp(v) => v.to_sql(ty, out),
            Param::Filter(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        // Which types are accepted depends on the variant: `to_sql_checked` asks it.
        true
    }

    fn to_sql_checked(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match self {
            Param::Int(v) => v.to_sql_checked(ty, out),
            Param::BigInt(v) => v.to_sql_checked(ty, out),
            Param::Float(v) => v.to_sql_checked(ty, out),
            Param::Text(v) => v.to_sql_checked(ty, out),
            Param::OptionalText(v) => v.to_sql_checked(ty, out),
            Param::Bytes(v) => v.to_sql_checked(ty, out),
            Param::TextArray(v) => v.to_sql_checked(ty, out),
            Param::OptionalTextArray(v) => v.to_sql_checked(ty, out),
            Param::Timestamp(v) => v.to_sql_checked(ty, out),
            Param::Filter(v) => v.to_sql_checked(ty, out),
        }
    }
}

/// An SQL statement and the values of its placeholders, in order.
#[derive(Debug, Clone)]
pub struct Statement {
    sql: Arc<str>,
    values: Vec<Param>,
    reusable: bool,
}

impl Statement {
    /// A statement planned once per shape (cached by the plan; prepare it once per connection).
    pub(crate) fn reusable(sql: Arc<str>, values: Vec<Param>) -> Statement {
        Statement { sql, values, reusable: true }
    }

    /// A statement whose text is built once per shape but whose best plan depends on its
    /// values, so it is planned with them on every run (never prepared into a connection's
    /// cache, where PostgreSQL would settle on one generic plan): a bbox. A country-wide box
    /// reads in id order and stops at the page's end; a street's box goes through the spatial
    /// index. A generic plan takes the spatial index for both and sorts every match of the
    /// country-wide one (0.3–13 s a page on a million parcels, issue 22).
    pub(crate) fn planned_with_values(sql: Arc<str>, values: Vec<Param>) -> Statement {
        Statement { sql, values, reusable: false }
    }

    /// A statement built for one request (never prepare it into a connection's cache).
    pub(crate) fn one_off(sql: String, values: Vec<Param>) -> Statement {
        Statement { sql: sql.into(), values, reusable: false }
    }

    /// Its SQL text.
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// Whether it is planned once per shape, so preparing it once per connection pays.
    pub fn is_reusable(&self) -> bool {
        self.reusable
    }

    /// The values of its placeholders, `$1` first.
    pub fn values(&self) -> impl ExactSizeIterator<Item = &(dyn ToSql + Sync)> {
        self.values.iter().map(|v| v as &(dyn ToSql + Sync))
    }

    /// The values, for tests and snapshots.
    pub fn params(&self) -> &[Param] {
        &self.values
    }
}
