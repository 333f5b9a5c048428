//! The default chain's unit tests, and a CPU-cost harness for the chain alone (no Python): `cargo test
//! --release chain_cost -- --ignored --nocapture` with `LOGFERRY_BENCH_LINES=<file of lines>`; with
//! `LOGFERRY_BENCH_OUT=<file>` it also writes every line's document (or `DECLINED`), so two builds'
//! outputs can be compared byte for byte.

use super::{Chain, Value};
use crate::serialize::TREE_ONLY;
use crate::steps::redact::default_secrets;
use std::io::Write;
use std::time::Instant;

fn lines() -> Option<Vec<Vec<u8>>> {
    let path = std::env::var("LOGFERRY_BENCH_LINES").ok()?;
    let text = std::fs::read(path).expect("readable corpus");
    Some(
        text.split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(<[u8]>::to_vec)
            .collect(),
    )
}

fn source(offset: i64) -> Vec<(String, Value)> {
    vec![
        ("@source_id".into(), Value::Str(SOURCE_ID.into())),
        ("log.file.path".into(), Value::Str(PATH.into())),
        ("log.offset".into(), Value::Int(offset)),
    ]
}

const INGESTED: &str = "2026-12-02T05:00:00.000Z";
const SOURCE_ID: &str = "2049:131:9f86d081";
const PATH: &str = "/var/log/app/api.log";

#[test]
#[ignore]
fn chain_cost() {
    let Some(lines) = lines() else {
        eprintln!("LOGFERRY_BENCH_LINES is not set");
        return;
    };
    let chain = Chain::default_for_tests();
    if let Ok(path) = std::env::var("LOGFERRY_BENCH_OUT") {
        let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("writable"));
        for (i, line) in lines.iter().enumerate() {
            match chain.run(line, source(i as i64 * 100), INGESTED) {
                Ok(o) => {
                    out.write_all(&o.doc).unwrap();
                    writeln!(out, "\t{}\t{}\t{:?}", o.event_id, o.timestamp, o.tags).unwrap();
                }
                Err(_) => writeln!(out, "DECLINED").unwrap(),
            }
        }
    }
    let rounds: usize = std::env::var("LOGFERRY_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let mut best = f64::MAX;
    let mut declined = 0;
    for _ in 0..rounds {
        declined = 0;
        let started = Instant::now();
        for (i, line) in lines.iter().enumerate() {
            if chain.run(line, source(i as i64 * 100), INGESTED).is_err() {
                declined += 1;
            }
        }
        best = best.min(started.elapsed().as_secs_f64());
    }
    eprintln!(
        "chain_cost: {} lines, {} declined, {:.3} µs/line (best of {rounds})",
        lines.len(),
        declined,
        best / lines.len() as f64 * 1e6
    );
}

/// Every line of the real loggers' corpora (`tests/corpus/*.log`).
fn corpus_lines() -> Vec<Vec<u8>> {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus");
    let mut lines: Vec<Vec<u8>> = Vec::new();
    for entry in std::fs::read_dir(corpus).expect("tests/corpus") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "log") {
            let text = std::fs::read(&path).expect("readable");
            lines.extend(text.split(|b| *b == b'\n').map(<[u8]>::to_vec));
        }
    }
    lines
}

/// `process_file_line` is `process` with the three file fields: same document, id, time and tags,
/// and the same declines, over every real-logger corpus line and lines whose own fields collide
/// with the source's.
#[test]
fn file_line_entry_matches_process() {
    let mut lines = corpus_lines();
    assert!(lines.len() > 100, "the corpus is there");
    lines.extend([
        br#"{"time":1,"log.offset":5,"log.file.path":"/x","msg":"own source fields"}"#.to_vec(),
        br#"{"time":1,"log":{"offset":5},"msg":"nested"}"#.to_vec(),
        br#"{"time":1,"@source_id":"x"}"#.to_vec(),
        b"not json".to_vec(),
    ]);
    let chain = Chain::default_for_tests();
    let (mut same, mut declined) = (0, 0);
    for (i, line) in lines.iter().enumerate() {
        let offset = i as i64 * 7;
        let by_list = chain.run(line, source(offset), INGESTED);
        let by_file = chain.run_file_line(line, SOURCE_ID, PATH, offset, INGESTED);
        match (by_list, by_file) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a.doc, b.doc, "line {i}");
                assert_eq!(
                    (a.event_id, a.timestamp, a.tags),
                    (b.event_id, b.timestamp, b.tags)
                );
                same += 1;
            }
            (Err(_), Err(_)) => declined += 1,
            _ => panic!("line {i}: one entry declined, the other did not"),
        }
    }
    assert!(
        same > 50 && declined > 0,
        "{same} documents, {declined} declined"
    );
}

/// The document of a shape's plan is the tree's, byte for byte, and the same lines are declined:
/// every real-logger corpus line, and lines whose names meet (a leaf where a path goes on, an
/// object a dotted name merges into, a null a path replaces), with escaped, empty and many parts,
/// each processed twice so that the second meets its shape's plan.
#[test]
fn planned_documents_are_the_trees() {
    let mut lines = corpus_lines();
    let parts17 = (0..17)
        .map(|i| format!("p{i}"))
        .collect::<Vec<_>>()
        .join(".");
    let parts16 = (0..16)
        .map(|i| format!("p{i}"))
        .collect::<Vec<_>>()
        .join(".");
    for extra in [
        r#""a":1,"a.b":2"#.to_string(),
        r#""a.b":2,"a":1"#.into(),
        r#""a.b":1,"a":{"c":2}"#.into(),
        r#""a":{"c":2},"a.b":1"#.into(),
        r#""a":{"b":2},"a.b":1"#.into(),
        r#""a.b":null,"a.b.c":1"#.into(),
        r#""a":null,"a.b":1"#.into(),
        r#""a.b":1,"a.c":{"d":1},"a.c.e":2"#.into(),
        r#""x.y":1,"x.z":2,"w.y":3,"x.q.r":4"#.into(),
        r#""a..b":1,".c":2,"d.":3,"":4"#.into(),
        r#""na"me.x":1,"tab	key":2,"é.ü":3"#.into(),
        r#""@timestamp.x":1"#.into(),
        r#""http.method":"GET","http":{"version":"1.1"}"#.into(),
        r#""log":{"logger":"x"},"log.origin":1"#.into(),
        r#""service":"a","service.name":"b""#.into(),
        format!(r#""{parts17}":1"#),
        format!(r#""{parts16}":1"#),
    ] {
        lines.push(format!(r#"{{"time":1,"msg":"m",{extra}}}"#).into_bytes());
        lines.push(format!(r#"{{"time":1,{extra},"level":"info"}}"#).into_bytes());
    }
    let chain = Chain::default_for_tests();
    let (mut same, mut declined) = (0, 0);
    for (i, line) in lines.iter().enumerate() {
        TREE_ONLY.with(|tree| tree.set(true));
        let by_tree = chain.run_file_line(line, SOURCE_ID, PATH, 1, INGESTED);
        TREE_ONLY.with(|tree| tree.set(false));
        for round in 0..2 {
            let planned = chain.run_file_line(line, SOURCE_ID, PATH, 1, INGESTED);
            match (&by_tree, planned) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(
                        String::from_utf8_lossy(&a.doc),
                        String::from_utf8_lossy(&b.doc),
                        "line {i}, round {round}"
                    );
                    same += 1;
                }
                (Err(_), Err(_)) => declined += 1,
                _ => panic!("line {i}, round {round}: one way declined, the other did not"),
            }
        }
    }
    assert!(
        same > 200 && declined > 0,
        "{same} documents, {declined} declined"
    );
}

/// The one-pass `may_scrub` against its definition written out test by test, over generated strings
/// made of the pieces each test looks for.
#[test]
fn may_scrub_is_its_definition() {
    fn card_trigger(b: &[u8]) -> bool {
        (0..b.len()).any(|i| {
            b[i].is_ascii_digit()
                && (i == 0
                    || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_' || b[i - 1] == b'-'))
                && b.len() >= i + 13
                && b[i + 1..i + 13]
                    .iter()
                    .all(|c| c.is_ascii_digit() || *c == b' ' || *c == b'-')
        })
    }
    fn definition(text: &str) -> bool {
        if text.contains('@') || card_trigger(text.as_bytes()) {
            return true;
        }
        if !text.is_ascii() {
            return text.contains('=') || text.to_lowercase().contains("bearer");
        }
        let bearer = text
            .as_bytes()
            .windows(6)
            .any(|w| w.eq_ignore_ascii_case(b"bearer"));
        bearer || (text.contains('=') && default_secrets().mentioned_in(text))
    }
    let pieces = [
        "a",
        "b",
        "B",
        "bearer",
        "BeArEr",
        "earer",
        "bEARE",
        "=",
        "@",
        "1",
        "4111",
        " ",
        "-",
        "_",
        "x9",
        "password",
        "to-ken",
        "é",
        "\u{212a}",
        "?",
        "0000 0000",
        "secret",
    ];
    let secrets = default_secrets();
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let (mut touched, mut total) = (0, 0);
    for _ in 0..200_000 {
        let mut text = String::new();
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let count = (state % 12) as usize;
        let mut pick = state;
        for _ in 0..count {
            text.push_str(pieces[(pick % pieces.len() as u64) as usize]);
            pick = pick.rotate_left(5) ^ 0x9e37_79b9_7f4a_7c15;
        }
        let expected = definition(&text);
        assert_eq!(secrets.may_scrub(&text), expected, "{text:?}");
        touched += usize::from(expected);
        total += 1;
    }
    assert!(
        touched > 1000 && touched < total - 1000,
        "{touched} of {total}"
    );
}

/// A line naming a top-level field twice is declined (orjson would keep the last one, in the first
/// one's place), whether the name is one the chain knows or not, among few or many fields.
#[test]
fn duplicate_top_level_names_are_declined() {
    let chain = Chain::default_for_tests();
    let line = |fields: &[String]| format!("{{\"time\":1,{}}}", fields.join(","));
    for count in [1, 15, 16, 17, 40] {
        let fields: Vec<String> = (0..count).map(|i| format!("\"f{i}\":{i}")).collect();
        let distinct = line(&fields);
        assert!(chain
            .run_file_line(distinct.as_bytes(), SOURCE_ID, PATH, 1, INGESTED)
            .is_ok());
        for repeated in [
            fields[0].clone(),
            fields[count - 1].clone(),
            "\"msg\":\"x\"".into(),
        ] {
            let mut twice = fields.clone();
            twice.insert(0, repeated.clone());
            twice.push(repeated);
            let text = line(&twice);
            assert!(
                chain
                    .run_file_line(text.as_bytes(), SOURCE_ID, PATH, 1, INGESTED)
                    .is_err(),
                "{text}"
            );
        }
    }
}

/// Lines that are not a JSON object, and lines without a readable time: the Python chain's
/// documents (made with `add_metadata.host_name = "host-a"`, its clock's `@timestamp` replaced by
/// the ingest time, which the compiled chain stamps such a line with), tags and times.
#[test]
fn plain_and_untimed_lines_get_the_python_chains_documents() {
    let chain = Chain::default_for_tests();
    let meta = |id: &str| {
        format!(r#""host":{{"name":"host-a"}},"event":{{"ingested":"{INGESTED}","id":"{id}"}}}}"#)
    };
    let log = |offset: i64| format!(r#""log":{{"file":{{"path":"{PATH}"}},"offset":{offset}}}"#);
    let cases: [(&[u8], String, &[&str]); 7] = [
        (
            b"plain text\r\n",
            format!(
                r#"{{{},"tags":["_jsonparsefailure"],"message":"plain text","@timestamp":"{INGESTED}",{}"#,
                log(0),
                meta("zK5gqAGh6t0vdhvLuTJ1")
            ),
            &["_jsonparsefailure"],
        ),
        (
            b"caf\xe9 \xed\xa0\x80",
            format!(
                "{{{},\"tags\":[\"_utf8error\",\"_jsonparsefailure\"],\"message\":\"caf\u{fffd} \u{fffd}\u{fffd}\u{fffd}\",\"@timestamp\":\"{INGESTED}\",{}",
                log(7),
                meta("-R6QviMvYY3uhKmk-mA4")
            ),
            &["_utf8error", "_jsonparsefailure"],
        ),
        (
            b"{\"msg\":\"caf\xc3\",\"tags\":\"own\"}",
            format!(
                "{{\"tags\":[\"own\",\"_utf8error\"],{},\"@timestamp\":\"{INGESTED}\",\"message\":\"caf\u{fffd}\",{}",
                log(14),
                meta("OzWpLEubPlmJvgInagJp")
            ),
            &["own", "_utf8error"],
        ),
        (
            br#"{"msg":"m","@timestamp":"N/A","_@timestamp":1}"#,
            format!(
                r#"{{"@timestamp":"{INGESTED}","_@timestamp":"N/A",{},"tags":["_dateparsefailure"],"message":"m",{}"#,
                log(21),
                meta("wvG6aX472nBWvtH0KrcE")
            ),
            &["_dateparsefailure"],
        ),
        (
            br#"{"msg":"m","timestamp":false,"time":"2026-11-20T10:00:00Z"}"#,
            format!(
                r#"{{"timestamp":false,"time":"2026-11-20T10:00:00Z",{},"tags":["_dateparsefailure"],"@timestamp":"{INGESTED}","message":"m",{}"#,
                log(28),
                meta("VGZBhnA_VrAFEhewnL1x")
            ),
            &["_dateparsefailure"],
        ),
        (
            br#"{"msg":"untimed"}"#,
            format!(
                r#"{{{},"@timestamp":"{INGESTED}","message":"untimed",{}"#,
                log(35),
                meta("q316FP68lQdDTW5n_Qcv")
            ),
            &[],
        ),
        (
            b"[1]",
            format!(
                r#"{{{},"tags":["_jsonparsefailure"],"message":"[1]","@timestamp":"{INGESTED}",{}"#,
                log(42),
                meta("qywjIfmL5ZLLG9c_8xjL")
            ),
            &["_jsonparsefailure"],
        ),
    ];
    for (i, (line, expected, tags)) in cases.iter().enumerate() {
        let out = chain
            .run_file_line(line, SOURCE_ID, PATH, i as i64 * 7, INGESTED)
            .unwrap_or_else(|_| panic!("line {i} declined"));
        assert_eq!(String::from_utf8_lossy(&out.doc), *expected, "line {i}");
        assert_eq!(out.timestamp, INGESTED, "line {i}");
        assert_eq!(out.tags, *tags, "line {i}");
    }
}

/// What stays declined: an object the reader does not take, and a time field that may yet parse.
#[test]
fn unsure_lines_stay_declined() {
    let chain = Chain::default_for_tests();
    for line in [
        &br#"{"msg":"a","msg":"b"}"#[..],
        br#"{"a":18446744073709551616}"#,
        br#"{"a":"\ud800"}"#,
        br#"{"time":"2026-13-01T00:00:00Z"}"#,
        br#"{"time":1e15}"#,
        "{\"time\":\"\u{0661}\u{0662}\"}".as_bytes(),
    ] {
        assert!(
            chain
                .run_file_line(line, SOURCE_ID, PATH, 0, INGESTED)
                .is_err(),
            "{}",
            String::from_utf8_lossy(line)
        );
    }
}
