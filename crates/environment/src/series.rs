//! The time series of monitoring stations, served at
//! `/collections/environment.stations/items/{station}/timeseries`: one station's values of one
//! parameter from `environment.observations` (`parameter=PM2.5`, a decimal comma accepted), or
//! with `parameter=AQI` its hourly VN_AQI from `environment.aqi_hourly`. A station is found by
//! its feature id or its station code.

use geosector_domain::{Column, Selector, Selects, SeriesDecl, SeriesSource};

/// The stations' series.
pub const STATIONS: SeriesDecl = SeriesDecl {
    key: "station_code",
    selector: Selector {
        name: "parameter",
        decimal_comma: true,
        description: "A parameter symbol (PM2.5, PM10, NO2, SO2, CO, O3, pH, DO, COD, …) or AQI for the hourly VN_AQI",
        hint: "e.g. parameter=PM2.5 (or AQI for the hourly VN_AQI)",
    },
    sources: &[
        SeriesSource {
            schema: "environment",
            table: "aqi_hourly",
            key: "station_code",
            selects: Selects::Value("AQI"),
            time: "observed_at",
            value: Column { column: "aqi", name: "value" },
            fields: &[Column::same("level"), Column::same("dominant")],
        },
        SeriesSource {
            schema: "environment",
            table: "observations",
            key: "station_code",
            selects: Selects::Column("parameter"),
            time: "observed_at",
            value: Column::same("value"),
            fields: &[Column::same("unit"), Column::same("status")],
        },
    ],
    summary: "One station's values of one parameter over time (JSON or CSV)",
};
