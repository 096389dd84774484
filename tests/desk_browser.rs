//! The desk in a real browser (headless Chromium through chromedriver), the bot in simulator
//! mode: two accounts of 团委 and one of 工会 registered through the console's endpoints and a
//! fourth filed, waiting; 李娜 (the department) signs in through the simulator's WeCom sign-in
//! page, downloads the register's XLSX through the page's link (read back from Chromium's
//! download folder), filters the register, opens an account with its history and sees the
//! waiting case on 待办; 刘洋 (团委's leader) downloads only 团委's accounts, sees only 团委's and
//! is refused 工会's account by URL. Every page at 390 px wide has no sideways scroll. A desktop
//! browser without a session opens a case's link and lands on it after signing in. The README's
//! desk screenshots are saved under `target/desk-screenshots/`. Skipped (loudly) without
//! Chromium and chromedriver unless `BROWSER_REQUIRED` is set.

#[macro_use]
mod support;

use std::path::Path;
use std::time::Duration;

use fantoccini::{Client, Locator};
use flowbot::runtime::app::Application;
use serde_json::{Value, json};
use support::browser::{Driver, connect, connect_phone, downloads, screenshot, screenshots};
use support::files::xlsx_rows;
use support::wait::until;

/// The console's endpoints, as a person in the console would use them.
struct Console {
    base: String,
    http: reqwest::Client,
    /// The cards already tapped (a step's second card for the same person is a new one).
    tapped: std::sync::Mutex<Vec<Value>>,
}

impl Console {
    async fn say(&self, user: &str, text: &str) {
        let body = json!({"user": user, "text": text});
        let r = self
            .http
            .post(format!("{}/sim/ui/send", self.base))
            .json(&body);
        assert!(r.send().await.unwrap().status().is_success());
    }

    async fn inbox(&self, user: &str) -> Vec<Value> {
        let url = format!("{}/sim/ui/poll?user={user}", self.base);
        let poll: Value = self
            .http
            .get(url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        poll["inbox"].as_array().cloned().unwrap_or_default()
    }

    /// Waits until `user` has a message containing `needle`.
    async fn wait_for(&self, user: &str, needle: &str) {
        until(&format!("{user} gets {needle}"), || async {
            self.inbox(user)
                .await
                .iter()
                .any(|m| m.to_string().contains(needle))
        })
        .await;
    }

    /// `user` taps 同意 on the card for `number`.
    async fn approve(&self, user: &str, number: &str) {
        let key = format!("approve:{number}");
        let deadline = std::time::Instant::now() + support::wait::WAIT;
        let msg = loop {
            let found = self.inbox(user).await.iter().rev().find_map(|m| {
                let buttons = m["card"]["button_list"].as_array()?;
                let ours = buttons.iter().any(|b| b["key"] == key.as_str());
                let fresh = !self.tapped.lock().unwrap().contains(&m["id"]);
                (ours && fresh).then(|| m["id"].clone())
            });
            if let Some(id) = found {
                self.tapped.lock().unwrap().push(id.clone());
                break id;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{user} has no card of {number}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let body = json!({"user": user, "msg": msg, "key": key});
        let r = self
            .http
            .post(format!("{}/sim/ui/tap", self.base))
            .json(&body);
        assert!(r.send().await.unwrap().status().is_success());
    }

    /// `user` files the registration of an account that `leader` leads, the `n`-th case of
    /// 2026; returns its number once the applicant has it.
    async fn file(
        &self,
        (user, leader): (&str, &str),
        (name, id): (&str, &str),
        n: usize,
    ) -> String {
        let link = format!("https://mp.weixin.qq.com/s/{id}");
        let answers = [
            "备案",
            "2026-04-28",
            "2",
            name,
            id,
            &link,
            "是",
            "单位介绍信",
            "宣传本单位工作动态和通知。",
            leader,
            "010-12345678",
            "13800138000",
            "本人",
            "010-12345678",
            "13900139000",
            "admin@example.com",
            "确认",
        ];
        // Each message is queued in the order sent (one conversation, first in first out).
        for a in answers {
            self.say(user, a).await;
        }
        let number = format!("BA-2026-{n:04}");
        self.wait_for(user, &number).await;
        number
    }

    /// `user` registers an account that `leader` leads, approved by `approvers` in turn.
    async fn register(
        &self,
        (user, leader, approvers): (&str, &str, [&str; 2]),
        account: (&str, &str),
        n: usize,
    ) {
        let number = self.file((user, leader), account, n).await;
        for approver in approvers {
            self.approve(approver, &number).await;
        }
        self.wait_for(user, &format!("DJ-2026-{n:04}")).await;
    }
}

/// No sideways scroll: the page is no wider than the window.
async fn fits(client: &Client, what: &str) {
    let widths = client
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            vec![],
        )
        .await
        .unwrap();
    let (scroll, inner) = (widths[0].as_i64().unwrap(), widths[1].as_i64().unwrap());
    assert!(inner <= 400, "{what}: the window is {inner} px wide");
    assert!(
        scroll <= inner,
        "{what}: {scroll} px wide in a {inner} px window"
    );
}

async fn body(client: &Client) -> String {
    client
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Opens `path` without a session: the simulator's WeCom sign-in page answers.
async fn open_signed_out(client: &Client, base: &str, path: &str) {
    client.goto(&format!("{base}{path}")).await.unwrap();
    let url = client.current_url().await.unwrap();
    assert_eq!(url.path(), "/sim/oauth/connect/oauth2/authorize", "{path}");
}

/// Picks `name` on the sign-in page and waits to land on `lands`.
async fn pick(client: &Client, name: &str, lands: &str) {
    client
        .find(Locator::LinkText(name))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until(&format!("{lands} after signing in"), || async {
        client.current_url().await.unwrap().path() == lands
    })
    .await;
}

/// Clicks the register page's download link and reads back the XLSX it saves into
/// `downloads`: the register numbers of its rows, the heading checked.
async fn download_register(client: &Client, downloads: &Path) -> Vec<String> {
    client
        .find(Locator::Css("a[href='/desk/export/register.xlsx']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // Chromium writes `*.crdownload` and renames it when the file is complete.
    let saved = || {
        std::fs::read_dir(downloads)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "xlsx"))
    };
    until("the register's XLSX downloaded", || async {
        saved().is_some()
    })
    .await;
    let path = saved().unwrap();
    let rows = xlsx_rows(&std::fs::read(&path).unwrap());
    assert_eq!(rows[0][0], "登记编号", "{}: {rows:?}", path.display());
    rows[1..].iter().map(|r| r[0].clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desk_in_a_phone_sized_browser() {
    if support::browser::missing("desk_browser") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut settings = support::browser::simulator(dir.path());
    // 张三 gets more than WeCom's 30 messages a minute registering three accounts.
    settings.pacing.member_limit = 10_000;
    let app = Application::build(settings).await.unwrap();
    let base = format!("http://{}", app.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let bot = tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    let console = Console {
        base: base.clone(),
        http: reqwest::Client::new(),
        tapped: Default::default(),
    };
    let tw = ("zhangsan", "刘洋", ["liuyang", "chenjing"]);
    // 孙丽 leads 工会 and files herself: the department decides both steps (separation).
    let gh = ("sunli", "孙丽", ["chenjing", "chenjing"]);
    console
        .register(tw, ("团委青年之声", "gh_000000000001"), 1)
        .await;
    console
        .register(tw, ("团委志愿者", "gh_000000000002"), 2)
        .await;
    console
        .register(gh, ("工会职工之家", "gh_000000000003"), 3)
        .await;
    // A fourth, filed and waiting for 刘洋: something on 待办.
    let waiting = console
        .file(("zhangsan", "刘洋"), ("团委新闻中心", "gh_000000000004"), 4)
        .await;

    let shots = screenshots("desk-screenshots");
    let logs = tempfile::tempdir().unwrap();
    let mut driver = Driver::start(logs.path())
        .await
        .expect("chromedriver starts");
    let all = ["DJ-2026-0001", "DJ-2026-0002", "DJ-2026-0003"];
    for (who, name, sees, not) in [
        ("lina", "李娜（lina）", &all[..], None),
        (
            "liuyang",
            "刘洋（liuyang）",
            &all[..2],
            Some("DJ-2026-0003"),
        ),
    ] {
        let profile = tempfile::tempdir().unwrap();
        let client = connect_phone(driver.port, profile.path(), 390)
            .await
            .unwrap();
        open_signed_out(&client, &base, "/desk").await;
        fits(&client, "the sign-in page").await;
        pick(&client, name, "/desk/register").await;
        fits(&client, "the register").await;
        let rows = client.find_all(Locator::Css("tr.entry")).await.unwrap();
        assert_eq!(rows.len(), sees.len(), "{who}");
        // The download, as the browser saves it: the accounts this viewer sees, no other.
        let downloaded = download_register(&client, &downloads(profile.path())).await;
        assert_eq!(downloaded, sees, "{who}'s XLSX");
        // Search, as a person types it.
        let q = client.find(Locator::Css("input[name=q]")).await.unwrap();
        q.send_keys("志愿者").await.unwrap();
        client
            .find(Locator::Css("form.filters button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        until("the search's answer", || async {
            client
                .find_all(Locator::Css("tr.entry"))
                .await
                .unwrap()
                .len()
                == 1
        })
        .await;
        assert!(body(&client).await.contains("团委志愿者"));
        fits(&client, "the search").await;
        // The account's page, with its history.
        client
            .find(Locator::LinkText("DJ-2026-0002"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        until("the account's page", || async {
            body(&client).await.contains("当前登记信息")
        })
        .await;
        let text = body(&client).await;
        assert!(text.contains("办理经过") && text.contains("陈静"), "{text}");
        fits(&client, "the account").await;
        if who == "lina" {
            screenshot(&client, &shots, "desk-account-phone")
                .await
                .unwrap();
        }
        client.goto(&format!("{base}/desk/todo")).await.unwrap();
        fits(&client, "/desk/todo").await;
        let text = body(&client).await;
        assert!(text.contains(&waiting), "{who}'s 待办: {text}");
        if who == "lina" {
            screenshot(&client, &shots, "desk-todo-phone")
                .await
                .unwrap();
        }
        client.goto(&format!("{base}/desk/stats")).await.unwrap();
        fits(&client, "/desk/stats").await;
        if let Some(other) = not {
            client
                .goto(&format!("{base}/desk/account/{other}"))
                .await
                .unwrap();
            let text = body(&client).await;
            assert!(text.contains("没有查看这一页的权限"), "{text}");
            assert!(!text.contains("工会职工之家"));
        }
        client.close().await.unwrap();
    }

    // A desktop browser without a session follows a case's link (as a chat message carries
    // it): WeCom's sign-in first, then that case's page; then 台账 at 1200 px.
    let profile = tempfile::tempdir().unwrap();
    let client = connect(driver.port, profile.path(), "1200,900")
        .await
        .unwrap();
    let case = "/desk/case/BA-2026-0001";
    open_signed_out(&client, &base, case).await;
    pick(&client, "李娜（lina）", case).await;
    let text = body(&client).await;
    assert!(
        text.contains("BA-2026-0001") && text.contains("团委青年之声"),
        "{text}"
    );
    client.goto(&format!("{base}/desk/register")).await.unwrap();
    assert_eq!(
        client
            .find_all(Locator::Css("tr.entry"))
            .await
            .unwrap()
            .len(),
        3
    );
    screenshot(&client, &shots, "desk-register").await.unwrap();
    client.close().await.unwrap();

    driver.stop();
    let _ = stop.send(());
    let _ = bot.await;
}
