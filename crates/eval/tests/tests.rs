//! Integration tests of the evaluation loop.
