//! The running bot: settings ([`config`]), wiring ([`app`]), the callback server ([`http`]) and
//! the department's web [`desk`] beside it,
//! workers ([`worker`]) and the evidence they keep ([`evidence`]), the timer [`scheduler`], the
//! calendar reload ([`calendar_watch`]), the [`outbox`] sender, the Prometheus [`metrics`], the built-in fake WeCom
//! and console ([`sim`]), and the command-line tools ([`exports`], [`loadgen`], [`stored_refs`]).

pub mod app;
pub mod calendar_watch;
pub mod config;
pub mod desk;
pub mod evidence;
pub mod exports;
pub mod http;
pub mod loadgen;
pub mod metrics;
pub mod outbox;
pub mod people;
pub mod scheduler;
pub mod sim;
pub mod stored_refs;
pub mod worker;
