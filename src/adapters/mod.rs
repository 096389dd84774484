//! The outside world: WeCom's protocol, API and message rendering ([`wecom`]), the shared
//! state on Redis or an embedded SQLite file ([`store`]) and the evidence files ([`evidence`]).

pub mod evidence;
pub mod store;
pub mod wecom;
