//! Browser flows for sharing, embedding, exporting and importing (issue 8): a share link
//! reopens the same state, a broken link explains itself, the embed example sizes its two
//! frames from their height messages, a read-only embed offers no control, every export
//! produces its file, and each history format imports with the right verdict.

use super::{clock_ms, fail, full_speed, leader, open, select_node, Browser};
use crate::Result;
use serde_json::Value;

/// Every flow of this file, by name.
pub const ALL: &[(&str, super::Flow)] = &[
    (
        "share_link_reopens_the_same_state",
        share_link_reopens_the_same_state,
    ),
    (
        "embed_code_opens_the_same_moment",
        embed_code_opens_the_same_moment,
    ),
    (
        "broken_link_opens_the_default_playground",
        broken_link_opens_the_default_playground,
    ),
    (
        "embed_example_sizes_two_frames",
        embed_example_sizes_two_frames,
    ),
    (
        "read_only_embed_offers_no_control",
        read_only_embed_offers_no_control,
    ),
    ("export_every_file", export_every_file),
    ("import_each_history_format", import_each_history_format),
    (
        "scenario_files_load_or_explain",
        scenario_files_load_or_explain,
    ),
];

/// Waits until the virtual clock shows at least `ms`.
fn wait_clock(b: &mut Browser, ms: u64) -> Result {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if clock_ms(b)? >= ms {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return fail(format!("the clock never reached {ms} ms"));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// What the page shows that a replay must reproduce exactly.
fn picture(b: &mut Browser) -> Result<Value> {
    let v = b.script(
        "const t = s => { const e = document.querySelector(s); return e ? e.textContent : null; }; \
         return JSON.stringify({clock: t(\"[data-testid='clock']\"), \
           hash: t(\"[data-testid='trace-hash']\"), \
           n1: t(\"[data-testid='table-n1']\"), n2: t(\"[data-testid='table-n2']\"), \
           n3: t(\"[data-testid='table-n3']\"), verdict: t(\"[data-testid='verdict']\"), \
           bars: [...document.querySelectorAll(\"[data-testid='timeline'] .bar\")].map(e => e.textContent), \
           play: t(\"[data-testid='play']\"), \
           narration: !!document.querySelector('.narration')});",
    )?;
    serde_json::from_str(v.as_str().unwrap_or("null")).map_err(|e| crate::Failure(e.to_string()))
}

fn share_link_reopens_the_same_state(b: &mut Browser) -> Result {
    open(b)?;
    full_speed(b)?;
    wait_clock(b, 1500)?;
    let old = leader(b)?;
    select_node(b, &old)?;
    b.click("[data-testid='crash']")?;
    wait_clock(b, 3500)?;
    b.click("[data-testid='play']")?;
    b.wait_for_text("[data-testid='play']", "Play")?;
    // A hidden panel travels in the link too.
    b.click("[data-testid='panel-narration']")?;
    b.wait_until(
        "the narration is hidden",
        "return !document.querySelector('.narration');",
    )?;
    let before = picture(b)?;
    b.click("[data-testid='copy-link']")?;
    let link = b.wait_until(
        "the link is shown",
        "const e = document.querySelector(\"[data-testid='share-link']\"); return e ? e.value : '';",
    )?;
    let status = b.wait_until(
        "the page says whether it could copy",
        "return document.querySelector(\"[data-testid='copy-status']\").textContent;",
    )?;
    let link = link.as_str().unwrap_or_default().to_owned();
    let Some((_, fragment)) = link.split_once('#') else {
        return fail(format!("the shared link has no fragment: {link}"));
    };
    println!("    {} characters; {status}", link.len());
    b.screenshot("share_link_made")?;
    // A fresh page load of the link (another path, so the browser does not just move to
    // a fragment of the page it has).
    b.goto(&format!("/index.html#{fragment}"))?;
    b.wait_for("[data-app-ready='true']")?;
    b.wait_for("[data-testid='node-n1']")?;
    let after = picture(b)?;
    if after != before {
        return fail(format!(
            "the link opened a different state:\n  shared {before}\n  opened {after}"
        ));
    }
    if before["hash"].is_null() || before["n1"].is_null() || before["narration"] != false {
        return fail(format!("the picture compared nothing useful: {before}"));
    }
    if b.count("[data-testid='link-error']")? != 0 {
        return fail("a good link showed the error banner".into());
    }
    println!("    same clock {}, hash {}", after["clock"], after["hash"]);
    b.screenshot("share_link_reopens_the_same_state")
}

fn embed_code_opens_the_same_moment(b: &mut Browser) -> Result {
    open(b)?;
    full_speed(b)?;
    wait_clock(b, 2000)?;
    b.click("[data-testid='play']")?;
    b.wait_for_text("[data-testid='play']", "Play")?;
    b.click("[data-testid='panel-narration']")?;
    b.set_value("[data-testid='embed-theme']", "dark")?;
    let before = picture(b)?;
    b.click("[data-testid='copy-embed']")?;
    let code = b.wait_until(
        "the embed code is shown",
        "const e = document.querySelector(\"[data-testid='embed-code']\"); return e ? e.value : '';",
    )?;
    let code = code.as_str().unwrap_or_default().to_owned();
    let src = code
        .split("src=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .map(|s| s.replace("&amp;", "&"))
        .ok_or_else(|| crate::Failure(format!("no iframe src in {code}")))?;
    if !code.contains("synod-height") {
        return fail(format!("the embed code does not size its frame: {code}"));
    }
    let Some((_, fragment)) = src.split_once('#') else {
        return fail(format!("the embed src has no link: {src}"));
    };
    b.goto(&format!("/index.html#{fragment}"))?;
    b.wait_for("[data-app-ready='true']")?;
    b.wait_for(".app.embedded")?;
    let after = picture(b)?;
    for key in [
        "clock",
        "hash",
        "n1",
        "n2",
        "n3",
        "bars",
        "play",
        "narration",
    ] {
        if after[key] != before[key] {
            return fail(format!(
                "the embed shows another {key}: {} instead of {}",
                after[key], before[key]
            ));
        }
    }
    for absent in [
        "header",
        "[data-testid='tools']",
        "[data-testid='protocol']",
    ] {
        if b.count(absent)? != 0 {
            return fail(format!("the embed shows {absent}"));
        }
    }
    let theme = b.script("return document.documentElement.dataset.theme;")?;
    if theme != "dark" {
        return fail(format!("the embed's theme is {theme}, expected dark"));
    }
    b.screenshot("embed_code_opens_the_same_moment")
}

fn broken_link_opens_the_default_playground(b: &mut Browser) -> Result {
    b.goto("/index.html#s1.AAAABQ")?;
    b.wait_for("[data-app-ready='true']")?;
    b.wait_for_text("[data-testid='link-error']", "incomplete")?;
    b.wait_for_text("[data-testid='link-error']", "default playground")?;
    // The default playground, whole and running.
    for n in ["n1", "n2", "n3"] {
        b.wait_for(&format!("[data-testid='node-{n}']"))?;
    }
    full_speed(b)?;
    b.wait_for(".bar.ok")?;
    b.screenshot("broken_link")?;
    b.click("[data-testid='dismiss-banner']")?;
    b.wait_until(
        "the banner goes away",
        "return !document.querySelector(\"[data-testid='link-error']\");",
    )?;
    // A bad link pasted into the address bar of the open page leaves the world alone.
    let t = clock_ms(b)?;
    b.script("location.hash = 'hello'; return 0;")?;
    b.wait_for_text("[data-testid='link-error']", "not a Synod share link")?;
    b.wait_for_text("[data-testid='link-error']", "unchanged")?;
    if clock_ms(b)? < t {
        return fail("the playground was reset by a bad link".into());
    }
    b.screenshot("broken_link_opens_the_default_playground")
}

fn embed_example_sizes_two_frames(b: &mut Browser) -> Result {
    b.goto("/embed-example.html")?;
    let heights = b.wait_until(
        "both frames size themselves from their height messages",
        "const f = [...document.querySelectorAll('iframe')]; \
         return f.length === 2 && f.every(x => Number(x.dataset.reportedHeight) > 300 \
           && x.style.height === x.dataset.reportedHeight + 'px') \
           ? f.map(x => x.dataset.reportedHeight).join(', ') : '';",
    )?;
    println!("    frame heights {heights}");

    let framed = b.script(
        "return [...document.querySelectorAll('iframe')].map(x => { const d = x.contentDocument; \
           return !!d.querySelector('.app.embedded') && !d.querySelector('header') \
             && !d.querySelector(\"[data-testid='protocol']\") \
             && !d.querySelector(\"[data-testid='tools']\") \
             && !!d.querySelector(\"[data-testid='cluster']\") \
             && !!d.querySelector(\"[data-testid='timeline']\") \
             && !d.querySelector('.narration'); }).join(',');",
    )?;
    if framed != "true,true" {
        return fail(format!(
            "the frames do not show the embed the example asks for: {framed}"
        ));
    }
    let theme = b.script(
        "return [...document.querySelectorAll('iframe')] \
           .map(x => x.contentDocument.documentElement.dataset.theme).join(',');",
    )?;
    if theme != "auto,dark" {
        return fail(format!("frame themes are {theme}, expected auto,dark"));
    }
    // Both play by themselves; the naive one turns red.
    b.wait_until(
        "the naive frame finds a violation",
        "const d = document.querySelectorAll('iframe')[1].contentDocument; \
         const v = d.querySelector(\"[data-testid='verdict']\"); \
         return v && v.textContent.includes('NOT linearizable');",
    )?;
    // The explanation made the naive frame taller: its frame follows, so neither scrolls.
    let sizes = b.wait_until(
        "the frames follow their pages' heights without scrolling",
        "const f = [...document.querySelectorAll('iframe')]; \
         const ok = f.every(x => { const e = x.contentDocument.documentElement; \
           return e.scrollHeight <= e.clientHeight && e.scrollWidth <= e.clientWidth \
             && x.contentWindow.innerWidth === e.clientWidth; }); \
         return ok ? f.map(x => x.style.height).join(', ') : '';",
    )?;
    println!("    after the violation: {sizes}");
    b.script("document.querySelectorAll('iframe')[1].scrollIntoView(); return 0;")?;
    b.screenshot("embed_example_sizes_two_frames")
}

fn read_only_embed_offers_no_control(b: &mut Browser) -> Result {
    b.goto(
        "/index.html?embed&readonly&panels=cluster,timeline,replicas&theme=dark&t=1s&start=paused",
    )?;
    b.wait_for("[data-app-ready='true']")?;
    b.wait_for("[data-testid='node-n1']")?;
    for absent in [
        "header",
        "[data-testid='protocol']",
        "[data-testid='tools']",
        "[data-testid='selection']",
        "[data-testid='partition']",
        "[data-testid='c1-set']",
        ".narration",
        "[data-testid='link-error']",
    ] {
        if b.count(absent)? != 0 {
            return fail(format!("a read-only embed shows {absent}"));
        }
    }
    b.wait_for("[data-testid='table-n1']")?;
    let theme = b.script("return document.documentElement.dataset.theme;")?;
    if theme != "dark" {
        return fail(format!("theme is {theme}, expected dark"));
    }
    if clock_ms(b)? != 1000 {
        return fail(format!("opened at {} ms, expected 1000", clock_ms(b)?));
    }
    b.wait_for_text("[data-testid='play']", "Play")?;
    // The heal shortcut is an intervention: refused.
    b.press("h")?;
    b.wait_for_text("[data-testid='notice']", "read-only")?;
    // Playback is allowed.
    b.press(" ")?;
    b.wait_for_text("[data-testid='play']", "Pause")?;
    b.screenshot("read_only_embed_offers_no_control")
}

fn export_every_file(b: &mut Browser) -> Result {
    open(b)?;
    full_speed(b)?;
    b.wait_for(".bar.ok")?;
    wait_clock(b, 2000)?;
    b.click("[data-testid='play']")?;
    b.wait_for_text("[data-testid='play']", "Play")?;
    // Catch the downloads: each anchor the page clicks is fetched instead of saved.
    b.script(
        "window.__downloads = []; \
         HTMLAnchorElement.prototype.click = function () { const name = this.download; \
           fetch(this.href).then(r => r.text()).then(t => window.__downloads.push([name, t])); }; \
         return 0;",
    )?;
    let ids = [
        "history-json",
        "history-edn",
        "history-porcupine",
        "trace-json",
        "scenario",
        "timeline-svg",
        "cluster-svg",
    ];
    for id in ids {
        b.click(&format!("[data-testid='export-{id}']"))?;
    }
    b.wait_until(
        "every file is made",
        &format!("return window.__downloads.length === {};", ids.len()),
    )?;
    let files = b.script("return JSON.stringify(window.__downloads);")?;
    let files: Vec<(String, String)> = serde_json::from_str(files.as_str().unwrap_or("[]"))
        .map_err(|e| crate::Failure(e.to_string()))?;
    let hash = b.text("[data-testid='trace-hash']")?;
    // Paused: the dots in flight stay put, and the cluster's file must hold every one.
    let dots = b.count("[data-testid='messages'] .msg")?;
    let find = |suffix: &str| {
        files
            .iter()
            .find(|(n, _)| n.ends_with(suffix))
            .map(|(_, t)| t.clone())
            .ok_or_else(|| crate::Failure(format!("no file ending {suffix}: {files:?}")))
    };
    let checks: [(&str, &[&str]); 7] = [
        ("history.json", &["{\"version\":1", "\"model\":\"kv\""]),
        ("history.edn", &[":type :invoke", ":type :ok"]),
        ("porcupine-kv.txt", &[":process"]),
        (
            "trace.json",
            &[&format!("\"trace_hash\":\"{hash}\""), "\"records\":["],
        ),
        ("scenario.json", &["\"protocol\": \"multi_paxos\""]),
        (
            "timeline.svg",
            &[
                "<?xml",
                "xmlns=\"http://www.w3.org/2000/svg\"",
                "style=\"fill:",
                "<rect",
                "background-color: rgb(255, 255, 255)",
                // The bars, from the sliding layers nested into the frame at the window.
                "class=\"bar ",
                " x=\"0\" y=\"0\" width=\"1000\"",
            ],
        ),
        (
            "cluster.svg",
            &[
                "<?xml",
                "xmlns=\"http://www.w3.org/2000/svg\"",
                "stroke-width:",
                "<circle",
                // The message dots, from their own layer drawn over the cluster.
                "class=\"messages\"",
            ],
        ),
    ];
    for (suffix, needles) in checks {
        let text = find(suffix)?;
        for n in needles {
            if !text.contains(n) {
                let head: String = text.chars().take(300).collect();
                return fail(format!("{suffix} lacks {n}: {head}"));
            }
        }
        if suffix == "cluster.svg" && text.matches("data-msg=").count() as u64 != dots {
            return fail(format!(
                "cluster.svg holds {} message dots where the page shows {dots}",
                text.matches("data-msg=").count()
            ));
        }
        println!("    {suffix}: {} bytes", text.len());
        // Kept beside the screenshots, to look at.
        let _ = std::fs::write(
            crate::root()
                .join("web/test-output")
                .join(format!("export-{suffix}")),
            &text,
        );
    }
    Ok(())
}

const SYNOD_JSON: &str = r#"{"version": 1, "model": "kv", "operations": [
  {"client": 0, "call": 0, "return": 100, "input": {"op": "set", "key": "x", "value": "1"}, "output": {"kind": "done"}},
  {"client": 1, "call": 150, "return": 300, "input": {"op": "get", "key": "x"}, "output": {"kind": "value", "value": "1"}},
  {"client": 2, "call": 120, "return": null, "input": {"op": "remove", "key": "x"}, "output": null}
]}"#;

const JEPSEN_EDN: &str = "[{:process 0, :type :invoke, :f :write, :value 1}\n\
 {:process 0, :type :ok, :f :write, :value 1}\n\
 {:process :nemesis, :type :info, :f :start, :value nil}\n\
 {:process 1, :type :invoke, :f :read, :value nil}\n\
 {:process 1, :type :ok, :f :read, :value 2}]\n";

/// Writes a fixture where the browser can upload it from.
fn fixture_file(name: &str, text: &str) -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("synod-flows-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| crate::Failure(e.to_string()))?;
    let path = dir.join(name);
    std::fs::write(&path, text).map_err(|e| crate::Failure(e.to_string()))?;
    Ok(path)
}

fn import_each_history_format(b: &mut Browser) -> Result {
    open(b)?;
    // Pasted, with the format detected.
    for (text, verdict, format) in [
        (SYNOD_JSON, "linearizable ✓", "Synod JSON"),
        (JEPSEN_EDN, "NOT linearizable", "Jepsen history.edn"),
    ] {
        b.set_value("[data-testid='import-format']", "auto")?;
        b.set_value("[data-testid='import-text']", text)?;
        b.click("[data-testid='import-check']")?;
        b.wait_for_text("[data-testid='import-verdict']", verdict)?;
        b.wait_for_text("[data-testid='import-summary']", format)?;
        b.wait_for("[data-testid='import-explanation']")?;
        b.click("[data-testid='import-close']")?;
        b.wait_for("[data-testid='cluster']")?;
    }
    // Uploaded, Porcupine's own files, with the format chosen.
    for (name, text, format, verdict) in [
        (
            "etcd_000.log",
            include_str!("fixtures/etcd_000.log"),
            "jepsen-log",
            "NOT linearizable",
        ),
        (
            "etcd_002.log",
            include_str!("fixtures/etcd_002.log"),
            "jepsen-log",
            "linearizable ✓",
        ),
        (
            "c01-bad.txt",
            include_str!("fixtures/c01-bad.txt"),
            "porcupine-kv",
            "NOT linearizable",
        ),
        (
            "c01-ok.txt",
            include_str!("fixtures/c01-ok.txt"),
            "porcupine-kv",
            "linearizable ✓",
        ),
    ] {
        let path = fixture_file(name, text)?;
        b.set_value("[data-testid='import-format']", format)?;
        b.upload("[data-testid='import-file']", &path)?;
        b.wait_for_text("[data-testid='imported'] h2", name)?;
        let shown = b.wait_for_text("[data-testid='import-verdict']", "linearizable")?;
        if !shown.starts_with(verdict) {
            return fail(format!(
                "{name}: the page says {shown}, Porcupine says {verdict}"
            ));
        }
        if verdict.starts_with("NOT") {
            b.wait_for("[data-testid='import-timeline'] .bar.illegal")?;
            b.wait_for_text("[data-testid='import-explanation']", "cannot be linearized")?;
        }
        b.screenshot(&format!("import_{}", name.replace('.', "_")))?;
    }
    // A malformed paste: the reader's message, and what was shown stays.
    b.set_value("[data-testid='import-format']", "edn")?;
    b.set_value(
        "[data-testid='import-text']",
        "[{:process 0, :type :invoke, :f :write, :value 1}\n{:process 0 :type",
    )?;
    b.click("[data-testid='import-check']")?;
    b.wait_for_text("[data-testid='import-error']", "pasted text:2:")?;
    b.wait_for_text("[data-testid='imported'] h2", "c01-ok.txt")?;
    let kept = b.script("return document.querySelector(\"[data-testid='import-text']\").value;")?;
    if !kept
        .as_str()
        .unwrap_or_default()
        .contains(":process 0 :type")
    {
        return fail(format!("the pasted text was lost: {kept}"));
    }
    b.screenshot("import_each_history_format")
}

fn scenario_files_load_or_explain(b: &mut Browser) -> Result {
    open(b)?;
    let bad = fixture_file(
        "bad.json",
        "{\"version\": 1, \"seed\": 1, \"cluster\": {\"nodes\": 3}}",
    )?;
    b.upload("[data-testid='scenario-file']", &bad)?;
    b.wait_for_text("[data-testid='scenario-error']", "bad.json: line 1")?;
    b.wait_for_text("[data-testid='scenario-error']", "protocol")?;
    // Nothing changed.
    b.wait_for("[data-testid='node-n3']")?;
    let good = fixture_file(
        "naive.json",
        include_str!("../examples/naive-replication.json"),
    )?;
    b.upload("[data-testid='scenario-file']", &good)?;
    b.wait_for_text("[data-testid='guarantee']", "No guarantee")?;
    b.wait_until(
        "the error is gone",
        "return !document.querySelector(\"[data-testid='scenario-error']\");",
    )?;
    full_speed(b)?;
    b.wait_for_text("[data-testid='verdict']", "NOT linearizable")?;
    b.screenshot("scenario_files_load_or_explain")
}
