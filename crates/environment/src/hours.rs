//! Hours as integers (hours since 1970-01-01T00:00Z), the unit the index refreshes count in, the
//! local (UTC+7) day an hour starts, and the UTC month an hour falls in.

use chrono::{DateTime, Datelike, Months, NaiveDate, TimeZone, Utc};

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

/// The hours `[first, end)` of the UTC month hour `h` falls in (the months `environment.
/// aqi_hourly` is partitioned by).
pub(crate) fn month_of_hour(h: i64) -> (i64, i64) {
    let t = time_of_hour(h);
    let first = NaiveDate::from_ymd_opt(t.year(), t.month(), 1).unwrap_or_default();
    let next = first.checked_add_months(Months::new(1)).unwrap_or(first);
    let hour = |d: NaiveDate| hour_of(d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    (hour(first), hour(next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_utc_calendar_months() {
        let h = hour_of("2025-02-14T13:20:00Z".parse().unwrap());
        let (first, end) = month_of_hour(h);
        assert_eq!(time_of_hour(first).to_rfc3339(), "2025-02-01T00:00:00+00:00");
        assert_eq!(time_of_hour(end).to_rfc3339(), "2025-03-01T00:00:00+00:00");
        assert_eq!(month_of_hour(end - 1), (first, end), "the last hour of February");
        assert_eq!(month_of_hour(end).0, end, "the first of March");
        let dec = hour_of("2024-12-31T23:00:00Z".parse().unwrap());
        assert_eq!(time_of_hour(month_of_hour(dec).1).to_rfc3339(), "2025-01-01T00:00:00+00:00");
    }
}
