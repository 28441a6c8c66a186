//! Shards: N jobs (a CI matrix, an indexed Kubernetes job) each audit one part
//! of a page list known before the run — the crawl's start pages, its sitemap,
//! and `--urls` — and `merge` joins their reports. A URL belongs to exactly one
//! shard, by a stable hash of its normalised form.

use crate::crawl::normalize;
use std::fmt;
use std::str::FromStr;
use url::Url;

/// Shard `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which shard, from 1.
    pub index: u64,
    /// How many shards in all.
    pub count: u64,
}

impl Shard {
    /// Every page in one shard (`--urls` without `--shard`).
    pub const WHOLE: Shard = Shard { index: 1, count: 1 };

    /// Whether `url` belongs to this shard.
    pub fn owns(&self, url: &Url) -> bool {
        let key = normalize(url).map_or_else(|| url.to_string(), |u| u.to_string());
        stable_hash(&key) % self.count == self.index - 1
    }

    /// The pages that steps audit are audited by shard 1 only; the others
    /// walk the steps without auditing.
    pub fn audits_steps(&self) -> bool {
        self.index == 1
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let fix = "write K/N with 1 <= K <= N, e.g. --shard 2/4";
        let (k, n) = text
            .split_once('/')
            .ok_or_else(|| format!("{text:?} is not K/N: {fix}"))?;
        let (index, count): (u64, u64) = match (k.trim().parse(), n.trim().parse()) {
            (Ok(k), Ok(n)) => (k, n),
            _ => return Err(format!("{text:?} is not two whole numbers: {fix}")),
        };
        if count == 0 || index == 0 || index > count {
            return Err(format!("{text:?} is out of range: {fix}"));
        }
        Ok(Shard { index, count })
    }
}

/// FNV-1a: the same on every machine and Rust version (std's hasher promises
/// neither), so the N jobs of a matrix agree on who audits what.
fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard { index: 2, count: 4 }));
        assert!("0/4".parse::<Shard>().is_err());
        assert!("5/4".parse::<Shard>().is_err());
        assert!("1/0".parse::<Shard>().is_err());
        assert!("two".parse::<Shard>().is_err());
    }

    #[test]
    fn every_url_in_exactly_one_shard() {
        let urls: Vec<Url> = (0..200)
            .map(|i| Url::parse(&format!("http://shop.test/p/{i}?q={i}")).unwrap())
            .collect();
        let shards: Vec<Shard> = (1..=3).map(|index| Shard { index, count: 3 }).collect();
        for url in &urls {
            assert_eq!(shards.iter().filter(|s| s.owns(url)).count(), 1, "{url}");
        }
        // Roughly even, and stable.
        let first = urls.iter().filter(|u| shards[0].owns(u)).count();
        assert!((40..=95).contains(&first), "{first}");
        // FNV-1a's published test vectors: the hash never changes.
        assert_eq!(stable_hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(stable_hash("a"), 0xaf63_dc4c_8601_ec8c);
    }
}
