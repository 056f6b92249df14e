//! The sector's rules on one edited feature (OGC API - Features Part 4, changesets): the same
//! per-feature rules as `geosector import` ([`crate::rows::RowBuilder`] with the dataset's
//! [`Validator`]), and the whole-load rules turned into checks against the stored rows — a
//! unique key against the other stored features, overlaps against the stored neighbours.
//!
//! A [`FeatureChecker`] is built once per dataset (it holds the reference units the rules need)
//! and shared; [`FeatureChecker::check`] builds one feature's row, and
//! [`FeatureChecker::check_stored`] adds what the stored data say, in the write's transaction.

use std::path::Path;
use std::sync::Arc;

use geosector_crs::Crs;
use geosector_domain::rules::Check;
use geosector_domain::{Dataset, Severity};
use geosector_store::quote_ident;
use geosector_store::values::{Cell, Ewkb};
use tokio_postgres::types::ToSql;
use tokio_postgres::GenericClient;

use crate::checked::{Checked, Row};
use crate::error::{ImportError, Location};
use crate::finding::{Finding, FindingKind};
use crate::rows::RowBuilder;
use crate::source::{RawBody, RawFeature};
use crate::validate::units::AdminUnits;
use crate::validate::{reference_needs, ValidationOptions, Validator};

/// The rules of one dataset, ready to check edited features.
#[derive(Debug)]
pub struct FeatureChecker {
    dataset: &'static Dataset,
    validator: Option<Arc<Validator>>,
    /// Row builders by source CRS (their PROJ transformations are set up once).
    builders: std::sync::Mutex<Vec<(String, Arc<RowBuilder>)>>,
}

impl FeatureChecker {
    /// The checker of `dataset` with the rules' default severities and parameters (or those of
    /// `options`), and the reference units its rules need, read from `client`.
    ///
    /// # Errors
    /// [`ImportError`] when the reference units cannot be read or the rules do not resolve.
    pub async fn new(
        client: &impl GenericClient,
        dataset: &'static Dataset,
        options: &ValidationOptions,
    ) -> Result<FeatureChecker, ImportError> {
        if dataset.rules.is_empty() {
            return Ok(FeatureChecker { dataset, validator: None, builders: std::sync::Mutex::default() });
        }
        let (codes, boundaries) = reference_needs(dataset, options)?;
        let units = if codes || boundaries { Some(AdminUnits::load(client, boundaries).await?) } else { None };
        let validator = Some(Arc::new(Validator::new(dataset, options, units)?));
        Ok(FeatureChecker { dataset, validator, builders: std::sync::Mutex::default() })
    }

    /// The dataset.
    pub fn dataset(&self) -> &'static Dataset {
        self.dataset
    }

    /// Builds the row of one GeoJSON feature whose coordinates are in `crs` and runs the
    /// per-feature rules on it; `source` and `index` name it in findings (e.g. `request`, and the
    /// operation's index in a changeset).
    ///
    /// # Errors
    /// [`ImportError::Crs`] when the transformation from `crs` cannot be set up.
    pub fn check(
        &self,
        feature: serde_json::Value,
        crs: &Crs,
        source: &Path,
        index: u64,
    ) -> Result<Checked, ImportError> {
        let builder = self.builder(crs)?;
        let location = Location { file: Arc::from(source), index, is_line: false };
        Ok(builder.check(RawFeature { location, body: RawBody::GeoJson(feature) }))
    }

    /// The row builder of a source CRS, set up on first use (a handful of CRSs are ever used).
    fn builder(&self, crs: &Crs) -> Result<Arc<RowBuilder>, ImportError> {
        let lock = || self.builders.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, builder)) = lock().iter().find(|(proj, _)| *proj == crs.proj) {
            return Ok(Arc::clone(builder));
        }
        let builder = Arc::new(RowBuilder::new(self.dataset, crs)?.with_rules(self.validator.clone()));
        lock().push((crs.proj.clone(), Arc::clone(&builder)));
        Ok(builder)
    }

    /// The whole-load rules against the stored rows, in the write's transaction: a feature whose
    /// unique key another stored feature has, and (when `geometry_changed`) stored features it
    /// overlaps by more than the rule's `overlap_min_m2`. `own` is the id of the feature being
    /// replaced (never compared with itself). Findings are added to `checked` with the rule's
    /// severity (a rejecting one rejects it).
    ///
    /// # Errors
    /// A database error.
    pub async fn check_stored(
        &self,
        client: &impl GenericClient,
        checked: &mut Checked,
        own: Option<i64>,
        geometry_changed: bool,
    ) -> Result<(), ImportError> {
        let (Some(validator), Some(row)) = (&self.validator, &checked.row) else { return Ok(()) };
        let mut found = Vec::new();
        for rule in validator.rules().iter().filter(|r| r.severity != Severity::Off && r.skipped.is_none()) {
            let kind = FindingKind::of(rule.severity);
            match rule.decl.check {
                Check::UniqueKey { columns } => {
                    if let Some(other) = self.same_key(client, columns, row, own).await? {
                        let key = validator.key_text(&row.cells).unwrap_or_default();
                        found.push(Finding::new(
                            rule.decl.id,
                            kind,
                            &checked.location,
                            format!("the key {key} is already the key of stored feature {other}"),
                        ));
                    }
                }
                Check::Overlaps if geometry_changed => {
                    let threshold = validator.params().get("overlap_min_m2", 0.5);
                    for (other, area, at) in self.overlapping(client, row, own, threshold).await? {
                        let mut f = Finding::new(
                            rule.decl.id,
                            kind,
                            &checked.location,
                            format!("overlaps stored feature {other} by {area:.2} m² (more than {threshold} m²)"),
                        );
                        f.area_m2 = Some(area);
                        f.at = at;
                        found.push(f);
                    }
                }
                _ => {}
            }
        }
        if !found.is_empty() {
            checked.findings.extend(found);
            validator.finish(checked);
        }
        Ok(())
    }

    /// Another stored feature with the same values in `columns` (none when a value is null).
    async fn same_key(
        &self,
        client: &impl GenericClient,
        columns: &[&str],
        row: &Row,
        own: Option<i64>,
    ) -> Result<Option<i64>, ImportError> {
        let mut conditions = Vec::new();
        let mut params: Vec<Box<dyn ToSql + Sync + '_>> = vec![Box::new(own.unwrap_or(-1))];
        for column in columns {
            let Some(i) = self.dataset.fields.iter().position(|f| f.column == *column) else { return Ok(None) };
            let cell = &row.cells[i];
            if cell.is_null() {
                return Ok(None);
            }
            params.push(Box::new(Cell(cell)));
            conditions.push(format!("{} = ${}", quote_ident(column), params.len()));
        }
        let sql = format!(
            "SELECT id FROM {} WHERE id <> $1 AND {} LIMIT 1",
            geosector_store::table_name(self.dataset),
            conditions.join(" AND ")
        );
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(AsRef::as_ref).collect();
        Ok(client.query_opt(&sql, &refs).await?.map(|r| r.get(0)))
    }

    /// Stored features whose interiors overlap the row's geometry by more than `threshold` m²:
    /// their ids, the overlap area in m² and a point of the overlap in lon/lat.
    async fn overlapping(
        &self,
        client: &impl GenericClient,
        row: &Row,
        own: Option<i64>,
        threshold: f64,
    ) -> Result<Vec<(i64, f64, Option<[f64; 2]>)>, ImportError> {
        let (Some(spec), Some(geometry)) = (self.dataset.geometry, &row.geometry) else { return Ok(Vec::new()) };
        let g = quote_ident(spec.column);
        let sql = format!(
            "SELECT id, area, ST_X(at), ST_Y(at) FROM (
                 SELECT id, ST_Area(overlap::geography) AS area, ST_PointOnSurface(overlap) AS at
                 FROM (SELECT id, ST_Intersection({g}, $1) AS overlap FROM {table}
                       WHERE {g} && $1 AND id <> $2 AND ST_Relate({g}, $1, 'T********')) AS o) AS a
             WHERE area > $3 ORDER BY id LIMIT 20",
            table = geosector_store::table_name(self.dataset)
        );
        let rows = client.query(&sql, &[&Ewkb(Some(geometry)), &own.unwrap_or(-1), &threshold]).await?;
        Ok(rows
            .iter()
            .map(|r| {
                let at = r.get::<_, Option<f64>>(2).zip(r.get::<_, Option<f64>>(3)).map(|(x, y)| [x, y]);
                (r.get(0), r.get(1), at)
            })
            .collect())
    }
}
