-- Water resources: permits, works (intakes, wells, outfalls), monitoring stations, river basins.

CREATE SCHEMA water;
COMMENT ON SCHEMA water IS 'Water-resource permits, works, monitoring stations and river basins.';

CREATE TABLE water.river_basins (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    basin_code       text NOT NULL UNIQUE,
    name             text NOT NULL,
    geom             geometry(MultiPolygon, 4326) NOT NULL,
    source_srid      integer NOT NULL,
    computed_area_m2 double precision,
    imported_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX river_basins_geom_idx ON water.river_basins USING gist (geom);

CREATE TABLE water.works (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    work_code     text NOT NULL UNIQUE,
    name          text NOT NULL,
    work_type     text NOT NULL CHECK (work_type IN ('surface_intake', 'well', 'outfall', 'reservoir', 'pumping_station')),
    commune_code  text CHECK (commune_code ~ '^\d{5}$'),
    water_source  text,           -- river name/code, or aquifer for wells
    aquifer       text,           -- aquifer symbol, e.g. qh, qp, n2
    well_depth_m  double precision CHECK (well_depth_m > 0),
    geom          geometry(Point, 4326) NOT NULL,
    source_srid   integer NOT NULL,
    imported_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX works_geom_idx ON water.works USING gist (geom);

CREATE TABLE water.permits (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    permit_number          text NOT NULL UNIQUE,
    permit_type            text NOT NULL CHECK (permit_type IN (
        'surface_water_exploitation', 'groundwater_exploitation', 'groundwater_exploration',
        'sea_water_exploitation', 'discharge')),
    holder_name            text NOT NULL,
    issuing_authority      text NOT NULL,
    work_code              text,
    water_source           text,
    purpose                text,
    max_flow               double precision NOT NULL CHECK (max_flow >= 0),
    flow_unit              text NOT NULL CHECK (flow_unit IN ('m3/day', 'm3/h', 'm3/s')),
    valid_from             date NOT NULL,
    valid_to               date,
    status                 text CHECK (status IN ('active', 'expired', 'suspended', 'revoked')),
    previous_permit_number text,
    imported_at            timestamptz NOT NULL DEFAULT now(),
    CHECK (valid_to IS NULL OR valid_from <= valid_to)
);
CREATE INDEX permits_work_idx ON water.permits (work_code);

CREATE TABLE water.stations (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    station_code text NOT NULL UNIQUE,
    name         text NOT NULL,
    station_type text NOT NULL CHECK (station_type IN ('hydrological', 'rainfall', 'groundwater_well', 'water_quality')),
    basin_code   text,
    river        text,
    operator     text,
    geom         geometry(Point, 4326) NOT NULL,
    source_srid  integer NOT NULL,
    imported_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX water_stations_geom_idx ON water.stations USING gist (geom);
