//! The catalogue's search request and its SQL: `q` parsed into terms (NFC first, so text typed
//! with combining marks matches; words in double quotes an ordered phrase, other words all
//! required, commas between alternatives, as OGC API - Records' `q` says for commas), `bbox`,
//! `datetime`, `type`, `keywords`, and the restricted collections the caller cannot see. The
//! statement is built per shape from fixed text; every value the request gives is bound.
//!
//! The terms reach PostgreSQL as a `to_tsquery` text made only of letters and digits joined by
//! the operators written here (`&`, `<->`, `|`), each word quoted: a caller cannot write a
//! tsquery operator. Accents are removed in the database by the same `meta.accenti` that built
//! the records' vectors.

use unicode_normalization::UnicodeNormalization;

/// The words of one alternative: each group is a phrase (words in order) or one word; all
/// groups must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alternative(pub Vec<Vec<String>>);

/// A parsed `q`: alternatives (any may match).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Terms(pub Vec<Alternative>);

/// Longest `q` accepted, in characters.
pub const MAX_Q: usize = 500;

impl Terms {
    /// Parses `q`.
    ///
    /// # Errors
    /// Why it cannot be searched: too long, or no word in it.
    pub fn parse(q: &str) -> Result<Terms, String> {
        let text: String = q.nfc().collect();
        if text.chars().count() > MAX_Q {
            return Err(format!("longer than {MAX_Q} characters"));
        }
        let mut alternatives = Vec::new();
        // Commas inside quotes belong to the phrase: split on commas outside quotes.
        let mut current = String::new();
        let mut quoted = false;
        for c in text.chars() {
            match c {
                '"' => {
                    quoted = !quoted;
                    current.push(c);
                }
                ',' if !quoted => alternatives.push(std::mem::take(&mut current)),
                _ => current.push(c),
            }
        }
        alternatives.push(current);
        let parsed: Vec<Alternative> =
            alternatives.iter().map(|a| alternative(a)).filter(|a| !a.0.is_empty()).collect();
        if parsed.is_empty() {
            return Err("no word to search for".into());
        }
        Ok(Terms(parsed))
    }

    /// The `to_tsquery` text (before accent removal, which the statement does).
    pub fn tsquery(&self) -> String {
        let alternative = |a: &Alternative| {
            let groups: Vec<String> =
                a.0.iter()
                    .map(|g| {
                        let words: Vec<String> = g.iter().map(|w| format!("'{w}'")).collect();
                        if words.len() > 1 {
                            format!("({})", words.join(" <-> "))
                        } else {
                            words.concat()
                        }
                    })
                    .collect();
            format!("({})", groups.join(" & "))
        };
        self.0.iter().map(alternative).collect::<Vec<_>>().join(" | ")
    }
}

/// Words of a text: runs of letters and digits (anything else separates them).
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_owned).collect()
}

fn alternative(text: &str) -> Alternative {
    let mut groups = Vec::new();
    for (i, part) in text.split('"').enumerate() {
        let w = words(part);
        if i % 2 == 1 {
            if !w.is_empty() {
                groups.push(w);
            }
        } else {
            groups.extend(w.into_iter().map(|w| vec![w]));
        }
    }
    Alternative(groups)
}

/// A search of the catalogue.
#[derive(Debug, Clone, Default)]
pub struct Search {
    /// Text terms.
    pub q: Option<Terms>,
    /// Envelopes in CRS84 (two when the bbox crosses the antimeridian); any may intersect.
    pub bbox: Vec<[f64; 4]>,
    /// A time interval the record's temporal extent must meet (RFC 3339 or dates; `None` open).
    pub datetime: Option<(Option<String>, Option<String>)>,
    /// Resource types (any).
    pub types: Vec<String>,
    /// Keywords (any), compared without case or accents.
    pub keywords: Vec<String>,
    /// Ids to return only (the `ids` parameter).
    pub ids: Vec<String>,
    /// External identifiers (`externalIds`): the records' UUIDs, bare or as `urn:uuid:…`.
    pub external_ids: Vec<String>,
    /// Restricted collections the caller cannot see: records describing any of them are left out.
    pub hidden: Vec<String>,
    /// Page size.
    pub limit: i64,
    /// Records skipped.
    pub offset: i64,
}

/// A statement and its values, in placeholder order.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// SQL text.
    pub sql: String,
    /// Values.
    pub values: Vec<Value>,
}

/// A bound value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Text.
    Text(String),
    /// Text array.
    TextArray(Vec<String>),
    /// A number.
    Float(f64),
    /// A count.
    Int(i64),
}

impl Value {
    /// As a parameter for tokio-postgres.
    pub fn as_sql(&self) -> &(dyn tokio_postgres::types::ToSql + Sync) {
        match self {
            Value::Text(v) => v,
            Value::TextArray(v) => v,
            Value::Float(v) => v,
            Value::Int(v) => v,
        }
    }
}

/// The rank of a record for a tsquery: title (A) 1.0, description (B) 0.4, keywords (C) 0.2.
const RANK: &str = "ts_rank('{0, 0.2, 0.4, 1.0}', r.search, query)";

impl Search {
    /// The statement of one page: rows of (id, record as JSON text, rank, number of matches),
    /// best first (by rank, then id), one more than `limit` to tell whether a next page exists.
    /// Matches are ranked and counted on the narrow columns; only the page's records are read
    /// whole. A page past the last match has no row, hence no count: see [`Search::count_sql`].
    pub fn page_sql(&self) -> Statement {
        let (mut sql, mut values, ranked) = self.body_sql();
        let rank = if ranked { RANK } else { "0::real" };
        values.push(Value::Int(self.limit + 1));
        values.push(Value::Int(self.offset));
        sql = format!(
            "SELECT d.id, d.record::text, p.rank, p.total FROM (SELECT r.id, {rank} AS rank, count(*) OVER () AS total \
             FROM {sql} ORDER BY rank DESC, r.id LIMIT ${} OFFSET ${}) p JOIN catalogue.records d ON d.id = p.id \
             ORDER BY p.rank DESC, p.id",
            values.len() - 1,
            values.len()
        );
        Statement { sql, values }
    }

    /// The statement counting every match (`numberMatched`).
    pub fn count_sql(&self) -> Statement {
        let (sql, values, _) = self.body_sql();
        Statement { sql: format!("SELECT count(*) FROM {sql}"), values }
    }

    fn body_sql(&self) -> (String, Vec<Value>, bool) {
        let mut values: Vec<Value> = Vec::new();
        let mut conditions: Vec<String> = Vec::new();
        let bind = |v: Value, values: &mut Vec<Value>| {
            values.push(v);
            format!("${}", values.len())
        };
        let mut from = "catalogue.records r".to_owned();
        if let Some(q) = &self.q {
            let p = bind(Value::Text(q.tsquery()), &mut values);
            from = format!("catalogue.records r, to_tsquery('simple', meta.accenti({p}::text)) query");
            conditions.push("r.search @@ query".into());
        }
        if !self.bbox.is_empty() {
            let boxes: Vec<String> = self
                .bbox
                .iter()
                .map(|b| {
                    let ps: Vec<String> = b.iter().map(|v| bind(Value::Float(*v), &mut values)).collect();
                    format!("r.extent && ST_MakeEnvelope({}, {}, {}, {}, 4326)", ps[0], ps[1], ps[2], ps[3])
                })
                .collect();
            conditions.push(format!("({})", boxes.join(" OR ")));
        }
        if let Some((from_t, to_t)) = &self.datetime {
            if let Some(t) = from_t {
                let p = bind(Value::Text(t.clone()), &mut values);
                conditions.push(format!("(r.time_end IS NULL OR r.time_end >= {p}::text::timestamptz)"));
            }
            if let Some(t) = to_t {
                let p = bind(Value::Text(t.clone()), &mut values);
                // A date as the end of an interval includes that whole day.
                let end =
                    if t.len() == 10 { format!("{p}::text::date + 1") } else { format!("{p}::text::timestamptz") };
                let op = if t.len() == 10 { "<" } else { "<=" };
                conditions.push(format!("(r.time_start IS NULL OR r.time_start {op} {end})"));
            }
            conditions.push("(r.time_start IS NOT NULL OR r.time_end IS NOT NULL)".into());
        }
        if !self.types.is_empty() {
            let p = bind(Value::TextArray(self.types.clone()), &mut values);
            conditions.push(format!("r.type = ANY({p}::text[])"));
        }
        if !self.keywords.is_empty() {
            let p = bind(Value::TextArray(self.keywords.clone()), &mut values);
            conditions
                .push(format!("r.keywords_folded && ARRAY(SELECT lower(meta.accenti(k)) FROM unnest({p}::text[]) k)"));
        }
        if !self.ids.is_empty() {
            let p = bind(Value::TextArray(self.ids.clone()), &mut values);
            conditions.push(format!("r.id = ANY({p}::text[])"));
        }
        if !self.external_ids.is_empty() {
            let bare: Vec<String> = self
                .external_ids
                .iter()
                .map(|id| id.strip_prefix("urn:uuid:").unwrap_or(id).to_ascii_lowercase())
                .collect();
            let p = bind(Value::TextArray(bare), &mut values);
            conditions.push(format!("(r.record->>'uuid') = ANY({p}::text[])"));
        }
        if !self.hidden.is_empty() {
            let p = bind(Value::TextArray(self.hidden.clone()), &mut values);
            conditions.push(format!("NOT (r.collections && {p}::text[])"));
        }
        let filter = if conditions.is_empty() { String::new() } else { format!(" WHERE {}", conditions.join(" AND ")) };
        (format!("{from}{filter}"), values, self.q.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q_is_words_phrases_and_alternatives() {
        let t = Terms::parse("hà nội \"đất lúa\", thửa").unwrap();
        assert_eq!(t.tsquery(), "('hà' & 'nội' & ('đất' <-> 'lúa')) | ('thửa')");
        // NFD (combining marks) becomes NFC before words are cut.
        let nfd = "Ha\u{300} No\u{323}\u{302}i";
        assert_eq!(Terms::parse(nfd).unwrap().tsquery(), "('Hà' & 'Nội')");
        // No operator or quote of the caller survives.
        assert_eq!(Terms::parse("a' | !b <-> c:*").unwrap().tsquery(), "('a' & 'b' & 'c')");
        assert!(Terms::parse(" , \"\" ").is_err());
        assert!(Terms::parse(&"x".repeat(MAX_Q + 1)).is_err());
    }

    #[test]
    fn statements_bind_every_value() {
        let s = Search {
            q: Some(Terms::parse("ha noi").unwrap()),
            bbox: vec![[105.0, 20.0, 106.0, 21.0]],
            datetime: Some((Some("2024-01-01".into()), None)),
            types: vec!["dataset".into()],
            keywords: vec!["Đất".into()],
            hidden: vec!["x.y".into()],
            limit: 10,
            ..Search::default()
        };
        let page = s.page_sql();
        assert_eq!(page.values.len(), 11);
        assert!(!page.sql.contains("ha") && !page.sql.contains("Đất"), "{}", page.sql);
        assert!(page.sql.contains("LIMIT $10 OFFSET $11"), "{}", page.sql);
        assert_eq!(s.count_sql().values.len(), 9);
    }
}
