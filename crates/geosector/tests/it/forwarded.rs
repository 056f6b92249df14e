//! Forwarded headers are honoured only from trusted proxies (issue 22 finding): from anyone else
//! `Forwarded` and `X-Forwarded-*` leave the links alone; from a trusted proxy they set the
//! scheme and host of every link, but never a scheme other than http(s) or a host that is not one.

use crate::support::{Server, TestDb};

/// The `self` link of the landing page, as answered to these headers.
fn self_link(server: &Server, headers: &[(&str, &str)]) -> String {
    let landing = server.get_with("/?f=json", headers).json();
    let link = landing["links"].as_array().unwrap().iter().find(|l| l["rel"] == "self").unwrap();
    link["href"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn forwarded_headers_count_only_from_trusted_proxies() {
    let Some(db) = TestDb::migrated().await else { return };
    let hostile: [&[(&str, &str)]; 3] = [
        &[("X-Forwarded-Host", "evil.example"), ("X-Forwarded-Proto", "https")],
        &[("Forwarded", "host=evil.example;proto=https")],
        &[("X-Forwarded-Proto", "javascript"), ("X-Forwarded-Host", "evil.example/x")],
    ];

    // Nobody is trusted by default: the links keep the address the client used.
    let server = Server::start(&db, &[]);
    for headers in hostile {
        let link = self_link(&server, headers);
        assert!(link.starts_with(&format!("{}/", server.base)), "{headers:?}: {link}");
    }
    drop(server);

    // A trusted proxy (here: loopback) sets them, within what a link may hold.
    let server = Server::start(&db, &["--trusted-proxy", "127.0.0.0/8"]);
    let behind = [("X-Forwarded-Host", "geo.stnmt.example.gov.vn"), ("X-Forwarded-Proto", "https")];
    assert!(self_link(&server, &behind).starts_with("https://geo.stnmt.example.gov.vn/"));
    let forwarded = [("Forwarded", "for=10.0.0.9;host=geo.example.gov.vn:8443;proto=https")];
    assert!(self_link(&server, &forwarded).starts_with("https://geo.example.gov.vn:8443/"));
    let link = self_link(&server, hostile[2]);
    assert!(link.starts_with("http://") && !link.contains("evil.example"), "{link}");
    drop(server);

    // A bad trusted-proxy entry stops the server with a message naming it.
    let refused = db.geosector(&["serve", "--bind", "127.0.0.1:0", "--trusted-proxy", "10.0.0.0/33"]);
    assert_ne!(refused.code, Some(0));
    assert!(refused.text().contains("10.0.0.0/33"), "{}", refused.text());
}
