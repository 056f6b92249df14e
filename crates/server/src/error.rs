//! API errors, mapped to HTTP once: a bad parameter is 400, an unknown collection or feature
//! 404, a database that cannot be reached 503, anything else 500. The body is an OGC exception
//! `{"code", "description"}`; internal details go to the log, never to the client.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

/// An error answered to a client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A query parameter is unknown or its value is invalid.
    #[error("{param}: {message}")]
    BadParameter {
        /// The parameter's name.
        param: String,
        /// What is wrong with it.
        message: String,
    },
    /// The collection or feature does not exist.
    #[error("{0}")]
    NotFound(String),
    /// Credentials are needed (`None`) or those given are not valid (why, safe to show).
    #[error("{}", .0.as_deref().unwrap_or("credentials are required"))]
    Unauthorized(Option<String>),
    /// The caller may not do this (never saying what it may not see).
    #[error("not permitted")]
    Forbidden,
    /// The feature existed and was retired (deleted).
    #[error("{0}")]
    Gone(String),
    /// The method is not supported on this resource (`Allow` lists those that are).
    #[error("{message}")]
    MethodNotAllowed {
        /// The `Allow` header's value.
        allow: String,
        /// Why.
        message: String,
    },
    /// The request conflicts with the stored state (e.g. a write dated before the current
    /// version).
    #[error("{0}")]
    Conflict(String),
    /// `If-Match` or `If-Unmodified-Since` names another version than the current one.
    #[error("{0}")]
    PreconditionFailed(String),
    /// The collection requires `If-Match` on writes and the request has none.
    #[error("{0}")]
    PreconditionRequired(String),
    /// The body is larger than the server accepts.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The URL is longer than the server accepts (the message names `url`).
    #[error("{0}")]
    UriTooLong(String),
    /// The body's media type is not one the resource takes.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The feature breaks the sector's rules: the findings (rule, severity, message, location).
    #[error("{message}")]
    Unprocessable {
        /// What is wrong, in one sentence.
        message: String,
        /// The findings, as JSON.
        findings: serde_json::Value,
    },
    /// The database (or the token issuer's keys) cannot be reached now.
    #[error("a service this server depends on is unavailable; try again")]
    Unavailable(String),
    /// An unexpected failure (logged with its cause).
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// A 401 for credentials that are not valid.
    pub fn invalid_token(why: &str) -> ApiError {
        ApiError::Unauthorized(Some(why.to_owned()))
    }

    /// A bad-parameter error.
    pub fn param(param: &str, message: impl Into<String>) -> ApiError {
        ApiError::BadParameter { param: param.to_owned(), message: message.into() }
    }
}

impl From<tokio_postgres::Error> for ApiError {
    fn from(e: tokio_postgres::Error) -> Self {
        if e.is_closed() || e.code().is_some_and(database_away) {
            // "db error" alone says nothing: the server's message (and SQLSTATE) or the cause.
            let cause = match (e.as_db_error(), std::error::Error::source(&e)) {
                (Some(db), _) => format!("{}: {}", db.code().code(), db.message()),
                (None, Some(source)) => format!("{e}: {source}"),
                (None, None) => e.to_string(),
            };
            return ApiError::Unavailable(cause);
        }
        match e.code() {
            Some(code) if *code == tokio_postgres::error::SqlState::QUERY_CANCELED => {
                ApiError::Unavailable(format!("statement timeout: {e}"))
            }
            // A write the database's full disk refused: to be tried again once space is freed.
            Some(code) if *code == tokio_postgres::error::SqlState::DISK_FULL => {
                ApiError::Unavailable(format!("the database's disk is full: {e}"))
            }
            _ => ApiError::Internal(format!("{e:?}")),
        }
    }
}

/// Whether a SQLSTATE says the database is away for now rather than that the statement failed:
/// a shutdown or crash restart (class 57: `57P01` admin shutdown, `57P02`, `57P03` not yet
/// accepting connections), a broken connection (class 08), too many connections (`53300`).
/// The client should try again later: 503 with `Retry-After`, not 500.
pub fn database_away(code: &tokio_postgres::error::SqlState) -> bool {
    let code = code.code();
    code.starts_with("57P") || code.starts_with("08") || code == "53300"
}

/// Seconds a client is told to wait after a 503 (`Retry-After`).
pub const RETRY_AFTER_S: u64 = 5;

/// The shortest time between two log lines about 503s.
pub const LOG_EVERY_S: u64 = 10;

/// One log line per outage, not one per request: while the database is away every request
/// fails alike, so a 503's cause is logged at most once every [`LOG_EVERY_S`] seconds, with how
/// many were left out since.
static UNAVAILABLE_LOG: Throttle = Throttle::new();

/// Admits one event per [`LOG_EVERY_S`] window and counts the others.
struct Throttle {
    last: std::sync::atomic::AtomicU64,
    unlogged: std::sync::atomic::AtomicU64,
}

impl Throttle {
    const fn new() -> Throttle {
        Throttle { last: std::sync::atomic::AtomicU64::new(0), unlogged: std::sync::atomic::AtomicU64::new(0) }
    }

    /// Whether the event at `now_s` is logged (the first of its window), with how many were not
    /// since the last that was.
    fn admit(&self, now_s: u64) -> Option<u64> {
        use std::sync::atomic::Ordering;
        let last = self.last.load(Ordering::Relaxed);
        if now_s >= last + LOG_EVERY_S
            && self.last.compare_exchange(last, now_s, Ordering::Relaxed, Ordering::Relaxed).is_ok()
        {
            return Some(self.unlogged.swap(0, Ordering::Relaxed));
        }
        self.unlogged.fetch_add(1, Ordering::Relaxed);
        None
    }
}

/// Logs that the database is away (a 503, or a streamed body broken off by it), at most once
/// per [`LOG_EVERY_S`] seconds with how many were left out.
pub fn log_unavailable(cause: &str) {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    if let Some(left_out) = UNAVAILABLE_LOG.admit(now) {
        tracing::error!(%cause, left_out, "service unavailable (further ones in the next {LOG_EVERY_S} s are counted, not logged)");
    }
}

impl From<geosector_store::StoreError> for ApiError {
    fn from(e: geosector_store::StoreError) -> Self {
        match e {
            geosector_store::StoreError::Db(e) => ApiError::from(e),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<deadpool_postgres::PoolError> for ApiError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        ApiError::Unavailable(e.to_string())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadParameter { .. } => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::Gone(_) => StatusCode::GONE,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::PreconditionRequired(_) => StatusCode::PRECONDITION_REQUIRED,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UriTooLong(_) => StatusCode::URI_TOO_LONG,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let code = match self {
            ApiError::BadParameter { .. } => "InvalidParameterValue",
            ApiError::NotFound(_) => "NotFound",
            ApiError::Unauthorized(_) => "Unauthorized",
            ApiError::Forbidden => "Forbidden",
            ApiError::Gone(_) => "Gone",
            ApiError::MethodNotAllowed { .. } => "MethodNotAllowed",
            ApiError::Conflict(_) => "Conflict",
            ApiError::PreconditionFailed(_) => "PreconditionFailed",
            ApiError::PreconditionRequired(_) => "PreconditionRequired",
            ApiError::PayloadTooLarge(_) => "PayloadTooLarge",
            ApiError::UriTooLong(_) => "URITooLong",
            ApiError::UnsupportedMediaType(_) => "UnsupportedMediaType",
            ApiError::Unprocessable { .. } => "InvalidFeature",
            ApiError::Unavailable(_) => "ServiceUnavailable",
            ApiError::Internal(_) => "ServerError",
        };
        match self {
            ApiError::Unavailable(cause) => log_unavailable(cause),
            ApiError::Internal(cause) => tracing::error!(%cause, "request failed"),
            _ => {}
        }
        let mut response = HttpResponse::build(self.status_code());
        if let ApiError::Unavailable(_) = self {
            response.insert_header((actix_web::http::header::RETRY_AFTER, RETRY_AFTER_S.to_string()));
        }
        if let ApiError::Unauthorized(why) = self {
            // RFC 6750 §3: a challenge; for a bad token, why (ASCII, without quotes).
            let challenge = match why {
                None => "Bearer realm=\"geosector\"".to_owned(),
                Some(why) => {
                    let why: String = why.chars().filter(|c| c.is_ascii() && *c != '"' && *c != '\\').collect();
                    format!("Bearer realm=\"geosector\", error=\"invalid_token\", error_description=\"{why}\"")
                }
            };
            response.insert_header((actix_web::http::header::WWW_AUTHENTICATE, challenge));
        }
        if let ApiError::MethodNotAllowed { allow, .. } = self {
            response.insert_header((actix_web::http::header::ALLOW, allow.as_str()));
        }
        let mut body = serde_json::json!({ "code": code, "description": self.to_string() });
        if let ApiError::Unprocessable { findings, .. } = self {
            body["findings"] = findings.clone();
        }
        response.content_type("application/json").json(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_postgres::error::SqlState;

    #[test]
    fn a_database_away_is_a_503_to_retry_later() {
        for away in [SqlState::ADMIN_SHUTDOWN, SqlState::CRASH_SHUTDOWN, SqlState::CANNOT_CONNECT_NOW] {
            assert!(database_away(&away), "{away:?}");
        }
        assert!(database_away(&SqlState::CONNECTION_FAILURE) && database_away(&SqlState::TOO_MANY_CONNECTIONS));
        assert!(!database_away(&SqlState::UNDEFINED_TABLE) && !database_away(&SqlState::QUERY_CANCELED));
        let response = ApiError::Unavailable("db down".into()).error_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers().get("retry-after").unwrap(), "5");
    }

    #[test]
    fn an_outage_is_logged_once_per_window_with_the_count_left_out() {
        let log = Throttle::new();
        let start = 1_000_000;
        assert_eq!(log.admit(start), Some(0));
        assert_eq!(log.admit(start + 1), None);
        assert_eq!(log.admit(start + 2), None);
        assert_eq!(log.admit(start + LOG_EVERY_S), Some(2));
    }
}
