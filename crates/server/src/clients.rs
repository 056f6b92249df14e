//! A per-client limit on concurrent requests (`max_concurrent_per_client`): one client cannot
//! hold every pooled connection with costly requests while others wait. A request over the
//! limit is answered at once with 429, `Retry-After` and an OGC exception; it is counted from
//! its arrival until its body has been sent (a streamed page counts while it streams).
//!
//! The client is the credential it presents (a bearer token or API key, by a hash of it: an
//! invalid one is refused with 401 before any costly work, so inventing credentials buys no
//! extra room), else its address: the peer's, or — only when the peer is a trusted proxy
//! (`trusted_proxies`, as for links) — the address the proxy forwarded (`Forwarded: for=` or
//! `X-Forwarded-For`, the nearest address that is not itself a trusted proxy).

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;
use futures_util::future::LocalBoxFuture;

use crate::proxies::{trusted, Block};

/// Seconds a client over its limit is told to wait (`Retry-After`).
pub const RETRY_AFTER_S: u64 = 1;

/// Requests in flight per client (the app data [`limit`] reads).
#[derive(Debug)]
pub struct ClientLimit {
    max: usize,
    proxies: Vec<Block>,
    active: Arc<Mutex<HashMap<String, usize>>>,
    hasher: std::collections::hash_map::RandomState,
}

impl ClientLimit {
    /// A limit of `max` concurrent requests per client (0: no limit); forwarded addresses are
    /// taken from `proxies` only.
    pub fn new(max: usize, proxies: Vec<Block>) -> ClientLimit {
        ClientLimit { max, proxies, active: Arc::default(), hasher: std::collections::hash_map::RandomState::new() }
    }

    /// A slot for one more request of `client`, or `None` when it has `max` in flight.
    fn acquire(&self, client: String) -> Option<Slot> {
        let mut active = self.active.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = active.entry(client.clone()).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(Slot { client, active: Arc::clone(&self.active) })
    }

    /// Who a request comes from (see the module's documentation).
    fn client_of(&self, req: &HttpRequest, proxies: &[Block]) -> String {
        let credential = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .map(|v| v.as_bytes().to_vec())
            .or_else(|| crate::auth::presented_key(req).map(String::into_bytes));
        if let Some(credential) = credential {
            return format!("credential {:016x}", self.hasher.hash_one(&credential));
        }
        let peer = req.peer_addr().map(|a| a.ip());
        let address = if trusted(proxies, peer) { forwarded_client(req, proxies).or(peer) } else { peer };
        address.map_or_else(|| "unknown".to_owned(), |a| format!("address {a}"))
    }
}

/// The nearest forwarded address that is not a trusted proxy: the proxies append, so the list
/// is read from its end.
fn forwarded_client(req: &HttpRequest, proxies: &[Block]) -> Option<IpAddr> {
    let headers = req.headers();
    let mut hops: Vec<IpAddr> = Vec::new();
    for value in headers.get_all(actix_web::http::header::FORWARDED).filter_map(|v| v.to_str().ok()) {
        for element in value.split(',') {
            for pair in element.split(';') {
                if let Some((k, v)) = pair.trim().split_once('=') {
                    if k.trim().eq_ignore_ascii_case("for") {
                        hops.extend(address(v));
                    }
                }
            }
        }
    }
    if hops.is_empty() {
        for value in headers.get_all("x-forwarded-for").filter_map(|v| v.to_str().ok()) {
            hops.extend(value.split(',').filter_map(address));
        }
    }
    hops.into_iter().rev().find(|hop| !trusted(proxies, Some(*hop)))
}

/// An address of a forwarding header (`1.2.3.4`, `"[2001:db8::1]:4711"`, `1.2.3.4:80`).
fn address(text: &str) -> Option<IpAddr> {
    let text = text.trim().trim_matches('"');
    if let Ok(ip) = text.parse() {
        return Some(ip);
    }
    if let Some(rest) = text.strip_prefix('[') {
        return rest.split_once(']').and_then(|(ip, _)| ip.parse().ok());
    }
    text.rsplit_once(':').and_then(|(ip, _)| ip.parse().ok())
}

/// One request's place in its client's count, given back when dropped.
struct Slot {
    client: String,
    active: Arc<Mutex<HashMap<String, usize>>>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut active = self.active.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = active.get_mut(&self.client) {
            *count -= 1;
            if *count == 0 {
                active.remove(&self.client);
            }
        }
    }
}

/// A body that holds its request's slot until it has been sent (or dropped).
struct Counted {
    body: BoxBody,
    _slot: Slot,
}

impl MessageBody for Counted {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.body).poll_next(cx)
    }
}

/// The middleware: counts the request against its client, or answers 429.
pub fn limit<S, B>(
    req: ServiceRequest,
    srv: &S,
) -> LocalBoxFuture<'static, Result<ServiceResponse<BoxBody>, actix_web::Error>>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    let slot = match req.app_data::<web::Data<ClientLimit>>() {
        Some(limit) if limit.max > 0 => {
            let client = limit.client_of(req.request(), &limit.proxies);
            match limit.acquire(client) {
                Some(slot) => Some(slot),
                None => {
                    let max = limit.max;
                    let response = HttpResponse::TooManyRequests()
                        .insert_header((actix_web::http::header::RETRY_AFTER, RETRY_AFTER_S.to_string()))
                        .json(serde_json::json!({
                            "code": "TooManyRequests",
                            "description": format!("more than {max} requests at once from this client; retry after {RETRY_AFTER_S} s"),
                        }));
                    return Box::pin(async move { Ok(req.into_response(response)) });
                }
            }
        }
        _ => None,
    };
    let response = srv.call(req);
    Box::pin(async move {
        let response = response.await?.map_into_boxed_body();
        Ok(match slot {
            Some(slot) => response.map_body(|_, body| BoxBody::new(Counted { body, _slot: slot })),
            None => response,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_gets_its_limit_and_its_slots_back() {
        let limit = ClientLimit::new(2, Vec::new());
        let a = limit.acquire("a".into()).unwrap();
        let _b = limit.acquire("a".into()).unwrap();
        assert!(limit.acquire("a".into()).is_none(), "a third at once is refused");
        assert!(limit.acquire("other".into()).is_some(), "another client is not");
        drop(a);
        assert!(limit.acquire("a".into()).is_some(), "a slot given back is free again");
    }

    #[test]
    fn forwarded_addresses_come_from_trusted_proxies_only() {
        let proxies = vec![Block::parse("10.0.0.0/8").unwrap()];
        let limit = ClientLimit::new(1, Vec::new());
        let via = |peer: &str, header: (&str, &str)| {
            let req = actix_web::test::TestRequest::default()
                .peer_addr(format!("{peer}:5000").parse().unwrap())
                .insert_header(header)
                .to_http_request();
            limit.client_of(&req, &proxies)
        };
        assert_eq!(via("10.0.0.5", ("x-forwarded-for", "203.0.113.7, 10.0.0.9")), "address 203.0.113.7");
        assert_eq!(via("10.0.0.5", ("forwarded", "for=\"[2001:db8::1]:4711\";proto=https")), "address 2001:db8::1");
        assert_eq!(via("198.51.100.1", ("x-forwarded-for", "203.0.113.7")), "address 198.51.100.1", "not a proxy");
        let keyed = via("198.51.100.1", ("x-api-key", "gsk_1234"));
        assert!(keyed.starts_with("credential ") && !keyed.contains("gsk_1234"), "{keyed}");
    }
}
