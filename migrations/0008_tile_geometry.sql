-- Vector tiles: what makes a tile cheap to render, and what tells a server at once that data changed.
--
-- 1. geom_3857: every published geometry, kept by PostgreSQL in Web Mercator (the tiles' CRS)
--    with polygon rings oriented clockwise, so a tile never reprojects a feature and a feature
--    wholly inside a tile only needs scaling into tile coordinates (crates/store/src/plan.rs).
--    A generated column: an import, an edit or a manual UPDATE can never leave it behind.
-- 2. land.parcel_cells: the parcels' overview for the zooms below 14, where one tile would hold
--    tens of thousands of sub-pixel parcels. Square cells, 64 per tile side (4 pixels of a
--    256-pixel tile), at every zoom 0..13; each cell carries the land use covering the largest
--    area of the parcels whose bounding-box centre falls in it, their number and total area.
--    Zoom 13 is built from the parcels, each coarser zoom from the one above (so the land use of
--    a coarse cell is the one dominating the most area among its four sub-cells' dominant uses).
--    Triggers refresh exactly the cells around the rows a statement touched, in the same
--    transaction, so the overview is never out of step with the parcels.
-- 3. The version trigger also sends NOTIFY geosector_data, '<schema>.<table> <version>', so a
--    server learns of a change at commit instead of asking on every request.

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
        EXECUTE format('ALTER TABLE %s ADD COLUMN geom_3857 geometry
                        GENERATED ALWAYS AS (ST_ForcePolygonCW(ST_Transform(geom, 3857))) STORED', t);
    END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION meta.bump_table_version() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v bigint;
BEGIN
    INSERT INTO meta.table_versions AS tv (schema_name, table_name)
    VALUES (TG_TABLE_SCHEMA, TG_TABLE_NAME)
    ON CONFLICT (schema_name, table_name)
    DO UPDATE SET version = tv.version + 1, changed_at = now()
    RETURNING version INTO v;
    PERFORM pg_notify('geosector_data', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME || ' ' || v);
    RETURN NULL;
END
$$;

CREATE TABLE land.parcel_cells (
    zoom          smallint NOT NULL CHECK (zoom BETWEEN 0 AND 13),
    cell_x        integer NOT NULL,
    cell_y        integer NOT NULL,
    main_land_use text NOT NULL,
    parcels       integer NOT NULL,
    area_m2       double precision NOT NULL,
    PRIMARY KEY (zoom, cell_x, cell_y)
);
COMMENT ON TABLE land.parcel_cells IS
    'Overview of land.parcels for vector tiles below zoom 14 (migration 0008); derived, never edited.';

-- Recomputes the cells of every zoom that meet a lon/lat box (NULL: all of them).
CREATE FUNCTION land.refresh_parcel_cells(changed box2d) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    world constant double precision := 40075016.685578488;
    half  constant double precision := 20037508.342789244;
    r     constant double precision := 6378137.0;
    b     geometry;
    n     double precision;
    cx0 integer; cx1 integer; cy0 integer; cy1 integer;
BEGIN
    IF changed IS NULL THEN
        TRUNCATE land.parcel_cells;
        b := ST_MakeEnvelope(-half, -half, half, half, 3857);
    ELSE
        -- Clamped to the Web Mercator square; Vietnam is far from its edges.
        b := ST_Transform(ST_SetSRID(ST_MakeEnvelope(
                 greatest(ST_XMin(changed), -180), greatest(ST_YMin(changed), -85.05),
                 least(ST_XMax(changed), 180), least(ST_YMax(changed), 85.05)), 4326), 3857);
    END IF;
    FOR z IN REVERSE 13..0 LOOP
        n := 64 * 2 ^ z;
        cx0 := floor((ST_XMin(b) + half) / world * n);
        cx1 := least(floor((ST_XMax(b) + half) / world * n), n - 1);
        cy0 := floor((half - ST_YMax(b)) / world * n);
        cy1 := least(floor((half - ST_YMin(b)) / world * n), n - 1);
        IF changed IS NOT NULL THEN
            DELETE FROM land.parcel_cells
            WHERE zoom = z AND cell_x BETWEEN cx0 AND cx1 AND cell_y BETWEEN cy0 AND cy1;
        END IF;
        IF z = 13 THEN
            INSERT INTO land.parcel_cells (zoom, cell_x, cell_y, main_land_use, parcels, area_m2)
            SELECT DISTINCT ON (cx, cy) z, cx, cy, lu, sum(k) OVER w, sum(a) OVER w
            FROM (
                SELECT cx, cy, lu, count(*) AS k, sum(a) AS a
                FROM (
                    SELECT floor(((ST_XMin(p.geom_3857) + ST_XMax(p.geom_3857)) / 2 + half) / world * n)::integer AS cx,
                           floor((half - (ST_YMin(p.geom_3857) + ST_YMax(p.geom_3857)) / 2) / world * n)::integer AS cy,
                           p.main_land_use AS lu,
                           coalesce(p.computed_area_m2, p.legal_area_m2, p.declared_area_m2, 0) AS a
                    FROM land.parcels p
                    -- the GiST index on geom (lon/lat): the cells' box, by the inverse Mercator
                    WHERE p.geom && ST_MakeEnvelope(
                        degrees((cx0 / n * world - half) / r),
                        degrees(atan(sinh((half - (cy1 + 1) / n * world) / r))),
                        degrees(((cx1 + 1) / n * world - half) / r),
                        degrees(atan(sinh((half - cy0 / n * world) / r))), 4326)
                ) AS centres
                WHERE cx BETWEEN cx0 AND cx1 AND cy BETWEEN cy0 AND cy1
                GROUP BY cx, cy, lu
            ) AS uses
            WINDOW w AS (PARTITION BY cx, cy)
            ORDER BY cx, cy, a DESC, lu;
        ELSE
            INSERT INTO land.parcel_cells (zoom, cell_x, cell_y, main_land_use, parcels, area_m2)
            SELECT DISTINCT ON (cx, cy) z, cx, cy, lu, sum(k) OVER w, sum(a) OVER w
            FROM (
                SELECT cell_x / 2 AS cx, cell_y / 2 AS cy, main_land_use AS lu, sum(parcels) AS k, sum(area_m2) AS a
                FROM land.parcel_cells
                WHERE zoom = z + 1 AND cell_x BETWEEN 2 * cx0 AND 2 * cx1 + 1 AND cell_y BETWEEN 2 * cy0 AND 2 * cy1 + 1
                GROUP BY 1, 2, 3
            ) AS uses
            WINDOW w AS (PARTITION BY cx, cy)
            ORDER BY cx, cy, a DESC, lu;
        END IF;
    END LOOP;
END
$$;

CREATE FUNCTION land.parcel_cells_after_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    box box2d;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        TRUNCATE land.parcel_cells;
        RETURN NULL;
    ELSIF TG_OP = 'INSERT' THEN
        SELECT ST_Extent(geom) INTO box FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT ST_Extent(geom) INTO box FROM old_rows;
    ELSE
        SELECT ST_Extent(g) INTO box FROM (SELECT geom AS g FROM old_rows UNION ALL SELECT geom FROM new_rows) AS touched;
    END IF;
    IF box IS NOT NULL THEN
        PERFORM land.refresh_parcel_cells(box);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER refresh_cells_insert AFTER INSERT ON land.parcels REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION land.parcel_cells_after_change();
CREATE TRIGGER refresh_cells_update AFTER UPDATE ON land.parcels REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION land.parcel_cells_after_change();
CREATE TRIGGER refresh_cells_delete AFTER DELETE ON land.parcels REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION land.parcel_cells_after_change();
CREATE TRIGGER refresh_cells_truncate AFTER TRUNCATE ON land.parcels
    FOR EACH STATEMENT EXECUTE FUNCTION land.parcel_cells_after_change();

-- Parcels already stored.
SELECT land.refresh_parcel_cells(NULL);
