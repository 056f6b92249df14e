//! Per-request statements, for what cannot be planned once: items with a CQL2 filter, a
//! `sortby` or a property selection, and tiles with a filter.
//!
//! The statement text is built from the plan's declared identifiers, the translated filter
//! (whose literals are placeholders, see `geosector-filter`) and the sortables' quoted columns;
//! values are still all bound. Such statements are prepared for their one run, never cached,
//! so one-off filters do not fill the per-connection statement cache.
//!
//! Parameters, in order: the shape's (bbox envelopes, time bounds, property values, as in
//! [`CollectionPlan::items_sql`]), the filter's, then the keyset cursor or the offset (bigint),
//! then the row limit (bigint). [`CollectionPlan::items`] pushes the values in that order.

use std::fmt::Write as _;

use super::{cast_of, CollectionPlan, FilterShape};
use crate::quote_ident;
use geosector_domain::FieldType;

/// What a request adds to its collection's plan.
#[derive(Debug, Clone, Copy)]
pub(super) struct QuerySpec<'a> {
    /// bbox, datetime, property equality and cursor, as for the cached statements.
    pub(super) shape: &'a FilterShape,
    /// A translated CQL2 condition, its placeholders numbered to follow the shape's.
    pub(super) filter: Option<&'a str>,
    /// How many values the filter binds.
    pub(super) filter_values: usize,
    /// Sort keys: published property and whether descending (`id` always breaks ties).
    pub(super) sort: &'a [(&'static str, bool)],
    /// Whether the page is cut by an offset (bound after the filter's values) rather than by the
    /// shape's keyset cursor.
    pub(super) offset: bool,
    /// The published properties to return (`None`: all of them).
    pub(super) properties: Option<&'a [&'static str]>,
}

/// The marker after which a tile statement's candidate condition starts.
pub(super) const TILE_WHERE: &str = ", tile WHERE ";

impl CollectionPlan {
    /// The FROM item and the conditions of a shape (bbox, time or instant, scope, properties),
    /// numbering placeholders from `$1`; the same order as [`CollectionPlan::items_sql`]. The FROM
    /// item is the table, or its versions at the instant (see [`super::history`]).
    pub(super) fn shape_conditions(&self, shape: &FilterShape, n: &mut usize) -> (String, Vec<String>) {
        // The CRS values (rule SRID, bbox polygon) lead every statement.
        *n += shape.crs.leading_parameters();
        let mut next = || {
            *n += 1;
            *n
        };
        let mut conditions = Vec::new();
        if shape.bbox_parts > 0 {
            if let Some(g) = &self.geometry_column {
                let envelopes: Vec<String> = (0..shape.bbox_parts)
                    .map(|_| {
                        let (a, b, c, d) = (next(), next(), next(), next());
                        format!("ST_Intersects({g}, ST_MakeEnvelope(${a}, ${b}, ${c}, ${d}, 4326))")
                    })
                    .collect();
                conditions.push(format!("({})", envelopes.join(" OR ")));
            }
        }
        if let Some(condition) = self.geometry_column.as_deref().and_then(|g| shape.crs.bbox_condition(g)) {
            conditions.push(condition);
        }
        let (mut from, mut row) = (self.from.clone(), self.from.clone());
        if let (true, Some(versions)) = (shape.as_of, &self.versions) {
            from = versions.at(next());
            row.clone_from(&versions.alias);
        } else if let Some((column, kind)) = &self.time_column {
            let cast = cast_of(*kind);
            // An interval [start, end) or [start, end] meets the requested one when it starts
            // before the request ends and ends after the request starts (an open end never ends).
            if shape.time_from {
                let from = next();
                let at = format!("${from}::text::{cast}");
                conditions.push(match &self.time_end {
                    None => format!("{column} >= {at}"),
                    Some((end, exclusive)) => super::not_ended(end, *exclusive, &at),
                });
            }
            if shape.time_to {
                conditions.push(format!("{column} <= ${}::text::{cast}", next()));
            }
        }
        let scope = (shape.scope && self.area.is_some()).then(&mut next);
        for name in &shape.properties {
            let Some((_, kind)) = self.property_kinds.iter().find(|(p, _)| p == name) else { continue };
            let column = quote_ident(name);
            let i = next();
            conditions.push(match kind {
                FieldType::TextList => format!("${i}::text = ANY({column})"),
                FieldType::FloatList => format!("${i}::text::float8 = ANY({column})"),
                FieldType::Json => format!("{column} = ${i}::text::jsonb"),
                other => format!("{column} = ${i}::text::{}", cast_of(*other)),
            });
        }
        if let (Some(n), Some(area)) = (scope, &self.area) {
            conditions.push(super::area::condition(&row, area, n));
        }
        (from, conditions)
    }

    /// The items statement of one request (see the module's parameter order); the filter's
    /// placeholders must follow the shape's.
    pub(super) fn query_sql(&self, spec: &QuerySpec<'_>) -> String {
        let mut n = 0;
        let (from, mut conditions) = self.shape_conditions(spec.shape, &mut n);
        if let Some(filter) = spec.filter {
            conditions.push(filter.to_owned());
            n += spec.filter_values;
        }
        if spec.shape.cursor && !spec.offset {
            n += 1;
            conditions.push(format!("id > ${n}::bigint"));
        }
        let offset = spec.offset.then(|| {
            n += 1;
            n
        });
        let limit = n + 1;
        let filter = if conditions.is_empty() { String::new() } else { format!(" WHERE {}", conditions.join(" AND ")) };
        let (select_list, mut page_columns) = match spec.properties {
            None => (
                super::select_list(self.geometry_column.as_deref(), &self.properties_sql, spec.shape.crs),
                self.page_columns.clone(),
            ),
            Some(names) => {
                let geometry =
                    self.geometry_column.as_ref().map_or("NULL::text".to_owned(), |g| spec.shape.crs.geometry_json(g));
                let mut object = String::from("json_build_object(");
                for (i, name) in names.iter().enumerate() {
                    if i > 0 {
                        object.push_str(", ");
                    }
                    let _ = write!(object, "'{}', {}", name.replace('\'', "''"), quote_ident(name));
                }
                object.push_str(")::text");
                let columns = std::iter::once("id".to_owned())
                    .chain(self.geometry_column.iter().cloned())
                    .chain(names.iter().map(|p| quote_ident(p)))
                    .collect::<Vec<_>>()
                    .join(", ");
                (format!("id, {geometry}, {object}"), columns)
            }
        };
        let mut order = String::new();
        for (name, descending) in spec.sort {
            if !self.property_kinds.iter().any(|(p, _)| p == name) {
                continue;
            }
            let column = &quote_ident(name);
            if !page_columns.split(", ").any(|c| c == column) {
                page_columns.push_str(", ");
                page_columns.push_str(column);
            }
            let _ = write!(order, "{column} {}, ", if *descending { "DESC" } else { "ASC" });
        }
        order.push_str("id");
        let offset = offset.map_or(String::new(), |o| format!(" OFFSET ${o}::bigint"));
        format!(
            "SELECT {select_list} FROM (SELECT {page_columns} FROM {from}{filter} ORDER BY {order} LIMIT ${limit}::bigint{offset}) AS page ORDER BY {order}"
        )
    }

    /// The tile statement with a filter on the candidates (placeholders `$1`–`$3` are z/x/y,
    /// then the instant when `as_of`, then the filter's), drawn feature by feature at every zoom;
    /// `ids_only` for the variant without properties. `None` without geometry (or without
    /// history when `as_of`).
    pub(super) fn tile_sql_filtered(&self, condition: &str, ids_only: bool, as_of: bool) -> Option<String> {
        let base = match (as_of, ids_only) {
            (true, _) => self.tile_sql_as_of.as_ref()?[0][usize::from(ids_only)].as_ref(),
            (false, true) => self.tile_sql_ids_only.as_deref()?,
            (false, false) => self.tile_sql.as_deref()?,
        };
        base.contains(TILE_WHERE).then(|| super::with_tile_condition(base, condition))
    }

    /// The area condition of a tile statement at placeholder `$n`, when the collection has an
    /// area (on the versions at an instant when `as_of`).
    pub(super) fn tile_area_condition(&self, n: usize, as_of: bool) -> Option<String> {
        let row = match (&self.versions, as_of) {
            (Some(v), true) => &v.alias,
            _ => &self.from,
        };
        self.area.as_ref().map(|area| super::area::condition(row, area, n))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::DECL;
    use super::*;

    #[test]
    fn filter_sort_and_selection_are_placed_with_their_parameters() {
        let plan = CollectionPlan::new(&DECL, &DECL.properties(), &[]);
        let shape = FilterShape { bbox_parts: 1, properties: vec!["commune_code"], ..FilterShape::default() };
        let sort = [("survey_date", true)];
        let sql = plan.query_sql(&QuerySpec {
            shape: &shape,
            filter: Some("(\"commune_code\" = $6::text AND $7::bigint > 0)"),
            filter_values: 2,
            sort: &sort,
            offset: true,
            properties: Some(&["commune_code"]),
        });
        assert_eq!(
            sql,
            "SELECT id, ST_AsGeoJSON(\"geom\", 9), json_build_object('commune_code', \"commune_code\")::text \
             FROM (SELECT id, \"geom\", \"commune_code\", \"survey_date\" FROM \"land\".\"parcels\" \
             WHERE (ST_Intersects(\"geom\", ST_MakeEnvelope($1, $2, $3, $4, 4326))) AND \"commune_code\" = $5::text::text \
             AND (\"commune_code\" = $6::text AND $7::bigint > 0) \
             ORDER BY \"survey_date\" DESC, id LIMIT $9::bigint OFFSET $8::bigint) AS page ORDER BY \"survey_date\" DESC, id"
        );
        let keyset = FilterShape { cursor: true, ..FilterShape::default() };
        let sql = plan.query_sql(&QuerySpec {
            shape: &keyset,
            filter: Some("($1::text = \"commune_code\")"),
            filter_values: 1,
            sort: &[],
            offset: false,
            properties: None,
        });
        assert!(
            sql.contains("WHERE ($1::text = \"commune_code\") AND id > $2::bigint ORDER BY id LIMIT $3::bigint)"),
            "{sql}"
        );
    }

    #[test]
    fn tiles_take_the_filter_on_their_candidates() {
        let plan = CollectionPlan::new(&DECL, &DECL.properties(), &[]);
        let sql = plan.tile_sql_filtered("(\"commune_code\" = $4::text)", false, false).unwrap();
        assert!(sql.contains(
            "FROM \"land\".\"parcels\", tile WHERE (\"commune_code\" = $4::text) AND \"geom\" && tile.search"
        ));
        assert!(plan.tile_sql_filtered("TRUE", true, false).is_some());
        assert!(plan.tile_sql_filtered("TRUE", true, true).is_none(), "no history, no instant");
    }
}
