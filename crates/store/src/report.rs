//! The statements of a statistics form ([`ReportDecl`]): the administrative units at a date
//! (`reference.admin_units`, valid in `[valid_from, valid_to)`) — the requested unit, the units
//! under it, the communes it holds — and the form's own aggregate SQL, which the sector declares
//! with its two placeholders (`$1` the instant, `$2` the communes or NULL). Every value is bound
//! here; the caller runs each [`Statement`] as it is.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use geosector_domain::{Dataset, History, ReportDecl};

use crate::plan::{Param, Statement};

/// The level of an administrative unit a form is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unit {
    /// The whole country.
    Country,
    /// A province, by its 2-digit code.
    Province(String),
    /// A commune, by its 5-digit code.
    Commune(String),
}

const VALID_AT: &str = "valid_from <= $2::text::date AND (valid_to IS NULL OR $2::text::date < valid_to)";

/// The unit of that level and code valid on a date: one row `(name text, parent_code text)` or
/// none. `None` for the country, which is not a row.
pub fn unit_at(unit: &Unit, date: NaiveDate) -> Option<Statement> {
    let (level, code) = match unit {
        Unit::Country => return None,
        Unit::Province(code) => ("province", code),
        Unit::Commune(code) => ("commune", code),
    };
    let sql =
        format!("SELECT name, parent_code FROM reference.admin_units WHERE level = $3 AND code = $1 AND {VALID_AT}");
    Some(Statement::one_off(
        sql,
        vec![Param::Text(code.clone()), Param::Text(date.to_string()), Param::Text(level.to_owned())],
    ))
}

/// The communes valid on a date with the unit each rolls up to in a form by unit: rows
/// `(commune code, unit code)` — the commune itself under a commune, the province's communes
/// under a province, every commune and its province under the country — in code order.
pub fn communes(unit: &Unit, date: NaiveDate) -> Statement {
    let date = Param::Text(date.to_string());
    match unit {
        Unit::Country => Statement::one_off(
            format!(
                "SELECT code, parent_code FROM reference.admin_units \
                 WHERE level = 'commune' AND parent_code IS NOT NULL AND {} ORDER BY code",
                VALID_AT.replace("$2", "$1")
            ),
            vec![date],
        ),
        Unit::Province(code) => Statement::one_off(
            format!(
                "SELECT code, code FROM reference.admin_units \
                 WHERE level = 'commune' AND parent_code = $1 AND {VALID_AT} ORDER BY code"
            ),
            vec![Param::Text(code.clone()), date],
        ),
        Unit::Commune(code) => Statement::one_off(
            format!(
                "SELECT code, code FROM reference.admin_units WHERE level = 'commune' AND code = $1 AND {VALID_AT}"
            ),
            vec![Param::Text(code.clone()), date],
        ),
    }
}

/// The units a form by unit has a column for, on a date: rows `(code, name)` in code order —
/// the provinces for the country, the communes of a province, the commune itself.
pub fn columns(unit: &Unit, date: NaiveDate) -> Statement {
    match unit {
        Unit::Country => Statement::one_off(
            format!(
                "SELECT code, name FROM reference.admin_units WHERE level = 'province' AND {} ORDER BY code",
                VALID_AT.replace("$2", "$1")
            ),
            vec![Param::Text(date.to_string())],
        ),
        Unit::Province(code) => Statement::one_off(
            format!(
                "SELECT code, name FROM reference.admin_units \
                 WHERE level = 'commune' AND parent_code = $1 AND {VALID_AT} ORDER BY code"
            ),
            vec![Param::Text(code.clone()), Param::Text(date.to_string())],
        ),
        Unit::Commune(code) => Statement::one_off(
            format!(
                "SELECT code, name FROM reference.admin_units WHERE level = 'commune' AND code = $1 AND {VALID_AT}"
            ),
            vec![Param::Text(code.clone()), Param::Text(date.to_string())],
        ),
    }
}

/// The form's aggregate at an instant over these communes (`None`: the whole country).
pub fn aggregate(decl: &ReportDecl, at: DateTime<Utc>, communes: Option<Vec<String>>) -> Statement {
    Statement::reusable(Arc::from(decl.sql), vec![Param::Timestamp(at), Param::OptionalTextArray(communes)])
}

/// The statement of when a dataset's data begin: the earliest `version_from` of its features,
/// current or superseded (one `timestamptz` row, NULL when it holds none). A dataset without
/// history has none to give (NULL). Read only when a form comes out empty, to say why.
pub fn first_version(dataset: &Dataset) -> Statement {
    let sql = match dataset.history {
        Some(_) => format!(
            "SELECT least((SELECT min(version_from) FROM {}), (SELECT min(version_from) FROM {}.{}))",
            crate::table_name(dataset),
            crate::quote_ident(dataset.schema),
            crate::quote_ident(&History::table(dataset)),
        ),
        None => "SELECT NULL::timestamptz".to_owned(),
    };
    Statement::one_off(sql, Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_is_bound() {
        let date = NaiveDate::from_ymd_opt(2025, 12, 31).unwrap();
        let unit = Unit::Province("01".into());
        let at = unit_at(&unit, date).unwrap();
        assert_eq!(
            at.params(),
            [Param::Text("01".into()), Param::Text("2025-12-31".into()), Param::Text("province".into())]
        );
        assert!(unit_at(&Unit::Country, date).is_none());
        let country = communes(&Unit::Country, date);
        assert!(country.sql().contains("$1::text::date < valid_to") && !country.sql().contains("$2"));
        assert_eq!(columns(&Unit::Commune("00376".into()), date).params().len(), 2);
        for statement in [at, country, communes(&unit, date), columns(&unit, date), columns(&Unit::Country, date)] {
            assert!(!statement.sql().contains("2025") && !statement.sql().contains("'01'"), "{}", statement.sql());
        }
    }
}
