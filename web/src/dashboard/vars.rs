//! Template variables interpolated as Grafana interpolates them: `$v`,
//! `${v}`, `${v:format}`, `[[v]]`, `[[v:format]]`, the built-ins
//! (`$__interval`, `$__rate_interval`, `$__range`, …), and Prometheus's
//! escaping of multi-value and All selections.

/// A variable with its selection, ready to be interpolated.
#[derive(Clone, Debug, Default)]
pub struct Resolved {
    /// The variable's name.
    pub name: String,
    /// The selected values (all options when All is selected without `allValue`).
    pub values: Vec<String>,
    /// `multi` or `includeAll`: values are regex-escaped for `=~`.
    pub regex_escaped: bool,
    /// All is selected and the variable has an `allValue`: inserted verbatim.
    pub all_value: Option<String>,
}

/// Where the interpolated text goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Destination {
    /// A PromQL expression: Prometheus's escaping by default.
    Query,
    /// A title, legend or text: values joined as Grafana displays them.
    Text,
}

/// Grafana's `prometheusRegularEscape`: `\` doubled, `'` escaped.
fn regular_escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\'', "\\\\'")
}

/// Grafana's `prometheusSpecialRegexEscape`: regex metacharacters escaped
/// with a backslash that is itself escaped inside a PromQL string.
fn special_regex_escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 8);
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\\\\\"),
            '$' | '^' | '*' | '{' | '}' | '[' | ']' | '\'' | '+' | '?' | '.' | '(' | ')' | '|' => {
                out.push_str("\\\\");
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A plain regex escape (the `regex` format).
fn regex_escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 8);
    for c in v.chars() {
        if "\\^$*+?.()|[]{}/".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn percent_encode(v: &str) -> String {
    form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>().replace('+', "%20")
}

fn format_values(r: &Resolved, format: Option<&str>, dest: Destination) -> String {
    let vals = &r.values;
    let join = |f: &dyn Fn(&str) -> String, sep: &str| vals.iter().map(|v| f(v)).collect::<Vec<_>>().join(sep);
    if let (Some(all), None | Some("raw") | Some("regex") | Some("pipe")) = (&r.all_value, format) {
        return all.clone();
    }
    match format {
        Some("raw") => join(&|v| v.to_string(), ","),
        Some("regex") => {
            let j = join(&regex_escape, "|");
            if vals.len() > 1 {
                format!("({j})")
            } else {
                j
            }
        }
        Some("pipe") => join(&|v| v.to_string(), "|"),
        Some("csv") => join(&|v| v.to_string(), ","),
        Some("json") => serde_json::to_string(vals).unwrap_or_default(),
        Some("doublequote") => join(&|v| format!("\"{}\"", v.replace('"', "\\\"")), ","),
        Some("singlequote") => join(&|v| format!("'{}'", v.replace('\'', "\\'")), ","),
        Some("glob") if vals.len() > 1 => format!("{{{}}}", join(&|v| v.to_string(), ",")),
        Some("glob") => join(&|v| v.to_string(), ","),
        Some("text") => join(&|v| v.to_string(), " + "),
        Some("queryparam") => join(&|v| format!("var-{}={}", r.name, percent_encode(v)), "&"),
        Some("percentencode") => join(&percent_encode, ","),
        _ if dest == Destination::Text => join(&|v| v.to_string(), " + "),
        _ if !r.regex_escaped => join(&regular_escape, ","),
        _ => {
            let j = join(&special_regex_escape, "|");
            if vals.len() > 1 {
                format!("({j})")
            } else {
                j
            }
        }
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Replaces every variable reference in `s`. `builtins` are plain values
/// (`__interval`, …); unknown names are left as written.
pub fn interpolate(s: &str, vars: &[Resolved], builtins: &[(String, String)], dest: Destination) -> String {
    let lookup = |name: &str, format: Option<&str>| -> Option<String> {
        if let Some((_, v)) = builtins.iter().find(|(n, _)| *n == name) {
            return Some(v.clone());
        }
        vars.iter().find(|v| v.name == name).map(|r| format_values(r, format, dest))
    };
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(['$', '[']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        // ${name}, ${name:format}, [[name]] and [[name:format]]
        let braced = [("${", "}"), ("[[", "]]")].into_iter().find_map(|(open, close)| {
            let inner = tail.strip_prefix(open)?;
            let end = inner.find(close)?;
            let body = &inner[..end];
            let (name, format) = match body.split_once(':') {
                Some((n, f)) => (n, Some(f)),
                None => (body, None),
            };
            Some((lookup(name, format)?, &inner[end + close.len()..]))
        });
        if let Some((v, after)) = braced {
            out.push_str(&v);
            rest = after;
            continue;
        }
        if let Some(inner) = tail.strip_prefix('$') {
            let len = inner.find(|c: char| !is_name_char(c)).unwrap_or(inner.len());
            if len > 0 {
                if let Some(v) = lookup(&inner[..len], None) {
                    out.push_str(&v);
                    rest = &inner[len..];
                    continue;
                }
            }
        }
        // Not a reference: keep the character and go on after it.
        let c = tail.chars().next().map_or(1, char::len_utf8);
        out.push_str(&tail[..c]);
        rest = &tail[c..];
    }
    out.push_str(rest);
    out
}

/// Grafana's step ladder for `$__interval`.
const LADDER_MS: [i64; 24] = [
    1, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 20_000, 30_000, 60_000, 120_000, 300_000,
    600_000, 900_000, 1_200_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000,
];

/// `$__interval` for a range and a number of points, rounded to a nice
/// step, at least `min_ms`.
pub fn interval_ms(range_ms: i64, max_points: i64, min_ms: i64) -> i64 {
    let raw = range_ms / max_points.max(1);
    let nice = LADDER_MS.iter().copied().find(|s| *s >= raw).unwrap_or_else(|| {
        const LONG: [i64; 5] = [21_600_000, 43_200_000, 86_400_000, 604_800_000, 2_592_000_000];
        LONG.iter().copied().find(|s| *s >= raw).unwrap_or(raw)
    });
    nice.max(min_ms).max(1)
}

/// The built-ins for one panel: interval, rate interval, range and its ends.
pub fn builtins(from: i64, to: i64, step_ms: i64, scrape_ms: i64, dashboard: &str) -> Vec<(String, String)> {
    let range_ms = (to - from).max(0);
    let dur = |ms: i64| promql::duration::format_duration(ms);
    let rate = (step_ms + scrape_ms).max(4 * scrape_ms);
    [
        ("__interval_ms", step_ms.to_string()),
        ("__interval", dur(step_ms)),
        ("__rate_interval_ms", rate.to_string()),
        ("__rate_interval", dur(rate)),
        ("__range_ms", range_ms.to_string()),
        ("__range_s", (range_ms / 1000).to_string()),
        ("__range", format!("{}s", range_ms / 1000)),
        ("__from", from.to_string()),
        ("__to", to.to_string()),
        ("__dashboard", dashboard.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(name: &str, values: &[&str], regex_escaped: bool, all: Option<&str>) -> Resolved {
        Resolved {
            name: name.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
            regex_escaped,
            all_value: all.map(String::from),
        }
    }

    #[test]
    fn every_syntax_and_prometheus_escaping() {
        let vars = [
            var("job", &["node"], false, None),
            var("node", &["a.b:9100", "c|d"], true, None),
            var("one", &["x.y"], true, None),
            var("all", &["p", "q"], true, Some(".*")),
            var("path", &["C:\\x"], false, None),
        ];
        let b = builtins(0, 3_600_000, 15_000, 15_000, "D");
        let q = |s: &str| interpolate(s, &vars, &b, Destination::Query);
        assert_eq!(q("up{job=\"$job\"}"), "up{job=\"node\"}");
        assert_eq!(q("up{job=\"${job}\"} [[job]]"), "up{job=\"node\"} node");
        assert_eq!(q("up{instance=~\"$node\"}"), "up{instance=~\"(a\\\\.b:9100|c\\\\|d)\"}");
        assert_eq!(q("$one"), "x\\\\.y");
        assert_eq!(q("up{x=~\"$all\"}"), "up{x=~\".*\"}");
        assert_eq!(q("$path"), "C:\\\\x");
        assert_eq!(q("$node:9100 $nodeX $$ $"), "(a\\\\.b:9100|c\\\\|d):9100 $nodeX $$ $");
        assert_eq!(
            q("${node:pipe} ${node:csv} ${node:raw} ${node:regex}"),
            "a.b:9100|c|d a.b:9100,c|d a.b:9100,c|d (a\\.b:9100|c\\|d)"
        );
        assert_eq!(
            q("${node:json} ${node:glob} ${node:queryparam}"),
            "[\"a.b:9100\",\"c|d\"] {a.b:9100,c|d} var-node=a.b%3A9100&var-node=c%7Cd"
        );
        assert_eq!(q("rate(x[$__rate_interval]) [$__interval] $__range $__range_s"), "rate(x[1m]) [15s] 3600s 3600");
        assert_eq!(interpolate("$node on $job", &vars, &b, Destination::Text), "a.b:9100 + c|d on node");
        assert_eq!(q("[[unknown]] ${unknown} $unknown"), "[[unknown]] ${unknown} $unknown");
    }

    #[test]
    fn intervals_round_to_the_ladder() {
        assert_eq!(interval_ms(3_600_000, 1_000, 15_000), 15_000);
        assert_eq!(interval_ms(86_400_000, 1_000, 15_000), 120_000);
        assert_eq!(interval_ms(300_000, 1_000, 1_000), 1_000);
        assert_eq!(interval_ms(30 * 86_400_000, 100, 15_000), 43_200_000);
    }
}
