//! A statistics form's table from its declaration and the aggregate's rows: codes onto rows
//! (aliases, the optional mapping, the "other" rows for codes with no leaf), column keys onto
//! columns (declared ones with their fallback, or the units under the requested one), then the
//! identities the form states — a group row is the sum of its children, a sum column the sum of
//! its parts — computed at full precision. Pure: no database, no HTTP.

use std::collections::HashMap;

use geosector_domain::{Columns, ReportDecl};

/// Which parcels of a column a cell link selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// No condition on the commune (the country's total).
    Everywhere,
    /// These communes.
    Communes(Vec<String>),
    /// The form for this unit (a province's column of the country's form: drill down).
    Unit(String),
    /// Nothing a link can select (a column split the items cannot filter, or values whose
    /// commune is not a unit at the date).
    Untraceable,
}

/// A column.
#[derive(Debug, Clone)]
pub struct Column {
    /// Its key.
    pub key: String,
    /// Its printed number.
    pub number: String,
    /// Title in Vietnamese.
    pub title_vi: String,
    /// Title in English.
    pub title_en: String,
    /// The keys of the columns it sums (empty for a data column).
    pub sum_of: Vec<String>,
    /// What a cell link of this column selects.
    pub scope: Scope,
}

/// A row.
#[derive(Debug, Clone)]
pub struct Row {
    /// Its key (a code, a group code, or a stored code outside the list under the other row).
    pub key: String,
    /// Its printed number.
    pub number: String,
    /// Name in Vietnamese.
    pub title_vi: String,
    /// Name in English.
    pub title_en: String,
    /// The row it is summed into.
    pub parent: Option<String>,
    /// Its depth in the hierarchy (0 for the top row).
    pub depth: usize,
    /// The stored codes counted in it (its leaves' codes for a group).
    pub codes: Vec<String>,
    /// One value per column, in the form's unit.
    pub values: Vec<f64>,
}

/// A computed form.
#[derive(Debug, Clone)]
pub struct Table {
    /// The columns.
    pub columns: Vec<Column>,
    /// The rows, in printed order.
    pub rows: Vec<Row>,
}

/// A unit column of a form by unit: code, name, the communes it holds.
pub type UnitColumn = (String, String, Vec<String>);

/// What the columns are built from: the declaration's, or the units under the requested one.
#[derive(Debug)]
pub enum ColumnSource {
    /// Declared columns; the total column's cells select `scope`.
    Fixed {
        /// What every cell of the form selects (the whole unit).
        scope: Scope,
    },
    /// The total, then one column per unit, then the unplaced values.
    Units {
        /// The unit columns.
        units: Vec<UnitColumn>,
        /// Whether a unit column drills down to the unit's form (the country) instead of
        /// naming its communes.
        drill_down: bool,
        /// The total column's scope.
        total: Scope,
    },
}

/// The key of the column of values whose commune is not a unit at the date.
pub const UNPLACED: &str = "UNPLACED";

/// Adds up the aggregate's `(row key, column key, value)` rows into the form's table.
/// `mapped`: apply the declaration's optional mapping.
pub fn build(
    decl: &ReportDecl,
    mapped: bool,
    source: &ColumnSource,
    data: impl IntoIterator<Item = (String, String, f64)>,
) -> Table {
    let mut columns: Vec<Column> = Vec::new();
    let mut commune_column: HashMap<&str, usize> = HashMap::new();
    match (decl.columns, source) {
        (Columns::Fixed(declared), ColumnSource::Fixed { scope }) => {
            for c in declared {
                // The total: a sum no other column sums; its cells are the whole row's features.
                let is_total = !c.sum_of.is_empty() && !declared.iter().any(|other| other.sum_of.contains(&c.key));
                columns.push(Column {
                    key: c.key.to_owned(),
                    number: c.number.to_owned(),
                    title_vi: c.label_vi.to_owned(),
                    title_en: c.label_en.to_owned(),
                    sum_of: c.sum_of.iter().map(|s| (*s).to_owned()).collect(),
                    scope: if is_total || decl.cell_filter.columns_filterable {
                        scope.clone()
                    } else {
                        Scope::Untraceable
                    },
                });
            }
        }
        (Columns::Units { total_number }, ColumnSource::Units { units, drill_down, total }) => {
            let mut keys: Vec<String> = units.iter().map(|(code, _, _)| code.clone()).collect();
            keys.push(UNPLACED.to_owned());
            columns.push(Column {
                key: "TOTAL".to_owned(),
                number: total_number.to_owned(),
                title_vi: "Tổng diện tích".to_owned(),
                title_en: "Total area".to_owned(),
                sum_of: keys,
                scope: total.clone(),
            });
            for (code, name, communes) in units {
                for commune in communes {
                    commune_column.insert(commune.as_str(), columns.len());
                }
                columns.push(Column {
                    key: code.clone(),
                    number: code.clone(),
                    title_vi: name.clone(),
                    title_en: name.clone(),
                    sum_of: Vec::new(),
                    scope: if *drill_down { Scope::Unit(code.clone()) } else { Scope::Communes(communes.clone()) },
                });
            }
            columns.push(Column {
                key: UNPLACED.to_owned(),
                number: String::new(),
                title_vi: "Xã không có trong danh mục tại ngày".to_owned(),
                title_en: "Commune not a unit at the date".to_owned(),
                sum_of: Vec::new(),
                scope: Scope::Untraceable,
            });
        }
        // A declaration and a source of different kinds: the caller builds the source from
        // the declaration, so this does not happen; an empty table says so.
        _ => return Table { columns, rows: Vec::new() },
    }
    let width = columns.len();
    let mut rows: Vec<Row> = Vec::new();
    for r in decl.rows {
        let depth = r.parent.and_then(|p| rows.iter().find(|x| x.key == p)).map_or(0, |p| p.depth + 1);
        let codes = if decl.is_leaf(r.key) && r.key != decl.other_row {
            decl.codes_of(r.key, mapped).into_iter().map(str::to_owned).collect()
        } else {
            Vec::new()
        };
        rows.push(Row {
            key: r.key.to_owned(),
            number: r.number.to_owned(),
            title_vi: r.label_vi.to_owned(),
            title_en: r.label_en.to_owned(),
            parent: r.parent.map(str::to_owned),
            depth,
            codes,
            values: vec![0.0; width],
        });
    }
    // Codes with no leaf row: their own rows under the other row, in code order.
    let mut others: Vec<Row> = Vec::new();
    let other_depth = rows.iter().find(|r| r.key == decl.other_row).map_or(1, |r| r.depth + 1);
    for (code, column_key, value) in data {
        let row = match decl.row_for(&code, mapped) {
            Some(leaf) => rows.iter_mut().find(|r| r.key == leaf.key),
            None => {
                let at = match others.binary_search_by(|r| r.key.as_str().cmp(&code)) {
                    Ok(at) => at,
                    Err(at) => {
                        others.insert(
                            at,
                            Row {
                                key: code.clone(),
                                number: String::new(),
                                title_vi: format!("Mã {code}"),
                                title_en: format!("Code {code}"),
                                parent: Some(decl.other_row.to_owned()),
                                depth: other_depth,
                                codes: vec![code.clone()],
                                values: vec![0.0; width],
                            },
                        );
                        at
                    }
                };
                others.get_mut(at)
            }
        };
        let column = match source {
            ColumnSource::Fixed { .. } => {
                decl.column_for(&column_key).and_then(|c| columns.iter().position(|x| x.key == c.key))
            }
            ColumnSource::Units { .. } => {
                Some(commune_column.get(column_key.as_str()).copied().unwrap_or(width.saturating_sub(1)))
            }
        };
        if let (Some(row), Some(column)) = (row, column) {
            if let Some(cell) = row.values.get_mut(column) {
                *cell += value / decl.value.divisor;
            }
        }
    }
    let other_at = rows.iter().position(|r| r.key == decl.other_row).map_or(rows.len(), |i| i + 1);
    for (n, row) in others.iter_mut().enumerate() {
        let parent_number = rows.get(other_at.saturating_sub(1)).map(|r| r.number.clone()).unwrap_or_default();
        row.number = format!("{parent_number}.{}", n + 1);
    }
    rows.splice(other_at..other_at, others);
    // Group rows: the sum of their children, deepest first.
    for i in (0..rows.len()).rev() {
        let Some(parent) = rows[i].parent.clone() else { continue };
        if let Some(p) = rows.iter().position(|r| r.key == parent) {
            let child = rows[i].values.clone();
            for (cell, v) in rows[p].values.iter_mut().zip(child) {
                *cell += v;
            }
            let codes = rows[i].codes.clone();
            for code in codes {
                if !rows[p].codes.contains(&code) {
                    rows[p].codes.push(code);
                }
            }
        }
    }
    // Sum columns: the sum of their parts (which may be sums themselves).
    for row in &mut rows {
        row.codes.sort();
        for c in 0..width {
            if !columns[c].sum_of.is_empty() {
                row.values[c] = column_sum(&columns, &row.values, c, 0);
            }
        }
    }
    Table { columns, rows }
}

fn column_sum(columns: &[Column], values: &[f64], c: usize, depth: usize) -> f64 {
    if columns[c].sum_of.is_empty() || depth > columns.len() {
        return values[c];
    }
    columns[c]
        .sum_of
        .iter()
        .filter_map(|k| columns.iter().position(|x| &x.key == k))
        .map(|p| column_sum(columns, values, p, depth + 1))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geosector_domain::{CellFilter, ReportColumn, ReportRow, ValueDecl};

    const ROWS: &[ReportRow] = &[
        ReportRow { key: "TOTAL", number: "", label_vi: "", label_en: "", parent: None },
        ReportRow { key: "G", number: "1", label_vi: "", label_en: "", parent: Some("TOTAL") },
        ReportRow { key: "A", number: "1.1", label_vi: "", label_en: "", parent: Some("G") },
        ReportRow { key: "B", number: "1.2", label_vi: "", label_en: "", parent: Some("G") },
        ReportRow { key: "X", number: "2", label_vi: "", label_en: "", parent: Some("TOTAL") },
    ];
    const COLUMNS: &[ReportColumn] = &[
        ReportColumn { key: "T", number: "4", label_vi: "", label_en: "", sum_of: &["U", "N"], fallback: false },
        ReportColumn { key: "U", number: "5", label_vi: "", label_en: "", sum_of: &["U1", "U2"], fallback: false },
        ReportColumn { key: "U1", number: "6", label_vi: "", label_en: "", sum_of: &[], fallback: false },
        ReportColumn { key: "U2", number: "7", label_vi: "", label_en: "", sum_of: &[], fallback: false },
        ReportColumn { key: "N", number: "N", label_vi: "", label_en: "", sum_of: &[], fallback: true },
    ];
    const FORM: ReportDecl = ReportDecl {
        id: "01",
        aliases: &[],
        code: "",
        title_vi: "",
        title_en: "",
        basis: "",
        collection: "s.t",
        rows: ROWS,
        row_aliases: &[("A1", "A")],
        optional_mapping: &[("OLD", "B")],
        other_row: "X",
        columns: Columns::Fixed(COLUMNS),
        sql: "",
        value: ValueDecl { unit: "ha", divisor: 10.0, decimals: 2, rounding: "" },
        cell_filter: CellFilter { codes_property: "c", commune_property: "m", columns_filterable: false },
        notes: &[],
    };

    fn data(list: &[(&str, &str, f64)]) -> Vec<(String, String, f64)> {
        list.iter().map(|(r, c, v)| ((*r).to_owned(), (*c).to_owned(), *v)).collect()
    }

    #[test]
    fn groups_and_sums_hold_and_nothing_is_dropped() {
        let input =
            data(&[("A", "U1", 10.0), ("A1", "U2", 20.0), ("B", "", 30.0), ("OLD", "ZZZ", 40.0), ("Q", "U1", 50.0)]);
        let table = build(&FORM, false, &ColumnSource::Fixed { scope: Scope::Everywhere }, input.clone());
        let keys: Vec<&str> = table.rows.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["TOTAL", "G", "A", "B", "X", "OLD", "Q"]);
        let row = |t: &Table, k: &str| t.rows.iter().find(|r| r.key == k).unwrap().values.clone();
        assert_eq!(row(&table, "A"), [3.0, 3.0, 1.0, 2.0, 0.0]);
        assert_eq!(row(&table, "B"), [3.0, 0.0, 0.0, 0.0, 3.0], "an empty user key is not recorded");
        assert_eq!(row(&table, "X"), [9.0, 5.0, 5.0, 0.0, 4.0]);
        assert_eq!(row(&table, "TOTAL"), [15.0, 8.0, 6.0, 2.0, 7.0]);
        assert_eq!(table.rows[5].number, "2.1");
        assert_eq!(table.rows[1].codes, ["A", "A1", "B"]);
        assert_eq!(table.columns[0].scope, Scope::Everywhere);
        assert_eq!(table.columns[2].scope, Scope::Untraceable);
        let mapped = build(&FORM, true, &ColumnSource::Fixed { scope: Scope::Everywhere }, input);
        assert_eq!(row(&mapped, "B")[0], 7.0);
        assert_eq!(row(&mapped, "TOTAL")[0], 15.0);
    }

    #[test]
    fn communes_roll_up_to_their_units_and_the_rest_is_unplaced() {
        const UNITS: ReportDecl = ReportDecl { columns: Columns::Units { total_number: "4" }, ..FORM };
        let source = ColumnSource::Units {
            units: vec![
                ("01".into(), "Một".into(), vec!["00001".into(), "00002".into()]),
                ("02".into(), "Hai".into(), vec!["00003".into()]),
            ],
            drill_down: true,
            total: Scope::Everywhere,
        };
        let table =
            build(&UNITS, false, &source, data(&[("A", "00001", 10.0), ("A", "00003", 20.0), ("B", "99999", 5.0)]));
        let total = &table.rows[0].values;
        assert_eq!(total, &[3.5, 1.0, 2.0, 0.5]);
        assert_eq!(table.columns[1].scope, Scope::Unit("01".into()));
        assert_eq!(table.columns[3].key, UNPLACED);
    }
}
