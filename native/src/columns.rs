//! Typed columns of the embedded store, read from finished ECS documents as Arrow buffers.
//!
//! `DocColumns(fields)` takes the store's column table (`store/schema.py`: a dotted ECS path, a
//! kind and a divisor per column) and `build(docs)` reads a batch of documents once each, without
//! building a tree: a walk of the top-level object that descends only into the objects on a wanted
//! path and skips every other value. Each column comes back as the buffers of an Arrow array
//! (validity bitmap, offsets, values), which Python wraps without copying (`pyarrow`) and DuckDB
//! appends as it is: no JSON is parsed inside DuckDB.
//!
//! A column's value is what the store's SQL used to read with `json_transform` and `->>'$'`: the
//! text of a string, the JSON text of any other value, NULL for null or absent; numbers for
//! numeric kinds (`TRY_CAST` of that text: NULL when it is not a number); a list of texts for
//! `text_list` (NULL when the value is not an array). The document itself goes in as text too.
//!
//! Besides the columns: the UTC day of each document (its `@timestamp`'s `YYYY-MM-DD` prefix, as
//! `core.timefmt.utc_day` reads it) as runs of equal days, and the rows this reader could not
//! take (not a JSON object, not UTF-8, a time it does not read); Python decides those rows.

use memchr::memchr2;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Text,
    TextList,
    Timestamp,
    Int32,
    Int64,
    Float64,
}

impl Kind {
    fn parse(name: &str) -> PyResult<Kind> {
        Ok(match name {
            "text" => Kind::Text,
            "text_list" => Kind::TextList,
            "timestamp" => Kind::Timestamp,
            "int32" => Kind::Int32,
            "int64" => Kind::Int64,
            "float64" => Kind::Float64,
            other => {
                return Err(PyValueError::new_err(format!(
                    "unknown column kind {other:?}"
                )))
            }
        })
    }
}

/// One level of the wanted paths: the keys to descend into or to read.
#[derive(Default)]
struct Node {
    children: Vec<(Vec<u8>, Node)>,
    column: Option<usize>,
}

impl Node {
    fn child(&self, key: &[u8]) -> Option<&Node> {
        self.children.iter().find(|(k, _)| k == key).map(|(_, n)| n)
    }
}

/// What a document holds at a wanted path: the kind of JSON value and its span in the document.
#[derive(Clone, Copy)]
enum Found {
    Str {
        start: usize,
        end: usize,
        escaped: bool,
    },
    Raw {
        start: usize,
        end: usize,
    },
    Null,
}

/// A validity bitmap, LSB first, as Arrow lays it out.
#[derive(Default)]
struct Bits {
    bytes: Vec<u8>,
    len: usize,
    nulls: usize,
}

impl Bits {
    fn push(&mut self, valid: bool) {
        if self.len.is_multiple_of(8) {
            self.bytes.push(0);
        }
        if valid {
            *self.bytes.last_mut().unwrap() |= 1 << (self.len % 8);
        } else {
            self.nulls += 1;
        }
        self.len += 1;
    }
}

enum Builder {
    Text {
        valid: Bits,
        offsets: Vec<i64>,
        data: Vec<u8>,
    },
    List {
        valid: Bits,
        offsets: Vec<i32>,
        item_valid: Bits,
        item_offsets: Vec<i64>,
        data: Vec<u8>,
    },
    Fixed {
        valid: Bits,
        values: Vec<u8>,
        kind: Kind,
        divisor: f64,
    },
}

impl Builder {
    fn new(kind: Kind, divisor: f64, rows: usize) -> Builder {
        match kind {
            Kind::Text => Builder::Text {
                valid: Bits::default(),
                offsets: vec![0],
                data: Vec::with_capacity(rows * 16),
            },
            Kind::TextList => Builder::List {
                valid: Bits::default(),
                offsets: vec![0],
                item_valid: Bits::default(),
                item_offsets: vec![0],
                data: Vec::new(),
            },
            _ => Builder::Fixed {
                valid: Bits::default(),
                values: Vec::with_capacity(rows * 8),
                kind,
                divisor,
            },
        }
    }

    /// Append one row's value; the reason when this reader cannot take the row (its value is then null).
    fn push(&mut self, doc: &[u8], found: Option<Found>) -> Result<(), &'static str> {
        match self {
            Builder::Text {
                valid,
                offsets,
                data,
            } => {
                match found {
                    None | Some(Found::Null) => valid.push(false),
                    Some(Found::Str {
                        start,
                        end,
                        escaped,
                    }) => {
                        unescape_into(&doc[start..end], escaped, data);
                        valid.push(true);
                    }
                    Some(Found::Raw { start, end }) => {
                        data.extend_from_slice(&doc[start..end]);
                        valid.push(true);
                    }
                }
                offsets.push(data.len() as i64);
                Ok(())
            }
            Builder::List {
                valid,
                offsets,
                item_valid,
                item_offsets,
                data,
            } => {
                match found {
                    Some(Found::Raw { start, end }) if doc[start] == b'[' => {
                        let mut count = 0;
                        let ok = for_each_item(doc, start, end, |item| {
                            match item {
                                Found::Null => item_valid.push(false),
                                Found::Str {
                                    start,
                                    end,
                                    escaped,
                                } => {
                                    unescape_into(&doc[start..end], escaped, data);
                                    item_valid.push(true);
                                }
                                Found::Raw { start, end } => {
                                    data.extend_from_slice(&doc[start..end]);
                                    item_valid.push(true);
                                }
                            }
                            item_offsets.push(data.len() as i64);
                            count += 1;
                        });
                        if !ok {
                            // Items already appended stay in the child arrays, outside every list.
                            offsets.push(*offsets.last().unwrap());
                            valid.push(false);
                            return Err("a list column's value is not a JSON array");
                        }
                        offsets.push(offsets.last().unwrap() + count);
                        valid.push(true);
                    }
                    _ => {
                        offsets.push(*offsets.last().unwrap());
                        valid.push(false);
                    }
                }
                Ok(())
            }
            Builder::Fixed {
                valid,
                values,
                kind,
                divisor,
            } => {
                let text: Option<std::borrow::Cow<'_, [u8]>> = match found {
                    Some(Found::Str {
                        start,
                        end,
                        escaped,
                    }) => {
                        if escaped {
                            let mut owned = Vec::new();
                            unescape_into(&doc[start..end], true, &mut owned);
                            Some(owned.into())
                        } else {
                            Some((&doc[start..end]).into())
                        }
                    }
                    Some(Found::Raw { start, end }) if *kind != Kind::Timestamp => {
                        Some((&doc[start..end]).into())
                    }
                    _ => None,
                };
                let mut ok = true;
                let value: Option<[u8; 8]> = match (*kind, text) {
                    (_, None) => {
                        ok = *kind != Kind::Timestamp || !matches!(found, Some(Found::Raw { .. }));
                        None
                    }
                    (Kind::Timestamp, Some(t)) => match parse_timestamp(&t) {
                        Some(us) => Some(us.to_le_bytes()),
                        None => {
                            ok = false;
                            None
                        }
                    },
                    (Kind::Int32, Some(t)) => parse_integer(&t)
                        .filter(|n| i32::try_from(*n).is_ok())
                        .map(|n| n.to_le_bytes()),
                    (Kind::Int64, Some(t)) => parse_integer(&t).map(|n| n.to_le_bytes()),
                    (_, Some(t)) => parse_double(&t).map(|x| (x / *divisor).to_le_bytes()),
                };
                valid.push(value.is_some());
                let bytes = value.unwrap_or([0; 8]);
                if *kind == Kind::Int32 {
                    values.extend_from_slice(&(i64::from_le_bytes(bytes) as i32).to_le_bytes());
                } else {
                    values.extend_from_slice(&bytes);
                }
                if ok {
                    Ok(())
                } else {
                    Err("@timestamp is not a time this reader takes")
                }
            }
        }
    }

    /// `(null count, buffers…)` of the Arrow array, in Arrow's buffer order.
    fn into_buffers<'py>(self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let bytes = |b: &[u8]| PyBytes::new(py, b).into_any();
        let le64 = |v: &[i64]| {
            PyBytes::new(
                py,
                &v.iter().flat_map(|n| n.to_le_bytes()).collect::<Vec<u8>>(),
            )
            .into_any()
        };
        match self {
            Builder::Text {
                valid,
                offsets,
                data,
            } => PyTuple::new(
                py,
                [
                    valid.nulls.into_pyobject(py)?.into_any(),
                    bytes(&valid.bytes),
                    le64(&offsets),
                    bytes(&data),
                ],
            ),
            Builder::List {
                valid,
                offsets,
                item_valid,
                item_offsets,
                data,
            } => {
                let offsets32 = PyBytes::new(
                    py,
                    &offsets
                        .iter()
                        .flat_map(|n| n.to_le_bytes())
                        .collect::<Vec<u8>>(),
                )
                .into_any();
                PyTuple::new(
                    py,
                    [
                        valid.nulls.into_pyobject(py)?.into_any(),
                        bytes(&valid.bytes),
                        offsets32,
                        item_valid.nulls.into_pyobject(py)?.into_any(),
                        bytes(&item_valid.bytes),
                        le64(&item_offsets),
                        bytes(&data),
                    ],
                )
            }
            Builder::Fixed { valid, values, .. } => PyTuple::new(
                py,
                [
                    valid.nulls.into_pyobject(py)?.into_any(),
                    bytes(&valid.bytes),
                    bytes(&values),
                ],
            ),
        }
    }
}

/// The columns of the embedded store, read from documents (see the module docs).
#[pyclass(frozen)]
pub struct DocColumns {
    root: Node,
    kinds: Vec<(Kind, f64)>,
    day_column: Option<usize>,
}

/// What one batch gives back, built without the GIL.
struct Built {
    builders: Vec<Builder>,
    doc_offsets: Vec<i64>,
    doc_data: Vec<u8>,
    runs: Vec<(Option<i32>, usize, usize)>,
    failed: Vec<(usize, &'static str)>,
}

#[pymethods]
impl DocColumns {
    /// `fields`: `(dotted path, kind, divisor)` per column, in the table's order; `day_path` is the
    /// path whose text's first ten characters give the day a document is stored under.
    #[new]
    fn new(fields: Vec<(String, String, f64)>, day_path: &str) -> PyResult<Self> {
        let mut root = Node::default();
        let mut kinds = Vec::with_capacity(fields.len());
        let mut day_column = None;
        for (index, (path, kind, divisor)) in fields.iter().enumerate() {
            let mut node = &mut root;
            for part in path.split('.') {
                let at = match node.children.iter().position(|(k, _)| k == part.as_bytes()) {
                    Some(at) => at,
                    None => {
                        node.children
                            .push((part.as_bytes().to_vec(), Node::default()));
                        node.children.len() - 1
                    }
                };
                node = &mut node.children[at].1;
            }
            if node.column.is_some() {
                return Err(PyValueError::new_err(format!("{path} is read twice")));
            }
            node.column = Some(index);
            kinds.push((Kind::parse(kind)?, *divisor));
            if path == day_path {
                day_column = Some(index);
            }
        }
        Ok(DocColumns {
            root,
            kinds,
            day_column,
        })
    }

    /// `(columns, doc_buffers, runs, failed)` for a list of documents (bytes): per column the
    /// null count and buffers of its Arrow array; the documents as one text array's offsets and
    /// data; `runs` of `(day or None, start, end)`, the day as days since 1970-01-01; `failed`:
    /// `(row, reason)` for the rows not read (their columns hold nulls).
    #[allow(clippy::type_complexity)]
    fn build<'py>(
        &self,
        py: Python<'py>,
        docs: &Bound<'py, PyList>,
    ) -> PyResult<(
        Bound<'py, PyList>,
        Bound<'py, PyTuple>,
        Bound<'py, PyList>,
        Bound<'py, PyList>,
    )> {
        let held: Vec<Bound<'py, PyBytes>> = docs
            .iter()
            .map(|d| d.downcast_into::<PyBytes>())
            .collect::<Result<_, _>>()?;
        let raws: Vec<&[u8]> = held.iter().map(|b| b.as_bytes()).collect();
        let built = py.allow_threads(|| self.read(&raws));
        let columns = PyList::empty(py);
        for builder in built.builders {
            columns.append(builder.into_buffers(py)?)?;
        }
        let offsets: Vec<u8> = built
            .doc_offsets
            .iter()
            .flat_map(|n| n.to_le_bytes())
            .collect();
        let doc = PyTuple::new(
            py,
            [
                PyBytes::new(py, &offsets),
                PyBytes::new(py, &built.doc_data),
            ],
        )?;
        let runs = PyList::new(py, built.runs)?;
        let failed = PyList::new(py, built.failed)?;
        Ok((columns, doc, runs, failed))
    }
}

impl DocColumns {
    fn read(&self, docs: &[&[u8]]) -> Built {
        let rows = docs.len();
        let mut builders: Vec<Builder> = self
            .kinds
            .iter()
            .map(|(k, s)| Builder::new(*k, *s, rows))
            .collect();
        let total: usize = docs.iter().map(|d| d.len()).sum();
        let mut doc_offsets = Vec::with_capacity(rows + 1);
        doc_offsets.push(0i64);
        let mut doc_data = Vec::with_capacity(total);
        let mut runs: Vec<(Option<i32>, usize, usize)> = Vec::new();
        let mut failed = Vec::new();
        let mut found: Vec<Option<Found>> = vec![None; self.kinds.len()];
        for (row, doc) in docs.iter().enumerate() {
            found.iter_mut().for_each(|f| *f = None);
            let mut reason = None;
            if std::str::from_utf8(doc).is_err() {
                reason = Some("the document is not UTF-8");
            } else if walk_object(doc, skip_ws(doc, 0), &self.root, &mut found)
                .is_none_or(|end| skip_ws(doc, end) != doc.len())
            {
                reason = Some("the document is not one JSON object");
                found.iter_mut().for_each(|f| *f = None);
            }
            for (builder, value) in builders.iter_mut().zip(found.iter()) {
                if let Err(why) = builder.push(doc, *value) {
                    reason = reason.or(Some(why));
                }
            }
            let day = match (reason, self.day_column.and_then(|c| found[c])) {
                (None, Some(Found::Str { start, end, .. })) => day_number(&doc[start..end]),
                _ => None,
            };
            if let Some(why) = reason {
                failed.push((row, why));
            }
            match runs.last_mut() {
                Some(last) if last.0 == day && last.2 == row => last.2 = row + 1,
                _ => runs.push((day, row, row + 1)),
            }
            doc_data.extend_from_slice(doc);
            doc_offsets.push(doc_data.len() as i64);
        }
        Built {
            builders,
            doc_offsets,
            doc_data,
            runs,
            failed,
        }
    }
}

fn skip_ws(doc: &[u8], mut at: usize) -> usize {
    while at < doc.len() && matches!(doc[at], b' ' | b'\t' | b'\n' | b'\r') {
        at += 1;
    }
    at
}

/// The end of the string whose opening quote is at `at` (past its closing quote), and whether it
/// holds escapes.
fn string_end(doc: &[u8], at: usize) -> Option<(usize, bool)> {
    let mut pos = at + 1;
    let mut escaped = false;
    // Keys and most values are short: a plain loop beats setting up a vector search for them.
    let short = doc.len().min(pos + 24);
    while pos < short {
        match doc[pos] {
            b'"' => return Some((pos + 1, false)),
            b'\\' => break,
            _ => pos += 1,
        }
    }
    loop {
        let hit = pos + memchr2(b'"', b'\\', &doc[pos..])?;
        if doc[hit] == b'"' {
            return Some((hit + 1, escaped));
        }
        escaped = true;
        pos = hit + 2;
        if pos > doc.len() {
            return None;
        }
    }
}

/// The end of the value starting at `at`, and whether it is a string with escapes.
fn value_span(doc: &[u8], at: usize) -> Option<(usize, bool)> {
    if doc.get(at) == Some(&b'"') {
        return string_end(doc, at);
    }
    value_end(doc, at).map(|end| (end, false))
}

/// The end of the value starting at `at`.
fn value_end(doc: &[u8], at: usize) -> Option<usize> {
    match *doc.get(at)? {
        b'"' => string_end(doc, at).map(|(end, _)| end),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut pos = at;
            while pos < doc.len() {
                match doc[pos] {
                    b'"' => {
                        pos = string_end(doc, pos)?.0;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(pos + 1);
                        }
                    }
                    _ => {}
                }
                pos += 1;
            }
            None
        }
        _ => {
            let mut pos = at;
            while pos < doc.len()
                && !matches!(doc[pos], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
            {
                pos += 1;
            }
            (pos > at).then_some(pos)
        }
    }
}

fn found_at(doc: &[u8], at: usize, end: usize, escaped: bool) -> Found {
    match doc[at] {
        b'"' => Found::Str {
            start: at + 1,
            end: end - 1,
            escaped,
        },
        b'n' if &doc[at..end] == b"null" => Found::Null,
        _ => Found::Raw { start: at, end },
    }
}

/// Walk the object at `at`, recording the wanted values; returns the end of the object. Of a key
/// written twice the last value counts, as in the parsed document (shipped documents have none).
fn walk_object(doc: &[u8], at: usize, node: &Node, found: &mut [Option<Found>]) -> Option<usize> {
    if doc.get(at) != Some(&b'{') {
        return None;
    }
    let mut pos = skip_ws(doc, at + 1);
    if doc.get(pos) == Some(&b'}') {
        return Some(pos + 1);
    }
    loop {
        if doc.get(pos) != Some(&b'"') {
            return None;
        }
        let (key_end, key_escaped) = string_end(doc, pos)?;
        let key_raw = &doc[pos + 1..key_end - 1];
        let mut unescaped = Vec::new();
        let key: &[u8] = if key_escaped {
            unescape_into(key_raw, true, &mut unescaped);
            &unescaped
        } else {
            key_raw
        };
        pos = skip_ws(doc, key_end);
        if doc.get(pos) != Some(&b':') {
            return None;
        }
        pos = skip_ws(doc, pos + 1);
        let child = node.child(key);
        let end = match child {
            Some(child) if !child.children.is_empty() && doc.get(pos) == Some(&b'{') => {
                let end = walk_object(doc, pos, child, found)?;
                if let Some(column) = child.column {
                    found[column] = Some(Found::Raw { start: pos, end });
                }
                end
            }
            Some(child) => {
                let (end, escaped) = value_span(doc, pos)?;
                if let Some(column) = child.column {
                    found[column] = Some(found_at(doc, pos, end, escaped));
                }
                end
            }
            None => value_end(doc, pos)?,
        };
        pos = skip_ws(doc, end);
        match doc.get(pos) {
            Some(b',') => pos = skip_ws(doc, pos + 1),
            Some(b'}') => return Some(pos + 1),
            _ => return None,
        }
    }
}

/// Call `each` with every item of the array spanning `start..end`; false when it is malformed.
fn for_each_item(doc: &[u8], start: usize, end: usize, mut each: impl FnMut(Found)) -> bool {
    let mut pos = skip_ws(doc, start + 1);
    if doc.get(pos) == Some(&b']') {
        return true;
    }
    while pos < end {
        let Some((item_end, escaped)) = value_span(doc, pos) else {
            return false;
        };
        each(found_at(doc, pos, item_end, escaped));
        pos = skip_ws(doc, item_end);
        match doc.get(pos) {
            Some(b',') => pos = skip_ws(doc, pos + 1),
            Some(b']') => return true,
            _ => return false,
        }
    }
    false
}

/// Append the text of a JSON string's inside (`raw`, between the quotes), escapes resolved; a lone
/// surrogate becomes U+FFFD.
fn unescape_into(raw: &[u8], escaped: bool, out: &mut Vec<u8>) {
    if !escaped {
        out.extend_from_slice(raw);
        return;
    }
    let mut pos = 0;
    while pos < raw.len() {
        let Some(at) = memchr::memchr(b'\\', &raw[pos..]) else {
            out.extend_from_slice(&raw[pos..]);
            return;
        };
        out.extend_from_slice(&raw[pos..pos + at]);
        pos += at + 1;
        let Some(&c) = raw.get(pos) else { return };
        pos += 1;
        match c {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'u' => {
                let hex = |p: usize| {
                    raw.get(p..p + 4)
                        .and_then(|h| std::str::from_utf8(h).ok())
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                };
                let Some(first) = hex(pos) else { return };
                pos += 4;
                let code =
                    if (0xD800..0xDC00).contains(&first) && raw.get(pos..pos + 2) == Some(b"\\u") {
                        match hex(pos + 2) {
                            Some(second) if (0xDC00..0xE000).contains(&second) => {
                                pos += 6;
                                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                            }
                            _ => 0xFFFD,
                        }
                    } else {
                        first
                    };
                let ch = char::from_u32(code).unwrap_or('\u{FFFD}');
                let mut buf = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            }
            other => out.push(other),
        }
    }
}

fn trimmed(text: &[u8]) -> &str {
    std::str::from_utf8(text).unwrap_or("").trim()
}

/// An integer as `TRY_CAST(text AS BIGINT)` reads it: digits, or a number rounded to the nearest.
fn parse_integer(text: &[u8]) -> Option<i64> {
    let t = trimmed(text);
    if let Ok(n) = t.parse::<i64>() {
        return Some(n);
    }
    let x = t.parse::<f64>().ok()?;
    let r = x.round();
    (-9.223372036854776e18..9.223372036854776e18)
        .contains(&r)
        .then_some(r as i64)
}

fn parse_double(text: &[u8]) -> Option<f64> {
    trimmed(text).parse::<f64>().ok()
}

fn digits(text: &[u8]) -> Option<i64> {
    if text.is_empty() || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(text.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0')))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The day of a `YYYY-MM-DD…` text (only its first ten characters), as days since 1970-01-01.
fn day_number(text: &[u8]) -> Option<i32> {
    let t = text.get(..10)?;
    if t[4] != b'-' || t[7] != b'-' {
        return None;
    }
    let (y, m, d) = (digits(&t[..4])?, digits(&t[5..7])?, digits(&t[8..10])?);
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) || y < 1 {
        return None;
    }
    i32::try_from(days_from_civil(y, m, d)).ok()
}

/// Microseconds since the epoch of an ISO 8601 time: `YYYY-MM-DD[T ]HH:MM[:SS[.fraction]]` and
/// `Z`, `±HH`, `±HHMM` or `±HH:MM` (none: UTC). Anything else is left to Python.
fn parse_timestamp(text: &[u8]) -> Option<i64> {
    let days = i64::from(day_number(text)?);
    let rest = &text[10..];
    if rest.is_empty() {
        return Some(days * 86_400_000_000);
    }
    if !(rest[0] == b'T' || rest[0] == b' ') || rest.len() < 6 || rest[3] != b':' {
        return None;
    }
    let (h, mi) = (digits(&rest[1..3])?, digits(&rest[4..6])?);
    let mut pos = 6;
    let mut s = 0;
    let mut micros = 0;
    if rest.get(pos) == Some(&b':') {
        s = digits(rest.get(pos + 1..pos + 3)?)?;
        pos += 3;
        if rest.get(pos) == Some(&b'.') {
            pos += 1;
            let from = pos;
            while pos < rest.len() && rest[pos].is_ascii_digit() {
                pos += 1;
            }
            let frac = &rest[from..pos];
            if frac.is_empty() || frac.len() > 9 {
                return None;
            }
            let mut scaled = digits(frac)?;
            for _ in frac.len()..6 {
                scaled *= 10;
            }
            for _ in 6..frac.len() {
                scaled /= 10;
            }
            micros = scaled;
        }
    }
    if h > 23 || mi > 59 || s > 59 {
        return None;
    }
    let zone = &rest[pos..];
    let offset_minutes = match zone {
        b"" | b"Z" => 0,
        [sign @ (b'+' | b'-'), h1, h2] => sign_of(*sign) * digits(&[*h1, *h2])? * 60,
        [sign @ (b'+' | b'-'), h1, h2, m1, m2] | [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let (oh, om) = (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?);
            if oh > 23 || om > 59 {
                return None;
            }
            sign_of(*sign) * (oh * 60 + om)
        }
        _ => return None,
    };
    let seconds = days * 86_400 + h * 3600 + mi * 60 + s - offset_minutes * 60;
    seconds.checked_mul(1_000_000)?.checked_add(micros)
}

fn sign_of(sign: u8) -> i64 {
    if sign == b'-' {
        -1
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_days() {
        assert_eq!(parse_timestamp(b"1970-01-01T00:00:00.000Z"), Some(0));
        assert_eq!(
            parse_timestamp(b"1970-01-02T00:00:01.5Z"),
            Some(86_401_500_000)
        );
        assert_eq!(parse_timestamp(b"1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_timestamp(b"1969-12-31T23:59:59.999999Z"), Some(-1));
        assert_eq!(parse_timestamp(b"2026-02-30T00:00:00Z"), None);
        assert_eq!(parse_timestamp(b"yesterday"), None);
        assert_eq!(day_number(b"2000-03-01"), Some(11017));
    }

    #[test]
    fn strings_unescaped() {
        let mut out = Vec::new();
        unescape_into(br#"a\"b\\c\u00e9\ud83d\ude00\n"#, true, &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), "a\"b\\c\u{e9}\u{1F600}\n");
    }
}
