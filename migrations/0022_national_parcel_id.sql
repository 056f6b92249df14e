-- The national parcel ID (mã định danh thửa đất, TT 19/2026; brief §9 and rule 6;
-- docs/data-model.md, "National parcel ID"): 12 GeoHash characters of a point inside the parcel
-- in WGS 84, after the VN-2000 datum shift (land.parcels.geom is EPSG:4326 already shifted by
-- the importer's one VN-2000 rule).
--
-- * The importer computes it in its row pipeline (crates/ingest, geohash.rs) for every parcel
--   that arrives without one, and keeps one a file gives (checked by rule 6). A replacing
--   reload keeps the stored ID of every parcel it matches; the ID is not part of what makes a
--   new version on a reload.
-- * The trigger below gives one to a parcel written without one (API edits, an operator's SQL):
--   the same point rule in SQL, ST_PointOnSurface. An update never recomputes it: a row written
--   without an ID keeps the one it had.
-- * Parcels stored before this migration have none until they are reloaded or edited.
--
-- The point rule is not published: TT 19/2026 names a "characteristic point" (điểm đặc trưng)
-- without defining it (brief: unconfirmed). It lives in crates/ingest/src/geohash.rs (point_of)
-- and in land.assign_national_id() here.

ALTER TABLE land.parcels
    ADD COLUMN national_id text CONSTRAINT parcels_national_id_geohash CHECK (national_id ~ '^[0-9b-hjkmnp-z]{12}$');
COMMENT ON COLUMN land.parcels.national_id IS
    'National parcel ID (TT 19/2026): GeoHash (12) of a point inside the parcel in WGS 84; computed once. Migration 0022.';
CREATE INDEX parcels_national_id_idx ON land.parcels (national_id);

CREATE FUNCTION land.assign_national_id() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.national_id IS NULL THEN
        IF TG_OP = 'UPDATE' THEN
            NEW.national_id := OLD.national_id;
        END IF;
        IF NEW.national_id IS NULL THEN
            NEW.national_id := ST_GeoHash(ST_PointOnSurface(NEW.geom), 12);
        END IF;
    END IF;
    RETURN NEW;
END
$$;
-- Named to fire before keep_version (alphabetical), which then versions the row with its ID.
CREATE TRIGGER assign_national_id BEFORE INSERT OR UPDATE ON land.parcels
    FOR EACH ROW EXECUTE FUNCTION land.assign_national_id();

-- The history gets the column, and the versioning trigger copies it (same derived columns as 0021).
SELECT meta.version('land.parcels', ARRAY['main_land_use', 'province_code', 'computed_area_m2']);

-- Import changesets reserved ahead (issue 19; crates/ingest, load/history.rs). A replacing
-- import of a partitioned dataset writes the version columns of the table it swaps in itself,
-- before it may commit that table to build its indexes on parallel connections: it needs its
-- changeset's id and time from the start, while the changeset itself must be recorded only in
-- the transaction that swaps the rows in (a failed import leaves no changeset). So an import
-- reserves them (meta.reserve_changeset) and records the changeset with them later
-- (meta.begin_reserved_changeset, otherwise the same as meta.begin_changeset).
CREATE FUNCTION meta.reserve_changeset(OUT id bigint, OUT at timestamptz)
LANGUAGE sql VOLATILE AS $$
    SELECT nextval(pg_get_serial_sequence('meta.changesets', 'id')), clock_timestamp()
$$;

CREATE FUNCTION meta.begin_reserved_changeset(
    reserved_id bigint, reserved_at timestamptz,
    actor text, client text, source text, change_type text, reference text, reference_date date, note text
) RETURNS meta.changesets
LANGUAGE plpgsql AS $$
DECLARE
    made meta.changesets;
BEGIN
    INSERT INTO meta.changesets (id, at, actor, client, source, change_type, reference, reference_date, note)
    OVERRIDING SYSTEM VALUE
    VALUES (reserved_id, reserved_at, actor, client, source, change_type, reference, reference_date, note)
    RETURNING * INTO made;
    PERFORM set_config('geosector.changeset', made.id::text, true);
    RETURN made;
END
$$;
