-- history_floor_current.sql — pgbench: raw-SQL floor of the current-state page
--   /collections/land.parcels/items?limit=100&bbox=<z14 tile bbox>   (issue 19 benchmarks)
-- pgbench -n -M prepared -c 8 -j 2 -T 15 -D ntiles=480 -f benches/history_floor_current.sql
\set k random(1, :ntiles)
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(
         json_build_object('type', 'Feature', 'id', s.id, 'geometry', ST_AsGeoJSON(s.geom, 9)::json,
           'properties', json_build_object('commune_code', s.commune_code, 'sheet_number', s.sheet_number,
              'parcel_number', s.parcel_number, 'land_use_codes', s.land_use_codes, 'declared_area_m2', s.declared_area_m2,
              'legal_area_m2', s.legal_area_m2, 'address', s.address, 'survey_date', s.survey_date,
              'computed_area_m2', s.computed_area_m2))), '[]'::json))
FROM (
  SELECT p.* FROM public.bench_tiles b
  JOIN land.parcels p ON ST_Intersects(p.geom, ST_Transform(ST_TileEnvelope(b.z, b.x, b.y), 4326))
  WHERE b.n = :k
  ORDER BY p.id
  LIMIT 100
) s;
