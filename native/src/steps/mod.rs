//! The compiled twins of the Python processors, one module each, named as the processor is.
//!
//! A twin is built from its Python twin's options (`build(options, &mut Build)`, the config as
//! `model_dump(mode="json")` gives it: every option is read, an unknown one refuses the step) and
//! does, per event, what the Python `__call__` does, line by line over an ordered map with a
//! Python dict's key-order effects (`apply`). Whatever it cannot reproduce exactly for a line is
//! `Err(Decline)`: the whole line then goes through the Python chain instead. What it cannot take
//! in its options at all is a `Refusal`: the step and the ones after it run in Python.
//!
//! Adding a twin: a module here with `build` and a `Step` impl, and one arm in `build` below.

pub mod add_metadata;
pub mod apply_path_settings;
pub mod assign_id;
pub mod classify_status;
pub mod decode_json;
pub mod fingerprint_error;
pub mod fit_ecs_objects;
pub mod map_common_fields;
pub mod parse_level;
pub mod parse_message;
pub mod parse_timestamp;
pub mod redact;
pub mod restore_shipper_host;
pub mod tag_error;
pub mod tag_http;
pub mod template_endpoint;
pub mod time;

use crate::event::{Event, NameRef, Names, K};
use crate::json::{Map, Value};
use crate::options::{Built, Options, Refusal};
use rustc_hash::FxHashMap;

#[derive(Debug)]
pub struct Decline;

/// A step's result for one line: `Err(Decline)` sends the line to the Python chain.
pub type Maybe<T> = Result<T, Decline>;

/// A Python regex, as the pattern of the `regex` crate that matches the same (`ingest/native_regex.py`
/// translates it with Python's own parser), and whether that holds only on plain text (ASCII, no
/// `\x1c`-`\x1f`, no trailing newline): `\w`, `\d`, `\s`, `\b`, `$` or case-insensitivity in it.
#[derive(Clone)]
pub struct Translated {
    pub rust: String,
    pub plain_text_only: bool,
    /// Whether it can match empty text (where `re.subn` and `regex` count matches differently).
    pub may_be_empty: bool,
}

/// What a step may need besides its options while it is built.
pub struct Build<'a> {
    pub names: &'a mut Names,
    /// Time zone tables by IANA name (`ingest/native_zones.py`).
    pub zones: &'a FxHashMap<String, time::Zone>,
    /// Python regexes by pattern: their translation, or None when it has none.
    pub regexes: &'a FxHashMap<String, Option<Translated>>,
}

impl Build<'_> {
    pub fn name(&mut self, name: &str) -> NameRef {
        self.names.add(name);
        self.names.name_ref(name)
    }

    pub fn alias(&mut self, name: &str) -> Alias {
        let path = name.split_once('.').map(|(head, rest)| {
            let head = self.name(head);
            (head, rest.split('.').map(Box::from).collect())
        });
        Alias {
            key: self.name(name),
            path,
        }
    }

    pub fn aliases(&mut self, names: &[String]) -> Vec<Alias> {
        names.iter().map(|name| self.alias(name)).collect()
    }

    pub fn zone(&self, name: &str) -> Built<time::Zone> {
        self.zones
            .get(name)
            .cloned()
            .ok_or_else(|| Refusal::new(format!("no table of the time zone {name:?}")))
    }

    pub fn regex(&self, pattern: &str) -> Built<Translated> {
        match self.regexes.get(pattern) {
            Some(Some(translated)) => Ok(translated.clone()),
            _ => Err(Refusal::new(format!(
                "the regex {pattern:?} is outside what the compiled chain reads alike"
            ))),
        }
    }
}

/// What a line carries through the steps besides its event.
pub struct Line<'a> {
    /// The block's `event.ingested`, also the time of a line without a readable one.
    pub ingested: &'a str,
    /// What `apply_path_settings`'s rules give this line's file (matched in Python, per block).
    pub path_settings: Option<&'a PathSettings>,
    /// Values `redact` masked.
    pub redactions: usize,
}

/// `ApplyPathSettings.settings_for(path)`: the zone, service and tags of a file.
#[derive(Clone, Debug, Default)]
pub struct PathSettings {
    /// The file these are for.
    pub path: String,
    pub zone: Option<String>,
    pub service: Option<String>,
    pub tags: Vec<String>,
}

pub trait Step: Send + Sync {
    fn apply(&self, event: &mut Event, line: &mut Line) -> Maybe<()>;

    /// Called once the chain's names are all numbered (a step that precomputes per name).
    fn prepare(&mut self, _names: &Names) {}
}

/// The twin of the processor `name`, built from its options; `Refusal` when there is none (a
/// processor of the user's) or it cannot take them. `decode_json` is not here: it makes the event.
pub fn build(name: &str, options: Value, b: &mut Build) -> Built<Box<dyn Step>> {
    let mut options = Options::new(name, options)?;
    let step: Box<dyn Step> = match name {
        "apply_path_settings" => Box::new(apply_path_settings::ApplyPathSettings::build(
            &mut options,
            b,
        )?),
        "parse_timestamp" => Box::new(parse_timestamp::ParseTimestamp::build(&mut options, b)?),
        "parse_level" => Box::new(parse_level::ParseLevel::build(&mut options, b)?),
        "parse_message" => Box::new(parse_message::ParseMessage::build(&mut options, b)?),
        "tag_error" => Box::new(tag_error::TagError::build(&mut options, b)?),
        "tag_http" => Box::new(tag_http::TagHttp::build(&mut options, b)?),
        "map_common_fields" => {
            Box::new(map_common_fields::MapCommonFields::build(&mut options, b)?)
        }
        "fingerprint_error" => {
            Box::new(fingerprint_error::FingerprintError::build(&mut options, b)?)
        }
        "fit_ecs_objects" => Box::new(fit_ecs_objects::FitEcsObjects::build(&mut options, b)?),
        "template_endpoint" => {
            Box::new(template_endpoint::TemplateEndpoint::build(&mut options, b)?)
        }
        "classify_status" => Box::new(classify_status::ClassifyStatus::build(&mut options, b)?),
        "redact" => Box::new(redact::Redact::build(&mut options, b)?),
        "add_metadata" => Box::new(add_metadata::AddMetadata::build(&mut options, b)?),
        "assign_id" => Box::new(assign_id::AssignId::build(&mut options, b)?),
        "restore_shipper_host" => Box::new(restore_shipper_host::RestoreShipperHost::build(
            &mut options,
            b,
        )?),
        "decode_json" => {
            return Err(Refusal::new(
                "decode_json runs first, where the event is made",
            ))
        }
        other => return Err(Refusal::new(format!("{other} has no compiled twin"))),
    };
    options.finish()?;
    Ok(step)
}

// ---------------------------------------------------------------- shared by the steps

/// One source field name (`parsers.fields.Alias`): a flat key and, for a dotted name, the path into
/// nested objects.
#[derive(Clone)]
pub struct Alias {
    pub key: NameRef,
    /// For a dotted name: its first part (looked up at the top level) and the rest.
    path: Option<(NameRef, Vec<Box<str>>)>,
}

impl Alias {
    /// The value under the flat key, else under the nested path.
    pub fn get<'a>(&self, event: &'a Event) -> Option<&'a Value> {
        match event.get(&self.key) {
            Some(value) => Some(value),
            None => self.get_nested(event),
        }
    }

    fn get_nested<'a>(&self, event: &'a Event) -> Option<&'a Value> {
        let (head, rest) = self.path.as_ref()?;
        let Value::Obj(first) = event.get(head)? else {
            return None;
        };
        let mut node: &Map = first;
        for (i, part) in rest.iter().enumerate() {
            let value = node.get(part)?;
            if i + 1 == rest.len() {
                return Some(value);
            }
            match value {
                Value::Obj(child) => node = child,
                _ => return None,
            }
        }
        None
    }

    /// `get`, writable.
    pub fn get_mut<'a>(&self, event: &'a mut Event) -> Option<&'a mut Value> {
        if event.contains_key(&self.key) {
            return event.get_mut(&self.key);
        }
        let (head, rest) = self.path.as_ref()?;
        let Value::Obj(first) = event.get_mut(head)? else {
            return None;
        };
        let mut node: &mut Map = first;
        for (i, part) in rest.iter().enumerate() {
            if i + 1 == rest.len() {
                return node.get_mut(part);
            }
            match node.get_mut(part)? {
                Value::Obj(child) => node = child,
                _ => return None,
            }
        }
        None
    }

    /// The name an event is probed with first (the flat key) and, for a dotted one, the head.
    pub fn heads(&self) -> impl Iterator<Item = &NameRef> {
        std::iter::once(&self.key).chain(self.path.iter().map(|(head, _)| head))
    }

    /// Delete the field; nested parents left empty go too, so no `{}` husks ship.
    pub fn remove(&self, event: &mut Event) {
        match &self.path {
            Some((head, rest)) if !event.contains_key(&self.key) => {
                if let Some(Value::Obj(child)) = event.get_mut(head) {
                    remove_path(child, rest);
                    if child.is_empty() {
                        event.shift_remove(head);
                    }
                }
            }
            _ => {
                event.shift_remove(&self.key);
            }
        }
    }
}

fn remove_path(map: &mut Map, parts: &[Box<str>]) {
    if parts.len() == 1 {
        map.shift_remove(&parts[0]);
        return;
    }
    if let Some(Value::Obj(child)) = map.get_mut(&parts[0]) {
        remove_path(child, &parts[1..]);
        if child.is_empty() {
            map.shift_remove(&parts[0]);
        }
    }
}

/// `head_keys`: every top-level name an alias can start from, for a "nothing to do here" check.
pub fn head_keys<'a>(aliases: impl IntoIterator<Item = &'a Alias>) -> Vec<NameRef> {
    let mut heads: Vec<NameRef> = Vec::new();
    for alias in aliases {
        for head in alias.heads() {
            if !heads.iter().any(|known| known.text == head.text) {
                heads.push(head.clone());
            }
        }
    }
    heads
}

pub fn any_present(event: &Event, heads: &[NameRef]) -> bool {
    heads.iter().any(|head| event.contains_key(head))
}

/// `find_first`: the first alias whose value `convert` accepts, and the converted value.
pub fn find_first<'a, T>(
    event: &Event,
    list: &'a [Alias],
    convert: impl Fn(&Value) -> Maybe<Option<T>>,
) -> Maybe<Option<(&'a Alias, T)>> {
    for alias in list {
        if let Some(value) = alias.get(event) {
            if let Some(result) = convert(value)? {
                return Ok(Some((alias, result)));
            }
        }
    }
    Ok(None)
}

/// `core.tags.add_tag`: add once; a source `tags` that is not a list becomes the list's first item.
pub fn add_tag(event: &mut Event, tag: &str) {
    match event.get_mut(K::TAGS) {
        None | Some(Value::Null) => {
            event.insert(K::TAGS, Value::List(vec![Value::Str(tag.into())]));
        }
        Some(tags) => {
            if !matches!(tags, Value::List(_)) {
                let single = std::mem::replace(tags, Value::Null);
                *tags = Value::List(vec![single]);
            }
            if let Value::List(items) = tags {
                if !items
                    .iter()
                    .any(|item| matches!(item, Value::Str(s) if s == tag))
                {
                    items.push(Value::Str(tag.into()));
                }
            }
        }
    }
}

/// Python's `str.isspace` for the characters this module meets (Unicode White_Space and \x1c-\x1f).
pub fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

pub fn py_strip(text: &str) -> &str {
    text.trim_matches(py_space)
}

/// Text whose Python case mapping and regex classes this module reproduces: printable ASCII and tabs/newlines.
pub fn plain(text: &str) -> bool {
    text.bytes()
        .all(|b| (0x20..0x7f).contains(&b) || b == b'\t' || b == b'\n' || b == b'\r')
}

pub fn as_str(value: &Value) -> Maybe<Option<String>> {
    Ok(match value {
        Value::Str(s) => Some(s.clone()),
        _ => None,
    })
}

pub fn as_nonempty_str(value: &Value) -> Maybe<Option<String>> {
    Ok(match value {
        Value::Str(s) if !py_strip(s).is_empty() => Some(s.clone()),
        _ => None,
    })
}

pub fn is_ascii_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// Python's `str.lower()` on names from the options, where Rust's lowercasing is the same: refused
/// for non-ASCII text (Unicode's special casings are where the two may part).
pub fn ascii_lower(step: &str, text: &str) -> Built<String> {
    if text.is_ascii() {
        Ok(text.to_ascii_lowercase())
    } else {
        Err(Refusal::new(format!(
            "{step}: a non-ASCII name in the options ({text:?})"
        )))
    }
}

/// The Python regex `pattern` compiled for `regex`, matching the whole text (`re.fullmatch`) or not.
pub fn compile(translated: &Translated, whole: bool) -> Built<regex::Regex> {
    let source = if whole {
        format!(r"\A(?:{})\z", translated.rust)
    } else {
        translated.rust.clone()
    };
    regex::Regex::new(&source).map_err(|error| Refusal::new(format!("regex {source:?}: {error}")))
}

/// Whether `text` is one a `plain_text_only` regex reads as Python does.
pub fn plain_for_regex(text: &str) -> bool {
    text.is_ascii() && !text.bytes().any(|b| (0x1c..=0x1f).contains(&b)) && !text.ends_with('\n')
}
