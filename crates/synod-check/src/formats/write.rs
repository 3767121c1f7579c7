//! Writers to the other formats, for the playground's export.
//!
//! Both Jepsen-style formats list events, not intervals, so the writers turn each operation into
//! an invocation at its call time and a completion at its return time and sort them, calls
//! before returns at equal times, so that reading the file back gives the same real-time order.
//! An operation whose output is unknown completes with `:info` at its return time (or at the
//! end, if it never returned); a client that invokes while its previous operation is still open
//! gets a fresh process number, as Jepsen does after `:info`.
//!
//! Two things do not survive the trip through Knossos's EDN semantics, which is weaker: a cas
//! that returned false is written as `:fail` (Knossos reads "did not happen"), and `:ok :read nil`
//! is read back as "any value". The jepsen-log writer keeps both exactly.

use std::collections::BTreeMap;

use super::{AnyHistory, Kind};
use crate::history::History;
use crate::models::kv::{KvInput, KvOutput};
use crate::models::kv_append::{AppendInput, AppendOutput};
use crate::models::register::{RegValue, RegisterInput, RegisterOutput};

/// One event to write: what happened, to which operation, by which process.
struct Scheduled {
    kind: Kind,
    op: u32,
    process: u64,
}

/// Orders the events of a history and assigns process numbers.
fn schedule<I, O>(history: &History<I, O>, is_fail: impl Fn(&O) -> bool) -> Vec<Scheduled> {
    let mut events: Vec<(u64, u8, u32)> = Vec::new();
    for (id, op) in history.operations.iter().enumerate() {
        let id = u32::try_from(id).expect("at most 2^32 operations");
        events.push((op.call, 0, id));
        events.push((op.ret.unwrap_or(u64::MAX), 1, id));
    }
    events.sort_unstable();
    let mut next_process = history
        .operations
        .iter()
        .map(|o| o.client)
        .max()
        .map_or(0, |m| m.saturating_add(1));
    let mut lane: BTreeMap<u64, (u64, bool)> = BTreeMap::new(); // client -> (process, open)
    let mut process_of = vec![0u64; history.operations.len()];
    let mut out = Vec::with_capacity(events.len());
    for (_, rank, id) in events {
        let op = &history.operations[id as usize];
        let kind = if rank == 0 {
            let slot = lane.entry(op.client).or_insert((op.client, false));
            if slot.1 {
                slot.0 = next_process;
                next_process = next_process.saturating_add(1);
            }
            slot.1 = true;
            process_of[id as usize] = slot.0;
            Kind::Invoke
        } else {
            if let Some(slot) = lane.get_mut(&op.client) {
                if slot.0 == process_of[id as usize] {
                    slot.1 = false;
                }
            }
            match op.known_output() {
                None => Kind::Info,
                Some(out) if is_fail(out) => Kind::Fail,
                Some(_) => Kind::Ok,
            }
        };
        out.push(Scheduled {
            kind,
            op: id,
            process: process_of[id as usize],
        });
    }
    out
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Invoke => "invoke",
        Kind::Ok => "ok",
        Kind::Fail => "fail",
        Kind::Info => "info",
    }
}

fn edn_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn edn_reg(value: Option<&RegValue>) -> String {
    match value {
        None => String::from("nil"),
        Some(RegValue::Int(n)) => n.to_string(),
        Some(RegValue::Str(s))
            if s.len() > 1
                && s.starts_with(':')
                && !s.contains(|c: char| c.is_whitespace() || "()[]{}\",;".contains(c)) =>
        {
            s.clone()
        }
        Some(RegValue::Str(s)) => edn_string(s),
    }
}

/// `(f, value)` of a register event.
fn register_fields(
    input: &RegisterInput,
    output: Option<&RegisterOutput>,
    kind: Kind,
) -> (&'static str, String) {
    match input {
        RegisterInput::Read => match (kind, output) {
            (Kind::Ok, Some(RegisterOutput::Value { value })) => ("read", edn_reg(value.as_ref())),
            _ => ("read", String::from("nil")),
        },
        RegisterInput::Write { value } => ("write", edn_reg(Some(value))),
        RegisterInput::Cas { expected, new } => (
            "cas",
            format!("[{} {}]", edn_reg(Some(expected)), edn_reg(Some(new))),
        ),
    }
}

/// Writes a history as Jepsen EDN, one map per line.
pub fn to_edn(history: &AnyHistory) -> String {
    let mut out = String::new();
    let mut line = |process: u64, kind: Kind, f: &str, key: Option<&str>, value: String| {
        let key = key.map_or(String::new(), |k| format!(", :key {}", edn_string(k)));
        out.push_str(&format!(
            "{{:process {process}, :type :{}, :f :{f}{key}, :value {value}}}\n",
            kind_name(kind)
        ));
    };
    match history {
        AnyHistory::Register { history, .. } => {
            for ev in schedule(history, |o| matches!(o, RegisterOutput::Cas { ok: false })) {
                let op = &history.operations[ev.op as usize];
                let (f, value) = register_fields(&op.input, op.known_output(), ev.kind);
                line(ev.process, ev.kind, f, None, value);
            }
        }
        AnyHistory::KvAppend(history) => {
            for ev in schedule(history, |_| false) {
                let op = &history.operations[ev.op as usize];
                let (f, key, value) = append_fields(&op.input, op.known_output(), ev.kind);
                line(ev.process, ev.kind, f, Some(key), value);
            }
        }
        AnyHistory::Kv(history) => {
            for ev in schedule(history, |_| false) {
                let op = &history.operations[ev.op as usize];
                let (f, value) = kv_fields(&op.input, op.known_output(), ev.kind);
                line(ev.process, ev.kind, f, Some(op.input.key()), value);
            }
        }
    }
    out
}

fn append_fields<'a>(
    input: &'a AppendInput,
    output: Option<&AppendOutput>,
    kind: Kind,
) -> (&'static str, &'a str, String) {
    match input {
        AppendInput::Get { key } => match (kind, output) {
            (Kind::Ok, Some(AppendOutput::Value { value })) => ("get", key, edn_string(value)),
            _ => ("get", key, String::from("nil")),
        },
        AppendInput::Put { key, value } => ("put", key, edn_string(value)),
        AppendInput::Append { key, value } => ("append", key, edn_string(value)),
    }
}

fn kv_fields(input: &KvInput, output: Option<&KvOutput>, kind: Kind) -> (&'static str, String) {
    let answered = if kind == Kind::Ok { output } else { None };
    match (input, answered) {
        (KvInput::Get { .. }, Some(KvOutput::Value { value: Some(v) })) => ("get", edn_string(v)),
        (KvInput::Get { .. }, _) => ("get", String::from("nil")),
        (KvInput::Set { value, .. }, _) => ("set", edn_string(value)),
        (KvInput::Contains { .. }, Some(KvOutput::Present { present })) => {
            ("contains", present.to_string())
        }
        (KvInput::Contains { .. }, _) => ("contains", String::from("nil")),
        (KvInput::Remove { .. }, Some(KvOutput::Removed { existed })) => {
            ("remove", existed.to_string())
        }
        (KvInput::Remove { .. }, _) => ("remove", String::from("nil")),
    }
}

/// Writes Porcupine's kv format (one EDN map per line); only for the kv-append model.
pub fn to_porcupine_kv(history: &AnyHistory) -> Result<String, String> {
    match history {
        AnyHistory::KvAppend(_) => Ok(to_edn(history)),
        other => Err(format!(
            "Porcupine's kv format holds kv-append histories, not {}",
            other.model().name()
        )),
    }
}

/// Writes Jepsen etcd log lines; only for the register model. Porcupine's own parser further
/// expects integer values.
pub fn to_jepsen_log(history: &AnyHistory) -> Result<String, String> {
    let AnyHistory::Register { history, .. } = history else {
        return Err(format!(
            "Jepsen etcd logs hold register histories, not {}",
            history.model().name()
        ));
    };
    let mut out = String::new();
    for ev in schedule(history, |o| matches!(o, RegisterOutput::Cas { ok: false })) {
        let op = &history.operations[ev.op as usize];
        let (f, mut value) = register_fields(&op.input, op.known_output(), ev.kind);
        let mut kind = ev.kind;
        if kind == Kind::Info {
            // The log's own spelling of an unknown outcome: reads fail with :timed-out, the
            // rest are :info.
            value = String::from(":timed-out");
            if op.input == RegisterInput::Read {
                kind = Kind::Fail;
            }
        }
        out.push_str(&format!(
            "INFO  jepsen.util - {}\t:{}\t:{f}\t{value}\n",
            ev.process,
            kind_name(kind)
        ));
    }
    Ok(out)
}
