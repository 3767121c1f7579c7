//! Words and labels for what the page shows.

use synod_sim::{HistoryEntry, Outcome, Time};

/// The label of an operation on the timeline: `set(k1, v1) → ok`, `get(k1) → v1`,
/// `get(k1) …` while pending, `→ ?` when the outcome is unknown.
pub fn op_label(entry: &HistoryEntry) -> String {
    match &entry.outcome {
        Outcome::Pending => format!("{} …", entry.op),
        Outcome::Ok { result } => format!("{} → {result}", entry.op),
        Outcome::Failed { reason } => format!("{} → failed ({reason})", entry.op),
        Outcome::Unknown => format!("{} → ? (unknown)", entry.op),
    }
}

/// A short kind for styling: `pending`, `ok`, `failed`, `unknown`.
pub fn outcome_class(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Pending => "pending",
        Outcome::Ok { .. } => "ok",
        Outcome::Failed { .. } => "failed",
        Outcome::Unknown => "unknown",
    }
}

/// Virtual time for people: `1.250 s` or `830 ms`.
pub fn time(t: Time) -> String {
    let us = t.as_us();
    if us >= 1_000_000 {
        format!("{}.{:03} s", us / 1_000_000, (us / 1000) % 1000)
    } else {
        format!("{} ms", us / 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use synod_core::{ClientId, CommandId, KvOp, KvResult};

    fn entry(op: KvOp, outcome: Outcome) -> HistoryEntry {
        HistoryEntry {
            client: ClientId(0),
            id: CommandId {
                client: ClientId(0),
                seq: 1,
            },
            op,
            call: Time(0),
            ret: None,
            outcome,
        }
    }

    #[test]
    fn labels_read_like_the_story() {
        let set = KvOp::Set {
            key: "k1".into(),
            value: "v1".into(),
        };
        let get = KvOp::Get { key: "k1".into() };
        assert_eq!(
            op_label(&entry(
                set.clone(),
                Outcome::Ok {
                    result: KvResult::Done
                }
            )),
            "set(k1, v1) → ok"
        );
        let v1 = KvResult::Value {
            value: Some("v1".into()),
        };
        assert_eq!(
            op_label(&entry(get.clone(), Outcome::Ok { result: v1 })),
            "get(k1) → v1"
        );
        assert_eq!(op_label(&entry(get.clone(), Outcome::Pending)), "get(k1) …");
        assert_eq!(
            op_label(&entry(get, Outcome::Unknown)),
            "get(k1) → ? (unknown)"
        );
    }

    #[test]
    fn times_switch_unit_at_one_second() {
        assert_eq!(time(Time(830_000)), "830 ms");
        assert_eq!(time(Time(1_250_000)), "1.250 s");
    }
}
