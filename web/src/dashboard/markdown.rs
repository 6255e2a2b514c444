//! Text panels' markdown as safe HTML: everything is escaped first, then a
//! small subset is turned into tags — headings, paragraphs, lists, code
//! blocks, `code`, **bold**, *italic* and links to http(s) or relative
//! URLs. Raw HTML in the text stays text.

use crate::chart::xml_escape as escape;

/// `**bold**`, `*italic*`, `` `code` `` and `[text](url)` in one escaped line.
fn inline(line: &str) -> String {
    let e = escape(line);
    let mut out = String::with_capacity(e.len());
    let mut rest = e.as_str();
    while let Some(i) = rest.find(['`', '*', '[']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let mut done = false;
        if let Some(body) = tail.strip_prefix('`') {
            if let Some(end) = body.find('`') {
                out.push_str(&format!("<code>{}</code>", &body[..end]));
                rest = &body[end + 1..];
                done = true;
            }
        } else if let Some(body) = tail.strip_prefix("**") {
            if let Some(end) = body.find("**").filter(|e| *e > 0) {
                out.push_str(&format!("<strong>{}</strong>", &body[..end]));
                rest = &body[end + 2..];
                done = true;
            }
        } else if let Some(body) = tail.strip_prefix('*') {
            if let Some(end) = body.find('*').filter(|e| *e > 0) {
                out.push_str(&format!("<em>{}</em>", &body[..end]));
                rest = &body[end + 1..];
                done = true;
            }
        } else if let Some(body) = tail.strip_prefix('[') {
            if let Some((text, after)) = body.split_once("](") {
                if let Some((url, after)) = after.split_once(')') {
                    let safe = url.starts_with("http://") || url.starts_with("https://") || url.starts_with('/');
                    if safe && !text.contains('[') {
                        out.push_str(&format!("<a href=\"{url}\">{text}</a>"));
                        rest = after;
                        done = true;
                    }
                }
            }
        }
        if !done {
            out.push_str(&tail[..1]);
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

/// Renders markdown to HTML safe to put in a page.
pub fn to_html(md: &str) -> String {
    let mut out = String::new();
    let mut para: Vec<String> = Vec::new();
    let mut list: Option<&str> = None;
    let mut code: Option<Vec<String>> = None;
    let flush_para = |out: &mut String, para: &mut Vec<String>| {
        if !para.is_empty() {
            out.push_str(&format!("<p>{}</p>", para.join(" ")));
            para.clear();
        }
    };
    let close_list = |out: &mut String, list: &mut Option<&str>| {
        if let Some(tag) = list.take() {
            out.push_str(&format!("</{tag}>"));
        }
    };
    for line in md.lines() {
        if let Some(block) = code.as_mut() {
            if line.trim_start().starts_with("```") {
                out.push_str(&format!("<pre><code>{}</code></pre>", escape(&block.join("\n"))));
                code = None;
            } else {
                block.push(line.to_string());
            }
            continue;
        }
        let t = line.trim();
        if t.starts_with("```") {
            flush_para(&mut out, &mut para);
            close_list(&mut out, &mut list);
            code = Some(Vec::new());
        } else if t.is_empty() {
            flush_para(&mut out, &mut para);
            close_list(&mut out, &mut list);
        } else if let Some(level) = (1..=6).rev().find(|n| t.starts_with(&format!("{} ", "#".repeat(*n)))) {
            flush_para(&mut out, &mut para);
            close_list(&mut out, &mut list);
            out.push_str(&format!("<h{level}>{}</h{level}>", inline(t[level + 1..].trim())));
        } else if let Some(item) = t.strip_prefix("- ").or_else(|| t.strip_prefix("* ")) {
            flush_para(&mut out, &mut para);
            if list != Some("ul") {
                close_list(&mut out, &mut list);
                out.push_str("<ul>");
                list = Some("ul");
            }
            out.push_str(&format!("<li>{}</li>", inline(item)));
        } else if let Some((n, item)) =
            t.split_once(". ").filter(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        {
            let _ = n;
            flush_para(&mut out, &mut para);
            if list != Some("ol") {
                close_list(&mut out, &mut list);
                out.push_str("<ol>");
                list = Some("ol");
            }
            out.push_str(&format!("<li>{}</li>", inline(item)));
        } else {
            close_list(&mut out, &mut list);
            para.push(inline(t));
        }
    }
    if let Some(block) = code {
        out.push_str(&format!("<pre><code>{}</code></pre>", escape(&block.join("\n"))));
    }
    flush_para(&mut out, &mut para);
    close_list(&mut out, &mut list);
    out
}

#[cfg(test)]
mod tests {
    use super::to_html;

    #[test]
    fn a_subset_of_markdown_and_nothing_unsafe() {
        assert_eq!(
            to_html(
                "# Title\nSome **bold** and *it* with `x<y`.\n\n- a\n- [docs](https://x.org/a?b=1)\n\n1. one\n2. two"
            ),
            "<h1>Title</h1><p>Some <strong>bold</strong> and <em>it</em> with <code>x&lt;y</code>.</p>\
             <ul><li>a</li><li><a href=\"https://x.org/a?b=1\">docs</a></li></ul><ol><li>one</li><li>two</li></ol>"
        );
        let evil = to_html("<script>alert(1)</script>\n[x](javascript:alert(1))\n```\n<b>\n```");
        assert!(!evil.contains("<script") && !evil.contains("href=\"javascript"), "{evil}");
        assert!(evil.contains("<pre><code>&lt;b&gt;</code></pre>"), "{evil}");
    }
}
