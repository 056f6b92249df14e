//! The translator: a parsed CQL2 expression to a PostgreSQL/PostGIS condition.
//!
//! Every literal becomes a placeholder with an explicit cast (`$7::text`, `$8::float8`,
//! `$9::timestamptz`) and a [`Value`]; properties become the quoted columns of the
//! [`Queryables`]; operators and functions come from the fixed tables below. Nothing of the
//! request's text reaches the SQL: an unknown property or function is an error, never an
//! identifier. Types are checked as the tree is walked, so what PostgreSQL would refuse is
//! refused here first with a sentence a client can act on.
//!
//! Semantics worth knowing:
//! - `LIKE` is case-sensitive with `%`, `_` and `\` as escape (CQL2 = PostgreSQL); `CASEI` is
//!   `lower()`, `ACCENTI` is `meta.accenti()` (unaccent after NFC; migration 0009).
//! - `/` is real division and `div` integer division; dividing by zero gives NULL (no match)
//!   rather than an error.
//! - Temporal operands are intervals `[start, end]` (an instant is `[t, t]`, `'..'` is open);
//!   the 15 relations are Allen's, as CQL2 defines them. A date compared with timestamps is the
//!   whole day.
//! - A `BBOX` whose west edge is east of its east edge (in a geographic `filter-crs`) crosses
//!   the antimeridian and becomes two boxes.

use chrono::{DateTime, NaiveDate, Utc};
use cql2::Expr;

use crate::crs::FilterCrs;
use crate::queryables::{Kind, Queryable, Queryables};
use crate::value::Value;
use crate::{short, FilterError, Limits};

/// A translated filter: a condition to AND into a `WHERE`, and the values of its placeholders
/// (`$first`, `$first + 1`, ... in order).
///
/// Whoever places the condition in a statement decides where its placeholders start
/// ([`Sql::condition_from`]); the store does, so the numbering never leaves it.
#[derive(Debug, Clone, PartialEq)]
pub struct Sql {
    /// The condition (parenthesised), its placeholders numbered from `first`.
    pub condition: String,
    /// The bound values, in placeholder order.
    pub values: Vec<Value>,
    /// The number of the condition's first placeholder.
    first: usize,
}

impl Sql {
    /// The condition with its placeholders renumbered to start at `$first`.
    ///
    /// Placeholders are the `$n` outside quoted identifiers (`"…"`) and string constants
    /// (`'…'`); the translator writes every value that way and nothing else with a `$`.
    pub fn condition_from(&self, first: usize) -> std::borrow::Cow<'_, str> {
        if first == self.first {
            return std::borrow::Cow::Borrowed(&self.condition);
        }
        let mut out = String::with_capacity(self.condition.len() + 8);
        let mut quote: Option<char> = None;
        let mut chars = self.condition.char_indices().peekable();
        while let Some((_, c)) = chars.next() {
            out.push(c);
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '$') => {
                    let mut n = 0usize;
                    let mut digits = false;
                    while let Some((_, d)) = chars.peek().copied().filter(|(_, d)| d.is_ascii_digit()) {
                        n = n * 10 + (d as usize - '0' as usize);
                        digits = true;
                        chars.next();
                    }
                    if digits {
                        out.push_str(&(n + first - self.first).to_string());
                    }
                }
                (None, _) => {}
            }
        }
        std::borrow::Cow::Owned(out)
    }
}

/// Translates a parsed filter. Placeholders are numbered from `$first`.
///
/// # Errors
/// [`FilterError`] naming an unknown property or function, a literal that does not parse, or
/// operands of the wrong type.
pub fn translate(expr: &Expr, queryables: &Queryables, crs: &FilterCrs, first: usize) -> Result<Sql, FilterError> {
    let mut t = Translator { queryables, crs, first, values: Vec::new() };
    let condition = t.predicate(expr)?;
    Ok(Sql { condition: format!("({condition})"), values: t.values, first })
}

/// Checks the node count and nesting depth of a parsed filter (chains of `AND` or of `OR`
/// count as one level).
///
/// # Errors
/// [`FilterError`] when a limit is exceeded.
pub fn check_limits(expr: &Expr, limits: Limits) -> Result<(), FilterError> {
    let mut nodes = 0usize;
    walk(expr, 1, None, &mut nodes, limits)
}

fn walk(expr: &Expr, depth: usize, parent: Option<&str>, nodes: &mut usize, limits: Limits) -> Result<(), FilterError> {
    *nodes += 1;
    if *nodes > limits.max_nodes {
        return Err(FilterError::new(format!("more than {} expressions", limits.max_nodes)));
    }
    if depth > limits.max_depth {
        return Err(FilterError::new(format!("nested deeper than {} levels", limits.max_depth)));
    }
    let children: Vec<&Expr> = match expr {
        Expr::Operation { op, args } => {
            let op = op.to_ascii_lowercase();
            let same = matches!(op.as_str(), "and" | "or") && parent == Some(op.as_str());
            let next = if same { depth } else { depth + 1 };
            for a in args {
                walk(a, next, Some(if matches!(op.as_str(), "and" | "or") { op.as_str() } else { "" }), nodes, limits)?;
            }
            return Ok(());
        }
        Expr::Interval { interval } => interval.iter().map(AsRef::as_ref).collect(),
        Expr::Timestamp { timestamp } => vec![timestamp.as_ref()],
        Expr::Date { date } => vec![date.as_ref()],
        Expr::BBox { bbox } => bbox.iter().map(AsRef::as_ref).collect(),
        Expr::Array(items) => items.iter().map(AsRef::as_ref).collect(),
        Expr::Geometry(g) => {
            let vertices = vertices(g);
            if vertices > limits.max_vertices {
                return Err(FilterError::new(format!(
                    "a geometry literal has {vertices} vertices, more than the limit of {}",
                    limits.max_vertices
                )));
            }
            Vec::new()
        }
        _ => Vec::new(),
    };
    for c in children {
        walk(c, depth + 1, None, nodes, limits)?;
    }
    Ok(())
}

/// The vertices (positions) of a geometry literal, counted on its WKT: the comma-separated
/// positions (an upper bound: the separator of two rings or parts counts too).
fn vertices(g: &cql2::Geometry) -> usize {
    match g.to_wkt() {
        Ok(text) => text.matches(',').count() + 1,
        Err(_) => 0,
    }
}

/// The type of a translated operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Text,
    Number,
    Bool,
    Date,
    Timestamp,
    Geometry,
    TextArray,
    NumberArray,
    /// `()`: an empty array literal, compatible with either array type.
    EmptyArray,
}

impl Ty {
    fn of(kind: Kind) -> Ty {
        match kind {
            Kind::Text => Ty::Text,
            Kind::Integer | Kind::Float => Ty::Number,
            Kind::Boolean => Ty::Bool,
            Kind::Date => Ty::Date,
            Kind::Timestamp => Ty::Timestamp,
            Kind::TextArray => Ty::TextArray,
            Kind::FloatArray => Ty::NumberArray,
            Kind::Geometry(_) => Ty::Geometry,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Ty::Text => "a string",
            Ty::Number => "a number",
            Ty::Bool => "a boolean",
            Ty::Date => "a date",
            Ty::Timestamp => "a timestamp",
            Ty::Geometry => "a geometry",
            Ty::TextArray | Ty::NumberArray | Ty::EmptyArray => "an array",
        }
    }

    fn temporal(self) -> bool {
        matches!(self, Ty::Date | Ty::Timestamp)
    }

    /// Whether two operands can be compared with `=`, `<`, `IN`, `BETWEEN`.
    fn comparable(self, other: Ty) -> bool {
        (self == other && !matches!(self, Ty::Geometry | Ty::TextArray | Ty::NumberArray | Ty::EmptyArray))
            || (self.temporal() && other.temporal())
    }
}

/// A translated operand.
struct Typed {
    sql: String,
    ty: Ty,
}

/// One end of a temporal operand, bound only when the relation uses it (an unused placeholder
/// would leave its type undetermined).
#[derive(Clone)]
enum Bound {
    /// An SQL expression of a date or a timestamp (a column).
    At(String, Ty),
    /// A literal, not bound yet.
    Literal(Value, Ty),
    /// `'..'`: unbounded.
    Open,
}

impl Bound {
    fn ty(&self) -> Option<Ty> {
        match self {
            Bound::At(_, ty) | Bound::Literal(_, ty) => Some(*ty),
            Bound::Open => None,
        }
    }
}

const COMPARISONS: &[&str] = &["=", "<>", "<", "<=", ">", ">="];
const ARITHMETIC: &[&str] = &["+", "-", "*", "/", "%", "^", "div"];

/// CQL2 spatial functions and their PostGIS predicates.
const SPATIAL: &[(&str, &str)] = &[
    ("s_intersects", "ST_Intersects"),
    ("s_disjoint", "ST_Disjoint"),
    ("s_equals", "ST_Equals"),
    ("s_touches", "ST_Touches"),
    ("s_within", "ST_Within"),
    ("s_overlaps", "ST_Overlaps"),
    ("s_crosses", "ST_Crosses"),
    ("s_contains", "ST_Contains"),
];

/// CQL2 array functions and their PostgreSQL array operators.
const ARRAYS: &[(&str, &str)] =
    &[("a_equals", "="), ("a_contains", "@>"), ("a_containedby", "<@"), ("a_overlaps", "&&")];

const TEMPORAL: &[&str] = &[
    "t_after",
    "t_before",
    "t_contains",
    "t_disjoint",
    "t_during",
    "t_equals",
    "t_finishedby",
    "t_finishes",
    "t_intersects",
    "t_meets",
    "t_metby",
    "t_overlappedby",
    "t_overlaps",
    "t_startedby",
    "t_starts",
];

struct Translator<'a> {
    queryables: &'a Queryables,
    crs: &'a FilterCrs,
    first: usize,
    values: Vec<Value>,
}

fn err<T>(message: impl Into<String>) -> Result<T, FilterError> {
    Err(FilterError::new(message))
}

/// A short name of an expression for messages.
fn describe(expr: &Expr) -> String {
    match expr {
        Expr::Property { property } => format!("property \"{}\"", short(property)),
        Expr::Operation { op, .. } => format!("{}(...)", short(&op.to_ascii_uppercase())),
        Expr::Literal(s) => format!("'{}'", short(s)),
        Expr::Float(f) => f.to_string(),
        Expr::Bool(b) => b.to_string(),
        Expr::Date { .. } => "a DATE".into(),
        Expr::Timestamp { .. } => "a TIMESTAMP".into(),
        Expr::Interval { .. } => "an INTERVAL".into(),
        Expr::Geometry(_) | Expr::BBox { .. } => "a geometry".into(),
        Expr::Array(_) => "an array".into(),
        Expr::Null => "NULL".into(),
    }
}

impl Translator<'_> {
    fn bind(&mut self, value: Value) -> String {
        let cast = value.cast();
        self.values.push(value);
        format!("${}::{cast}", self.first + self.values.len() - 1)
    }

    fn property(&self, name: &str) -> Result<&Queryable, FilterError> {
        self.queryables.get(name).ok_or_else(|| {
            FilterError::new(format!("unknown property \"{}\" (queryables: {})", short(name), self.queryables.names()))
        })
    }

    /// An expression in a boolean position.
    fn predicate(&mut self, expr: &Expr) -> Result<String, FilterError> {
        match expr {
            Expr::Bool(true) => Ok("TRUE".into()),
            Expr::Bool(false) => Ok("FALSE".into()),
            Expr::Property { property } => {
                let q = self.property(property)?;
                if q.kind == Kind::Boolean {
                    Ok(q.column.clone())
                } else {
                    err(format!("property \"{}\" is not a boolean, so it is not a condition", q.name))
                }
            }
            Expr::Operation { op, args } => self.operation(&op.to_ascii_lowercase(), args),
            other => err(format!("{} is not a condition", describe(other))),
        }
    }

    fn operation(&mut self, op: &str, args: &[Box<Expr>]) -> Result<String, FilterError> {
        match op {
            "and" | "or" => {
                // Flatten chains of the same operator (a AND b AND c arrives nested).
                let mut flat: Vec<&Expr> = Vec::new();
                let mut stack: Vec<&Expr> = args.iter().rev().map(AsRef::as_ref).collect();
                while let Some(e) = stack.pop() {
                    match e {
                        Expr::Operation { op: inner, args } if inner.eq_ignore_ascii_case(op) => {
                            stack.extend(args.iter().rev().map(AsRef::as_ref));
                        }
                        other => flat.push(other),
                    }
                }
                if flat.is_empty() {
                    return err(format!("{} needs operands", op.to_ascii_uppercase()));
                }
                let parts = flat.into_iter().map(|e| self.predicate(e)).collect::<Result<Vec<_>, _>>()?;
                let joiner = if op == "and" { " AND " } else { " OR " };
                Ok(format!("({})", parts.join(joiner)))
            }
            "not" => {
                let [a] = arity::<1>(op, args)?;
                Ok(format!("(NOT {})", self.predicate(a)?))
            }
            "isnull" => {
                let [a] = arity::<1>(op, args)?;
                let a = self.scalar(a)?;
                Ok(format!("({} IS NULL)", a.sql))
            }
            op if COMPARISONS.contains(&op) => {
                let [a, b] = arity::<2>(op, args)?;
                let (a, b) = self.pair(a, b)?;
                if !a.ty.comparable(b.ty) {
                    return err(mismatch(op, a.ty, b.ty));
                }
                Ok(format!("({} {op} {})", a.sql, b.sql))
            }
            "like" => {
                let [a, b] = arity::<2>(op, args)?;
                let (a, b) = (self.scalar(a)?, self.scalar(b)?);
                if a.ty != Ty::Text || b.ty != Ty::Text {
                    return err(format!("LIKE compares strings, got {} and {}", a.ty.name(), b.ty.name()));
                }
                Ok(format!("({} LIKE {})", a.sql, b.sql))
            }
            "between" => {
                let [a, low, high] = arity::<3>(op, args)?;
                let (a, low) = self.pair(a, low)?;
                let high = self.coerce(high, a.ty)?;
                if !a.ty.comparable(low.ty) || !a.ty.comparable(high.ty) {
                    return err(mismatch("BETWEEN", a.ty, if a.ty.comparable(low.ty) { high.ty } else { low.ty }));
                }
                if a.ty == Ty::Bool {
                    return err("BETWEEN needs numbers, strings or times");
                }
                Ok(format!("({} BETWEEN {} AND {})", a.sql, low.sql, high.sql))
            }
            "in" => {
                let [a, list] = arity::<2>(op, args)?;
                let Expr::Array(items) = list else {
                    return err("IN needs a list in parentheses: a IN ('x', 'y')");
                };
                if items.is_empty() {
                    return err("IN needs at least one value");
                }
                let a = self.scalar(a)?;
                let mut parts = Vec::with_capacity(items.len());
                for item in items {
                    let v = self.coerce(item, a.ty)?;
                    if !a.ty.comparable(v.ty) {
                        return err(mismatch("IN", a.ty, v.ty));
                    }
                    parts.push(v.sql);
                }
                Ok(format!("({} IN ({}))", a.sql, parts.join(", ")))
            }
            op if op.starts_with("s_") => self.spatial(op, args),
            op if op.starts_with("t_") => self.temporal(op, args),
            op if op.starts_with("a_") => self.array(op, args),
            op if ARITHMETIC.contains(&op) || op == "casei" || op == "accenti" => {
                err(format!("{}(...) is not a condition", op.to_ascii_uppercase()))
            }
            other => err(format!("unknown function \"{}\"", short(other))),
        }
    }

    /// Two operands of a comparison; a string literal facing a date or a timestamp is read as
    /// one.
    fn pair(&mut self, a: &Expr, b: &Expr) -> Result<(Typed, Typed), FilterError> {
        if matches!(a, Expr::Literal(_)) && !matches!(b, Expr::Literal(_)) {
            let b = self.scalar(b)?;
            let a = self.coerce(a, b.ty)?;
            return Ok((a, b));
        }
        let a = self.scalar(a)?;
        let b = self.coerce(b, a.ty)?;
        Ok((a, b))
    }

    /// An operand, with a string literal read as a date or timestamp when `want` is one.
    fn coerce(&mut self, expr: &Expr, want: Ty) -> Result<Typed, FilterError> {
        match (expr, want) {
            (Expr::Literal(s), Ty::Date) => Ok(Typed { sql: self.bind(Value::Date(parse_date(s)?)), ty: Ty::Date }),
            (Expr::Literal(s), Ty::Timestamp) => {
                Ok(Typed { sql: self.bind(Value::Timestamp(parse_timestamp(s)?)), ty: Ty::Timestamp })
            }
            _ => self.scalar(expr),
        }
    }

    /// An expression in a value position.
    fn scalar(&mut self, expr: &Expr) -> Result<Typed, FilterError> {
        match expr {
            Expr::Literal(s) => Ok(Typed { sql: self.bind(Value::Text(s.clone())), ty: Ty::Text }),
            Expr::Float(f) => Ok(Typed { sql: self.number(*f)?, ty: Ty::Number }),
            Expr::Bool(b) => Ok(Typed { sql: self.bind(Value::Bool(*b)), ty: Ty::Bool }),
            Expr::Date { date } => {
                let text = literal_text(date, "DATE")?;
                Ok(Typed { sql: self.bind(Value::Date(parse_date(&text)?)), ty: Ty::Date })
            }
            Expr::Timestamp { timestamp } => {
                let text = literal_text(timestamp, "TIMESTAMP")?;
                Ok(Typed { sql: self.bind(Value::Timestamp(parse_timestamp(&text)?)), ty: Ty::Timestamp })
            }
            Expr::Property { property } => {
                let q = self.property(property)?;
                Ok(Typed { sql: q.column.clone(), ty: Ty::of(q.kind) })
            }
            Expr::Geometry(_) | Expr::BBox { .. } => Ok(Typed { sql: self.geometry_literal(expr)?, ty: Ty::Geometry }),
            Expr::Array(items) => self.array_literal(items),
            Expr::Interval { .. } => err("an INTERVAL is only allowed in a temporal function (T_...)"),
            Expr::Operation { op, args } => {
                let op = op.to_ascii_lowercase();
                match op.as_str() {
                    "casei" | "accenti" => {
                        let [a] = arity::<1>(&op, args)?;
                        let a = self.scalar(a)?;
                        if a.ty != Ty::Text {
                            return err(format!("{} needs a string, got {}", op.to_ascii_uppercase(), a.ty.name()));
                        }
                        let f = if op == "casei" { "lower" } else { "meta.accenti" };
                        Ok(Typed { sql: format!("{f}({})", a.sql), ty: Ty::Text })
                    }
                    op if ARITHMETIC.contains(&op) => self.arithmetic(op, args),
                    _ => Ok(Typed { sql: self.operation(&op, args)?, ty: Ty::Bool }),
                }
            }
            Expr::Null => err("NULL is not a value here: use IS NULL"),
        }
    }

    fn number(&mut self, f: f64) -> Result<String, FilterError> {
        if !f.is_finite() {
            return err("numbers must be finite");
        }
        // Whole numbers are bound as bigint so an integer column keeps its index.
        if f.fract() == 0.0 && f.abs() < 9.0e15 {
            // Whole and below 2^53: the conversion is exact.
            let i = f as i64;
            Ok(self.bind(Value::Int(i)))
        } else {
            Ok(self.bind(Value::Float(f)))
        }
    }

    fn arithmetic(&mut self, op: &str, args: &[Box<Expr>]) -> Result<Typed, FilterError> {
        let [a, b] = arity::<2>(op, args)?;
        let (a, b) = (self.scalar(a)?, self.scalar(b)?);
        if a.ty != Ty::Number || b.ty != Ty::Number {
            return err(format!("{op} needs numbers, got {} and {}", a.ty.name(), b.ty.name()));
        }
        let (a, b) = (a.sql, b.sql);
        let sql = match op {
            "+" | "-" | "*" => format!("({a} {op} {b})"),
            "/" => format!("({a}::float8 / NULLIF({b}::float8, 0))"),
            "%" => format!("mod(({a})::numeric, NULLIF(({b})::numeric, 0))"),
            "div" => format!("div(({a})::numeric, NULLIF(({b})::numeric, 0))"),
            _ => format!("power(({a})::float8, ({b})::float8)"),
        };
        Ok(Typed { sql, ty: Ty::Number })
    }

    fn array_literal(&mut self, items: &[Box<Expr>]) -> Result<Typed, FilterError> {
        if items.is_empty() {
            return Ok(Typed { sql: "ARRAY[]::text[]".into(), ty: Ty::EmptyArray });
        }
        let mut parts = Vec::with_capacity(items.len());
        let mut ty = None;
        for item in items {
            let v = self.scalar(item)?;
            let t = match v.ty {
                Ty::Text => Ty::TextArray,
                Ty::Number => Ty::NumberArray,
                other => return err(format!("array elements must be strings or numbers, got {}", other.name())),
            };
            if ty.is_some_and(|known| known != t) {
                return err("array elements must all be strings or all numbers");
            }
            ty = Some(t);
            parts.push(v.sql);
        }
        let (ty, cast) =
            if ty == Some(Ty::NumberArray) { (Ty::NumberArray, "float8[]") } else { (Ty::TextArray, "text[]") };
        Ok(Typed { sql: format!("ARRAY[{}]::{cast}", parts.join(", ")), ty })
    }

    fn array(&mut self, op: &str, args: &[Box<Expr>]) -> Result<String, FilterError> {
        let Some((_, sql_op)) = ARRAYS.iter().find(|(name, _)| *name == op) else {
            return err(format!("unknown function \"{}\"", short(op)));
        };
        let [a, b] = arity::<2>(op, args)?;
        let (mut a, mut b) = (self.scalar(a)?, self.scalar(b)?);
        for side in [&a, &b] {
            if !matches!(side.ty, Ty::TextArray | Ty::NumberArray | Ty::EmptyArray) {
                return err(format!("{} needs arrays, got {}", op.to_ascii_uppercase(), side.ty.name()));
            }
        }
        // An empty literal takes the other side's element type.
        if a.ty == Ty::EmptyArray && b.ty == Ty::NumberArray {
            a.sql = "ARRAY[]::float8[]".into();
            a.ty = Ty::NumberArray;
        }
        if b.ty == Ty::EmptyArray && a.ty == Ty::NumberArray {
            b.sql = "ARRAY[]::float8[]".into();
            b.ty = Ty::NumberArray;
        }
        if a.ty != b.ty && a.ty != Ty::EmptyArray && b.ty != Ty::EmptyArray {
            return err(format!("{} compares arrays of the same type", op.to_ascii_uppercase()));
        }
        Ok(format!("({} {sql_op} {})", a.sql, b.sql))
    }

    fn spatial(&mut self, op: &str, args: &[Box<Expr>]) -> Result<String, FilterError> {
        let Some((_, function)) = SPATIAL.iter().find(|(name, _)| *name == op) else {
            return err(format!("unknown function \"{}\"", short(op)));
        };
        let [a, b] = arity::<2>(op, args)?;
        let (a, b) = (self.scalar(a)?, self.scalar(b)?);
        if a.ty != Ty::Geometry || b.ty != Ty::Geometry {
            return err(format!(
                "{} needs geometries, got {} and {}",
                op.to_ascii_uppercase(),
                a.ty.name(),
                b.ty.name()
            ));
        }
        Ok(format!("{function}({}, {})", a.sql, b.sql))
    }

    /// A geometry or BBOX literal, in the storage CRS.
    fn geometry_literal(&mut self, expr: &Expr) -> Result<String, FilterError> {
        let (wkt, lon_lat) = match expr {
            Expr::Geometry(g) => {
                (g.to_wkt().map_err(|e| FilterError::new(format!("bad geometry: {}", short(&e.to_string()))))?, false)
            }
            Expr::BBox { bbox } => (self.bbox_wkt(bbox)?, true),
            other => return err(format!("{} is not a geometry", describe(other))),
        };
        let text = self.bind(Value::Text(wkt));
        let flip = self.crs.lat_lon && !lon_lat;
        Ok(match &self.crs.proj {
            None if flip => format!("ST_FlipCoordinates(ST_GeomFromText({text}, 4326))"),
            None => format!("ST_GeomFromText({text}, 4326)"),
            Some(proj) => {
                let proj = self.bind(Value::Text(proj.clone()));
                let g = if flip {
                    format!("ST_FlipCoordinates(ST_GeomFromText({text}))")
                } else {
                    format!("ST_GeomFromText({text})")
                };
                format!("ST_Transform({g}, {proj}, 4326)")
            }
        })
    }

    /// A BBOX as WKT in x/y (longitude/latitude) order; two boxes when it crosses the
    /// antimeridian.
    fn bbox_wkt(&self, bbox: &[Box<Expr>]) -> Result<String, FilterError> {
        let numbers = bbox.iter().map(|e| constant(e)).collect::<Result<Vec<f64>, _>>()?;
        let (a, b, c, d) = match numbers.as_slice() {
            [a, b, c, d] => (*a, *b, *c, *d),
            [a, b, _, d, e, _] => (*a, *b, *d, *e),
            other => return err(format!("BBOX needs 4 or 6 numbers, got {}", other.len())),
        };
        // In a latitude-first CRS the numbers are min lat, min lon, max lat, max lon.
        let (x0, y0, x1, y1) = if self.crs.lat_lon { (b, a, d, c) } else { (a, b, c, d) };
        if y0 > y1 {
            return err("BBOX: the lower edge is above the upper one");
        }
        let ring = |x0: f64, x1: f64| format!("(({x0} {y0}, {x1} {y0}, {x1} {y1}, {x0} {y1}, {x0} {y0}))");
        if x0 > x1 {
            if !self.crs.geographic {
                return err("BBOX: the west edge is east of the east edge");
            }
            return Ok(format!("MULTIPOLYGON({}, {})", ring(x0, 180.0), ring(-180.0, x1)));
        }
        Ok(format!("POLYGON{}", ring(x0, x1)))
    }

    fn temporal(&mut self, op: &str, args: &[Box<Expr>]) -> Result<String, FilterError> {
        if !TEMPORAL.contains(&op) {
            return err(format!("unknown function \"{}\"", short(op)));
        }
        let [a, b] = arity::<2>(op, args)?;
        let (a, b) = (self.interval(a)?, self.interval(b)?);
        let dated = [&a.0, &a.1, &b.0, &b.1].iter().all(|x| x.ty() != Some(Ty::Timestamp));
        let template = match op {
            "t_after" => "{as} > {be}",
            "t_before" => "{ae} < {bs}",
            "t_contains" => "{as} < {bs} AND {ae} > {be}",
            "t_disjoint" => "({as} > {be} OR {ae} < {bs})",
            "t_during" => "{as} > {bs} AND {ae} < {be}",
            "t_equals" => "{as} = {bs} AND {ae} = {be}",
            "t_finishedby" => "{as} < {bs} AND {ae} = {be}",
            "t_finishes" => "{as} > {bs} AND {ae} = {be}",
            "t_intersects" => "{as} <= {be} AND {ae} >= {bs}",
            "t_meets" => "{ae} = {bs}",
            "t_metby" => "{as} = {be}",
            "t_overlappedby" => "{as} > {bs} AND {as} < {be} AND {ae} > {be}",
            "t_overlaps" => "{as} < {bs} AND {ae} > {bs} AND {ae} < {be}",
            "t_startedby" => "{as} = {bs} AND {ae} > {be}",
            _ => "{as} = {bs} AND {ae} < {be}",
        };
        // An instant is one bound used as both ends: bind it once.
        let mut slots: Vec<(Bound, Option<String>)> = Vec::new();
        let mut slot = |b: &Bound, same_as: Option<usize>| match same_as {
            Some(i) => i,
            None => {
                slots.push((b.clone(), None));
                slots.len() - 1
            }
        };
        let a_start = slot(&a.0, None);
        let a_end = slot(&a.1, a.2.then_some(a_start));
        let b_start = slot(&b.0, None);
        let b_end = slot(&b.1, b.2.then_some(b_start));
        let mut sql = template.to_owned();
        for (token, index, end) in
            [("{as}", a_start, false), ("{ae}", a_end, true), ("{bs}", b_start, false), ("{be}", b_end, true)]
        {
            if !sql.contains(token) {
                continue;
            }
            let (bound, placeholder) = &mut slots[index];
            let at = match bound {
                Bound::Literal(value, ty) => {
                    let ty = *ty;
                    let p = match placeholder {
                        Some(p) => p.clone(),
                        None => {
                            let p = self.bind(value.clone());
                            *placeholder = Some(p.clone());
                            p
                        }
                    };
                    Bound::At(p, ty)
                }
                other => other.clone(),
            };
            sql = sql.replace(token, &bound_sql(&at, dated, end));
        }
        Ok(format!("({sql})"))
    }

    /// A temporal operand as its start and end, and whether it is an instant (one bound).
    fn interval(&mut self, expr: &Expr) -> Result<(Bound, Bound, bool), FilterError> {
        match expr {
            Expr::Interval { interval } => {
                let [a, b] = arity::<2>("INTERVAL", interval)?;
                Ok((self.instant(a)?, self.instant(b)?, false))
            }
            other => {
                let at = self.instant(other)?;
                if matches!(at, Bound::Open) {
                    return err("'..' is only allowed as a bound of an INTERVAL");
                }
                Ok((at.clone(), at, true))
            }
        }
    }

    /// An instant: a date or timestamp property or literal, a string (inside an INTERVAL), or
    /// `'..'`.
    fn instant(&mut self, expr: &Expr) -> Result<Bound, FilterError> {
        match expr {
            Expr::Literal(s) if s == ".." => Ok(Bound::Open),
            Expr::Literal(s) => {
                if let Ok(d) = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
                    Ok(Bound::Literal(Value::Date(d), Ty::Date))
                } else {
                    Ok(Bound::Literal(Value::Timestamp(parse_timestamp(s)?), Ty::Timestamp))
                }
            }
            Expr::Date { date } => Ok(Bound::Literal(Value::Date(parse_date(&literal_text(date, "DATE")?)?), Ty::Date)),
            Expr::Timestamp { timestamp } => Ok(Bound::Literal(
                Value::Timestamp(parse_timestamp(&literal_text(timestamp, "TIMESTAMP")?)?),
                Ty::Timestamp,
            )),
            other => {
                let t = self.scalar(other)?;
                if !t.ty.temporal() {
                    return err(format!("temporal functions need dates or timestamps, got {}", t.ty.name()));
                }
                Ok(Bound::At(t.sql, t.ty))
            }
        }
    }
}

/// SQL of one end of an interval, in the type the relation compares in: dates when every
/// operand is a date, else timestamps (a date then spans its whole day).
fn bound_sql(bound: &Bound, dated: bool, end: bool) -> String {
    match (bound, dated, end) {
        (Bound::Open, true, false) => "'-infinity'::date".into(),
        (Bound::Open, true, true) => "'infinity'::date".into(),
        (Bound::Open, false, false) => "'-infinity'::timestamptz".into(),
        (Bound::Open, false, true) => "'infinity'::timestamptz".into(),
        (Bound::Literal(..), ..) => String::new(),
        (Bound::At(sql, _), true, _) | (Bound::At(sql, Ty::Timestamp), false, _) => sql.clone(),
        (Bound::At(sql, _), false, false) => format!("({sql})::timestamptz"),
        (Bound::At(sql, _), false, true) => format!("(({sql}) + 1)::timestamptz - interval '1 microsecond'"),
    }
}

/// The fixed number of arguments of an operator.
fn arity<'e, const N: usize>(op: &str, args: &'e [Box<Expr>]) -> Result<[&'e Expr; N], FilterError> {
    let refs: Vec<&Expr> = args.iter().map(AsRef::as_ref).collect();
    refs.try_into().map_err(|got: Vec<&Expr>| {
        FilterError::new(format!("{} takes {N} argument(s), got {}", op.to_ascii_uppercase(), got.len()))
    })
}

fn mismatch(op: &str, a: Ty, b: Ty) -> String {
    let hint = match (a, b) {
        (Ty::Geometry, _) | (_, Ty::Geometry) => " (use S_EQUALS or another spatial function)",
        (Ty::TextArray | Ty::NumberArray | Ty::EmptyArray, _) => " (use A_EQUALS or another array function)",
        _ => "",
    };
    format!("{op} cannot compare {} with {}{hint}", a.name(), b.name())
}

/// The text inside `DATE(...)` or `TIMESTAMP(...)`.
fn literal_text(expr: &Expr, what: &str) -> Result<String, FilterError> {
    match expr {
        Expr::Literal(s) => Ok(s.clone()),
        other => err(format!("{what} needs a string, got {}", describe(other))),
    }
}

/// A numeric constant (a number, or a negated one).
fn constant(expr: &Expr) -> Result<f64, FilterError> {
    match expr {
        Expr::Float(f) if f.is_finite() => Ok(*f),
        Expr::Operation { op, args } if op == "-" && args.len() == 1 => constant(&args[0]).map(|f| -f),
        Expr::Operation { op, args } if op == "*" && args.len() == 2 => Ok(constant(&args[0])? * constant(&args[1])?),
        other => err(format!("BBOX needs numbers, got {}", describe(other))),
    }
}

fn parse_date(text: &str) -> Result<NaiveDate, FilterError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| FilterError::new(format!("\"{}\" is not a date (YYYY-MM-DD)", short(text))))
}

fn parse_timestamp(text: &str) -> Result<DateTime<Utc>, FilterError> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| FilterError::new(format!("\"{}\" is not an RFC 3339 timestamp", short(text))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use geosector_domain::{FieldType, GeometrySpec, Property};

    fn queryables() -> Queryables {
        Queryables::new(
            &[
                Property { name: "commune_code", kind: FieldType::Code { digits: 5 } },
                Property { name: "legal_area_m2", kind: FieldType::Float },
                Property { name: "sheet_number", kind: FieldType::Integer },
                Property { name: "survey_date", kind: FieldType::Date },
                Property { name: "observed_at", kind: FieldType::Timestamp },
                Property { name: "land_use_codes", kind: FieldType::TextList },
                Property { name: "active", kind: FieldType::Boolean },
            ],
            Some(&GeometrySpec::multipolygon(true)),
        )
    }

    fn sql(text: &str) -> Result<Sql, FilterError> {
        let expr = cql2::parse_text(text).map_err(|e| FilterError::new(e.to_string()))?;
        check_limits(&expr, Limits::default())?;
        translate(&expr, &queryables(), &FilterCrs::crs84(), 3)
    }

    #[test]
    fn literals_are_placeholders_and_properties_quoted_columns() {
        let s = sql("commune_code = '00376' AND legal_area_m2 > 200.5 AND sheet_number = 7").unwrap();
        assert_eq!(
            s.condition,
            "(((\"commune_code\" = $3::text) AND (\"legal_area_m2\" > $4::float8) AND (\"sheet_number\" = $5::bigint)))"
        );
        assert_eq!(s.values, [Value::Text("00376".into()), Value::Float(200.5), Value::Int(7)]);
        let evil = sql("commune_code = '''; DROP TABLE land.parcels; --'").unwrap();
        assert!(!evil.condition.contains("DROP") && !evil.condition.contains('\''), "{}", evil.condition);
        assert_eq!(evil.values, [Value::Text("'; DROP TABLE land.parcels; --".into())]);
    }

    #[test]
    fn unknown_names_and_wrong_types_are_refused_with_a_reason() {
        assert!(sql("owner = 'x'").unwrap_err().0.starts_with("unknown property \"owner\""));
        assert!(sql("pg_sleep(3) = 1").unwrap_err().0.contains("unknown function \"pg_sleep\""));
        assert!(sql("commune_code = 5").unwrap_err().0.contains("cannot compare a string with a number"));
        assert!(sql("survey_date = '2024-02-30'").unwrap_err().0.contains("not a date"));
        assert!(sql("commune_code").unwrap_err().0.contains("not a boolean"));
        assert!(sql("S_INTERSECTS(geom, commune_code)").unwrap_err().0.contains("needs geometries"));
    }

    #[test]
    fn functions_come_from_the_fixed_table() {
        let s = sql("ACCENTI(CASEI(commune_code)) LIKE accenti(casei('Hà Nội%'))").unwrap();
        assert_eq!(s.condition, "((meta.accenti(lower(\"commune_code\")) LIKE meta.accenti(lower($3::text))))");
        let s = sql("sheet_number / 0 > 1 AND sheet_number div 2 = 1").unwrap();
        assert!(
            s.condition.contains("NULLIF($3::bigint::float8, 0)")
                && s.condition.contains("div((\"sheet_number\")::numeric"),
            "{}",
            s.condition
        );
        let s = sql("A_OVERLAPS(land_use_codes, ('ONT', 'CLN'))").unwrap();
        assert_eq!(s.condition, "((\"land_use_codes\" && ARRAY[$3::text, $4::text]::text[]))");
        assert_eq!(sql("active AND NOT active").unwrap().condition, "((\"active\" AND (NOT \"active\")))");
    }

    #[test]
    fn placeholders_are_renumbered_where_the_statement_puts_them() {
        let s = sql("commune_code = '0\"$1' AND sheet_number > 2").unwrap();
        assert_eq!(s.condition, "(((\"commune_code\" = $3::text) AND (\"sheet_number\" > $4::bigint)))");
        assert_eq!(s.condition_from(3), s.condition);
        assert_eq!(s.condition_from(12), "(((\"commune_code\" = $12::text) AND (\"sheet_number\" > $13::bigint)))");
        let timed = sql("T_DURING(survey_date, INTERVAL('2024-01-01', '2024-02-01'))").unwrap();
        let moved = timed.condition_from(1);
        assert!(moved.contains("interval '1 microsecond'") || !timed.condition.contains("interval '"), "{moved}");
        assert_eq!(moved.matches('$').count(), timed.condition.matches('$').count());
        assert!(moved.contains("$1::") && !moved.contains("$3::"), "{moved}");
    }

    #[test]
    fn geometry_literals_and_the_antimeridian() {
        let s = sql("S_INTERSECTS(geom, BBOX(150, -90, -150, 90))").unwrap();
        assert_eq!(s.condition, "(ST_Intersects(\"geom\", ST_GeomFromText($3::text, 4326)))");
        assert_eq!(
            s.values,
            [Value::Text("MULTIPOLYGON(((150 -90, 180 -90, 180 90, 150 90, 150 -90)), ((-180 -90, -150 -90, -150 90, -180 90, -180 -90)))".into())]
        );
        let expr = cql2::parse_text("S_WITHIN(geom, POLYGON((21 105, 21 106, 22 106, 21 105)))").unwrap();
        let lat_lon = FilterCrs::parse("http://www.opengis.net/def/crs/EPSG/0/4326").unwrap();
        let s = translate(&expr, &queryables(), &lat_lon, 1).unwrap();
        assert!(s.condition.contains("ST_FlipCoordinates(ST_GeomFromText($1::text, 4326))"), "{}", s.condition);
        let vn = FilterCrs::parse("EPSG:5897").unwrap();
        let s = translate(&expr, &queryables(), &vn, 1).unwrap();
        assert!(s.condition.contains("ST_Transform(ST_GeomFromText($1::text), $2::text, 4326)"), "{}", s.condition);
    }

    #[test]
    fn temporal_relations_compare_intervals() {
        let s = sql("T_AFTER(survey_date, DATE('2024-01-01'))").unwrap();
        assert_eq!(s.condition, "((\"survey_date\" > $3::date))");
        let s = sql("T_DURING(INTERVAL(survey_date, survey_date), INTERVAL('2024-01-01', '..'))").unwrap();
        assert_eq!(s.condition, "((\"survey_date\" > $3::date AND \"survey_date\" < 'infinity'::date))");
        let s = sql("T_INTERSECTS(observed_at, DATE('2024-01-01'))").unwrap();
        assert!(s.condition.contains("(($3::date) + 1)::timestamptz - interval '1 microsecond'"), "{}", s.condition);
    }

    #[test]
    fn every_bound_value_is_used() {
        for f in [
            "T_AFTER(survey_date, INTERVAL('2022-01-01', '2022-12-31'))",
            "T_BEFORE(INTERVAL(observed_at, observed_at), INTERVAL('2023-01-01T00:00:00Z', '..'))",
            "T_METBY(survey_date, DATE('2022-04-16'))",
        ] {
            let s = sql(f).unwrap();
            for i in 0..s.values.len() {
                assert!(s.condition.contains(&format!("${}::", i + 3)), "{f}: ${} unused in {}", i + 3, s.condition);
            }
        }
    }

    #[test]
    fn limits_count_nodes_and_depth() {
        let many = (0..600).map(|i| format!("sheet_number = {i}")).collect::<Vec<_>>().join(" OR ");
        assert!(sql(&many).unwrap_err().0.contains("more than 1000"));
        let fine = (0..300).map(|i| format!("sheet_number = {i}")).collect::<Vec<_>>().join(" OR ");
        assert!(sql(&fine).is_ok(), "a long OR chain is one level deep");
        let deep = format!("sheet_number = {}", vec!["1"; 100].join(" + "));
        assert!(sql(&deep).unwrap_err().0.contains("deeper than 64"));
    }
}
