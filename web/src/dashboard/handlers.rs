//! The dashboards' HTTP handlers: the list, the import, one dashboard's
//! page (its URL read: time range, variables, opened rows, theme, refresh),
//! and one panel as an SVG or PNG image.

use super::annotations::annotation_marks;
use super::links::{link_views, LinkView};
use super::model;
use super::panel::{render_all, render_panel, scrape_ms, Frame, Job, PanelView};
use super::provision::{host_listed, HOST_UID};
use super::repeat;
use super::var_options::{resolve, VarView};
use crate::chart;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

struct ListEntry {
    uid: String,
    title: String,
    tags: String,
    panels: usize,
}

#[derive(Template)]
#[template(path = "dashboards.html")]
struct ListPage {
    entries: Vec<ListEntry>,
    errors: Vec<String>,
}

/// GET /dashboards
pub async fn list(State(st): State<AppState>) -> Response {
    let host = host_listed(&st);
    let d = st.dashboards.read().unwrap_or_else(|e| e.into_inner());
    let entries = d
        .list
        .iter()
        .filter(|d| d.uid != HOST_UID || host)
        .map(|d| ListEntry {
            uid: d.uid.clone(),
            title: d.title.clone(),
            tags: d.tags.join(", "),
            panels: d.panels.iter().map(|p| 1 + p.children.len()).sum(),
        })
        .collect();
    crate::html::render(&ListPage { entries, errors: d.errors.clone() })
}

/// POST /dashboards/import: Grafana dashboard JSON as the body (or as the
/// `json` field of a form). Kept in `<data dir>/dashboards/<uid>.json`, so
/// it is there after a restart; a dashboard with the same uid is replaced.
/// A form is answered with a redirect to the dashboard, JSON with JSON.
pub async fn import(State(st): State<AppState>, headers: axum::http::HeaderMap, body: axum::body::Bytes) -> Response {
    let form = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    let json: Vec<u8> = if form {
        form_urlencoded::parse(&body)
            .find(|(k, _)| k == "json")
            .map(|(_, v)| v.into_owned().into_bytes())
            .unwrap_or_default()
    } else {
        body.to_vec()
    };
    let fail = |code: StatusCode, msg: String| {
        if form {
            (
                code,
                axum::response::Html(format!(
                    "<p>Import failed: {}</p><p><a href=\"/dashboards\">Back</a></p>",
                    chart::xml_escape(&msg)
                )),
            )
                .into_response()
        } else {
            (code, axum::Json(serde_json::json!({"status": "error", "error": msg}))).into_response()
        }
    };
    let d = match model::parse(&json, "imported") {
        Ok(d) => d,
        Err(e) => return fail(StatusCode::BAD_REQUEST, e.to_string()),
    };
    if let Some(dir) = st.db.path().map(|p| p.join("dashboards")) {
        let written =
            std::fs::create_dir_all(&dir).and_then(|_| std::fs::write(dir.join(format!("{}.json", d.uid)), &json));
        if let Err(e) = written {
            return fail(StatusCode::INTERNAL_SERVER_ERROR, format!("keeping the dashboard failed: {e}"));
        }
    }
    let uid = d.uid.clone();
    {
        let mut all = st.dashboards.write().unwrap_or_else(|e| e.into_inner());
        match all.list.iter_mut().find(|x| x.uid == uid) {
            Some(x) => *x = d,
            None => all.list.push(d),
        }
    }
    let url = format!("/d/{uid}");
    if form {
        axum::response::Redirect::to(&url).into_response()
    } else {
        axum::Json(serde_json::json!({"status": "success", "uid": uid, "url": url})).into_response()
    }
}

/// A range's start as Grafana's time picker writes it (see `datemath`).
pub fn parse_time(s: &str, now: i64) -> Option<i64> {
    super::datemath::parse(s, now, false)
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    uid: String,
    links: Vec<LinkView>,
    /// Annotation queries that failed, named.
    notes: Vec<String>,
    title: String,
    from: String,
    to: String,
    /// Seconds between reloads of the page (0: off).
    refresh_secs: u64,
    refresh: String,
    refresh_options: Vec<(&'static str, &'static str)>,
    from_ms: i64,
    to_ms: i64,
    ranges: Vec<(&'static str, &'static str)>,
    /// Grafana's quick ranges: from, to, name.
    quick_ranges: &'static [(&'static str, &'static str, &'static str)],
    vars: Vec<VarView>,
    panels: Vec<PanelView>,
    view_panel: bool,
    /// The URL of this view without `open` (row headers add theirs).
    base_query: String,
    /// The URL of this view without the time range, `open` and `viewPanel`
    /// (time and panel links add theirs and keep the rest: variables, theme, refresh).
    keep_query: String,
    /// `light`, `dark`, or empty: the browser's preference.
    theme: String,
    /// What the form does not show but must keep: `viewPanel` and opened rows.
    hidden: Vec<(String, String)>,
    /// A crosshair follows the pointer across every time series (`graphTooltip` 1 or 2).
    crosshair: bool,
    /// And every time series shows its values at that time (`graphTooltip` 2).
    shared_tooltip: bool,
}

/// The panels to draw, in page order: each with the style it takes instead
/// of its own (alone for `viewPanel`, after its row's header when opened),
/// whether it is a row opened in the URL, and the variables a repeated copy sees.
fn jobs<'a>(placed: &'a [repeat::Placed], view_panel: Option<u64>, is_open: &dyn Fn(u64) -> bool) -> Vec<Job<'a>> {
    let mut jobs: Vec<Job> = Vec::new();
    let alone = || Some("grid-column: 1 / span 24; grid-row: span 20;".to_string());
    for placed in placed {
        let (p, own) = (placed.panel.as_ref(), placed.resolved.as_deref());
        if view_panel.is_some_and(|id| id != p.id && !p.children.iter().any(|c| c.id == id)) {
            continue;
        }
        // A collapsed row's panels are not queried (as Grafana) until it is opened.
        let opened = view_panel.is_none() && p.kind == "row" && p.collapsed && is_open(p.id);
        if view_panel.is_none() || view_panel == Some(p.id) {
            jobs.push((p, view_panel.and_then(|_| alone()), opened, own));
        }
        for c in p.children.iter().filter(|c| opened || view_panel == Some(c.id)) {
            let style = match view_panel {
                Some(_) => alone(),
                // Its own rows follow the row's header (their y is as if expanded).
                None => Some(format!(
                    "grid-column: {} / span {}; grid-row: span {};",
                    c.grid.x + 1,
                    c.grid.w.min(24 - c.grid.x),
                    c.grid.h
                )),
            };
            jobs.push((c, style, false, own));
        }
    }
    jobs
}

/// `GET /d/<uid>`
pub async fn show(State(st): State<AppState>, Path(uid): Path<String>, RawQuery(q): RawQuery) -> Response {
    let found = {
        let d = st.dashboards.read().unwrap_or_else(|e| e.into_inner());
        d.list.iter().find(|d| d.uid == uid).cloned()
    };
    let Some(d) = found else {
        return (StatusCode::NOT_FOUND, format!("no dashboard with uid {uid:?}")).into_response();
    };
    // Other dashboards (uid, title, tags), for links to dashboards by tag.
    let all_dashboards: Vec<(String, String, Vec<String>)> = if d.links.iter().any(|l| l.dashboards) {
        let list = st.dashboards.read().unwrap_or_else(|e| e.into_inner());
        list.list.iter().map(|x| (x.uid.clone(), x.title.clone(), x.tags.clone())).collect()
    } else {
        Vec::new()
    };
    let params: Vec<(String, String)> = q
        .as_deref()
        .map(|q| form_urlencoded::parse(q.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
        .unwrap_or_default();
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let now = storage::model::timestamp::now_ms();
    let from_s = get("from").unwrap_or_else(|| d.from.clone());
    let to_s = get("to").unwrap_or_else(|| d.to.clone());
    let to = super::datemath::parse(&to_s, now, true).unwrap_or(now);
    let from = parse_time(&from_s, now).filter(|f| *f < to).unwrap_or(to - 6 * 3_600_000);
    let view_panel: Option<u64> = get("viewPanel").and_then(|v| v.parse().ok());
    // Collapsed rows opened in the URL (`open=<row id>`, repeatable, or `open=all`).
    let open: Vec<String> = params.iter().filter(|(k, _)| k == "open").map(|(_, v)| v.clone()).collect();
    let is_open = move |id: u64| open.iter().any(|o| o == "all" || *o == id.to_string());
    // The page follows the browser's light or dark preference unless the URL names one
    // (`theme=light|dark`, as Grafana's); its charts follow the page.
    let theme = get("theme").filter(|t| t == "light" || t == "dark").unwrap_or_default();
    // Auto-refresh: `refresh=` in the URL (empty or `off`: none), else the dashboard's own.
    let refresh = get("refresh").unwrap_or_else(|| d.refresh.clone());
    let base_query: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter().filter(|(k, _)| k != "open"))
        .finish();
    let hidden: Vec<(String, String)> =
        params.iter().filter(|(k, _)| k == "open" || k == "viewPanel").cloned().collect();
    let keep_query: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter().filter(|(k, _)| !matches!(k.as_str(), "open" | "from" | "to" | "viewPanel")))
        .finish();
    // The panels' queries stop if the page's request goes away.
    let (st2, _cancel) = st.cancellable();
    let page = tokio::task::spawn_blocking(move || {
        let (resolved, var_views, extra) = resolve(&st2, &d.variables, &params, from, to);
        let frame = Frame::new(&resolved, &extra, (from, to), &d.uid, scrape_ms(&st2), now);
        let (marks, annotation_errors) = annotation_marks(&st2, &d, &frame);
        let frame = Frame { marks: &marks, query: &params, ..frame };
        let (mut placed, repeat_notes) = repeat::expand(&d.panels, &resolved);
        repeat::compact(&mut placed);
        let jobs = jobs(&placed, view_panel, &is_open);
        let panels = render_all(&st2, &jobs, &frame);
        DashboardPage {
            links: link_views(&d, &all_dashboards, &resolved, &extra, (&from_s, &to_s)),
            notes: annotation_errors.into_iter().chain(repeat_notes).collect(),
            uid: d.uid.clone(),
            title: d.title.clone(),
            from: from_s,
            to: to_s,
            refresh_secs: promql::duration::parse_duration(&refresh).map_or(0, |ms| (ms / 1000).max(5) as u64),
            refresh_options: vec![
                ("", "off"),
                ("5s", "5s"),
                ("10s", "10s"),
                ("30s", "30s"),
                ("1m", "1m"),
                ("5m", "5m"),
            ],
            refresh,
            from_ms: from,
            to_ms: to,
            quick_ranges: &super::datemath::QUICK_RANGES,
            ranges: vec![
                ("now-5m", "5m"),
                ("now-15m", "15m"),
                ("now-1h", "1h"),
                ("now-6h", "6h"),
                ("now-24h", "24h"),
                ("now-7d", "7d"),
            ],
            vars: var_views,
            panels,
            view_panel: view_panel.is_some(),
            base_query,
            keep_query,
            theme,
            hidden,
            crosshair: d.graph_tooltip > 0,
            shared_tooltip: d.graph_tooltip == 2,
        }
    })
    .await;
    match page {
        Ok(p) => crate::html::render(&p),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// GET /render/panel?uid=…&panelId=…&from=…&to=…&width=…&height=…&var-…:
/// one panel as an SVG image (`&format=png` for PNG), for chats and incident notes.
pub async fn render_image(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let params: Vec<(String, String)> = q
        .as_deref()
        .map(|q| form_urlencoded::parse(q.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
        .unwrap_or_default();
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let bad = |m: String| (StatusCode::BAD_REQUEST, m).into_response();
    let uid = get("uid").unwrap_or_default();
    let Some(id) = get("panelId").and_then(|p| p.parse::<u64>().ok()) else {
        return bad("panelId: a panel id is required".into());
    };
    let found = {
        let d = st.dashboards.read().unwrap_or_else(|e| e.into_inner());
        d.list.iter().find(|d| d.uid == uid).cloned()
    };
    let Some(d) = found else {
        return (StatusCode::NOT_FOUND, format!("no dashboard with uid {uid:?}")).into_response();
    };
    let Some(panel) = d.panels.iter().flat_map(|p| std::iter::once(p).chain(&p.children)).find(|p| p.id == id).cloned()
    else {
        return (StatusCode::NOT_FOUND, format!("no panel {id} in {uid:?}")).into_response();
    };
    let size = |k: &str, default: u32| get(k).and_then(|v| v.parse::<u32>().ok()).unwrap_or(default).clamp(100, 4000);
    let (w, h) = (size("width", 1000), size("height", 500));
    let now = storage::model::timestamp::now_ms();
    let to = super::datemath::parse(&get("to").unwrap_or_else(|| d.to.clone()), now, true).unwrap_or(now);
    let from = parse_time(&get("from").unwrap_or_else(|| d.from.clone()), now)
        .filter(|f| *f < to)
        .unwrap_or(to - 6 * 3_600_000);
    let theme = chart::Theme::image(get("theme").as_deref());
    let png = get("format").as_deref() == Some("png");
    let svg = tokio::task::spawn_blocking(move || {
        let (resolved, _, extra) = resolve(&st, &d.variables, &params, from, to);
        let frame =
            Frame { theme, image: Some((w, h)), ..Frame::new(&resolved, &extra, (from, to), &d.uid, scrape_ms(&st), now) };
        let frame = Frame { query: &params, ..frame };
        let (marks, _) = annotation_marks(&st, &d, &frame);
        let frame = Frame { marks: &marks, ..frame };
        let v = render_panel(&st, &panel, &frame);
        if !v.svg.is_empty() && v.stat.is_empty() {
            return v.svg;
        }
        // Text-like panels: their value or message as an image.
        let text = [&v.stat, &v.error, &v.placeholder, &v.text].into_iter().find(|t| !t.is_empty()).cloned().unwrap_or_default();
        let (fg, bg) = if theme == chart::Theme::Dark { ("#c7d0d9", "#181b1f") } else { ("#464c54", "#ffffff") };
        format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}"><rect width="100%" height="100%" fill="{bg}"/><text x="50%" y="50%" text-anchor="middle" dominant-baseline="middle" font-family="sans-serif" font-size="{}" fill="{fg}">{}</text></svg>"#,
            (h / 4).clamp(12, 96),
            chart::xml_escape(&text)
        )
    })
    .await;
    let svg = match svg {
        Ok(svg) => svg,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    if png {
        return match tokio::task::spawn_blocking(move || crate::png::svg_to_png(&svg)).await {
            Ok(Ok(bytes)) => ([(axum::http::header::CONTENT_TYPE, "image/png")], bytes).into_response(),
            Ok(Err(e)) => (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
            Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
        };
    }
    ([(axum::http::header::CONTENT_TYPE, "image/svg+xml")], svg).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grafana_relative_times() {
        let now = 10 * 86_400_000;
        assert_eq!(parse_time("now", now), Some(now));
        assert_eq!(parse_time("now-6h", now), Some(now - 6 * 3_600_000));
        assert_eq!(parse_time("now-1d/d", now), Some(now - 86_400_000 - now.rem_euclid(86_400_000)));
        assert_eq!(parse_time("1700000000000", now), Some(1_700_000_000_000));
        assert_eq!(parse_time("later", now), None);
    }
}
