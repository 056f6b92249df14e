//! Time-series declarations: a sub-resource of a collection's features,
//! `/collections/{id}/items/{featureId}/timeseries`, giving one feature's values of one selected
//! series over time, oldest first, as JSON or CSV — the shape a chart or a spreadsheet wants.
//!
//! A feature is linked to its series by a key column of its table (a station's `station_code`);
//! the client finds it by feature id or by that key. A query parameter (the *selector*, e.g.
//! `parameter=PM2.5`) chooses the series; each [`SeriesSource`] is a table read for some selector
//! values: those held in one of its columns (observations by parameter), or one fixed value (the
//! hourly index table for `AQI`). The store plans the SQL from these identifiers and binds every
//! value; the server serves every collection that declares a series through one route.

/// The time series of a collection's features.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeriesDecl {
    /// The column of the collection's table linking a feature to its series (e.g.
    /// `station_code`); a feature is found by its id or by this column's value, which names the
    /// feature in the response.
    pub key: &'static str,
    /// The query parameter choosing the series.
    pub selector: Selector,
    /// The tables read: the one whose fixed [`Selects::Value`] is the selector's value, else the
    /// first that matches it against a column ([`Selects::Column`]).
    pub sources: &'static [SeriesSource],
    /// One line saying what a series is (the OpenAPI summary).
    pub summary: &'static str,
}

/// The query parameter choosing a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selector {
    /// Its name (e.g. `parameter`), also its name in the JSON response.
    pub name: &'static str,
    /// A decimal comma in the value is read as a point (`PM2,5` is `PM2.5`).
    pub decimal_comma: bool,
    /// What it takes, for the OpenAPI document.
    pub description: &'static str,
    /// What to say when it is missing, e.g. `e.g. parameter=PM2.5`.
    pub hint: &'static str,
}

/// A table holding series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeriesSource {
    /// Schema of the table.
    pub schema: &'static str,
    /// The table.
    pub table: &'static str,
    /// Its column holding the feature's key.
    pub key: &'static str,
    /// Which selector values it answers.
    pub selects: Selects,
    /// Its time column (`timestamptz`), also the time's name in the output.
    pub time: &'static str,
    /// The numeric value (read as `float8`).
    pub value: Column,
    /// Further columns of each value (read as text, possibly empty).
    pub fields: &'static [Column],
}

/// Which selector values a source answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selects {
    /// Any value, matched against this column.
    Column(&'static str),
    /// This one value, matched without regard to ASCII case (the response spells it so).
    Value(&'static str),
}

/// A column and its name in the output (JSON member, CSV header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The column.
    pub column: &'static str,
    /// Its name in the output.
    pub name: &'static str,
}

impl Column {
    /// A column named as in the table.
    pub const fn same(column: &'static str) -> Column {
        Column { column, name: column }
    }
}

impl SeriesDecl {
    /// The selector's value as read from a request: trimmed, a decimal comma read as a point
    /// when declared so.
    pub fn normalise(&self, value: &str) -> String {
        let value = value.trim();
        if self.selector.decimal_comma {
            value.replace(',', ".")
        } else {
            value.to_owned()
        }
    }

    /// The source answering a (normalised) selector value and the value as the response spells
    /// it, or `None` when no source takes it.
    pub fn source(&self, value: &str) -> Option<(&'static SeriesSource, String)> {
        let fixed = self.sources.iter().find_map(|s| match s.selects {
            Selects::Value(v) if v.eq_ignore_ascii_case(value) => Some((s, v.to_owned())),
            _ => None,
        });
        fixed.or_else(|| {
            self.sources.iter().find(|s| matches!(s.selects, Selects::Column(_))).map(|s| (s, value.to_owned()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCES: &[SeriesSource] = &[
        SeriesSource {
            schema: "s",
            table: "hourly_index",
            key: "code",
            selects: Selects::Value("IDX"),
            time: "at",
            value: Column { column: "idx", name: "value" },
            fields: &[],
        },
        SeriesSource {
            schema: "s",
            table: "values",
            key: "code",
            selects: Selects::Column("parameter"),
            time: "at",
            value: Column::same("value"),
            fields: &[Column::same("unit")],
        },
    ];
    const SERIES: SeriesDecl = SeriesDecl {
        key: "code",
        selector: Selector { name: "parameter", decimal_comma: true, description: "", hint: "" },
        sources: SOURCES,
        summary: "",
    };

    #[test]
    fn a_fixed_value_chooses_its_source_whatever_its_case() {
        assert_eq!(SERIES.normalise(" PM2,5 "), "PM2.5");
        let (source, value) = SERIES.source("idx").unwrap();
        assert_eq!((source.table, value.as_str()), ("hourly_index", "IDX"));
        let (source, value) = SERIES.source("PM2.5").unwrap();
        assert_eq!((source.table, value.as_str()), ("values", "PM2.5"));
    }
}
