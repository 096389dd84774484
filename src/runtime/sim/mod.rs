//! The simulator: a built-in fake WeCom that plays both sides of the real protocol, and a chat
//! console in the browser, so that the bot can be tried without a company account.
//!
//! - [`api`] is WeCom's API side, mounted under `/sim/api` (the bot's `WECOM_API_BASE`): tokens,
//!   `message/send`, `update_template_card`, `appchat/send`, `webhook/send`, `media/upload` and the contacts API
//!   from the demo directory. Every message lands in an in-memory inbox or group chat ([`state`]).
//! - [`user`] is WeCom's callback side: what a console user types, clicks or taps becomes the XML
//!   WeCom would send, encrypted and signed with the app's credentials and POSTed to the bot's own
//!   `/wecom/callback`. Nothing takes a shortcut around the protocol.
//! - [`oauth`] is WeCom's web sign-in for the desk: pick a person, get a one-time code.
//! - [`ui`] serves the console page (`/console`) and its JSON endpoints (`/sim/ui/...`), including
//!   the simulated clock's "jump ahead".
//!
//! Safety: the simulator is only served on a loopback address unless `FLOWBOT_SIMULATOR_PUBLIC=1`
//! (see [`enabled`]), answers only its own `Host` names ([`host`]), and when it runs the bot talks
//! to it instead of WeCom.

mod api;
mod contacts;
mod host;
mod oauth;
mod state;
mod ui;
mod user;

pub use api::multipart_file;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use rand::Rng;

use crate::adapters::wecom::crypto::{AesKey, CallbackCrypto};
use crate::base::clock::Clock;
use crate::base::directory::{Directory, Snapshot};
use crate::base::scripts::Scripts;
use crate::runtime::config::{Settings, SimulatorSetting, WeComSettings};

/// The path the fake WeCom API is mounted at; `WECOM_API_BASE` ends with it.
pub const API_PREFIX: &str = "/sim/api";
/// The simulated app's AgentId.
pub const AGENT_ID: i64 = 1000002;

/// Whether the simulator is served on `addr`. `FLOWBOT_SIMULATOR=on` on a non-loopback address
/// without `FLOWBOT_SIMULATOR_PUBLIC=1` is an error; the default (no credentials) falls back to
/// the plain bot there (the first log line says why).
pub fn enabled(settings: &Settings, addr: SocketAddr) -> anyhow::Result<bool> {
    if !settings.simulator.wanted(settings.wecom.is_some()) {
        return Ok(false);
    }
    if addr.ip().is_loopback() || settings.simulator_public {
        return Ok(true);
    }
    if settings.simulator == SimulatorSetting::On {
        anyhow::bail!(
            "FLOWBOT_SIMULATOR=on serves the simulator only on a loopback address, not on {addr}: \
             listen on 127.0.0.1 or set FLOWBOT_SIMULATOR_PUBLIC=1"
        );
    }
    Ok(false)
}

/// Points the settings at the simulator: the configured credentials, or freshly generated ones,
/// the API base of the fake WeCom on this server, its sign-in page, and (unless set) the desk's
/// address for links in messages.
pub fn prepare(settings: &mut Settings, addr: SocketAddr) {
    if settings.wecom.is_none() {
        settings.wecom = Some(generate_credentials());
    }
    settings.api_base = format!("{}{API_PREFIX}", local_url(addr));
    settings.oauth_base = format!("{}{}", local_url(addr), oauth::OAUTH_PREFIX);
    if settings.desk_url.is_none() {
        settings.desk_url = Some(format!("{}/desk", local_url(addr)));
    }
}

/// Random credentials of the shape WeCom hands out (a 43-character EncodingAESKey and all).
pub fn generate_credentials() -> WeComSettings {
    WeComSettings {
        corp_id: format!("ww{}", random_string(16, b"0123456789abcdef")),
        agent_id: AGENT_ID,
        secret: random_string(43, ALNUM),
        token: random_string(32, ALNUM),
        aes_key: AesKey::from_encoding_aes_key(&random_string(43, ALNUM))
            .expect("43 alphanumerics are an EncodingAESKey"),
    }
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn random_string(len: usize, alphabet: &[u8]) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char)
        .collect()
}

/// `http://<addr>` as this machine reaches it (an unspecified address becomes loopback).
pub fn local_url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

/// The console's address for a bot listening on `addr`.
pub fn console_url(addr: SocketAddr) -> String {
    format!("{}/console", local_url(addr))
}

/// An app menu item: its click key and the label the console shows.
#[derive(Debug, Clone, serde::Serialize)]
struct MenuItem {
    key: String,
    label: String,
}

/// What every part of the simulator shares.
struct Shared {
    corp_id: String,
    agent_id: i64,
    secret: String,
    crypto: CallbackCrypto,
    /// `http://127.0.0.1:<port>`: where callbacks go.
    bot_url: String,
    /// The address the bot is bound to: the simulator's own `Host` names follow from it.
    bound: SocketAddr,
    http: reqwest::Client,
    directory: Arc<Snapshot>,
    /// Userids holding the propaganda role.
    propaganda: Vec<String>,
    menu: Vec<MenuItem>,
    /// The bot's clock: the console's "jump ahead" moves it.
    clock: Clock,
    world: Mutex<state::World>,
}

impl Shared {
    fn world(&self) -> std::sync::MutexGuard<'_, state::World> {
        crate::base::locks::lock(&self.world)
    }
}

/// The running simulator; clones share it.
#[derive(Clone)]
pub struct Simulator {
    shared: Arc<Shared>,
}

impl Simulator {
    /// Builds the simulator for a bot on `addr` whose settings went through [`prepare`].
    pub async fn new(
        settings: &Settings,
        scripts: &Scripts,
        addr: SocketAddr,
        clock: Clock,
    ) -> anyhow::Result<Simulator> {
        let wecom = settings
            .wecom
            .clone()
            .context("the simulator needs credentials (call sim::prepare)")?;
        let crypto = CallbackCrypto::new(&wecom.token, wecom.aes_key.clone(), &wecom.corp_id);
        let directory = crate::runtime::people::static_directory(settings, scripts)?;
        let propaganda = directory.role_members("propaganda").await?;
        let mut menu: Vec<MenuItem> = scripts
            .menu_keys
            .iter()
            .map(|(key, flow)| MenuItem {
                key: key.clone(),
                label: scripts
                    .flows
                    .get(flow)
                    .map_or_else(|| key.clone(), |f| f.title.clone()),
            })
            .collect();
        menu.sort_by(|a, b| a.key.cmp(&b.key));
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(Simulator {
            shared: Arc::new(Shared {
                corp_id: wecom.corp_id,
                agent_id: wecom.agent_id,
                secret: wecom.secret,
                crypto,
                bot_url: local_url(addr),
                bound: addr,
                http,
                directory: directory.snapshot().await?,
                propaganda,
                menu,
                clock,
                world: Mutex::new(state::World::default()),
            }),
        })
    }

    /// The console, its JSON endpoints and the fake WeCom API.
    pub fn router(&self) -> Router {
        Router::new()
            .nest(
                API_PREFIX,
                api::router().merge(contacts::router()).merge(oauth::api()),
            )
            .merge(ui::router())
            .merge(oauth::pages())
            .with_state(self.shared.clone())
            .layer(axum::middleware::from_fn_with_state(
                self.shared.bound,
                host::guard,
            ))
    }
}

#[cfg(test)]
mod tests;
