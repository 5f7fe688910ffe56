//! Statutory code lists (SSDA903, CIN census, Annex A, DfE LA codes), embedded from `api/reference/`
//! and checked against the collection year a record belongs to.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate};

/// One row of a code list.
#[derive(Debug, Clone)]
pub struct CodeRow {
    /// The code as published.
    pub code: String,
    /// A short label.
    pub label: String,
    fields: HashMap<String, String>,
}

impl CodeRow {
    /// Another column of the row (empty when absent).
    pub fn get(&self, column: &str) -> &str {
        self.fields.get(column).map(String::as_str).unwrap_or("")
    }

    /// Whether the code is valid in the collection year starting 1 April of `start_year`.
    fn valid_in(&self, start_year: i32) -> bool {
        let year = |col: &str| self.get(col).get(..4).and_then(|y| y.parse::<i32>().ok());
        year("first_year").is_none_or(|first| start_year >= first)
            && year("last_year").is_none_or(|last| start_year <= last)
    }
}

/// A statutory code list.
#[derive(Debug)]
pub struct CodeList {
    /// What the list is, for messages.
    pub name: &'static str,
    rows: Vec<CodeRow>,
}

impl CodeList {
    fn parse(name: &'static str, text: &str, code_column: &str) -> Self {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let headers = reader.headers().cloned().unwrap_or_default();
        let rows = reader
            .records()
            .filter_map(Result::ok)
            .map(|rec| {
                let fields: HashMap<String, String> = headers
                    .iter()
                    .zip(rec.iter())
                    .map(|(h, v)| (h.to_owned(), v.to_owned()))
                    .collect();
                CodeRow {
                    code: fields.get(code_column).cloned().unwrap_or_default(),
                    label: fields
                        .get("label")
                        .or_else(|| fields.get("name"))
                        .cloned()
                        .unwrap_or_default(),
                    fields,
                }
            })
            .collect();
        CodeList { name, rows }
    }

    /// Every row.
    pub fn rows(&self) -> &[CodeRow] {
        &self.rows
    }

    /// The row for a code valid on `on` (by collection year), or a message saying why not.
    pub fn check(&self, code: &str, on: NaiveDate) -> Result<&CodeRow, String> {
        let year = collection_year_start(on);
        match self.rows.iter().find(|r| r.code == code) {
            Some(r) if r.valid_in(year) => Ok(r),
            Some(_) => Err(format!(
                "{code} is not a valid {} in the {year}-{:02} collection year",
                self.name,
                (year + 1) % 100
            )),
            None => Err(format!("{code} is not a known {}", self.name)),
        }
    }

    /// The row for a code in any year.
    pub fn find(&self, code: &str) -> Option<&CodeRow> {
        self.rows.iter().find(|r| r.code == code)
    }
}

/// The year in which the collection year containing `d` starts (collection years run 1 April – 31 March).
pub fn collection_year_start(d: NaiveDate) -> i32 {
    if d.month() >= 4 {
        d.year()
    } else {
        d.year() - 1
    }
}

macro_rules! code_list {
    ($(#[$m:meta])* $name:ident, $file:literal, $what:literal, $col:literal) => {
        $(#[$m])*
        pub static $name: LazyLock<CodeList> = LazyLock::new(|| {
            CodeList::parse($what, include_str!(concat!("../../reference/", $file)), $col)
        });
    };
}

code_list!(/// SSDA903 legal status (`LS`).
    LEGAL_STATUS, "ssda903-legal-status.csv", "legal status", "code");
code_list!(/// SSDA903 / CIN category of need; the 903 column says which the 903 accepts.
    CATEGORY_OF_NEED, "category-of-need.csv", "category of need", "code");
code_list!(/// SSDA903 placement type, with the years each is valid.
    PLACEMENT_TYPE, "ssda903-placement-type.csv", "placement type", "code");
code_list!(/// SSDA903 reason episode ceased.
    REASON_CEASED, "ssda903-reason-episode-ceased.csv", "reason episode ceased", "code");
code_list!(/// SSDA903 reason for new episode (`RNE`).
    REASON_NEW_EPISODE, "ssda903-reason-new-episode.csv", "reason for new episode", "code");
code_list!(/// SSDA903 placement provider (`PLACE_PROVIDER`).
    PLACEMENT_PROVIDER, "ssda903-placement-provider.csv", "placement provider", "code");
code_list!(/// DfE ethnicity codes.
    ETHNICITY, "ethnicity.csv", "ethnicity code", "code");
code_list!(/// Sex codes with their years (M/F/U from 2024-25).
    SEX, "sex.csv", "sex code", "code");
code_list!(/// Annex A permanence plans.
    PERMANENCE_PLAN, "annex-a-permanence-plan.csv", "permanence plan", "code");
code_list!(/// Reasons a UPN is unknown.
    UPN_UNKNOWN, "upn-unknown.csv", "UPN-unknown reason", "code");
code_list!(/// English local authorities with DfE and ONS codes and validity dates.
    LOCAL_AUTHORITIES, "local-authorities.csv", "DfE LA code", "dfe_la_code");

/// The current row of an English LA by its DfE code.
pub fn local_authority(dfe_code: &str) -> Option<&'static CodeRow> {
    LOCAL_AUTHORITIES
        .rows()
        .iter()
        .filter(|r| r.code == dfe_code)
        .find(|r| r.get("valid_to").is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn lists_load() {
        assert_eq!(ETHNICITY.rows().len(), 20);
        assert!(LEGAL_STATUS.find("C2").is_some());
        assert_eq!(
            REASON_CEASED.find("E4B").unwrap().get("returned_home"),
            "unplanned"
        );
        assert_eq!(local_authority("202").unwrap().label, "Camden");
    }

    #[test]
    fn placement_types_follow_collection_years() {
        assert!(PLACEMENT_TYPE.check("K3", d(2024, 4, 1)).is_ok());
        assert!(PLACEMENT_TYPE.check("K3", d(2024, 3, 31)).is_err());
        assert!(PLACEMENT_TYPE.check("Z1", d(2025, 3, 31)).is_ok());
        assert!(PLACEMENT_TYPE.check("Z1", d(2025, 4, 1)).is_err());
        assert!(PLACEMENT_TYPE.check("Q9", d(2025, 4, 1)).is_err());
        assert!(SEX.check("M", d(2025, 1, 1)).is_ok());
        assert!(SEX.check("1", d(2025, 1, 1)).is_err());
    }
}
