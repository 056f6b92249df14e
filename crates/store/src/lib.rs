//! PostGIS access for geosector.
//!
//! What it holds: opening connections ([`connect`]), the migration runner ([`migrate`]) that
//! applies the numbered SQL files of `migrations/`, the collection [`registry`] (which refuses a
//! table `meta.publish` did not prepare), the query [`plan`]s, the SQL of declared time
//! [`series`], the typed values ([`values`]) that ingestion writes through
//! `COPY ... (FORMAT binary)`, and the [`hook::LoadHook`] trait through which a sector adds row
//! checks and derived-table refreshes to an import. What it is not: it has no knowledge of any
//! sector; tables and columns come from the declarations in `geosector-domain`, and every
//! identifier it puts into SQL is quoted with [`quote_ident`].
//!
//! The key decision: **SQL is planned once; a request binds.** A plan takes a typed request and
//! returns a [`plan::Statement`] — its SQL and its values in the order of its own placeholders —
//! so the order of placeholders never leaves this crate, and values are always bound, never
//! spliced.

pub mod audit;
pub mod hook;
pub mod keys;
pub mod lineage;
pub mod migrate;
pub mod plan;
pub mod registry;
pub mod report;
pub mod reproject;
pub mod series;
pub mod values;
pub mod write;

pub use migrate::{Migration, MigrationReport, Migrations};
pub use registry::{Collection, FieldView, Registry};

pub use tokio_postgres::Client;
use tokio_postgres::NoTls;

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database could not be reached or refused the login.
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] tokio_postgres::Error),
    /// An already-applied migration file has changed since it was applied.
    #[error("migration {name} was changed after it was applied (recorded checksum {recorded}, file now {current}); add a new migration instead of editing an applied one")]
    MigrationChanged {
        /// File name of the migration.
        name: String,
        /// Checksum recorded when it was applied.
        recorded: String,
        /// Checksum of the file now.
        current: String,
    },
    /// A migration file failed to apply; nothing of it was kept.
    #[error("migration {name} failed: {source}")]
    MigrationFailed {
        /// File name of the migration.
        name: String,
        /// The database error.
        #[source]
        source: tokio_postgres::Error,
    },
    /// A migrations directory could not be read or holds a badly named file.
    #[error("migrations: {0}")]
    MigrationSource(String),
    /// A declared collection's table lacks what publishing installs (`meta.publish`).
    #[error("{0}")]
    NotPublished(String),
    /// Any other database error.
    #[error(transparent)]
    Db(#[from] tokio_postgres::Error),
}

/// Result alias of this crate.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Opens one connection and drives it on a background task. Sessions run in UTC so that
/// timestamps print the same everywhere.
///
/// # Errors
/// [`StoreError::Connect`] when the URL is wrong or the server unreachable.
pub async fn connect(database_url: &str) -> Result<Client> {
    let (client, connection) = tokio_postgres::connect(database_url, NoTls).await.map_err(StoreError::Connect)?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "database connection closed with an error");
        }
    });
    client.batch_execute("SET TIME ZONE 'UTC'").await?;
    Ok(client)
}

/// Quotes an SQL identifier (`"name"`, with inner quotes doubled). Identifiers come from
/// declarations in the code, never from users; quoting keeps them exact anyway.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The schema-qualified, quoted name of a dataset's table.
pub fn table_name(dataset: &geosector_domain::Dataset) -> String {
    format!("{}.{}", quote_ident(dataset.schema), quote_ident(dataset.table))
}

/// Hides the password of a PostgreSQL URL for logs and messages.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let Some((userinfo, host)) = rest.split_once('@') else { return url.to_owned() };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_ident("parcels"), "\"parcels\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact_url("postgresql://u:secret@h:5432/db"), "postgresql://u:***@h:5432/db");
        assert_eq!(redact_url("postgresql://u@h/db"), "postgresql://u@h/db");
    }
}
