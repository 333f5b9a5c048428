//! `logferry_native`: the default processor chain compiled, for lines of the common shapes.
//!
//! `Chain(host_name).process_lines(lines, source_id, path, first_offset, skip, ingested, threads)`
//! takes a file source's block of plain lines (`core.chunk.Lines`: the bytes as split, and what they
//! share) and returns parallel lists: documents, `@timestamp`s, `event.id`s, string tags (a tuple
//! shared by the lines with the same tags, None when a line has none), the indices of the lines
//! it declined (the Python chain processes those), and `{index: count}` of the lines whose values
//! `redact` masked (what the Python `Redact` would have counted for them).
//! The chain runs with the GIL released, over two threads for a large block; Python touches the
//! results in bulk (list slices), never line by line.
//!
//! `Chain(host_name).process(events, ingested)` takes other sources' events (dicts with `@raw`
//! bytes and the source's metadata) and returns, per event, `(document bytes, stub)` or `None` when
//! the line is declined, and `{index: count}` of the events with redactions. The stub holds what the
//! batcher and the sinks read of an event: `@timestamp`, `event.id` and the string `tags`.

mod chain;
mod columns;
mod exception;
#[cfg(test)]
mod exception_tests;
mod fingerprint;
mod json;

use json::Value;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyInt, PyList, PyString, PyTuple};
use rustc_hash::FxHashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// A chain pass allocates and frees a few dozen small strings and maps per line: mimalloc's
/// thread-local free lists cost a fraction of glibc malloc's there (measured with callgrind).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

/// One line through the chain, its document appended to `docs`: the document's end and the stub,
/// or None when declined (`docs` then as it was). A panic declines the line like any other doubt
/// (it must not stop the pipeline).
fn process_file_line(
    chain: &chain::Chain,
    raw: &[u8],
    source_id: &str,
    path: &str,
    offset: i64,
    ingested: &str,
    docs: &mut Vec<u8>,
) -> Option<(usize, chain::Stub)> {
    let start = docs.len();
    let stub = catch_unwind(AssertUnwindSafe(|| {
        chain
            .process_file_line_into(raw, source_id, path, offset, ingested, docs)
            .ok()
    }))
    .ok()
    .flatten();
    match stub {
        Some(stub) => Some((docs.len(), stub)),
        None => {
            docs.truncate(start);
            None
        }
    }
}

/// A run of a block's lines: their documents one after another, and per line its document's end and
/// stub, or None when declined.
type Run = (Vec<u8>, Vec<Option<(usize, chain::Stub)>>);

/// Below this many lines a block runs on the calling thread: a thread's start costs more than it saves.
const THREADED_MIN_LINES: usize = 512;

#[pyclass(frozen)]
struct Chain {
    chain: chain::Chain,
}

#[pymethods]
impl Chain {
    #[new]
    fn new(host_name: String) -> Self {
        Chain {
            chain: chain::Chain::new(host_name),
        }
    }

    /// A block of plain file lines: `(docs, timestamps, event_ids, tags, declined, redacted)`,
    /// parallel lists but `declined` (ascending indices; their entries in the other lists are None)
    /// and `redacted` (`{index: values masked}`, for the processed lines with any). A line's tags
    /// are a tuple, one object per distinct set in the block, or None. Line `i` is at
    /// `first_offset` plus the lengths of the lines before it, each + 1 (its newline). The lines at
    /// the indices of `skip` (ascending; read apart: cut, partial) are declined without a look.
    /// `threads` > 1 splits a large block in halves run at once; the order is kept.
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    #[pyo3(signature = (lines, source_id, path, first_offset, skip, ingested, threads=1))]
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
    ) -> PyResult<(
        Bound<'py, PyList>,
        Bound<'py, PyList>,
        Bound<'py, PyList>,
        Bound<'py, PyList>,
        Bound<'py, PyList>,
        Bound<'py, PyDict>,
    )> {
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
        let run = |range: std::ops::Range<usize>| -> Run {
            let size: usize = raws[range.clone()].iter().map(|raw| raw.len()).sum();
            let mut docs = Vec::with_capacity(size * 2 + range.len() * 320);
            let stubs = range
                .map(|i| {
                    if skipped[i] {
                        None
                    } else {
                        process_file_line(
                            chain, raws[i], source_id, path, offsets[i], ingested, &mut docs,
                        )
                    }
                })
                .collect();
            (docs, stubs)
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
                        Some(Err(_)) => (Vec::new(), (half..count).map(|_| None).collect()),
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
        let redacted = PyDict::new(py);
        // One tuple per distinct set of tags: the batcher counts tags per batch by counting tuples.
        let mut tag_sets: FxHashMap<Vec<String>, Bound<'py, PyAny>> = FxHashMap::default();
        let mut index = 0;
        for (buffer, stubs) in runs {
            let mut start = 0;
            for output in stubs {
                match output {
                    None => {
                        docs.push(none.clone());
                        stamps.push(none.clone());
                        ids.push(none.clone());
                        tags.push(none.clone());
                        declined.append(index)?;
                    }
                    Some((end, stub)) => {
                        docs.push(PyBytes::new(py, &buffer[start..end]).into_any());
                        start = end;
                        stamps.push(PyString::new(py, &stub.timestamp).into_any());
                        ids.push(PyString::new(py, &stub.event_id).into_any());
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
        let docs = PyList::new(py, docs)?;
        let stamps = PyList::new(py, stamps)?;
        let ids = PyList::new(py, ids)?;
        let tags = PyList::new(py, tags)?;
        Ok((docs, stamps, ids, tags, declined, redacted))
    }

    /// Per event `(document, stub)` or `None` (declined), and `{index: values masked}` for the
    /// processed events with any; `ingested` is `event.ingested` for all.
    fn process<'py>(
        &self,
        py: Python<'py>,
        events: &Bound<'py, PyList>,
        ingested: &str,
    ) -> PyResult<(Bound<'py, PyList>, Bound<'py, PyDict>)> {
        let results = PyList::empty(py);
        let redacted = PyDict::new(py);
        for (index, event) in events.iter().enumerate() {
            // A bug here must not stop the pipeline: a panic declines the line like any other doubt.
            let output = source_event(&event).and_then(|(raw, fields)| {
                let bytes = raw.as_bytes();
                catch_unwind(AssertUnwindSafe(|| {
                    self.chain.process(bytes, fields, ingested).ok()
                }))
                .ok()
                .flatten()
            });
            match output {
                None => results.append(py.None())?,
                Some(out) => {
                    if out.redactions > 0 {
                        redacted.set_item(index, out.redactions)?;
                    }
                    let stub = PyDict::new(py);
                    stub.set_item(intern!(py, "@timestamp"), out.timestamp)?;
                    stub.set_item(intern!(py, "event.id"), out.event_id)?;
                    if !out.tags.is_empty() {
                        stub.set_item(intern!(py, "tags"), PyList::new(py, out.tags)?)?;
                    }
                    results.append((PyBytes::new(py, &out.doc), stub))?;
                }
            }
        }
        Ok((results, redacted))
    }
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

#[pymodule]
fn logferry_native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<Chain>()?;
    module.add_class::<columns::DocColumns>()?;
    module.add_function(wrap_pyfunction!(error_grouping, module)?)?;
    module.add_function(wrap_pyfunction!(exception_line, module)?)?;
    Ok(())
}
