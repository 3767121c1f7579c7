//! Reading and writing histories.
//!
//! # Formats
//!
//! - **`jepsen-log`**: the Jepsen etcd logs of Porcupine's `test_data/jepsen`: one event per line,
//!   `INFO  jepsen.util - PROCESS TYPE F VALUE`, with tabs or spaces. Read as a register with
//!   Jepsen's etcd meaning: `:ok :read nil` read "no value"; `:fail :cas` is a completed cas
//!   that returned false; any other `:fail` with `:timed-out` and every `:info` is an unknown
//!   outcome; an invocation still open at the end is unknown too.
//! - **`porcupine-kv`**: Porcupine's kv histories, one EDN map per line with `:key`; read with
//!   the `kv-append` model. A `nil` value in `:ok :get` reads as `""`.
//! - **`edn`**: a Jepsen `history.edn` as Knossos reads it: a vector or list of maps (or maps
//!   one after another), `;` comments, optional commas. `:type` is `:invoke`, `:ok`, `:fail`
//!   (the operation did not happen) or `:info` (unknown outcome); `:process :nemesis` entries
//!   are skipped; cas values are `[old new]`. With the register model, `:ok :read nil` accepts
//!   any value, as in Knossos. The kv models read `:key` as in Porcupine's kv histories, and
//!   the `kv` model takes `:f` `:get`/`:set`/`:contains`/`:remove`.
//! - **`json`**: Synod's own format, see [`crate::json_format`].
//!
//! In the log and EDN formats only the order of events matters: time is the line number of the
//! event when every event has a line of its own (the usual layout), else its position in the
//! file. Every operation also remembers the line it was invoked on.
//! [`Format::Auto`] picks by content: JSON objects start with `{"`, logs with `INFO`, anything
//! else is EDN, whose model is inferred from the `:f` values unless one is given.

pub(crate) mod edn;
pub mod json;
mod log;
pub(crate) mod write;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::check::{check, describe_with_times, CheckResult};
use crate::history::{History, Operation};
use crate::models::kv::{KvInput, KvModel, KvOutput};
use crate::models::kv_append::{AppendInput, AppendOutput, KvAppendModel};
use crate::models::register::{RegValue, RegisterInput, RegisterModel, RegisterOutput};
use crate::search::CheckOptions;
use edn::Edn;

/// A history file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Decide from the content.
    Auto,
    /// Jepsen etcd log lines (Porcupine's `test_data/jepsen`).
    JepsenLog,
    /// Porcupine's kv lines.
    PorcupineKv,
    /// Jepsen `history.edn`, as Knossos reads it.
    Edn,
    /// Synod JSON.
    Json,
}

impl Format {
    /// Parses a command-line name.
    pub fn from_name(name: &str) -> Option<Format> {
        Some(match name {
            "auto" => Format::Auto,
            "jepsen-log" => Format::JepsenLog,
            "porcupine-kv" => Format::PorcupineKv,
            "edn" => Format::Edn,
            "json" => Format::Json,
            _ => return None,
        })
    }

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Format::Auto => "auto",
            Format::JepsenLog => "jepsen-log",
            Format::PorcupineKv => "porcupine-kv",
            Format::Edn => "edn",
            Format::Json => "json",
        }
    }
}

/// Which sequential specification a history is checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    /// The playground's key-value store.
    Kv,
    /// A read/write/cas register.
    Register,
    /// Porcupine's get/put/append store.
    KvAppend,
}

impl ModelKind {
    /// Parses a command-line (and JSON `"model"`) name.
    pub fn from_name(name: &str) -> Option<ModelKind> {
        Some(match name {
            "kv" => ModelKind::Kv,
            "register" => ModelKind::Register,
            "kv-append" => ModelKind::KvAppend,
            _ => return None,
        })
    }

    /// The name.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Kv => "kv",
            ModelKind::Register => "register",
            ModelKind::KvAppend => "kv-append",
        }
    }
}

/// A reader error, naming the file and the 1-based line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// The file name as given.
    pub file: String,
    /// The line (1-based) where the problem is.
    pub line: u32,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

/// How to read a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadOptions {
    /// The format, or [`Format::Auto`].
    pub format: Format,
    /// The model; `None` picks the format's natural one (or the JSON file's).
    pub model: Option<ModelKind>,
    /// The register's initial value (`--init`); overrides a JSON file's `"init"`.
    pub init: Option<RegValue>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            format: Format::Auto,
            model: None,
            init: None,
        }
    }
}

/// A history of any of the built-in models.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AnyHistory {
    /// The playground's key-value store.
    Kv(History<KvInput, KvOutput>),
    /// A register with its initial value.
    Register {
        init: Option<RegValue>,
        history: History<RegisterInput, RegisterOutput>,
    },
    /// Porcupine's get/put/append store.
    KvAppend(History<AppendInput, AppendOutput>),
}

impl AnyHistory {
    /// Which model this history is for.
    pub fn model(&self) -> ModelKind {
        match self {
            AnyHistory::Kv(_) => ModelKind::Kv,
            AnyHistory::Register { .. } => ModelKind::Register,
            AnyHistory::KvAppend(_) => ModelKind::KvAppend,
        }
    }

    /// Number of operations.
    pub fn len(&self) -> usize {
        match self {
            AnyHistory::Kv(h) => h.len(),
            AnyHistory::Register { history, .. } => history.len(),
            AnyHistory::KvAppend(h) => h.len(),
        }
    }

    /// Whether there are no operations.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks the history with its model.
    pub fn check(&self, options: &CheckOptions) -> CheckResult {
        match self {
            AnyHistory::Kv(h) => check(&KvModel, h, options),
            AnyHistory::Register { init, history } => {
                check(&RegisterModel { init: init.clone() }, history, options)
            }
            AnyHistory::KvAppend(h) => check(&KvAppendModel, h, options),
        }
    }

    /// Describes operation `id` with its client and times.
    pub fn describe_operation(&self, id: u32) -> String {
        let i = id as usize;
        match self {
            AnyHistory::Kv(h) => describe_with_times(&KvModel, &h.operations[i]),
            AnyHistory::Register { init, history } => describe_with_times(
                &RegisterModel { init: init.clone() },
                &history.operations[i],
            ),
            AnyHistory::KvAppend(h) => describe_with_times(&KvAppendModel, &h.operations[i]),
        }
    }
}

/// A history read from a file, with where each operation came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    /// The history.
    pub history: AnyHistory,
    /// The format it was read as (never `Auto`).
    pub format: Format,
    /// For each operation, the line its invocation (or JSON object) starts on.
    pub lines: Vec<u32>,
}

/// Reads a history file. `file` is only used in error messages.
pub fn read_history(file: &str, bytes: &[u8], options: &ReadOptions) -> Result<Parsed, ParseError> {
    let fail = |line: u32, message: String| ParseError {
        file: file.to_owned(),
        line,
        message,
    };
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        fail(
            u32::try_from(line).unwrap_or(u32::MAX),
            String::from("the file is not valid UTF-8"),
        )
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let format = match options.format {
        Format::Auto => detect_format(text),
        f => f,
    };
    let result = match format {
        Format::Json => json::read(text, options),
        Format::JepsenLog => {
            if let Some(m) = options.model.filter(|&m| m != ModelKind::Register) {
                return Err(fail(
                    1,
                    format!(
                        "jepsen-log histories are registers; the {} model does not apply",
                        m.name()
                    ),
                ));
            }
            log::read(text, options.init.clone())
        }
        Format::PorcupineKv | Format::Edn | Format::Auto => {
            let natural = match options.format {
                Format::PorcupineKv => Some(ModelKind::KvAppend),
                Format::Edn => Some(ModelKind::Register),
                _ => None,
            };
            read_edn(text, options.model.or(natural), options.init.clone())
        }
    };
    result
        .map(|(history, lines)| Parsed {
            history,
            format,
            lines,
        })
        .map_err(|(line, message)| fail(line, message))
}

/// Guesses the format of a text from its first characters.
pub fn detect_format(text: &str) -> Format {
    let trimmed =
        text.trim_start_matches(|c: char| c.is_whitespace() || c == ',' || c == '\u{feff}');
    if trimmed.starts_with("INFO")
        || trimmed
            .lines()
            .next()
            .is_some_and(|l| l.contains("jepsen.util"))
    {
        return Format::JepsenLog;
    }
    if trimmed.is_empty() {
        return Format::JepsenLog;
    }
    if let Some(rest) = trimmed.strip_prefix('{') {
        if rest.trim_start().starts_with('"') || rest.trim_start().starts_with('}') {
            return Format::Json;
        }
    }
    Format::Edn
}

/// The result type of the format-specific readers: the history and the invocation lines, or a
/// line and a message.
pub(crate) type ReadResult = Result<(AnyHistory, Vec<u32>), (u32, String)>;

/// What an event says about its operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Invoke,
    Ok,
    Fail,
    Info,
}

impl Kind {
    pub(crate) fn from_name(name: &str) -> Option<Kind> {
        Some(match name {
            "invoke" => Kind::Invoke,
            "ok" => Kind::Ok,
            "fail" => Kind::Fail,
            "info" => Kind::Info,
            _ => return None,
        })
    }
}

/// One line of a Jepsen-style history.
#[derive(Clone, Debug)]
pub(crate) struct Event {
    pub line: u32,
    pub process: u64,
    pub kind: Kind,
    pub f: String,
    pub key: Option<String>,
    pub value: Edn<'static>,
}

/// What a `:fail` completion means for an operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Failed<O> {
    /// It completed with this output (etcd log `:fail :cas` = returned false).
    Completed(O),
    /// Its outcome is unknown (etcd log `:fail :read :timed-out`).
    Unknown,
    /// It did not happen (Knossos).
    Dropped,
}

/// Turns the fields of events into model inputs and outputs.
pub(crate) trait EventModel {
    type I;
    type O;
    fn input(&self, f: &str, key: Option<&str>, value: &Edn) -> Result<Self::I, String>;
    /// The output of an `:ok` completion; `None` when it tells nothing (unknown output).
    fn output(&self, input: &Self::I, value: &Edn) -> Result<Option<Self::O>, String>;
    fn failed(&self, input: &Self::I, value: &Edn) -> Result<Failed<Self::O>, String>;
}

/// A paired history with the invocation line of each operation, or a line and a message.
pub(crate) type Paired<I, O> = Result<(History<I, O>, Vec<u32>), (u32, String)>;

/// Pairs invocations with completions per process and builds the history. An invocation without
/// completion has an unknown outcome.
pub(crate) fn pair<M: EventModel>(events: &[Event], model: &M) -> Paired<M::I, M::O> {
    let mut ops: Vec<Option<Operation<M::I, M::O>>> = Vec::new();
    let mut lines = Vec::new();
    // Process -> (operation index, event index of its invocation).
    let mut pending: BTreeMap<u64, (usize, usize)> = BTreeMap::new();
    // Time is the event's line when every event has its own line (so times in messages are
    // line numbers), else its position.
    let by_line = events.windows(2).all(|w| w[0].line < w[1].line);
    let time_of = |index: usize| {
        if by_line {
            u64::from(events[index].line)
        } else {
            index as u64
        }
    };
    for (index, ev) in events.iter().enumerate() {
        if ev.kind == Kind::Invoke {
            if let Some(&(open, _)) = pending.get(&ev.process) {
                return Err((
                    ev.line,
                    format!(
                        "process {} invokes again while its operation from line {} is open",
                        ev.process, lines[open]
                    ),
                ));
            }
            let input = model
                .input(&ev.f, ev.key.as_deref(), &ev.value)
                .map_err(|m| (ev.line, m))?;
            pending.insert(ev.process, (ops.len(), index));
            ops.push(Some(Operation::unknown(ev.process, time_of(index), input)));
            lines.push(ev.line);
            continue;
        }
        let Some((idx, invoked)) = pending.remove(&ev.process) else {
            return Err((
                ev.line,
                format!(
                    "process {} completes an operation it never invoked",
                    ev.process
                ),
            ));
        };
        let inv = &events[invoked];
        if inv.f != ev.f || inv.key != ev.key {
            return Err((
                ev.line,
                format!(
                    "completion :{} does not match the invocation :{} on line {}",
                    ev.f, inv.f, inv.line
                ),
            ));
        }
        let time = time_of(index);
        let op = ops[idx].as_mut().expect("pending operations are present");
        let outcome = match ev.kind {
            Kind::Ok => model
                .output(&op.input, &ev.value)
                .map(|out| out.map_or(Failed::Unknown, Failed::Completed)),
            Kind::Fail => model.failed(&op.input, &ev.value),
            Kind::Info | Kind::Invoke => Ok(Failed::Unknown),
        }
        .map_err(|m| (ev.line, m))?;
        match outcome {
            Failed::Completed(out) => {
                op.ret = Some(time);
                op.output = Some(out);
            }
            Failed::Unknown => {}
            Failed::Dropped => ops[idx] = None,
        }
    }
    let (ops, lines): (Vec<_>, Vec<_>) = ops
        .into_iter()
        .zip(lines)
        .filter_map(|(op, line)| op.map(|op| (op, line)))
        .unzip();
    Ok((History { operations: ops }, lines))
}

/// Reads EDN maps into events, skipping the nemesis.
fn edn_events(forms: Vec<(u32, Edn<'_>)>) -> Result<Vec<Event>, (u32, String)> {
    let mut events = Vec::with_capacity(forms.len());
    for (line, mut form) in forms {
        if !matches!(form, Edn::Map(_)) {
            return Err((
                line,
                format!(
                    "expected a map like {{:process 0, :type :invoke, ...}}, found {}",
                    form.brief()
                ),
            ));
        }
        let process = match form.get("process") {
            Some(Edn::Int(n)) if *n >= 0 => *n as u64,
            Some(Edn::Keyword(k)) if k == "nemesis" => continue,
            Some(other) => {
                return Err((
                    line,
                    format!(
                        ":process must be a non-negative integer or :nemesis, not {}",
                        other.brief()
                    ),
                ))
            }
            None => return Err((line, String::from("missing :process"))),
        };
        let kind = match form.get("type") {
            Some(Edn::Keyword(k)) => Kind::from_name(k).ok_or_else(|| {
                (
                    line,
                    format!(":type must be :invoke, :ok, :fail or :info, not :{k}"),
                )
            })?,
            Some(other) => {
                return Err((
                    line,
                    format!(":type must be a keyword, not {}", other.brief()),
                ))
            }
            None => return Err((line, String::from("missing :type"))),
        };
        let f = match form.get("f") {
            Some(Edn::Keyword(k) | Edn::Str(k) | Edn::Symbol(k)) => k.to_string(),
            Some(other) => {
                return Err((line, format!(":f must be a keyword, not {}", other.brief())))
            }
            None => return Err((line, String::from("missing :f"))),
        };
        let key = match form.get("key") {
            None => None,
            Some(Edn::Str(s) | Edn::Keyword(s)) => Some(s.to_string()),
            Some(Edn::Int(n)) => Some(n.to_string()),
            Some(other) => {
                return Err((
                    line,
                    format!(":key must be a string or an integer, not {}", other.brief()),
                ))
            }
        };
        let value = form.take("value").map_or(Edn::Nil, Edn::into_owned);
        events.push(Event {
            line,
            process,
            kind,
            f,
            key,
            value,
        });
    }
    Ok(events)
}

/// Infers the model of an EDN history from its `:f` values and keys.
fn infer_model(events: &[Event]) -> ModelKind {
    let has = |names: &[&str]| events.iter().any(|e| names.contains(&e.f.as_str()));
    if has(&["set", "contains", "remove"]) {
        ModelKind::Kv
    } else if events.iter().any(|e| e.key.is_some()) || has(&["put", "append"]) {
        ModelKind::KvAppend
    } else {
        ModelKind::Register
    }
}

fn read_edn(text: &str, model: Option<ModelKind>, init: Option<RegValue>) -> ReadResult {
    let events = edn_events(edn::read_document(text)?)?;
    match model.unwrap_or_else(|| infer_model(&events)) {
        ModelKind::Register => {
            let (history, lines) = pair(
                &events,
                &RegisterEvents {
                    nil_read_is_unknown: true,
                    fail_means_false: false,
                },
            )?;
            Ok((AnyHistory::Register { init, history }, lines))
        }
        ModelKind::Kv => pair(&events, &KvEvents).map(|(h, l)| (AnyHistory::Kv(h), l)),
        ModelKind::KvAppend => {
            pair(&events, &AppendEvents).map(|(h, l)| (AnyHistory::KvAppend(h), l))
        }
    }
}

/// A register value from EDN: integers, strings and keywords (`:name`); `nil` is none.
fn reg_value(value: &Edn) -> Result<Option<RegValue>, String> {
    match value {
        Edn::Nil => Ok(None),
        Edn::Int(n) => Ok(Some(RegValue::Int(*n))),
        Edn::Str(s) => Ok(Some(RegValue::Str(s.to_string()))),
        Edn::Keyword(k) => Ok(Some(RegValue::Str(format!(":{k}")))),
        other => Err(format!(
            "a register value must be an integer, string or keyword, not {}",
            other.brief()
        )),
    }
}

fn some_reg_value(value: &Edn, what: &str) -> Result<RegValue, String> {
    reg_value(value)?.ok_or_else(|| format!("{what} needs a value, found nil"))
}

/// The register in Jepsen logs (`nil_read_is_unknown = false`, `fail_means_false = true`) and
/// in Knossos EDN (`true`, `false`).
pub(crate) struct RegisterEvents {
    pub nil_read_is_unknown: bool,
    pub fail_means_false: bool,
}

impl EventModel for RegisterEvents {
    type I = RegisterInput;
    type O = RegisterOutput;

    fn input(&self, f: &str, _key: Option<&str>, value: &Edn) -> Result<RegisterInput, String> {
        match f {
            "read" => Ok(RegisterInput::Read),
            "write" => Ok(RegisterInput::Write {
                value: some_reg_value(value, "write")?,
            }),
            "cas" => match value {
                Edn::Vector(v) | Edn::List(v) if v.len() == 2 => Ok(RegisterInput::Cas {
                    expected: some_reg_value(&v[0], "cas")?,
                    new: some_reg_value(&v[1], "cas")?,
                }),
                other => Err(format!("cas needs [old new], found {}", other.brief())),
            },
            other => Err(format!(
                "the register has no operation :{other} (expected :read, :write or :cas)"
            )),
        }
    }

    fn output(&self, input: &RegisterInput, value: &Edn) -> Result<Option<RegisterOutput>, String> {
        Ok(Some(match input {
            RegisterInput::Read if self.nil_read_is_unknown && *value == Edn::Nil => {
                return Ok(None)
            }
            RegisterInput::Read => RegisterOutput::Value {
                value: reg_value(value)?,
            },
            RegisterInput::Write { .. } => RegisterOutput::Done,
            RegisterInput::Cas { .. } => RegisterOutput::Cas { ok: true },
        }))
    }

    fn failed(&self, input: &RegisterInput, value: &Edn) -> Result<Failed<RegisterOutput>, String> {
        if !self.fail_means_false {
            return Ok(Failed::Dropped);
        }
        match (input, value) {
            (RegisterInput::Cas { .. }, Edn::Vector(_)) => {
                Ok(Failed::Completed(RegisterOutput::Cas { ok: false }))
            }
            (_, Edn::Keyword(k)) if k == "timed-out" => Ok(Failed::Unknown),
            _ => Ok(Failed::Dropped),
        }
    }
}

fn need_key(key: Option<&str>, f: &str) -> Result<String, String> {
    key.map(str::to_owned)
        .ok_or_else(|| format!(":{f} needs a :key"))
}

fn need_string(value: &Edn, f: &str) -> Result<String, String> {
    match value {
        Edn::Str(s) => Ok(s.to_string()),
        Edn::Int(n) => Ok(n.to_string()),
        other => Err(format!(
            ":{f} needs a string :value, found {}",
            other.brief()
        )),
    }
}

/// Porcupine's kv histories.
struct AppendEvents;

impl EventModel for AppendEvents {
    type I = AppendInput;
    type O = AppendOutput;

    fn input(&self, f: &str, key: Option<&str>, value: &Edn) -> Result<AppendInput, String> {
        let key = need_key(key, f)?;
        match f {
            "get" => Ok(AppendInput::Get { key }),
            "put" => Ok(AppendInput::Put {
                key,
                value: need_string(value, f)?,
            }),
            "append" => Ok(AppendInput::Append {
                key,
                value: need_string(value, f)?,
            }),
            other => Err(format!(
                "the kv-append model has no operation :{other} (expected :get, :put or :append)"
            )),
        }
    }

    fn output(&self, input: &AppendInput, value: &Edn) -> Result<Option<AppendOutput>, String> {
        Ok(Some(match (input, value) {
            (AppendInput::Get { .. }, Edn::Nil) => AppendOutput::Value {
                value: String::new(),
            },
            (AppendInput::Get { .. }, v) => AppendOutput::Value {
                value: need_string(v, "get")?,
            },
            _ => AppendOutput::Done,
        }))
    }

    fn failed(&self, _input: &AppendInput, _value: &Edn) -> Result<Failed<AppendOutput>, String> {
        Ok(Failed::Dropped)
    }
}

/// The playground's key-value store in EDN.
struct KvEvents;

impl EventModel for KvEvents {
    type I = KvInput;
    type O = KvOutput;

    fn input(&self, f: &str, key: Option<&str>, value: &Edn) -> Result<KvInput, String> {
        let key = need_key(key, f)?;
        match f {
            "get" => Ok(KvInput::Get { key }),
            "set" => Ok(KvInput::Set { key, value: need_string(value, f)? }),
            "contains" => Ok(KvInput::Contains { key }),
            "remove" => Ok(KvInput::Remove { key }),
            other => Err(format!("the kv model has no operation :{other} (expected :get, :set, :contains or :remove)")),
        }
    }

    fn output(&self, input: &KvInput, value: &Edn) -> Result<Option<KvOutput>, String> {
        let flag = |what: &str| match value {
            Edn::Bool(b) => Ok(*b),
            other => Err(format!(
                ":{what} answers true or false, not {}",
                other.brief()
            )),
        };
        Ok(Some(match input {
            KvInput::Get { .. } if *value == Edn::Nil => KvOutput::Value { value: None },
            KvInput::Get { .. } => KvOutput::Value {
                value: Some(need_string(value, "get")?),
            },
            KvInput::Set { .. } => KvOutput::Done,
            KvInput::Contains { .. } => KvOutput::Present {
                present: flag("contains")?,
            },
            KvInput::Remove { .. } => KvOutput::Removed {
                existed: flag("remove")?,
            },
        }))
    }

    fn failed(&self, _input: &KvInput, _value: &Edn) -> Result<Failed<KvOutput>, String> {
        Ok(Failed::Dropped)
    }
}
