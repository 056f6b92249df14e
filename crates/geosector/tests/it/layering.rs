//! The core never names a sector (docs/architecture.md, "A sector plugs in"): `store`, `ingest`,
//! `server` and `catalogue` depend on no sector crate, directly or through another workspace crate, and no
//! non-test source of theirs names a sector schema. The same as
//! `cargo tree -e normal -p geosector-store -p geosector-ingest -p geosector-server | grep -E
//! 'geosector-(land|minerals|water|environment)'`, without running cargo.

use std::collections::BTreeSet;
use std::path::Path;

use crate::support::repo;

const CORE: &[&str] = &["store", "ingest", "server", "catalogue"];
const SECTORS: &[&str] = &["land", "minerals", "water", "environment"];

/// The workspace crates a crate depends on (normal dependencies only), by directory name.
fn normal_dependencies(dir: &str) -> Vec<String> {
    let manifest = repo().join("crates").join(dir).join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
    let doc: toml::Table = text.parse().unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
    let Some(deps) = doc.get("dependencies").and_then(|d| d.as_table()) else { return Vec::new() };
    deps.keys()
        .filter_map(|name| name.strip_prefix("geosector-"))
        .map(str::to_owned)
        .filter(|dir| repo().join("crates").join(dir).join("Cargo.toml").is_file())
        .collect()
}

#[test]
fn no_core_crate_depends_on_a_sector_crate() {
    for core in CORE {
        let mut seen = BTreeSet::new();
        let mut todo = vec![((*core).to_owned(), vec![(*core).to_owned()])];
        while let Some((dir, path)) = todo.pop() {
            for dep in normal_dependencies(&dir) {
                let mut through = path.clone();
                through.push(dep.clone());
                assert!(
                    !SECTORS.contains(&dep.as_str()),
                    "geosector-{core} depends on a sector crate: {}",
                    through.iter().map(|d| format!("geosector-{d}")).collect::<Vec<_>>().join(" -> ")
                );
                if seen.insert(dep.clone()) {
                    todo.push((dep, through));
                }
            }
        }
        assert!(seen.contains("domain"), "walked geosector-{core}'s dependencies: {seen:?}");
    }
}

/// The lines of a source file before its `#[cfg(test)]` module (tests are at the bottom of a
/// file in this codebase).
fn code_lines(file: &Path) -> Vec<(usize, String)> {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    text.lines().take_while(|l| l.trim() != "#[cfg(test)]").map(str::to_owned).enumerate().collect()
}

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs" || e == "js" || e == "sql") {
            out.push(path);
        }
    }
}

#[test]
fn no_core_source_names_a_sector_schema() {
    let mut found = Vec::new();
    for core in CORE {
        let mut files = Vec::new();
        sources(&repo().join("crates").join(core).join("src"), &mut files);
        assert!(!files.is_empty(), "no source found for {core}");
        for file in files {
            for (n, line) in code_lines(&file) {
                for sector in SECTORS {
                    let schema = format!("{sector}.");
                    let named = line.match_indices(&schema).any(|(i, _)| {
                        // `land.parcels`: `land` as a word (not `mainland.`) followed by a name
                        // (not the end of a sentence).
                        let word = |c: char| c.is_alphanumeric() || c == '_';
                        !line[..i].chars().next_back().is_some_and(word)
                            && line[i + schema.len()..].chars().next().is_some_and(word)
                    });
                    if named {
                        found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                    }
                }
            }
        }
    }
    assert!(found.is_empty(), "core sources name a sector schema:\n{}", found.join("\n"));
}

/// The crate-level modules a source file uses (`crate::name` outside comments and tests).
fn used_modules(file: &Path) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    for (_, line) in code_lines(file) {
        let line = line.trim();
        if line.starts_with("//") {
            continue;
        }
        let mut rest = line;
        while let Some(i) = rest.find("crate::") {
            rest = &rest[i + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                // `use crate::{a, b::c}`: every name of the group.
                let end = group.find('}').unwrap_or(group.len());
                for item in group[..end].split(',') {
                    used.insert(item.trim().split("::").next().unwrap_or_default().to_owned());
                }
                rest = &group[end..];
            } else {
                let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                used.insert(name);
            }
        }
    }
    used
}

#[test]
fn no_module_uses_a_module_that_uses_it_back() {
    let mut cycles = Vec::new();
    for entry in std::fs::read_dir(repo().join("crates")).expect("crates/") {
        let src = entry.expect("entry").path().join("src");
        if !src.is_dir() {
            continue;
        }
        // Each top-level module (a file, or a folder with its files) and what it uses.
        let mut modules: Vec<(String, BTreeSet<String>)> = Vec::new();
        let mut files = Vec::new();
        sources(&src, &mut files);
        for file in files.iter().filter(|f| f.extension().is_some_and(|e| e == "rs")) {
            let relative = file.strip_prefix(&src).expect("under src");
            let top = relative.components().next().expect("a component").as_os_str().to_string_lossy();
            let top = top.trim_end_matches(".rs").to_owned();
            if top == "lib" || top == "main" {
                continue;
            }
            let used = used_modules(file);
            match modules.iter_mut().find(|(m, _)| *m == top) {
                Some((_, all)) => all.extend(used),
                None => modules.push((top, used)),
            }
        }
        for (a, uses_a) in &modules {
            for (b, uses_b) in &modules {
                if a < b && uses_a.contains(b) && uses_b.contains(a) {
                    cycles.push(format!("{}: {a} <-> {b}", src.display()));
                }
            }
        }
    }
    assert!(cycles.is_empty(), "modules that use each other:\n{}", cycles.join("\n"));
}
