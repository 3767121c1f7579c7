//! Browser flows: what a visitor does, checked in real headless Chromium.
//!
//! Each flow opens the built page, waits for the wasm application to start (the markers it
//! waits for exist only once the Yew app has rendered, so a page whose wasm failed to load
//! fails every flow), acts like a person, and asserts on what the page then shows. Every flow
//! saves a screenshot in `web/test-output/`.
//! Compiled into `xtask` (see `xtask/src/browser.rs`).

use super::Browser;
use crate::{Failure, Result};

pub type Flow = fn(&mut Browser) -> Result;

#[path = "share_flows.rs"]
pub mod share_flows;

/// The flows whose Chromium records its trace (see [`Browser::trace_events`]).
pub const TRACED: &[&str] = &["frame_budget_5_nodes_10_clients"];

/// Every flow, by name.
pub const ALL: &[(&str, Flow)] = &[
    ("load", load),
    ("play", play),
    ("crash_leader_elects_another", crash_leader_elects_another),
    ("partition_and_heal", partition_and_heal),
    ("operation_by_hand_completes", operation_by_hand_completes),
    (
        "broken_variant_turns_the_verdict_red",
        broken_variant_turns_the_verdict_red,
    ),
    ("scrub_back_and_fork", scrub_back_and_fork),
    ("keyboard_and_help", keyboard_and_help),
    ("message_click_drop", message_click_drop),
    (
        "clicking_an_operation_shows_its_slot",
        clicking_an_operation_shows_its_slot,
    ),
    ("phone_width", phone_width),
    (
        "frame_budget_5_nodes_10_clients",
        frame_budget_5_nodes_10_clients,
    ),
    ("add_node_by_replay_converges", add_node_by_replay_converges),
    (
        "add_node_by_snapshot_converges",
        add_node_by_snapshot_converges,
    ),
    (
        "snapshot_compacts_the_log_view",
        snapshot_compacts_the_log_view,
    ),
    ("hold_a_link_and_pause_a_node", hold_a_link_and_pause_a_node),
    ("remove_a_node", remove_a_node),
];

/// Opens the page and waits for the app to announce that it runs.
fn open(b: &mut Browser) -> Result {
    b.goto("/")?;
    b.wait_for("[data-app-ready='true']")?;
    Ok(())
}

fn fail<T>(what: String) -> Result<T> {
    Err(Failure(what))
}

/// The virtual clock, in milliseconds, as the page shows it (`t = 1.250 s` or `830 ms`).
fn clock_ms(b: &mut Browser) -> Result<u64> {
    let text = b.text("[data-testid='clock']")?;
    let t = text
        .trim_start_matches("t = ")
        .split(" (")
        .next()
        .unwrap_or_default();
    let ms = if let Some(s) = t.strip_suffix(" s") {
        let (whole, frac) = s.split_once('.').unwrap_or((s, "0"));
        whole.parse::<u64>().unwrap_or(0) * 1000 + frac.parse::<u64>().unwrap_or(0)
    } else {
        t.trim_end_matches(" ms").parse().unwrap_or(0)
    };
    Ok(ms)
}

fn full_speed(b: &mut Browser) -> Result {
    b.set_value("[data-testid='speed']", "1000")
}

/// The message dots' layer covers the cluster's picture exactly (the same box, so the same
/// view box at the same place), whatever limits the picture's height.
fn dots_lie_over_the_cluster(b: &mut Browser) -> Result {
    let boxes = b.script(
        "const r = e => { const b = e.getBoundingClientRect(); \
           return [b.x, b.y, b.width, b.height, e.clientLeft, e.clientTop, e.clientWidth, e.clientHeight]; }; \
         return [r(document.querySelector(\"[data-testid='cluster']\")), \
                 r(document.querySelector('svg.dots-layer'))];",
    )?;
    if boxes[0] != boxes[1] {
        return fail(format!(
            "the dots' layer is not over the cluster (x, y, width, height, then the content box): {boxes}"
        ));
    }
    Ok(())
}

fn load(b: &mut Browser) -> Result {
    open(b)?;
    for n in ["n1", "n2", "n3"] {
        b.wait_for(&format!("[data-testid='node-{n}']"))?;
    }
    for c in ["c1", "c2", "c3"] {
        b.wait_for(&format!("[data-testid='client-{c}']"))?;
    }
    let title = b.script("return document.title")?;
    if title != "Synod" {
        return fail(format!("page title is {title}, expected Synod"));
    }
    b.wait_for_text("[data-testid='hint']", "Crash")?;
    b.wait_for_text("[data-testid='guarantee']", "Strongly consistent")?;
    dots_lie_over_the_cluster(b)?;
    b.wait_for("[data-testid='legend']")?;
    b.screenshot("load")
}

fn play(b: &mut Browser) -> Result {
    open(b)?;
    full_speed(b)?;
    let t0 = clock_ms(b)?;
    // The workload runs by itself: messages fly and operations complete.
    b.wait_for("[data-testid='messages'] .msg")?;
    // A dot moves along its link, and its transform attribute says where it is (dots live
    // for a few frames at this speed, so the attribute is sampled on every frame).
    b.script(
        "window.__seen = {}; window.__moved = false; \
         const sample = () => { \
           for (const m of document.querySelectorAll(\"[data-testid='messages'] .msg\")) { \
             const at = m.getAttribute('transform'), id = m.dataset.msg, was = window.__seen[id]; \
             if (!/^translate\\([-\\d.]+[ ,]+[-\\d.]+\\)$/.test(at)) continue; \
             if (was !== undefined && was !== at) window.__moved = true; \
             window.__seen[id] = at; } \
           if (!window.__moved) requestAnimationFrame(sample); }; \
         requestAnimationFrame(sample); return 0;",
    )?;
    b.wait_until("a message dot moves", "return window.__moved;")?;
    b.wait_for(".bar.ok")?;
    b.wait_for_text("[data-testid='verdict']", "linearizable ✓")?;
    b.wait_for("[data-testid='node-n1'][data-role='leader'], [data-testid='node-n2'][data-role='leader'], [data-testid='node-n3'][data-role='leader']")?;
    let t1 = clock_ms(b)?;
    if t1 <= t0 {
        return fail(format!("the clock did not move: {t0} ms then {t1} ms"));
    }
    b.click("[data-testid='play']")?;
    let paused = clock_ms(b)?;
    std::thread::sleep(std::time::Duration::from_millis(400));
    if clock_ms(b)? != paused {
        return fail("the clock moved while paused".into());
    }
    b.screenshot("play")
}

/// The node currently drawn as leader, e.g. `n1`.
fn leader(b: &mut Browser) -> Result<String> {
    let v = b.wait_until(
        "a leader is drawn",
        "const e = document.querySelector(\"[data-role='leader']\"); \
         return e ? e.getAttribute('data-testid').slice(5) : '';",
    )?;
    Ok(v.as_str().unwrap_or_default().to_owned())
}

fn crash_leader_elects_another(b: &mut Browser) -> Result {
    open(b)?;
    full_speed(b)?;
    let old = leader(b)?;
    select_node(b, &old)?;
    b.click("[data-testid='crash']")?;
    b.wait_for(&format!("[data-testid='node-{old}'].down"))?;
    let js = format!(
        "const e = document.querySelector(\"[data-role='leader']\"); \
         const n = e ? e.getAttribute('data-testid').slice(5) : ''; \
         return n && n !== '{old}' ? n : '';"
    );
    let new = b.wait_until("another node becomes leader", &js)?;
    b.wait_for(".marker.crash")?;
    b.wait_for_text("[data-testid='timeline']", "leads")?;
    println!("    leader {old} crashed; {new} took over");
    b.screenshot("crash_leader_elects_another")
}

fn partition_and_heal(b: &mut Browser) -> Result {
    open(b)?;
    full_speed(b)?;
    b.click("[data-testid='node-n1']")?;
    b.click("[data-testid='pick']")?;
    b.wait_for("[data-testid='node-n1'].picked")?;
    b.click("[data-testid='partition']")?;
    b.wait_for("[data-testid='link-n1-n2'].cut")?;
    b.wait_for("[data-testid='link-n1-n3'].cut")?;
    if b.count("[data-testid='link-n2-n3'].cut")? != 0 {
        return fail("n2 and n3 are on the same side but their link is cut".into());
    }
    b.wait_for(".marker.partition")?;
    b.screenshot("partition")?;
    b.click("[data-testid='heal']")?;
    b.wait_until(
        "no link is cut after healing",
        "return document.querySelectorAll('.link.cut').length === 0;",
    )?;
    b.wait_for(".marker.heal")?;
    b.screenshot("partition_and_heal")
}

fn operation_by_hand_completes(b: &mut Browser) -> Result {
    open(b)?;
    full_speed(b)?;
    b.click("[data-testid='workload']")?;
    b.set_value("[data-testid='c2-target']", "2")?;
    b.fill("[data-testid='c2-key']", "k9")?;
    b.fill("[data-testid='c2-value']", "v9")?;
    b.wait_until(
        "c2 is free to call",
        "const e = document.querySelector(\"[data-testid='c2-set']\"); return e && !e.disabled;",
    )?;
    // At full speed the operation is pending for about a tenth of a second, which polling
    // can miss; slowed down, its pending bar stays long enough to be seen.
    b.set_value("[data-testid='speed']", "100")?;
    b.click("[data-testid='c2-set']")?;
    b.wait_for_text("[data-testid='timeline']", "set(k9, v9) …")?;
    full_speed(b)?;
    b.wait_for_text("[data-testid='timeline']", "set(k9, v9) → ok")?;
    b.wait_for_text("[data-testid='table-n3']", "v9")?;
    // Clicking the bar highlights the log slot that served it.
    let bar = b.wait_until(
        "the bar of the operation",
        "const bars = [...document.querySelectorAll('.bar')]; \
         const e = bars.find(g => g.textContent.includes('set(k9, v9) → ok')); \
         return e ? e.getAttribute('data-testid') : '';",
    )?;
    b.click(&format!(
        "[data-testid='{}'] rect",
        bar.as_str().unwrap_or_default()
    ))?;
    b.wait_for(".slot.related")?;
    b.screenshot("operation_by_hand_completes")
}

fn broken_variant_turns_the_verdict_red(b: &mut Browser) -> Result {
    open(b)?;
    b.set_value("[data-testid='protocol']", "naive")?;
    b.wait_for_text("[data-testid='guarantee']", "No guarantee")?;
    full_speed(b)?;
    b.wait_for_text("[data-testid='verdict']", "NOT linearizable")?;
    b.wait_for(".bar.illegal")?;
    b.wait_for_text("[data-testid='explanation']", "in red")?;
    b.script("document.querySelector(\"[data-testid='timeline']\").scrollIntoView(); return 0;")?;
    b.screenshot("broken_variant_turns_the_verdict_red")
}

fn scrub_back_and_fork(b: &mut Browser) -> Result {
    open(b)?;
    full_speed(b)?;
    b.wait_until(
        "three seconds of virtual time",
        "const t = document.querySelector(\"[data-testid='clock']\").textContent; \
         return /t = [3-9]\\.\\d+ s/.test(t);",
    )?;
    b.click("[data-testid='play']")?;
    b.set_value("[data-testid='scrubber']", "1000")?;
    b.wait_for_text("[data-testid='clock']", "acting here forks")?;
    let at = clock_ms(b)?;
    if at != 1000 {
        return fail(format!("scrubbed to 1000 ms but the clock shows {at} ms"));
    }
    b.screenshot("scrub_back")?;
    b.click("[data-testid='node-n2']")?;
    b.click("[data-testid='crash']")?;
    b.wait_for_text("[data-testid='notice']", "new one starts here")?;
    b.wait_for("[data-testid='node-n2'].down")?;
    let text = b.text("[data-testid='clock']")?;
    if text.contains("forks") {
        return fail(format!(
            "after the fork the page still shows a recorded future: {text}"
        ));
    }
    b.screenshot("scrub_back_and_fork")
}

fn keyboard_and_help(b: &mut Browser) -> Result {
    open(b)?;
    b.press(" ")?;
    b.wait_for_text("[data-testid='play']", "Play")?;
    let t = clock_ms(b)?;
    b.press(".")?;
    b.press("n")?;
    b.wait_until(
        "step and next-completion moved the clock",
        &format!(
            "const t = document.querySelector(\"[data-testid='clock']\").textContent; \
             return t !== 't = {}';",
            if t >= 1000 {
                format!("{}.{:03} s", t / 1000, t % 1000)
            } else {
                format!("{t} ms")
            }
        ),
    )?;
    b.press("?")?;
    b.wait_for("[data-testid='help-overlay']")?;
    b.screenshot("keyboard_and_help")?;
    b.press("\u{E00C}")?;
    b.wait_until(
        "Escape closes the help",
        "return !document.querySelector(\"[data-testid='help-overlay']\");",
    )?;
    Ok(())
}

fn message_click_drop(b: &mut Browser) -> Result {
    open(b)?;
    // Slow messages are easy to catch. Timers stretch with the latency, so the first messages
    // (an election, a client's request) fly about a second in: wait for them at full speed,
    // then slow down.
    b.set_value("[data-testid='latency']", "800")?;
    b.wait_for("[data-testid='messages'] .msg")?;
    b.set_value("[data-testid='speed']", "25")?;
    b.click("[data-testid='play']")?;
    // A message that no other message covers, as a person would pick it.
    let id = b.wait_until(
        "an uncovered message in flight",
        "for (const e of document.querySelectorAll(\"[data-testid='messages'] .msg\")) { \
           const r = e.querySelector('.dot').getBoundingClientRect(); \
           const top = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2); \
           if (top && top.closest('.msg') === e) return e.getAttribute('data-testid'); \
         } return '';",
    )?;
    let id = id.as_str().unwrap_or_default().to_owned();
    b.click(&format!("[data-testid='{id}'] .dot"))?;
    b.wait_for(&format!("[data-testid='{id}'].selected"))?;
    b.screenshot("message_selected")?;
    b.click("[data-testid='drop']")?;
    b.wait_for_text("[data-testid='narration']", "drop message")?;
    b.screenshot("message_click_drop")
}

/// Clicking an operation's bar selects it: the bar is drawn selected (the timeline keeps its
/// bars from frame to frame while nothing about them changes, so this checks that a change
/// of selection still reaches them), the selection panel names the log slot that served it,
/// and the replicas show that slot.
fn clicking_an_operation_shows_its_slot(b: &mut Browser) -> Result {
    open(b)?;
    full_speed(b)?;
    b.wait_for(".bar.ok")?;
    b.click("[data-testid='play']")?;
    let id = b.script(
        "const bars = document.querySelectorAll(\"[data-testid='timeline'] .bar.ok\"); \
         return bars[bars.length - 1].getAttribute('data-testid');",
    )?;
    let id = id.as_str().unwrap_or_default().to_owned();
    b.click(&format!("[data-testid='{id}'] rect"))?;
    b.wait_for(&format!("[data-testid='{id}'].selected"))?;
    if b.count("[data-testid='timeline'] .bar.selected")? != 1 {
        return fail("more than one bar is drawn selected".into());
    }
    b.wait_for_text("[data-testid='selection']", "served by log slot")?;
    b.wait_for(".slot.related")?;
    b.screenshot("clicking_an_operation_shows_its_slot")
}

fn phone_width(b: &mut Browser) -> Result {
    b.resize(390, 844)?;
    open(b)?;
    b.wait_for("[data-testid='node-n1']")?;
    let overflow = b.script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
    )?;
    if overflow.as_i64().unwrap_or(0) > 0 {
        return fail(format!(
            "the page scrolls sideways by {overflow}px at 390px"
        ));
    }
    dots_lie_over_the_cluster(b)?;
    b.screenshot("phone_width")?;
    b.resize(1280, 720)?;
    b.screenshot("desktop_1280x720")
}

/// The benchmark of the issue: 5 nodes, 10 clients, long latency so that about 200
/// messages are in flight; the page measures the work per frame and shows it. A benchmark,
/// not a timed test: the figures are printed and saved to
/// `web/test-output/frame_budget.json`, never compared with a wall-clock threshold: once
/// with every panel shown, once more with the side panels hidden. Chromium's trace of the
/// same stretches gives each frame's task twice: its wall-clock time, as the page measures
/// it, and its CPU time, which leaves out the waits for a CPU that other threads held (see
/// [`frame_tasks_from_trace`]). With
/// `SYNOD_PROFILE` set, Chromium's sampling profiler also records the measured stretch into
/// `web/test-output/frame_budget.cpuprofile` (open it in Chromium's DevTools).
fn frame_budget_5_nodes_10_clients(b: &mut Browser) -> Result {
    let t = std::time::Instant::now();
    open(b)?;
    let first = t.elapsed();
    // The page's own reading: from navigation start to the end of the first render.
    let first_in_page = b
        .script("return Number(document.documentElement.dataset.firstRenderMs || 0);")?
        .as_f64()
        .unwrap_or(0.0);
    let download = wasm_download(b)?;
    let profile = std::env::var_os("SYNOD_PROFILE").is_some();
    // A size, not a time: the same build gives the same bytes on every machine, so the bar
    // (issue 6: under 500 KB compressed) is held here rather than only reported. A profiling
    // run keeps the function names (README), which weigh a fifth of the module.
    let gzipped = download["wasm_gzip_bytes"].as_u64().unwrap_or(u64::MAX);
    if gzipped >= WASM_GZIP_BUDGET && !profile {
        return fail(format!(
            "the page's wasm is {gzipped} bytes gzipped, over the {WASM_GZIP_BUDGET} byte budget"
        ));
    }
    b.set_value("[data-testid='nodes']", "5")?;
    b.wait_for("[data-testid='node-n5']")?;
    b.set_value("[data-testid='clients']", "10")?;
    b.wait_for("[data-testid='client-c10']")?;
    b.set_value("[data-testid='latency']", "2000")?;
    full_speed(b)?;
    // The browser's own work (script, style, layout, everything) over the measured stretch,
    // per frame: moving work from the page's code into the style engine must show here.
    let total_frames = |b: &mut Browser| -> Result<f64> {
        Ok(b.script(
            "return Number(document.querySelector(\"[data-testid='perf']\").dataset.totalFrames);",
        )?
        .as_f64()
        .unwrap_or(0.0))
    };
    b.cdp("Performance.enable", serde_json::json!({}))?;
    let (metrics0, frames0) = (browser_metrics(b)?, total_frames(b)?);
    if profile {
        b.cdp("Profiler.enable", serde_json::json!({}))?;
        b.cdp(
            "Profiler.setSamplingInterval",
            serde_json::json!({"interval": 200}),
        )?;
        b.cdp("Profiler.start", serde_json::json!({}))?;
    }
    mark(b, "synod-every-panel-start")?;
    let mut most = 0;
    for _ in 0..40 {
        std::thread::sleep(std::time::Duration::from_millis(250));
        most = most.max(b.count("[data-testid='messages'] .msg")?);
    }
    if profile {
        b.script("window.__mut = {}; window.__obs = new MutationObserver(rs => { for (const r of rs) { \
            const sec = (r.target.closest ? r.target : r.target.parentElement).closest('section, .panel, header, .controls'); \
            const k = (sec ? sec.className : '?') + ' ' + r.type + ' ' + (r.attributeName || ''); \
            window.__mut[k] = (window.__mut[k] || 0) + 1; } }); \
            window.__obs.observe(document.body, {subtree: true, attributes: true, childList: true, characterData: true}); \
            window.__t0 = performance.now(); return 1;")?;
        std::thread::sleep(std::time::Duration::from_millis(2000));
        let m = b.script("window.__obs.disconnect(); return {ms: performance.now() - window.__t0, counts: window.__mut};")?;
        b.save("frame_budget_mutations.json", &m.to_string())?;
        let v = b.cdp("Profiler.stop", serde_json::json!({}))?;
        b.save("frame_budget.cpuprofile", &v["profile"].to_string())?;
    }
    mark(b, "synod-every-panel-end")?;
    let (metrics1, frames1) = (browser_metrics(b)?, total_frames(b)?);
    let frames = (frames1 - frames0).max(1.0);
    let browser: serde_json::Map<String, serde_json::Value> = metrics1
        .iter()
        .map(|(k, v)| {
            let per_frame = (v - metrics0.get(k).copied().unwrap_or(0.0)) * 1000.0 / frames;
            (
                format!("{k}_ms_per_frame"),
                serde_json::json!((per_frame * 1000.0).round() / 1000.0),
            )
        })
        .collect();
    let perf = b.text("[data-testid='perf']")?;
    let figures = frame_figures(b)?;
    // The same cluster with the side panels hidden (all but the statistics, which show the
    // figures): the moving pictures alone. The figures cover the last 240 frames, so wait
    // until that many were drawn without the panels. The checkboxes are ticked from script:
    // the page moves under WebDriver's pointer while it plays (the replicas' tables grow
    // above the tools), and this is the benchmark's setup, not a flow of its own.
    for panel in [
        "selection",
        "network",
        "clients",
        "replicas",
        "narration",
        "membership",
    ] {
        b.script(&format!(
            "document.querySelector(\"[data-testid='panel-{panel}']\").click(); return 0;"
        ))?;
    }
    b.wait_until(
        "the side panels are hidden",
        "return document.querySelectorAll('.panel.selection, .panel.faults, .panel.clients-panel, \
         .panel.inspector, .panel.narration, .panel.members').length === 0;",
    )?;
    let hidden_at = total_frames(b)?;
    mark(b, "synod-hidden-start")?;
    b.wait_until(
        "240 frames drawn without the side panels",
        &format!(
            "return Number(document.querySelector(\"[data-testid='perf']\").dataset.totalFrames) \
             >= {};",
            hidden_at + 250.0
        ),
    )?;
    let perf_without = b.text("[data-testid='perf']")?;
    let figures_without = frame_figures(b)?;
    mark(b, "synod-hidden-end")?;
    let trace = frame_tasks_from_trace(b)?;
    // Every frame is one timer task: a task the page did not count as a frame (the Yew
    // scheduler yields through a timer when a render runs long) would blur the figures.
    let tasks = trace["every_panel"]["timer_tasks_in_stretch"]
        .as_f64()
        .unwrap_or(0.0);
    if (tasks - frames).abs() > (frames * 0.02).max(2.0) {
        println!(
            "    note: the trace holds {tasks} frame tasks where the page counted {frames} frames"
        );
    }
    println!(
        "    wasm {} bytes, {} gzipped, fetched {:.0} ms after navigation start",
        download["wasm_bytes"], download["wasm_gzip_bytes"], download["wasm_fetched_ms"]
    );
    println!(
        "    first render {first_in_page:.0} ms in the page ({first:?} seen by WebDriver); \
         up to {most} messages in flight; with every panel: {perf}; the browser per frame: {}",
        serde_json::Value::Object(browser.clone())
    );
    println!("    without the side panels: {perf_without}");
    println!(
        "    the frames' tasks in Chromium's trace, CPU time (wall clock): with every panel {}; \
         without the side panels {}",
        trace["every_panel"]["summary"].as_str().unwrap_or_default(),
        trace["without_side_panels"]["summary"]
            .as_str()
            .unwrap_or_default()
    );
    println!(
        "    slowest frames: {}; without the side panels: {}",
        figures["slowest"].as_str().unwrap_or_default(),
        figures_without["slowest"].as_str().unwrap_or_default()
    );
    let saved = serde_json::json!({
        "first_render_ms": first_in_page,
        "first_render_webdriver_ms": first.as_secs_f64() * 1000.0,
        "download": download,
        "most_messages_in_flight": most,
        "frames": figures,
        "frames_without_side_panels": figures_without,
        "browser": browser,
        "frame_tasks_in_trace": trace,
        "page_frames_every_panel_stretch": frames,
    });
    b.save("frame_budget.json", &saved.to_string())?;
    b.screenshot("frame_budget_5_nodes_10_clients")
}

/// Marks a moment in Chromium's trace (a user-timing mark), to find a stretch by.
fn mark(b: &mut Browser, name: &str) -> Result {
    b.script(&format!("performance.mark('{name}'); return 0;"))
        .map(|_| ())
}

/// The frames' tasks as Chromium's trace records them, over the two measured stretches
/// (between the marks of [`frame_budget_5_nodes_10_clients`]). While the page plays, its
/// only timer is the frame's (the checker runs in a posted task, see
/// `synod_web::dom::after_this_task`), so the trace's timer tasks on the page's main thread
/// are its frames. Each has two durations: the wall clock, which the page's own figures also
/// measure, and the thread's CPU time, which leaves out the time the operating system gave
/// the CPU to other threads (Chromium's compositor and rasterizers, on this two-core machine)
/// while the frame waited.
fn frame_tasks_from_trace(b: &mut Browser) -> Result<serde_json::Value> {
    let mut events = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while user_mark(&events, "synod-hidden-end").is_none() {
        if std::time::Instant::now() > deadline {
            return fail(format!(
                "Chromium's trace did not reach the end of the measured stretch ({} events read)",
                events.len()
            ));
        }
        events.extend(b.trace_events()?);
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    let stretch = |from: &str, to: &str| -> Result<serde_json::Value> {
        let Some(tasks) = frame_tasks(&events, from, to) else {
            return fail(format!("Chromium's trace lacks the mark {from} or {to}"));
        };
        let in_stretch = tasks.len();
        // The page's figures cover its last 240 frames; so do these.
        let tasks = &tasks[tasks.len().saturating_sub(240)..];
        let wall: Vec<f64> = tasks.iter().map(|t| t.0).collect();
        let cpu: Vec<f64> = tasks.iter().map(|t| t.1).collect();
        let (w, c) = (task_stats(&wall), task_stats(&cpu));
        let summary = format!(
            "last {} frames, {:.2} ms mean, {:.2} ms p95, {:.2} ms p99, {:.2} ms max, {} over 4 ms \
             ({:.2} ms mean, {:.2} ms p95, {:.2} ms p99, {:.2} ms max, {} over 4 ms)",
            tasks.len(), c["mean_ms"], c["p95_ms"], c["p99_ms"], c["max_ms"], c["over_4_ms"],
            w["mean_ms"], w["p95_ms"], w["p99_ms"], w["max_ms"], w["over_4_ms"]
        );
        Ok(serde_json::json!({
            "cpu": c, "wall": w, "summary": summary, "timer_tasks_in_stretch": in_stretch,
        }))
    };
    Ok(serde_json::json!({
        "every_panel": stretch("synod-every-panel-start", "synod-every-panel-end")?,
        "without_side_panels": stretch("synod-hidden-start", "synod-hidden-end")?,
    }))
}

/// The user-timing mark `name` (see [`mark`]) in Chromium's trace `events`.
fn user_mark<'a>(events: &'a [serde_json::Value], name: &str) -> Option<&'a serde_json::Value> {
    events
        .iter()
        .find(|e| e["name"] == name && e["cat"] == "blink.user_timing")
}

/// The frames' tasks between the user-timing marks `from` and `to` in Chromium's trace
/// `events`, in order: each one's wall-clock and CPU time in milliseconds. A frame's task is a
/// timer task (`TimerBase::run`) on the marks' thread that calls into script
/// (`v8.callFunction` inside it): Blink runs timers of its own too, which call none. A task
/// whose CPU time the trace lacks is left out; a CPU time over the wall-clock time (a few
/// readings in a thousand on this VM, by up to a millisecond, which one thread cannot do) is
/// taken as the wall-clock time. `None` when a mark is missing.
fn frame_tasks(events: &[serde_json::Value], from: &str, to: &str) -> Option<Vec<(f64, f64)>> {
    let (start, end) = (user_mark(events, from)?, user_mark(events, to)?);
    let thread = (&start["pid"], &start["tid"]);
    let (t0, t1) = (start["ts"].as_f64()?, end["ts"].as_f64()?);
    let on_thread = |e: &&serde_json::Value| {
        (&e["pid"], &e["tid"]) == thread
            && e["ph"] == "X"
            && e["ts"].as_f64().is_some_and(|t| t >= t0 && t <= t1)
    };
    let mut calls: Vec<f64> = events
        .iter()
        .filter(on_thread)
        .filter(|e| e["name"] == "v8.callFunction")
        .filter_map(|e| e["ts"].as_f64())
        .collect();
    calls.sort_by(f64::total_cmp);
    let mut tasks: Vec<(f64, f64, f64)> = events
        .iter()
        .filter(on_thread)
        .filter(|e| e["name"] == "TimerBase::run")
        .filter_map(|e| {
            let (ts, dur, tdur) = (e["ts"].as_f64()?, e["dur"].as_f64()?, e["tdur"].as_f64()?);
            // The first call into script at or after the task's start, inside it.
            let i = calls.partition_point(|&t| t < ts);
            let script = calls.get(i).is_some_and(|&t| t <= ts + dur);
            script.then_some((ts, dur / 1000.0, tdur.min(dur) / 1000.0))
        })
        .collect();
    tasks.sort_by(|a, b| a.0.total_cmp(&b.0));
    Some(
        tasks
            .into_iter()
            .map(|(_, wall, cpu)| (wall, cpu))
            .collect(),
    )
}

/// Mean, 95th and 99th percentiles (nearest rank), maximum, and how many are over 4 ms.
fn task_stats(ms: &[f64]) -> serde_json::Value {
    let mut sorted = ms.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let rank = |q: f64| {
        let i = ((n as f64 * q).ceil() as usize).clamp(1, n.max(1)) - 1;
        sorted.get(i).copied().unwrap_or(0.0)
    };
    let round = |v: f64| (v * 100.0).round() / 100.0;
    serde_json::json!({
        "tasks": n,
        "mean_ms": round(sorted.iter().sum::<f64>() / n.max(1) as f64),
        "p95_ms": round(rank(0.95)),
        "p99_ms": round(rank(0.99)),
        "max_ms": round(sorted.last().copied().unwrap_or(0.0)),
        "over_4_ms": sorted.iter().filter(|&&v| v > 4.0).count(),
    })
}

/// The page's own per-frame figures (see `synod_web::perf`), from the statistics panel.
fn frame_figures(b: &mut Browser) -> Result<serde_json::Value> {
    b.script(
        "const d = document.querySelector(\"[data-testid='perf']\").dataset; \
         return {mean_ms: Number(d.meanMs), advance_mean_ms: Number(d.advanceMs), \
                 p95_ms: Number(d.p95Ms), p99_ms: Number(d.p99Ms), max_ms: Number(d.maxMs), \
                 over_budget: Number(d.overBudget), slowest: d.slowest, frames: Number(d.frames), \
                 check_mean_ms: Number(d.checkMeanMs), check_max_ms: Number(d.checkMaxMs), \
                 checks: Number(d.checks), checks_total: Number(d.checksTotal), \
                 moving_mean_ms: Number(d.movingMs), panels_mean_ms: Number(d.panelsMs)};",
    )
}

/// The most the page's wasm may weigh gzipped, in bytes.
const WASM_GZIP_BUDGET: u64 = 500_000;

/// The wasm module the page loaded: its size, its size gzipped (by the browser's own
/// `CompressionStream`, the way a static host would serve it) and when its download ended.
fn wasm_download(b: &mut Browser) -> Result<serde_json::Value> {
    b.script(
        "window.__wasm = null; \
         const e = performance.getEntriesByType('resource').find(e => e.name.endsWith('.wasm')); \
         fetch(e.name).then(r => r.arrayBuffer()).then(async raw => { \
           const gz = await new Response(new Blob([raw]).stream() \
             .pipeThrough(new CompressionStream('gzip'))).arrayBuffer(); \
           window.__wasm = {wasm_bytes: raw.byteLength, wasm_gzip_bytes: gz.byteLength, \
                            wasm_fetched_ms: e.responseEnd}; }); \
         return 0;",
    )?;
    b.wait_until("the wasm module measured", "return window.__wasm;")
}

/// Chromium's cumulative timings (seconds): all script, style recalculation, layout and
/// every task, from the DevTools `Performance` domain.
fn browser_metrics(b: &mut Browser) -> Result<std::collections::BTreeMap<String, f64>> {
    let v = b.cdp("Performance.getMetrics", serde_json::json!({}))?;
    // `ThreadTime` is the CPU time of the page's main thread (script, style, layout, paint):
    // unlike the wall-clock figures, it leaves out the time other threads held the CPU.
    let wanted = [
        "ScriptDuration",
        "RecalcStyleDuration",
        "LayoutDuration",
        "TaskDuration",
        "ThreadTime",
    ];
    Ok(v["metrics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| Some((m["name"].as_str()?.to_owned(), m["value"].as_f64()?)))
        .filter(|(k, _)| wanted.contains(&k.as_str()))
        .collect())
}

/// Selects a node by clicking it, as a person would, clicking again when a message dot
/// arriving at the node took the click instead.
pub(crate) fn select_node(b: &mut Browser, n: &str) -> Result {
    for _ in 0..5 {
        b.click(&format!("[data-testid='node-{n}'] .body"))?;
        let text = b.text("[data-testid='selection']")?;
        if text.contains(&format!("{n} is up.")) || text.contains(&format!("{n} is down.")) {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    fail(format!("clicking {n} five times never selected it"))
}

/// Waits until the page's clock shows at least `ms` of virtual time.
fn wait_clock_at_least(b: &mut Browser, ms: u64) -> Result {
    b.wait_until(
        &format!("the clock reaches {ms} ms"),
        &format!(
            "const t = document.querySelector(\"[data-testid='clock']\").textContent \
               .replace('t = ', '').split(' (')[0]; \
             const ms = t.endsWith(' s') ? parseFloat(t) * 1000 : parseFloat(t); \
             return ms >= {ms};"
        ),
    )?;
    Ok(())
}

/// Adds a fourth node by `method` (`replay` or `snapshot`) once the log has outgrown the
/// configuration window, and sees it drawn as a learner, then promoted to voter.
fn add_fourth_node(b: &mut Browser, method: &str) -> Result {
    open(b)?;
    full_speed(b)?;
    wait_clock_at_least(b, 5_000)?;
    // Slow enough to watch the learner catch up.
    b.set_value("[data-testid='speed']", "25")?;
    b.click(&format!("[data-testid='add-{method}']"))?;
    b.script("document.querySelector(\"[data-testid='cluster']\").scrollIntoView(); return 0;")?;
    // What catching up sends: decided entries in catch-up replies, or one snapshot message
    // drawn as a labelled block. Either is on the wire for a second or more at this speed.
    let in_flight = if method == "snapshot" {
        "[data-testid='messages'] .msg.snapshot"
    } else {
        "[data-testid='messages'] .msg.catch-up-reply"
    };
    b.wait_for(in_flight)?;
    let label = if method == "snapshot" {
        "snapshot 0–"
    } else {
        "entries"
    };
    b.wait_for_text("[data-testid='messages']", label)?;
    // For the picture only: let the message get clear of the crowd at the leader.
    let away = format!(
        "const m = document.querySelector(\"{in_flight}\"); \
         const l = document.querySelector(\"[data-role='leader']\"); \
         if (!m || !l) return false; \
         const p = e => e.getAttribute('transform').match(/translate\\(([-\\d.]+)[ ,]+([-\\d.]+)\\)/); \
         const [a, b] = [p(m), p(l)]; \
         return Math.hypot(a[1] - b[1], a[2] - b[2]) > 90;"
    );
    for _ in 0..30 {
        if b.script(&away)? == serde_json::Value::Bool(true) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    b.screenshot(&format!("add_node_by_{method}_in_flight"))?;
    b.wait_for("[data-testid='node-n4'][data-role='learner']")?;
    b.wait_for_text("[data-testid='badge-n4']", "never counts toward a quorum")?;
    b.wait_for_text("[data-testid='join-n4']", method)?;
    Ok(())
}

/// Waits for n4's promotion, stops the workload and waits until the four replicas' tables,
/// read from the page, are the same (and not empty).
fn promoted_and_converged(b: &mut Browser, method: &str) -> Result {
    full_speed(b)?;
    b.wait_for("[data-testid='join-n4'].voter")?;
    b.wait_for("[data-testid='node-n4'][data-role='follower'], [data-testid='node-n4'][data-role='leader']")?;
    b.wait_for_text("[data-testid='config-history']", "n4 joins")?;
    b.wait_for_text("[data-testid='config-history']", "n4 votes → n1 n2 n3 n4")?;
    b.wait_for(".marker.config")?;
    b.wait_for_text("[data-testid='config-band-1']", "n4 votes → n1 n2 n3 n4")?;
    b.script("document.querySelector('.timeline').scrollIntoView({block: 'center'}); return 0;")?;
    b.screenshot(&format!("add_node_by_{method}_timeline"))?;
    b.click("[data-testid='workload']")?;
    let table = b.wait_until(
        "the four replicas show the same table",
        "const t = [1, 2, 3, 4].map(i => { \
           const e = document.querySelector(`[data-testid='table-n${i}']`); \
           return e ? e.textContent : null; }); \
         return t.every(x => x !== null && x === t[0]) && t[0].length > 'keyvalue'.length \
           ? t[0] : '';",
    )?;
    let row = b.script(
        "return [...document.querySelectorAll(\"[data-testid='join-n4'] td\")] \
           .map(td => td.textContent).join(' | ');",
    )?;
    println!("    {method}: n4's join {row}; every table reads {table}");
    b.script("document.querySelector(\"[data-testid='members']\").scrollIntoView(); return 0;")?;
    b.screenshot(&format!("add_node_by_{method}_converges"))
}

fn add_node_by_replay_converges(b: &mut Browser) -> Result {
    add_fourth_node(b, "replay")?;
    promoted_and_converged(b, "replay")?;
    if b.count("[data-testid='snapshot-n4']")? != 0 {
        return fail("n4 replayed the log, yet its log view shows a snapshot".into());
    }
    Ok(())
}

fn add_node_by_snapshot_converges(b: &mut Browser) -> Result {
    add_fourth_node(b, "snapshot")?;
    b.wait_for("[data-testid='snapshot-n4']")?;
    // The install may be older than the lines the narration shows unfiltered (heartbeats
    // push it out), so search the whole history for it, then clear the filter.
    b.fill("[data-testid='filter']", "snapshot through")?;
    b.wait_for_text("[data-testid='narration']", "installed")?;
    b.fill("[data-testid='filter']", "\u{E003}")?;
    promoted_and_converged(b, "snapshot")?;
    // The membership panel, its history and its join table fit a phone.
    b.resize(390, 844)?;
    let overflow = b.script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
    )?;
    if overflow.as_i64().unwrap_or(0) > 0 {
        return fail(format!(
            "with a joined node the page scrolls sideways by {overflow}px at 390px"
        ));
    }
    b.script("document.querySelector(\"[data-testid='members']\").scrollIntoView(); return 0;")?;
    b.screenshot("add_node_by_snapshot_phone")
}

fn snapshot_compacts_the_log_view(b: &mut Browser) -> Result {
    open(b)?;
    full_speed(b)?;
    wait_clock_at_least(b, 3_000)?;
    select_node(b, "n1")?;
    b.click("[data-testid='snapshot-now']")?;
    b.wait_for_text("[data-testid='notice']", "took a snapshot through slot")?;
    b.wait_for_text("[data-testid='snapshot-n1']", "snapshot @slot")?;
    b.wait_for("[data-testid='strip-n1'] rect.snapshot")?;
    if b.count("[data-testid='snapshot-n2'], [data-testid='snapshot-n3']")? != 0 {
        return fail("only n1 was asked for a snapshot, yet another node shows one".into());
    }
    b.fill("[data-testid='filter']", "snapshot now")?;
    b.wait_for_text(
        "[data-testid='narration']",
        "you: ask n1 for a snapshot now",
    )?;
    b.fill("[data-testid='filter']", "\u{E003}")?;
    b.screenshot("snapshot_now")?;
    // A policy: every node snapshots every five applied slots.
    b.set_value("[data-testid='snapshot-every']", "5")?;
    full_speed(b)?;
    for n in ["n1", "n2", "n3"] {
        b.wait_for_text(&format!("[data-testid='snapshot-{n}']"), "snapshot @slot")?;
    }
    b.script("document.querySelector(\"[data-testid='log-n1']\").scrollIntoView(); return 0;")?;
    b.screenshot("snapshot_compacts_the_log_view")
}

fn hold_a_link_and_pause_a_node(b: &mut Browser) -> Result {
    open(b)?;
    full_speed(b)?;
    // The leader talks to every follower (followers do not talk to each other).
    let from = leader(b)?;
    let to = ["n1", "n2", "n3"]
        .into_iter()
        .find(|n| *n != from)
        .expect("three nodes");
    let link = if from.as_str() < to {
        format!("link-{from}-{to}")
    } else {
        format!("link-{to}-{from}")
    };
    select_node(b, &from)?;
    b.click(&format!("[data-testid='hold-{from}-{to}']"))?;
    b.wait_for(&format!("[data-testid='{link}'].held"))?;
    b.wait_for("[data-testid='messages'] .msg.held")?;
    b.wait_for_text("[data-testid='held-links']", &format!("{from} → {to}"))?;
    b.screenshot("hold_a_link")?;
    b.click(&format!("[data-testid='release-{from}-{to}']"))?;
    b.wait_until(
        "no link is held after the release",
        "return document.querySelectorAll('.link.held').length === 0 \
           && !document.querySelector(\"[data-testid='held-links']\");",
    )?;
    select_node(b, to)?;
    b.click("[data-testid='pause']")?;
    b.wait_for(&format!("[data-testid='node-{to}'].paused"))?;
    b.wait_for_text(&format!("[data-testid='node-{to}']"), "paused")?;
    b.screenshot("pause_a_node")?;
    b.click("[data-testid='resume']")?;
    b.wait_until(
        &format!("{to} runs again"),
        &format!(
            "return !document.querySelector(\"[data-testid='node-{to}']\").classList.contains('paused');"
        ),
    )?;
    Ok(())
}

fn remove_a_node(b: &mut Browser) -> Result {
    open(b)?;
    full_speed(b)?;
    let leader = leader(b)?;
    let gone = ["n1", "n2", "n3"]
        .into_iter()
        .find(|n| *n != leader)
        .expect("three nodes");
    select_node(b, gone)?;
    b.click("[data-testid='remove-node']")?;
    b.wait_for_text(
        "[data-testid='config-history']",
        &format!("{gone} leaves →"),
    )?;
    b.wait_for(&format!("[data-testid='node-{gone}'][data-role='removed']"))?;
    // The membership panel follows the cluster view on its own turn, a few frames later.
    b.wait_until(
        &format!("{gone} is no longer among the members"),
        &format!(
            "const t = document.querySelector(\"[data-testid='members-now']\").textContent; \
             return !t.includes('{gone}');"
        ),
    )?;
    b.wait_until(
        &format!("the page no longer offers to remove {gone}"),
        "return !document.querySelector(\"[data-testid='remove-node']\");",
    )?;
    b.wait_for(".marker.config")?;
    b.screenshot("remove_a_node")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn mark(name: &str, ts: f64) -> serde_json::Value {
        json!({"name": name, "cat": "blink.user_timing", "ph": "R", "pid": 1, "tid": 1, "ts": ts})
    }

    fn task(name: &str, tid: u32, ts: f64, dur: f64, tdur: Option<f64>) -> serde_json::Value {
        let mut e = json!({"name": name, "cat": "blink", "ph": "X", "pid": 1, "tid": tid,
                           "ts": ts, "dur": dur});
        if let Some(t) = tdur {
            e["tdur"] = json!(t);
        }
        e
    }

    #[test]
    fn the_frames_are_the_timer_tasks_that_call_script_between_the_marks() {
        let events = vec![
            mark("start", 1000.0),
            // A frame: a timer task with a call into script; its CPU time is less.
            task("TimerBase::run", 1, 2000.0, 3000.0, Some(1500.0)),
            task("v8.callFunction", 1, 2010.0, 2900.0, Some(1400.0)),
            // One of Blink's own timers: no script.
            task("TimerBase::run", 1, 6000.0, 100.0, Some(90.0)),
            // Another frame, listed out of order, whose CPU reading exceeds its wall clock.
            task("v8.callFunction", 1, 9050.0, 900.0, Some(900.0)),
            task("TimerBase::run", 1, 9000.0, 1000.0, Some(1200.0)),
            // A frame without a CPU reading.
            task("TimerBase::run", 1, 12000.0, 500.0, None),
            task("v8.callFunction", 1, 12010.0, 400.0, None),
            // Another thread's timer, and a frame after the end mark.
            task("TimerBase::run", 2, 14000.0, 800.0, Some(800.0)),
            task("v8.callFunction", 2, 14010.0, 700.0, Some(700.0)),
            mark("end", 20000.0),
            task("TimerBase::run", 1, 21000.0, 800.0, Some(800.0)),
            task("v8.callFunction", 1, 21010.0, 700.0, Some(700.0)),
        ];
        assert_eq!(
            frame_tasks(&events, "start", "end"),
            Some(vec![(3.0, 1.5), (1.0, 1.0)])
        );
        assert_eq!(frame_tasks(&events, "start", "missing"), None);
    }

    #[test]
    fn task_figures_are_nearest_rank_percentiles() {
        let ms: Vec<f64> = (1..=100).map(f64::from).map(|v| v / 10.0).collect();
        let s = task_stats(&ms);
        assert_eq!(s["tasks"], 100);
        assert_eq!(s["mean_ms"], 5.05);
        assert_eq!(s["p95_ms"], 9.5);
        assert_eq!(s["p99_ms"], 9.9);
        assert_eq!(s["max_ms"], 10.0);
        assert_eq!(s["over_4_ms"], 60);
        assert_eq!(task_stats(&[])["tasks"], 0);
    }
}
