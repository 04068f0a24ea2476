//! Path patterns that pair images with masks in nested layouts, such as
//! `stage1_train/{id}/images/{id}.png` or
//! `PH2 Dataset images/{id}/{id}_lesion/{id}_lesion.bmp`.
//!
//! A pattern is a `/`-separated path below a dataset's folder. Within one
//! segment `{name}` captures a non-empty run of characters and `*` matches
//! any run; a segment with neither is a literal folder or file name. A name
//! used more than once must capture the same text each time. Matching lists
//! only the folders the pattern can reach, in sorted order.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// One piece of a segment.
#[derive(Clone, Debug, PartialEq)]
enum Piece {
    Literal(String),
    Capture(String),
    Any,
}

/// A parsed path pattern.
#[derive(Clone, Debug, PartialEq)]
pub struct PathPattern {
    text: String,
    segments: Vec<Vec<Piece>>,
}

/// A file a pattern matched, with what its captures took.
#[derive(Clone, Debug, PartialEq)]
pub struct PatternMatch {
    /// The file.
    pub path: PathBuf,
    /// The captured texts, in the order of [`PathPattern::names`], joined by `/`.
    pub key: String,
}

/// Whether `text` is a pattern rather than a plain folder name.
pub fn is_pattern(text: &str) -> bool {
    text.contains(['{', '*'])
}

impl PathPattern {
    /// Parses `text`; errors name `config` (the file the pattern came from).
    pub fn parse(text: &str, config: &Path) -> Result<Self> {
        let bad = |why: &str| Error::invalid(config, format!("path pattern {text:?}: {why}"));
        let mut segments = Vec::new();
        for segment in text.split('/') {
            if segment.is_empty() || segment == "." || segment == ".." {
                return Err(bad("empty, `.` and `..` segments are not allowed"));
            }
            let mut pieces = Vec::new();
            let mut rest = segment;
            while !rest.is_empty() {
                if let Some(after) = rest.strip_prefix('{') {
                    let (name, tail) = after.split_once('}').ok_or_else(|| bad("unclosed `{`"))?;
                    if name.is_empty() || name.contains(['{', '*']) {
                        return Err(bad("a capture needs a plain name, as in `{id}`"));
                    }
                    if matches!(pieces.last(), Some(Piece::Capture(_) | Piece::Any)) {
                        return Err(bad("two wildcards side by side are ambiguous"));
                    }
                    pieces.push(Piece::Capture(name.to_string()));
                    rest = tail;
                } else if let Some(tail) = rest.strip_prefix('*') {
                    if matches!(pieces.last(), Some(Piece::Capture(_) | Piece::Any)) {
                        return Err(bad("two wildcards side by side are ambiguous"));
                    }
                    pieces.push(Piece::Any);
                    rest = tail;
                } else {
                    let end = rest.find(['{', '*']).unwrap_or(rest.len());
                    if rest[..end].contains('}') {
                        return Err(bad("`}` without `{`"));
                    }
                    pieces.push(Piece::Literal(rest[..end].to_string()));
                    rest = &rest[end..];
                }
            }
            segments.push(pieces);
        }
        Ok(PathPattern {
            text: text.to_string(),
            segments,
        })
    }

    /// The capture names, in order of first appearance.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for piece in self.segments.iter().flatten() {
            if let Piece::Capture(name) = piece {
                if !names.contains(&name.as_str()) {
                    names.push(name);
                }
            }
        }
        names
    }

    /// Whether the pattern holds a `*`, so one key may match many files.
    pub fn has_any(&self) -> bool {
        self.segments.iter().flatten().any(|p| *p == Piece::Any)
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Every file below `root` the pattern matches, in sorted path order;
    /// keys join captures in the order of `order` (names missing from this
    /// pattern give empty parts).
    pub fn find(&self, root: &Path, order: &[&str]) -> Result<Vec<PatternMatch>> {
        if !root.is_dir() {
            return Err(Error::io(
                root,
                std::io::Error::new(std::io::ErrorKind::NotFound, "no such folder"),
            ));
        }
        let mut found = Vec::new();
        self.walk(root, 0, &BTreeMap::new(), &mut found)?;
        Ok(found
            .into_iter()
            .map(|(path, captures)| PatternMatch {
                key: order
                    .iter()
                    .map(|n| captures.get(*n).map_or("", String::as_str))
                    .collect::<Vec<_>>()
                    .join("/"),
                path,
            })
            .collect())
    }

    fn walk(
        &self,
        dir: &Path,
        depth: usize,
        captures: &BTreeMap<String, String>,
        found: &mut Vec<(PathBuf, BTreeMap<String, String>)>,
    ) -> Result<()> {
        let last = depth + 1 == self.segments.len();
        let pieces = &self.segments[depth];
        let mut entries: Vec<(String, PathBuf)> = match pieces.as_slice() {
            [Piece::Literal(name)] => vec![(name.clone(), dir.join(name))],
            _ => {
                let mut listed = Vec::new();
                for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
                    let path = entry.map_err(|e| Error::io(dir, e))?.path();
                    if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
                        listed.push((name.to_string(), path.clone()));
                    }
                }
                listed
            }
        };
        entries.sort();
        for (name, path) in entries {
            let wanted = if last { path.is_file() } else { path.is_dir() };
            if !wanted {
                continue;
            }
            let mut captures = captures.clone();
            if !match_pieces(pieces, &name, &mut captures) {
                continue;
            }
            if last {
                found.push((path, captures));
            } else {
                self.walk(&path, depth + 1, &captures, found)?;
            }
        }
        Ok(())
    }
}

/// Matches `text` against `pieces`, binding new captures into `captures`
/// and requiring bound ones to repeat their text; on failure `captures` is
/// left as it was.
fn match_pieces(pieces: &[Piece], text: &str, captures: &mut BTreeMap<String, String>) -> bool {
    let Some((first, rest)) = pieces.split_first() else {
        return text.is_empty();
    };
    match first {
        Piece::Literal(lit) => text
            .strip_prefix(lit.as_str())
            .is_some_and(|tail| match_pieces(rest, tail, captures)),
        Piece::Capture(name) if captures.contains_key(name) => {
            let bound = captures[name].clone();
            text.strip_prefix(bound.as_str())
                .is_some_and(|tail| match_pieces(rest, tail, captures))
        }
        Piece::Capture(_) | Piece::Any => {
            let min = usize::from(matches!(first, Piece::Capture(_)));
            for split in text.char_indices().map(|(i, _)| i).chain([text.len()]) {
                if split < min {
                    continue;
                }
                let mut trial = captures.clone();
                if let Piece::Capture(name) = first {
                    trial.insert(name.clone(), text[..split].to_string());
                }
                if match_pieces(rest, &text[split..], &mut trial) {
                    *captures = trial;
                    return true;
                }
            }
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(root: &Path, path: &str) {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, b"x").expect("write");
    }

    fn keys(pattern: &str, root: &Path, order: &[&str]) -> Vec<(String, String)> {
        PathPattern::parse(pattern, Path::new("c.toml"))
            .expect("parses")
            .find(root, order)
            .expect("walks")
            .into_iter()
            .map(|m| {
                let rel = m.path.strip_prefix(root).expect("below root");
                (m.key, rel.to_string_lossy().into_owned())
            })
            .collect()
    }

    #[test]
    fn nested_folders_pair_by_repeated_captures() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        touch(root, "set/IMD002/IMD002_lesion/IMD002_lesion.bmp");
        touch(root, "set/IMD002/IMD002_Dermoscopic_Image/IMD002.bmp");
        touch(root, "set/IMD003/IMD003_lesion/IMD003_lesion.bmp");
        touch(root, "set/IMD004/IMD999_lesion/IMD999_lesion.bmp");
        let found = keys("set/{id}/{id}_lesion/{id}_lesion.bmp", root, &["id"]);
        let ids: Vec<&str> = found.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(ids, ["IMD002", "IMD003"], "IMD004's inner names differ");
    }

    #[test]
    fn a_star_matches_many_files_per_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        for m in ["b.png", "a.png", "c.txt"] {
            touch(root, &format!("train/n1/masks/{m}"));
        }
        touch(root, "train/n1/images/n1.png");
        let found = keys("train/{id}/masks/*.png", root, &["id"]);
        assert_eq!(
            found,
            [
                ("n1".into(), "train/n1/masks/a.png".into()),
                ("n1".into(), "train/n1/masks/b.png".into())
            ]
        );
        let pattern = PathPattern::parse("train/{id}/masks/*.png", Path::new("c")).expect("ok");
        assert!(pattern.has_any());
        assert_eq!(pattern.names(), ["id"]);
    }

    #[test]
    fn several_captures_make_one_key_in_the_given_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        touch(root, "test/0001TP_008550.png");
        touch(root, "testannot/0001TP_008550.png");
        let found = keys("{set}annot/{id}.png", root, &["set", "id"]);
        assert_eq!(found[0].0, "test/0001TP_008550");
        let found = keys("{set}/{id}.png", root, &["set", "id"]);
        let sets: Vec<&str> = found.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(sets, ["test/0001TP_008550", "testannot/0001TP_008550"]);
    }

    #[test]
    fn malformed_patterns_are_named() {
        for bad in [
            "a/{id",
            "a/{}.png",
            "a//b",
            "../x/{id}",
            "{a}{b}",
            "a}.png",
            "*{id}",
        ] {
            let err = PathPattern::parse(bad, Path::new("conf.toml")).expect_err(bad);
            let text = err.to_string();
            assert!(text.contains("conf.toml") && text.contains(bad), "{text}");
        }
        assert!(is_pattern("x/{id}.png") && is_pattern("*.png") && !is_pattern("images"));
    }

    #[test]
    fn a_missing_root_is_an_error_and_missing_branches_match_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pattern = PathPattern::parse("a/{id}.png", Path::new("c")).expect("ok");
        assert!(pattern.find(&dir.path().join("nowhere"), &["id"]).is_err());
        assert!(pattern.find(dir.path(), &["id"]).expect("walks").is_empty());
    }
}
