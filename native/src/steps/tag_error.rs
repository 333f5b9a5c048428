//! `tag_error` (`parsers/error.py`): `error.message`, `error.type`, `error.stack_trace` from the
//! shapes loggers write errors in, and tag `error` at an error level or when an exception was captured.

use super::{
    add_tag, any_present, as_str, ascii_lower, find_first, head_keys, Alias, Build, Decline, Line,
    Maybe, Step,
};
use crate::event::{Event, NameRef, K};
use crate::json::Value;
use crate::options::{Built, Options};

const ERROR_MESSAGE: K = K::ERROR__MESSAGE;
const ERROR_TYPE: K = K::ERROR__TYPE;
const ERROR_STACK: K = K::ERROR__STACK_TRACE;

type TextConverter = fn(&Value) -> Maybe<Option<String>>;

pub struct TagError {
    levels: Vec<String>,
    panics: Vec<Alias>,
    objects: Vec<Alias>,
    /// `(target, keys of an error object, converter)`, in the order they are read.
    object_keys: [(K, Vec<String>, TextConverter); 3],
    messages: Vec<Alias>,
    types: Vec<Alias>,
    stacks: Vec<Alias>,
    heads: Vec<NameRef>,
}

impl TagError {
    pub fn build(options: &mut Options, b: &mut Build) -> Built<Self> {
        let levels = options
            .string_list("levels")?
            .iter()
            .map(|level| ascii_lower("tag_error", level))
            .collect::<Built<Vec<String>>>()?;
        let objects = b.aliases(&options.string_list("objects")?);
        let object_keys = [
            (
                ERROR_TYPE,
                options.string_list("object_type_keys")?,
                as_str as TextConverter,
            ),
            (
                ERROR_MESSAGE,
                options.string_list("object_message_keys")?,
                as_str,
            ),
            (
                ERROR_STACK,
                options.string_list("object_stack_keys")?,
                as_stack,
            ),
        ];
        let messages = b.aliases(&options.string_list("message_fields")?);
        let types = b.aliases(&options.string_list("type_fields")?);
        let stacks = b.aliases(&options.string_list("stack_fields")?);
        let panics = b.aliases(&options.string_list("panic_fields")?);
        let mut heads = head_keys(
            objects
                .iter()
                .chain(&panics)
                .chain(&messages)
                .chain(&types)
                .chain(&stacks),
        );
        for target in ["error.message", "error.type", "error.stack_trace"] {
            if !heads.iter().any(|head| &*head.text == target) {
                heads.push(b.name(target));
            }
        }
        Ok(TagError {
            levels,
            panics,
            objects,
            object_keys,
            messages,
            types,
            stacks,
            heads,
        })
    }

    fn map_fields(&self, event: &mut Event) -> Maybe<bool> {
        let mut panicked = false;
        for alias in &self.panics {
            let Some(value) = alias.get(event) else {
                continue;
            };
            if let Some(text) = as_panic(value)? {
                panicked = true;
                if !event.contains_key(ERROR_MESSAGE) {
                    event.insert(ERROR_MESSAGE, Value::Str(text));
                    alias.remove(event);
                }
                break;
            }
        }
        for alias in &self.objects {
            match alias.get(event) {
                Some(Value::Str(text)) if !event.contains_key(ERROR_MESSAGE) => {
                    let text = text.clone();
                    event.insert(ERROR_MESSAGE, Value::Str(text));
                    alias.remove(event);
                }
                Some(Value::Obj(_)) => self.map_object(event, alias)?,
                _ => {}
            }
        }
        if !event.contains_key(ERROR_STACK) {
            for alias in &self.stacks {
                if alias.get(event).is_some_and(is_exception_dicts) {
                    return Err(Decline); // structlog's dict tracebacks: rendered by the Python chain
                }
            }
        }
        for (target, list, convert) in [
            (ERROR_MESSAGE, &self.messages, as_str as TextConverter),
            (ERROR_TYPE, &self.types, as_str),
            (ERROR_STACK, &self.stacks, as_stack),
        ] {
            if !event.contains_key(target) {
                if let Some((alias, value)) = find_first(event, list, convert)? {
                    alias.remove(event);
                    event.insert(target, Value::Str(value));
                }
            }
        }
        if !event.contains_key(ERROR_TYPE) || !event.contains_key(ERROR_MESSAGE) {
            derive_type_and_message(event)?;
        }
        Ok(panicked)
    }

    /// `_map_object`: the object stays in its place while its fields move out (as in Python, where
    /// it is changed in place), and goes when it is left empty.
    fn map_object(&self, event: &mut Event, alias: &Alias) -> Maybe<()> {
        let slot = alias.get_mut(event).ok_or(Decline)?;
        let Value::Obj(mut object) = std::mem::replace(slot, Value::Null) else {
            return Err(Decline);
        };
        let mut result = Ok(());
        for (target, keys, convert) in &self.object_keys {
            if event.contains_key(*target) {
                continue;
            }
            for key in keys {
                let converted = match object.get(key) {
                    Some(value) => convert(value),
                    None => Ok(None),
                };
                match converted {
                    Ok(Some(value)) => {
                        event.insert(*target, Value::Str(value));
                        object.shift_remove(key);
                        break;
                    }
                    Ok(None) => {}
                    Err(decline) => {
                        result = Err(decline);
                        break;
                    }
                }
            }
            if result.is_err() {
                break;
            }
        }
        let empty = object.is_empty();
        if let Some(slot) = alias.get_mut(event) {
            *slot = Value::Obj(object);
        }
        result?;
        if empty {
            alias.remove(event);
        }
        Ok(())
    }
}

impl Step for TagError {
    fn apply(&self, event: &mut Event, _line: &mut Line) -> Maybe<()> {
        let mut error_level = matches!(event.get(K::LOG__LEVEL), Some(Value::Str(l)) if self.levels.iter().any(|level| level == l));
        if any_present(event, &self.heads) {
            let panicked = self.map_fields(event)?;
            if panicked || event.contains_key(ERROR_TYPE) || event.contains_key(ERROR_STACK) {
                error_level = true;
            }
        }
        if error_level {
            add_tag(event, "error");
        }
        Ok(())
    }
}

/// `(type, message)` of the exception a stack names: `exception.rs`, the twin of `parsers.exception`.
fn exception_line(text: &str) -> Maybe<Option<(String, String)>> {
    Ok(crate::exception::exception_line(text))
}

fn as_stack(value: &Value) -> Maybe<Option<String>> {
    Ok(match value {
        Value::Str(s) => Some(s.clone()),
        Value::List(items)
            if !items.is_empty() && items.iter().all(|item| matches!(item, Value::Str(_))) =>
        {
            Some(
                items
                    .iter()
                    .map(|item| {
                        if let Value::Str(s) = item {
                            s.as_str()
                        } else {
                            ""
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("\n"),
            )
        }
        _ => None,
    })
}

fn is_exception_dicts(value: &Value) -> bool {
    match value {
        Value::List(items) => {
            matches!(items.first(), Some(Value::Obj(first)) if first.contains_key("exc_type"))
                && items.iter().all(|item| matches!(item, Value::Obj(_)))
        }
        _ => false,
    }
}

fn as_panic(value: &Value) -> Maybe<Option<String>> {
    Ok(match value {
        Value::Str(s) if !s.is_empty() => Some(s.clone()),
        Value::Int(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "True".into() } else { "False".into() }),
        Value::Float(_) => return Err(Decline),
        _ => None,
    })
}

fn derive_type_and_message(event: &mut Event) -> Maybe<()> {
    if let Some(Value::Str(stack)) = event.get(ERROR_STACK) {
        if let Some((kind, message)) = exception_line(stack)? {
            if !event.contains_key(ERROR_TYPE) {
                event.insert(ERROR_TYPE, Value::Str(kind));
            }
            if !event.contains_key(ERROR_MESSAGE) && !message.is_empty() {
                event.insert(ERROR_MESSAGE, Value::Str(message));
            }
            return Ok(());
        }
    }
    if !event.contains_key(ERROR_TYPE) {
        if let Some(Value::Str(message)) = event.get(ERROR_MESSAGE) {
            if let Some((kind, _)) = exception_line(message)? {
                event.insert(ERROR_TYPE, Value::Str(kind));
            }
        }
    }
    Ok(())
}
