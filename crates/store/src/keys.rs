//! API keys in `meta.api_keys` (migration 0019): created with only a hash of their secret,
//! listed, revoked, and looked up by id when a request presents one.

use chrono::{DateTime, Utc};
use tokio_postgres::Client;

use crate::Result;

/// A stored API key (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    /// Its public id.
    pub id: String,
    /// The hash of its secret.
    pub secret_hash: String,
    /// What it is for.
    pub name: String,
    /// Its roles.
    pub roles: Vec<String>,
    /// Its area codes (the `claim` of grants).
    pub areas: Vec<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it expires.
    pub expires_at: DateTime<Utc>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl StoredKey {
    /// Whether it may be used now.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}

const COLUMNS: &str = "id, secret_hash, name, roles, areas, created_at, expires_at, revoked_at";

fn of_row(row: &tokio_postgres::Row) -> StoredKey {
    StoredKey {
        id: row.get(0),
        secret_hash: row.get(1),
        name: row.get(2),
        roles: row.get(3),
        areas: row.get(4),
        created_at: row.get(5),
        expires_at: row.get(6),
        revoked_at: row.get(7),
    }
}

/// Stores a new key.
///
/// # Errors
/// A database error (e.g. a bad area code, refused by the table's check).
pub async fn create(client: &Client, key: &StoredKey) -> Result<()> {
    client
        .execute(
            "INSERT INTO meta.api_keys (id, secret_hash, name, roles, areas, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
            &[&key.id, &key.secret_hash, &key.name, &key.roles, &key.areas, &key.expires_at],
        )
        .await?;
    Ok(())
}

/// Every key, newest first.
///
/// # Errors
/// A database error.
pub async fn list(client: &Client) -> Result<Vec<StoredKey>> {
    let sql = format!("SELECT {COLUMNS} FROM meta.api_keys ORDER BY created_at DESC, id");
    Ok(client.query(&sql, &[]).await?.iter().map(of_row).collect())
}

/// One key by id.
///
/// # Errors
/// A database error.
pub async fn find(client: &Client, id: &str) -> Result<Option<StoredKey>> {
    let sql = format!("SELECT {COLUMNS} FROM meta.api_keys WHERE id = $1");
    Ok(client.query_opt(&sql, &[&id]).await?.as_ref().map(of_row))
}

/// Revokes a key now; `false` when there is no such live key.
///
/// # Errors
/// A database error.
pub async fn revoke(client: &Client, id: &str) -> Result<bool> {
    let n = client
        .execute("UPDATE meta.api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", &[&id])
        .await?;
    Ok(n == 1)
}
