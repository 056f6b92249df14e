-- The digit-code checks of land.parcels (commune codes: 5 digits, province code: 2) without
-- regular expressions. COPY evaluates every CHECK of the table on every row, and a regular
-- expression match first converts the text to wide characters and runs the regex engine: for a
-- province of a million parcels, loaded by a partition swap, the regex checks cost PostgreSQL
-- about 1.5 s of CPU, with our importer waiting for the same cores. `octet_length(x) = n AND
-- ltrim(x, '0123456789') = ''` is the same rule (exactly n ASCII digits) in a few byte
-- comparisons. The constraints keep their names; they are found by their definition, since the
-- names depend on the history of the database (migration 0012 renamed the old table's).

DO $$
DECLARE
    c record;
    m text[];
BEGIN
    FOR c IN
        SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
        WHERE conrelid = 'land.parcels'::regclass AND contype = 'c'
    LOOP
        m := regexp_match(c.def, '^CHECK \(\((\w+) ~ ''\^\\d\{(\d)\}\$''::text\)\)$');
        IF m IS NOT NULL THEN
            EXECUTE format(
                'ALTER TABLE land.parcels DROP CONSTRAINT %I, '
                'ADD CONSTRAINT %I CHECK (octet_length(%I) = %s AND ltrim(%I, ''0123456789'') = '''')',
                c.conname, c.conname, m[1], m[2], m[1]);
        END IF;
    END LOOP;
END
$$;
