//! What the page offers to save: the history in three formats, the trace, the scenario, and
//! the two pictures as SVG files.
//!
//! The file contents come from [`synod_sim::export`], the same code `synod` uses on the
//! command line, so a file saved here reads back with `synod check` and `synod run`. This
//! module names the files and turns a serialized SVG element into a file that renders on
//! its own: the page draws with a style sheet, so [`crate::dom::standalone_svg`] copies the
//! computed value of each property in [`SVG_STYLE_PROPERTIES`] into every element's `style`
//! attribute, and [`svg_file`] adds what a file needs and an element in a page does not (the
//! XML declaration, the SVG namespace, a size).

use synod_sim::export::{
    history_edn, history_json, history_porcupine, scenario_to_json, trace_json,
};
use synod_sim::Simulation;

/// Every file the page can save.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Export {
    HistoryJson,
    HistoryEdn,
    HistoryPorcupine,
    TraceJson,
    Scenario,
    TimelineSvg,
    ClusterSvg,
}

impl Export {
    pub const ALL: [Export; 7] = [
        Export::HistoryJson,
        Export::HistoryEdn,
        Export::HistoryPorcupine,
        Export::TraceJson,
        Export::Scenario,
        Export::TimelineSvg,
        Export::ClusterSvg,
    ];

    /// The button's words.
    pub fn title(self) -> &'static str {
        match self {
            Export::HistoryJson => "History (Synod JSON)",
            Export::HistoryEdn => "History (Jepsen EDN)",
            Export::HistoryPorcupine => "History (Porcupine kv)",
            Export::TraceJson => "Trace (JSON)",
            Export::Scenario => "Scenario file",
            Export::TimelineSvg => "Timeline (SVG)",
            Export::ClusterSvg => "Cluster (SVG)",
        }
    }

    /// A short id for tests (`data-testid="export-<id>"`).
    pub fn id(self) -> &'static str {
        match self {
            Export::HistoryJson => "history-json",
            Export::HistoryEdn => "history-edn",
            Export::HistoryPorcupine => "history-porcupine",
            Export::TraceJson => "trace-json",
            Export::Scenario => "scenario",
            Export::TimelineSvg => "timeline-svg",
            Export::ClusterSvg => "cluster-svg",
        }
    }

    /// The file name, with the seed so that files of different runs do not collide.
    pub fn file_name(self, seed: u64) -> String {
        let ext = match self {
            Export::HistoryJson => "history.json",
            Export::HistoryEdn => "history.edn",
            Export::HistoryPorcupine => "porcupine-kv.txt",
            Export::TraceJson => "trace.json",
            Export::Scenario => "scenario.json",
            Export::TimelineSvg => "timeline.svg",
            Export::ClusterSvg => "cluster.svg",
        };
        format!("synod-{seed}-{ext}")
    }

    pub fn mime(self) -> &'static str {
        match self {
            Export::HistoryJson | Export::TraceJson | Export::Scenario => "application/json",
            Export::HistoryEdn => "application/edn",
            Export::HistoryPorcupine => "text/plain",
            Export::TimelineSvg | Export::ClusterSvg => "image/svg+xml",
        }
    }

    /// The SVG element drawn for a picture export (its `data-testid`).
    pub fn svg_testid(self) -> Option<&'static str> {
        match self {
            Export::TimelineSvg => Some("timeline"),
            Export::ClusterSvg => Some("cluster"),
            _ => None,
        }
    }

    /// The contents of a file made from the simulation, and a note on what the format
    /// could not keep; `None` for the pictures, which come from the page.
    pub fn text(self, sim: &Simulation) -> Option<(String, Option<String>)> {
        Some(match self {
            Export::HistoryJson => (history_json(sim.history()), None),
            Export::HistoryEdn => (history_edn(sim.history()), None),
            Export::HistoryPorcupine => {
                let p = history_porcupine(sim.history());
                let note = (p.left_out + p.rewritten > 0).then(|| {
                    format!(
                        "Porcupine's model has no contains or remove: {} contains left out, \
                         {} removes written as put of \"\".",
                        p.left_out, p.rewritten
                    )
                });
                (p.text, note)
            }
            Export::TraceJson => (trace_json(sim), None),
            Export::Scenario => (scenario_to_json(sim.scenario()), None),
            Export::TimelineSvg | Export::ClusterSvg => return None,
        })
    }
}

/// The properties copied from the computed style into a standalone SVG: everything the
/// page's style sheet sets on SVG elements (paint, strokes, text, visibility).
pub const SVG_STYLE_PROPERTIES: [&str; 17] = [
    "fill",
    "fill-opacity",
    "stroke",
    "stroke-width",
    "stroke-dasharray",
    "stroke-linecap",
    "stroke-opacity",
    "opacity",
    "font-family",
    "font-size",
    "font-weight",
    "font-style",
    "text-anchor",
    "dominant-baseline",
    "visibility",
    "display",
    "paint-order",
];

/// A `style` attribute from property/value pairs, leaving out empty values.
pub fn style_attribute<'a>(pairs: impl IntoIterator<Item = (&'a str, String)>) -> String {
    pairs
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(p, v)| format!("{p}: {}", v.trim()))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The attributes that place one of the timeline's sliding layers, copied into a file,
/// inside the frame: at the window's origin, as wide as what the page shows of it (`width`),
/// as tall as the frame, and looking at the part of the track the window shows (from `x`).
pub fn nested_layer_attributes(x: &str, width: &str, height: &str) -> Vec<(&'static str, String)> {
    vec![
        ("x", "0".to_owned()),
        ("y", "0".to_owned()),
        ("width", width.to_owned()),
        ("height", height.to_owned()),
        ("viewBox", format!("{x} 0 {width} {height}")),
        ("style", String::new()),
    ]
}

/// A serialized `<svg>` element as a file: the XML declaration, the SVG namespace if the
/// serializer left it out, and a width and height from the view box when it has none (a
/// file has no container to size it).
pub fn svg_file(markup: &str) -> String {
    let markup = markup.trim();
    let Some(open_end) = markup.find('>') else {
        return format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{markup}\n");
    };
    let (open, rest) = markup.split_at(open_end);
    let mut open = open.to_owned();
    if !open.contains("xmlns=") {
        open = open.replacen("<svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"", 1);
    }
    if let Some((w, h)) = view_box_size(&open) {
        if !has_attribute(&open, "width") {
            open.push_str(&format!(" width=\"{w}\""));
        }
        if !has_attribute(&open, "height") {
            open.push_str(&format!(" height=\"{h}\""));
        }
    }
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{open}{rest}\n")
}

fn has_attribute(tag: &str, name: &str) -> bool {
    tag.split_whitespace()
        .any(|part| part.starts_with(&format!("{name}=")))
}

/// The width and height of the `viewBox` in an opening tag.
fn view_box_size(tag: &str) -> Option<(String, String)> {
    let start = tag.find("viewBox=\"")? + "viewBox=\"".len();
    let value = &tag[start..start + tag[start..].find('"')?];
    let numbers: Vec<&str> = value.split([' ', ',']).filter(|s| !s.is_empty()).collect();
    match numbers.as_slice() {
        [_, _, w, h] if w.parse::<f64>().is_ok() && h.parse::<f64>().is_ok() => {
            Some(((*w).to_owned(), (*h).to_owned()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use synod_core::Protocol;
    use synod_sim::{Scenario, Time};

    #[test]
    fn a_serialized_svg_becomes_a_file_with_namespace_and_size() {
        let f = svg_file("<svg viewBox=\"-40 0 1045 146.0\" data-testid=\"timeline\"><g/></svg>");
        assert!(f.starts_with("<?xml version=\"1.0\""));
        assert!(f.contains("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox"));
        assert!(f.contains(" width=\"1045\" height=\"146.0\">"));
        assert!(f.trim_end().ends_with("</svg>"));
        // What the serializer already wrote is kept, not doubled.
        let g = svg_file(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"5\" viewBox=\"0 0 10 20\"></svg>",
        );
        assert_eq!(g.matches("xmlns=").count(), 1);
        assert!(g.contains("width=\"5\"") && g.contains("height=\"20\""));
        assert!(!g.contains("width=\"10\""));
    }

    #[test]
    fn style_attributes_leave_out_empty_values() {
        let s = style_attribute([
            ("fill", "rgb(1, 2, 3)".to_owned()),
            ("stroke", " ".to_owned()),
            ("font-size", "12px ".to_owned()),
        ]);
        assert_eq!(s, "fill: rgb(1, 2, 3); font-size: 12px");
    }

    #[test]
    fn every_file_of_a_run_reads_back_with_the_command_line_readers() {
        let mut sim = Simulation::new(Scenario::cluster(3, 3, Protocol::MultiPaxos, 2)).unwrap();
        sim.run_until(Time(3_000_000));
        assert!(!sim.history().is_empty());
        for e in Export::ALL {
            let name = e.file_name(3);
            assert!(name.starts_with("synod-3-"), "{name}");
            let Some((text, _)) = e.text(&sim) else {
                assert!(e.svg_testid().is_some(), "{e:?}");
                continue;
            };
            match e {
                Export::Scenario => assert_eq!(
                    synod_sim::export::scenario_from_json(text.as_bytes()).as_ref(),
                    Ok(sim.scenario())
                ),
                Export::TraceJson => {
                    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
                    assert_eq!(
                        v["trace_hash"],
                        format!("{:016x}", sim.trace_hash()).as_str()
                    );
                }
                _ => {
                    let parsed = synod_check::read_history(
                        &name,
                        text.as_bytes(),
                        &synod_check::ReadOptions::default(),
                    )
                    .unwrap();
                    assert!(!parsed.history.is_empty(), "{name}");
                }
            }
        }
    }

    #[test]
    fn a_sliding_layer_is_nested_at_the_window_showing_what_the_page_shows() {
        let attrs = nested_layer_attributes("1234.5", "1000.0", "164.0");
        let get = |k: &str| attrs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("viewBox"), Some("1234.5 0 1000.0 164.0"));
        assert_eq!((get("x"), get("y")), (Some("0"), Some("0")));
        assert_eq!(
            (get("width"), get("height")),
            (Some("1000.0"), Some("164.0"))
        );
        assert_eq!(
            get("style"),
            Some(""),
            "the page's sizing is not the file's"
        );
    }
}
