//! `geosector import --changes <package.gpkg>`: a package's field changes applied as one
//! changeset by a named local actor (`cli:<user>`, as imports are), through the server's write
//! path (`geosector_server::edit::package`). Printing and exit codes only; the work is there.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context};
use geosector_server::edit::package::{self, ChangesOptions, Opened};
use geosector_server::edit::Writer;
use geosector_server::error::ApiError;
use geosector_store::write::{Changeset, Source};

/// What the command line says of the changeset.
pub struct ChangesArgs<'a> {
    /// The package.
    pub file: &'a Path,
    /// The legal reference, its date, the note and the change type.
    pub reference: Option<String>,
    /// The decision's date.
    pub reference_date: Option<chrono::NaiveDate>,
    /// A note.
    pub note: Option<String>,
    /// A change type.
    pub change_type: Option<String>,
    /// Check and store nothing (`geosector validate --changes`).
    pub dry_run: bool,
    /// Also write the report as JSON here.
    pub report: Option<&'a Path>,
}

/// Runs it: exit 0 applied (conflicts listed, not applied), 1 rejected by a rule (nothing
/// stored), 2 failed.
pub async fn run(url: &str, args: ChangesArgs<'_>, say: impl Fn(&str)) -> anyhow::Result<ExitCode> {
    let config = geosector_server::ServerConfig {
        database_url: Some(url.to_owned()),
        pool_size: 2,
        ..geosector_server::ServerConfig::default()
    };
    let pool = geosector_server::pool(&config).map_err(anyhow::Error::msg)?;
    let client = pool.get().await.with_context(|| format!("database {}", geosector_store::redact_url(url)))?;
    let registry = geosector_store::Registry::load(&client, &crate::collections())
        .await
        .context("loading the collections (has `geosector migrate` run?)")?;
    drop(client);
    let name = args.file.display().to_string();
    if let Some(code) = &args.change_type {
        let accepted: Vec<&str> =
            crate::sectors().iter().flat_map(|s| s.change_types.iter().map(|(c, _)| *c)).collect();
        if !accepted.contains(&code.as_str()) {
            bail!("--change-type {code}: not a change type of any sector; one of {}", accepted.join(", "));
        }
    }
    let user = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".into());
    let origin = geosector_server::audit::WriteOrigin {
        actor: format!("cli:{user}"),
        roles: Vec::new(),
        client: None,
        method: "import --changes".into(),
        path: name.clone(),
    };
    let changeset = Changeset {
        actor: origin.actor.clone(),
        client: Some("geosector import --changes".into()),
        source: Source::Import,
        change_type: args.change_type.clone(),
        reference: args.reference.clone(),
        reference_date: args.reference_date,
        note: args.note.clone(),
    };
    // A local actor writes every versioned collection, as an import does; the fields it sees
    // are the public ones (the others are kept as stored).
    let open = |id: &str| -> Result<Opened, ApiError> {
        let collection = registry.get(id).ok_or_else(|| ApiError::NotFound(format!("collection {id} not found")))?;
        if collection.decl.dataset.history.is_none() {
            return Err(ApiError::MethodNotAllowed {
                allow: "GET".into(),
                message: format!("collection {id} is not versioned and takes no edits"),
            });
        }
        Ok((std::sync::Arc::clone(collection), None))
    };
    let checkers = geosector_server::checkers::Checkers::default();
    let writer = Writer { pool: &pool, checkers: &checkers, require_if_match: &[] };
    let options = ChangesOptions {
        name: name.clone(),
        conflicts_out: Some(geosector_ingest::package::conflicts_path(args.file)),
        dry_run: args.dry_run,
    };
    match package::import_changes(&writer, &origin, &open, args.file, &changeset, &options).await {
        Ok(report) => {
            say(report.text().trim_end());
            if let Some(path) = args.report {
                std::fs::write(path, serde_json::to_string_pretty(&report)?)
                    .with_context(|| format!("{}: cannot write the report", path.display()))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(ApiError::Unprocessable { message, findings }) => {
            say(&format!("{name}: rejected, nothing stored: {message}"));
            for f in findings.as_array().into_iter().flatten() {
                let text = |k: &str| f.get(k).and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
                let field = text("field");
                say(&format!(
                    "  {} {}{}: {}",
                    text("severity"),
                    text("rule"),
                    if field.is_empty() { String::new() } else { format!(", field {field}") },
                    text("message")
                ));
            }
            Ok(ExitCode::from(1))
        }
        Err(ApiError::Internal(m) | ApiError::Unavailable(m)) => bail!("{name}: {m}"),
        Err(ApiError::BadParameter { message, .. }) if message.starts_with(&name) => bail!("{message}"),
        Err(ApiError::BadParameter { param, message }) => bail!("{name}: {param}: {message}"),
        Err(e) => bail!("{e}"),
    }
}
