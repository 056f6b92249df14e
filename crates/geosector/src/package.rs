//! `geosector package`: an offline package read straight from the database, either as its
//! owner (every row and property) or as what one API key may see under the access policy
//! (docs/packages.md).

use anyhow::{bail, Context};
use geosector_access::identity::{apikey, Identity};
use geosector_access::policy::PolicyHandle;
use geosector_package::{Layer, Options, Report};
use geosector_store::Registry;

/// What to package, and as whom.
#[derive(Debug, Clone)]
pub struct PackageRequest {
    /// A province or commune code, or a bbox.
    pub area: String,
    /// Collection ids.
    pub collections: Vec<String>,
    /// An API key: package what it may see (else: as the database).
    pub key: Option<String>,
    /// The access policy the key is judged by.
    pub access_file: Option<std::path::PathBuf>,
    /// Tile connections besides the one reading the features.
    pub workers: usize,
}

/// Makes a package from the database at `url`.
///
/// # Errors
/// A bad area or collection, a refused key, a database or file error.
pub async fn make(url: &str, request: &PackageRequest, mut options: Options) -> anyhow::Result<Report> {
    let main = geosector_store::connect(url)
        .await
        .with_context(|| format!("database {}", geosector_store::redact_url(url)))?;
    let registry = Registry::load(&main, &crate::collections()).await?;
    let mut layers = Vec::with_capacity(request.collections.len());
    let identity = match &request.key {
        Some(key) => Some(key_identity(&main, key).await?),
        None => None,
    };
    let policy = match &identity {
        Some(_) => Some(PolicyHandle::load(request.access_file.clone()).map_err(anyhow::Error::msg)?.current()),
        None => None,
    };
    for id in &request.collections {
        let unknown = || anyhow::anyhow!("--collections: unknown collection {id}");
        let collection = registry.get(id).ok_or_else(unknown)?;
        let layer = match (&identity, &policy) {
            (Some(identity), Some(policy)) => {
                Layer::for_access(collection, &policy.access(identity, collection.decl)).ok_or_else(unknown)?
            }
            _ => Layer::whole(collection),
        };
        layers.push(layer);
    }
    let area = geosector_package::area::resolve(&main, &request.area).await?;
    options.source = "database".to_owned();
    options.caller = match &identity {
        Some(identity) => identity.subject.clone(),
        None => "database".to_owned(),
    };
    let mut workers = Vec::with_capacity(request.workers);
    for _ in 0..request.workers {
        workers.push(geosector_store::connect(url).await?);
    }
    let workers: Vec<&geosector_store::Client> = workers.iter().collect();
    Ok(geosector_package::build(&main, &workers, &layers, &area, &options).await?)
}

/// The identity of a live API key.
async fn key_identity(client: &geosector_store::Client, presented: &str) -> anyhow::Result<Identity> {
    let Some(key) = apikey::parse(presented.trim()) else { bail!("--key: not an API key") };
    let stored = geosector_store::keys::find(client, &key.id).await?;
    stored
        .and_then(|stored| geosector_server::auth::verified_key(&key, stored))
        .ok_or_else(|| anyhow::anyhow!("--key: unknown, expired or revoked API key"))
}
