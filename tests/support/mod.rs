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

/// Runs each named property `async fn name(store: Arc<dyn Store>)` on a fresh store of each
/// backend, as `embedded::name` and `redis::name`.
macro_rules! store_properties {
    ($($prop:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $prop() {
                    let h = super::embedded_harness();
                    super::$prop(h.store.clone()).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $prop() {
                    let Some(h) = super::redis_harness().await else { return };
                    super::$prop(h.store.clone()).await;
                }
            )*
        }
    };
}

pub mod bot;
pub mod browser;
pub mod client;
pub mod fake_wecom;
pub mod files;
pub mod flows;
pub mod process;
pub mod scripts;
pub mod store;
pub mod wait;

pub use fake_wecom::{FakeWeCom, Recorded};
