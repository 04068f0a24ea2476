//! Extractors whose rejections answer in the crate's JSON error shape.

use axum::extract::{FromRequest, FromRequestParts};

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
