//! What every page shares: an askama template answered as HTML, and a
//! series' name as the pages show it.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use storage::Labels;

/// A template rendered into an HTML response (a template error is a 500).
pub(crate) fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("template error: {e}")).into_response(),
    }
}

/// `name{a="1", b="2"}` as Prometheus's UI shows a series.
pub fn series_name(l: &Labels) -> String {
    let name = l.get("__name__").unwrap_or("");
    let rest: Vec<String> =
        l.iter().filter(|p| p.name != "__name__").map(|p| format!("{}={:?}", p.name, p.value)).collect();
    if rest.is_empty() {
        return if name.is_empty() { "{}".into() } else { name.into() };
    }
    format!("{name}{{{}}}", rest.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_named_as_prometheus_shows_them() {
        assert_eq!(series_name(&Labels::from_pairs([("__name__", "up"), ("job", "a\"b")])), "up{job=\"a\\\"b\"}");
        assert_eq!(series_name(&Labels::empty()), "{}");
    }
}
