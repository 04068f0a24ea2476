//! The crate's error type and its JSON response.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// Everything that can go wrong in the store, the model plumbing or a request.
///
/// Each variant maps to one HTTP status; the JSON body is
/// `{"error": "<message>", "status": <code>}`. Database and internal
/// details are logged, not sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A project, image, label or stroke that does not exist (404).
    #[error("{what} {id} not found")]
    NotFound {
        /// What was looked up: "project", "image", "label", "stroke".
        what: &'static str,
        /// The id asked for.
        id: i64,
    },
    /// A URL the server does not know (404).
    #[error("no such route (the API lives under /api, see crates/web/API.md)")]
    NoRoute,
    /// Malformed or invalid input: JSON, parameters, image bytes (400).
    #[error("{0}")]
    BadRequest(String),
    /// A name that is already taken, or a request that clashes with the stored state (409).
    #[error("{0}")]
    Conflict(String),
    /// A body over the upload limit (413).
    #[error("{0}")]
    TooLarge(String),
    /// A request from another site, to another host name, or a write that
    /// a web page could have forged (403; see the same-origin guard).
    #[error("{0}")]
    Forbidden(String),
    /// A request without the right token (401).
    #[error("missing or wrong token: pass `Authorization: Bearer <token>` or `?token=<token>`")]
    Unauthorized,
    /// SQLite failed.
    #[error("database: {0}")]
    Database(#[source] rusqlite::Error),
    /// Reading a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Server options that cannot work together (never sent to a client).
    #[error("{0}")]
    Options(String),
    /// A bug or a panicked worker.
    #[error("internal error: {0}")]
    Internal(String),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A 400 error with `message`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest(message.into())
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::NotFound { .. } | Error::NoRoute => StatusCode::NOT_FOUND,
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::Conflict(_) => StatusCode::CONFLICT,
            Error::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::Unauthorized => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::Database(_) | Error::Io { .. } | Error::Options(_) | Error::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(err: rusqlite::Error) -> Self {
        match &err {
            rusqlite::Error::SqliteFailure(e, _)
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Error::Conflict("that name is already taken".into())
            }
            _ => Error::Database(err),
        }
    }
}

impl From<JsonRejection> for Error {
    fn from(rejection: JsonRejection) -> Self {
        match rejection.status() {
            // axum's default limit for bodies that are not uploads.
            StatusCode::PAYLOAD_TOO_LARGE => Error::TooLarge(
                "the JSON body is over the limit of 2 MiB (a stroke of up to \
                 100,000 points fits in it)"
                    .into(),
            ),
            _ => Error::BadRequest(rejection.body_text()),
        }
    }
}

impl From<PathRejection> for Error {
    fn from(rejection: PathRejection) -> Self {
        Error::BadRequest(rejection.body_text())
    }
}

impl From<QueryRejection> for Error {
    fn from(rejection: QueryRejection) -> Self {
        Error::BadRequest(rejection.body_text())
    }
}

impl From<tokio::task::JoinError> for Error {
    fn from(err: tokio::task::JoinError) -> Self {
        Error::Internal(format!("worker failed: {err}"))
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = if status.is_server_error() {
            tracing::error!("{self}");
            match self {
                Error::Io { .. } => "could not read the file".to_string(),
                _ => "internal server error (see the server log)".to_string(),
            }
        } else {
            self.to_string()
        };
        let body = json!({ "error": message, "status": status.as_u16() });
        (status, Json(body)).into_response()
    }
}
