//! `decode_json` (`parsers/decode.py`): the line's object with the source fields merged in (or, with
//! `target`, under that key); a line that is not a JSON object keeps its text in `message`, tagged
//! `_jsonparsefailure`; invalid UTF-8 is repaired, tagged `_utf8error`, and the repaired text read as
//! any other. loguru's envelope and a line naming an internal key are declined (Python's).

use super::{add_tag, Decline, Maybe};
use crate::event::{Event, Key, Names, K};
use crate::json::{Map, Reader, Value};
use crate::options::{Built, Options};
use crate::plain;
use std::borrow::Cow;

const JSON_PARSE_FAILURE: &str = "_jsonparsefailure";
const UTF8_ERROR: &str = "_utf8error";

pub struct DecodeJson {
    target: Option<String>,
}

impl DecodeJson {
    pub fn build(options: &mut Options) -> Built<Self> {
        Ok(DecodeJson {
            target: options.optional_string("target")?,
        })
    }

    /// The event of one line: `source` holds the source's fields in order (`@source_id`,
    /// `log.file.path`, `log.offset` …).
    pub fn decode<'n>(
        &self,
        names: &'n Names,
        raw: &[u8],
        source: impl IntoIterator<Item = (Key, Value)>,
    ) -> Maybe<Event<'n>> {
        self.decode_text(names, raw, source, false)
    }

    /// `decode` of `text`; `repaired`: the line was not UTF-8 and this is its repair (Python tags the
    /// source event first, so the tag comes before a line's own tags are merged with it: `add_tag`
    /// after the merge is the same). The reader checks UTF-8 first: a valid line is checked once.
    fn decode_text<'n>(
        &self,
        names: &'n Names,
        text: &[u8],
        source: impl IntoIterator<Item = (Key, Value)>,
        repaired: bool,
    ) -> Maybe<Event<'n>> {
        // Room for the line's fields and those the chain adds (deletes leave their entries in place).
        let mut event = Event::new(names, 64);
        let mut nested: Vec<(String, Value)> = Vec::new();
        let read = if self.target.is_none() {
            Reader::new(text).members(|name, value| {
                let key = match name {
                    Cow::Borrowed(name) => names.key(name),
                    Cow::Owned(name) => names.key_owned(name),
                };
                event.push_new(key, value)
            })
        } else {
            Reader::new(text).members(|name, value| {
                nested.push((name.into_owned(), value));
                Ok(())
            })
        };
        if read.is_err() {
            if !repaired && std::str::from_utf8(text).is_err() {
                let text = plain::repaired(plain::strip_line_end(text));
                return self.decode_text(names, text.as_bytes(), source, true);
            }
            if !plain::never_an_object(text) {
                return Err(Decline); // an object our reader does not take (duplicate keys …): Python
            }
            let mut event = Event::new(names, 8);
            for (key, value) in source {
                event.insert(key, value);
            }
            if repaired {
                add_tag(&mut event, UTF8_ERROR);
            }
            add_tag(&mut event, JSON_PARSE_FAILURE);
            let message = String::from_utf8_lossy(plain::strip_line_end(text)).into_owned();
            event.insert(K::MESSAGE, Value::Str(message));
            return Ok(event);
        }
        if let Some(target) = &self.target {
            let map = Map::from_entries(nested).ok_or(Decline)?;
            if map.contains_key("record") && map.contains_key("text") {
                return Err(Decline); // loguru's envelope: unwrapped by Python
            }
            for (key, value) in source {
                event.insert(key, value);
            }
            if repaired {
                add_tag(&mut event, UTF8_ERROR); // on the source event, before the object goes in
            }
            event.insert(names.key(target), Value::Obj(map));
            return Ok(event);
        } else {
            if event.has_duplicate_names() {
                return Err(Decline);
            }
            if event.contains_key(K::RECORD) && event.contains_key(K::TEXT) {
                return Err(Decline);
            }
            for internal in [K::AT_RAW, K::AT_SOURCE_ID, K::AT_TIMEZONE] {
                if event.contains_key(internal) {
                    return Err(Decline);
                }
            }
            for (key, value) in source {
                event.insert(key, value);
            }
        }
        if repaired {
            add_tag(&mut event, UTF8_ERROR);
        }
        Ok(event)
    }
}
