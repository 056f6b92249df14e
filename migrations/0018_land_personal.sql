-- Land users, certificates and rights become importable (issue 18): `geosector import
-- land.parties | land.certificates | land.parcel_rights`. The tables stay in land_restricted,
-- whose USAGE is revoked from PUBLIC (0002).
--
-- Files name rows by the source system's keys, never by database ids (identity columns, new on
-- every load): a party by `party_code`, a certificate by `certificate_code` (e.g. ELIS/VBDLIS
-- giayChungNhanId; `register_number`, soVaoSo, is only unique within one registry book), a parcel
-- by its cadastral key (commune, sheet, parcel). A right names all three; the ids it keeps as
-- foreign keys (party_id, certificate_id) are resolved from the codes here, in SQL, whoever
-- writes the row.
--
-- Replacing parties or certificates (`--replace`: DELETE then INSERT, one transaction) gives them
-- new ids. The foreign keys of the rights are therefore checked at commit (DEFERRABLE INITIALLY
-- DEFERRED), and inserting parties or certificates relinks the rights naming their codes; a right
-- left naming a code the load removed makes the commit fail, so nothing is half-replaced (the
-- land load hook refuses it first, naming the codes).

-- The source's key of each party; the conflict key of `land.parties` (a re-import updates).
ALTER TABLE land_restricted.parties
    ADD COLUMN party_code text CHECK (party_code <> ''),
    ADD COLUMN imported_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE land_restricted.parties ADD CONSTRAINT parties_party_code_key UNIQUE (party_code);

-- The source's key of each certificate; the conflict key of `land.certificates`.
ALTER TABLE land_restricted.certificates
    ADD COLUMN certificate_code text CHECK (certificate_code <> ''),
    ADD COLUMN imported_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE land_restricted.certificates ADD CONSTRAINT certificates_certificate_code_key UNIQUE (certificate_code);

-- A right names its party and certificate by code; the ids follow from them.
ALTER TABLE land_restricted.parcel_rights
    ADD COLUMN party_code text CHECK (party_code <> ''),
    ADD COLUMN certificate_code text CHECK (certificate_code <> ''),
    ADD COLUMN imported_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE land_restricted.parcel_rights
    ALTER CONSTRAINT parcel_rights_party_id_fkey DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE land_restricted.parcel_rights
    ALTER CONSTRAINT parcel_rights_certificate_id_fkey DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX parcel_rights_party_code_idx ON land_restricted.parcel_rights (party_code);
CREATE INDEX parcel_rights_certificate_code_idx ON land_restricted.parcel_rights (certificate_code);

-- party_id / certificate_id of a right from its codes. An unknown code is an error naming the
-- code (a source key, not personal data); the importer's check reports it per feature before.
CREATE FUNCTION land_restricted.resolve_right_codes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.party_code IS NOT NULL THEN
        NEW.party_id := (SELECT id FROM land_restricted.parties WHERE party_code = NEW.party_code);
        IF NEW.party_id IS NULL THEN
            RAISE EXCEPTION 'parcel right on %/%/%: no party with party_code %',
                NEW.commune_code, NEW.sheet_number, NEW.parcel_number, NEW.party_code
                USING ERRCODE = 'foreign_key_violation';
        END IF;
    END IF;
    IF NEW.certificate_code IS NOT NULL THEN
        NEW.certificate_id := (SELECT id FROM land_restricted.certificates WHERE certificate_code = NEW.certificate_code);
        IF NEW.certificate_id IS NULL THEN
            RAISE EXCEPTION 'parcel right on %/%/%: no certificate with certificate_code %',
                NEW.commune_code, NEW.sheet_number, NEW.parcel_number, NEW.certificate_code
                USING ERRCODE = 'foreign_key_violation';
        END IF;
    ELSIF TG_OP = 'UPDATE' AND OLD.certificate_code IS NOT NULL THEN
        NEW.certificate_id := NULL;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER resolve_codes BEFORE INSERT OR UPDATE OF party_code, certificate_code
    ON land_restricted.parcel_rights FOR EACH ROW EXECUTE FUNCTION land_restricted.resolve_right_codes();

-- Newly inserted parties / certificates (a replacing load) take over the rights naming their codes.
CREATE FUNCTION land_restricted.relink_rights_to_parties() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE land_restricted.parcel_rights r SET party_id = n.id
    FROM new_rows n
    WHERE r.party_code = n.party_code AND r.party_id IS DISTINCT FROM n.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER relink_rights AFTER INSERT ON land_restricted.parties
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION land_restricted.relink_rights_to_parties();

CREATE FUNCTION land_restricted.relink_rights_to_certificates() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE land_restricted.parcel_rights r SET certificate_id = n.id
    FROM new_rows n
    WHERE r.certificate_code = n.certificate_code AND r.certificate_id IS DISTINCT FROM n.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER relink_rights AFTER INSERT ON land_restricted.certificates
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION land_restricted.relink_rights_to_certificates();

-- Published (restricted) collections to come: meta.publish (0017) supports tables without
-- geometry (the default column `geom` is absent, so only the data-version row and trigger are
-- installed, as for environment.observations), so it is called as it is.
SELECT meta.publish(t::regclass) FROM unnest(ARRAY[
    'land_restricted.parties', 'land_restricted.certificates', 'land_restricted.parcel_rights'
]) AS t;
