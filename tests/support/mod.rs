//! Helpers shared by the integration tests. Each test binary uses a different part of them.
#![allow(dead_code, unused_imports)]

pub mod bot;
pub mod fake_wecom;
pub mod flows;

pub use fake_wecom::{FakeWeCom, Recorded};
