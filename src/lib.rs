//! flowbot: a WeCom (企业微信) bot that turns a company's new-media policy into chat.
//!
//! The crate is layered; each layer imports only the layers below it (see
//! `docs/ARCHITECTURE.md`):
//!
//! 1. [`base`]: foundations — bot-scripts, the working-day calendar, the company clock, who is
//!    who (the directory), text normalisation;
//! 2. [`domain`]: the policy as pure functions — forms, approval chains, reminder ladders, the
//!    register, and what the bot says;
//! 3. [`adapters`]: the outside world — WeCom's protocol and API, the store (Redis or embedded);
//! 4. [`dispatch`]: pipeline events and the router that hands each to its process;
//! 5. [`process`]: one module per policy process (approvals, registration, change report, forms);
//! 6. [`runtime`]: the server — HTTP callback, workers, scheduler, outbox sender, settings, the
//!    simulator, the command-line tools.
//!
//! One callback's path: [`runtime::http`] verifies, decrypts and parses it and queues it with
//! one atomic store operation; a [`runtime::worker`] claims it, the [`dispatch::Dispatcher`]
//! routes it to a process, and the resulting commit (state, cases, timers, replies rendered for
//! WeCom) is applied atomically with the event's completion; the [`runtime::outbox`] sender
//! delivers the replies, paced and retried.

pub mod adapters;
pub mod base;
pub mod dispatch;
pub mod domain;
pub mod process;
pub mod runtime;
