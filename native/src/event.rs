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

/// Gives each name an id (`K::LOG__LEVEL as u8` for `"log.level"`: `@` is `AT_`, a dot `__`) and
/// lists the names in id order.
macro_rules! known {
    ($($id:ident = $name:literal,)*) => {
        /// A field name the chain knows, as a constant: no lookup at the call site.
        #[allow(non_camel_case_types, clippy::upper_case_acronyms, dead_code)]
        #[derive(Clone, Copy)]
        #[repr(u8)]
        pub enum K {
            $($id,)*
        }

        const KNOWN: &[&str] = &[$($name,)*];
    };
}

// The field names the chain reads or writes at the top level of an event (fewer than 255).
known! {
    // decode and the source's fields
    RECORD = "record",
    TEXT = "text",
    AT_RAW = "@raw",
    AT_SOURCE_ID = "@source_id",
    AT_TIMEZONE = "@timezone",
    LOG__FILE__PATH = "log.file.path",
    LOG__OFFSET = "log.offset",
    // parse_timestamp
    TIMESTAMP = "timestamp",
    AT_TIMESTAMP = "@timestamp",
    TIME = "time",
    TS = "ts",
    ASCTIME = "asctime",
    // parse_level, parse_message
    LEVEL = "level",
    SEVERITY = "severity",
    LOG__LEVEL = "log.level",
    LVL = "lvl",
    LEVELNAME = "levelname",
    MESSAGE = "message",
    MSG = "msg",
    EVENT = "event",
    // tag_error
    ERROR = "error",
    ERR = "err",
    PANIC = "panic",
    ERROR_MESSAGE = "error_message",
    ERRORMESSAGE = "errorMessage",
    ERROR_TYPE = "error_type",
    ERRORTYPE = "errorType",
    EXCEPTION_TYPE = "exception_type",
    EXC_TYPE = "exc_type",
    STACK_TRACE = "stack_trace",
    STACK = "stack",
    STACKTRACE = "stacktrace",
    EXCEPTION = "exception",
    EXC_INFO = "exc_info",
    ERRORVERBOSE = "errorVerbose",
    ERROR__MESSAGE = "error.message",
    ERROR__TYPE = "error.type",
    ERROR__STACK_TRACE = "error.stack_trace",
    // tag_http
    METHOD = "method",
    REQ = "req",
    REQUEST = "request",
    HTTP = "http",
    REQ__METHOD = "req.method",
    REQUEST__METHOD = "request.method",
    HTTP__REQUEST__METHOD = "http.request.method",
    URL = "url",
    PATH = "path",
    REQ__URL = "req.url",
    REQUEST__URL = "request.url",
    REQ__PATH = "req.path",
    URL__ORIGINAL = "url.original",
    URL__PATH = "url.path",
    URL__QUERY = "url.query",
    STATUS = "status",
    STATUSCODE = "statusCode",
    STATUS_CODE = "status_code",
    RES = "res",
    RESPONSE = "response",
    RES__STATUSCODE = "res.statusCode",
    RES__STATUS = "res.status",
    RESPONSE__STATUS = "response.status",
    HTTP__RESPONSE__STATUS_CODE = "http.response.status_code",
    RESPONSETIME = "responseTime",
    RESPONSE_TIME = "response_time",
    DURATION_MS = "duration_ms",
    LATENCY = "latency",
    ELAPSED_MS = "elapsed_ms",
    DURATION = "duration",
    EVENT__DURATION = "event.duration",
    // map_common_fields
    USER__ID = "user.id",
    USERID = "userId",
    USER_ID = "user_id",
    CLIENT__IP = "client.ip",
    IP = "ip",
    REMOTE_ADDR = "remote_addr",
    CLIENT_IP = "client_ip",
    REQ__REMOTEADDRESS = "req.remoteAddress",
    CLIENT__PORT = "client.port",
    CLIENT_PORT = "client_port",
    REMOTE_PORT = "remote_port",
    REQ__REMOTEPORT = "req.remotePort",
    USER_AGENT__ORIGINAL = "user_agent.original",
    USERAGENT = "userAgent",
    USER_AGENT = "user_agent",
    UA = "ua",
    REQ__HEADERS__USER_AGENT = "req.headers.user-agent",
    TRACE__ID = "trace.id",
    TRACE_ID = "trace_id",
    TRACEID = "traceId",
    SPAN__ID = "span.id",
    SPAN_ID = "span_id",
    SPANID = "spanId",
    SERVICE__NAME = "service.name",
    SERVICE = "service",
    SERVICE_NAME = "service_name",
    APP = "app",
    // fit_ecs_objects
    USER = "user",
    USER__NAME = "user.name",
    HOST = "host",
    HOST__NAME = "host.name",
    TRACE = "trace",
    SPAN = "span",
    CLIENT = "client",
    CLIENT__ADDRESS = "client.address",
    LOG = "log",
    LOG__ORIGINAL = "log.original",
    EVENT__ORIGINAL = "event.original",
    HTTP__VALUE = "http.value",
    // template_endpoint, classify_status, add_metadata, assign_id
    ENDPOINT = "endpoint",
    HTTP__RESPONSE__STATUS_CLASS = "http.response.status_class",
    TAGS = "tags",
    EVENT__INGESTED = "event.ingested",
    EVENT__ID = "event.id",
}

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

/// Every name the chain knows, in id order.
pub fn known_names() -> &'static [&'static str] {
    KNOWN
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

impl K {
    pub fn name(self) -> &'static str {
        known_name(self as u8)
    }
}

impl From<K> for Key {
    fn from(name: K) -> Key {
        Key::Known(name as u8)
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

impl From<K> for Probe<'static> {
    fn from(name: K) -> Probe<'static> {
        Probe::Known(name as u8)
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
    present: [u64; 2],
    /// For each known name present, the index of its live entry.
    slot_of: [u32; 128],
}

const _: () = assert!(KNOWN.len() <= 128, "a bit and a slot per known name");

impl Event {
    pub fn with_capacity(capacity: usize) -> Event {
        Event {
            entries: Vec::with_capacity(capacity),
            present: [0; 2],
            slot_of: [0; 128],
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
            Probe::Known(id) => self
                .has_id(id)
                .then(|| self.slot_of[usize::from(id)] as usize),
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
        self.push(key, value);
    }

    fn push(&mut self, key: Key, value: Value) {
        if let Key::Known(id) = key {
            self.set_id(id, true);
            self.slot_of[usize::from(id)] = u32::try_from(self.entries.len()).unwrap_or(u32::MAX);
        }
        self.entries.push(Entry {
            key,
            value,
            alive: true,
        });
    }

    /// Append a field decoded from the line; `Err` if a known name is already there (a duplicate
    /// key, which the chain declines). Other names are checked once the line is read, by
    /// `has_duplicate_names`.
    pub fn push_new(&mut self, key: Key, value: Value) -> Result<(), ()> {
        if let Key::Known(id) = key {
            if self.has_id(id) {
                return Err(());
            }
        }
        self.push(key, value);
        Ok(())
    }

    /// Whether two of the names outside the table are the same (pairwise for a few, with a set
    /// for many, so a line with thousands of names costs no quadratic time).
    pub fn has_duplicate_names(&self) -> bool {
        let others: Vec<(&str, u64)> = self
            .entries
            .iter()
            .filter_map(|e| match &e.key {
                Key::Other(name, hash) if e.alive => Some((name.as_str(), *hash)),
                _ => None,
            })
            .collect();
        if others.len() <= 16 {
            return (1..others.len()).any(|i| others[..i].contains(&others[i]));
        }
        let mut seen = rustc_hash::FxHashSet::default();
        !others.iter().all(|other| seen.insert(*other))
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

    /// The live fields in order, their values writable in place (no field added or removed).
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&str, Option<u8>, &mut Value)> {
        self.entries.iter_mut().filter(|e| e.alive).map(|e| {
            let id = match e.key {
                Key::Known(id) => Some(id),
                Key::Other(..) => None,
            };
            (e.key.as_str(), id, &mut e.value)
        })
    }

    pub fn len(&self) -> usize {
        self.entries.iter().filter(|e| e.alive).count()
    }

    /// A hash of the live names in order, from the ids and hashes the entries already hold: the
    /// lines of one logger have a handful of shapes, and what depends on the names alone can be
    /// worked out once per shape.
    pub fn shape_hash(&self) -> u64 {
        let mut hasher = FxHasher::default();
        for entry in self.entries.iter().filter(|e| e.alive) {
            match entry.key {
                Key::Known(id) => hasher.write_u64(u64::from(id)),
                Key::Other(_, hash) => hasher.write_u64(hash | 1 << 63),
            }
        }
        hasher.finish()
    }
}
