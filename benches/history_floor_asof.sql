-- history_floor_asof.sql — pgbench: raw-SQL floor of an "as of" page (the versions valid at
-- instant :t: live rows whose version began by then, and history rows valid then)
--   /collections/land.parcels/items?limit=100&bbox=<z14 tile bbox>&datetime=<t>   (issue 19)
-- pgbench -n -M prepared -c 8 -j 2 -T 15 -D ntiles=480 -D t='2026-12-06 13:19:46.6+00' -f benches/history_floor_asof.sql
\set k random(1, :ntiles)
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(
         json_build_object('type', 'Feature', 'id', s.id, 'geometry', ST_AsGeoJSON(s.geom, 9)::json,
           'properties', json_build_object('commune_code', s.commune_code, 'sheet_number', s.sheet_number,
              'parcel_number', s.parcel_number, 'land_use_codes', s.land_use_codes, 'declared_area_m2', s.declared_area_m2,
              'legal_area_m2', s.legal_area_m2, 'address', s.address, 'survey_date', s.survey_date,
              'computed_area_m2', s.computed_area_m2))), '[]'::json))
FROM (
  SELECT v.* FROM public.bench_tiles b,
  LATERAL (
    SELECT p.id, p.commune_code, p.sheet_number, p.parcel_number, p.land_use_codes, p.declared_area_m2,
           p.legal_area_m2, p.address, p.survey_date, p.computed_area_m2, p.geom
    FROM land.parcels p
    WHERE ST_Intersects(p.geom, ST_Transform(ST_TileEnvelope(b.z, b.x, b.y), 4326)) AND p.version_from <= :t::timestamptz
    UNION ALL
    SELECT h.id, h.commune_code, h.sheet_number, h.parcel_number, h.land_use_codes, h.declared_area_m2,
           h.legal_area_m2, h.address, h.survey_date, h.computed_area_m2, h.geom
    FROM land.parcels_history h
    WHERE ST_Intersects(h.geom, ST_Transform(ST_TileEnvelope(b.z, b.x, b.y), 4326))
      AND h.version_from <= :t::timestamptz AND h.version_to > :t::timestamptz
  ) v
  WHERE b.n = :k
  ORDER BY v.id
  LIMIT 100
) s;
