//! The statement exporting every feature of a request at once (offline packages): the rows the
//! items statement of the same request reaches, in id order and without a page limit (the caller
//! streams them), each with its geometry as stored (ISO WKB, storage CRS: no rounding, so a
//! round trip compares exactly) and its row version.

use super::request::{crs_shape, leading_values, BboxFilter, ItemsRequest};
use super::statement::{Param, Statement};
use super::{CollectionPlan, FilterShape};

impl CollectionPlan {
    /// The statement of every feature a request reaches (its bbox or bbox polygon — ignored
    /// without geometry —, its area scope; time bounds, equality and the page are not used), in id order. Columns: id
    /// (bigint), the properties as JSON text (masked as the view says, as items show them), the
    /// feature's row version (integer; NULL for a collection without history), the geometry as
    /// WKB in storage coordinates (NULL without geometry), then its envelope: min x, min y,
    /// max x, max y (float8; NULL when empty or absent).
    pub fn export(&self, request: &ItemsRequest<'_>) -> Statement {
        let scope = request.scope.filter(|_| self.area.is_some());
        // A collection without geometry has no place: every row (in the scope) is exported.
        let bbox = if self.geometry_column.is_some() { &request.bbox } else { &BboxFilter::None };
        let polygon = matches!(bbox, BboxFilter::Polygon(_));
        let shape = FilterShape {
            bbox_parts: match bbox {
                BboxFilter::Envelopes(e) => u8::try_from(e.len()).unwrap_or(2),
                _ => 0,
            },
            scope: scope.is_some(),
            crs: crs_shape(super::OutputCrs::STORED, polygon),
            ..FilterShape::default()
        };
        let mut values = leading_values(super::OutputCrs::STORED, bbox);
        if let BboxFilter::Envelopes(envelopes) = bbox {
            values.extend(envelopes.iter().flatten().map(|v| Param::Float(*v)));
        }
        values.extend(scope.map(|s| Param::TextArray(s.codes.clone())));
        let (from, conditions) = self.shape_conditions(&shape, &mut 0);
        let filter = if conditions.is_empty() { String::new() } else { format!(" WHERE {}", conditions.join(" AND ")) };
        let geometry = self
            .geometry_column
            .as_deref()
            .map_or("NULL::bytea, NULL::float8, NULL::float8, NULL::float8, NULL::float8".to_owned(), |g| {
                format!("ST_AsBinary({g}), ST_XMin({g}), ST_YMin({g}), ST_XMax({g}), ST_YMax({g})")
            });
        let version = if self.versions.is_some() { "version" } else { "NULL::integer" };
        let sql = format!("SELECT id, {}, {version}, {geometry} FROM {from}{filter} ORDER BY id", self.properties_sql);
        Statement::one_off(sql, values)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::DECL;
    use super::*;
    use crate::plan::AreaScope;

    #[test]
    fn export_reads_the_request_rows_as_stored_in_id_order() {
        let plan = CollectionPlan::new(&DECL, &DECL.properties(), &[]);
        let request = ItemsRequest {
            bbox: BboxFilter::Envelopes(vec![[105.0, 20.0, 106.0, 21.0]]),
            limit: 10,
            ..ItemsRequest::default()
        };
        let statement = plan.export(&request);
        assert!(statement.sql().starts_with("SELECT id, json_build_object("), "{}", statement.sql());
        assert!(
            statement.sql().contains("::text, NULL::integer, ST_AsBinary(\"geom\"), ST_XMin(\"geom\")"),
            "{}",
            statement.sql()
        );
        assert!(
            statement
                .sql()
                .ends_with("WHERE (ST_Intersects(\"geom\", ST_MakeEnvelope($1, $2, $3, $4, 4326))) ORDER BY id"),
            "{}",
            statement.sql()
        );
        assert_eq!(statement.params().len(), 4);
        let scope = AreaScope::new(vec!["01".into()]);
        let polygon =
            ItemsRequest { bbox: BboxFilter::Polygon(vec![1]), scope: Some(&scope), ..ItemsRequest::default() };
        let statement = plan.export(&polygon);
        assert!(statement.sql().contains("ST_GeomFromWKB($1::bytea, 4326)"), "{}", statement.sql());
        assert_eq!(statement.params(), [Param::Bytes(vec![1])], "the collection is not tied to an area");
    }
}
