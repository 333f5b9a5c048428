//! `logferry_native`: the processor chain compiled from its configuration (`ingest/native_chain.py`
//! builds it and runs it beside the Python one).
//!
//! `Chain(steps, zones, regexes, serialize)` is built from `[(name, options), …]`: the processors'
//! own options as their config models dump them, each step the twin of its Python processor
//! (`steps/`); `zones` and `regexes` are what Python works out for the options that name a time
//! zone or a regex. `refusal(name, options, zones, regexes)` says why a step cannot be compiled
//! (None when it can).
//!
//! `Chain.process_lines(lines, source_id, path, first_offset, skip, ingested, threads, host,
//! settings)` takes a file source's block of plain lines (`core.chunk.Lines`: the bytes as split,
//! and what they share; `host`: the shipper's, for an indexer's block; `settings`: what
//! `apply_path_settings` gives the file) and returns parallel lists: documents (or, for a chain that
//! hands its events on, each line's event as a dict), `@timestamp`s, `event.id`s, string tags (a
//! tuple shared by the lines with the same tags, None when a line has none); the indices of the
//! lines it declined and, beside them, the step that declined each; and `{index: count}` of the
//! lines whose values `redact` masked. The chain runs with the GIL released, over two threads for a
//! large block; Python touches the results in bulk (list slices), never line by line.
//!
//! `Chain.process(events, ingested, settings)` takes other sources' events (dicts with `@raw` bytes
//! and the source's metadata; `settings` by file path) and returns, per event, `(document, stub)`,
//! the event as a dict, or `None` when declined; `{index: step}` of the declined ones and
//! `{index: count}` of the events with redactions. The stub holds what the batcher and the sinks
//! read of an event: `@timestamp`, `event.id` and the string `tags`.

mod chain;
mod columns;
mod event;
mod exception;
#[cfg(test)]
mod exception_tests;
mod facts;
mod fingerprint;
mod json;
mod options;
mod plain;
mod serialize;
mod steps;
mod text_tables;

use chain::{Processed, Stub};
use event::Key;
use json::{Map, Value};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use rustc_hash::FxHashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use steps::time::Zone;
use steps::{PathSettings, Translated};

/// A chain pass allocates and frees a few dozen small strings and maps per line: mimalloc's
/// thread-local free lists cost a fraction of glibc malloc's there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Nesting of options or events handed back to Python beyond this is refused (the reader stops at 64).
const MAX_DEPTH: usize = 96;

/// A Python value as JSON data: options from `model_dump`, source fields. None for anything else.
fn value_of(object: &Bound<'_, PyAny>, depth: usize) -> Option<Value> {
    if depth > MAX_DEPTH {
        return None;
    }
    if object.is_none() {
        Some(Value::Null)
    } else if let Ok(flag) = object.downcast_exact::<PyBool>() {
        Some(Value::Bool(flag.is_true()))
    } else if object.is_exact_instance_of::<PyInt>() {
        object.extract::<i64>().ok().map(Value::Int)
    } else if let Ok(number) = object.downcast_exact::<PyFloat>() {
        let number = number.value();
        number.is_finite().then_some(Value::Float(number))
    } else if let Ok(text) = object.downcast_exact::<PyString>() {
        text.to_str().ok().map(|text| Value::Str(text.to_owned()))
    } else if let Ok(items) = object.downcast_exact::<PyList>() {
        items
            .iter()
            .map(|item| value_of(&item, depth + 1))
            .collect::<Option<Vec<_>>>()
            .map(Value::List)
    } else if let Ok(items) = object.downcast_exact::<PyTuple>() {
        items
            .iter()
            .map(|item| value_of(&item, depth + 1))
            .collect::<Option<Vec<_>>>()
            .map(Value::List)
    } else if let Ok(map) = object.downcast_exact::<PyDict>() {
        let mut entries = Vec::with_capacity(map.len());
        for (key, item) in map.iter() {
            let key = key
                .downcast_exact::<PyString>()
                .ok()?
                .to_str()
                .ok()?
                .to_owned();
            entries.push((key, value_of(&item, depth + 1)?));
        }
        Map::from_entries(entries).map(Value::Obj)
    } else {
        None
    }
}

/// A JSON value as the Python object `orjson.loads` makes of it.
fn py_of<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(flag) => PyBool::new(py, *flag).to_owned().into_any(),
        Value::Int(n) => n.into_pyobject(py)?.into_any(),
        Value::Float(f) => PyFloat::new(py, *f).into_any(),
        Value::Str(text) => PyString::new(py, text).into_any(),
        Value::List(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(py_of(py, item)?)?;
            }
            list.into_any()
        }
        Value::Obj(map) => {
            let dict = PyDict::new(py);
            for (key, item) in map {
                dict.set_item(key, py_of(py, item)?)?;
            }
            dict.into_any()
        }
    })
}

/// An event as the dict the Python processors after the chain take, internal keys and all.
fn dict_of<'py>(py: Python<'py>, event: &event::Event) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (key, _, value) in event.iter() {
        dict.set_item(key, py_of(py, value)?)?;
    }
    Ok(dict)
}

type Zones = FxHashMap<String, Zone>;
type Regexes = FxHashMap<String, Option<Translated>>;

fn zones_of(zones: &Bound<'_, PyDict>) -> PyResult<Zones> {
    let mut out = Zones::default();
    for (name, table) in zones.iter() {
        let name: String = name.extract()?;
        let (initial, transitions): (i64, Vec<(i64, i64)>) = table.extract()?;
        out.insert(name, Zone::new(initial, transitions));
    }
    Ok(out)
}

fn regexes_of(regexes: &Bound<'_, PyDict>) -> PyResult<Regexes> {
    let mut out = Regexes::default();
    for (pattern, translated) in regexes.iter() {
        let pattern: String = pattern.extract()?;
        let translated: Option<(String, bool, bool)> = translated.extract()?;
        out.insert(
            pattern,
            translated.map(|(rust, plain_text_only, may_be_empty)| Translated {
                rust,
                plain_text_only,
                may_be_empty,
            }),
        );
    }
    Ok(out)
}

fn steps_of(steps: &Bound<'_, PyList>) -> PyResult<Vec<(String, Value)>> {
    steps
        .iter()
        .map(|step| {
            let (name, options): (String, Bound<'_, PyAny>) = step.extract()?;
            let options = value_of(&options, 0).ok_or_else(|| {
                PyValueError::new_err(format!("{name}: options are not plain data"))
            })?;
            Ok((name, options))
        })
        .collect()
}

fn settings_of(settings: &Bound<'_, PyAny>) -> PyResult<Option<PathSettings>> {
    if settings.is_none() {
        return Ok(None);
    }
    let (path, zone, service, tags): (String, Option<String>, Option<String>, Vec<String>) =
        settings.extract()?;
    Ok(Some(PathSettings {
        path,
        zone,
        service,
        tags,
    }))
}

/// A line through the chain (a panic declines it like any other doubt: it must not stop the pipeline).
fn guarded<'c>(
    run: impl FnOnce() -> Result<Processed<'c>, chain::Declined<'c>>,
) -> Result<Processed<'c>, chain::Declined<'c>> {
    catch_unwind(AssertUnwindSafe(run)).unwrap_or(Err("panic"))
}

/// One line's outcome in a run: its document's end in the run's buffer and its stub, its event, or
/// the step that declined it.
enum Done<'c> {
    Document(usize, Stub),
    Event(Box<event::Event<'c>>, usize),
    Declined(&'c str),
}

/// A run of a block's lines: their documents one after another, each line's outcome, and the facts
/// its thread counted (`facts.rs`).
type Run<'c> = (Vec<u8>, Vec<Done<'c>>, facts::Tally);

/// Below this many lines a block runs on the calling thread: a thread's start costs more than it saves.
const THREADED_MIN_LINES: usize = 512;

#[pyclass(frozen)]
struct Chain {
    chain: chain::Chain,
}

#[pymethods]
impl Chain {
    /// `buckets`: the bounds (ns) of `http_request_duration_seconds`; given, the chain counts the
    /// metrics made from events for the lines whose documents it writes (`take_facts` hands them over).
    #[new]
    #[pyo3(signature = (steps, zones, regexes, serialize=true, buckets=None))]
    fn new(
        steps: &Bound<'_, PyList>,
        zones: &Bound<'_, PyDict>,
        regexes: &Bound<'_, PyDict>,
        serialize: bool,
        buckets: Option<Vec<i64>>,
    ) -> PyResult<Self> {
        let chain = chain::Chain::new(
            steps_of(steps)?,
            &zones_of(zones)?,
            &regexes_of(regexes)?,
            serialize,
        )
        .map_err(|refusal| PyValueError::new_err(refusal.0))?;
        Ok(Chain {
            chain: match buckets {
                Some(bounds) => chain.counting_facts(bounds),
                None => chain,
            },
        })
    }

    /// A block of plain file lines; see the module docstring.
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    #[pyo3(signature = (lines, source_id, path, first_offset, skip, ingested, threads=1, host=None, settings=None))]
    fn process_lines<'py>(
        &self,
        py: Python<'py>,
        lines: &Bound<'py, PyList>,
        source_id: &str,
        path: &str,
        first_offset: i64,
        skip: Vec<usize>,
        ingested: &str,
        threads: usize,
        host: Option<&str>,
        settings: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<(
        Bound<'py, PyList>,
        Bound<'py, PyList>,
        Bound<'py, PyList>,
        Bound<'py, PyList>,
        Bound<'py, PyList>,
        Bound<'py, PyList>,
        Bound<'py, PyDict>,
    )> {
        let settings = match settings {
            Some(settings) => settings_of(settings)?,
            None => None,
        };
        let count = lines.len();
        let held: Vec<Bound<'py, PyBytes>> = lines
            .iter()
            .map(|item| item.downcast_into::<PyBytes>())
            .collect::<Result<_, _>>()?;
        // Borrowed from `held` for the whole call: bytes are immutable, so the chain may read them
        // without the GIL.
        let raws: Vec<&[u8]> = held.iter().map(|bytes| bytes.as_bytes()).collect();
        let mut offsets: Vec<i64> = Vec::with_capacity(count);
        let mut offset = first_offset;
        for raw in &raws {
            offsets.push(offset);
            offset += raw.len() as i64 + 1;
        }
        let mut skipped = vec![false; count];
        for index in skip {
            if index < count {
                skipped[index] = true;
            }
        }
        let chain = &self.chain;
        let settings = settings.as_ref();
        let run = |range: std::ops::Range<usize>| -> Run {
            let size: usize = raws[range.clone()].iter().map(|raw| raw.len()).sum();
            let mut docs = Vec::with_capacity(size * 2 + range.len() * 320);
            let outcomes = range
                .map(|i| {
                    if skipped[i] {
                        return Done::Declined("read_apart");
                    }
                    let mut line = chain::line(ingested, settings);
                    let processed = guarded(|| {
                        chain.process_file_line(
                            raws[i], source_id, path, offsets[i], host, &mut line, &mut docs,
                        )
                    });
                    match processed {
                        Ok(Processed::Document(stub)) => Done::Document(docs.len(), stub),
                        Ok(Processed::Event(event, redactions)) => Done::Event(event, redactions),
                        Err(step) => Done::Declined(step),
                    }
                })
                .collect();
            (docs, outcomes, facts::take())
        };
        let runs: Vec<Run> = py.allow_threads(|| {
            if threads > 1 && count >= THREADED_MIN_LINES {
                let half = count / 2;
                std::thread::scope(|scope| {
                    // A thread the system refuses to start: the second half runs here too.
                    let second = std::thread::Builder::new()
                        .name("logferry-chain".into())
                        .spawn_scoped(scope, || run(half..count))
                        .ok();
                    let first = run(0..half);
                    let rest = match second.map(|thread| thread.join()) {
                        Some(Ok(rest)) => rest,
                        // A panic outside the per-line guard declines the half: Python processes it.
                        Some(Err(_)) => (
                            Vec::new(),
                            (half..count).map(|_| Done::Declined("panic")).collect(),
                            facts::Tally::default(),
                        ),
                        None => run(half..count),
                    };
                    vec![first, rest]
                })
            } else {
                vec![run(0..count)]
            }
        });
        // Columns filled in place and made lists at once (no append per line); the GIL is held here.
        let none = py.None().into_bound(py);
        let mut docs: Vec<Bound<'py, PyAny>> = Vec::with_capacity(count);
        let mut stamps: Vec<Bound<'py, PyAny>> = Vec::with_capacity(count);
        let mut ids: Vec<Bound<'py, PyAny>> = Vec::with_capacity(count);
        let mut tags: Vec<Bound<'py, PyAny>> = Vec::with_capacity(count);
        let declined = PyList::empty(py);
        let reasons = PyList::empty(py);
        let redacted = PyDict::new(py);
        // One tuple per distinct set of tags: the batcher counts tags per batch by counting tuples.
        let mut tag_sets: FxHashMap<Vec<String>, Bound<'py, PyAny>> = FxHashMap::default();
        let mut index = 0;
        let mut counted = facts::Tally::default();
        for (buffer, outcomes, tally) in runs {
            counted.merge(tally);
            let mut start = 0;
            for outcome in outcomes {
                match outcome {
                    Done::Declined(step) => {
                        docs.push(none.clone());
                        stamps.push(none.clone());
                        ids.push(none.clone());
                        tags.push(none.clone());
                        declined.append(index)?;
                        reasons.append(step)?;
                    }
                    Done::Event(event, redactions) => {
                        docs.push(dict_of(py, &event)?.into_any());
                        stamps.push(none.clone());
                        ids.push(none.clone());
                        tags.push(none.clone());
                        if redactions > 0 {
                            redacted.set_item(index, redactions)?;
                        }
                    }
                    Done::Document(end, stub) => {
                        docs.push(PyBytes::new(py, &buffer[start..end]).into_any());
                        start = end;
                        stamps.push(match &stub.timestamp {
                            Some(stamp) => PyString::new(py, stamp).into_any(),
                            None => none.clone(),
                        });
                        ids.push(match &stub.event_id {
                            Some(id) => PyString::new(py, id).into_any(),
                            None => none.clone(),
                        });
                        if stub.redactions > 0 {
                            redacted.set_item(index, stub.redactions)?;
                        }
                        if stub.tags.is_empty() {
                            tags.push(none.clone());
                        } else if let Some(set) = tag_sets.get(stub.tags.as_slice()) {
                            tags.push(set.clone());
                        } else {
                            let set = PyTuple::new(py, &stub.tags)?.into_any();
                            tags.push(set.clone());
                            tag_sets.insert(stub.tags, set);
                        }
                    }
                }
                index += 1;
            }
        }
        facts::keep(counted);
        let docs = PyList::new(py, docs)?;
        let stamps = PyList::new(py, stamps)?;
        let ids = PyList::new(py, ids)?;
        let tags = PyList::new(py, tags)?;
        Ok((docs, stamps, ids, tags, declined, reasons, redacted))
    }

    /// Per event `(document, stub)`, its event (a dict) or `None` (declined); `{index: step}` of the
    /// declined, `{index: values masked}` of the processed events with any; `ingested` is
    /// `event.ingested` for all; `settings`: `apply_path_settings`'s, by file path.
    #[pyo3(signature = (events, ingested, settings=None))]
    fn process<'py>(
        &self,
        py: Python<'py>,
        events: &Bound<'py, PyList>,
        ingested: &str,
        settings: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<(Bound<'py, PyList>, Bound<'py, PyDict>, Bound<'py, PyDict>)> {
        let mut by_path: FxHashMap<String, PathSettings> = FxHashMap::default();
        if let Some(settings) = settings {
            for (path, given) in settings.iter() {
                if let Some(given) = settings_of(&given)? {
                    by_path.insert(path.extract()?, given);
                }
            }
        }
        let results = PyList::empty(py);
        let reasons = PyDict::new(py);
        let redacted = PyDict::new(py);
        for (index, event) in events.iter().enumerate() {
            let Some((raw, fields)) = source_event(&event) else {
                results.append(py.None())?;
                reasons.set_item(index, "source_event")?;
                continue;
            };
            let path = fields.iter().find_map(|(key, value)| match value {
                Value::Str(path) if key == "log.file.path" => Some(path.clone()),
                _ => None,
            });
            let names = self.chain.names();
            let source: Vec<(Key, Value)> = fields
                .into_iter()
                .map(|(key, value)| (names.key_owned(key), value))
                .collect();
            let mut line = chain::line(ingested, path.as_ref().and_then(|path| by_path.get(path)));
            let mut doc = Vec::with_capacity(raw.as_bytes().len() + 512);
            let bytes = raw.as_bytes();
            match guarded(|| self.chain.process(bytes, source, &mut line, &mut doc)) {
                Err(step) => {
                    results.append(py.None())?;
                    reasons.set_item(index, step)?;
                }
                Ok(Processed::Event(event, redactions)) => {
                    if redactions > 0 {
                        redacted.set_item(index, redactions)?;
                    }
                    results.append(dict_of(py, &event)?)?;
                }
                Ok(Processed::Document(stub)) => {
                    if stub.redactions > 0 {
                        redacted.set_item(index, stub.redactions)?;
                    }
                    let out = PyDict::new(py);
                    out.set_item(pyo3::intern!(py, "@timestamp"), stub.timestamp)?;
                    out.set_item(pyo3::intern!(py, "event.id"), stub.event_id)?;
                    if !stub.tags.is_empty() {
                        out.set_item(pyo3::intern!(py, "tags"), PyList::new(py, stub.tags)?)?;
                    }
                    results.append((PyBytes::new(py, &doc), out))?;
                }
            }
        }
        Ok((results, reasons, redacted))
    }
}

/// A source event as the chain takes it: the line, and the source's metadata fields in order.
type SourceEvent<'py> = (Bound<'py, PyBytes>, Vec<(String, Value)>);

/// The event's fields if the chain can take it: `@raw` bytes, and only str or int metadata.
fn source_event<'py>(event: &Bound<'py, PyAny>) -> Option<SourceEvent<'py>> {
    let dict = event.downcast::<PyDict>().ok()?;
    let mut raw = None;
    let mut fields = Vec::with_capacity(4);
    for (key, value) in dict.iter() {
        let key = key.downcast::<PyString>().ok()?.to_str().ok()?.to_owned();
        if key == "@raw" {
            raw = Some(value.downcast_into::<PyBytes>().ok()?);
        } else if let Ok(text) = value.downcast::<PyString>() {
            fields.push((key, Value::Str(text.to_str().ok()?.to_owned())));
        } else if value.is_instance_of::<PyInt>() && !value.is_instance_of::<PyBool>() {
            fields.push((key, Value::Int(value.extract::<i64>().ok()?)));
        } else {
            return None;
        }
    }
    Some((raw?, fields))
}

/// Why the processor `name` cannot be compiled with these options (None: it can).
#[pyfunction]
fn refusal(
    name: &str,
    options: &Bound<'_, PyAny>,
    zones: &Bound<'_, PyDict>,
    regexes: &Bound<'_, PyDict>,
) -> PyResult<Option<String>> {
    let Some(options) = value_of(options, 0) else {
        return Ok(Some(format!("{name}: options are not plain data")));
    };
    let zones = zones_of(zones)?;
    let regexes = regexes_of(regexes)?;
    let mut names = event::Names::default();
    let mut b = steps::Build {
        names: &mut names,
        zones: &zones,
        regexes: &regexes,
    };
    if name == "decode_json" {
        let mut options = match options::Options::new(name, options) {
            Ok(options) => options,
            Err(refusal) => return Ok(Some(refusal.0)),
        };
        let built =
            steps::decode_json::DecodeJson::build(&mut options).and_then(|_| options.finish());
        return Ok(built.err().map(|refusal| refusal.0));
    }
    Ok(steps::build(name, options, &mut b)
        .err()
        .map(|refusal| refusal.0))
}

/// `(grouping key, title, culprit)` of an error, as `parsers.fingerprint.grouping` computes it: the
/// compiled chain's twin, exposed so the differential test can compare both on drawn texts.
#[pyfunction]
#[pyo3(signature = (service, kind, message, stack, frames=1))]
fn error_grouping(
    service: &str,
    kind: Option<&str>,
    message: &str,
    stack: Option<&str>,
    frames: usize,
) -> (String, String, Option<String>) {
    fingerprint::grouping(service, kind, message, stack, frames)
}

/// `(type, message)` a stack names, as `parsers.exception.exception_line` reads it.
#[pyfunction]
fn exception_line(text: &str) -> Option<(String, String)> {
    exception::exception_line(text)
}

/// The facts counted by the calls of this thread since it last asked (`Chain(…, buckets)` counts them),
/// each once with its counts: `(service, endpoint, method, status, level, error_type, error, events,
/// duration_ns, buckets)`, `buckets` the events per histogram bucket (None: none had a duration).
/// Asked on the thread that called `process_lines` or `process`, right after, they are that call's.
#[pyfunction]
fn take_facts(py: Python<'_>) -> PyResult<Bound<'_, PyList>> {
    let list = PyList::empty(py);
    for (f, counts) in facts::take().drain() {
        let buckets = if counts.buckets.is_empty() {
            py.None().into_bound(py)
        } else {
            PyList::new(py, counts.buckets)?.into_any()
        };
        let fact = (f.service, f.endpoint, f.method, f.status);
        let rest = (
            f.level,
            f.error_type,
            f.error,
            counts.events,
            counts.duration,
            buckets,
        );
        list.append((
            fact.0, fact.1, fact.2, fact.3, rest.0, rest.1, rest.2, rest.3, rest.4, rest.5,
        ))?;
    }
    Ok(list)
}

#[pymodule]
fn logferry_native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<Chain>()?;
    module.add_class::<columns::DocColumns>()?;
    module.add_function(wrap_pyfunction!(refusal, module)?)?;
    module.add_function(wrap_pyfunction!(error_grouping, module)?)?;
    module.add_function(wrap_pyfunction!(exception_line, module)?)?;
    module.add_function(wrap_pyfunction!(take_facts, module)?)?;
    Ok(())
}
