-- Where data changed: for every change of a table with geometry, the data version it produced
-- and the extent (EPSG:4326) of the rows it touched, old and new. A tile cache drops exactly the
-- tiles meeting these extents. NULL extent = everything (TRUNCATE). Kept in the same transaction
-- as the change; statement-level triggers with transition tables (one event per trigger).

CREATE TABLE meta.changed_extents (
    schema_name text NOT NULL,
    table_name  text NOT NULL,
    version     bigint NOT NULL,
    extent      geometry(Polygon, 4326),
    changed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX changed_extents_version_idx ON meta.changed_extents (schema_name, table_name, version);

CREATE FUNCTION meta.record_changed_extent() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
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
        SELECT ST_Extent(geom) INTO box FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT ST_Extent(geom) INTO box FROM old_rows;
    ELSE
        SELECT ST_Extent(g) INTO box FROM (SELECT geom AS g FROM old_rows UNION ALL SELECT geom FROM new_rows) AS touched;
    END IF;
    IF box IS NOT NULL THEN
        INSERT INTO meta.changed_extents (schema_name, table_name, version, extent)
        VALUES (TG_TABLE_SCHEMA, TG_TABLE_NAME, coalesce(current, 0),
                ST_SetSRID(ST_Expand(box::geometry, 0.000001), 4326)::geometry(Polygon, 4326));
    END IF;
    RETURN NULL;
END
$$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY[
        'land.parcels', 'land.map_sheets',
        'minerals.licence_areas', 'minerals.prohibited_zones',
        'water.works', 'water.stations', 'water.river_basins',
        'environment.stations', 'environment.pollution_sources'
    ] LOOP
        -- Named after bump_version so they fire after it (same event, alphabetical order).
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
