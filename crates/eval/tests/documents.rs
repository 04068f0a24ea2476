//! The documents stay true to what they point at: EVAL.md's tables are the
//! ones `scribseg eval` wrote (`docs/eval/table.md`, `docs/eval/styles.md`), and every relative link
//! in the repository's Markdown names a file that exists.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// The text of EVAL.md between the markers of `name`, a file under `docs/eval/`.
fn included<'a>(eval: &'a str, name: &str) -> &'a str {
    let (begin, end) = (
        format!("<!-- BEGIN docs/eval/{name} -->\n"),
        format!("<!-- END docs/eval/{name} -->"),
    );
    let start = eval
        .find(&begin)
        .unwrap_or_else(|| panic!("EVAL.md marks where docs/eval/{name} begins"))
        + begin.len();
    let stop = eval[start..]
        .find(&end)
        .map(|at| start + at)
        .unwrap_or_else(|| panic!("EVAL.md marks where docs/eval/{name} ends"));
    &eval[start..stop]
}

#[test]
fn eval_md_carries_the_tables_eval_wrote() {
    let root = root();
    let eval = read(&root.join("EVAL.md"));
    let table = read(&root.join("docs/eval/table.md"));
    let (heading, body) = table.split_once('\n').expect("a heading line");
    assert!(heading.starts_with("# "), "{heading}");
    assert_eq!(
        included(&eval, "table.md").trim(),
        body.trim(),
        "EVAL.md's tables differ from docs/eval/table.md: copy the file in again"
    );
    let styles = read(&root.join("docs/eval/styles.md"));
    assert_eq!(
        included(&eval, "styles.md").trim(),
        styles.trim(),
        "EVAL.md's stroke-style table differs from docs/eval/styles.md: copy the file in again"
    );
}

/// The Markdown files a reader opens: the root's, `docs/`'s and the crates'.
fn markdown_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("a readable folder") {
            let path = entry.expect("a folder entry").path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if path.is_dir() {
                if !name.starts_with('.') && name != "target" {
                    folders.push(path);
                }
            } else if name.ends_with(".md") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The targets of the inline links `[text](target)` of a Markdown text.
fn link_targets(text: &str) -> Vec<&str> {
    let mut targets = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        if let Some(end) = rest.find(')') {
            targets.push(&rest[..end]);
            rest = &rest[end..];
        }
    }
    targets
}

#[test]
fn every_relative_link_in_the_documents_names_a_file_that_exists() {
    let root = root();
    let files = markdown_files(&root);
    assert!(files.len() >= 5, "{files:?}");
    let mut broken = Vec::new();
    for file in files {
        let text = read(&file);
        let folder = file.parent().expect("a file has a folder");
        for target in link_targets(&text) {
            let path = target.split('#').next().unwrap_or("");
            let external = target.contains("://") || target.starts_with("mailto:");
            if external || path.is_empty() {
                continue;
            }
            if !folder.join(path).exists() {
                broken.push(format!("{}: {target}", file.display()));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "links to missing files:\n{}",
        broken.join("\n")
    );
}
