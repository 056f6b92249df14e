-- Land (cadastre): parcels and map sheets, public; owners, ID numbers and certificates in the
-- restricted schema land_restricted, which no endpoint publishes.
-- Column ↔ standard field mapping: docs/data-model.md.
-- Geometry is stored in EPSG:4326 (see docs/architecture.md); the source CRS is kept in
-- source_srid and the area computed in the source projected CRS in computed_area_m2.

CREATE SCHEMA land;
COMMENT ON SCHEMA land IS 'Cadastral parcels and map sheets (public data).';

CREATE TABLE land.map_sheets (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    commune_code        text NOT NULL CHECK (commune_code ~ '^\d{5}$'),
    former_commune_code text CHECK (former_commune_code ~ '^\d{5}$'),
    sheet_number        integer NOT NULL CHECK (sheet_number > 0),
    map_scale           integer CHECK (map_scale > 0),
    survey_date         date,
    geom                geometry(MultiPolygon, 4326) NOT NULL,
    source_srid         integer NOT NULL,
    imported_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX map_sheets_geom_idx ON land.map_sheets USING gist (geom);
CREATE INDEX map_sheets_key_idx ON land.map_sheets (commune_code, sheet_number);

CREATE TABLE land.parcels (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    commune_code         text NOT NULL CHECK (commune_code ~ '^\d{5}$'),
    former_commune_code  text CHECK (former_commune_code ~ '^\d{5}$'),
    sheet_number         integer NOT NULL CHECK (sheet_number > 0),
    parcel_number        text NOT NULL CHECK (parcel_number <> ''),
    former_sheet_number  integer,
    former_parcel_number text,
    -- one or more land-use purposes (DC_MucDichSuDung), in order, each with its area
    land_use_codes       text[] NOT NULL CHECK (cardinality(land_use_codes) >= 1),
    land_use_areas_m2    double precision[]
        CHECK (land_use_areas_m2 IS NULL OR cardinality(land_use_areas_m2) = cardinality(land_use_codes)),
    main_land_use        text GENERATED ALWAYS AS (land_use_codes[1]) STORED,
    declared_area_m2     double precision CHECK (declared_area_m2 >= 0),
    legal_area_m2        double precision CHECK (legal_area_m2 >= 0),
    address              text,
    map_scale            integer CHECK (map_scale > 0),
    survey_date          date,
    geom                 geometry(MultiPolygon, 4326) NOT NULL,
    source_srid          integer NOT NULL,
    computed_area_m2     double precision,
    imported_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX parcels_geom_idx ON land.parcels USING gist (geom);
-- not unique: real data hold duplicate (sheet, parcel) keys, flagged at import, never dropped
CREATE INDEX parcels_key_idx ON land.parcels (commune_code, sheet_number, parcel_number);
CREATE INDEX parcels_main_land_use_idx ON land.parcels (main_land_use);

CREATE SCHEMA land_restricted;
COMMENT ON SCHEMA land_restricted IS
    'Personal data (owners, ID numbers, certificates). Never registered as a collection; readable only by roles granted explicitly.';
REVOKE ALL ON SCHEMA land_restricted FROM PUBLIC;

-- Land users (DC_CaNhan / organisations).
CREATE TABLE land_restricted.parties (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    party_type  text NOT NULL CHECK (party_type IN ('individual', 'household', 'organisation', 'community', 'state')),
    user_code   text,              -- land-user code of TT 08/2024 Annex II-B (CNV, TKT, ...)
    full_name   text NOT NULL,
    id_type     text CHECK (id_type IN ('cccd', 'cmnd', 'passport', 'business_registration')),
    id_number   text,
    birth_date  date,
    address     text,
    CHECK (id_type IS DISTINCT FROM 'cccd' OR id_number ~ '^\d{12}$'),
    CHECK (id_type IS DISTINCT FROM 'cmnd' OR id_number ~ '^\d{9}$')
);

-- Certificates of land-use rights (DC_GiayChungNhan).
CREATE TABLE land_restricted.certificates (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    certificate_serial text,
    register_number    text NOT NULL,   -- soVaoSo
    certificate_type   text,
    issued_on          date NOT NULL
);

-- Who holds which right on which parcel, under which certificate. The parcel is named by its
-- cadastral key, not by land.parcels.id: parcels are reloaded from survey data (new ids), and a
-- reload must never delete or orphan rights.
CREATE TABLE land_restricted.parcel_rights (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    commune_code   text NOT NULL CHECK (commune_code ~ '^\d{5}$'),
    sheet_number   integer NOT NULL,
    parcel_number  text NOT NULL,
    party_id       bigint NOT NULL REFERENCES land_restricted.parties (id),
    certificate_id bigint REFERENCES land_restricted.certificates (id),
    share          double precision CHECK (share > 0 AND share <= 1)
);
CREATE INDEX parcel_rights_key_idx ON land_restricted.parcel_rights (commune_code, sheet_number, parcel_number);
