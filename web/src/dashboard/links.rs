//! The dashboard's links, as the page shows them under its title.

use super::model;
use super::vars::{self, Destination, Resolved};

/// A dashboard link as the page shows it.
pub(super) struct LinkView {
    pub(super) href: String,
    pub(super) text: String,
    pub(super) tooltip: String,
    pub(super) blank: bool,
}

/// The dashboard's links: URLs (variables filled in; only web and relative
/// addresses, so a link cannot run script) and the dashboards with all the
/// link's tags, with the variables and time range appended when asked.
pub(super) fn link_views(
    d: &model::Dashboard,
    all: &[(String, String, Vec<String>)],
    resolved: &[Resolved],
    extra: &[(String, String)],
    time: (&str, &str),
) -> Vec<LinkView> {
    let mut out = Vec::new();
    for l in &d.links {
        let mut pairs: Vec<(String, String)> = Vec::new();
        if l.include_vars {
            for r in resolved {
                pairs.extend(r.values.iter().map(|v| (format!("var-{}", r.name), v.clone())));
            }
        }
        if l.keep_time {
            pairs.push(("from".into(), time.0.into()));
            pairs.push(("to".into(), time.1.into()));
        }
        let with_params = |url: &str| {
            if pairs.is_empty() {
                return url.to_string();
            }
            let q = form_urlencoded::Serializer::new(String::new()).extend_pairs(&pairs).finish();
            format!("{url}{}{q}", if url.contains('?') { '&' } else { '?' })
        };
        let text = |t: &str| vars::interpolate(t, resolved, extra, Destination::Text);
        if l.dashboards {
            for (uid, title, _) in all.iter().filter(|o| o.0 != d.uid && l.tags.iter().all(|t| o.2.contains(t))) {
                let href = with_params(&format!("/d/{uid}"));
                out.push(LinkView { href, text: title.clone(), tooltip: text(&l.tooltip), blank: l.target_blank });
            }
            continue;
        }
        let url = text(&l.url);
        let lower = url.trim_start().to_ascii_lowercase();
        let safe = lower.starts_with("http://")
            || lower.starts_with("https://")
            || (lower.starts_with('/') && !lower.starts_with("//"))
            || lower.starts_with('?')
            || lower.starts_with('#');
        if !safe {
            continue;
        }
        let title = if l.title.is_empty() { url.clone() } else { text(&l.title) };
        out.push(LinkView {
            href: with_params(url.trim()),
            text: title,
            tooltip: text(&l.tooltip),
            blank: l.target_blank,
        });
    }
    out
}
