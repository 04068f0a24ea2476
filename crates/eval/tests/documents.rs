//! The documents stay true to what they point at: EVAL.md's tables are the
//! ones `scribseg eval` wrote (`docs/eval/table.md`), and every relative link
//! in the repository's Markdown names a file that exists.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

#[test]
fn eval_md_carries_the_table_eval_wrote() {
    let root = root();
    let eval = read(&root.join("EVAL.md"));
    let (begin, end) = (
        "<!-- BEGIN docs/eval/table.md -->\n",
        "<!-- END docs/eval/table.md -->",
    );
    let start = eval
        .find(begin)
        .expect("EVAL.md marks where the table begins")
        + begin.len();
    let stop = eval[start..]
        .find(end)
        .map(|at| start + at)
        .expect("EVAL.md marks where the table ends");
    let table = read(&root.join("docs/eval/table.md"));
    let (heading, body) = table.split_once('\n').expect("a heading line");
    assert!(heading.starts_with("# "), "{heading}");
    assert_eq!(
        eval[start..stop].trim(),
        body.trim(),
        "EVAL.md's tables differ from docs/eval/table.md: copy the file in again"
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
