//! The values a translated filter binds: one enum whose variants are the SQL types the
//! translator casts its placeholders to (`$n::text`, `$n::float8`, ...).

use bytes::BytesMut;
use chrono::{DateTime, NaiveDate, Utc};
use postgres_types::{IsNull, ToSql, Type};

type BoxError = Box<dyn std::error::Error + Sync + Send>;

/// A bound value of a filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `text` (also PROJ strings and WKT geometry literals).
    Text(String),
    /// `float8`.
    Float(f64),
    /// `bigint`.
    Int(i64),
    /// `boolean`.
    Bool(bool),
    /// `date`.
    Date(NaiveDate),
    /// `timestamptz`.
    Timestamp(DateTime<Utc>),
}

impl Value {
    /// The SQL type its placeholder is cast to.
    pub fn cast(&self) -> &'static str {
        match self {
            Value::Text(_) => "text",
            Value::Float(_) => "float8",
            Value::Int(_) => "bigint",
            Value::Bool(_) => "boolean",
            Value::Date(_) => "date",
            Value::Timestamp(_) => "timestamptz",
        }
    }
}

impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match self {
            Value::Text(v) => v.to_sql(ty, out),
            Value::Float(v) => v.to_sql(ty, out),
            Value::Int(v) => v.to_sql(ty, out),
            Value::Bool(v) => v.to_sql(ty, out),
            Value::Date(v) => v.to_sql(ty, out),
            Value::Timestamp(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        // Every placeholder carries an explicit cast to the variant's type (see `cast`); a
        // mismatch is reported by the variant's own `to_sql`.
        true
    }

    postgres_types::to_sql_checked!();
}
