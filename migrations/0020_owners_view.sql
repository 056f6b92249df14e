-- Owners of parcels as one relation (issue 18): who holds which right on which parcel, under
-- which certificate, published as the restricted collection `land.owners` and as the `owners` of
-- a parcel (`/collections/land.parcels/items/{id}/owners`).
--
-- A view has no rows of its own to version: meta.publish_view gives it a row in
-- meta.table_versions and a statement-level trigger `bump_version_<view>` on each table it reads,
-- so any change to them bumps the view's version (ETags, caches) like a table's own trigger.

CREATE FUNCTION meta.bump_view_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM meta.record_change(TG_ARGV[0], TG_ARGV[1], NULL);
    RETURN NULL;
END
$$;

CREATE FUNCTION meta.publish_view(v regclass, tables regclass[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    s name;
    n name;
    tbl regclass;
    trigger_name name;
BEGIN
    SELECT ns.nspname, c.relname INTO s, n FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace WHERE c.oid = v;
    INSERT INTO meta.table_versions (schema_name, table_name) VALUES (s, n) ON CONFLICT DO NOTHING;
    trigger_name := 'bump_version_' || n;
    FOREACH tbl IN ARRAY tables LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = tbl AND tgname = trigger_name) THEN
            EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s '
                           'FOR EACH STATEMENT EXECUTE FUNCTION meta.bump_view_version(%L, %L)',
                           trigger_name, tbl, s, n);
        END IF;
    END LOOP;
END
$$;

CREATE VIEW land_restricted.owners AS
SELECT r.id,
       r.commune_code, r.sheet_number, r.parcel_number,
       r.share,
       p.party_code, p.party_type, p.full_name, p.id_type, p.id_number, p.birth_date, p.address,
       c.certificate_code, c.certificate_serial, c.register_number, c.issued_on
FROM land_restricted.parcel_rights r
JOIN land_restricted.parties p ON p.id = r.party_id
LEFT JOIN land_restricted.certificates c ON c.id = r.certificate_id;
COMMENT ON VIEW land_restricted.owners IS
    'Who holds which right on which parcel (restricted collection land.owners, migration 0020).';

SELECT meta.publish_view('land_restricted.owners',
    ARRAY['land_restricted.parcel_rights', 'land_restricted.parties', 'land_restricted.certificates']::regclass[]);
