//! The yearly assessment of units in chat (policy 4.1): a member of the propaganda department
//! types `考核 2026` and gets the assessment sheet of that year as an XLSX file (built from the
//! records by the outbox sender at delivery, [`crate::domain::assessment`]); `考核` alone is the
//! current year. Anyone else is politely refused. Only when bot.toml has `[assessment]` and no
//! form is being filled. Words: `[assessment.messages]`.

use async_trait::async_trait;
use minijinja::context;

use crate::base::normalize;
use crate::base::scripts::assessment::message_template;
use crate::dispatch::{Draft, Handled, Process, Services};
use crate::domain::engine::CommandInput;
use crate::domain::records::export::{Export, What};
use crate::domain::reply::Reply;

/// The assessment process.
pub struct Assessment;

/// A text command: `考核 <year>` (`Ok(Some(year))`), `考核` (`Ok(None)`: this year), or the
/// word with something that is not a year (`Err(())`).
pub fn parse(text: &str) -> Option<Result<Option<i32>, ()>> {
    let text = normalize::normalize(text);
    let (word, rest) = match text.split_once(' ') {
        Some((w, r)) => (w, r.trim()),
        None => (text.as_str(), ""),
    };
    if word != "考核" {
        return None;
    }
    if rest.is_empty() {
        return Some(Ok(None));
    }
    let digits = normalize::ascii(rest);
    let digits = digits.trim_end_matches('年');
    Some(match digits.parse::<i32>() {
        Ok(year) if (2000..=2100).contains(&year) && digits.len() == 4 => Ok(Some(year)),
        _ => Err(()),
    })
}

fn say(s: &Services, key: &str, ctx: minijinja::Value) -> String {
    s.scripts.render(&message_template(key), &ctx)
}

#[async_trait]
impl Process for Assessment {
    fn name(&self) -> &'static str {
        "assessment"
    }

    fn command_in_form(&self, s: &Services, text: &str) -> Option<CommandInput> {
        s.scripts.assessment.as_ref()?;
        let _year = parse(text)?;
        s.command_in_form("assessment")
    }

    async fn on_text(&self, s: &Services, d: &mut Draft, text: &str, now_ms: i64) -> Handled {
        if s.scripts.assessment.is_none() || !d.conversation.form.is_idle() {
            return Ok(false);
        }
        let Some(asked) = parse(text) else {
            return Ok(false);
        };
        let propaganda = s.directory.role_members("propaganda").await?;
        if !propaganda.contains(&d.user) {
            d.reply(say(s, "refused", minijinja::Value::UNDEFINED));
            return Ok(true);
        }
        let Ok(year) = asked else {
            d.reply(say(s, "usage", minijinja::Value::UNDEFINED));
            return Ok(true);
        };
        let year = year.unwrap_or_else(|| s.clock.at(now_ms).year());
        d.reply(say(s, "started", context! { year }));
        let to = d.user.clone();
        d.send(Reply::File {
            to,
            export: Export {
                what: What::Assessment { year },
                units: None,
                year: None,
                task: None,
            },
        });
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn the_command_and_its_year() {
        assert_eq!(parse("考核 2026"), Some(Ok(Some(2026))));
        assert_eq!(parse(" 考核　２０２６年 "), Some(Ok(Some(2026))));
        assert_eq!(parse("考核"), Some(Ok(None)));
        assert_eq!(parse("考核 去年"), Some(Err(())));
        assert_eq!(parse("考核 26"), Some(Err(())));
        assert_eq!(parse("考核办法是什么"), None);
    }
}
