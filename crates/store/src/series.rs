//! The statements of a collection's time series ([`SeriesDecl`]), planned once from the
//! declaration: one finding the feature's key by feature id or by key, and one per source reading
//! a series oldest first. Identifiers come from the declaration, quoted; the feature, the
//! selector's value, the time bounds and the limit are always bound, by this module: the caller
//! gets each [`Statement`] with its values, runs it as it is and decodes rows with
//! [`SeriesPlan::point`]. At most `limit` rows are read.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use geosector_domain::{CollectionDecl, Selects, SeriesDecl, SeriesSource};
use tokio_postgres::Row;

use crate::plan::{AreaScope, Param, Statement};
use crate::{quote_ident, table_name};

/// The planned statements of one collection's series.
#[derive(Debug, Clone)]
pub struct SeriesPlan {
    /// The declaration.
    pub decl: &'static SeriesDecl,
    /// The feature's key, by key or feature id (`$1`).
    feature_sql: Arc<str>,
    /// The same within an area scope (`$2`), when the collection has an area.
    feature_sql_scoped: Option<Arc<str>>,
    /// One statement per source, in the declaration's order.
    sources: Vec<Arc<str>>,
}

/// A request for one series.
#[derive(Debug, Clone)]
pub struct SeriesRequest {
    /// The selector's value, normalised ([`SeriesDecl::normalise`]).
    pub selector: String,
    /// Inclusive lower time bound (RFC 3339 or a date).
    pub from: Option<String>,
    /// Exclusive upper time bound.
    pub to: Option<String>,
    /// Most values returned.
    pub limit: i64,
}

impl SeriesPlan {
    /// Plans the statements of a collection's series (pure: no database).
    pub fn new(collection: &CollectionDecl, decl: &'static SeriesDecl) -> SeriesPlan {
        let key = quote_ident(decl.key);
        let table = table_name(collection.dataset);
        let feature_sql = |scope: &str| {
            format!(
                "SELECT {key} FROM {table} WHERE ({key} = $1 OR id::text = $1){scope} ORDER BY {key} = $1 DESC LIMIT 1"
            )
        };
        let feature_sql_scoped = collection
            .access
            .area
            .map(|area| feature_sql(&format!(" AND {}", crate::plan::area_condition(&table, &area, 2))).into());
        let sources = decl.sources.iter().map(|s| source_sql(s).into()).collect();
        SeriesPlan { decl, feature_sql: feature_sql("").into(), feature_sql_scoped, sources }
    }

    /// The statement finding a feature's key from its feature id or its key (one row or none),
    /// within the caller's area scope when given.
    pub fn feature(&self, feature: &str, scope: Option<&AreaScope>) -> Statement {
        let mut values = vec![Param::Text(feature.to_owned())];
        match (scope, &self.feature_sql_scoped) {
            (Some(scope), Some(sql)) => {
                values.push(Param::TextArray(scope.codes.clone()));
                Statement::reusable(Arc::clone(sql), values)
            }
            _ => Statement::reusable(Arc::clone(&self.feature_sql), values),
        }
    }

    /// What to read for a feature's key and a request: the source that takes the request's
    /// selector, the selector as the response spells it, and the statement with its values;
    /// `None` when no source takes the selector.
    pub fn series(&self, key: &str, request: &SeriesRequest) -> Option<Series> {
        let (source, selector) = self.decl.source(&request.selector)?;
        let index = self.decl.sources.iter().position(|s| std::ptr::eq(s, source))?;
        let mut values = vec![Param::Text(key.to_owned())];
        // The selector is bound only when the source matches it against a column.
        if matches!(source.selects, Selects::Column(_)) {
            values.push(Param::Text(selector.clone()));
        }
        values.extend([
            Param::OptionalText(request.from.clone()),
            Param::OptionalText(request.to.clone()),
            Param::BigInt(request.limit),
        ]);
        let statement = Statement::reusable(Arc::clone(self.sources.get(index)?), values);
        Some(Series { source, selector, statement })
    }

    /// One value of a series from a row of a source's statement: its time, its value and the
    /// source's further fields.
    ///
    /// # Errors
    /// A column of another type than the statement's casts give (not expected).
    pub fn point(row: &Row) -> Result<Point, tokio_postgres::Error> {
        let fields = (2..row.len()).map(|i| row.try_get(i)).collect::<Result<_, _>>()?;
        Ok((row.try_get(0)?, row.try_get(1)?, fields))
    }
}

/// One value of a series: time, value and the source's further fields.
pub type Point = (DateTime<Utc>, f64, Vec<Option<String>>);

/// One series to read: its source, its selector as the response spells it, and the statement.
#[derive(Debug, Clone)]
pub struct Series {
    /// The declared source read.
    pub source: &'static SeriesSource,
    /// The selector's value (a fixed source's own spelling, else the request's).
    pub selector: String,
    /// The statement with its values.
    pub statement: Statement,
}

/// `SELECT time::timestamptz, value::float8, fields::text… WHERE key = $1 [AND selector = $2]
/// AND value IS NOT NULL AND time in [from, to) ORDER BY time LIMIT n`; the time bounds are text
/// cast to `timestamptz`, a missing one open (a NULL time is never in the range).
fn source_sql(source: &SeriesSource) -> String {
    let time = quote_ident(source.time);
    let value = quote_ident(source.value.column);
    let mut columns = vec![format!("{time}::timestamptz"), format!("{value}::float8")];
    columns.extend(source.fields.iter().map(|f| format!("{}::text", quote_ident(f.column))));
    let mut n = 1;
    let mut next = || {
        n += 1;
        n
    };
    let selector = match source.selects {
        Selects::Column(column) => format!(" AND {} = ${}", quote_ident(column), next()),
        Selects::Value(_) => String::new(),
    };
    let (from, to, limit) = (next(), next(), next());
    format!(
        "SELECT {} FROM {}.{} WHERE {} = $1{selector} AND {value} IS NOT NULL \
         AND {time} >= coalesce(${from}::text::timestamptz, '-infinity') AND {time} < coalesce(${to}::text::timestamptz, 'infinity') \
         ORDER BY {time} LIMIT ${limit}",
        columns.join(", "),
        quote_ident(source.schema),
        quote_ident(source.table),
        quote_ident(source.key),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use geosector_domain::{Column, Dataset, GeometrySpec, Selector, TileDecl};

    const SOURCES: &[SeriesSource] = &[
        SeriesSource {
            schema: "env",
            table: "index_hourly",
            key: "code",
            selects: Selects::Value("IDX"),
            time: "at",
            value: Column { column: "idx", name: "value" },
            fields: &[Column::same("level")],
        },
        SeriesSource {
            schema: "env",
            table: "obs",
            key: "code",
            selects: Selects::Column("parameter"),
            time: "at",
            value: Column::same("value"),
            fields: &[Column::same("unit"), Column::same("status")],
        },
    ];
    const SERIES: SeriesDecl = SeriesDecl {
        key: "code",
        selector: Selector { name: "parameter", decimal_comma: true, description: "", hint: "" },
        sources: SOURCES,
        summary: "",
    };
    const SITES: Dataset = Dataset {
        id: "env.sites",
        description: "",
        schema: "env",
        table: "sites",
        fields: &[],
        geometry: Some(GeometrySpec::point()),
        conflict_key: None,
        prepare_sql: None,
        partition: None,
        rules: &[],
        history: None,
    };
    const DECL: CollectionDecl = CollectionDecl {
        id: "env.sites",
        dataset: &SITES,
        title_vi: "",
        title_en: "",
        description_vi: "",
        description_en: "",
        keywords: &[],
        hidden: &[],
        extra: &[],
        datetime: None,
        datetime_end: None,
        tiles: TileDecl::ALL,
        style: None,
        series: Some(&SERIES),
        access: geosector_domain::AccessDecl::PUBLIC,
        relations: &[],
    };

    #[test]
    fn statements_quote_the_declared_names_and_bind_every_value() {
        let plan = SeriesPlan::new(&DECL, &SERIES);
        let feature = plan.feature("A1", None);
        assert_eq!(
            feature.sql(),
            r#"SELECT "code" FROM "env"."sites" WHERE ("code" = $1 OR id::text = $1) ORDER BY "code" = $1 DESC LIMIT 1"#
        );
        assert_eq!(feature.params(), [Param::Text("A1".into())]);
        let request = SeriesRequest { selector: "PM2.5".into(), from: None, to: Some("2026-11-03".into()), limit: 10 };
        let by_column = plan.series("A1", &request).unwrap();
        assert_eq!(
            by_column.statement.sql(),
            r#"SELECT "at"::timestamptz, "value"::float8, "unit"::text, "status"::text FROM "env"."obs" WHERE "code" = $1 AND "parameter" = $2 AND "value" IS NOT NULL AND "at" >= coalesce($3::text::timestamptz, '-infinity') AND "at" < coalesce($4::text::timestamptz, 'infinity') ORDER BY "at" LIMIT $5"#
        );
        assert_eq!(
            by_column.statement.params(),
            [
                Param::Text("A1".into()),
                Param::Text("PM2.5".into()),
                Param::OptionalText(None),
                Param::OptionalText(Some("2026-11-03".into())),
                Param::BigInt(10)
            ]
        );
        let fixed = plan.series("A1", &SeriesRequest { selector: "idx".into(), ..request }).unwrap();
        assert_eq!(fixed.selector, "IDX", "a fixed source's own spelling");
        assert_eq!(
            fixed.statement.sql(),
            r#"SELECT "at"::timestamptz, "idx"::float8, "level"::text FROM "env"."index_hourly" WHERE "code" = $1 AND "idx" IS NOT NULL AND "at" >= coalesce($2::text::timestamptz, '-infinity') AND "at" < coalesce($3::text::timestamptz, 'infinity') ORDER BY "at" LIMIT $4"#
        );
        assert_eq!(fixed.statement.params().len(), 4, "a fixed selector is not bound");
    }
}
