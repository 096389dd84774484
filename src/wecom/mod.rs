//! Everything that speaks WeCom's protocol: callback crypto, inbound messages, the outbound API.

pub mod api;
pub mod crypto;
pub mod message;
