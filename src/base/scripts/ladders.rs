//! Reminder ladders as bot.toml declares them (`[duties.<kind>]`): each rung's offset from the
//! deadline, whom it nudges, and whether it goes to a group chat or repeats. When rungs fire is
//! worked out by `domain::reminders`.

/// Who a rung nudges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipient {
    /// The person the duty is due from.
    Due,
    /// The leaders of the duty's unit.
    UnitLeader,
    /// The propaganda department.
    Propaganda,
}

/// When a rung fires, relative to the deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offset {
    /// At the start of working hours on the working day this many working days from the
    /// deadline day (negative: before it; 0: on it).
    WorkingDays(i32),
    /// This many hours after the deadline moment (the end of working hours on the deadline day).
    Hours(i64),
}

/// One rung of a ladder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rung {
    pub offset: Offset,
    pub to: Vec<Recipient>,
    /// A group chat (by name in bot.toml) for a digest instead of direct messages.
    pub group: Option<String>,
    /// The digest goes to the group named by the duty's unit id when `[groups]` has it (one
    /// digest per unit), else to `group`.
    pub unit_group: bool,
    /// After firing, fire again every this many working days until the duty is done.
    pub repeat_every: Option<u32>,
}

/// A duty's ladder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ladder {
    /// Urgent duties (incidents) are not deferred by quiet hours or holidays.
    pub urgent: bool,
    pub rungs: Vec<Rung>,
}

impl Rung {
    /// The group chat this rung's digest of a duty of `unit` goes to (`None`: direct
    /// messages): the unit's own group for a `unit_group` rung when `groups` has one.
    pub fn group_for<'a>(
        &'a self,
        unit: &'a str,
        has_group: impl Fn(&str) -> bool,
    ) -> Option<&'a str> {
        let group = self.group.as_deref()?;
        Some(if self.unit_group && has_group(unit) {
            unit
        } else {
            group
        })
    }
}
