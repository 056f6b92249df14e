//! Typed requests in, statements with their values out.
//!
//! The server parses and validates what a client sent (400s name the parameter) and hands the
//! plan one of these; the plan picks or builds the statement and pushes every value in the
//! order of its own placeholders ([`Statement`]). Nothing outside this crate knows that order.

use chrono::{DateTime, Utc};
use geosector_filter::Sql;

use super::area::AreaScope;
use super::statement::{Param, Statement};
use super::{CollectionPlan, FilterShape};
use crate::reproject::CrsShape;

/// The CRS geometries are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutputCrs {
    /// The rule SRID to transform to (`geosector_crs::CrsDef::rule_srid`); `None` keeps the
    /// stored lon/lat.
    pub rule_srid: Option<i32>,
    /// Whether the axes are swapped (north first).
    pub flip: bool,
}

impl OutputCrs {
    /// As stored: CRS84.
    pub const STORED: OutputCrs = OutputCrs { rule_srid: None, flip: false };
}

/// A bbox in storage coordinates.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum BboxFilter {
    /// No bbox.
    #[default]
    None,
    /// Envelopes in lon/lat, `[min lon, min lat, max lon, max lat]` (two when crossing the
    /// antimeridian).
    Envelopes(Vec<[f64; 4]>),
    /// One lon/lat polygon as WKB: a rectangle of another CRS, densified and transformed
    /// (see [`crate::reproject::polygon_wkb`]).
    Polygon(Vec<u8>),
}

/// Where a page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Page {
    /// The first page.
    #[default]
    First,
    /// After this id (keyset paging, in id order).
    After(i64),
    /// After this many features (paging with sort keys).
    Offset(i64),
}

/// A page of items.
#[derive(Debug, Clone, Default)]
pub struct ItemsRequest<'a> {
    /// The bbox.
    pub bbox: BboxFilter,
    /// Lower and upper time bounds on the collection's time property, validated text (dates or
    /// RFC 3339), cast in SQL to the column's type.
    pub time: (Option<String>, Option<String>),
    /// On a versioned collection: the versions valid at this instant instead of the current ones
    /// (the time bounds are then ignored). A collection without history ignores it.
    pub as_of: Option<DateTime<Utc>>,
    /// Equality on published properties: name and validated canonical text.
    pub equals: Vec<(&'static str, String)>,
    /// A translated CQL2 filter.
    pub filter: Option<&'a Sql>,
    /// Sort keys: a published property and whether descending (the plan quotes the column; a
    /// name that is not a published property is left out). Empty: by id.
    pub sort: Vec<(&'static str, bool)>,
    /// The published properties to return (`None`: all of them).
    pub properties: Option<Vec<&'static str>>,
    /// Where the page starts.
    pub page: Page,
    /// Features per page: the statement reads one more, to tell whether a next page exists.
    pub limit: i64,
    /// The CRS of the geometries.
    pub output: OutputCrs,
    /// The caller's area scope (`None`: every row). A collection not tied to an area ignores it.
    pub scope: Option<&'a AreaScope>,
}

/// One tile of a collection in WebMercatorQuad.
#[derive(Debug, Clone, Copy)]
pub struct TileRequest<'a> {
    /// Zoom.
    pub z: u32,
    /// Column.
    pub x: u64,
    /// Row.
    pub y: u64,
    /// A translated CQL2 filter on the features (drawn one by one at every zoom then).
    pub filter: Option<&'a Sql>,
    /// The caller's area scope (drawn one by one at every zoom then, when the collection is
    /// tied to an area).
    pub scope: Option<&'a AreaScope>,
    /// On a versioned collection: the versions valid at this instant (drawn one by one at every
    /// zoom then; no overview). On a collection whose features span an interval
    /// (`datetime_end`): the features in force at this instant, by default now.
    pub as_of: Option<DateTime<Utc>>,
}

/// Which rendering of a tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TileVariant {
    /// With the declared tile properties.
    Full,
    /// Features and ids only: what is served when the full tile is over the size cap.
    IdsOnly,
}

impl CollectionPlan {
    /// The statement counting every feature a request matches (one `bigint` row), whatever its
    /// page, sort, property selection and output CRS: WFS `resultType=hits`, which a client asks
    /// for explicitly. It binds the same filter values as [`Self::items`].
    pub fn count(&self, request: &ItemsRequest<'_>) -> Statement {
        let counted = ItemsRequest {
            output: OutputCrs::STORED,
            page: Page::First,
            sort: Vec::new(),
            properties: None,
            ..request.clone()
        };
        let (shape, mut values) = self.shape_and_values(&counted);
        let mut n = 0;
        let (from, mut conditions) = self.shape_conditions(&shape, &mut n);
        if let Some(filter) = request.filter {
            conditions.push(filter.condition_from(n + 1).into_owned());
            values.extend(filter.values.iter().cloned().map(Param::Filter));
        }
        let filter = if conditions.is_empty() { String::new() } else { format!(" WHERE {}", conditions.join(" AND ")) };
        Statement::one_off(format!("SELECT count(*) FROM {from}{filter}"), values)
    }

    /// The shape of a request and the values of its shape's placeholders (before the filter's,
    /// the cursor and the limit).
    fn shape_and_values(&self, request: &ItemsRequest<'_>) -> (FilterShape, Vec<Param>) {
        // Only what this plan has a placeholder for is bound: time bounds when the collection has
        // a time property, equality on its published properties.
        let as_of = request.as_of.filter(|_| self.versions.is_some());
        let time = if self.time_column.is_some() && as_of.is_none() { request.time.clone() } else { (None, None) };
        let scope = request.scope.filter(|_| self.area.is_some());
        let equals: Vec<&(&'static str, String)> =
            request.equals.iter().filter(|(name, _)| self.property_kinds.iter().any(|(p, _)| p == name)).collect();
        let shape = FilterShape {
            bbox_parts: match &request.bbox {
                BboxFilter::Envelopes(e) => u8::try_from(e.len()).unwrap_or(2),
                _ => 0,
            },
            as_of: as_of.is_some(),
            time_from: time.0.is_some(),
            time_to: time.1.is_some(),
            properties: equals.iter().map(|(n, _)| *n).collect(),
            cursor: matches!(request.page, Page::After(_)),
            scope: scope.is_some(),
            crs: crs_shape(request.output, matches!(request.bbox, BboxFilter::Polygon(_))),
        };
        let mut values = leading_values(request.output, &request.bbox);
        if let BboxFilter::Envelopes(envelopes) = &request.bbox {
            values.extend(envelopes.iter().flatten().map(|v| Param::Float(*v)));
        }
        values.extend([time.0, time.1].into_iter().flatten().map(Param::Text));
        values.extend(as_of.map(Param::Timestamp));
        values.extend(scope.map(|s| Param::TextArray(s.codes.clone())));
        values.extend(equals.iter().map(|(_, v)| Param::Text(v.clone())));
        (shape, values)
    }

    /// The statement of a page of items.
    pub fn items(&self, request: &ItemsRequest<'_>) -> Statement {
        let (shape, mut values) = self.shape_and_values(request);
        let per_request = request.filter.is_some()
            || !request.sort.is_empty()
            || request.properties.is_some()
            || matches!(request.page, Page::Offset(_));
        if !per_request {
            if let Page::After(id) = request.page {
                values.push(Param::BigInt(id));
            }
            values.push(Param::BigInt(request.limit.saturating_add(1)));
            return match request.bbox {
                BboxFilter::None => Statement::reusable(self.items_sql(&shape), values),
                _ => Statement::planned_with_values(self.items_sql(&shape), values),
            };
        }
        let first = values.len() + 1;
        if let Some(filter) = request.filter {
            values.extend(filter.values.iter().cloned().map(Param::Filter));
        }
        let condition = request.filter.map(|f| f.condition_from(first));
        match request.page {
            Page::After(id) => values.push(Param::BigInt(id)),
            Page::Offset(offset) => values.push(Param::BigInt(offset)),
            Page::First => {}
        }
        values.push(Param::BigInt(request.limit.saturating_add(1)));
        let sql = self.query_sql(&super::QuerySpec {
            shape: &shape,
            filter: condition.as_deref(),
            filter_values: request.filter.map_or(0, |f| f.values.len()),
            sort: &request.sort,
            offset: matches!(request.page, Page::Offset(_)),
            properties: request.properties.as_deref(),
        });
        Statement::one_off(sql, values)
    }

    /// The statement of one feature by id, within the caller's area scope when given.
    pub fn item(&self, id: i64, output: OutputCrs, scope: Option<&AreaScope>) -> Statement {
        self.item_at(id, output, scope, None)
    }

    /// The statement of one feature by id, within the caller's area scope when given: its
    /// current version, or on a versioned collection the version valid at `at`. Columns: id,
    /// geometry and properties as for items; on a versioned collection then `version` (integer),
    /// `version_from`, `version_to` (NULL for the current version) and `retired` (whether the
    /// feature was retired at `version_to`), and when the version before it began (NULL for the
    /// first).
    pub fn item_at(
        &self,
        id: i64,
        output: OutputCrs,
        scope: Option<&AreaScope>,
        at: Option<DateTime<Utc>>,
    ) -> Statement {
        let scope = scope.filter(|_| self.area.is_some());
        let at = at.filter(|_| self.versions.is_some());
        let mut values = leading_values(output, &BboxFilter::None);
        values.push(Param::BigInt(id));
        values.extend(at.map(Param::Timestamp));
        values.extend(scope.map(|s| Param::TextArray(s.codes.clone())));
        Statement::reusable(self.item_sql_in(crs_shape(output, false), scope.is_some(), at.is_some()).into(), values)
    }

    /// On a versioned collection, the statement telling whether feature `id` was retired, and
    /// when (one `timestamptz` row, or none), within the caller's area scope when given (the
    /// retired version's area); `None` for a collection without history.
    pub fn retirement(&self, id: i64, scope: Option<&AreaScope>) -> Option<Statement> {
        let versions = self.versions.as_ref()?;
        let scope = scope.filter(|_| self.area.is_some());
        let mut sql = versions.retirement(1);
        let mut values = vec![Param::BigInt(id)];
        if let (Some(scope), Some(area)) = (scope, &self.area) {
            sql.push_str(&format!(" AND {}", super::area::condition(&versions.alias, area, 2)));
            values.push(Param::TextArray(scope.codes.clone()));
        }
        Some(Statement::one_off(sql, values))
    }

    /// On a versioned collection, the statement of the versions of feature `id`, oldest first,
    /// within the caller's area scope when given (version by version), `offset` of them skipped
    /// and at most `limit` + 1 read; geometries in CRS84. Columns: id, geometry and properties as
    /// for items, then the version's members as JSON text (`version`, `validFrom`, `validTo`,
    /// `retired`, and its changeset's `changeset`, `changeType`, `reference`, `referenceDate`).
    /// `None` for a collection without history.
    pub fn versions(&self, id: i64, scope: Option<&AreaScope>, offset: i64, limit: i64) -> Option<Statement> {
        let versions = self.versions.as_ref()?;
        let scope = scope.filter(|_| self.area.is_some());
        let mut values = vec![Param::BigInt(id)];
        let mut condition = String::new();
        if let (Some(scope), Some(area)) = (scope, &self.area) {
            condition = format!(" WHERE {}", super::area::condition(&versions.alias, area, 2));
            values.push(Param::TextArray(scope.codes.clone()));
        }
        let (limit_at, offset_at) = (values.len() + 1, values.len() + 2);
        values.push(Param::BigInt(limit.saturating_add(1)));
        values.push(Param::BigInt(offset));
        let geometry =
            self.geometry_column.as_deref().map_or("NULL::text".to_owned(), |g| CrsShape::default().geometry_json(g));
        let sql = format!(
            "SELECT v.id, v.geometry, v.properties, json_build_object('version', v.version, 'validFrom', v.version_from,                'validTo', v.version_to, 'retired', v.retired, 'changeset', v.changeset_id, 'changeType', c.change_type,                'reference', c.reference, 'referenceDate', c.reference_date)::text              FROM (SELECT id, {geometry} AS geometry, {properties} AS properties, {columns} FROM {from}{condition}                    ORDER BY version LIMIT ${limit_at}::bigint OFFSET ${offset_at}::bigint) AS v              LEFT JOIN meta.changesets AS c ON c.id = v.changeset_id ORDER BY v.version",
            properties = self.properties_sql,
            columns = super::history::VERSION_COLUMNS,
            from = versions.of_feature(1),
        );
        Some(Statement::one_off(sql, values))
    }

    /// The statement of one tile (one row: the MVT bytes, or NULL), or `None` when there is
    /// nothing to draw: no geometry, a zoom below the detail without an overview, or the
    /// ids-only variant of an overview tile (overview tiles carry only their classes).
    pub fn tile(&self, request: &TileRequest<'_>, variant: TileVariant) -> Option<Statement> {
        let z = i32::try_from(request.z).unwrap_or(i32::MAX);
        let x = i32::try_from(request.x).unwrap_or(i32::MAX);
        let y = i32::try_from(request.y).unwrap_or(i32::MAX);
        let mut values = vec![Param::Int(z), Param::Int(x), Param::Int(y)];
        let ids_only = variant == TileVariant::IdsOnly;
        let scope = request.scope.filter(|_| self.area.is_some());
        let as_of = request.as_of.filter(|_| self.tile_sql_as_of.is_some());
        values.extend(as_of.map(Param::Timestamp));
        if self.tile_in_force {
            values.push(Param::Timestamp(request.as_of.unwrap_or_else(Utc::now)));
        }
        if let Some(filter) = request.filter {
            let mut conditions = Vec::with_capacity(2);
            if let Some(scope) = scope {
                conditions.extend(self.tile_area_condition(values.len() + 1, as_of.is_some()));
                values.push(Param::TextArray(scope.codes.clone()));
            }
            conditions.push(filter.condition_from(values.len() + 1).into_owned());
            let sql = self.tile_sql_filtered(&conditions.join(" AND "), ids_only, as_of.is_some())?;
            values.extend(filter.values.iter().cloned().map(Param::Filter));
            return Some(Statement::one_off(sql, values));
        }
        if let (Some(_), Some(statements)) = (as_of, &self.tile_sql_as_of) {
            values.extend(scope.map(|s| Param::TextArray(s.codes.clone())));
            let sql = &statements[usize::from(scope.is_some())][usize::from(ids_only)];
            return Some(Statement::reusable(std::sync::Arc::clone(sql), values));
        }
        if let (Some(scope), Some(scoped)) = (scope, &self.tile_sql_scoped) {
            values.push(Param::TextArray(scope.codes.clone()));
            return Some(Statement::reusable(std::sync::Arc::clone(&scoped[usize::from(ids_only)]), values));
        }
        let sql = if request.z >= u32::from(self.detail_min_zoom) {
            if ids_only {
                self.tile_sql_ids_only.as_ref()
            } else {
                self.tile_sql.as_ref()
            }
        } else if ids_only {
            None
        } else {
            self.overview_sql.as_ref()
        }?;
        Some(Statement::reusable(std::sync::Arc::clone(sql), values))
    }

    /// The statement of the extents changed after data version `since` up to `until`
    /// (inclusive): one row per change, its version and bbox (NULLs = everything).
    pub fn changes(&self, since: i64, until: i64) -> Statement {
        Statement::reusable(std::sync::Arc::clone(&self.changes_sql), vec![Param::BigInt(since), Param::BigInt(until)])
    }

    /// The statement of the table's data version (one `bigint` row, or none when the table has
    /// no version counter).
    pub fn version(&self) -> Statement {
        Statement::reusable(std::sync::Arc::clone(&self.version_sql), Vec::new())
    }
}

/// The CRS part of a statement's shape.
pub(super) fn crs_shape(output: OutputCrs, bbox_polygon: bool) -> CrsShape {
    CrsShape { transform: output.rule_srid.is_some(), flip: output.flip, bbox_polygon }
}

/// The values that lead every statement of a shape (see [`crate::reproject`]): the rule SRID
/// when transforming, then the bbox polygon.
pub(super) fn leading_values(output: OutputCrs, bbox: &BboxFilter) -> Vec<Param> {
    let mut values = Vec::with_capacity(16);
    if let Some(srid) = output.rule_srid {
        values.push(Param::Int(srid));
    }
    if let BboxFilter::Polygon(wkb) = bbox {
        values.push(Param::Bytes(wkb.clone()));
    }
    values
}

#[cfg(test)]
mod tests {
    use super::super::tests::DECL;
    use super::*;
    use geosector_domain::CollectionDecl;
    use geosector_filter::{FilterCrs, Lang, Limits, Queryables};

    /// The highest placeholder of a statement: every value must have one, and none more.
    fn placeholders(sql: &str) -> usize {
        sql.match_indices('$')
            .filter_map(|(i, _)| {
                let digits: String = sql[i + 1..].chars().take_while(char::is_ascii_digit).collect();
                digits.parse().ok()
            })
            .max()
            .unwrap_or(0)
    }

    fn filter(text: &str) -> Sql {
        let plan_properties = DECL.properties();
        let queryables = Queryables::new(&plan_properties, DECL.dataset.geometry.as_ref());
        geosector_filter::compile(text, Lang::Text, &queryables, &FilterCrs::crs84(), Limits::default()).unwrap()
    }

    #[test]
    fn plain_pages_reuse_one_statement_and_push_their_values_in_its_order() {
        let plan = CollectionPlan::new(&DECL, &DECL.properties(), &[]);
        let request = ItemsRequest {
            bbox: BboxFilter::Envelopes(vec![[105.0, 20.0, 106.0, 21.0]]),
            time: (Some("2020-01-01".into()), None),
            equals: vec![("commune_code", "00376".into())],
            page: Page::After(41),
            limit: 100,
            output: OutputCrs { rule_srid: Some(905_897), flip: false },
            ..ItemsRequest::default()
        };
        let statement = plan.items(&request);
        assert!(!statement.is_reusable(), "a bbox is planned with its values on every run");
        let plain = ItemsRequest { bbox: BboxFilter::None, ..request.clone() };
        assert!(plan.items(&plain).is_reusable(), "without a bbox, one plan serves every page");
        assert_eq!(
            statement.params(),
            [
                Param::Int(905_897),
                Param::Float(105.0),
                Param::Float(20.0),
                Param::Float(106.0),
                Param::Float(21.0),
                Param::Text("2020-01-01".into()),
                Param::Text("00376".into()),
                Param::BigInt(41),
                Param::BigInt(101),
            ]
        );
        assert_eq!(placeholders(statement.sql()), statement.params().len());
        assert!(statement.sql().contains("id > $8::bigint ORDER BY id LIMIT $9::bigint"), "{}", statement.sql());
        let again = plan.items(&request);
        assert!(std::ptr::eq(statement.sql(), again.sql()), "built once, then cached");
    }

    #[test]
    fn a_filter_is_numbered_after_the_shape_and_the_page_after_the_filter() {
        let plan = CollectionPlan::new(&DECL, &DECL.properties(), &[]);
        let cql = filter("commune_code = '00376' AND survey_date > DATE('2020-01-01')");
        let sort = vec![("survey_date", true)];
        let request = ItemsRequest {
            bbox: BboxFilter::Polygon(vec![1, 2, 3]),
            equals: vec![("commune_code", "00376".into())],
            filter: Some(&cql),
            sort,
            page: Page::Offset(200),
            limit: 10,
            output: OutputCrs { rule_srid: Some(904_756), flip: true },
            ..ItemsRequest::default()
        };
        let statement = plan.items(&request);
        assert!(!statement.is_reusable(), "a filter makes a statement per request");
        let sql = statement.sql();
        assert_eq!(placeholders(sql), statement.params().len());
        assert!(
            sql.starts_with("SELECT id, ST_AsGeoJSON(ST_FlipCoordinates(ST_Transform(\"geom\", $1::integer)), 9, 0)")
        );
        assert!(sql.contains("ST_GeomFromWKB($2::bytea, 4326)") && sql.contains("\"commune_code\" = $3::text::text"));
        assert!(sql.contains("$4::text") && sql.contains("$5::date"), "{sql}");
        assert!(sql.contains("LIMIT $7::bigint OFFSET $6::bigint"), "{sql}");
        assert_eq!(statement.params()[0], Param::Int(904_756));
        assert_eq!(statement.params()[1], Param::Bytes(vec![1, 2, 3]));
        assert_eq!(statement.params()[5], Param::BigInt(200));
        assert_eq!(statement.params()[6], Param::BigInt(11));
        let keyset =
            plan.items(&ItemsRequest { filter: Some(&cql), page: Page::After(7), limit: 5, ..ItemsRequest::default() });
        assert!(
            keyset.sql().contains("= $1::text)")
                && keyset.sql().contains("id > $3::bigint ORDER BY id LIMIT $4::bigint"),
            "{}",
            keyset.sql()
        );
        assert_eq!(&keyset.params()[2..], [Param::BigInt(7), Param::BigInt(6)]);
    }

    #[test]
    fn a_count_binds_the_shape_and_the_filter_but_no_page() {
        let plan = CollectionPlan::new(&DECL, &DECL.properties(), &[]);
        let cql = filter("commune_code = '00376'");
        let request = ItemsRequest {
            bbox: BboxFilter::Envelopes(vec![[105.0, 20.0, 106.0, 21.0]]),
            filter: Some(&cql),
            sort: vec![("survey_date", true)],
            page: Page::Offset(40),
            limit: 10,
            output: OutputCrs { rule_srid: Some(905_897), flip: true },
            ..ItemsRequest::default()
        };
        let count = plan.count(&request);
        assert_eq!(
            count.sql(),
            "SELECT count(*) FROM \"land\".\"parcels\" WHERE (ST_Intersects(\"geom\", ST_MakeEnvelope($1, $2, $3, $4, 4326))) AND ((\"commune_code\" = $5::text))"
        );
        assert_eq!(placeholders(count.sql()), count.params().len());
        assert_eq!(count.params()[0], Param::Float(105.0), "no SRID: nothing is written");
        assert_eq!(plan.count(&ItemsRequest::default()).sql(), "SELECT count(*) FROM \"land\".\"parcels\"");
    }

    #[test]
    fn features_and_tiles_bind_their_own_values() {
        let plan = CollectionPlan::new(&DECL, &DECL.properties(), &[]);
        let feature = plan.item(12, OutputCrs { rule_srid: Some(905_897), flip: false }, None);
        assert_eq!(feature.params(), [Param::Int(905_897), Param::BigInt(12)]);
        assert!(feature.sql().ends_with("WHERE id = $2"));
        assert_eq!(plan.item(12, OutputCrs::STORED, None).params(), [Param::BigInt(12)]);

        let tile = TileRequest { z: 14, x: 13009, y: 7212, filter: None, scope: None, as_of: None };
        let full = plan.tile(&tile, TileVariant::Full).unwrap();
        assert!(full.is_reusable());
        assert_eq!(full.params(), [Param::Int(14), Param::Int(13009), Param::Int(7212)]);
        assert!(plan.tile(&tile, TileVariant::IdsOnly).is_some());

        let cql = filter("commune_code = '00376'");
        let filtered = TileRequest { filter: Some(&cql), ..tile };
        let statement = plan.tile(&filtered, TileVariant::IdsOnly).unwrap();
        assert!(!statement.is_reusable());
        assert!(statement.sql().contains("tile WHERE ((\"commune_code\" = $4::text)) AND"), "{}", statement.sql());
        assert_eq!(statement.params()[3], Param::Filter(geosector_filter::Value::Text("00376".into())));

        let changes = plan.changes(3, 9);
        assert_eq!(changes.params(), [Param::BigInt(3), Param::BigInt(9)]);
        assert!(plan.version().params().is_empty());
    }

    #[test]
    fn below_the_detail_zoom_a_tile_comes_from_the_overview_or_nothing() {
        const OVERVIEW: CollectionDecl = CollectionDecl {
            tiles: geosector_domain::TileDecl {
                properties: None,
                detail_min_zoom: 14,
                overview: Some(geosector_domain::Overview {
                    schema: "s",
                    table: "cells",
                    finest_zoom: 13,
                    class_column: "class",
                    count_column: "rows",
                    area_column: "area",
                    class_field: "land_use_codes",
                    area_fields: &[],
                    kept_rows_sql: "",
                }),
                low_zoom: None,
            },
            ..DECL
        };
        let plan = CollectionPlan::new(&OVERVIEW, &OVERVIEW.properties(), &[]);
        let low = TileRequest { z: 10, x: 1, y: 2, filter: None, scope: None, as_of: None };
        assert!(plan.tile(&low, TileVariant::Full).unwrap().sql().contains("FROM \"s\".\"cells\""));
        assert!(plan.tile(&low, TileVariant::IdsOnly).is_none(), "an overview has no lean variant");
        let cql = filter("commune_code = '00376'");
        let filtered = plan.tile(&TileRequest { filter: Some(&cql), ..low }, TileVariant::Full).unwrap();
        assert!(filtered.sql().contains("\"geom\" && tile.search"), "a filtered tile draws features at every zoom");
        const NONE: CollectionDecl = CollectionDecl {
            tiles: geosector_domain::TileDecl { properties: None, detail_min_zoom: 12, overview: None, low_zoom: None },
            ..DECL
        };
        let plan = CollectionPlan::new(&NONE, &NONE.properties(), &[]);
        assert!(plan.tile(&low, TileVariant::Full).is_none());
    }
}
