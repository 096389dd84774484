//! Settings, read from the environment (names as in the README's settings table) and optionally
//! from a `flowbot.toml` holding the same keys; the environment wins. Secrets (the app secret,
//! callback token, AES key, robot webhook keys and a Redis password) are kept out of `Debug`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::adapters::wecom::api::ApiCredentials;
use crate::adapters::wecom::crypto::AesKey;
use crate::runtime::http::Limits;
use crate::runtime::outbox::Pacing;

/// The official API host; tests and the simulator point `WECOM_API_BASE` elsewhere.
pub const DEFAULT_API_BASE: &str = "https://qyapi.weixin.qq.com";
/// Where WeCom's web sign-in (OAuth2) pages live.
pub const DEFAULT_OAUTH_BASE: &str = "https://open.weixin.qq.com";
/// Event workers per replica by default (README "Performance": measured, not guessed).
pub const DEFAULT_WORKERS: usize = 4;
/// Events a worker claims and commits at once by default.
pub const DEFAULT_WORKER_BATCH: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{key}: {problem}")]
    Invalid { key: &'static str, problem: String },
    #[error(
        "incomplete WeCom credentials: {missing} missing (set all of WECOM_CORP_ID, WECOM_AGENT_ID, WECOM_SECRET, WECOM_TOKEN, WECOM_AES_KEY, or none)"
    )]
    PartialCredentials { missing: String },
    #[error("cannot read {path}: {problem}")]
    File { path: String, problem: String },
}

/// The WeCom app's credentials. `Debug` shows only the corp and agent ids.
#[derive(Clone)]
pub struct WeComSettings {
    pub corp_id: String,
    pub agent_id: i64,
    pub secret: String,
    pub token: String,
    /// `WECOM_AES_KEY`, parsed once when read.
    pub aes_key: AesKey,
}

impl std::fmt::Debug for WeComSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WeComSettings")
            .field("corp_id", &self.corp_id)
            .field("agent_id", &self.agent_id)
            .finish_non_exhaustive()
    }
}

impl WeComSettings {
    pub fn api_credentials(&self) -> ApiCredentials {
        ApiCredentials {
            corp_id: self.corp_id.clone(),
            agent_id: self.agent_id,
            secret: self.secret.clone(),
        }
    }
}

/// Where the bot learns who is in which unit (`FLOWBOT_DIRECTORY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectorySource {
    /// `bot-scripts/directory.toml`.
    Static,
    /// The WeCom contacts API, cached.
    WeCom,
}

/// `FLOWBOT_SIMULATOR`: whether the built-in fake WeCom and its console are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimulatorSetting {
    /// Unset: on when no `WECOM_*` credentials are set, off otherwise.
    Auto,
    /// `on`: served even with credentials (the bot then talks to the fake, not to WeCom).
    On,
    /// `off`: never served.
    Off,
}

impl SimulatorSetting {
    /// Whether the simulator is wanted, given whether credentials are set.
    pub fn wanted(self, has_credentials: bool) -> bool {
        match self {
            SimulatorSetting::Auto => !has_credentials,
            SimulatorSetting::On => true,
            SimulatorSetting::Off => false,
        }
    }
}

/// Everything the bot needs to start. A plain struct: tests build it literally. `Debug` shows
/// no secret.
#[derive(Clone)]
pub struct Settings {
    /// `FLOWBOT_LISTEN`; port 0 picks a free port.
    pub listen: String,
    /// `FLOWBOT_SCRIPTS`: the bot-scripts folder.
    pub scripts_dir: PathBuf,
    /// `FLOWBOT_DATA`: the embedded store's folder.
    pub data_dir: PathBuf,
    /// `REDIS_URL`: use Redis instead of the embedded store.
    pub redis_url: Option<String>,
    /// `FLOWBOT_EVIDENCE_URL`: where evidence files are kept, e.g.
    /// `s3://bucket?endpoint=http://minio:9000` (credentials from `AWS_ACCESS_KEY_ID` and
    /// `AWS_SECRET_ACCESS_KEY`); unset: the folder `evidence` under `FLOWBOT_DATA`.
    pub evidence_url: Option<String>,
    /// `FLOWBOT_REDIS_PREFIX`.
    pub redis_prefix: String,
    /// `WECOM_*`; `None` when no credential is set.
    pub wecom: Option<WeComSettings>,
    /// `WECOM_API_BASE`: scheme, host and port only.
    pub api_base: String,
    /// `WECOM_OAUTH_BASE`: where the desk sends a browser to sign in with WeCom
    /// (`<base>/connect/oauth2/authorize`); the simulator points it at its own page.
    pub oauth_base: String,
    /// `FLOWBOT_DESK_URL`: the desk's address as members' phones reach it (e.g.
    /// `https://bot.example.com/desk`); messages to the department and leaders link to its
    /// pages when bot.toml has `[desk]` with `link_label` and `link_text`. The simulator
    /// uses its own address.
    pub desk_url: Option<String>,
    /// `FLOWBOT_REPLAY_WINDOW` (seconds): callbacks whose timestamp is further than this from
    /// now are refused.
    pub replay_window: Duration,
    /// How long a callback's dedupe key is kept (at least an hour: WeCom retries within seconds).
    pub dedupe_ttl: Duration,
    /// `FLOWBOT_WORKERS`: concurrent event workers in this replica (0: accept callbacks only).
    pub workers: usize,
    /// `FLOWBOT_WORKER_BATCH`: how many events (of distinct conversations) a worker claims,
    /// handles concurrently and commits at once.
    pub worker_batch: usize,
    /// How long a worker may hold a conversation before another replica takes the event over.
    pub event_lease: Duration,
    /// Outbound pacing and retries.
    pub pacing: Pacing,
    /// `FLOWBOT_DIRECTORY`; default `wecom` with credentials, else `static`.
    pub directory: DirectorySource,
    /// `FLOWBOT_ROBOT_<NAME>`: the webhook key of the group robot named `<name>` in bot.toml
    /// `[groups]` (secrets, kept out of bot-scripts).
    pub robot_keys: HashMap<String, String>,
    /// `FLOWBOT_PROPAGANDA_USERS`: userids that hold the propaganda role instead of the members
    /// of the unit named in bot.toml (tests, small deployments).
    pub propaganda_users: Vec<String>,
    /// `FLOWBOT_SIMULATOR` (`on`/`off`); unset is `Auto` when read by [`Settings::load`].
    /// [`Settings::defaults`] has `Off`: the plain bot, as tests build it.
    pub simulator: SimulatorSetting,
    /// `FLOWBOT_SIMULATOR_PUBLIC=1`: serve the simulator on a non-loopback address too.
    pub simulator_public: bool,
    /// `FLOWBOT_CALENDAR_POLL` (seconds): how often the running bot looks for a changed file in
    /// `bot-scripts/calendar/` and reloads it (0: never).
    pub calendar_poll: Duration,
    /// `FLOWBOT_DELAY_NOTICE` (seconds, default 60): a member whose message has waited this long
    /// on an unavailable dependency is told, once, that the answer is delayed.
    pub delay_notice: Duration,
    /// The limits at the callback port: `FLOWBOT_HEADER_TIMEOUT` and `FLOWBOT_REQUEST_TIMEOUT`
    /// (seconds), `FLOWBOT_MAX_CONNECTIONS`, `FLOWBOT_MAX_IN_FLIGHT`, `FLOWBOT_KEEPALIVE_MAX`.
    pub limits: Limits,
}

impl Settings {
    /// Defaults for everything; no credentials.
    pub fn defaults() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            scripts_dir: "bot-scripts".into(),
            data_dir: "data".into(),
            redis_url: None,
            evidence_url: None,
            redis_prefix: "flowbot".into(),
            wecom: None,
            api_base: DEFAULT_API_BASE.into(),
            oauth_base: DEFAULT_OAUTH_BASE.into(),
            desk_url: None,
            replay_window: Duration::from_secs(15 * 60),
            dedupe_ttl: Duration::from_secs(2 * 3600),
            workers: DEFAULT_WORKERS,
            worker_batch: DEFAULT_WORKER_BATCH,
            event_lease: Duration::from_secs(30),
            pacing: Pacing::default(),
            directory: DirectorySource::Static,
            propaganda_users: Vec::new(),
            simulator: SimulatorSetting::Off,
            simulator_public: false,
            robot_keys: HashMap::new(),
            calendar_poll: Duration::from_secs(10),
            delay_notice: crate::runtime::worker::DEFAULT_DELAY_NOTICE,
            limits: Limits::default(),
        }
    }

    /// Reads `flowbot.toml` (if present, or the file named by `FLOWBOT_CONFIG`) and then the
    /// process environment.
    pub fn load() -> Result<Self, ConfigError> {
        let path = std::env::var("FLOWBOT_CONFIG").ok();
        let file = read_config_file(path.as_deref().unwrap_or("flowbot.toml"), path.is_some())?;
        let mut settings =
            Self::from_lookup(|key| std::env::var(key).ok().or_else(|| file.get(key).cloned()))?;
        let robots = file
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .chain(std::env::vars());
        settings.robot_keys = robot_keys(robots);
        Ok(settings)
    }

    /// Builds settings from a key lookup (the environment, a file, or a test's map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |key: &str| get(key).filter(|v| !v.trim().is_empty());
        let mut s = Self::defaults();
        if let Some(v) = get("FLOWBOT_LISTEN") {
            s.listen = v;
        }
        if let Some(v) = get("FLOWBOT_SCRIPTS") {
            s.scripts_dir = v.into();
        }
        if let Some(v) = get("FLOWBOT_DATA") {
            s.data_dir = v.into();
        }
        s.redis_url = get("REDIS_URL");
        s.evidence_url = get("FLOWBOT_EVIDENCE_URL");
        if let Some(v) = get("FLOWBOT_REDIS_PREFIX") {
            s.redis_prefix = v;
        }
        if let Some(v) = get("WECOM_API_BASE") {
            s.api_base = parse_api_base(&v)?;
        }
        if let Some(v) = get("WECOM_OAUTH_BASE") {
            s.oauth_base = parse_http_url("WECOM_OAUTH_BASE", &v)?;
        }
        if let Some(v) = get("FLOWBOT_DESK_URL") {
            s.desk_url = Some(parse_http_url("FLOWBOT_DESK_URL", &v)?);
        }
        if let Some(v) = get("FLOWBOT_REPLAY_WINDOW") {
            s.replay_window = Duration::from_secs(parse_number("FLOWBOT_REPLAY_WINDOW", &v)?);
        }
        if let Some(v) = get("FLOWBOT_CALENDAR_POLL") {
            s.calendar_poll = Duration::from_secs(parse_number("FLOWBOT_CALENDAR_POLL", &v)?);
        }
        if let Some(v) = get("FLOWBOT_DELAY_NOTICE") {
            s.delay_notice = Duration::from_secs(parse_number("FLOWBOT_DELAY_NOTICE", &v)?);
        }
        if let Some(v) = get("FLOWBOT_WORKERS") {
            s.workers = parse_number("FLOWBOT_WORKERS", &v)? as usize;
        }
        if let Some(v) = get("FLOWBOT_WORKER_BATCH") {
            s.worker_batch = (parse_number("FLOWBOT_WORKER_BATCH", &v)? as usize).max(1);
        }
        read_limits(&get, &mut s.limits)?;
        s.wecom = read_credentials(&get)?;
        s.simulator = match get("FLOWBOT_SIMULATOR") {
            None => SimulatorSetting::Auto,
            Some(v) => match parse_switch("FLOWBOT_SIMULATOR", &v)? {
                true => SimulatorSetting::On,
                false => SimulatorSetting::Off,
            },
        };
        if let Some(v) = get("FLOWBOT_SIMULATOR_PUBLIC") {
            s.simulator_public = parse_switch("FLOWBOT_SIMULATOR_PUBLIC", &v)?;
        }
        s.directory = match get("FLOWBOT_DIRECTORY").as_deref().map(str::trim) {
            None if s.wecom.is_some() => DirectorySource::WeCom,
            None | Some("static") => DirectorySource::Static,
            Some("wecom") => DirectorySource::WeCom,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    key: "FLOWBOT_DIRECTORY",
                    problem: format!("expected static or wecom, got {other:?}"),
                });
            }
        };
        // The simulator serves the contacts API itself, with generated credentials.
        let simulated = s.simulator.wanted(s.wecom.is_some());
        if s.directory == DirectorySource::WeCom && s.wecom.is_none() && !simulated {
            return Err(ConfigError::Invalid {
                key: "FLOWBOT_DIRECTORY",
                problem: "wecom needs the WECOM_* credentials".into(),
            });
        }
        if let Some(v) = get("FLOWBOT_PROPAGANDA_USERS") {
            s.propaganda_users = crate::base::directory::Roles::parse_userids(&v);
        }
        s.check_safeties()?;
        Ok(s)
    }

    /// Refuses settings that defeat a safety: a replay window as long as the dedupe lifetime or
    /// longer would let a callback replayed after its dedupe key expired be handled again.
    /// Checked when settings are read and again when the application is built.
    pub fn check_safeties(&self) -> Result<(), ConfigError> {
        if self.replay_window >= self.dedupe_ttl {
            return Err(ConfigError::Invalid {
                key: "FLOWBOT_REPLAY_WINDOW",
                problem: format!(
                    "{} s is not shorter than the dedupe lifetime ({} s): a callback replayed after its dedupe key expired would be handled again; use at most {} s",
                    self.replay_window.as_secs(),
                    self.dedupe_ttl.as_secs(),
                    self.dedupe_ttl.as_secs().saturating_sub(1),
                ),
            });
        }
        Ok(())
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Every field is named here, so a new one cannot be shown without a thought on secrecy.
        let Settings {
            listen,
            scripts_dir,
            data_dir,
            redis_url,
            evidence_url,
            redis_prefix,
            wecom,
            api_base,
            oauth_base,
            desk_url,
            replay_window,
            dedupe_ttl,
            workers,
            worker_batch,
            event_lease,
            pacing,
            directory,
            robot_keys,
            propaganda_users,
            simulator,
            simulator_public,
            calendar_poll,
            delay_notice,
            limits,
        } = self;
        let robots: std::collections::BTreeSet<&String> = robot_keys.keys().collect();
        f.debug_struct("Settings")
            .field("listen", listen)
            .field("scripts_dir", scripts_dir)
            .field("data_dir", data_dir)
            .field("redis_url", &redis_url.as_deref().map(without_password))
            .field(
                "evidence_url",
                &evidence_url.as_deref().map(without_password),
            )
            .field("redis_prefix", redis_prefix)
            .field("wecom", wecom)
            .field("api_base", api_base)
            .field("oauth_base", oauth_base)
            .field("desk_url", desk_url)
            .field("replay_window", replay_window)
            .field("dedupe_ttl", dedupe_ttl)
            .field("workers", workers)
            .field("worker_batch", worker_batch)
            .field("event_lease", event_lease)
            .field("pacing", pacing)
            .field("directory", directory)
            .field("robots_with_keys", &robots)
            .field("propaganda_users", propaganda_users)
            .field("simulator", simulator)
            .field("simulator_public", simulator_public)
            .field("calendar_poll", calendar_poll)
            .field("delay_notice", delay_notice)
            .field("limits", limits)
            .finish()
    }
}

/// A URL with its user info (`user:password@`) hidden.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***{}", &rest[at..]),
        None => url.to_owned(),
    }
}

/// `FLOWBOT_ROBOT_XCB=key` → `xcb → key`.
fn robot_keys(vars: impl Iterator<Item = (String, String)>) -> HashMap<String, String> {
    vars.filter_map(|(k, v)| {
        let name = k.strip_prefix("FLOWBOT_ROBOT_")?.to_lowercase();
        (!v.trim().is_empty()).then(|| (name, v.trim().to_owned()))
    })
    .collect()
}

fn read_credentials(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Option<WeComSettings>, ConfigError> {
    const KEYS: [&str; 5] = [
        "WECOM_CORP_ID",
        "WECOM_AGENT_ID",
        "WECOM_SECRET",
        "WECOM_TOKEN",
        "WECOM_AES_KEY",
    ];
    let values: Vec<Option<String>> = KEYS.iter().map(|k| get(k)).collect();
    if values.iter().all(Option::is_none) {
        return Ok(None);
    }
    let missing: Vec<&str> = KEYS
        .iter()
        .zip(&values)
        .filter(|(_, v)| v.is_none())
        .map(|(k, _)| *k)
        .collect();
    if !missing.is_empty() {
        return Err(ConfigError::PartialCredentials {
            missing: missing.join(", "),
        });
    }
    let [corp_id, agent_id, secret, token, aes_key] = <[Option<String>; 5]>::try_from(values)
        .expect("five values")
        .map(Option::unwrap_or_default);
    let agent_id = agent_id.trim().parse().map_err(|_| ConfigError::Invalid {
        key: "WECOM_AGENT_ID",
        problem: "must be the app's numeric AgentId".into(),
    })?;
    let aes_key = AesKey::from_encoding_aes_key(&aes_key).map_err(|e| ConfigError::Invalid {
        key: "WECOM_AES_KEY",
        problem: e.to_string(),
    })?;
    Ok(Some(WeComSettings {
        corp_id,
        agent_id,
        secret,
        token,
        aes_key,
    }))
}

/// `WECOM_OAUTH_BASE`, `FLOWBOT_DESK_URL`: an http(s) URL, its path kept, without a trailing
/// slash.
fn parse_http_url(key: &'static str, value: &str) -> Result<String, ConfigError> {
    let v = value.trim().trim_end_matches('/');
    if !(v.starts_with("http://") || v.starts_with("https://")) {
        return Err(ConfigError::Invalid {
            key,
            problem: "must start with http:// or https://".into(),
        });
    }
    Ok(v.to_owned())
}

/// `WECOM_API_BASE` is scheme, host and port only: the client appends `/cgi-bin/...`.
fn parse_api_base(value: &str) -> Result<String, ConfigError> {
    let v = value.trim().trim_end_matches('/');
    let rest = v
        .strip_prefix("http://")
        .or_else(|| v.strip_prefix("https://"))
        .ok_or_else(|| ConfigError::Invalid {
            key: "WECOM_API_BASE",
            problem: "must start with http:// or https://".into(),
        })?;
    if rest.is_empty() || rest.contains('/') {
        return Err(ConfigError::Invalid {
            key: "WECOM_API_BASE",
            problem: "must be scheme, host and port only, e.g. https://qyapi.weixin.qq.com".into(),
        });
    }
    Ok(v.to_owned())
}

/// The limits at the door; each at least 1.
fn read_limits(
    get: &impl Fn(&str) -> Option<String>,
    limits: &mut Limits,
) -> Result<(), ConfigError> {
    let positive = |key: &'static str| -> Result<Option<u64>, ConfigError> {
        match get(key) {
            None => Ok(None),
            Some(v) => match parse_number(key, &v)? {
                0 => Err(ConfigError::Invalid {
                    key,
                    problem: "must be at least 1".into(),
                }),
                n => Ok(Some(n)),
            },
        }
    };
    if let Some(n) = positive("FLOWBOT_HEADER_TIMEOUT")? {
        limits.header_timeout = Duration::from_secs(n);
    }
    if let Some(n) = positive("FLOWBOT_REQUEST_TIMEOUT")? {
        limits.request_timeout = Duration::from_secs(n);
    }
    if let Some(n) = positive("FLOWBOT_MAX_CONNECTIONS")? {
        limits.max_connections = usize::try_from(n).unwrap_or(usize::MAX);
    }
    if let Some(n) = positive("FLOWBOT_MAX_IN_FLIGHT")? {
        limits.max_in_flight = usize::try_from(n).unwrap_or(usize::MAX);
    }
    if let Some(n) = positive("FLOWBOT_KEEPALIVE_MAX")? {
        limits.keepalive_max = usize::try_from(n).unwrap_or(usize::MAX);
    }
    Ok(())
}

/// `on`/`off` (also `1`/`0`, `true`/`false`, `yes`/`no`).
fn parse_switch(key: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "on" | "1" | "true" | "yes" => Ok(true),
        "off" | "0" | "false" | "no" => Ok(false),
        other => Err(ConfigError::Invalid {
            key,
            problem: format!("expected on or off, got {other:?}"),
        }),
    }
}

fn parse_number(key: &'static str, value: &str) -> Result<u64, ConfigError> {
    value.trim().parse().map_err(|_| ConfigError::Invalid {
        key,
        problem: format!("expected a whole number, got {value:?}"),
    })
}

/// A flat TOML table of the same keys as the environment (`REDIS_URL = "redis://..."`).
fn read_config_file(path: &str, required: bool) -> Result<HashMap<String, String>, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
            return Ok(HashMap::new());
        }
        Err(e) => {
            return Err(ConfigError::File {
                path: path.into(),
                problem: e.to_string(),
            });
        }
    };
    let table: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::File {
        path: path.into(),
        problem: e.to_string(),
    })?;
    Ok(table
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                toml::Value::String(s) => s,
                other => other.to_string(),
            };
            (k, v)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn a_replay_window_not_shorter_than_the_dedupe_lifetime_is_refused() {
        let err = Settings::from_lookup(lookup(&[("FLOWBOT_REPLAY_WINDOW", "7200")])).unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with(
                "FLOWBOT_REPLAY_WINDOW: 7200 s is not shorter than the dedupe lifetime (7200 s)"
            ),
            "{message}"
        );
        assert!(message.contains("use at most 7199 s"), "{message}");
        let ok = Settings::from_lookup(lookup(&[("FLOWBOT_REPLAY_WINDOW", "7199")])).unwrap();
        assert_eq!(ok.replay_window, Duration::from_secs(7199));
    }

    #[test]
    fn limits_are_read_and_zero_is_refused() {
        let s = Settings::from_lookup(lookup(&[])).unwrap();
        assert_eq!(s.limits, Limits::default());
        let s = Settings::from_lookup(lookup(&[
            ("FLOWBOT_HEADER_TIMEOUT", "5"),
            ("FLOWBOT_REQUEST_TIMEOUT", "20"),
            ("FLOWBOT_MAX_CONNECTIONS", "300"),
            ("FLOWBOT_MAX_IN_FLIGHT", "64"),
            ("FLOWBOT_KEEPALIVE_MAX", "7"),
        ]))
        .unwrap();
        assert_eq!(
            s.limits,
            Limits {
                header_timeout: Duration::from_secs(5),
                request_timeout: Duration::from_secs(20),
                max_connections: 300,
                max_in_flight: 64,
                keepalive_max: 7,
            }
        );
        let err = Settings::from_lookup(lookup(&[("FLOWBOT_MAX_IN_FLIGHT", "0")])).unwrap_err();
        assert!(
            err.to_string().starts_with("FLOWBOT_MAX_IN_FLIGHT"),
            "{err}"
        );
    }

    #[test]
    fn defaults_without_credentials() {
        let s = Settings::from_lookup(lookup(&[])).unwrap();
        assert!(s.wecom.is_none());
        assert_eq!(s.listen, "127.0.0.1:8080");
        assert_eq!(s.api_base, DEFAULT_API_BASE);
        assert_eq!(s.redis_prefix, "flowbot");
        assert_eq!(s.directory, DirectorySource::Static);
    }

    #[test]
    fn directory_defaults_to_wecom_with_credentials_and_can_be_forced() {
        let creds = [
            ("WECOM_CORP_ID", "ww1"),
            ("WECOM_AGENT_ID", "1000002"),
            ("WECOM_SECRET", "s"),
            ("WECOM_TOKEN", "t"),
            (
                "WECOM_AES_KEY",
                "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
            ),
        ];
        let s = Settings::from_lookup(lookup(&creds)).unwrap();
        assert_eq!(s.directory, DirectorySource::WeCom);
        let mut forced = creds.to_vec();
        forced.push(("FLOWBOT_DIRECTORY", "static"));
        forced.push(("FLOWBOT_PROPAGANDA_USERS", "a, b"));
        let s = Settings::from_lookup(lookup(&forced)).unwrap();
        assert_eq!(s.directory, DirectorySource::Static);
        assert_eq!(s.propaganda_users, ["a", "b"]);
        assert!(
            Settings::from_lookup(lookup(&[
                ("FLOWBOT_DIRECTORY", "wecom"),
                ("FLOWBOT_SIMULATOR", "off")
            ]))
            .is_err()
        );
        assert!(Settings::from_lookup(lookup(&[("FLOWBOT_DIRECTORY", "ldap")])).is_err());
    }

    #[test]
    fn simulator_is_on_without_credentials_and_can_be_forced() {
        let s = Settings::from_lookup(lookup(&[])).unwrap();
        assert_eq!(s.simulator, SimulatorSetting::Auto);
        assert!(s.simulator.wanted(false) && !s.simulator.wanted(true));
        assert!(!s.simulator_public);
        let s = Settings::from_lookup(lookup(&[
            ("FLOWBOT_SIMULATOR", "on"),
            ("FLOWBOT_SIMULATOR_PUBLIC", "1"),
        ]))
        .unwrap();
        assert_eq!(s.simulator, SimulatorSetting::On);
        assert!(s.simulator_public);
        let s = Settings::from_lookup(lookup(&[("FLOWBOT_SIMULATOR", "off")])).unwrap();
        assert!(!s.simulator.wanted(false));
        assert!(Settings::from_lookup(lookup(&[("FLOWBOT_SIMULATOR", "maybe")])).is_err());
        // The simulator serves the contacts API, so `wecom` works without credentials there.
        assert!(Settings::from_lookup(lookup(&[("FLOWBOT_DIRECTORY", "wecom")])).is_ok());
        assert_eq!(Settings::defaults().simulator, SimulatorSetting::Off);
    }

    #[test]
    fn partial_credentials_are_refused_naming_what_is_missing() {
        let err = Settings::from_lookup(lookup(&[
            ("WECOM_CORP_ID", "ww1"),
            ("WECOM_SECRET", "s3cr3t"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("WECOM_TOKEN") && err.contains("WECOM_AES_KEY"),
            "{err}"
        );
        assert!(!err.contains("s3cr3t"));
    }

    #[test]
    fn api_base_with_a_path_is_refused() {
        let err =
            Settings::from_lookup(lookup(&[("WECOM_API_BASE", "http://127.0.0.1:9/cgi-bin")]));
        assert!(err.is_err());
        let ok =
            Settings::from_lookup(lookup(&[("WECOM_API_BASE", "http://127.0.0.1:9/")])).unwrap();
        assert_eq!(ok.api_base, "http://127.0.0.1:9");
    }

    /// The whole settings, as a `{:?}` in a log line would show them: no secret appears.
    #[test]
    fn settings_debug_shows_no_secret() {
        let mut s = Settings::from_lookup(lookup(&[
            ("WECOM_CORP_ID", "ww1"),
            ("WECOM_AGENT_ID", "1000002"),
            ("WECOM_SECRET", "corp-secret-value"),
            ("WECOM_TOKEN", "callback-token-value"),
            (
                "WECOM_AES_KEY",
                "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
            ),
            (
                "REDIS_URL",
                "redis://flowbot:redis-password@10.0.0.5:6379/0",
            ),
        ]))
        .unwrap();
        s.robot_keys = robot_keys(
            [("FLOWBOT_ROBOT_XCB".to_owned(), "robot-key-value".to_owned())].into_iter(),
        );
        let shown = format!("{s:?} {s:#?}");
        for secret in [
            "corp-secret-value",
            "callback-token-value",
            "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
            "robot-key-value",
            "redis-password",
        ] {
            assert!(!shown.contains(secret), "{secret} shown in {shown}");
        }
        assert!(
            shown.contains("ww1") && shown.contains("\"xcb\""),
            "{shown}"
        );
        assert!(shown.contains("10.0.0.5:6379"), "{shown}");
    }

    #[test]
    fn debug_never_shows_secrets() {
        const KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
        let w = WeComSettings {
            corp_id: "ww1".into(),
            agent_id: 1,
            secret: "the-secret".into(),
            token: "the-token".into(),
            aes_key: AesKey::from_encoding_aes_key(KEY).unwrap(),
        };
        let shown = format!("{w:?}");
        assert!(
            !shown.contains("the-secret") && !shown.contains("the-token") && !shown.contains(KEY)
        );
    }
}
