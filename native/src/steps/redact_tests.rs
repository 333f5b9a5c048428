//! The scanners of `redact.rs` against `Redact().scrub` of `enrich/redact.py`: every expected text
//! and count below is what Python gives (the cases of tests/enrich/test_enrich_redact*.py, then the
//! edges of each pattern's lookaround and backtracking, then patterns meeting in one string).

use super::{default_secrets, luhn_valid, Redact};
use crate::chain::Chain;
use crate::event::Names;
use crate::json::Value;
use crate::options::Options;
use crate::steps::{Build, Maybe};
use rustc_hash::FxHashMap;

const MASK: &str = "[REDACTED]";

/// `Redact()` with its default options.
fn default_redact() -> Redact {
    let mut names = Names::default();
    let mut b = Build {
        names: &mut names,
        zones: &FxHashMap::default(),
        regexes: &FxHashMap::default(),
    };
    let mut options =
        Options::new("redact", Chain::default_options_for_tests("redact")).expect("options");
    Redact::build(&mut options, &mut b).expect("the default redact step")
}

fn scrub(text: &str, count: &mut usize) -> Maybe<Option<String>> {
    default_redact().scrub(text, count)
}

fn mentions_secret_name(text: &str) -> bool {
    default_secrets().mentioned_in(text)
}

/// (text, Python's `Redact().scrub(text)`, the redactions it counted).
const SCRUBBED: &[(&str, &str, usize)] = &[
    (
        "Authorization: Bearer eyJhbGciOi.J9.eyJzdWIi-_x==",
        "Authorization: Bearer [REDACTED]",
        1,
    ),
    (
        "authorization=bearer abc123 rest",
        "authorization=[REDACTED] [REDACTED] rest",
        2,
    ),
    ("BEARER abc", "BEARER [REDACTED]", 1),
    (
        "the bearer of bad news",
        "the bearer [REDACTED] bad news",
        1,
    ),
    (
        "user alice@example.com logged in",
        "user [REDACTED] logged in",
        1,
    ),
    (
        "to: a.b+tag@mail.co.uk, cc: x_y@sub.example.org",
        "to: [REDACTED], cc: [REDACTED]",
        2,
    ),
    ("@handle mentioned", "@handle mentioned", 0),
    ("user@localhost", "user@localhost", 0),
    ("paid with 4111111111111111", "paid with [REDACTED]", 1),
    ("paid with 4111 1111 1111 1111.", "paid with [REDACTED].", 1),
    ("card=4111-1111-1111-1111", "card=[REDACTED]", 1),
    ("amex 378282246310005", "amex [REDACTED]", 1),
    ("amex 3782 822463 10005 ok", "amex [REDACTED] ok", 1),
    ("order 4111111111111112", "order 4111111111111112", 0),
    ("id 123456789012", "id 123456789012", 0),
    ("ts 14111111111111111", "ts 14111111111111111", 0),
    (
        "/login?token=abc123&page=2",
        "/login?token=[REDACTED]&page=2",
        1,
    ),
    (
        "/cb?code=1&access_token=zz#frag",
        "/cb?code=1&access_token=[REDACTED]#frag",
        1,
    ),
    (
        "retry password=hunter2 now",
        "retry password=[REDACTED] now",
        1,
    ),
    (
        "a=1; session_token=xyz; b=2",
        "a=1; session_token=[REDACTED]; b=2",
        1,
    ),
    ("/p?page=2&sort=asc", "/p?page=2&sort=asc", 0),
    ("/p?token=", "/p?token=", 0),
    (
        "plain text without secrets",
        "plain text without secrets",
        0,
    ),
    (
        "x?token=abc by bob@example.com",
        "x?token=[REDACTED] by [REDACTED]",
        2,
    ),
    ("docker line token=abc", "docker line token=[REDACTED]", 1),
    ("tab\tBearer abc.def", "tab\tBearer [REDACTED]", 1),
    ("x\npassword=hunter2", "x\npassword=[REDACTED]", 1),
    ("quoted \"bob@example.com\"", "quoted \"[REDACTED]\"", 1),
    (
        "/api/v1/orders/7c1e2f3a-4539-1488-0343-6467b5a7b3c9",
        "/api/v1/orders/7c1e2f3a-4539-1488-0343-6467b5a7b3c9",
        0,
    ),
    (
        "Bearer abc ?token=x",
        "Bearer [REDACTED] ?token=[REDACTED]",
        2,
    ),
    (
        "Bearer [REDACTED] ?token=[REDACTED]",
        "Bearer [REDACTED] ?token=[REDACTED]",
        0,
    ),
    ("xbearer abc", "xbearer abc", 0),
    ("_bearer abc", "_bearer abc", 0),
    ("-bearer abc", "-bearer [REDACTED]", 1),
    ("bearer", "bearer", 0),
    ("bearer ", "bearer ", 0),
    ("bearer  \t abc==x", "bearer  \t [REDACTED]x", 1),
    ("bearer\u{1c}abc", "bearer\u{1c}abc", 0),
    ("bearer\u{0b}abc", "bearer\u{0b}[REDACTED]", 1),
    ("bearer =abc", "bearer =abc", 0),
    ("Bearer abc=token=x", "Bearer [REDACTED]token=[REDACTED]", 2),
    ("bearerbearer abc", "bearerbearer abc", 0),
    (
        "Bearer a bearer b",
        "Bearer [REDACTED] bearer [REDACTED]",
        2,
    ),
    ("éBearer abc", "éBearer [REDACTED]", 1),
    ("Bearer a=b=c", "Bearer [REDACTED]b=c", 1),
    ("BEARER [x]", "BEARER [x]", 0),
    ("bearer abc~+/.-_ tail", "bearer [REDACTED] tail", 1),
    ("a=b=c", "a=b=c", 0),
    ("token=a=b", "token=[REDACTED]", 1),
    ("x.token=1", "x.token=[REDACTED]", 1),
    ("[token]=1", "[token]=[REDACTED]", 1),
    ("tok-en=1", "tok-en=[REDACTED]", 1),
    ("to_ken=2", "to_ken=[REDACTED]", 1),
    ("prompt_tokens=5", "prompt_tokens=5", 0),
    ("usage.total_tokens=5", "usage.total_tokens=5", 0),
    (
        "usage.total_tokens.x=5",
        "usage.total_tokens.x=[REDACTED]",
        1,
    ),
    ("mytoken=&x", "mytoken=&x", 0),
    ("token=[REDACTED]", "token=[REDACTED]", 0),
    ("token=[REDACTED]x", "token=[REDACTED]", 1),
    ("?token=a\u{1c}b", "?token=[REDACTED]\u{1c}b", 1),
    ("?token=a\u{0b}b", "?token=[REDACTED]\u{0b}b", 1),
    (
        "apiKey=1,api-key=2;API_KEY=3",
        "apiKey=[REDACTED],api-key=[REDACTED];API_KEY=[REDACTED]",
        3,
    ),
    ("a token=1 b", "a token=[REDACTED] b", 1),
    ("=token=1", "=token=[REDACTED]", 1),
    ("password==x", "password=[REDACTED]", 1),
    ("secretary=1", "secretary=[REDACTED]", 1),
    ("tokenizer=bert", "tokenizer=[REDACTED]", 1),
    ("k=v passwd=p'q", "k=v passwd=[REDACTED]'q", 1),
    ("cookie=\"x\"", "cookie=\"x\"", 0),
    ("authorization=Basic%20abc", "authorization=[REDACTED]", 1),
    ("4111111111111111", "[REDACTED]", 1),
    ("4111111111111111x", "4111111111111111x", 0),
    ("4111111111111111-", "[REDACTED]-", 1),
    ("4111111111111111-x", "4111111111111111-x", 0),
    ("4111111111111111-1", "4111111111111111-1", 0),
    ("x4111111111111111", "x4111111111111111", 0),
    ("-4111111111111111", "-4111111111111111", 0),
    ("_4111111111111111", "_4111111111111111", 0),
    ("4111 1111 1111 1111 1", "4111 1111 1111 1111 1", 0),
    ("41111111111111111111", "41111111111111111111", 0),
    (
        "4111111111111111 4111111111111111",
        "[REDACTED] [REDACTED]",
        2,
    ),
    (
        "4111111111111111  4111111111111111",
        "[REDACTED]  [REDACTED]",
        2,
    ),
    ("4111--1111111111111111", "4111--1111111111111111", 0),
    ("1 4111111111111111", "1 4111111111111111", 0),
    ("4111-1111-1111-1111-abc", "4111-1111-1111-1111-abc", 0),
    ("4111-1111-1111-1111-", "[REDACTED]-", 1),
    ("79927398713", "79927398713", 0),
    ("4539 1488 0343 6467", "[REDACTED]", 1),
    ("4539148803436467123", "[REDACTED]", 1),
    ("45391488034364671234", "45391488034364671234", 0),
    (
        "4539-1488-0343-6467 and 378282246310005",
        "[REDACTED] and [REDACTED]",
        2,
    ),
    ("é4111111111111111é", "é[REDACTED]é", 1),
    ("4111111111111111 9", "4111111111111111 9", 0),
    ("0000000000000", "[REDACTED]", 1),
    ("000000000000", "000000000000", 0),
    ("a@b.co", "[REDACTED]", 1),
    ("a@b.c", "a@b.c", 0),
    ("a@b.c.d", "a@b.c.d", 0),
    ("a@b.cd.e", "[REDACTED].e", 1),
    ("a@b.c1", "a@b.c1", 0),
    ("a@b.co1", "[REDACTED]1", 1),
    ("x@y@example.com", "x@[REDACTED]", 1),
    ("a.b@c.d.ef", "[REDACTED]", 1),
    ("a@-.co", "[REDACTED]", 1),
    ("a@b..co", "a@b..co", 0),
    ("a@b.co.", "[REDACTED].", 1),
    ("a@example.com9@x.io", "[REDACTED]9@x.io", 1),
    ("%+-.@a.bc", "[REDACTED]", 1),
    ("é@a.bc", "é@a.bc", 0),
    ("aé@a.bc", "aé@a.bc", 0),
    ("a@b.cd-ef.g", "[REDACTED]-ef.g", 1),
    ("a@b.c-d.ef", "[REDACTED]", 1),
    ("a@1.23", "a@1.23", 0),
    ("a@1.2b.cd", "[REDACTED]", 1),
    (
        "mail to a@b.com, c@d.org; e@f.net",
        "mail to [REDACTED], [REDACTED]; [REDACTED]",
        3,
    ),
    ("a@b.com.", "[REDACTED].", 1),
    (".a@b.co", "[REDACTED]", 1),
    ("a@@b.co", "a@@b.co", 0),
    (
        "authorization=Bearer abc a@b.co 4111111111111111 token=x",
        "authorization=[REDACTED] [REDACTED] [REDACTED] [REDACTED] token=[REDACTED]",
        5,
    ),
    ("Bearer 4111111111111111", "Bearer [REDACTED]", 1),
    ("token=4111111111111111", "token=[REDACTED]", 1),
    (
        "email=a@b.co&token=t",
        "email=[REDACTED]&token=[REDACTED]",
        2,
    ),
    ("a@b.co?token=1", "[REDACTED]?token=[REDACTED]", 2),
];

#[test]
fn scrub_gives_what_python_gives() {
    let mut failures = Vec::new();
    for &(text, expected, expected_count) in SCRUBBED {
        let mut count = 0;
        let got = scrub(text, &mut count).expect("ASCII or no query_secret: not declined");
        let got_text = got.as_deref().unwrap_or(text);
        if got_text != expected || count != expected_count {
            failures.push(format!(
                "{text:?}: got {got_text:?} ({count}), Python {expected:?} ({expected_count})"
            ));
        }
        assert_eq!(
            got.is_some(),
            text != expected,
            "{text:?}: a copy only when changed"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn non_ascii_text_meeting_query_secret_is_declined_else_scrubbed() {
    let mut count = 0;
    assert!(scrub("é token=abc", &mut count).is_err());
    assert!(
        scrub("TO\u{212a}EN=abc", &mut count).is_err(),
        "Kelvin sign: TOKEN"
    );
    assert_eq!(
        scrub("é page=2 a@b.co", &mut count).ok(),
        Some(Some(format!("é page=2 {MASK}")))
    );
    assert_eq!(
        scrub("apİkey=1 Bearer x", &mut count).ok(),
        Some(Some(format!("apİkey=1 Bearer {MASK}")))
    );
    assert_eq!(count, 2);
}

#[test]
fn mentions_secret_name_follows_python_lowercasing() {
    for (text, mentioned) in [
        ("xTOKENx", true),
        ("to-k_en", true),
        ("TO\u{212a}EN", true),
        ("api\u{130}key", false),
        ("pass\u{e9}word", false),
        ("plain", false),
    ] {
        assert_eq!(mentions_secret_name(text), mentioned, "{text:?}");
    }
}

#[test]
fn luhn_matches_python() {
    for (digits, valid) in [
        ("4111111111111111", true),
        ("378282246310005", true),
        ("79927398713", true),
        ("4111111111111112", false),
        ("79927398710", false),
        ("4111 1111-1111 1111", true),
    ] {
        assert_eq!(luhn_valid(digits.as_bytes()), valid, "{digits}");
    }
}

/// A line's document through the whole compiled chain and its count of redactions; None: declined.
fn redacted(line: &str) -> Option<(String, usize)> {
    let chain = Chain::default_for_tests();
    let source = vec![
        ("@source_id".to_string(), Value::Str("1:2:ab".into())),
        (
            "log.file.path".to_string(),
            Value::Str("/var/log/app.log".into()),
        ),
        ("log.offset".to_string(), Value::Int(7)),
    ];
    let output = chain
        .run(line.as_bytes(), source, "2026-12-02T05:00:00.000Z")
        .ok()?;
    Some((String::from_utf8(output.doc).unwrap(), output.redactions))
}

#[test]
fn secret_fields_are_masked_at_any_depth_and_counted() {
    let (doc, count) = redacted(
        r#"{"time":1795348800,"msg":"to a@b.co","password":"p","X-Api-Key":{"k":1},"ctx":{"items":[{"x":1},{"apiKey":"s"}],"authorization":null,"cookie":"","token":true,"prompt_tokens":5,"note":["Bearer abc",7]},"log.logger":"a@b.co","trace.id":"a@b.co"}"#,
    )
    .expect("redacted in the compiled chain");
    for piece in [
        r#""message":"to [REDACTED]""#,
        r#""password":"[REDACTED]""#,
        r#""X-Api-Key":"[REDACTED]""#,
        r#"{"apiKey":"[REDACTED]"}"#,
        r#""authorization":null"#,
        r#""cookie":"""#,
        r#""token":true"#,
        r#""prompt_tokens":5"#,
        r#""note":["Bearer [REDACTED]",7]"#,
        r#""logger":"a@b.co""#,
        r#""trace":{"id":"a@b.co"}"#,
    ] {
        assert!(doc.contains(piece), "{piece} in {doc}");
    }
    assert_eq!(count, 5);
}

#[test]
fn a_line_without_secrets_counts_nothing_and_non_ascii_text_with_a_pair_is_declined() {
    let (_, count) = redacted(r#"{"time":1795348800,"msg":"hello","n":{"k":"v"}}"#).unwrap();
    assert_eq!(count, 0);
    assert!(redacted(r#"{"time":1795348800,"msg":"\u00e9 token=abc"}"#).is_none());
}

/// Non-ASCII names as Python's `is_secret_name` judges them (its lowercasing, then the terms and the
/// allowed names), at the top level and nested.
#[test]
fn non_ascii_names_are_judged_as_in_python() {
    for (name, secret) in [
        ("TO\u{212a}EN", true),
        ("p\u{e4}ssword_hash", false),
        ("\u{130}apikey", true),
        ("prompt_to\u{212a}ens", false),
        ("usu\u{e1}rio", false),
        ("my_p\u{e4}sswort_token", true),
        ("a.\u{212a}ey", false),
        ("X-Api-\u{212a}ey", true),
    ] {
        assert_eq!(super::non_ascii_secret_name(name), secret, "{name:?}");
        let masked = if secret { "\"[REDACTED]\"" } else { "\"v\"" };
        // At the top level a dotted name is nested on output: the count tells there.
        let top = format!(r#"{{"time":1795348800,"{name}":"v"}}"#);
        assert_eq!(redacted(&top).expect("compiled").1, usize::from(secret));
        let nested = format!(r#"{{"time":1795348800,"n":{{"{name}":"v"}}}}"#);
        let (doc, count) = redacted(&nested).expect("compiled");
        assert!(doc.contains(&format!("\"{name}\":{masked}")), "{doc}");
        assert_eq!(count, usize::from(secret));
    }
}
