//! Where things are drawn: nodes on a ring, clients below, messages along the links.
//!
//! Coordinates are in the SVG's own units (a 1000 x 600 view box that scales to the window).

use synod_sim::{world::Endpoint, Time};

/// The SVG view box width and height.
pub const VIEW_W: f64 = 1000.0;
pub const VIEW_H: f64 = 560.0;

/// A point in view-box units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

/// The centre of node `i` of `n`: on a ring in the upper part of the view, the first node at
/// the top; a single node sits in the middle.
pub fn node_position(i: usize, n: usize) -> Point {
    let (cx, cy, r) = (VIEW_W / 2.0, 240.0, 165.0);
    if n <= 1 {
        return Point { x: cx, y: cy };
    }
    let angle = -std::f64::consts::FRAC_PI_2 + std::f64::consts::TAU * i as f64 / n as f64;
    Point {
        x: cx + r * angle.cos(),
        y: cy + r * angle.sin(),
    }
}

/// The centre of client `i` of `n`: evenly spaced along the bottom.
pub fn client_position(i: usize, n: usize) -> Point {
    let gap = VIEW_W / (n as f64 + 1.0);
    Point {
        x: gap * (i as f64 + 1.0),
        y: VIEW_H - 40.0,
    }
}

/// Where an endpoint is drawn.
pub fn endpoint_position(e: Endpoint, nodes: usize, clients: usize) -> Point {
    match e {
        Endpoint::Node(n) => node_position(n.index(), nodes),
        Endpoint::Client(c) => client_position(c.index(), clients),
    }
}

/// The fraction of its trip a message has made at `now` (0 at send, 1 at delivery).
pub fn progress(sent: Time, deliver: Time, now: Time) -> f64 {
    if deliver <= sent {
        return 1.0;
    }
    let done = now.as_us().saturating_sub(sent.as_us()) as f64;
    (done / (deliver.as_us() - sent.as_us()) as f64).clamp(0.0, 1.0)
}

/// The point a fraction `t` of the way from `a` to `b`.
pub fn lerp(a: Point, b: Point, t: f64) -> Point {
    Point {
        x: a.x + (b.x - a.x) * t,
        y: a.y + (b.y - a.y) * t,
    }
}

/// Where the bar of an operation still open at `now` (called at `call`) ends, in the same
/// units as `x1`, its start, given `window` (the time one window spans) and `window_len` (its
/// length in those units). It runs to the present, where a clip cuts it; drawn in whole
/// windows, always at least one past the present, its end changes once a window instead of
/// following the present on every frame.
pub fn open_bar_end(x1: i32, call: Time, now: Time, window: u64, window_len: i32) -> i32 {
    let windows = 2 + now.as_us().saturating_sub(call.as_us()) / window.max(1);
    x1.saturating_add(window_len.saturating_mul(i32::try_from(windows).unwrap_or(i32::MAX)))
}

/// The timeline's sliding track for a window starting at `start` (all in µs, `window` the
/// time one window spans): where the track starts (a multiple of two windows, so it turns a
/// page every two windows) and how far into the track the window starts, as a fraction of the
/// track's length of `track_windows` windows. The window never runs past the track's end.
pub fn track_position(start: u64, window: u64, track_windows: u64) -> (u64, f64) {
    let window = window.max(1);
    let page = start - start % (2 * window);
    let into = (start - page) as f64 / (track_windows.max(1) * window) as f64;
    (page, into)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_node_sits_in_the_middle_and_rings_start_at_the_top() {
        assert_eq!(node_position(0, 1), Point { x: 500.0, y: 240.0 });
        let top = node_position(0, 3);
        assert!((top.x - 500.0).abs() < 1e-9 && (top.y - 75.0).abs() < 1e-9);
        let others = [node_position(1, 3), node_position(2, 3)];
        assert!(others[0].x > 500.0 && others[1].x < 500.0, "clockwise");
    }

    #[test]
    fn clients_are_evenly_spaced_inside_the_view() {
        let xs: Vec<f64> = (0..3).map(|i| client_position(i, 3).x).collect();
        assert_eq!(xs, vec![250.0, 500.0, 750.0]);
    }

    #[test]
    fn progress_is_clamped_and_linear() {
        assert_eq!(progress(Time(100), Time(200), Time(50)), 0.0);
        assert_eq!(progress(Time(100), Time(200), Time(150)), 0.5);
        assert_eq!(progress(Time(100), Time(200), Time(999)), 1.0);
        assert_eq!(progress(Time(100), Time(100), Time(100)), 1.0);
        let p = lerp(Point { x: 0.0, y: 0.0 }, Point { x: 10.0, y: 20.0 }, 0.25);
        assert_eq!(p, Point { x: 2.5, y: 5.0 });
    }

    #[test]
    fn an_open_bar_reaches_past_the_present_and_changes_once_a_window() {
        let (window, len) = (4_000_000, 10_000);
        // The bar's end, in the same units, as time goes by: at least a window past the
        // present at every moment, and the same value throughout each window.
        let x = |t: u64| (t * 10_000 / window) as i32;
        let call = Time(1_500_000);
        let mut ends = std::collections::BTreeSet::new();
        for now in (1_500_000..30_000_000).step_by(16_000) {
            let end = open_bar_end(x(call.as_us()), call, Time(now), window, len);
            assert!(end >= x(now) + len, "at {now} the bar ends at {end}");
            ends.insert(end);
        }
        // 28.5 s open: eight windows, eight different ends.
        assert_eq!(ends.len(), 8);
        assert_eq!(
            open_bar_end(100, Time(5), Time(0), window, len),
            100 + 2 * len
        );
    }

    #[test]
    fn the_timeline_track_turns_a_page_every_two_windows_and_always_holds_the_window() {
        let w = 4_000_000;
        assert_eq!(track_position(0, w, 3), (0, 0.0));
        assert_eq!(track_position(w, w, 3), (0, 1.0 / 3.0));
        // Just before the turn the window ends a hair before the track does.
        let (page, into) = track_position(2 * w - 1, w, 3);
        assert_eq!(page, 0);
        assert!(into < 2.0 / 3.0 && into + 1.0 / 3.0 < 1.0);
        // At the turn the track starts where the window does.
        assert_eq!(track_position(2 * w, w, 3), (2 * w, 0.0));
        for start in (0..40 * w).step_by(123_457) {
            let (page, into) = track_position(start, w, 3);
            assert!(page <= start && page % (2 * w) == 0);
            assert!(into >= 0.0 && into + 1.0 / 3.0 <= 1.0, "{start}: {into}");
        }
    }
}
