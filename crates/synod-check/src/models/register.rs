//! A single register with read, write and compare-and-set.
//!
//! This is the object of Jepsen's etcd test (as replayed by Porcupine) and of Knossos's
//! `cas-register`. A cas answers whether it swapped: `ok = true` is legal only when the register
//! held the expected value (and then it holds the new one); `ok = false` is legal only when it did
//! not. That is how a Jepsen etcd log's `:fail :cas` reads: a completed cas that returned false.
//! Knossos instead takes `:fail` to mean the operation did not happen at all; the EDN reader
//! implements that by dropping such operations, so the model itself needs no second mode.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::{Model, Step};

/// A register value: an integer or a string (EDN keywords are kept as `:name` strings).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RegValue {
    /// An integer.
    Int(i64),
    /// A string.
    Str(String),
}

impl fmt::Display for RegValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegValue::Int(n) => write!(f, "{n}"),
            RegValue::Str(s) if s.starts_with(':') => f.write_str(s),
            RegValue::Str(s) => write!(f, "{s:?}"),
        }
    }
}

impl RegValue {
    /// Parses a command-line value: an integer if it is one, `nil` for none, else a string.
    pub fn parse_arg(text: &str) -> Option<RegValue> {
        if text == "nil" || text == "null" {
            None
        } else if let Ok(n) = text.parse::<i64>() {
            Some(RegValue::Int(n))
        } else {
            Some(RegValue::Str(text.to_owned()))
        }
    }
}

/// A register request.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(
    tag = "op",
    rename_all = "snake_case",
    try_from = "RegisterInputFields"
)]
pub enum RegisterInput {
    /// Read the value.
    Read,
    /// Overwrite the value.
    Write { value: RegValue },
    /// Set to `new` if the value is `expected`.
    Cas { expected: RegValue, new: RegValue },
}

/// A [`RegisterInput`] as it is read: one flat object (see `KvInput`'s fields for why), whose
/// fields an operation does not take are ignored.
#[derive(Deserialize)]
struct RegisterInputFields {
    op: RegisterOpName,
    value: Option<RegValue>,
    expected: Option<RegValue>,
    new: Option<RegValue>,
}

#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum RegisterOpName {
    Read,
    Write,
    Cas,
}

impl TryFrom<RegisterInputFields> for RegisterInput {
    type Error = &'static str;

    fn try_from(f: RegisterInputFields) -> Result<RegisterInput, &'static str> {
        Ok(match f.op {
            RegisterOpName::Read => RegisterInput::Read,
            RegisterOpName::Write => RegisterInput::Write {
                value: f.value.ok_or("write needs the field `value`")?,
            },
            RegisterOpName::Cas => RegisterInput::Cas {
                expected: f.expected.ok_or("cas needs the field `expected`")?,
                new: f.new.ok_or("cas needs the field `new`")?,
            },
        })
    }
}

/// A register answer.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RegisterOutput {
    /// `read`: the value, `None` when the register holds nothing.
    Value { value: Option<RegValue> },
    /// `write`: done.
    Done,
    /// `cas`: whether it swapped.
    Cas { ok: bool },
}

/// The register model. The state is the value, `None` for "no value" (Jepsen's `nil`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RegisterModel {
    /// The value before any operation.
    pub init: Option<RegValue>,
}

impl Model for RegisterModel {
    type Input = RegisterInput;
    type Output = RegisterOutput;
    type State = Option<RegValue>;

    fn init(&self) -> Self::State {
        self.init.clone()
    }

    fn step(
        &self,
        state: &Self::State,
        input: &RegisterInput,
        output: Option<&RegisterOutput>,
    ) -> Step<Self::State> {
        match (input, output) {
            (RegisterInput::Read, None) => Step::Unchanged,
            (RegisterInput::Read, Some(RegisterOutput::Value { value })) if value == state => {
                Step::Unchanged
            }
            (RegisterInput::Write { value }, None | Some(RegisterOutput::Done)) => {
                write(state, value)
            }
            (
                RegisterInput::Cas { expected, new },
                out @ (None | Some(RegisterOutput::Cas { .. })),
            ) => {
                let swaps = state.as_ref() == Some(expected);
                match out {
                    Some(RegisterOutput::Cas { ok }) if *ok != swaps => Step::Illegal,
                    _ if swaps => write(state, new),
                    _ => Step::Unchanged,
                }
            }
            _ => Step::Illegal,
        }
    }

    fn is_read_only(&self, input: &RegisterInput, output: Option<&RegisterOutput>) -> bool {
        match input {
            RegisterInput::Read => true,
            RegisterInput::Cas { .. } => matches!(output, Some(RegisterOutput::Cas { ok: false })),
            RegisterInput::Write { .. } => false,
        }
    }

    fn validate(&self, input: &RegisterInput, output: &RegisterOutput) -> Result<(), String> {
        match (input, output) {
            (RegisterInput::Read, RegisterOutput::Value { .. })
            | (RegisterInput::Write { .. }, RegisterOutput::Done)
            | (RegisterInput::Cas { .. }, RegisterOutput::Cas { .. }) => Ok(()),
            _ => Err(String::from(
                "output kind does not match the operation (read: value, write: done, cas: cas)",
            )),
        }
    }

    fn describe_operation(&self, input: &RegisterInput, output: Option<&RegisterOutput>) -> String {
        match (input, output) {
            (RegisterInput::Read, Some(RegisterOutput::Value { value })) => {
                format!("read() -> {}", show(value))
            }
            (RegisterInput::Read, _) => String::from("read() -> ?"),
            (RegisterInput::Write { value }, _) => format!("write({value})"),
            (RegisterInput::Cas { expected, new }, Some(RegisterOutput::Cas { ok })) => {
                format!(
                    "cas({expected}, {new}) -> {}",
                    if *ok { "ok" } else { "fail" }
                )
            }
            (RegisterInput::Cas { expected, new }, _) => format!("cas({expected}, {new}) -> ?"),
        }
    }

    fn describe_state(&self, _label: &str, state: &Self::State) -> String {
        format!("the register holds {}", show(state))
    }

    fn describe_need(
        &self,
        _label: &str,
        input: &RegisterInput,
        output: Option<&RegisterOutput>,
    ) -> Option<String> {
        match (input, output?) {
            (RegisterInput::Read, RegisterOutput::Value { value }) => {
                Some(format!("the register to hold {}", show(value)))
            }
            (RegisterInput::Cas { expected, .. }, RegisterOutput::Cas { ok: true }) => {
                Some(format!("the register to hold {expected}"))
            }
            (RegisterInput::Cas { expected, .. }, RegisterOutput::Cas { ok: false }) => {
                Some(format!("the register to hold anything but {expected}"))
            }
            _ => None,
        }
    }
}

fn write(state: &Option<RegValue>, value: &RegValue) -> Step<Option<RegValue>> {
    if state.as_ref() == Some(value) {
        Step::Unchanged
    } else {
        Step::Changed(Some(value.clone()))
    }
}

/// Shows an optional value, `nil` for none.
pub(crate) fn show(value: &Option<RegValue>) -> String {
    match value {
        Some(v) => v.to_string(),
        None => String::from("nil"),
    }
}
