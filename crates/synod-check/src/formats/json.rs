//! Synod's JSON history format, version 1.
//!
//! This is what the simulator and the playground export, and what `synod check --format json`
//! reads. One object:
//!
//! ```json
//! {"version": 1, "model": "kv", "operations": [
//!   {"client": 0, "call": 123, "return": 456,
//!    "input": {"op": "set", "key": "k", "value": "v"}, "output": {"kind": "done"}},
//!   {"client": 1, "call": 130, "return": null,
//!    "input": {"op": "get", "key": "k"}, "output": null}
//! ]}
//! ```
//!
//! - `version` must be `1`.
//! - `model` is `"kv"`, `"register"` or `"kv-append"`. A register history may give its initial
//!   value as `"init"` (an integer, a string, or `null`, the default).
//! - `client` is any non-negative integer; `call` and `return` are integers, microseconds of
//!   virtual time for Synod, with `return >= call`. Intervals are closed.
//! - `"return": null` or `"output": null` means the outcome is unknown: the operation may have
//!   taken effect at any time after its call, or never, and its output is ignored.
//!
//! Inputs and outputs per model (they match synod-core's `KvOp` and `KvResult`):
//!
//! | model | input (`"op"`) | output (`"kind"`) |
//! |---|---|---|
//! | `kv` | `{"op":"get","key":K}` | `{"kind":"value","value":V}` (`V` a string or `null` when absent) |
//! | `kv` | `{"op":"set","key":K,"value":V}` | `{"kind":"done"}` |
//! | `kv` | `{"op":"contains","key":K}` | `{"kind":"present","present":B}` |
//! | `kv` | `{"op":"remove","key":K}` | `{"kind":"removed","existed":B}` (whether it existed) |
//! | `register` | `{"op":"read"}` | `{"kind":"value","value":X}` (`X` an integer, string or `null`) |
//! | `register` | `{"op":"write","value":X}` | `{"kind":"done"}` |
//! | `register` | `{"op":"cas","expected":X,"new":X}` | `{"kind":"cas","ok":B}` (whether it swapped) |
//! | `kv-append` | `{"op":"get","key":K}` | `{"kind":"value","value":S}` (`""` when missing) |
//! | `kv-append` | `{"op":"put","key":K,"value":S}` | `{"kind":"done"}` |
//! | `kv-append` | `{"op":"append","key":K,"value":S}` | `{"kind":"done"}` |
//!
//! Unknown top-level fields are ignored (room for metadata such as a seed). Errors name the line
//! of the offending operation.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::{AnyHistory, ModelKind, ReadOptions, ReadResult};
use crate::history::{History, Operation};
use crate::model::Model;
use crate::models::kv::KvModel;
use crate::models::kv_append::KvAppendModel;
use crate::models::register::{RegValue, RegisterModel};

/// The only version this crate reads and writes.
pub const VERSION: u64 = 1;

#[derive(Deserialize)]
struct RawFile<'a> {
    version: u64,
    model: String,
    #[serde(default)]
    init: Option<RegValue>,
    #[serde(borrow)]
    operations: Vec<&'a RawValue>,
}

fn line_of(text: &str, offset: usize) -> u32 {
    let offset = offset.min(text.len());
    u32::try_from(
        text.as_bytes()[..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1,
    )
    .unwrap_or(u32::MAX)
}

fn json_error(e: &serde_json::Error) -> (u32, String) {
    (
        u32::try_from(e.line()).unwrap_or(u32::MAX).max(1),
        e.to_string(),
    )
}

pub(crate) fn read(text: &str, options: &ReadOptions) -> ReadResult {
    let file: RawFile<'_> = serde_json::from_str(text).map_err(|e| json_error(&e))?;
    let field_line = |name: &str| {
        text.find(&format!("\"{name}\""))
            .map_or(1, |at| line_of(text, at))
    };
    if file.version != VERSION {
        return Err((
            field_line("version"),
            format!(
                "unsupported version {} (this checker reads version {VERSION})",
                file.version
            ),
        ));
    }
    let Some(model) = ModelKind::from_name(&file.model) else {
        return Err((
            field_line("model"),
            format!(
                "unknown model {:?} (expected \"kv\", \"register\" or \"kv-append\")",
                file.model
            ),
        ));
    };
    if let Some(wanted) = options.model.filter(|&m| m != model) {
        return Err((
            field_line("model"),
            format!(
                "the file is a {} history, not {}",
                model.name(),
                wanted.name()
            ),
        ));
    }
    let ops = &file.operations;
    match model {
        ModelKind::Kv => read_ops(text, ops, &KvModel).map(|(h, l)| (AnyHistory::Kv(h), l)),
        ModelKind::KvAppend => {
            read_ops(text, ops, &KvAppendModel).map(|(h, l)| (AnyHistory::KvAppend(h), l))
        }
        ModelKind::Register => {
            let init = options.init.clone().or(file.init);
            let model = RegisterModel { init: init.clone() };
            read_ops(text, ops, &model)
                .map(|(history, l)| (AnyHistory::Register { init, history }, l))
        }
    }
}

type Ops<M> = History<<M as Model>::Input, <M as Model>::Output>;

fn read_ops<M>(
    text: &str,
    raws: &[&RawValue],
    model: &M,
) -> Result<(Ops<M>, Vec<u32>), (u32, String)>
where
    M: Model,
    M::Input: DeserializeOwned,
    M::Output: DeserializeOwned,
{
    let base = text.as_ptr() as usize;
    let mut operations = Vec::with_capacity(raws.len());
    let mut lines = Vec::with_capacity(raws.len());
    let (mut counted_to, mut line) = (0usize, 1u32);
    for (i, raw) in raws.iter().enumerate() {
        // The raw value borrows from `text`, so its address gives its offset and hence its line.
        let offset = (raw.get().as_ptr() as usize)
            .saturating_sub(base)
            .min(text.len());
        let newlines = text.as_bytes()[counted_to.min(offset)..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        line = line.saturating_add(u32::try_from(newlines).unwrap_or(u32::MAX));
        counted_to = counted_to.max(offset);
        let op: Operation<M::Input, M::Output> = serde_json::from_str(raw.get()).map_err(|e| {
            let (l, m) = json_error(&e);
            (line.saturating_add(l - 1), format!("operation {i}: {m}"))
        })?;
        if let Some(ret) = op.ret {
            if ret < op.call {
                return Err((
                    line,
                    format!(
                        "operation {i}: returns at {ret}, before its call at {}",
                        op.call
                    ),
                ));
            }
        }
        if let Some(out) = &op.output {
            model
                .validate(&op.input, out)
                .map_err(|m| (line, format!("operation {i}: {m}")))?;
        }
        operations.push(op);
        lines.push(line);
    }
    Ok((History { operations }, lines))
}

#[derive(Serialize)]
struct Header<'a> {
    version: u64,
    model: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    init: Option<&'a RegValue>,
}

/// Writes Synod JSON, one operation per line.
pub fn write(history: &AnyHistory) -> String {
    let init = match history {
        AnyHistory::Register { init, .. } => init.as_ref(),
        _ => None,
    };
    let header = serde_json::to_string(&Header {
        version: VERSION,
        model: history.model().name(),
        init,
    })
    .expect("header serializes");
    let ops: Vec<String> = match history {
        AnyHistory::Kv(h) => lines(h),
        AnyHistory::Register { history, .. } => lines(history),
        AnyHistory::KvAppend(h) => lines(h),
    };
    let mut out = String::from(header.trim_end_matches('}'));
    out.push_str(",\"operations\":[");
    if !ops.is_empty() {
        out.push('\n');
        out.push_str(&ops.join(",\n"));
        out.push('\n');
    }
    out.push_str("]}\n");
    out
}

fn lines<I: Serialize, O: Serialize>(history: &History<I, O>) -> Vec<String> {
    history
        .operations
        .iter()
        .map(|op| serde_json::to_string(op).expect("operations serialize"))
        .collect()
}
