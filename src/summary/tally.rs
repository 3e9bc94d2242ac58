//! What the summary adds up: the wall time of each kind of work per stage and in all (the
//! union of the intervals of its spans, so work done at once is counted once), bytes
//! pulled and pushed, cache hits and misses, registry requests and retries; and the
//! summary's lines.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The kinds of work the summary times, in the order it prints them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Pull,
    Unpack,
    Run,
    Snapshot,
    Compress,
    Push,
}

impl Kind {
    const ALL: [Kind; 6] = [
        Kind::Pull,
        Kind::Unpack,
        Kind::Run,
        Kind::Snapshot,
        Kind::Compress,
        Kind::Push,
    ];

    fn label(self) -> &'static str {
        match self {
            Kind::Pull => "pull",
            Kind::Unpack => "unpack",
            Kind::Run => "RUN",
            Kind::Snapshot => "snapshot",
            Kind::Compress => "compress",
            Kind::Push => "push",
        }
    }
}

/// Counts of one stage, or of the whole build.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub pulled: u64,
    pub pushed: u64,
    pub hits: u64,
    pub misses: u64,
}

/// A span's start and end.
type Interval = (Instant, Instant);

/// Everything recorded so far.
#[derive(Debug, Default)]
pub struct Tally {
    /// Intervals by (stage, kind); `None`: outside any stage (the push).
    intervals: BTreeMap<(Option<u64>, Kind), Vec<Interval>>,
    counts: BTreeMap<Option<u64>, Counts>,
    names: BTreeMap<u64, String>,
    pub requests: u64,
    pub retries: u64,
}

impl Tally {
    pub fn interval(&mut self, stage: Option<u64>, kind: Kind, start: Instant, end: Instant) {
        self.intervals
            .entry((stage, kind))
            .or_default()
            .push((start, end));
    }

    pub fn counts(&mut self, stage: Option<u64>) -> &mut Counts {
        self.counts.entry(stage).or_default()
    }

    pub fn stage_name(&mut self, stage: u64, name: &str) {
        self.names.insert(stage, name.to_string());
    }

    /// The build's totals.
    pub fn total(&self) -> Counts {
        self.counts.values().fold(Counts::default(), |a, c| Counts {
            pulled: a.pulled + c.pulled,
            pushed: a.pushed + c.pushed,
            hits: a.hits + c.hits,
            misses: a.misses + c.misses,
        })
    }

    /// Wall time spent on `kind` in `stage` (`Some`), or in the whole build (`None`).
    pub fn time(&self, stage: Option<Option<u64>>, kind: Kind) -> Duration {
        let spans = self
            .intervals
            .iter()
            .filter(|((s, k), _)| *k == kind && stage.is_none_or(|want| want == *s))
            .flat_map(|(_, v)| v.iter().copied())
            .collect();
        union(spans)
    }

    /// One line per stage, then the totals (`elapsed`: the build's wall time).
    pub fn lines(&self, elapsed: Duration) -> Vec<String> {
        let mut stages: Vec<u64> = self.names.keys().copied().collect();
        stages.extend(self.counts.keys().flatten());
        stages.extend(self.intervals.keys().filter_map(|(s, _)| *s));
        stages.sort_unstable();
        stages.dedup();
        let mut out = Vec::new();
        for s in stages {
            let name = match self.names.get(&s).filter(|n| !n.is_empty()) {
                Some(n) => format!("stage {s} ({n})"),
                None => format!("stage {s}"),
            };
            let counts = self.counts.get(&Some(s)).cloned().unwrap_or_default();
            let times = self.times(Some(Some(s)), &[Kind::Push]);
            out.push(format!(
                "Build summary: {name}: {times}; {}",
                describe(&counts)
            ));
        }
        let times = self.times(None, &[]);
        out.push(format!(
            "Build summary: total {}: {times}; {}; registry: {} requests, {} retr{}",
            seconds(elapsed),
            describe(&self.total()),
            self.requests,
            self.retries,
            if self.retries == 1 { "y" } else { "ies" },
        ));
        out
    }

    fn times(&self, stage: Option<Option<u64>>, skip_if_zero: &[Kind]) -> String {
        Kind::ALL
            .iter()
            .map(|k| (k, self.time(stage, *k)))
            .filter(|(k, t)| !(skip_if_zero.contains(k) && t.is_zero()))
            .map(|(k, t)| format!("{} {}", k.label(), seconds(t)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn describe(c: &Counts) -> String {
    format!(
        "{} pulled, {} pushed; cache: {} hit{}, {} miss{}",
        size(c.pulled),
        size(c.pushed),
        c.hits,
        if c.hits == 1 { "" } else { "s" },
        c.misses,
        if c.misses == 1 { "" } else { "es" },
    )
}

/// A duration as people read it: `850ms`, `12.34s`.
fn seconds(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{:.2}s", d.as_secs_f64())
    }
}

/// Bytes in binary units, one decimal.
fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// The length of the union of intervals.
fn union(mut spans: Vec<Interval>) -> Duration {
    spans.sort_unstable();
    let mut total = Duration::ZERO;
    let mut current: Option<Interval> = None;
    for (s, e) in spans {
        current = match current {
            Some((cs, ce)) if s <= ce => Some((cs, ce.max(e))),
            Some((cs, ce)) => {
                total += ce - cs;
                Some((s, e))
            }
            None => Some((s, e)),
        };
    }
    if let Some((cs, ce)) = current {
        total += ce - cs;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_work_counts_once() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let mut t = Tally::default();
        t.interval(Some(0), Kind::Push, at(0), at(100));
        t.interval(Some(1), Kind::Push, at(50), at(150));
        t.interval(None, Kind::Push, at(300), at(400));
        t.interval(Some(0), Kind::Run, at(0), at(10));
        assert_eq!(t.time(None, Kind::Push), Duration::from_millis(250));
        assert_eq!(
            t.time(Some(Some(0)), Kind::Push),
            Duration::from_millis(100)
        );
        assert_eq!(t.time(Some(None), Kind::Push), Duration::from_millis(100));
        assert_eq!(t.time(None, Kind::Unpack), Duration::ZERO);
    }

    #[test]
    fn lines_per_stage_then_totals() {
        let t0 = Instant::now();
        let mut t = Tally::default();
        t.stage_name(0, "builder");
        t.stage_name(1, "");
        t.interval(Some(0), Kind::Run, t0, t0 + Duration::from_millis(1500));
        t.counts(Some(0)).pulled = 3 << 20;
        t.counts(Some(1)).hits = 1;
        t.counts(Some(1)).misses = 2;
        t.counts(None).pushed = 2048;
        t.requests = 7;
        t.retries = 1;
        let lines = t.lines(Duration::from_millis(4000));
        assert_eq!(
            lines,
            [
                "Build summary: stage 0 (builder): pull 0ms, unpack 0ms, RUN 1.50s, \
                 snapshot 0ms, compress 0ms; 3.0 MiB pulled, 0 B pushed; cache: 0 hits, 0 misses",
                "Build summary: stage 1: pull 0ms, unpack 0ms, RUN 0ms, snapshot 0ms, \
                 compress 0ms; 0 B pulled, 0 B pushed; cache: 1 hit, 2 misses",
                "Build summary: total 4.00s: pull 0ms, unpack 0ms, RUN 1.50s, snapshot 0ms, \
                 compress 0ms, push 0ms; 3.0 MiB pulled, 2.0 KiB pushed; cache: 1 hit, 2 misses; \
                 registry: 7 requests, 1 retry",
            ]
        );
    }
}
