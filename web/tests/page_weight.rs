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
