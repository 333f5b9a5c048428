//! `map_common_fields` (`parsers/common.py`): `user.id`, `client.ip` (and `client.port`),
//! `user_agent.original`, `trace.id`, `span.id` and `service.name` from their usual source names;
//! `service` names the service of lines that carry none.

use super::{find_first, is_ascii_digits, py_strip, Alias, Build, Line, Maybe, Step};
use crate::event::{Event, K};
use crate::json::Value;
use crate::options::{Built, Options};

#[derive(Clone, Copy, PartialEq)]
enum Convert {
    Id,
    Address,
    Port,
    NonEmpty,
}

pub struct MapCommonFields {
    mappings: Vec<(K, Vec<Alias>, Convert)>,
    service: Option<String>,
}

impl MapCommonFields {
    pub fn build(options: &mut Options, b: &mut Build) -> Built<Self> {
        let mut mappings = Vec::new();
        for (target, option, convert) in [
            (K::USER__ID, "user_id_fields", Convert::Id),
            (K::CLIENT__IP, "client_ip_fields", Convert::Address),
            (K::CLIENT__PORT, "client_port_fields", Convert::Port),
            (
                K::USER_AGENT__ORIGINAL,
                "user_agent_fields",
                Convert::NonEmpty,
            ),
            (K::TRACE__ID, "trace_id_fields", Convert::Id),
            (K::SPAN__ID, "span_id_fields", Convert::Id),
            (K::SERVICE__NAME, "service_fields", Convert::NonEmpty),
        ] {
            mappings.push((target, b.aliases(&options.string_list(option)?), convert));
        }
        Ok(MapCommonFields {
            mappings,
            service: options.optional_string("service")?,
        })
    }
}

fn as_port(text: &str) -> Option<i64> {
    if is_ascii_digits(text) && text.len() <= 5 {
        let port: i64 = text.parse().ok()?;
        (port <= 65535).then_some(port)
    } else {
        None
    }
}

/// `split_host_port`: `127.0.0.1:36274` → the address and its port; `[::1]:80` too.
fn split_host_port(text: &str) -> (String, Option<i64>) {
    if let Some(inner) = text.strip_prefix('[') {
        if let Some(close) = text.find(']') {
            if close > 1 {
                let rest = &text[close + 1..];
                let port = rest.strip_prefix(':').and_then(as_port);
                if port.is_some() || rest.is_empty() {
                    return (inner[..close - 1].to_string(), port);
                }
            }
        }
        return (text.to_string(), None);
    }
    if let Some((host, port_text)) = text.split_once(':') {
        if !host.is_empty() && !port_text.contains(':') {
            if let Some(port) = as_port(port_text) {
                return (host.to_string(), Some(port));
            }
        }
    }
    (text.to_string(), None)
}

enum Common {
    Text(String),
    Address(String, Option<i64>),
    Port(i64),
}

fn convert_common(kind: Convert, value: &Value) -> Maybe<Option<Common>> {
    Ok(match (kind, value) {
        (Convert::Id, Value::Str(s)) if !s.is_empty() => Some(Common::Text(s.clone())),
        (Convert::Id, Value::Int(n)) => Some(Common::Text(n.to_string())),
        (Convert::Address, Value::Str(s)) if !py_strip(s).is_empty() => {
            let (ip, port) = split_host_port(py_strip(s));
            Some(Common::Address(ip, port))
        }
        (Convert::Port, Value::Int(n)) if (0..=65535).contains(n) => Some(Common::Port(*n)),
        (Convert::Port, Value::Str(s)) => as_port(py_strip(s)).map(Common::Port),
        (Convert::NonEmpty, Value::Str(s)) if !py_strip(s).is_empty() => {
            Some(Common::Text(s.clone()))
        }
        _ => None,
    })
}

impl Step for MapCommonFields {
    fn apply(&self, event: &mut Event, _line: &mut Line) -> Maybe<()> {
        for (target, list, kind) in &self.mappings {
            if *target == K::CLIENT__PORT && event.contains_key(K::CLIENT__PORT) {
                continue;
            }
            let Some((alias, value)) = find_first(event, list, |v| convert_common(*kind, v))?
            else {
                continue;
            };
            alias.remove(event);
            match value {
                Common::Text(text) => event.insert(*target, Value::Str(text)),
                Common::Address(ip, port) => {
                    if let Some(port) = port {
                        event.insert(K::CLIENT__PORT, Value::Int(port));
                    }
                    event.insert(*target, Value::Str(ip));
                }
                Common::Port(port) => event.insert(*target, Value::Int(port)),
            }
        }
        if let Some(service) = &self.service {
            if !event.contains_key(K::SERVICE__NAME) {
                event.insert(K::SERVICE__NAME, Value::Str(service.clone()));
            }
        }
        Ok(())
    }
}
