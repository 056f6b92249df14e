//! CQL2 filtering for geosector (OGC API - Features Part 3, OGC 21-065r2 CQL2).
//!
//! What it is for: turning a client's `filter` (CQL2 text or JSON) into a PostgreSQL/PostGIS
//! condition over one collection. Parsing is the `cql2` crate's; the translation to SQL is ours
//! ([`translate()`]): properties come only from the collection's [`Queryables`] (declared columns,
//! quoted), operators and functions only from a fixed table, and **every literal becomes a
//! bound parameter** (`$n` with an explicit cast) — no text of the request is ever spliced into
//! SQL. The crate's own `to_sql` is never used.
//!
//! What it is not: it runs no query and knows no HTTP. The store appends the condition to the
//! items or tile statement; the server maps [`FilterError`] to a 400 naming the parameter.
//!
//! Key decisions:
//! - Size and depth are bounded before and after parsing ([`Limits`]), and parsing and
//!   translation run on a thread with a large stack, so no input can overflow a worker's stack
//!   or panic the server ([`compile`]).
//! - Types are checked while translating (text is never compared with a number, a date literal
//!   is parsed in Rust), so a filter that PostgreSQL would reject is a 400, not a 500.
//! - Geometry literals are read in `filter-crs` ([`FilterCrs`]: CRS84 by default) and brought to
//!   the storage CRS (EPSG:4326) in SQL with the project's explicit PROJ strings (the one VN-2000
//!   rule of `geosector-crs`); a `BBOX` crossing the antimeridian is split in two.

pub mod crs;
pub mod queryables;
pub mod translate;
pub mod value;

pub use crs::FilterCrs;
pub use queryables::{Kind, Queryable, Queryables};
pub use translate::{translate, Sql};
pub use value::Value;

/// A filter that cannot be used, with a sentence saying why (the caller names the parameter).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FilterError(pub String);

impl FilterError {
    pub(crate) fn new(message: impl Into<String>) -> FilterError {
        FilterError(message.into())
    }
}

/// The encodings of `filter` (`filter-lang`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// `cql2-text` (the default).
    Text,
    /// `cql2-json`.
    Json,
}

impl Lang {
    /// Reads `filter-lang`. `cql-text`, the name of the drafts that GDAL up to 3.6 sends (its
    /// filters are CQL2 text), is accepted as `cql2-text`.
    ///
    /// # Errors
    /// A sentence naming the accepted values.
    pub fn parse(text: &str) -> Result<Lang, FilterError> {
        match text.trim() {
            "cql2-text" | "cql-text" => Ok(Lang::Text),
            "cql2-json" => Ok(Lang::Json),
            other => Err(FilterError::new(format!("unsupported \"{other}\": use cql2-text or cql2-json"))),
        }
    }
}

/// Bounds on a filter, checked before anything else is done with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest filter text, in bytes.
    pub max_bytes: usize,
    /// Deepest nesting (parentheses, JSON brackets, and nested expressions).
    pub max_depth: usize,
    /// Most expression nodes (properties, literals, operators; a geometry literal is one node).
    pub max_nodes: usize,
    /// Most vertices (positions) of one geometry literal.
    pub max_vertices: usize,
}

impl Default for Limits {
    /// 32 KiB (a request line is at most 64 KiB anyway), depth 64, 1,000 nodes, 10,000
    /// vertices per geometry literal.
    fn default() -> Self {
        Limits { max_bytes: 32 * 1024, max_depth: 64, max_nodes: 1000, max_vertices: 10_000 }
    }
}

/// A translated filter: the SQL condition and its bound values.
pub type Compiled = Sql;

/// Stack of the thread that parses and translates: generous, because the `cql2` parser and the
/// translator recurse per nesting level and debug builds have large frames.
const PARSER_STACK: usize = 64 * 1024 * 1024;

/// The most parser calls one CQL2 text parse may make (pest's process-wide budget, counted per
/// parse). Unclosed or invalid nesting makes the grammar backtrack exponentially — 24 `(`
/// before a property name once cost 141 s of CPU — so the depth check alone is no bound on the
/// work; this is. The largest legitimate filter of the suite (the OGC CQL2 test suite's) takes
/// far fewer calls (see `tests::the_call_budget_bounds_hostile_nesting`).
pub const PARSER_CALLS: usize = 2_000_000;

/// Sets the parser's call budget, once per process.
fn bound_parser() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| pest::set_call_limit(std::num::NonZeroUsize::new(PARSER_CALLS)));
}

/// Checks the limits, parses `text` in `lang`, and translates it against `queryables`, with
/// geometry literals read in `crs` and placeholders numbered from `$1` (the statement that takes
/// the condition renumbers them, [`Sql::condition_from`]).
///
/// Parsing and translation run on a dedicated thread with a large stack, and a panic inside the
/// parser is caught there and reported as an unreadable filter: no input can take the server
/// down.
///
/// # Errors
/// [`FilterError`] for a filter too large or too deep, malformed, naming an unknown property or
/// function, or mixing types.
pub fn compile(
    text: &str,
    lang: Lang,
    queryables: &Queryables,
    crs: &FilterCrs,
    limits: Limits,
) -> Result<Compiled, FilterError> {
    prescan(text, lang, limits)?;
    bound_parser();
    let (text, queryables, crs) = (text.to_owned(), queryables.clone(), crs.clone());
    let worker = std::thread::Builder::new()
        .name("cql2".into())
        .stack_size(PARSER_STACK)
        .spawn(move || -> Result<Compiled, FilterError> {
            let expr = match lang {
                Lang::Text => cql2::parse_text(&text).map_err(|e| e.to_string()),
                Lang::Json => cql2::parse_json(&text).map_err(|e| e.to_string()),
            }
            .map_err(|e| FilterError::new(format!("not valid {}: {}", lang_name(lang), short(&e))))?;
            translate::check_limits(&expr, limits)?;
            translate(&expr, &queryables, &crs, 1)
        })
        .map_err(|e| FilterError::new(format!("cannot be read now ({e})")))?;
    worker.join().unwrap_or_else(|_| Err(FilterError::new(format!("not valid {}", lang_name(lang)))))
}

/// Checks the limits of an expression built by another front end (WFS's Filter Encoding, see
/// `geosector-wfs`) and translates it exactly as [`compile`] translates a parsed CQL2 text, on
/// the same large-stack thread.
///
/// # Errors
/// [`FilterError`] as for [`compile`], less the parsing errors.
pub fn compile_expr(
    expr: cql2::Expr,
    queryables: &Queryables,
    crs: &FilterCrs,
    limits: Limits,
) -> Result<Compiled, FilterError> {
    let (queryables, crs) = (queryables.clone(), crs.clone());
    let worker = std::thread::Builder::new()
        .name("cql2".into())
        .stack_size(PARSER_STACK)
        .spawn(move || -> Result<Compiled, FilterError> {
            translate::check_limits(&expr, limits)?;
            translate(&expr, &queryables, &crs, 1)
        })
        .map_err(|e| FilterError::new(format!("cannot be read now ({e})")))?;
    worker.join().unwrap_or_else(|_| Err(FilterError::new("cannot be translated")))
}

fn lang_name(lang: Lang) -> &'static str {
    match lang {
        Lang::Text => "CQL2 text",
        Lang::Json => "CQL2 JSON",
    }
}

/// At most 300 characters of a message (parser messages can quote the whole input).
pub(crate) fn short(text: &str) -> String {
    if text.chars().count() > 300 {
        format!("{}…", text.chars().take(300).collect::<String>())
    } else {
        text.to_owned()
    }
}

/// The checks made on the raw text, before the parser sees it: length, and nesting depth of
/// parentheses (text) or brackets (JSON) outside string literals.
fn prescan(text: &str, lang: Lang, limits: Limits) -> Result<(), FilterError> {
    if text.len() > limits.max_bytes {
        return Err(FilterError::new(format!("longer than {} bytes ({} bytes)", limits.max_bytes, text.len())));
    }
    if text.trim().is_empty() {
        return Err(FilterError::new("empty"));
    }
    if text.contains('\0') {
        return Err(FilterError::new("contains a NUL character"));
    }
    let (open, close): (&[char], &[char]) = match lang {
        Lang::Text => (&['('], &[')']),
        Lang::Json => (&['[', '{'], &[']', '}']),
    };
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in text.chars() {
        if let Some(q) = quote {
            if lang == Lang::Json && escaped {
                escaped = false;
            } else if lang == Lang::Json && c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' if lang == Lang::Text => quote = Some(c),
            '"' if lang == Lang::Json => quote = Some(c),
            c if open.contains(&c) => {
                depth += 1;
                if depth > limits.max_depth {
                    return Err(FilterError::new(format!("nested deeper than {} levels", limits.max_depth)));
                }
            }
            c if close.contains(&c) => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_call_budget_bounds_hostile_nesting() {
        bound_parser();
        let hostile = [
            format!("{}sheet_number", "(".repeat(24)),
            format!("{}sheet_number", "(".repeat(64)),
            format!("{}sheet_number = {}", "(".repeat(40), ")".repeat(40)),
            format!("{}sheet_number = 1 AND{}", "(".repeat(30), ")".repeat(30)),
        ];
        for text in &hostile {
            let started = std::time::Instant::now();
            assert!(cql2::parse_text(text).is_err(), "{text}");
            // Unbounded, the first took 141 s of CPU; bounded, well under a second in release.
            assert!(started.elapsed() < std::time::Duration::from_secs(20), "{text}: {:?}", started.elapsed());
        }
        // Legitimate filters still parse: deep but well-formed nesting, and one near the node
        // limit (300 comparisons, about 900 nodes) with the longest alternatives of the grammar.
        let wide = (0..300)
            .map(|i| {
                format!("(ACCENTI(address) LIKE ACCENTI('%Hà Nội {i}%') OR sheet_number BETWEEN {i} AND {})", i + 1)
            })
            .collect::<Vec<_>>()
            .join(" AND ");
        assert!(wide.len() < Limits::default().max_bytes);
        assert!(cql2::parse_text(&wide).is_ok(), "a wide legitimate filter stays within the budget");
        // Legitimate nesting still parses.
        let nested =
            format!("{}sheet_number = 1{} AND S_INTERSECTS(geom, POINT(105 21))", "(".repeat(30), ")".repeat(30));
        assert!(cql2::parse_text(&nested).is_ok());
    }

    #[test]
    fn geometry_literals_are_bounded_in_vertices() {
        let ring = |n: usize| {
            let mut points: Vec<String> = (0..n - 1).map(|i| format!("{} {}", 105.0 + i as f64 * 1e-4, 21.0)).collect();
            points.push(points[0].clone());
            format!("S_INTERSECTS(geom, POLYGON(({})))", points.join(", "))
        };
        let limits = Limits { max_vertices: 50, ..Limits::default() };
        let expr = cql2::parse_text(&ring(50)).unwrap();
        assert!(translate::check_limits(&expr, limits).is_ok());
        let expr = cql2::parse_text(&ring(51)).unwrap();
        assert!(translate::check_limits(&expr, limits).unwrap_err().0.contains("51 vertices"));
    }

    #[test]
    fn limits_are_checked_before_parsing() {
        let limits = Limits::default();
        let deep = format!("{}a = 1{}", "(".repeat(65), ")".repeat(65));
        assert!(prescan(&deep, Lang::Text, limits).unwrap_err().0.contains("deeper than 64"));
        let fine = format!("{}a = 1{}", "(".repeat(64), ")".repeat(64));
        assert!(prescan(&fine, Lang::Text, limits).is_ok());
        assert!(
            prescan(
                "name = '(((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((('",
                Lang::Text,
                limits
            )
            .is_ok(),
            "quoted parentheses do not count"
        );
        let big = "a".repeat(32 * 1024 + 1);
        assert!(prescan(&big, Lang::Text, limits).unwrap_err().0.contains("longer than"));
        let json = format!("{}1{}", "[".repeat(70), "]".repeat(70));
        assert!(prescan(&json, Lang::Json, limits).is_err());
        assert!(prescan("  ", Lang::Text, limits).is_err());
    }

    #[test]
    fn languages() {
        assert_eq!(Lang::parse("cql2-json").unwrap(), Lang::Json);
        assert_eq!(Lang::parse("cql-text").unwrap(), Lang::Text, "GDAL 3.6");
        assert!(Lang::parse("ecql").unwrap_err().0.contains("cql2-text"));
    }
}
