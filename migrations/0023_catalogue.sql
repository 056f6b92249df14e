-- The data catalogue (issue 20; docs/catalogue.md): one row per catalogue record, built by the
-- server from the sectors' declarations, the live tables (extents, row counts, last changes) and
-- the operator's catalogue file, refreshed when the data versions it was built from change. A
-- record is small (no layer is ever copied here): the table holds what search needs as columns
-- and the whole record as JSON.
--
-- Search fits Vietnamese: `search` is a weighted full-text vector (title A, description B,
-- keywords C) of the text put in NFC and stripped of its accents by meta.accenti (migration
-- 0009: the unaccent contrib extension; đ/Đ become d/D), so `ha noi` finds "Hà Nội" and
-- `dat lua` finds "đất lúa"; queries go through the same function. The 'simple' configuration
-- lower-cases and keeps every word (no stemming or stop words, which would not fit Vietnamese
-- syllables).

CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public;

CREATE SCHEMA catalogue;
COMMENT ON SCHEMA catalogue IS 'The data catalogue (OGC API - Records): records derived from the declarations and the live data. Migration 0023.';

CREATE TABLE catalogue.records (
    id              text PRIMARY KEY,
    type            text NOT NULL,                -- dataset, collection, or an external record's ISO scope
    origin          text NOT NULL CHECK (origin IN ('declared', 'external')),
    collections     text[] NOT NULL DEFAULT '{}', -- the restricted collections it describes: shown only to callers who see them all
    title           text NOT NULL,                -- Vietnamese and English titles, for search
    description     text NOT NULL,
    keywords        text[] NOT NULL DEFAULT '{}',
    keywords_folded text[] NOT NULL DEFAULT '{}', -- lower(meta.accenti(keyword)), for the keywords parameter
    extent          geometry(Geometry, 4326),     -- the record's bbox as an envelope
    time_start      timestamptz,
    time_end        timestamptz,
    updated         timestamptz,
    stamp           text NOT NULL,                -- the data versions it was built at
    record          jsonb NOT NULL,               -- the record (catalogue crate's Record)
    search          tsvector NOT NULL
);
CREATE INDEX records_search_idx ON catalogue.records USING gin (search);
CREATE INDEX records_extent_idx ON catalogue.records USING gist (extent);
CREATE INDEX records_keywords_idx ON catalogue.records USING gin (keywords_folded);
COMMENT ON TABLE catalogue.records IS 'Catalogue records (one per dataset, published collection and external record); rebuilt by the server, never edited by hand. Migration 0023.';
