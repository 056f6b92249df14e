-- Access control (issue 18): masking functions, area scopes, API keys and the audit log.
--
-- Masks run in the database so that every output (JSON, HTML, CSV) carries the same masked
-- value; the store writes `meta.mask_*(column)` in place of a masked column.

-- Digits (or any text) kept at both ends, the middle starred: 12 characters keep 4 + 4
-- (`001099001234` → `0010****1234`), shorter values keep a third at each end, 5 or fewer none.
CREATE FUNCTION meta.mask_keep_ends(v text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN v IS NULL THEN NULL
                WHEN length(v) <= 5 THEN repeat('*', length(v))
                ELSE left(v, least(4, length(v) / 3)) || repeat('*', length(v) - 2 * least(4, length(v) / 3))
                     || right(v, least(4, length(v) / 3)) END
$$;

-- A name reduced to its initials: `Nguyễn Văn An` → `N. V. A.`.
CREATE FUNCTION meta.mask_initials(v text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN v IS NULL THEN NULL ELSE
        (SELECT coalesce(string_agg(upper(left(w, 1)) || '.', ' ' ORDER BY n), '')
         FROM regexp_split_to_table(btrim(v), '\s+') WITH ORDINALITY AS t(w, n) WHERE w <> '') END
$$;

-- A date reduced to its year.
CREATE FUNCTION meta.mask_year(v date) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT extract(year FROM v)::integer $$;

-- Nothing of the value.
CREATE FUNCTION meta.mask_hidden(v anyelement) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT CASE WHEN v IS NULL THEN NULL ELSE '***' END $$;

-- The communes a scope's province codes hold today (a scope is one array of codes: 2-digit
-- provinces and 5-digit communes, which never collide). Used by the store's area conditions on
-- tables placed by a commune column only.
CREATE FUNCTION meta.communes_of(codes text[]) RETURNS text[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(code), '{}') FROM reference.admin_units
    WHERE level = 'commune' AND valid_to IS NULL AND parent_code = ANY (codes)
$$;

-- API keys, for clients that cannot send a bearer token. Only a hash of the secret is kept;
-- the key is shown once, when created. Roles and area codes are the key's scope.
CREATE TABLE meta.api_keys (
    id          text PRIMARY KEY CHECK (id ~ '^[0-9a-z]{8,32}$'),
    secret_hash text NOT NULL,
    name        text NOT NULL CHECK (name <> ''),
    roles       text[] NOT NULL DEFAULT '{}',
    areas       text[] NOT NULL DEFAULT '{}' CHECK (areas <@ ARRAY[]::text[] OR array_to_string(areas, ',') ~ '^(\d{2}|\d{5})(,(\d{2}|\d{5}))*$'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);

-- The audit log: one row per read that returned personal data and per write. Append-only: rows
-- are never updated, and deleted only by meta.prune_audit (retention).
CREATE TABLE meta.audit (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    action      text NOT NULL CHECK (action IN ('read', 'write')),
    actor       text NOT NULL,
    roles       text[] NOT NULL DEFAULT '{}',
    client      text,
    method      text,
    path        text,
    collection  text,
    filter      text,
    features    bigint NOT NULL DEFAULT 0,
    feature_ids bigint[] NOT NULL DEFAULT '{}',
    properties  text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_at_idx ON meta.audit (at);
CREATE INDEX audit_actor_idx ON meta.audit (actor, at);
CREATE INDEX audit_collection_idx ON meta.audit (collection, at);
CREATE INDEX audit_feature_ids_idx ON meta.audit USING gin (feature_ids);

CREATE FUNCTION meta.audit_is_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('geosector.audit_prune', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'meta.audit is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON meta.audit
    FOR EACH ROW EXECUTE FUNCTION meta.audit_is_append_only();
CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON meta.audit
    FOR EACH STATEMENT EXECUTE FUNCTION meta.audit_is_append_only();

-- Deletes the audit rows older than the retention; returns how many.
CREATE FUNCTION meta.prune_audit(keep interval) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    PERFORM set_config('geosector.audit_prune', 'on', true);
    DELETE FROM meta.audit WHERE at < now() - keep;
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM set_config('geosector.audit_prune', 'off', true);
    RETURN n;
END
$$;
