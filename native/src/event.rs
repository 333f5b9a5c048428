//! The event's top level as the chain needs it: a Python dict's order semantics (overwrite keeps the
//! place, delete then insert goes to the end) with cheap answers to the chain's questions.
//!
//! The chain asks ~150 times per line whether a field it knows is present (each extractor tries each
//! alias), and almost always it is not. Every field name the chain asks for has a small number (an
//! id, from one static table), and the event keeps a bit per id that is present: a miss costs one bit
//! test, a hit a scan of a few bytes, and no string is hashed or compared. A delete only marks the
//! entry dead (no shifting of the later entries); dead entries are skipped when reading or writing.
//! Names outside the table (the line's own fields) are found by a hash kept per entry.

use crate::json::Value;
use rustc_hash::{FxHashMap, FxHasher};
use std::hash::Hasher;
use std::sync::OnceLock;

/// The field names the chain reads or writes at the top level of an event (at most 255).
const KNOWN: &[&str] = &[
    // decode and the source's fields
    "record",
    "text",
    "@raw",
    "@source_id",
    "@timezone",
    "log.file.path",
    "log.offset",
    // parse_timestamp
    "timestamp",
    "@timestamp",
    "time",
    "ts",
    "asctime",
    // parse_level, parse_message
    "level",
    "severity",
    "log.level",
    "lvl",
    "levelname",
    "message",
    "msg",
    "event",
    // tag_error
    "error",
    "err",
    "panic",
    "error_message",
    "errorMessage",
    "error_type",
    "errorType",
    "exception_type",
    "exc_type",
    "stack_trace",
    "stack",
    "stacktrace",
    "exception",
    "exc_info",
    "errorVerbose",
    "error.message",
    "error.type",
    "error.stack_trace",
    // tag_http
    "method",
    "req",
    "request",
    "http",
    "req.method",
    "request.method",
    "http.request.method",
    "url",
    "path",
    "req.url",
    "request.url",
    "req.path",
    "url.original",
    "url.path",
    "url.query",
    "status",
    "statusCode",
    "status_code",
    "res",
    "response",
    "res.statusCode",
    "res.status",
    "response.status",
    "http.response.status_code",
    "responseTime",
    "response_time",
    "duration_ms",
    "latency",
    "elapsed_ms",
    "duration",
    "event.duration",
    // map_common_fields
    "user.id",
    "userId",
    "user_id",
    "client.ip",
    "ip",
    "remote_addr",
    "client_ip",
    "req.remoteAddress",
    "client.port",
    "client_port",
    "remote_port",
    "req.remotePort",
    "user_agent.original",
    "userAgent",
    "user_agent",
    "ua",
    "req.headers.user-agent",
    "trace.id",
    "trace_id",
    "traceId",
    "span.id",
    "span_id",
    "spanId",
    "service.name",
    "service",
    "service_name",
    "app",
    // fit_ecs_objects
    "user",
    "user.name",
    "host",
    "host.name",
    "trace",
    "span",
    "client",
    "client.address",
    "log",
    "log.original",
    "event.original",
    "http.value",
    // template_endpoint, classify_status, add_metadata, assign_id
    "endpoint",
    "http.response.status_class",
    "tags",
    "event.ingested",
    "event.id",
];

/// Not an id: a name outside `KNOWN`.
const UNKNOWN: u8 = u8::MAX;

fn table() -> &'static FxHashMap<&'static str, u8> {
    static TABLE: OnceLock<FxHashMap<&'static str, u8>> = OnceLock::new();
    TABLE.get_or_init(|| {
        assert!(KNOWN.len() < usize::from(UNKNOWN), "ids fit a byte");
        KNOWN
            .iter()
            .enumerate()
            .map(|(id, name)| (*name, id as u8))
            .collect()
    })
}

/// The id of a field name, if the chain knows it.
pub fn id_of(name: &str) -> Option<u8> {
    table().get(name).copied()
}

/// The static spelling of a known name (no allocation for the fields the chain knows).
fn known_name(id: u8) -> &'static str {
    KNOWN[usize::from(id)]
}

fn hash_of(name: &str) -> u64 {
    let mut hasher = FxHasher::default();
    hasher.write(name.as_bytes());
    hasher.finish()
}

/// A field name: borrowed from the table when the chain knows it, else the line's own text.
pub enum Key {
    Known(u8),
    Other(String, u64),
}

impl Key {
    pub fn new(name: &str) -> Key {
        match id_of(name) {
            Some(id) => Key::Known(id),
            None => Key::Other(name.to_owned(), hash_of(name)),
        }
    }

    fn from_string(name: String) -> Key {
        match id_of(&name) {
            Some(id) => Key::Known(id),
            None => {
                let hash = hash_of(&name);
                Key::Other(name, hash)
            }
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Key::Known(id) => known_name(*id),
            Key::Other(name, _) => name,
        }
    }
}

impl From<&str> for Key {
    fn from(name: &str) -> Key {
        Key::new(name)
    }
}

impl From<String> for Key {
    fn from(name: String) -> Key {
        Key::from_string(name)
    }
}

struct Entry {
    key: Key,
    value: Value,
    alive: bool,
}

/// A lookup target: a known id (a bit test first), or another name and its hash.
#[derive(Clone, Copy)]
pub enum Probe<'a> {
    Known(u8),
    Other(&'a str, u64),
}

impl<'a> Probe<'a> {
    pub fn new(name: &'a str) -> Probe<'a> {
        match id_of(name) {
            Some(id) => Probe::Known(id),
            None => Probe::Other(name, hash_of(name)),
        }
    }
}

impl<'a> From<&'a str> for Probe<'a> {
    fn from(name: &'a str) -> Probe<'a> {
        Probe::new(name)
    }
}

/// The top level of an event, in Python dict order; see the module docstring.
pub struct Event {
    entries: Vec<Entry>,
    present: [u64; 4],
}

impl Event {
    pub fn with_capacity(capacity: usize) -> Event {
        Event {
            entries: Vec::with_capacity(capacity),
            present: [0; 4],
        }
    }

    fn has_id(&self, id: u8) -> bool {
        self.present[usize::from(id >> 6)] & (1 << (id & 63)) != 0
    }

    fn set_id(&mut self, id: u8, present: bool) {
        let bit = 1u64 << (id & 63);
        let word = &mut self.present[usize::from(id >> 6)];
        if present {
            *word |= bit;
        } else {
            *word &= !bit;
        }
    }

    fn position<'p>(&self, probe: impl Into<Probe<'p>>) -> Option<usize> {
        match probe.into() {
            Probe::Known(id) => {
                if !self.has_id(id) {
                    return None;
                }
                self.entries
                    .iter()
                    .position(|e| e.alive && matches!(e.key, Key::Known(k) if k == id))
            }
            Probe::Other(name, hash) => self.entries.iter().position(|e| {
                e.alive && matches!(&e.key, Key::Other(k, h) if *h == hash && k == name)
            }),
        }
    }

    pub fn get<'p>(&self, probe: impl Into<Probe<'p>>) -> Option<&Value> {
        self.position(probe).map(|at| &self.entries[at].value)
    }

    pub fn get_mut<'p>(&mut self, probe: impl Into<Probe<'p>>) -> Option<&mut Value> {
        self.position(probe).map(|at| &mut self.entries[at].value)
    }

    pub fn contains_key<'p>(&self, probe: impl Into<Probe<'p>>) -> bool {
        match probe.into() {
            Probe::Known(id) => self.has_id(id),
            other => self.position(other).is_some(),
        }
    }

    /// Set a field: in its place if present, else at the end (a dict's `event[key] = value`).
    pub fn insert(&mut self, key: impl Into<Key>, value: Value) {
        let key = key.into();
        let probe = match &key {
            Key::Known(id) => Probe::Known(*id),
            Key::Other(name, hash) => Probe::Other(name, *hash),
        };
        if let Some(at) = self.position(probe) {
            self.entries[at].value = value;
            return;
        }
        if let Key::Known(id) = key {
            self.set_id(id, true);
        }
        self.entries.push(Entry {
            key,
            value,
            alive: true,
        });
    }

    /// Append a field decoded from the line; `Err` if the name is already there (a duplicate key,
    /// which the chain declines).
    pub fn push_new(&mut self, key: Key) -> Result<&mut Value, ()> {
        match &key {
            Key::Known(id) => {
                if self.has_id(*id) {
                    return Err(());
                }
                self.set_id(*id, true);
            }
            Key::Other(name, hash) => {
                if self.position(Probe::Other(name, *hash)).is_some() {
                    return Err(());
                }
            }
        }
        self.entries.push(Entry {
            key,
            value: Value::Null,
            alive: true,
        });
        Ok(&mut self.entries.last_mut().expect("just pushed").value)
    }

    /// Delete a field (`del event[key]`): later fields keep their order.
    pub fn shift_remove<'p>(&mut self, probe: impl Into<Probe<'p>>) -> Option<Value> {
        let at = self.position(probe)?;
        let entry = &mut self.entries[at];
        entry.alive = false;
        if let Key::Known(id) = entry.key {
            self.set_id(id, false);
        }
        Some(std::mem::replace(&mut self.entries[at].value, Value::Null))
    }

    /// The live fields in order, with each name's id (`None` for a name outside the table).
    pub fn iter(&self) -> impl Iterator<Item = (&str, Option<u8>, &Value)> {
        self.entries.iter().filter(|e| e.alive).map(|e| {
            let id = match e.key {
                Key::Known(id) => Some(id),
                Key::Other(..) => None,
            };
            (e.key.as_str(), id, &e.value)
        })
    }

    pub fn len(&self) -> usize {
        self.entries.iter().filter(|e| e.alive).count()
    }
}
