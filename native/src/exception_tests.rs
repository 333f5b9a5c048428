//! The Rust twins of `parsers/exception.py` and `parsers/fingerprint.py` answer every case of
//! `tests/parsers/exception_vectors.json` (written by the Python code) the same, byte for byte.

use crate::exception::{exception_line, parse_stack};
use crate::fingerprint::{grouping, mask_message};
use crate::json::{Reader, Value};

fn cases() -> Vec<Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/parsers/exception_vectors.json");
    let text = std::fs::read(path).expect("tests/parsers/exception_vectors.json");
    let wrapped = [b"{\"cases\":".as_slice(), &text, b"}"].concat();
    let mut found = Vec::new();
    Reader::new(&wrapped)
        .members(|_, value| {
            if let Value::List(items) = value {
                found = items;
            }
            Ok(())
        })
        .expect("the vectors are JSON");
    assert!(found.len() > 150, "the vectors are there");
    found
}

fn text<'a>(case: &'a Value, key: &str) -> Option<&'a str> {
    match case {
        Value::Obj(map) => match map.get(key) {
            Some(Value::Str(s)) => Some(s.as_str()),
            _ => None,
        },
        _ => None,
    }
}

fn field<'a>(case: &'a Value, key: &str) -> Option<&'a Value> {
    match case {
        Value::Obj(map) => map.get(key),
        _ => None,
    }
}

fn strings(value: Option<&Value>) -> Vec<Option<String>> {
    match value {
        Some(Value::List(items)) => items
            .iter()
            .map(|item| match item {
                Value::Str(s) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The expected parse as `(language, [(type, message, [(module, function, library)])])`.
type Expected = (
    String,
    Vec<(Option<String>, String, Vec<(String, String, bool)>)>,
);

fn expected_stack(value: Option<&Value>) -> Option<Expected> {
    let value = value?;
    let language = text(value, "language")?.to_string();
    let Some(Value::List(chain)) = field(value, "chain") else {
        return None;
    };
    let raised = chain
        .iter()
        .map(|raised| {
            let frames = match field(raised, "frames") {
                Some(Value::List(frames)) => frames
                    .iter()
                    .map(|frame| match frame {
                        Value::List(parts) => match parts.as_slice() {
                            [Value::Str(m), Value::Str(f), Value::Bool(l)] => {
                                (m.clone(), f.clone(), *l)
                            }
                            _ => panic!("a frame is [module, function, library]"),
                        },
                        _ => panic!("a frame is a list"),
                    })
                    .collect(),
                _ => Vec::new(),
            };
            (
                text(raised, "type").map(str::to_string),
                text(raised, "message").unwrap_or("").to_string(),
                frames,
            )
        })
        .collect();
    Some((language, raised))
}

fn got_stack(stack: &str) -> Option<Expected> {
    let parsed = parse_stack(stack)?;
    let raised = parsed
        .chain
        .iter()
        .map(|raised| {
            let frames = raised
                .frames
                .iter()
                .map(|f| (f.module.clone(), f.function.clone(), f.library))
                .collect();
            (raised.kind.clone(), raised.message.clone(), frames)
        })
        .collect();
    Some((parsed.language.to_string(), raised))
}

#[test]
fn every_vector_is_answered_as_python_answers_it() {
    let mut failures = Vec::new();
    for (index, case) in cases().iter().enumerate() {
        let expect = field(case, "expect").expect("expect");
        let message = text(case, "message").unwrap_or("");
        let stack = text(case, "stack");
        if mask_message(message) != text(expect, "mask").unwrap_or("") {
            failures.push(format!(
                "#{index} mask {message:?} -> {:?}",
                mask_message(message)
            ));
        }
        if let Some(stack) = stack {
            let parsed = got_stack(stack);
            if parsed != expected_stack(field(expect, "parse").filter(|v| **v != Value::Null)) {
                failures.push(format!("#{index} parse {stack:?}\n  got {parsed:?}"));
            }
            let line = exception_line(stack).map(|(kind, message)| vec![Some(kind), Some(message)]);
            let want = strings(field(expect, "exception_line"));
            if line.unwrap_or_default() != want {
                failures.push(format!("#{index} exception_line {stack:?}"));
            }
        }
        for frames in [1usize, 2] {
            let (key, title, culprit) = grouping(
                text(case, "service").unwrap_or(""),
                text(case, "type"),
                message,
                stack,
                frames,
            );
            let got = vec![Some(key), Some(title), culprit];
            if got != strings(field(expect, &format!("grouping_{frames}"))) {
                failures.push(format!(
                    "#{index} grouping_{frames} {stack:?}\n  got {got:?}"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} differ:\n{}",
        failures.len(),
        failures[..failures.len().min(8)].join("\n")
    );
}
