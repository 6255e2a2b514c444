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
        let (status, encoding, zipped) = fixture::get_encoded(router.clone(), uri, Some("gzip, deflate, br")).await;
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
