//! The outside world: WeCom's protocol, API and message rendering ([`wecom`]) and the shared
//! state on Redis or an embedded SQLite file ([`store`]).

pub mod store;
pub mod wecom;
