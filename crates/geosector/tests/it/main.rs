//! The integration suite: the `geosector` binary and libraries against a real PostGIS.

mod support;

mod access;
mod admin_units;
mod ats;
mod bad_inputs;
mod catalogue;
mod clients;
mod cluster;
mod costly;
mod crs;
mod disk_full;
mod editing;
mod faults;
mod filter;
mod forwarded;
mod harvest;
mod history_import;
mod history_read;

mod import;
mod import_kills;
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
mod replica;
mod rules;
mod schema;
mod sea_sector;
mod statistics;
mod tiles;
mod viewer;
mod wfs;
mod wfst;
