//! Versions of a versioned collection (migration 0021) as FROM items: the versions valid at an
//! instant ("as of", OGC Versioned Features: `datetime` selects versions), and every version of
//! one feature (`/items/{id}/versions`).
//!
//! The live table holds the current versions (valid from `version_from`, no end) and
//! `<table>_history` the superseded and retired ones, each valid in `[version_from, version_to)`.
//! The versions valid at `t` are therefore
//!
//! ```sql
//! (SELECT <columns> FROM live WHERE version_from <= t
//!  UNION ALL
//!  SELECT <columns> FROM history WHERE version_from <= t AND version_to > t) AS <table>
//! ```
//!
//! named like the table (unqualified), so every condition a plan puts on the live table (bbox,
//! CQL2, equality, area scope, keyset cursor) applies to it unchanged; PostgreSQL flattens the
//! `UNION ALL` and pushes those conditions into both sides, each on its own indexes (the GiST
//! index of the history's `geom`, migration 0021). The history has no Web Mercator twin
//! (`*_3857`): its side computes it as migration 0008's generated column does. The instant is
//! one bound `timestamptz`, used by both sides.

use geosector_domain::{AreaDecl, CollectionDecl, Property};

use crate::{quote_ident, table_name};

/// The version columns every versions FROM item carries besides the table's own.
pub(super) const VERSION_COLUMNS: &str = "version, version_from, version_to, retired, changeset_id";

/// How to read the versions of one versioned table.
#[derive(Debug)]
pub(super) struct Versions {
    live: String,
    history: String,
    /// The FROM item's name: the table's, unqualified (quoted).
    pub(super) alias: String,
    /// The table's columns a statement may read: id, geometry, shown properties, area columns.
    columns: String,
    /// The Web Mercator twin and its source column, quoted, with a geometry.
    mercator: Option<(String, String)>,
}

impl Versions {
    /// The versions of a collection's table, when its dataset keeps a history.
    pub(super) fn new(decl: &CollectionDecl, properties: &[Property]) -> Option<Versions> {
        decl.dataset.history?;
        let geometry = decl.dataset.geometry.map(|g| g.column);
        let area: Vec<&str> = match decl.access.area {
            Some(AreaDecl::Columns { province, commune }) => province.into_iter().chain(commune).collect(),
            _ => Vec::new(),
        };
        let mut names: Vec<&str> = Vec::new();
        for name in geometry.into_iter().chain(properties.iter().map(|p| p.name)).chain(area) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        let columns = std::iter::once("id".to_owned()).chain(names.iter().map(|n| quote_ident(n))).collect::<Vec<_>>();
        Some(Versions {
            live: table_name(decl.dataset),
            history: format!(
                "{}.{}",
                quote_ident(decl.dataset.schema),
                quote_ident(&geosector_domain::History::table(decl.dataset))
            ),
            alias: quote_ident(decl.dataset.table),
            columns: columns.join(", "),
            mercator: geometry.map(|g| (quote_ident(&format!("{g}_3857")), quote_ident(g))),
        })
    }

    /// The versions valid at the instant bound at `$n` (`timestamptz`), as a FROM item.
    pub(super) fn at(&self, n: usize) -> String {
        let t = format!("${n}::timestamptz");
        self.union(&format!("version_from <= {t}"), &format!("version_from <= {t} AND version_to > {t}"))
    }

    /// Every version of the feature whose id is bound at `$n` (`bigint`), as a FROM item.
    pub(super) fn of_feature(&self, n: usize) -> String {
        let id = format!("id = ${n}::bigint");
        self.union(&id, &id)
    }

    /// The retired version of a feature (id at `$n`), if it was retired: `version_to`, when it was.
    pub(super) fn retirement(&self, n: usize) -> String {
        format!("SELECT version_to FROM {} AS {} WHERE id = ${n}::bigint AND retired", self.history, self.alias)
    }

    /// The statement reading when the version before `version` of the feature began (for links).
    pub(super) fn predecessor_from(&self) -> String {
        format!(
            "(SELECT h.version_from FROM {} AS h WHERE h.id = {alias}.id AND h.version = {alias}.version - 1)",
            self.history,
            alias = self.alias
        )
    }

    fn union(&self, live_condition: &str, history_condition: &str) -> String {
        let (live_mercator, history_mercator) = match &self.mercator {
            Some((twin, geom)) => {
                (format!(", {twin}"), format!(", ST_ForcePolygonCW(ST_Transform({geom}, 3857)) AS {twin}"))
            }
            None => (String::new(), String::new()),
        };
        format!(
            "(SELECT {c}{live_mercator}, version, version_from, NULL::timestamptz AS version_to, false AS retired, changeset_id \
               FROM {live} WHERE {live_condition} \
             UNION ALL \
             SELECT {c}{history_mercator}, {VERSION_COLUMNS} FROM {history} WHERE {history_condition}) AS {alias}",
            c = self.columns,
            live = self.live,
            history = self.history,
            alias = self.alias
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::DECL;
    use super::*;
    use geosector_domain::{Dataset, History};

    #[test]
    fn both_sides_read_the_same_columns_at_one_instant() {
        const DATASET: Dataset =
            Dataset { history: Some(History { key: &["commune_code"], geohash_id: None }), ..*DECL.dataset };
        const VERSIONED: CollectionDecl = CollectionDecl { dataset: &DATASET, ..DECL };
        let versions = Versions::new(&VERSIONED, &VERSIONED.properties()).unwrap();
        let sql = versions.at(3);
        assert_eq!(sql.matches("$3::timestamptz").count(), 3, "{sql}");
        assert!(sql.contains("FROM \"land\".\"parcels\" WHERE version_from <= $3::timestamptz UNION ALL"), "{sql}");
        assert!(sql.contains("FROM \"land\".\"parcels_history\" WHERE version_from <= $3::timestamptz AND version_to > $3::timestamptz) AS \"parcels\""), "{sql}");
        assert!(sql.contains("ST_ForcePolygonCW(ST_Transform(\"geom\", 3857)) AS \"geom_3857\""), "{sql}");
        assert!(Versions::new(&DECL, &DECL.properties()).is_none(), "no history, no versions");
    }

    #[test]
    fn the_instant_is_numbered_where_the_time_bounds_would_be() {
        use super::super::{BboxFilter, CollectionPlan, ItemsRequest, Page, Param, TileRequest, TileVariant};
        const DATASET: Dataset =
            Dataset { history: Some(History { key: &["commune_code"], geohash_id: None }), ..*DECL.dataset };
        const VERSIONED: CollectionDecl = CollectionDecl {
            dataset: &DATASET,
            access: geosector_domain::AccessDecl::public_in(AreaDecl::commune("commune_code")),
            ..DECL
        };
        let plan = CollectionPlan::new(&VERSIONED, &VERSIONED.properties(), &[]);
        let at = chrono::DateTime::from_timestamp(1_767_225_600, 0);
        let scope = super::super::AreaScope::new(vec!["00376".into()]);
        let request = ItemsRequest {
            bbox: BboxFilter::Envelopes(vec![[105.0, 20.0, 106.0, 21.0]]),
            time: (Some("2020-01-01".into()), None),
            as_of: at,
            equals: vec![("commune_code", "00376".into())],
            page: Page::After(7),
            limit: 10,
            scope: Some(&scope),
            ..ItemsRequest::default()
        };
        let statement = plan.items(&request);
        let sql = statement.sql();
        assert!(!statement.is_reusable(), "a bbox is planned with its values");
        assert!(sql.contains("version_to > $5::timestamptz) AS \"parcels\""), "{sql}");
        assert!(!sql.contains("survey_date\" >="), "the time bounds give way to the instant: {sql}");
        assert!(
            sql.contains("\"commune_code\" = ANY($6::text[])") && sql.contains("\"commune_code\" = $7::text::text"),
            "{sql}"
        );
        assert!(sql.contains("id > $8::bigint ORDER BY id LIMIT $9::bigint"), "{sql}");
        assert_eq!(statement.params()[4], Param::Timestamp(at.unwrap()));
        assert_eq!(statement.params().len(), 9);
        let feature = plan.item_at(3, super::super::OutputCrs::STORED, Some(&scope), at);
        assert!(feature.sql().ends_with("AS \"parcels\" WHERE id = $1 AND (\"commune_code\" = ANY($3::text[]) OR \"commune_code\" = ANY((SELECT meta.communes_of($3::text[]))::text[]))"), "{}", feature.sql());
        assert!(feature.sql().contains("$2::timestamptz"));
        let now = plan.item(3, super::super::OutputCrs::STORED, None);
        assert!(
            now.sql().contains("NULL::timestamptz AS version_to")
                && now.sql().ends_with("FROM \"land\".\"parcels\" WHERE id = $1")
        );
        let tile = TileRequest { z: 10, x: 812, y: 450, filter: None, scope: Some(&scope), as_of: at };
        let drawn = plan.tile(&tile, TileVariant::IdsOnly).unwrap();
        assert!(drawn.is_reusable() && drawn.sql().contains("$4::timestamptz") && drawn.sql().contains("$5::text[]"));
        assert_eq!(drawn.params().len(), 5);
        assert!(plan.retirement(3, None).is_some() && plan.versions(3, None, 0, 10).is_some());
    }
}
