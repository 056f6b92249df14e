//! WFS at `/wfs`. This module holds the transactions (WFS-T, [`transaction`]); `POST /wfs` with
//! a `Transaction` document is answered there.

pub mod transaction;

use actix_web::{web, HttpRequest, HttpResponse};

use crate::state::AppState;

/// `POST /wfs`: a `Transaction` document (at most [`crate::edit::input::MAX_BODY`] bytes).
pub async fn post(state: web::Data<AppState>, req: HttpRequest, payload: web::Payload) -> HttpResponse {
    match crate::edit::input::body(payload).await {
        Ok(body) => transaction::handle(&state, &req, &body).await,
        Err(e) => transaction::exception(
            transaction::Version::V200,
            &transaction::Fault::parsing(Some("body"), e.to_string()),
        ),
    }
}
