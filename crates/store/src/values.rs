//! Values written through `COPY ... (FORMAT binary)`: typed cells of a dataset row and EWKB
//! geometries.
//!
//! Both types accept any PostgreSQL type in `accepts` and encode by their own variant: the
//! column types are decided by the dataset declaration, and the test suite checks every declared
//! [`geosector_domain::FieldType`] against the real column type in the migrated database.

use bytes::BytesMut;
use geosector_domain::CellValue;
use postgres_types::{IsNull, ToSql, Type};

type BoxError = Box<dyn std::error::Error + Sync + Send>;

/// A [`CellValue`] as a COPY/query parameter.
#[derive(Debug)]
pub struct Cell<'a>(pub &'a CellValue);

impl ToSql for Cell<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match self.0 {
            CellValue::Null => Ok(IsNull::Yes),
            CellValue::Text(v) => v.to_sql(ty, out),
            CellValue::Integer(v) => v.to_sql(ty, out),
            CellValue::Float(v) => v.to_sql(ty, out),
            CellValue::Date(v) => v.to_sql(ty, out),
            CellValue::Timestamp(v) => v.to_sql(ty, out),
            CellValue::Boolean(v) => v.to_sql(ty, out),
            CellValue::TextList(v) => v.to_sql(ty, out),
            CellValue::FloatList(v) => v.to_sql(ty, out),
            CellValue::Json(v) => postgres_types::Json(v).to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres_types::to_sql_checked!();
}

/// Extended WKB (with SRID) for a `geometry` column, written as it is; `None` writes NULL.
#[derive(Debug, Clone, Copy)]
pub struct Ewkb<'a>(pub Option<&'a [u8]>);

impl ToSql for Ewkb<'_> {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match self.0 {
            Some(bytes) => {
                out.extend_from_slice(bytes);
                Ok(IsNull::No)
            }
            None => Ok(IsNull::Yes),
        }
    }

    fn accepts(ty: &Type) -> bool {
        matches!(ty.name(), "geometry" | "geography")
    }

    postgres_types::to_sql_checked!();
}
