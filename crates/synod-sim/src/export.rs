//! The client history, the event trace and the scenario as files.
//!
//! # Histories
//!
//! The history is exported as the linearizability checker sees it ([`crate::history::to_check`]):
//! an operation that definitely failed did not happen and is left out; one whose outcome is
//! unknown has no return and no output. Three formats, all written by `synod-check`, so that
//! `synod check` reads each of them back:
//!
//! - [`history_json`]: Synod JSON (model `kv`), lossless.
//! - [`history_edn`]: Jepsen's `history.edn`, as Knossos reads it (`:f` is `:get`, `:set`,
//!   `:contains` or `:remove`, with `:key`).
//! - [`history_porcupine`]: Porcupine's kv format, whose model has only get, put and append
//!   and reads a missing key as `""`. Set becomes put and a missing value reads `""`; a
//!   remove becomes a put of `""` (its answer, whether the key existed, is lost); a contains
//!   has no counterpart and is left out. Each of these only forgets information, so a
//!   history that is linearizable stays linearizable in Porcupine's model: the export never
//!   shows a violation that was not there, though it may miss one that hinged on what was
//!   left out. [`PorcupineExport`] counts what was rewritten and left out so the page can
//!   say so.
//!
//! # The trace
//!
//! [`trace_json`]: a header (format version, seed, trace hash as 16 hex digits, end time)
//! and every trace record, one per line.
//!
//! # Scenario files
//!
//! [`scenario_to_json`] writes pretty JSON; [`scenario_from_json`] reads it back with the
//! same rules as a share link (a newer scenario version or a field this build does not know
//! is refused rather than half-loaded) and errors that name the line and column, and the
//! path of the field, where there is one.

use crate::history::{input, output, to_check};
use crate::json_path;
use crate::link::first_unknown_field;
use crate::scenario::{Scenario, ScenarioError, SCENARIO_VERSION};
use crate::world::{HistoryEntry, Outcome, Simulation, TraceRecord};
use serde::Serialize;
use serde_json::Value;
use std::fmt;
use synod_check::{
    json_format, to_edn, to_porcupine_kv, AnyHistory, AppendInput, AppendOutput, History, KvInput,
    KvOutput,
};

/// The version of the trace file format.
pub const TRACE_FORMAT_VERSION: u32 = 1;

/// The largest scenario file [`scenario_from_json`] reads.
pub const MAX_SCENARIO_FILE_BYTES: usize = 16 << 20;

/// The history as Synod JSON (`synod check --format json`).
pub fn history_json(entries: &[HistoryEntry]) -> String {
    json_format::write(&AnyHistory::Kv(to_check(entries).0))
}

/// The history as a Jepsen `history.edn`, one map per line.
pub fn history_edn(entries: &[HistoryEntry]) -> String {
    to_edn(&AnyHistory::Kv(to_check(entries).0))
}

/// A history in Porcupine's kv format, and what the translation could not keep.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PorcupineExport {
    pub text: String,
    /// Contains operations, which Porcupine's model cannot express, left out.
    pub left_out: u64,
    /// Removes written as a put of `""`.
    pub rewritten: u64,
}

/// The history in Porcupine's kv format (get/put/append); see the module docs for the
/// translation.
pub fn history_porcupine(entries: &[HistoryEntry]) -> PorcupineExport {
    let (mut left_out, mut rewritten) = (0, 0);
    let mut history: History<AppendInput, AppendOutput> = History::new();
    for e in entries {
        let (ret, answer) = match &e.outcome {
            Outcome::Failed { .. } => continue,
            Outcome::Ok { result } => (e.ret.map(|t| t.as_us()), Some(output(result))),
            Outcome::Pending | Outcome::Unknown => (None, None),
        };
        let answered = |out: AppendOutput| answer.as_ref().map(|_| out);
        let (op_in, op_out) = match input(&e.op) {
            KvInput::Get { key } => {
                let value = match &answer {
                    Some(KvOutput::Value { value }) => value.clone().unwrap_or_default(),
                    _ => String::new(),
                };
                (
                    AppendInput::Get { key },
                    answered(AppendOutput::Value { value }),
                )
            }
            KvInput::Set { key, value } => (
                AppendInput::Put { key, value },
                answered(AppendOutput::Done),
            ),
            KvInput::Remove { key } => {
                rewritten += 1;
                let put = AppendInput::Put {
                    key,
                    value: String::new(),
                };
                (put, answered(AppendOutput::Done))
            }
            KvInput::Contains { .. } => {
                left_out += 1;
                continue;
            }
        };
        history.push(synod_check::Operation {
            client: u64::from(e.client.0),
            call: e.call.as_us(),
            ret: op_out.as_ref().and(ret),
            input: op_in,
            output: op_out,
        });
    }
    let text = to_porcupine_kv(&AnyHistory::KvAppend(history))
        .expect("a kv-append history is Porcupine's own model");
    PorcupineExport {
        text,
        left_out,
        rewritten,
    }
}

#[derive(Serialize)]
struct TraceHeader<'a> {
    version: u32,
    seed: u64,
    trace_hash: &'a str,
    end_us: u64,
}

/// The event trace as JSON: a header and the records, one per line. Empty records when the
/// simulation was told not to record its trace (the hash is always there).
pub fn trace_json(sim: &Simulation) -> String {
    let hash = format!("{:016x}", sim.trace_hash());
    let header = serde_json::to_string(&TraceHeader {
        version: TRACE_FORMAT_VERSION,
        seed: sim.scenario().seed,
        trace_hash: &hash,
        end_us: sim.now().as_us(),
    })
    .expect("trace headers serialize");
    let records: Vec<String> = sim.trace().iter().map(record_line).collect();
    let mut out = String::from(header.trim_end_matches('}'));
    out.push_str(",\"records\":[");
    if !records.is_empty() {
        out.push('\n');
        out.push_str(&records.join(",\n"));
        out.push('\n');
    }
    out.push_str("]}\n");
    out
}

fn record_line(r: &TraceRecord) -> String {
    serde_json::to_string(r).expect("trace records serialize")
}

/// A scenario as a pretty-printed JSON file.
pub fn scenario_to_json(scenario: &Scenario) -> String {
    let mut text = serde_json::to_string_pretty(scenario).expect("scenarios serialize");
    text.push('\n');
    text
}

/// Why a scenario file cannot be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScenarioFileError {
    /// The file is empty (or only whitespace).
    Empty,
    /// The file is larger than [`MAX_SCENARIO_FILE_BYTES`].
    TooLarge { bytes: u64 },
    /// The file is not JSON, or ends early.
    Syntax {
        line: u64,
        column: u64,
        message: String,
    },
    /// JSON, but not a scenario: a field has the wrong type, or one is missing.
    Invalid {
        line: u64,
        column: u64,
        message: String,
    },
    /// The scenario format is newer than this build reads.
    NewerVersion { found: u64, supported: u32 },
    /// A field this build does not know: written by a newer Synod, or misspelt.
    UnknownField { path: String },
    /// A well-formed scenario that does not make sense.
    InvalidScenario(ScenarioError),
}

impl fmt::Display for ScenarioFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScenarioFileError::Empty => f.write_str("the file is empty"),
            ScenarioFileError::TooLarge { bytes } => write!(
                f,
                "the file has {bytes} bytes; a scenario file may have at most {} MiB",
                MAX_SCENARIO_FILE_BYTES >> 20
            ),
            ScenarioFileError::Syntax {
                line,
                column,
                message,
            } => write!(f, "line {line}, column {column}: not JSON: {message}"),
            ScenarioFileError::Invalid {
                line,
                column,
                message,
            } => write!(
                f,
                "line {line}, column {column}: not a valid scenario: {message}"
            ),
            ScenarioFileError::NewerVersion { found, supported } => write!(
                f,
                "scenario version {found} is not supported: the file was made by a newer \
                 version of Synod (this version reads scenario versions 1 to {supported})"
            ),
            ScenarioFileError::UnknownField { path } => write!(
                f,
                "the field {path} is not part of a scenario (misspelt, or written by a newer \
                 version of Synod)"
            ),
            ScenarioFileError::InvalidScenario(e) => write!(f, "invalid scenario: {e}"),
        }
    }
}

impl std::error::Error for ScenarioFileError {}

/// Reads and validates a scenario file. Never panics, whatever the bytes.
pub fn scenario_from_json(bytes: &[u8]) -> Result<Scenario, ScenarioFileError> {
    if bytes.len() > MAX_SCENARIO_FILE_BYTES {
        return Err(ScenarioFileError::TooLarge {
            bytes: bytes.len() as u64,
        });
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ScenarioFileError::Empty);
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        let message = if e.is_eof() {
            "the file ends early".to_owned()
        } else {
            bare_message(&e)
        };
        ScenarioFileError::Syntax {
            line: e.line() as u64,
            column: e.column() as u64,
            message,
        }
    })?;
    if let Some(found) = value.get("version").and_then(Value::as_u64) {
        if found > u64::from(SCENARIO_VERSION) {
            return Err(ScenarioFileError::NewerVersion {
                found,
                supported: SCENARIO_VERSION,
            });
        }
    }
    // Parsed again from the text, so that a type error can name its line and column.
    let scenario: Scenario =
        serde_json::from_slice(bytes).map_err(|e| ScenarioFileError::Invalid {
            line: e.line() as u64,
            column: e.column() as u64,
            message: json_path::describe(bytes, &e),
        })?;
    if let Some(path) = first_unknown_field(&value, &scenario) {
        return Err(ScenarioFileError::UnknownField { path });
    }
    scenario
        .validate()
        .map_err(ScenarioFileError::InvalidScenario)?;
    Ok(scenario)
}

/// A serde_json message without its " at line L column C" suffix.
fn bare_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    text.strip_suffix(&suffix).unwrap_or(&text).to_owned()
}
