//! Report declarations: a statistics form a sector publishes at `/statistics/{sector}/{form}`
//! (e.g. the land statistics of TT 08/2024: area by land type × land user, or by administrative
//! unit), declared as data — its rows (a hierarchy whose groups are the sums of their children),
//! its columns (fixed, some the sums of others, or one per subordinate administrative unit), how
//! stored codes map onto rows, and the aggregate SQL that reads the values — so the server runs
//! and renders every sector's forms with one route and never names a sector.
//!
//! The SQL contract ([`ReportDecl::sql`]): two bound parameters, `$1` the instant
//! (`timestamptz`) the data are read at, and `$2` the commune codes of the administrative unit
//! (`text[]`; NULL for the whole country); it returns rows `(row_key text, column_key text,
//! value float8)`, summed by the server into cells. Row keys are mapped by
//! [`ReportDecl::row_for`]; for fixed columns, column keys by [`ReportDecl::column_for`]; for
//! [`Columns::Units`], the column key is the commune a value lies in, rolled up by the server to
//! the subordinate unit at the date.

/// A statistics form.
#[derive(Debug, Clone, Copy)]
pub struct ReportDecl {
    /// Id in the path (`01` in `/statistics/land/01`).
    pub id: &'static str,
    /// Other spellings accepted in the path (e.g. `01-tkkk`), compared case-insensitively.
    pub aliases: &'static [&'static str],
    /// The form's printed code (`01/TKKK`).
    pub code: &'static str,
    /// Title in Vietnamese.
    pub title_vi: &'static str,
    /// Title in English.
    pub title_en: &'static str,
    /// The legal text the form comes from.
    pub basis: &'static str,
    /// The collection whose read grant and area scope govern the form, and whose items a cell
    /// links to (`land.parcels`).
    pub collection: &'static str,
    /// Rows in printed order; a row with children is their sum.
    pub rows: &'static [ReportRow],
    /// Stored codes that are counted under another row key, always (`LUC` → `LUA`).
    pub row_aliases: &'static [(&'static str, &'static str)],
    /// A mapping applied only when the request asks for it (`legacy=map`): old codes onto
    /// current rows. Codes mapped neither way, and codes of rows that are groups, get a row of
    /// their own under [`ReportDecl::other_row`].
    pub optional_mapping: &'static [(&'static str, &'static str)],
    /// The row under which codes with no declared leaf row are listed, one row each.
    pub other_row: &'static str,
    /// The columns.
    pub columns: Columns,
    /// The aggregate SQL (see the module's contract).
    pub sql: &'static str,
    /// How values are shown.
    pub value: ValueDecl,
    /// How the parcels behind a cell are selected in the collection's items (CQL2).
    pub cell_filter: CellFilter,
    /// Notes printed under the form (what is counted how), Vietnamese then English.
    pub notes: &'static [(&'static str, &'static str)],
}

/// One row of a form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportRow {
    /// Its key: a code for a leaf (the stored value counted there), a group code otherwise.
    pub key: &'static str,
    /// Its printed number (STT), e.g. `1.1.1`.
    pub number: &'static str,
    /// Name in Vietnamese.
    pub label_vi: &'static str,
    /// Name in English.
    pub label_en: &'static str,
    /// The row it is summed into (`None` for the top row).
    pub parent: Option<&'static str>,
}

/// The columns of a form.
#[derive(Debug, Clone, Copy)]
pub enum Columns {
    /// Declared columns.
    Fixed(&'static [ReportColumn]),
    /// A total, then one column per administrative unit under the requested one (the communes
    /// of a province, the provinces of the country; a commune's own column for a commune), and
    /// a last column for values whose commune is not a unit at the date (country only).
    Units {
        /// The printed number of the total column.
        total_number: &'static str,
    },
}

/// A declared column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportColumn {
    /// Its key: the column key the SQL returns for it, or a name for a sum.
    pub key: &'static str,
    /// Its printed number (the form's column number).
    pub number: &'static str,
    /// Title in Vietnamese.
    pub label_vi: &'static str,
    /// Title in English.
    pub label_en: &'static str,
    /// The columns it sums (empty: read from the data).
    pub sum_of: &'static [&'static str],
    /// Whether column keys matching no data column are counted here (one column at most).
    pub fallback: bool,
}

/// How values are shown: the unit and decimals of display (aggregation keeps full precision).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValueDecl {
    /// The unit, e.g. `ha`.
    pub unit: &'static str,
    /// What a stored value is divided by to be in `unit` (10,000 from m² to ha).
    pub divisor: f64,
    /// Decimals shown (HTML, CSV, the spreadsheet's number format).
    pub decimals: usize,
    /// How the SQL rounds what it adds up, in words (shown with the form).
    pub rounding: &'static str,
}

/// The CQL2 selecting a cell's features in the collection's items: the row's codes as
/// `A_OVERLAPS(<codes_property>, ('A', 'B'))`, the unit's communes as `<commune_property> IN
/// (...)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellFilter {
    /// The array property holding the codes.
    pub codes_property: &'static str,
    /// The property holding the commune code.
    pub commune_property: &'static str,
    /// Whether a column split (fixed columns) is beyond what the items can filter, so the link
    /// is the row's features (a superset of the cell's); said with the link.
    pub columns_filterable: bool,
}

impl ReportDecl {
    /// Whether `name` (from a path) names this form.
    pub fn is_named(&self, name: &str) -> bool {
        self.id.eq_ignore_ascii_case(name) || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    }

    /// The row a stored code is counted under: a leaf row's key, or `None` for a code with no
    /// leaf row (listed under [`ReportDecl::other_row`]). `mapped`: apply the optional mapping.
    pub fn row_for(&self, code: &str, mapped: bool) -> Option<&'static ReportRow> {
        let mut key = code;
        if mapped {
            if let Some((_, to)) = self.optional_mapping.iter().find(|(from, _)| *from == key) {
                key = to;
            }
        }
        if let Some((_, to)) = self.row_aliases.iter().find(|(from, _)| *from == key) {
            key = to;
        }
        self.rows.iter().find(|r| r.key == key && self.is_leaf(r.key) && r.key != self.other_row)
    }

    /// Whether a row has no children.
    pub fn is_leaf(&self, key: &str) -> bool {
        !self.rows.iter().any(|r| r.parent == Some(key))
    }

    /// The stored codes counted under a leaf row (its key, its aliases, and the optionally
    /// mapped codes when `mapped`).
    pub fn codes_of(&self, key: &str, mapped: bool) -> Vec<&'static str> {
        let mut codes: Vec<&'static str> = Vec::new();
        let targets = |k: &str| -> bool { k == key || self.row_aliases.iter().any(|(f, t)| *f == k && *t == key) };
        for row in self.rows.iter().filter(|r| r.key == key) {
            codes.push(row.key);
        }
        for (from, _) in self.row_aliases.iter().filter(|(_, to)| *to == key) {
            codes.push(from);
        }
        if mapped {
            for (from, to) in self.optional_mapping {
                if targets(to) && !codes.contains(from) {
                    codes.push(from);
                }
            }
        }
        codes
    }

    /// The data column a column key is counted in (fixed columns): the column with that key
    /// and no sum, else the fallback column.
    pub fn column_for(&self, key: &str) -> Option<&'static ReportColumn> {
        let Columns::Fixed(columns) = self.columns else { return None };
        columns
            .iter()
            .find(|c| c.key == key && c.sum_of.is_empty() && !c.fallback)
            .or_else(|| columns.iter().find(|c| c.fallback))
    }

    /// Checks the declaration: every parent and summed column exists, row and column keys are
    /// unique, at most one fallback column, the other row is declared.
    ///
    /// # Errors
    /// A message naming the form and the faulty key.
    pub fn check(&self) -> Result<(), String> {
        let form = self.id;
        for (i, row) in self.rows.iter().enumerate() {
            if self.rows[..i].iter().any(|r| r.key == row.key) {
                return Err(format!("form {form}: row {} declared twice", row.key));
            }
            if let Some(parent) = row.parent {
                if !self.rows[..i].iter().any(|r| r.key == parent) {
                    return Err(format!("form {form}: row {} has parent {parent}, not declared before it", row.key));
                }
            }
        }
        if !self.rows.iter().any(|r| r.key == self.other_row) {
            return Err(format!("form {form}: other row {} not declared", self.other_row));
        }
        if let Columns::Fixed(columns) = self.columns {
            if columns.iter().filter(|c| c.fallback).count() > 1 {
                return Err(format!("form {form}: more than one fallback column"));
            }
            for (i, column) in columns.iter().enumerate() {
                if columns[..i].iter().any(|c| c.key == column.key) {
                    return Err(format!("form {form}: column {} declared twice", column.key));
                }
                for part in column.sum_of {
                    if !columns.iter().any(|c| c.key == *part) || *part == column.key {
                        return Err(format!("form {form}: column {} sums unknown column {part}", column.key));
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROWS: &[ReportRow] = &[
        ReportRow { key: "ALL", number: "", label_vi: "", label_en: "", parent: None },
        ReportRow { key: "G", number: "1", label_vi: "", label_en: "", parent: Some("ALL") },
        ReportRow { key: "A", number: "1.1", label_vi: "", label_en: "", parent: Some("G") },
        ReportRow { key: "B", number: "1.2", label_vi: "", label_en: "", parent: Some("G") },
        ReportRow { key: "X", number: "2", label_vi: "", label_en: "", parent: Some("ALL") },
    ];
    const COLUMNS: &[ReportColumn] = &[
        ReportColumn { key: "T", number: "4", label_vi: "", label_en: "", sum_of: &["U", "N"], fallback: false },
        ReportColumn { key: "U", number: "5", label_vi: "", label_en: "", sum_of: &[], fallback: false },
        ReportColumn { key: "N", number: "6", label_vi: "", label_en: "", sum_of: &[], fallback: true },
    ];
    const FORM: ReportDecl = ReportDecl {
        id: "01",
        aliases: &["01-tkkk"],
        code: "01/T",
        title_vi: "",
        title_en: "",
        basis: "",
        collection: "s.t",
        rows: ROWS,
        row_aliases: &[("A1", "A"), ("A2", "A")],
        optional_mapping: &[("OLD", "A2"), ("OLDB", "B"), ("OLDG", "G")],
        other_row: "X",
        columns: Columns::Fixed(COLUMNS),
        sql: "",
        value: ValueDecl { unit: "ha", divisor: 10_000.0, decimals: 2, rounding: "" },
        cell_filter: CellFilter { codes_property: "codes", commune_property: "commune", columns_filterable: false },
        notes: &[],
    };

    #[test]
    fn codes_map_to_leaves_and_the_rest_to_the_other_row() {
        FORM.check().unwrap();
        assert!(FORM.is_named("01-TKKK") && !FORM.is_named("02"));
        assert_eq!(FORM.row_for("A1", false).map(|r| r.key), Some("A"));
        assert_eq!(FORM.row_for("B", false).map(|r| r.key), Some("B"));
        assert_eq!(FORM.row_for("G", false), None, "a group code is not a leaf");
        assert_eq!(FORM.row_for("X", false), None, "the other row holds no code of its own");
        assert_eq!(FORM.row_for("OLD", false), None, "unmapped unless asked");
        assert_eq!(FORM.row_for("OLD", true).map(|r| r.key), Some("A"), "mapped, then aliased");
        assert_eq!(FORM.row_for("OLDG", true), None, "mapped onto a group: still its own row");
        assert_eq!(FORM.codes_of("A", false), ["A", "A1", "A2"]);
        assert_eq!(FORM.codes_of("A", true), ["A", "A1", "A2", "OLD"]);
        assert_eq!(FORM.column_for("U").map(|c| c.key), Some("U"));
        assert_eq!(FORM.column_for("").map(|c| c.key), Some("N"));
        assert_eq!(FORM.column_for("T").map(|c| c.key), Some("N"), "a sum is never a data column");
    }

    #[test]
    fn faulty_declarations_are_named() {
        const BAD_ROWS: &[ReportRow] =
            &[ReportRow { key: "A", number: "", label_vi: "", label_en: "", parent: Some("Z") }];
        let bad = ReportDecl { rows: BAD_ROWS, ..FORM };
        assert_eq!(bad.check().unwrap_err(), "form 01: row A has parent Z, not declared before it");
        const BAD_COLUMNS: &[ReportColumn] =
            &[ReportColumn { key: "T", number: "", label_vi: "", label_en: "", sum_of: &["Q"], fallback: false }];
        let bad = ReportDecl { columns: Columns::Fixed(BAD_COLUMNS), ..FORM };
        assert_eq!(bad.check().unwrap_err(), "form 01: column T sums unknown column Q");
    }
}
