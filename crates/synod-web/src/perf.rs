//! Per-frame work measurement: from the animation clock's dispatch to the end of the render
//! it caused (simulation advance plus view diff). The numbers are shown on the page and
//! shown in the statistics panel (`data-testid=perf`), where the browser benchmark reads them.
//!
//! This is the only module besides the animation hook that reads the wall clock, and only
//! to measure: nothing it reads feeds back into the simulation.

use std::cell::RefCell;

/// How many recent frames the summary covers.
const WINDOW: usize = 240;

/// The work one frame may take (issue 6's bar for a busy cluster): the figures count the
/// frames over it.
pub const BUDGET_MS: f64 = 4.0;

#[derive(Default)]
struct Frames {
    started: Option<f64>,
    /// When the checker's own task began (see [`check_started`]).
    checking: Option<f64>,
    reduced: Option<f64>,
    recent: Vec<f64>,
    /// The reducer's share (simulation advance and derived data) of each recent frame.
    advance: Vec<f64>,
    /// Which side panels the frame being measured also rendered, and which each recent
    /// frame did (in the order they rendered).
    panels_now: Vec<&'static str>,
    panels: Vec<Vec<&'static str>>,
    total: u64,
    /// The recent runs of the checker between frames, and how many ran since the page opened.
    checks: Vec<f64>,
    checks_total: u64,
}

thread_local! {
    static FRAMES: RefCell<Frames> = RefCell::new(Frames::default());
}

/// The wall clock, in milliseconds (0 outside a browser).
pub fn now_ms() -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        // Looked up once: finding the window and its performance object costs several
        // calls out of wasm, three times a frame.
        thread_local! {
            static PERFORMANCE: Option<web_sys::Performance> =
                web_sys::window().and_then(|w| w.performance());
        }
        PERFORMANCE.with(|p| p.as_ref().map(|p| p.now()).unwrap_or_default())
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0.0
    }
}

/// The animation clock is about to dispatch a frame.
pub fn frame_started(at_ms: f64) {
    FRAMES.with(|f| {
        let mut f = f.borrow_mut();
        f.started = Some(at_ms);
        // A check that found nothing to do rendered nothing: it is not a run.
        f.checking = None;
    });
}

/// The page is about to run the checker in its own task, between frames (`Action::Check`):
/// the render that follows records the task (check and render) as one run of the checker.
pub fn check_started(at_ms: f64) {
    FRAMES.with(|f| f.borrow_mut().checking = Some(at_ms));
}

/// The reducer finished the frame's action (the render follows in a microtask).
pub fn frame_reduced(at_ms: f64) {
    FRAMES.with(|f| f.borrow_mut().reduced = Some(at_ms));
}

/// Side panel `name` rendered in the frame being measured (each follows the moving pictures
/// every few frames, in turns), so the figures can tell those frames apart and say what each
/// panel's turn costs.
pub fn panels_rendered(name: &'static str) {
    FRAMES.with(|f| {
        let mut f = f.borrow_mut();
        if !f.panels_now.contains(&name) {
            f.panels_now.push(name);
        }
    });
}

/// The page rendered: if a frame was being measured, record how long it took; if the
/// checker's task was, record that as a run of the checker.
pub fn frame_rendered() {
    let (frame, check, panels) = FRAMES.with(|f| {
        let mut f = f.borrow_mut();
        let reduced = f.reduced.take();
        let frame = f.started.take().map(|s| (s, reduced.unwrap_or(s)));
        // Panels rendered outside a measured frame (the checker's render, an action's)
        // belong to no frame.
        let panels = std::mem::take(&mut f.panels_now);
        (frame, f.checking.take(), panels)
    });
    if let Some((start, reduced)) = frame {
        record(now_ms() - start, reduced - start, panels);
    } else if let Some(start) = check {
        checked(now_ms() - start);
    }
}

/// Records one frame's work and the reducer's part of it, in milliseconds, and which side
/// panels the frame rendered too.
pub fn record(ms: f64, advance_ms: f64, panels: Vec<&'static str>) {
    FRAMES.with(|f| {
        let mut f = f.borrow_mut();
        if f.recent.len() == WINDOW {
            f.recent.remove(0);
            f.advance.remove(0);
            f.panels.remove(0);
        }
        f.recent.push(ms);
        f.advance.push(advance_ms);
        f.panels.push(panels);
        f.total += 1;
    });
}

/// The checker's task between frames (see `Action::Check`) took `ms`, its render included:
/// not a frame's work, but shown beside it.
pub fn checked(ms: f64) {
    FRAMES.with(|f| {
        let mut f = f.borrow_mut();
        if f.checks.len() == CHECKS {
            f.checks.remove(0);
        }
        f.checks.push(ms);
        f.checks_total += 1;
    });
}

/// How many recent checker runs the figures cover.
const CHECKS: usize = 40;

/// Mean, 95th percentile and maximum of a set of frame times.
pub fn stats(frames: &[f64]) -> (f64, f64, f64) {
    stats_of_sorted(&sorted(frames))
}

/// [`stats`] of frame times already in ascending order.
fn stats_of_sorted(sorted: &[f64]) -> (f64, f64, f64) {
    if sorted.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    let mean = sorted.iter().sum::<f64>() / sorted.len() as f64;
    (mean, percentile(sorted, 0.95), sorted[sorted.len() - 1])
}

fn sorted(frames: &[f64]) -> Vec<f64> {
    let mut sorted = frames.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted
}

/// The value below which fraction `q` of the sorted, non-empty `sorted` lie (nearest rank).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// The figures of the recent frames, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Figures {
    pub mean_ms: f64,
    /// The reducer's share (simulation advance and derived data), mean and 95th percentile.
    pub advance_ms: f64,
    pub advance_p95_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// How many of the recent frames took longer than [`BUDGET_MS`].
    pub over_budget: usize,
    /// The mean of the frames that only moved the pictures, and of those that also
    /// rendered the side panels.
    pub moving_mean_ms: f64,
    pub panels_mean_ms: f64,
    /// How many of the recent frames only moved the pictures. With every side panel shown
    /// there may be none: the panels take turns, so some panel renders on most frames.
    pub moving_frames: usize,
    pub frames: usize,
    /// Every frame measured since the page opened.
    pub total: u64,
    /// The checker's recent runs between frames: mean and maximum, how many the two cover,
    /// and how many ran since the page opened.
    pub check_mean_ms: f64,
    pub check_max_ms: f64,
    pub checks: usize,
    pub checks_total: u64,
}

/// The recent frames' figures.
pub fn figures() -> Figures {
    FRAMES.with(|f| {
        let f = f.borrow();
        let recent = sorted(&f.recent);
        let (mean_ms, p95_ms, max_ms) = stats_of_sorted(&recent);
        let p99_ms = if recent.is_empty() {
            0.0
        } else {
            percentile(&recent, 0.99)
        };
        let (advance_ms, advance_p95_ms, _) = stats(&f.advance);
        let split = |panels: bool| -> Vec<f64> {
            f.recent
                .iter()
                .zip(&f.panels)
                .filter(|(_, p)| p.is_empty() != panels)
                .map(|(ms, _)| *ms)
                .collect()
        };
        let moving = split(false);
        let (moving_mean_ms, _, _) = stats(&moving);
        let (panels_mean_ms, _, _) = stats(&split(true));
        let (check_mean_ms, _, check_max_ms) = stats(&f.checks);
        Figures {
            mean_ms,
            advance_ms,
            advance_p95_ms,
            p95_ms,
            p99_ms,
            max_ms,
            over_budget: f.recent.iter().filter(|ms| **ms > BUDGET_MS).count(),
            moving_mean_ms,
            panels_mean_ms,
            moving_frames: moving.len(),
            frames: f.recent.len(),
            total: f.total,
            check_mean_ms,
            check_max_ms,
            checks: f.checks.len(),
            checks_total: f.checks_total,
        }
    })
}

/// The mean work of the recent frames on which side panels took their turn, by the panels
/// rendered ("narration + replicas" when two shared a frame; spaced, so that the page can
/// wrap it on a phone), with how many such frames there were: which turn is the costly one.
pub fn by_panel() -> Vec<(String, f64, usize)> {
    FRAMES.with(|f| {
        let f = f.borrow();
        let mut sums: Vec<(String, f64, usize)> = Vec::new();
        for (ms, panels) in f.recent.iter().zip(&f.panels) {
            if panels.is_empty() {
                continue;
            }
            let mut names = panels.clone();
            names.sort_unstable();
            let name = names.join(" + ");
            match sums.iter_mut().find(|(n, _, _)| *n == name) {
                Some(entry) => {
                    entry.1 += ms;
                    entry.2 += 1;
                }
                None => sums.push((name, *ms, 1)),
            }
        }
        sums.sort_by(|a, b| a.0.cmp(&b.0));
        sums.into_iter()
            .map(|(name, sum, n)| (name, sum / n as f64, n))
            .collect()
    })
}

/// The slowest recent frames, slowest first: "6.70 ms (advance 0.20, narration)", or
/// "(advance 2.10)" for a frame that moved the pictures only. Where a tail comes from.
pub fn slowest(n: usize) -> String {
    FRAMES.with(|f| {
        let f = f.borrow();
        let mut order: Vec<usize> = (0..f.recent.len()).collect();
        order.sort_by(|a, b| f.recent[*b].total_cmp(&f.recent[*a]));
        order
            .into_iter()
            .take(n)
            .map(|i| {
                let mut what = format!("advance {:.2}", f.advance[i]);
                let mut names = f.panels[i].clone();
                names.sort_unstable();
                for name in names {
                    what.push_str(", ");
                    what.push_str(name);
                }
                format!("{:.2} ms ({what})", f.recent[i])
            })
            .collect::<Vec<_>>()
            .join("; ")
    })
}

/// "replicas 4.10 ms (40), narration 2.00 ms (40)": [`by_panel`] as the page shows it.
pub fn by_panel_summary(panels: &[(String, f64, usize)]) -> String {
    panels
        .iter()
        .map(|(name, ms, n)| format!("{name} {ms:.2} ms ({n})"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The summary shown on the page.
pub fn summary(f: &Figures) -> String {
    let split = if f.moving_frames == 0 {
        String::from("a side panel rendered on every frame")
    } else {
        format!(
            "{:.2} ms over {} frames moving the pictures only, {:.2} ms with a side panel",
            f.moving_mean_ms, f.moving_frames, f.panels_mean_ms
        )
    };
    let checker = if f.checks == 0 {
        String::new()
    } else {
        format!(
            "; the checker, between frames: {:.2} ms mean, {:.2} ms max over its last {} runs",
            f.check_mean_ms, f.check_max_ms, f.checks
        )
    };
    format!(
        "{:.2} ms mean ({:.2} ms advancing the simulation, p95 {:.2} ms; {split}), {:.2} ms p95, \
         {:.2} ms p99, {:.2} ms max over the last {} frames, {} of them over {BUDGET_MS} ms{checker}",
        f.mean_ms,
        f.advance_ms,
        f.advance_p95_ms,
        f.p95_ms,
        f.p99_ms,
        f.max_ms,
        f.frames,
        f.over_budget
    )
}

/// The page has rendered for the first time: records how long after navigation start (the
/// origin of `performance.now()`) on the document element, as `data-first-render-ms`, where
/// the browser benchmark reads it.
pub fn first_rendered() {
    #[cfg(target_arch = "wasm32")]
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute("data-first-render-ms", &format!("{:.1}", now_ms()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_statistics_are_mean_p95_and_max() {
        let frames: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(stats(&frames), (50.5, 95.0, 100.0));
        assert_eq!(stats(&[]), (0.0, 0.0, 0.0));
        assert_eq!(percentile(&frames, 0.99), 99.0);
    }

    #[test]
    fn each_panel_turn_is_averaged_by_name() {
        for (ms, panels) in [
            (2.0, vec![]),
            (5.0, vec!["replicas"]),
            (3.0, vec!["narration"]),
            (7.0, vec!["replicas"]),
            (4.0, vec!["replicas", "clients"]),
        ] {
            record(ms, 0.1, panels);
        }
        let got = by_panel();
        assert_eq!(
            by_panel_summary(&got),
            "clients + replicas 4.00 ms (1), narration 3.00 ms (1), replicas 6.00 ms (2)"
        );
        let f = figures();
        assert_eq!((f.moving_frames, f.moving_mean_ms), (1, 2.0));
        assert_eq!(f.panels_mean_ms, 4.75);
        // 5 and 7 ms are over the 4 ms budget; with five frames, p99 is the slowest.
        assert_eq!((f.over_budget, f.p99_ms, f.max_ms), (2, 7.0, 7.0));
        assert_eq!(
            slowest(2),
            "7.00 ms (advance 0.10, replicas); 5.00 ms (advance 0.10, replicas)"
        );
    }

    #[test]
    fn the_summary_says_when_no_frame_only_moved_the_pictures() {
        let mut f = Figures {
            mean_ms: 3.0,
            panels_mean_ms: 3.0,
            frames: 240,
            ..Figures::default()
        };
        assert!(summary(&f).contains("a side panel rendered on every frame"));
        f.moving_frames = 40;
        f.moving_mean_ms = 2.5;
        assert!(summary(&f).contains("2.50 ms over 40 frames moving the pictures only"));
        assert!(!summary(&f).contains("checker"));
        checked(3.0);
        checked(5.0);
        let g = figures();
        assert_eq!(
            (g.check_mean_ms, g.check_max_ms, g.checks, g.checks_total),
            (4.0, 5.0, 2, 2)
        );
        assert!(summary(&g).contains("the checker, between frames: 4.00 ms mean, 5.00 ms max"));
    }

    #[test]
    fn renders_outside_frames_are_neither_frames_nor_their_panels() {
        // An action's render: a panel rendered, no frame measured; nothing is recorded and
        // the panel does not stick to the next frame.
        panels_rendered("narration");
        frame_rendered();
        frame_started(0.0);
        frame_rendered();
        let f = figures();
        assert_eq!((f.frames, f.moving_frames, f.checks_total), (1, 1, 0));
        // The checker's task: its render counts as one run of the checker.
        check_started(0.0);
        panels_rendered("stats");
        frame_rendered();
        assert_eq!(figures().checks_total, 1);
        assert_eq!(figures().frames, 1);
        // A check that rendered nothing is forgotten by the next frame.
        check_started(0.0);
        frame_started(0.0);
        frame_rendered();
        let f = figures();
        assert_eq!((f.frames, f.moving_frames, f.checks_total), (2, 2, 1));
    }
}
