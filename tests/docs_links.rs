//! The Markdown pages that the crate documentation includes (`README.md`, `docs/*.md`) link to
//! other files by relative paths, which work for a reader of the repository and are dead in
//! rustdoc's output: each such link must be a reference link whose name `src/lib.rs` defines
//! first, as a page of the crate documentation, right before the `include_str!`.

use std::collections::BTreeSet;
use std::path::Path;

/// Whether a link target leaves the page for another file of the repository (not an anchor, a
/// URL or a Rust path such as `macro@crate::get`, which rustdoc resolves).
fn is_relative(target: &str) -> bool {
    !(target.is_empty()
        || target.starts_with('#')
        || target.starts_with("http://")
        || target.starts_with("https://")
        || target.starts_with("mailto:")
        || target.contains("::"))
}

/// The lines of a Markdown text outside fenced code blocks.
fn prose_lines(text: &str) -> Vec<&str> {
    let mut in_code = false;
    text.lines()
        .filter(|line| {
            if line.trim_start().starts_with("```") {
                in_code = !in_code;
                return false;
            }
            !in_code
        })
        .collect()
}

/// A line's inline link targets: `[text](target)`, outside code spans.
fn inline_targets(line: &str) -> Vec<&str> {
    let mut targets = Vec::new();
    let mut in_span = false;
    let bytes = line.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'`' => in_span = !in_span,
            b']' if !in_span && bytes.get(i + 1) == Some(&b'(') => {
                if let Some(end) = line[i + 2..].find(')') {
                    targets.push(&line[i + 2..i + 2 + end]);
                }
            }
            _ => {}
        }
    }
    targets
}

/// A reference definition's name and target (`[name]: target`), if the line is one.
fn definition(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix('[')?;
    let (name, target) = rest.split_once("]: ")?;
    Some((name, target.trim()))
}

/// Each page that `src/lib.rs` includes, with the names defined in the `doc` attributes right
/// before its `include_str!`.
fn included_pages(lib: &str) -> Vec<(String, BTreeSet<String>)> {
    let mut pages = Vec::new();
    let mut defined = BTreeSet::new();
    for line in lib.lines().map(str::trim) {
        let doc = line.strip_prefix("#![doc = ").or_else(|| line.strip_prefix("#[doc = "));
        let Some(doc) = doc else {
            if !line.starts_with("//") && !line.is_empty() {
                defined.clear();
            }
            continue;
        };
        if let Some(path) = doc.strip_prefix("include_str!(\"../").and_then(|p| p.split_once('"')) {
            pages.push((path.0.to_owned(), std::mem::take(&mut defined)));
        } else if let Some((name, target)) = doc.strip_prefix('"').and_then(definition) {
            assert!(target.starts_with("crate::"), "{name}: {target} is no page of these docs");
            defined.insert(name.to_owned());
        }
    }
    pages
}

#[test]
fn included_pages_link_to_files_through_names_the_crate_defines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lib = std::fs::read_to_string(root.join("src/lib.rs")).expect("src/lib.rs");
    let pages = included_pages(&lib);
    let names: BTreeSet<&str> = pages.iter().map(|(path, _)| path.as_str()).collect();
    for expected in ["README.md", "docs/RECIPES.md", "docs/CONFIG.md", "docs/AUTHENTICATION.md", "docs/CACHE.md"] {
        assert!(names.contains(expected), "{expected} is not in the crate docs: {names:?}");
    }
    let mut problems = Vec::new();
    for (path, defined) in &pages {
        let text = std::fs::read_to_string(root.join(path)).expect("an included page");
        for line in prose_lines(&text) {
            for target in inline_targets(line).into_iter().filter(|t| is_relative(t)) {
                problems.push(format!("{path}: inline link to {target} (make it a reference link)"));
            }
            if let Some((name, target)) = definition(line)
                && is_relative(target)
                && !defined.contains(name)
            {
                problems.push(format!("{path}: [{name}]: {target} has no definition in src/lib.rs"));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_checks_find_what_they_look_for() {
    assert_eq!(inline_targets("see [a](docs/A.md) and `[b](c)`, [d](#e)"), ["docs/A.md", "#e"]);
    assert_eq!(definition("[config-doc]: docs/CONFIG.md"), Some(("config-doc", "docs/CONFIG.md")));
    assert_eq!(prose_lines("a\n```rust\n[x](y)\n```\nb"), ["a", "b"]);
    let lib = "#![doc = \"[a]: crate::docs::a\"]\n#![doc = include_str!(\"../README.md\")]\nmod x {}\n";
    let pages = included_pages(lib);
    assert_eq!(pages, [("README.md".to_owned(), BTreeSet::from(["a".to_owned()]))]);
}
