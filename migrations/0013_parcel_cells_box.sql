-- The parcels' tile overview (land.parcel_cells, migration 0008): the zoom-13 step reads each
-- parcel's box once (box2d) instead of four times (ST_XMin … ST_YMax each deserialise the whole
-- geometry), which takes about a third off a refresh of a large box. Same cells as before.
--
-- A replacing import no longer calls this function: it counts the rows it loads and recomputes
-- the cells of the swapped area itself (crates/ingest/src/overview.rs, the same rule). The
-- triggers of ordinary writes still do.

-- Recomputes the cells of every zoom that meet a lon/lat box (NULL: all of them).
CREATE OR REPLACE FUNCTION land.refresh_parcel_cells(changed box2d) RETURNS void
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
                    SELECT floor(((ST_XMin(pb) + ST_XMax(pb)) / 2 + half) / world * n)::integer AS cx,
                           floor((half - (ST_YMin(pb) + ST_YMax(pb)) / 2) / world * n)::integer AS cy,
                           lu, a
                    FROM (
                        SELECT box2d(p.geom_3857) AS pb, p.main_land_use AS lu,
                               coalesce(p.computed_area_m2, p.legal_area_m2, p.declared_area_m2, 0) AS a
                        FROM land.parcels p
                        -- the GiST index on geom (lon/lat): the cells' box, by the inverse Mercator
                        WHERE p.geom && ST_MakeEnvelope(
                            degrees((cx0 / n * world - half) / r),
                            degrees(atan(sinh((half - (cy1 + 1) / n * world) / r))),
                            degrees(((cx1 + 1) / n * world - half) / r),
                            degrees(atan(sinh((half - cy0 / n * world) / r))), 4326)
                        OFFSET 0  -- one box2d per parcel, not one per use below
                    ) AS boxes
                ) AS centres
                WHERE cx BETWEEN cx0 AND cx1 AND cy BETWEEN cy0 AND cy1
                GROUP BY cx, cy, lu
            ) AS cell_uses
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
            ) AS cell_uses
            WINDOW w AS (PARTITION BY cx, cy)
            ORDER BY cx, cy, a DESC, lu;
        END IF;
    END LOOP;
END
$$;
