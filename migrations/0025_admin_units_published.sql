-- The administrative units published as a collection (issue 20): `reference.admin_units` gets
-- the id every collection serves its features by, what meta.publish installs on a published
-- table (data version, changed extents, the Web Mercator twin `geom_3857`), and a simplified
-- twin for the low zooms.
--
-- Units are still identified by (level, code, valid_from); the id is a surrogate that a reload
-- of the reference (`geosector reference`, which deletes and inserts its sources' rows) renews.

ALTER TABLE reference.admin_units ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY;
ALTER TABLE reference.admin_units ADD CONSTRAINT admin_units_id_key UNIQUE (id);

SELECT meta.publish('reference.admin_units');

-- Tiles below zoom 9 draw this copy instead of the full boundaries (crates/reference,
-- `TileDecl::low_zoom`): simplified to 150 m in Web Mercator, half a pixel at zoom 9, each unit
-- on its own (neighbours' shared edges may part by up to that much, invisible at those zooms),
-- clockwise shells like geom_3857. The full national set (3,321 communes, 34 provinces:
-- 880,000 vertices) keeps about a quarter of its vertices (228,653 of 883,084).
ALTER TABLE reference.admin_units ADD COLUMN geom_overview_3857 geometry
    GENERATED ALWAYS AS (ST_ForcePolygonCW(ST_SimplifyPreserveTopology(ST_Transform(geom, 3857), 150))) STORED;

-- The units in force at a date (datetime on the collection, the map's base layer).
CREATE INDEX admin_units_validity_idx ON reference.admin_units (valid_from, valid_to);
