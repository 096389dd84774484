//! The simulator against the bot's own API client and contacts directory: a bot in simulator
//! mode, known credentials, and the calls approvals will make (cards, updates, group chats).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::*;
use crate::adapters::wecom::api::{ApiError, MessageBody, Outbound, WeComClient};
use crate::base::directory::Roles;
use crate::base::directory::{ContactsDirectory, Directory};
use crate::runtime::app::Application;

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

#[test]
fn mode_rules_keep_the_simulator_on_loopback() {
    let mut s = Settings::defaults();
    s.simulator = SimulatorSetting::Auto;
    assert!(enabled(&s, addr("127.0.0.1:8080")).unwrap());
    assert!(!enabled(&s, addr("0.0.0.0:8080")).unwrap(), "falls back");
    s.simulator_public = true;
    assert!(enabled(&s, addr("0.0.0.0:8080")).unwrap());
    s.simulator_public = false;
    s.wecom = Some(generate_credentials());
    assert!(!enabled(&s, addr("127.0.0.1:8080")).unwrap(), "credentials");
    s.simulator = SimulatorSetting::On;
    assert!(enabled(&s, addr("[::1]:8080")).unwrap());
    assert!(
        enabled(&s, addr("10.0.0.1:8080")).is_err(),
        "forced, not loopback"
    );
    s.simulator = SimulatorSetting::Off;
    assert!(!enabled(&s, addr("127.0.0.1:8080")).unwrap());
}

#[test]
fn generated_credentials_are_usable() {
    let c = generate_credentials();
    let crypto = CallbackCrypto::new(&c.token, c.aes_key, &c.corp_id);
    let sealed = crypto.encrypt("你好".as_bytes());
    assert_eq!(crypto.decrypt(&sealed).unwrap(), "你好".as_bytes());
    assert_eq!(
        console_url(addr("0.0.0.0:8080")),
        "http://127.0.0.1:8080/console"
    );
}

struct Sim {
    base: String,
    client: WeComClient,
    http: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

impl Sim {
    async fn start() -> Sim {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings::defaults();
        settings.listen = "127.0.0.1:0".into();
        settings.scripts_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/bot-scripts").into();
        settings.data_dir = dir.path().join("data");
        settings.workers = 1;
        settings.simulator = SimulatorSetting::On;
        let wecom = generate_credentials();
        settings.wecom = Some(wecom.clone());
        let app = Application::build(settings).await.unwrap();
        let base = format!("http://{}", app.local_addr());
        let client = WeComClient::new(
            &format!("{base}{API_PREFIX}"),
            wecom.api_credentials(),
            app.store(),
            Duration::from_secs(5),
            app.clock(),
        )
        .with_robot_keys([("xcb".to_owned(), "secret-key".to_owned())].into());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run_until_stopped(async move {
            let _ = stopped.await;
        }));
        Sim {
            base,
            client,
            http: reqwest::Client::new(),
            stop: Some(stop),
            _dir: dir,
        }
    }

    async fn poll(&self, user: &str) -> Value {
        let url = format!("{}/sim/ui/poll?user={user}", self.base);
        self.http
            .get(url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn card(task_id: &str) -> MessageBody {
    MessageBody::TemplateCard {
        card: json!({
            "card_type": "button_interaction",
            "task_id": task_id,
            "main_title": {"title": "备案审批", "desc": "张三提交"},
            "button_list": [
                {"text": "同意", "style": 1, "key": "approve"},
                {"text": "退回", "style": 2, "key": "reject"},
            ],
        }),
    }
}

#[tokio::test]
async fn cards_are_sent_tapped_and_finished_through_the_real_protocol() {
    let sim = Sim::start().await;
    let send = Outbound::Send {
        to_user: "liuyang".into(),
        body: card("BA2026-0001_leader"),
    };
    let receipt = sim.client.deliver_with_receipt(&send).await.unwrap();
    let code = receipt.response_code.expect("a response code");
    let again = sim.client.deliver(&send).await.unwrap_err();
    assert_eq!(again.errcode(), Some(42014), "task ids are unique");

    let inbox = sim.poll("liuyang").await["inbox"].clone();
    let id = inbox[0]["id"].as_u64().unwrap();
    assert_eq!(inbox[0]["card"]["main_title"]["title"], "备案审批");
    // The tap goes to the bot as a signed, encrypted template_card_event, which it accepts.
    let tap = json!({"user": "liuyang", "msg": id, "key": "approve"});
    assert_eq!(sim.post("/sim/ui/tap", tap.clone()).await.0, 200);

    let update = Outbound::UpdateCard {
        userids: vec!["liuyang".into()],
        response_code: code,
        replace_name: Some("已同意".into()),
        card: None,
        fallback: None,
    };
    sim.client.deliver(&update).await.unwrap();
    let inbox = sim.poll("liuyang").await["inbox"].clone();
    assert_eq!(inbox[0]["replaced"], "已同意");
    assert_eq!(sim.post("/sim/ui/tap", tap).await.0, 400, "finished card");
    let reused = sim.client.deliver(&update).await.unwrap_err();
    assert!(matches!(reused, ApiError::Refused { .. }), "{reused:?}");

    let nobody = Outbound::Send {
        to_user: "nobody".into(),
        body: MessageBody::Text {
            content: "hi".into(),
        },
    };
    assert_eq!(
        sim.client.deliver(&nobody).await.unwrap_err().errcode(),
        Some(81013)
    );
}

#[tokio::test]
async fn files_are_uploaded_then_sent_to_an_inbox() {
    let sim = Sim::start().await;
    let media_id = sim
        .client
        .upload_file("新媒体账号登记册.xlsx", b"PK\x03\x04 a workbook")
        .await
        .unwrap();
    let file = Outbound::Send {
        to_user: "lina".into(),
        body: MessageBody::File { media_id },
    };
    sim.client.deliver(&file).await.unwrap();
    let inbox = sim.poll("lina").await["inbox"].clone();
    assert_eq!(inbox[0]["msgtype"], "file");
    assert_eq!(inbox[0]["content"], "新媒体账号登记册.xlsx");
    let unknown = Outbound::Send {
        to_user: "lina".into(),
        body: MessageBody::File {
            media_id: "made-up".into(),
        },
    };
    let refused = sim.client.deliver(&unknown).await.unwrap_err();
    assert_eq!(refused.errcode(), Some(40007));
}

#[tokio::test]
async fn group_chats_keep_nudges_and_mentions() {
    let sim = Sim::start().await;
    let nudge = Outbound::AppChat {
        chat_id: "tw2026".into(),
        body: MessageBody::Text {
            content: "请 <@liuyang> 尽快审批".into(),
        },
    };
    sim.client.deliver(&nudge).await.unwrap();
    let robot = Outbound::Robot {
        robot: "xcb".into(),
        body: MessageBody::Markdown {
            content: "**待审批** 1 件".into(),
        },
        mentioned: vec!["chenjing".into()],
    };
    sim.client.deliver(&robot).await.unwrap();
    let chats = sim.poll("zhangsan").await["chats"].clone();
    let shown = chats.to_string();
    assert!(!shown.contains("secret-key"), "robot keys are not shown");
    let chats = chats.as_array().unwrap();
    assert_eq!(chats.len(), 2);
    let mentions: Vec<&Value> = chats
        .iter()
        .map(|c| &c["messages"][0]["mentions"])
        .collect();
    assert!(mentions.contains(&&json!(["liuyang"])));
    assert!(mentions.contains(&&json!(["chenjing"])));
    let card_to_chat = Outbound::AppChat {
        chat_id: "tw2026".into(),
        body: card("x"),
    };
    assert!(sim.client.deliver(&card_to_chat).await.is_err());
}

#[tokio::test]
async fn the_contacts_api_serves_the_demo_directory() {
    let sim = Sim::start().await;
    let dir = ContactsDirectory::new(
        Arc::new(sim.client.clone()),
        Roles::default(),
        Duration::from_secs(60),
    );
    let units = dir.units_of("zhangwei").await.unwrap();
    let names: Vec<&str> = units.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["团委", "工会"]);
    assert_eq!(dir.leaders_of(&units[0].id).await.unwrap(), ["liuyang"]);
    assert!(dir.person("nobody").await.unwrap().is_none());
    assert!(dir.units_of("zhaoliu").await.unwrap().is_empty());
    assert_eq!(dir.snapshot().await.unwrap().people.len(), 10);
}

/// DNS rebinding: a request that names another host is refused on the console, its JSON
/// endpoints and the fake API; the same requests by the simulator's own names are served.
#[tokio::test]
async fn only_the_simulators_own_host_names_are_answered() {
    let sim = Sim::start().await;
    let port = sim.base.rsplit(':').next().unwrap().to_owned();
    let paths = [
        "/console".to_owned(),
        "/sim/ui/poll?user=zhangwei".to_owned(),
        format!("{API_PREFIX}/cgi-bin/gettoken?corpid=x&corpsecret=y"),
    ];
    for path in &paths {
        for host in [format!("rebind.example:{port}"), "evil.example".to_owned()] {
            let r = sim
                .http
                .get(format!("{}{path}", sim.base))
                .header("Host", host.as_str())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 421, "{path} for {host}");
        }
        for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
            let r = sim
                .http
                .get(format!("{}{path}", sim.base))
                .header("Host", host.as_str())
                .send()
                .await
                .unwrap();
            assert_ne!(r.status().as_u16(), 421, "{path} for {host}");
        }
    }
    // The bot's own paths are not the simulator's: the callback still answers a foreign Host.
    let r = sim
        .http
        .get(format!("{}/healthz", sim.base))
        .header("Host", "rebind.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
}

/// The desk through the simulator's sign-in page: `/desk` → the people to pick from → back
/// with a code → the register, as `cargo run` shows it; a code is good once.
#[tokio::test]
async fn the_desk_signs_in_through_the_simulated_wecom_page() {
    let sim = Sim::start().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |url: String, cookie: String| {
        let http = http.clone();
        async move {
            let r = http.get(url).header("cookie", cookie).send().await.unwrap();
            let header = |name: &str| -> Vec<String> {
                r.headers()
                    .get_all(name)
                    .iter()
                    .map(|v| v.to_str().unwrap().to_owned())
                    .collect()
            };
            let (location, cookies) = (header("location").concat(), header("set-cookie"));
            let cookies: Vec<String> = cookies
                .iter()
                .filter(|c| !c.contains("Max-Age=0"))
                .map(|c| c.split(';').next().unwrap().to_owned())
                .collect();
            (
                r.status().as_u16(),
                location,
                cookies.join("; "),
                r.text().await.unwrap(),
            )
        }
    };
    let (status, authorize, state_cookie, _) =
        get(format!("{}/desk", sim.base), String::new()).await;
    assert_eq!(status, 303);
    assert!(authorize.starts_with(&format!("{}/sim/oauth/connect/oauth2/authorize?", sim.base)));
    let (status, _, _, page) = get(authorize, String::new()).await;
    assert_eq!(status, 200);
    assert!(page.contains("李娜（lina）"), "{page}");
    let pick = page
        .split("href=\"")
        .find(|s| s.contains("userid=lina"))
        .and_then(|s| s.split('"').next())
        .unwrap()
        .replace("&amp;", "&");
    let (status, back, _, _) = get(format!("{}{pick}", sim.base), String::new()).await;
    assert_eq!(status, 303);
    assert!(back.contains("/desk/oauth?code="), "{back}");
    let (status, landing, session, _) = get(back.clone(), state_cookie.clone()).await;
    assert_eq!((status, landing.as_str()), (303, "/desk/register"));
    let (status, _, _, register) = get(format!("{}/desk/register", sim.base), session).await;
    assert_eq!(status, 200);
    assert!(
        register.contains("李娜") && register.contains("台账"),
        "{register}"
    );
    let (status, _, _, _) = get(back, state_cookie).await;
    assert_eq!(status, 403, "the code was used");
    // A code is handed only to a desk on this machine.
    let host = sim.base.replace("http://", "").replace(':', "%3A");
    let elsewhere = pick.replace(&host, "evil.example");
    assert_ne!(elsewhere, pick);
    let (status, _, _, _) = get(format!("{}{elsewhere}", sim.base), String::new()).await;
    assert_eq!(status, 400);
}
