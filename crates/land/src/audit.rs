//! Which audited features concern one parcel: the parcel itself, the rights on it (and their
//! rows of `land.owners`), and their holders and certificates, for `geosector audit list --parcel commune/sheet/number`. Each
//! entry is a collection id and the statement of its feature ids (`$1` commune code, `$2` sheet
//! number, `$3` parcel number).

/// Collections and the statements of the ids of their features that concern one parcel.
pub const PARCEL_SUBJECTS: &[(&str, &str)] = &[
    (
        "land.parcels",
        "SELECT id FROM land.parcels WHERE commune_code = $1 AND sheet_number = $2 AND parcel_number = $3",
    ),
    (
        "land.parcel_rights",
        "SELECT id FROM land_restricted.parcel_rights WHERE commune_code = $1 AND sheet_number = $2 AND parcel_number = $3",
    ),
    (
        "land.owners",
        "SELECT id FROM land_restricted.owners WHERE commune_code = $1 AND sheet_number = $2 AND parcel_number = $3",
    ),
    (
        "land.parties",
        "SELECT DISTINCT party_id FROM land_restricted.parcel_rights \
         WHERE commune_code = $1 AND sheet_number = $2 AND parcel_number = $3",
    ),
    (
        "land.certificates",
        "SELECT DISTINCT certificate_id FROM land_restricted.parcel_rights \
         WHERE commune_code = $1 AND sheet_number = $2 AND parcel_number = $3 AND certificate_id IS NOT NULL",
    ),
];
