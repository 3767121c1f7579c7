//! The playground's key-value store.
//!
//! Keys and values are strings. `get` returns the value or none (`null`) for a missing key,
//! `set` returns done, `contains` returns whether the key is present, and `remove` returns
//! whether the key existed (and deletes it). Keys are independent, so the model partitions a
//! history by key and its state is the value of one key. The serde shapes match synod-core's
//! `KvOp` (tag `"op"`) and `KvResult` (tag `"kind"`), so the simulator can serialize directly.

use serde::{Deserialize, Serialize};

use super::quote;
use crate::history::Operation;
use crate::model::{partition_by_key, Model, Partition, Step};

/// A key-value request.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", try_from = "KvInputFields")]
pub enum KvInput {
    /// Read a key.
    Get { key: String },
    /// Write a key.
    Set { key: String, value: String },
    /// Ask whether a key is present.
    Contains { key: String },
    /// Delete a key.
    Remove { key: String },
}

impl KvInput {
    /// The key the request touches.
    pub fn key(&self) -> &str {
        match self {
            KvInput::Get { key }
            | KvInput::Set { key, .. }
            | KvInput::Contains { key }
            | KvInput::Remove { key } => key,
        }
    }
}

/// A [`KvInput`] as it is read: one flat object, the JSON the derived internally tagged
/// decoding reads, without its buffering of the object into an intermediate tree (a second
/// copy of the decoders in the page's wasm). Like that decoding, it ignores fields an
/// operation does not take (a `value` on a `get`).
#[derive(Deserialize)]
struct KvInputFields {
    op: KvOpName,
    key: String,
    value: Option<String>,
}

#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum KvOpName {
    Get,
    Set,
    Contains,
    Remove,
}

impl TryFrom<KvInputFields> for KvInput {
    type Error = &'static str;

    fn try_from(f: KvInputFields) -> Result<KvInput, &'static str> {
        let key = f.key;
        Ok(match f.op {
            KvOpName::Set => KvInput::Set {
                key,
                value: f.value.ok_or("set needs the field `value`")?,
            },
            KvOpName::Get => KvInput::Get { key },
            KvOpName::Contains => KvInput::Contains { key },
            KvOpName::Remove => KvInput::Remove { key },
        })
    }
}

/// A key-value answer.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum KvOutput {
    /// `get`: the value, or `None` when the key is absent.
    Value { value: Option<String> },
    /// `set`: done.
    Done,
    /// `contains`: whether the key is present.
    Present { present: bool },
    /// `remove`: whether the key existed before.
    Removed { existed: bool },
}

/// The key-value model. The state is the value of one key (`None` = absent).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KvModel;

impl Model for KvModel {
    type Input = KvInput;
    type Output = KvOutput;
    type State = Option<String>;

    fn init(&self) -> Self::State {
        None
    }

    fn step(
        &self,
        state: &Self::State,
        input: &KvInput,
        output: Option<&KvOutput>,
    ) -> Step<Self::State> {
        let legal = |ok: bool| if ok { Step::Unchanged } else { Step::Illegal };
        match (input, output) {
            (KvInput::Get { .. }, None) | (KvInput::Contains { .. }, None) => Step::Unchanged,
            (KvInput::Get { .. }, Some(KvOutput::Value { value })) => legal(value == state),
            (KvInput::Contains { .. }, Some(KvOutput::Present { present })) => {
                legal(*present == state.is_some())
            }
            (KvInput::Set { value, .. }, None | Some(KvOutput::Done)) => {
                if state.as_deref() == Some(value.as_str()) {
                    Step::Unchanged
                } else {
                    Step::Changed(Some(value.clone()))
                }
            }
            (KvInput::Remove { .. }, None) => remove(state),
            (KvInput::Remove { .. }, Some(KvOutput::Removed { existed }))
                if *existed == state.is_some() =>
            {
                remove(state)
            }
            _ => Step::Illegal,
        }
    }

    fn is_read_only(&self, input: &KvInput, output: Option<&KvOutput>) -> bool {
        match input {
            KvInput::Get { .. } | KvInput::Contains { .. } => true,
            KvInput::Remove { .. } => matches!(output, Some(KvOutput::Removed { existed: false })),
            KvInput::Set { .. } => false,
        }
    }

    fn partition(&self, operations: &[Operation<KvInput, KvOutput>]) -> Vec<Partition> {
        partition_by_key(operations, KvInput::key)
    }

    fn validate(&self, input: &KvInput, output: &KvOutput) -> Result<(), String> {
        let fits = matches!(
            (input, output),
            (KvInput::Get { .. }, KvOutput::Value { .. })
                | (KvInput::Set { .. }, KvOutput::Done)
                | (KvInput::Contains { .. }, KvOutput::Present { .. })
                | (KvInput::Remove { .. }, KvOutput::Removed { .. })
        );
        if fits {
            Ok(())
        } else {
            Err(format!(
                "{} cannot answer {}",
                op_name(input),
                output_text(output)
            ))
        }
    }

    fn describe_operation(&self, input: &KvInput, output: Option<&KvOutput>) -> String {
        let call = match input {
            KvInput::Get { key } => format!("get({})", quote(key)),
            KvInput::Set { key, value } => format!("set({}, {})", quote(key), quote(value)),
            KvInput::Contains { key } => format!("contains({})", quote(key)),
            KvInput::Remove { key } => format!("remove({})", quote(key)),
        };
        match output {
            None => format!("{call} -> ?"),
            Some(KvOutput::Done) => call,
            Some(out) => format!("{call} -> {}", output_text(out)),
        }
    }

    fn describe_state(&self, label: &str, state: &Self::State) -> String {
        match state {
            Some(v) => format!("{} = {}", quote(label), quote(v)),
            None => format!("{} is absent", quote(label)),
        }
    }

    fn describe_need(
        &self,
        label: &str,
        input: &KvInput,
        output: Option<&KvOutput>,
    ) -> Option<String> {
        let need_present = |present: bool| {
            Some(if present {
                format!("{} to be present", quote(label))
            } else {
                format!("{} to be absent", quote(label))
            })
        };
        match (input, output?) {
            (KvInput::Get { .. }, KvOutput::Value { value }) => {
                Some(self.describe_state(label, value))
            }
            (KvInput::Contains { .. }, KvOutput::Present { present }) => need_present(*present),
            (KvInput::Remove { .. }, KvOutput::Removed { existed }) => need_present(*existed),
            _ => None,
        }
    }
}

fn remove(state: &Option<String>) -> Step<Option<String>> {
    if state.is_some() {
        Step::Changed(None)
    } else {
        Step::Unchanged
    }
}

fn op_name(input: &KvInput) -> &'static str {
    match input {
        KvInput::Get { .. } => "get",
        KvInput::Set { .. } => "set",
        KvInput::Contains { .. } => "contains",
        KvInput::Remove { .. } => "remove",
    }
}

fn output_text(output: &KvOutput) -> String {
    match output {
        KvOutput::Value { value: Some(v) } => quote(v),
        KvOutput::Value { value: None } => String::from("none"),
        KvOutput::Done => String::from("done"),
        KvOutput::Present { present } => present.to_string(),
        KvOutput::Removed { existed } => format!("existed={existed}"),
    }
}
