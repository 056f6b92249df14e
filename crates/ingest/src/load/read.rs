//! The reading side of an import, on a blocking thread: one thread reads every file in order
//! and cuts the features into batches, another builds and checks each batch in rayon (rows,
//! the dataset's per-feature rules, the load hook's row check) and encodes the accepted rows
//! for COPY; both hand their results to the async consumer ([`super::import`]) in file order
//! through a bounded channel, so memory stays at a few batches whatever the file size.

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use geosector_crs::Crs;
use geosector_domain::Dataset;
use geosector_store::hook::RowCheck;
use rayon::prelude::*;
use tokio::sync::mpsc;

use super::copy::TupleEncoder;
use super::overview::CellLocator;
use crate::checked::Checked;
use crate::error::{FeatureError, ImportError, Location};
use crate::readers::{self, Format};
use crate::report::FileSummary;
use crate::rows::RowBuilder;
use crate::source::{FeatureSink, Flow, RawFeature, SourceInfo};
use crate::validate::Validator;

/// What the reading side hands the consumer, in file order.
pub(super) enum Message {
    /// A file begins.
    FileStarted(FileSummary),
    /// A batch of checked features.
    Batch(Vec<Prepared>),
    /// A file that could not be read at all (only with `skip_rejected`).
    FileRejected(FeatureError),
}

/// A checked feature and, when it was accepted, its COPY tuple (see [`super::copy`]) and its
/// overview cell.
pub(super) struct Prepared {
    pub(super) checked: Checked,
    pub(super) tuple: Option<Result<Bytes, ImportError>>,
    pub(super) cell: Option<(i32, i32)>,
}

/// What the reading thread hands the checking thread, in file order.
enum Job {
    /// Passed on as it is.
    Pass(Message),
    /// A batch of features to check with the file's row builder.
    Check(Arc<RowBuilder>, Vec<RawFeature>),
}

/// The blocking side of an import: what it reads and how it builds and checks rows.
pub(super) struct Producer {
    pub(super) dataset: &'static Dataset,
    pub(super) plan: Vec<(PathBuf, Format)>,
    pub(super) settings: ReadSettings,
    pub(super) check: Option<Arc<dyn RowCheck>>,
    pub(super) rules: Option<Arc<Validator>>,
    /// Build each row's tiles' geometry (a partition swap writes it).
    pub(super) tile_geometry: bool,
    /// Encodes the accepted rows for COPY.
    pub(super) encoder: TupleEncoder,
    /// Finds the accepted rows' overview cells (a partition swap counts them).
    pub(super) cells: Option<CellLocator>,
}

/// What of the import's options the reading side needs.
#[derive(Debug, Clone)]
pub(super) struct ReadSettings {
    /// Source CRS forced by the user.
    pub(super) crs: Option<Crs>,
    /// Shapefile text encoding forced by the user.
    pub(super) encoding: Option<readers::TextEncoding>,
    /// Swap X and Y as read.
    pub(super) swap_xy: bool,
    /// Report unreadable files instead of failing.
    pub(super) skip_rejected: bool,
    /// Features per rayon batch.
    pub(super) batch_size: usize,
    /// How to harvest an OGC API - Features input.
    pub(super) harvest: Option<readers::ogcapi::Harvest>,
}

impl Producer {
    /// One thread reads every file in order while another checks the previous batch of features
    /// in rayon and hands the rows to the COPY, so reading, checking and COPY overlap. Memory: at
    /// most two batches wait between the reader and the checker.
    pub(super) fn run(&self, sender: &mpsc::Sender<Message>) -> Result<(), ImportError> {
        let (jobs, queue) = std::sync::mpsc::sync_channel::<Job>(2);
        std::thread::scope(|scope| {
            scope.spawn(move || {
                for job in queue {
                    let message = match job {
                        Job::Pass(message) => message,
                        Job::Check(builder, batch) => {
                            Message::Batch(batch.into_par_iter().map(|f| self.prepare(builder.check(f))).collect())
                        }
                    };
                    if sender.blocking_send(message).is_err() {
                        // The consumer stopped: dropping the queue stops the reader.
                        break;
                    }
                }
            });
            let read = self.read_all(&jobs);
            drop(jobs); // ends the checker's queue
            read
        })
    }

    /// Encodes the row of an accepted feature; its tiles' geometry, written only by COPY, is
    /// dropped then.
    fn prepare(&self, mut checked: Checked) -> Prepared {
        let (tuple, cell) = match (&checked.error, &mut checked.row) {
            (None, Some(row)) => {
                let tuple = self.encoder.encode(row);
                row.tile_geometry = None;
                (Some(tuple), self.cells.and_then(|c| c.cell(row)))
            }
            _ => (None, None),
        };
        Prepared { checked, tuple, cell }
    }

    /// Reads every file in order, in batches (see [`Producer::run`]).
    fn read_all(&self, sender: &std::sync::mpsc::SyncSender<Job>) -> Result<(), ImportError> {
        let options = &self.settings;
        for (path, format) in &self.plan {
            let mut sink = BatchSink {
                producer: self,
                path,
                sender,
                builder: None,
                batch: Vec::with_capacity(options.batch_size),
                closed: false,
            };
            let read_options = readers::ReadOptions {
                crs: options.crs.as_ref(),
                encoding: options.encoding,
                swap_xy: options.swap_xy,
                harvest: options.harvest.as_ref(),
            };
            match readers::read(path, *format, &read_options, &mut sink) {
                Ok(()) => {}
                Err(e @ (ImportError::File { .. } | ImportError::Format { .. } | ImportError::Malformed { .. }))
                    if options.skip_rejected =>
                {
                    // The whole file is reported; what it yielded before the problem is dropped.
                    sink.batch.clear();
                    let reason = match e {
                        ImportError::File { reason, .. }
                        | ImportError::Format { reason, .. }
                        | ImportError::Malformed { reason, .. } => reason,
                        other => other.to_string(),
                    };
                    let rejected = FeatureError {
                        location: Location { file: path.as_path().into(), index: 0, is_line: false },
                        field: None,
                        message: format!("file rejected: {reason}"),
                    };
                    if sender.send(Job::Pass(Message::FileRejected(rejected))).is_err() {
                        break;
                    }
                    continue;
                }
                Err(e) => return Err(e),
            }
            sink.flush()?;
            if sink.closed {
                break;
            }
        }
        Ok(())
    }
}

struct BatchSink<'a> {
    producer: &'a Producer,
    path: &'a PathBuf,
    sender: &'a std::sync::mpsc::SyncSender<Job>,
    builder: Option<Arc<RowBuilder>>,
    batch: Vec<RawFeature>,
    closed: bool,
}

impl BatchSink<'_> {
    fn flush(&mut self) -> Result<Flow, ImportError> {
        if self.batch.is_empty() || self.closed {
            return Ok(if self.closed { Flow::Stop } else { Flow::Continue });
        }
        let Some(builder) = &self.builder else { return Ok(Flow::Continue) };
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(self.producer.settings.batch_size));
        if self.sender.send(Job::Check(Arc::clone(builder), batch)).is_err() {
            self.closed = true;
            return Ok(Flow::Stop);
        }
        Ok(Flow::Continue)
    }
}

impl FeatureSink for BatchSink<'_> {
    fn begin(&mut self, info: &SourceInfo) -> Result<(), ImportError> {
        let crs = match (&self.producer.settings.crs, &info.declared_crs) {
            (Some(forced), _) => forced.clone(),
            (None, Some(declared)) => Crs::parse(declared).map_err(|e| ImportError::Format {
                path: self.path.clone(),
                reason: format!("the file declares {e}; pass --crs to say which CRS its coordinates are in"),
            })?,
            (None, None) => Crs::wgs84(),
        };
        let summary = FileSummary {
            path: self.path.clone(),
            crs: self.producer.dataset.geometry.map(|_| crs.to_string()),
            declared_crs: info.declared_crs.clone(),
            features: 0,
            encoding: info.encoding.clone(),
        };
        if self.sender.send(Job::Pass(Message::FileStarted(summary))).is_err() {
            self.closed = true;
        }
        self.builder = Some(Arc::new(
            RowBuilder::new(self.producer.dataset, &crs)?
                .with_check(self.producer.check.clone())
                .with_rules(self.producer.rules.clone())
                .with_tile_geometry(self.producer.tile_geometry),
        ));
        Ok(())
    }

    fn feature(&mut self, feature: RawFeature) -> Result<Flow, ImportError> {
        self.batch.push(feature);
        if self.batch.len() >= self.producer.settings.batch_size {
            return self.flush();
        }
        Ok(if self.closed { Flow::Stop } else { Flow::Continue })
    }
}
