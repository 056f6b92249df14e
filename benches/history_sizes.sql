-- Sizes for the issue 19 benchmarks: land.parcels over its partitions (table + indexes + toast),
-- its history, meta.lineage and meta.changesets; row counts.  psql -X -f benches/history_sizes.sql $DATABASE_URL
SELECT 'land.parcels (partitions, total)' AS rel, count(*) AS parts,
       sum(pg_total_relation_size(c.oid)) AS total_bytes, sum(pg_relation_size(c.oid)) AS heap_bytes,
       sum(pg_indexes_size(c.oid)) AS index_bytes,
       sum(pg_total_relation_size(c.oid) - pg_relation_size(c.oid) - pg_indexes_size(c.oid)) AS toast_fsm_vm_bytes
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'land.parcels'::regclass
UNION ALL
SELECT r, 1, pg_total_relation_size(r::regclass), pg_relation_size(r::regclass), pg_indexes_size(r::regclass),
       pg_total_relation_size(r::regclass) - pg_relation_size(r::regclass) - pg_indexes_size(r::regclass)
FROM unnest(ARRAY['land.parcels_history', 'meta.lineage', 'meta.changesets']) AS r;
SELECT (SELECT count(*) FROM land.parcels) AS live_rows, (SELECT count(*) FROM land.parcels_history) AS history_rows,
       (SELECT count(*) FROM land.parcels_history WHERE retired) AS retired_rows,
       (SELECT count(*) FROM meta.lineage) AS lineage_edges, (SELECT count(*) FROM meta.changesets) AS changesets;
SELECT n_live_tup, n_dead_tup FROM pg_stat_user_tables WHERE relname IN ('parcels_p00') ;
