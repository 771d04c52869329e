//! Versions: a hybrid logical clock reading paired with the writer's site id.
//!
//! The HLC is 64 bits: physical milliseconds in the high 48, a logical counter
//! in the low 16. A clock never goes backwards and advances past every version
//! it observes, so causally later writes always carry larger versions. Versions
//! are totally ordered (HLC first, site id breaks ties), which lets every
//! replica pick the same winner without talking to anyone.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A replica's identity: 16 random bytes, made once, never reused.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
pub struct SiteId(pub [u8; 16]);

impl SiteId {
    pub fn random() -> Self {
        SiteId(*uuid::Uuid::new_v4().as_bytes())
    }

    pub fn to_hex(&self) -> String {
        // Every version shown or sent carries one: by table, not by format.
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(32);
        for b in self.0 {
            out.push(DIGITS[usize::from(b >> 4)] as char);
            out.push(DIGITS[usize::from(b & 15)] as char);
        }
        out
    }

    pub fn from_hex(s: &str) -> Option<Self> {
        if s.len() != 32 || !s.is_ascii() {
            return None;
        }
        let mut out = [0u8; 16];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(SiteId(out))
    }
}

impl fmt::Debug for SiteId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SiteId({})", &self.to_hex()[..8])
    }
}

/// The version of one write. Ordered by `hlc`, then `site`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
pub struct Version {
    pub hlc: u64,
    pub site: SiteId,
}

impl Version {
    /// Milliseconds since the Unix epoch encoded in the HLC.
    pub fn millis(&self) -> u64 {
        self.hlc >> 16
    }

    /// Reads the `Display` form back (`HLC.SITE`, as an ETag carries it).
    pub fn parse(s: &str) -> Option<Self> {
        let (hlc, site) = s.split_once('.')?;
        let hex = |t: &str| t.bytes().all(|b| b.is_ascii_hexdigit());
        if hlc.len() != 16 || !hex(hlc) || !hex(site) {
            return None;
        }
        Some(Version {
            hlc: u64::from_str_radix(hlc, 16).ok()?,
            site: SiteId::from_hex(site)?,
        })
    }
}

impl fmt::Display for Version {
    /// `HLC.SITE` in fixed-width hex, so the text sorts as the version does.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}.{}", self.hlc, self.site.to_hex())
    }
}

impl fmt::Debug for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "V({:x}@{})", self.hlc, &self.site.to_hex()[..4])
    }
}

/// A hybrid logical clock. Physical time is passed in, so tests own time.
#[derive(Clone, Debug, Default)]
pub struct Hlc {
    last: u64,
}

impl Hlc {
    /// Resumes after `last`, the largest HLC this replica has stored.
    pub fn resume(last: u64) -> Self {
        Hlc { last }
    }

    /// The next HLC for a local write at wall-clock `now_ms`. When more than
    /// 65,535 writes land in one millisecond the counter carries into the
    /// millisecond part: the clock runs a little ahead instead of repeating.
    pub fn tick(&mut self, now_ms: u64) -> u64 {
        let physical = now_ms << 16;
        self.last = physical.max(self.last + 1);
        self.last
    }

    /// Moves the clock past a version received from elsewhere.
    pub fn observe(&mut self, hlc: u64) {
        self.last = self.last.max(hlc);
    }

    pub fn last(&self) -> u64 {
        self.last
    }
}

/// Wall-clock milliseconds since the Unix epoch.
pub fn wall_clock_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_text_reads_back() {
        let v = Version {
            hlc: 0x1234_5678_9abc,
            site: SiteId::random(),
        };
        assert_eq!(Version::parse(&v.to_string()), Some(v));
        let text = v.to_string();
        for bad in [
            "",
            "x",
            &text[1..],
            &text.replacen('0', "+", 1),
            &format!("{text}0"),
        ] {
            assert_eq!(Version::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn clock_is_monotone_even_when_time_goes_back() {
        let mut c = Hlc::default();
        let a = c.tick(1000);
        let b = c.tick(999);
        let d = c.tick(1000);
        assert!(a < b && b < d);
        assert_eq!(a, 1000 << 16);
    }

    #[test]
    fn clock_advances_past_observed_versions() {
        let mut c = Hlc::default();
        c.observe(5000 << 16);
        assert!(c.tick(1000) > 5000 << 16);
    }

    #[test]
    fn counter_overflow_carries_into_milliseconds() {
        let mut c = Hlc::default();
        let mut prev = 0;
        for _ in 0..70_000 {
            let t = c.tick(7);
            assert!(t > prev);
            prev = t;
        }
        assert_eq!(
            prev >> 16,
            8,
            "70,000 ticks in one ms spill into the next ms"
        );
    }

    #[test]
    fn versions_order_by_hlc_then_site() {
        let s1 = SiteId([1; 16]);
        let s2 = SiteId([2; 16]);
        let v = |hlc, site| Version { hlc, site };
        assert!(v(1, s2) < v(2, s1));
        assert!(v(2, s1) < v(2, s2));
        assert_eq!(SiteId::from_hex(&s2.to_hex()), Some(s2));
        assert!(v(2, s1).to_string() < v(2, s2).to_string());
        let mixed = SiteId([0x0f, 0xa0, 0, 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        assert_eq!(mixed.to_hex(), "0fa000ff0102030405060708090a0b0c");
        assert_eq!(
            v(0x1a2b, mixed).to_string(),
            "0000000000001a2b.0fa000ff0102030405060708090a0b0c"
        );
    }
}
