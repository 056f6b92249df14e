//! Typed cell values and the parsing of source property values into them.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};

/// One typed value of a row, ready to be written by the store.
#[derive(Debug, Clone, PartialEq)]
pub enum CellValue {
    /// SQL NULL.
    Null,
    /// `text`.
    Text(String),
    /// `integer`.
    Integer(i32),
    /// `double precision`.
    Float(f64),
    /// `date`.
    Date(NaiveDate),
    /// `timestamptz`.
    Timestamp(DateTime<FixedOffset>),
    /// `boolean`.
    Boolean(bool),
    /// `text[]`.
    TextList(Vec<String>),
    /// `double precision[]`.
    FloatList(Vec<f64>),
    /// `jsonb`.
    Json(serde_json::Value),
}

impl CellValue {
    /// Whether this is SQL NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, CellValue::Null)
    }
}

/// Why a source value does not fit its field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FieldError {
    /// A required value is absent or null.
    #[error("required value is missing")]
    Missing,
    /// The value cannot be read as the field's type.
    #[error("{0}")]
    Invalid(String),
}

/// Vietnam's civil time zone (UTC+7, no daylight saving), used for local timestamps.
pub fn vietnam_offset() -> FixedOffset {
    // 7 hours is within FixedOffset's ±24 h range, so this cannot fail.
    FixedOffset::east_opt(7 * 3600).expect("7 h is within the ±24 h range of FixedOffset")
}

/// The value types a field can have; each maps to one PostgreSQL type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// `text`; numbers are accepted and written as text (codes often arrive as numbers).
    Text,
    /// A code of fixed digit count, zero-padded when a number arrives (`70` → `00070`).
    Code {
        /// Number of digits.
        digits: usize,
    },
    /// `integer` (int4).
    Integer,
    /// `double precision`; text with a decimal comma is accepted (`"123,5"`).
    Float,
    /// `date`: `YYYY-MM-DD` or the Vietnamese `DD/MM/YYYY`.
    Date,
    /// `timestamptz`: RFC 3339, or a local time without offset read as UTC+7.
    Timestamp,
    /// `timestamptz`: RFC 3339, or a time without offset read as UTC (for data made outside
    /// Vietnam, such as the OGC conformance datasets).
    UtcTimestamp,
    /// `boolean`: a JSON boolean, or `true`/`false`/`1`/`0` as text.
    Boolean,
    /// `text[]`: a JSON array of strings, or one string split on `+`, `,` or `;`
    /// (`"ONT+CLN"`).
    TextList,
    /// `double precision[]`: a JSON array of numbers, or one string split on `+` or `;` (a comma
    /// is a decimal separator here: `"200;85,5"`).
    FloatList,
    /// `jsonb`: any JSON value, stored as given.
    Json,
}

impl FieldType {
    /// The PostgreSQL type name of the column.
    pub fn sql_type(self) -> &'static str {
        match self {
            FieldType::Text | FieldType::Code { .. } => "text",
            FieldType::Integer => "integer",
            FieldType::Float => "double precision",
            FieldType::Date => "date",
            FieldType::Timestamp | FieldType::UtcTimestamp => "timestamp with time zone",
            FieldType::Boolean => "boolean",
            FieldType::TextList => "text[]",
            FieldType::FloatList => "double precision[]",
            FieldType::Json => "jsonb",
        }
    }

    /// Parses a non-null JSON value into a cell of this type.
    ///
    /// # Errors
    /// [`FieldError::Invalid`] with the reason.
    pub fn parse(self, value: &serde_json::Value) -> Result<CellValue, FieldError> {
        parse(self, value)
    }
}

pub(crate) fn parse(kind: FieldType, value: &serde_json::Value) -> Result<CellValue, FieldError> {
    let cell = parse_unchecked(kind, value)?;
    // What PostgreSQL refuses is refused here, naming the field, never at the database.
    let invalid = |why: &str| Err(FieldError::Invalid(format!("{why}, got {}", short(value))));
    match &cell {
        CellValue::Text(s) if s.contains('\0') => invalid("contains a NUL character"),
        CellValue::Text(s) if s.len() > MAX_TEXT_BYTES => invalid("is longer than 64 KiB"),
        CellValue::TextList(items) if items.iter().map(String::len).sum::<usize>() > MAX_TEXT_BYTES => {
            invalid("is longer than 64 KiB")
        }
        CellValue::TextList(items) if items.iter().any(|s| s.contains('\0')) => invalid("contains a NUL character"),
        CellValue::Date(d) if !(1..=9999).contains(&d.year()) => invalid("expected a date in the years 1 to 9999"),
        CellValue::Timestamp(t) if !(1..=9999).contains(&t.year()) => {
            invalid("expected a timestamp in the years 1 to 9999")
        }
        CellValue::Timestamp(t) if t.offset().local_minus_utc().abs() > MAX_OFFSET_S => {
            invalid("expected a UTC offset within ±14:00")
        }
        _ => Ok(cell),
    }
}

/// The longest text a field takes, in bytes: no attribute of these datasets comes near it (a
/// 50 MB address was accepted once, and every page showing it paid for it).
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

/// The largest UTC offset in use anywhere (Kiribati, +14:00); PostgreSQL refuses beyond ±15:59.
pub const MAX_OFFSET_S: i32 = 14 * 3600;

fn parse_unchecked(kind: FieldType, value: &serde_json::Value) -> Result<CellValue, FieldError> {
    use serde_json::Value as J;
    let invalid = |why: &str| FieldError::Invalid(format!("{why}, got {}", short(value)));
    match kind {
        FieldType::Text => match value {
            J::String(s) if s.trim().is_empty() => Ok(CellValue::Null),
            J::String(s) => Ok(CellValue::Text(s.trim().to_owned())),
            J::Number(n) => Ok(CellValue::Text(n.to_string())),
            J::Bool(b) => Ok(CellValue::Text(b.to_string())),
            _ => Err(invalid("expected text")),
        },
        FieldType::Code { digits } => {
            let text = match value {
                J::String(s) => s.trim().to_owned(),
                J::Number(n) if n.is_u64() => n.to_string(),
                _ => return Err(invalid(&format!("expected a {digits}-digit code"))),
            };
            if text.is_empty() {
                return Ok(CellValue::Null);
            }
            if !text.bytes().all(|b| b.is_ascii_digit()) || text.len() > digits {
                return Err(invalid(&format!("expected a {digits}-digit code")));
            }
            Ok(CellValue::Text(format!("{text:0>digits$}")))
        }
        FieldType::Integer => {
            let n = match value {
                J::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
                J::String(s) if s.trim().is_empty() => return Ok(CellValue::Null),
                J::String(s) => s.trim().parse::<i64>().ok(),
                _ => None,
            };
            n.and_then(|n| i32::try_from(n).ok()).map(CellValue::Integer).ok_or_else(|| invalid("expected an integer"))
        }
        FieldType::Float => match value {
            J::String(s) if s.trim().is_empty() => Ok(CellValue::Null),
            _ => parse_float(value).map(CellValue::Float).ok_or_else(|| invalid("expected a number")),
        },
        FieldType::Date => match value {
            J::String(s) if s.trim().is_empty() => Ok(CellValue::Null),
            J::String(s) => parse_date(s.trim())
                .map(CellValue::Date)
                .ok_or_else(|| invalid("expected a date YYYY-MM-DD or DD/MM/YYYY")),
            _ => Err(invalid("expected a date YYYY-MM-DD or DD/MM/YYYY")),
        },
        FieldType::Timestamp => match value {
            J::String(s) if s.trim().is_empty() => Ok(CellValue::Null),
            J::String(s) => parse_timestamp(s.trim()).map(CellValue::Timestamp).ok_or_else(|| {
                invalid("expected a timestamp (RFC 3339, or local time YYYY-MM-DDThh:mm:ss / YYYYMMDDhhmmss)")
            }),
            _ => Err(invalid("expected a timestamp")),
        },
        FieldType::UtcTimestamp => match value {
            J::String(s) if s.trim().is_empty() => Ok(CellValue::Null),
            J::String(s) => parse_utc_timestamp(s.trim())
                .map(CellValue::Timestamp)
                .ok_or_else(|| invalid("expected a timestamp (RFC 3339, or YYYY-MM-DDThh:mm:ss in UTC)")),
            _ => Err(invalid("expected a timestamp")),
        },
        FieldType::Boolean => match value {
            J::Bool(b) => Ok(CellValue::Boolean(*b)),
            J::String(s) if s.trim().is_empty() => Ok(CellValue::Null),
            J::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" => Ok(CellValue::Boolean(true)),
                "false" | "0" => Ok(CellValue::Boolean(false)),
                _ => Err(invalid("expected true or false")),
            },
            J::Number(n) if n.as_i64() == Some(1) => Ok(CellValue::Boolean(true)),
            J::Number(n) if n.as_i64() == Some(0) => Ok(CellValue::Boolean(false)),
            _ => Err(invalid("expected true or false")),
        },
        FieldType::TextList => match value {
            J::Array(items) => items
                .iter()
                .map(|i| match i {
                    J::String(s) => Ok(s.trim().to_owned()),
                    _ => Err(invalid("expected an array of strings")),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(CellValue::TextList),
            J::String(s) => Ok(CellValue::TextList(split_list(s, false).map(str::to_owned).collect())),
            _ => Err(invalid("expected a list of codes")),
        },
        FieldType::FloatList => match value {
            J::Array(items) => items
                .iter()
                .map(|i| parse_float(i).ok_or_else(|| invalid("expected an array of numbers")))
                .collect::<Result<Vec<_>, _>>()
                .map(CellValue::FloatList),
            J::String(s) => split_list(s, true)
                .map(|p| parse_decimal(p).ok_or_else(|| invalid("expected a list of numbers")))
                .collect::<Result<Vec<_>, _>>()
                .map(CellValue::FloatList),
            J::Number(_) => {
                parse_float(value).map(|f| CellValue::FloatList(vec![f])).ok_or_else(|| invalid("expected numbers"))
            }
            _ => Err(invalid("expected a list of numbers")),
        },
        FieldType::Json => Ok(CellValue::Json(value.clone())),
    }
}

/// Splits a list written as one string. Codes split on `+`, `;` and `,`; numbers only on `+` and
/// `;`, because a comma in a number is the Vietnamese decimal separator.
fn split_list(s: &str, numbers: bool) -> impl Iterator<Item = &str> {
    let separators: &[char] = if numbers { &['+', ';'] } else { &['+', ';', ','] };
    s.split(separators).map(str::trim).filter(|p| !p.is_empty())
}

fn parse_float(value: &serde_json::Value) -> Option<f64> {
    match value {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => parse_decimal(s.trim()),
        _ => None,
    }
    .filter(|f| f.is_finite())
}

/// Parses a decimal number, accepting a decimal comma (`"123,5"`) when no dot is present.
fn parse_decimal(s: &str) -> Option<f64> {
    let parsed = if s.contains(',') && !s.contains('.') {
        s.replace(',', ".").parse::<f64>().ok()
    } else {
        s.parse::<f64>().ok()
    };
    parsed.filter(|f| f.is_finite())
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y")).ok()
}

/// Parses RFC 3339, or a local Vietnamese time (`YYYY-MM-DD hh:mm[:ss]`, `YYYYMMDDhhmmss`).
pub fn parse_timestamp(s: &str) -> Option<DateTime<FixedOffset>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t);
    }
    let local = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y%m%d%H%M%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())?;
    vietnam_offset().from_local_datetime(&local).single()
}

/// Parses RFC 3339, or a time without offset (`YYYY-MM-DDThh:mm[:ss]`) read as UTC.
pub fn parse_utc_timestamp(s: &str) -> Option<DateTime<FixedOffset>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t);
    }
    let naive = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())?;
    Some(naive.and_utc().fixed_offset())
}

fn short(value: &serde_json::Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 40 {
        format!("{}…", text.chars().take(40).collect::<String>())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn what_postgresql_refuses_is_refused_here() {
        let refused = |kind: FieldType, v: &str| kind.parse(&json!(v)).unwrap_err().to_string();
        assert!(refused(FieldType::Date, "0000-01-01").contains("years 1 to 9999"));
        assert!(refused(FieldType::Date, "+10000-01-01").contains("expected a date"));
        assert!(refused(FieldType::Timestamp, "2024-01-01T00:00:00+20:00").contains("±14:00"));
        assert!(refused(FieldType::UtcTimestamp, "0000-06-01T00:00:00Z").contains("years 1 to 9999"));
        assert!(refused(FieldType::Text, "a\0b").contains("NUL"));
        assert!(refused(FieldType::TextList, "ONT+\0").contains("NUL"));
        assert!(FieldType::Date.parse(&json!("0001-01-01")).is_ok());
        let long = "a".repeat(MAX_TEXT_BYTES + 1);
        assert!(refused(FieldType::Text, &long).contains("64 KiB"));
        assert!(FieldType::Text.parse(&json!(&long[1..])).is_ok());
        assert!(FieldType::Timestamp.parse(&json!("2024-01-01T00:00:00+14:00")).is_ok());
    }

    #[test]
    fn codes_are_zero_padded_and_checked() {
        assert_eq!(parse(FieldType::Code { digits: 5 }, &json!(70)), Ok(CellValue::Text("00070".into())));
        assert_eq!(parse(FieldType::Code { digits: 5 }, &json!("00070")), Ok(CellValue::Text("00070".into())));
        assert!(parse(FieldType::Code { digits: 5 }, &json!("7A")).is_err());
        assert!(parse(FieldType::Code { digits: 2 }, &json!("123")).is_err());
    }

    #[test]
    fn decimal_comma_and_lists() {
        assert_eq!(parse(FieldType::Float, &json!("123,5")), Ok(CellValue::Float(123.5)));
        assert_eq!(
            parse(FieldType::TextList, &json!("ONT+CLN")),
            Ok(CellValue::TextList(vec!["ONT".into(), "CLN".into()]))
        );
        assert_eq!(parse(FieldType::FloatList, &json!("200;85,5")), Ok(CellValue::FloatList(vec![200.0, 85.5])));
        assert!(parse(FieldType::Float, &json!("abc")).is_err());
        assert!(parse(FieldType::Float, &json!("NaN")).is_err());
    }

    #[test]
    fn dates_and_local_times() {
        assert_eq!(
            parse(FieldType::Date, &json!("15/03/2024")),
            Ok(CellValue::Date(NaiveDate::from_ymd_opt(2024, 3, 15).unwrap()))
        );
        let CellValue::Timestamp(t) = parse(FieldType::Timestamp, &json!("20241105130000")).unwrap() else { panic!() };
        assert_eq!(t.to_rfc3339(), "2024-11-05T13:00:00+07:00");
        assert!(parse(FieldType::Date, &json!("2024-13-01")).is_err());
    }

    #[test]
    fn utc_times_and_booleans() {
        let CellValue::Timestamp(t) = parse(FieldType::UtcTimestamp, &json!("2022-04-16T10:13:19")).unwrap() else {
            panic!()
        };
        assert_eq!(t.to_rfc3339(), "2022-04-16T10:13:19+00:00");
        assert_eq!(parse(FieldType::Boolean, &json!(true)), Ok(CellValue::Boolean(true)));
        assert_eq!(parse(FieldType::Boolean, &json!("false")), Ok(CellValue::Boolean(false)));
        assert!(parse(FieldType::Boolean, &json!("maybe")).is_err());
    }

    #[test]
    fn integers_reject_fractions_and_overflow() {
        assert_eq!(parse(FieldType::Integer, &json!(12.0)), Ok(CellValue::Integer(12)));
        assert!(parse(FieldType::Integer, &json!(12.5)).is_err());
        assert!(parse(FieldType::Integer, &json!(1e12)).is_err());
    }
}
