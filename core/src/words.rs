//! Numbers in words for people: "1 record", "2 records", "12,288", "61.4k".
//! One place, so every command and message counts the same way.

/// `noun` for `n` of it: "record" for 1, "records" otherwise. Nouns are
/// regular English ones (an `s` is added).
pub fn plural(n: u64, noun: &str) -> String {
    if n == 1 {
        noun.to_owned()
    } else {
        format!("{noun}s")
    }
}

/// "1 record", "0 records", "12,288 records".
pub fn count(n: u64, noun: &str) -> String {
    format!("{} {}", thousands(n), plural(n, noun))
}

/// `n` with thousands separators: "260,000".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A short figure for a rate: "812", "61.4k", "1.2M" (three significant
/// digits at most, so a column of them does not jitter).
pub fn short(x: f64) -> String {
    if !x.is_finite() || x < 0.0 {
        return "0".into();
    }
    let (value, unit) = if x >= 999_950_000.0 {
        (x / 1e9, "G")
    } else if x >= 999_950.0 {
        (x / 1e6, "M")
    } else if x >= 999.5 {
        (x / 1e3, "k")
    } else {
        return format!("{}", x.round() as u64);
    };
    if value >= 99.95 {
        format!("{value:.0}{unit}")
    } else {
        format!("{value:.1}{unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_singular_only_for_one() {
        assert_eq!(count(0, "record"), "0 records");
        assert_eq!(count(1, "record"), "1 record");
        assert_eq!(count(2, "record"), "2 records");
        assert_eq!(count(12_288, "record"), "12,288 records");
    }

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(12288), "12,288");
        assert_eq!(thousands(200000), "200,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }

    #[test]
    fn short_figures_keep_three_digits() {
        assert_eq!(short(0.0), "0");
        assert_eq!(short(812.4), "812");
        assert_eq!(short(61_442.172_6), "61.4k");
        assert_eq!(short(999.7), "1.0k");
        assert_eq!(short(180_000.0), "180k");
        assert_eq!(short(1_234_567.0), "1.2M");
        assert_eq!(short(f64::NAN), "0");
    }
}

/// A UTC calendar time: (year, month, day, hour, minute, second) of a
/// count of seconds since the Unix epoch (H. Hinnant's civil_from_days).
pub fn civil(secs: u64) -> (i64, i64, i64, u64, u64, u64) {
    let (days, rest) = ((secs / 86_400) as i64, secs % 86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, rest / 3600, rest / 60 % 60, rest % 60)
}

/// A wall-clock time (ms since the Unix epoch) as `2026-12-03 14:09:59 UTC`.
pub fn utc(ms: u64) -> String {
    let (y, mo, d, h, mi, s) = civil(ms / 1000);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02} UTC")
}

#[cfg(test)]
mod utc_tests {
    #[test]
    fn utc_dates() {
        assert_eq!(super::utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(super::utc(1_796_306_999_000), "2026-12-03 14:09:59 UTC");
        assert_eq!(super::utc(951_782_400_000), "2000-02-29 00:00:00 UTC");
    }
}
