//! Series names from legend formats.

use storage::Labels;

/// `{{label}}` replaced by the series' label values; the default name otherwise.
pub(crate) fn legend_name(format: &str, labels: &Labels) -> String {
    if format.is_empty() || format == "__auto" {
        return crate::html::series_name(labels);
    }
    let mut out = String::new();
    let mut rest = format;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let Some(end) = rest[i..].find("}}") else {
            out.push_str(&rest[i..]);
            return out;
        };
        let name = rest[i + 2..i + end].trim();
        out.push_str(labels.get(name).unwrap_or(""));
        rest = &rest[i + end + 2..];
    }
    out.push_str(rest);
    if out.is_empty() {
        // A format naming labels the series lacks: Grafana names it from its
        // labels, a single label by its value.
        let mut own = labels.iter().filter(|l| l.name != "__name__");
        return match (own.next(), own.next()) {
            (Some(l), None) => l.value.to_string(),
            _ => crate::html::series_name(labels),
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use storage::Labels;

    #[test]
    fn legend_formats_fill_labels_and_default_to_the_series_name() {
        let l = Labels::from_pairs([("__name__", "up"), ("job", "a"), ("instance", "h:1")]);
        assert_eq!(legend_name("{{job}} on {{ instance }}{{missing}}", &l), "a on h:1");
        assert_eq!(legend_name("", &l), "up{instance=\"h:1\", job=\"a\"}");
        // A format of labels the series lacks: named by its labels, one label by its value.
        assert_eq!(legend_name("{{ node }}", &Labels::from_pairs([("instance", "h:1")])), "h:1");
        assert_eq!(legend_name("{{node}}", &l), "up{instance=\"h:1\", job=\"a\"}");
    }
}
