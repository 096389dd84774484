//! End to end in a real browser: the bot in simulator mode (in-process, port 0, embedded store in
//! a temp dir), headless Chromium driven through chromedriver with `fantoccini` (WebDriver). A
//! staff member files a complete registration by typing in the console and sees the case number.
//! (the approvals follow, below).
//!
//! Each step saves a screenshot under `target/console-screenshots/`. Without `/usr/bin/chromium`
//! and `/usr/bin/chromedriver` the test prints a loud SKIPPED and passes, unless
//! `BROWSER_REQUIRED` is set (`scripts/test` sets it when both exist); then it fails.
//!
//! The story goes on: the clock jumps a week ([`jump_a_week`]) and the unit leader (刘洋) finds a
//! reminder of the overdue approval next to his card, taps 同意; 党委宣传部 (陈静) taps 同意; the applicant
//! sees the register number.
//!
//! A second test, [`the_console_on_a_phone`], opens the console on an emulated 390 px phone: no
//! sideways scroll, the chat at least 300 px wide, the member picked from the people menu, a
//! registration filed and 刘洋's card (within the chat's width) tapped. Its screenshots are the
//! `phone-*.png` ones.

#[macro_use]
mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use fantoccini::{Client, Locator};
use flowbot::runtime::app::Application;
use serde_json::json;
use support::browser::{Driver, connect, connect_phone, screenshot, screenshots};

/// How long the bot may take to answer one step (replies go through the outbox and the fake API).
const STEP_TIMEOUT: Duration = Duration::from_secs(60);

/// The staff member (unit 团委) and the dialogue of `tests/transcripts/complete_registration.txt`:
/// what is typed, and a phrase of the bot's next answer.
const APPLICANT: &str = "zhangsan";
const DIALOGUE: &[(&str, &str)] = &[
    ("备案", "请输入账号的创建时间"),
    ("2026-04-28", "请选择新媒体平台"),
    ("2", "请输入账号名称"),
    ("团委青年之声", "请输入账号ID"),
    ("gh_1234567890ab", "请输入媒体链接地址或服务号"),
    ("https://mp.weixin.qq.com/s/abc", "是否已在平台完成认证"),
    ("是", "请列出认证所需的文件"),
    ("单位介绍信、营业执照复印件", "请说明开通该新媒体的宗旨"),
    (
        "宣传本单位青年工作动态，发布团委通知和志愿服务信息。",
        "请输入主管领导的姓名",
    ),
    ("刘洋", "请输入主管领导的办公电话"),
    ("010-12345678", "请输入主管领导的手机号码"),
    ("13800138000", "请输入管理员的姓名"),
    ("本人", "请输入管理员的办公电话"),
    ("010 12345678 转 123", "请输入管理员的手机号码"),
    ("13900139000", "请输入管理员的电子邮箱"),
    ("zhangsan@example.com", "请核对以下信息"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staff_member_files_a_registration_in_the_console() {
    if support::browser::missing("console_browser") {
        return;
    }
    let bot = Bot::start().await;
    let shots = screenshots("console-screenshots");
    let mut driver = Driver::start(&shots).await.expect("chromedriver starts");
    let profile = tempfile::tempdir().expect("profile dir");
    let client = connect(driver.port, profile.path(), "1400,900")
        .await
        .expect("a Chromium session");
    let mut story = Story::new(client.clone(), shots, &bot, "");
    let result = run_story(&mut story, &bot.console).await;
    if result.is_err() {
        let _ = story.shot("failure").await;
    }
    let _ = client.close().await;
    driver.stop();
    bot.stop().await;
    result.expect("the console story");
}

/// On a 390 px phone the console fits the screen: no sideways scroll, the chat takes the width,
/// and a member is picked from the people menu above the chat. 张三 files a registration and
/// 刘洋 taps 同意 on the card, which fits the width too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_on_a_phone() {
    if support::browser::missing("console_browser (phone)") {
        return;
    }
    let bot = Bot::start().await;
    let shots = screenshots("console-screenshots");
    let logs = tempfile::tempdir().expect("log dir");
    let mut driver = Driver::start(logs.path())
        .await
        .expect("chromedriver starts");
    let profile = tempfile::tempdir().expect("profile dir");
    let client = connect_phone(driver.port, profile.path(), 390)
        .await
        .expect("a phone-sized Chromium session");
    let mut story = Story::new(client.clone(), shots, &bot, "phone-");
    let result = phone_story(&mut story, &bot.console).await;
    if result.is_err() {
        let _ = story.shot("failure").await;
    }
    let _ = client.close().await;
    driver.stop();
    bot.stop().await;
    result.expect("the console on a phone");
}

async fn phone_story(story: &mut Story, console: &str) -> anyhow::Result<()> {
    story.client.goto(console).await?;
    story.wait_for_person(APPLICANT).await?;
    story.fits("the first screen").await?;
    let chat = story.width(".chat").await?;
    ensure!(chat >= 300.0, "the chat column is {chat} px wide");
    story.shot("console").await?;
    story.choose(APPLICANT).await?;
    story.say("备案", "请输入账号的创建时间").await?;
    story.fits("the form's first question").await?;
    // A long unbroken line (a link) wraps inside its bubble.
    story
        .say(
            "https://mp.weixin.qq.com/s/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOp",
            "请输入账号的创建时间",
        )
        .await?;
    story.fits("a long line").await?;
    story.shot("form-started").await?;
    for (typed, expected) in &DIALOGUE[1..] {
        story.say(typed, expected).await?;
    }
    story.fits("the summary").await?;
    let answer = story.say("确认", "备案编号").await?;
    let case = case_number(&answer)?;
    story.choose("liuyang").await?;
    wait_for_button(story, &format!("approve:{case}")).await?;
    story.fits("the leader's card").await?;
    let (card, box_) = (
        story.width(".msg.card").await?,
        story.width("#messages").await?,
    );
    ensure!(card <= box_, "a {card} px card in a {box_} px chat");
    tap_approve(story, "liuyang", &case).await
}

/// The bot in simulator mode, in-process on port 0 with the embedded store in a temp dir.
struct Bot {
    console: String,
    clock: flowbot::base::clock::Clock,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
    _dir: tempfile::TempDir,
}

impl Bot {
    async fn start() -> Bot {
        let dir = tempfile::tempdir().expect("temp dir");
        let settings = support::browser::simulator(dir.path());
        let app = Application::build(settings).await.expect("bot builds");
        let console = format!("http://{}/console", app.local_addr());
        let clock = app.clock();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until_stopped(async move {
            let _ = stopped.await;
        }));
        Bot {
            console,
            clock,
            stop,
            task,
            _dir: dir,
        }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        let _ = tokio::time::timeout(Duration::from_secs(10), self.task).await;
    }
}

async fn run_story(story: &mut Story, console: &str) -> anyhow::Result<()> {
    story.client.goto(console).await?;
    let intro = story.text("#intro").await?;
    ensure!(
        intro.contains("选择身份"),
        "the first screen explains: {intro}"
    );
    story.wait_for_person(APPLICANT).await?;
    story.shot("console").await?;
    let case = file_registration(story).await?;
    ensure!(case.starts_with("BA"), "case number {case}");
    // A week passes: the unit leader's approval is overdue and the bot chases it with a
    // reminder that points to the card he already has. Then the leader and the propaganda
    // department tap 同意.
    jump_a_week(story).await?;
    story.choose("liuyang").await?;
    let chase = wait_for_working_time_chase(story).await?;
    ensure!(
        chase.contains(&case),
        "the reminder names the case: {chase}"
    );
    let cards = format!("button[data-key='approve:{case}']");
    ensure!(
        story.client.find_all(Locator::Css(&cards)).await?.len() == 1,
        "one live card for the leader"
    );
    story.shot("reminder-card").await?;
    desk_link_opens_the_case(story, &case, "刘洋").await?;
    approve_as(story, "liuyang", &case).await?;
    approve_as(story, "chenjing", &case).await?;
    story.choose(APPLICANT).await?;
    let registered = story.wait_bot_line("登记编号").await?;
    ensure!(
        registered.contains("DJ-"),
        "the register number: {registered}"
    );
    story.shot("registered").await?;
    other_processes(story).await?;

    // The account's administrator (张三) leaves the company: WeCom's contacts-change callback
    // opens a change-report duty. Weeks later, past its deadline, the propaganda department's
    // group gets a digest with @mentions.
    story
        .client
        .find(Locator::Id("leave"))
        .await?
        .click()
        .await?;
    story.choose("liuyang").await?;
    story.wait_bot_line("已离职").await?;
    story.shot("duty-opened").await?;
    for _ in 0..3 {
        jump_a_week(story).await?;
    }
    let deadline = Instant::now() + STEP_TIMEOUT;
    loop {
        let groups = story.text("#groups").await?;
        if groups.contains("变更报备已到期") && groups.contains("团委青年之声") {
            break;
        }
        ensure!(Instant::now() < deadline, "no group digest: {groups}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    story.shot("group-nudge").await?;
    Ok(())
}

/// The policy's other processes on the registered account, a screenshot each (README): the
/// department opens the annual review and reads its progress; the administrator sends a
/// screenshot and reports an incident, whose card reaches the unit leader at once; a post goes
/// to the department for authorisation; the department sends a repost task to the matrix.
async fn other_processes(story: &mut Story) -> anyhow::Result<()> {
    use chrono::Datelike;
    let year = story.clock.now().today.year();

    story.choose("lina").await?;
    story
        .say(&format!("年审 开始 {year}"), "确认请回复")
        .await?;
    story.say("确认", "已发起").await?;
    story.shot("annual-opened").await?;
    story.choose(APPLICANT).await?;
    story.wait_bot_line("年审已开始").await?;
    story.shot("annual-task").await?;
    story.choose("lina").await?;
    story.say("年审 进度", "年审进度").await?;
    story.shot("annual-progress").await?;

    story.choose(APPLICANT).await?;
    send_image(story, "评论区截图.png").await?;
    story.wait_bot_line("已收到截图").await?;
    story.say("舆情", "【舆情上报】").await?;
    story.say("团委青年之声", "请简要说明").await?;
    story
        .say("评论区出现大量不实信息，正在核实", "已上报")
        .await?;
    story.shot("incident-filed").await?;
    story.choose("liuyang").await?;
    wait_for_button(story, "inc_ack").await?;
    story.shot("incident-card").await?;

    story.choose(APPLICANT).await?;
    story.say("送审", "请选择内容类别").await?;
    story.say("3", "请发送送审稿件").await?;
    story
        .say("https://mp.weixin.qq.com/s/preview-abc", "计划发布时间")
        .await?;
    story.say("12月8日 上午10点", "是否已经审核过").await?;
    story.say("是", "请核对").await?;
    story.say("确认", "已送审").await?;
    story.shot("publication-filed").await?;
    story.choose("chenjing").await?;
    wait_for_button(story, "approve:SS-").await?;
    story.shot("publication-card").await?;

    story.choose("lina").await?;
    story
        .say(
            "转发任务 https://mp.weixin.qq.com/s/news 24小时 全部 请转发公司年度工作会议报道",
            "已发布转发任务",
        )
        .await?;
    story.shot("repost-task").await?;
    story.choose(APPLICANT).await?;
    wait_for_button(story, "repost_done").await?;
    story.shot("repost-card").await
}

/// Sends an image from the console's 图片 button (a small PNG made in the page).
async fn send_image(story: &Story, name: &str) -> anyhow::Result<()> {
    let script = "const [name, done] = arguments;\
        const bytes = Uint8Array.from(atob('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=='), c => c.charCodeAt(0));\
        const dt = new DataTransfer();\
        dt.items.add(new File([bytes], name, {type: 'image/png'}));\
        const input = document.getElementById('composer-file');\
        input.files = dt.files;\
        input.dispatchEvent(new Event('change'));\
        done(true);";
    story
        .client
        .execute_async(script, vec![json!(name)])
        .await
        .context("sending an image from the console")?;
    Ok(())
}

/// Waits for a live card button whose key starts with `prefix` in the open chat.
async fn wait_for_button(story: &Story, prefix: &str) -> anyhow::Result<()> {
    let css = format!("button[data-key^='{prefix}']:not([disabled])");
    story
        .client
        .wait()
        .at_most(STEP_TIMEOUT)
        .for_element(Locator::Css(&css))
        .await
        .with_context(|| format!("no card with a {prefix} button"))?;
    Ok(())
}

/// The desk link on the card of `case` opens, in a new tab, the simulator's WeCom sign-in; as
/// `name` it lands on the case's desk page. Then back to the console's tab.
async fn desk_link_opens_the_case(story: &mut Story, case: &str, name: &str) -> anyhow::Result<()> {
    let link = format!(".kv a[href$='/desk/case/{case}']");
    let href = story
        .client
        .find(Locator::Css(&link))
        .await
        .context("the card links to the case on the desk")?
        .attr("href")
        .await?
        .context("the link's address")?;
    let console = story.client.window().await?;
    let tab = story.client.new_window(true).await?;
    story.client.switch_to_window(tab.handle).await?;
    story.client.goto(&href).await?;
    let person = format!("//a[contains(., '{name}')]");
    story
        .client
        .find(Locator::XPath(&person))
        .await
        .context("the simulator's sign-in lists the leader")?
        .click()
        .await?;
    let page = format!("/desk/case/{case}");
    let deadline = Instant::now() + STEP_TIMEOUT;
    while story.client.current_url().await?.path() != page {
        ensure!(
            Instant::now() < deadline,
            "never reached {page} after signing in"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let body = story.text("body").await?;
    ensure!(body.contains(case), "the case's page shows it: {body}");
    story.shot("desk-case-from-card").await?;
    story.client.close_window().await?;
    story.client.switch_to_window(console).await?;
    Ok(())
}

/// `userid` opens their chat, finds the approval card of `case` and taps 同意; the card's
/// buttons then turn grey with the decision.
async fn approve_as(story: &mut Story, userid: &str, case: &str) -> anyhow::Result<()> {
    story.choose(userid).await?;
    tap_approve(story, userid, case).await
}

/// In `userid`'s open chat, taps 同意 on the card of `case` and waits for its buttons to grey.
async fn tap_approve(story: &mut Story, userid: &str, case: &str) -> anyhow::Result<()> {
    let live = format!("button[data-key='approve:{case}']:not([disabled])");
    story
        .client
        .wait()
        .at_most(STEP_TIMEOUT)
        .for_element(Locator::Css(&live))
        .await
        .with_context(|| format!("{userid} has no card for {case}"))?;
    story.shot(&format!("{userid}-card")).await?;
    story
        .client
        .find(Locator::Css(&live))
        .await?
        .click()
        .await?;
    let spent = format!("button[data-key='approve:{case}'][disabled]");
    story
        .client
        .wait()
        .at_most(STEP_TIMEOUT)
        .for_element(Locator::Css(&spent))
        .await
        .with_context(|| format!("{userid}'s card was not updated after 同意"))?;
    story.shot(&format!("{userid}-approved")).await
}

/// "+1 周" on the clock panel moves the bot's clock a week further; the panel says so.
async fn jump_a_week(story: &mut Story) -> anyhow::Result<()> {
    let before = story.clock.offset_ms();
    story
        .client
        .find(Locator::Id("clock-week"))
        .await?
        .click()
        .await?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let offset = story.text("#clock-offset").await?;
        if story.clock.offset_ms() == before + 7 * 86_400_000 && offset.contains("小时") {
            break;
        }
        ensure!(Instant::now() < deadline, "clock panel shows {offset:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    ensure!(
        story.clock.offset_ms() == before + 7 * 86_400_000,
        "the bot's clock moved a week"
    );
    story.shot("clock-jumped").await
}

/// The overdue approval's chase goes out in working time only: whatever the hour of the day
/// (or the weekday) the story runs at, "+1 小时" moves the clock on until it is sent.
async fn wait_for_working_time_chase(story: &mut Story) -> anyhow::Result<String> {
    for _ in 0..72 {
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if let Some(hit) = story
                .bot_lines()
                .await?
                .into_iter()
                .find(|l| l.contains("【催办】"))
            {
                return Ok(hit);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let before = story.clock.offset_ms();
        story
            .client
            .find(Locator::Id("clock-hour"))
            .await?
            .click()
            .await?;
        let moved = Instant::now() + Duration::from_secs(10);
        while story.clock.offset_ms() == before {
            ensure!(Instant::now() < moved, "the clock did not move an hour");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    anyhow::bail!("no chase of the overdue approval within three days of working time")
}

/// The applicant types the whole form and confirms; returns the case number the bot gave.
async fn file_registration(story: &mut Story) -> anyhow::Result<String> {
    story.choose(APPLICANT).await?;
    story.shot("applicant-chosen").await?;
    for (i, (typed, expected)) in DIALOGUE.iter().enumerate() {
        story.say(typed, expected).await?;
        if i == 0 {
            story.shot("form-started").await?;
        }
    }
    story.shot("summary").await?;
    let answer = story.say("确认", "备案编号").await?;
    story.shot("filed").await?;
    case_number(&answer)
}

/// The case number in the bot's answer to 确认.
fn case_number(answer: &str) -> anyhow::Result<String> {
    let re = regex::Regex::new(r"备案编号：(BA-\d{4}-\d{4})").expect("regex");
    Ok(re
        .captures(answer)
        .with_context(|| format!("no case number in {answer:?}"))?[1]
        .to_owned())
}

/// The browser session and the screenshots of each step.
struct Story {
    client: Client,
    shots: PathBuf,
    step: usize,
    /// The bot's clock, which the console's clock panel moves.
    clock: flowbot::base::clock::Clock,
    /// Put before each screenshot's name (`phone-`).
    prefix: &'static str,
}

impl Story {
    fn new(client: Client, shots: PathBuf, bot: &Bot, prefix: &'static str) -> Story {
        Story {
            client,
            shots,
            step: 0,
            clock: bot.clock.clone(),
            prefix,
        }
    }

    async fn shot(&mut self, name: &str) -> anyhow::Result<()> {
        self.step += 1;
        let name = format!("{}{:02}-{name}", self.prefix, self.step);
        screenshot(&self.client, &self.shots, &name).await
    }

    async fn text(&self, css: &str) -> anyhow::Result<String> {
        Ok(self.client.find(Locator::Css(css)).await?.text().await?)
    }

    async fn wait_for_person(&self, userid: &str) -> anyhow::Result<()> {
        let css = format!(".person[data-userid='{userid}']");
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(&css))
            .await?;
        Ok(())
    }

    /// No sideways scroll: the page is no wider than the window, and no message is wider than
    /// the chat (which would scroll inside it).
    async fn fits(&self, what: &str) -> anyhow::Result<()> {
        let script = "const m = document.getElementById('messages');\
                      return [document.documentElement.scrollWidth, window.innerWidth,\
                              m.scrollWidth, m.clientWidth];";
        let widths: Vec<i64> = serde_json::from_value(self.client.execute(script, vec![]).await?)?;
        ensure!(
            widths[0] <= widths[1],
            "{what}: the page is {} px wide in a {} px window",
            widths[0],
            widths[1]
        );
        ensure!(
            widths[2] <= widths[3],
            "{what}: the messages are {} px wide in a {} px chat",
            widths[2],
            widths[3]
        );
        Ok(())
    }

    /// The width in CSS pixels of the last element matching `css`.
    async fn width(&self, css: &str) -> anyhow::Result<f64> {
        let all = self.client.find_all(Locator::Css(css)).await?;
        let last = all.last().with_context(|| format!("no {css}"))?;
        Ok(last.rectangle().await?.2)
    }

    /// Picks `userid` as the console's user: from the people list, or on a phone from the
    /// people menu (a `<select>`) that takes its place. Retried: the list re-renders as unread
    /// badges change, so a click can hit a replaced element.
    async fn choose(&self, userid: &str) -> anyhow::Result<()> {
        self.wait_for_person(userid).await?;
        let css = format!(".person[data-userid='{userid}']");
        let mut tries = 0;
        loop {
            let menu = self.client.find(Locator::Id("people-select")).await?;
            let picked = if menu.is_displayed().await? {
                menu.select_by_value(userid).await.is_ok()
            } else {
                match self.client.find(Locator::Css(&css)).await {
                    Ok(person) => person.click().await.is_ok(),
                    Err(_) => false,
                }
            };
            tries += 1;
            if picked || tries == 10 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // The console keeps whom it plays in its address (`?user=`) and names them in the title.
        let url = self.client.current_url().await?;
        let title = self.text("#chat-title").await?;
        ensure!(
            url.query() == Some(&format!("user={userid}")) && title.contains("）与"),
            "after choosing {userid}: {url}, {title}"
        );
        Ok(())
    }

    /// The texts of the bot's messages in the open chat, oldest first.
    async fn bot_lines(&self) -> anyhow::Result<Vec<String>> {
        let script = "return Array.from(document.querySelectorAll('#messages .msg.bot'))\
                      .map(e => e.innerText);";
        let value = self.client.execute(script, vec![]).await?;
        Ok(serde_json::from_value(value).unwrap_or_default())
    }

    /// Waits for a bot message in the open chat containing `expected`.
    async fn wait_bot_line(&self, expected: &str) -> anyhow::Result<String> {
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            if let Some(hit) = self
                .bot_lines()
                .await?
                .into_iter()
                .find(|l| l.contains(expected))
            {
                return Ok(hit);
            }
            ensure!(
                Instant::now() < deadline,
                "no bot message with {expected:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Types `text`, sends it, and waits for a new bot message containing `expected`.
    async fn say(&self, text: &str, expected: &str) -> anyhow::Result<String> {
        let before = self.bot_lines().await?.len();
        let input = self.client.find(Locator::Id("composer-input")).await?;
        input.send_keys(text).await?;
        self.client
            .find(Locator::Id("composer-send"))
            .await?
            .click()
            .await?;
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            let lines = self.bot_lines().await?;
            if let Some(hit) = lines.iter().skip(before).find(|l| l.contains(expected)) {
                return Ok(hit.clone());
            }
            if Instant::now() > deadline {
                bail!(
                    "after typing {text:?}, no bot message with {expected:?}; got {:?}",
                    &lines[before.min(lines.len())..]
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
