//! Pure rules for goal reviews: when a review may be dated, and how long a goal has held green.

use chrono::NaiveDate;

use crate::domain::Rating;
use crate::error::{ApiError, ApiResult, UserErrorCode};

/// A review may not be dated before the goal's latest review: the history only moves forward.
/// A review on the same day as the latest one is allowed (two meetings on one day).
pub fn check_review_date(
    latest_review_on: Option<NaiveDate>,
    reviewed_on: NaiveDate,
) -> ApiResult<()> {
    match latest_review_on {
        Some(latest) if reviewed_on < latest => Err(ApiError::user(
            UserErrorCode::InvalidDate,
            &["reviewedOn"],
            format!("a review cannot precede the latest review, on {latest}"),
        )),
        _ => Ok(()),
    }
}

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
    fn reviews_move_forward() {
        assert!(check_review_date(None, d(1)).is_ok());
        assert!(check_review_date(Some(d(5)), d(5)).is_ok());
        assert!(check_review_date(Some(d(5)), d(6)).is_ok());
        match check_review_date(Some(d(5)), d(4)) {
            Err(ApiError::User(errors)) => {
                assert_eq!(errors.len(), 1);
                assert_eq!(errors[0].code, UserErrorCode::InvalidDate);
                assert_eq!(
                    errors[0].field,
                    Some(vec!["input".to_owned(), "reviewedOn".to_owned()])
                );
            }
            other => panic!("expected an INVALID_DATE user error, got {other:?}"),
        }
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
