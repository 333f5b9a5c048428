//! `fit_ecs_objects` (`enrich/ecs_objects.py`): a non-object value at an ECS object name moves to
//! that object's home field (`<root>.value` when the home is taken).

use super::{Build, Line, Maybe, Step};
use crate::event::{Event, NameRef};
use crate::json::Value;
use crate::options::{Built, Options};

pub struct FitEcsObjects {
    /// `(root, home, "<root>.value")`, in the order of `homes`.
    homes: Vec<(NameRef, NameRef, NameRef)>,
}

impl FitEcsObjects {
    pub fn build(options: &mut Options, b: &mut Build) -> Built<Self> {
        let homes = options
            .string_map("homes")?
            .iter()
            .map(|(root, home)| (b.name(root), b.name(home), b.name(&format!("{root}.value"))))
            .collect();
        Ok(FitEcsObjects { homes })
    }
}

impl Step for FitEcsObjects {
    fn apply(&self, event: &mut Event, _line: &mut Line) -> Maybe<()> {
        for (root, home, taken) in &self.homes {
            match event.get(root) {
                None | Some(Value::Null) | Some(Value::Obj(_)) => continue,
                Some(_) => {}
            }
            let value = event.shift_remove(root).unwrap_or(Value::Null);
            let target = if event.contains_key(home) {
                taken
            } else {
                home
            };
            event.insert(target.key(), value);
        }
        Ok(())
    }
}
