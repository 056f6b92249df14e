//! The OGC CQL2 conformance test data as geosector datasets and collections — for tests, not a
//! sector.
//!
//! The CQL2 Abstract Test Suite (OGC 21-065r2, Annex A) gives expected counts on one dataset,
//! `ne110m4cql2`: Natural Earth's 1:110m countries (177 multipolygons), populated places (243
//! points, with date, timestamp and boolean properties) and rivers (13 lines). To check the
//! server against those tables the data must be loaded the way real data is — `geosector
//! import` — and served as ordinary collections. This crate declares the three layers; the
//! tables live in the schema `ogc_conformance` (migration `0009_filter.sql`, empty by default).
//!
//! The key decision: these declarations are **off by default**. The binary adds them to its
//! catalogue only when `GEOSECTOR_CONFORMANCE_DATASETS=1` is set (see `geosector::datasets`),
//! so a production server never lists them. Unlike the sector datasets, the geometry is allowed
//! anywhere on Earth (`in_vietnam: false`) and times without an offset are UTC.

use geosector_domain::{CollectionDecl, Dataset, Field, FieldType as T, GeometryKind, GeometrySpec, TileDecl};

/// The environment variable that adds these datasets and collections to the catalogue (`1`).
pub const SWITCH: &str = "GEOSECTOR_CONFORMANCE_DATASETS";

/// A geometry column `geom` anywhere on Earth, optional, with no source CRS or area columns.
const fn world(kind: GeometryKind) -> GeometrySpec {
    GeometrySpec {
        column: "geom",
        kind,
        in_vietnam: false,
        required: false,
        source_srid_column: None,
        area_column: None,
    }
}

const fn text(column: &'static str, names: &'static [&'static str]) -> Field {
    Field::new(column, names, T::Text, false)
}

/// `ne_110m_admin_0_countries`: 177 countries (MultiPolygon).
pub const COUNTRIES: Dataset = Dataset {
    id: "ogc_conformance.ne_110m_admin_0_countries",
    description: "OGC CQL2 test data: Natural Earth 1:110m countries (tests only)",
    schema: "ogc_conformance",
    table: "ne_110m_admin_0_countries",
    fields: &[
        text("TYPE", &["TYPE"]),
        text("ADM0_A3", &["ADM0_A3"]),
        text("NAME", &["NAME"]),
        text("NAME_LONG", &["NAME_LONG"]),
        text("ABBREV", &["ABBREV"]),
        text("POSTAL", &["POSTAL"]),
        text("FORMAL_EN", &["FORMAL_EN"]),
        text("NAME_SORT", &["NAME_SORT"]),
        Field::new("POP_EST", &["POP_EST"], T::Float, false),
        text("ECONOMY", &["ECONOMY"]),
        text("INCOME_GRP", &["INCOME_GRP"]),
        text("CONTINENT", &["CONTINENT"]),
        text("REGION_UN", &["REGION_UN"]),
        text("SUBREGION", &["SUBREGION"]),
        text("REGION_WB", &["REGION_WB"]),
        text("WIKIDATAID", &["WIKIDATAID"]),
        text("NAME_DE", &["NAME_DE"]),
        text("NAME_EN", &["NAME_EN"]),
        text("NAME_EL", &["NAME_EL"]),
    ],
    geometry: Some(world(GeometryKind::MultiPolygon)),
    conflict_key: None,
    prepare_sql: None,
    partition: None,
    rules: &[],
    history: None,
};

/// `ne_110m_populated_places_simple`: 243 places (Point), three of them with dates, start and
/// end times and a boolean.
pub const PLACES: Dataset = Dataset {
    id: "ogc_conformance.ne_110m_populated_places_simple",
    description: "OGC CQL2 test data: Natural Earth 1:110m populated places (tests only)",
    schema: "ogc_conformance",
    table: "ne_110m_populated_places_simple",
    fields: &[
        text("featurecla", &["featurecla"]),
        text("name", &["name"]),
        text("namepar", &["namepar"]),
        text("namealt", &["namealt"]),
        text("nameascii", &["nameascii"]),
        text("capin", &["capin"]),
        text("sov0name", &["sov0name"]),
        text("sov_a3", &["sov_a3"]),
        text("adm0name", &["adm0name"]),
        text("adm0_a3", &["adm0_a3"]),
        text("adm1name", &["adm1name"]),
        text("note", &["note"]),
        Field::new("pop_max", &["pop_max"], T::Integer, false),
        Field::new("pop_min", &["pop_min"], T::Integer, false),
        Field::new("pop_other", &["pop_other"], T::Integer, false),
        text("meganame", &["meganame"]),
        text("ls_name", &["ls_name"]),
        Field::new("date", &["date"], T::Date, false),
        Field::new("start", &["start"], T::UtcTimestamp, false),
        Field::new("end", &["end"], T::UtcTimestamp, false),
        Field::new("boolean", &["boolean"], T::Boolean, false),
    ],
    geometry: Some(world(GeometryKind::Point)),
    conflict_key: None,
    prepare_sql: None,
    partition: None,
    rules: &[],
    history: None,
};

/// `ne_110m_rivers_lake_centerlines`: 13 rivers (LineString, stored as MultiLineString).
pub const RIVERS: Dataset = Dataset {
    id: "ogc_conformance.ne_110m_rivers_lake_centerlines",
    description: "OGC CQL2 test data: Natural Earth 1:110m rivers and lake centerlines (tests only)",
    schema: "ogc_conformance",
    table: "ne_110m_rivers_lake_centerlines",
    fields: &[
        text("name", &["name"]),
        text("name_en", &["name_en"]),
        text("wikidataid", &["wikidataid"]),
        text("label", &["label"]),
        text("name_de", &["name_de"]),
        text("name_el", &["name_el"]),
    ],
    geometry: Some(world(GeometryKind::MultiLineString)),
    conflict_key: None,
    prepare_sql: None,
    partition: None,
    rules: &[],
    history: None,
};

/// The three importable datasets.
pub const DATASETS: &[Dataset] = &[COUNTRIES, PLACES, RIVERS];

const fn collection(id: &'static str, dataset: &'static Dataset, title: &'static str) -> CollectionDecl {
    CollectionDecl {
        id,
        dataset,
        title_vi: title,
        title_en: title,
        description_vi: "Dữ liệu kiểm thử CQL2 của OGC (ne110m4cql2), chỉ dùng cho kiểm thử.",
        description_en: "OGC CQL2 conformance test data (ne110m4cql2), for tests only.",
        keywords: &["OGC", "CQL2", "conformance"],
        hidden: &[],
        extra: &[],
        datetime: None,
        datetime_end: None,
        tiles: TileDecl::ALL,
        style: None,
        series: None,
        access: geosector_domain::AccessDecl::PUBLIC,
        relations: &[],
    }
}

/// The three collections, with the ids the Abstract Test Suite uses.
pub const COLLECTIONS: &[CollectionDecl] = &[
    collection("ne_110m_admin_0_countries", &COUNTRIES, "ne_110m_admin_0_countries"),
    collection("ne_110m_populated_places_simple", &PLACES, "ne_110m_populated_places_simple"),
    collection("ne_110m_rivers_lake_centerlines", &RIVERS, "ne_110m_rivers_lake_centerlines"),
];

/// Whether the switch is set in this process's environment.
pub fn enabled() -> bool {
    std::env::var(SWITCH).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn declarations_are_consistent() {
        for d in super::DATASETS {
            d.check().unwrap();
        }
        assert_eq!(super::COLLECTIONS.len(), super::DATASETS.len());
    }
}
