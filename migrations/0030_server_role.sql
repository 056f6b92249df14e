-- The least-privilege role of `geosector serve` (docs/deployment.md#a-least-privilege-role-for-serve).
--
-- `geosector_server` is a group role without login: an operator creates the login that the
-- server uses as its member (`CREATE ROLE geosector_web LOGIN PASSWORD '…' IN ROLE
-- geosector_server`; scripts/demo.sh does). It owns nothing, so it can neither DROP nor ALTER
-- anything; it has no CREATE on any schema, so no DDL; it is not a superuser and cannot create
-- roles or databases. What it may do is what serving needs:
--   * read every published table (restricted schemas too: the access policy in the server
--     decides who sees them, the role only keeps the server from changing them);
--   * write rows — never TRUNCATE — in the data schemas: edits (OGC API - Features Part 4,
--     WFS-T, package changes) write the tables, their history, changesets and lineage, and the
--     triggers keep versions, changed extents and derived tables current;
--   * append to the audit log (INSERT only; old rows go only through meta.prune_audit, which
--     runs with its owner's rights, so the role cannot delete or rewrite an entry);
--   * read API keys to verify a presented key (only hashes are stored), but not create, alter
--     or un-revoke one (that is `geosector keys`, run as the migrating role);
--   * nothing on public.schema_migrations.
-- Tables that later migrations or imports create in these schemas get the same rights by the
-- default privileges below (for objects the migrating role creates).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'geosector_server') THEN
        CREATE ROLE geosector_server NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
    END IF;
EXCEPTION WHEN duplicate_object THEN
    -- Another database of the cluster created it meanwhile (roles are cluster-wide).
    NULL;
END
$$;

DO $$
DECLARE
    s text;
    restricted boolean;
BEGIN
    FOR s IN
        SELECT nspname FROM pg_namespace
         WHERE nspname NOT IN ('public', 'information_schema')
           AND nspname NOT LIKE 'pg\_%'
         ORDER BY nspname
    LOOP
        -- Restricted schemas (personal data) and the reference units (loaded by the CLI) are
        -- read-only to the server.
        restricted := s LIKE '%\_restricted' OR s = 'reference';
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO geosector_server', s);
        EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO geosector_server', s);
        EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT ON TABLES TO geosector_server', s);
        IF NOT restricted THEN
            EXECUTE format('GRANT INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO geosector_server', s);
            EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO geosector_server', s);
            EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT INSERT, UPDATE, DELETE ON TABLES TO geosector_server', s);
            EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT ON SEQUENCES TO geosector_server', s);
        END IF;
    END LOOP;
END
$$;

-- PostGIS's reference tables in public: read only.
GRANT SELECT ON public.spatial_ref_sys, public.geometry_columns, public.geography_columns TO geosector_server;

-- API keys: verified, never written, by the server.
REVOKE ALL ON meta.api_keys FROM geosector_server;
GRANT SELECT ON meta.api_keys TO geosector_server;

-- The audit log: appended to; pruned only through meta.prune_audit, with its owner's rights.
REVOKE ALL ON meta.audit FROM geosector_server;
GRANT INSERT ON meta.audit TO geosector_server;
ALTER FUNCTION meta.prune_audit(interval) SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION meta.prune_audit(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION meta.prune_audit(interval) TO geosector_server;
