//! A computed form as JSON (full precision, with a link per cell to the features behind it and
//! the query with its values), CSV (the declared decimals), XLSX (rust_xlsxwriter: full
//! precision under a number format of the declared decimals) and HTML (Vietnamese and English,
//! each cell linked).

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use geosector_domain::ReportDecl;
use geosector_store::plan::{Param, Statement};
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use serde_json::{json, Value};

use super::table::{Row, Scope, Table};
use super::{Query, UnitInfo, VIETNAM};
use crate::html::escape;
use crate::links::{encode, with_key};

/// What every representation needs besides the table.
pub(super) struct Context<'a> {
    pub base: String,
    pub key: Option<String>,
    pub sector: &'a str,
    pub decl: &'a ReportDecl,
    pub query: &'a Query,
    pub unit: &'a UnitInfo,
    pub statement: &'a Statement,
    /// When every figure is zero because the data begin after the form's instant: when they
    /// begin (`Some(None)`: the collection holds nothing yet).
    pub empty_until: Option<Option<DateTime<Utc>>>,
}

impl Context<'_> {
    /// Why a form is empty, when its data begin after its instant (Vietnamese, English).
    fn notice(&self) -> Option<(String, String)> {
        let since = self.empty_until?;
        Some(match since {
            Some(at) => {
                let day = (at + VIETNAM).format("%d/%m/%Y");
                (
                    format!("Chưa có dữ liệu tại thời điểm này: dữ liệu được ghi nhận từ {day}; hãy chọn một ngày sau đó (date=)."),
                    format!("No data at this instant: the data were first recorded on {day}; ask for a later date (date=)."),
                )
            }
            None => ("Chưa có dữ liệu.".to_owned(), "No data yet.".to_owned()),
        })
    }

    /// The form's printed header: "(Đến ngày 31/12/2025)".
    fn as_of(&self) -> String {
        format!("(Đến ngày {})", self.query.date.format("%d/%m/%Y"))
    }

    fn instant(&self) -> String {
        self.query.instant.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    }

    fn keyed(&self, url: String) -> String {
        match &self.key {
            Some(key) => with_key(&url, key),
            None => url,
        }
    }

    /// The form itself with other parameters.
    fn form_href(&self, unit: &str, f: Option<&str>) -> String {
        let mut url = format!(
            "{}/statistics/{}/{}?unit={}&date={}",
            self.base,
            encode(self.sector),
            encode(self.decl.id),
            encode(unit),
            self.query.date
        );
        if self.query.mapped {
            url.push_str("&legacy=map");
        }
        if let Some(f) = f {
            let _ = write!(url, "&f={f}");
        }
        self.keyed(url)
    }

    /// The CQL2 text selecting a row's features in a scope, or `None` when nothing can.
    fn filter(&self, row: &Row, scope: &Scope) -> Option<String> {
        if row.codes.is_empty() {
            return None;
        }
        let quote = |s: &str| format!("'{}'", s.replace('\'', "''"));
        let codes: Vec<String> = row.codes.iter().map(|c| quote(c)).collect();
        let filter = self.decl.cell_filter;
        let mut cql = format!("A_OVERLAPS({}, ({}))", filter.codes_property, codes.join(", "));
        match scope {
            Scope::Everywhere => {}
            Scope::Communes(communes) if communes.len() == 1 => {
                let _ = write!(cql, " AND {} = {}", filter.commune_property, quote(&communes[0]));
            }
            Scope::Communes(communes) if communes.is_empty() => return None,
            Scope::Communes(communes) => {
                let list: Vec<String> = communes.iter().map(|c| quote(c)).collect();
                let _ = write!(cql, " AND {} IN ({})", filter.commune_property, list.join(", "));
            }
            Scope::Unit(_) | Scope::Untraceable => return None,
        }
        Some(cql)
    }

    /// Where the features behind a cell are: the items with a CQL2 filter at the instant, the
    /// form of a unit under this one, or nothing (a zero cell, or an untraceable column).
    fn cell_href(&self, row: &Row, scope: &Scope, value: f64, html: bool) -> Option<String> {
        if value == 0.0 {
            return None;
        }
        if let Scope::Unit(code) = scope {
            return Some(self.form_href(code, html.then_some("html")));
        }
        let cql = self.filter(row, scope)?;
        let mut url = format!(
            "{}/collections/{}/items?datetime={}&filter-lang=cql2-text&filter={}",
            self.base,
            encode(self.decl.collection),
            encode(&self.instant()),
            encode(&cql)
        );
        if html {
            url.push_str("&f=html");
        }
        Some(self.keyed(url))
    }

    /// The row's features in the whole unit (the total column's scope).
    fn row_href(&self, table: &Table, row: &Row, html: bool) -> Option<String> {
        let total = table.columns.first()?;
        self.cell_href(row, &total.scope, row.values.first().copied().unwrap_or(0.0), html)
    }

    fn parameters(&self) -> Vec<Value> {
        self.statement
            .params()
            .iter()
            .map(|p| match p {
                Param::Timestamp(t) => json!(t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
                Param::OptionalTextArray(v) => json!(v),
                Param::Text(v) => json!(v),
                other => json!(format!("{other:?}")),
            })
            .collect()
    }
}

/// The form as JSON.
pub(super) fn json(c: &Context<'_>, table: &Table) -> Value {
    let d = c.decl;
    let columns: Vec<Value> = table
        .columns
        .iter()
        .map(|col| {
            json!({
                "key": col.key, "number": col.number,
                "title": { "vi": col.title_vi, "en": col.title_en },
                "sumOf": col.sum_of,
                "traceable": !matches!(col.scope, Scope::Untraceable),
            })
        })
        .collect();
    let rows: Vec<Value> = table
        .rows
        .iter()
        .map(|row| {
            let cells: Vec<Option<String>> =
                table.columns.iter().zip(&row.values).map(|(col, v)| c.cell_href(row, &col.scope, *v, false)).collect();
            json!({
                "key": row.key, "number": row.number,
                "title": { "vi": row.title_vi, "en": row.title_en },
                "parent": row.parent, "depth": row.depth, "codes": row.codes,
                "values": row.values,
                "href": c.row_href(table, row, false),
                "cells": cells,
            })
        })
        .collect();
    let mut notes: Vec<Value> = d.notes.iter().map(|(vi, en)| json!({ "vi": vi, "en": en })).collect();
    if let Some((vi, en)) = c.notice() {
        notes.insert(0, json!({ "vi": vi, "en": en, "dataSince": c.empty_until.flatten().map(|t| t.to_rfc3339()) }));
    }
    json!({
        "sector": c.sector,
        "form": d.id,
        "code": d.code,
        "title": { "vi": d.title_vi, "en": d.title_en },
        "basis": d.basis,
        "unit": { "level": c.unit.level, "code": c.unit.code, "name": c.unit.name },
        "date": c.query.date.to_string(),
        "instant": c.instant(),
        "header": c.as_of(),
        "legacy": if c.query.mapped { "map" } else { "keep" },
        "valueUnit": d.value.unit,
        "decimals": d.value.decimals,
        "rounding": d.value.rounding,
        "collection": d.collection,
        "columns": columns,
        "rows": rows,
        "notes": notes,
        "query": { "sql": c.statement.sql(), "parameters": c.parameters() },
        "links": [
            { "rel": "self", "type": "application/json", "href": c.form_href(&c.unit.code, Some("json")) },
            { "rel": "alternate", "type": "text/html", "href": c.form_href(&c.unit.code, Some("html")) },
            { "rel": "alternate", "type": "text/csv", "href": c.form_href(&c.unit.code, Some("csv")) },
            { "rel": "alternate", "type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "href": c.form_href(&c.unit.code, Some("xlsx")) },
        ],
    })
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// The form as CSV: one line per row, values with the declared decimals.
pub(super) fn csv(c: &Context<'_>, table: &Table) -> String {
    let decimals = c.decl.value.decimals;
    let mut out = String::from("number,code,title_vi,title_en");
    for col in &table.columns {
        out.push(',');
        out.push_str(&csv_field(&col.key));
    }
    out.push('\n');
    for row in &table.rows {
        let _ = write!(
            out,
            "{},{},{},{}",
            csv_field(&row.number),
            csv_field(&row.key),
            csv_field(&row.title_vi),
            csv_field(&row.title_en)
        );
        for v in &row.values {
            let _ = write!(out, ",{v:.decimals$}");
        }
        out.push('\n');
    }
    out
}

/// The form as a spreadsheet: title lines, the column numbers, the column titles (the line
/// starting `STT`), then one line per row with full-precision values shown with the declared
/// decimals.
pub(super) fn xlsx(c: &Context<'_>, table: &Table) -> Result<Vec<u8>, XlsxError> {
    let d = c.decl;
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(d.code.replace('/', "-"))?;
    let bold = Format::new().set_bold();
    let pattern = if d.value.decimals == 0 { "0".to_owned() } else { format!("0.{}", "0".repeat(d.value.decimals)) };
    let number = Format::new().set_num_format(&pattern);
    let bold_number = Format::new().set_num_format(&pattern).set_bold();
    sheet.write_string_with_format(0, 0, format!("Biểu {}", d.code), &bold)?;
    sheet.write_string_with_format(1, 0, d.title_vi, &bold)?;
    sheet.write_string(2, 0, d.title_en)?;
    sheet.write_string(3, 0, c.as_of())?;
    sheet.write_string(4, 0, format!("{} ({}) — {}: {}", c.unit.name, c.unit.code, d.basis, d.value.unit))?;
    let header = 6;
    for (i, label) in ["(1)", "(2)", "(3)"].iter().enumerate() {
        sheet.write_string(header, col(i), *label)?;
    }
    sheet.write_string_with_format(header + 1, 0, "STT", &bold)?;
    sheet.write_string_with_format(header + 1, 1, "Loại đất / Land type", &bold)?;
    sheet.write_string_with_format(header + 1, 2, "Mã", &bold)?;
    for (i, column) in table.columns.iter().enumerate() {
        sheet.write_string(header, col(i + 3), format!("({})", column.number))?;
        sheet.write_string_with_format(header + 1, col(i + 3), &column.title_vi, &bold)?;
    }
    for (r, row) in table.rows.iter().enumerate() {
        let line = header + 2 + u32::try_from(r).unwrap_or(u32::MAX - header - 2);
        let group = is_group(table, row);
        sheet.write_string(line, 0, &row.number)?;
        sheet.write_string(line, 1, format!("{}{}", "  ".repeat(row.depth), row.title_vi))?;
        sheet.write_string(line, 2, &row.key)?;
        for (i, v) in row.values.iter().enumerate() {
            sheet.write_number_with_format(line, col(i + 3), *v, if group { &bold_number } else { &number })?;
        }
    }
    sheet.set_column_width(1, 48)?;
    workbook.save_to_buffer()
}

/// Whether a row sums others (shown in bold).
fn is_group(table: &Table, row: &Row) -> bool {
    table.rows.iter().any(|r| r.parent.as_deref() == Some(row.key.as_str()))
}

fn col(i: usize) -> u16 {
    u16::try_from(i).unwrap_or(u16::MAX)
}

/// The form as an HTML page.
pub(super) fn html(c: &Context<'_>, table: &Table) -> String {
    let d = c.decl;
    let decimals = d.value.decimals;
    let mut body = String::new();
    let _ = write!(
        body,
        "<p><b>Biểu {code}</b> — {basis}</p><p>{tvi}<br><span class=\"en\">{ten}</span></p><p><b>{asof}</b></p>\
         <p>Đơn vị / Unit: {name} ({ucode}) — Đơn vị tính / in: {vunit}</p>\
         <p><a href=\"{csv}\">CSV</a> · <a href=\"{xlsx}\">XLSX</a> · <a href=\"{json}\">JSON</a></p>",
        code = escape(d.code),
        basis = escape(d.basis),
        tvi = escape(d.title_vi),
        ten = escape(d.title_en),
        asof = escape(&c.as_of()),
        name = escape(&c.unit.name),
        ucode = escape(&c.unit.code),
        vunit = escape(d.value.unit),
        csv = escape(&c.form_href(&c.unit.code, Some("csv"))),
        xlsx = escape(&c.form_href(&c.unit.code, Some("xlsx"))),
        json = escape(&c.form_href(&c.unit.code, Some("json"))),
    );
    if let Some((vi, en)) = c.notice() {
        let _ = write!(
            body,
            "<p class=\"notice\"><strong>{}</strong><br><span class=\"en\">{}</span></p>",
            escape(&vi),
            escape(&en)
        );
    }
    body.push_str("<table><tr><th>STT</th><th>Loại đất / Land type</th><th>Mã</th>");
    for column in &table.columns {
        let _ = write!(
            body,
            "<th>({})<br>{}<br><span class=\"en\">{}</span></th>",
            escape(&column.number),
            escape(&column.title_vi),
            escape(&column.title_en)
        );
    }
    body.push_str("</tr>");
    for row in &table.rows {
        let (open, close) = if is_group(table, row) { ("<b>", "</b>") } else { ("", "") };
        let _ = write!(
            body,
            "<tr><td>{}</td><td style=\"padding-left:{}rem\">{open}{}{close}<br><span class=\"en\">{}</span></td><td>{}</td>",
            escape(&row.number),
            row.depth,
            escape(&row.title_vi),
            escape(&row.title_en),
            escape(&row.key)
        );
        for (column, v) in table.columns.iter().zip(&row.values) {
            let text = format!("{v:.decimals$}");
            match c.cell_href(row, &column.scope, *v, true) {
                Some(href) => {
                    let _ =
                        write!(body, "<td style=\"text-align:right\"><a href=\"{}\">{text}</a></td>", escape(&href));
                }
                None => {
                    let _ = write!(body, "<td style=\"text-align:right\">{text}</td>");
                }
            }
        }
        body.push_str("</tr>");
    }
    body.push_str("</table><h2>Ghi chú / Notes</h2><ul>");

    let _ = write!(body, "<li>{}</li>", escape(d.value.rounding));
    for (vi, en) in d.notes {
        let _ = write!(body, "<li>{}<br><span class=\"en\">{}</span></li>", escape(vi), escape(en));
    }
    body.push_str(
        "<li>Mỗi số liệu dẫn tới các thửa đất tạo nên nó (bộ lọc CQL2 tại thời điểm). \
         <span class=\"en\">Each figure links to the features behind it (a CQL2 filter at the instant); \
         columns whose split the features cannot show link from the total column.</span></li></ul>",
    );
    let _ = write!(
        body,
        "<details><summary>Truy vấn / Query</summary><pre>{}</pre><p>$1, $2 = {}</p></details>",
        escape(c.statement.sql()),
        escape(&Value::Array(c.parameters()).to_string())
    );
    crate::html::page(&format!("{} — {}", d.code, d.title_vi), &c.form_href(&c.unit.code, Some("json")), &body)
}
