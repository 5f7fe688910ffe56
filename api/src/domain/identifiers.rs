//! Check-character and format rules for NHS numbers, UPNs and LA child IDs
//! (`shared/reference/identifier-rules.md`).

/// Validates an NHS number (spaces allowed) and returns its 10 digits.
pub fn nhs_number(raw: &str) -> Result<String, &'static str> {
    let digits: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() != 10 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err("an NHS number has 10 digits");
    }
    let d: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
    if d.iter().all(|x| *x == d[0]) {
        return Err("an NHS number cannot be one digit repeated");
    }
    let sum: u32 = d[..9]
        .iter()
        .zip((2..=10).rev())
        .map(|(digit, weight)| digit * weight)
        .sum();
    let check = match 11 - sum % 11 {
        11 => 0,
        10 => return Err("no valid NHS number starts with these nine digits"),
        c => c,
    };
    if check != d[9] {
        return Err("the NHS number's check digit is wrong");
    }
    Ok(digits)
}

const UPN_LETTERS: &[u8; 23] = b"ABCDEFGHJKLMNPQRTUVWXYZ";

/// Validates a UPN (permanent or temporary) including its mod-23 check letter.
pub fn upn(raw: &str) -> Result<String, &'static str> {
    let upn = raw.trim().to_owned();
    let b = upn.as_bytes();
    if b.len() != 13 {
        return Err("a UPN has 13 characters");
    }
    let letter_value = |c: u8| UPN_LETTERS.iter().position(|l| *l == c);
    if letter_value(b[0]).is_none() {
        return Err("a UPN starts with a check letter (not I, O or S)");
    }
    if !b[1..12].iter().all(u8::is_ascii_digit) {
        return Err("characters 2 to 12 of a UPN are digits");
    }
    let last = if b[12].is_ascii_digit() {
        u32::from(b[12] - b'0')
    } else {
        match letter_value(b[12]) {
            Some(v) => v as u32,
            None => {
                return Err("character 13 of a UPN is a digit or a letter other than I, O or S");
            }
        }
    };
    let sum: u32 = b[1..12]
        .iter()
        .zip(2u32..)
        .map(|(c, w)| u32::from(c - b'0') * w)
        .sum::<u32>()
        + last * 13;
    if UPN_LETTERS.get((sum % 23) as usize) != Some(&b[0]) {
        return Err("the UPN's check letter is wrong");
    }
    Ok(upn)
}

/// A permanent UPN from its 12 characters after the check letter (11 digits and a digit or
/// letter): the check letter put in front. `None` when the characters cannot follow one.
pub fn upn_from(rest: &str) -> Option<String> {
    let b = rest.as_bytes();
    if b.len() != 12 || !b[..11].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let last = if b[11].is_ascii_digit() {
        u32::from(b[11] - b'0')
    } else {
        UPN_LETTERS.iter().position(|l| *l == b[11])? as u32
    };
    let sum: u32 = b[..11]
        .iter()
        .zip(2u32..)
        .map(|(c, w)| u32::from(c - b'0') * w)
        .sum::<u32>()
        + last * 13;
    let check = *UPN_LETTERS.get((sum % 23) as usize)?;
    Some(format!("{}{rest}", char::from(check)))
}

/// Validates an LA child ID: 1 to 20 letters and digits.
pub fn la_child_id(raw: &str) -> Result<String, &'static str> {
    let id = raw.trim();
    if id.is_empty() || id.len() > 20 || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err("an LA child ID is 1 to 20 letters and digits, with no spaces or punctuation");
    }
    Ok(id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nhs_numbers_from_the_reference() {
        assert_eq!(nhs_number("9990000018").unwrap(), "9990000018");
        assert!(nhs_number("9990000026").is_ok());
        assert!(nhs_number("9990000050").is_ok());
        assert_eq!(nhs_number("999 000 0018").unwrap(), "9990000018");
        assert!(nhs_number("9990000019").is_err());
        assert!(nhs_number("9991234560").is_err());
        assert!(nhs_number("999000001").is_err());
        assert!(nhs_number("0000000000").is_err());
    }

    #[test]
    fn upns_from_the_reference() {
        assert!(upn("X201000025001").is_ok());
        assert!(upn("L201000025002").is_ok());
        assert!(upn("W20100002501A").is_ok());
        assert!(upn("A201000025001").is_err());
        assert!(upn("I201000025001").is_err());
        assert!(upn("X20100002500").is_err());
        assert!(upn("X2010000250O1").is_err());
        assert!(upn("UN3").is_err());
    }

    #[test]
    fn la_child_ids_from_the_reference() {
        assert!(la_child_id("ABC12345").is_ok());
        assert_eq!(la_child_id("0000123456789").unwrap(), "0000123456789");
        assert!(la_child_id("ABC-123").is_err());
        assert!(la_child_id("A1B2C3D4E5F6G7H8I9J0K").is_err());
        assert!(la_child_id("").is_err());
    }
}
