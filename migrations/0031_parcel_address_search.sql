-- Searching parcels by address without reading them all (issue 22, "legal but costly
-- requests"): `filter=ACCENTI(address) LIKE '%Nguyen Trai%'` compared every parcel's address
-- (1.1 s on 300,000 parcels, growing with the table). A trigram index (pg_trgm, PostgreSQL
-- contrib, a trusted extension) on the unaccented address answers LIKE / ILIKE patterns with
-- a leading wildcard from the index. The expression is the one the CQL2 translator writes for
-- ACCENTI(address) (`meta.accenti("address")`, migration 0009), so the planner matches it
-- (`ACCENTI(CASEI(address))` is another expression and is not served by it). The index is declared on the partitioned parent: every province's partition has it,
-- and a replacing import builds it on its load table with the others.

CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;

CREATE INDEX parcels_address_accenti_trgm_idx ON land.parcels
    USING gin (meta.accenti(address) public.gin_trgm_ops);
COMMENT ON INDEX land.parcels_address_accenti_trgm_idx IS
    'ACCENTI(address) LIKE/ILIKE filters (CQL2) by trigrams; migration 0031.';
