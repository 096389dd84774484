//! The calendar files, `calendar/cn-YYYY.toml`: one per year, a `year = YYYY` key and one
//! `[[holiday]]` table per period (`name`, `start`, `end`, `makeup = [dates]`). Reading the
//! folder is the only I/O of the calendar; every problem is a [`Diagnostic`] at its line.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate, Weekday};
use serde::Deserialize;
use toml::Spanned;

use super::{Calendar, Holiday, Year};
use crate::base::diagnostics::{Diagnostic, Diagnostics, Source};

/// A holiday period longer than this is probably a typo in `start` or `end`.
const LONGEST_HOLIDAY_DAYS: i64 = 14;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawYear {
    year: Spanned<i32>,
    #[serde(default)]
    holiday: Vec<Spanned<RawHoliday>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHoliday {
    name: Spanned<String>,
    start: Spanned<String>,
    end: Spanned<String>,
    #[serde(default)]
    makeup: Vec<Spanned<String>>,
}

/// The year in a file name `cn-YYYY.toml`.
fn year_of_name(path: &Path) -> Option<i32> {
    let name = path.file_name()?.to_str()?;
    let digits = name.strip_prefix("cn-")?.strip_suffix(".toml")?;
    (digits.len() == 4 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// Reads every `cn-YYYY.toml` of a calendar folder; refuses on any error.
pub fn load(dir: &Path) -> Result<Calendar, Vec<Diagnostic>> {
    load_with_warnings(dir).map(|(cal, _)| cal)
}

/// Reads a calendar folder: the calendar and its warnings, or every error. A missing folder is
/// an empty calendar (weekdays only, every deadline provisional) with a warning.
pub fn load_with_warnings(dir: &Path) -> Result<(Calendar, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut d = Diagnostics::default();
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            let message = format!(
                "cannot read the calendar folder ({e}): working days are Monday to Friday less \
                 the statutory holidays of the national rules, and every deadline is provisional"
            );
            let warning = Diagnostic {
                path: dir.to_path_buf(),
                line: 1,
                message,
            };
            return Ok((Calendar::default(), vec![warning]));
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    let mut years = Vec::new();
    for path in paths {
        match fs::read_to_string(&path) {
            Ok(text) => {
                let (year, file) = parse_year(&Source::new(&path, text));
                d.errors.extend(file.errors);
                d.warnings.extend(file.warnings);
                years.extend(year);
            }
            Err(e) => d.error(Diagnostic {
                path: path.clone(),
                line: 1,
                message: format!("cannot read: {e}"),
            }),
        }
    }
    if d.errors.is_empty() {
        Ok((Calendar::new(years), d.warnings))
    } else {
        Err(d.errors)
    }
}

/// Parses and validates one `cn-YYYY.toml`: the year matches the file name, every date is a
/// real `YYYY-MM-DD` in that year, periods run forwards, no day is in two periods or both a
/// holiday and a make-up day. The year is `None` when there is any error.
pub fn parse_year(src: &Source) -> (Option<Year>, Diagnostics) {
    let mut d = Diagnostics::default();
    let named = year_of_name(&src.path);
    if named.is_none() {
        d.error(src.at(
            0..0,
            "a calendar file is named cn-YYYY.toml, e.g. cn-2026.toml",
        ));
    }
    let raw: RawYear = match toml::from_str(&src.text) {
        Ok(raw) => raw,
        Err(e) => {
            d.error(src.parse_error(&e));
            return (None, d);
        }
    };
    let year = *raw.year.get_ref();
    if let Some(named) = named.filter(|n| *n != year) {
        let msg = format!("year {year} does not match the file name (cn-{named}.toml)");
        d.error(src.at(raw.year.span(), msg));
    }
    // Dates are checked against the file name's year: a wrong `year` is one error, not one per
    // date.
    let in_year = named.unwrap_or(year);
    let date = |d: &mut Diagnostics, v: &Spanned<String>| -> Option<NaiveDate> {
        let text = v.get_ref();
        let parsed = NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .filter(|_| text.len() == 10);
        match parsed {
            None => d.error(src.at(v.span(), format!("`{text}` is not a date YYYY-MM-DD"))),
            Some(p) if p.year() != in_year => {
                d.error(src.at(v.span(), format!("{text} is not in {in_year}")));
                return None;
            }
            Some(_) => {}
        }
        parsed
    };
    // Every listed day → (what it is, its line), to report a day listed twice.
    let mut seen: HashMap<NaiveDate, (Listed, usize)> = HashMap::new();
    let mut holidays: Vec<Option<Holiday>> = Vec::new();
    for h in &raw.holiday {
        let (line, h) = (src.line_of(h.span().start), h.get_ref());
        let name = h.name.get_ref().trim().to_owned();
        if name.is_empty() {
            d.error(src.at(h.name.span(), "a holiday needs a name"));
        }
        let period = date(&mut d, &h.start).zip(date(&mut d, &h.end));
        let Some((start, end)) = period.filter(|(s, e)| {
            let ok = s <= e;
            if !ok {
                d.error(src.at(h.end.span(), format!("`end` {e} is before `start` {s}")));
            }
            ok
        }) else {
            holidays.push(None);
            continue;
        };
        let days = (end - start).num_days() + 1;
        if days > LONGEST_HOLIDAY_DAYS {
            let msg = format!("{name} lasts {days} days: check `start` and `end`");
            d.warn(src.at(h.end.span(), msg));
        }
        for day in start.iter_days().take_while(|x| *x <= end) {
            if let Some((prev, at)) = seen.insert(day, (Listed::Holiday(name.clone()), line)) {
                let msg = format!("{day} is already listed ({prev}, line {at})");
                d.error(src.at(h.start.span(), msg));
            }
        }
        holidays.push(Some(Holiday {
            name,
            start,
            end,
            makeup: Vec::new(),
        }));
    }
    // Make-up days after all periods, so a make-up day inside a later period is found too.
    for (h, held) in raw.holiday.iter().zip(holidays.iter_mut()) {
        let name = h.get_ref().name.get_ref().trim();
        for m in &h.get_ref().makeup {
            let Some(day) = date(&mut d, m) else { continue };
            let line = src.line_of(m.span().start);
            match seen.insert(day, (Listed::Makeup(name.to_owned()), line)) {
                Some((Listed::Holiday(of), at)) => {
                    let msg = format!(
                        "{day} is both a holiday ({of}, line {at}) and a make-up working day"
                    );
                    d.error(src.at(m.span(), msg));
                }
                Some((prev, at)) => {
                    let msg = format!("{day} is already listed ({prev}, line {at})");
                    d.error(src.at(m.span(), msg));
                }
                None => {}
            }
            if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
                let msg = format!(
                    "make-up day {day} is a {}: a working day anyway",
                    day.weekday()
                );
                d.warn(src.at(m.span(), msg));
            }
            if let Some(held) = held {
                held.makeup.push(day);
            }
        }
    }
    let holidays = holidays.into_iter().flatten().collect();
    let ok = d.errors.is_empty();
    (ok.then_some(Year { year, holidays }), d)
}

/// How a day is listed in a calendar file.
enum Listed {
    Holiday(String),
    Makeup(String),
}

impl std::fmt::Display for Listed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Listed::Holiday(name) => write!(f, "in {name}"),
            Listed::Makeup(name) => write!(f, "a make-up day for {name}"),
        }
    }
}

/// From 1 December of `today`'s year, a warning when next year's file is missing (deadlines
/// reaching into it are provisional); at any time, one when this year's file is missing.
pub fn missing_year_warnings(cal: &Calendar, dir: &Path, today: NaiveDate) -> Vec<Diagnostic> {
    let this = today.year();
    let mut due = vec![this];
    if today.month() == 12 {
        due.push(this + 1);
    }
    due.into_iter()
        .filter(|y| !cal.has_year(*y))
        .map(|y| Diagnostic {
            path: dir.join(format!("cn-{y}.toml")),
            line: 1,
            message: format!(
                "missing: no holidays for {y} yet (add them from the State Council's notice); \
                 deadlines in {y} skip only the statutory holidays of the national rules, \
                 without make-up days, and are marked provisional"
            ),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(name: &str, text: &str) -> (Option<Year>, Diagnostics) {
        parse_year(&Source::new(Path::new(name), text.to_owned()))
    }

    #[test]
    fn file_names_give_the_year() {
        assert_eq!(year_of_name(Path::new("a/cn-2026.toml")), Some(2026));
        assert_eq!(year_of_name(Path::new("cn-26.toml")), None);
        assert_eq!(year_of_name(Path::new("hk-2026.toml")), None);
    }

    #[test]
    fn a_valid_file_and_its_warnings() {
        let text = "year = 2026\n[[holiday]]\nname = \"X\"\nstart = \"2026-07-01\"\n\
                    end = \"2026-07-31\"\nmakeup = [\"2026-08-03\"]\n";
        let (year, d) = parse("cn-2026.toml", text);
        let year = year.expect("valid");
        assert_eq!(year.holidays[0].makeup.len(), 1);
        let w: Vec<String> = d.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(
            w,
            [
                "cn-2026.toml:5: X lasts 31 days: check `start` and `end`",
                "cn-2026.toml:6: make-up day 2026-08-03 is a Mon: a working day anyway",
            ]
        );
    }

    #[test]
    fn overlapping_periods_and_unknown_keys() {
        let text = "year = 2026\n[[holiday]]\nname = \"A\"\nstart = \"2026-07-01\"\n\
                    end = \"2026-07-02\"\n[[holiday]]\nname = \"B\"\nstart = \"2026-07-02\"\n\
                    end = \"2026-07-02\"\n";
        let (year, d) = parse("cn-2026.toml", text);
        assert!(year.is_none());
        assert_eq!(
            d.errors[0].to_string(),
            "cn-2026.toml:8: 2026-07-02 is already listed (in A, line 2)"
        );
        let (_, d) = parse("cn-2026.toml", "year = 2026\nholidays = []\n");
        assert_eq!(d.errors[0].line, 2, "{:?}", d.errors);
    }
}
