//! The rows' way into PostgreSQL: binary COPY tuples encoded by the checking workers, sent by
//! the consumer in large chunks.
//!
//! Encoding a row (its fields, two EWKB geometries, arrays) is most of the per-row work left
//! after the checks; done by the consumer it made the one thread that feeds COPY the slowest
//! stage of an import. So the rayon workers that check a batch also encode each accepted row
//! ([`TupleEncoder`]): every column but the last ones, which only the consumer knows (the
//! partition key, decided by a lookup the consumer also counts, the sequence number of a
//! staging table, and the id and version a swap's row takes from the stored row it matches).
//! The consumer appends those ([`Tail`]) and [`CopyIn`] sends the table's data
//! in chunks of [`CHUNK`] bytes.
//!
//! The format is PostgreSQL's `COPY … (FORMAT binary)`: a header, then per tuple the number of
//! fields (`int16`) and each field as its length (`int32`, −1 for NULL) and its binary value,
//! then the trailer `-1` (`int16`).

use std::pin::Pin;

use bytes::{BufMut, Bytes, BytesMut};
use futures_util::SinkExt;
use geosector_domain::{CellValue, Dataset};
use geosector_store::values::{Cell, Ewkb};
use tokio_postgres::types::{IsNull, ToSql, Type};
use tokio_postgres::{CopyInSink, Transaction};

use super::identity::Identity;
use crate::checked::Row;
use crate::error::ImportError;

/// The header of binary COPY data: signature, flags, header extension length.
const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// How many bytes of tuples are gathered before they are sent.
const CHUNK: usize = 256 * 1024;

/// Room beyond [`CHUNK`] in the buffer, so that the tuple that crosses it (a parcel's tuple is
/// about half a kilobyte, a large polygon's more) rarely makes the buffer grow.
const SLACK: usize = 64 * 1024;

/// Encodes a row as a binary COPY tuple in the order of [`Dataset::columns`], then the tiles'
/// geometry and the first-element column when the table has them; the tuple's field count
/// includes the fields the consumer appends ([`Tail`]).
#[derive(Debug)]
pub(crate) struct TupleEncoder {
    dataset: &'static Dataset,
    /// Name and type of every column the encoder writes, in order.
    columns: Vec<(&'static str, Type)>,
    /// Fields of a whole tuple, the appended ones included.
    fields: i16,
    /// The field whose first element fills the first-element column, if the table has one.
    first_element_of: Option<usize>,
    /// Whether the table has the tiles' geometry column.
    tile_geometry: bool,
}

impl TupleEncoder {
    /// An encoder for the columns `columns` (names and types, in the order of COPY's column
    /// list) of which the encoder writes all but the last `appended`.
    ///
    /// # Errors
    /// [`ImportError::Database`] when the columns do not match the dataset's.
    pub(crate) fn new(
        dataset: &'static Dataset,
        columns: Vec<(&'static str, Type)>,
        appended: usize,
        first_element_of: Option<usize>,
        tile_geometry: bool,
    ) -> Result<TupleEncoder, ImportError> {
        let fields = i16::try_from(columns.len())
            .map_err(|_| ImportError::Database(format!("{}: too many columns for COPY", dataset.id)))?;
        let encoded = columns.len().checked_sub(appended);
        let expected = dataset.columns().len() + usize::from(tile_geometry) + usize::from(first_element_of.is_some());
        if encoded != Some(expected) {
            return Err(ImportError::Database(format!(
                "{}: {} COPY columns for {expected} encoded and {appended} appended",
                dataset.id,
                columns.len()
            )));
        }
        let mut columns = columns;
        columns.truncate(expected);
        Ok(TupleEncoder { dataset, columns, fields, first_element_of, tile_geometry })
    }

    /// The row as a tuple, without the appended fields.
    ///
    /// # Errors
    /// [`ImportError::Database`] naming the column whose value its type cannot take.
    pub(crate) fn encode(&self, row: &Row) -> Result<Bytes, ImportError> {
        let geometry_len = row.geometry.as_ref().map_or(0, Vec::len) + row.tile_geometry.as_ref().map_or(0, Vec::len);
        let mut out = BytesMut::with_capacity(geometry_len + 32 * self.columns.len() + 64);
        out.put_i16(self.fields);
        let mut columns = self.columns.iter();
        let mut value = |out: &mut BytesMut, v: &(dyn ToSql + Sync)| match columns.next() {
            Some((name, ty)) => put_value(out, v, ty, name),
            None => Err(ImportError::Database(format!("{}: more values than COPY columns", self.dataset.id))),
        };
        for cell in &row.cells {
            value(&mut out, &Cell(cell))?;
        }
        if let Some(spec) = self.dataset.geometry {
            value(&mut out, &Ewkb(row.geometry.as_deref()))?;
            if spec.source_srid_column.is_some() {
                value(&mut out, &row.source_srid)?;
            }
            if spec.area_column.is_some() {
                value(&mut out, &row.area_m2)?;
            }
        }
        if self.tile_geometry {
            value(&mut out, &Ewkb(row.tile_geometry.as_deref()))?;
        }
        if let Some(i) = self.first_element_of {
            let first = match row.cells.get(i) {
                Some(CellValue::TextList(list)) => list.first().map(String::as_str),
                _ => None,
            };
            value(&mut out, &first)?;
        }
        Ok(out.freeze())
    }
}

/// Writes one field: its length, then its value.
fn put_value(out: &mut BytesMut, value: &(dyn ToSql + Sync), ty: &Type, column: &str) -> Result<(), ImportError> {
    let at = out.len();
    out.put_i32(0);
    let written = value
        .to_sql_checked(ty, out)
        .map_err(|e| ImportError::Database(format!("column {column}: cannot encode the value as {ty}: {e}")))?;
    let len = match written {
        IsNull::Yes => -1,
        IsNull::No => i32::try_from(out.len() - at - 4)
            .map_err(|_| ImportError::Database(format!("column {column}: a value above 2 GB")))?,
    };
    out[at..at + 4].copy_from_slice(&len.to_be_bytes());
    Ok(())
}

/// The fields the consumer appends to an encoded tuple, when the table has them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tail<'a> {
    /// The partition key (`text`).
    pub(crate) key: Option<&'a str>,
    /// The sequence number (`bigint`, a staging table's).
    pub(crate) seq: Option<i64>,
    /// The id and version columns (`bigint`, `integer`, `timestamptz`, `bigint`), of a versioned
    /// dataset's swap (see `super::identity`).
    pub(crate) identity: Option<Identity>,
}

/// The COPY of the accepted rows into the staging or load table: started at the first row, and
/// finished and started again when a statement must run in between (no statement can run on
/// the connection while a COPY is open).
pub(crate) struct CopyIn {
    statement: String,
    sink: Option<Pin<Box<CopyInSink<Bytes>>>>,
    /// Tuples not sent yet.
    buf: BytesMut,
}

impl CopyIn {
    /// A COPY to run with `statement` (`COPY … FROM STDIN (FORMAT binary)`).
    pub(crate) fn new(statement: String) -> CopyIn {
        CopyIn { statement, sink: None, buf: BytesMut::new() }
    }

    /// Writes a tuple encoded by [`TupleEncoder::encode`] and its tail, starting the COPY if it
    /// is not.
    ///
    /// # Errors
    /// [`ImportError::Database`] when PostgreSQL refuses the COPY or the connection is lost.
    pub(crate) async fn write(
        &mut self,
        tx: &Transaction<'_>,
        tuple: &[u8],
        tail: Tail<'_>,
    ) -> Result<(), ImportError> {
        if self.sink.is_none() {
            self.sink = Some(Box::pin(tx.copy_in(&self.statement).await?));
            self.buf.reserve(CHUNK + SLACK);
            self.buf.put_slice(HEADER);
        }
        self.buf.put_slice(tuple);
        if let Some(key) = tail.key {
            let len =
                i32::try_from(key.len()).map_err(|_| ImportError::Database("a partition key above 2 GB".into()))?;
            self.buf.put_i32(len);
            self.buf.put_slice(key.as_bytes());
        }
        if let Some(seq) = tail.seq {
            self.buf.put_i32(8);
            self.buf.put_i64(seq);
        }
        if let Some(identity) = tail.identity {
            self.buf.put_i32(8);
            self.buf.put_i64(identity.id);
            self.buf.put_i32(4);
            self.buf.put_i32(identity.version);
            self.buf.put_i32(8);
            self.buf.put_i64(identity.version_from);
            if identity.changeset_id == 0 {
                self.buf.put_i32(-1);
            } else {
                self.buf.put_i32(8);
                self.buf.put_i64(identity.changeset_id);
            }
        }
        if self.buf.len() >= CHUNK {
            let chunk = self.buf.split().freeze();
            // A fresh buffer while it is empty: growing a full one would copy it.
            self.buf.reserve(CHUNK + SLACK);
            if let Some(sink) = self.sink.as_mut() {
                sink.send(chunk).await?;
            }
        }
        Ok(())
    }

    /// Ends the open COPY, if any.
    ///
    /// # Errors
    /// [`ImportError::Database`] when PostgreSQL refuses the data.
    pub(crate) async fn finish(&mut self) -> Result<(), ImportError> {
        if let Some(mut sink) = self.sink.take() {
            self.buf.put_i16(-1);
            sink.send(self.buf.split().freeze()).await?;
            sink.as_mut().finish().await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geosector_domain::FieldType;
    use tokio_postgres::types::Kind;

    fn parcels() -> &'static Dataset {
        Box::leak(Box::new(geosector_land::PARCELS))
    }

    fn sql_type(kind: FieldType) -> Type {
        match kind {
            FieldType::Text | FieldType::Code { .. } => Type::TEXT,
            FieldType::Integer => Type::INT4,
            FieldType::Float => Type::FLOAT8,
            FieldType::Date => Type::DATE,
            FieldType::Timestamp | FieldType::UtcTimestamp => Type::TIMESTAMPTZ,
            FieldType::Boolean => Type::BOOL,
            FieldType::TextList => Type::TEXT_ARRAY,
            FieldType::FloatList => Type::FLOAT8_ARRAY,
            FieldType::Json => Type::JSONB,
        }
    }

    /// The columns of a partition swap's load table: fields, geometry, source SRID, area, tiles'
    /// geometry, first land-use code, partition key.
    fn load_columns(dataset: &'static Dataset) -> Vec<(&'static str, Type)> {
        let geometry = Type::new("geometry".into(), 90_000, Kind::Simple, "public".into());
        let mut columns: Vec<(&'static str, Type)> =
            dataset.fields.iter().map(|f| (f.column, sql_type(f.kind))).collect();
        columns.push(("geom", geometry.clone()));
        columns.push(("source_srid", Type::INT4));
        columns.push(("computed_area_m2", Type::FLOAT8));
        columns.push(("geom_3857", geometry));
        columns.push(("main_land_use", Type::TEXT));
        columns.push(("province_code", Type::TEXT));
        columns
    }

    /// The fields of a tuple: its field count, then each field's bytes (`None` for NULL).
    fn fields(tuple: &[u8]) -> (i16, Vec<Option<&[u8]>>) {
        let count = i16::from_be_bytes([tuple[0], tuple[1]]);
        let mut at = 2;
        let mut fields = Vec::new();
        while at < tuple.len() {
            let len = i32::from_be_bytes(tuple[at..at + 4].try_into().unwrap());
            at += 4;
            if len < 0 {
                fields.push(None);
            } else {
                let len = usize::try_from(len).unwrap();
                fields.push(Some(&tuple[at..at + len]));
                at += len;
            }
        }
        (count, fields)
    }

    #[test]
    fn a_tuple_holds_every_encoded_column_in_order_and_counts_the_appended_ones() {
        let dataset = parcels();
        let land_use = dataset.fields.iter().position(|f| f.column == "land_use_codes").unwrap();
        let cells = dataset
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| match f.kind {
                FieldType::Text | FieldType::Code { .. } => CellValue::Text(format!("t{i}")),
                FieldType::Integer => CellValue::Integer(i32::try_from(i).unwrap()),
                FieldType::TextList => CellValue::TextList(vec!["ONT".into(), "CLN".into()]),
                _ => CellValue::Null,
            })
            .collect();
        let row = Row {
            cells,
            geometry: Some(vec![1, 2, 3]),
            source_srid: Some(9210),
            area_m2: Some(12.5),
            bbox: None,
            tile_geometry: Some(vec![4, 5]),
        };
        let columns = load_columns(dataset);
        let encoder = TupleEncoder::new(dataset, columns.clone(), 1, Some(land_use), true).unwrap();
        let tuple = encoder.encode(&row).unwrap();
        let (count, fields) = fields(&tuple);
        assert_eq!(usize::try_from(count).unwrap(), columns.len(), "the count includes the appended key");
        assert_eq!(fields.len(), columns.len() - 1, "every column but the key is encoded");
        let n = dataset.fields.len();
        for (i, cell) in row.cells.iter().enumerate() {
            match cell {
                CellValue::Text(t) => assert_eq!(fields[i], Some(t.as_bytes()), "{}", columns[i].0),
                CellValue::Integer(v) => {
                    assert_eq!(fields[i], Some(&v.to_be_bytes()[..]), "{}", columns[i].0);
                }
                CellValue::Null => assert_eq!(fields[i], None, "{}", columns[i].0),
                _ => assert!(fields[i].is_some(), "{}", columns[i].0),
            }
        }
        assert_eq!(fields[n], Some(&[1u8, 2, 3][..]), "the geometry's EWKB as it is");
        assert_eq!(fields[n + 1], Some(&9210i32.to_be_bytes()[..]));
        assert_eq!(fields[n + 2], Some(&12.5f64.to_be_bytes()[..]));
        assert_eq!(fields[n + 3], Some(&[4u8, 5][..]), "the tiles' geometry");
        assert_eq!(fields[n + 4], Some(&b"ONT"[..]), "the first land-use code");
    }

    #[test]
    fn columns_that_do_not_match_the_dataset_are_refused() {
        let dataset = parcels();
        let mut columns = load_columns(dataset);
        columns.pop();
        let error = TupleEncoder::new(dataset, columns, 1, Some(0), true).unwrap_err();
        assert!(error.to_string().contains("COPY columns"), "{error}");
    }

    #[test]
    fn a_value_its_column_cannot_take_names_the_column() {
        // Cells take any type (the declarations are checked against the database by the test
        // suite); the geometry and the source SRID are typed.
        let dataset = parcels();
        let n = dataset.fields.len();
        let cells = vec![CellValue::Null; n];
        let row = Row {
            cells,
            geometry: Some(vec![1]),
            source_srid: Some(4326),
            area_m2: None,
            bbox: None,
            tile_geometry: None,
        };
        for (at, column) in [(n, "geom"), (n + 1, "source_srid")] {
            let mut columns = load_columns(dataset);
            columns[at].1 = Type::BOOL;
            let encoder = TupleEncoder::new(dataset, columns, 1, Some(0), true).unwrap();
            let error = encoder.encode(&row).unwrap_err();
            assert!(error.to_string().contains(&format!("column {column}:")), "{error}");
        }
    }
}
