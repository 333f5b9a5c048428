//! The error fingerprint of `parsers/fingerprint.py`, line for line: `error.grouping_key` (a BLAKE2b
//! hash of the service, the exception's type and its top in-app frames, or its masked message), the
//! title (`error.grouping_name`) and the culprit frame (`error.culprit`).
//!
//! Masking walks characters (Python's code points), never bytes, where a position or a neighbour
//! matters, and treats any character beyond ASCII as a word character as the Python twin does.

use crate::exception::{parse_stack, Frame, Raised};
use crate::text_tables::{CLOSERS, KEY_VERSION, OPENERS, QUOTES, TITLE_CHARS, VARIABLE, WS};
use blake2::digest::{Update, VariableOutput};

fn is_word_char(c: char) -> bool {
    !c.is_ascii() || c.is_ascii_alphanumeric() || c == '_'
}

fn variable(core: &str) -> bool {
    core.bytes().any(|b| b.is_ascii_digit())
        || core.contains('@')
        || core.starts_with('/')
        || core.starts_with("~/")
        || core.starts_with("./")
        || core.starts_with("../")
        || core.contains("://")
        || core.contains('\\')
}

fn mask_word(word: &[char]) -> String {
    let mut start = 0;
    let mut end = word.len();
    while start < end && OPENERS.contains(&word[start]) {
        start += 1;
    }
    while end > start && CLOSERS.contains(&word[end - 1]) {
        end -= 1;
    }
    let whole: String = word.iter().collect();
    if start == end {
        return whole;
    }
    let core: String = word[start..end].iter().collect();
    let masked = match word[start..end].iter().position(|c| *c == '=') {
        Some(equals) if equals > 0 && equals < end - start - 1 => {
            let key: String = word[start..start + equals + 1].iter().collect();
            format!("{key}{VARIABLE}")
        }
        _ if variable(&core) => VARIABLE.to_string(),
        _ => return whole,
    };
    let prefix: String = word[..start].iter().collect();
    let suffix: String = word[end..].iter().collect();
    format!("{prefix}{masked}{suffix}")
}

fn find_char(chars: &[char], c: char, from: usize) -> Option<usize> {
    chars
        .get(from..)?
        .iter()
        .position(|x| *x == c)
        .map(|at| from + at)
}

fn words(line: &[char]) -> Vec<Vec<char>> {
    let mut words = Vec::new();
    let mut current: Vec<char> = Vec::new();
    let n = line.len();
    let mut i = 0;
    while i < n {
        let c = line[i];
        if WS.contains(&c) {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            i += 1;
            continue;
        }
        if QUOTES.contains(&c) && (i == 0 || !is_word_char(line[i - 1])) {
            let mut close = find_char(line, c, i + 1);
            while let Some(at) = close {
                if at + 1 < n && is_word_char(line[at + 1]) {
                    close = find_char(line, c, at + 1);
                } else {
                    break;
                }
            }
            if let Some(at) = close {
                current.extend(VARIABLE.chars());
                i = at + 1;
                continue;
            }
        }
        current.push(c);
        i += 1;
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// The first line of `text` with its variables as `<*>` and its spaces collapsed.
pub fn mask_message(text: &str) -> String {
    let line = text.trim_start_matches(WS).split('\n').next().unwrap_or("");
    let chars: Vec<char> = line.chars().collect();
    let mut out: Vec<String> = Vec::new();
    for word in words(&chars) {
        let masked = mask_word(&word);
        if masked == VARIABLE && out.last().is_some_and(|last| last == VARIABLE) {
            continue;
        }
        out.push(masked);
    }
    out.join(" ")
}

fn meaningful(raised: &Raised) -> Vec<&Frame> {
    let in_app: Vec<&Frame> = raised.frames.iter().filter(|f| !f.library).collect();
    if in_app.is_empty() {
        raised.frames.iter().collect()
    } else {
        in_app
    }
}

fn culprit(raised: &Raised) -> Option<String> {
    let frame = *meaningful(raised).first()?;
    Some(if frame.module.is_empty() {
        frame.function.clone()
    } else {
        format!("{} in {}", frame.module, frame.function)
    })
}

pub fn title(kind: Option<&str>, message: &str) -> String {
    title_of_masked(kind, mask_message(message))
}

fn title_of_masked(kind: Option<&str>, masked: String) -> String {
    let text = match kind {
        Some(kind) if !kind.is_empty() && !masked.is_empty() => format!("{kind}: {masked}"),
        Some(kind) if !kind.is_empty() => kind.to_string(),
        _ => masked,
    };
    text.chars().take(TITLE_CHARS).collect()
}

fn short(kind: Option<&str>) -> &str {
    match kind {
        Some(kind) => kind.rsplit('.').next().unwrap_or(kind),
        None => "",
    }
}

/// `(grouping key, title, culprit)` of an error: see `parsers.fingerprint.grouping`.
pub fn grouping(
    service: &str,
    kind: Option<&str>,
    message: &str,
    stack: Option<&str>,
    frames: usize,
) -> (String, String, Option<String>) {
    let mut chain: Vec<Raised> = match stack {
        Some(text) if !text.is_empty() => parse_stack(text).map(|s| s.chain).unwrap_or_default(),
        _ => Vec::new(),
    };
    if chain.is_empty() {
        chain.push(Raised {
            kind: kind.map(str::to_string),
            message: message.to_string(),
            frames: Vec::new(),
        });
    }
    let masked = mask_message(message);
    let mut parts: Vec<String> = vec![KEY_VERSION.to_string(), service.to_string()];
    for (position, raised) in chain.iter().enumerate() {
        let top: Vec<String> = meaningful(raised)
            .into_iter()
            .take(frames)
            .map(|f| format!("{} {}", f.module, f.function))
            .collect();
        let named = if raised.kind.is_some() || position > 0 {
            short(raised.kind.as_deref())
        } else {
            short(kind)
        };
        parts.push(named.to_string());
        let empty = top.is_empty();
        parts.extend(top);
        if empty || named.is_empty() {
            parts.push(if position == 0 {
                masked.clone()
            } else {
                mask_message(&raised.message)
            });
        }
        parts.push(String::new());
    }
    let mut hasher = blake2::Blake2bVar::new(16).expect("16 is a valid BLAKE2b size");
    hasher.update(parts.join("\x1f").as_bytes());
    let mut digest = [0u8; 16];
    hasher
        .finalize_variable(&mut digest)
        .expect("the buffer is the digest's size");
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut key = String::with_capacity(32);
    for b in digest {
        key.push(HEX[(b >> 4) as usize] as char);
        key.push(HEX[(b & 15) as usize] as char);
    }
    let shown = kind.or(chain[0].kind.as_deref());
    (key, title_of_masked(shown, masked), culprit(&chain[0]))
}
