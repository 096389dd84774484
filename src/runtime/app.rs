//! Wiring: settings → store, scripts, crypto, API client → HTTP server, workers, outbox sender,
//! timer scheduler, calendar watcher;
//! run until a shutdown signal, then stop accepting, finish in-flight work and exit.
//!
//! Mode: in simulator mode (see [`crate::runtime::sim::enabled`]) the settings are pointed at the built-in
//! fake WeCom before anything else is built, and its routes are served next to the bot's.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

use crate::adapters::evidence::EvidenceStore;
use crate::adapters::store::Store;
use crate::adapters::store::embedded::EmbeddedStore;
use crate::adapters::store::redis::RedisStore;
use crate::adapters::wecom::api::WeComClient;
use crate::adapters::wecom::crypto::CallbackCrypto;
use crate::adapters::wecom::render::DeskLinks;
use crate::base::calendar::Calendar;
use crate::base::clock::Clock;
use crate::base::directory::{ContactsDirectory, Directory};
use crate::base::scripts::{Scripts, tpl};
use crate::dispatch::{Dispatcher, Services};
use crate::runtime::calendar_watch::CalendarWatch;
use crate::runtime::config::{DirectorySource, Settings};
use crate::runtime::desk::Desk;
use crate::runtime::evidence::Keeping;
use crate::runtime::http::{self, AppState, CallbackSettings};
use crate::runtime::outbox::{OutboxSender, Pacing};
use crate::runtime::people;
use crate::runtime::scheduler::Scheduler;
use crate::runtime::sim::{self, Simulator};
use crate::runtime::worker::{Handle, Worker};

/// How long one WeCom API call may take before it counts as failed.
const API_TIMEOUT: Duration = Duration::from_secs(10);

/// A built, not yet running bot.
pub struct Application {
    listener: TcpListener,
    /// The limits at the door, the connection cap fitted to the open-file limit.
    limits: http::Limits,
    door: http::Door,
    state: AppState,
    workers: Vec<Worker>,
    sender: Option<OutboxSender>,
    simulator: Option<Simulator>,
    scheduler: Scheduler,
    calendar: Calendar,
    calendar_watch: CalendarWatch,
}

/// Opens the store the settings name: Redis when `REDIS_URL` is set, else the embedded file;
/// where the store judges time itself, it reads `clock`.
pub async fn open_store(settings: &Settings, clock: &Clock) -> anyhow::Result<Arc<dyn Store>> {
    Ok(match &settings.redis_url {
        Some(url) => Arc::new(
            RedisStore::connect(url, &settings.redis_prefix)
                .await
                .context("connecting to Redis (REDIS_URL)")?
                .with_clock(clock.clone()),
        ),
        None => Arc::new(
            EmbeddedStore::open(&settings.data_dir)
                .with_context(|| {
                    format!(
                        "opening the embedded store in {}",
                        settings.data_dir.display()
                    )
                })?
                .with_clock(clock.clone()),
        ),
    })
}

/// The store the settings name, to read the records (`flowbot export`, `flowbot form`) also
/// while the bot runs: Redis as the bot opens it, the embedded store read-only (it takes none
/// of the running bot's locks).
pub async fn open_records_store(
    settings: &Settings,
    clock: &Clock,
) -> anyhow::Result<Arc<dyn Store>> {
    if settings.redis_url.is_some() {
        return open_store(settings, clock).await;
    }
    let store = EmbeddedStore::open_read_only(&settings.data_dir).with_context(|| {
        format!(
            "reading the embedded store in {}",
            settings.data_dir.display()
        )
    })?;
    Ok(Arc::new(store.with_clock(clock.clone())))
}

/// The store the settings name, for an operator's command that writes a little (`flowbot
/// dead-letters --resend`) also while the bot runs: Redis as the bot opens it; the embedded
/// store beside the running bot, if any (each operation one transaction, serialised with the
/// bot's by SQLite).
pub async fn open_operator_store(
    settings: &Settings,
    clock: &Clock,
) -> anyhow::Result<Arc<dyn Store>> {
    if settings.redis_url.is_some() {
        return open_store(settings, clock).await;
    }
    let store = EmbeddedStore::open_for_operator(&settings.data_dir).with_context(|| {
        format!(
            "opening the embedded store in {}",
            settings.data_dir.display()
        )
    })?;
    Ok(Arc::new(store.with_clock(clock.clone())))
}

/// How long the contacts API's answers are cached.
const DIRECTORY_TTL: Duration = Duration::from_secs(300);

/// The directory the settings name; the propaganda override applies to either source. The
/// contacts are asked through the one API client.
fn open_directory(
    settings: &Settings,
    scripts: &Scripts,
    client: Option<WeComClient>,
) -> anyhow::Result<Arc<dyn Directory>> {
    Ok(match (settings.directory, client) {
        (DirectorySource::WeCom, Some(client)) => Arc::new(ContactsDirectory::new(
            Arc::new(client),
            people::roles(settings, scripts),
            DIRECTORY_TTL,
        )),
        _ => Arc::new(people::static_directory(settings, scripts)?),
    })
}

impl Application {
    pub async fn build(mut settings: Settings) -> anyhow::Result<Self> {
        settings.check_safeties()?;
        crate::runtime::metrics::handle();
        // Bound first: the simulator's API base is this server's own address.
        let listener = TcpListener::bind(&settings.listen)
            .await
            .with_context(|| format!("cannot listen on {} (FLOWBOT_LISTEN)", settings.listen))?;
        let addr = listener.local_addr()?;
        let simulated = sim::enabled(&settings, addr)?;
        if simulated {
            sim::prepare(&mut settings, addr);
            tracing::info!(
                "flowbot in SIMULATOR mode: open the console at {} (built-in fake WeCom, no real messages leave this machine)",
                sim::console_url(addr)
            );
        } else if settings.wecom.is_some() {
            tracing::info!("flowbot in WeCom mode (API {})", settings.api_base);
        } else if settings.simulator.wanted(false) {
            tracing::warn!(
                "flowbot in unconfigured mode: no WeCom credentials, and the simulator is served only on loopback ({addr} is not; set FLOWBOT_SIMULATOR_PUBLIC=1); callbacks are refused"
            );
        } else {
            tracing::info!(
                "flowbot in unconfigured mode: no WeCom credentials and no simulator; callbacks are refused"
            );
        }
        let scripts =
            Arc::new(Scripts::load(&settings.scripts_dir).context("bot-scripts are invalid")?);
        // The company clock, in bot.toml's `[calendar] time_zone`; everything reads time from it.
        let clock = Clock::new(scripts.time_zone);
        let store = open_store(&settings, &clock).await?;
        // A campaign opening by schedule (`opens_on`): its durable timer, armed by every replica.
        crate::process::annual_review::schedule::arm(&*store, &scripts)
            .await
            .context("arming the annual review's opening")?;
        let new_events = Arc::new(Notify::new());
        let mut robot_keys = settings.robot_keys.clone();
        if simulated {
            // The simulator's robots accept any key: give every group one so its digests show.
            for group in scripts.groups.keys() {
                robot_keys
                    .entry(group.clone())
                    .or_insert_with(|| format!("sim-{group}"));
            }
        }
        // The dispatcher names the robots; the client looks their keys up when it delivers.
        let robots = robot_keys.keys().cloned().collect();

        // Evidence files (`[evidence]`): kept by the workers, forwarded by the sender.
        let evidence = match &scripts.evidence {
            Some(_) => Some(
                EvidenceStore::open(settings.evidence_url.as_deref(), &settings.data_dir)
                    .context("opening the evidence store (FLOWBOT_EVIDENCE_URL)")?,
            ),
            None => None,
        };
        let (callback, sender, client) = match &settings.wecom {
            Some(wecom) => {
                let crypto =
                    CallbackCrypto::new(&wecom.token, wecom.aes_key.clone(), &wecom.corp_id);
                let callback = CallbackSettings {
                    crypto,
                    replay_window: settings.replay_window,
                    dedupe_ttl: settings.dedupe_ttl,
                };
                let client = WeComClient::new(
                    &settings.api_base,
                    wecom.api_credentials(),
                    store.clone(),
                    API_TIMEOUT,
                    clock.clone(),
                )
                .with_robot_keys(robot_keys);
                let pacing = Pacing {
                    retry_for: scripts.delivery.retry_for,
                    ..settings.pacing.clone()
                };
                let sender =
                    OutboxSender::new(store.clone(), client.clone(), pacing, clock.clone())
                        .with_scripts(scripts.clone());
                let sender = match &evidence {
                    Some(store) => sender.with_evidence(store.clone()),
                    None => sender,
                };
                (Some(Arc::new(callback)), Some(sender), Some(client))
            }
            None => (None, None, None),
        };
        let directory = open_directory(&settings, &scripts, client.clone())?;
        // The department's desk (`[desk]`): it reads like a handler, through `Services`.
        let desk = match (&client, &settings.wecom, scripts.desk) {
            (Some(client), Some(wecom), true) => {
                let services = Services {
                    store: store.clone(),
                    scripts: scripts.clone(),
                    directory: directory.clone(),
                    clock: clock.clone(),
                    robots: Arc::default(),
                    processes: crate::process::all(),
                    desk_links: None,
                };
                let app = (
                    wecom.corp_id.as_str(),
                    wecom.agent_id,
                    wecom.secret.as_str(),
                );
                let desk = Desk::new(services, client.clone(), app, &settings.oauth_base);
                Some(Arc::new(desk))
            }
            _ => None,
        };
        // Workers wake the sender when they commit outbox items.
        let new_outbox = sender
            .as_ref()
            .map_or_else(|| Arc::new(Notify::new()), OutboxSender::notifier);
        let dispatcher: Arc<dyn Handle> = Arc::new(
            Dispatcher::new(
                store.clone(),
                scripts.clone(),
                directory,
                clock.clone(),
                crate::process::all(),
            )
            .with_robots(robots)
            .with_desk_links(desk_links(&settings, &scripts, desk.is_some())),
        );
        let dispatcher: Arc<dyn Handle> = match (&scripts.evidence, evidence, client) {
            (Some(rules), Some(store), Some(client)) => Arc::new(Keeping {
                inner: dispatcher,
                client,
                store,
                settings: rules.clone(),
            }),
            _ => dispatcher,
        };
        let workers = (0..settings.workers)
            .map(|_| {
                Worker::new(
                    store.clone(),
                    dispatcher.clone(),
                    settings.event_lease,
                    new_events.clone(),
                    new_outbox.clone(),
                    clock.clone(),
                )
                .with_delay_notice(settings.delay_notice)
                .with_batch(settings.worker_batch)
            })
            .collect();
        let simulator = match simulated {
            true => Some(Simulator::new(&settings, &scripts, addr, clock.clone()).await?),
            false => None,
        };
        // Fired timers are events: the scheduler wakes the workers like the callback does.
        let scheduler = Scheduler::new(store.clone(), new_events.clone(), clock.clone());
        // The scripts' calendar is a shared handle: the watcher's reload changes it for all.
        let calendar = scripts.calendar.clone();
        let calendar_watch = CalendarWatch::new(
            &settings.scripts_dir,
            calendar.clone(),
            settings.calendar_poll,
        );
        let store_name = match &settings.redis_url {
            Some(_) => format!("redis (prefix {})", settings.redis_prefix),
            None => format!("embedded ({})", settings.data_dir.display()),
        };
        let wecom = match &settings.wecom {
            Some(w) if simulated => format!("simulated (corp {} agent {})", w.corp_id, w.agent_id),
            Some(w) => format!("corp {} agent {}", w.corp_id, w.agent_id),
            None => "not configured: set WECOM_CORP_ID, WECOM_AGENT_ID, WECOM_SECRET, WECOM_TOKEN, WECOM_AES_KEY".into(),
        };
        tracing::info!(
            "flowbot listening on http://{}; callback URL path /wecom/callback; store {store_name}; WeCom {wecom}",
            listener.local_addr()?
        );
        let state = AppState {
            store,
            callback,
            new_events,
            clock,
            desk,
        };
        let mut limits = settings.limits.clone();
        limits.max_connections = http::fitting_cap(limits.max_connections);
        Ok(Self {
            listener,
            limits,
            door: http::Door::default(),
            state,
            workers,
            sender,
            simulator,
            scheduler,
            calendar,
            calendar_watch,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The door of the callback port (its open connections, for tests and operators).
    pub fn door(&self) -> http::Door {
        self.door.clone()
    }

    pub fn store(&self) -> Arc<dyn Store> {
        self.state.store.clone()
    }

    /// The bot's calendar: the handle its scripts use, reloaded when the folder changes.
    pub fn calendar(&self) -> Calendar {
        self.calendar.clone()
    }

    /// The bot's clock (tests and the simulator move it ahead).
    pub fn clock(&self) -> Clock {
        self.state.clock.clone()
    }

    /// Serves until `shutdown` completes, then stops the workers, the sender, the scheduler and
    /// the calendar watcher.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let stopped = move || {
            let mut rx = stop_rx.clone();
            async move {
                let _ = rx.wait_for(|stop| *stop).await;
            }
        };
        let mut tasks = tokio::task::JoinSet::new();
        for worker in self.workers {
            tasks.spawn(worker.run_until_stopped(stopped()));
        }
        if let Some(sender) = self.sender {
            tasks.spawn(sender.run_until_stopped(stopped()));
        }
        tasks.spawn(self.scheduler.run_until_stopped(stopped()));
        tasks.spawn(self.calendar_watch.run_until_stopped(stopped()));
        let mut router = http::router(self.state, &self.limits);
        if let Some(simulator) = &self.simulator {
            router = router.merge(simulator.router());
        }
        let server = http::serve(self.listener, router, self.limits, self.door, async move {
            shutdown.await;
            tracing::info!("shutting down: no new callbacks, finishing in-flight work");
        });
        let result = server.await.context("HTTP server failed");
        let _ = stop_tx.send(true);
        while let Some(done) = tasks.join_next().await {
            if let Err(e) = done {
                tracing::error!(error = %e, "a background task failed");
            }
        }
        result
    }
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

/// The links from messages to the desk: when it is served, its address is known
/// (`FLOWBOT_DESK_URL`, or the simulator's) and bot.toml `[desk]` words them.
fn desk_links(settings: &Settings, scripts: &Scripts, served: bool) -> Option<DeskLinks> {
    let base = settings.desk_url.clone().filter(|_| served)?;
    let word = |key: &str| {
        let name = tpl::desk(key);
        scripts
            .has(&name)
            .then(|| scripts.render(&name, &minijinja::Value::UNDEFINED))
    };
    Some(DeskLinks {
        base,
        label: word("link_label")?,
        text: word("link_text")?,
    })
}
