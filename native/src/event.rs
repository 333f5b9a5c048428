//! The event's top level as the chain needs it: a Python dict's order semantics (overwrite keeps the
//! place, delete then insert goes to the end) with cheap answers to the chain's questions.
//!
//! The chain asks many times per line whether a field it knows is present (each step tries each
//! alias), and almost always it is not. Every name a chain asks for has a small number, an id: the
//! static names (`K`, generated into `names.rs` from the Python declarations) first, then the names
//! this chain's options bring (alias lists, homes), numbered when the chain is built (`Names`). The
//! event keeps a bit per id that is present: a miss costs one bit test, a hit a table read, and no
//! string is hashed or compared. A delete only marks the entry dead (no shifting of the later
//! entries); dead entries are skipped when reading or writing. Names outside the table (the line's
//! own fields) are found by a hash kept per entry.

use crate::json::Value;
use rustc_hash::{FxHashMap, FxHasher};
use std::hash::Hasher;

/// Gives each static name an id (`K::LOG__LEVEL as u8` for `"log.level"`: `@` is `AT_`, a dot `__`)
/// and lists the names in id order.
macro_rules! known {
    ($($id:ident = $name:literal,)*) => {
        /// A field name every chain knows, as a constant: no lookup at the call site.
        #[allow(non_camel_case_types, clippy::upper_case_acronyms, dead_code)]
        #[derive(Clone, Copy, PartialEq, Eq, Debug)]
        #[repr(u8)]
        pub enum K {
            $($id,)*
        }

        pub const STATIC_NAMES: &[&str] = &[$($name,)*];
    };
}

include!("names.rs");

/// At most this many names have an id; more are found by their hash like a line's own names.
pub const MAX_IDS: usize = 255;

pub fn hash_of(name: &str) -> u64 {
    let mut hasher = FxHasher::default();
    hasher.write(name.as_bytes());
    hasher.finish()
}

/// The names a chain asks for, each with its id: the static ones, then those its options bring.
pub struct Names {
    ids: FxHashMap<Box<str>, u8>,
    list: Vec<Box<str>>,
}

impl Default for Names {
    fn default() -> Self {
        let mut names = Names {
            ids: FxHashMap::default(),
            list: Vec::new(),
        };
        for name in STATIC_NAMES {
            names.add(name);
        }
        names
    }
}

impl Names {
    /// The id of `name`, numbering it if it is new and there is room.
    pub fn add(&mut self, name: &str) -> Option<u8> {
        if let Some(id) = self.ids.get(name) {
            return Some(*id);
        }
        if self.list.len() >= MAX_IDS {
            return None;
        }
        let id = self.list.len() as u8;
        self.list.push(name.into());
        self.ids.insert(name.into(), id);
        Some(id)
    }

    pub fn id_of(&self, name: &str) -> Option<u8> {
        self.ids.get(name).copied()
    }

    pub fn name(&self, id: u8) -> &str {
        &self.list[usize::from(id)]
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// A field name as an event key: its id when it has one, else its text and hash.
    pub fn key(&self, name: &str) -> Key {
        match self.id_of(name) {
            Some(id) => Key::Known(id),
            None => Key::Other(name.to_owned(), hash_of(name)),
        }
    }

    /// `key` of an owned name, without copying it when it has no id.
    pub fn key_owned(&self, name: String) -> Key {
        match self.id_of(&name) {
            Some(id) => Key::Known(id),
            None => {
                let hash = hash_of(&name);
                Key::Other(name, hash)
            }
        }
    }

    /// What to look a name up by, worked out once (for the names of a chain's options).
    pub fn name_ref(&self, name: &str) -> NameRef {
        NameRef {
            text: name.into(),
            id: self.id_of(name),
            hash: hash_of(name),
        }
    }
}

/// A field name a step looks up, with its id (if any) and hash worked out when the chain is built.
#[derive(Clone, Debug)]
pub struct NameRef {
    pub text: Box<str>,
    id: Option<u8>,
    hash: u64,
}

impl NameRef {
    pub fn probe(&self) -> Probe<'_> {
        match self.id {
            Some(id) => Probe::Known(id),
            None => Probe::Other(&self.text, self.hash),
        }
    }

    pub fn key(&self) -> Key {
        match self.id {
            Some(id) => Key::Known(id),
            None => Key::Other(self.text.to_string(), self.hash),
        }
    }
}

/// A field name: its id when the chain knows it, else the text and its hash.
pub enum Key {
    Known(u8),
    Other(String, u64),
}

impl From<K> for Key {
    fn from(name: K) -> Key {
        Key::Known(name as u8)
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

impl From<K> for Probe<'static> {
    fn from(name: K) -> Probe<'static> {
        Probe::Known(name as u8)
    }
}

impl<'a> From<&'a NameRef> for Probe<'a> {
    fn from(name: &'a NameRef) -> Probe<'a> {
        name.probe()
    }
}

/// The top level of an event, in Python dict order; see the module docstring.
pub struct Event<'n> {
    names: &'n Names,
    entries: Vec<Entry>,
    present: [u64; 4],
    /// For each known name present, the index of its live entry (read only where its bit is set).
    slot_of: [u32; 256],
}

impl<'n> Event<'n> {
    pub fn new(names: &'n Names, capacity: usize) -> Event<'n> {
        Event {
            names,
            entries: Vec::with_capacity(capacity),
            present: [0; 4],
            slot_of: [0; 256],
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

    fn key_text<'a>(names: &'a Names, key: &'a Key) -> &'a str {
        match key {
            Key::Known(id) => names.name(*id),
            Key::Other(name, _) => name,
        }
    }

    /// The live fields in order, with each name's id (`None` for a name outside the table).
    pub fn iter(&self) -> impl Iterator<Item = (&str, Option<u8>, &Value)> {
        let names = self.names;
        self.entries.iter().filter(|e| e.alive).map(move |e| {
            let id = match e.key {
                Key::Known(id) => Some(id),
                Key::Other(..) => None,
            };
            (Self::key_text(names, &e.key), id, &e.value)
        })
    }

    /// The live fields in order, their values writable in place (no field added or removed).
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&str, Option<u8>, &mut Value)> {
        let names = self.names;
        self.entries.iter_mut().filter(|e| e.alive).map(move |e| {
            let id = match e.key {
                Key::Known(id) => Some(id),
                Key::Other(..) => None,
            };
            (Self::key_text(names, &e.key), id, &mut e.value)
        })
    }

    pub fn len(&self) -> usize {
        self.entries.iter().filter(|e| e.alive).count()
    }

    /// A hash of the live names in order, from the ids and hashes the entries already hold: the
    /// lines of one logger have a handful of shapes, and what depends on the names alone can be
    /// worked out once per shape (of one chain: ids are the chain's).
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
