//! `/statistics/{sector}/{form}`: a sector's declared statistics forms
//! ([`geosector_domain::ReportDecl`], e.g. the TT 08/2024 land forms) for a commune, a province
//! or the country at an instant, as JSON, CSV, XLSX or HTML — one route for every sector.
//!
//! Parameters: `unit` (a 5-digit commune code, a 2-digit province code, or `VN`/absent for the
//! country), `date` (`YYYY-MM-DD`: the end of that day in Vietnam, UTC+7; or an RFC 3339 instant;
//! default the last 31 December before today), `legacy` (`keep`, default, or `map`: the form's
//! optional code mapping), `f` (`json`, `csv`, `xlsx`, `html`; else `Accept`).
//!
//! Who may read a form: whoever may read the items of the form's collection, for the whole
//! unit asked — a caller limited to some areas gets the forms of those provinces and communes
//! only (403 for a larger unit, never a partial sum presented as the unit's). The statements are
//! the store's and the form's declared SQL, with every value bound; units are those of
//! `reference.admin_units` valid on the date.

mod render;
pub mod table;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use futures_util::TryStreamExt;
use geosector_access::policy::Operation;
use geosector_domain::{Columns, ReportDecl, SectorDecl};
use geosector_store::report::{self, Unit};

use crate::error::ApiError;
use crate::state::AppState;
use crate::{db, params};

use self::table::{ColumnSource, Scope};

/// Vietnam's offset from UTC: a date means that day in Vietnam.
const VIETNAM: Duration = Duration::hours(7);

/// Representations of a form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// JSON.
    Json,
    /// CSV.
    Csv,
    /// A spreadsheet.
    Xlsx,
    /// HTML.
    Html,
}

/// A parsed request.
#[derive(Debug, Clone)]
pub struct Query {
    /// The unit.
    pub unit: Unit,
    /// The date (in Vietnam) the units are taken at, and the form's "as of" day.
    pub date: NaiveDate,
    /// The instant the data are read at.
    pub instant: DateTime<Utc>,
    /// Whether the form's optional code mapping applies.
    pub mapped: bool,
    /// The representation.
    pub output: Output,
}

impl Query {
    /// The unit as written in a query (`VN` for the country).
    pub fn unit_code(&self) -> &str {
        match &self.unit {
            Unit::Country => "VN",
            Unit::Province(c) | Unit::Commune(c) => c,
        }
    }
}

/// The last 31 December before `today`.
pub fn default_date(today: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(today.year() - 1, 12, 31).unwrap_or(today)
}

/// The instant a date's data are read at: the end of that day in Vietnam.
pub fn end_of_day(date: NaiveDate) -> DateTime<Utc> {
    let next = date.succ_opt().unwrap_or(date).and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    next - VIETNAM - Duration::microseconds(1)
}

/// Parses a form's query (`today`: the date in Vietnam now).
///
/// # Errors
/// 400 naming the parameter.
pub fn parse(pairs: &[(String, String)], accept: Option<&str>, today: NaiveDate) -> Result<Query, ApiError> {
    params::check_names(
        pairs,
        |n| matches!(n, "unit" | "date" | "legacy" | "f"),
        || "unknown parameter; use unit, date, legacy or f".to_owned(),
    )?;
    let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let unit = match get("unit").map(str::trim) {
        None | Some("") => Unit::Country,
        Some(v) if v.eq_ignore_ascii_case("vn") => Unit::Country,
        Some(v) if v.len() == 2 && v.bytes().all(|b| b.is_ascii_digit()) => Unit::Province(v.to_owned()),
        Some(v) if v.len() == 5 && v.bytes().all(|b| b.is_ascii_digit()) => Unit::Commune(v.to_owned()),
        Some(v) => {
            return Err(ApiError::param(
                "unit",
                format!("expected a 5-digit commune code, a 2-digit province code or VN, got \"{v}\""),
            ))
        }
    };
    let (date, instant) = match get("date").map(str::trim) {
        None | Some("") => {
            let date = default_date(today);
            (date, end_of_day(date))
        }
        Some(v) => {
            if let Ok(date) = NaiveDate::parse_from_str(v, "%Y-%m-%d") {
                (date, end_of_day(date))
            } else if let Ok(t) = DateTime::parse_from_rfc3339(v) {
                let t = t.with_timezone(&Utc);
                ((t + VIETNAM).date_naive(), t)
            } else {
                return Err(ApiError::param(
                    "date",
                    format!("expected a date (YYYY-MM-DD) or an RFC 3339 instant, got \"{v}\""),
                ));
            }
        }
    };
    let mapped = match get("legacy") {
        None | Some("keep") => false,
        Some("map") => true,
        Some(v) => return Err(ApiError::param("legacy", format!("expected keep or map, got \"{v}\""))),
    };
    let output = match get("f") {
        Some("json" | "application/json") => Output::Json,
        Some("csv" | "text/csv") => Output::Csv,
        Some("xlsx") => Output::Xlsx,
        Some("html" | "text/html") => Output::Html,
        Some(other) => {
            return Err(ApiError::param("f", format!("unsupported format \"{other}\": use json, csv, xlsx or html")))
        }
        None => match params::format(None, accept)? {
            params::Format::Html => Output::Html,
            params::Format::Json => Output::Json,
        },
    };
    Ok(Query { unit, date, instant, mapped, output })
}

/// The form a path names.
///
/// # Errors
/// 404 naming the sector or the form (and the forms there are).
pub fn find<'a>(sectors: &'a [&'static SectorDecl], sector: &str, form: &str) -> Result<&'a ReportDecl, ApiError> {
    let decl = sectors
        .iter()
        .find(|s| s.id == sector && !s.reports.is_empty())
        .ok_or_else(|| ApiError::NotFound(format!("sector: no statistics for sector \"{sector}\"")))?;
    decl.reports.iter().find(|r| r.is_named(form)).ok_or_else(|| {
        let known: Vec<&str> = decl.reports.iter().map(|r| r.id).collect();
        ApiError::NotFound(format!("form: no form \"{form}\" in {sector} statistics (forms: {})", known.join(", ")))
    })
}

/// The requested unit as the form names it.
#[derive(Debug, Clone)]
pub struct UnitInfo {
    /// Its level: `country`, `province` or `commune`.
    pub level: &'static str,
    /// Its code (`VN` for the country).
    pub code: String,
    /// Its name at the date.
    pub name: String,
}

/// `GET /statistics/{sector}/{form}`.
///
/// # Errors
/// 404 for an unknown sector, form or unit (at the date), 400 for a bad parameter, 401/403 when
/// the caller may not read the unit's features, 503 when the database is down.
pub async fn form(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (sector, form) = path.into_inner();
    let decl = find(&state.sectors, &sector, &form)?;
    let pairs = params::query_pairs(&req)?;
    let accept = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let today = (Utc::now() + VIETNAM).date_naive();
    let q = parse(&pairs, accept, today)?;
    let caller = crate::auth::caller(&state, &req).await?;
    let opened = crate::auth::open(&state, &caller, decl.collection, Operation::ReadItems)?;
    let client = state.reads.get().await?;
    let (unit, parent) = match report::unit_at(&q.unit, q.date) {
        None => (UnitInfo { level: "country", code: "VN".into(), name: "Việt Nam".into() }, None),
        Some(statement) => {
            let level = if matches!(q.unit, Unit::Province(_)) { "province" } else { "commune" };
            let row = db::one(&client, &statement)
                .await?
                .ok_or_else(|| ApiError::NotFound(format!("unit: no {level} {} on {}", q.unit_code(), q.date)))?;
            let parent: Option<String> = row.try_get(1)?;
            (UnitInfo { level, code: q.unit_code().to_owned(), name: row.try_get(0)? }, parent)
        }
    };
    if let Some(scope) = &opened.scope {
        let within = |code: &str| scope.codes.iter().any(|c| c == code);
        let allowed = match &q.unit {
            Unit::Country => false,
            Unit::Province(code) => within(code),
            Unit::Commune(code) => within(code) || parent.as_deref().is_some_and(within),
        };
        if !allowed {
            return Err(crate::auth::refused(&caller));
        }
    }
    let communes: Vec<(String, String)> = db::all(&client, &report::communes(&q.unit, q.date))
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<_, tokio_postgres::Error>>()?;
    let whole = match q.unit {
        Unit::Country => Scope::Everywhere,
        _ => Scope::Communes(communes.iter().map(|(c, _)| c.clone()).collect()),
    };
    let source = match decl.columns {
        Columns::Fixed(_) => ColumnSource::Fixed { scope: whole.clone() },
        Columns::Units { .. } => {
            let units = db::all(&client, &report::columns(&q.unit, q.date))
                .await?
                .iter()
                .map(|r| {
                    let code: String = r.try_get(0)?;
                    let held = communes.iter().filter(|(_, u)| *u == code).map(|(c, _)| c.clone()).collect();
                    Ok((code, r.try_get(1)?, held))
                })
                .collect::<Result<_, tokio_postgres::Error>>()?;
            ColumnSource::Units { units, drill_down: q.unit == Unit::Country, total: whole.clone() }
        }
    };
    let selected = match q.unit {
        Unit::Country => None,
        _ => Some(communes.iter().map(|(c, _)| c.clone()).collect()),
    };
    let statement = report::aggregate(decl, q.instant, selected);
    // At most one row per code and column (per commune for a form by unit): read as they come.
    let rows = db::stream(&client, &statement).await?;
    futures_util::pin_mut!(rows);
    let mut data: Vec<(String, String, f64)> = Vec::new();
    while let Some(row) = rows.try_next().await? {
        let key: Option<String> = row.try_get(0)?;
        let column: Option<String> = row.try_get(1)?;
        let value: Option<f64> = row.try_get(2)?;
        data.push((key.unwrap_or_default(), column.unwrap_or_default(), value.unwrap_or(0.0)));
    }
    // All zeros: say when the data begin, if they begin after the instant asked for.
    let empty_until = if data.iter().all(|(_, _, v)| *v == 0.0) {
        let first: Option<DateTime<Utc>> =
            db::one(&client, &report::first_version(opened.collection.decl.dataset)).await?.and_then(|r| r.get(0));
        match first {
            Some(at) if at <= q.instant => None,
            other => Some(other),
        }
    } else {
        None
    };
    drop(client);
    let table = table::build(decl, q.mapped, &source, data);
    let context = render::Context {
        base: crate::links::base_url(&req),
        key: crate::links::query_key(&req),
        sector: &sector,
        decl,
        query: &q,
        unit: &unit,
        statement: &statement,
        empty_until,
    };
    let name = format!("{}_{}_{}", decl.code.replace('/', "-"), unit.code, q.date);
    match q.output {
        Output::Json => Ok(HttpResponse::Ok().content_type("application/json").json(render::json(&context, &table))),
        Output::Csv => Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((header::CONTENT_DISPOSITION, format!("inline; filename=\"{name}.csv\"")))
            .body(render::csv(&context, &table))),
        Output::Xlsx => {
            let bytes = render::xlsx(&context, &table).map_err(|e| ApiError::Internal(format!("xlsx: {e}")))?;
            Ok(HttpResponse::Ok()
                .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
                .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}.xlsx\"")))
                .body(bytes))
        }
        Output::Html => {
            Ok(HttpResponse::Ok().content_type("text/html; charset=utf-8").body(render::html(&context, &table)))
        }
    }
}

/// Adds the statistics path of every sector with forms to the OpenAPI document.
pub fn document(doc: &mut serde_json::Value, sectors: &[&'static SectorDecl]) {
    let error = serde_json::json!({ "description": "An OGC exception", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/exception" } } } });
    for sector in sectors.iter().filter(|s| !s.reports.is_empty()) {
        let forms: Vec<&str> = sector.reports.iter().map(|r| r.id).collect();
        let path = serde_json::json!({ "get": {
            "summary": format!("Statistics forms of {} ({})", sector.title_en, forms.join(", ")),
            "operationId": format!("statistics_{}", sector.id),
            "parameters": [
                { "name": "form", "in": "path", "required": true, "schema": { "type": "string", "enum": forms } },
                { "name": "unit", "in": "query", "required": false, "schema": { "type": "string", "pattern": "^(\\d{2}|\\d{5}|VN)$" }, "description": "A 5-digit commune code, a 2-digit province code, or VN (default) for the country" },
                { "name": "date", "in": "query", "required": false, "schema": { "type": "string" }, "description": "YYYY-MM-DD (the end of that day, UTC+7) or an RFC 3339 instant; default the last 31 December" },
                { "name": "legacy", "in": "query", "required": false, "schema": { "type": "string", "enum": ["keep", "map"] } },
                { "name": "f", "in": "query", "required": false, "schema": { "type": "string", "enum": ["json", "csv", "xlsx", "html"] } }
            ],
            "responses": {
                "200": { "description": "The form", "content": {
                    "application/json": { "schema": { "type": "object" } },
                    "text/csv": { "schema": { "type": "string" } },
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": { "schema": { "type": "string", "format": "binary" } },
                    "text/html": { "schema": { "type": "string" } } } },
                "400": error.clone(), "401": error.clone(), "403": error.clone(), "404": error.clone()
            } } });
        if let Some(paths) = doc.get_mut("paths").and_then(serde_json::Value::as_object_mut) {
            paths.insert(format!("/statistics/{}/{{form}}", sector.id), path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn err(list: &[(&str, &str)]) -> String {
        let today = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        parse(&pairs(list), None, today).err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn the_default_is_the_end_of_the_last_31_december_in_vietnam() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        let q = parse(&[], None, today).unwrap_or_else(|_| panic!("valid"));
        assert_eq!(q.unit, Unit::Country);
        assert_eq!(q.date.to_string(), "2025-12-31");
        assert_eq!(q.instant.to_rfc3339_opts(chrono::SecondsFormat::Micros, true), "2025-12-31T16:59:59.999999Z");
        assert_eq!(default_date(NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()).to_string(), "2025-12-31");
        let q = parse(&pairs(&[("unit", "01"), ("date", "2026-12-06T18:30:00Z"), ("f", "xlsx")]), None, today)
            .unwrap_or_else(|_| panic!("valid"));
        assert_eq!(
            (q.unit, q.date.to_string(), q.output),
            (Unit::Province("01".into()), "2026-12-07".into(), Output::Xlsx)
        );
    }

    #[test]
    fn bad_input_names_its_parameter() {
        assert!(err(&[("unit", "1")]).starts_with("unit: expected a 5-digit commune code"));
        assert!(err(&[("unit", "0037a")]).starts_with("unit:"));
        assert!(err(&[("date", "31/12/2025")]).starts_with("date: expected a date"));
        assert!(err(&[("legacy", "yes")]).starts_with("legacy:"));
        assert!(err(&[("f", "pdf")]).starts_with("f: unsupported format"));
        assert!(err(&[("bbox", "1,2,3,4")]).starts_with("bbox: unknown parameter"));
        assert_eq!(err(&[("unit", "01"), ("unit", "02")]), "unit: given more than once");
    }
}
