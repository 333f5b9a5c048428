//! `parse_message` (`parsers/message.py`): the first string among `fields` moves to `message`, unless
//! a `message` is there already (whatever its type).

use super::{as_str, find_first, Alias, Build, Line, Maybe, Step};
use crate::event::{Event, K};
use crate::json::Value;
use crate::options::{Built, Options};

pub struct ParseMessage {
    fields: Vec<Alias>,
}

impl ParseMessage {
    pub fn build(options: &mut Options, b: &mut Build) -> Built<Self> {
        let fields: Vec<String> = options
            .string_list("fields")?
            .into_iter()
            .filter(|name| name != "message")
            .collect();
        Ok(ParseMessage {
            fields: b.aliases(&fields),
        })
    }
}

impl Step for ParseMessage {
    fn apply(&self, event: &mut Event, _line: &mut Line) -> Maybe<()> {
        if event.contains_key(K::MESSAGE) {
            return Ok(());
        }
        if let Some((alias, text)) = find_first(event, &self.fields, as_str)? {
            alias.remove(event);
            event.insert(K::MESSAGE, Value::Str(text));
        }
        Ok(())
    }
}
