//! Civil dates without a clock: the caller's `now` (ms since epoch + the company's UTC offset)
//! gives "today"; dates are parsed from `2026-11-28`, `2026/11/28`, `2026年11月28日`,
//! `11月28日` (this year), `20261128`, and the scripted words for today and yesterday.

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date {
    pub y: i32,
    pub m: u32,
    pub d: u32,
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.y, self.m, self.d)
    }
}

/// Days since 1970-01-01 → date (Howard Hinnant's `civil_from_days`).
pub fn from_days(z: i64) -> Date {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = (yoe + era * 400 + i64::from(m <= 2)) as i32;
    Date { y, m, d }
}

/// The local day number for `ms` at `offset_minutes` east of UTC.
pub fn local_days(ms: i64, offset_minutes: i32) -> i64 {
    (ms + i64::from(offset_minutes) * 60_000).div_euclid(86_400_000)
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// Parses a date typed by a user; `text` is already a matching key (ASCII, no spaces).
pub fn parse(
    text: &str,
    today: Date,
    yesterday: Date,
    words: (&[String], &[String]),
) -> Option<Date> {
    if words.0.iter().any(|w| w == text) {
        return Some(today);
    }
    if words.1.iter().any(|w| w == text) {
        return Some(yesterday);
    }
    let t = text.trim_end_matches(['日', '号']);
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
        [y, m, d] if *y >= 1900 && *y <= 2100 => (*y as i32, *m, *d),
        [m, d] => (today.y, *m, *d),
        _ => return None,
    };
    (d >= 1 && d <= days_in_month(y, m)).then_some(Date { y, m, d })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_convert_to_dates() {
        assert_eq!(from_days(0).to_string(), "1970-01-01");
        assert_eq!(from_days(20_420).to_string(), "2025-11-28");
        // 2026-11-27 23:30 UTC is already the 28th in Shanghai.
        let ms = 1_795_822_200_000;
        assert_eq!(from_days(local_days(ms, 480)).to_string(), "2026-11-28");
        assert_eq!(from_days(local_days(ms, 0)).to_string(), "2026-11-27");
    }

    #[test]
    fn formats_parse() {
        let today = Date {
            y: 2026,
            m: 5,
            d: 3,
        };
        let yd = Date {
            y: 2026,
            m: 5,
            d: 2,
        };
        let w = (&["今天".to_owned()][..], &["昨天".to_owned()][..]);
        for s in [
            "2026-11-28",
            "2026/11/28",
            "2026.11.28",
            "2026年11月28日",
            "11月28日",
            "20261128",
        ] {
            assert_eq!(
                parse(s, today, yd, w).map(|d| d.to_string()).as_deref(),
                Some("2026-11-28"),
                "{s}"
            );
        }
        assert_eq!(parse("今天", today, yd, w), Some(today));
        assert_eq!(parse("昨天", today, yd, w), Some(yd));
        for s in ["2026-02-30", "13月1日", "明天", "2026-1", ""] {
            assert_eq!(parse(s, today, yd, w), None, "{s}");
        }
    }
}
