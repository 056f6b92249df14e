-- Environment monitoring: stations, observations partitioned by month, pollution sources.

CREATE SCHEMA environment;
COMMENT ON SCHEMA environment IS 'Air and water monitoring stations, observations and pollution sources.';

CREATE TABLE environment.stations (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    station_code  text NOT NULL UNIQUE,
    name          text NOT NULL,
    medium        text NOT NULL CHECK (medium IN ('air', 'surface_water', 'groundwater', 'wastewater', 'emission')),
    mode          text NOT NULL CHECK (mode IN ('automatic', 'manual')),
    province_code text CHECK (province_code ~ '^\d{2}$'),
    commune_code  text CHECK (commune_code ~ '^\d{5}$'),
    operator      text,
    geom          geometry(Point, 4326) NOT NULL,
    source_srid   integer NOT NULL,
    imported_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX env_stations_geom_idx ON environment.stations USING gist (geom);

-- One value per station, parameter and time (TT 10/2021). Partitioned by month on observed_at;
-- the primary key serves "one station, one parameter, a time range", the observed_at index
-- "all stations, one hour".
CREATE TABLE environment.observations (
    station_code text NOT NULL,
    parameter    text NOT NULL,
    value        double precision NOT NULL,
    unit         text,
    observed_at  timestamptz NOT NULL,
    status       text NOT NULL CHECK (status IN ('00', '01', '02')),
    source_file  text,
    imported_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (station_code, parameter, observed_at)
) PARTITION BY RANGE (observed_at);
CREATE INDEX observations_time_idx ON environment.observations (observed_at);
CREATE TABLE environment.observations_default PARTITION OF environment.observations DEFAULT;

-- Creates the monthly partitions covering [p_from, p_to]; returns how many it created.
-- Refuses spans over 50 years, which only a bad timestamp produces.
CREATE FUNCTION environment.ensure_observation_partitions(p_from timestamptz, p_to timestamptz)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    month   date;
    last    date;
    name    text;
    created integer := 0;
BEGIN
    IF p_from IS NULL OR p_to IS NULL THEN
        RETURN 0;
    END IF;
    month := date_trunc('month', p_from AT TIME ZONE 'UTC')::date;
    last  := date_trunc('month', p_to AT TIME ZONE 'UTC')::date;
    IF last > month + interval '50 years' THEN
        RAISE EXCEPTION 'observations span % to %, more than 50 years: check the timestamps', p_from, p_to;
    END IF;
    WHILE month <= last LOOP
        name := format('observations_%s', to_char(month, 'YYYY_MM'));
        IF to_regclass(format('environment.%I', name)) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE environment.%I PARTITION OF environment.observations FOR VALUES FROM (%L) TO (%L)',
                name, (month::timestamp AT TIME ZONE 'UTC'), ((month + interval '1 month')::timestamp AT TIME ZONE 'UTC'));
            created := created + 1;
        END IF;
        month := (month + interval '1 month')::date;
    END LOOP;
    RETURN created;
END
$$;

CREATE TABLE environment.pollution_sources (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_code   text NOT NULL UNIQUE,
    name          text NOT NULL,
    source_type   text NOT NULL CHECK (source_type IN ('industrial', 'craft_village', 'livestock', 'medical', 'urban_wastewater', 'landfill', 'other')),
    industry      text,
    commune_code  text CHECK (commune_code ~ '^\d{5}$'),
    permit_number text,
    geom          geometry(Point, 4326) NOT NULL,
    source_srid   integer NOT NULL,
    imported_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pollution_sources_geom_idx ON environment.pollution_sources USING gist (geom);
