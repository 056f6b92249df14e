//! The integration suite: the `geosector` binary and libraries against a real PostGIS.

mod support;

mod access;
mod ats;
mod bad_inputs;
mod clients;
mod crs;
mod editing;
mod filter;
mod harvest;
mod history_import;
mod history_read;

mod import;
mod layering;
mod leaks;
mod migrate;
mod monitoring;
mod outputs;
mod partitions;
mod personal_import;
mod plans;
mod publish;
mod readers;
mod reference;
mod rules;
mod schema;
mod sea_sector;
mod tiles;
mod viewer;
