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
}
