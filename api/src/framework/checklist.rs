//! Each stage's checklist of practice actions: the required ones before the stage's "yes", and
//! what may be ticked or un-ticked.

use chrono::NaiveDate;

use super::{CaseSnapshot, process};
use crate::domain::Stage;
use crate::error::{ApiError, ApiResult, UserErrorCode};

/// Every required action of `stage` is completed.
pub fn require_done(s: &CaseSnapshot, stage: Stage) -> ApiResult<()> {
    let missing: Vec<&str> = s
        .checklist_of(stage)
        .filter(|i| i.required && i.completed_on.is_none())
        .map(|i| i.key.as_str())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ApiError::user(
            UserErrorCode::ChecklistIncomplete,
            &["caseId"],
            format!(
                "required practice actions of this stage are not completed: {}",
                missing.join(", ")
            ),
        ))
    }
}

/// Whether an item may be marked completed on `on` (or, with `completed` false, un-ticked): the
/// case is active, the date is within the item's stage, and a required action of a stage the case
/// has left stays done.
pub fn complete(
    s: &CaseSnapshot,
    item: &entities::checklist_item::Model,
    completed: bool,
    on: NaiveDate,
) -> ApiResult<()> {
    process::require_active(s.status()?)?;
    let stage = Stage::from_db(&item.stage)?;
    if completed {
        process::date_within(
            on,
            s.entered_on(stage),
            s.today,
            "completedOn",
            "the stage it belongs to",
        )?;
    } else if item.required
        && item.completed_on.is_some()
        && s.stage_row(stage).is_some_and(|r| r.completed_on.is_some())
    {
        return Err(ApiError::user(
            UserErrorCode::WrongStage,
            &["itemId"],
            format!(
                "{} is a required action of {}, which is complete; it stays done",
                item.key,
                stage.as_str()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::fixture::*;

    #[test]
    fn required_actions() {
        let mut s = case_in("ASSESSMENT");
        s.checklist.push(item("ASSESSMENT", "a", true, true));
        s.checklist.push(item("ASSESSMENT", "b", false, false));
        s.checklist.push(item("IDENTIFICATION", "c", true, false));
        assert!(require_done(&s, Stage::Assessment).is_ok());
        assert!(require_done(&s, Stage::Identification).is_err());
        s.checklist.push(item("ASSESSMENT", "d", true, false));
        match require_done(&s, Stage::Assessment) {
            Err(ApiError::User(e)) => {
                assert_eq!(e[0].code, UserErrorCode::ChecklistIncomplete);
                assert!(e[0].message.ends_with(": d"), "{}", e[0].message);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn ticks_and_unticks() {
        let mut s = case_in("ASSESSMENT");
        s.stages.insert(0, stage_row("IDENTIFICATION", d(1, 1)));
        s.stages[0].completed_on = Some(d(1, 1));
        s.stages[1].entered_on = d(1, 1);
        // (item, completed, on, ok)
        let table = [
            (item("ASSESSMENT", "a", true, false), true, d(2, 1), true),
            (item("ASSESSMENT", "a", true, false), true, d(6, 2), false),
            (item("ASSESSMENT", "a", true, true), false, d(2, 1), true),
            (
                item("IDENTIFICATION", "b", true, true),
                false,
                d(2, 1),
                false,
            ),
            (
                item("IDENTIFICATION", "b", false, true),
                false,
                d(2, 1),
                true,
            ),
            (
                item("IDENTIFICATION", "b", true, false),
                true,
                d(2, 1),
                true,
            ),
        ];
        for (i, (it, completed, on, ok)) in table.into_iter().enumerate() {
            assert_eq!(complete(&s, &it, completed, on).is_ok(), ok, "row {i}");
        }
        let mut closed = case_in("ASSESSMENT");
        closed.case.status = "CLOSED".into();
        assert!(
            complete(
                &closed,
                &item("ASSESSMENT", "a", true, false),
                true,
                d(2, 1)
            )
            .is_err()
        );
    }
}
