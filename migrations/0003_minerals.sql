-- Geology and minerals: licences, licence areas with ordered corner points, prohibited zones.

CREATE SCHEMA minerals;
COMMENT ON SCHEMA minerals IS 'Mineral-activity licences, licensed areas and prohibited zones.';

CREATE TABLE minerals.licences (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    licence_number          text NOT NULL UNIQUE,        -- soGiayPhep, e.g. 12/GP-UBND
    licence_type            text NOT NULL
        CHECK (licence_type IN ('exploration', 'mining', 'recovery', 'reserve_approval', 'other')),
    minerals                text[] NOT NULL CHECK (cardinality(minerals) >= 1),
    holder_name             text NOT NULL,               -- an organisation (tổ chức)
    issuing_authority       text NOT NULL,
    issued_on               date NOT NULL,
    valid_from              date,
    valid_to                date,
    status                  text CHECK (status IN ('active', 'expired', 'suspended', 'revoked', 'returned')),
    previous_licence_number text,
    province_code           text CHECK (province_code ~ '^\d{2}$'),
    imported_at             timestamptz NOT NULL DEFAULT now(),
    CHECK (valid_to IS NULL OR valid_from IS NULL OR valid_from <= valid_to)
);
CREATE INDEX licences_previous_idx ON minerals.licences (previous_licence_number);

CREATE TABLE minerals.licence_areas (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    licence_number   text NOT NULL,
    area_name        text,
    declared_area_m2 double precision CHECK (declared_area_m2 >= 0),
    -- corner points as on the licence annex, ordered: [{"label": "1", "x": N, "y": E}, ...]
    -- in the source CRS (source_srid); X is the northing, Y the easting, as Vietnamese documents write them
    corner_points    jsonb NOT NULL CHECK (jsonb_typeof(corner_points) = 'array'),
    commune_code     text CHECK (commune_code ~ '^\d{5}$'),
    geom             geometry(MultiPolygon, 4326) NOT NULL,
    source_srid      integer NOT NULL,
    computed_area_m2 double precision,
    imported_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX licence_areas_geom_idx ON minerals.licence_areas USING gist (geom);
CREATE INDEX licence_areas_licence_idx ON minerals.licence_areas (licence_number);

CREATE TABLE minerals.prohibited_zones (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    zone_code       text NOT NULL,
    name            text NOT NULL,
    zone_kind       text NOT NULL CHECK (zone_kind IN ('prohibited', 'temporarily_prohibited')),
    category        text,
    decision_number text,
    decided_on      date,
    province_code   text CHECK (province_code ~ '^\d{2}$'),
    geom            geometry(MultiPolygon, 4326) NOT NULL,
    source_srid     integer NOT NULL,
    imported_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX prohibited_zones_geom_idx ON minerals.prohibited_zones USING gist (geom);
