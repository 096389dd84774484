//! The department's desk (issue 13) through HTTP with a cookie jar, against the fake WeCom's
//! web sign-in (`auth/getuserinfo`), on both stores: the sign-in round trip and its cookies;
//! forged, absent, expired and tampered sessions; a state that is not the browser's and a code
//! used twice; who sees which account, case and download; the register's filters and paging;
//! the XLSX read back; the to-do list; the links to its pages in the cards to approvers and
//! incident holders.

#[macro_use]
mod support;

use std::collections::BTreeMap;

use flowbot::runtime::desk::{SESSION, STATE, Signer};
use reqwest::StatusCode;
use support::bot::{Backend, SECRET, TestBot, spawn_bot};
use support::files::xlsx_rows;
use support::flows::{FOUR_ACCOUNTS, ask, file, register_accounts, year};

on_both_stores!(
    signing_in_with_wecom_sets_a_session_and_returns_to_the_page_asked_for,
    absent_forged_tampered_and_expired_sessions_are_refused,
    the_state_must_be_the_browsers_and_a_code_works_once,
    the_department_sees_every_account_a_leader_theirs_and_others_are_refused,
    the_register_filters_sorts_pages_and_downloads,
    the_todo_lists_what_waits_in_the_viewers_scope,
    the_desk_is_off_without_its_table,
    the_annual_review_progress_is_drawn_per_unit_in_scope,
    open_incidents_are_listed_to_whoever_may_see_them,
    a_repost_tasks_coverage_is_shown_per_unit_in_scope,
    an_approvers_card_links_to_the_case_which_opens_after_signing_in,
);

/// The desk's address as members' phones reach it (`FLOWBOT_DESK_URL`).
const DESK_URL: &str = "https://desk.example.com/desk";

/// The log of this test binary (every level), to look for secrets in it.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn log() -> &'static Captured {
    static LOG: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    LOG.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        tracing_subscriber::fmt()
            .with_env_filter("debug")
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .init();
        captured
    })
}

fn log_text() -> String {
    String::from_utf8_lossy(&log().0.lock().unwrap()).into_owned()
}

/// The bot; 张三 gets more than WeCom's 30 messages a minute registering accounts.
async fn spawn(backend: Backend) -> Option<TestBot> {
    spawn_bot(backend, |s| {
        s.pacing.member_limit = 10_000;
        s.desk_url = Some(DESK_URL.to_owned());
    })
    .await
}

/// The desk links (URL rows) on the cards `user` was sent.
fn card_links(bot: &TestBot, user: &str) -> Vec<String> {
    let cards = bot.fake.sent_to(user);
    let rows = cards
        .iter()
        .filter_map(|m| m["template_card"]["horizontal_content_list"].as_array())
        .flatten();
    rows.filter(|r| r["type"] == 1)
        .map(|r| r["url"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// A browser: follows nothing by itself, keeps the cookies it is given.
struct Browser {
    http: reqwest::Client,
    base: String,
    cookies: BTreeMap<String, String>,
    https: bool,
}

/// One answer: its status, `Location`, `Set-Cookie` lines and body.
struct Page {
    status: StatusCode,
    location: String,
    set_cookies: Vec<String>,
    bytes: Vec<u8>,
}

impl Page {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
    fn set_cookie(&self, name: &str) -> Option<&String> {
        self.set_cookies
            .iter()
            .find(|c| c.starts_with(&format!("{name}=")))
    }
}

/// The value of `name` in a URL's query.
fn param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1.split('#').next()?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

impl Browser {
    fn new(bot: &TestBot) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: bot.base_url.clone(),
            cookies: BTreeMap::new(),
            https: false,
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            request = request.header("cookie", jar.join("; "));
        }
        if self.https {
            request = request.header("x-forwarded-proto", "https");
        }
        let response = request.send().await.expect("the bot answers");
        let status = response.status();
        let location = response
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let set_cookies: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|c| c.to_str().unwrap().to_owned())
            .collect();
        for c in &set_cookies {
            let (pair, attributes) = c.split_once(';').unwrap_or((c, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attributes.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let bytes = response.bytes().await.unwrap().to_vec();
        Page {
            status,
            location,
            set_cookies,
            bytes,
        }
    }

    /// Asks for `path` without a session: WeCom's sign-in; returns the `state` sent there.
    async fn start(&mut self, path: &str) -> String {
        let page = self.get(path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
        assert!(
            page.location
                .starts_with("https://open.weixin.qq.com/connect/oauth2/authorize?"),
            "{}",
            page.location
        );
        param(&page.location, "state").expect("a state")
    }

    /// Signs in as `userid` through the fake WeCom; returns where the desk sent the browser.
    async fn sign_in(&mut self, bot: &TestBot, userid: &str, path: &str) -> String {
        let state = self.start(path).await;
        let code = bot.fake.sign_in_code(userid);
        let back = self
            .get(&format!("/desk/oauth?code={code}&state={state}"))
            .await;
        assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.text());
        assert!(self.cookies.contains_key(SESSION));
        back.location
    }

    async fn signed_in(bot: &TestBot, userid: &str) -> Browser {
        let mut b = Browser::new(bot);
        b.sign_in(bot, userid, "/desk").await;
        b
    }
}

async fn signing_in_with_wecom_sets_a_session_and_returns_to_the_page_asked_for(backend: Backend) {
    log();
    let Some(bot) = spawn(backend).await else {
        return;
    };
    let mut b = Browser::new(&bot);
    let first = b.get("/desk/todo").await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    for (name, value) in [
        ("appid", support::bot::CORP_ID.to_owned()),
        ("scope", "snsapi_base".to_owned()),
        ("response_type", "code".to_owned()),
        ("agentid", support::bot::AGENT_ID.to_string()),
        ("redirect_uri", format!("{}/desk/oauth", bot.base_url)),
    ] {
        assert_eq!(
            param(&first.location, name).as_deref(),
            Some(value.as_str()),
            "{name}"
        );
    }
    let state_cookie = first.set_cookie(STATE).expect("a state cookie").clone();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/desk", "Max-Age=600"] {
        assert!(state_cookie.contains(attribute), "{state_cookie}");
    }
    assert!(!state_cookie.contains("Secure"), "{state_cookie}");
    let state = param(&first.location, "state").unwrap();
    assert!(
        !state_cookie.contains(&state),
        "the state cookie is signed, not the bare state"
    );

    let code = bot.fake.sign_in_code("lina");
    let back = b
        .get(&format!("/desk/oauth?code={code}&state={state}"))
        .await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.text());
    assert_eq!(back.location, "/desk/todo");
    let session = back.set_cookie(SESSION).expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/desk", "Max-Age=28800"] {
        assert!(session.contains(attribute), "{session}");
    }
    assert!(back.set_cookie(STATE).unwrap().contains("Max-Age=0"));
    let mut secrets = vec![code.clone(), state.clone(), cookie_value(&state_cookie)];
    secrets.push(cookie_value(session));
    let calls = bot.fake.requests_to("/cgi-bin/auth/getuserinfo");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].query.get("code"), Some(&code));

    let todo = b.get("/desk/todo").await;
    assert_eq!(todo.status, StatusCode::OK);
    let text = todo.text();
    assert!(
        text.contains("李娜") && text.contains("待审批的事项"),
        "{text}"
    );
    assert!(
        !text.contains(&b.cookies[SESSION]),
        "no session token in the page"
    );
    // Signed in, /desk goes to the register.
    let home = b.get("/desk").await;
    assert_eq!(home.location, "/desk/register");

    // Over https (a proxy says so): Secure cookies and an https redirect_uri.
    let mut secure = Browser::new(&bot);
    secure.https = true;
    let page = secure.get("/desk").await;
    assert!(page.set_cookie(STATE).unwrap().contains("; Secure"));
    let redirect = param(&page.location, "redirect_uri").unwrap();
    assert!(redirect.starts_with("https://"), "{redirect}");
    let state = param(&page.location, "state").unwrap();
    let code = bot.fake.sign_in_code("lina");
    let back = secure
        .get(&format!("/desk/oauth?code={code}&state={state}"))
        .await;
    assert!(back.set_cookie(SESSION).unwrap().contains("; Secure"));
    secrets.extend([code, state, cookie_value(back.set_cookie(SESSION).unwrap())]);
    // No code, state or cookie in the log (every level), though the sign-in is there.
    let logged = log_text();
    assert!(
        logged.contains("signed in to the desk"),
        "the log is captured"
    );
    for secret in secrets {
        assert!(!logged.contains(&secret), "{secret} logged");
    }
    bot.stop().await;
}

/// The value of a `Set-Cookie` line.
fn cookie_value(set_cookie: &str) -> String {
    let pair = set_cookie.split(';').next().unwrap();
    pair.split_once('=').unwrap().1.to_owned()
}

async fn absent_forged_tampered_and_expired_sessions_are_refused(backend: Backend) {
    let Some(bot) = spawn(backend).await else {
        return;
    };
    let dj = register_accounts(&bot, &FOUR_ACCOUNTS[..1]).await.remove(0);
    let pages = [
        "/desk/register".to_owned(),
        format!("/desk/account/{dj}"),
        "/desk/export/register.xlsx".to_owned(),
        "/desk/todo".to_owned(),
    ];
    let refused = |page: &Page, what: &str| {
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{what}");
        assert!(
            page.location.contains("/connect/oauth2/authorize"),
            "{what}"
        );
        assert!(!page.text().contains(&dj), "{what}");
    };
    let now = bot.clock.now_ms();
    let hour = 3_600_000;
    let forged = [
        ("absent", None),
        (
            "another key",
            Some(Signer::from_secret("not the secret").sign(SESSION, "lina", now + hour)),
        ),
        (
            "a state cookie",
            Some(Signer::from_secret(SECRET).sign(STATE, "lina", now + hour)),
        ),
        (
            "expired",
            Some(Signer::from_secret(SECRET).sign(SESSION, "lina", now - 1)),
        ),
        ("garbage", Some("bGluYQ.99999999999999.AAAA".to_owned())),
    ];
    for (what, cookie) in forged {
        for path in &pages {
            let mut b = Browser::new(&bot);
            if let Some(c) = &cookie {
                b.cookies.insert(SESSION.to_owned(), c.clone());
            }
            refused(&b.get(path).await, &format!("{what} {path}"));
        }
    }
    // The control: the bot's own key for a live session is accepted.
    let mut ok = Browser::new(&bot);
    let genuine = Signer::from_secret(SECRET).sign(SESSION, "lina", now + hour);
    ok.cookies.insert(SESSION.to_owned(), genuine);
    assert_eq!(ok.get("/desk/register").await.status, StatusCode::OK);

    // Tampered: 张三's real cookie with 李娜's name in it.
    let mut b = Browser::signed_in(&bot, "zhangsan").await;
    let real = b.cookies[SESSION].clone();
    let (_, rest) = real.split_once('.').unwrap();
    let lina = base64_url("lina");
    b.cookies
        .insert(SESSION.to_owned(), format!("{lina}.{rest}"));
    refused(&b.get("/desk/register").await, "tampered");
    // Expired: eight hours later the real cookie no longer works.
    b.cookies.insert(SESSION.to_owned(), real);
    assert_eq!(b.get("/desk/register").await.status, StatusCode::OK);
    bot.clock
        .set_offset_ms(bot.clock.offset_ms() + 8 * hour + 1000);
    refused(&b.get("/desk/register").await, "expired after 8 h");
    bot.stop().await;
}

fn base64_url(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

async fn the_state_must_be_the_browsers_and_a_code_works_once(backend: Backend) {
    let Some(bot) = spawn(backend).await else {
        return;
    };
    let failed = |page: &Page, what: &str| {
        assert_eq!(
            page.status,
            StatusCode::FORBIDDEN,
            "{what}: {}",
            page.text()
        );
        assert!(page.text().contains("登录没有完成"), "{what}");
        assert!(page.set_cookie(SESSION).is_none(), "{what}");
    };
    // Another state than the one this browser was sent with.
    let mut b = Browser::new(&bot);
    let state = b.start("/desk").await;
    let code = bot.fake.sign_in_code("lina");
    failed(
        &b.get(&format!("/desk/oauth?code={code}&state=x{state}"))
            .await,
        "wrong state",
    );
    // The state cookie is spent with the attempt: the right state after it fails too.
    failed(
        &b.get(&format!("/desk/oauth?code={code}&state={state}"))
            .await,
        "spent state",
    );
    // A state without its cookie: another browser replaying the link.
    let mut thief = Browser::new(&bot);
    let mut victim = Browser::new(&bot);
    let state = victim.start("/desk").await;
    let code = bot.fake.sign_in_code("lina");
    failed(
        &thief
            .get(&format!("/desk/oauth?code={code}&state={state}"))
            .await,
        "no cookie",
    );
    // No code, no state.
    let mut b = Browser::new(&bot);
    let state = b.start("/desk").await;
    failed(
        &b.get(&format!("/desk/oauth?state={state}")).await,
        "no code",
    );

    // A code works once: the second use, with a fresh state, is refused by WeCom.
    let mut first = Browser::new(&bot);
    let state = first.start("/desk").await;
    let code = bot.fake.sign_in_code("lina");
    let ok = first
        .get(&format!("/desk/oauth?code={code}&state={state}"))
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let mut second = Browser::new(&bot);
    let state = second.start("/desk").await;
    failed(
        &second
            .get(&format!("/desk/oauth?code={code}&state={state}"))
            .await,
        "code reused",
    );
    let answers: Vec<i64> = bot
        .fake
        .requests_to("/cgi-bin/auth/getuserinfo")
        .iter()
        .map(|r| r.errcode)
        .collect();
    assert_eq!(
        answers,
        [0, 40029],
        "the code was exchanged twice, refused the second time"
    );
    bot.stop().await;
}

async fn the_department_sees_every_account_a_leader_theirs_and_others_are_refused(
    backend: Backend,
) {
    let Some(bot) = spawn(backend).await else {
        return;
    };
    let djs = register_accounts(&bot, &FOUR_ACCOUNTS[..2]).await;
    let y = year(&bot);
    let ba = format!("BA-{y}-0001");
    for user in ["lina", "liuyang", "zhangsan"] {
        let mut b = Browser::signed_in(&bot, user).await;
        let register = b.get("/desk/register").await;
        assert_eq!(register.status, StatusCode::OK, "{user}");
        for dj in &djs {
            assert!(register.text().contains(dj.as_str()), "{user} sees {dj}");
        }
        let account = b.get(&format!("/desk/account/{}", djs[0])).await;
        assert_eq!(account.status, StatusCode::OK, "{user}");
        let text = account.text();
        for shown in [
            "团委青年之声",
            "gh_000000000001",
            "当前登记信息",
            &ba,
            "刘洋",
            "陈静",
        ] {
            assert!(text.contains(shown), "{user}: {shown} not in {text}");
        }
        let case = b.get(&format!("/desk/case/{ba}")).await;
        assert_eq!(case.status, StatusCode::OK, "{user}");
        assert!(case.text().contains("团委青年之声"), "{}", case.text());
        // The printable form of the account, as `flowbot form DJ-…` writes it.
        let form = b.get(&format!("/desk/form/{}", djs[0])).await;
        assert_eq!(form.status, StatusCode::OK, "{user}");
        assert!(form.text().contains("团委青年之声") && form.text().contains(djs[0].as_str()));
    }
    // 工会's leader: an empty register, and 团委's records refused however they are asked for.
    let mut sunli = Browser::signed_in(&bot, "sunli").await;
    let register = sunli.get("/desk/register").await;
    assert_eq!(register.status, StatusCode::OK);
    assert!(!register.text().contains(&djs[0]) && !register.text().contains("class=\"entry\""));
    let mut staff = Browser::signed_in(&bot, "zhangwei2").await;
    let missing = format!("DJ-{y}-0099");
    for b in [&mut sunli, &mut staff] {
        for path in [
            format!("/desk/account/{}", djs[0]),
            format!("/desk/case/{ba}"),
            format!("/desk/case/{}", djs[1]),
            format!("/desk/account/{missing}"),
            format!("/desk/form/{}", djs[0]),
            format!("/desk/form/{ba}"),
        ] {
            let page = b.get(&path).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
            assert!(page.text().contains("没有查看这一页的权限"), "{path}");
            assert!(!page.text().contains("团委青年之声"), "{path}");
        }
    }
    // Staff supervising nothing and owning nothing: the register, the counts and the download
    // refused.
    for path in ["/desk/register", "/desk/stats"] {
        assert_eq!(
            staff.get(path).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    // 统计: 工会's leader counts none of 团委's accounts.
    let stats = sunli.get("/desk/stats").await.text();
    assert!(stats.contains("class=\"total\">0<"), "{stats}");
    let download = staff.get("/desk/export/register.xlsx").await;
    assert_eq!(download.status, StatusCode::FORBIDDEN);
    // 工会's leader downloads 工会's register: the header only.
    let download = sunli.get("/desk/export/register.xlsx").await;
    assert_eq!(download.status, StatusCode::OK);
    assert_eq!(xlsx_rows(&download.bytes).len(), 1);
    // The department: a number that does not exist is not found.
    let mut lina = Browser::signed_in(&bot, "lina").await;
    let page = lina.get(&format!("/desk/account/{missing}")).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    // 统计: the department counts 团委's two accounts.
    let stats = lina.get("/desk/stats").await.text();
    assert!(stats.contains("class=\"total\">2<"), "{stats}");
    assert!(
        stats.contains("团委") && stats.contains("width:100%"),
        "{stats}"
    );
    bot.stop().await;
}

async fn the_register_filters_sorts_pages_and_downloads(backend: Backend) {
    let Some(bot) = spawn(backend).await else {
        return;
    };
    let djs = register_accounts(&bot, &FOUR_ACCOUNTS[..2]).await;
    let mut b = Browser::signed_in(&bot, "lina").await;
    let entries = |page: &Page| -> Vec<String> {
        let text = page.text();
        djs.iter()
            .filter(|dj| text.contains(dj.as_str()))
            .cloned()
            .collect()
    };
    let first = b.get("/desk/register?size=1").await;
    assert_eq!(entries(&first), [djs[0].clone()]);
    assert!(
        first.text().contains("第 1&#x2f;2 页，共 2 个"),
        "{}",
        first.text()
    );
    assert!(first.text().contains("rel=\"next\""));
    let second = b.get("/desk/register?size=1&page=2").await;
    assert_eq!(entries(&second), [djs[1].clone()]);
    assert!(!second.text().contains("rel=\"next\"") && second.text().contains("rel=\"prev\""));
    // Sorted by name: 团委志愿者 (志) before 团委青年之声 (青)? Code points decide: 志 U+5FD7, 青 U+9752.
    let by_name = b.get("/desk/register?sort=name&size=1").await;
    assert_eq!(entries(&by_name), [djs[1].clone()]);
    let search = b.get(&format!("/desk/register?q={}", enc("志愿者"))).await;
    assert_eq!(entries(&search), [djs[1].clone()]);
    let in_use = b
        .get(&format!("/desk/register?status={}&unit=tw", enc("在用")))
        .await;
    assert_eq!(entries(&in_use), djs);
    let other_unit = b.get("/desk/register?unit=gh").await;
    assert!(entries(&other_unit).is_empty());
    assert!(other_unit.text().contains("暂无记录"));
    let closed = b
        .get(&format!("/desk/register?status={}", enc("已注销")))
        .await;
    assert!(entries(&closed).is_empty());

    let download = b.get("/desk/export/register.xlsx").await;
    assert_eq!(download.status, StatusCode::OK);
    let rows = xlsx_rows(&download.bytes);
    assert_eq!(rows[0][0], "登记编号");
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(rows[1][0], djs[0]);
    assert!(rows[2].contains(&"团委志愿者".to_owned()), "{rows:?}");
    bot.stop().await;
}

fn enc(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

async fn the_todo_lists_what_waits_in_the_viewers_scope(backend: Backend) {
    let Some(bot) = spawn(backend).await else {
        return;
    };
    let number = file(&bot).await;
    let mut liuyang = Browser::signed_in(&bot, "liuyang").await;
    let todo = liuyang.get("/desk/todo").await;
    let text = todo.text();
    assert!(
        text.contains(&number) && text.contains("class=\"approval"),
        "{text}"
    );
    assert!(
        text.contains("在企业微信的对话中"),
        "decisions stay in chat"
    );
    let mut sunli = Browser::signed_in(&bot, "sunli").await;
    let text = sunli.get("/desk/todo").await.text();
    assert!(!text.contains(&number), "{text}");
    // The applicant sees their own case waiting; someone with nothing is refused.
    let mut zhangsan = Browser::signed_in(&bot, "zhangsan").await;
    assert!(zhangsan.get("/desk/todo").await.text().contains(&number));
    let mut zhaoliu = Browser::signed_in(&bot, "zhaoliu").await;
    let refused = zhaoliu.get("/desk/todo").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(!refused.text().contains(&number));
    // The case's page, for the unit's leader.
    let case = liuyang.get(&format!("/desk/case/{number}")).await;
    assert_eq!(case.status, StatusCode::OK);
    assert!(case.text().contains("团委青年之声"));
    bot.stop().await;
}

/// Copies folder `from` into `to`.
fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        match path.is_dir() {
            true => copy_dir(&path, &target),
            false => drop(std::fs::copy(&path, &target).unwrap()),
        }
    }
}

async fn the_desk_is_off_without_its_table(backend: Backend) {
    // The shipped bot-scripts without `[desk]`.
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/bot-scripts")),
        tmp.path(),
    );
    let bot_toml = tmp.path().join("bot.toml");
    let text = std::fs::read_to_string(&bot_toml).unwrap();
    let start = text.find("[desk]\n").unwrap();
    let end = start + text[start..].find("\n\n").unwrap();
    std::fs::write(&bot_toml, format!("{}{}", &text[..start], &text[end..])).unwrap();
    let scripts = tmp.path().to_owned();
    let Some(bot) = spawn_bot(backend, |s| s.scripts_dir = scripts).await else {
        return;
    };
    let mut b = Browser::new(&bot);
    for path in ["/desk", "/desk/register", "/desk/oauth?code=x&state=y"] {
        assert_eq!(b.get(path).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    bot.stop().await;
}

async fn the_annual_review_progress_is_drawn_per_unit_in_scope(backend: Backend) {
    let Some(bot) = spawn(backend).await else {
        return;
    };
    let djs = register_accounts(&bot, &FOUR_ACCOUNTS[..2]).await;
    let y = year(&bot);
    let mut lina = Browser::signed_in(&bot, "lina").await;
    let before = lina.get("/desk/annual").await;
    assert_eq!(before.status, StatusCode::OK);
    assert!(before.text().contains("暂无记录"), "no campaign yet");
    ask(&bot, "lina", &format!("年审 开始 {y}"), "确认").await;
    ask(&bot, "lina", "确认", "已发起").await;
    for user in ["lina", "liuyang", "zhangsan"] {
        let mut b = Browser::signed_in(&bot, user).await;
        let page = b.get("/desk/annual").await;
        assert_eq!(page.status, StatusCode::OK, "{user}");
        let text = page.text();
        assert!(text.contains(&format!("年审进度 {y}")), "{text}");
        assert!(
            text.contains("团委　0/2") && text.contains("<rect x=\"0.0\" y=\"0\" width=\"100.0\""),
            "{text}"
        );
        for dj in &djs {
            assert!(text.contains(dj.as_str()), "{user} sees {dj}");
        }
        assert!(text.contains("未提交"), "{text}");
    }
    let mut sunli = Browser::signed_in(&bot, "sunli").await;
    let text = sunli.get("/desk/annual").await.text();
    assert!(
        !text.contains(&djs[0]) && !text.contains("团委　"),
        "{text}"
    );
    let mut staff = Browser::signed_in(&bot, "zhangwei2").await;
    assert_eq!(
        staff.get("/desk/annual").await.status,
        StatusCode::FORBIDDEN
    );
    bot.stop().await;
}

async fn open_incidents_are_listed_to_whoever_may_see_them(backend: Backend) {
    let Some(bot) = spawn(backend).await else {
        return;
    };
    bot.say("zhangsan", &["舆情"]).await;
    assert!(
        bot.wait_for_text("zhangsan", "涉及的账号", support::wait::WAIT)
            .await
    );
    bot.say("zhangsan", &["青年之声"]).await;
    assert!(
        bot.wait_for_text("zhangsan", "发生了什么", support::wait::WAIT)
            .await
    );
    bot.say("zhangsan", &["微博评论区出现大量不实信息"]).await;
    let number = format!("YQ-{}-0001", year(&bot));
    assert!(
        bot.wait_for_text("zhangsan", &number, support::wait::WAIT)
            .await
    );
    for user in ["lina", "liuyang", "zhangsan"] {
        let mut b = Browser::signed_in(&bot, user).await;
        let page = b.get("/desk/incidents").await;
        assert_eq!(page.status, StatusCode::OK, "{user}");
        let text = page.text();
        for shown in [
            number.as_str(),
            "微博评论区出现大量不实信息",
            "尚无人确认",
            "团委",
        ] {
            assert!(text.contains(shown), "{user}: {shown} not in {text}");
        }
    }
    // The cards to the unit's leader and the department link to the open incidents.
    let incidents = format!("{DESK_URL}/incidents");
    for user in ["liuyang", "lina"] {
        assert!(card_links(&bot, user).contains(&incidents), "{user}");
    }
    // So does the list the department asks for in chat, on its last line.
    bot.say("lina", &["舆情 列表"]).await;
    let line = format!("在工作台查看：{incidents}");
    assert!(bot.wait_for_text("lina", &line, support::wait::WAIT).await);
    // The reporter's own messages carry none.
    assert!(
        bot.texts_to("zhangsan")
            .iter()
            .all(|t| !t.contains(DESK_URL))
    );
    let mut sunli = Browser::signed_in(&bot, "sunli").await;
    let page = sunli.get("/desk/incidents").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.text().contains(&number), "another unit's incident");
    let mut staff = Browser::signed_in(&bot, "zhangwei2").await;
    assert_eq!(
        staff.get("/desk/incidents").await.status,
        StatusCode::FORBIDDEN
    );
    bot.stop().await;
}

async fn a_repost_tasks_coverage_is_shown_per_unit_in_scope(backend: Backend) {
    let Some(bot) = spawn(backend).await else {
        return;
    };
    let djs = register_accounts(&bot, &FOUR_ACCOUNTS[..2]).await;
    let y = year(&bot);
    let task = format!("ZF-{y}-0001");
    let opened = ask(
        &bot,
        "chenjing",
        "转发任务 https://mp.weixin.qq.com/s/post 24小时 全部 请转发年度工作会议报道",
        "已发布转发任务",
    )
    .await;
    assert!(opened.contains(&task), "{opened}");
    for user in ["lina", "liuyang", "zhangsan"] {
        let mut b = Browser::signed_in(&bot, user).await;
        let page = b.get("/desk/reposts").await;
        assert_eq!(page.status, StatusCode::OK, "{user}");
        let text = page.text();
        for shown in [task.as_str(), "请转发年度工作会议报道", "0/2（0%）", "团委"] {
            assert!(text.contains(shown), "{user}: {shown} not in {text}");
        }
    }
    let mut sunli = Browser::signed_in(&bot, "sunli").await;
    let text = sunli.get("/desk/reposts").await.text();
    assert!(!text.contains(&task) && text.contains("暂无记录"), "{text}");
    let mut staff = Browser::signed_in(&bot, "zhangwei2").await;
    assert_eq!(
        staff.get("/desk/reposts").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(djs.len(), 2);
    bot.stop().await;
}

async fn an_approvers_card_links_to_the_case_which_opens_after_signing_in(backend: Backend) {
    let Some(bot) = spawn(backend).await else {
        return;
    };
    register_accounts(&bot, &FOUR_ACCOUNTS[..1]).await;
    let ba = format!("BA-{}-0001", year(&bot));
    let url = format!("{DESK_URL}/case/{ba}");
    // The unit's leader and the department each had the card of their step, with the link.
    for user in ["liuyang", "lina"] {
        assert_eq!(card_links(&bot, user), vec![url.clone()], "{user}");
    }
    // Opened on the leader's phone: WeCom's sign-in, then the case itself.
    let path = url.strip_prefix("https://desk.example.com").unwrap();
    let mut phone = Browser::new(&bot);
    let back = phone.sign_in(&bot, "liuyang", path).await;
    assert_eq!(back, path);
    let case = phone.get(path).await;
    assert_eq!(case.status, StatusCode::OK);
    assert!(case.text().contains(&ba) && case.text().contains("团委青年之声"));
    // The applicant's texts carry no desk link.
    assert!(
        bot.texts_to("zhangsan")
            .iter()
            .all(|t| !t.contains(DESK_URL))
    );
    bot.stop().await;
}
