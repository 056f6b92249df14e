-- pgbench: one UPDATE of one parcel's address per transaction, in a changeset (as the API's
-- write does; the keep_version trigger writes the history row). Issue 19 benchmarks.
-- pgbench -n -M prepared -c 1 -t 10000 -f benches/history_update_changeset.sql
\set id random(12000001, 13000000)
\set r random(1, 1000000000)
BEGIN;
SELECT meta.begin_changeset('bench', 'pgbench', 'api', 'TD', NULL, NULL, NULL);
UPDATE land.parcels SET address = 'pgbench ' || :r WHERE id = :id;
COMMIT;
