//! Loading the administrative-unit reference data: the 2025 units (34 provinces, 3,321
//! communes, valid from 1 Jul 2025), optionally the pre-2025 units (63 provinces, their
//! districts and 10,056 communes, valid until 1 Jul 2025) and the 2025 boundaries.
//!
//! Expected layout of the source directory (the whole country in `data-samples/vietnam`, or the
//! Hà Nội subset in `data-samples/reference`):
//! - `admin_units_2025.csv` (`code,name,type,level,parent_code,codename`); when absent the units
//!   are taken from the boundary files' own `code`, `name` and `province_code` properties;
//! - `raw/xa-pre-2025-nso-2025-01-04.csv` (NSO export, optional);
//! - `boundaries-2025/provinces_2025.geojson` and `boundaries-2025/communes_2025.geojson`
//!   (or `communes_hanoi_2025.geojson`), optional, each possibly gzipped (`….geojson.gz`).
//!
//! The load replaces what earlier loads from the same sources wrote, in one transaction.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use tokio::sync::mpsc;
use tokio_postgres::Client;

use crate::error::{FeatureError, ImportError};
use crate::geometry;
use crate::readers::geojson::{read_collection, split_feature};
use crate::source::{FeatureSink, Flow, RawBody, RawFeature, SourceInfo};

/// Start of validity of the 2025 units (Resolution 202/2025/QH15; new governments on 1 Jul 2025).
pub const REFORM_2025: &str = "2025-07-01";

/// What a reference load did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ReferenceReport {
    /// 2025 units inserted, by level: provinces, communes.
    pub units_2025: (u64, u64),
    /// Pre-2025 units inserted: provinces, districts, communes.
    pub units_pre_2025: (u64, u64, u64),
    /// Boundaries attached to a 2025 unit.
    pub boundaries: u64,
    /// Boundary features whose code matched no 2025 unit.
    pub unmatched_boundaries: Vec<String>,
}

struct Unit {
    level: &'static str,
    code: String,
    name: String,
    unit_type: Option<String>,
    parent: Option<String>,
    codename: Option<String>,
}

/// Loads the reference data found in `dir`.
///
/// # Errors
/// [`ImportError`] naming the file and line for unreadable or malformed input; nothing is
/// changed then.
pub async fn load_admin_units(client: &mut Client, dir: &Path) -> Result<ReferenceReport, ImportError> {
    let units_csv = dir.join("admin_units_2025.csv");
    let pre_csv = dir.join("raw/xa-pre-2025-nso-2025-01-04.csv");
    let boundaries = boundary_files(dir);
    if !units_csv.exists() && boundaries.is_empty() {
        return Err(ImportError::File {
            path: dir.to_owned(),
            reason: "holds neither admin_units_2025.csv nor boundaries-2025/*.geojson".into(),
        });
    }
    let mut report = ReferenceReport::default();
    let tx = client.transaction().await?;
    tx.execute("DELETE FROM reference.admin_units WHERE source IN ('admin_units_2025.csv', 'boundaries-2025', 'xa-pre-2025-nso-2025-01-04.csv')", &[]).await?;

    // 2025 units, from the CSV or else from the boundary files' properties.
    let (units, source) = if units_csv.exists() {
        (read_units_2025(&units_csv)?, "admin_units_2025.csv")
    } else {
        (units_from_boundaries(&boundaries)?, "boundaries-2025")
    };
    report.units_2025 = (
        units.iter().filter(|u| u.level == "province").count() as u64,
        units.iter().filter(|u| u.level == "commune").count() as u64,
    );
    insert_units(&tx, &units, REFORM_2025, None, source).await?;

    if pre_csv.exists() {
        let pre = read_units_pre_2025(&pre_csv)?;
        let count = |level: &str| pre.iter().filter(|u| u.level == level).count() as u64;
        report.units_pre_2025 = (count("province"), count("district"), count("commune"));
        insert_units(&tx, &pre, "-infinity", Some(REFORM_2025), "xa-pre-2025-nso-2025-01-04.csv").await?;
    }

    for file in &boundaries {
        attach_boundaries(&tx, file, &mut report).await?;
    }
    tx.commit().await?;
    Ok(report)
}

fn boundary_files(dir: &Path) -> Vec<PathBuf> {
    let b = dir.join("boundaries-2025");
    // Each file may be shipped gzipped (`<name>.gz`, as `data-samples/vietnam` does).
    let found = |name: &str| {
        let plain = b.join(name);
        let zipped = b.join(format!("{name}.gz"));
        [plain, zipped].into_iter().find(|p| p.exists())
    };
    let mut files = Vec::new();
    files.extend(found("provinces_2025.geojson"));
    files.extend(found("communes_2025.geojson").or_else(|| found("communes_hanoi_2025.geojson")));
    files
}

fn csv_error(path: &Path, e: &csv::Error) -> ImportError {
    let line = e.position().map_or(String::new(), |p| format!("line {}: ", p.line()));
    ImportError::Malformed { path: path.to_owned(), reason: format!("{line}{e}") }
}

fn nonempty(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

fn read_units_2025(path: &Path) -> Result<Vec<Unit>, ImportError> {
    let mut reader = csv::Reader::from_path(path).map_err(|e| csv_error(path, &e))?;
    let mut units = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let r = record.map_err(|e| csv_error(path, &e))?;
        let line = i + 2;
        let bad = |why: &str| ImportError::Malformed { path: path.to_owned(), reason: format!("line {line}: {why}") };
        let level = match r.get(3) {
            Some("province") => "province",
            Some("commune") => "commune",
            other => return Err(bad(&format!("level must be province or commune, got {other:?}"))),
        };
        let code = r.get(0).map(str::trim).unwrap_or_default().to_owned();
        let name = nonempty(r.get(1).unwrap_or_default()).ok_or_else(|| bad("name is empty"))?;
        units.push(Unit {
            level,
            code,
            name,
            unit_type: r.get(2).and_then(nonempty),
            parent: r.get(4).and_then(nonempty),
            codename: r.get(5).and_then(nonempty),
        });
    }
    Ok(units)
}

/// The NSO export of 2025-01-04: one row per commune with its province and district.
fn read_units_pre_2025(path: &Path) -> Result<Vec<Unit>, ImportError> {
    let mut reader = csv::Reader::from_path(path).map_err(|e| csv_error(path, &e))?;
    let mut seen = HashSet::new();
    let mut units = Vec::new();
    for record in reader.records() {
        let r = record.map_err(|e| csv_error(path, &e))?;
        let get = |i: usize| r.get(i).map(str::trim).unwrap_or_default().to_owned();
        let (province, p_code, district, d_code, commune, c_code, kind) =
            (get(0), get(1), get(2), get(3), get(4), get(5), get(6));
        if !p_code.is_empty() && seen.insert(("province", p_code.clone())) {
            units.push(Unit {
                level: "province",
                code: p_code.clone(),
                name: province,
                unit_type: None,
                parent: None,
                codename: None,
            });
        }
        if !d_code.is_empty() && seen.insert(("district", d_code.clone())) {
            units.push(Unit {
                level: "district",
                code: d_code.clone(),
                name: district,
                unit_type: None,
                parent: Some(p_code.clone()),
                codename: None,
            });
        }
        if !c_code.is_empty() && seen.insert(("commune", c_code.clone())) {
            units.push(Unit {
                level: "commune",
                code: c_code,
                name: commune,
                unit_type: nonempty(&kind),
                parent: Some(d_code),
                codename: None,
            });
        }
    }
    Ok(units)
}

async fn insert_units(
    tx: &tokio_postgres::Transaction<'_>,
    units: &[Unit],
    valid_from: &str,
    valid_to: Option<&str>,
    source: &str,
) -> Result<(), ImportError> {
    let statement = tx
        .prepare(
            "INSERT INTO reference.admin_units (level, code, valid_from, valid_to, name, unit_type, parent_code, codename, source)
             SELECT level, code, $6::text::date, $7::text::date, name, unit_type, parent_code, codename, $8
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $9::text[]) AS u(level, code, name, unit_type, parent_code, codename)",
        )
        .await?;
    for chunk in units.chunks(2000) {
        let levels: Vec<&str> = chunk.iter().map(|u| u.level).collect();
        let codes: Vec<&str> = chunk.iter().map(|u| u.code.as_str()).collect();
        let names: Vec<&str> = chunk.iter().map(|u| u.name.as_str()).collect();
        let types: Vec<Option<&str>> = chunk.iter().map(|u| u.unit_type.as_deref()).collect();
        let parents: Vec<Option<&str>> = chunk.iter().map(|u| u.parent.as_deref()).collect();
        let codenames: Vec<Option<&str>> = chunk.iter().map(|u| u.codename.as_deref()).collect();
        tx.execute(
            &statement,
            &[&levels, &codes, &names, &types, &parents, &valid_from, &valid_to, &source, &codenames],
        )
        .await?;
    }
    Ok(())
}

/// A boundary feature read from a file: level, code, name, province code, EWKB.
type Boundary = (&'static str, String, String, Option<String>, Vec<u8>);

fn units_from_boundaries(files: &[PathBuf]) -> Result<Vec<Unit>, ImportError> {
    let mut units = Vec::new();
    for file in files {
        for_each_boundary(file, |(level, code, name, province, _)| {
            let unit_type = ["Thành phố", "Tỉnh", "Phường", "Xã", "Đặc khu"]
                .iter()
                .find(|p| name.starts_with(*p))
                .map(|p| p.to_lowercase());
            units.push(Unit { level, code, name, unit_type, parent: province, codename: None });
        })?;
    }
    Ok(units)
}

async fn attach_boundaries(
    tx: &tokio_postgres::Transaction<'_>,
    file: &Path,
    report: &mut ReferenceReport,
) -> Result<(), ImportError> {
    let statement = tx
        .prepare(
            "UPDATE reference.admin_units u SET geom = ST_Multi(ST_GeomFromEWKB(b.wkb))
             FROM unnest($1::text[], $2::text[], $3::bytea[]) AS b(level, code, wkb)
             WHERE u.level = b.level AND u.code = b.code AND u.valid_from = $4::text::date
             RETURNING u.level, u.code",
        )
        .await?;
    // Read on a blocking thread, update in batches of 200 features: memory stays bounded.
    let (sender, mut receiver) = mpsc::channel::<Vec<Boundary>>(2);
    let path = file.to_owned();
    let reader = tokio::task::spawn_blocking(move || {
        let mut batch = Vec::with_capacity(200);
        for_each_boundary(&path, |b| {
            batch.push(b);
            if batch.len() == 200 {
                let _sent = sender.blocking_send(std::mem::take(&mut batch));
            }
        })?;
        let _sent = sender.blocking_send(batch);
        Ok::<(), ImportError>(())
    });
    while let Some(batch) = receiver.recv().await {
        let levels: Vec<&str> = batch.iter().map(|b| b.0).collect();
        let codes: Vec<&str> = batch.iter().map(|b| b.1.as_str()).collect();
        let wkbs: Vec<&[u8]> = batch.iter().map(|b| b.4.as_slice()).collect();
        let updated = tx.query(&statement, &[&levels, &codes, &wkbs, &REFORM_2025]).await?;
        report.boundaries += updated.len() as u64;
        let matched: HashSet<(String, String)> = updated.iter().map(|r| (r.get(0), r.get(1))).collect();
        for b in &batch {
            if !matched.contains(&(b.0.to_owned(), b.1.clone())) {
                report.unmatched_boundaries.push(format!("{} {}", b.1, b.2));
            }
        }
    }
    reader.await.map_err(|e| ImportError::ReaderStopped(format!("{}: {e}", file.display())))??;
    Ok(())
}

/// Streams a boundary GeoJSON file, calling `each` with every feature that has a 2- or 5-digit
/// `code`.
fn for_each_boundary(path: &Path, mut each: impl FnMut(Boundary)) -> Result<(), ImportError> {
    struct Sink<'f> {
        each: &'f mut dyn FnMut(Boundary),
        error: Option<FeatureError>,
    }
    impl FeatureSink for Sink<'_> {
        fn begin(&mut self, _: &SourceInfo) -> Result<(), ImportError> {
            Ok(())
        }
        fn feature(&mut self, feature: RawFeature) -> Result<Flow, ImportError> {
            let location = feature.location.clone();
            let fail = |message: String| FeatureError { location: location.clone(), field: None, message };
            let RawBody::GeoJson(value) = feature.body else { return Ok(Flow::Continue) };
            let parsed = split_feature(value).map_err(&fail).and_then(|(props, geom)| {
                let code = props.get("code").and_then(|c| c.as_str()).unwrap_or_default().to_owned();
                let level = match code.len() {
                    2 => "province",
                    5 => "commune",
                    _ => return Err(fail(format!("code must have 2 or 5 digits, got \"{code}\""))),
                };
                let name = props.get("name").and_then(|n| n.as_str()).unwrap_or_default().to_owned();
                let province = props.get("province_code").and_then(|p| p.as_str()).map(str::to_owned);
                let g = geometry::from_geojson(&geom).map_err(&fail)?.ok_or_else(|| fail("geometry is null".into()))?;
                let g = geometry::conform(g, geosector_domain::GeometryKind::MultiPolygon).map_err(&fail)?;
                let wkb = geometry::to_ewkb(&g, 4326).map_err(&fail)?;
                Ok((level, code, name, province, wkb))
            });
            match parsed {
                Ok(b) => {
                    (self.each)(b);
                    Ok(Flow::Continue)
                }
                Err(e) => {
                    self.error = Some(e);
                    Ok(Flow::Stop)
                }
            }
        }
    }
    let mut sink = Sink { each: &mut each, error: None };
    read_collection(path, &mut sink)?;
    match sink.error {
        Some(e) => Err(ImportError::Malformed { path: path.to_owned(), reason: e.to_string() }),
        None => Ok(()),
    }
}
