//! `synod-check`: is this history linearizable?
//!
//! A history is *linearizable* when every operation can be given a single instant, somewhere
//! between its call and its return, such that running the operations one at a time in the order
//! of those instants, against a sequential specification, produces exactly the outputs the
//! clients saw. This crate decides that question for recorded histories, explains the answer,
//! and reads and writes the history formats of Jepsen, Knossos, Porcupine and Synod.
//!
//! # How it works
//!
//! - A [`Model`] is a sequential specification: an initial state, a step function that says
//!   whether an output is legal and what the next state is, and a partition of histories into
//!   independent parts. The key-value models check each key on its own (P-compositionality).
//! - The search ([`search`] module docs have the details) is the Wing & Gong backtracking search
//!   with Lowe's cache of visited (set of linearized operations, state) pairs, the algorithm
//!   Porcupine uses. Intervals are closed. Operations with an unknown outcome may take effect
//!   at any point after their call, or never.
//! - The search is bounded by a budget counted in *steps*, not time, so a result reproduces
//!   exactly and the checker runs the same natively and in wasm. A spent budget gives
//!   [`Verdict::Unknown`], never a pass.
//! - The result ([`CheckResult`]) carries a witness for each partition: the linearization, or
//!   the longest partial linearization, the operation that could not be placed after it, the
//!   state it would have needed, and an explanation in plain words.
//!
//! # Using it
//!
//! ```
//! use synod_check::{check, CheckOptions, History, KvInput, KvModel, KvOutput, Verdict};
//!
//! // (client, call, return, input, output); `None` for the return or output means unknown.
//! let history = History::from_tuples([
//!     (0, 10, Some(20), KvInput::Set { key: "x".into(), value: "1".into() }, Some(KvOutput::Done)),
//!     (1, 30, Some(40), KvInput::Get { key: "x".into() }, Some(KvOutput::Value { value: None })),
//! ]);
//! let result = check(&KvModel, &history, &CheckOptions::default());
//! assert_eq!(result.verdict, Verdict::NotLinearizable);
//! println!("{}", result.first_failure().unwrap().explanation);
//! ```
//!
//! Files: [`read_history`] reads any supported format into an [`AnyHistory`], which
//! [`AnyHistory::check`] checks with its model. [`Parsed::lines`] keeps the line each operation
//! came from, for messages.
//!
//! # Formats
//!
//! - `jepsen-log`: the Jepsen etcd logs of Porcupine's `test_data/jepsen`, one event per line,
//!   `INFO  jepsen.util - PROCESS TYPE F VALUE` with tabs or spaces; a register. `:ok :read nil`
//!   read "no value"; `:fail :cas` is a completed cas that returned false; `:fail :read
//!   :timed-out` and `:info` are unknown outcomes, as is an invocation still open at the end.
//! - `porcupine-kv`: Porcupine's kv histories, one EDN map per line with `:key`; the `kv-append`
//!   model (a missing key reads `""`, append concatenates).
//! - `edn`: a Jepsen `history.edn` as Knossos reads it: a vector or list of maps (or maps one after
//!   another), `;` comments, optional commas; `:type :invoke/:ok/:fail/:info` where `:fail` means
//!   the operation did not happen and `:info` that its outcome is unknown; `:process :nemesis`
//!   entries are skipped; cas values are `[old new]`; as in Knossos, `:ok :read nil` accepts any
//!   value. The register starts at `--init` ([`ReadOptions::init`]), `nil` by default.
//! - `json`: Synod's JSON, `{"version": 1, "model": ..., "operations": [...]}`, fully described
//!   in [`json_format`]; this is what the simulator and the playground export.
//!
//! In the log and EDN formats only the order of events matters: an operation's times are the
//! lines of its invocation and completion. [`Format::Auto`] picks the format by content and,
//! for EDN, the model by the `:f` values. Errors ([`ParseError`]) name the file and the line.
//!
//! Writers: [`json_format::write`], [`to_edn`], [`to_porcupine_kv`], [`to_jepsen_log`].
//!
//! # Determinism
//!
//! Nothing here reads a clock or OS entropy, and no `HashMap`/`HashSet` is used: tables are
//! `BTreeMap`s or open-addressing tables with a fixed hash (a word-at-a-time multiply-rotate
//! hash finished with SplitMix64). No `usize` is hashed or serialized; operation ids are `u32`
//! and times `u64`.

mod check;
mod formats;
mod hash;
mod history;
mod model;
pub mod models;
pub mod search;

pub use check::{check, describe_with_times, CheckResult, Failure, PartitionResult, Verdict};
pub use formats::json as json_format;
pub use formats::write::{to_edn, to_jepsen_log, to_porcupine_kv};
pub use formats::{
    detect_format, read_history, AnyHistory, Format, ModelKind, ParseError, Parsed, ReadOptions,
};
pub use history::{History, Operation, Time};
pub use model::{Model, Partition, Step};
pub use models::kv::{KvInput, KvModel, KvOutput};
pub use models::kv_append::{AppendInput, AppendOutput, AppendValue, KvAppendModel};
pub use models::register::{RegValue, RegisterInput, RegisterModel, RegisterOutput};
pub use search::{CheckOptions, DEFAULT_BUDGET};
