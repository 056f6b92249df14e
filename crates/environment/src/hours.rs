//! Hours as integers (hours since 1970-01-01T00:00Z), the unit the index refreshes count in, and
//! the local (UTC+7) day an hour starts.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

/// The hour an instant falls in.
pub(crate) fn hour_of(t: DateTime<Utc>) -> i64 {
    t.timestamp().div_euclid(3600)
}

/// The instant an hour starts.
pub(crate) fn time_of_hour(h: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(h * 3600, 0).single().unwrap_or_default()
}

/// The date of the local day starting at hour `h` (UTC+7): the UTC date of `h` + 7 hours.
pub(crate) fn local_date_of_day_start(h: i64) -> NaiveDate {
    time_of_hour(h + 7).date_naive()
}
