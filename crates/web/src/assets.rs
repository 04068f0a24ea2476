//! The page: HTML, CSS and JavaScript modules embedded in the binary.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::extract::Path;

/// `(file name, content type, contents)` of every asset.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_str!("../assets/index.html"),
    ),
    (
        "icon.svg",
        "image/svg+xml",
        include_str!("../assets/icon.svg"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("../assets/style.css"),
    ),
    (
        "main.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/main.js"),
    ),
    (
        "api.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/api.js"),
    ),
    (
        "view.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/view.js"),
    ),
    (
        "overlay.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/overlay.js"),
    ),
    (
        "socket.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/socket.js"),
    ),
    (
        "panels.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/panels.js"),
    ),
];

/// `GET /`: the page.
pub(crate) async fn index() -> Response {
    serve("index.html")
}

/// `GET /assets/{file}`.
pub(crate) async fn asset(Path(file): Path<String>) -> Response {
    serve(&file)
}

fn serve(name: &str) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, body)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            *body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::ASSETS;

    /// `text` with `<kbd>k</kbd>` written as Markdown code, `` `k` ``.
    fn as_markdown(text: &str) -> String {
        text.replace("<kbd>", "`").replace("</kbd>", "`")
    }

    #[test]
    fn the_readme_lists_every_row_of_the_pages_help_sheet() {
        let page = ASSETS
            .iter()
            .find(|(name, _, _)| *name == "index.html")
            .map(|(_, _, html)| *html)
            .expect("the page");
        let readme =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
                .expect("README.md");
        let rows: Vec<String> = page
            .split("<tr><td>")
            .skip(1)
            .map(|row| {
                let row = row.split("</td></tr>").next().unwrap_or_default();
                format!("| {} |", as_markdown(&row.replace("</td><td>", " | ")))
            })
            .collect();
        assert!(rows.len() > 10, "the help sheet's rows: {rows:?}");
        let missing: Vec<&String> = rows
            .iter()
            .filter(|row| !readme.contains(row.as_str()))
            .collect();
        assert!(
            missing.is_empty(),
            "README.md lacks these help rows: {missing:#?}"
        );
    }
}
