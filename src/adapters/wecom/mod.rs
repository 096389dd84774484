//! Everything that speaks WeCom's protocol: callback crypto, inbound messages, the outbound API,
//! and the rendering of the domain's replies into WeCom's message bodies.

pub mod api;
pub mod crypto;
pub mod message;
pub mod render;
pub mod userid;
