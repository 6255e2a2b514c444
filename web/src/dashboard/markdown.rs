//! Text panels' markdown as safe HTML, through pulldown-cmark (CommonMark
//! with GitHub's tables and strikethrough, as Grafana's text panel renders
//! them). The text comes from a dashboard file, which is untrusted: raw HTML
//! in it stays text, and links and images keep only http(s), mailto, anchor
//! and relative addresses (no `javascript:` or `data:`).

use pulldown_cmark::{html, CowStr, Event, Options, Parser, Tag};

/// Renders markdown to HTML safe to put in a page.
pub fn to_html(md: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let events = Parser::new_ext(md, options).map(|event| match event {
        // Raw HTML is shown as what it is: text.
        Event::Html(h) | Event::InlineHtml(h) => Event::Text(h),
        Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
            Event::Start(Tag::Link { link_type, dest_url: safe_url(dest_url), title, id })
        }
        Event::Start(Tag::Image { link_type, dest_url, title, id }) => {
            Event::Start(Tag::Image { link_type, dest_url: safe_url(dest_url), title, id })
        }
        e => e,
    });
    let mut out = String::with_capacity(md.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

/// The address itself when its scheme is one a page may follow, else
/// nothing (the link stays, going nowhere).
fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    let scheme = url.split_once(':').map(|(s, _)| s).filter(|s| !s.contains(['/', '?', '#']));
    match scheme.map(str::to_ascii_lowercase).as_deref() {
        None | Some("http" | "https" | "mailto") => url,
        Some(_) => CowStr::Borrowed(""),
    }
}

#[cfg(test)]
mod tests {
    use super::to_html;

    #[test]
    fn headings_lists_emphasis_code_and_links() {
        let html = to_html(
            "# Title\nSome **bold** and *it* with `x<y`.\n\n- a\n- [docs](https://x.org/a?b=1)\n\n1. one\n2. two",
        );
        assert_eq!(
            html,
            "<h1>Title</h1>\n<p>Some <strong>bold</strong> and <em>it</em> with <code>x&lt;y</code>.</p>\n\
             <ul>\n<li>a</li>\n<li><a href=\"https://x.org/a?b=1\">docs</a></li>\n</ul>\n\
             <ol>\n<li>one</li>\n<li>two</li>\n</ol>\n"
        );
    }

    #[test]
    fn tables_and_strikethrough_as_grafana_renders_them() {
        let html = to_html("| a | b |\n|---|---|\n| 1 | ~~2~~ |\n");
        assert!(html.contains("<table>") && html.contains("<th>a</th>"), "{html}");
        assert!(html.contains("<td><del>2</del></td>"), "{html}");
    }

    #[test]
    fn raw_html_and_script_urls_stay_harmless() {
        let evil = to_html(
            "<script>alert(1)</script>\n\n[x](javascript:alert(1)) [y](JavaScript:alert(1)) \
             ![i](data:image/svg+xml,<svg>) <img src=x onerror=alert(1)>\n\n```\n<b>\n```",
        );
        for bad in ["<script", "<img src=x", "href=\"javascript", "href=\"JavaScript", "src=\"data:"] {
            assert!(!evil.contains(bad), "{bad} in {evil}");
        }
        assert!(evil.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{evil}");
        assert!(evil.contains("<pre><code>&lt;b&gt;\n</code></pre>"), "{evil}");
        let ok = to_html("[rel](/d/x?a=1) [anchor](#top) [mail](mailto:a@b.c) [path](a/b:c)");
        for good in ["href=\"/d/x?a=1\"", "href=\"#top\"", "href=\"mailto:a@b.c\"", "href=\"a/b:c\""] {
            assert!(ok.contains(good), "{good} not in {ok}");
        }
    }
}
