//! `geosector keys` and `geosector audit`: API keys and the audit log from the command line.
//!
//! A key is shown once, when created; only the hash of its secret is stored. The audit log is
//! read newest first, by time, actor, collection, feature or parcel; `prune` deletes what is
//! older than the retention (the only deletion the log allows).

use std::process::ExitCode;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use clap::Subcommand;
use geosector_store::audit::{AuditEntry, AuditQuery};
use geosector_store::keys::StoredKey;
use geosector_store::Client;

/// `geosector keys …`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key and print it (once: only its hash is stored).
    Create {
        /// What the key is for (e.g. "QGIS, Sở TN&MT Hà Nội").
        #[arg(long)]
        name: String,
        /// A role the key holds (repeat for several).
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// An area code of the key's scope: 2-digit province or 5-digit commune (repeat for
        /// several); grants with `area = "claim"` read these.
        #[arg(long = "area")]
        areas: Vec<String>,
        /// Days until it expires.
        #[arg(long, default_value_t = 90)]
        days: u32,
    },
    /// List every key (never a secret).
    List,
    /// Revoke a key by id.
    Revoke {
        /// The key's id.
        id: String,
    },
}

/// `geosector audit …`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Print audit rows, newest first, as JSON lines.
    List {
        /// From this time (RFC 3339, or a date).
        #[arg(long)]
        since: Option<String>,
        /// Until this time (exclusive).
        #[arg(long)]
        until: Option<String>,
        /// This actor (token subject, `key:<id>`, `cli:<user>`).
        #[arg(long)]
        actor: Option<String>,
        /// This collection.
        #[arg(long)]
        collection: Option<String>,
        /// Accesses that returned this feature id (with --collection).
        #[arg(long)]
        feature: Option<i64>,
        /// Accesses that returned this parcel or its owners, rights or certificates:
        /// commune/sheet/number, e.g. 00376/12/45.
        #[arg(long)]
        parcel: Option<String>,
        /// Most rows.
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Delete the rows older than a number of days.
    Prune {
        /// Days kept.
        #[arg(long)]
        days: u32,
    },
}

/// Runs `geosector keys`.
///
/// # Errors
/// A database error, or a key that does not exist.
pub async fn keys(client: &Client, command: KeysCommand, say: impl Fn(&str)) -> anyhow::Result<ExitCode> {
    match command {
        KeysCommand::Create { name, roles, areas, days } => {
            let (plaintext, id, secret_hash) = geosector_access::identity::apikey::generate();
            let now = Utc::now();
            let key = StoredKey {
                id: id.clone(),
                secret_hash,
                name,
                roles,
                areas,
                created_at: now,
                expires_at: now + chrono::Duration::days(i64::from(days)),
                revoked_at: None,
            };
            geosector_store::keys::create(client, &key).await.context("storing the key")?;
            say(&format!("created key {id}, expires {}", key.expires_at.to_rfc3339()));
            say("the key (shown only now; send it as ?apikey=... or the X-API-Key header):");
            say(&plaintext);
            Ok(ExitCode::SUCCESS)
        }
        KeysCommand::List => {
            let now = Utc::now();
            for key in geosector_store::keys::list(client).await? {
                let state = match key.revoked_at {
                    Some(at) => format!("revoked {}", at.to_rfc3339()),
                    None if key.expires_at <= now => format!("expired {}", key.expires_at.to_rfc3339()),
                    None => format!("live until {}", key.expires_at.to_rfc3339()),
                };
                say(&format!(
                    "{}\t{}\troles={}\tareas={}\t{state}",
                    key.id,
                    key.name,
                    key.roles.join(","),
                    key.areas.join(",")
                ));
            }
            Ok(ExitCode::SUCCESS)
        }
        KeysCommand::Revoke { id } => {
            if geosector_store::keys::revoke(client, &id).await? {
                say(&format!("revoked key {id} (servers stop accepting it within 5 s)"));
                Ok(ExitCode::SUCCESS)
            } else {
                anyhow::bail!("no live key {id} (see geosector keys list)")
            }
        }
    }
}

/// Runs `geosector audit`.
///
/// # Errors
/// A bad time or parcel, or a database error.
pub async fn audit(client: &Client, command: AuditCommand, say: impl Fn(&str)) -> anyhow::Result<ExitCode> {
    match command {
        AuditCommand::Prune { days } => {
            let n = geosector_store::audit::prune(client, days).await?;
            say(&format!("deleted {n} audit rows older than {days} days"));
        }
        AuditCommand::List { since, until, actor, collection, feature, parcel, limit } => {
            let base = AuditQuery {
                since: since.as_deref().map(|t| time("--since", t)).transpose()?,
                until: until.as_deref().map(|t| time("--until", t)).transpose()?,
                actor,
                collection: collection.clone(),
                feature_ids: feature.into_iter().collect(),
                limit,
            };
            let queries = match parcel {
                None => vec![base],
                Some(parcel) => {
                    let (commune, sheet, number) = parcel_key(&parcel)?;
                    let mut queries = Vec::new();
                    for (subject, sql) in geosector::PARCEL_SUBJECTS {
                        if collection.as_deref().is_some_and(|c| c != *subject) {
                            continue;
                        }
                        let ids: Vec<i64> = client
                            .query(*sql, &[&commune, &sheet, &number])
                            .await
                            .with_context(|| format!("finding parcel {parcel} in {subject}"))?
                            .iter()
                            .map(|r| r.get(0))
                            .collect();
                        if !ids.is_empty() {
                            queries.push(AuditQuery {
                                collection: Some((*subject).to_owned()),
                                feature_ids: ids,
                                ..base.clone()
                            });
                        }
                    }
                    queries
                }
            };
            let mut rows = Vec::new();
            for q in &queries {
                rows.extend(geosector_store::audit::query(client, q).await?);
            }
            rows.sort_by_key(|row| std::cmp::Reverse(row.at));
            rows.truncate(usize::try_from(limit).unwrap_or(0));
            for row in rows {
                say(&json_line(row.at, &row.entry));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn time(flag: &str, text: &str) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .with_context(|| format!("{flag} {text}: expected RFC 3339 (2026-12-06T10:00:00Z) or a date (2026-12-06)"))
}

fn parcel_key(text: &str) -> anyhow::Result<(String, i32, String)> {
    let parts: Vec<&str> = text.split('/').collect();
    match parts.as_slice() {
        [commune, sheet, number]
            if commune.len() == 5 && commune.bytes().all(|b| b.is_ascii_digit()) && !number.is_empty() =>
        {
            let sheet = sheet.parse().with_context(|| format!("--parcel {text}: the sheet number is not a number"))?;
            Ok(((*commune).to_owned(), sheet, (*number).to_owned()))
        }
        _ => anyhow::bail!("--parcel {text}: expected commune/sheet/number, e.g. 00376/12/45"),
    }
}

fn json_line(at: DateTime<Utc>, e: &AuditEntry) -> String {
    serde_json::json!({
        "at": at.to_rfc3339(), "action": e.action, "actor": e.actor, "roles": e.roles, "client": e.client,
        "method": e.method, "path": e.path, "collection": e.collection, "filter": e.filter,
        "features": e.features, "feature_ids": e.feature_ids, "properties": e.properties,
    })
    .to_string()
}

/// The audit entry of an import (`cli:<user>`); the importer fills in the rows it wrote.
pub fn import_entry(dataset: &str, files: &[std::path::PathBuf], replace: bool) -> AuditEntry {
    let user = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".into());
    let files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    AuditEntry {
        action: "write",
        actor: format!("cli:{user}"),
        roles: Vec::new(),
        client: None,
        method: if replace { "import --replace".into() } else { "import".into() },
        path: files.join(" "),
        collection: Some(dataset.to_owned()),
        filter: None,
        features: 0,
        feature_ids: Vec::new(),
        properties: Vec::new(),
    }
}
