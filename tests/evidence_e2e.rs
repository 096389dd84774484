//! Evidence files through the real protocol: an image or file message is downloaded from the
//! fake WeCom (`media/get`) by the worker and kept in the evidence store (the folder under
//! FLOWBOT_DATA); a file of a type not allowed or over the cap of bot.toml `[evidence]` gets a
//! clear answer and is not kept; a download that fails is retried with its event. Both stores.

#[macro_use]
mod support;

use std::time::Duration;

use support::bot::{Backend, TestBot, spawn_bot};
use support::wait::{WAIT, until};

on_both_stores!(
    an_image_is_downloaded_and_kept_as_evidence,
    a_file_of_a_type_not_allowed_or_too_large_is_refused_with_an_answer,
    a_failed_download_is_retried_with_its_event,
);

/// The files kept in the evidence folder of the bot's data directory.
fn kept(bot: &TestBot) -> Vec<(String, Vec<u8>)> {
    let dir = bot.settings.data_dir.join("evidence").join("evidence");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (name, std::fs::read(e.path()).unwrap_or_default())
        })
        .collect()
}

async fn an_image_is_downloaded_and_kept_as_evidence(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    let png = b"\x89PNG\r\n\x1a\nscreenshot";
    bot.send_image("zhangsan", "media-1", png).await;
    assert!(
        bot.wait_for_text("zhangsan", "已收到截图。如需上报舆情", WAIT)
            .await
    );
    let files = kept(&bot);
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].0.ends_with(".png"), "{}", files[0].0);
    assert_eq!(files[0].1, png);
    assert_eq!(bot.fake.requests_to("/cgi-bin/media/get").len(), 1);
    bot.stop().await;
}

async fn a_file_of_a_type_not_allowed_or_too_large_is_refused_with_an_answer(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    bot.fake
        .put_media("m-exe", "tool.exe", "application/octet-stream", b"MZ");
    let (status, _) = bot
        .post(&bot.media("zhangsan", "file", "m-exe", "tool.exe"))
        .await;
    assert_eq!(status, 200);
    assert!(
        bot.wait_for_text("zhangsan", "不支持“exe”类型的文件", WAIT)
            .await
    );
    // Refused by its name: not even downloaded.
    assert!(bot.fake.requests_to("/cgi-bin/media/get").is_empty());

    let big = vec![7u8; 10 * 1024 * 1024 + 1];
    bot.fake
        .put_media("m-big", "report.pdf", "application/pdf", &big);
    let (status, _) = bot
        .post(&bot.media("zhangsan", "file", "m-big", "report.pdf"))
        .await;
    assert_eq!(status, 200);
    assert!(
        bot.wait_for_text("zhangsan", "最大可以发送 10.0 MB", WAIT)
            .await
    );
    bot.settle(WAIT).await;
    assert!(kept(&bot).is_empty());
    bot.stop().await;
}

async fn a_failed_download_is_retried_with_its_event(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |s| s.event_lease = Duration::from_secs(5)).await else {
        return;
    };
    bot.fake.fail_next("/cgi-bin/media/get", -1, 1);
    bot.send_image("zhangsan", "media-2", b"\x89PNGagain").await;
    until("the failed download was tried", || async {
        bot.fake.requests_to("/cgi-bin/media/get").len() == 1
    })
    .await;
    assert!(kept(&bot).is_empty());
    // The event's lease runs out on the bot's clock and it is handed out again.
    bot.clock.set_offset_ms(bot.clock.offset_ms() + 6_000);
    assert!(
        bot.wait_for_text("zhangsan", "已收到截图。如需上报舆情", WAIT)
            .await
    );
    assert_eq!(kept(&bot).len(), 1);
    bot.stop().await;
}
