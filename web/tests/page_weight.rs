//! The 20-panel service dashboard of the benchmark, over an hour of data,
//! draws every panel and weighs under 1 MB (the page's weight depends on the
//! points drawn, not on how many series are stored: ten instances here).

#[path = "../benches/fixture/mod.rs"]
mod fixture;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_twenty_panel_dashboard_draws_everything_in_under_a_megabyte() {
    let router = web::router(fixture::state(fixture::store(10)));
    let (status, page) = fixture::get(router, &fixture::url()).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page.matches("<section class=\"panel").count(), 20);
    assert!(fixture::failing_panels(&page).is_empty(), "{:?}", fixture::failing_panels(&page));
    assert!(page.contains("class=\"line\""), "time series drawn");
    assert!(page.len() < 1_000_000, "{} bytes", page.len());
}

/// Node Exporter Full, its 125 panels open, over a day of one host: every
/// panel drawn or saying No data, and under 400 KB on the wire.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_125_panel_host_dashboard_over_a_day_weighs_under_400_kb_gzipped() {
    let router = web::router(fixture::state_with(fixture::host::host_store(), &[fixture::host::dashboard_json()]));
    let url = fixture::host::url();
    let (status, page) = fixture::get(router.clone(), &url).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page.matches("<section class=\"panel").count(), 125);
    assert!(!page.contains("panel-error"), "no panel fails");
    // The page's node_exporter lacks a few collectors (swap, hwmon, systemd): at most those say No data.
    assert!(page.matches("data-no-data").count() <= 20, "{}", page.matches("data-no-data").count());
    let (_, encoding, zipped) = fixture::get_encoded(router, &url, Some("gzip")).await;
    assert_eq!(encoding.as_deref(), Some("gzip"));
    assert!(zipped.len() < 400_000, "{} bytes gzipped", zipped.len());
}

/// Pages and API answers are gzipped when the client asks (as browsers and
/// Grafana do), and sent as they are when it does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_are_gzipped_when_the_client_accepts_gzip() {
    use std::io::Read;
    let router = web::router(fixture::state(fixture::store(10)));
    let page = fixture::url();
    let (_, plain_encoding, plain) = fixture::get_encoded(router.clone(), &page, None).await;
    assert_eq!(plain_encoding, None);
    for uri in [page.as_str(), "/api/v1/label/__name__/values"] {
        let (status, encoding, zipped) = fixture::get_encoded(router.clone(), uri, Some("gzip, deflate")).await;
        assert_eq!((status, encoding.as_deref()), (200, Some("gzip")), "{uri}");
        let mut body = String::new();
        flate2::read::GzDecoder::new(&zipped[..]).read_to_string(&mut body).unwrap();
        if uri == page {
            assert_eq!(body.matches("<section class=\"panel").count(), 20);
            assert!(zipped.len() * 4 < plain.len(), "{} gzipped of {} bytes", zipped.len(), plain.len());
        } else {
            assert!(body.starts_with("{\"status\":\"success\""), "{body}");
        }
    }
}

/// Brotli when the client prefers it (as browsers over HTTPS do), and the
/// stylesheet answered 304 when the client already has it (its ETag).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn brotli_for_clients_that_ask_and_the_stylesheet_revalidates() {
    use std::io::Read;
    use tower::ServiceExt;
    let router = web::router(fixture::state(fixture::store(1)));
    let (status, encoding, body) = fixture::get_encoded(router.clone(), "/api/v1/labels", Some("br")).await;
    assert_eq!((status, encoding.as_deref()), (200, Some("br")));
    let mut text = String::new();
    brotli::Decompressor::new(&body[..], 4096).read_to_string(&mut text).unwrap();
    assert!(text.starts_with("{\"status\":\"success\""), "{text}");

    let res = router
        .clone()
        .oneshot(axum::http::Request::get("/static/vigil.css").body(axum::body::Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let etag = res.headers().get("etag").expect("an ETag").to_str().unwrap().to_string();
    let again = axum::http::Request::get("/static/vigil.css")
        .header("if-none-match", &etag)
        .body(axum::body::Body::empty())
        .unwrap();
    let res = router.clone().oneshot(again).await.unwrap();
    assert_eq!(res.status(), 304);
    assert!(axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap().is_empty());
    let other = axum::http::Request::get("/static/vigil.css")
        .header("if-none-match", "\"0000\"")
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(router.oneshot(other).await.unwrap().status(), 200);
}
