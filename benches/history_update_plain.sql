-- pgbench: the same UPDATE without a changeset (an operator's SQL; with the versioning
-- triggers enabled it is still versioned, at statement time). Issue 19 benchmarks.
-- pgbench -n -M prepared -c 1 -t 10000 -f benches/history_update_plain.sql
\set id random(12000001, 13000000)
\set r random(1, 1000000000)
UPDATE land.parcels SET address = 'pgbench ' || :r WHERE id = :id;
