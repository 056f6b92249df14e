-- One publishing function: what a published table needs, installed by one call from the
-- migration that creates the table, instead of being restated per table as in 0006-0016.
--
--   SELECT meta.publish('myschema.mytable');            -- geometry (if any) in `geom`
--   SELECT meta.publish('myschema.other', 'shape');     -- geometry in `shape`
--
-- installs, skipping whatever already exists (so calling it twice, or on a table published by an
-- older migration, changes nothing):
-- 1. its row in meta.table_versions and the statement-level trigger `bump_version` that bumps it
--    (with NOTIFY geosector_data) on every INSERT, UPDATE, DELETE or TRUNCATE (0006, 0008, 0012);
-- 2. when it has the geometry column: the triggers `record_extent_insert|update|delete|truncate`
--    that record the extent of every change in meta.changed_extents (0007; for a column other
--    than `geom` through meta.record_changed_extent_of, which takes the column as argument), and
--    the Web Mercator twin `<column>_3857` the tile statement reads, a stored generated column
--    with clockwise rings (0008). A table whose twin already exists keeps it as it is
--    (land.parcels keeps the plain column its row trigger and the importer write, 0014/0016; the
--    conformance tables keep theirs clipped to Mercator's latitudes, 0009).
--
-- `geosector serve` refuses to start when a declared collection's table lacks the version
-- trigger or row, or its geometry lacks the twin, naming the table and this function; the suite
-- checks every declared collection against it.

-- meta.record_changed_extent (0007) for a geometry column named by the trigger's argument.
CREATE FUNCTION meta.record_changed_extent_of() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    col constant name := TG_ARGV[0];
    box box2d;
    current bigint;
BEGIN
    SELECT version INTO current FROM meta.table_versions
    WHERE schema_name = TG_TABLE_SCHEMA AND table_name = TG_TABLE_NAME;
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO meta.changed_extents (schema_name, table_name, version, extent)
        VALUES (TG_TABLE_SCHEMA, TG_TABLE_NAME, coalesce(current, 0), NULL);
        RETURN NULL;
    ELSIF TG_OP = 'INSERT' THEN
        EXECUTE format('SELECT ST_Extent(%I) FROM new_rows', col) INTO box;
    ELSIF TG_OP = 'DELETE' THEN
        EXECUTE format('SELECT ST_Extent(%I) FROM old_rows', col) INTO box;
    ELSE
        EXECUTE format('SELECT ST_Extent(g) FROM (SELECT %1$I AS g FROM old_rows UNION ALL SELECT %1$I FROM new_rows) AS touched', col)
            INTO box;
    END IF;
    IF box IS NOT NULL THEN
        INSERT INTO meta.changed_extents (schema_name, table_name, version, extent)
        VALUES (TG_TABLE_SCHEMA, TG_TABLE_NAME, coalesce(current, 0),
                ST_SetSRID(ST_Expand(box::geometry, 0.000001), 4326)::geometry(Polygon, 4326));
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION meta.publish(tbl regclass, geom_column name DEFAULT 'geom') RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    s name;
    t name;
    op text;
    twin constant name := geom_column || '_3857';
    recorder constant text := CASE WHEN geom_column = 'geom' THEN 'meta.record_changed_extent()'
                                   ELSE format('meta.record_changed_extent_of(%L)', geom_column) END;
BEGIN
    SELECT n.nspname, c.relname INTO s, t
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.oid = tbl;

    INSERT INTO meta.table_versions (schema_name, table_name) VALUES (s, t) ON CONFLICT DO NOTHING;
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = tbl AND tgname = 'bump_version') THEN
        EXECUTE format('CREATE TRIGGER bump_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s
                        FOR EACH STATEMENT EXECUTE FUNCTION meta.bump_table_version()', tbl);
    END IF;

    IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = tbl AND attname = geom_column AND NOT attisdropped) THEN
        -- A table without geometry has nothing more to publish; a geometry column named in the
        -- call but missing is a mistake, not a table without geometry.
        IF geom_column <> 'geom' THEN
            RAISE EXCEPTION 'meta.publish: table % has no column %', tbl, geom_column;
        END IF;
        RETURN;
    END IF;
    -- Named after bump_version so they fire after it (same event, alphabetical order).
    FOREACH op IN ARRAY ARRAY['insert', 'update', 'delete', 'truncate'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = tbl AND tgname = 'record_extent_' || op) THEN
            EXECUTE format('CREATE TRIGGER %I AFTER %s ON %s %s FOR EACH STATEMENT EXECUTE FUNCTION %s',
                'record_extent_' || op, upper(op), tbl,
                CASE op
                    WHEN 'insert' THEN 'REFERENCING NEW TABLE AS new_rows'
                    WHEN 'update' THEN 'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows'
                    WHEN 'delete' THEN 'REFERENCING OLD TABLE AS old_rows'
                    ELSE ''
                END, recorder);
        END IF;
    END LOOP;
    IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = tbl AND attname = twin AND NOT attisdropped) THEN
        EXECUTE format('ALTER TABLE %s ADD COLUMN %I geometry
                        GENERATED ALWAYS AS (ST_ForcePolygonCW(ST_Transform(%I, 3857))) STORED', tbl, twin, geom_column);
    END IF;
END
$$;
COMMENT ON FUNCTION meta.publish(regclass, name) IS
    'Installs what a published table needs (data version, change extents, <geometry>_3857); idempotent. Migration 0017.';

-- Every table published so far (all already complete: this checks them and changes nothing).
SELECT meta.publish(t::regclass) FROM unnest(ARRAY[
    'land.parcels', 'land.map_sheets',
    'minerals.licences', 'minerals.licence_areas', 'minerals.prohibited_zones',
    'water.permits', 'water.works', 'water.stations', 'water.river_basins',
    'environment.stations', 'environment.observations', 'environment.pollution_sources',
    'environment.aqi_hourly', 'environment.aqi_daily', 'environment.wqi',
    'ogc_conformance.ne_110m_admin_0_countries',
    'ogc_conformance.ne_110m_populated_places_simple',
    'ogc_conformance.ne_110m_rivers_lake_centerlines'
]) AS t;
