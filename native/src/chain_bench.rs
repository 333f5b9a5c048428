//! A CPU-cost harness for the chain alone (no Python): `cargo test --release chain_cost -- --ignored
//! --nocapture` with `LOGFERRY_BENCH_LINES=<file of lines>`; with `LOGFERRY_BENCH_OUT=<file>` it also
//! writes every line's document (or `DECLINED`), so two builds' outputs can be compared byte for byte.

use super::{Chain, Value};
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
        ("@source_id".into(), Value::Str("2049:131:9f86d081".into())),
        (
            "log.file.path".into(),
            Value::Str("/var/log/app/api.log".into()),
        ),
        ("log.offset".into(), Value::Int(offset)),
    ]
}

const INGESTED: &str = "2026-12-02T05:00:00.000Z";

#[test]
#[ignore]
fn chain_cost() {
    let Some(lines) = lines() else {
        eprintln!("LOGFERRY_BENCH_LINES is not set");
        return;
    };
    let chain = Chain::new("bench-host".into());
    if let Ok(path) = std::env::var("LOGFERRY_BENCH_OUT") {
        let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("writable"));
        for (i, line) in lines.iter().enumerate() {
            match chain.process(line, source(i as i64 * 100), INGESTED) {
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
            if chain
                .process(line, source(i as i64 * 100), INGESTED)
                .is_err()
            {
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
