//! `apply_path_settings` (`parsers/path_settings.py`): the zone, service and tags its rules give the
//! line's file. The rules are matched in Python once per block (`ApplyPathSettings.settings_for`, with
//! fnmatch's and `os.path.abspath`'s own semantics) and handed in with the block; here they are applied.

use super::{add_tag, Build, Decline, Line, Maybe, Step};
use crate::event::{Event, K};
use crate::json::Value;
use crate::options::{Built, Options, Refusal};

pub struct ApplyPathSettings {
    has_rules: bool,
}

impl ApplyPathSettings {
    pub fn build(options: &mut Options, b: &mut Build) -> Built<Self> {
        let rules = match options.raw("rules")? {
            Value::List(rules) => rules,
            _ => return Err(Refusal::new("apply_path_settings: rules is not a list")),
        };
        for rule in &rules {
            let Value::Obj(rule) = rule else {
                return Err(Refusal::new("apply_path_settings: a rule is not a mapping"));
            };
            // Zones named by rules are read by parse_timestamp: their tables must be at hand.
            if let Some(Value::Str(zone)) = rule.get("timezone") {
                b.zone(zone)?;
            }
        }
        Ok(ApplyPathSettings {
            has_rules: !rules.is_empty(),
        })
    }
}

impl Step for ApplyPathSettings {
    fn apply(&self, event: &mut Event, line: &mut Line) -> Maybe<()> {
        if !self.has_rules {
            return Ok(());
        }
        let Some(Value::Str(path)) = event.get(K::LOG__FILE__PATH) else {
            return Ok(());
        };
        let settings = match line.path_settings {
            Some(settings) if settings.path == *path => settings,
            _ => return Err(Decline), // no settings worked out for this file: Python
        };
        if let Some(zone) = &settings.zone {
            event.insert(K::AT_TIMEZONE, Value::Str(zone.clone()));
        }
        if let Some(service) = &settings.service {
            if !event.contains_key(K::SERVICE__NAME) {
                event.insert(K::SERVICE__NAME, Value::Str(service.clone()));
            }
        }
        for tag in &settings.tags {
            add_tag(event, tag);
        }
        Ok(())
    }
}
