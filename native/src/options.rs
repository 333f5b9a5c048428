//! A step's options as its Python twin's config dumps them (`model_dump(mode="json")`), read by name.
//!
//! Every option a step reads is taken out of the map; what is left once the step is built is an
//! option the twin does not know, and the step is refused (`Options::finish`): a new option on the
//! Python side can never be ignored by the Rust side without a test failing.

use crate::json::{Map, Value};

/// Why a step cannot be compiled: its Python twin then runs it (and what follows it).
#[derive(Debug, Clone)]
pub struct Refusal(pub String);

impl Refusal {
    pub fn new(reason: impl Into<String>) -> Self {
        Refusal(reason.into())
    }
}

pub type Built<T> = Result<T, Refusal>;

pub struct Options {
    step: String,
    map: Map,
}

impl Options {
    pub fn new(step: &str, value: Value) -> Built<Options> {
        match value {
            Value::Obj(map) => Ok(Options {
                step: step.to_string(),
                map,
            }),
            _ => Err(Refusal::new(format!("{step}: options are not a mapping"))),
        }
    }

    fn take(&mut self, name: &str) -> Built<Value> {
        self.map
            .shift_remove(name)
            .ok_or_else(|| Refusal::new(format!("{}: option {name} is missing", self.step)))
    }

    fn wrong(&self, name: &str, what: &str) -> Refusal {
        Refusal::new(format!("{}: option {name} is not {what}", self.step))
    }

    pub fn string_list(&mut self, name: &str) -> Built<Vec<String>> {
        match self.take(name)? {
            Value::List(items) => items
                .into_iter()
                .map(|item| match item {
                    Value::Str(text) => Ok(text),
                    _ => Err(self.wrong(name, "a list of strings")),
                })
                .collect(),
            _ => Err(self.wrong(name, "a list of strings")),
        }
    }

    pub fn string(&mut self, name: &str) -> Built<String> {
        match self.take(name)? {
            Value::Str(text) => Ok(text),
            _ => Err(self.wrong(name, "a string")),
        }
    }

    pub fn optional_string(&mut self, name: &str) -> Built<Option<String>> {
        match self.take(name)? {
            Value::Str(text) => Ok(Some(text)),
            Value::Null => Ok(None),
            _ => Err(self.wrong(name, "a string or null")),
        }
    }

    pub fn boolean(&mut self, name: &str) -> Built<bool> {
        match self.take(name)? {
            Value::Bool(flag) => Ok(flag),
            _ => Err(self.wrong(name, "a boolean")),
        }
    }

    pub fn number(&mut self, name: &str) -> Built<f64> {
        match self.take(name)? {
            Value::Int(n) => Ok(n as f64),
            Value::Float(f) => Ok(f),
            _ => Err(self.wrong(name, "a number")),
        }
    }

    /// A mapping of strings to strings, in its order.
    pub fn string_map(&mut self, name: &str) -> Built<Vec<(String, String)>> {
        match self.take(name)? {
            Value::Obj(map) => map
                .iter()
                .map(|(key, value)| match value {
                    Value::Str(text) => Ok((key.clone(), text.clone())),
                    _ => Err(self.wrong(name, "a mapping of strings")),
                })
                .collect(),
            _ => Err(self.wrong(name, "a mapping")),
        }
    }

    /// Any option's value as it is, for the steps that read nested options themselves.
    pub fn raw(&mut self, name: &str) -> Built<Value> {
        self.take(name)
    }

    /// Refuses the step when options are left that it did not read.
    pub fn finish(self) -> Built<()> {
        match self.map.iter().next() {
            None => Ok(()),
            Some((name, _)) => Err(Refusal::new(format!(
                "{}: option {name} is not known to the compiled step",
                self.step
            ))),
        }
    }
}
