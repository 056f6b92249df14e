-- Monitoring: observations served as a collection, and the VN_AQI / VN_WQI results.
--
-- 1. environment.observations gets an `id` (a sequence default: identity columns are not
--    allowed on partitioned tables in PostgreSQL 15) for the collection's keyset paging. The
--    indexes that keep the two common questions fast at 100 M rows (docs/monitoring.md):
--    - one station, one parameter, a time range: the primary key (station_code, parameter,
--      observed_at), a range scan inside the month partitions the time range prunes to;
--    - all stations, one hour: (observed_at), one range scan in one partition.
-- 2. aqi_hourly, aqi_daily and wqi hold the indices computed by the importer (Rust,
--    crates/environment) over exactly the station-hours, days and samples an import touched,
--    in the import's transaction. They carry an id for paging, and version triggers (0006) so
--    ETags change with them. No geometry: they need no extent or tile triggers (0007, 0008).
-- 3. environment.stations gets the latest AQI and WQI with level and colour, kept by the same
--    step, so the stations collection and its tiles show them.

CREATE SEQUENCE environment.observations_id_seq AS bigint;
ALTER TABLE environment.observations
    ADD COLUMN id bigint NOT NULL DEFAULT nextval('environment.observations_id_seq');
ALTER SEQUENCE environment.observations_id_seq OWNED BY environment.observations.id;
CREATE INDEX observations_id_idx ON environment.observations (id);

CREATE TABLE environment.aqi_hourly (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    station_code text NOT NULL,
    observed_at  timestamptz NOT NULL,
    aqi          integer NOT NULL CHECK (aqi BETWEEN 0 AND 500),
    level        text NOT NULL,
    colour       text NOT NULL,
    dominant     text NOT NULL,
    si_pm25      double precision,
    si_pm10      double precision,
    si_o3        double precision,
    si_no2       double precision,
    si_so2       double precision,
    si_co        double precision,
    computed_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (station_code, observed_at)
);
CREATE INDEX aqi_hourly_time_idx ON environment.aqi_hourly (observed_at);
COMMENT ON TABLE environment.aqi_hourly IS
    'Hourly VN_AQI (QĐ 1459/QĐ-TCMT) per station; observed_at is the start of the hour. Derived by the importer, never edited.';

CREATE TABLE environment.aqi_daily (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    station_code text NOT NULL,
    day          date NOT NULL,
    aqi          integer NOT NULL CHECK (aqi BETWEEN 0 AND 500),
    level        text NOT NULL,
    colour       text NOT NULL,
    dominant     text NOT NULL,
    si_pm25      double precision,
    si_pm10      double precision,
    si_o3        double precision,
    si_no2       double precision,
    si_so2       double precision,
    si_co        double precision,
    computed_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (station_code, day)
);
CREATE INDEX aqi_daily_day_idx ON environment.aqi_daily (day);
COMMENT ON TABLE environment.aqi_daily IS
    'Daily VN_AQI (QĐ 1459/QĐ-TCMT) per station and local (UTC+7) day. Derived by the importer, never edited.';

CREATE TABLE environment.wqi (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    station_code text NOT NULL,
    observed_at  timestamptz NOT NULL,
    wqi          integer NOT NULL CHECK (wqi BETWEEN 0 AND 100),
    level        text NOT NULL,
    colour       text NOT NULL,
    wqi_i        double precision,
    wqi_ii       double precision,
    wqi_iii      double precision,
    wqi_iv       double precision,
    wqi_v        double precision,
    computed_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (station_code, observed_at)
);
CREATE INDEX wqi_time_idx ON environment.wqi (observed_at);
COMMENT ON TABLE environment.wqi IS
    'VN_WQI (QĐ 1460/QĐ-TCMT) per water sample: the values one station measured at one time. Derived by the importer, never edited.';

ALTER TABLE environment.stations
    ADD COLUMN aqi        integer,
    ADD COLUMN aqi_level  text,
    ADD COLUMN aqi_colour text,
    ADD COLUMN aqi_at     timestamptz,
    ADD COLUMN wqi        integer,
    ADD COLUMN wqi_level  text,
    ADD COLUMN wqi_colour text,
    ADD COLUMN wqi_at     timestamptz;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['environment.aqi_hourly', 'environment.aqi_daily', 'environment.wqi'] LOOP
        EXECUTE format(
            'CREATE TRIGGER bump_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s
             FOR EACH STATEMENT EXECUTE FUNCTION meta.bump_table_version()', t);
        EXECUTE format(
            'INSERT INTO meta.table_versions (schema_name, table_name) VALUES (%L, %L) ON CONFLICT DO NOTHING',
            split_part(t, '.', 1), split_part(t, '.', 2));
    END LOOP;
END
$$;
