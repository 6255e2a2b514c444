//! The house's rules, checked over the source of every crate: no import
//! circles between the modules of a crate, rooms of at most ~800 lines, and
//! functions of at most ~120 lines unless a `// Why long:` comment above
//! one says why it reads better whole.
//!
//! Imports are read as text (use trees and `crate::`/`super::`/`self::`
//! paths), which is enough for code formatted by rustfmt. An import from a
//! module's ancestor or descendant is not a circle (a parent declares its
//! children; children use what their parent shares); an import between two
//! modules elsewhere in the tree counts as one between the two siblings under
//! their nearest common ancestor, so `a/x.rs → b/y.rs` is an arrow `a → b`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The library crates' source roots, relative to the workspace.
const CRATES: [&str; 4] = ["src", "storage/src", "promql/src", "web/src"];

/// Files that are allowed past the room size for now, and why.
const LONG_FILES: [(&str, &str); 0] = [];

const MAX_FILE_LINES: usize = 800;
const MAX_FN_LINES: usize = 120;

type ModPath = Vec<String>;

struct SourceFile {
    /// Relative to the workspace, with `/`.
    rel: String,
    module: ModPath,
    text: String,
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rs_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module a file defines: `lib.rs` the root, `a/mod.rs` and `a.rs` `a`.
fn module_of(root: &Path, file: &Path) -> Option<ModPath> {
    let rel = file.strip_prefix(root).ok()?;
    let mut parts: ModPath = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop()?;
    match last.as_str() {
        "lib.rs" if parts.is_empty() => {}
        // The binary's command line is a crate of its own.
        "main.rs" if parts.is_empty() => return None,
        "mod.rs" => {}
        _ => parts.push(last.trim_end_matches(".rs").to_string()),
    }
    Some(parts)
}

fn crate_files(krate: &str) -> Vec<SourceFile> {
    let root = workspace().join(krate);
    let mut paths = Vec::new();
    rs_files(&root, &mut paths);
    paths.sort();
    let mut files = Vec::new();
    for path in paths {
        let Some(module) = module_of(&root, &path) else { continue };
        let text = std::fs::read_to_string(&path).expect("source file is UTF-8");
        let rel = path.strip_prefix(workspace()).expect("under the workspace").to_string_lossy().replace('\\', "/");
        files.push(SourceFile { rel, module, text });
    }
    files
}

/// A file's text before its inline `#[cfg(test)] mod … {` (whose `super`
/// is the file itself, and whose tests may run long).
fn without_test_module(text: &str) -> &str {
    let lines: Vec<&str> = text.lines().collect();
    let mut offset = 0;
    for (i, line) in lines.iter().enumerate() {
        let next = lines.get(i + 1).map(|l| l.trim_start());
        if line.trim_start() == "#[cfg(test)]" && next.is_some_and(|l| l.starts_with("mod ") && l.ends_with('{')) {
            return &text[..offset];
        }
        offset += line.len() + 1;
    }
    text
}

/// The code of a file without its inline test module and its comments.
fn code_of(text: &str) -> String {
    let mut out = String::new();
    for line in without_test_module(text).lines().filter(|l| !l.trim_start().starts_with("//")) {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Expands a use tree (`a::{b, c::{d, e}}`) into its paths.
fn expand_use_tree(tree: &str, prefix: &str, out: &mut Vec<String>) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let head = tree[..open].trim_end_matches("::").trim();
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let prefix = join_path(prefix, head);
        let mut depth = 0;
        let mut start = 0;
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand_use_tree(&inner[start..i], &prefix, out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        expand_use_tree(&inner[start..], &prefix, out);
    } else if !tree.is_empty() {
        let path = tree.split(" as ").next().unwrap_or(tree).trim();
        out.push(join_path(prefix, path));
    }
}

fn join_path(prefix: &str, rest: &str) -> String {
    match (prefix.is_empty(), rest.is_empty()) {
        (true, _) => rest.to_string(),
        (_, true) => prefix.to_string(),
        _ => format!("{prefix}::{rest}"),
    }
}

/// Every crate-relative path a file's code names: use trees, and paths
/// written inline (`crate::a::b(…)`, `super::c::D`).
fn paths_named(code: &str) -> (Vec<String>, Vec<String>) {
    let use_re = regex::Regex::new(r"(?s)(?:^|\n)\s*(pub(?:\([a-z]+\))?\s+)?use\s+([^;]+);").expect("regex");
    let inline_re = regex::Regex::new(r"\b(?:crate|super|self)(?:::[A-Za-z_][A-Za-z0-9_]*)+").expect("regex");
    let mut uses = Vec::new();
    let mut reexports = Vec::new();
    for cap in use_re.captures_iter(code) {
        let mut paths = Vec::new();
        expand_use_tree(&cap[2], "", &mut paths);
        if cap.get(1).is_some() {
            reexports.extend(paths.iter().cloned());
        }
        uses.extend(paths);
    }
    let without_uses = use_re.replace_all(code, "\n");
    uses.extend(inline_re.find_iter(&without_uses).map(|m| m.as_str().to_string()));
    (uses, reexports)
}

/// Resolves a path named in `from` to absolute segments (crate root = []).
fn absolute(modules: &BTreeSet<ModPath>, from: &ModPath, path: &str) -> Option<Vec<String>> {
    let mut segs = path.split("::").map(str::trim).filter(|s| !s.is_empty());
    let first = segs.next()?;
    let mut abs: Vec<String> = match first {
        "crate" => Vec::new(),
        "self" => from.clone(),
        "super" => from[..from.len().checked_sub(1)?].to_vec(),
        // `use child::Item` names a child module without `self::`.
        child if modules.contains(&[from.as_slice(), &[child.to_string()]].concat()) => {
            [from.as_slice(), &[child.to_string()]].concat()
        }
        _ => return None, // another crate, or a name in scope
    };
    for seg in segs {
        if seg == "super" {
            abs.pop()?;
        } else if seg != "self" && seg != "*" {
            abs.push(seg.to_string());
        }
    }
    Some(abs)
}

struct Crate {
    modules: BTreeSet<ModPath>,
    /// `module::Item` re-exported by `pub use` → the path it names.
    reexports: BTreeMap<Vec<String>, Vec<String>>,
}

impl Crate {
    /// The module a path lands in, following re-exports.
    fn module_of_path(&self, path: &[String], depth: usize) -> ModPath {
        let mut len = path.len();
        while len > 0 && !self.modules.contains(&path[..len]) {
            len -= 1;
        }
        if len < path.len() && depth < 8 {
            if let Some(target) = self.reexports.get(&path[..=len]) {
                return self.module_of_path(target, depth + 1);
            }
        }
        path[..len].to_vec()
    }
}

/// The arrows between sibling modules, each with one file-level import that
/// makes it.
fn sibling_arrows(files: &[SourceFile]) -> BTreeMap<(ModPath, ModPath), String> {
    let mut krate = Crate { modules: files.iter().map(|f| f.module.clone()).collect(), reexports: BTreeMap::new() };
    let named: Vec<_> = files.iter().map(|f| paths_named(&code_of(&f.text))).collect();
    for (file, (_, reexports)) in files.iter().zip(&named) {
        for path in reexports {
            let Some(target) = absolute(&krate.modules, &file.module, path) else { continue };
            let Some(item) = target.last() else { continue };
            let mut key = file.module.clone();
            key.push(item.clone());
            krate.reexports.insert(key, target);
        }
    }
    let mut arrows = BTreeMap::new();
    for (file, (uses, _)) in files.iter().zip(&named) {
        for path in uses {
            let Some(abs) = absolute(&krate.modules, &file.module, path) else { continue };
            let to = krate.module_of_path(&abs, 0);
            let common = file.module.iter().zip(&to).take_while(|(a, b)| a == b).count();
            if common == file.module.len() || common == to.len() {
                continue; // within one line of descent
            }
            let a = file.module[..=common].to_vec();
            let b = to[..=common].to_vec();
            arrows.entry((a, b)).or_insert_with(|| format!("{} names {path}", file.rel));
        }
    }
    arrows
}

/// The circles among modules: strongly connected sets of more than one.
fn circles(arrows: &BTreeMap<(ModPath, ModPath), String>) -> Vec<Vec<ModPath>> {
    let nodes: BTreeSet<&ModPath> = arrows.keys().flat_map(|(a, b)| [a, b]).collect();
    let reaches = |from: &ModPath| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(n) = stack.pop() {
            for ((a, b), _) in arrows.range((n.clone(), Vec::new())..) {
                if *a != n {
                    break;
                }
                if seen.insert(b.clone()) {
                    stack.push(b.clone());
                }
            }
        }
        seen
    };
    let reach: BTreeMap<&ModPath, BTreeSet<ModPath>> = nodes.iter().map(|n| (*n, reaches(n))).collect();
    let mut found: Vec<Vec<ModPath>> = Vec::new();
    for n in &nodes {
        if !reach[n].contains(*n) || found.iter().any(|c| c.contains(n)) {
            continue;
        }
        let circle: Vec<ModPath> =
            nodes.iter().filter(|m| reach[n].contains(**m) && reach[**m].contains(*n)).map(|m| (*m).clone()).collect();
        found.push(circle);
    }
    found
}

fn show(m: &ModPath) -> String {
    if m.is_empty() {
        "crate".to_string()
    } else {
        m.join("::")
    }
}

#[test]
fn no_module_imports_run_in_a_circle() {
    let mut report = Vec::new();
    for krate in CRATES {
        let files = crate_files(krate);
        assert!(files.len() > 3, "{krate}: sources not found");
        let arrows = sibling_arrows(&files);
        for circle in circles(&arrows) {
            let mut lines = vec![format!("{krate}: {}", circle.iter().map(show).collect::<Vec<_>>().join(" ⇄ "))];
            for ((a, b), why) in &arrows {
                if circle.contains(a) && circle.contains(b) {
                    lines.push(format!("    {} → {}: {why}", show(a), show(b)));
                }
            }
            report.push(lines.join("\n"));
        }
    }
    assert!(report.is_empty(), "import circles:\n{}", report.join("\n"));
}

#[test]
fn the_model_layer_imports_nothing_else_of_vigil() {
    let files = crate_files("storage/src");
    let model = vec!["model".to_string()];
    assert!(files.iter().any(|f| f.module == model), "storage/src/model not found");
    let arrows = sibling_arrows(&files);
    let out: Vec<_> = arrows.iter().filter(|((a, _), _)| *a == model).map(|(_, why)| why.clone()).collect();
    assert!(out.is_empty(), "the model layer reaches out: {out:?}");
}

#[test]
fn the_circle_finder_sees_a_circle_between_siblings() {
    let file = |rel: &str, module: &[&str], text: &str| SourceFile {
        rel: rel.to_string(),
        module: module.iter().map(|s| s.to_string()).collect(),
        text: text.to_string(),
    };
    let files = vec![
        file("lib.rs", &[], "pub mod a;\npub mod b;\npub use a::Thing;\n"),
        file("a/mod.rs", &["a"], "mod x;\npub use x::Thing;\n"),
        file("a/x.rs", &["a", "x"], "use crate::b::{y::{Other, More as M}};\npub struct Thing;\n"),
        file("b/mod.rs", &["b"], "pub mod y;\n"),
        file("b/y.rs", &["b", "y"], "pub struct Other;\nfn f() -> crate::Thing { todo!() }\n"),
    ];
    let arrows = sibling_arrows(&files);
    let a = vec!["a".to_string()];
    let b = vec!["b".to_string()];
    assert!(arrows.contains_key(&(a.clone(), b.clone())), "{arrows:?}");
    assert!(arrows.contains_key(&(b.clone(), a.clone())), "the re-export is followed: {arrows:?}");
    assert_eq!(circles(&arrows), vec![vec![a, b]]);
    // Without the inline path back, no circle.
    let mut files = files;
    files[4].text = "pub struct Other;\n".to_string();
    assert!(circles(&sibling_arrows(&files)).is_empty());
}

/// Each function's first line and length, from rustfmt's layout: a `fn`
/// line's body ends at the first `}` line with the same indentation.
fn long_functions(text: &str) -> Vec<(usize, usize, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let fn_re =
        regex::Regex::new(r"^(\s*)(?:pub(?:\([a-z]+\))?\s+)?(?:const\s+)?(?:async\s+)?(?:unsafe\s+)?fn\s+(\w+)")
            .expect("regex");
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(cap) = fn_re.captures(line) else { continue };
        if line.trim_end().ends_with(';') {
            continue; // a declaration in a trait
        }
        let indent = &cap[1];
        let close = format!("{indent}}}");
        let Some(len) = lines[i..].iter().position(|l| *l == close) else { continue };
        if len < MAX_FN_LINES {
            continue;
        }
        let explained = lines[..i]
            .iter()
            .rev()
            .take_while(|l| {
                let t = l.trim_start();
                t.starts_with("//") || t.starts_with("#[")
            })
            .any(|l| l.trim_start().starts_with("// Why long:"));
        if !explained {
            out.push((i + 1, len + 1, cap[2].to_string()));
        }
    }
    out
}

#[test]
fn rooms_and_functions_stay_small() {
    let mut report = Vec::new();
    for krate in CRATES {
        for file in crate_files(krate) {
            let is_test = file.rel.ends_with("/tests.rs");
            let lines = file.text.lines().count();
            let excused = LONG_FILES.iter().any(|(f, _)| *f == file.rel);
            if lines > MAX_FILE_LINES && !excused && !is_test {
                report.push(format!("{}: {lines} lines (at most {MAX_FILE_LINES})", file.rel));
            }
            if is_test || excused {
                continue;
            }
            for (line, len, name) in long_functions(without_test_module(&file.text)) {
                report.push(format!("{}:{line}: fn {name} is {len} lines (at most {MAX_FN_LINES})", file.rel));
            }
        }
    }
    assert!(report.is_empty(), "rooms and functions too large:\n{}", report.join("\n"));
}

#[test]
fn the_function_measure_sees_long_and_explained_functions() {
    let body = "    x();\n".repeat(MAX_FN_LINES);
    let long = format!("fn long() {{\n{body}}}\n");
    assert_eq!(long_functions(&long), vec![(1, MAX_FN_LINES + 2, "long".to_string())]);
    let explained = format!("// Why long: one table reads better whole.\nfn long() {{\n{body}}}\n");
    assert!(long_functions(&explained).is_empty());
    let short = "fn short() {\n    x();\n}\n";
    assert!(long_functions(short).is_empty());
}
