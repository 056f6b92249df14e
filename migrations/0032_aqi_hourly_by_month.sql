-- Hourly VN_AQI partitioned by month (issue 22), so that the refresh of an import bringing
-- months the table does not hold yet writes each such month in bulk: into a table created in
-- the import's transaction, without indexes (COPY appends to the heap; at wal_level = minimal
-- without WAL), whose indexes are then built once over the month's sorted keys when it is
-- attached (crates/environment/src/refresh.rs). Row by row into three B-tree indexes, the
-- 8.76 M values of a year of 1,000 stations cost more than the whole refresh may take
-- (docs/benchmarks.md). Months already held are written through the parent, as before.
--
-- PostgreSQL 15 has no identity columns on partitioned tables: ids come from a sequence and
-- stay unique through it (as for environment.observations, 0011); the sequence hands each
-- session 1,000 ids at a time (a nextval that touches the sequence per row cost a third of the
-- COPY; ids stay unique, only their order is no longer the order rows were written in). The
-- primary key is the natural key (station_code, observed_at), which holds the partition key;
-- station codes compare byte by byte (COLLATE "C": the month's key index is built by a sort,
-- which the C.UTF-8 collation slowed by a third; codes are ASCII, where the two orders agree).
-- No default partition: the refresh creates every month before it writes into it.

ALTER TABLE environment.aqi_hourly RENAME TO aqi_hourly_before_0032;
DROP TRIGGER bump_version ON environment.aqi_hourly_before_0032;
ALTER TABLE environment.aqi_hourly_before_0032 ALTER COLUMN id DROP IDENTITY;  -- frees aqi_hourly_id_seq
ALTER INDEX environment.aqi_hourly_pkey RENAME TO aqi_hourly_before_0032_pkey;
ALTER INDEX environment.aqi_hourly_station_code_observed_at_key RENAME TO aqi_hourly_before_0032_key;
ALTER INDEX environment.aqi_hourly_time_idx RENAME TO aqi_hourly_before_0032_time_idx;
ALTER TABLE environment.aqi_hourly_before_0032 RENAME CONSTRAINT aqi_hourly_aqi_check TO aqi_hourly_before_0032_aqi_check;

CREATE SEQUENCE environment.aqi_hourly_id_seq AS bigint CACHE 1000;
CREATE TABLE environment.aqi_hourly (
    id           bigint NOT NULL DEFAULT nextval('environment.aqi_hourly_id_seq'),
    station_code text COLLATE "C" NOT NULL,
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
    PRIMARY KEY (station_code, observed_at)
) PARTITION BY RANGE (observed_at);
ALTER SEQUENCE environment.aqi_hourly_id_seq OWNED BY environment.aqi_hourly.id;
CREATE INDEX aqi_hourly_id_idx ON environment.aqi_hourly (id);
CREATE INDEX aqi_hourly_time_idx ON environment.aqi_hourly (observed_at);
COMMENT ON TABLE environment.aqi_hourly IS
    'Hourly VN_AQI (QĐ 1459/QĐ-TCMT) per station; observed_at is the start of the hour. Derived by the importer, never edited. Partitioned by UTC month (0032).';

-- The name and bounds of the month partition holding p_at (UTC months, as the observations').
CREATE FUNCTION environment.aqi_hourly_month(p_at timestamptz, OUT name text, OUT lower timestamptz, OUT upper timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT format('aqi_hourly_%s', to_char(date_trunc('month', p_at AT TIME ZONE 'UTC'), 'YYYY_MM')),
           date_trunc('month', p_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
           (date_trunc('month', p_at AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC'
$$;

-- The month of p_at as a new table, not yet a partition, when the table holds no such month:
-- returns its qualified name, for the caller to fill (COPY) and attach
-- (environment.attach_aqi_hourly_month) in the same transaction; NULL when the month is held.
-- The month is locked until the transaction ends: a second import that starts the same month
-- meanwhile waits, then finds it held (and writes through the parent) instead of failing on
-- the table's name.
CREATE FUNCTION environment.begin_aqi_hourly_month(p_at timestamptz) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    m record := environment.aqi_hourly_month(p_at);
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('environment.aqi_hourly'), hashtext(m.name));
    IF to_regclass(format('environment.%I', m.name)) IS NOT NULL THEN
        IF NOT EXISTS (SELECT 1 FROM pg_inherits
                       WHERE inhrelid = format('environment.%I', m.name)::regclass
                         AND inhparent = 'environment.aqi_hourly'::regclass) THEN
            RAISE EXCEPTION 'environment.% exists but is not a partition of environment.aqi_hourly', m.name;
        END IF;
        RETURN NULL;
    END IF;
    EXECUTE format('CREATE TABLE environment.%I (LIKE environment.aqi_hourly INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                   m.name);
    RETURN format('environment.%I', m.name);
END
$$;

-- Attaches the month of p_at that begin_aqi_hourly_month created and the caller filled: its
-- indexes are built now, over its rows at once, and the attach checks that every row lies in
-- the month. Bumps the table's data version (an attach fires no trigger).
CREATE FUNCTION environment.attach_aqi_hourly_month(p_at timestamptz) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    m record := environment.aqi_hourly_month(p_at);
BEGIN
    EXECUTE format('ALTER TABLE environment.aqi_hourly ATTACH PARTITION environment.%I FOR VALUES FROM (%L) TO (%L)',
                   m.name, m.lower, m.upper);
    PERFORM meta.record_change('environment', 'aqi_hourly', NULL);
END
$$;

-- Empty partitions for the months of [p_from, p_to] the table does not hold (writers that go
-- through the parent, e.g. the per-station reference refresh); returns how many it created.
CREATE FUNCTION environment.ensure_aqi_hourly_months(p_from timestamptz, p_to timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    at      timestamptz := p_from;
    m       record;
    created integer := 0;
BEGIN
    IF p_from IS NULL OR p_to IS NULL THEN
        RETURN 0;
    END IF;
    IF p_to > p_from + interval '50 years' THEN
        RAISE EXCEPTION 'hourly VN_AQI spans % to %, more than 50 years: check the timestamps', p_from, p_to;
    END IF;
    WHILE at <= p_to LOOP
        m := environment.aqi_hourly_month(at);
        IF to_regclass(format('environment.%I', m.name)) IS NULL THEN
            EXECUTE format('CREATE TABLE environment.%I PARTITION OF environment.aqi_hourly FOR VALUES FROM (%L) TO (%L)',
                           m.name, m.lower, m.upper);
            created := created + 1;
        END IF;
        at := m.upper;
    END LOOP;
    RETURN created;
END
$$;

SELECT environment.ensure_aqi_hourly_months(min(observed_at), max(observed_at))
FROM environment.aqi_hourly_before_0032;
INSERT INTO environment.aqi_hourly (id, station_code, observed_at, aqi, level, colour, dominant,
                                    si_pm25, si_pm10, si_o3, si_no2, si_so2, si_co, computed_at)
SELECT id, station_code, observed_at, aqi, level, colour, dominant,
       si_pm25, si_pm10, si_o3, si_no2, si_so2, si_co, computed_at
FROM environment.aqi_hourly_before_0032;
SELECT setval('environment.aqi_hourly_id_seq', coalesce((SELECT max(id) FROM environment.aqi_hourly), 0) + 1, false);
DROP TABLE environment.aqi_hourly_before_0032;

SELECT meta.publish('environment.aqi_hourly'::regclass);

-- The server's role (0030) on the new table and its sequence, whichever role runs this.
GRANT SELECT, INSERT, UPDATE, DELETE ON environment.aqi_hourly TO geosector_server;
GRANT USAGE, SELECT ON SEQUENCE environment.aqi_hourly_id_seq TO geosector_server;
