//! `classify_status` (`enrich/status.py`): `http.response.status_class` from an int status in 100–599.

use super::{Build, Line, Maybe, Step};
use crate::event::{Event, K};
use crate::json::Value;
use crate::options::{Built, Options};

pub struct ClassifyStatus;

impl ClassifyStatus {
    pub fn build(_options: &mut Options, _b: &mut Build) -> Built<Self> {
        Ok(ClassifyStatus)
    }
}

impl Step for ClassifyStatus {
    fn apply(&self, event: &mut Event, _line: &mut Line) -> Maybe<()> {
        if let Some(Value::Int(code)) = event.get(K::HTTP__RESPONSE__STATUS_CODE) {
            if (100..=599).contains(code) {
                let class = ["1xx", "2xx", "3xx", "4xx", "5xx"][(*code / 100 - 1) as usize];
                event.insert(K::HTTP__RESPONSE__STATUS_CLASS, Value::Str(class.into()));
            }
        }
        Ok(())
    }
}
