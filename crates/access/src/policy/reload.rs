//! The policy in force, reloaded without a restart: when its file's modification time changes
//! (checked at each request: one `stat`) or on demand (the server calls [`PolicyHandle::reload`]
//! on SIGHUP). A file that no longer parses leaves the previous policy in force, and says why in
//! the log.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use super::file::PolicyFile;
use super::grants::Policy;

/// The policy in force and where it comes from.
#[derive(Debug)]
pub struct PolicyHandle {
    path: Option<PathBuf>,
    state: RwLock<(Arc<Policy>, Option<SystemTime>)>,
}

impl PolicyHandle {
    /// Reads the policy file (`None`: the default policy, [`PolicyFile::default`]).
    ///
    /// # Errors
    /// The file cannot be read or does not parse: a message naming it.
    pub fn load(path: Option<PathBuf>) -> Result<PolicyHandle, String> {
        let (file, modified) = match &path {
            Some(path) => read(path)?,
            None => (PolicyFile::default(), None),
        };
        let policy = Policy::new(file, None).map_err(|e| format!("{}: {e}", describe(path.as_deref())))?;
        Ok(PolicyHandle { path, state: RwLock::new((Arc::new(policy), modified)) })
    }

    /// The policy in force, re-read first when its file changed.
    pub fn current(&self) -> Arc<Policy> {
        if let Some(path) = &self.path {
            let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
            let known = self.state.read().unwrap_or_else(std::sync::PoisonError::into_inner).1;
            if modified != known {
                if let Err(e) = self.reload() {
                    tracing::error!(error = %e, "the access policy was not reloaded; the previous one stays in force");
                    // Do not retry at every request: remember this modification time.
                    self.state.write().unwrap_or_else(std::sync::PoisonError::into_inner).1 = modified;
                }
            }
        }
        Arc::clone(&self.state.read().unwrap_or_else(std::sync::PoisonError::into_inner).0)
    }

    /// Re-reads the file now.
    ///
    /// # Errors
    /// The file cannot be read or does not parse (the previous policy stays).
    pub fn reload(&self) -> Result<(), String> {
        let Some(path) = &self.path else { return Ok(()) };
        let (file, modified) = read(path)?;
        let previous = Arc::clone(&self.state.read().unwrap_or_else(std::sync::PoisonError::into_inner).0);
        let policy = Policy::new(file, Some(&previous)).map_err(|e| format!("{}: {e}", path.display()))?;
        *self.state.write().unwrap_or_else(std::sync::PoisonError::into_inner) = (Arc::new(policy), modified);
        tracing::info!(path = %path.display(), "access policy loaded");
        Ok(())
    }
}

fn read(path: &std::path::Path) -> Result<(PolicyFile, Option<SystemTime>), String> {
    let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file = PolicyFile::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((file, modified))
}

fn describe(path: Option<&std::path::Path>) -> String {
    path.map_or_else(|| "the default policy".to_owned(), |p| p.display().to_string())
}
