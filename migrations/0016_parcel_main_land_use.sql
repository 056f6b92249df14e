-- land.parcels.main_land_use (the first land-use code, land_use_codes[1]) becomes a plain column
-- kept by the row trigger, as geom_3857 did in 0014: `geosector import land.parcels … --replace`
-- writes it itself into the table it swaps in. A stored generated column cost the COPY backend
-- a second copy of every row (PostgreSQL materialises the whole row to add the computed value):
-- about 13 % of its CPU in a profile of a 1M-parcel load. Every other write goes through the
-- trigger, which sets it from land_use_codes on each insert and each update, whatever the
-- statement set, so it cannot drift from the codes.

ALTER TABLE land.parcels ALTER COLUMN main_land_use DROP EXPRESSION;

CREATE FUNCTION land.parcels_derived_columns() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.main_land_use := NEW.land_use_codes[1];
    NEW.geom_3857 := ST_ForcePolygonCW(ST_Transform(NEW.geom, 3857));
    RETURN NEW;
END
$$;

DROP TRIGGER tile_geometry ON land.parcels;
DROP FUNCTION land.parcels_tile_geometry();
CREATE TRIGGER derived_columns BEFORE INSERT OR UPDATE ON land.parcels
    FOR EACH ROW EXECUTE FUNCTION land.parcels_derived_columns();
