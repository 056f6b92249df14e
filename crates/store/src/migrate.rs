//! The migration runner behind `geosector migrate`.
//!
//! Migrations are the numbered SQL files of `migrations/` (`0001_reference.sql`, …), embedded in
//! the binary at build time and applied in order. Each file runs in its own transaction and is
//! recorded with its SHA-256 in `public.schema_migrations`. A session-level advisory lock makes
//! concurrent runs wait for each other, so none applies a file twice. A file whose checksum
//! differs from the recorded one is refused by name, before anything is applied.

use include_dir::{include_dir, Dir};
use sha2::{Digest, Sha256};
use tokio_postgres::Client;

use crate::{Result, StoreError};

static EMBEDDED: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../../migrations");

/// Advisory-lock key that serialises migration runs ("geosector" in ASCII, truncated to i64).
const LOCK_KEY: i64 = 0x6765_6f73_6563_746f;

/// One migration file.
#[derive(Debug, Clone)]
pub struct Migration {
    /// Its number, from the file-name prefix.
    pub version: i64,
    /// Its file name.
    pub name: String,
    /// Its SQL.
    pub sql: String,
}

impl Migration {
    /// SHA-256 of the SQL, hex.
    pub fn checksum(&self) -> String {
        Sha256::digest(self.sql.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// An ordered set of migrations.
#[derive(Debug, Clone)]
pub struct Migrations(Vec<Migration>);

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationReport {
    /// Files applied by this run.
    pub applied: Vec<String>,
    /// Files already applied before.
    pub already_applied: usize,
}

impl Migrations {
    /// The migrations embedded in this build.
    ///
    /// # Errors
    /// [`StoreError::MigrationSource`] if a file is badly named (a build from a broken tree).
    pub fn embedded() -> Result<Migrations> {
        let files = EMBEDDED
            .files()
            .map(|f| {
                let name = f.path().file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
                let sql = f
                    .contents_utf8()
                    .ok_or_else(|| StoreError::MigrationSource(format!("{name} is not UTF-8")))?
                    .to_owned();
                Ok((name, sql))
            })
            .collect::<Result<Vec<_>>>()?;
        Migrations::from_files(files)
    }

    /// The migrations in a directory (`NNNN_name.sql` files; other files are ignored).
    ///
    /// # Errors
    /// [`StoreError::MigrationSource`] when the directory cannot be read.
    pub fn from_dir(dir: &std::path::Path) -> Result<Migrations> {
        let entries =
            std::fs::read_dir(dir).map_err(|e| StoreError::MigrationSource(format!("{}: {e}", dir.display())))?;
        let mut files = Vec::new();
        for entry in entries {
            let path = entry.map_err(|e| StoreError::MigrationSource(format!("{}: {e}", dir.display())))?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else { continue };
            if path.extension().is_some_and(|e| e == "sql") {
                let sql = std::fs::read_to_string(&path)
                    .map_err(|e| StoreError::MigrationSource(format!("{}: {e}", path.display())))?;
                files.push((name, sql));
            }
        }
        Migrations::from_files(files)
    }

    fn from_files(files: Vec<(String, String)>) -> Result<Migrations> {
        let mut migrations = Vec::new();
        for (name, sql) in files {
            if !name.ends_with(".sql") {
                continue;
            }
            let version = name.split('_').next().and_then(|n| n.parse::<i64>().ok()).ok_or_else(|| {
                StoreError::MigrationSource(format!("{name}: expected a name like 0001_description.sql"))
            })?;
            if let Some(other) = migrations.iter().find(|m: &&Migration| m.version == version) {
                return Err(StoreError::MigrationSource(format!(
                    "{name} and {} share the number {version}",
                    other.name
                )));
            }
            migrations.push(Migration { version, name, sql });
        }
        migrations.sort_by_key(|m| m.version);
        Ok(Migrations(migrations))
    }

    /// The migrations in order.
    pub fn iter(&self) -> impl Iterator<Item = &Migration> {
        self.0.iter()
    }

    /// Applies every migration not yet applied, in order, each in its own transaction.
    ///
    /// # Errors
    /// [`StoreError::MigrationChanged`] when an applied file changed (nothing is applied then);
    /// [`StoreError::MigrationFailed`] when a file fails (earlier files stay applied, the
    /// failing one leaves nothing behind).
    pub async fn apply(&self, client: &mut Client) -> Result<MigrationReport> {
        client.execute("SELECT pg_advisory_lock($1)", &[&LOCK_KEY]).await?;
        let result = self.apply_locked(client).await;
        // Unlock even after a failure; if the connection is gone, the lock went with it.
        let _unlocked = client.execute("SELECT pg_advisory_unlock($1)", &[&LOCK_KEY]).await;
        result
    }

    async fn apply_locked(&self, client: &mut Client) -> Result<MigrationReport> {
        client
            .batch_execute(
                "CREATE TABLE IF NOT EXISTS public.schema_migrations (
                    version    bigint PRIMARY KEY,
                    name       text NOT NULL,
                    checksum   text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )",
            )
            .await?;
        let rows = client.query("SELECT version, name, checksum FROM public.schema_migrations", &[]).await?;
        let recorded: Vec<(i64, String, String)> = rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect();

        // Refuse before applying anything when an applied file changed.
        for m in &self.0 {
            if let Some((_, _, checksum)) = recorded.iter().find(|(v, _, _)| *v == m.version) {
                let current = m.checksum();
                if *checksum != current {
                    return Err(StoreError::MigrationChanged {
                        name: m.name.clone(),
                        recorded: checksum.clone(),
                        current,
                    });
                }
            }
        }

        let mut report = MigrationReport::default();
        for m in &self.0 {
            if recorded.iter().any(|(v, _, _)| *v == m.version) {
                report.already_applied += 1;
                continue;
            }
            let tx = client.transaction().await?;
            tx.batch_execute(&m.sql)
                .await
                .map_err(|source| StoreError::MigrationFailed { name: m.name.clone(), source })?;
            tx.execute(
                "INSERT INTO public.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                &[&m.version, &m.name, &m.checksum()],
            )
            .await?;
            tx.commit().await.map_err(|source| StoreError::MigrationFailed { name: m.name.clone(), source })?;
            tracing::info!(migration = %m.name, "applied");
            report.applied.push(m.name.clone());
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_migrations_are_numbered_in_order() {
        let m = Migrations::embedded().unwrap();
        let versions: Vec<i64> = m.iter().map(|m| m.version).collect();
        assert!(!versions.is_empty());
        assert!(versions.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn duplicate_numbers_and_bad_names_are_refused() {
        let dup =
            Migrations::from_files(vec![("0001_a.sql".into(), String::new()), ("0001_b.sql".into(), String::new())]);
        assert!(matches!(dup, Err(StoreError::MigrationSource(m)) if m.contains("share the number")));
        let bad = Migrations::from_files(vec![("first.sql".into(), String::new())]);
        assert!(bad.is_err());
    }
}
