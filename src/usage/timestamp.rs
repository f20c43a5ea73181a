//! Recognising listen timestamps. Play counts need no time, but a timestamp that does not parse
//! marks a garbled line, and whether a CSV's third column holds times or counts is decided by
//! what parses.

/// Unix times at or above this many seconds (2001-09-09) are taken for timestamps rather than
/// play counts when a CSV column could be either; no one plays a track a billion times.
pub const MIN_EPOCH_SECS: u64 = 1_000_000_000;

/// Parses an ISO 8601 / RFC 3339 date-time into seconds since 1970-01-01T00:00:00Z.
///
/// Accepted: `YYYY-MM-DD`, optionally followed by `T` or one space and `HH:MM`, `:SS` and a
/// `.fraction` (dropped), then optionally `Z` or an offset `±HH:MM`, `±HHMM` or `±HH`. A date
/// alone is its midnight; no offset means UTC. Fields are range-checked (month 1–12, the
/// month's days with leap years, 00–23 h, 00–59 min, 00–60 s for a leap second).
pub fn parse_iso8601_secs(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let year = digits(bytes, 0, 4)?;
    expect(bytes, 4, b'-')?;
    let month = digits(bytes, 5, 2)?;
    expect(bytes, 7, b'-')?;
    let day = digits(bytes, 8, 2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let date_secs = days_from_civil(year, month, day) * 86_400;
    if bytes.len() == 10 {
        return Some(date_secs);
    }
    if !matches!(bytes[10], b'T' | b't' | b' ') {
        return None;
    }
    let hour = digits(bytes, 11, 2)?;
    expect(bytes, 13, b':')?;
    let minute = digits(bytes, 14, 2)?;
    let mut at = 16;
    let mut second = 0;
    if bytes.get(at) == Some(&b':') {
        second = digits(bytes, at + 1, 2)?;
        at += 3;
        if bytes.get(at) == Some(&b'.') {
            let fraction = bytes[at + 1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            if fraction == 0 {
                return None;
            }
            at += 1 + fraction;
        }
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let offset_secs = parse_offset_secs(&bytes[at..])?;
    Some(date_secs + hour * 3600 + minute * 60 + second - offset_secs)
}

/// The largest Unix time accepted: 9999-12-31T23:59:59.999Z in milliseconds. Logs write times
/// in seconds or milliseconds, so a larger number is garbage, not a time.
pub const MAX_EPOCH_MILLIS: u64 = 253_402_300_799_999;

/// True for a Unix time written as a number: digits with an optional `.fraction` (ListenBrainz
/// writes fractional seconds), in seconds or milliseconds, at most [`MAX_EPOCH_MILLIS`].
pub fn is_unix_time(text: &str) -> bool {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, "0"));
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    digits(whole)
        && digits(fraction)
        && whole
            .parse::<u64>()
            .is_ok_and(|number| number <= MAX_EPOCH_MILLIS)
}

/// The UTC offset suffix: empty (UTC), `Z`, `±HH`, `±HHMM` or `±HH:MM`, in seconds east.
fn parse_offset_secs(bytes: &[u8]) -> Option<i64> {
    let sign = match bytes.first() {
        None => return Some(0),
        Some(b'Z' | b'z') if bytes.len() == 1 => return Some(0),
        Some(b'+') => 1,
        Some(b'-') => -1,
        Some(_) => return None,
    };
    let hours = digits(bytes, 1, 2)?;
    let minutes = match bytes.len() {
        3 => 0,
        5 => digits(bytes, 3, 2)?,
        6 if bytes[3] == b':' => digits(bytes, 4, 2)?,
        _ => return None,
    };
    (hours <= 23 && minutes <= 59).then_some(sign * (hours * 3600 + minutes * 60))
}

/// The decimal number in `bytes[start..start + len]`, all of it digits.
fn digits(bytes: &[u8], start: usize, len: usize) -> Option<i64> {
    let field = bytes.get(start..start + len)?;
    field.iter().try_fold(0i64, |value, &b| {
        b.is_ascii_digit().then(|| value * 10 + i64::from(b - b'0'))
    })
}

fn expect(bytes: &[u8], at: usize, byte: u8) -> Option<()> {
    (bytes.get(at) == Some(&byte)).then_some(())
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    /// References from GNU `date -u -d TEXT +%s`.
    #[test]
    fn agrees_with_gnu_date() {
        let cases = [
            ("2009-05-04T23:08:57Z", 1_241_478_537),
            ("1970-01-01T00:00:00Z", 0),
            ("2000-02-29T12:00:00+02:00", 951_818_400),
            ("1969-12-31T23:59:59Z", -1),
            ("2013-06-01", 1_370_044_800),
            ("2021-01-31T22:02:00-05:30", 1_612_150_320),
            ("0001-01-01T00:00:00Z", -62_135_596_800),
            ("9999-12-31T23:59:59Z", 253_402_300_799),
        ];
        for (text, secs) in cases {
            assert_eq!(parse_iso8601_secs(text), Some(secs), "{text}");
        }
    }

    #[test]
    fn accepts_the_common_variants() {
        let base = parse_iso8601_secs("2009-05-04T23:08:57Z");
        for text in [
            "2009-05-04T23:08:57",
            "2009-05-04 23:08:57",
            "2009-05-04T23:08:57.250Z",
            "2009-05-05T01:08:57+0200",
            "2009-05-05T01:08:57+02",
        ] {
            assert_eq!(parse_iso8601_secs(text), base, "{text}");
        }
        assert_eq!(
            parse_iso8601_secs("2009-05-04T23:08Z"),
            base.map(|secs| secs - 57)
        );
    }

    #[test]
    fn rejects_malformed_and_out_of_range() {
        for text in [
            "",
            "2009",
            "2009-13-01",
            "2009-02-29",
            "1900-02-29",
            "2009-04-31",
            "2009-05-04T24:00:00Z",
            "2009-05-04T23:60:00Z",
            "2009-05-04T23:08:61Z",
            "2009-05-04T23:08:57ZZ",
            "2009-05-04T23:08:57.Z",
            "2009-05-04X23:08:57",
            "2009-05-04T23:08:57+2",
            "２００９-05-04",
            "1241478537",
        ] {
            assert_eq!(parse_iso8601_secs(text), None, "{text}");
        }
        assert!(parse_iso8601_secs("2000-02-29").is_some());
    }

    #[test]
    fn unix_times() {
        for text in [
            "1241478537",
            "1700000000.5",
            "0",
            "1700000000123",
            "253402300799999",
        ] {
            assert!(is_unix_time(text), "{text}");
        }
        let too_big = ["253402300800000", "99999999999999999999999"];
        for text in ["", ".5", "5.", "-1", "1e9", "12 34", "1.2.3"]
            .iter()
            .chain(&too_big)
        {
            assert!(!is_unix_time(text), "{text}");
        }
    }
}
