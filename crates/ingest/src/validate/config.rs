//! The rules file (`geosector import --rules rules.toml`): per dataset, a severity per rule id
//! and values for the rules' numeric parameters. Unknown datasets, rules and parameters are
//! errors, so a typo never silently leaves a rule as it was.
//!
//! ```toml
//! ["<sector>.<dataset>"]
//! "<sector>.<rule>" = "reject"   # reject | flag | off
//! "<sector>.<other rule>" = "off"
//! <parameter> = 0.5
//! ```
//!
//! The rules and parameters of each dataset are listed by `geosector datasets` (docs/validation.md
//! has the land parcels' file as an example).

use std::collections::BTreeMap;
use std::path::Path;

use geosector_domain::rules::{Params, Severity};
use geosector_domain::Dataset;

/// The settings of one dataset in the rules file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DatasetRules {
    /// Severity by rule id.
    pub severities: BTreeMap<String, Severity>,
    /// Parameter values by name.
    pub params: BTreeMap<String, f64>,
}

/// A parsed rules file: settings by dataset id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RulesConfig {
    /// Settings by dataset id (`<sector>.<dataset>`).
    pub datasets: BTreeMap<String, DatasetRules>,
}

impl RulesConfig {
    /// Reads and parses a rules file.
    ///
    /// # Errors
    /// A sentence naming the file and the key at fault.
    pub fn from_file(path: &Path) -> Result<RulesConfig, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        RulesConfig::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses the text of a rules file (keys are checked against datasets by [`Self::check`]).
    ///
    /// # Errors
    /// A sentence naming the key at fault.
    pub fn parse(text: &str) -> Result<RulesConfig, String> {
        let table: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut config = RulesConfig::default();
        for (sector, value) in table {
            let toml::Value::Table(datasets) = value else {
                return Err(format!("{sector}: expected a table such as [{sector}.<dataset>]"));
            };
            for (name, value) in datasets {
                let id = format!("{sector}.{name}");
                let toml::Value::Table(entries) = value else {
                    return Err(format!("{id}: expected a table [{id}]"));
                };
                let settings = config.datasets.entry(id.clone()).or_default();
                for (key, value) in entries {
                    match value {
                        toml::Value::String(s) => {
                            let severity = Severity::parse(&s).map_err(|e| format!("[{id}] {key}: {e}"))?;
                            settings.severities.insert(key, severity);
                        }
                        toml::Value::Float(v) => {
                            settings.params.insert(key, v);
                        }
                        toml::Value::Integer(v) => {
                            settings.params.insert(key, v as f64);
                        }
                        other => {
                            return Err(format!(
                                "[{id}] {key}: expected a severity (\"reject\", \"flag\", \"off\") or a number, got {}",
                                other.type_str()
                            ))
                        }
                    }
                }
            }
        }
        Ok(config)
    }

    /// Checks every dataset, rule id and parameter name against the declarations.
    ///
    /// # Errors
    /// A sentence naming the unknown dataset, rule or parameter and what is known.
    pub fn check(&self, datasets: &[&Dataset]) -> Result<(), String> {
        for (id, settings) in &self.datasets {
            let Some(dataset) = datasets.iter().find(|d| d.id == id) else {
                return Err(format!("rules file: unknown dataset [{id}]"));
            };
            settings.resolve(dataset)?;
        }
        Ok(())
    }

    /// The settings for one dataset (empty when the file does not mention it).
    pub fn for_dataset(&self, id: &str) -> DatasetRules {
        self.datasets.get(id).cloned().unwrap_or_default()
    }
}

impl DatasetRules {
    /// Severity per declared rule (in declaration order) and the parameter values in force.
    ///
    /// # Errors
    /// A sentence naming an unknown rule or parameter of the dataset.
    pub fn resolve(&self, dataset: &Dataset) -> Result<(Vec<Severity>, Params), String> {
        for id in self.severities.keys() {
            if !dataset.rules.iter().any(|r| r.id == id) {
                let known = dataset.rules.iter().map(|r| r.id).collect::<Vec<_>>().join(", ");
                return Err(format!("rules file: [{}] has no rule {id:?} (its rules: {known})", dataset.id));
            }
        }
        let mut params = Params::defaults(dataset.rules);
        for (name, value) in &self.params {
            if !value.is_finite() || !params.set(name, *value) {
                let known = params.iter().map(|(n, _)| n).collect::<Vec<_>>().join(", ");
                return Err(format!(
                    "rules file: [{}] {name} = {value}: not a parameter of its rules (known: {known})",
                    dataset.id
                ));
            }
        }
        let severities =
            dataset.rules.iter().map(|r| self.severities.get(r.id).copied().unwrap_or(r.default_severity)).collect();
        Ok((severities, params))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_file_sets_severities_and_parameters() {
        let config = RulesConfig::parse(
            "[land.parcels]\n\"land.area_tolerance\" = \"reject\"\n\"land.overlaps\" = \"off\"\noverlap_min_m2 = 2\narea_tolerance_ratio = 0.05\n",
        )
        .unwrap();
        let parcels = geosector_land_parcels();
        let datasets = [&parcels];
        config.check(&datasets).unwrap();
        let (severities, params) = config.for_dataset("land.parcels").resolve(datasets[0]).unwrap();
        let at = |id: &str| severities[datasets[0].rules.iter().position(|r| r.id == id).unwrap()];
        assert_eq!(at("land.area_tolerance"), Severity::Reject);
        assert_eq!(at("land.overlaps"), Severity::Off);
        assert_eq!(at("land.geometry_valid"), Severity::Reject, "untouched rules keep their default");
        assert!((params.get("overlap_min_m2", 0.0) - 2.0).abs() < 1e-12);
        assert!((params.get("area_tolerance_ratio", 0.0) - 0.05).abs() < 1e-12);
    }

    #[test]
    fn typos_are_errors() {
        let parcels = geosector_land_parcels();
        let datasets = [&parcels];
        let bad_rule = RulesConfig::parse("[land.parcels]\n\"land.overlap\" = \"off\"\n").unwrap();
        assert!(bad_rule.check(&datasets).unwrap_err().contains("no rule \"land.overlap\""));
        let bad_param = RulesConfig::parse("[land.parcels]\noverlap_min = 1\n").unwrap();
        assert!(bad_param.check(&datasets).unwrap_err().contains("overlap_min = 1"));
        let bad_dataset = RulesConfig::parse("[land.parcel]\nx = 1\n").unwrap();
        assert!(bad_dataset.check(&datasets).unwrap_err().contains("unknown dataset [land.parcel]"));
        assert!(RulesConfig::parse("[land.parcels]\n\"land.overlaps\" = \"maybe\"\n").unwrap_err().contains("maybe"));
    }

    fn geosector_land_parcels() -> Dataset {
        geosector_land::PARCELS
    }
}
