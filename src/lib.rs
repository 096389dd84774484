//! flowbot: a WeCom (企业微信) bot that turns a company's new-media policy into chat.
//!
//! A tour of the modules, following one callback through the pipeline:
//!
//! - [`wecom::crypto`] verifies the signature and decrypts the payload (pure);
//! - [`wecom::message`] parses the decrypted XML into a typed [`wecom::message::Inbound`] (pure);
//! - [`http`] serves `/wecom/callback` and dedupes + enqueues each message with one atomic
//!   [`store::Store`] operation before answering 200;
//! - [`worker`] claims the next event of one conversation; [`dispatch`] loads its state and the
//!   user's [`directory`] context and runs the pure [`domain::engine`] over the [`scripts`]; the worker
//!   commits the next state, new [`domain::records`] and outbound messages atomically with the event;
//! - [`outbox`] delivers those messages through [`wecom::api`], pacing them under WeCom's limits,
//!   retrying with back-off and dead-lettering what cannot be sent;
//! - [`store`] holds all shared state, on Redis or on an embedded SQLite file;
//! - [`scheduler`] fires durable timers ([`domain::reminders`]) into the same event pipeline;
//! - [`calendar`] counts deadlines in working days and hours on the holiday calendar (pure);
//! - [`config`] reads the settings, [`app`] wires everything together;
//! - [`sim`] is the built-in fake WeCom and its browser console, for trying the bot without WeCom.

pub mod app;
pub mod calendar;
pub mod clock;
pub mod config;
pub mod diagnostics;
pub mod directory;
pub mod dispatch;
pub mod domain;
pub mod event;
pub mod exports;
pub mod http;
pub mod loadgen;
pub mod locks;
pub mod normalize;
pub mod outbox;
pub mod process;
pub mod scheduler;
pub mod scripts;
pub mod sim;
pub mod store;
pub mod stored_refs;
pub mod wecom;
pub mod worker;
