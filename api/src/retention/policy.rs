//! How long a child's record is kept: the rule, as pure functions.

use chrono::{Datelike as _, NaiveDate};

use crate::domain::dates::age_on;

/// Records are kept until this birthday.
pub const KEEP_UNTIL_AGE: i32 = 75;
/// Records of a child who died before 18 are kept this many years after death.
pub const KEEP_AFTER_DEATH_YEARS: i32 = 15;

/// The same day `years` later; 29 February becomes 1 March (a record is never released early).
pub fn anniversary(d: NaiveDate, years: i32) -> NaiveDate {
    let year = d.year() + years;
    NaiveDate::from_ymd_opt(year, d.month(), d.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, 3, 1))
        .unwrap_or(NaiveDate::MAX)
}

/// The last day a child's record must be kept.
pub fn retain_until(born: NaiveDate, died: Option<NaiveDate>) -> NaiveDate {
    match died {
        Some(died) if age_on(born, died) < 18 => anniversary(died, KEEP_AFTER_DEATH_YEARS),
        _ => anniversary(born, KEEP_UNTIL_AGE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn kept_until_the_75th_birthday() {
        assert_eq!(retain_until(d(2015, 6, 1), None), d(2090, 6, 1));
        // 29 February: the birthday falls on 1 March in a common year.
        assert_eq!(retain_until(d(2012, 2, 29), None), d(2087, 3, 1));
    }

    #[test]
    fn a_child_who_died_before_18_is_kept_15_years_after_death() {
        assert_eq!(
            retain_until(d(2015, 6, 1), Some(d(2020, 1, 10))),
            d(2035, 1, 10)
        );
        // The day before the 18th birthday is still "before 18".
        assert_eq!(
            retain_until(d(2000, 6, 1), Some(d(2018, 5, 31))),
            d(2033, 5, 31)
        );
    }

    #[test]
    fn death_at_18_or_later_keeps_the_75th_birthday() {
        assert_eq!(
            retain_until(d(2000, 6, 1), Some(d(2018, 6, 1))),
            d(2075, 6, 1)
        );
    }
}
