//! The rules engine: carries out the validation rules a sector crate declares for a dataset
//! ([`geosector_domain::rules`]) during an import, in parallel, and reports every violation under
//! its rule id.
//!
//! Two halves, so no rule takes a lock in the hot path:
//! - [`Validator`], shared read-only by the rayon workers that build rows: per-feature rules
//!   (geometry validity and repair, the sector's [`FeatureRule`]s, commune at the survey date,
//!   parcel inside its commune) run inside [`crate::rows::RowBuilder::check`], which returns a
//!   [`Checked`] feature with its [`Finding`]s and the hash of its key;
//! - [`Session`], owned by the single consumer that writes rows: whole-load rules (duplicate keys,
//!   from an 8-byte hash per feature; later the overlap pairs), the per-rule counts of the report
//!   and the streamed GeoJSON of findings.
//!
//! A finding is about one feature, or a pair ([`Finding::other`]); rejected findings reject the
//! feature and so the load; flagged and repaired ones are loaded and reported.

pub mod config;
pub mod flagged;
pub mod geometry;
pub mod units;

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use geo_types::{Coord, Geometry};
use geosector_domain::rules::{Check, FeatureRule, FeatureView, Params, RuleDecl, Severity};
use geosector_domain::{CellValue, Dataset};

use crate::checked::Checked;
use crate::error::{ImportError, Location};
use crate::finding::{Finding, FindingKind, INPUT_RULE};
use crate::overlaps::{Overlap, OverlapFinder};
use crate::report::ImportReport;
pub use config::RulesConfig;
use units::{AdminUnits, Existence, Placement};

/// How the rules run in an import.
#[derive(Debug, Clone, Default)]
pub struct ValidationOptions {
    /// Severities and parameters from the rules file (`--rules`).
    pub rules: RulesConfig,
    /// Repair invalid polygons and report them as repaired instead of rejecting them.
    pub repair: bool,
    /// Historical mode forced: legacy land-use codes are accepted whatever the survey date.
    pub historical: bool,
    /// Write every finding as a GeoJSON feature to this file, as it is found.
    pub flagged: Option<PathBuf>,
}

/// One declared rule with the severity in force.
#[derive(Debug, Clone)]
pub struct ActiveRule {
    /// The declaration.
    pub decl: &'static RuleDecl,
    /// The severity in force.
    pub severity: Severity,
    /// Why the rule does not run in this import at all (e.g. no reference data).
    pub skipped: Option<String>,
}

/// The per-feature half of the engine, shared read-only by rayon workers.
#[derive(Debug)]
pub struct Validator {
    dataset: &'static Dataset,
    rules: Vec<ActiveRule>,
    params: Params,
    repair: bool,
    historical: bool,
    units: Option<Arc<AdminUnits>>,
    key_columns: Vec<usize>,
    today: chrono::NaiveDate,
}

/// What reference data a dataset's rules need: (commune codes, commune boundaries).
pub fn reference_needs(dataset: &Dataset, options: &ValidationOptions) -> Result<(bool, bool), ImportError> {
    let (severities, _) = resolve(dataset, options)?;
    let mut needs = (false, false);
    for (rule, severity) in dataset.rules.iter().zip(severities) {
        match rule.check {
            Check::UnitExistsAt { .. } if severity != Severity::Off => needs.0 = true,
            Check::InsideUnit { .. } if severity != Severity::Off => needs.1 = true,
            _ => {}
        }
    }
    Ok(needs)
}

fn resolve(dataset: &Dataset, options: &ValidationOptions) -> Result<(Vec<Severity>, Params), ImportError> {
    options.rules.for_dataset(dataset.id).resolve(dataset).map_err(ImportError::Rules)
}

impl Validator {
    /// The validator of `dataset` with the severities and parameters of `options`, and the
    /// reference units loaded for it (see [`reference_needs`]).
    ///
    /// # Errors
    /// [`ImportError::Rules`] when the rules file names an unknown rule or parameter.
    pub fn new(
        dataset: &'static Dataset,
        options: &ValidationOptions,
        units: Option<AdminUnits>,
    ) -> Result<Validator, ImportError> {
        let (severities, params) = resolve(dataset, options)?;
        let units = units.map(Arc::new);
        let mut key_columns = Vec::new();
        let rules = dataset
            .rules
            .iter()
            .zip(severities)
            .map(|(decl, severity)| {
                let skipped = match decl.check {
                    Check::UnitExistsAt { .. } if !units.as_ref().is_some_and(|u| u.has_codes()) => Some(
                        "reference.admin_units holds no commune: load it with `geosector reference <dir>`".to_owned(),
                    ),
                    Check::InsideUnit { .. } if !units.as_ref().is_some_and(|u| u.has_boundaries()) => Some(
                        "reference.admin_units holds no commune boundary: load them with `geosector reference <dir>`"
                            .to_owned(),
                    ),
                    _ => None,
                };
                if let Check::UniqueKey { columns } = decl.check {
                    key_columns =
                        columns.iter().filter_map(|c| dataset.fields.iter().position(|f| f.column == *c)).collect();
                }
                ActiveRule { decl, severity, skipped }
            })
            .collect();
        Ok(Validator {
            dataset,
            rules,
            params,
            repair: options.repair,
            historical: options.historical,
            units,
            key_columns,
            today: chrono::Local::now().date_naive(),
        })
    }

    /// The rules with their severities, in declaration order.
    pub fn rules(&self) -> &[ActiveRule] {
        &self.rules
    }

    /// The parameters in force.
    pub fn params(&self) -> &Params {
        &self.params
    }

    fn running(&self) -> impl Iterator<Item = &ActiveRule> {
        self.rules.iter().filter(|r| r.severity != Severity::Off && r.skipped.is_none())
    }

    /// Whether the row builder must hand over the centroid (for `InsideUnit`).
    pub fn wants_centroid(&self) -> bool {
        self.running().any(|r| matches!(r.decl.check, Check::InsideUnit { .. }))
    }

    /// Whether the row builder must hand over the lon/lat polygons (for `Overlaps`).
    pub fn wants_polygons(&self) -> bool {
        self.running().any(|r| matches!(r.decl.check, Check::Overlaps))
    }

    /// Geometry validity on the geometry in its source CRS, before area and reprojection.
    /// `to_lonlat` turns a source coordinate into lon/lat for the report.
    ///
    /// # Errors
    /// Never: a rejection is recorded as a finding (the caller rejects the feature).
    pub fn check_geometry(
        &self,
        g: &mut Geometry<f64>,
        location: &Location,
        to_lonlat: &dyn Fn(Coord<f64>) -> Option<Coord<f64>>,
        findings: &mut Vec<Finding>,
    ) {
        let Some(rule) = self.running().find(|r| matches!(r.decl.check, Check::ValidGeometry)) else { return };
        let lonlat = |c: Option<Coord<f64>>| c.and_then(to_lonlat).map(|c| [c.x, c.y]);
        match geometry::check(g, self.repair) {
            geometry::Verdict::Valid => {}
            geometry::Verdict::Repaired { before, at, areas } => {
                let mut f = Finding::new(
                    rule.decl.id,
                    FindingKind::Repaired,
                    location,
                    format!("repaired: was invalid ({before}), now valid; area {:.1} → {:.1}", areas.0, areas.1),
                );
                f.field = Some("geometry".into());
                f.at = lonlat(at);
                findings.push(f);
            }
            geometry::Verdict::Invalid { reason, at } => {
                let place = lonlat(at).map_or(String::new(), |[x, y]| format!(" at lon {x:.7}, lat {y:.7}"));
                let mut f =
                    Finding::new(rule.decl.id, FindingKind::of(rule.severity), location, format!("{reason}{place}"));
                f.field = Some("geometry".into());
                f.at = lonlat(at);
                findings.push(f);
            }
        }
    }

    /// The GeoHash rules on an identifier a feature arrived with (brief rule 6): its form
    /// ([`Check::GeohashFormat`]), then where it points ([`Check::GeohashInside`]) against the
    /// lon/lat geometry.
    pub fn check_geohash_id(
        &self,
        given: &str,
        length: usize,
        lonlat: &Geometry<f64>,
        location: &Location,
        findings: &mut Vec<Finding>,
    ) {
        for rule in self.running() {
            let kind = FindingKind::of(rule.severity);
            let (column, message) = match rule.decl.check {
                Check::GeohashFormat { column } if !crate::geohash::is_geohash(given, length) => {
                    (column, format!("{given:?} is not {length} GeoHash characters [0-9b-hjkmnp-z]"))
                }
                Check::GeohashInside { column } if crate::geohash::is_geohash(given, length) => {
                    let tolerance = self.params.get("geohash_tolerance_m", 1.0);
                    match crate::geohash::distance_m(given, lonlat) {
                        Some(d) if d > tolerance => (
                            column,
                            format!(
                                "{given} decodes to a point {d:.1} m from the feature (more than {tolerance} m){}",
                                if (100.0..400.0).contains(&d) { ": was the VN-2000 datum shift skipped?" } else { "" }
                            ),
                        ),
                        _ => continue,
                    }
                }
                _ => continue,
            };
            let mut f = Finding::new(rule.decl.id, kind, location, message);
            f.field = Some(column.to_owned());
            findings.push(f);
        }
    }

    /// The rules on a built row; `centroid` is the geometry's centroid in lon/lat.
    pub fn check_row(&self, checked: &mut Checked, centroid: Option<Coord<f64>>) {
        let Some(row) = &checked.row else { return };
        let view =
            FeatureView { dataset: self.dataset, cells: &row.cells, area_m2: row.area_m2, historical: self.historical };
        let location = &checked.location;
        for rule in self.running() {
            let kind = FindingKind::of(rule.severity);
            match rule.decl.check {
                Check::Feature(r) => {
                    let r: &dyn FeatureRule = r;
                    r.check(&view, &self.params, &mut |v| {
                        let mut f = Finding::new(rule.decl.id, kind, location, v.message);
                        f.field = v.field.map(str::to_owned);
                        checked.findings.push(f);
                    });
                }
                Check::UnitExistsAt { code, date } => {
                    let (Some(units), Some(code_value)) = (&self.units, view.text(code)) else { continue };
                    let (day, dated) = view.date(date).map_or((self.today, false), |d| (d, true));
                    match units.exists_at(code_value, day) {
                        Existence::Valid => {}
                        Existence::NotCovered => checked.unchecked.push(rule.decl.id),
                        Existence::Invalid => {
                            let when = if dated {
                                format!("on the survey date {day}")
                            } else {
                                format!("today ({day}; no survey date)")
                            };
                            let known = units.periods(code_value);
                            let periods = if known.is_empty() {
                                "no such commune in reference.admin_units".to_owned()
                            } else {
                                format!("valid {}", known.join(", "))
                            };
                            let mut f = Finding::new(
                                rule.decl.id,
                                kind,
                                location,
                                format!("commune {code_value} does not exist {when} ({periods})"),
                            );
                            f.field = Some(code.to_owned());
                            checked.findings.push(f);
                        }
                    }
                }
                Check::InsideUnit { code } => {
                    let (Some(units), Some(code_value), Some(p)) = (&self.units, view.text(code), centroid) else {
                        continue;
                    };
                    match units.place(code_value, p) {
                        Placement::Inside => {}
                        Placement::NoBoundary => checked.unchecked.push(rule.decl.id),
                        Placement::Outside(m) => {
                            let near = self.params.get("boundary_note_m", 5.0);
                            let note = if m <= near {
                                format!(", {m:.1} m from it: within {near} m, probably a boundary difference")
                            } else {
                                format!(", {m:.0} m from it")
                            };
                            let mut f = Finding::new(
                                rule.decl.id,
                                kind,
                                location,
                                format!(
                                    "centroid (lon {:.6}, lat {:.6}) lies outside commune {code_value}'s boundary{note}",
                                    p.x, p.y
                                ),
                            );
                            f.at = Some([p.x, p.y]);
                            checked.findings.push(f);
                        }
                    }
                }
                Check::ValidGeometry
                | Check::UniqueKey { .. }
                | Check::Overlaps
                | Check::GeohashFormat { .. }
                | Check::GeohashInside { .. } => {}
            }
        }
        if !self.key_columns.is_empty() && self.running().any(|r| matches!(r.decl.check, Check::UniqueKey { .. })) {
            checked.key_hash = key_hash(&row.cells, &self.key_columns);
        }
        self.finish(checked);
    }

    /// Adds the key to the findings and rejects the feature when a finding says so.
    pub fn finish(&self, checked: &mut Checked) {
        if checked.findings.is_empty() {
            return;
        }
        let key = checked.row.as_ref().and_then(|r| self.key_text(&r.cells));
        let mut first_reject = None;
        for (i, f) in checked.findings.iter_mut().enumerate() {
            if key.is_some() {
                f.key.clone_from(&key);
            }
            if f.kind == FindingKind::Rejected && first_reject.is_none() {
                first_reject = Some(i);
            }
        }
        if let Some(i) = first_reject {
            let finding = checked.findings[i].clone();
            checked.reject_by(&finding);
        }
    }

    /// The key of a row as text (`commune/sheet/parcel`).
    pub fn key_text(&self, cells: &[CellValue]) -> Option<String> {
        if self.key_columns.is_empty() {
            return None;
        }
        let parts = self.key_columns.iter().map(|&i| match cells.get(i) {
            Some(CellValue::Text(s)) => s.clone(),
            Some(CellValue::Integer(v)) => v.to_string(),
            Some(CellValue::Null) | None => String::new(),
            Some(other) => format!("{other:?}"),
        });
        Some(parts.collect::<Vec<_>>().join("/"))
    }
}

/// A 64-bit hash of a row's key columns (None when a key column is null: no key, no duplicate).
/// foldhash's quality variant with a fixed seed: as well spread as SipHash for this (a false
/// duplicate needs a 64-bit collision) at a fraction of the cost per row.
fn key_hash(cells: &[CellValue], columns: &[usize]) -> Option<u64> {
    use std::hash::BuildHasher;
    let mut h = foldhash::quality::FixedState::with_seed(0x6765_6f73_6563_746f).build_hasher();
    for &i in columns {
        match cells.get(i)? {
            CellValue::Null => return None,
            CellValue::Text(s) => s.trim().hash(&mut h),
            CellValue::Integer(v) => v.hash(&mut h),
            other => format!("{other:?}").hash(&mut h),
        }
        0xffu8.hash(&mut h);
    }
    Some(h.finish())
}

/// Input file number `n` of a session (an empty path if there is none: not expected).
fn file_number(files: &[Arc<Path>], n: u32) -> Arc<Path> {
    files.get(n as usize).cloned().unwrap_or_else(|| Path::new("").into())
}

/// The whole-load half of the engine, owned by the consumer: duplicate keys, counts per rule,
/// and the GeoJSON of findings.
#[derive(Debug)]
pub struct Session {
    validator: Option<Arc<Validator>>,
    /// The first feature of each key hash (the hashes are well spread already: any hasher will
    /// do).
    seen: foldhash::HashMap<u64, (u32, u64)>,
    /// The input files so far, shared by the locations findings name.
    files: Vec<Arc<Path>>,
    unique: Option<(&'static str, Severity)>,
    flagged: Option<flagged::FlaggedWriter>,
    max_examples: usize,
    overlaps: Option<PendingOverlaps>,
}

/// The overlap rule of a load in progress: the accepted polygons go into an [`OverlapFinder`]
/// (envelopes in memory, coordinates in a spill file); the pairs are found once the load is
/// read, by [`PendingOverlaps::find`] on a blocking thread.
#[derive(Debug)]
pub struct PendingOverlaps {
    finder: OverlapFinder,
    rule: &'static str,
    severity: Severity,
    /// Where each added polygon comes from (file number, feature index), by finder index.
    places: Vec<(u32, u64)>,
}

/// The pairs an overlap check found, with what [`Session::record_overlaps`] needs to report them.
#[derive(Debug)]
pub struct FoundOverlaps {
    rule: &'static str,
    severity: Severity,
    places: Vec<(u32, u64)>,
    pairs: Vec<Overlap>,
}

impl PendingOverlaps {
    /// Finds the overlapping pairs (rayon; call it on a blocking thread).
    ///
    /// # Errors
    /// [`ImportError::File`] when the spill file cannot be read back.
    pub fn find(self) -> Result<FoundOverlaps, ImportError> {
        let PendingOverlaps { finder, rule, severity, places } = self;
        let pairs = finder.finish().map_err(spill_error)?;
        Ok(FoundOverlaps { rule, severity, places, pairs })
    }
}

fn spill_error(e: std::io::Error) -> ImportError {
    ImportError::File { path: std::env::temp_dir(), reason: format!("overlap check spill file: {e}") }
}

impl Session {
    /// A session writing findings to `options.flagged` (created now) and counting into `report`.
    ///
    /// # Errors
    /// [`ImportError::File`] when the findings file cannot be created.
    pub fn new(
        validator: Option<Arc<Validator>>,
        options: &ValidationOptions,
        max_examples: usize,
        report: &mut ImportReport,
    ) -> Result<Session, ImportError> {
        let flagged = options.flagged.as_deref().map(flagged::FlaggedWriter::create).transpose()?;
        let mut unique = None;
        if let Some(v) = &validator {
            for rule in &v.rules {
                report.add_rule(rule.decl, rule.severity.as_str(), rule.skipped.clone());
            }
            unique =
                v.running().find(|r| matches!(r.decl.check, Check::UniqueKey { .. })).map(|r| (r.decl.id, r.severity));
        }
        let overlaps = match &validator {
            Some(v) => match v.running().find(|r| matches!(r.decl.check, Check::Overlaps)) {
                Some(rule) => Some(PendingOverlaps {
                    finder: OverlapFinder::new(v.params().get("overlap_min_m2", 0.5)).map_err(spill_error)?,
                    rule: rule.decl.id,
                    severity: rule.severity,
                    places: Vec::new(),
                }),
                None => None,
            },
            None => None,
        };
        Ok(Session {
            validator,
            seen: foldhash::HashMap::default(),
            files: Vec::new(),
            unique,
            flagged,
            max_examples,
            overlaps,
        })
    }

    /// A new input file begins.
    pub fn file_started(&mut self, path: &Path) {
        self.files.push(path.into());
    }

    /// Runs the whole-load rules on one feature (in load order), counts its findings and writes
    /// them to the findings file; may reject the feature (a duplicate key set to `reject`).
    ///
    /// # Errors
    /// [`ImportError::File`] when the findings file cannot be written.
    pub fn observe(&mut self, checked: &mut Checked, report: &mut ImportReport) -> Result<(), ImportError> {
        if let (Some(hash), Some((rule, severity))) = (checked.key_hash, self.unique) {
            let file_no = u32::try_from(self.files.len().saturating_sub(1)).unwrap_or(u32::MAX);
            match self.seen.entry(hash) {
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert((file_no, checked.location.index));
                }
                std::collections::hash_map::Entry::Occupied(o) => {
                    let (first_file, first_index) = *o.get();
                    let other = Location {
                        file: file_number(&self.files, first_file),
                        index: first_index,
                        is_line: checked.location.is_line,
                    };
                    let key =
                        checked.row.as_ref().and_then(|r| self.validator.as_ref().and_then(|v| v.key_text(&r.cells)));
                    let mut f = Finding::pair(
                        rule,
                        FindingKind::of(severity),
                        &checked.location,
                        &other,
                        format!(
                            "key {} already used by feature {} of {}",
                            key.as_deref().unwrap_or("?"),
                            other.index,
                            other.file.display()
                        ),
                    );
                    f.key = key;
                    if f.kind == FindingKind::Rejected {
                        checked.reject_by(&f);
                    }
                    checked.findings.push(f);
                }
            }
        }
        if checked.error.is_some() && !checked.findings.iter().any(|f| f.kind == FindingKind::Rejected) {
            if let Some(e) = &checked.error {
                let mut f = Finding::new(INPUT_RULE, FindingKind::Rejected, &e.location, e.message.clone());
                f.field.clone_from(&e.field);
                checked.findings.push(f);
            }
        }
        if let (Some(o), None, Some(polygons)) = (&mut self.overlaps, &checked.error, checked.polygons.take()) {
            let file_no = u32::try_from(self.files.len().saturating_sub(1)).unwrap_or(u32::MAX);
            o.finder.add(o.places.len() as u64, &polygons).map_err(spill_error)?;
            o.places.push((file_no, checked.location.index));
        }
        for rule in &checked.unchecked {
            report.count_unchecked(rule);
        }
        for f in &checked.findings {
            report.record(f, self.max_examples);
            if let Some(out) = &mut self.flagged {
                out.write(f, checked.row.as_ref().and_then(|r| r.geometry.as_deref()))?;
            }
        }
        Ok(())
    }

    /// The overlap check to run once every feature is observed, if the rule is on.
    pub fn take_overlaps(&mut self) -> Option<PendingOverlaps> {
        self.overlaps.take()
    }

    /// Reports the pairs of an overlap check: one finding per pair, on the feature read second,
    /// naming the first. Pairs of a rule set to `reject` reject the load.
    ///
    /// # Errors
    /// [`ImportError::File`] when the findings file cannot be written.
    pub fn record_overlaps(&mut self, found: FoundOverlaps, report: &mut ImportReport) -> Result<(), ImportError> {
        let FoundOverlaps { rule, severity, places, pairs } = found;
        let kind = FindingKind::of(severity);
        let files = &self.files;
        let location = |i: u64| {
            let (file, index) = places.get(usize::try_from(i).unwrap_or(usize::MAX)).copied().unwrap_or_default();
            Location { file: file_number(files, file), index, is_line: false }
        };
        for pair in &pairs {
            let (first, second) = (location(pair.a), location(pair.b));
            let message = if pair.is_unevaluated() {
                format!(
                    "may overlap feature {} of {} (the intersection could not be computed)",
                    first.index,
                    first.file.display()
                )
            } else {
                format!("overlaps feature {} of {} by {:.1} m²", first.index, first.file.display(), pair.area_m2)
            };
            let mut f = Finding::pair(rule, kind, &second, &first, message);
            f.at = Some([pair.at.x, pair.at.y]);
            f.area_m2 = pair.area_m2.is_finite().then_some(pair.area_m2);
            if kind == FindingKind::Rejected {
                report.rejected += 1;
            }
            report.record(&f, self.max_examples);
            if let Some(out) = &mut self.flagged {
                out.write(&f, None)?;
            }
        }
        Ok(())
    }

    /// Closes the findings file.
    ///
    /// # Errors
    /// [`ImportError::File`] when it cannot be completed.
    pub fn finish(self, report: &mut ImportReport) -> Result<(), ImportError> {
        if let Some(out) = self.flagged {
            report.flagged_file = Some(out.finish()?);
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use chrono::NaiveDate;
    use geosector_domain::CellValue as V;

    use super::*;
    use crate::checked::Row;

    fn loc(index: u64) -> Location {
        Location { file: PathBuf::from("parcels.geojson").into(), index, is_line: false }
    }

    fn cells(values: &[(&str, V)]) -> Vec<V> {
        geosector_land::PARCELS
            .fields
            .iter()
            .map(|f| values.iter().find(|(c, _)| *c == f.column).map_or(V::Null, |(_, v)| v.clone()))
            .collect()
    }

    fn parcel(index: u64, commune: &str, parcel: &str, codes: &[&str], date: Option<(i32, u32, u32)>) -> Checked {
        let mut values = vec![
            ("commune_code", V::Text(commune.into())),
            ("sheet_number", V::Integer(1)),
            ("parcel_number", V::Text(parcel.into())),
            ("land_use_codes", V::TextList(codes.iter().map(|c| (*c).to_owned()).collect())),
        ];
        if let Some((y, m, d)) = date {
            values.push(("survey_date", V::Date(NaiveDate::from_ymd_opt(y, m, d).unwrap())));
        }
        Checked {
            location: loc(index),
            row: Some(Row {
                cells: cells(&values),
                geometry: None,
                source_srid: None,
                area_m2: Some(500.0),
                bbox: None,
                tile_geometry: None,
            }),
            error: None,
            findings: Vec::new(),
            key_hash: None,
            unchecked: Vec::new(),
            polygons: None,
        }
    }

    fn validator(options: &ValidationOptions, units: Option<AdminUnits>) -> Validator {
        Validator::new(&geosector_land::PARCELS, options, units).unwrap()
    }

    #[test]
    fn rules_of_a_parcel_run_with_their_severity() {
        let v = validator(&ValidationOptions::default(), None);
        let mut c = parcel(0, "00376", "1", &["ONT", "XYZ"], Some((2025, 1, 1)));
        v.check_row(&mut c, None);
        assert_eq!(c.findings.len(), 1, "{:?}", c.findings);
        assert_eq!(c.findings[0].rule, "land.land_use_codes");
        assert_eq!(c.findings[0].kind, FindingKind::Rejected);
        assert_eq!(c.findings[0].key.as_deref(), Some("00376/1/1"));
        assert!(c.error.as_ref().unwrap().message.starts_with("land.land_use_codes: XYZ"));
        assert!(c.key_hash.is_some());

        let rules = RulesConfig::parse("[land.parcels]\n\"land.land_use_codes\" = \"flag\"\n").unwrap();
        let v = validator(&ValidationOptions { rules, ..ValidationOptions::default() }, None);
        let mut c = parcel(0, "00376", "1", &["XYZ"], None);
        v.check_row(&mut c, None);
        assert_eq!(c.findings[0].kind, FindingKind::Flagged);
        assert!(c.error.is_none());
    }

    #[test]
    fn commune_rules_are_skipped_without_reference_data() {
        let v = validator(&ValidationOptions::default(), None);
        let skipped: Vec<_> = v.rules().iter().filter(|r| r.skipped.is_some()).map(|r| r.decl.id).collect();
        assert_eq!(skipped, ["land.commune_exists", "land.inside_commune"]);
    }

    #[test]
    fn commune_must_exist_at_the_survey_date() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let units = AdminUnits::from_parts(
            &[("00376", d(2025, 7, 1), None), ("00379", d(2024, 1, 1), Some(d(2025, 7, 1)))],
            &[],
        );
        let v = validator(&ValidationOptions::default(), Some(units));
        let mut ok = parcel(0, "00376", "1", &["ONT"], Some((2025, 8, 1)));
        v.check_row(&mut ok, None);
        assert!(ok.findings.is_empty(), "{:?}", ok.findings);
        let mut gone = parcel(1, "00379", "1", &["ONT"], Some((2025, 8, 1)));
        v.check_row(&mut gone, None);
        assert_eq!(gone.findings[0].rule, "land.commune_exists");
        assert!(gone.findings[0].message.contains("valid 2024-01-01 – 2025-07-01"), "{}", gone.findings[0].message);
        assert!(gone.error.is_some());
        let mut old = parcel(2, "00376", "1", &["ONT"], Some((2019, 1, 1)));
        v.check_row(&mut old, None);
        assert!(old.findings.is_empty());
        assert_eq!(old.unchecked, ["land.commune_exists"], "before the reference data: not checked, and counted");
    }

    #[test]
    fn duplicate_keys_are_reported_as_pairs() {
        let v = Arc::new(validator(&ValidationOptions::default(), None));
        let mut report = ImportReport::new("land.parcels", true);
        let mut session = Session::new(Some(Arc::clone(&v)), &ValidationOptions::default(), 5, &mut report).unwrap();
        session.file_started(Path::new("parcels.geojson"));
        let mut found = Vec::new();
        for (i, number) in ["1", "2", "1"].iter().enumerate() {
            let mut c = parcel(i as u64, "00376", number, &["ONT"], None);
            v.check_row(&mut c, None);
            session.observe(&mut c, &mut report).unwrap();
            found.extend(c.findings);
        }
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].feature_index, found[0].other.as_ref().unwrap().index), (2, 0));
        assert_eq!(found[0].kind, FindingKind::Flagged);
        let summary = report.rules.iter().find(|r| r.id == "land.parcel_key_unique").unwrap();
        assert_eq!((summary.flagged, summary.examples.len()), (1, 1));
    }
}
