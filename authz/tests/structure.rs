//! The crate's module structure, read from its source: no module imports one
//! that imports it back (the one mutual recursion allowed is the constraint
//! attenuation of composites), and imports run down the layers of the crate
//! front page: vocabulary and crypto, then the decision, then the front ends.
//!
//! Imports are the `crate::`, `super::` and `self::` paths of each file outside
//! comments and its `#[cfg(test)] mod tests`, resolved to the deepest module
//! that exists (a file); `pub use` re-exports count as imports.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

/// Top-level modules, bottom layer first.
const LAYERS: [&[&str]; 3] = [
    &[
        "reason",
        "heap",
        "crypto",
        "wire",
        "warrant",
        "constraint",
        "name_map",
        "pop",
        "policy",
        "gateway",
    ],
    &[
        "approval",
        "chain",
        "decision",
        "deny",
        "replay",
        "revocation",
        "cache",
        "authorizer",
        "mint",
    ],
    &["engine", "batch", "tower", "server"],
];

/// Cycles allowed, as the sorted file modules of each.
const ALLOWED_CYCLES: [&[&str]; 1] = [&["constraint::attenuation", "constraint::composite"]];

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "bin") {
                source_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn module_of(root: &Path, file: &Path) -> Module {
    let relative = file.strip_prefix(root).unwrap().with_extension("");
    let mut parts: Module = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts
        .last()
        .is_some_and(|last| last == "mod" || last == "lib")
    {
        parts.pop();
    }
    parts
}

/// The source without comments and without its unit-test module.
fn code_of(source: &str) -> String {
    let source = match source.find("#[cfg(test)]\nmod tests") {
        Some(at) => &source[..at],
        None => source,
    };
    source
        .lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path written after `crate::`, `super::` or `self::`, with one level of
/// `{a, b::c}` groups expanded.
fn paths_in(code: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for head in ["crate", "super", "self"] {
        let needle = format!("{head}::");
        let mut rest = code;
        while let Some(at) = rest.find(&needle) {
            let before = rest[..at].chars().last();
            rest = &rest[at + needle.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':' || c == '{'))
                .unwrap_or(rest.len());
            let path = &rest[..end];
            if let Some(brace) = path.find('{') {
                let prefix = &path[..brace];
                let close = rest.find('}').unwrap_or(rest.len());
                for item in rest[brace + 1..close].split(',') {
                    let name: String = item
                        .trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                        .collect();
                    if !name.is_empty() {
                        out.push((head.to_owned(), split(&format!("{prefix}{name}"))));
                    }
                }
                continue;
            }
            out.push((head.to_owned(), split(path)));
        }
    }
    out
}

fn split(path: &str) -> Vec<String> {
    path.split("::")
        .filter(|s| !s.is_empty() && *s != "self")
        .map(str::to_owned)
        .collect()
}

/// The import graph between file modules.
fn graph() -> BTreeMap<Module, BTreeSet<Module>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&root, &mut files);
    let modules: BTreeMap<Module, PathBuf> = files
        .iter()
        .map(|f| (module_of(&root, f), f.clone()))
        .collect();
    let resolve = |path: &[String]| -> Option<Module> {
        (1..=path.len())
            .rev()
            .map(|n| path[..n].to_vec())
            .find(|m| modules.contains_key(m))
    };
    let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (module, file) in &modules {
        let code = code_of(&std::fs::read_to_string(file).unwrap());
        let is_dir_module = file
            .file_name()
            .is_some_and(|n| n == "mod.rs" || n == "lib.rs");
        for (head, mut segments) in paths_in(&code) {
            let mut base: Module = match head.as_str() {
                "crate" => Vec::new(),
                "self" => module.clone(),
                _ => {
                    let mut parent = module.clone();
                    if !is_dir_module || !parent.is_empty() {
                        parent.pop();
                    }
                    while segments.first().is_some_and(|s| s == "super") {
                        parent.pop();
                        segments.remove(0);
                    }
                    parent
                }
            };
            base.extend(segments);
            if let Some(target) = resolve(&base) {
                let nested = target.starts_with(module) || module.starts_with(&target);
                if !nested {
                    edges.entry(module.clone()).or_default().insert(target);
                }
            }
        }
    }
    edges
}

/// Strongly connected components with more than one module (Tarjan).
fn cycles(edges: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<String>> {
    struct State<'a> {
        edges: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<&'a Module, usize>,
        low: BTreeMap<&'a Module, usize>,
        stack: Vec<&'a Module>,
        on_stack: BTreeSet<&'a Module>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a Module) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        if let Some(targets) = s.edges.get(v) {
            for w in targets {
                if !s.index.contains_key(w) {
                    visit(s, w);
                    let low = s.low[v].min(s.low[w]);
                    s.low.insert(v, low);
                } else if s.on_stack.contains(w) {
                    let low = s.low[v].min(s.index[w]);
                    s.low.insert(v, low);
                }
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.join("::"));
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.found.push(component);
            }
        }
    }
    let mut state = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    let nodes: BTreeSet<&Module> = edges.keys().chain(edges.values().flatten()).collect();
    for v in nodes {
        if !state.index.contains_key(v) {
            visit(&mut state, v);
        }
    }
    state.found
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let found = cycles(&graph());
    let allowed: Vec<Vec<String>> = ALLOWED_CYCLES
        .iter()
        .map(|c| c.iter().map(|s| (*s).to_owned()).collect())
        .collect();
    let unexpected: Vec<&Vec<String>> = found.iter().filter(|c| !allowed.contains(c)).collect();
    assert!(unexpected.is_empty(), "import cycles: {unexpected:?}");
}

#[test]
fn imports_run_down_the_layers() {
    let layer_of = |module: &Module| {
        let top = module.first().map_or("", String::as_str);
        LAYERS.iter().position(|layer| layer.contains(&top))
    };
    let mut upward = Vec::new();
    for (from, targets) in graph() {
        let Some(from_layer) = layer_of(&from) else {
            continue;
        };
        for to in targets {
            if layer_of(&to).is_some_and(|to_layer| to_layer > from_layer) {
                upward.push(format!("{} -> {}", from.join("::"), to.join("::")));
            }
        }
    }
    assert!(upward.is_empty(), "imports up the layers: {upward:#?}");
}

#[test]
fn every_top_level_module_has_a_layer() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&root, &mut files);
    let unplaced: BTreeSet<String> = files
        .iter()
        .filter_map(|f| module_of(&root, f).first().cloned())
        .filter(|top| !LAYERS.iter().any(|layer| layer.contains(&top.as_str())))
        .collect();
    assert!(
        unplaced.is_empty(),
        "modules in no layer of tests/structure.rs: {unplaced:?}"
    );
}

/// The checker finds a cycle and an upward import where there is one.
#[test]
fn the_checker_sees_a_cycle() {
    let module = |s: &str| -> Module { s.split("::").map(str::to_owned).collect() };
    let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    edges.insert(module("deny"), BTreeSet::from([module("replay")]));
    edges.insert(module("replay"), BTreeSet::from([module("decision")]));
    edges.insert(module("decision"), BTreeSet::from([module("deny")]));
    assert_eq!(cycles(&edges), [vec!["decision", "deny", "replay"]]);
    let parsed = paths_in("use crate::{a::b, c};\nuse super::d::E;\nx::crate::no;");
    assert!(parsed.contains(&("crate".to_owned(), vec!["a".to_owned(), "b".to_owned()])));
    assert!(parsed.contains(&("crate".to_owned(), vec!["c".to_owned()])));
    assert!(parsed.contains(&("super".to_owned(), vec!["d".to_owned(), "E".to_owned()])));
    assert_eq!(parsed.len(), 3, "{parsed:?}");
    // And on this crate: the server's start-up imports the engine.
    let edges = graph();
    let serve = module("server::serve");
    assert!(
        edges[&serve].contains(&module("engine")),
        "{:?}",
        edges[&serve]
    );
}
