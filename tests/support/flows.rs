//! Stories several end-to-end tests share: 张三 files a registration, and case lookups.

use std::time::Duration;

use super::bot::TestBot;

const WAIT: Duration = Duration::from_secs(20);

pub const REGISTRATION: &[&str] = &[
    "备案",
    "2026-04-28",
    "2",
    "团委青年之声",
    "gh_1234567890ab",
    "https://mp.weixin.qq.com/s/abc",
    "是",
    "单位介绍信",
    "宣传本单位青年工作动态。",
    "刘洋",
    "010-12345678",
    "13800138000",
    "本人",
    "010-12345678",
    "13900139000",
    "zhangsan@example.com",
    "确认",
];

/// Positions of some answers in [`REGISTRATION`].
pub const ACCOUNT_ID: usize = 4;
pub const LINK: usize = 5;
pub const LEADER: usize = 9;
pub const ADMIN: usize = 12;

/// [`REGISTRATION`] with some answers replaced: `(position, answer)`.
pub fn registration_with(replace: &[(usize, &'static str)]) -> Vec<&'static str> {
    let mut answers = REGISTRATION.to_vec();
    for (i, a) in replace {
        answers[*i] = a;
    }
    answers
}

/// This year on the bot's clock, in the company's zone (case numbers count per year).
pub fn year(bot: &TestBot) -> i32 {
    bot.clock.now().year()
}

/// 张三 files a registration; returns its number once 刘洋 (团委's leader) has the card.
pub async fn file(bot: &TestBot) -> String {
    bot.say("zhangsan", REGISTRATION).await;
    let number = format!("BA-{}-0001", year(bot));
    assert!(
        bot.wait_for_text("zhangsan", &number, WAIT).await,
        "filed: {:#?}",
        bot.texts_to("zhangsan")
    );
    wait_for_card(bot, "liuyang").await;
    number
}

/// Waits until `user` has received an approval card.
pub async fn wait_for_card(bot: &TestBot, user: &str) {
    let u = user.to_owned();
    bot.fake
        .wait_until(
            move |f| {
                f.sent_to(&u)
                    .iter()
                    .any(|m| m["msgtype"] == "template_card")
            },
            WAIT,
        )
        .await;
}

/// 张三 edits the account name of his rejected or withdrawn case and resubmits it; returns once
/// 刘洋 (the first step's approver) has a fresh card.
pub async fn resubmit_renamed(bot: &TestBot, number: &str, name: &str) {
    let edit = format!("修改 {number}");
    bot.say("zhangsan", &[&edit, "修改 账号名称", name, "确认"])
        .await;
    assert!(
        bot.wait_for_text("zhangsan", "已重新提交", WAIT).await,
        "{:#?}",
        bot.texts_to("zhangsan")
    );
    let u = "liuyang";
    let carded = bot
        .fake
        .wait_until(
            move |f| {
                f.sent_to(u)
                    .iter()
                    .filter(|m| m["msgtype"] == "template_card")
                    .count()
                    >= 2
            },
            WAIT,
        )
        .await;
    assert!(carded, "the leader gets a fresh card");
}

pub async fn case_json(bot: &TestBot, number: &str) -> serde_json::Value {
    let record = bot
        .store
        .get_case(number)
        .await
        .unwrap()
        .expect("the case exists");
    serde_json::from_str(&record.body).unwrap()
}

/// `user` taps 同意 on their approval card for a case whose number starts with `number`, and
/// waits until the tap is handled: WeCom answers a tap before the bot handles it, so the fact
/// waited on is the tapped card's update (its response code used), which is committed with the
/// decision.
pub async fn approve_card(bot: &TestBot, user: &str, number: &str, response_code: &str) {
    let (u, key) = (user.to_owned(), format!("approve:{number}"));
    let card_for = move |f: &super::fake_wecom::FakeWeCom| {
        f.sent_to(&u).into_iter().rev().find(|m| {
            m["msgtype"] == "template_card"
                && m["template_card"]["button_list"][0]["key"]
                    .as_str()
                    .is_some_and(|k| k.starts_with(&key))
        })
    };
    let find = card_for.clone();
    assert!(
        bot.fake.wait_until(move |f| find(f).is_some(), WAIT).await,
        "{user} has no card for {number}"
    );
    let card = card_for(&bot.fake).expect("the card");
    let card = &card["template_card"];
    let (task, approve) = (
        card["task_id"].as_str().unwrap(),
        card["button_list"][0]["key"].as_str().unwrap(),
    );
    let code = response_code.to_owned();
    let updates = move |f: &super::fake_wecom::FakeWeCom| {
        f.accepted_bodies("/update_template_card")
            .iter()
            .filter(|b| b["response_code"] == code.as_str())
            .count()
    };
    let before = updates(&bot.fake);
    assert_eq!(
        bot.post(&bot.tap(user, approve, task, response_code))
            .await
            .0,
        200
    );
    assert!(
        bot.fake
            .wait_until(move |f| updates(f) > before, WAIT)
            .await,
        "{user}'s tap on {number} was handled (the tapped card is updated)"
    );
}

/// 张三's registration through both approvals; returns the case and register numbers.
pub async fn register(bot: &TestBot) -> (String, String) {
    let number = file(bot).await;
    approve_card(bot, "liuyang", &number, "rc-leader").await;
    approve_card(bot, "chenjing", &number, "rc-xcb").await;
    let register_number = format!("DJ-{}-0001", year(bot));
    assert!(bot.wait_for_text("zhangsan", &register_number, WAIT).await);
    (number, register_number)
}

/// Moves the bot's clock to 10:00 of `day`, company time (inside working hours).
pub fn jump_to(bot: &TestBot, day: chrono::NaiveDate) {
    jump_to_time(bot, day, 10);
}

/// Moves the bot's clock to `hour`:00 of `day`, company time.
pub fn jump_to_time(bot: &TestBot, day: chrono::NaiveDate, hour: u32) {
    jump_to_minute(bot, day, hour, 0);
}

/// Moves the bot's clock to `hour`:`minute` of `day`, company time.
pub fn jump_to_minute(bot: &TestBot, day: chrono::NaiveDate, hour: u32, minute: u32) {
    use chrono::TimeZone;
    let target = bot
        .clock
        .zone()
        .from_local_datetime(&day.and_hms_opt(hour, minute, 0).unwrap())
        .unwrap()
        .timestamp_millis();
    let real = bot.clock.now_ms() - bot.clock.offset_ms();
    bot.clock.set_offset_ms(target - real);
}

/// 张三 (the administrator of the registered account) leaves the company: WeCom's
/// contacts-change callback; 团委's leader is told. Returns the duty's deadline (5 working days
/// from today).
pub async fn admin_leaves(bot: &TestBot) -> chrono::NaiveDate {
    let today = bot.clock.now().today;
    let now = bot.clock.now_ms() / 1000;
    let plain = format!(
        "<xml><ToUserName><![CDATA[{}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>\
<CreateTime>{now}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_contact]]></Event>\
<ChangeType><![CDATA[delete_user]]></ChangeType><UserID><![CDATA[zhangsan]]></UserID></xml>",
        super::bot::CORP_ID
    );
    let (query, body) = flowbot::runtime::loadgen::signed_xml(&bot.crypto, &plain, now, "98");
    assert_eq!(bot.post_raw(&query, body).await.0, 200);
    assert!(
        bot.wait_for_text("liuyang", "已离职", WAIT).await,
        "the unit leader is told"
    );
    let calendar = flowbot::base::scripts::Scripts::load(&bot.settings.scripts_dir)
        .unwrap()
        .calendar;
    calendar.add_working_days(today, 5).date
}

/// A change report that names 张伟 the account's new administrator, reported today (the
/// unit's only account is chosen by itself).
pub const REPLACE_ADMIN: &[&str] = &[
    "变更",
    "2",
    "zhangwei",
    "010-12345678",
    "13900139001",
    "zhangwei@example.com",
    "今天",
    "确认",
];

/// The propaganda department's (陈静's) card for the newest change report, once it arrives.
pub async fn change_report_card(bot: &TestBot) -> serde_json::Value {
    let card = |f: &super::fake_wecom::FakeWeCom| {
        f.sent_to("chenjing")
            .into_iter()
            .rev()
            .find(|m| m["msgtype"] == "template_card" && m.to_string().contains("BG-"))
    };
    let arrived = bot.fake.wait_until(move |f| card(f).is_some(), WAIT).await;
    assert!(arrived, "the department gets the change report's card");
    card(&bot.fake).unwrap()
}

/// `user` says `text`; returns the first text they receive after it that contains `needle`.
pub async fn ask(bot: &TestBot, user: &str, text: &str, needle: &str) -> String {
    let before = bot.texts_to(user).len();
    bot.say(user, &[text]).await;
    let (u, n) = (user.to_owned(), needle.to_owned());
    let answered = bot
        .fake
        .wait_until(
            move |f| {
                f.sent_to(&u).iter().skip(before).any(|m| {
                    m["text"]["content"]
                        .as_str()
                        .is_some_and(|c| c.contains(&n))
                })
            },
            WAIT,
        )
        .await;
    let texts = bot.texts_to(user);
    assert!(
        answered,
        "{user} got no answer with {needle:?} to {text:?}: {texts:#?}"
    );
    texts
        .into_iter()
        .skip(before)
        .find(|t| t.contains(needle))
        .expect("the answer")
}

/// Four accounts of 团委: name, account id, link (for [`register_accounts`]).
pub const FOUR_ACCOUNTS: [(&str, &str, &str); 4] = [
    (
        "团委青年之声",
        "gh_000000000001",
        "https://mp.weixin.qq.com/s/a1",
    ),
    (
        "团委志愿者",
        "gh_000000000002",
        "https://mp.weixin.qq.com/s/a2",
    ),
    (
        "团委学习社",
        "gh_000000000003",
        "https://mp.weixin.qq.com/s/a3",
    ),
    (
        "团委文艺",
        "gh_000000000004",
        "https://mp.weixin.qq.com/s/a4",
    ),
];

/// An annual report's answers after the account is chosen: posts, followers, content,
/// incidents, the three self-check items (the third answered 否), problems, plan, 确认.
pub const ANNUAL_REPORT: &[&str] = &[
    "156",
    "3200",
    "青年工作动态、志愿服务",
    "无",
    "是",
    "是",
    "否",
    "更新频率不够稳定",
    "每周更新三次",
    "确认",
];

/// 张三 registers one account per `(name, account id, link)` in 团委, both approvals each, in
/// a fresh store; returns the register numbers (`DJ-<year>-0001`, …).
pub async fn register_accounts(
    bot: &TestBot,
    accounts: &[(&'static str, &'static str, &'static str)],
) -> Vec<String> {
    let y = year(bot);
    let mut out = Vec::new();
    for (i, (name, id, link)) in accounts.iter().enumerate() {
        let answers =
            registration_with(&[(3, name), (ACCOUNT_ID, id), (LINK, link), (ADMIN, "本人")]);
        bot.say("zhangsan", &answers).await;
        let number = format!("BA-{y}-{:04}", i + 1);
        assert!(
            bot.wait_for_text("zhangsan", &number, WAIT).await,
            "{:#?}",
            bot.texts_to("zhangsan")
        );
        approve_card(bot, "liuyang", &number, &format!("rc-l{i}")).await;
        approve_card(bot, "chenjing", &number, &format!("rc-x{i}")).await;
        let dj = format!("DJ-{y}-{:04}", i + 1);
        assert!(bot.wait_for_text("zhangsan", &dj, WAIT).await);
        out.push(dj);
    }
    out
}

/// Waits for the newest card `user` got whose first button's key starts with `prefix`;
/// returns its task id and that key.
pub async fn card_with(bot: &TestBot, user: &str, prefix: &str) -> (String, String) {
    let (u, p) = (user.to_owned(), prefix.to_owned());
    let card_for = move |f: &super::fake_wecom::FakeWeCom| {
        f.sent_to(&u).into_iter().rev().find(|m| {
            m["msgtype"] == "template_card"
                && m["template_card"]["button_list"][0]["key"]
                    .as_str()
                    .is_some_and(|k| k.starts_with(&p))
        })
    };
    let find = card_for.clone();
    assert!(
        bot.fake.wait_until(move |f| find(f).is_some(), WAIT).await,
        "{user} has no card {prefix}…"
    );
    let card = card_for(&bot.fake).expect("the card");
    let card = &card["template_card"];
    (
        card["task_id"].as_str().unwrap().to_owned(),
        card["button_list"][0]["key"].as_str().unwrap().to_owned(),
    )
}
