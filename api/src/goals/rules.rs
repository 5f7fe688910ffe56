//! Pure rules for goal reviews: how long a goal has held green.

use chrono::NaiveDate;

use crate::domain::Rating;

/// The "sustained since" date after a review: a green after a green keeps the date, a green after
/// anything else starts it, anything but green clears it.
pub fn sustained_since(
    previous_rating: Option<Rating>,
    previous_since: Option<NaiveDate>,
    rating: Rating,
    reviewed_on: NaiveDate,
) -> Option<NaiveDate> {
    match (rating, previous_rating) {
        (Rating::Green, Some(Rating::Green)) => previous_since.or(Some(reviewed_on)),
        (Rating::Green, _) => Some(reviewed_on),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, day).unwrap()
    }

    #[test]
    fn green_runs() {
        assert_eq!(sustained_since(None, None, Rating::Green, d(1)), Some(d(1)));
        assert_eq!(
            sustained_since(Some(Rating::Green), Some(d(1)), Rating::Green, d(9)),
            Some(d(1))
        );
        assert_eq!(
            sustained_since(Some(Rating::Amber), None, Rating::Green, d(9)),
            Some(d(9))
        );
        assert_eq!(
            sustained_since(Some(Rating::Green), Some(d(1)), Rating::Amber, d(9)),
            None
        );
        assert_eq!(
            sustained_since(Some(Rating::Green), Some(d(1)), Rating::Red, d(9)),
            None
        );
    }
}
