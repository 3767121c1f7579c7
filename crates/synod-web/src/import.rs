//! Someone else's history on the timeline: paste or upload a history (Synod JSON, Jepsen EDN,
//! Porcupine's etcd logs and kv files), and see the checker's verdict and explanation,
//! without a cluster.
//!
//! [`import`] reads the text with `synod-check`'s readers (the format detected from the
//! content, or the one the visitor chose), checks it against the history's own model with a
//! step budget, and lays it out as [`Imported`]: one row per client, one bar per operation,
//! each with its linearization point, and the operation that could not be placed. A file
//! the reader refuses gives its message (file, line, what is wrong) and nothing else
//! changes: the playground and whatever was imported before stay as they were.

use crate::format::per;
use std::collections::BTreeMap;
use std::rc::Rc;
use synod_check::{
    read_history, AnyHistory, CheckOptions, Format, History, Model, ModelKind, ReadOptions, Verdict,
};
use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

/// The checker's budget for an imported history, in search steps.
pub const IMPORT_BUDGET: u64 = 5_000_000;

/// The formats offered, with their names in the chooser.
pub const FORMATS: [(Format, &str); 5] = [
    (Format::Auto, "detect from the content"),
    (Format::Json, "Synod JSON"),
    (Format::Edn, "Jepsen history.edn"),
    (Format::JepsenLog, "Porcupine etcd (Jepsen log)"),
    (Format::PorcupineKv, "Porcupine kv"),
];

/// An imported, checked history laid out for the timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Imported {
    /// The file name, or "pasted text".
    pub name: String,
    pub format: Format,
    pub model: ModelKind,
    pub ops: Vec<ImportedOp>,
    /// The clients in row order.
    pub clients: Vec<u64>,
    /// The time axis: from the first call to the last return or call.
    pub start: u64,
    pub end: u64,
    pub verdict: Verdict,
    pub steps: u64,
    /// A linearization point per operation that took effect, by operation index.
    pub points: BTreeMap<usize, u64>,
    /// The operation that could not be placed, when not linearizable.
    pub illegal: Option<usize>,
    pub explanation: String,
}

/// One operation of an imported history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedOp {
    pub client: u64,
    /// Its client's row.
    pub row: usize,
    pub call: u64,
    /// `None`: the outcome is unknown (the bar runs to the end of the axis).
    pub ret: Option<u64>,
    /// `get("x") -> "1"` as the model describes it.
    pub label: String,
    /// The line of the file it was invoked on.
    pub line: u32,
}

/// Reads, checks and lays out a history. `name` appears in error messages.
pub fn import(name: &str, text: &str, format: Format) -> Result<Imported, String> {
    let options = ReadOptions {
        format,
        ..ReadOptions::default()
    };
    let parsed = read_history(name, text.as_bytes(), &options).map_err(|e| e.to_string())?;
    if parsed.history.is_empty() {
        return Err(format!("{name}: the history holds no operations"));
    }
    let ops = match &parsed.history {
        AnyHistory::Kv(h) => rows(&synod_check::KvModel, h, &parsed.lines),
        AnyHistory::Register { init, history } => rows(
            &synod_check::RegisterModel { init: init.clone() },
            history,
            &parsed.lines,
        ),
        AnyHistory::KvAppend(h) => rows(&synod_check::KvAppendModel, h, &parsed.lines),
    };
    Ok(layout(name, parsed.format, &parsed.history, ops))
}

fn rows<M: Model>(
    model: &M,
    history: &History<M::Input, M::Output>,
    lines: &[u32],
) -> Vec<ImportedOp> {
    history
        .operations
        .iter()
        .enumerate()
        .map(|(i, op)| {
            let described = model.describe_operation(&op.input, op.known_output());
            ImportedOp {
                client: op.client,
                row: 0,
                call: op.call,
                ret: op.ret,
                label: if op.ret.is_some() {
                    described
                } else {
                    format!("{described} ? (unknown)")
                },
                line: lines.get(i).copied().unwrap_or(0),
            }
        })
        .collect()
}

fn layout(name: &str, format: Format, history: &AnyHistory, mut ops: Vec<ImportedOp>) -> Imported {
    let mut clients: Vec<u64> = ops.iter().map(|o| o.client).collect();
    clients.sort_unstable();
    clients.dedup();
    for o in &mut ops {
        o.row = clients.binary_search(&o.client).unwrap_or(0);
    }
    let start = ops.iter().map(|o| o.call).min().unwrap_or(0);
    let end = ops
        .iter()
        .map(|o| o.ret.unwrap_or(o.call))
        .max()
        .unwrap_or(start)
        .max(start + 1);
    let result = history.check(&CheckOptions::with_budget(IMPORT_BUDGET));
    let mut points = BTreeMap::new();
    for p in &result.partitions {
        let mut last = 0;
        for &id in &p.linearization {
            let Some(o) = ops.get(id as usize) else {
                continue;
            };
            let at = o.call.max(last);
            let at = o.ret.map_or(at, |r| at.min(r));
            last = at;
            points.insert(id as usize, at);
        }
    }
    let failure = result.first_failure();
    let explanation = match (result.verdict, failure) {
        (Verdict::NotLinearizable, Some(f)) => f.explanation.clone(),
        (Verdict::NotLinearizable, None) => "No order of the operations respects real time.".into(),
        (Verdict::Linearizable, _) => format!(
            "Every operation can be given one instant between its call and its return such \
             that, one at a time in that order, the {} model gives exactly the answers the \
             clients saw ({}, {}).",
            history.model().name(),
            count(ops.len(), "operation"),
            count(clients.len(), "client")
        ),
        (Verdict::Unknown, _) => format!(
            "The checker's budget of {IMPORT_BUDGET} search steps ran out before an answer. \
             This is not a pass."
        ),
    };
    Imported {
        name: name.to_owned(),
        format,
        model: history.model(),
        clients,
        start,
        end,
        verdict: result.verdict,
        steps: result.steps,
        points,
        illegal: failure.map(|f| f.blocked as usize),
        explanation,
        ops,
    }
}

/// The format's name in the chooser.
fn format_title(f: Format) -> &'static str {
    FORMATS
        .iter()
        .find(|(g, _)| *g == f)
        .map_or("?", |(_, t)| t)
}

#[derive(Debug, Properties, PartialEq)]
pub struct ImportPanelProps {
    /// Called with a history that was read and checked.
    pub on_import: Callback<Rc<Imported>>,
}

/// Paste or upload a history, choose or detect its format.
#[component]
pub fn ImportPanel(props: &ImportPanelProps) -> Html {
    let text = use_state(String::new);
    let format = use_state(|| Format::Auto);
    let error = use_state(|| None::<String>);
    let run = {
        let (format, error, on_import) = (format.clone(), error.clone(), props.on_import.clone());
        Callback::from(
            move |(name, body): (String, String)| match import(&name, &body, *format) {
                Ok(imported) => {
                    error.set(None);
                    on_import.emit(Rc::new(imported));
                }
                Err(e) => error.set(Some(e)),
            },
        )
    };
    let on_text = {
        let text = text.clone();
        Callback::from(move |e: InputEvent| {
            text.set(e.target_unchecked_into::<HtmlTextAreaElement>().value())
        })
    };
    let on_format = {
        let format = format.clone();
        Callback::from(move |e: Event| {
            let v = e.target_unchecked_into::<HtmlSelectElement>().value();
            format.set(Format::from_name(&v).unwrap_or(Format::Auto));
        })
    };
    let on_check = {
        let (text, run) = (text.clone(), run.clone());
        Callback::from(move |_: MouseEvent| run.emit(("pasted text".to_owned(), (*text).clone())))
    };
    let on_file = {
        let (text, error, run) = (text.clone(), error.clone(), run.clone());
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let (text, error, run) = (text.clone(), error.clone(), run.clone());
            crate::dom::read_chosen_file(
                &input,
                Callback::from(move |r: Result<(String, String), String>| match r {
                    Ok((name, body)) => {
                        text.set(body.clone());
                        run.emit((name, body));
                    }
                    Err(e) => error.set(Some(e)),
                }),
            );
        })
    };
    html! {
        <div class="import" data-testid="import">
            <h3>{ "Check a history" }</h3>
            <p class="hint">{ "Paste or upload a history from Jepsen, Porcupine or Synod and \
                               see it on a timeline with the linearizability checker's verdict." }</p>
            <textarea data-testid="import-text" rows="5" placeholder="{:process 0, :type :invoke, :f :write, :value 1} ..."
                value={(*text).clone()} oninput={on_text} />
            <div class="row">
                <label>{ "Format " }
                    <select data-testid="import-format" onchange={on_format}>
                        { for FORMATS.iter().map(|(f, title)| html! {
                            <option key={f.name()} value={f.name()} selected={*f == *format}>{ *title }</option>
                        }) }
                    </select>
                </label>
                <button data-testid="import-check" onclick={on_check}>{ "Check" }</button>
                <label class="file">{ "or upload " }
                    <input type="file" data-testid="import-file" onchange={on_file} />
                </label>
            </div>
            if let Some(e) = &*error {
                <p class="error" data-testid="import-error">{ e }</p>
            }
        </div>
    }
}

#[derive(Debug, Properties, PartialEq)]
pub struct ImportedViewProps {
    pub imported: Rc<Imported>,
    pub on_close: Callback<()>,
}

/// An imported history on its own timeline, with the verdict and why.
#[component]
pub fn ImportedView(props: &ImportedViewProps) -> Html {
    let h = &*props.imported;
    let (w, row_h, top) = (1000.0, 34.0, 8.0);
    let span = (h.end - h.start) as f64;
    let x = |t: u64| t.saturating_sub(h.start) as f64 / span * w;
    let height = top + h.clients.len() as f64 * row_h + 4.0;
    let bars = h.ops.iter().enumerate().map(|(i, o)| {
        let x1 = x(o.call);
        let x2 = x(o.ret.unwrap_or(h.end)).max(x1 + 3.0);
        let y = top + o.row as f64 * row_h + 3.0;
        let class = classes!(
            "bar",
            if o.ret.is_some() { "ok" } else { "unknown" },
            (h.illegal == Some(i)).then_some("illegal")
        );
        html! {
            <g key={i} class={class} data-op={i.to_string()}>
                <rect x={f1(x1)} y={f1(y)} width={f1(x2 - x1)} height={f1(row_h - 6.0)} rx="4" />
                // A label only where it fits; every bar has its full text as a tooltip.
                if fits(&o.label, x2 - x1) {
                    <text x={f1(x1 + 4.0)} y={f1(y + row_h / 2.0 + 1.0)}>{ o.label.clone() }</text>
                }
                <title>{ format!("{} (client {}, line {})", o.label, o.client, o.line) }</title>
                if let Some(p) = h.points.get(&i) {
                    <path class="lin-point" d={format!("M{} {} l5 5 l-5 5 l-5 -5 z", f1(x(*p)), f1(y + row_h / 2.0 - 8.0))} />
                }
            </g>
        }
    });
    let rows = h.clients.iter().enumerate().map(|(i, c)| {
        html! { <text key={*c} class="row-label" x="-8" y={f1(top + i as f64 * row_h + row_h / 2.0 + 4.0)}>
            { format!("p{c}") }</text> }
    });
    let (verdict, class) = match h.verdict {
        Verdict::Linearizable => ("linearizable ✓", "ok"),
        Verdict::NotLinearizable => ("NOT linearizable ✗", "bad"),
        Verdict::Unknown => ("unknown (search budget spent)", "unknown"),
    };
    let on_close = props.on_close.reform(|_: MouseEvent| ());
    html! {
        <section class="timeline panel imported" data-testid="imported">
            <h2>{ format!("Imported: {}", h.name) }
                <span class={classes!("verdict", class)} data-testid="import-verdict">{ verdict }</span>
                <button class="small" data-testid="import-close" onclick={on_close}>{ "back to the playground" }</button>
            </h2>
            <p class="hint" data-testid="import-summary">{ format!(
                "{} from {}, read as {} with the {} model; checked in {} search steps ({} per operation).",
                count(h.ops.len(), "operation"), count(h.clients.len(), "client"),
                format_title(h.format), h.model.name(), h.steps,
                per(h.steps, h.ops.len() as u64)) }</p>
            <div class={classes!("explanation", (h.verdict != Verdict::NotLinearizable).then_some("fine"))}
                data-testid="import-explanation">{ h.explanation.clone() }</div>
            <svg viewBox={format!("-40 0 1045 {}", f1(height))} data-testid="import-timeline">
                { for rows }
                <g class="bars">{ for bars }</g>
            </svg>
            <p class="hint">{ "Time runs left to right as the file orders it (for Jepsen and \
                               Porcupine files, the line of each event). Diamonds: where the \
                               checker placed each operation; red: the one it could not place." }</p>
        </section>
    }
}

/// Whether a label fits in a bar this wide (view-box units; 13-unit text is about 7.5
/// units per character).
fn fits(label: &str, width: f64) -> bool {
    label.chars().count() as f64 * 7.5 + 8.0 <= width
}

/// "1 client", "2 clients".
fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn f1(v: f64) -> String {
    format!("{v:.1}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const EDN_STALE: &str = "[{:process 0, :type :invoke, :f :write, :value 1}\n\
        {:process 0, :type :ok, :f :write, :value 1}\n\
        {:process 1, :type :invoke, :f :read, :value nil}\n\
        {:process 1, :type :ok, :f :read, :value 2}]\n";

    #[test]
    fn an_edn_register_history_that_reads_a_value_never_written_is_not_linearizable() {
        let h = import("h.edn", EDN_STALE, Format::Auto).unwrap();
        assert_eq!(h.format, Format::Edn);
        assert_eq!(h.model, ModelKind::Register);
        assert_eq!(h.verdict, Verdict::NotLinearizable);
        assert_eq!(h.illegal, Some(1));
        assert!(
            h.explanation.contains("cannot be linearized"),
            "{}",
            h.explanation
        );
        assert_eq!(h.clients, [0, 1]);
        assert_eq!((h.ops[1].row, h.ops[1].line), (1, 3));
    }

    #[test]
    fn porcupine_kv_lines_are_checked_with_the_append_model() {
        let text = "{:process 0, :type :invoke, :f :put, :key \"x\", :value \"a\"}\n\
                    {:process 1, :type :invoke, :f :get, :key \"x\", :value nil}\n\
                    {:process 0, :type :ok, :f :put, :key \"x\", :value \"a\"}\n\
                    {:process 1, :type :ok, :f :get, :key \"x\", :value \"a\"}\n";
        let h = import("c01.txt", text, Format::PorcupineKv).unwrap();
        assert_eq!(h.model, ModelKind::KvAppend);
        assert_eq!(h.verdict, Verdict::Linearizable);
        assert_eq!(h.points.len(), 2);
        for (i, p) in &h.points {
            let o = &h.ops[*i];
            assert!(
                o.call <= *p && o.ret.is_none_or(|r| *p <= r),
                "{o:?} at {p}"
            );
        }
        assert!(h.explanation.contains("2 operations"));
    }

    #[test]
    fn an_etcd_log_with_a_timed_out_write_keeps_it_unknown() {
        let text = "INFO  jepsen.util - 0\t:invoke\t:write\t1\n\
                    INFO  jepsen.util - 1\t:invoke\t:read\tnil\n\
                    INFO  jepsen.util - 1\t:ok\t:read\t1\n\
                    INFO  jepsen.util - 0\t:info\t:write\t:timed-out\n";
        let h = import("etcd_000.log", text, Format::Auto).unwrap();
        assert_eq!(h.format, Format::JepsenLog);
        assert_eq!(h.verdict, Verdict::Linearizable);
        assert_eq!(h.ops[0].ret, None);
        assert!(h.ops[0].label.contains("unknown"));
    }

    #[test]
    fn synod_json_from_the_simulator_imports_with_the_kv_model() {
        use synod_core::Protocol;
        use synod_sim::{Scenario, Simulation, Time};
        let mut sim = Simulation::new(Scenario::cluster(2, 3, Protocol::MultiPaxos, 2)).unwrap();
        sim.run_until(Time(3_000_000));
        let text = synod_sim::export::history_json(sim.history());
        let h = import("history.json", &text, Format::Auto).unwrap();
        assert_eq!((h.format, h.model), (Format::Json, ModelKind::Kv));
        assert_eq!(h.verdict, Verdict::Linearizable);
        assert!(h.ops.len() > 2);
    }

    #[test]
    fn malformed_files_get_the_readers_message_with_file_and_line() {
        let e = import(
            "bad.edn",
            "[{:process 0, :type :invoke, :f :write, :value 1}\n{:process 0 :type",
            Format::Edn,
        )
        .unwrap_err();
        assert!(e.starts_with("bad.edn:2:"), "{e}");
        let e = import(
            "x.json",
            "{\"version\": 1, \"model\": \"kv\", \"operations\": [1]}",
            Format::Auto,
        )
        .unwrap_err();
        assert!(e.starts_with("x.json:"), "{e}");
        let e = import("empty.edn", "[]", Format::Edn).unwrap_err();
        assert!(e.contains("no operations"), "{e}");
        let e = import("wrong.txt", EDN_STALE, Format::JepsenLog).unwrap_err();
        assert!(e.starts_with("wrong.txt:1:"), "{e}");
    }
}
