//! `relabel_configs` and `metric_relabel_configs`: every action Prometheus
//! has, with its defaults and validation.

use super::labels::{is_valid_label_name, LabelsBuilder};
use super::matcher::anchored_regex;
use md5::{Digest, Md5};
use regex::Regex;

/// What a rule does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Sets `target_label` to `replacement` (with `$1`…) when `regex` matches.
    Replace,
    /// Drops the target or series unless `regex` matches.
    Keep,
    /// Drops the target or series when `regex` matches.
    Drop,
    /// Drops it unless the joined source labels equal `target_label`'s value.
    KeepEqual,
    /// Drops it when the joined source labels equal `target_label`'s value.
    DropEqual,
    /// Sets `target_label` to the hash of the source labels modulo `modulus`.
    HashMod,
    /// Copies labels whose names `regex` matches to the names `replacement` makes.
    LabelMap,
    /// Removes labels whose names `regex` matches.
    LabelDrop,
    /// Removes labels whose names `regex` does not match.
    LabelKeep,
    /// Sets `target_label` to the joined source labels, lowercased.
    Lowercase,
    /// Sets `target_label` to the joined source labels, uppercased.
    Uppercase,
}

impl Action {
    /// Reads the YAML name (case-insensitive, as Prometheus).
    pub fn parse(s: &str) -> Option<Action> {
        Some(match s.to_ascii_lowercase().as_str() {
            "replace" => Action::Replace,
            "keep" => Action::Keep,
            "drop" => Action::Drop,
            "keepequal" => Action::KeepEqual,
            "dropequal" => Action::DropEqual,
            "hashmod" => Action::HashMod,
            "labelmap" => Action::LabelMap,
            "labeldrop" => Action::LabelDrop,
            "labelkeep" => Action::LabelKeep,
            "lowercase" => Action::Lowercase,
            "uppercase" => Action::Uppercase,
            _ => return None,
        })
    }

    /// The action as config names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Replace => "replace",
            Action::Keep => "keep",
            Action::Drop => "drop",
            Action::KeepEqual => "keepequal",
            Action::DropEqual => "dropequal",
            Action::HashMod => "hashmod",
            Action::LabelMap => "labelmap",
            Action::LabelDrop => "labeldrop",
            Action::LabelKeep => "labelkeep",
            Action::Lowercase => "lowercase",
            Action::Uppercase => "uppercase",
        }
    }
}

const DEFAULT_SEPARATOR: &str = ";";
const DEFAULT_REGEX: &str = "(.*)";
const DEFAULT_REPLACEMENT: &str = "$1";

/// A rule that fails validation; `field` says which key is at fault.
#[derive(Debug)]
pub struct RelabelError {
    /// The config field at fault.
    pub field: &'static str,
    /// What is wrong.
    pub message: String,
}

/// One validated relabeling rule.
#[derive(Clone, Debug)]
pub struct RelabelConfig {
    /// What the step does.
    pub action: Action,
    /// Labels whose values are joined for matching.
    pub source_labels: Vec<String>,
    /// What joins them (`;` by default).
    pub separator: String,
    /// Anchored regex (`(.*)` by default).
    pub regex: Regex,
    /// The regex as written (for display).
    pub regex_src: String,
    /// `hashmod`'s modulus.
    pub modulus: u64,
    /// The label written.
    pub target_label: String,
    /// What is written (`$1` by default), `$n` and `${n}` expanded.
    pub replacement: String,
}

impl PartialEq for RelabelConfig {
    fn eq(&self, o: &Self) -> bool {
        self.action == o.action
            && self.source_labels == o.source_labels
            && self.separator == o.separator
            && self.regex_src == o.regex_src
            && self.modulus == o.modulus
            && self.target_label == o.target_label
            && self.replacement == o.replacement
    }
}

impl RelabelConfig {
    /// Builds a rule from its YAML fields, applying Prometheus's defaults
    /// and rejecting the combinations Prometheus rejects.
    pub fn new(
        action: Action,
        source_labels: Vec<String>,
        separator: Option<String>,
        regex: Option<String>,
        modulus: Option<u64>,
        target_label: Option<String>,
        replacement: Option<String>,
    ) -> Result<Self, RelabelError> {
        let err = |field, message: String| Err(RelabelError { field, message });
        let a = action.as_str();
        let regex_src = regex.clone().unwrap_or_else(|| DEFAULT_REGEX.to_string());
        let compiled =
            anchored_regex(&regex_src).map_err(|e| RelabelError { field: "regex", message: e.to_string() })?;
        let target = target_label.clone().unwrap_or_default();
        let modulus_v = modulus.unwrap_or(0);
        if action == Action::HashMod && modulus_v == 0 {
            return err("modulus", "relabel configuration for hashmod requires non-zero modulus".into());
        }
        let needs_target = matches!(
            action,
            Action::Replace
                | Action::HashMod
                | Action::Lowercase
                | Action::Uppercase
                | Action::KeepEqual
                | Action::DropEqual
        );
        if needs_target && target.is_empty() {
            return err("target_label", format!("relabel configuration for {a} action requires 'target_label' value"));
        }
        let templated = action == Action::Replace && target.contains('$');
        if needs_target && !templated && !is_valid_label_name(&target) {
            return err("target_label", format!("{target:?} is invalid 'target_label' for {a} action"));
        }
        if matches!(action, Action::KeepEqual | Action::DropEqual)
            && (regex.is_some() || modulus.is_some() || separator.is_some() || replacement.is_some())
        {
            return err(
                "action",
                format!("{a} action requires only 'source_labels' and `target_label`, and no other fields"),
            );
        }
        if matches!(action, Action::LabelDrop | Action::LabelKeep)
            && (!source_labels.is_empty()
                || target_label.is_some()
                || modulus.is_some()
                || separator.is_some()
                || replacement.is_some())
        {
            return err("action", format!("{a} action requires only 'regex', and no other fields"));
        }
        if matches!(action, Action::Lowercase | Action::Uppercase) && replacement.is_some() {
            return err("replacement", format!("'replacement' can not be set for {a} action"));
        }
        if action == Action::LabelMap {
            let r = replacement.as_deref().unwrap_or(DEFAULT_REPLACEMENT);
            if !r.contains('$') && !is_valid_label_name(r) {
                return err("replacement", format!("{r:?} is invalid 'replacement' for labelmap action"));
            }
        }
        Ok(RelabelConfig {
            action,
            source_labels,
            separator: separator.unwrap_or_else(|| DEFAULT_SEPARATOR.to_string()),
            regex: compiled,
            regex_src,
            modulus: modulus_v,
            target_label: target,
            replacement: replacement.unwrap_or_else(|| DEFAULT_REPLACEMENT.to_string()),
        })
    }

    fn source_value(&self, lb: &LabelsBuilder) -> String {
        let mut val = String::new();
        for (k, name) in self.source_labels.iter().enumerate() {
            if k > 0 {
                val.push_str(&self.separator);
            }
            val.push_str(lb.get(name).unwrap_or(""));
        }
        val
    }

    /// Applies the rule; `false` means the target or series is dropped.
    pub fn apply(&self, lb: &mut LabelsBuilder) -> bool {
        let val = self.source_value(lb);
        match self.action {
            Action::Drop => return !self.regex.is_match(&val),
            Action::Keep => return self.regex.is_match(&val),
            Action::DropEqual => return lb.get(&self.target_label).unwrap_or("") != val,
            Action::KeepEqual => return lb.get(&self.target_label).unwrap_or("") == val,
            Action::Replace => {
                // Prometheus's fast path: default regex, nothing templated.
                if val.is_empty()
                    && self.regex_src == DEFAULT_REGEX
                    && !self.target_label.contains('$')
                    && !self.replacement.contains('$')
                {
                    lb.set(self.target_label.clone(), self.replacement.clone());
                    return true;
                }
                let Some(caps) = self.regex.captures(&val) else { return true };
                let mut target = String::new();
                caps.expand(&self.target_label, &mut target);
                if !is_valid_label_name(&target) {
                    return true;
                }
                let mut res = String::new();
                caps.expand(&self.replacement, &mut res);
                if res.is_empty() {
                    lb.del(&target);
                } else {
                    lb.set(target, res);
                }
            }
            Action::Lowercase => {
                lb.set(self.target_label.clone(), val.to_lowercase());
            }
            Action::Uppercase => {
                lb.set(self.target_label.clone(), val.to_uppercase());
            }
            Action::HashMod => {
                let digest = Md5::digest(val.as_bytes());
                let mut tail = [0u8; 8];
                tail.copy_from_slice(&digest[8..16]);
                let m = u64::from_be_bytes(tail) % self.modulus;
                lb.set(self.target_label.clone(), m.to_string());
            }
            Action::LabelMap => {
                let mapped: Vec<(String, String)> = lb
                    .iter()
                    .filter(|l| self.regex.is_match(&l.name))
                    .map(|l| {
                        (self.regex.replace_all(&l.name, self.replacement.as_str()).into_owned(), l.value.to_string())
                    })
                    .collect();
                for (n, v) in mapped {
                    lb.set(n, v);
                }
            }
            Action::LabelDrop => {
                lb.retain(|l| !self.regex.is_match(&l.name));
            }
            Action::LabelKeep => {
                lb.retain(|l| self.regex.is_match(&l.name));
            }
        }
        true
    }
}

/// Runs rules in order; `false` as soon as one drops.
pub fn process(rules: &[RelabelConfig], lb: &mut LabelsBuilder) -> bool {
    rules.iter().all(|r| r.apply(lb))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::labels::Labels;

    fn rule(
        action: &str,
        src: &[&str],
        regex: Option<&str>,
        target: Option<&str>,
        replacement: Option<&str>,
    ) -> RelabelConfig {
        RelabelConfig::new(
            Action::parse(action).unwrap(),
            src.iter().map(|s| s.to_string()).collect(),
            None,
            regex.map(String::from),
            if action == "hashmod" { Some(8) } else { None },
            target.map(String::from),
            replacement.map(String::from),
        )
        .unwrap()
    }

    fn run(r: &RelabelConfig, pairs: &[(&str, &str)]) -> Option<Labels> {
        let mut lb = Labels::from_pairs(pairs.iter().copied()).builder();
        r.apply(&mut lb).then(|| lb.build())
    }

    fn l(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn replace_with_groups_and_templated_target() {
        let r = rule("replace", &["a", "b"], Some("(.*);(.*)"), Some("c"), Some("${2}-$1"));
        assert_eq!(run(&r, &[("a", "x"), ("b", "y")]), Some(l(&[("a", "x"), ("b", "y"), ("c", "y-x")])));
        let r = rule("replace", &["a"], Some("(.+)"), Some("lbl_$1"), Some("v"));
        assert_eq!(run(&r, &[("a", "n")]), Some(l(&[("a", "n"), ("lbl_n", "v")])));
        // No match leaves labels alone; an empty result deletes the target.
        let r = rule("replace", &["a"], Some("zzz"), Some("a"), Some("q"));
        assert_eq!(run(&r, &[("a", "x")]), Some(l(&[("a", "x")])));
        let r = rule("replace", &["a"], Some("x"), Some("a"), Some(""));
        assert_eq!(run(&r, &[("a", "x")]), Some(l(&[])));
        // Default regex with an empty source sets the replacement literally.
        let r = rule("replace", &[], None, Some("env"), Some("prod"));
        assert_eq!(run(&r, &[]), Some(l(&[("env", "prod")])));
    }

    #[test]
    fn keep_drop_and_equality() {
        let keep = rule("keep", &["job"], Some("api|web"), None, None);
        assert!(run(&keep, &[("job", "api")]).is_some());
        assert!(run(&keep, &[("job", "apix")]).is_none());
        let drop = rule("drop", &["job"], Some("api"), None, None);
        assert!(run(&drop, &[("job", "api")]).is_none());
        let ke = rule("keepequal", &["a"], None, Some("b"), None);
        assert!(run(&ke, &[("a", "1"), ("b", "1")]).is_some());
        assert!(run(&ke, &[("a", "1"), ("b", "2")]).is_none());
        let de = rule("dropequal", &["a"], None, Some("b"), None);
        assert!(run(&de, &[("a", "1"), ("b", "1")]).is_none());
    }

    #[test]
    fn hashmod_matches_prometheus() {
        // Prometheus: md5("foo") last 8 bytes big-endian mod 8.
        let r = rule("hashmod", &["a"], None, Some("shard"), None);
        let got = run(&r, &[("a", "foo")]).unwrap();
        let d = Md5::digest(b"foo");
        let want = u64::from_be_bytes(d[8..16].try_into().unwrap()) % 8;
        assert_eq!(got.get("shard"), Some(want.to_string().as_str()));
    }

    #[test]
    fn label_map_drop_keep_case() {
        let r = rule("labelmap", &[], Some("__meta_(.+)"), None, None);
        assert_eq!(run(&r, &[("__meta_zone", "z1")]), Some(l(&[("__meta_zone", "z1"), ("zone", "z1")])));
        let r = RelabelConfig::new(Action::LabelDrop, vec![], None, Some("tmp_.*".into()), None, None, None).unwrap();
        assert_eq!(run(&r, &[("tmp_a", "1"), ("b", "2")]), Some(l(&[("b", "2")])));
        let r =
            RelabelConfig::new(Action::LabelKeep, vec![], None, Some("b|__name__".into()), None, None, None).unwrap();
        assert_eq!(run(&r, &[("tmp_a", "1"), ("b", "2")]), Some(l(&[("b", "2")])));
        let r = rule("lowercase", &["a"], None, Some("a_lower"), None);
        assert_eq!(run(&r, &[("a", "AbC")]).unwrap().get("a_lower"), Some("abc"));
        let r = rule("uppercase", &["a"], None, Some("a_up"), None);
        assert_eq!(run(&r, &[("a", "AbC")]).unwrap().get("a_up"), Some("ABC"));
    }

    #[test]
    fn invalid_rules_rejected() {
        let bad = |a: Action, target: Option<&str>, regex: Option<&str>, modulus: Option<u64>, src: Vec<String>| {
            RelabelConfig::new(a, src, None, regex.map(String::from), modulus, target.map(String::from), None).is_err()
        };
        assert!(bad(Action::Replace, None, None, None, vec![]));
        assert!(bad(Action::HashMod, Some("t"), None, None, vec![]));
        assert!(bad(Action::Replace, Some("t"), Some("("), None, vec![]));
        assert!(bad(Action::LabelDrop, None, Some("a"), None, vec!["x".into()]));
        assert!(bad(Action::KeepEqual, Some("t"), Some("a"), None, vec![]));
        assert!(bad(Action::Lowercase, Some("1bad"), None, None, vec![]));
        assert!(Action::parse("Replace").is_some());
        assert!(Action::parse("explode").is_none());
    }
}
