//! Hostile input (issue 22, part 1): schemathesis against the published `/api` with every check,
//! a sweep of hostile values through every parameter of every route, and the request limits.
//!
//! The sweep reads each route's parameters from the server's own OpenAPI document, so a
//! parameter added later is swept too; each answer must come within 5 s, be a 4xx (or a 2xx where
//! the value is harmless, e.g. a text compared for equality), name the parameter in its OGC (or
//! OWS) exception, and the server's resident memory must stay within [`RSS_BOUND_MIB`].

use std::io::{Read, Write};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::ats::load_samples;
use crate::clients::python;
use crate::support::{encode, repo, Server, TestDb};

/// The most resident memory the server may hold during the sweep, in MiB (a debug build with
/// its caches settles near 100 MiB on the samples).
const RSS_BOUND_MIB: u64 = 512;

/// The longest an answer may take.
const ANSWER_WITHIN: Duration = Duration::from_secs(5);

/// An answer read off the socket as is (the HTTP layer's own refusals have no body).
struct Answer {
    status: u16,
    body: String,
    elapsed: Duration,
}

/// Sends a GET with the path and query written as given (percent-escapes and all), tolerating a
/// server that answers and closes before reading a huge request.
fn raw_get(base: &str, target: &str) -> Answer {
    let host = base.strip_prefix("http://").expect("http base");
    let started = Instant::now();
    let mut stream = std::net::TcpStream::connect(host).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    let request = format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    let _ = stream.write_all(request.as_bytes());
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let elapsed = started.elapsed();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Answer { status, body, elapsed }
}

/// The server's resident memory in MiB (`VmRSS` of /proc/<pid>/status).
fn rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the server's /proc status");
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kib / 1024
}

/// What a hostile value is, and whether the server must refuse it whatever the parameter.
struct Hostile {
    what: &'static str,
    /// Already percent-encoded (or deliberately malformed) query text.
    encoded: String,
    must_refuse: bool,
}

fn hostile_values() -> Vec<Hostile> {
    let plain = |what: &'static str, text: &str| Hostile { what, encoded: encode(text), must_refuse: false };
    let raw = |what: &'static str, encoded: &str, must_refuse: bool| Hostile {
        what,
        encoded: encoded.to_owned(),
        must_refuse,
    };
    vec![
        plain("sql injection", "' OR '1'='1'; DROP TABLE land.parcels; --"),
        plain("sql comment", "1) UNION SELECT password FROM pg_shadow --"),
        plain("cql2 injection", "1=1) OR (1=1"),
        plain("cql2 function", "S_INTERSECTS(geom, POLYGON((0 0, 1 0, 1 1, 0 0)))"),
        plain("xss", "<script>alert(1)</script>"),
        plain("xss attribute", "\"><img src=x onerror=alert(1)>"),
        plain("path traversal", "../../../../etc/passwd"),
        plain("number overflow", "99999999999999999999999999"),
        plain("number exponent", "1e999"),
        plain("negative", "-1"),
        plain("not a number", "NaN"),
        plain("hex", "0x10"),
        plain("bad date", "2024-13-45"),
        plain("year zero", "0000-01-01"),
        plain("far year", "+275760-09-13T00:00:00Z"),
        plain("leap second", "2016-12-31T23:59:60Z"),
        plain("end of time", "9999-12-31T23:59:59.999999999Z"),
        plain("offset past 14h", "2024-01-01T00:00:00+20:00"),
        plain("interval reversed", "2024-01-01/2000-01-01"),
        plain("short bbox", "1,2,3"),
        plain("nan bbox", "NaN,NaN,NaN,NaN"),
        plain("reversed bbox", "180,90,-180,-90"),
        plain("infinite bbox", "1e309,0,0,0"),
        plain("unicode", "Hà Nội 🏞️ \u{202e}"),
        raw("NUL", "%00", true),
        raw("NUL inside", "a%00b", true),
        raw("control bytes", "%01%02%1B%5B31m", false),
        raw("header splitting", "%0D%0ASet-Cookie:%20x=1", false),
        raw("invalid UTF-8", "%FF%FE", true),
        raw("overlong UTF-8", "%C0%AF", true),
        raw("surrogate UTF-8", "%ED%A0%80", true),
        raw("malformed escape", "%G1", true),
        raw("truncated escape", "abc%", true),
        raw("empty", "", true),
        raw("10,000 parentheses", &"%28".repeat(10_000), true),
        raw("JSON nesting", &format!("{}1{}", "%5B".repeat(10_000), "%5D".repeat(10_000)), true),
        raw("long value", &"a".repeat(20_000), true),
    ]
}

/// A route of the sweep: a path with its path parameters filled, and its query parameters.
struct Route {
    label: String,
    path: String,
    parameters: Vec<String>,
    /// Parameters every request carries (a time series' name, a lookup key, WFS's request),
    /// less the one swept.
    base: Vec<(&'static str, &'static str)>,
    wfs: bool,
}

/// The query parameters of a path of the server's OpenAPI document.
fn parameters_of(api: &Value, path: &str) -> Vec<String> {
    let op = &api["paths"][path]["get"];
    assert!(op.is_object(), "{path} is not in /api");
    op["parameters"]
        .as_array()
        .map(|ps| {
            ps.iter().filter(|p| p["in"] == "query").filter_map(|p| p["name"].as_str().map(str::to_owned)).collect()
        })
        .unwrap_or_default()
}

fn routes(server: &Server, api: &Value) -> Vec<Route> {
    let first_id = |collection: &str| -> i64 {
        server.get(&format!("/collections/{collection}/items?limit=1")).json()["features"][0]["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("a feature of {collection}"))
    };
    let parcel = first_id("land.parcels");
    let station = first_id("environment.stations");
    let route = |template: &str, filled: String| Route {
        label: template.to_owned(),
        parameters: parameters_of(api, template),
        path: filled,
        base: Vec::new(),
        wfs: false,
    };
    let mut routes = vec![
        route("/", "/".into()),
        route("/collections", "/collections".into()),
        route("/collections/land.parcels", "/collections/land.parcels".into()),
        route("/collections/land.parcels/items", "/collections/land.parcels/items".into()),
        route("/collections/environment.observations/items", "/collections/environment.observations/items".into()),
        route("/collections/land.parcels/items/{featureId}", format!("/collections/land.parcels/items/{parcel}")),
        route(
            "/collections/land.parcels/items/{featureId}/versions",
            format!("/collections/land.parcels/items/{parcel}/versions"),
        ),
        route("/collections/land.parcels/queryables", "/collections/land.parcels/queryables".into()),
        route(
            "/collections/environment.stations/items/{featureId}/timeseries",
            format!("/collections/environment.stations/items/{station}/timeseries"),
        ),
        route(
            "/collections/land.parcels/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
            "/collections/land.parcels/tiles/WebMercatorQuad/13/3605/6505".into(),
        ),
        route("/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}", "/tiles/WebMercatorQuad/9/225/406".into()),
        route("/tiles/{tileMatrixSetId}/tilejson.json", "/tiles/WebMercatorQuad/tilejson.json".into()),
        route(
            "/collections/land.parcels/tiles/{tileMatrixSetId}/tilejson.json",
            "/collections/land.parcels/tiles/WebMercatorQuad/tilejson.json".into(),
        ),
        route("/styles", "/styles".into()),
        route("/styles/{styleId}", "/styles/land".into()),
        route("/map", "/map".into()),
        route("/collections/land.parcels/lookup", "/collections/land.parcels/lookup".into()),
        route("/collections/catalogue/items", "/collections/catalogue/items".into()),
    ];
    // Parameters the document does not list are swept too: an unknown one must be named.
    for r in &mut routes {
        r.parameters.push("x-unknown".into());
        if r.label.ends_with("/timeseries") {
            r.base = vec![("parameter", "PM2.5")];
        } else if r.label.ends_with("/lookup") {
            r.base = vec![("sheet_number", "1")];
        }
    }
    routes.push(Route {
        label: "/wfs GetFeature".into(),
        path: "/wfs".into(),
        parameters: [
            "TYPENAMES",
            "COUNT",
            "STARTINDEX",
            "BBOX",
            "FILTER",
            "RESOURCEID",
            "SORTBY",
            "SRSNAME",
            "PROPERTYNAME",
            "OUTPUTFORMAT",
        ]
        .map(str::to_owned)
        .to_vec(),
        base: vec![("SERVICE", "WFS"), ("VERSION", "2.0.0"), ("REQUEST", "GetFeature"), ("TYPENAMES", "land.parcels")],
        wfs: true,
    });
    routes
}

/// Checks one answer of the sweep; `Err` says what is wrong.
fn judge(route: &Route, parameter: &str, value: &Hostile, answer: &Answer) -> Result<(), String> {
    if answer.elapsed > ANSWER_WITHIN {
        return Err(format!("took {:?}", answer.elapsed));
    }
    // WFS clients send empty values (`NAMESPACES=`): WFS takes them.
    let must_refuse = value.must_refuse && !(route.wfs && value.what == "empty");
    match answer.status {
        200..=299 | 303 | 304 if !must_refuse => return Ok(()),
        // `properties=` (no properties) is a legitimate empty value.
        200..=299 if value.what == "empty" && parameter == "properties" => return Ok(()),
        400..=499 => {}
        other => return Err(format!("status {other}")),
    }
    // The refusals of the HTTP layer itself (a URL past 64 KiB) have no body to name anything.
    if answer.status == 414 {
        return answer
            .body
            .contains("url:")
            .then_some(())
            .ok_or_else(|| format!("414 not naming url: {}", answer.body));
    }
    if answer.status != 400 {
        return Ok(());
    }
    if route.wfs {
        let lower = answer.body.to_ascii_lowercase();
        let named = lower.contains(&format!("locator=\"{}\"", parameter.to_ascii_lowercase()));
        return (lower.contains("exceptionreport") && named)
            .then_some(())
            .ok_or_else(|| format!("400 without an OWS exception naming {parameter}: {}", short(&answer.body)));
    }
    let body: Value =
        serde_json::from_str(&answer.body).map_err(|_| format!("400 not JSON: {}", short(&answer.body)))?;
    let description = body["description"].as_str().unwrap_or_default();
    if body["code"].as_str().is_none() || !description.starts_with(&format!("{parameter}:")) {
        return Err(format!("400 not naming {parameter}: {}", short(&answer.body)));
    }
    Ok(())
}

fn short(text: &str) -> String {
    text.chars().take(300).collect()
}

#[tokio::test]
async fn hostile_parameters_get_4xx_naming_them_in_bounded_time_and_memory() {
    let Some(db) = TestDb::migrated().await else { return };
    load_samples(&db);
    let server = Server::start(&db, &[]);
    let api = server.get("/api").json();
    let routes = routes(&server, &api);
    let values = hostile_values();
    let pid = server.pid();
    let mut failures = Vec::new();
    let mut peak = rss_mib(pid);
    let mut sent = 0usize;
    let started = Instant::now();
    for route in &routes {
        for parameter in &route.parameters {
            for value in &values {
                let base: String = route
                    .base
                    .iter()
                    .filter(|(name, _)| !name.eq_ignore_ascii_case(parameter))
                    .map(|(name, v)| format!("{name}={}&", encode(v)))
                    .collect();
                let target = format!("{}?{base}{}={}", route.path, encode(parameter), value.encoded);
                let answer = raw_get(&server.base, &target);
                sent += 1;
                if let Err(why) = judge(route, parameter, value, &answer) {
                    failures.push(format!("{} {parameter} = {}: {why}", route.label, value.what));
                }
            }
            peak = peak.max(rss_mib(pid));
        }
        // A hostile path segment: every path of the route with its last segment replaced.
        if let Some((head, _)) = route.path.rsplit_once('/') {
            for value in values.iter().filter(|v| v.what != "empty") {
                let answer = raw_get(&server.base, &format!("{head}/{}", value.encoded));
                sent += 1;
                if answer.elapsed > ANSWER_WITHIN || !(200..500).contains(&answer.status) {
                    failures.push(format!(
                        "{} path segment {}: status {} in {:?}",
                        route.label, value.what, answer.status, answer.elapsed
                    ));
                }
            }
        }
    }
    // Deep JSON nesting in a CQL2 JSON filter, and a filter of 10,000 '(' on a tile.
    for target in [
        format!(
            "/collections/land.parcels/items?filter-lang=cql2-json&filter={}1{}",
            "%5B".repeat(5000),
            "%5D".repeat(5000)
        ),
        format!(
            "/collections/land.parcels/items?filter-lang=cql2-json&filter={}",
            "%7B%22op%22%3A%22not%22%2C%22args%22%3A%5B".repeat(300)
        ),
        format!(
            "/collections/land.parcels/tiles/WebMercatorQuad/13/3605/6505?filter={}sheet_number",
            "%28".repeat(10_000)
        ),
    ] {
        let answer = raw_get(&server.base, &target);
        sent += 1;
        let route = Route {
            label: "nesting".into(),
            path: String::new(),
            parameters: Vec::new(),
            base: Vec::new(),
            wfs: false,
        };
        let nested = Hostile { what: "nesting", encoded: String::new(), must_refuse: true };
        if let Err(why) = judge(&route, "filter", &nested, &answer) {
            failures.push(format!("{}: {why}", short(&target)));
        }
    }
    // Past what the HTTP layer reads (64 KiB of URL, 1 MiB): refused there, the server lives on.
    for size in [64 * 1024, 1024 * 1024] {
        let answer = raw_get(&server.base, &format!("/collections/land.parcels/items?filter={}", "a".repeat(size)));
        sent += 1;
        if !(400..500).contains(&answer.status) || answer.elapsed > ANSWER_WITHIN {
            failures.push(format!("a {size}-byte query: status {} in {:?}", answer.status, answer.elapsed));
        }
    }
    peak = peak.max(rss_mib(pid));
    assert_eq!(server.get("/collections").status, 200, "the server still serves after the sweep");
    eprintln!(
        "hostile sweep: {sent} requests over {} routes in {:.1} s, peak RSS {peak} MiB",
        routes.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(failures.is_empty(), "{} of {sent} answers wrong:\n{}", failures.len(), failures.join("\n"));
    assert!(peak <= RSS_BOUND_MIB, "the server's RSS reached {peak} MiB (bound {RSS_BOUND_MIB} MiB)");
}

#[tokio::test]
async fn request_limits_are_configurable_and_refused_naming_the_parameter() {
    let Some(f) = crate::editing::fixture().await else { return };
    let config = std::env::temp_dir().join(format!("geosector-limits-{}.toml", std::process::id()));
    // From the file: the URL limit; from flags: the rest (flags win over the file).
    std::fs::write(&config, "max_url_bytes = 3000\nmax_parameter_chars = 50\n").unwrap();
    let policy = f.policy.to_str().unwrap();
    let server = Server::start(
        &f.db,
        &[
            "--config",
            config.to_str().unwrap(),
            "--access-file",
            policy,
            "--max-parameter-chars",
            "100",
            "--max-filter-bytes",
            "400",
            "--max-filter-depth",
            "5",
            "--max-filter-nodes",
            "12",
            "--max-vertices",
            "6",
            "--max-body-bytes",
            "2000",
            "--anonymous-bbox-deg2",
            "1",
        ],
    );
    let items = "/collections/land.parcels/items";
    let refused = |target: &str, status: u16, named: &str| {
        let answer = raw_get(&server.base, target);
        assert_eq!(answer.status, status, "{}: {}", short(target), answer.body);
        let body: Value = serde_json::from_str(&answer.body).unwrap_or_else(|_| panic!("{}", answer.body));
        let description = body["description"].as_str().unwrap();
        assert!(description.starts_with(&format!("{named}:")), "{}: {description}", short(target));
        description.to_owned()
    };
    // URL length (file), parameter length (flag over file), empty values.
    refused(&format!("{items}?address={}", "a".repeat(3000)), 414, "url");
    assert_eq!(raw_get(&server.base, &format!("{items}?address={}", "a".repeat(100))).status, 200);
    refused(&format!("{items}?address={}", "a".repeat(101)), 400, "address");
    refused(&format!("{items}?datetime="), 400, "datetime");
    // Filter length, depth, expressions, vertices of a geometry literal.
    let filter = |text: &str| format!("{items}?filter={}", encode(text));
    refused(&filter(&format!("address = '{}'", "a".repeat(400))), 400, "filter");
    let deep = refused(&filter(&format!("{}sheet_number = 1{}", "(".repeat(6), ")".repeat(6))), 400, "filter");
    assert!(deep.contains("deeper than 5"), "{deep}");
    let wide = (0..8).map(|i| format!("sheet_number = {i}")).collect::<Vec<_>>().join(" OR ");
    assert!(refused(&filter(&wide), 400, "filter").contains("more than 12"));
    let polygon = |n: usize| {
        let step = std::f64::consts::TAU / (n - 1) as f64;
        let mut points: Vec<String> = (0..n - 1)
            .map(|i| format!("{} {}", 105.8 + 0.01 * (step * i as f64).cos(), 21.1 + 0.01 * (step * i as f64).sin()))
            .collect();
        points.push(points[0].clone());
        format!("S_INTERSECTS(geom, POLYGON(({})))", points.join(","))
    };
    assert!(refused(&filter(&polygon(7)), 400, "filter").contains("vertices"));
    assert_eq!(raw_get(&server.base, &filter(&polygon(4))).status, 200);
    // The bbox area of an anonymous caller; an authenticated one is not bound by it.
    refused(&format!("{items}?bbox=100,10,110,20"), 400, "bbox");
    assert_eq!(raw_get(&server.base, &format!("{items}?bbox=105.8,21.1,106.3,21.6")).status, 200);
    let key = ("X-API-Key", f.editor.as_str());
    assert_eq!(server.get_with(&format!("{items}?bbox=100,10,110,20"), &[key]).status, 200);
    // A bbox in another CRS is measured once brought to CRS84.
    let projected =
        format!("{items}?bbox=0,0,2000000,2000000&bbox-crs={}", encode("http://www.opengis.net/def/crs/EPSG/0/3857"));
    refused(&projected, 400, "bbox");
    // Body size and vertices of an edit body (an editor's).
    let big = format!("{{\"type\":\"Feature\",\"properties\":{{\"address\":\"{}\"}}}}", "a".repeat(3000));
    let headers = [key, ("Content-Type", "application/geo+json")];
    let response = server.request("POST", items, &headers, Some(big.as_bytes()));
    assert_eq!(response.status, 413, "{}", response.text());
    assert!(response.json()["description"].as_str().unwrap().starts_with("body:"));
    let ring: Vec<String> = (0..8).map(|i| format!("[105.8{i},21.1]")).collect();
    let feature = format!(
        "{{\"type\":\"Feature\",\"geometry\":{{\"type\":\"Polygon\",\"coordinates\":[[{},[105.80,21.1]]]}},\"properties\":{{}}}}",
        ring.join(",")
    );
    let response = server.request("POST", items, &headers, Some(feature.as_bytes()));
    assert_eq!(response.status, 400, "{}", response.text());
    let description = response.json()["description"].as_str().unwrap().to_owned();
    assert!(description.starts_with("body:") && description.contains("vertices"), "{description}");
    // A WFS filter (Filter Encoding, POSTed) is held to the same filter limits.
    let equalities: String = (0..8)
        .map(|i| format!("<fes:PropertyIsEqualTo><fes:ValueReference>sheet_number</fes:ValueReference><fes:Literal>{i}</fes:Literal></fes:PropertyIsEqualTo>"))
        .collect();
    let get_feature = |filter: &str| {
        format!(
            r#"<wfs:GetFeature service="WFS" version="2.0.0" xmlns:wfs="http://www.opengis.net/wfs/2.0" xmlns:fes="http://www.opengis.net/fes/2.0"><wfs:Query typeNames="land.parcels"><fes:Filter>{filter}</fes:Filter></wfs:Query></wfs:GetFeature>"#
        )
    };
    let wide =
        server.request("POST", "/wfs", &[], Some(get_feature(&format!("<fes:Or>{equalities}</fes:Or>")).as_bytes()));
    let text = wide.text();
    assert_eq!(wide.status, 400, "{text}");
    assert!(text.contains("more than 12") && text.contains("locator=\"filter\""), "{text}");
    let narrow = get_feature(&equalities[..equalities.find("</fes:PropertyIsEqualTo>").unwrap() + 24]);
    let narrow = server.request("POST", "/wfs", &[], Some(narrow.as_bytes()));
    assert_eq!(narrow.status, 200, "{}", narrow.text());
    // The published document states the limits it enforces.
    let api = server.get("/api").json();
    let address = api["paths"][items]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "address")
        .cloned()
        .unwrap();
    assert_eq!(address["schema"]["maxLength"], 100);
    assert_eq!(address["schema"]["minLength"], 1);
    assert!(api["paths"][items]["get"]["responses"]["414"].is_object());
    let _ = std::fs::remove_file(&config);
}

#[tokio::test]
async fn schemathesis_finds_no_server_error_and_no_answer_outside_the_api() {
    let Some(python) = python() else { return };
    let Some(db) = TestDb::migrated().await else { return };
    load_samples(&db);
    // Limits small enough that no combination of values the document allows makes a URL longer
    // than the HTTP layer reads (64 KiB), which it refuses without an exception body.
    let server = Server::start(&db, &["--max-parameter-chars", "512", "--max-filter-bytes", "8192"]);
    // Bounded for CI; a longer run sets these (docs/testing.md).
    let examples = std::env::var("GEOSECTOR_SCHEMATHESIS_EXAMPLES").unwrap_or_else(|_| "4".into());
    let max_time = std::env::var("GEOSECTOR_SCHEMATHESIS_MAX_TIME").unwrap_or_else(|_| "200".into());
    let report = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let output = Command::new(python)
        .args(["-m", "schemathesis.cli", "--config-file"])
        .arg(repo().join("tests/clients/schemathesis.toml"))
        .args(["run", &format!("{}/api", server.base), "--max-examples", &examples])
        .args(["--max-time", &max_time, "--workers", "2", "--seed", "22", "--no-color"])
        .args(["--phases", "examples,coverage,fuzzing", "--generation-database", "none", "--request-timeout", "30"])
        .args(["--report", "ndjson", "--report-dir"])
        .arg(report.path())
        .current_dir(report.path()) // its crash cache (.schemathesis/) stays out of the repository
        .output()
        .expect("run schemathesis");
    let text = String::from_utf8_lossy(&output.stdout);
    let summary: String = text.lines().skip_while(|l| !l.contains("SUMMARY")).collect::<Vec<_>>().join("\n");
    eprintln!("schemathesis in {:.0} s:\n{summary}", started.elapsed().as_secs_f64());
    let tail: String = text.chars().rev().take(20_000).collect::<Vec<_>>().into_iter().rev().collect();
    assert!(summary.contains("Tested:"), "schemathesis tested nothing:\n{tail}");
    // A failure is a check that failed (a 5xx, an answer outside the document, ...). schemathesis
    // 4.32.5 also stops now and then on an error of its own while generating a case (a KeyError
    // or a SystemError in its coverage phase, nothing sent): reported, not counted as the
    // server's.
    assert!(!summary.contains("Failures:"), "schemathesis found failures:\n{tail}");
    if !output.status.success() {
        assert!(
            summary.contains("Runtime Error") && !summary.contains("Network Error"),
            "schemathesis ended with errors:\n{tail}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        eprintln!("schemathesis stopped on an error of its own, not the server's (see above)");
    }
}
