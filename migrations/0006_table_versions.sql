-- Data versions: a counter per published table, bumped in the same transaction as any change
-- (statement-level triggers), so a server can tell exactly when data changed: ETags of items and
-- features (and, later, tile-cache invalidation) derive from it. An import, an edit or a
-- TRUNCATE all bump it; a rolled-back change does not.

CREATE SCHEMA meta;
COMMENT ON SCHEMA meta IS 'geosector bookkeeping: data versions.';

CREATE TABLE meta.table_versions (
    schema_name text NOT NULL,
    table_name  text NOT NULL,
    version     bigint NOT NULL DEFAULT 1,
    changed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (schema_name, table_name)
);

CREATE FUNCTION meta.bump_table_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO meta.table_versions AS v (schema_name, table_name)
    VALUES (TG_TABLE_SCHEMA, TG_TABLE_NAME)
    ON CONFLICT (schema_name, table_name)
    DO UPDATE SET version = v.version + 1, changed_at = now();
    RETURN NULL;
END
$$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY[
        'land.parcels', 'land.map_sheets',
        'minerals.licences', 'minerals.licence_areas', 'minerals.prohibited_zones',
        'water.permits', 'water.works', 'water.stations', 'water.river_basins',
        'environment.stations', 'environment.observations', 'environment.pollution_sources'
    ] LOOP
        EXECUTE format(
            'CREATE TRIGGER bump_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s
             FOR EACH STATEMENT EXECUTE FUNCTION meta.bump_table_version()', t);
        EXECUTE format(
            'INSERT INTO meta.table_versions (schema_name, table_name) VALUES (%L, %L)',
            split_part(t, '.', 1), split_part(t, '.', 2));
    END LOOP;
END
$$;
