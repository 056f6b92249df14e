-- Offline packages whose field changes were applied (issue 21: `geosector import --changes`,
-- `POST /packages/changes`). A package is named by what its `geosector_package` table says
-- (made_at, source, caller, area, collections); it applies once: a second import of it is
-- refused, naming the changeset that applied it. Append-only.

CREATE TABLE meta.package_imports (
    made_at      text NOT NULL,   -- as written in the package (RFC 3339)
    source       text NOT NULL,
    caller       text NOT NULL,
    area         text NOT NULL,
    collections  text NOT NULL,   -- a JSON array, as written
    file         text,
    changeset_id bigint NOT NULL REFERENCES meta.changesets (id),
    imported_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (made_at, source, caller, area, collections)
);
COMMENT ON TABLE meta.package_imports IS 'Offline packages applied by import --changes, each once; append-only. Migration 0029.';

CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON meta.package_imports
    FOR EACH ROW EXECUTE FUNCTION meta.refuse_rewrite();
CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON meta.package_imports
    FOR EACH STATEMENT EXECUTE FUNCTION meta.refuse_rewrite();
