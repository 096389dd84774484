//! Turning one normalised reply into a typed answer for a field type, or saying it is invalid.
//! Pure: the directory, the user's units and accounts and "today" come in as arguments.

use chrono::{Datelike, NaiveDate};

use super::state::Answer;
use super::{Account, Context};
use crate::base::directory::{Person, Unit};
use crate::base::normalize::{ascii, key};
use crate::base::scripts::{FieldKind, Words};

/// What a reply means for the field being asked.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    Answer(Answer),
    /// The "other" choice: ask for free text next.
    AskOther,
    /// Several colleagues have this name: list them and ask again.
    Ambiguous(Vec<Person>),
}

/// Parses `text` (already [`crate::base::normalize::normalize`]d) for a field of `kind`.
pub fn parse(
    kind: &FieldKind,
    text: &str,
    words: &Words,
    ctx: &Context,
    today: NaiveDate,
) -> Option<Parsed> {
    let k = key(text);
    let answer = match kind {
        FieldKind::Text { min_len, max_len } => {
            let n = text.chars().count() as u32;
            (n >= *min_len && n <= *max_len && !text.is_empty())
                .then(|| Answer::Text(text.to_owned()))?
        }
        FieldKind::Choice { choices, other } => {
            let c = &choices[pick(choices.iter().map(String::as_str), &k)?];
            if other.as_ref() == Some(c) {
                return Some(Parsed::AskOther);
            }
            Answer::Choice {
                value: c.clone(),
                other: None,
            }
        }
        FieldKind::Multi { choices } => Answer::Multi(multi(choices, text)?),
        FieldKind::YesNo if Words::is(&words.yes, &k) => Answer::Bool(true),
        FieldKind::YesNo if Words::is(&words.no, &k) => Answer::Bool(false),
        FieldKind::YesNo => return None,
        FieldKind::Date => Answer::Date(date(&k, today, words)?.format("%Y-%m-%d").to_string()),
        FieldKind::Mobile => Answer::Text(mobile(&k)?),
        FieldKind::Phone => phone(&k)?,
        FieldKind::Email => Answer::Text(email(&k)?),
        FieldKind::Url => Answer::Text(url(&ascii(text))?),
        FieldKind::Integer { min, max } => {
            let n: i64 = k.replace(',', "").parse().ok()?;
            (n >= *min && n <= *max).then_some(Answer::Int(n))?
        }
        FieldKind::Member => return member(ctx, words, &k),
        FieldKind::Account => {
            let a: &Account =
                &ctx.accounts[pick_ref(ctx.accounts.iter().map(|a| (&*a.id, &*a.name)), &k)?];
            Answer::Ref {
                id: a.id.clone(),
                name: a.name.clone(),
            }
        }
        FieldKind::Unit => {
            let u: &Unit = &ctx.units[pick_ref(ctx.units.iter().map(|u| (&*u.id, &*u.name)), &k)?];
            Answer::Ref {
                id: u.id.clone(),
                name: u.name.clone(),
            }
        }
    };
    Some(Parsed::Answer(answer))
}

/// A numbered option by its number (1-based) or its text.
/// A date typed by a user (`k` is already a matching key: ASCII, no spaces): `2026-11-28`,
/// `2026/11/28`, `2026.11.28`, `2026年11月28日`, `11月28日` (this year), `20261128`, or the
/// scripted words for today and yesterday (`today` is the company's local date).
fn date(k: &str, today: NaiveDate, words: &Words) -> Option<NaiveDate> {
    if Words::is(&words.today, k) {
        return Some(today);
    }
    if Words::is(&words.yesterday, k) {
        return today.pred_opt();
    }
    let t = k.trim_end_matches(['日', '号']);
    let parts: Vec<&str> = if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        vec![&t[..4], &t[4..6], &t[6..]]
    } else {
        t.split(['-', '/', '.', '年', '月']).collect()
    };
    let nums: Option<Vec<u32>> = parts
        .iter()
        .map(|p| {
            (!p.is_empty() && p.len() <= 4)
                .then(|| p.parse().ok())
                .flatten()
        })
        .collect();
    let (y, m, d) = match nums?.as_slice() {
        [y, m, d] if (1900..=2100).contains(y) => (*y as i32, *m, *d),
        [m, d] => (today.year(), *m, *d),
        _ => return None,
    };
    NaiveDate::from_ymd_opt(y, m, d)
}

fn pick<'a>(options: impl Iterator<Item = &'a str> + Clone, k: &str) -> Option<usize> {
    let n = options.clone().count();
    if let Ok(i) = k.parse::<usize>() {
        return (i >= 1 && i <= n).then(|| i - 1);
    }
    options.clone().position(|o| key(o) == k)
}

/// Like [`pick`], also accepting the id.
fn pick_ref<'a>(
    options: impl Iterator<Item = (&'a str, &'a str)> + Clone,
    k: &str,
) -> Option<usize> {
    pick(options.clone().map(|(_, name)| name), k).or_else(|| {
        options
            .clone()
            .position(|(id, _)| id.eq_ignore_ascii_case(k))
    })
}

fn multi(choices: &[String], text: &str) -> Option<Vec<String>> {
    let mut picked = vec![false; choices.len()];
    let mut any = false;
    for part in ascii(text)
        .split([',', ';', ' ', '/', '、'])
        .filter(|p| !p.is_empty())
    {
        picked[pick(choices.iter().map(String::as_str), &key(part))?] = true;
        any = true;
    }
    any.then(|| {
        choices
            .iter()
            .zip(picked)
            .filter(|(_, p)| *p)
            .map(|(c, _)| c.clone())
            .collect()
    })
}

/// China mobile: 11 digits starting 13–19, optional `+86`/`86`, separators ignored.
fn mobile(k: &str) -> Option<String> {
    let digits: String = k
        .chars()
        .filter(|c| !matches!(c, '-' | '(' | ')'))
        .collect();
    let d = digits
        .strip_prefix("+86")
        .or_else(|| digits.strip_prefix("86").filter(|d| d.len() == 11))
        .unwrap_or(&digits);
    let ok = d.len() == 11
        && d.bytes().all(|b| b.is_ascii_digit())
        && d.starts_with('1')
        && (b'3'..=b'9').contains(&d.as_bytes()[1]);
    ok.then(|| d.to_owned())
}

/// Office phone: area code (`010`, `02x` are 3 digits, others 4), a 7–8 digit number and an
/// optional extension after `-`, `转`, `分机`, `ext` or `#`.
fn phone(k: &str) -> Option<Answer> {
    let mut s = k.to_owned();
    for sep in ["分机", "转", "ext", "x", "#", "(", ")"] {
        s = s.replace(sep, "-");
    }
    let groups: Vec<&str> = s.split('-').filter(|g| !g.is_empty()).collect();
    if groups
        .iter()
        .any(|g| !g.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let area_len = |g: &str| {
        if g.starts_with("01") || g.starts_with("02") {
            3
        } else {
            4
        }
    };
    let (area, number, ext) = match groups.as_slice() {
        // Longer than its area code: a lone `0`, `01` or `021` is no number (and no slice).
        [one] if one.starts_with('0') && one.len() > area_len(one) => {
            (&one[..area_len(one)], &one[area_len(one)..], None)
        }
        [a, n] if a.starts_with('0') && a.len() == area_len(a) => (*a, *n, None),
        [an, e] if an.starts_with('0') && an.len() >= 10 => {
            (&an[..area_len(an)], &an[area_len(an)..], Some(*e))
        }
        [a, n, e] if a.starts_with('0') && a.len() == area_len(a) => (*a, *n, Some(*e)),
        _ => return None,
    };
    let ok = (7..=8).contains(&number.len())
        && !number.starts_with('0')
        && ext.is_none_or(|e| (1..=6).contains(&e.len()));
    ok.then(|| Answer::Phone {
        area: area.to_owned(),
        number: number.to_owned(),
        ext: ext.map(str::to_owned),
    })
}

fn email(k: &str) -> Option<String> {
    let (local, domain) = k.split_once('@')?;
    let local_ok = !local.is_empty()
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._%+-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    (local_ok && domain_ok).then(|| k.to_owned())
}

fn url(text: &str) -> Option<String> {
    let t = text.trim();
    let lower = t.to_ascii_lowercase();
    let (full, rest) = if lower.starts_with("http://") || lower.starts_with("https://") {
        (t.to_owned(), &t[t.find("//")? + 2..])
    } else {
        (format!("https://{t}"), t)
    };
    let host = rest.split(['/', '?', '#']).next()?;
    let host_ok = host.contains('.')
        && !host.starts_with('.')
        && !host.ends_with('.')
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-:".contains(c));
    (host_ok && !t.contains(' ')).then_some(full)
}

fn member(ctx: &Context, words: &Words, k: &str) -> Option<Parsed> {
    let as_answer = |p: &Person| {
        Parsed::Answer(Answer::Member {
            userid: p.userid.clone(),
            name: p.name.clone(),
        })
    };
    if Words::is(&words.myself, k) {
        return Some(as_answer(&ctx.user));
    }
    let people = &ctx.directory.people;
    if let Some(p) = people.iter().find(|p| p.userid.eq_ignore_ascii_case(k)) {
        return Some(as_answer(p));
    }
    let named: Vec<&Person> = people.iter().filter(|p| key(&p.name) == k).collect();
    match named.as_slice() {
        [] => None,
        [one] => Some(as_answer(one)),
        many => Some(Parsed::Ambiguous(
            many.iter().map(|p| (*p).clone()).collect(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_parse() {
        let p = |s: &str| phone(&key(s)).map(|a| a.display("", ""));
        assert_eq!(p("010-12345678").as_deref(), Some("010-12345678"));
        assert_eq!(
            p("0571 8888888 转 123").as_deref(),
            Some("0571-8888888-123")
        );
        assert_eq!(p("(020)87654321").as_deref(), Some("020-87654321"));
        assert_eq!(p("02087654321-12").as_deref(), Some("020-87654321-12"));
        assert_eq!(p("075588886666").as_deref(), Some("0755-88886666"));
        assert_eq!(p("12345678"), None);
        assert_eq!(p("010-123"), None);
        assert_eq!(p("13800138000"), None);
    }

    /// Found by the `form_input` fuzz target: a lone area-code prefix panicked on slicing.
    #[test]
    fn a_bare_area_code_is_no_phone() {
        let p = |s: &str| phone(&key(s)).map(|a| a.display("", ""));
        for typed in ["0", "01", "02", "010", "0571", "0 6--", " 00\r6"] {
            assert_eq!(p(typed), None, "{typed:?}");
        }
    }

    #[test]
    fn mobiles_emails_urls_parse() {
        assert_eq!(
            mobile(&key("+86 138-0013-8000")).as_deref(),
            Some("13800138000")
        );
        assert_eq!(
            mobile(&key("１３８００１３８０００")).as_deref(),
            Some("13800138000")
        );
        assert_eq!(mobile("12800138000"), None);
        assert_eq!(email("a.b@corp.com.cn").as_deref(), Some("a.b@corp.com.cn"));
        assert_eq!(email("a@b"), None);
        assert_eq!(
            url("weibo.com/abc").as_deref(),
            Some("https://weibo.com/abc")
        );
        assert_eq!(url("http://x.cn").as_deref(), Some("http://x.cn"));
        assert_eq!(url("not a url"), None);
    }

    #[test]
    fn dates_parse_in_every_written_form() {
        let today = NaiveDate::from_ymd_opt(2026, 5, 3).unwrap();
        let words = Words {
            today: vec!["今天".to_owned()],
            yesterday: vec!["昨天".to_owned()],
            ..Words::default()
        };
        let d = |s: &str| date(s, today, &words).map(|d| d.format("%Y-%m-%d").to_string());
        for s in [
            "2026-11-28",
            "2026/11/28",
            "2026.11.28",
            "2026年11月28日",
            "11月28日",
            "20261128",
        ] {
            assert_eq!(d(s).as_deref(), Some("2026-11-28"), "{s}");
        }
        assert_eq!(d("今天").as_deref(), Some("2026-05-03"));
        assert_eq!(d("昨天").as_deref(), Some("2026-05-02"));
        // Yesterday of the 1st is in the previous month (and year).
        let new_year = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        assert_eq!(
            date("昨天", new_year, &words)
                .map(|d| d.to_string())
                .as_deref(),
            Some("2026-12-31")
        );
        for s in ["2026-02-30", "13月1日", "明天", "2026-1", "1800-01-01", ""] {
            assert_eq!(d(s), None, "{s}");
        }
    }
}
