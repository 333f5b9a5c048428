//! `add_metadata` (`enrich/metadata.py`): `host.name` when the line names no host, and `event.ingested`
//! (the block's, taken when the block is processed).

use super::{Build, Line, Maybe, Step};
use crate::event::{Event, K};
use crate::json::Value;
use crate::options::{Built, Options, Refusal};

pub struct AddMetadata {
    host_name: String,
    add_ingested: bool,
}

impl AddMetadata {
    pub fn build(options: &mut Options, _b: &mut Build) -> Built<Self> {
        let host_name = options
            .optional_string("host_name")?
            .ok_or_else(|| Refusal::new("add_metadata: the host name is resolved by Python"))?;
        Ok(AddMetadata {
            host_name,
            add_ingested: options.boolean("add_ingested")?,
        })
    }
}

impl Step for AddMetadata {
    fn apply(&self, event: &mut Event, line: &mut Line) -> Maybe<()> {
        let names_host = event.contains_key(K::HOST__NAME)
            || matches!(event.get(K::HOST), Some(Value::Obj(host)) if host.contains_key("name"));
        if !names_host {
            event.insert(K::HOST__NAME, Value::Str(self.host_name.clone()));
        }
        if self.add_ingested {
            event.insert(K::EVENT__INGESTED, Value::Str(line.ingested.to_string()));
        }
        Ok(())
    }
}
