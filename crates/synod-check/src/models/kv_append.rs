//! Porcupine's key-value store with `get`, `put` and `append`.
//!
//! A missing key reads as the empty string; `put` replaces the value and `append` concatenates.
//! Keys are independent, so the model partitions by key and its state is one key's value, an
//! [`AppendValue`], which shares the text before an append instead of copying it.

mod value;

use serde::{Deserialize, Serialize};

use super::quote;
use crate::history::Operation;
use crate::model::{partition_by_key, Model, Partition, Step};
pub use value::AppendValue;

/// A request to the append store.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", try_from = "AppendInputFields")]
pub enum AppendInput {
    /// Read a key.
    Get { key: String },
    /// Replace a key's value.
    Put { key: String, value: String },
    /// Append to a key's value.
    Append { key: String, value: String },
}

impl AppendInput {
    /// The key the request touches.
    pub fn key(&self) -> &str {
        match self {
            AppendInput::Get { key }
            | AppendInput::Put { key, .. }
            | AppendInput::Append { key, .. } => key,
        }
    }
}

/// An [`AppendInput`] as it is read: one flat object (see `KvInput`'s fields for why), whose
/// fields an operation does not take are ignored.
#[derive(Deserialize)]
struct AppendInputFields {
    op: AppendOpName,
    key: String,
    value: Option<String>,
}

#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum AppendOpName {
    Get,
    Put,
    Append,
}

impl TryFrom<AppendInputFields> for AppendInput {
    type Error = &'static str;

    fn try_from(f: AppendInputFields) -> Result<AppendInput, &'static str> {
        let key = f.key;
        let value = || f.value.ok_or("put and append need the field `value`");
        Ok(match f.op {
            AppendOpName::Get => AppendInput::Get { key },
            AppendOpName::Put => AppendInput::Put {
                key,
                value: value()?,
            },
            AppendOpName::Append => AppendInput::Append {
                key,
                value: value()?,
            },
        })
    }
}

/// An answer from the append store.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AppendOutput {
    /// `get`: the value (`""` when missing).
    Value { value: String },
    /// `put` and `append`: done.
    Done,
}

/// The get/put/append model. The state is one key's value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KvAppendModel;

impl Model for KvAppendModel {
    type Input = AppendInput;
    type Output = AppendOutput;
    type State = AppendValue;

    fn init(&self) -> AppendValue {
        AppendValue::new()
    }

    fn step(
        &self,
        state: &AppendValue,
        input: &AppendInput,
        output: Option<&AppendOutput>,
    ) -> Step<AppendValue> {
        match (input, output) {
            (AppendInput::Get { .. }, None) => Step::Unchanged,
            (AppendInput::Get { .. }, Some(AppendOutput::Value { value })) => {
                if state == value.as_str() {
                    Step::Unchanged
                } else {
                    Step::Illegal
                }
            }
            (AppendInput::Put { value, .. }, None | Some(AppendOutput::Done)) => {
                Step::Changed(state.replaced(value))
            }
            (AppendInput::Append { value, .. }, None | Some(AppendOutput::Done)) => {
                if value.is_empty() {
                    return Step::Unchanged;
                }
                Step::Changed(state.appended(value))
            }
            _ => Step::Illegal,
        }
    }

    fn is_read_only(&self, input: &AppendInput, _output: Option<&AppendOutput>) -> bool {
        match input {
            AppendInput::Get { .. } => true,
            AppendInput::Append { value, .. } => value.is_empty(),
            AppendInput::Put { .. } => false,
        }
    }

    fn partition(&self, operations: &[Operation<AppendInput, AppendOutput>]) -> Vec<Partition> {
        partition_by_key(operations, AppendInput::key)
    }

    fn validate(&self, input: &AppendInput, output: &AppendOutput) -> Result<(), String> {
        match (input, output) {
            (AppendInput::Get { .. }, AppendOutput::Value { .. }) => Ok(()),
            (AppendInput::Put { .. } | AppendInput::Append { .. }, AppendOutput::Done) => Ok(()),
            (AppendInput::Get { .. }, AppendOutput::Done) => {
                Err(String::from("get must answer a value"))
            }
            _ => Err(String::from("put and append answer done, not a value")),
        }
    }

    fn describe_operation(&self, input: &AppendInput, output: Option<&AppendOutput>) -> String {
        match (input, output) {
            (AppendInput::Get { key }, Some(AppendOutput::Value { value })) => {
                format!("get({}) -> {}", quote(key), quote(value))
            }
            (AppendInput::Get { key }, _) => format!("get({}) -> ?", quote(key)),
            (AppendInput::Put { key, value }, _) => {
                format!("put({}, {})", quote(key), quote(value))
            }
            (AppendInput::Append { key, value }, _) => {
                format!("append({}, {})", quote(key), quote(value))
            }
        }
    }

    fn describe_state(&self, label: &str, state: &AppendValue) -> String {
        format!("{} = {}", quote(label), quote(&state.to_string()))
    }

    fn describe_need(
        &self,
        label: &str,
        input: &AppendInput,
        output: Option<&AppendOutput>,
    ) -> Option<String> {
        match (input, output?) {
            (AppendInput::Get { .. }, AppendOutput::Value { value }) => {
                Some(format!("{} = {}", quote(label), quote(value)))
            }
            _ => None,
        }
    }
}
