-- A simulated year of churn on the 1M-parcel bench (issue 19 benchmarks, docs/benchmarks.md
-- "Issue 19 editing with history"). Run on a migrated database holding the bench parcels in
-- land.parcels (migration 0021: versioned, with land.parcels_history and meta.lineage):
--
--   psql -X -v ON_ERROR_STOP=1 -v seed=0.19 -f benches/history_churn.sql "$DATABASE_URL"
--
-- What it writes, as the API would (one transaction per changeset, each opened by
-- meta.begin_changeset so the keep_version triggers write the history):
-- * 10 % of the live parcels changed once, in changesets of 1–50 parcels of neighbouring map
--   sheets (parcels ordered by commune, sheet, then random): 50 % TD (address, declared
--   area), 20 % CM (land use), 15 % DT (legal area, address), 15 % SN (geometry corrected:
--   half densified with ST_Segmentize, half shrunk 5 cm with a mitred negative buffer; never
--   overlapping a neighbour);
-- * 1 % split or merged: 6,000 parcels split into 2 or 3 vertical strips, 2,000 merges of two
--   edge-sharing neighbours (4,000 parcels); one changeset each, change type TN, the parent(s)
--   deleted (retired into history), the children inserted, lineage edges with the area share
--   computed as the server does (ST_Area of the intersection over the parent's, geography);
-- * one 10-generation lineage chain: a root parcel split, one child merged with a neighbour,
--   that split, ... (odd generations split into 2, even ones merge with an untouched edge
--   neighbour that no other changeset touches), its generations spread over the run.
-- All these changesets are shuffled into one sequence. The parcels of the three groups are
-- disjoint. Times: a changeset's time is clock_timestamp() when it begins (the schema allows
-- no other: versions never go back in time, and the live rows' versions began at migration),
-- so the "year" is the run's duration: changesets are milliseconds apart, in the order a year
-- of decisions would come. Queries' costs depend on how many versions there are and how they
-- interleave, not on the calendar distance between them.
--
-- Note: the land-use kind draws from ODT ONT CLN BHK TMD; BHK is a legacy code (TT 25/2014), so
-- the API refuses later edits of those parcels (422, land.land_use_codes) as it does for the
-- generator's BHK parcels; the write benchmarks pick ids without BHK.
--
-- Leaves the plan in schema hbench (hbench.changesets: one row per changeset with its kind and
-- parcels; hbench.chain: the chain's generations) for the benchmarks to pick ids from.

\set QUIET on
\timing off
SELECT setseed(:seed);

DROP SCHEMA IF EXISTS hbench CASCADE;
CREATE SCHEMA hbench;

-- Live parcels with their sheet, in a random order within each sheet.
CREATE TABLE hbench.pool AS
SELECT id, commune_code, sheet_number, random() AS r FROM land.parcels;
CREATE INDEX ON hbench.pool (id);
ANALYZE hbench.pool;

-- 1 % split or merged, chosen first: 6,000 split parents, 3,000 merge seeds (2,000 pairs kept).
CREATE TABLE hbench.split_parents AS
SELECT id FROM hbench.pool ORDER BY r LIMIT 6000;
CREATE TABLE hbench.merge_seeds AS
SELECT id FROM hbench.pool WHERE id NOT IN (SELECT id FROM hbench.split_parents) ORDER BY r LIMIT 4000 OFFSET 6000;
CREATE TABLE hbench.used (id bigint PRIMARY KEY);
INSERT INTO hbench.used SELECT id FROM hbench.split_parents;

CREATE TABLE hbench.merge_pairs (a bigint, b bigint);
DO $$
DECLARE
    s bigint;
    nb bigint;
    n integer := 0;
BEGIN
    FOR s IN SELECT id FROM hbench.merge_seeds LOOP
        EXIT WHEN n >= 2000;
        CONTINUE WHEN EXISTS (SELECT 1 FROM hbench.used WHERE id = s);
        SELECT q.id INTO nb FROM land.parcels p,
            LATERAL (SELECT o.id, o.geom FROM land.parcels o WHERE o.id <> p.id
                     ORDER BY o.geom <-> p.geom LIMIT 8) q
        WHERE p.id = s
          AND NOT EXISTS (SELECT 1 FROM hbench.used u WHERE u.id = q.id)
          AND ST_Dimension(ST_Intersection(p.geom, q.geom)) = 1
        ORDER BY ST_Length(ST_Intersection(p.geom, q.geom)) DESC LIMIT 1;
        CONTINUE WHEN nb IS NULL;
        INSERT INTO hbench.merge_pairs VALUES (s, nb);
        INSERT INTO hbench.used VALUES (s), (nb);
        n := n + 1;
    END LOOP;
END
$$;

-- The chain's root: not planned otherwise.
CREATE TABLE hbench.chain (generation integer PRIMARY KEY, kind text, parents bigint[], children bigint[], changeset bigint);
CREATE TABLE hbench.chain_tip (id bigint);
INSERT INTO hbench.chain_tip
SELECT id FROM hbench.pool WHERE id NOT IN (SELECT id FROM hbench.used) ORDER BY r LIMIT 1 OFFSET 50000;
INSERT INTO hbench.used SELECT id FROM hbench.chain_tip;

-- 10 %: 100,000 parcels changed once, ordered by sheet then random, cut into changesets of 1–50.
CREATE TABLE hbench.updated AS
SELECT row_number() OVER (ORDER BY commune_code, sheet_number, r2) AS k, id
FROM (SELECT p.id, p.commune_code, p.sheet_number, random() AS r2, p.r FROM hbench.pool p
      WHERE NOT EXISTS (SELECT 1 FROM hbench.used u WHERE u.id = p.id)
      ORDER BY p.r DESC LIMIT 100000) AS chosen;
CREATE TABLE hbench.sizes AS
SELECT n, 1 + floor(random() * 50)::integer AS size FROM generate_series(1, 10000) AS n;
-- Changeset n takes the parcels k in (lo_n, lo_n + size_n]: width_bucket over the lower bounds.
CREATE TABLE hbench.bounds AS
SELECT array_agg(lo + 1 ORDER BY n) AS firsts
FROM (SELECT n, sum(size) OVER (ORDER BY n) - size AS lo FROM hbench.sizes) AS b;

-- Every changeset of the run, then shuffled: kind, change type, parcels.
CREATE TABLE hbench.changesets (seq integer, kind text, change_type text, ids bigint[], changeset bigint, at timestamptz);
INSERT INTO hbench.changesets (kind, change_type, ids)
SELECT kind, CASE kind WHEN 'attr' THEN 'TD' WHEN 'use' THEN 'CM' WHEN 'legal' THEN 'DT' ELSE 'SN' END, ids
FROM (
    SELECT width_bucket(u.k, b.firsts) AS n, array_agg(u.id ORDER BY u.k) AS ids,
           (ARRAY['attr','attr','attr','attr','attr','attr','attr','attr','attr','attr',
                  'use','use','use','use','legal','legal','legal','geom','geom','geom'])[1 + floor(random() * 20)::integer] AS kind
    FROM hbench.bounds b, hbench.updated u
    GROUP BY 1
) AS cs;
INSERT INTO hbench.changesets (kind, change_type, ids)
SELECT 'split', 'TN', ARRAY[id] FROM hbench.split_parents;
INSERT INTO hbench.changesets (kind, change_type, ids)
SELECT 'merge', 'TN', ARRAY[a, b] FROM hbench.merge_pairs;
-- Shuffle; then the chain's 10 generations at evenly spaced places.
UPDATE hbench.changesets c SET seq = s.seq
FROM (SELECT ctid AS t, 10 * row_number() OVER (ORDER BY random()) AS seq FROM hbench.changesets) s
WHERE c.ctid = s.t;
INSERT INTO hbench.changesets (seq, kind, change_type, ids)
SELECT 10 * (g * (SELECT count(*) FROM hbench.changesets) / 11) + 5, 'chain', 'TN', NULL
FROM generate_series(1, 10) g;
CREATE INDEX ON hbench.changesets (seq);
-- Every parcel a planned changeset touches (the chain's merges take none of them).
CREATE TABLE hbench.planned AS SELECT DISTINCT unnest(ids) AS id FROM hbench.changesets;
CREATE UNIQUE INDEX ON hbench.planned (id);
ANALYZE hbench.changesets;

-- A split of `parent` into `parts` vertical strips; the changeset is begun. Returns the children.
CREATE FUNCTION hbench.split(parent bigint, parts integer) RETURNS bigint[]
LANGUAGE plpgsql AS $$
DECLARE
    p land.parcels;
    children bigint[];
BEGIN
    SELECT * INTO p FROM land.parcels WHERE id = parent FOR UPDATE;
    DELETE FROM land.parcels WHERE id = parent;
    WITH strips AS (
        SELECT k, ST_Multi(ST_CollectionExtract(ST_Intersection(p.geom, ST_MakeEnvelope(
                   ST_XMin(p.geom) + (k - 1) * (ST_XMax(p.geom) - ST_XMin(p.geom)) / parts, ST_YMin(p.geom) - 1e-6,
                   CASE WHEN k = parts THEN ST_XMax(p.geom) + 1e-6
                        ELSE ST_XMin(p.geom) + k * (ST_XMax(p.geom) - ST_XMin(p.geom)) / parts END,
                   ST_YMax(p.geom) + 1e-6, 4326)), 3)) AS g
        FROM generate_series(1, parts) k
    ), made AS (
        INSERT INTO land.parcels (commune_code, sheet_number, parcel_number, land_use_codes, declared_area_m2,
                                  address, map_scale, survey_date, geom, source_srid, computed_area_m2, province_code)
        SELECT p.commune_code, p.sheet_number, p.parcel_number || '-' || k, p.land_use_codes,
               round(ST_Area(g::geography)::numeric, 1)::double precision, p.address, p.map_scale, current_date,
               g, p.source_srid, ST_Area(g::geography), p.province_code
        FROM strips WHERE NOT ST_IsEmpty(g)
        RETURNING id, version, geom
    ), edges AS (
        INSERT INTO meta.lineage (schema_name, table_name, parent_id, parent_version, child_id, child_version,
                                  changeset_id, change_type, area_share)
        SELECT 'land', 'parcels', p.id, p.version, m.id, m.version, meta.current_changeset(), 'TN',
               least(1.0, ST_Area(ST_Intersection(p.geom, m.geom)::geography) / ST_Area(p.geom::geography))
        FROM made m
        RETURNING child_id
    )
    SELECT array_agg(child_id ORDER BY child_id) INTO children FROM edges;
    RETURN children;
END
$$;

-- A merge of two neighbours into one; the changeset is begun. Returns the child.
CREATE FUNCTION hbench.merge(a bigint, b bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    pa land.parcels;
    pb land.parcels;
    g geometry;
    child bigint;
    v integer;
BEGIN
    SELECT * INTO pa FROM land.parcels WHERE id = a FOR UPDATE;
    SELECT * INTO pb FROM land.parcels WHERE id = b FOR UPDATE;
    g := ST_Multi(ST_CollectionExtract(ST_Union(pa.geom, pb.geom), 3));
    DELETE FROM land.parcels WHERE id IN (a, b);
    INSERT INTO land.parcels (commune_code, sheet_number, parcel_number, land_use_codes, declared_area_m2,
                              address, map_scale, survey_date, geom, source_srid, computed_area_m2, province_code)
    VALUES (pa.commune_code, pa.sheet_number, pa.parcel_number || '+' || pb.parcel_number, pa.land_use_codes,
            round(ST_Area(g::geography)::numeric, 1)::double precision, pa.address, pa.map_scale, current_date,
            g, pa.source_srid, ST_Area(g::geography), pa.province_code)
    RETURNING id, version INTO child, v;
    INSERT INTO meta.lineage (schema_name, table_name, parent_id, parent_version, child_id, child_version,
                              changeset_id, change_type, area_share)
    SELECT 'land', 'parcels', x.id, x.version, child, v, meta.current_changeset(), 'TN',
           least(1.0, ST_Area(ST_Intersection(x.geom, g)::geography) / ST_Area(x.geom::geography))
    FROM (VALUES (pa.id, pa.version, pa.geom), (pb.id, pb.version, pb.geom)) AS x (id, version, geom);
    RETURN child;
END
$$;

-- One generation of the chain: odd generations split the tip in two (the tip becomes the first
-- child), even ones merge it with an edge neighbour that nothing else touches.
CREATE FUNCTION hbench.chain_step() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    g integer := coalesce((SELECT max(generation) FROM hbench.chain), 0) + 1;
    tip bigint := (SELECT id FROM hbench.chain_tip);
    nb bigint;
    kids bigint[];
    child bigint;
BEGIN
    IF g % 2 = 1 THEN
        kids := hbench.split(tip, 2);
        INSERT INTO hbench.chain VALUES (g, 'split', ARRAY[tip], kids, meta.current_changeset());
        UPDATE hbench.chain_tip SET id = kids[1];
    ELSE
        SELECT o.id INTO nb FROM land.parcels t,
            LATERAL (SELECT o.id, o.geom FROM land.parcels o WHERE o.id <> t.id ORDER BY o.geom <-> t.geom LIMIT 12) o
        WHERE t.id = tip AND ST_Dimension(ST_Intersection(t.geom, o.geom)) = 1
          AND NOT EXISTS (SELECT 1 FROM hbench.chain c WHERE o.id = ANY (c.children))
          AND NOT EXISTS (SELECT 1 FROM hbench.planned x WHERE x.id = o.id)
        ORDER BY ST_Length(ST_Intersection(t.geom, o.geom)) DESC LIMIT 1;
        child := hbench.merge(tip, nb);
        INSERT INTO hbench.chain VALUES (g, 'merge', ARRAY[tip, nb], ARRAY[child], meta.current_changeset());
        UPDATE hbench.chain_tip SET id = child;
    END IF;
END
$$;

-- The run: one transaction per changeset, committed in turn.
CREATE PROCEDURE hbench.run() LANGUAGE plpgsql AS $$
DECLARE
    c record;
    cs meta.changesets;
    done integer := 0;
BEGIN
    FOR c IN SELECT seq, kind, change_type, ids FROM hbench.changesets ORDER BY seq LOOP
        cs := meta.begin_changeset('bench-churn', 'history_churn.sql', 'api', c.change_type,
                                   format('%s/QĐ-UBND', c.seq), current_date, c.kind);
        CASE c.kind
        WHEN 'attr' THEN
            UPDATE land.parcels SET address = format('Thôn %s, xã %s', 1 + id % 12, commune_code),
                                    declared_area_m2 = round(coalesce(computed_area_m2, 0)::numeric, 1)::double precision
            WHERE id = ANY (c.ids);
        WHEN 'use' THEN
            UPDATE land.parcels SET land_use_codes = ARRAY[(ARRAY['ODT','ONT','CLN','BHK','TMD'])[1 + id % 5]]
            WHERE id = ANY (c.ids);
        WHEN 'legal' THEN
            UPDATE land.parcels SET legal_area_m2 = round(coalesce(computed_area_m2, 0)::numeric)::double precision,
                                    address = format('Tổ %s, xã %s', 1 + id % 30, commune_code)
            WHERE id = ANY (c.ids);
        WHEN 'geom' THEN
            UPDATE land.parcels SET geom = n.g, computed_area_m2 = ST_Area(n.g::geography)
            FROM (SELECT id AS nid,
                         CASE WHEN id % 2 = 0 THEN ST_Multi(ST_Segmentize(geom, 0.0001))
                              ELSE ST_Multi(ST_Buffer(geom, -5e-7, 'join=mitre')) END AS g
                  FROM land.parcels WHERE id = ANY (c.ids)) AS n
            WHERE id = n.nid;
        WHEN 'split' THEN
            PERFORM hbench.split(c.ids[1], 2 + (c.ids[1] % 2)::integer);
        WHEN 'merge' THEN
            PERFORM hbench.merge(c.ids[1], c.ids[2]);
        WHEN 'chain' THEN
            PERFORM hbench.chain_step();
        END CASE;
        UPDATE hbench.changesets SET changeset = cs.id, at = cs.at WHERE seq = c.seq;
        COMMIT;
        done := done + 1;
        IF done % 1000 = 0 THEN
            RAISE NOTICE '% changesets, %', done, clock_timestamp();
        END IF;
    END LOOP;
END
$$;

\timing on
CALL hbench.run();
\timing off

SELECT kind, count(*) AS changesets, sum(cardinality(ids)) AS parcels FROM hbench.changesets GROUP BY kind ORDER BY kind;
SELECT generation, kind, parents, children, changeset FROM hbench.chain ORDER BY generation;
