//! The store's modules form layers (see the top of `src/lib.rs`): a module uses only modules of
//! its own layer or below, and no two modules use each other, directly or through others. Read
//! from the source, so a new import that breaks the order fails here rather than in review.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layer of each top-level module, lowest first.
const LAYERS: [(&str, u8); 13] = [
    ("error", 0),
    ("config", 0),
    ("backend", 0),
    ("clock", 0),
    ("schema", 0),
    ("seal", 0),
    ("db", 1),
    ("group_commit", 2),
    ("tables", 3),
    ("store", 4),
    ("state", 4),
    ("admin", 4),
    ("testing", 4),
];

type Graph = BTreeMap<String, BTreeSet<String>>;

#[test]
fn modules_use_only_their_own_layer_or_below() {
    let graph = top_level_graph();
    let layer = |name: &str| {
        LAYERS
            .iter()
            .find(|(module, _)| *module == name)
            .map(|(_, layer)| *layer)
            .unwrap_or_else(|| panic!("module {name} has no layer in this test"))
    };
    for (from, uses) in &graph {
        for to in uses {
            assert!(
                layer(to) <= layer(from),
                "{from} (layer {}) uses {to} (layer {})",
                layer(from),
                layer(to)
            );
        }
    }
    assert_acyclic(&graph);
}

#[test]
fn table_modules_have_no_cycle() {
    let mut graph = Graph::new();
    for file in rust_files(&src().join("tables")) {
        let unit = table_unit(&file);
        let text = std::fs::read_to_string(&file).unwrap();
        let mut uses = paths_after(&text, "crate::tables::");
        if file.parent() == Some(src().join("tables").as_path()) {
            uses.extend(paths_after(&text, "super::"));
        }
        uses.retain(|used| used != &unit);
        graph.entry(unit).or_default().extend(uses);
    }
    assert_acyclic(&graph);
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Which top-level module uses which, from `crate::` paths (the root's re-exports mapped back to
/// the module they come from).
fn top_level_graph() -> Graph {
    let reexports = root_reexports();
    let mut graph = Graph::new();
    for file in rust_files(&src()) {
        let relative = file.strip_prefix(src()).unwrap();
        let unit = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if unit == "lib" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let uses = paths_after(&text, "crate::")
            .into_iter()
            .map(|name| reexports.get(&name).cloned().unwrap_or(name))
            .filter(|used| used != &unit)
            .collect::<Vec<_>>();
        graph.entry(unit).or_default().extend(uses);
    }
    graph
}

/// `Name -> module` for each `pub use module::...::Name` of `lib.rs`.
fn root_reexports() -> BTreeMap<String, String> {
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    let mut names = BTreeMap::new();
    for line in lib.lines() {
        let Some(path) = line.strip_prefix("pub use ") else {
            continue;
        };
        let module = path.split("::").next().unwrap().to_string();
        let exported = path.rsplit("::").next().unwrap();
        for name in exported.trim_matches(|c| "{};".contains(c)).split(',') {
            names.insert(name.trim().to_string(), module.clone());
        }
    }
    names
}

/// The first path segment after every `prefix` in `text`, including each item of a
/// `prefix{a, b::c}` list.
fn paths_after(text: &str, prefix: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, _) in text.match_indices(prefix) {
        let rest = &text[at + prefix.len()..];
        if let Some(list) = rest.strip_prefix('{') {
            let list = &list[..list.find('}').unwrap_or(list.len())];
            found.extend(list.split(',').filter_map(first_segment));
        } else {
            found.extend(first_segment(rest));
        }
    }
    found.remove("self");
    found.remove("super");
    found
}

fn first_segment(path: &str) -> Option<String> {
    let path = path.trim();
    let end = path
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(path.len());
    (end > 0).then(|| path[..end].to_string())
}

/// `tables/messages/status.rs` and `tables/messages/mod.rs` are `messages`; `tables/users.rs` is
/// `users`.
fn table_unit(file: &Path) -> String {
    let relative = file.strip_prefix(src().join("tables")).unwrap();
    let first = relative.components().next().unwrap().as_os_str();
    first.to_string_lossy().trim_end_matches(".rs").to_string()
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files
}

/// Panics naming a cycle if the graph has one (depth-first search).
fn assert_acyclic(graph: &Graph) {
    fn visit(node: &str, graph: &Graph, path: &mut Vec<String>, done: &mut BTreeSet<String>) {
        if done.contains(node) {
            return;
        }
        if let Some(start) = path.iter().position(|on_path| on_path == node) {
            panic!("import cycle: {} -> {node}", path[start..].join(" -> "));
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            visit(next, graph, path, done);
        }
        path.pop();
        done.insert(node.to_string());
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        visit(node, graph, &mut Vec::new(), &mut done);
    }
}
