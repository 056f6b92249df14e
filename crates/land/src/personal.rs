//! Land users, certificates and rights: the personal data of the cadastre (owners, ID numbers,
//! certificates), importable into the restricted schema `land_restricted` and never published
//! by this crate (../shared/domain/vietnam-brief.md §11 and loader rule 11, "Certificates and
//! owners").
//!
//! Three datasets, loaded in this order: [`PARTIES`] (`DC_CaNhan` or an organisation),
//! [`CERTIFICATES`] (`DC_GiayChungNhan`) and [`PARCEL_RIGHTS`] (who holds which parcel under
//! which certificate). Files name rows by the source system's keys, never by database ids: a
//! party by `party_code`, a certificate by `certificate_code`, a parcel by its cadastral key
//! (commune, sheet, parcel); migration 0018 resolves the codes to the tables' ids in SQL. That a
//! right's parcel, party and certificate exist is checked against the database by the land load
//! hook ([`crate::load_hook`]); the rules on one row's values are here.
//!
//! An ID number is never written whole into a finding: reports and logs are files people pass
//! around. [`mask_id`] keeps its first and last third (`0010****1234`).

use chrono::{NaiveDate, Utc};
use geosector_domain::rules::{Check, FeatureRule, FeatureView, Params, RuleDecl, Severity, Violation};
use geosector_domain::value::vietnam_offset;
use geosector_domain::{Dataset, Field, FieldType as T};

/// The party types of `land_restricted.parties` (its CHECK constraint, migration 0002).
pub const PARTY_TYPES: &[&str] = &["individual", "household", "organisation", "community", "state"];

/// The ID document types of `land_restricted.parties`: CCCD (12-digit citizen identity card),
/// CMND (the older 9-digit identity card), passport, business registration.
pub const ID_TYPES: &[&str] = &["cccd", "cmnd", "passport", "business_registration"];

/// The names a file may give a party's key (in the parties file and in the rights file).
const PARTY_CODE_NAMES: &[&str] = &["party_code", "caNhanId", "chuSuDungId", "ma_chu"];
/// The names a file may give a certificate's key.
const CERTIFICATE_CODE_NAMES: &[&str] = &["certificate_code", "giayChungNhanId", "ma_gcn"];

/// `land.parties`: land users, persons (`DC_CaNhan`: ten, cccd, ngaySinh) or organisations.
pub const PARTIES: Dataset = Dataset {
    id: "land.parties",
    description: "Land users (DC_CaNhan, organisations): names, ID numbers, birth dates (restricted)",
    schema: "land_restricted",
    table: "parties",
    fields: &[
        Field::new("party_code", PARTY_CODE_NAMES, T::Text, true),
        Field::new("party_type", &["party_type", "loaiChu", "loai_chu"], T::Text, true),
        Field::new("user_code", &["user_code", "maDoiTuongSuDung", "doiTuongSuDung"], T::Text, false),
        Field::new("full_name", &["full_name", "ten", "hoTen", "tenChu"], T::Text, true),
        Field::new("id_type", &["id_type", "loaiGiayTo"], T::Text, false),
        Field::new("id_number", &["id_number", "cccd", "soGiayTo", "soDinhDanh"], T::Text, false),
        Field::new("birth_date", &["birth_date", "ngaySinh"], T::Date, false),
        Field::new("address", &["address", "diaChi"], T::Text, false),
    ],
    geometry: None,
    conflict_key: Some(&["party_code"]),
    prepare_sql: None,
    partition: None,
    rules: PARTY_RULES,
    history: None,
};

/// `land.certificates`: certificates of land-use rights (`DC_GiayChungNhan`).
pub const CERTIFICATES: Dataset = Dataset {
    id: "land.certificates",
    description: "Certificates of land-use rights (DC_GiayChungNhan): serial, register number, issue date (restricted)",
    schema: "land_restricted",
    table: "certificates",
    fields: &[
        Field::new("certificate_code", CERTIFICATE_CODE_NAMES, T::Text, true),
        Field::new("certificate_serial", &["certificate_serial", "seri", "soSeri", "soPhatHanh"], T::Text, false),
        Field::new("register_number", &["register_number", "soVaoSo", "so_vao_so"], T::Text, true),
        Field::new("certificate_type", &["certificate_type", "loaiGiayChungNhan"], T::Text, false),
        Field::new("issued_on", &["issued_on", "ngayCapGcn", "ngayCap"], T::Date, true),
    ],
    geometry: None,
    conflict_key: Some(&["certificate_code"]),
    prepare_sql: None,
    partition: None,
    rules: CERTIFICATE_RULES,
    history: None,
};

/// `land.parcel_rights`: who holds a right on which parcel (by its cadastral key, which
/// survives parcel reloads), under which certificate, with which share.
pub const PARCEL_RIGHTS: Dataset = Dataset {
    id: "land.parcel_rights",
    description: "Rights on parcels: parcel key, party, certificate and share (restricted)",
    schema: "land_restricted",
    table: "parcel_rights",
    fields: &[
        Field::new("commune_code", &["commune_code", "maXa", "ma_xa"], T::Code { digits: 5 }, true),
        Field::new("sheet_number", &["sheet_number", "soHieuToBanDo", "so_to"], T::Integer, true),
        Field::new("parcel_number", &["parcel_number", "soThuTuThua", "so_thua"], T::Text, true),
        Field::new("party_code", PARTY_CODE_NAMES, T::Text, true),
        Field::new("certificate_code", CERTIFICATE_CODE_NAMES, T::Text, false),
        Field::new("share", &["share", "tyLeSoHuu", "ty_le"], T::Float, false),
    ],
    geometry: None,
    conflict_key: None,
    prepare_sql: None,
    partition: None,
    rules: RIGHT_RULES,
    history: None,
};

/// The rules of `land.parties` (brief rule 11).
pub const PARTY_RULES: &[RuleDecl] = &[
    RuleDecl {
        id: "land.party_type",
        description: "party_type is individual, household, organisation, community or state (land_restricted.parties)",
        default_severity: Severity::Reject,
        params: &[],
        check: Check::Feature(&PartyType),
    },
    RuleDecl {
        id: "land.party_id_number",
        description: "id_type is cccd, cmnd, passport or business_registration and comes with its number; CCCD exactly 12 digits, CMND exactly 9 (brief rule 11); numbers reported masked",
        default_severity: Severity::Reject,
        params: &[],
        check: Check::Feature(&IdNumber),
    },
    RuleDecl {
        id: "land.party_name",
        description: "full_name (ten) holds a name: at least one letter (brief rule 11, owner present)",
        default_severity: Severity::Reject,
        params: &[],
        check: Check::Feature(&HasLetter { field: "full_name", what: "full name" }),
    },
    RuleDecl {
        id: "land.party_birth_date",
        description: "birth_date (ngaySinh) is not in the future (Vietnam's date)",
        default_severity: Severity::Reject,
        params: &[],
        check: Check::Feature(&NotInFuture { field: "birth_date", what: "birth date" }),
    },
    RuleDecl {
        id: "land.party_code_unique",
        description: "party_code unique within the load (a later row would replace an earlier one)",
        default_severity: Severity::Flag,
        params: &[],
        check: Check::UniqueKey { columns: &["party_code"] },
    },
];

/// The rules of `land.certificates` (brief rule 11).
pub const CERTIFICATE_RULES: &[RuleDecl] = &[
    RuleDecl {
        id: "land.certificate_register_number",
        description: "register_number (soVaoSo) holds a number: at least one letter or digit (brief rule 11)",
        default_severity: Severity::Reject,
        params: &[],
        check: Check::Feature(&RegisterNumber),
    },
    RuleDecl {
        id: "land.certificate_issued",
        description: "issued_on (ngayCapGcn) ≤ today, Vietnam's date (brief rule 11)",
        default_severity: Severity::Reject,
        params: &[],
        check: Check::Feature(&NotInFuture { field: "issued_on", what: "issue date" }),
    },
    RuleDecl {
        id: "land.certificate_code_unique",
        description: "certificate_code unique within the load (a later row would replace an earlier one)",
        default_severity: Severity::Flag,
        params: &[],
        check: Check::UniqueKey { columns: &["certificate_code"] },
    },
];

/// The rules of `land.parcel_rights` on one row; that its parcel, party and certificate exist
/// is checked against the database by [`crate::load_hook`].
pub const RIGHT_RULES: &[RuleDecl] = &[
    RuleDecl {
        id: "land.right_share",
        description: "share, when given, is in (0, 1]",
        default_severity: Severity::Reject,
        params: &[],
        check: Check::Feature(&Share),
    },
    RuleDecl {
        id: "land.right_unique",
        description: "one right per (commune, sheet, parcel, party) within the load",
        default_severity: Severity::Flag,
        params: &[],
        check: Check::UniqueKey { columns: &["commune_code", "sheet_number", "parcel_number", "party_code"] },
    },
];

/// Today in Vietnam (UTC+7), the date a future date is judged against.
pub fn vietnam_today() -> NaiveDate {
    Utc::now().with_timezone(&vietnam_offset()).date_naive()
}

/// An ID number as reports may show it: its first and last third kept, the middle starred
/// (`001203012345` → `0012****2345`, `012345678` → `012***678`); numbers under 3 characters are
/// starred whole. Counted in characters, so any text is safe to mask.
pub fn mask_id(number: &str) -> String {
    let chars: Vec<char> = number.chars().collect();
    let keep = chars.len() / 3;
    chars.iter().enumerate().map(|(i, c)| if i < keep || i + keep >= chars.len() { *c } else { '*' }).collect()
}

/// A value of a personal-data field as a message may show it: masked when it holds a digit (an
/// ID number typed into the wrong column must not leak through another rule's message).
fn shown(value: &str) -> String {
    if value.bytes().any(|b| b.is_ascii_digit()) {
        format!("{:?} (masked)", mask_id(value))
    } else {
        format!("{value:?}")
    }
}

/// The type of ID document a number of this shape is, when only one can be: 12 digits are a
/// CCCD, 9 digits a CMND (passports start with a letter; business registrations have 10 or 13
/// digits). Used to fill a missing `id_type` of files that only have the standard's `cccd`.
pub fn id_type_of(number: &str) -> Option<&'static str> {
    if !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match number.len() {
        12 => Some("cccd"),
        9 => Some("cmnd"),
        _ => None,
    }
}

/// `party_type` must be one of [`PARTY_TYPES`].
#[derive(Debug)]
pub struct PartyType;

impl FeatureRule for PartyType {
    fn check(&self, f: &FeatureView<'_>, _: &Params, report: &mut dyn FnMut(Violation)) {
        let Some(kind) = f.text("party_type") else { return };
        if !PARTY_TYPES.contains(&kind) {
            report(Violation::on(
                "party_type",
                format!("{} is not a party type: expected one of {}", shown(kind), PARTY_TYPES.join(", ")),
            ));
        }
    }
}

/// `id_type` and `id_number` go together; a CCCD has exactly 12 digits, a CMND exactly 9. The
/// number is only ever reported masked ([`mask_id`]).
#[derive(Debug)]
pub struct IdNumber;

impl FeatureRule for IdNumber {
    fn check(&self, f: &FeatureView<'_>, _: &Params, report: &mut dyn FnMut(Violation)) {
        match (f.text("id_type"), f.text("id_number")) {
            (None, None) => {}
            (Some(kind), _) if !ID_TYPES.contains(&kind) => report(Violation::on(
                "id_type",
                format!("{} is not an ID type: expected one of {}", shown(kind), ID_TYPES.join(", ")),
            )),
            (Some(kind), None) => {
                report(Violation::on("id_number", format!("id_type is {kind} but no id_number is given")));
            }
            (None, Some(number)) => report(Violation::on(
                "id_type",
                format!("id_number {} is given without its id_type ({})", mask_id(number), ID_TYPES.join(", ")),
            )),
            (Some(kind), Some(number)) => {
                let digits = match kind {
                    "cccd" => 12,
                    "cmnd" => 9,
                    _ => return,
                };
                let all_digits = number.bytes().all(|b| b.is_ascii_digit());
                let length = number.chars().count();
                if !all_digits || length != digits {
                    let what = if all_digits {
                        format!("{length} digits")
                    } else {
                        format!("{length} characters, not all digits")
                    };
                    report(Violation::on(
                        "id_number",
                        format!(
                            "a {} number has exactly {digits} digits: {} has {what}",
                            kind.to_uppercase(),
                            mask_id(number)
                        ),
                    ));
                }
            }
        }
    }
}

/// A text field holds at least one letter (a name, not a placeholder such as `-` or `0`).
#[derive(Debug)]
pub struct HasLetter {
    /// The column.
    pub field: &'static str,
    /// What it holds, for the message.
    pub what: &'static str,
}

impl FeatureRule for HasLetter {
    fn check(&self, f: &FeatureView<'_>, _: &Params, report: &mut dyn FnMut(Violation)) {
        let Some(text) = f.text(self.field) else { return };
        if !text.chars().any(char::is_alphabetic) {
            report(Violation::on(self.field, format!("the {} {} holds no letter", self.what, shown(text))));
        }
    }
}

/// The register number (soVaoSo) holds at least one letter or digit.
#[derive(Debug)]
pub struct RegisterNumber;

impl FeatureRule for RegisterNumber {
    fn check(&self, f: &FeatureView<'_>, _: &Params, report: &mut dyn FnMut(Violation)) {
        let Some(text) = f.text("register_number") else { return };
        if !text.chars().any(char::is_alphanumeric) {
            report(Violation::on("register_number", format!("register number (soVaoSo) {text:?} is empty")));
        }
    }
}

/// A date field is not after today in Vietnam.
#[derive(Debug)]
pub struct NotInFuture {
    /// The column.
    pub field: &'static str,
    /// What the date is, for the message.
    pub what: &'static str,
}

impl NotInFuture {
    /// The check against a given day.
    fn check_at(&self, f: &FeatureView<'_>, today: NaiveDate, report: &mut dyn FnMut(Violation)) {
        if let Some(day) = f.date(self.field).filter(|d| *d > today) {
            report(Violation::on(self.field, format!("the {} {day} is in the future (today is {today})", self.what)));
        }
    }
}

impl FeatureRule for NotInFuture {
    fn check(&self, f: &FeatureView<'_>, _: &Params, report: &mut dyn FnMut(Violation)) {
        self.check_at(f, vietnam_today(), report);
    }
}

/// A right's share, when given, is in (0, 1].
#[derive(Debug)]
pub struct Share;

impl FeatureRule for Share {
    fn check(&self, f: &FeatureView<'_>, _: &Params, report: &mut dyn FnMut(Violation)) {
        let Some(share) = f.number("share") else { return };
        if !(share > 0.0 && share <= 1.0) {
            report(Violation::on("share", format!("share {share} is not in (0, 1]")));
        }
    }
}

#[cfg(test)]
mod tests {
    use geosector_domain::CellValue as V;

    use super::*;

    fn row(dataset: &Dataset, values: &[(&str, V)]) -> Vec<V> {
        dataset
            .fields
            .iter()
            .map(|f| values.iter().find(|(c, _)| *c == f.column).map_or(V::Null, |(_, v)| v.clone()))
            .collect()
    }

    fn run(rule: &dyn FeatureRule, dataset: &'static Dataset, cells: &[V]) -> Vec<Violation> {
        let params = Params::defaults(dataset.rules);
        let view = FeatureView { dataset, cells, area_m2: None, historical: false };
        let mut found = Vec::new();
        rule.check(&view, &params, &mut |v| found.push(v));
        found
    }

    fn text(s: &str) -> V {
        V::Text(s.to_owned())
    }

    fn party(id_type: Option<&str>, number: Option<&str>) -> Vec<V> {
        row(
            &PARTIES,
            &[
                ("id_type", id_type.map_or(V::Null, text)),
                ("id_number", number.map_or(V::Null, text)),
                ("full_name", text("Nguyễn Văn An")),
                ("party_type", text("individual")),
            ],
        )
    }

    #[test]
    fn declarations_are_consistent() {
        for d in [&PARTIES, &CERTIFICATES, &PARCEL_RIGHTS] {
            d.check().unwrap();
            geosector_domain::rules::check_rules(d).unwrap();
        }
    }

    #[test]
    fn standard_names_find_their_columns() {
        assert_eq!(PARTIES.field_for_property("ten").unwrap().column, "full_name");
        assert_eq!(PARTIES.field_for_property("CCCD").unwrap().column, "id_number");
        assert_eq!(PARTIES.field_for_property("ngaySinh").unwrap().column, "birth_date");
        assert_eq!(CERTIFICATES.field_for_property("soVaoSo").unwrap().column, "register_number");
        assert_eq!(CERTIFICATES.field_for_property("seri").unwrap().column, "certificate_serial");
        assert_eq!(CERTIFICATES.field_for_property("ngayCapGcn").unwrap().column, "issued_on");
        assert_eq!(PARCEL_RIGHTS.field_for_property("soThuTuThua").unwrap().column, "parcel_number");
    }

    #[test]
    fn masks_keep_a_third_at_each_end() {
        assert_eq!(mask_id("001012341234"), "0010****1234");
        assert_eq!(mask_id("012345678"), "012***678");
        assert_eq!(mask_id("00101234123"), "001*****123");
        assert_eq!(mask_id("12"), "12".chars().map(|_| '*').collect::<String>());
        assert_eq!(mask_id(""), "");
        assert_eq!(mask_id("ẞ1ẞ2ẞ3"), "ẞ1**ẞ3");
    }

    #[test]
    fn id_types_follow_the_number_shape() {
        assert_eq!(id_type_of("001012341234"), Some("cccd"));
        assert_eq!(id_type_of("012345678"), Some("cmnd"));
        assert_eq!(id_type_of("C1234567"), None);
        assert_eq!(id_type_of("0101234567"), None);
    }

    #[test]
    fn cccd_and_cmnd_numbers_are_checked_and_never_shown_whole() {
        assert!(run(&IdNumber, &PARTIES, &party(Some("cccd"), Some("001012341234"))).is_empty());
        assert!(run(&IdNumber, &PARTIES, &party(Some("cmnd"), Some("012345678"))).is_empty());
        assert!(run(&IdNumber, &PARTIES, &party(Some("passport"), Some("C1234567"))).is_empty());
        assert!(run(&IdNumber, &PARTIES, &party(None, None)).is_empty());
        for (kind, number, needle) in [
            ("cccd", "00101234123", "exactly 12 digits: 001*****123 has 11 digits"),
            ("cccd", "00101234123A", "0010****123A has 12 characters, not all digits"),
            ("cmnd", "0123456789", "exactly 9 digits: 012****789 has 10 digits"),
        ] {
            let found = run(&IdNumber, &PARTIES, &party(Some(kind), Some(number)));
            assert_eq!(found.len(), 1, "{found:?}");
            assert_eq!(found[0].field, Some("id_number"));
            assert!(found[0].message.contains(needle), "{:?}", found[0].message);
            assert!(!found[0].message.contains(number), "the full number leaked: {:?}", found[0].message);
        }
        let untyped = run(&IdNumber, &PARTIES, &party(None, Some("001012341234")));
        assert_eq!(untyped[0].field, Some("id_type"));
        assert!(!untyped[0].message.contains("001012341234"));
        assert_eq!(run(&IdNumber, &PARTIES, &party(Some("CCCD?"), Some("1")))[0].field, Some("id_type"));
        let swapped = run(&IdNumber, &PARTIES, &party(Some("001012341234"), Some("cccd")));
        assert!(!swapped[0].message.contains("001012341234"), "{:?}", swapped[0].message);
        assert_eq!(run(&IdNumber, &PARTIES, &party(Some("cccd"), None))[0].field, Some("id_number"));
    }

    #[test]
    fn party_types_names_and_dates() {
        let bad = row(&PARTIES, &[("party_type", text("person"))]);
        assert!(run(&PartyType, &PARTIES, &bad)[0].message.contains("expected one of individual"));
        for kind in PARTY_TYPES {
            assert!(run(&PartyType, &PARTIES, &row(&PARTIES, &[("party_type", text(kind))])).is_empty());
        }
        let name = HasLetter { field: "full_name", what: "full name" };
        assert!(run(&name, &PARTIES, &row(&PARTIES, &[("full_name", text("Trần Thị Bích Ngọc"))])).is_empty());
        assert_eq!(run(&name, &PARTIES, &row(&PARTIES, &[("full_name", text("-"))]))[0].field, Some("full_name"));
        let number = run(&name, &PARTIES, &row(&PARTIES, &[("full_name", text("001012341234"))]));
        assert!(number[0].message.contains("0010****1234"), "{:?}", number[0].message);

        let rule = NotInFuture { field: "birth_date", what: "birth date" };
        let today = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        let born = |d: NaiveDate| row(&PARTIES, &[("birth_date", V::Date(d))]);
        let check = |cells: &[V]| {
            let view = FeatureView { dataset: &PARTIES, cells, area_m2: None, historical: false };
            let mut found = Vec::new();
            rule.check_at(&view, today, &mut |v| found.push(v));
            found
        };
        assert!(check(&born(today)).is_empty());
        let found = check(&born(today.succ_opt().unwrap()));
        assert_eq!(found[0].field, Some("birth_date"));
        assert!(found[0].message.contains("2026-12-07 is in the future"));
    }

    #[test]
    fn certificates_and_shares() {
        let cert = |register: &str| row(&CERTIFICATES, &[("register_number", text(register))]);
        assert!(run(&RegisterNumber, &CERTIFICATES, &cert("CS 01234")).is_empty());
        assert_eq!(run(&RegisterNumber, &CERTIFICATES, &cert("--"))[0].field, Some("register_number"));
        let next_year = row(&CERTIFICATES, &[("issued_on", V::Date(vietnam_today() + chrono::Duration::days(366)))]);
        let issued = NotInFuture { field: "issued_on", what: "issue date" };
        assert_eq!(run(&issued, &CERTIFICATES, &next_year)[0].field, Some("issued_on"));

        let share = |v: f64| row(&PARCEL_RIGHTS, &[("share", V::Float(v))]);
        assert!(run(&Share, &PARCEL_RIGHTS, &share(1.0)).is_empty());
        assert!(run(&Share, &PARCEL_RIGHTS, &share(0.5)).is_empty());
        assert!(run(&Share, &PARCEL_RIGHTS, &row(&PARCEL_RIGHTS, &[])).is_empty());
        for bad in [0.0, -0.1, 1.01, f64::NAN] {
            assert_eq!(run(&Share, &PARCEL_RIGHTS, &share(bad))[0].field, Some("share"), "{bad}");
        }
    }
}
