//! The integration suite: the `geosector` binary and libraries against a real PostGIS.

mod support;

mod access;
mod admin_units;
mod ats;
mod bad_inputs;
mod catalogue;
mod clients;
mod crs;
mod editing;
mod faults;
mod filter;
mod forwarded;
mod harvest;
mod history_import;
mod history_read;
mod hostile;

mod import;
mod layering;
mod leaks;
mod methods;
mod migrate;
mod monitoring;
mod outputs;
mod package;
mod package_changes;
mod partitions;
mod personal_import;
mod plans;
mod publish;
mod readers;
mod reference;
mod refused_values;
mod rules;
mod schema;
mod sea_sector;
mod statistics;
mod tiles;
mod viewer;
mod wfs;
mod wfst;
