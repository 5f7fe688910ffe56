//! The SSDA903 fields of a child and of an episode that the framework itself does not use but the
//! 903 return needs: held as the case-management system sends them (all optional), checked
//! against the 903's own rules for one record, and filled in by the export where the return's
//! guidance makes them follow from what Reunify holds (see [`EpisodeDetails::provider_for`]).

use chrono::NaiveDate;
use entities::{care_episode, child};
use sea_orm::Set;

use crate::domain::reference::{PLACEMENT_PROVIDER, REASON_NEW_EPISODE};
use crate::error::{Problems, UserErrorCode};

/// Reasons for a change of placement (903 `REASON_PLACE_CHANGE`, from 2015-16).
pub const REASONS_PLACE_CHANGE: [&str; 12] = [
    "ALLEG", "APPRR", "CARPL", "CHILD", "CLOSE", "CREQB", "CREQO", "CUSTOD", "LAREQ", "OTHER",
    "PLACE", "STAND",
];

/// Placement types with no placement provider (903 rule 178): temporary placements and the Z
/// codes.
pub fn without_provider(placement: &str) -> bool {
    placement.starts_with('T') || placement.starts_with('Z')
}

/// Placement types whose `URN` is left blank (903 rules 218 and 222).
pub fn without_urn(placement: &str) -> bool {
    matches!(placement, "P1" | "P2" | "P3" | "R1" | "R2" | "R5") || without_provider(placement)
}

/// A child's 903 fields beyond the framework's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChildDetails {
    /// Whether the child is a mother (903 `MOTHER`; asked of girls).
    pub is_mother: Option<bool>,
    /// The date of birth of the child's first child (903 `MC_DOB`).
    pub mother_child_dob: Option<NaiveDate>,
}

impl ChildDetails {
    /// The details a child row holds.
    pub fn of(c: &child::Model) -> Self {
        Self {
            is_mother: c.is_mother,
            mother_child_dob: c.mother_child_dob,
        }
    }

    /// Sets them on a child.
    pub fn set(&self, am: &mut child::ActiveModel) {
        am.is_mother = Set(self.is_mother);
        am.mother_child_dob = Set(self.mother_child_dob);
    }

    /// The 903's rules for them, for a child of `sex` born on `born`.
    pub fn check(&self, p: &mut Problems, sex: &str, born: NaiveDate) {
        if self.is_mother.is_some() && sex == "M" {
            p.push(
                UserErrorCode::Invalid,
                &["isMother"],
                "`isMother` is asked only of girls (SSDA903 MOTHER)",
            );
        }
        if let Some(d) = self.mother_child_dob {
            if self.is_mother != Some(true) {
                p.push(
                    UserErrorCode::Invalid,
                    &["motherChildDateOfBirth"],
                    "a child's child's date of birth needs `isMother: true` (SSDA903 MC_DOB)",
                );
            }
            if d <= born {
                p.push(
                    UserErrorCode::InvalidDate,
                    &["motherChildDateOfBirth"],
                    "a child's child is born after the child",
                );
            }
        }
    }
}

/// An episode's 903 fields beyond the framework's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EpisodeDetails {
    /// Reason for new episode (903 `RNE`): `S` starts a period of care, the others change one.
    pub reason_new_episode: Option<String>,
    /// Placement provider (903 `PLACE_PROVIDER`, `PR0`–`PR5`).
    pub placement_provider: Option<String>,
    /// Why the placement changed, on an episode that ended for it (903 `REASON_PLACE_CHANGE`,
    /// with `REC` `X1`).
    pub reason_place_change: Option<String>,
    /// Postcode of the home the child was living at before the episode (903 `HOME_POST`).
    pub home_postcode: Option<String>,
    /// Postcode of the placement (903 `PL_POST`).
    pub placement_postcode: Option<String>,
    /// Ofsted unique reference number of the placement (903 `URN`).
    pub urn: Option<String>,
}

impl EpisodeDetails {
    /// The details an episode row holds.
    pub fn of(e: &care_episode::Model) -> Self {
        Self {
            reason_new_episode: e.reason_new_episode.clone(),
            placement_provider: e.placement_provider.clone(),
            reason_place_change: e.reason_place_change.clone(),
            home_postcode: e.home_postcode.clone(),
            placement_postcode: e.placement_postcode.clone(),
            urn: e.urn.clone(),
        }
    }

    /// Sets them on an episode.
    pub fn set(self, am: &mut care_episode::ActiveModel) {
        am.reason_new_episode = Set(self.reason_new_episode);
        am.placement_provider = Set(self.placement_provider);
        am.reason_place_change = Set(self.reason_place_change);
        am.home_postcode = Set(self.home_postcode);
        am.placement_postcode = Set(self.placement_postcode);
        am.urn = Set(self.urn);
    }

    /// Whether the episode starts a period of care (no `RNE`, or `S`).
    pub fn starts_period(&self) -> bool {
        self.reason_new_episode.as_deref().is_none_or(|r| r == "S")
    }

    /// The placement provider the return shows for `placement`: the one given, `PR0` for a
    /// child placed with parents (the only one 903 allows), none for temporary and Z placements.
    pub fn provider_for(&self, placement: &str) -> Option<String> {
        if without_provider(placement) {
            None
        } else if placement == "P1" {
            Some("PR0".to_owned())
        } else {
            self.placement_provider.clone()
        }
    }

    /// Brings postcodes and URNs to the form the return holds (upper case, one space).
    pub fn normalised(mut self) -> Self {
        let tidy = |s: Option<String>| {
            s.map(|v| {
                v.split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .to_uppercase()
            })
            .filter(|v| !v.is_empty())
        };
        self.home_postcode = tidy(self.home_postcode);
        self.placement_postcode = tidy(self.placement_postcode);
        self.urn = tidy(self.urn);
        self.reason_new_episode = tidy(self.reason_new_episode);
        self.placement_provider = tidy(self.placement_provider);
        self.reason_place_change = tidy(self.reason_place_change);
        self
    }

    /// The 903's rules for one episode's details, for an episode in `placement` from `started_on`
    /// that ceased for `reason_ceased`, if it has.
    pub fn check(
        &self,
        p: &mut Problems,
        placement: &str,
        started_on: NaiveDate,
        reason_ceased: Option<&str>,
    ) {
        if let Some(rne) = &self.reason_new_episode
            && let Err(m) = REASON_NEW_EPISODE.check(rne, started_on)
        {
            p.push(UserErrorCode::InvalidCode, &["reasonNewEpisode"], m);
        }
        if let Some(provider) = &self.placement_provider {
            if let Err(m) = PLACEMENT_PROVIDER.check(provider, started_on) {
                p.push(UserErrorCode::InvalidCode, &["placementProvider"], m);
            } else if without_provider(placement) {
                p.push(
                    UserErrorCode::InvalidCode,
                    &["placementProvider"],
                    format!("a {placement} placement has no provider (SSDA903 rule 178)"),
                );
            } else if (placement == "P1") != (provider == "PR0") {
                p.push(
                    UserErrorCode::InvalidCode,
                    &["placementProvider"],
                    "PR0 (parents) is the provider of a P1 placement and of no other",
                );
            }
        }
        if let Some(reason) = &self.reason_place_change {
            if !REASONS_PLACE_CHANGE.contains(&reason.as_str()) {
                p.push(
                    UserErrorCode::InvalidCode,
                    &["reasonPlaceChange"],
                    format!(
                        "{reason} is not a reason for a change of placement ({})",
                        REASONS_PLACE_CHANGE.join(", ")
                    ),
                );
            } else if placement.starts_with('T') {
                p.push(
                    UserErrorCode::Invalid,
                    &["reasonPlaceChange"],
                    "a temporary placement has no reason for a change of placement (SSDA903 rule 226)",
                );
            } else if reason_ceased != Some("X1") {
                p.push(
                    UserErrorCode::Invalid,
                    &["reasonPlaceChange"],
                    "a reason for a change of placement goes with an episode that ended because the \
                     placement changed (reasonCeased X1; SSDA903 rule 225)",
                );
            }
        }
        for (value, field) in [
            (&self.home_postcode, "homePostcode"),
            (&self.placement_postcode, "placementPostcode"),
        ] {
            if let Some(pc) = value
                && !is_postcode(pc)
            {
                p.push(
                    UserErrorCode::Invalid,
                    &[field],
                    "a UK postcode (e.g. `AB1 2CD`), or its outward code and sector (`AB1 2`)",
                );
            }
        }
        if let Some(urn) = &self.urn {
            if !is_urn(urn) {
                p.push(
                    UserErrorCode::InvalidIdentifier,
                    &["urn"],
                    "an Ofsted URN: `SC` and 6 digits, 7 digits, or `XXXXXXX`",
                );
            } else if urn != "XXXXXXX" && without_urn(placement) {
                p.push(
                    UserErrorCode::Invalid,
                    &["urn"],
                    format!("a {placement} placement has no URN (SSDA903 rules 218 and 222)"),
                );
            }
        }
    }
}

/// A UK postcode, whole (`AB1 2CD`) or to its sector (`AB1 2`), with one space.
pub fn is_postcode(pc: &str) -> bool {
    let Some((outward, inward)) = pc.split_once(' ') else {
        return false;
    };
    let out_ok = (2..=4).contains(&outward.len())
        && outward
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_uppercase())
        && outward
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && outward.chars().any(|c| c.is_ascii_digit());
    let b = inward.as_bytes();
    let in_ok = match b.len() {
        1 => b[0].is_ascii_digit(),
        3 => b[0].is_ascii_digit() && b[1].is_ascii_uppercase() && b[2].is_ascii_uppercase(),
        _ => false,
    };
    out_ok && in_ok
}

/// An Ofsted URN: `SC` and 6 digits, 7 digits, or the special `XXXXXXX`.
pub fn is_urn(urn: &str) -> bool {
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    urn == "XXXXXXX" || digits(urn, 7) || urn.strip_prefix("SC").is_some_and(|d| digits(d, 6))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postcodes_and_urns() {
        for (pc, ok) in [
            ("AB1 2CD", true),
            ("SW1A 1AA", true),
            ("M1 1AE", true),
            ("AB1 2", true),
            ("AB12CD", false),
            ("1AB 2CD", false),
            ("AB1 2C", false),
        ] {
            assert_eq!(is_postcode(pc), ok, "{pc}");
        }
        for (urn, ok) in [
            ("SC999999", true),
            ("9999999", true),
            ("XXXXXXX", true),
            ("SC99999", false),
            ("sc999999", false),
            ("99999999", false),
        ] {
            assert_eq!(is_urn(urn), ok, "{urn}");
        }
    }

    fn problems(d: &EpisodeDetails, placement: &str) -> Vec<String> {
        let mut p = Problems::default();
        // An episode with a reason for a change of placement ended X1, but on U5 (ended E4A).
        let ceased = match (placement, &d.reason_place_change) {
            ("U5", _) => Some("E4A"),
            (_, Some(_)) => Some("X1"),
            _ => None,
        };
        d.check(
            &mut p,
            placement,
            NaiveDate::from_ymd_opt(2025, 6, 1).unwrap_or_default(),
            ceased,
        );
        match p.finish() {
            Ok(()) => vec![],
            Err(crate::error::ApiError::User(errs)) => errs
                .into_iter()
                .filter_map(|e| e.field.and_then(|f| f.last().cloned()))
                .collect(),
            Err(_) => vec!["?".into()],
        }
    }

    #[test]
    fn episode_details_follow_the_903_rules() {
        let d = |rne: &str, pp: &str, rpc: &str, urn: &str| EpisodeDetails {
            reason_new_episode: Some(rne.into()).filter(|s: &String| !s.is_empty()),
            placement_provider: Some(pp.into()).filter(|s: &String| !s.is_empty()),
            reason_place_change: Some(rpc.into()).filter(|s: &String| !s.is_empty()),
            urn: Some(urn.into()).filter(|s: &String| !s.is_empty()),
            ..Default::default()
        };
        let none: Vec<String> = vec![];
        assert_eq!(problems(&d("S", "PR1", "", "SC123456"), "U4"), none);
        assert_eq!(problems(&d("P", "PR0", "CARPL", ""), "P1"), none);
        assert_eq!(problems(&d("Q", "", "", ""), "U4"), ["reasonNewEpisode"]);
        assert_eq!(
            problems(&d("S", "PR1", "", ""), "P1"),
            ["placementProvider"]
        );
        assert_eq!(
            problems(&d("S", "PR0", "", ""), "U4"),
            ["placementProvider"]
        );
        assert_eq!(
            problems(&d("S", "PR4", "", ""), "T1"),
            ["placementProvider"]
        );
        assert_eq!(
            problems(&d("S", "PR1", "CARPL", ""), "U5"),
            ["reasonPlaceChange"]
        );
        assert_eq!(
            problems(&d("S", "", "CARPL", ""), "T1"),
            ["reasonPlaceChange"]
        );
        assert_eq!(
            problems(&d("P", "", "NOPE", ""), "U4"),
            ["reasonPlaceChange"]
        );
        assert_eq!(problems(&d("S", "", "", "SC123456"), "P1"), ["urn"]);
        assert_eq!(problems(&d("S", "", "", "XXXXXXX"), "P1"), none);
        assert_eq!(problems(&d("S", "", "", "12"), "U4"), ["urn"]);
        assert_eq!(
            d("S", "PR4", "", "").provider_for("P1").as_deref(),
            Some("PR0")
        );
        assert_eq!(d("S", "PR4", "", "").provider_for("T2"), None);
    }
}
