//! Jepsen's etcd log lines, as in Porcupine's `test_data/jepsen`.
//!
//! Each non-blank line reads `INFO  jepsen.util - PROCESS TYPE F VALUE`, where the separators
//! are tabs or runs of spaces and VALUE is an EDN value (`nil`, an integer, `[old new]`,
//! `:timed-out`). Anything else is an error naming the line.

use super::edn::read_one;
use super::{pair, AnyHistory, Event, Kind, ReadResult, RegisterEvents};
use crate::models::register::RegValue;

const PREFIX: &str = "jepsen.util - ";

pub(crate) fn read(text: &str, init: Option<RegValue>) -> ReadResult {
    let mut events = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = u32::try_from(n + 1).unwrap_or(u32::MAX);
        if raw.trim().is_empty() {
            continue;
        }
        events.push(parse_line(raw).map_err(|m| (line, m))?.with_line(line));
    }
    let model = RegisterEvents {
        nil_read_is_unknown: false,
        fail_means_false: true,
    };
    let (history, lines) = pair(&events, &model)?;
    Ok((AnyHistory::Register { init, history }, lines))
}

impl Event {
    fn with_line(mut self, line: u32) -> Event {
        self.line = line;
        self
    }
}

fn parse_line(raw: &str) -> Result<Event, String> {
    let expected = "expected `INFO  jepsen.util - PROCESS :TYPE :F VALUE`";
    if !raw.starts_with("INFO") {
        return Err(format!("{expected}, found {:?}", truncate(raw)));
    }
    let Some(at) = raw.find(PREFIX) else {
        return Err(format!("{expected}, found {:?}", truncate(raw)));
    };
    let rest = &raw[at + PREFIX.len()..];
    let mut fields = rest.split_whitespace();
    let process = fields
        .next()
        .ok_or_else(|| format!("{expected}: missing process"))?;
    let process: u64 = process
        .parse()
        .map_err(|_| format!("process must be a number, found {process:?}"))?;
    let kind = fields
        .next()
        .ok_or_else(|| format!("{expected}: missing type"))?;
    let kind = kind
        .strip_prefix(':')
        .and_then(Kind::from_name)
        .ok_or_else(|| format!("type must be :invoke, :ok, :fail or :info, found {kind:?}"))?;
    let f = fields
        .next()
        .ok_or_else(|| format!("{expected}: missing operation"))?;
    let f = f
        .strip_prefix(':')
        .ok_or_else(|| format!("operation must be a keyword like :read, found {f:?}"))?;
    let value_text = fields.collect::<Vec<_>>().join(" ");
    if value_text.is_empty() {
        return Err(format!("{expected}: missing value"));
    }
    let value = read_one(&value_text)?.into_owned();
    Ok(Event {
        line: 0,
        process,
        kind,
        f: f.to_owned(),
        key: None,
        value,
    })
}

fn truncate(s: &str) -> String {
    s.chars().take(60).collect()
}
