//! `assign_id` (`enrich/event_id.py`): `event.id` from the file identity and offset; an event without
//! them (stdin, a hand-built one) is hashed by content in Python: declined.

use super::{Build, Decline, Line, Maybe, Step};
use crate::event::{Event, K};
use crate::json::{write_int, Value};
use crate::options::{Built, Options};
use base64::Engine;
use blake2::digest::{Update, VariableOutput};

pub struct AssignId;

impl AssignId {
    pub fn build(_options: &mut Options, _b: &mut Build) -> Built<Self> {
        Ok(AssignId)
    }
}

/// `event_id`: 15 bytes of BLAKE2b of `source_id:offset`, in unpadded base64url.
pub fn event_id(source_id: &str, offset: i64) -> String {
    let mut hasher = blake2::Blake2bVar::new(15).expect("15 is a valid BLAKE2b size");
    let mut text = Vec::with_capacity(source_id.len() + 21);
    text.extend_from_slice(source_id.as_bytes());
    text.push(b':');
    write_int(&mut text, offset);
    hasher.update(&text);
    let mut digest = [0u8; 15];
    hasher
        .finalize_variable(&mut digest)
        .expect("digest size matches");
    base64::engine::general_purpose::URL_SAFE.encode(digest)
}

impl Step for AssignId {
    fn apply(&self, event: &mut Event, _line: &mut Line) -> Maybe<()> {
        let source_id = match event.shift_remove(K::AT_SOURCE_ID) {
            Some(Value::Str(id)) if !id.is_empty() && id != "stdin" => id,
            _ => return Err(Decline), // a content-hashed id: Python
        };
        let Some(Value::Int(offset)) = event.get(K::LOG__OFFSET) else {
            return Err(Decline);
        };
        let id = event_id(&source_id, *offset);
        event.insert(K::EVENT__ID, Value::Str(id));
        Ok(())
    }
}
