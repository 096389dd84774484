//! `bot.toml` `[calendar]` (time zone, working hours) and the `calendar/` folder, checked into
//! the [`Scripts`](super::Scripts) fields `time_zone`, `working_hours` and `calendar`.

use std::path::Path;

use chrono_tz::Tz;

use super::compile::Compiler;
use super::model::RawCalendar;
use crate::base::calendar::{self, Calendar, DEFAULT_TIME_ZONE, WorkingHours};
use crate::base::diagnostics::Source;

impl Compiler {
    /// The time zone, the working hours and the calendar read from `dir/calendar`; each falls
    /// back to its default after reporting its errors.
    pub(super) fn calendar(
        &mut self,
        dir: &Path,
        src: &Source,
        raw: Option<&RawCalendar>,
    ) -> (Tz, WorkingHours, Calendar) {
        let mut time_zone = DEFAULT_TIME_ZONE;
        if let Some(tz) = raw.and_then(|r| r.time_zone.as_ref()) {
            match tz.get_ref().trim().parse::<Tz>() {
                Ok(parsed) => time_zone = parsed,
                Err(_) => {
                    let msg = format!(
                        "unknown time zone `{}` (an IANA name such as Asia/Shanghai)",
                        tz.get_ref()
                    );
                    self.d.error(src.at(tz.span(), msg));
                }
            }
        }
        let mut working_hours = WorkingHours::default();
        if let Some(wh) = raw.and_then(|r| r.working_hours.as_ref()) {
            match WorkingHours::parse(wh.periods.get_ref()) {
                Ok(parsed) => working_hours = parsed,
                Err(e) => self.d.error(src.at(wh.periods.span(), e)),
            }
        }
        let cal = match calendar::load_with_warnings(&dir.join("calendar")) {
            Ok((cal, warnings)) => {
                self.d.warnings.extend(warnings);
                cal
            }
            Err(errors) => {
                self.d.errors.extend(errors);
                Calendar::default()
            }
        };
        (time_zone, working_hours, cal.with_time_zone(time_zone))
    }
}
