//! The integration suite: the `geosector` binary and libraries against a real PostGIS.

mod support;

mod import;
mod migrate;
mod reference;
mod schema;
