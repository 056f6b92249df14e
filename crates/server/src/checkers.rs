//! The rules of each edited dataset (for the edits), built once and kept for a minute:
//! building one reads the reference units (commune codes and boundaries) its rules need, which
//! change only when the reference data are reloaded.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use deadpool_postgres::Pool;
use geosector_domain::Dataset;
use geosector_ingest::edit::FeatureChecker;
use geosector_ingest::validate::ValidationOptions;

use crate::error::ApiError;

/// How long a dataset's rules (with the reference units read for them) are kept.
pub const CHECKER_TTL: Duration = Duration::from_secs(60);

/// The rules of the datasets edited so far.
#[derive(Debug, Default)]
pub struct Checkers {
    built: Mutex<HashMap<&'static str, (Instant, Arc<FeatureChecker>)>>,
}

impl Checkers {
    /// The rules of `dataset`, built now when they are not kept or older than [`CHECKER_TTL`].
    ///
    /// # Errors
    /// 503 when the database cannot be reached; 500 when the rules do not build.
    pub async fn get(&self, pool: &Pool, dataset: &'static Dataset) -> Result<Arc<FeatureChecker>, ApiError> {
        if let Some((at, checker)) = self.lock().get(dataset.id) {
            if at.elapsed() < CHECKER_TTL {
                return Ok(Arc::clone(checker));
            }
        }
        let client = pool.get().await?;
        let checker = FeatureChecker::new(&**client, dataset, &ValidationOptions::default())
            .await
            .map_err(|e| ApiError::Internal(format!("the rules of {}: {e}", dataset.id)))?;
        let checker = Arc::new(checker);
        self.lock().insert(dataset.id, (Instant::now(), Arc::clone(&checker)));
        Ok(checker)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<&'static str, (Instant, Arc<FeatureChecker>)>> {
        self.built.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
