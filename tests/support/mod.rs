//! Helpers shared by the integration tests. Each test binary uses a different part of them.
#![allow(dead_code, unused_imports, unused_macros)]

/// Runs each named scenario `async fn name(backend: Backend)` once per store backend, as
/// `embedded::name` and `redis::name`.
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::Backend::Embedded).await })*
        }
        mod redis {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::Backend::Redis).await })*
        }
    };
}

pub mod bot;
pub mod fake_wecom;
pub mod flows;

pub use fake_wecom::{FakeWeCom, Recorded};
