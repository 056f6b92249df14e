-- land.parcels.geom_3857 (migration 0008) becomes a plain column kept by a trigger, so that a
-- partition swap can bring it computed: `geosector import land.parcels … --replace` writes it
-- itself into the table it swaps in (crates/ingest/src/geometry.rs, `to_tile_ewkb`: the same
-- spherical Mercator and orientation), instead of PostgreSQL reprojecting a province row by row
-- inside the COPY. Every other write goes through the trigger, which computes it from `geom` on
-- each insert and on each update, whatever the statement set: an edit or a manual UPDATE still
-- cannot leave it behind. The load table of a swap is created without triggers (LIKE), and
-- partitions get the parent's trigger when they are attached.

ALTER TABLE land.parcels ALTER COLUMN geom_3857 DROP EXPRESSION;

CREATE FUNCTION land.parcels_tile_geometry() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.geom_3857 := ST_ForcePolygonCW(ST_Transform(NEW.geom, 3857));
    RETURN NEW;
END
$$;

CREATE TRIGGER tile_geometry BEFORE INSERT OR UPDATE ON land.parcels
    FOR EACH ROW EXECUTE FUNCTION land.parcels_tile_geometry();
