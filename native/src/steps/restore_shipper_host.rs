//! `restore_shipper_host` (`ingest/kafka_wire.py`, the indexer's step before `add_metadata`): the
//! shipper's host, carried as `@shipper_host`, becomes `host.name` where `add_metadata` would add one.

use super::{Build, Line, Maybe, Step};
use crate::event::{Event, K};
use crate::json::Value;
use crate::options::{Built, Options};

pub struct RestoreShipperHost {
    fill: bool,
}

impl RestoreShipperHost {
    pub fn build(options: &mut Options, _b: &mut Build) -> Built<Self> {
        Ok(RestoreShipperHost {
            fill: options.boolean("fill")?,
        })
    }
}

impl Step for RestoreShipperHost {
    fn apply(&self, event: &mut Event, _line: &mut Line) -> Maybe<()> {
        let host = match event.shift_remove(K::AT_SHIPPER_HOST) {
            None | Some(Value::Null) => return Ok(()),
            Some(host) => host,
        };
        if !self.fill || event.contains_key(K::HOST__NAME) {
            return Ok(());
        }
        if matches!(event.get(K::HOST), Some(Value::Obj(own)) if own.contains_key("name")) {
            return Ok(());
        }
        event.insert(K::HOST__NAME, host);
        Ok(())
    }
}
