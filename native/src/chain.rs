//! The processor chain compiled from its configuration: `decode_json`, then each configured step's
//! twin (`steps/`), in the configured order, then the document (`serialize`). A chain that covers
//! only a prefix of the configured processors hands each line's event, as it is after that prefix,
//! to the Python processors that follow (`Processed::Event`).
//!
//! A line a step cannot reproduce exactly is declined (`Declined`, naming the step): the whole line
//! goes through the Python chain instead.

use crate::event::{Event, Key, Names, K};
use crate::json::Value;
use crate::options::{Built, Options, Refusal};
use crate::serialize::write_nested;
use crate::steps::decode_json::DecodeJson;
use crate::steps::time::Zone;
use crate::steps::{self, Build, Line, PathSettings, Step, Translated};
use rustc_hash::FxHashMap;
use std::sync::atomic::{AtomicU64, Ordering};

static NEXT_CHAIN: AtomicU64 = AtomicU64::new(1);

/// What the batcher and the sinks read of a processed line, besides its document.
#[derive(Debug)]
pub struct Stub {
    pub event_id: Option<String>,
    pub timestamp: Option<String>,
    pub tags: Vec<String>,
    /// The values `redact` masked: what the Python `Redact` would add to its count.
    pub redactions: usize,
}

/// One line, processed.
pub enum Processed<'n> {
    /// Its document was appended to the caller's buffer.
    Document(Stub),
    /// The event as the compiled prefix left it, for the Python processors after it; and what the
    /// compiled steps masked.
    Event(Box<Event<'n>>, usize),
}

/// The name of the step that declined a line (`serialize` for the document), borrowed from the chain.
pub type Declined<'s> = &'s str;

pub struct Chain {
    uid: u64,
    names: Names,
    decode: DecodeJson,
    steps: Vec<(Box<str>, Box<dyn Step>)>,
    /// Whether the chain covers every configured processor: then it writes documents.
    serialize: bool,
    /// The duration buckets (ns) of the metrics made from events, when the chain counts them
    /// (`facts.rs`): for the lines whose documents it writes.
    fact_bounds: Option<Vec<i64>>,
}

impl Chain {
    /// The chain of `steps` (`(name, options)` in order, `decode_json` first); `serialize`: the
    /// chain is the whole configured one and writes documents. A step without a twin that takes its
    /// options is a `Refusal` naming it.
    pub fn new(
        steps: Vec<(String, Value)>,
        zones: &FxHashMap<String, Zone>,
        regexes: &FxHashMap<String, Option<Translated>>,
        serialize: bool,
    ) -> Built<Chain> {
        let mut steps = steps.into_iter();
        let decode = match steps.next() {
            Some((name, options)) if name == "decode_json" => {
                let mut options = Options::new(&name, options)?;
                let decode = DecodeJson::build(&mut options)?;
                options.finish()?;
                decode
            }
            _ => return Err(Refusal::new("the compiled chain starts with decode_json")),
        };
        let mut names = Names::default();
        let mut built = Vec::new();
        {
            let mut b = Build {
                names: &mut names,
                zones,
                regexes,
            };
            for (name, options) in steps {
                let step = steps::build(&name, options, &mut b).map_err(|refusal| {
                    if refusal.0.starts_with(&name) {
                        refusal
                    } else {
                        Refusal::new(format!("{name}: {}", refusal.0))
                    }
                })?;
                built.push((name.into_boxed_str(), step));
            }
        }
        for (_, step) in &mut built {
            step.prepare(&names);
        }
        Ok(Chain {
            uid: NEXT_CHAIN.fetch_add(1, Ordering::Relaxed),
            names,
            decode,
            steps: built,
            serialize,
            fact_bounds: None,
        })
    }

    pub fn names(&self) -> &Names {
        &self.names
    }

    /// The chain that also counts the fact of each line whose document it writes, in its thread's tally.
    pub fn counting_facts(mut self, bounds: Vec<i64>) -> Self {
        self.fact_bounds = Some(bounds);
        self
    }

    /// One line through the chain: its document appended to `doc` (left as it was otherwise), or
    /// its event for the Python steps after the chain, or the step that declined it.
    pub fn process<'s>(
        &'s self,
        raw: &[u8],
        source: impl IntoIterator<Item = (Key, Value)>,
        line: &mut Line,
        doc: &mut Vec<u8>,
    ) -> Result<Processed<'s>, Declined<'s>> {
        match &self.fact_bounds {
            None => self.process_then(raw, source, line, doc, |_| ()),
            Some(bounds) => self.process_then(raw, source, line, doc, |event| {
                crate::facts::count(event, bounds)
            }),
        }
    }

    /// `process`, handing the event of a written document to `written`. One copy of the chain's code
    /// per `written`: a chain that counts no facts runs the code it ran before the metrics made from
    /// events (with the call in one shared copy it ran 3% slower, `bench.pipeline` b0, counting nothing).
    #[inline(never)]
    fn process_then<'s>(
        &'s self,
        raw: &[u8],
        source: impl IntoIterator<Item = (Key, Value)>,
        line: &mut Line,
        doc: &mut Vec<u8>,
        written: impl FnOnce(&Event),
    ) -> Result<Processed<'s>, Declined<'s>> {
        let mut event = self
            .decode
            .decode(&self.names, raw, source)
            .map_err(|_| "decode_json")?;
        for (name, step) in &self.steps {
            step.apply(&mut event, line).map_err(|_| &**name)?;
        }
        if !self.serialize {
            return Ok(Processed::Event(Box::new(event), line.redactions));
        }
        let stub = stub_of(&event, line.redactions).ok_or("serialize")?;
        let start = doc.len();
        if write_nested(doc, &event, self.uid).is_err() {
            doc.truncate(start);
            return Err("serialize");
        }
        written(&event);
        Ok(Processed::Document(stub))
    }

    /// `process` for a line of a file: the source fields `@source_id`, `log.file.path`,
    /// `log.offset` (and the shipper's `@shipper_host`, for an indexer's block).
    #[allow(clippy::too_many_arguments)]
    pub fn process_file_line<'s>(
        &'s self,
        raw: &[u8],
        source_id: &str,
        path: &str,
        offset: i64,
        host: Option<&str>,
        line: &mut Line,
        doc: &mut Vec<u8>,
    ) -> Result<Processed<'s>, Declined<'s>> {
        let mut source = Vec::with_capacity(4);
        source.push((Key::from(K::AT_SOURCE_ID), Value::Str(source_id.to_owned())));
        source.push((Key::from(K::LOG__FILE__PATH), Value::Str(path.to_owned())));
        source.push((Key::from(K::LOG__OFFSET), Value::Int(offset)));
        if let Some(host) = host {
            source.push((Key::from(K::AT_SHIPPER_HOST), Value::Str(host.to_owned())));
        }
        self.process(raw, source, line, doc)
    }
}

/// What the sinks read of the event: `@timestamp` and `event.id` (when strings), its string tags;
/// None when one of the first two is there but not a string (the Python chain's stub then).
fn stub_of(event: &Event, redactions: usize) -> Option<Stub> {
    let text = |key: K| -> Option<Option<String>> {
        match event.get(key) {
            None => Some(None),
            Some(Value::Str(text)) => Some(Some(text.clone())),
            Some(_) => None,
        }
    };
    let tags = match event.get(K::TAGS) {
        Some(Value::Str(tag)) => vec![tag.clone()],
        Some(Value::List(items)) => items
            .iter()
            .filter_map(|item| match item {
                Value::Str(s) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    Some(Stub {
        event_id: text(K::EVENT__ID)?,
        timestamp: text(K::AT_TIMESTAMP)?,
        tags,
        redactions,
    })
}

/// The line context of a block: its `event.ingested` and the settings of its file.
pub fn line<'a>(ingested: &'a str, settings: Option<&'a PathSettings>) -> Line<'a> {
    Line {
        ingested,
        path_settings: settings,
        redactions: 0,
    }
}

/// What the unit tests read of one processed line.
#[cfg(test)]
pub struct Output {
    pub doc: Vec<u8>,
    pub event_id: String,
    pub timestamp: String,
    pub tags: Vec<String>,
    pub redactions: usize,
}

#[cfg(test)]
impl Output {
    fn of(processed: Processed, doc: Vec<u8>) -> Output {
        match processed {
            Processed::Document(stub) => Output {
                doc,
                event_id: stub.event_id.unwrap_or_default(),
                timestamp: stub.timestamp.unwrap_or_default(),
                tags: stub.tags,
                redactions: stub.redactions,
            },
            Processed::Event(..) => panic!("the default chain writes documents"),
        }
    }
}

#[cfg(test)]
impl Chain {
    /// The default pipeline with its default options (`default_chain.json`, generated from the
    /// Python declarations by `python -m logferry.native_tables`), host name `host-a`.
    pub fn default_for_tests() -> Chain {
        let mut steps = None;
        crate::json::Reader::new(include_str!("default_chain.json").as_bytes())
            .members(|name, value| {
                if name == "steps" {
                    steps = Some(value);
                }
                Ok(())
            })
            .expect("default_chain.json is JSON");
        let Some(Value::List(steps)) = steps else {
            panic!("default_chain.json has steps");
        };
        let steps = steps
            .into_iter()
            .map(|step| match step {
                Value::List(mut pair) if pair.len() == 2 => {
                    let options = pair.pop().expect("options");
                    let Some(Value::Str(name)) = pair.pop() else {
                        panic!("a step's name");
                    };
                    (name, options)
                }
                _ => panic!("a step is [name, options]"),
            })
            .collect();
        Chain::new(steps, &FxHashMap::default(), &FxHashMap::default(), true)
            .expect("the default chain")
    }

    /// One line of a file through the chain, its document on its own.
    pub fn run_file_line(
        &self,
        raw: &[u8],
        source_id: &str,
        path: &str,
        offset: i64,
        ingested: &str,
    ) -> Result<Output, Declined<'_>> {
        let mut line = line(ingested, None);
        let mut doc = Vec::new();
        let processed =
            self.process_file_line(raw, source_id, path, offset, None, &mut line, &mut doc)?;
        Ok(Output::of(processed, doc))
    }

    /// One line with these source fields through the chain.
    pub fn run(
        &self,
        raw: &[u8],
        source: Vec<(String, Value)>,
        ingested: &str,
    ) -> Result<Output, Declined<'_>> {
        let source: Vec<(Key, Value)> = source
            .into_iter()
            .map(|(key, value)| (self.names.key_owned(key), value))
            .collect();
        let mut line = line(ingested, None);
        let mut doc = Vec::new();
        let processed = self.process(raw, source, &mut line, &mut doc)?;
        Ok(Output::of(processed, doc))
    }

    /// The options the default chain's step `name` was built from.
    pub fn default_options_for_tests(name: &str) -> Value {
        let mut found = None;
        crate::json::Reader::new(include_str!("default_chain.json").as_bytes())
            .members(|_, value| {
                if let Value::List(steps) = value {
                    for step in steps {
                        if let Value::List(pair) = step {
                            if matches!(&pair[0], Value::Str(step) if step == name) {
                                found = Some(pair[1].clone());
                            }
                        }
                    }
                }
                Ok(())
            })
            .expect("default_chain.json is JSON");
        found.expect("a step of the default chain")
    }
}

#[cfg(test)]
#[path = "chain_tests.rs"]
mod tests;
