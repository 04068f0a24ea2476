//! The same-origin guard. `scribseg serve` listens on the user's machine,
//! where any web page they visit can send it requests; three rules close
//! what that would allow, and every response says how it may be used.
//!
//! - **Host** (DNS rebinding): a page on `evil.example` whose name is made
//!   to resolve to 127.0.0.1 reaches the server as `Host: evil.example:7878`.
//!   Only loopback names (`localhost`, `*.localhost`, 127.0.0.0/8, `[::1]`),
//!   the address the server is bound to and the hosts of `--allow-origin`
//!   pass.
//! - **Origin** (cross-site requests, WebSocket hijacking): a browser names
//!   the page behind every cross-origin request and every WebSocket
//!   handshake in `Origin`; it must be the server's own origin (the one its
//!   `Host` names) or one given with `--allow-origin`. A request without
//!   `Origin` comes from a program on this machine, not from a page, and
//!   passes.
//! - **Non-simple writes** (CSRF through a browser that leaves `Origin`
//!   out): a request that changes state (POST, PUT, PATCH, DELETE) must
//!   carry a JSON body or the [`WRITE_HEADER`]. A cross-site page cannot send
//!   either without a CORS preflight, which this server never grants.
//!
//! Every response carries `X-Content-Type-Options: nosniff`,
//! `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer` and a content
//! security policy that lets the page load and connect to its own origin
//! only.

use std::net::IpAddr;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{Error, Result};
use crate::state::AppState;

/// The header a request that changes state may carry instead of a JSON body
/// (any value); the page sends it on every request.
pub const WRITE_HEADER: &str = "x-scribseg";

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// Middleware: refuses requests that fail a rule above (403, naming the
/// rule), and adds the security headers to every response.
pub(crate) async fn same_origin(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = match check(&state, &request) {
        Ok(()) => next.run(request).await,
        Err(err) => err.into_response(),
    };
    let headers = response.headers_mut();
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CONTENT_SECURITY_POLICY, CSP),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

fn check(state: &AppState, request: &Request) -> Result<()> {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase)
        .ok_or_else(|| Error::Forbidden("the request names no Host".into()))?;
    if !host_allowed(state, &host) {
        return Err(Error::Forbidden(format!(
            "Host {host:?} is not this server's: open it as http://localhost or \
             http://127.0.0.1, or start it with --allow-origin http://{host}"
        )));
    }
    if let Some(origin) = request.headers().get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("").to_ascii_lowercase();
        let same = authority(&origin).is_some_and(|a| a == host);
        if !same && !state.allow_origins.contains(&origin) {
            return Err(Error::Forbidden(format!(
                "requests from the page {origin:?} are refused: only this server's own page \
                 (or one given with --allow-origin) may use it"
            )));
        }
    }
    let writes = ![Method::GET, Method::HEAD, Method::OPTIONS].contains(request.method());
    let json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/json"));
    if writes && !json && !request.headers().contains_key(WRITE_HEADER) {
        return Err(Error::Forbidden(format!(
            "a {} without a JSON body must carry the header `X-Scribseg: 1` \
             (a guard against requests forged by other web pages)",
            request.method()
        )));
    }
    Ok(())
}

/// Whether the name in a `Host` value (`name`, `name:port`, `[v6]:port`) is
/// a loopback name, the bound address or the host of an allowed origin.
fn host_allowed(state: &AppState, host: &str) -> bool {
    let name = host_name(host);
    let ip = name
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .ok();
    name == "localhost"
        || name.ends_with(".localhost")
        || ip.is_some_and(|ip| ip.is_loopback())
        || ip.is_some_and(|ip| Some(ip) == state.bound.filter(|b| !b.is_unspecified()))
        || state
            .allow_origins
            .iter()
            .filter_map(|origin| authority(origin))
            .any(|allowed| host_name(allowed) == name)
}

/// The host of `name[:port]` or `[v6][:port]`.
fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split_inclusive(']').next().unwrap_or(host);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// The `host[:port]` of an origin `scheme://host[:port]`, if it is one.
fn authority(origin: &str) -> Option<&str> {
    let (scheme, rest) = origin.split_once("://")?;
    let valid = matches!(scheme, "http" | "https") && !rest.is_empty() && !rest.contains('/');
    valid.then_some(rest)
}

/// Checks an `--allow-origin` value: `http(s)://host[:port]`, nothing after.
///
/// # Errors
///
/// [`Error::Options`] naming the value and the expected form.
pub(crate) fn parse_allowed_origin(origin: &str) -> Result<String> {
    let lower = origin.trim_end_matches('/').to_ascii_lowercase();
    authority(&lower).map(|_| lower.clone()).ok_or_else(|| {
        Error::Options(format!(
            "--allow-origin {origin:?} is not an origin: give it as http://host:port"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_are_read_with_and_without_ports() {
        assert_eq!(host_name("localhost:7878"), "localhost");
        assert_eq!(host_name("[::1]:7878"), "[::1]");
        assert_eq!(host_name("[::1]"), "[::1]");
        assert_eq!(host_name("evil.example"), "evil.example");
        assert_eq!(authority("http://127.0.0.1:9"), Some("127.0.0.1:9"));
        assert_eq!(authority("null"), None);
        assert_eq!(authority("http://a.example/path"), None);
        assert_eq!(
            parse_allowed_origin("HTTP://Tool.Example:8080/").expect("an origin"),
            "http://tool.example:8080"
        );
        assert!(parse_allowed_origin("tool.example").is_err());
    }
}
