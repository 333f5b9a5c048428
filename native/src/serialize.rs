//! `ingest.document.serialize` for the chain's events: `nest` (dotted keys become objects, internal
//! keys dropped) then orjson's text, written straight from the flat event. A conflict (a scalar where
//! a dotted name needs an object) is declined: Python tags it `_fieldconflict`.

use crate::event::{Event, K};
use crate::json::{write_str, write_value, Map, Value};
use crate::steps::{Decline, Maybe};

/// The keys that travel with an event and are never shipped (`core.keys.INTERNAL_KEYS`).
fn internal(id: Option<u8>) -> bool {
    matches!(id, Some(id) if id == K::AT_RAW as u8 || id == K::AT_SOURCE_ID as u8 || id == K::AT_TIMEZONE as u8)
}

/// The nested document, borrowing the flat event's keys and values: nesting moves no value and
/// allocates no key. Every node of the tree lives in one list (one allocation per line, not one
/// per object): an object's members are a chain of `next` links from its `first` to its `last`.
struct Tree<'a> {
    nodes: Vec<Node<'a>>,
}

struct Node<'a> {
    name: &'a str,
    kind: Kind<'a>,
    /// The next member of the same object, or `NONE`.
    next: u32,
}

enum Kind<'a> {
    Leaf(&'a Value),
    /// An object's members (`first == NONE`: none yet).
    Object {
        first: u32,
        last: u32,
    },
}

const NONE: u32 = u32::MAX;
/// The document's top level: the first node.
const ROOT: u32 = 0;

impl<'a> Tree<'a> {
    fn new(capacity: usize) -> Self {
        let mut nodes = Vec::with_capacity(capacity);
        nodes.push(Node {
            name: "",
            kind: Kind::Object {
                first: NONE,
                last: NONE,
            },
            next: NONE,
        });
        Tree { nodes }
    }

    fn kind(&mut self, at: u32) -> &mut Kind<'a> {
        &mut self.nodes[at as usize].kind
    }

    /// The member of object `parent` named `name`.
    fn find(&self, parent: u32, name: &str) -> Option<u32> {
        let Kind::Object { first, .. } = self.nodes[parent as usize].kind else {
            return None;
        };
        let mut at = first;
        while at != NONE {
            let node = &self.nodes[at as usize];
            if same_name(node.name, name) {
                return Some(at);
            }
            at = node.next;
        }
        None
    }

    /// Add a member at the end of object `parent`.
    fn append(&mut self, parent: u32, name: &'a str, kind: Kind<'a>) -> u32 {
        let at = self.nodes.len() as u32;
        self.nodes.push(Node {
            name,
            kind,
            next: NONE,
        });
        if let Kind::Object { first, last } = &mut self.nodes[parent as usize].kind {
            if *first == NONE {
                *first = at;
            } else {
                let previous = *last;
                self.nodes[previous as usize].next = at;
            }
            if let Kind::Object { last, .. } = &mut self.nodes[parent as usize].kind {
                *last = at;
            }
        }
        at
    }

    /// Whether node `at` is an object to descend into or merge with, making a decoded object
    /// (a leaf) into members first; `false` for a scalar.
    fn as_object(&mut self, at: u32) -> bool {
        match self.nodes[at as usize].kind {
            Kind::Object { .. } => true,
            Kind::Leaf(Value::Obj(map)) => {
                self.nodes[at as usize].kind = Kind::Object {
                    first: NONE,
                    last: NONE,
                };
                for (key, value) in map {
                    self.append(at, key.as_str(), Kind::Leaf(value));
                }
                true
            }
            Kind::Leaf(_) => false,
        }
    }

    fn write(&self, out: &mut Vec<u8>, at: u32) {
        match self.nodes[at as usize].kind {
            Kind::Leaf(value) => write_value(out, value),
            Kind::Object { first, .. } => {
                out.push(b'{');
                let mut member = first;
                while member != NONE {
                    let node = &self.nodes[member as usize];
                    if member != first {
                        out.push(b',');
                    }
                    write_str(out, node.name);
                    out.push(b':');
                    self.write(out, member);
                    member = node.next;
                }
                out.push(b'}');
            }
        }
    }

    /// `nest`'s placing of one flat field at `path`; a conflict (a scalar where an object is
    /// needed, an object met by a scalar) is declined.
    fn place(&mut self, path: &[&'a str], value: &'a Value) -> Maybe<()> {
        let (last, parents) = path.split_last().ok_or(Decline)?;
        let mut parent = ROOT;
        for part in parents {
            let child = match self.find(parent, part) {
                Some(child) => child,
                None => self.append(
                    parent,
                    part,
                    Kind::Object {
                        first: NONE,
                        last: NONE,
                    },
                ),
            };
            if matches!(self.kind(child), Kind::Leaf(Value::Null)) {
                *self.kind(child) = Kind::Object {
                    first: NONE,
                    last: NONE,
                };
            }
            if !self.as_object(child) {
                return Err(Decline);
            }
            parent = child;
        }
        match self.find(parent, last) {
            None => {
                self.append(parent, last, Kind::Leaf(value));
            }
            Some(existing) => match self.kind(existing) {
                Kind::Leaf(Value::Null) => *self.kind(existing) = Kind::Leaf(value),
                Kind::Object { .. } | Kind::Leaf(Value::Obj(_)) => match value {
                    Value::Obj(other) => {
                        self.as_object(existing);
                        self.merge(existing, other);
                    }
                    _ => return Err(Decline),
                },
                Kind::Leaf(_) => *self.kind(existing) = Kind::Leaf(value),
            },
        }
        Ok(())
    }

    fn merge(&mut self, into: u32, other: &'a Map) {
        for (key, value) in other {
            let Some(existing) = self.find(into, key) else {
                self.append(into, key.as_str(), Kind::Leaf(value));
                continue;
            };
            if let Value::Obj(more) = value {
                if self.as_object(existing) {
                    self.merge(existing, more);
                    continue;
                }
            }
            *self.kind(existing) = Kind::Leaf(value);
        }
    }
}

/// Name equality, length and last byte first: most names in a scan differ there, without a call
/// to memcmp.
fn same_name(name: &str, key: &str) -> bool {
    name.len() == key.len() && name.as_bytes().last() == key.as_bytes().last() && name == key
}

/// A name of a shape: a known name's id, or another name's text.
enum ShapeName {
    Known(u8),
    Other(Box<str>),
}

/// The document of every event of one shape (its names, in order) whose names meet only in the
/// objects their dots make (no name is a leaf where another name's path goes on, the usual case):
/// then nesting depends on the names alone, so the document is fixed text (braces, escaped names)
/// around the values, in `literals`, each `steps` entry giving where a value goes in the text and
/// which value (the event's order). Worked out once per shape (`PLANS`), it replaces the tree of
/// `write_nested` and the escaping of every name for the events of known shapes.
struct Plan {
    names: Vec<ShapeName>,
    literals: Vec<u8>,
    steps: Vec<(usize, usize)>,
}

/// A member of a planned document: an object's members, or the index of a value.
struct PlanNode<'a> {
    name: &'a str,
    members: Vec<usize>,
    value: Option<usize>,
}

impl Plan {
    /// The plan for `event`'s shape, or None when its names meet elsewhere than in a dotted
    /// name's objects, or have more parts than the tree takes (`write_nested` decides those).
    fn of(event: &Event) -> Option<Plan> {
        let mut nodes = vec![PlanNode {
            name: "",
            members: Vec::new(),
            value: None,
        }];
        let mut names = Vec::with_capacity(event.len());
        for (index, (key, id, _)) in event.iter().enumerate() {
            names.push(match id {
                Some(id) => ShapeName::Known(id),
                None => ShapeName::Other(key.into()),
            });
            if internal(id) {
                continue;
            }
            let path: Vec<&str> = if key == "@timestamp" {
                vec![key]
            } else {
                key.split('.').collect()
            };
            if path.len() > 16 {
                return None;
            }
            let (last, parents) = path.split_last()?;
            let mut parent = 0;
            for part in parents {
                let found = nodes[parent]
                    .members
                    .iter()
                    .copied()
                    .find(|&at| nodes[at].name == *part);
                parent = match found {
                    Some(at) if nodes[at].value.is_none() => at,
                    Some(_) => return None,
                    None => {
                        nodes.push(PlanNode {
                            name: part,
                            members: Vec::new(),
                            value: None,
                        });
                        let at = nodes.len() - 1;
                        nodes[parent].members.push(at);
                        at
                    }
                };
            }
            if nodes[parent]
                .members
                .iter()
                .any(|&at| nodes[at].name == *last)
            {
                return None;
            }
            nodes.push(PlanNode {
                name: last,
                members: Vec::new(),
                value: Some(index),
            });
            let at = nodes.len() - 1;
            nodes[parent].members.push(at);
        }
        let mut plan = Plan {
            names,
            literals: Vec::new(),
            steps: Vec::new(),
        };
        plan.emit(&nodes, 0);
        Some(plan)
    }

    fn emit(&mut self, nodes: &[PlanNode], at: usize) {
        self.literals.push(b'{');
        for (n, &member) in nodes[at].members.iter().enumerate() {
            if n > 0 {
                self.literals.push(b',');
            }
            write_str(&mut self.literals, nodes[member].name);
            self.literals.push(b':');
            match nodes[member].value {
                Some(index) => self.steps.push((self.literals.len(), index)),
                None => self.emit(nodes, member),
            }
        }
        self.literals.push(b'}');
    }

    /// Whether `event` has exactly this plan's names (a hash may collide).
    fn fits(&self, event: &Event) -> bool {
        let mut names = self.names.iter();
        event.iter().all(|(key, id, _)| match (names.next(), id) {
            (Some(ShapeName::Known(a)), Some(b)) => *a == b,
            (Some(ShapeName::Other(a)), None) => **a == *key,
            _ => false,
        }) && names.next().is_none()
    }

    fn write(&self, out: &mut Vec<u8>, event: &Event) {
        let mut values: Vec<&Value> = Vec::with_capacity(self.names.len());
        values.extend(event.iter().map(|(_, _, value)| value));
        let mut from = 0;
        for &(to, index) in &self.steps {
            out.extend_from_slice(&self.literals[from..to]);
            write_value(out, values[index]);
            from = to;
        }
        out.extend_from_slice(&self.literals[from..]);
    }
}

/// At most this many shapes are remembered per thread; then the memory starts over.
const MAX_PLANS: usize = 4096;

type Plans = rustc_hash::FxHashMap<(u64, u64), Option<std::rc::Rc<Plan>>>;

thread_local! {
    /// Plans by chain and shape hash (ids are a chain's); None for a shape whose names meet (the
    /// tree decides each such event).
    static PLANS: std::cell::RefCell<Plans> = std::cell::RefCell::new(Plans::default());
}

/// The event's document by its shape's plan; false (nothing written) when the shape has none.
fn write_planned(out: &mut Vec<u8>, event: &Event, chain: u64) -> bool {
    let hash = (chain, event.shape_hash());
    let plan = PLANS.with(|plans| {
        let mut plans = plans.borrow_mut();
        if let Some(known) = plans.get(&hash) {
            return known.clone();
        }
        if plans.len() >= MAX_PLANS {
            plans.clear();
        }
        let plan = Plan::of(event).map(std::rc::Rc::new);
        plans.insert(hash, plan.clone());
        plan
    });
    match plan {
        Some(plan) if plan.fits(event) => {
            plan.write(out, event);
            true
        }
        _ => false,
    }
}

#[cfg(test)]
thread_local! {
    /// Tests compare the plans' documents with the tree's: set, every document is written by the tree.
    pub static TREE_ONLY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// `ingest.document.nest` then orjson, for events without a conflict (a conflict is declined);
/// `chain` names the chain whose ids the event's names are.
pub fn write_nested(out: &mut Vec<u8>, event: &Event, chain: u64) -> Maybe<()> {
    #[cfg(test)]
    if TREE_ONLY.with(std::cell::Cell::get) {
        return write_tree(out, event);
    }
    if write_planned(out, event, chain) {
        return Ok(());
    }
    write_tree(out, event)
}

/// `write_nested` through a tree of the event's names: for any shape, the plan's or another.
fn write_tree(out: &mut Vec<u8>, event: &Event) -> Maybe<()> {
    let mut tree = Tree::new(event.len() * 2 + 8);
    // The first parts of the dotted names: an undotted name that is none of them can meet no other
    // name at the top (the event's names are unique), so it is appended without a search.
    let mut heads: Vec<&str> = Vec::with_capacity(16);
    for (key, id, _) in event.iter() {
        if key != "@timestamp" && !internal(id) {
            if let Some(dot) = key.bytes().position(|b| b == b'.') {
                heads.push(&key[..dot]);
            }
        }
    }
    for (key, id, value) in event.iter() {
        if internal(id) {
            continue;
        }
        if key == "@timestamp" || !key.as_bytes().contains(&b'.') {
            if heads.iter().any(|head| same_name(head, key)) {
                tree.place(&[key], value)?;
            } else {
                tree.append(ROOT, key, Kind::Leaf(value));
            }
        } else {
            let mut parts = [""; 16];
            let mut count = 0;
            let mut start = 0;
            for (at, byte) in key.bytes().enumerate() {
                if byte == b'.' {
                    *parts.get_mut(count).ok_or(Decline)? = &key[start..at];
                    count += 1;
                    start = at + 1;
                }
            }
            *parts.get_mut(count).ok_or(Decline)? = &key[start..];
            count += 1;
            tree.place(&parts[..count], value)?;
        }
    }
    tree.write(out, ROOT);
    Ok(())
}
