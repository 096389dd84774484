//! The WeCom API client against the fake WeCom, on a real (embedded) store in a temp dir.

use std::sync::Arc;
use std::time::Duration;

use flowbot::adapters::store::Store;
use flowbot::adapters::store::embedded::EmbeddedStore;
use flowbot::adapters::wecom::api::{ApiCredentials, WeComClient};
use flowbot::base::clock::Clock;

use super::fake_wecom::FakeWeCom;

pub const CORP: &str = "wwcorp0001";
pub const SECRET: &str = "app-secret-do-not-log";
pub const AGENT: i64 = 1000002;
/// The group robots the test client knows: group name → webhook key. The outbox tests' robots
/// use their names as keys, so the fake's records read plainly.
pub const ROBOTS: &[(&str, &str)] = &[
    ("xcb", "xcb-webhook-key-do-not-log"),
    ("robot-a", "robot-a"),
    ("robot-b", "robot-b"),
    ("robot-digest", "robot-digest"),
];

pub struct Setup {
    pub fake: FakeWeCom,
    pub store: Arc<dyn Store>,
    /// The clock of the client under test.
    pub clock: Clock,
    _dir: tempfile::TempDir,
}

pub async fn setup() -> Setup {
    let dir = tempfile::tempdir().expect("temp dir");
    let store: Arc<dyn Store> = Arc::new(EmbeddedStore::open(dir.path()).expect("store opens"));
    Setup {
        fake: FakeWeCom::start(CORP, SECRET).await,
        store,
        clock: Clock::default(),
        _dir: dir,
    }
}

impl Setup {
    pub fn client(&self) -> WeComClient {
        self.client_with_secret(SECRET)
    }

    pub fn client_with_secret(&self, secret: &str) -> WeComClient {
        let credentials = ApiCredentials {
            corp_id: CORP.into(),
            agent_id: AGENT,
            secret: secret.into(),
        };
        WeComClient::new(
            &self.fake.base_url(),
            credentials,
            self.store.clone(),
            Duration::from_secs(5),
            self.clock.clone(),
        )
        .with_robot_keys(
            ROBOTS
                .iter()
                .map(|(name, key)| (name.to_string(), key.to_string()))
                .collect(),
        )
    }
}
