//! Files the bot sends into the chat (导出, 考核): the `n`-th XLSX file to a member, read back;
//! any XLSX read back (the desk's download).

use std::time::Duration;

use super::bot::TestBot;

const WAIT: Duration = Duration::from_secs(20);

/// Waits for the `n`-th file sent to `user`; returns its name and its first sheet as rows of
/// text (numbers as they print: `1`, not `1.0`).
pub async fn file_to(bot: &TestBot, user: &str, n: usize) -> (String, Vec<Vec<String>>) {
    let u = user.to_owned();
    let arrived = bot
        .fake
        .wait_until(move |f| f.files_sent_to(&u).len() >= n, WAIT)
        .await;
    assert!(arrived, "{user} got no file: {:#?}", bot.fake.sent_to(user));
    let (name, bytes) = bot.fake.files_sent_to(user).swap_remove(n - 1);
    (name, xlsx_rows(&bytes))
}

/// The first sheet of an XLSX workbook as rows of text (numbers as they print).
pub fn xlsx_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    use calamine::{Data, Reader, Xlsx};
    let mut book = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("an XLSX workbook");
    let sheet = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&sheet).expect("the sheet");
    range
        .rows()
        .map(|row| {
            row.iter()
                .map(|cell| match cell {
                    Data::String(s) => s.clone(),
                    Data::Empty => String::new(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}
