-- Parcels partitioned by province, so a province's cadastre is replaced by a swap instead of a
-- delete and a row-by-row insert.
--
-- `geosector import land.parcels … --replace` fills a new table with COPY, builds its indexes in
-- bulk (much faster than maintaining a GiST index row by row), then, in the import's one
-- transaction, detaches and drops the province's old partition and attaches the new one. A
-- crash, a kill or a rejected load leaves the old partition in place; readers are blocked only
-- for the detach/attach at the end. An append (no --replace) still inserts into the parent.
--
-- The key is `province_code`: the 2025 province of the parcel's commune (reference.admin_units,
-- current units), filled by the importer; '00' when the commune is not in the reference data
-- (reference not loaded, or a pre-2025 commune code). Partitions are created on demand,
-- `land.parcels_p<code>`.
--
-- PostgreSQL 15 has no identity columns on partitioned tables: ids come from a sequence; the
-- primary key must include the partition key, ids stay unique through the sequence.
-- Swaps fire no row triggers, so the version bump, the changed extent and the overview cells
-- are done by the importer through meta.record_change (below) and land.refresh_parcel_cells.

-- One change of a table, recorded as the triggers of migrations 0006-0008 do: bump the data
-- version (with NOTIFY geosector_data) and record the changed extent (NULL box: nothing to record).
CREATE FUNCTION meta.record_change(in_schema text, in_table text, box box2d) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v bigint;
BEGIN
    INSERT INTO meta.table_versions AS tv (schema_name, table_name)
    VALUES (in_schema, in_table)
    ON CONFLICT (schema_name, table_name)
    DO UPDATE SET version = tv.version + 1, changed_at = now()
    RETURNING tv.version INTO v;
    PERFORM pg_notify('geosector_data', in_schema || '.' || in_table || ' ' || v);
    IF box IS NOT NULL THEN
        INSERT INTO meta.changed_extents (schema_name, table_name, version, extent)
        VALUES (in_schema, in_table, v, ST_SetSRID(ST_Expand(box::geometry, 0.000001), 4326)::geometry(Polygon, 4326));
    END IF;
    RETURN v;
END
$$;

-- The version trigger of every table now goes through the same function (one bump, one NOTIFY).
CREATE OR REPLACE FUNCTION meta.bump_table_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM meta.record_change(TG_TABLE_SCHEMA, TG_TABLE_NAME, NULL);
    RETURN NULL;
END
$$;

ALTER TABLE land.parcels RENAME TO parcels_before_0012;
DROP TRIGGER bump_version ON land.parcels_before_0012;
DROP TRIGGER record_extent_insert ON land.parcels_before_0012;
DROP TRIGGER record_extent_update ON land.parcels_before_0012;
DROP TRIGGER record_extent_delete ON land.parcels_before_0012;
DROP TRIGGER record_extent_truncate ON land.parcels_before_0012;
DROP TRIGGER refresh_cells_insert ON land.parcels_before_0012;
DROP TRIGGER refresh_cells_update ON land.parcels_before_0012;
DROP TRIGGER refresh_cells_delete ON land.parcels_before_0012;
DROP TRIGGER refresh_cells_truncate ON land.parcels_before_0012;
ALTER INDEX land.parcels_pkey RENAME TO parcels_before_0012_pkey;
ALTER TABLE land.parcels_before_0012 ALTER COLUMN id DROP IDENTITY;  -- frees the name parcels_id_seq
ALTER INDEX land.parcels_geom_idx RENAME TO parcels_before_0012_geom_idx;
ALTER INDEX land.parcels_key_idx RENAME TO parcels_before_0012_key_idx;
ALTER INDEX land.parcels_main_land_use_idx RENAME TO parcels_before_0012_main_land_use_idx;

CREATE SEQUENCE land.parcels_id_seq AS bigint;
CREATE TABLE land.parcels (
    id                   bigint NOT NULL DEFAULT nextval('land.parcels_id_seq'),
    commune_code         text NOT NULL CHECK (commune_code ~ '^\d{5}$'),
    former_commune_code  text CHECK (former_commune_code ~ '^\d{5}$'),
    sheet_number         integer NOT NULL CHECK (sheet_number > 0),
    parcel_number        text NOT NULL CHECK (parcel_number <> ''),
    former_sheet_number  integer,
    former_parcel_number text,
    land_use_codes       text[] NOT NULL CHECK (cardinality(land_use_codes) >= 1),
    land_use_areas_m2    double precision[]
        CHECK (land_use_areas_m2 IS NULL OR cardinality(land_use_areas_m2) = cardinality(land_use_codes)),
    main_land_use        text GENERATED ALWAYS AS (land_use_codes[1]) STORED,
    declared_area_m2     double precision CHECK (declared_area_m2 >= 0),
    legal_area_m2        double precision CHECK (legal_area_m2 >= 0),
    address              text,
    map_scale            integer CHECK (map_scale > 0),
    survey_date          date,
    geom                 geometry(MultiPolygon, 4326) NOT NULL,
    source_srid          integer NOT NULL,
    computed_area_m2     double precision,
    imported_at          timestamptz NOT NULL DEFAULT now(),
    geom_3857            geometry GENERATED ALWAYS AS (ST_ForcePolygonCW(ST_Transform(geom, 3857))) STORED,
    province_code        text NOT NULL DEFAULT '00' CHECK (province_code ~ '^\d{2}$'),
    PRIMARY KEY (id, province_code)
) PARTITION BY LIST (province_code);
ALTER SEQUENCE land.parcels_id_seq OWNED BY land.parcels.id;
COMMENT ON COLUMN land.parcels.province_code IS
    'Partition key: the 2025 province of commune_code, ''00'' when unknown (migration 0012).';
CREATE INDEX parcels_geom_idx ON land.parcels USING gist (geom);
-- not unique: real data hold duplicate (sheet, parcel) keys, flagged at import, never dropped
CREATE INDEX parcels_key_idx ON land.parcels (commune_code, sheet_number, parcel_number);
CREATE INDEX parcels_main_land_use_idx ON land.parcels (main_land_use);
CREATE TABLE land.parcels_p00 PARTITION OF land.parcels FOR VALUES IN ('00');

INSERT INTO land.parcels (id, commune_code, former_commune_code, sheet_number, parcel_number,
                          former_sheet_number, former_parcel_number, land_use_codes, land_use_areas_m2,
                          declared_area_m2, legal_area_m2, address, map_scale, survey_date, geom,
                          source_srid, computed_area_m2, imported_at)
SELECT id, commune_code, former_commune_code, sheet_number, parcel_number,
       former_sheet_number, former_parcel_number, land_use_codes, land_use_areas_m2,
       declared_area_m2, legal_area_m2, address, map_scale, survey_date, geom,
       source_srid, computed_area_m2, imported_at
FROM land.parcels_before_0012;
SELECT setval('land.parcels_id_seq', coalesce((SELECT max(id) FROM land.parcels), 0) + 1, false);
DROP TABLE land.parcels_before_0012;

CREATE TRIGGER bump_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON land.parcels
    FOR EACH STATEMENT EXECUTE FUNCTION meta.bump_table_version();
CREATE TRIGGER record_extent_insert AFTER INSERT ON land.parcels REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION meta.record_changed_extent();
CREATE TRIGGER record_extent_update AFTER UPDATE ON land.parcels REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION meta.record_changed_extent();
CREATE TRIGGER record_extent_delete AFTER DELETE ON land.parcels REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION meta.record_changed_extent();
CREATE TRIGGER record_extent_truncate AFTER TRUNCATE ON land.parcels
    FOR EACH STATEMENT EXECUTE FUNCTION meta.record_changed_extent();
CREATE TRIGGER refresh_cells_insert AFTER INSERT ON land.parcels REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION land.parcel_cells_after_change();
CREATE TRIGGER refresh_cells_update AFTER UPDATE ON land.parcels REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION land.parcel_cells_after_change();
CREATE TRIGGER refresh_cells_delete AFTER DELETE ON land.parcels REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION land.parcel_cells_after_change();
CREATE TRIGGER refresh_cells_truncate AFTER TRUNCATE ON land.parcels
    FOR EACH STATEMENT EXECUTE FUNCTION land.parcel_cells_after_change();
