//! Headless Chromium through chromedriver (`fantoccini`, WebDriver) for the browser tests:
//! the console's and the desk's. Every session saves downloads in its profile's
//! [`downloads`] folder without asking; [`screenshot`] saves the window under `target/`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use fantoccini::{Client, ClientBuilder};
use flowbot::runtime::config::{Settings, SimulatorSetting};
use serde_json::{Value, json};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// True (after a loud notice) when Chromium or chromedriver is missing and `BROWSER_REQUIRED`
/// is not set (the test `test` is then skipped); with it set, a missing browser fails the test.
pub fn missing(test: &str) -> bool {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return false;
    }
    if std::env::var_os("BROWSER_REQUIRED").is_some() {
        panic!("BROWSER_REQUIRED is set but {CHROMIUM} or {CHROMEDRIVER} is missing");
    }
    eprintln!(
        "\n==============================================================\n\
         SKIPPED {test}: {CHROMIUM} or {CHROMEDRIVER} is missing.\n\
         Install them: apt-get install -y chromium chromium-driver\n\
         ==============================================================\n"
    );
    true
}

/// The bot in simulator mode on a free port with the shipped bot-scripts, its embedded store
/// under `dir`, two workers.
pub fn simulator(dir: &Path) -> Settings {
    let mut settings = Settings::defaults();
    settings.listen = "127.0.0.1:0".into();
    settings.scripts_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/bot-scripts").into();
    settings.data_dir = dir.join("data");
    settings.workers = 2;
    settings.simulator = SimulatorSetting::On;
    settings
}

/// chromedriver on a free port, stopped on drop.
pub struct Driver {
    child: Child,
    pub port: u16,
}

impl Driver {
    pub async fn start(logs: &Path) -> anyhow::Result<Driver> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let log = std::fs::File::create(logs.join("chromedriver.log"))?;
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("spawning chromedriver")?;
        let driver = Driver { child, port };
        let status = format!("http://127.0.0.1:{port}/status");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = match reqwest::get(&status).await {
                Ok(r) => r.json::<Value>().await.ok(),
                Err(_) => None,
            };
            if ready.is_some_and(|v| v["value"]["ready"] == json!(true)) {
                return Ok(driver);
            }
            if Instant::now() > deadline {
                bail!("chromedriver did not become ready on port {port}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Where a session started on `profile` saves the files it downloads.
pub fn downloads(profile: &Path) -> PathBuf {
    profile.join("downloads")
}

/// The folder `target/<name>` for a test's screenshots, created.
pub fn screenshots(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join(name);
    std::fs::create_dir_all(&dir).expect("the screenshot folder");
    dir
}

/// Saves what the window shows as `<dir>/<name>.png`.
pub async fn screenshot(client: &Client, dir: &Path, name: &str) -> anyhow::Result<()> {
    let png = client.screenshot().await?;
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, png).with_context(|| path.display().to_string())
}

/// A headless Chromium session with a fresh, empty profile and a window `size` (`"W,H"`).
pub async fn connect(port: u16, profile: &Path, size: &str) -> anyhow::Result<Client> {
    session(port, profile, size, None).await
}

/// A headless Chromium session that plays a phone `width` CSS pixels wide (Chromium's own
/// window is never narrower than 500 px: the phone is emulated, as WeCom's webview would be).
pub async fn connect_phone(port: u16, profile: &Path, width: u32) -> anyhow::Result<Client> {
    let metrics = json!({"deviceMetrics": {"width": width, "height": 844, "pixelRatio": 2.0}});
    session(port, profile, "800,900", Some(metrics)).await
}

async fn session(
    port: u16,
    profile: &Path,
    size: &str,
    mobile: Option<Value>,
) -> anyhow::Result<Client> {
    let args = [
        "--headless".to_owned(),
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        "--disable-quic".to_owned(),
        "--no-first-run".to_owned(),
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--disable-sync".to_owned(),
        format!("--window-size={size}"),
        format!("--user-data-dir={}", profile.display()),
    ];
    let prefs = json!({
        "download.default_directory": downloads(profile),
        "download.prompt_for_download": false,
    });
    let mut options = json!({"binary": CHROMIUM, "args": args, "prefs": prefs});
    if let Some(mobile) = mobile {
        options["mobileEmulation"] = mobile;
    }
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), options);
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client = ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .context("connecting to chromedriver")?;
    Ok(client)
}
