-- Editing with history (issue 19): changesets, per-feature versions, the history of every
-- versioned table, and lineage between features.
--
-- The model (docs/editing.md):
-- * a **changeset** (meta.changesets) is one write: an API edit, a changeset request, or a bulk
--   import; it has a time, an actor, a client, a source, a legal reference and a note. Append-only.
-- * a versioned table's live rows are the current versions: each has `version` (1, 2, ...),
--   `version_from` (the time of the changeset that wrote it) and `changeset_id`.
-- * `<table>_history` holds every superseded or retired version, with `version_to` (when the next
--   version began or the feature was retired), `ended_by` (that changeset) and `retired`. A
--   version is valid in [version_from, version_to). Append-only: history is never rewritten.
-- * **lineage** (meta.lineage): parent version → child version edges of splits, merges and
--   other land changes, with the change type and the share of the parent's area.
--
-- Writes set the transaction's changeset with `SELECT meta.begin_changeset(...)`; the row
-- triggers installed by `meta.version(table)` then number versions and copy the replaced or
-- deleted row into history, whoever writes (the API, an import's upsert, an operator's SQL). An
-- update that changes nothing but bookkeeping columns makes no version. A partition swap fires
-- no trigger: the importer diffs and writes history itself (crates/ingest, load/history.rs).

CREATE TABLE meta.changesets (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor          text NOT NULL,
    client         text,
    source         text NOT NULL CHECK (source IN ('api', 'import')),
    change_type    text,
    reference      text,          -- legal reference: the decision's number
    reference_date date,          -- and its date
    note           text
);
CREATE INDEX changesets_at_idx ON meta.changesets (at);
COMMENT ON TABLE meta.changesets IS 'One row per write (API edit, changeset request or import); append-only. Migration 0021.';

CREATE TABLE meta.lineage (
    schema_name    text NOT NULL,
    table_name     text NOT NULL,
    parent_id      bigint NOT NULL,
    parent_version integer NOT NULL,
    child_id       bigint NOT NULL,
    child_version  integer NOT NULL,
    changeset_id   bigint NOT NULL REFERENCES meta.changesets (id),
    change_type    text NOT NULL,
    area_share     double precision CHECK (area_share IS NULL OR (area_share >= 0 AND area_share <= 1.000001)),
    PRIMARY KEY (schema_name, table_name, parent_id, child_id, changeset_id),
    CHECK (parent_id <> child_id)
);
CREATE INDEX lineage_child_idx ON meta.lineage (schema_name, table_name, child_id);
COMMENT ON TABLE meta.lineage IS 'Parent → child edges of splits, merges and other changes; append-only. Migration 0021.';

-- Append-only tables: UPDATE, DELETE and TRUNCATE are refused.
CREATE FUNCTION meta.refuse_rewrite() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%.% is append-only: history is never rewritten', TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON meta.changesets
    FOR EACH ROW EXECUTE FUNCTION meta.refuse_rewrite();
CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON meta.changesets
    FOR EACH STATEMENT EXECUTE FUNCTION meta.refuse_rewrite();
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON meta.lineage
    FOR EACH ROW EXECUTE FUNCTION meta.refuse_rewrite();
CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON meta.lineage
    FOR EACH STATEMENT EXECUTE FUNCTION meta.refuse_rewrite();

-- The changeset of the current transaction (NULL when none was begun: an operator's SQL).
CREATE FUNCTION meta.current_changeset() RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('geosector.changeset', true), '')::bigint
$$;

-- The time of the current transaction's writes: its changeset's time, else the statement's.
CREATE FUNCTION meta.write_time() RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT at FROM meta.changesets WHERE id = meta.current_changeset()), statement_timestamp())
$$;

-- Records a changeset and makes it the current transaction's (transaction-local setting).
CREATE FUNCTION meta.begin_changeset(
    actor text, client text, source text, change_type text, reference text, reference_date date, note text
) RETURNS meta.changesets
LANGUAGE plpgsql AS $$
DECLARE
    made meta.changesets;
BEGIN
    INSERT INTO meta.changesets (actor, client, source, change_type, reference, reference_date, note)
    VALUES (actor, client, source, change_type, reference, reference_date, note)
    RETURNING * INTO made;
    PERFORM set_config('geosector.changeset', made.id::text, true);
    RETURN made;
END
$$;

-- The row trigger of a versioned table. Arguments: the history table (qualified, quoted), the
-- column list it copies, and the columns an update may change without making a version
-- (bookkeeping and derived columns), as a text[] literal.
CREATE FUNCTION meta.keep_version() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    history constant text := TG_ARGV[0];
    copied constant text := TG_ARGV[1];
    ignored constant text[] := TG_ARGV[2]::text[];
    changeset constant bigint := meta.current_changeset();
    at constant timestamptz := meta.write_time();
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.version := 1;
        NEW.version_from := at;
        NEW.changeset_id := changeset;
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        IF (to_jsonb(OLD) - ignored) = (to_jsonb(NEW) - ignored) THEN
            -- Nothing but bookkeeping changed: the version stays.
            NEW.version := OLD.version;
            NEW.version_from := OLD.version_from;
            NEW.changeset_id := OLD.changeset_id;
            RETURN NEW;
        END IF;
        IF changeset IS NOT NULL AND OLD.changeset_id IS NOT DISTINCT FROM changeset THEN
            -- Changed again by the changeset that wrote it: still the same version.
            NEW.version := OLD.version;
            NEW.version_from := OLD.version_from;
            NEW.changeset_id := changeset;
            RETURN NEW;
        END IF;
        IF at <= OLD.version_from THEN
            -- A later changeset committed a version first: versions never go back in time.
            RAISE EXCEPTION 'version % of feature % began at %, after this write''s time %',
                OLD.version, OLD.id, OLD.version_from, at USING ERRCODE = 'serialization_failure';
        END IF;
        EXECUTE format('INSERT INTO %s (%s, version_to, ended_by, retired) SELECT %s, $2, $3, false FROM (SELECT ($1).*) AS old',
                       history, copied, copied)
            USING OLD, at, changeset;
        NEW.version := OLD.version + 1;
        NEW.version_from := at;
        NEW.changeset_id := changeset;
        RETURN NEW;
    END IF;
    -- DELETE: the feature is retired.
    IF at < OLD.version_from THEN
        RAISE EXCEPTION 'version % of feature % began at %, after this write''s time %',
            OLD.version, OLD.id, OLD.version_from, at USING ERRCODE = 'serialization_failure';
    END IF;
    -- A version written by this changeset never became visible: its predecessor (if any) is
    -- already in history, ending at this changeset's time.
    IF changeset IS NULL OR OLD.changeset_id IS DISTINCT FROM changeset THEN
        EXECUTE format('INSERT INTO %s (%s, version_to, ended_by, retired) SELECT %s, $2, $3, true FROM (SELECT ($1).*) AS old',
                       history, copied, copied)
            USING OLD, at, changeset;
    END IF;
    RETURN OLD;
END
$$;

-- Makes a table versioned (idempotent; call again after adding columns to the table):
--   SELECT meta.version('myschema.mytable', ARRAY['derived_column']);
-- adds `version`, `version_from` and `changeset_id` (existing rows: version 1, valid from now),
-- creates `<table>_history` with the table's columns but the Web Mercator twins (`*_3857`),
-- and installs the row triggers `keep_version` (before insert and update, after delete) and
-- `append_only` on the history. `ignored` lists derived columns an update may change without
-- making a version (`imported_at` and the version columns always are).
CREATE FUNCTION meta.version(tbl regclass, ignored text[] DEFAULT '{}') RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    s name;
    t name;
    h name;
    history text;
    copied text;
    skip text[];
    missing record;
BEGIN
    SELECT n.nspname, c.relname INTO s, t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = tbl;
    h := t || '_history';
    history := format('%I.%I', s, h);
    IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = tbl AND attname = 'version' AND NOT attisdropped) THEN
        -- now() is stable: evaluated once, no table rewrite.
        EXECUTE format('ALTER TABLE %s ADD COLUMN version integer NOT NULL DEFAULT 1,
                                      ADD COLUMN version_from timestamptz NOT NULL DEFAULT now(),
                                      ADD COLUMN changeset_id bigint', tbl);
        EXECUTE format('ALTER TABLE %s ALTER COLUMN version_from SET DEFAULT meta.write_time()', tbl);
    END IF;
    IF to_regclass(history) IS NULL THEN
        EXECUTE format('CREATE TABLE %s (LIKE %s)', history, tbl);
        EXECUTE format('ALTER TABLE %s ADD COLUMN version_to timestamptz NOT NULL,
                                      ADD COLUMN ended_by bigint,
                                      ADD COLUMN retired boolean NOT NULL,
                                      ADD PRIMARY KEY (id, version),
                                      ADD CHECK (version_from < version_to)', history);
        FOR missing IN SELECT attname FROM pg_attribute
                       WHERE attrelid = history::regclass AND attname LIKE '%\_3857' AND NOT attisdropped LOOP
            EXECUTE format('ALTER TABLE %s DROP COLUMN %I', history, missing.attname);
        END LOOP;
        IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = tbl AND attname = 'geom' AND NOT attisdropped) THEN
            EXECUTE format('CREATE INDEX %I ON %s USING gist (geom)', h || '_geom_idx', history);
        END IF;
        EXECUTE format('CREATE INDEX %I ON %s (version_to)', h || '_version_to_idx', history);
        EXECUTE format('CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON %s
                        FOR EACH ROW EXECUTE FUNCTION meta.refuse_rewrite()', history);
        EXECUTE format('CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON %s
                        FOR EACH STATEMENT EXECUTE FUNCTION meta.refuse_rewrite()', history);
    END IF;
    -- Columns of the table the history lacks (added since): added to it.
    FOR missing IN
        SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a
        WHERE a.attrelid = tbl AND a.attnum > 0 AND NOT a.attisdropped AND a.attname NOT LIKE '%\_3857'
          AND NOT EXISTS (SELECT 1 FROM pg_attribute b WHERE b.attrelid = history::regclass AND b.attname = a.attname AND NOT b.attisdropped)
    LOOP
        EXECUTE format('ALTER TABLE %s ADD COLUMN %I %s', history, missing.attname, missing.type);
    END LOOP;
    SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO copied FROM pg_attribute a
    WHERE a.attrelid = tbl AND a.attnum > 0 AND NOT a.attisdropped AND a.attname NOT LIKE '%\_3857';
    skip := ignored || ARRAY['imported_at', 'version', 'version_from', 'changeset_id'];
    skip := skip || ARRAY(SELECT attname::text FROM pg_attribute WHERE attrelid = tbl AND attname LIKE '%\_3857' AND NOT attisdropped);
    EXECUTE format('DROP TRIGGER IF EXISTS keep_version ON %s', tbl);
    EXECUTE format('DROP TRIGGER IF EXISTS keep_version_delete ON %s', tbl);
    -- Named to fire after the tables' other BEFORE triggers (alphabetical: derived columns first).
    EXECUTE format('CREATE TRIGGER keep_version BEFORE INSERT OR UPDATE ON %s
                    FOR EACH ROW EXECUTE FUNCTION meta.keep_version(%L, %L, %L)', tbl, history, copied, skip::text);
    EXECUTE format('CREATE TRIGGER keep_version_delete AFTER DELETE ON %s
                    FOR EACH ROW EXECUTE FUNCTION meta.keep_version(%L, %L, %L)', tbl, history, copied, skip::text);
    INSERT INTO meta.versioned_tables (schema_name, table_name, history_table) VALUES (s, t, h)
    ON CONFLICT (schema_name, table_name) DO NOTHING;
END
$$;
COMMENT ON FUNCTION meta.version(regclass, text[]) IS
    'Makes a table versioned: version columns, <table>_history, row triggers; idempotent. Migration 0021.';

CREATE TABLE meta.versioned_tables (
    schema_name   text NOT NULL,
    table_name    text NOT NULL,
    history_table text NOT NULL,
    PRIMARY KEY (schema_name, table_name)
);

SELECT meta.version('land.parcels', ARRAY['main_land_use', 'province_code', 'computed_area_m2']);
SELECT meta.version('land.map_sheets');
SELECT meta.version('minerals.licences');
SELECT meta.version('minerals.licence_areas', ARRAY['computed_area_m2']);
SELECT meta.version('minerals.prohibited_zones');
SELECT meta.version('water.permits');
SELECT meta.version('water.works');
