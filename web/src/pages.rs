//! Server-rendered pages (askama templates under `web/templates`). Every
//! value from a target is escaped by askama's HTML escaping.

use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use std::sync::atomic::Ordering;

fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("template error: {e}")).into_response(),
    }
}

struct JobSummary {
    job: String,
    up: usize,
    down: usize,
    unknown: usize,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    jobs: Vec<JobSummary>,
    up: usize,
    down: usize,
    unknown: usize,
    series: usize,
    samples: u64,
}

/// GET /
pub async fn home(State(st): State<AppState>) -> Response {
    let jobs: Vec<JobSummary> = st
        .scrapes
        .pools()
        .into_iter()
        .map(|p| JobSummary {
            up: p.targets.iter().filter(|t| t.health == "up").count(),
            down: p.targets.iter().filter(|t| t.health == "down").count(),
            unknown: p.targets.iter().filter(|t| t.health == "unknown").count(),
            job: p.job,
        })
        .collect();
    let page = HomePage {
        up: jobs.iter().map(|j| j.up).sum(),
        down: jobs.iter().map(|j| j.down).sum(),
        unknown: jobs.iter().map(|j| j.unknown).sum(),
        jobs,
        series: st.db.num_series(),
        samples: st.db.stats().samples_appended.load(Ordering::Relaxed),
    };
    render(&page)
}

struct TargetRow {
    url: String,
    health: &'static str,
    labels: Vec<(String, String)>,
    last_scrape: String,
    duration: String,
    samples: u64,
    error: String,
}

struct PoolSection {
    job: String,
    up: usize,
    dropped: usize,
    errors: Vec<String>,
    targets: Vec<TargetRow>,
}

#[derive(Template)]
#[template(path = "targets.html")]
struct TargetsPage {
    pools: Vec<PoolSection>,
}

fn ago(t: Option<std::time::SystemTime>) -> String {
    match t.and_then(|t| t.elapsed().ok()) {
        None => "never".into(),
        Some(d) if d.as_secs() < 1 => format!("{}ms ago", d.as_millis()),
        Some(d) => format!("{:.1}s ago", d.as_secs_f64()),
    }
}

/// GET /targets
pub async fn targets(State(st): State<AppState>) -> Response {
    let pools = st
        .scrapes
        .pools()
        .into_iter()
        .map(|p| PoolSection {
            up: p.targets.iter().filter(|t| t.health == "up").count(),
            dropped: p.dropped.len(),
            errors: p.errors,
            targets: p
                .targets
                .iter()
                .map(|t| TargetRow {
                    url: t.url.clone(),
                    health: t.health,
                    labels: t.labels.iter().map(|l| (l.name.to_string(), l.value.to_string())).collect(),
                    last_scrape: ago(t.last_scrape),
                    duration: format!("{:.3}s", t.last_duration.as_secs_f64()),
                    samples: t.last_samples,
                    error: t.last_error.clone(),
                })
                .collect(),
            job: p.job,
        })
        .collect();
    render(&TargetsPage { pools })
}

/// GET /static/vigil.css (embedded in the binary).
pub async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")],
        include_str!("../static/vigil.css"),
    )
        .into_response()
}
