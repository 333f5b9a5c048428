//! The metrics made from events (`enrich/event_metrics.py`), counted by the compiled chain as it goes.
//!
//! For each line it compiles, the chain adds the line's *fact* — `(service, endpoint, method, status,
//! level, error_type, error)`, read from the finished event exactly as `EventTally.observe` reads the
//! Python chain's event — to a tally of its thread: one more event, and for a request with a duration
//! one more in its histogram bucket and the duration added to the sum. The
//! halves of a block run on two threads are merged into the calling thread's tally, which Python
//! drains right after the call on that thread (`logferry_native.take_facts`): the call's facts, one
//! Python tuple per distinct fact, not one per line.
//!
//! A fact is added only once the line's document is written, so a line the chain declines afterwards
//! is never counted here (the Python chain counts it).

use crate::event::{Event, K};
use crate::json::Value;
use rustc_hash::{FxHashMap, FxHasher};
use std::cell::RefCell;
use std::hash::{Hash, Hasher};

/// One fact, owned: what `EventTally` keys its counts by.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Fact {
    pub service: Option<String>,
    pub endpoint: Option<String>,
    pub method: Option<String>,
    pub status: Option<i64>,
    pub level: Option<String>,
    pub error_type: Option<String>,
    pub error: bool,
}

/// What a tally keeps per fact: events, the summed `event.duration` (ns) of those with a bucket, and
/// per histogram bucket (the bounds' and +Inf) its events; empty until one has a duration.
#[derive(Debug, Default, PartialEq)]
pub struct Counts {
    pub events: u64,
    pub duration: i128,
    pub buckets: Vec<u64>,
}

impl Counts {
    fn add(&mut self, other: Counts) {
        self.events += other.events;
        self.duration += other.duration;
        if self.buckets.len() < other.buckets.len() {
            self.buckets.resize(other.buckets.len(), 0);
        }
        for (mine, theirs) in self.buckets.iter_mut().zip(other.buckets) {
            *mine += theirs;
        }
    }
}

/// A fact borrowed from the event: compared and hashed without copying its strings.
struct FactRef<'a> {
    service: Option<&'a str>,
    endpoint: Option<&'a str>,
    method: Option<&'a str>,
    status: Option<i64>,
    level: Option<&'a str>,
    error_type: Option<&'a str>,
    error: bool,
}

impl FactRef<'_> {
    fn hash64(&self) -> u64 {
        let mut h = FxHasher::default();
        (self.service, self.endpoint, self.method, self.status).hash(&mut h);
        (self.level, self.error_type, self.error).hash(&mut h);
        h.finish()
    }

    fn is(&self, fact: &Fact) -> bool {
        self.status == fact.status
            && self.error == fact.error
            && self.endpoint == fact.endpoint.as_deref()
            && self.service == fact.service.as_deref()
            && self.method == fact.method.as_deref()
            && self.level == fact.level.as_deref()
            && self.error_type == fact.error_type.as_deref()
    }

    fn owned(&self) -> Fact {
        Fact {
            service: self.service.map(str::to_owned),
            endpoint: self.endpoint.map(str::to_owned),
            method: self.method.map(str::to_owned),
            status: self.status,
            level: self.level.map(str::to_owned),
            error_type: self.error_type.map(str::to_owned),
            error: self.error,
        }
    }
}

/// Counts per fact.
#[derive(Default, Debug)]
pub struct Tally {
    by_hash: FxHashMap<u64, Vec<(Fact, Counts)>>,
}

impl Tally {
    /// One event of `fact`; with `bucket` (of `buckets` in all), its duration.
    fn add(&mut self, fact: &FactRef<'_>, bucket: Option<(usize, usize)>, duration: i64) {
        let slot = self.by_hash.entry(fact.hash64()).or_default();
        let at = match slot.iter().position(|(owned, _)| fact.is(owned)) {
            Some(at) => at,
            None => {
                slot.push((fact.owned(), Counts::default()));
                slot.len() - 1
            }
        };
        let counts = &mut slot[at].1;
        counts.events += 1;
        if let Some((index, size)) = bucket {
            if counts.buckets.is_empty() {
                counts.buckets = vec![0; size];
            }
            counts.buckets[index] += 1;
            counts.duration += i128::from(duration);
        }
    }

    /// Add another tally's counts (a block's half, to the block's).
    pub fn merge(&mut self, other: Tally) {
        for (hash, entries) in other.by_hash {
            let slot = self.by_hash.entry(hash).or_default();
            for (fact, counts) in entries {
                if let Some(entry) = slot.iter_mut().find(|(owned, _)| *owned == fact) {
                    entry.1.add(counts);
                } else {
                    slot.push((fact, counts));
                }
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// Every fact with its counts, the tally left empty.
    pub fn drain(&mut self) -> Vec<(Fact, Counts)> {
        std::mem::take(&mut self.by_hash)
            .into_values()
            .flatten()
            .collect()
    }
}

thread_local! {
    static THREAD_TALLY: RefCell<Tally> = RefCell::new(Tally::default());
}

fn text(value: Option<&Value>) -> Option<&str> {
    match value {
        Some(Value::Str(s)) => Some(s.as_str()),
        _ => None,
    }
}

/// Count the finished event of a compiled line in this thread's tally (`EventTally.observe`'s reading:
/// a value of another type is no value; the duration counts for a request with an int duration, in
/// the bucket of the first bound not below it).
pub fn count(event: &Event<'_>, bounds: &[i64]) {
    let method = text(event.get(K::HTTP__REQUEST__METHOD));
    let mut bucket = None;
    let mut duration = 0;
    if method.is_some() {
        if let Some(Value::Int(value)) = event.get(K::EVENT__DURATION) {
            duration = *value;
            bucket = Some((
                bounds.partition_point(|bound| bound < value),
                bounds.len() + 1,
            ));
        }
    }
    let fact = FactRef {
        service: text(event.get(K::SERVICE__NAME)),
        endpoint: text(event.get(K::ENDPOINT)),
        method,
        status: match event.get(K::HTTP__RESPONSE__STATUS_CODE) {
            Some(Value::Int(code)) => Some(*code),
            _ => None,
        },
        level: text(event.get(K::LOG__LEVEL)),
        error_type: text(event.get(K::ERROR__TYPE)),
        error: matches!(event.get(K::TAGS), Some(Value::List(tags))
            if tags.iter().any(|t| matches!(t, Value::Str(s) if s == "error"))),
    };
    THREAD_TALLY.with(|tally| tally.borrow_mut().add(&fact, bucket, duration));
}

/// What this thread counted since its last `take`.
pub fn take() -> Tally {
    THREAD_TALLY.with(|tally| std::mem::take(&mut *tally.borrow_mut()))
}

/// Add to this thread's tally what other threads counted for it (the halves of a block).
pub fn keep(counted: Tally) {
    if !counted.is_empty() {
        THREAD_TALLY.with(|tally| tally.borrow_mut().merge(counted));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(endpoint: &str) -> FactRef<'_> {
        FactRef {
            service: Some("shop"),
            endpoint: Some(endpoint),
            method: Some("GET"),
            status: Some(200),
            level: Some("info"),
            error_type: None,
            error: false,
        }
    }

    fn rows(tally: &mut Tally) -> Vec<(String, u64, i128, Vec<u64>)> {
        let mut rows: Vec<_> = tally
            .drain()
            .into_iter()
            .map(|(f, c)| (f.endpoint.unwrap(), c.events, c.duration, c.buckets))
            .collect();
        rows.sort();
        rows
    }

    #[test]
    fn equal_facts_add_up_with_their_buckets_and_different_ones_stay_apart() {
        let mut tally = Tally::default();
        tally.add(&fact("/a"), Some((1, 3)), 10);
        tally.add(&fact("/a"), Some((1, 3)), 5);
        tally.add(&fact("/a"), Some((2, 3)), 1);
        tally.add(&fact("/a"), None, 99);
        tally.add(&fact("/b"), None, 7);
        assert_eq!(
            rows(&mut tally),
            vec![
                ("/a".into(), 4, 16, vec![0, 2, 1]),
                ("/b".into(), 1, 0, vec![])
            ]
        );
        assert!(tally.is_empty());
    }

    #[test]
    fn merged_tallies_add_up() {
        let (mut a, mut b) = (Tally::default(), Tally::default());
        a.add(&fact("/a"), None, 1);
        b.add(&fact("/a"), Some((0, 2)), 2);
        b.add(&fact("/c"), Some((1, 2)), 3);
        a.merge(b);
        assert_eq!(
            rows(&mut a),
            vec![
                ("/a".into(), 2, 2, vec![1, 0]),
                ("/c".into(), 1, 3, vec![0, 1])
            ]
        );
    }

    #[test]
    fn durations_of_i64_max_sum_without_overflow() {
        let mut tally = Tally::default();
        tally.add(&fact("/a"), Some((0, 1)), i64::MAX);
        tally.add(&fact("/a"), Some((0, 1)), i64::MAX);
        assert_eq!(tally.drain()[0].1.duration, 2 * i128::from(i64::MAX));
    }
}
