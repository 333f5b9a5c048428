//! `fingerprint_error` (`parsers/fingerprint.py`): `error.grouping_key`, `error.grouping_name` and
//! `error.culprit` of an event `tag_error` tagged `error`, from its service, type, message and stack
//! (`fingerprint.rs`, the twin of `parsers.fingerprint.grouping`).

use super::{Build, Line, Maybe, Step};
use crate::event::{Event, K};
use crate::json::Value;
use crate::options::{Built, Options, Refusal};

pub struct FingerprintError {
    frames: usize,
}

impl FingerprintError {
    pub fn build(options: &mut Options, _b: &mut Build) -> Built<Self> {
        let frames = options.number("frames")?;
        if frames.fract() != 0.0 || !(1.0..=16.0).contains(&frames) {
            return Err(Refusal::new("fingerprint_error: frames"));
        }
        Ok(FingerprintError {
            frames: frames as usize,
        })
    }
}

fn text(value: Option<&Value>) -> Option<&str> {
    match value {
        Some(Value::Str(s)) => Some(s.as_str()),
        _ => None,
    }
}

impl Step for FingerprintError {
    fn apply(&self, event: &mut Event, _line: &mut Line) -> Maybe<()> {
        let tagged = matches!(event.get(K::TAGS), Some(Value::List(items))
            if items.iter().any(|item| matches!(item, Value::Str(s) if s == "error")));
        if !tagged {
            return Ok(());
        }
        let message = text(event.get(K::ERROR__MESSAGE))
            .or_else(|| text(event.get(K::MESSAGE)))
            .unwrap_or("");
        let (key, title, culprit) = crate::fingerprint::grouping(
            text(event.get(K::SERVICE__NAME)).unwrap_or(""),
            text(event.get(K::ERROR__TYPE)),
            message,
            text(event.get(K::ERROR__STACK_TRACE)),
            self.frames,
        );
        event.insert(K::ERROR__GROUPING_KEY, Value::Str(key));
        event.insert(K::ERROR__GROUPING_NAME, Value::Str(title));
        if let Some(culprit) = culprit {
            event.insert(K::ERROR__CULPRIT, Value::Str(culprit));
        }
        Ok(())
    }
}
