//! Keeps the code map in `docs/src/architecture.md` true: reads every `crate::` path in
//! `src/`, and fails when a layer imports a layer the map says it never imports, when the map
//! omits an edge the code has (or names one it no longer has), or when modules import each
//! other in a circle. Test modules (`#[cfg(test)] mod tests`) are not counted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAP: &str = include_str!("../docs/src/architecture.md");

/// A module: its path below `crate`, e.g. `["ingest", "auth"]`.
type Module = Vec<String>;

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file of the library (the binary's `main.rs` is the top; it is not a layer).
fn library_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("src/ is readable")
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            library_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module a file defines: `src/ingest/auth/mod.rs` and `src/ingest/auth/keys.rs` are both
/// counted as `ingest::auth` (a module's private children are part of it).
fn module_of(file: &Path) -> Module {
    let rel = file.strip_prefix(src_dir()).expect("under src/");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts.truncate(2);
    parts
}

/// Whether `crate::{path}` names a module (a file or a folder under `src/`).
fn is_module(path: &[String]) -> bool {
    let mut p = src_dir();
    for seg in path {
        p.push(seg);
    }
    p.is_dir() || p.with_extension("rs").is_file()
}

/// The module a `crate::a::b::Item` path lands in, at most two levels deep.
fn target_of(path: &[String]) -> Option<Module> {
    let mut module = Vec::new();
    for seg in path.iter().take(2) {
        let mut next = module.clone();
        next.push(seg.clone());
        if is_module(&next) {
            module = next;
        } else {
            break;
        }
    }
    (!module.is_empty()).then_some(module)
}

/// The code without its test module and comments.
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    text.lines()
        .map(|l| match l.trim_start().starts_with("//") {
            true => "",
            false => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path that starts with `crate::`, with `use crate::{a::{b, c}, d}` groups expanded.
fn crate_paths(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        expand(rest, Vec::new(), &mut out);
    }
    out
}

/// Reads one use-tree at the start of `text` below `prefix`.
fn expand(text: &str, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    let text = text.trim_start();
    if let Some(group) = text.strip_prefix('{') {
        let mut depth = 0usize;
        let mut start = 0;
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    expand(&group[start..i], prefix.clone(), out);
                    return;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(&group[start..i], prefix.clone(), out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        return;
    }
    let ident: String = text
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    if ident.is_empty() {
        if !prefix.is_empty() {
            out.push(prefix);
        }
        return;
    }
    let mut path = prefix;
    if ident != "self" {
        path.push(ident.clone());
    }
    match text[ident.len()..].strip_prefix("::") {
        Some(more) => expand(more, path, out),
        None => out.push(path),
    }
}

/// Module-to-module edges of the library, outside test modules.
fn module_edges() -> BTreeMap<Module, BTreeSet<Module>> {
    let mut files = Vec::new();
    library_files(&src_dir(), &mut files);
    let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for file in files {
        let from = module_of(&file);
        if matches!(
            from.last().map(String::as_str),
            Some("main" | "lib" | "layers_test" | "commands" | "tests")
        ) {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("source is readable");
        let targets = edges.entry(from.clone()).or_default();
        for path in crate_paths(&code_of(&text)) {
            if let Some(to) = target_of(&path) {
                if to != from && !from.starts_with(&to) {
                    targets.insert(to);
                }
            }
        }
    }
    edges
}

/// One row of the map's layer table.
#[derive(Debug)]
struct Layer {
    imports: BTreeSet<String>,
    never: BTreeSet<String>,
}

/// The layer table: rows `| \`name\` | owns | imports | never imports |`.
fn map_layers() -> BTreeMap<String, Layer> {
    let names = |cell: &str| -> BTreeSet<String> {
        cell.split(',')
            .map(|s| s.trim().trim_matches('`').to_owned())
            .filter(|s| !s.is_empty() && s != "—" && s != "nothing")
            .collect()
    };
    let mut layers = BTreeMap::new();
    let mut in_table = false;
    for line in MAP.lines() {
        if line.starts_with("| layer |") {
            in_table = true;
            continue;
        }
        if in_table && !line.starts_with('|') {
            break;
        }
        if !in_table || line.starts_with("|---") {
            continue;
        }
        let cells: Vec<&str> = line.trim_matches('|').split('|').collect();
        assert_eq!(cells.len(), 4, "a layer row has 4 cells: {line}");
        layers.insert(
            cells[0].trim().trim_matches('`').to_owned(),
            Layer {
                imports: names(cells[2]),
                never: names(cells[3]),
            },
        );
    }
    assert!(
        !layers.is_empty(),
        "architecture.md has a `| layer |` table"
    );
    layers
}

#[test]
fn the_code_map_names_every_layer_edge_and_no_layer_breaks_its_rules() {
    let layers = map_layers();
    let all: BTreeSet<String> = layers.keys().cloned().collect();
    let mut actual: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, targets) in module_edges() {
        let layer = from[0].clone();
        assert!(
            layers.contains_key(&layer),
            "`{}` is in no layer of the code map",
            from.join("::")
        );
        let entry = actual.entry(layer.clone()).or_default();
        for to in targets {
            if to[0] != layer {
                entry.insert(to[0].clone());
            }
        }
    }
    let mut problems = Vec::new();
    for (name, layer) in &layers {
        let others: BTreeSet<String> = all.iter().filter(|l| *l != name).cloned().collect();
        let stated: BTreeSet<String> = layer.imports.union(&layer.never).cloned().collect();
        if stated != others {
            problems.push(format!(
                "`{name}`: imports and never-imports must together name every other layer exactly once"
            ));
        }
        let uses = actual.get(name).cloned().unwrap_or_default();
        for broken in uses.intersection(&layer.never) {
            problems.push(format!(
                "`{name}` imports `{broken}`, which the map forbids"
            ));
        }
        for missing in uses.difference(&layer.imports) {
            if !layer.never.contains(missing) {
                problems.push(format!("`{name}` imports `{missing}`: add it to the map"));
            }
        }
        for stale in layer.imports.difference(&uses) {
            problems.push(format!(
                "`{name}` no longer imports `{stale}`: move it to never-imports"
            ));
        }
    }
    assert!(problems.is_empty(), "code map:\n{}", problems.join("\n"));
}

#[test]
fn no_modules_import_each_other_in_a_circle() {
    let edges = module_edges();
    // Depth-first search for a back edge; reports the circle it closes.
    fn visit(
        m: &Module,
        edges: &BTreeMap<Module, BTreeSet<Module>>,
        stack: &mut Vec<Module>,
        done: &mut BTreeSet<Module>,
        circles: &mut Vec<String>,
    ) {
        if done.contains(m) {
            return;
        }
        if let Some(at) = stack.iter().position(|s| s == m) {
            let circle: Vec<String> = stack[at..].iter().map(|s| s.join("::")).collect();
            circles.push(format!("{} -> {}", circle.join(" -> "), m.join("::")));
            return;
        }
        stack.push(m.clone());
        for next in edges.get(m).into_iter().flatten() {
            visit(next, edges, stack, done, circles);
        }
        stack.pop();
        done.insert(m.clone());
    }
    let mut circles = Vec::new();
    let mut done = BTreeSet::new();
    for m in edges.keys() {
        visit(m, &edges, &mut Vec::new(), &mut done, &mut circles);
    }
    assert!(
        circles.is_empty(),
        "import circles:\n{}",
        circles.join("\n")
    );
}

#[test]
fn the_reader_sees_grouped_and_nested_imports() {
    let paths = crate_paths(
        "use crate::ingest::{auth::{Verified, self}, event};\nlet x = crate::base::json::doc(1);\nlet y = hookgate::crate_x;",
    );
    let shown: Vec<String> = paths.iter().map(|p| p.join("::")).collect();
    assert_eq!(
        shown,
        [
            "ingest::auth::Verified",
            "ingest::auth",
            "ingest::event",
            "base::json::doc"
        ]
    );
}

/// Prints the graph: `cargo test --lib layers_test::print -- --ignored --nocapture`.
#[test]
#[ignore]
fn print() {
    for (from, to) in module_edges() {
        let to: Vec<String> = to.iter().map(|m| m.join("::")).collect();
        println!("{} -> {}", from.join("::"), to.join(" "));
    }
}
