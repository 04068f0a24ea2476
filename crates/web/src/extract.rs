//! Extractors whose rejections answer in the crate's JSON error shape.

use axum::extract::{FromRequest, FromRequestParts};
use axum::http::request::Parts;

use crate::error::Error;

/// A JSON body; a malformed one is a JSON 400.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(Error))]
pub struct Json<T>(pub T);

/// Path parameters; a non-numeric id is a JSON 400.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(Error))]
pub struct Path<T>(pub T);

/// Query parameters; a bad one is a JSON 400.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(Error))]
pub struct Query<T>(pub T);

/// The header naming the client (one page, one tab) that makes a change:
/// each client undoes its own steps (see `store::history`).
pub const CLIENT_HEADER: &str = "x-scribseg-client";

/// The author of a change: the [`CLIENT_HEADER`] (1 to 64 letters, digits,
/// `-` or `_`), or `""` when the request has none, for clients that share
/// one history.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Author(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Author {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(CLIENT_HEADER) else {
            return Ok(Author::default());
        };
        value
            .to_str()
            .ok()
            .filter(|v| {
                (1..=64).contains(&v.len())
                    && v.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            })
            .map(|v| Author(v.to_string()))
            .ok_or_else(|| {
                Error::bad_request(format!(
                    "{CLIENT_HEADER} must be 1 to 64 letters, digits, '-' or '_'"
                ))
            })
    }
}
