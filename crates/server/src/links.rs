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

/// `scheme://host` of the request (honouring `Forwarded` / `X-Forwarded-*` from a proxy).
pub fn base_url(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
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
}
