//! Outcomes after a return, from the care episodes Reunify holds: whether the child was still at
//! home at 3, 6 and 12 months, and when they re-entered care. A worker answers only what the
//! episodes cannot, and an answer the episodes contradict is refused.

use chrono::NaiveDate;
use entities::care_episode;

use super::CaseSnapshot;
use crate::domain::dates;
use crate::error::{ApiError, ApiResult, UserErrorCode};

/// What the episodes say about the time after a return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpisodeView {
    /// The day the child went home.
    pub returned_on: NaiveDate,
    /// The first day of a later period of care, if there is one.
    pub reentered_on: Option<NaiveDate>,
}

/// The episodes' view of a return on `returned_on`, when they can answer: the case's episode (or
/// another of the child's) ended on the day of the return, so a later episode is a re-entry and
/// none is a child still at home. A child who stayed looked after (placed with parents: the
/// episode ended X1 and a P1 episode began) has no such episode, and the episodes cannot answer.
pub fn episode_view(
    returned_on: NaiveDate,
    episodes: &[care_episode::Model],
) -> Option<EpisodeView> {
    // An episode that ended because the placement changed (X1) did not end the period of care.
    episodes
        .iter()
        .find(|e| e.ended_on == Some(returned_on) && e.reason_ceased.as_deref() != Some("X1"))?;
    Some(EpisodeView {
        returned_on,
        reentered_on: episodes
            .iter()
            .filter(|e| e.started_on >= returned_on && e.ended_on != Some(returned_on))
            .map(|e| e.started_on)
            .min(),
    })
}

/// Whether the child was still at home `months` after the return, as the episodes say; `None`
/// when they cannot say or the time has not yet come by `today`.
pub fn home_at(view: Option<EpisodeView>, months: u32, today: NaiveDate) -> Option<bool> {
    let v = view?;
    let due = dates::add_months(v.returned_on, months);
    match v.reentered_on {
        Some(back) if back < due => Some(false),
        _ if due <= today => Some(true),
        _ => None,
    }
}

/// Follow-up answers as a worker gives them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Answers {
    /// At home at 3, 6 and 12 months.
    pub home_at: [Option<bool>; 3],
    /// The day the child re-entered care.
    pub reentered_on: Option<NaiveDate>,
}

/// The months of the three follow-ups, with their input fields.
pub const FOLLOW_UPS: [(u32, &str); 3] = [
    (3, "homeAt3Months"),
    (6, "homeAt6Months"),
    (12, "homeAt12Months"),
];

/// Whether the answers may be recorded: the child went home; each is due; none contradicts what
/// the episodes say.
pub fn check_follow_up(s: &CaseSnapshot, a: &Answers) -> ApiResult<()> {
    let Some(returned_on) = s.returned_on() else {
        return Err(ApiError::user(
            UserErrorCode::WrongStage,
            &["caseId"],
            "follow-up is recorded after the child returned home",
        ));
    };
    let view = episode_view(returned_on, &s.episodes);
    for ((months, field), given) in FOLLOW_UPS.into_iter().zip(a.home_at) {
        let Some(given) = given else { continue };
        if dates::add_months(returned_on, months) > s.today {
            return Err(ApiError::user(
                UserErrorCode::InvalidDate,
                &[field],
                format!("{months} months have not yet passed since the return"),
            ));
        }
        if let Some(known) = home_at(view, months, s.today)
            && known != given
        {
            return Err(ApiError::user(
                UserErrorCode::ContradictsRecords,
                &[field],
                format!(
                    "the care episodes say the child was {}at home {months} months after the return",
                    if known { "" } else { "not " }
                ),
            ));
        }
    }
    if let Some(d) = a.reentered_on {
        super::process::date_within(d, returned_on, s.today, "reenteredCareOn", "the return")?;
        if let Some(back) = view.and_then(|v| v.reentered_on)
            && back != d
        {
            return Err(ApiError::user(
                UserErrorCode::ContradictsRecords,
                &["reenteredCareOn"],
                format!("the care episodes say the child re-entered care on {back}"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::fixture::*;
    use chrono::Datelike as _;
    use serde_json::json;

    fn episode(id: i64, started: NaiveDate, ended: Option<NaiveDate>) -> care_episode::Model {
        row(
            json!({ "id": id, "child_id": 1, "started_on": started, "legal_status": "C2",
            "category_of_need": "N1", "placement_type": "U6", "ended_on": ended,
            "reason_ceased": ended.map(|_| "E4A") }),
        )
    }

    #[test]
    fn the_episodes_answer_when_they_can() {
        let home = d(1, 10);
        let ended = episode(1, d(1, 1).with_year(2025).unwrap(), Some(home));
        let back = episode(2, d(3, 1), None);
        let mut placed = ended.clone();
        placed.reason_ceased = Some("X1".into());
        let mut in_p1 = episode(3, home, None);
        in_p1.placement_type = "P1".into();
        let today = d(6, 1);
        // (episodes, months, at home)
        let table = [
            (vec![ended.clone()], 3, Some(true)),
            (vec![ended.clone()], 6, None),
            (vec![ended.clone(), back.clone()], 3, Some(false)),
            (vec![ended.clone(), back.clone()], 6, Some(false)),
            (vec![ended.clone(), back.clone()], 12, Some(false)),
            // Still looked after (placed with parents): the episodes cannot say.
            (
                vec![episode(1, d(1, 1).with_year(2025).unwrap(), None)],
                3,
                None,
            ),
            // Placed with parents as the 903 records it: X1, then a P1 episode the same day.
            (vec![placed.clone(), in_p1.clone()], 3, None),
        ];
        for (i, (episodes, months, expected)) in table.into_iter().enumerate() {
            assert_eq!(
                home_at(episode_view(home, &episodes), months, today),
                expected,
                "row {i}"
            );
        }
        assert_eq!(
            episode_view(home, &[ended, back]).and_then(|v| v.reentered_on),
            Some(d(3, 1))
        );
    }

    #[test]
    fn answers_are_checked_against_the_episodes() {
        let code = |s: &CaseSnapshot, a: Answers| code(check_follow_up(s, &a));
        let mut s = case_in("RETURN_AND_SUPPORT");
        assert_eq!(code(&s, Answers::default()), "WrongStage");
        s.outcome = Some(returned(d(1, 10)));
        s.episodes[0].ended_on = Some(d(1, 10));
        let at = |three, six| Answers {
            home_at: [three, six, None],
            reentered_on: None,
        };
        // (answers, expected): the episodes say at home at 3 months; 6 months not yet due.
        let table = [
            (at(Some(true), None), "ok"),
            (at(Some(false), None), "ContradictsRecords"),
            (at(None, Some(true)), "InvalidDate"),
            (
                Answers {
                    home_at: [None; 3],
                    reentered_on: Some(d(5, 1)),
                },
                "ok",
            ),
            (
                Answers {
                    home_at: [None; 3],
                    reentered_on: Some(d(1, 9)),
                },
                "InvalidDate",
            ),
        ];
        for (i, (a, expected)) in table.into_iter().enumerate() {
            assert_eq!(code(&s, a), expected, "row {i}");
        }
        // A later episode: the re-entry date is the episodes'.
        s.episodes.push(episode(2, d(3, 1), None));
        let back = |on| Answers {
            home_at: [None; 3],
            reentered_on: Some(on),
        };
        assert_eq!(code(&s, back(d(3, 1))), "ok");
        assert_eq!(code(&s, back(d(3, 2))), "ContradictsRecords");
        // Placed with parents: nothing to contradict.
        s.episodes.truncate(1);
        s.episodes[0].ended_on = None;
        assert_eq!(code(&s, at(Some(false), None)), "ok");
    }
}
