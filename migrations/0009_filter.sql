-- CQL2 filtering (OGC API - Features Part 3) and the OGC conformance datasets.
--
-- 1. ACCENTI: the unaccent extension (PostgreSQL contrib, a trusted extension) behind an
--    IMMUTABLE wrapper, so CQL2 ACCENTI(...) is one function call the planner can fold for
--    literals and an index could use. The text is first put in NFC, so Vietnamese written with
--    combining marks (NFD, as some keyboards and macOS produce) loses its accents too;
--    unaccent's rules map đ/Đ to d/D.
-- 2. ogc_conformance: the three layers of the official CQL2 conformance dataset (ne110m4cql2:
--    countries, populated places, rivers), empty. They are declared (and so importable and
--    published) only when the server or CLI runs with GEOSECTOR_CONFORMANCE_DATASETS=1; the
--    test suite loads them with `geosector import` and checks the CQL2 Abstract Test Suite's
--    expected counts. Empty and undeclared, they cost nothing.

CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public;

CREATE FUNCTION meta.accenti(text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, normalize($1, NFC)) $$;
COMMENT ON FUNCTION meta.accenti(text) IS
    'CQL2 ACCENTI: the text without accents (NFC, then unaccent; đ/Đ become d/D).';

CREATE SCHEMA ogc_conformance;
COMMENT ON SCHEMA ogc_conformance IS
    'The OGC CQL2 conformance test data (ne110m4cql2), empty unless loaded for tests; published only with GEOSECTOR_CONFORMANCE_DATASETS=1.';

CREATE TABLE ogc_conformance.ne_110m_admin_0_countries (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "TYPE"       text,
    "ADM0_A3"    text,
    "NAME"       text,
    "NAME_LONG"  text,
    "ABBREV"     text,
    "POSTAL"     text,
    "FORMAL_EN"  text,
    "NAME_SORT"  text,
    "POP_EST"    double precision,
    "ECONOMY"    text,
    "INCOME_GRP" text,
    "CONTINENT"  text,
    "REGION_UN"  text,
    "SUBREGION"  text,
    "REGION_WB"  text,
    "WIKIDATAID" text,
    "NAME_DE"    text,
    "NAME_EN"    text,
    "NAME_EL"    text,
    geom        geometry(MultiPolygon, 4326)
);

CREATE TABLE ogc_conformance.ne_110m_populated_places_simple (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    featurecla  text,
    name        text,
    namepar     text,
    namealt     text,
    nameascii   text,
    capin       text,
    sov0name    text,
    sov_a3      text,
    adm0name    text,
    adm0_a3     text,
    adm1name    text,
    note        text,
    pop_max     integer,
    pop_min     integer,
    pop_other   integer,
    meganame    text,
    ls_name     text,
    "date"      date,
    "start"     timestamptz,
    "end"       timestamptz,
    "boolean"   boolean,
    geom        geometry(Point, 4326)
);

CREATE TABLE ogc_conformance.ne_110m_rivers_lake_centerlines (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text,
    name_en     text,
    wikidataid  text,
    label       text,
    name_de     text,
    name_el     text,
    geom        geometry(MultiLineString, 4326)
);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY[
        'ogc_conformance.ne_110m_admin_0_countries',
        'ogc_conformance.ne_110m_populated_places_simple',
        'ogc_conformance.ne_110m_rivers_lake_centerlines'
    ] LOOP
        EXECUTE format('CREATE INDEX ON %s USING gist (geom)', t);
        -- The Web Mercator twin the tile SQL reads (migration 0008), clipped to Web Mercator's
        -- latitude range first: these layers reach the poles, where Mercator is infinite.
        EXECUTE format('ALTER TABLE %s ADD COLUMN geom_3857 geometry
                        GENERATED ALWAYS AS (ST_ForcePolygonCW(ST_Transform(
                            ST_ClipByBox2D(geom, ST_MakeEnvelope(-180, -85.06, 180, 85.06, 4326)), 3857))) STORED', t);
        EXECUTE format(
            'CREATE TRIGGER bump_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s
             FOR EACH STATEMENT EXECUTE FUNCTION meta.bump_table_version()', t);
        EXECUTE format(
            'INSERT INTO meta.table_versions (schema_name, table_name) VALUES (%L, %L)',
            split_part(t, '.', 1), split_part(t, '.', 2));
        EXECUTE format('CREATE TRIGGER record_extent_insert AFTER INSERT ON %s REFERENCING NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION meta.record_changed_extent()', t);
        EXECUTE format('CREATE TRIGGER record_extent_update AFTER UPDATE ON %s REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION meta.record_changed_extent()', t);
        EXECUTE format('CREATE TRIGGER record_extent_delete AFTER DELETE ON %s REFERENCING OLD TABLE AS old_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION meta.record_changed_extent()', t);
        EXECUTE format('CREATE TRIGGER record_extent_truncate AFTER TRUNCATE ON %s
                        FOR EACH STATEMENT EXECUTE FUNCTION meta.record_changed_extent()', t);
    END LOOP;
END
$$;
