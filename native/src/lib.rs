//! `logferry_native`: the default processor chain compiled, for lines of the common shapes.
//!
//! `Chain(host_name).process(events, ingested)` takes a chunk's source events (dicts with `@raw`
//! bytes and the source's metadata) and returns, per event, `(document bytes, stub)` or `None` when
//! the line is declined (the Python chain then processes it). The stub holds what the batcher and
//! the sinks read of an event: `@timestamp`, `event.id` and the string `tags`.

mod chain;
mod json;

use json::Value;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyInt, PyList, PyString};
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

    /// Per event: `(document, stub)` or `None` (declined); `ingested` is `event.ingested` for all.
    fn process<'py>(
        &self,
        py: Python<'py>,
        events: &Bound<'py, PyList>,
        ingested: &str,
    ) -> PyResult<Bound<'py, PyList>> {
        let results = PyList::empty(py);
        for event in events.iter() {
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
        Ok(results)
    }
}

#[pymodule]
fn logferry_native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<Chain>()?;
    Ok(())
}
