//! Calendar rules: working days in England (weekends and bank holidays excluded) and ages.

use chrono::{Datelike, Duration, NaiveDate, Weekday};

/// Easter Sunday of a year (anonymous Gregorian algorithm).
fn easter(year: i32) -> Option<NaiveDate> {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32)
}

fn first_weekday(year: i32, month: u32, wd: Weekday) -> Option<NaiveDate> {
    NaiveDate::from_weekday_of_month_opt(year, month, wd, 1)
}

fn last_monday(year: i32, month: u32) -> Option<NaiveDate> {
    NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Mon, 5)
        .or_else(|| NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Mon, 4))
}

/// Bank holidays in England and Wales for a year, including substitute days and the one-off
/// changes of 2020, 2022 and 2023.
pub fn bank_holidays(year: i32) -> Vec<NaiveDate> {
    let mut days = Vec::new();
    let ymd = |m, d| NaiveDate::from_ymd_opt(year, m, d);
    // New Year's Day, moved to Monday when it falls at a weekend.
    if let Some(d) = ymd(1, 1) {
        days.push(match d.weekday() {
            Weekday::Sat => d + Duration::days(2),
            Weekday::Sun => d + Duration::days(1),
            _ => d,
        });
    }
    if let Some(e) = easter(year) {
        days.push(e - Duration::days(2));
        days.push(e + Duration::days(1));
    }
    // Early May: first Monday, moved to 8 May in 2020 (VE Day).
    match year {
        2020 => days.extend(ymd(5, 8)),
        _ => days.extend(first_weekday(year, 5, Weekday::Mon)),
    }
    // Spring: last Monday of May; 2022 moved it to 2 June and added 3 June (Platinum Jubilee).
    match year {
        2022 => days.extend([ymd(6, 2), ymd(6, 3)].into_iter().flatten()),
        _ => days.extend(last_monday(year, 5)),
    }
    days.extend(last_monday(year, 8));
    match year {
        2022 => days.extend(ymd(9, 19)), // State funeral of Queen Elizabeth II
        2023 => days.extend(ymd(5, 8)),  // Coronation of King Charles III
        _ => {}
    }
    // Christmas and Boxing Day with substitutes.
    if let (Some(xmas), Some(boxing)) = (ymd(12, 25), ymd(12, 26)) {
        match xmas.weekday() {
            Weekday::Fri => days.extend([xmas, xmas + Duration::days(3)]),
            Weekday::Sat => days.extend([xmas + Duration::days(2), xmas + Duration::days(3)]),
            Weekday::Sun => days.extend([xmas + Duration::days(1), xmas + Duration::days(2)]),
            _ => days.extend([xmas, boxing]),
        }
    }
    days
}

/// Whether a date is a working day in England (not a weekend, not a bank holiday).
pub fn is_working_day(d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !bank_holidays(d.year()).contains(&d)
}

/// Working days from `start` (counted) up to `end` (not counted). Zero when `end <= start`.
pub fn working_days_between(start: NaiveDate, end: NaiveDate) -> i64 {
    start
        .iter_days()
        .take_while(|d| *d < end)
        .filter(|d| is_working_day(*d))
        .count() as i64
}

/// Age in whole years on a date.
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut age = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// The date `months` calendar months after `d` (clamped to the month's last day).
pub fn add_months(d: NaiveDate, months: u32) -> NaiveDate {
    d.checked_add_months(chrono::Months::new(months))
        .unwrap_or(d)
}

/// Today's date (UTC).
pub fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

/// A date given in input must not be in the future.
pub fn not_future(d: NaiveDate, field: &str) -> crate::error::ApiResult<NaiveDate> {
    if d > today() {
        Err(crate::error::ApiError::user(
            crate::error::UserErrorCode::InvalidDate,
            &[field],
            "the date is in the future",
        ))
    } else {
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn known_bank_holidays() {
        let h2025 = bank_holidays(2025);
        for day in [
            d(2025, 1, 1),
            d(2025, 4, 18),
            d(2025, 4, 21),
            d(2025, 5, 5),
            d(2025, 5, 26),
            d(2025, 8, 25),
            d(2025, 12, 25),
            d(2025, 12, 26),
        ] {
            assert!(h2025.contains(&day), "{day}");
        }
        assert!(bank_holidays(2021).contains(&d(2021, 12, 27)));
        assert!(bank_holidays(2021).contains(&d(2021, 12, 28)));
        assert!(bank_holidays(2022).contains(&d(2022, 6, 3)));
        assert!(bank_holidays(2023).contains(&d(2023, 5, 8)));
        assert_eq!(bank_holidays(2026).len(), 8);
    }

    #[test]
    fn working_days_skip_weekends_and_holidays() {
        // Mon 1 Dec 2025 .. Mon 8 Dec: five working days.
        assert_eq!(working_days_between(d(2025, 12, 1), d(2025, 12, 8)), 5);
        // 22 Dec 2025 .. 5 Jan 2026: Christmas, Boxing Day, New Year's Day excluded.
        assert_eq!(working_days_between(d(2025, 12, 22), d(2026, 1, 5)), 7);
        assert_eq!(working_days_between(d(2025, 12, 8), d(2025, 12, 1)), 0);
    }

    #[test]
    fn ages() {
        assert_eq!(age_on(d(2010, 6, 15), d(2026, 6, 14)), 15);
        assert_eq!(age_on(d(2010, 6, 15), d(2026, 6, 15)), 16);
    }
}
