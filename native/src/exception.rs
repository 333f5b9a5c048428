//! The exception reader of `parsers/exception.py`, line for line: an exception's type, message and
//! frames from the structure of the stack its runtime printed (Python, JavaScript, Java, Go).
//!
//! Python strings index by code point and Rust's by byte; every cut here is at an ASCII delimiter
//! (which never occurs inside a multi-byte character), and every per-character test treats any
//! character beyond ASCII as the Python twin does, so both give the same answer for any text.
//! `tests/parsers/exception_vectors.json` holds the cases both check.

use crate::text_tables::{
    JAVA_CAUSE, JAVA_LIBRARIES, MAX_CHAIN, MAX_FRAMES, MAX_LINES, PY_CAUSE, PY_CONTEXT, PY_HEADER, SUFFIXES, WS,
};

#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    pub module: String,
    pub function: String,
    pub library: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Raised {
    pub kind: Option<String>,
    pub message: String,
    pub frames: Vec<Frame>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stack {
    pub language: &'static str,
    pub chain: Vec<Raised>,
}

pub fn strip(text: &str) -> &str {
    text.trim_matches(WS)
}

fn is_name_char(c: char) -> bool {
    !c.is_ascii() || c.is_ascii_alphanumeric() || c == '_' || c == '$'
}

fn is_type_name(text: &str, extra: &str) -> bool {
    let Some(first) = text.chars().next() else {
        return false;
    };
    if first == '.' || text.ends_with('.') || first.is_ascii_digit() {
        return false;
    }
    if !text
        .chars()
        .all(|c| is_name_char(c) || c == '.' || extra.contains(c))
    {
        return false;
    }
    !text.contains("..")
}

fn lines(text: &str) -> Vec<&str> {
    text.split('\n')
        .take(MAX_LINES)
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .collect()
}

fn indented(line: &str) -> bool {
    line.starts_with(' ') || line.starts_with('\t')
}

fn split_type(line: &str, extra: &str) -> (Option<String>, String) {
    if let Some((head, rest)) = line.split_once(':') {
        if is_type_name(head, extra) {
            return (Some(head.to_string()), strip(rest).to_string());
        }
        return (None, strip(line).to_string());
    }
    let stripped = strip(line);
    if is_type_name(stripped, extra) {
        return (Some(stripped.to_string()), String::new());
    }
    (None, stripped.to_string())
}

/// A message and the lines after its first (a multi-line message), stripped as one text.
fn joined<S: AsRef<str>>(message: String, rest: &[S]) -> String {
    let more = rest
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<&str>>()
        .join("\n");
    if more.is_empty() {
        message
    } else {
        strip(&format!("{message}\n{more}")).to_string()
    }
}

fn last_components(path: &str) -> String {
    // The last two non-empty parts, separated by `/` or `\\`, found from the end without a copy.
    let mut parts = path.rsplit(['/', '\\']).filter(|part| !part.is_empty());
    let last = parts.next().unwrap_or("");
    match parts.next() {
        None => last.to_string(),
        Some(dir) if dir.bytes().any(|b| b.is_ascii_digit()) => format!("<*>/{last}"),
        Some(dir) => format!("{dir}/{last}"),
    }
}

fn drop_addresses(name: &str) -> String {
    if !name.contains("/0x") {
        return name.to_string();
    }
    let mut name = name.to_string();
    while let Some(at) = name.find("/0x") {
        let mut end = at + 3;
        let bytes = name.as_bytes();
        while end < bytes.len() && bytes[end].is_ascii_hexdigit() {
            end += 1;
        }
        name.replace_range(at..end, "");
    }
    name
}

fn drop_digits_after(name: &str, marker: &str) -> String {
    let mut name = name.to_string();
    let mut start = 0;
    while let Some(found) = name[start..].find(marker) {
        let end = start + found + marker.len();
        let bytes = name.as_bytes();
        let mut digits = end;
        while digits < bytes.len() && bytes[digits].is_ascii_digit() {
            digits += 1;
        }
        name.replace_range(end..digits, "");
        start = end;
    }
    name
}

fn all_digits(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_digit())
}

// ---------------------------------------------------------------------------------------- Python

fn python_library(path: &str) -> bool {
    if path.starts_with('<') {
        return true;
    }
    let normal = path.replace('\\', "/");
    if normal.contains("/site-packages/") || normal.contains("/dist-packages/") {
        return true;
    }
    match normal.find("/lib/python") {
        Some(at) => normal
            .as_bytes()
            .get(at + 11)
            .is_some_and(|b| b.is_ascii_digit()),
        None => false,
    }
}

fn python_frame(line: &str) -> Option<Frame> {
    let mut text = strip(line);
    if let Some(rest) = text.strip_prefix("> ") {
        text = strip(rest);
    }
    let body = text.strip_prefix("File \"")?;
    let end = body.find("\", line ")?;
    let path = &body[..end];
    let function = match body[end..].split_once(", in ") {
        Some((_, function)) => strip(function).to_string(),
        None => String::new(),
    };
    Some(Frame {
        module: last_components(path),
        function,
        library: python_library(path),
    })
}

fn python_segment(lines: &[&str]) -> Raised {
    let mut frames = Vec::new();
    let mut at = 0;
    while at < lines.len() && indented(lines[at]) {
        if let Some(frame) = python_frame(lines[at]) {
            if frames.len() < MAX_FRAMES {
                frames.push(frame);
            }
        }
        at += 1;
    }
    frames.reverse();
    let mut text: Vec<&str> = lines[at..].to_vec();
    while text.last().is_some_and(|line| strip(line).is_empty()) {
        text.pop();
    }
    if text.is_empty() {
        return Raised {
            kind: None,
            message: String::new(),
            frames,
        };
    }
    let (kind, message) = split_type(text[0], "<>");
    Raised {
        kind,
        message: joined(message, &text[1..]),
        frames,
    }
}

fn parse_python(lines: &[&str], first: usize) -> Stack {
    let mut sections: Vec<Vec<&str>> = Vec::new();
    let mut open = false;
    for line in &lines[first..] {
        let stripped = strip(line);
        if stripped == PY_HEADER {
            sections.push(Vec::new());
            open = true;
        } else if stripped == PY_CAUSE || stripped == PY_CONTEXT {
            open = false;
        } else if open {
            if let Some(section) = sections.last_mut() {
                section.push(line);
            }
        }
    }
    let chain: Vec<Raised> = sections
        .iter()
        .rev()
        .map(|section| python_segment(section))
        .take(MAX_CHAIN)
        .collect();
    Stack {
        language: "python",
        chain,
    }
}

// ------------------------------------------------------------------------------------------- Node

/// The byte index of the `(` that opens the group closed by the text's last `)`.
fn matching_open(text: &str) -> Option<usize> {
    let mut depth = 0i64;
    for (i, b) in text.bytes().enumerate().rev() {
        if b == b')' {
            depth += 1;
        } else if b == b'(' {
            depth -= 1;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

fn js_frame(text: &str) -> Frame {
    let mut text = text;
    if let Some(head) = text.strip_suffix(" {") {
        text = strip(head);
    }
    let mut function = "";
    let mut location = text;
    if text.ends_with(')') {
        if let Some(open) = matching_open(text) {
            function = strip(&text[..open]);
            location = &text[open + 1..text.len() - 1];
        }
    }
    for prefix in ["async ", "new "] {
        if let Some(rest) = function.strip_prefix(prefix) {
            function = rest;
        }
    }
    if let Some(alias) = function.find(" [as ") {
        function = &function[..alias];
    }
    if let Some(rest) = location.strip_prefix("file://") {
        location = rest;
    }
    for _ in 0..2 {
        if let Some((head, tail)) = location.rsplit_once(':') {
            if !tail.is_empty() && all_digits(tail) {
                location = head;
            }
        }
    }
    let normal = location.replace('\\', "/");
    let library = location.starts_with("node:")
        || location.starts_with("internal/")
        || normal.contains("node_modules/")
        || !normal.contains('/');
    Frame {
        module: last_components(location),
        function: drop_addresses(function),
        library,
    }
}

fn split_js_header(line: &str) -> (Option<String>, String) {
    let (head, colon, rest) = match line.split_once(':') {
        Some((head, rest)) => (head, true, rest),
        None => (line, false, ""),
    };
    let name = match head.find(" [") {
        Some(bracket) if bracket > 0 && head.ends_with(']') => &head[..bracket],
        _ => head,
    };
    if colon && is_type_name(name, "") {
        return (Some(name.to_string()), strip(rest).to_string());
    }
    if !colon && is_type_name(strip(name), "") {
        return (Some(strip(name).to_string()), String::new());
    }
    (None, strip(line).to_string())
}

fn parse_js(lines: &[&str], first_frame: usize) -> Stack {
    let mut header: Vec<&str> = lines[..first_frame].to_vec();
    while header.first().is_some_and(|line| strip(line).is_empty()) {
        header.remove(0);
    }
    let mut frames = Vec::new();
    for line in &lines[first_frame..] {
        let text = strip(line);
        if !text.starts_with("at ") || !indented(line) {
            if !frames.is_empty() && !text.is_empty() {
                break;
            }
            continue;
        }
        if frames.len() < MAX_FRAMES {
            frames.push(js_frame(strip(&text[3..])));
        }
    }
    if header.is_empty() {
        return Stack {
            language: "javascript",
            chain: vec![Raised {
                kind: None,
                message: String::new(),
                frames,
            }],
        };
    }
    let (kind, message) = split_js_header(header[0]);
    Stack {
        language: "javascript",
        chain: vec![Raised {
            kind,
            message: joined(message, &header[1..]),
            frames,
        }],
    }
}

// ------------------------------------------------------------------------------------------- Java

fn java_frame(text: &str) -> Option<Frame> {
    if !text.ends_with(')') {
        return None;
    }
    let paren = text.find('(')?;
    if paren == 0 || text[..paren].contains(' ') {
        return None;
    }
    let mut qualified = &text[..paren];
    if let Some(slash) = qualified.rfind('/') {
        qualified = &qualified[slash + 1..];
    }
    let (cls, method) = qualified.rsplit_once('.')?;
    let cls = drop_digits_after(
        &drop_digits_after(&drop_addresses(cls), "$$Lambda$"),
        "$Proxy",
    );
    let head = &text[..paren];
    let module_library = head.contains('/') && {
        let first = head.split('/').next().unwrap_or("");
        first.starts_with("java.") || first.starts_with("jdk.")
    };
    let library = module_library || JAVA_LIBRARIES.iter().any(|prefix| cls.starts_with(prefix));
    Some(Frame {
        module: cls,
        function: method.to_string(),
        library,
    })
}

fn is_java_frame_line(line: &str) -> bool {
    if !indented(line) {
        return false;
    }
    let text = strip(line);
    text.starts_with("at ") && java_frame(&text[3..]).is_some()
}

fn java_raised(header: &[String], frames: Vec<Frame>) -> Raised {
    let mut text = header.first().map(String::as_str).unwrap_or("");
    if text.starts_with("Exception in thread ") {
        // The quote closing the thread's name: the first `" ` past the one opening it (byte 20).
        if let Some((quote, _)) = text[20..].match_indices("\" ").find(|(at, _)| *at >= 1) {
            text = &text[20 + quote + 2..];
        }
    }
    let (kind, message) = split_type(text, "");
    Raised {
        kind,
        message: joined(message, header.get(1..).unwrap_or(&[])),
        frames,
    }
}

fn parse_java(lines: &[&str]) -> Stack {
    let mut chain = Vec::new();
    let mut header: Vec<String> = Vec::new();
    let mut frames: Vec<Frame> = Vec::new();
    let mut in_frames = false;
    let mut suppressed_indent: i64 = -1;
    for line in lines {
        let text = strip(line);
        let indent = (line.len() - line.trim_start_matches([' ', '\t']).len()) as i64;
        if suppressed_indent >= 0 {
            if indent > suppressed_indent || text.is_empty() {
                continue;
            }
            suppressed_indent = -1;
        }
        if text.is_empty() {
            continue;
        }
        if text.starts_with("Suppressed: ") && indented(line) {
            suppressed_indent = indent;
            continue;
        }
        if text.starts_with(JAVA_CAUSE) && !indented(line) {
            if !header.is_empty() || !frames.is_empty() {
                chain.push(java_raised(&header, std::mem::take(&mut frames)));
            }
            header = vec![text[JAVA_CAUSE.len()..].to_string()];
            in_frames = false;
            continue;
        }
        if indented(line) && text.starts_with("at ") {
            if let Some(frame) = java_frame(&text[3..]) {
                in_frames = true;
                if frames.len() < MAX_FRAMES {
                    frames.push(frame);
                }
                continue;
            }
        }
        if indented(line) && text.starts_with("...") && text.ends_with(" more") {
            continue;
        }
        if !in_frames {
            header.push(text.to_string());
        }
    }
    if !header.is_empty() || !frames.is_empty() {
        chain.push(java_raised(&header, frames));
    }
    chain.truncate(MAX_CHAIN);
    Stack {
        language: "java",
        chain,
    }
}

// --------------------------------------------------------------------------------------------- Go

fn go_function(line: &str) -> Option<(String, String)> {
    let mut text = strip(line);
    if text.ends_with(')') {
        if let Some(open) = matching_open(text) {
            text = &text[..open];
        }
    }
    if text.is_empty() || text.contains(' ') {
        return None;
    }
    let slash = text.rfind('/');
    let from = slash.map_or(0, |s| s + 1);
    match text[from..].find('.') {
        Some(dot) => {
            let dot = from + dot;
            Some((text[..dot].to_string(), text[dot + 1..].to_string()))
        }
        None if slash.is_none() => Some((String::new(), text.to_string())),
        None => None,
    }
}

fn is_go_location(line: &str) -> bool {
    if !line.starts_with('\t') {
        return false;
    }
    let mut text = strip(line);
    if let Some(space) = text.find(" +0x") {
        text = &text[..space];
    }
    match text.rfind(".go:") {
        Some(at) => at > 0 && at + 4 < text.len() && all_digits(&text[at + 4..]),
        None => false,
    }
}

fn go_library(package: &str, location: &str) -> bool {
    if package.is_empty() || package == "runtime" || package.starts_with("runtime/") {
        return true;
    }
    let path = strip(location).replace('\\', "/");
    if path.contains("/pkg/mod/") || path.contains("/vendor/") {
        return true;
    }
    let first = package.split('/').next().unwrap_or("");
    !first.contains('.') && path.contains(&format!("/src/{package}/"))
}

fn parse_go(lines: &[&str]) -> Stack {
    let mut panics: Vec<(&'static str, String)> = Vec::new();
    let mut message_lines: Vec<&str> = Vec::new();
    let mut frames: Vec<Frame> = Vec::new();
    let mut started = false;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let text = strip(line);
        if i + 1 < lines.len() && !line.starts_with('\t') && is_go_location(lines[i + 1]) {
            if let Some((package, function)) = go_function(line) {
                started = true;
                if !(function.starts_with("created by ") || package.starts_with("created by "))
                    && frames.len() < MAX_FRAMES
                {
                    let library = go_library(&package, lines[i + 1]);
                    frames.push(Frame {
                        module: package,
                        function,
                        library,
                    });
                }
                i += 2;
                continue;
            }
        }
        if started && text.is_empty() {
            break;
        }
        if !started {
            if text.starts_with("panic: ") || text.starts_with("fatal error: ") {
                let kind = if text.starts_with("panic: ") {
                    "panic"
                } else {
                    "fatal error"
                };
                let mut message = &text[kind.len() + 2..];
                if let Some(head) = message.strip_suffix(" [recovered]") {
                    message = head;
                }
                panics.push((kind, message.to_string()));
            } else if text.starts_with("goroutine ") && text.ends_with(':') {
                started = true;
            } else if panics.is_empty() && !text.is_empty() {
                message_lines.push(text);
            }
        }
        i += 1;
    }
    let cut = frames.iter().rposition(|frame| {
        (frame.module.is_empty() && frame.function == "panic")
            || (frame.module == "runtime" && frame.function == "gopanic")
    });
    let below = |frames: &[Frame]| match cut {
        Some(at) => frames[at + 1..].to_vec(),
        None => frames.to_vec(),
    };
    let chain = if panics.is_empty() {
        vec![Raised {
            kind: None,
            message: strip(&message_lines.join("\n")).to_string(),
            frames: below(&frames),
        }]
    } else if panics.len() > 1 && cut.is_some() {
        let at = cut.unwrap_or(0);
        let (kind, message) = panics[panics.len() - 1].clone();
        let (first_kind, first_message) = panics[0].clone();
        vec![
            Raised {
                kind: Some(kind.to_string()),
                message,
                frames: frames[..at].to_vec(),
            },
            Raised {
                kind: Some(first_kind.to_string()),
                message: first_message,
                frames: frames[at + 1..].to_vec(),
            },
        ]
    } else {
        let (kind, message) = panics[panics.len() - 1].clone();
        vec![Raised {
            kind: Some(kind.to_string()),
            message,
            frames: below(&frames),
        }]
    };
    Stack {
        language: "go",
        chain,
    }
}

// ----------------------------------------------------------------------------------------- reader

/// The exception chain a runtime printed in `text`, or None when no runtime's structure is there.
pub fn parse_stack(text: &str) -> Option<Stack> {
    let lines = lines(text);
    if let Some(first) = lines.iter().position(|line| strip(line) == PY_HEADER) {
        return Some(parse_python(&lines, first));
    }
    for (i, line) in lines.iter().enumerate() {
        if indented(line) && strip(line).starts_with("at ") {
            if is_java_frame_line(line) {
                return Some(parse_java(&lines));
            }
            return Some(parse_js(&lines, i));
        }
    }
    for (i, line) in lines.iter().enumerate() {
        if is_go_location(line) && i > 0 && go_function(lines[i - 1]).is_some() {
            return Some(parse_go(&lines));
        }
        let stripped = strip(line);
        if stripped.starts_with("goroutine ") && stripped.ends_with("]:") {
            return Some(parse_go(&lines));
        }
    }
    None
}

/// `(type, message)` of the exception a stack names: from its structure (any name); in a text
/// without one, only a first-line name with an exception suffix counts.
pub fn exception_line(text: &str) -> Option<(String, String)> {
    if let Some(stack) = parse_stack(text) {
        let raised = stack.chain.into_iter().next()?;
        return raised.kind.map(|kind| (kind, raised.message));
    }
    let first = strip(text).split('\n').next().unwrap_or("");
    suffixed_exception(first)
}

pub fn suffixed_exception(line: &str) -> Option<(String, String)> {
    let line = line.trim_start_matches(WS);
    let end = line
        .bytes()
        .position(|b| !(b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b == b'.'))
        .unwrap_or(line.len());
    let (name, rest) = line.split_at(end);
    if !rest.is_empty() && !rest.starts_with(':') && !strip(rest).is_empty() {
        return None;
    }
    if name.is_empty() || name.ends_with('.') || name.starts_with('.') || name.contains("..") {
        return None;
    }
    let last = name.rsplit('.').next().unwrap_or("");
    if last.is_empty()
        || !name
            .split('.')
            .all(|part| part.bytes().next().is_some_and(|b| !b.is_ascii_digit()))
    {
        return None;
    }
    let first = last.as_bytes()[0];
    let named = last == "Error"
        || last == "Exception"
        || (first.is_ascii_uppercase()
            && SUFFIXES
                .iter()
                .any(|suffix| last.ends_with(suffix) && last.len() > suffix.len()));
    if !named {
        return None;
    }
    let message = match rest.strip_prefix(':') {
        Some(after) => strip(after).to_string(),
        None => String::new(),
    };
    Some((name.to_string(), message))
}
