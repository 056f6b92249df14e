//! Methods (issue 22 finding): every GET route answers HEAD with the same status and headers and
//! no body; a method a known path does not take is a 405 whose `Allow` lists those it does, with
//! an OGC exception body; an unknown path stays a 404.

use crate::support::{Server, TestDb};

#[tokio::test]
async fn head_answers_like_get_and_other_methods_get_405_with_allow() {
    let Some(db) = TestDb::migrated().await else { return };
    let server = Server::start(&db, &[]);
    for path in [
        "/",
        "/conformance",
        "/api",
        "/collections",
        "/collections/reference.admin_units",
        "/collections/reference.admin_units/items?limit=1",
        "/collections/land.parcels/queryables",
        "/catalogue/items?q=dat",
        "/tileMatrixSets/WebMercatorQuad",
        "/styles/land",
        "/map",
        "/collections/nothing.here/items",
    ] {
        let get = server.get(path);
        let head = server.request("HEAD", path, &[], None);
        assert_eq!(head.status, get.status, "HEAD {path}");
        assert!(head.body.is_empty(), "HEAD {path}: a body of {} bytes", head.body.len());
        assert_eq!(head.header("content-type"), get.header("content-type"), "HEAD {path}");
    }
    for (method, path, allow) in [
        ("DELETE", "/collections", "GET, HEAD"),
        ("POST", "/collections/land.parcels/items/1/lineage", "GET, HEAD"),
        ("PUT", "/collections/land.parcels/items", "GET, HEAD, POST, OPTIONS"),
        ("POST", "/collections/land.parcels/items/1", "GET, HEAD, PUT, PATCH, DELETE, OPTIONS"),
        ("GET", "/changesets", "POST"),
        ("PATCH", "/map", "GET, HEAD"),
    ] {
        let refused = server.request(method, path, &[], Some(b"{}"));
        assert_eq!(refused.status, 405, "{method} {path}: {}", refused.text());
        assert_eq!(refused.header("allow"), Some(allow), "{method} {path}");
        assert_eq!(refused.json()["code"], "MethodNotAllowed", "{method} {path}");
    }
    assert_eq!(server.request("DELETE", "/no/such/path", &[], None).status, 404);
}
