//! The land sector's load hook ([`PersonalDataHook`]): what an import of the restricted datasets
//! of [`crate::personal`] does beyond the generic load, called by the importer through
//! [`geosector_store::hook::LoadHook`].
//!
//! - `land.parcel_rights`, before reading ([`LoadHook::prepare`]): the parcel keys of
//!   `land.parcels` and the codes of the stored parties and certificates are read once, in the
//!   import's transaction, and every right is checked against them by the import's workers
//!   ([`RightsCheck`]): a right naming a parcel, party or certificate that is not stored is
//!   rejected, naming the feature and the field. Parcel keys are kept as 64-bit hashes (about
//!   20 bytes per parcel; a missing key passes only on a hash collision, odds about 1 in 10¹³
//!   per right for a million parcels); codes are kept whole.
//! - `land.parties`, per row: `party_type` and `id_type` are compared in lower case, and a
//!   missing `id_type` is taken from the number's shape when only one type fits (12 digits:
//!   CCCD, 9 digits: CMND; files with only the standard's `cccd` column) ([`PartyNormaliser`]).
//! - `land.parties` and `land.certificates`, after the move ([`LoadHook::after_move`]): a
//!   replacing load gives the rows new ids, and migration 0018 relinks the rights by code; a
//!   right still naming a code the load removed fails the import, naming the codes, so that
//!   nothing is half-replaced.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use futures_util::TryStreamExt;
use geosector_domain::{CellValue, Dataset};
use geosector_store::hook::{HookError, HookFuture, HookReport, LoadHook, RowCheck, RowRejection};
use tokio_postgres::types::ToSql;
use tokio_postgres::Transaction;

use crate::personal::{self, CERTIFICATES, PARCEL_RIGHTS, PARTIES};

/// Which restricted dataset a hook serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Parties,
    Certificates,
    Rights,
}

/// The load hook of `land.parties`, `land.certificates` and `land.parcel_rights`.
#[derive(Debug, Clone)]
pub struct PersonalDataHook {
    kind: Kind,
}

impl PersonalDataHook {
    /// The hook for `dataset` when it is one of the restricted land datasets, else `None`.
    pub fn for_dataset(dataset: &Dataset) -> Option<PersonalDataHook> {
        let kind = if dataset.id == PARTIES.id {
            Kind::Parties
        } else if dataset.id == CERTIFICATES.id {
            Kind::Certificates
        } else if dataset.id == PARCEL_RIGHTS.id {
            Kind::Rights
        } else {
            return None;
        };
        Some(PersonalDataHook { kind })
    }
}

impl LoadHook for PersonalDataHook {
    fn prepare<'a>(
        &'a self,
        tx: &'a Transaction<'_>,
        dataset: &'static Dataset,
    ) -> HookFuture<'a, Option<Arc<dyn RowCheck>>> {
        Box::pin(async move {
            Ok(match self.kind {
                Kind::Parties => Some(Arc::new(PartyNormaliser::new(dataset)) as Arc<dyn RowCheck>),
                Kind::Certificates => None,
                Kind::Rights => Some(Arc::new(RightsCheck::prepare(tx, dataset).await?) as Arc<dyn RowCheck>),
            })
        })
    }

    fn after_move<'a>(
        &'a self,
        tx: &'a Transaction<'_>,
        _staging: Option<&'a str>,
    ) -> HookFuture<'a, Option<HookReport>> {
        Box::pin(async move {
            match self.kind {
                Kind::Parties => {
                    refuse_orphans(tx, ORPHANS_OF_PARTIES, "parties", "land.parties").await?;
                }
                Kind::Certificates => {
                    refuse_orphans(tx, ORPHANS_OF_CERTIFICATES, "certificates", "land.certificates").await?;
                }
                Kind::Rights => {}
            }
            Ok(None)
        })
    }
}

/// Rights whose party is gone (a replacing load without their party code): how many, and the
/// first codes.
const ORPHANS_OF_PARTIES: &str = "SELECT count(*), coalesce((array_agg(DISTINCT code ORDER BY code))[1:5], '{}')
     FROM (SELECT coalesce(r.party_code, '#' || r.party_id) AS code FROM land_restricted.parcel_rights r
           WHERE NOT EXISTS (SELECT 1 FROM land_restricted.parties p WHERE p.id = r.party_id)) AS gone";

/// Rights whose certificate is gone.
const ORPHANS_OF_CERTIFICATES: &str = "SELECT count(*), coalesce((array_agg(DISTINCT code ORDER BY code))[1:5], '{}')
     FROM (SELECT coalesce(r.certificate_code, '#' || r.certificate_id) AS code FROM land_restricted.parcel_rights r
           WHERE r.certificate_id IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM land_restricted.certificates c WHERE c.id = r.certificate_id)) AS gone";

/// Fails the import when rights name rows this load removed (else the deferred foreign keys
/// would fail the commit with a less helpful message).
async fn refuse_orphans(tx: &Transaction<'_>, sql: &str, what: &str, dataset: &str) -> Result<(), HookError> {
    let row = tx.query_one(sql, &[]).await?;
    let (count, codes): (i64, Vec<String>) = (row.get(0), row.get(1));
    if count == 0 {
        return Ok(());
    }
    let more = if usize::try_from(count).is_ok_and(|n| n > codes.len()) { ", …" } else { "" };
    Err(HookError::Failed(format!(
        "{count} parcel rights name {what} this load removes ({}{more}): keep those {what} in the file, or replace the rights first (geosector import land.parcel_rights FILE --replace) and then {dataset}",
        codes.join(", ")
    )))
}

/// The position of a column among a dataset's fields (`usize::MAX` when absent: every lookup
/// by it then finds nothing).
fn position(dataset: &Dataset, column: &str) -> usize {
    dataset.fields.iter().position(|f| f.column == column).unwrap_or(usize::MAX)
}

fn text_at(cells: &[CellValue], i: usize) -> Option<&str> {
    match cells.get(i) {
        Some(CellValue::Text(s)) => Some(s),
        _ => None,
    }
}

/// Normalises one party row: `party_type` and `id_type` in lower case, and a missing `id_type`
/// from the number's shape ([`personal::id_type_of`]). The rules of [`personal`] then judge it.
#[derive(Debug)]
pub struct PartyNormaliser {
    party_type: usize,
    id_type: usize,
    id_number: usize,
}

impl PartyNormaliser {
    /// The normaliser of `dataset`'s columns.
    pub fn new(dataset: &Dataset) -> PartyNormaliser {
        PartyNormaliser {
            party_type: position(dataset, "party_type"),
            id_type: position(dataset, "id_type"),
            id_number: position(dataset, "id_number"),
        }
    }
}

impl RowCheck for PartyNormaliser {
    fn check(&self, cells: &mut [CellValue]) -> Result<(), RowRejection> {
        for i in [self.party_type, self.id_type] {
            if let Some(CellValue::Text(s)) = cells.get_mut(i) {
                s.make_ascii_lowercase();
            }
        }
        let inferred = match (text_at(cells, self.id_type), text_at(cells, self.id_number)) {
            (None, Some(number)) => personal::id_type_of(number),
            _ => None,
        };
        if let (Some(kind), Some(cell)) = (inferred, cells.get_mut(self.id_type)) {
            *cell = CellValue::Text(kind.to_owned());
        }
        Ok(())
    }
}

/// A 64-bit hash of a parcel key (commune, sheet, parcel), the same for a stored parcel and a
/// right naming it.
fn parcel_key_hash(commune: &str, sheet: i32, parcel: &str) -> u64 {
    let mut h = DefaultHasher::new();
    (commune, sheet, parcel).hash(&mut h);
    h.finish()
}

/// Checks that a right names a stored parcel, party and certificate (shared read-only by the
/// import's workers).
#[derive(Debug)]
pub struct RightsCheck {
    parcels: HashSet<u64>,
    parties: HashSet<String>,
    certificates: HashSet<String>,
    /// Positions of commune, sheet, parcel, party code, certificate code.
    columns: [usize; 5],
}

/// Rows of a query, streamed (tables of a province hold millions of parcels).
async fn each_row(tx: &Transaction<'_>, sql: &str, mut f: impl FnMut(&tokio_postgres::Row)) -> Result<(), HookError> {
    let none: [&(dyn ToSql + Sync); 0] = [];
    let rows = tx.query_raw(sql, none).await?;
    futures_util::pin_mut!(rows);
    while let Some(row) = rows.try_next().await? {
        f(&row);
    }
    Ok(())
}

impl RightsCheck {
    /// Reads the stored parcel keys, party codes and certificate codes, in the import's
    /// transaction.
    ///
    /// # Errors
    /// A database error.
    pub async fn prepare(tx: &Transaction<'_>, dataset: &Dataset) -> Result<RightsCheck, HookError> {
        let mut parcels = HashSet::new();
        each_row(tx, "SELECT commune_code, sheet_number, parcel_number FROM land.parcels", |r| {
            parcels.insert(parcel_key_hash(r.get(0), r.get(1), r.get(2)));
        })
        .await?;
        let mut parties = HashSet::new();
        each_row(tx, "SELECT party_code FROM land_restricted.parties WHERE party_code IS NOT NULL", |r| {
            parties.insert(r.get(0));
        })
        .await?;
        let mut certificates = HashSet::new();
        each_row(
            tx,
            "SELECT certificate_code FROM land_restricted.certificates WHERE certificate_code IS NOT NULL",
            |r| {
                certificates.insert(r.get(0));
            },
        )
        .await?;
        Ok(RightsCheck::new(parcels, parties, certificates, dataset))
    }

    /// A check against these parcel key hashes ([`parcel_key_hash`]) and codes.
    fn new(
        parcels: HashSet<u64>,
        parties: HashSet<String>,
        certificates: HashSet<String>,
        dataset: &Dataset,
    ) -> RightsCheck {
        let columns = ["commune_code", "sheet_number", "parcel_number", "party_code", "certificate_code"]
            .map(|c| position(dataset, c));
        RightsCheck { parcels, parties, certificates, columns }
    }
}

impl RowCheck for RightsCheck {
    fn check(&self, cells: &mut [CellValue]) -> Result<(), RowRejection> {
        let [commune, sheet, parcel, party, certificate] = self.columns;
        if let (Some(commune), Some(CellValue::Integer(sheet)), Some(parcel)) =
            (text_at(cells, commune), cells.get(sheet), text_at(cells, parcel))
        {
            if !self.parcels.contains(&parcel_key_hash(commune, *sheet, parcel)) {
                return Err(RowRejection::new(
                    "parcel_number",
                    format!(
                        "parcel {commune}/{sheet}/{parcel} (commune/sheet/parcel) is not in land.parcels: import the parcels first"
                    ),
                ));
            }
        }
        if let Some(code) = text_at(cells, party) {
            if !self.parties.contains(code) {
                return Err(RowRejection::new(
                    "party_code",
                    format!("party {code} is not in land_restricted.parties: import it with land.parties first"),
                ));
            }
        }
        if let Some(code) = text_at(cells, certificate) {
            if !self.certificates.contains(code) {
                return Err(RowRejection::new(
                    "certificate_code",
                    format!(
                        "certificate {code} is not in land_restricted.certificates: import it with land.certificates first"
                    ),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> CellValue {
        CellValue::Text(s.to_owned())
    }

    fn rights() -> RightsCheck {
        RightsCheck::new(
            HashSet::from([parcel_key_hash("00376", 1, "12")]),
            HashSet::from(["P0001".to_owned()]),
            HashSet::from(["GCN-1".to_owned()]),
            &PARCEL_RIGHTS,
        )
    }

    fn right(sheet: i32, parcel: &str, party: &str, certificate: Option<&str>) -> Vec<CellValue> {
        vec![
            text("00376"),
            CellValue::Integer(sheet),
            text(parcel),
            text(party),
            certificate.map_or(CellValue::Null, text),
            CellValue::Float(1.0),
        ]
    }

    #[test]
    fn rights_name_stored_parcels_parties_and_certificates() {
        let check = rights();
        check.check(&mut right(1, "12", "P0001", Some("GCN-1"))).unwrap();
        check.check(&mut right(1, "12", "P0001", None)).unwrap();
        let column = |mut cells: Vec<CellValue>| check.check(&mut cells).unwrap_err().column;
        assert_eq!(column(right(2, "12", "P0001", None)), "parcel_number");
        assert_eq!(column(right(1, "13", "P0001", None)), "parcel_number");
        assert_eq!(column(right(1, "12", "P0002", None)), "party_code");
        assert_eq!(column(right(1, "12", "P0001", Some("GCN-2"))), "certificate_code");
        let e = check.check(&mut right(1, "99", "P0001", None)).unwrap_err();
        assert!(e.message.contains("parcel 00376/1/99"), "{}", e.message);
        // A row too short for the declaration is not a panic.
        check.check(&mut []).unwrap();
    }

    #[test]
    fn parties_are_normalised() {
        let n = PartyNormaliser::new(&PARTIES);
        let mut row: Vec<CellValue> = PARTIES.fields.iter().map(|_| CellValue::Null).collect();
        row[position(&PARTIES, "party_type")] = text("Individual");
        row[position(&PARTIES, "id_number")] = text("001012341234");
        n.check(&mut row).unwrap();
        assert_eq!(row[position(&PARTIES, "party_type")], text("individual"));
        assert_eq!(row[position(&PARTIES, "id_type")], text("cccd"));
        row[position(&PARTIES, "id_type")] = text("PASSPORT");
        n.check(&mut row).unwrap();
        assert_eq!(row[position(&PARTIES, "id_type")], text("passport"), "a given type is kept");
        n.check(&mut []).unwrap();
    }

    #[test]
    fn the_hook_is_only_for_the_restricted_datasets() {
        assert!(PersonalDataHook::for_dataset(&PARTIES).is_some());
        assert!(PersonalDataHook::for_dataset(&CERTIFICATES).is_some());
        assert!(PersonalDataHook::for_dataset(&PARCEL_RIGHTS).is_some());
        assert!(PersonalDataHook::for_dataset(&crate::PARCELS).is_none());
    }
}
