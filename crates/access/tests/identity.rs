//! Bearer tokens from a real OIDC-shaped issuer: discovery document and JWKS served over HTTP by
//! [`TestIssuer`], tokens signed with its keys, keys rotated while a verifier runs.

use std::time::{Duration, Instant};

use geosector_access::identity::{Source, TokenError, TokenSettings, TokenVerifier};
use geosector_access::test_issuer::{Alg, TestIssuer};
use serde_json::{json, Value};

const AUDIENCE: &str = "geosector";

fn settings(issuer: &TestIssuer) -> TokenSettings {
    TokenSettings {
        issuer: issuer.url().to_owned(),
        audience: vec![AUDIENCE.to_owned(), "geosector-web".to_owned()],
        jwks_file: None,
        jwks_url: None,
        client_id: Some("geosector".to_owned()),
        roles_claim: None,
        area_claim: Some("province_codes".to_owned()),
        leeway_seconds: 30,
        jwks_refresh_seconds: 300,
    }
}

/// A verifier using discovery, reloading at once on an unknown `kid` (no rate limit).
fn verifier(issuer: &TestIssuer) -> TokenVerifier {
    TokenVerifier::new(settings(issuer)).expect("valid settings").with_min_refetch_interval(Duration::ZERO)
}

/// Keycloak-shaped claims with realm and client roles and province codes.
fn claims(issuer: &TestIssuer) -> Value {
    let mut claims = issuer.claims("5b7c0e9a-user", AUDIENCE);
    claims["preferred_username"] = json!("nguyen.lan");
    claims["realm_access"] = json!({"roles": ["viewer", "offline_access"]});
    claims["resource_access"] = json!({
        "geosector": {"roles": ["land-editor", "viewer"]},
        "account": {"roles": ["manage-account"]},
    });
    claims["province_codes"] = json!(["79", "01"]);
    claims
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn now() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock after 1970");
    i64::try_from(since.as_secs()).expect("seconds fit i64")
}

#[tokio::test]
async fn good_rs256_and_es256_tokens_are_accepted() {
    let issuer = TestIssuer::start();
    let verifier = verifier(&issuer);
    for alg in [Alg::Rs256, Alg::Es256] {
        let token = issuer.sign(&claims(&issuer), alg);
        let identity = verifier.verify(&token).await.unwrap_or_else(|e| panic!("{alg:?} refused: {e}"));
        assert_eq!(identity.subject, "5b7c0e9a-user");
        assert_eq!(identity.username.as_deref(), Some("nguyen.lan"));
        assert_eq!(
            identity.roles,
            ["land-editor", "offline_access", "viewer"],
            "realm and client roles, not account's"
        );
        assert_eq!(identity.areas, ["01", "79"]);
        assert_eq!(identity.source, Source::Token);
        // Repeated: served from the cache, same identity.
        assert_eq!(verifier.verify(&token).await.expect("accepted again"), identity);
    }
    assert_eq!(issuer.discovery_requests(), 1);
    assert_eq!(issuer.jwks_requests(), 1, "keys fetched once for both tokens");
}

#[tokio::test]
async fn roles_claim_and_dotted_area_claim_are_read() {
    let issuer = TestIssuer::start();
    let mut settings = settings(&issuer);
    settings.roles_claim = Some("groups".to_owned());
    settings.area_claim = Some("attributes.province".to_owned());
    settings.client_id = None;
    let verifier = TokenVerifier::new(settings).expect("valid settings");
    let mut claims = claims(&issuer);
    claims["groups"] = json!(["surveyors"]);
    claims["attributes"] = json!({"province": "48 49,51"});
    claims["aud"] = json!(["account", "geosector-web"]);
    let identity = verifier.verify(&issuer.sign(&claims, Alg::Es256)).await.expect("accepted");
    assert_eq!(identity.roles, ["offline_access", "surveyors", "viewer"], "no client roles without client_id");
    assert_eq!(identity.areas, ["48", "49", "51"]);
}

#[tokio::test]
async fn expired_and_not_yet_valid_tokens_are_refused() {
    let issuer = TestIssuer::start();
    let verifier = verifier(&issuer);
    let expired = with(claims(&issuer), "exp", json!(now() - 31));
    let err = verifier.verify(&issuer.sign(&expired, Alg::Rs256)).await.expect_err("expired");
    assert!(matches!(err, TokenError::Expired), "{err:?}");
    let within_leeway = with(claims(&issuer), "exp", json!(now() - 10));
    assert!(verifier.verify(&issuer.sign(&within_leeway, Alg::Rs256)).await.is_ok(), "10 s past exp is within leeway");
    let future = with(claims(&issuer), "nbf", json!(now() + 120));
    let err = verifier.verify(&issuer.sign(&future, Alg::Es256)).await.expect_err("not yet valid");
    assert!(matches!(err, TokenError::NotYetValid), "{err:?}");
    let mut no_exp = claims(&issuer);
    no_exp.as_object_mut().expect("object").remove("exp");
    let err = verifier.verify(&issuer.sign(&no_exp, Alg::Rs256)).await.expect_err("exp is required");
    assert!(matches!(err, TokenError::MissingClaim("exp")), "{err:?}");
}

#[tokio::test]
async fn wrong_audience_and_wrong_issuer_are_refused() {
    let issuer = TestIssuer::start();
    let verifier = verifier(&issuer);
    let audience = with(claims(&issuer), "aud", json!(["account", "other-app"]));
    let err = verifier.verify(&issuer.sign(&audience, Alg::Rs256)).await.expect_err("wrong audience");
    assert!(matches!(err, TokenError::WrongAudience), "{err:?}");
    let wrong_iss = with(claims(&issuer), "iss", json!(format!("{}-other", issuer.url())));
    let err = verifier.verify(&issuer.sign(&wrong_iss, Alg::Es256)).await.expect_err("wrong issuer");
    assert!(matches!(err, TokenError::WrongIssuer), "{err:?}");
    // Tokens of another issuer, even with the same claims and kid names, do not verify here.
    let other = TestIssuer::start();
    let foreign = other.sign(&claims(&issuer), Alg::Rs256);
    let err = verifier.verify(&foreign).await.expect_err("another issuer's key");
    assert!(matches!(err, TokenError::BadSignature), "{err:?}");
}

#[tokio::test]
async fn alg_none_and_hs256_with_the_public_key_are_refused() {
    let issuer = TestIssuer::start();
    let verifier = verifier(&issuer);
    let err = verifier.verify(&TestIssuer::unsigned(&claims(&issuer))).await.expect_err("alg none");
    assert!(matches!(err, TokenError::UnsupportedAlgorithm), "{err:?}");
    let err = verifier.verify(&issuer.hs256_with_public_key(&claims(&issuer))).await.expect_err("HS256");
    assert!(matches!(err, TokenError::UnsupportedAlgorithm), "{err:?}");
    for alg in ["RS384", "PS256", "ES384", "EdDSA", "rs256", ""] {
        let token = issuer.sign_with_header(&json!({"alg": alg, "kid": "rsa-1"}), &claims(&issuer), Alg::Rs256);
        let err = verifier.verify(&token).await.expect_err(alg);
        assert!(matches!(err, TokenError::UnsupportedAlgorithm), "{alg}: {err:?}");
    }
    // An RSA signature presented as ES256 under the RSA key's kid: no EC key has that kid.
    let token = issuer.sign_with_header(&json!({"alg": "ES256", "kid": "rsa-1"}), &claims(&issuer), Alg::Rs256);
    let err = verifier.verify(&token).await.expect_err("alg/key mismatch");
    assert!(matches!(err, TokenError::UnknownKey), "{err:?}");
}

#[tokio::test]
async fn tampered_tokens_are_refused() {
    let issuer = TestIssuer::start();
    let verifier = verifier(&issuer);
    for alg in [Alg::Rs256, Alg::Es256] {
        let token = issuer.sign(&claims(&issuer), alg);
        let admin = with(claims(&issuer), "realm_access", json!({"roles": ["admin"]}));
        let err = verifier.verify(&TestIssuer::tampered(&token, &admin)).await.expect_err("tampered claims");
        assert!(matches!(err, TokenError::BadSignature), "{alg:?}: {err:?}");
        // One signature bit flipped.
        let (input, signature) = token.rsplit_once('.').expect("three parts");
        let mut bytes = signature.as_bytes().to_vec();
        bytes[10] = if bytes[10] == b'A' { b'B' } else { b'A' };
        let flipped = format!("{input}.{}", String::from_utf8(bytes).expect("ascii"));
        let err = verifier.verify(&flipped).await.expect_err("tampered signature");
        assert!(matches!(err, TokenError::BadSignature), "{alg:?}: {err:?}");
        // The genuine token still verifies.
        assert!(verifier.verify(&token).await.is_ok());
    }
}

#[tokio::test]
async fn unknown_kid_is_refused_and_a_missing_kid_uses_the_only_key() {
    let issuer = TestIssuer::start();
    let verifier = verifier(&issuer);
    let token = issuer.sign_with_header(&json!({"alg": "RS256", "kid": "nope"}), &claims(&issuer), Alg::Rs256);
    let err = verifier.verify(&token).await.expect_err("unknown kid");
    assert!(matches!(err, TokenError::UnknownKey), "{err:?}");
    // Without a kid: the issuer publishes one RSA signing key (and one encryption key, ignored).
    let token = issuer.sign_with_header(&json!({"alg": "RS256"}), &claims(&issuer), Alg::Rs256);
    assert!(verifier.verify(&token).await.is_ok(), "the only RS256 key is used");
    let token = issuer.sign_with_header(&json!({"alg": "ES256"}), &claims(&issuer), Alg::Es256);
    assert!(verifier.verify(&token).await.is_ok(), "the only ES256 key is used");
    // With two RSA keys published, a token without kid is ambiguous.
    issuer.rotate(true);
    let token = issuer.sign_with_header(&json!({"alg": "RS256"}), &claims(&issuer), Alg::Rs256);
    let unknown = issuer.sign_with_header(&json!({"alg": "RS256", "kid": "nope-2"}), &claims(&issuer), Alg::Rs256);
    assert!(matches!(verifier.verify(&unknown).await, Err(TokenError::UnknownKey)), "reloads the set");
    let err = verifier.verify(&token).await.expect_err("ambiguous");
    assert!(matches!(err, TokenError::UnknownKey), "{err:?}");
}

#[tokio::test]
async fn garbage_is_refused_as_malformed() {
    let issuer = TestIssuer::start();
    let verifier = verifier(&issuer);
    let good = issuer.sign(&claims(&issuer), Alg::Rs256);
    let (header, rest) = good.split_once('.').expect("three parts");
    let huge = "a".repeat(1_000_000);
    let huge_token = format!("{header}.{huge}.{huge}");
    let cases = [
        String::new(),
        "no-dots-here".to_owned(),
        "a.b".to_owned(),
        "a.b.c.d".to_owned(),
        "..".to_owned(),
        format!(".{rest}"),
        format!("{header}..sig"),
        format!("!!!.{rest}"),
        format!("{header}.***.c2ln"),
        format!("{header}.{}.%%%", rest.split_once('.').expect("payload.signature").0),
        format!("bm90IGpzb24.{rest}"),
        format!("WzEsMl0.{rest}"),
        format!("e30.{rest}"),
        format!("eyJhbGciOjF9.{rest}"),
        format!("{header}.bm90IGpzb24.{}", rest.split_once('.').expect("payload.signature").1),
        "é.é.é".to_owned(),
        huge.clone(),
        huge_token,
    ];
    for case in &cases {
        let shown: String = case.chars().take(60).collect();
        match verifier.verify(case).await {
            Err(TokenError::Malformed(_) | TokenError::BadSignature) => {}
            other => panic!("{shown:?}: {other:?}"),
        }
    }
    // Valid JSON claims that are not an object, correctly signed.
    let token = issuer.sign(&json!(["not", "an", "object"]), Alg::Es256);
    assert!(matches!(verifier.verify(&token).await, Err(TokenError::Malformed(_))));
    // A critical header extension nobody understands.
    let token = issuer.sign_with_header(
        &json!({"alg": "RS256", "kid": "rsa-1", "crit": ["b64"], "b64": false}),
        &claims(&issuer),
        Alg::Rs256,
    );
    assert!(matches!(verifier.verify(&token).await, Err(TokenError::Malformed(_))));
}

#[tokio::test]
async fn keys_rotate_without_restarting_the_verifier() {
    let issuer = TestIssuer::start();
    let verifier = verifier(&issuer);
    let before = issuer.sign(&claims(&issuer), Alg::Rs256);
    assert!(verifier.verify(&before).await.is_ok());
    // Signed with the old keys but never presented before the rotation.
    let old_rs = issuer.sign(&with(claims(&issuer), "sub", json!("old-rs")), Alg::Rs256);
    let old_es = issuer.sign(&with(claims(&issuer), "sub", json!("old-es")), Alg::Es256);

    issuer.rotate(false);
    for alg in [Alg::Rs256, Alg::Es256] {
        let token = issuer.sign(&claims(&issuer), alg);
        let identity = verifier.verify(&token).await.unwrap_or_else(|e| panic!("new {alg:?} key refused: {e}"));
        assert_eq!(identity.subject, "5b7c0e9a-user");
    }
    for token in [&old_rs, &old_es, &before] {
        let err = verifier.verify(token).await.expect_err("old key withdrawn");
        assert!(matches!(err, TokenError::UnknownKey), "{err:?}");
    }
    assert_eq!(issuer.discovery_requests(), 1, "jwks_uri is remembered");

    // A graceful rotation: old and new keys both published.
    let previous = issuer.sign(&with(claims(&issuer), "sub", json!("previous")), Alg::Es256);
    issuer.rotate(true);
    let next = issuer.sign(&with(claims(&issuer), "sub", json!("next")), Alg::Es256);
    assert_eq!(verifier.verify(&next).await.expect("new key").subject, "next");
    assert_eq!(verifier.verify(&previous).await.expect("old key still published").subject, "previous");
}

#[tokio::test]
async fn reloads_for_unknown_keys_are_rate_limited() {
    let issuer = TestIssuer::start();
    let verifier = TokenVerifier::new(settings(&issuer)).expect("valid settings"); // 10 s limit
    assert_eq!(verifier.load_keys().await.expect("keys"), 2);
    assert_eq!(issuer.jwks_requests(), 1);
    issuer.rotate(false);
    let first = issuer.sign(&claims(&issuer), Alg::Rs256);
    assert!(verifier.verify(&first).await.is_ok(), "the first unknown kid reloads");
    assert_eq!(issuer.jwks_requests(), 2);
    for n in 0..5 {
        let token = issuer.sign_with_header(
            &json!({"alg": "RS256", "kid": format!("forged-{n}")}),
            &claims(&issuer),
            Alg::Rs256,
        );
        assert!(matches!(verifier.verify(&token).await, Err(TokenError::UnknownKey)));
    }
    assert_eq!(issuer.jwks_requests(), 2, "unknown kids within 10 s do not reach the issuer");
}

#[tokio::test]
async fn jwks_file_is_reread_when_rewritten() {
    let issuer = TestIssuer::start();
    let dir = std::env::temp_dir().join(format!("geosector-jwks-{}-{}", std::process::id(), now()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("jwks.json");
    std::fs::write(&path, issuer.jwks_json()).expect("write JWKS");
    let mut settings = settings(&issuer);
    settings.jwks_file = Some(path.clone());
    let verifier = TokenVerifier::new(settings).expect("valid settings").with_min_refetch_interval(Duration::ZERO);
    let old = issuer.sign(&claims(&issuer), Alg::Es256);
    assert!(verifier.verify(&old).await.is_ok());
    let old_unseen = issuer.sign(&with(claims(&issuer), "sub", json!("unseen")), Alg::Rs256);

    issuer.rotate(false);
    let new = issuer.sign(&claims(&issuer), Alg::Rs256);
    std::fs::write(&path, issuer.jwks_json()).expect("rewrite JWKS");
    assert!(verifier.verify(&new).await.is_ok(), "the rewritten file is read");
    let err = verifier.verify(&old).await.expect_err("old key gone, cached result dropped");
    assert!(matches!(err, TokenError::UnknownKey), "{err:?}");
    assert!(matches!(verifier.verify(&old_unseen).await, Err(TokenError::UnknownKey)));
    assert_eq!(issuer.jwks_requests(), 0, "no HTTP with a file");

    // A broken file keeps the last good keys.
    std::fs::write(&path, "{ not json").expect("break JWKS");
    let again = issuer.sign(&with(claims(&issuer), "sub", json!("again")), Alg::Es256);
    assert_eq!(verifier.verify(&again).await.expect("last good keys kept").subject, "again");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn an_unreachable_issuer_keeps_the_last_good_keys() {
    let issuer = TestIssuer::start();
    let verifier = verifier(&issuer);
    assert!(verifier.verify(&issuer.sign(&claims(&issuer), Alg::Rs256)).await.is_ok());
    issuer.set_available(false);
    let unknown = issuer.sign_with_header(&json!({"alg": "RS256", "kid": "later"}), &claims(&issuer), Alg::Rs256);
    assert!(matches!(verifier.verify(&unknown).await, Err(TokenError::UnknownKey)), "reload fails");
    let fresh = issuer.sign(&with(claims(&issuer), "sub", json!("fresh")), Alg::Es256);
    assert_eq!(verifier.verify(&fresh).await.expect("old keys still in use").subject, "fresh");

    // A verifier that never had keys reports them unavailable, without internals in the text.
    let cold = TokenVerifier::new(settings(&issuer)).expect("valid settings");
    let err = cold.verify(&fresh).await.expect_err("no keys");
    assert!(matches!(&err, TokenError::KeysUnavailable(reason) if reason.contains("503")), "{err:?}");
    assert_eq!(err.to_string(), "signing keys unavailable");
}

#[tokio::test]
async fn a_jwks_url_is_used_without_discovery_and_a_closed_port_is_reported() {
    let issuer = TestIssuer::start();
    let mut direct = settings(&issuer);
    direct.jwks_url = Some(issuer.jwks_url());
    let verifier = TokenVerifier::new(direct).expect("valid settings");
    assert!(verifier.verify(&issuer.sign(&claims(&issuer), Alg::Rs256)).await.is_ok());
    assert_eq!(issuer.discovery_requests(), 0);

    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address");
    let mut nowhere = settings(&issuer);
    nowhere.jwks_url = Some(format!("http://{closed}/certs"));
    let verifier = TokenVerifier::new(nowhere).expect("valid settings");
    let err = verifier.verify(&issuer.sign(&claims(&issuer), Alg::Rs256)).await.expect_err("no keys");
    assert!(matches!(err, TokenError::KeysUnavailable(_)), "{err:?}");
}

#[tokio::test]
async fn verify_cost_cached_and_uncached() {
    let issuer = TestIssuer::start();
    let verifier = verifier(&issuer);
    let tokens: Vec<(Alg, String)> = (0..40)
        .map(|n| {
            let alg = if n % 2 == 0 { Alg::Rs256 } else { Alg::Es256 };
            (alg, issuer.sign(&with(claims(&issuer), "jti", json!(n)), alg))
        })
        .collect();
    verifier.load_keys().await.expect("keys");
    let mut uncached = [Duration::ZERO; 2];
    for (alg, token) in &tokens {
        let start = Instant::now();
        verifier.verify(token).await.expect("accepted");
        uncached[usize::from(*alg == Alg::Es256)] += start.elapsed();
    }
    let rounds = 1000u32;
    let start = Instant::now();
    for _ in 0..rounds {
        verifier.verify(&tokens[0].1).await.expect("accepted");
    }
    let cached = start.elapsed() / rounds;
    let (rs, es) = (uncached[0] / 20, uncached[1] / 20);
    eprintln!("verify: uncached RS256 {rs:?}, uncached ES256 {es:?}, cached {cached:?}");
    assert!(cached * 5 < rs.min(es), "the cache saves the signature check");
}

#[tokio::test]
async fn keys_are_refetched_after_the_refresh_interval() {
    let issuer = TestIssuer::start();
    let mut settings = settings(&issuer);
    settings.jwks_refresh_seconds = 1;
    let verifier = TokenVerifier::new(settings).expect("valid settings");
    assert!(verifier.verify(&issuer.sign(&claims(&issuer), Alg::Rs256)).await.is_ok());
    let fresh = issuer.sign(&with(claims(&issuer), "sub", json!("fresh")), Alg::Rs256);
    assert!(verifier.verify(&fresh).await.is_ok());
    assert_eq!(issuer.jwks_requests(), 1, "within the interval, no fetch");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let later = issuer.sign(&with(claims(&issuer), "sub", json!("later")), Alg::Rs256);
    assert!(verifier.verify(&later).await.is_ok());
    assert_eq!(issuer.jwks_requests(), 2, "fetched again after the interval");
}

#[test]
fn the_verifier_can_be_shared_between_threads_and_tasks() {
    fn shared<T: Send + Sync>(_: &T) {}
    fn spawnable<F: std::future::Future + Send>(_: &F) {}
    let issuer = TestIssuer::start();
    let verifier = std::sync::Arc::new(verifier(&issuer));
    shared(&verifier);
    let verify = verifier.verify("a.b.c");
    spawnable(&verify);
}
