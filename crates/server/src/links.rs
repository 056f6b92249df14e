//! Links of OGC API responses, the request's base URL, and query strings rebuilt with changed
//! parameters (for `next` and `alternate`).

use actix_web::HttpRequest;

/// A link object.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Link {
    /// Target URL.
    pub href: String,
    /// Relation.
    pub rel: String,
    /// Media type.
    #[serde(rename = "type")]
    pub media_type: String,
    /// Human title.
    pub title: String,
}

impl Link {
    /// A link.
    pub fn new(href: &str, rel: &str, media_type: &str, title: &str) -> Link {
        Link { href: href.to_owned(), rel: rel.to_owned(), media_type: media_type.to_owned(), title: title.to_owned() }
    }
}

/// The API key a request carried in its query, if any: every link the server writes for it
/// carries the key on, so a client that cannot send headers (older desktop GIS) keeps its
/// access while it follows links.
pub fn query_key(req: &HttpRequest) -> Option<String> {
    // Every request asks (the middleware, the links): decode the query only when it may hold one.
    if !req.query_string().contains(crate::params::KEY_PARAMETER) {
        return None;
    }
    crate::params::raw_query_pairs(req).into_iter().find(|(k, _)| k == crate::params::KEY_PARAMETER).map(|(_, v)| v)
}

/// A URL with the API key added to its query (an existing `apikey` is left as it is).
pub fn with_key(url: &str, key: &str) -> String {
    if url.contains(&format!("{}=", crate::params::KEY_PARAMETER)) {
        return url.to_owned();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{}={}", crate::params::KEY_PARAMETER, encode(key))
}

/// Adds the request's API key (when it came in the query) to every link of a JSON document
/// that points at this server: `href` members and TileJSON `tiles` templates.
pub fn carry_key(value: &mut serde_json::Value, req: &HttpRequest) {
    let Some(key) = query_key(req) else { return };
    let base = base_url(req);
    carry(value, &base, &key);
}

fn carry(value: &mut serde_json::Value, base: &str, key: &str) {
    use serde_json::Value;
    match value {
        Value::Object(members) => {
            for (name, member) in members.iter_mut() {
                match member {
                    Value::String(url) if name == "href" && url.starts_with(base) => *url = with_key(url, key),
                    Value::Array(urls) if name == "tiles" => {
                        for url in urls.iter_mut() {
                            if let Value::String(u) = url {
                                if u.starts_with(base) {
                                    *u = with_key(u, key);
                                }
                            }
                        }
                    }
                    other => carry(other, base, key),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| carry(item, base, key)),
        _ => {}
    }
}

/// A JSON document as text, with the request's API key carried into its links (copied only
/// when there is a key to add).
pub fn keyed_text(value: &serde_json::Value, req: &HttpRequest) -> String {
    if query_key(req).is_none() {
        return value.to_string();
    }
    let mut value = value.clone();
    carry_key(&mut value, req);
    value.to_string()
}

/// `scheme://host` of the request: from `Forwarded` / `X-Forwarded-*` when the peer is a trusted
/// proxy ([`crate::proxies`]), otherwise from the `Host` header; a scheme other than `http` or
/// `https` becomes `http`, and an implausible host the address the server listens on.
pub fn base_url(req: &HttpRequest) -> String {
    let state = req.app_data::<actix_web::web::Data<crate::state::AppState>>();
    let trusted = state.is_some_and(|s| crate::proxies::trusted(&s.trusted_proxies, req.peer_addr().map(|a| a.ip())));
    let own_scheme = if req.app_config().secure() { "https" } else { "http" };
    let (scheme, host) = if trusted {
        let info = req.connection_info();
        (info.scheme().to_ascii_lowercase(), info.host().to_owned())
    } else {
        let host = req.headers().get(actix_web::http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
        (own_scheme.to_owned(), host.to_owned())
    };
    let scheme = if scheme == "http" || scheme == "https" { scheme } else { own_scheme.to_owned() };
    let host = if crate::proxies::plausible_host(&host) { host } else { req.app_config().local_addr().to_string() };
    format!("{scheme}://{host}")
}

/// The query pairs with some parameters replaced (`Some`) or removed (`None`), encoded.
pub fn query_with(pairs: &[(String, String)], changes: &[(&str, Option<&str>)]) -> String {
    let mut out: Vec<(String, String)> =
        pairs.iter().filter(|(k, _)| !changes.iter().any(|(c, _)| c == k)).cloned().collect();
    for (name, value) in changes {
        if let Some(v) = value {
            out.push(((*name).to_owned(), (*v).to_owned()));
        }
    }
    out.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
}

/// Percent-encodes a query component (RFC 3986 unreserved characters stay).
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_rebuilt_and_encoded() {
        let pairs = vec![("bbox".to_owned(), "105,20,106,21".to_owned()), ("cursor".to_owned(), "10".to_owned())];
        assert_eq!(query_with(&pairs, &[("cursor", Some("20"))]), "bbox=105%2C20%2C106%2C21&cursor=20");
        assert_eq!(query_with(&pairs, &[("cursor", None), ("f", Some("html"))]), "bbox=105%2C20%2C106%2C21&f=html");
        assert_eq!(encode("Hà Nội"), "H%C3%A0%20N%E1%BB%99i");
    }

    #[test]
    fn keys_are_added_to_this_servers_links_only() {
        let mut doc = serde_json::json!({
            "links": [{ "href": "http://h/collections" }, { "href": "http://elsewhere/x" }, { "href": "http://h/a?f=json" }],
            "tiles": ["http://h/t/{z}/{y}/{x}"],
        });
        carry(&mut doc, "http://h", "gsk_k");
        assert_eq!(doc["links"][0]["href"], "http://h/collections?apikey=gsk_k");
        assert_eq!(doc["links"][1]["href"], "http://elsewhere/x");
        assert_eq!(doc["links"][2]["href"], "http://h/a?f=json&apikey=gsk_k");
        assert_eq!(doc["tiles"][0], "http://h/t/{z}/{y}/{x}?apikey=gsk_k");
        assert_eq!(with_key("http://h/a?apikey=x", "y"), "http://h/a?apikey=x");
    }
}
