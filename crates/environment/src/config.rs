//! The index settings in one value, read from TOML: `[aqi]` ([`AqiConfig`]) and `[wqi]`
//! ([`WqiConfig`]). Keys left out keep the defaults (the domain brief's values); unknown keys are
//! errors, so a mistyped breakpoint never silently falls back to a default.
//!
//! ```toml
//! [aqi]
//! nowcast_min_recent = 3          # stricter than the EPA rule
//! o3_1h = [0, 160, 200, 300, 400, 800, 1000, 1200]
//!
//! [wqi.curves.COD]
//! group = "IV"
//! points = [[10, 100], [15, 75], [30, 50], [50, 25], [150, 10]]
//! below = 100
//! above = 10
//! ```

use serde::{Deserialize, Serialize};

use crate::aqi::AqiConfig;
use crate::wqi::WqiConfig;

/// VN_AQI and VN_WQI settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IndexConfig {
    /// VN_AQI settings.
    pub aqi: AqiConfig,
    /// VN_WQI settings.
    pub wqi: WqiConfig,
}

impl IndexConfig {
    /// Parses TOML text and checks it.
    ///
    /// # Errors
    /// The TOML error (with its line) or the first invalid setting.
    pub fn from_toml(text: &str) -> Result<IndexConfig, String> {
        let config: IndexConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        config.validate()?;
        Ok(config)
    }

    /// Reads and checks a TOML file.
    ///
    /// # Errors
    /// A sentence naming the file and the problem.
    pub fn from_file(path: &std::path::Path) -> Result<IndexConfig, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        IndexConfig::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Checks both parts.
    ///
    /// # Errors
    /// The first invalid setting.
    pub fn validate(&self) -> Result<(), String> {
        self.aqi.validate()?;
        self.wqi.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_keep_the_other_defaults() {
        let c = IndexConfig::from_toml("[aqi]\nnowcast_min_recent = 3\n[wqi]\nmin_groups = 2\n").unwrap();
        assert_eq!(c.aqi.nowcast_min_recent, 3);
        assert_eq!(c.aqi.pm25, AqiConfig::default().pm25);
        assert_eq!(c.wqi.min_groups, 2);
        assert_eq!(c.wqi.curves.len(), WqiConfig::default().curves.len());
    }

    #[test]
    fn mistakes_are_reported() {
        assert!(IndexConfig::from_toml("[aqi]\nnowcast_min_recnt = 3\n").unwrap_err().contains("nowcast_min_recnt"));
        assert!(IndexConfig::from_toml("[aqi]\npm25 = [0, 50, 25]\n").unwrap_err().contains("PM2.5"));
        let e = IndexConfig::from_toml(
            "[wqi.curves.COD]\ngroup = \"IV\"\npoints = [[10, 100], [5, 75]]\nbelow = 100\nabove = 10\n",
        )
        .unwrap_err();
        assert!(e.contains("COD"), "{e}");
    }
}
