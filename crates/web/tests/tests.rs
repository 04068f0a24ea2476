//! Integration tests of the web annotator: the JSON API and the WebSocket
//! against a real server on a loopback port, and the page in headless
//! Chromium. All share one binary.

mod api;
mod browser;
mod cdp;
mod origin;
mod socket;
mod util;
mod volumes;
