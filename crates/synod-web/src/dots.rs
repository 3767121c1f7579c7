//! The message dots of the cluster view, drawn outside Yew's virtual DOM.
//!
//! A busy cluster has a couple of hundred messages in flight, and every one of them moves on
//! every frame. Built as Yew nodes, each frame allocated a virtual node per dot (a class
//! string, a test id, a key, a transform) only for the reconciler to compare them attribute
//! by attribute with the previous frame's and write the one that changed: most of a frame's
//! work. Here the dots are plain data ([`Dot`]), and a [`Layer`] remembers what it drew last:
//! [`plan`] compares the two lists and yields only the [`Change`]s (a dot to remove, to add,
//! or to update, and which of its attributes), which [`Layer::draw`] applies to the SVG group
//! with direct DOM calls. The elements are exactly those Yew used to build (`g.msg` with its
//! test id, `data-msg` and `data-kind`, a hit circle, the dot, the label), so clicks reach
//! the group's one listener and find the message by `data-msg` as before.
//!
//! The simulator lists messages in flight by id, and ids only grow, so surviving dots never
//! change order: a new dot goes just before the next dot of the new list, and the layer
//! inserts new dots from the last to the first so that this next dot is always in place.

use std::collections::BTreeMap;
use synod_sim::MsgId;
use wasm_bindgen::JsCast;

/// One message dot: plain, comparable data.
#[derive(Clone, Debug, PartialEq)]
pub struct Dot {
    pub id: MsgId,
    /// Position in tenths of a view-box unit, so that equal data means an equal picture.
    pub x: i32,
    pub y: i32,
    pub kind: &'static str,
    /// The ballot's hue, drawn as the dot's ring.
    pub hue: Option<u32>,
    pub lost: bool,
    pub held: bool,
    pub related: bool,
    pub selected: bool,
    /// What a catch-up message carries (a snapshot, or how many entries), drawn beside it.
    pub label: Option<String>,
}

impl Dot {
    /// The group's class: the kind, then its states.
    pub fn class(&self) -> String {
        let mut class = String::with_capacity(40);
        class.push_str("msg ");
        class.push_str(self.kind);
        for (on, name) in [
            (self.lost, " lost"),
            (self.held, " held"),
            (self.related, " related"),
            (self.selected, " selected"),
        ] {
            if on {
                class.push_str(name);
            }
        }
        class
    }

    /// The position in view-box units, as the SVG DOM takes it.
    pub fn translation(&self) -> (f32, f32) {
        (self.x as f32 / 10.0, self.y as f32 / 10.0)
    }

    pub fn transform(&self) -> String {
        format!("translate({},{})", Tenths(self.x), Tenths(self.y))
    }

    /// The ring's colour, as a style attribute.
    pub fn ring(&self) -> Option<String> {
        self.hue.map(|h| format!("stroke: hsl({h}, 70%, 40%)"))
    }

    /// A snapshot is one big message: a block, not a dot.
    pub fn is_block(&self) -> bool {
        self.kind == "snapshot"
    }

    fn class_state(&self) -> (bool, bool, bool, bool) {
        (self.lost, self.held, self.related, self.selected)
    }
}

/// What to do to the drawing to go from one list of dots to the next. Indices point into
/// the new list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// The message is no longer in flight (or must be drawn afresh).
    Remove(MsgId),
    /// A new dot, to insert before the dot of that id (at the end when `None`).
    Add { index: usize, before: Option<MsgId> },
    /// A dot already drawn, with the attributes that changed.
    Update {
        index: usize,
        moved: bool,
        class: bool,
        ring: bool,
        label: bool,
    },
}

/// The changes that turn the dots drawn (`old`, by id) into `new` (in the simulator's
/// order, ascending ids), in the order they must be applied: removals, updates, then
/// additions from the last to the first. Unchanged dots yield nothing.
pub fn plan(old: &BTreeMap<MsgId, Dot>, new: &[Dot]) -> Vec<Change> {
    debug_assert!(
        new.windows(2).all(|w| w[0].id < w[1].id),
        "dots out of order"
    );
    let mut changes = Vec::new();
    let mut kept = std::collections::BTreeSet::new();
    let mut updates = Vec::new();
    let mut adds = Vec::new();
    for (index, dot) in new.iter().enumerate() {
        match old.get(&dot.id) {
            // The kind cannot change in place (it decides the shape: a dot is a circle, a
            // block a rect); a message never changes kind, but the layer need not know that.
            Some(was) if was.kind == dot.kind => {
                kept.insert(dot.id);
                let update = Change::Update {
                    index,
                    moved: (was.x, was.y) != (dot.x, dot.y),
                    class: was.class_state() != dot.class_state(),
                    ring: was.hue != dot.hue,
                    label: was.label != dot.label,
                };
                if let Change::Update {
                    moved: false,
                    class: false,
                    ring: false,
                    label: false,
                    ..
                } = update
                {
                    continue;
                }
                updates.push(update);
            }
            _ => adds.push(index),
        }
    }
    changes.extend(
        old.keys()
            .filter(|id| !kept.contains(*id))
            .map(|id| Change::Remove(*id)),
    );
    changes.extend(updates);
    changes.extend(adds.into_iter().rev().map(|index| Change::Add {
        index,
        before: new.get(index + 1).map(|d| d.id),
    }));
    changes
}

/// A length in tenths, written as a decimal with one digit after the point (`-12.3`), as
/// `{:.1}` writes the float, without the float formatting machinery.
#[derive(Clone, Copy, Debug)]
pub struct Tenths(pub i32);

impl std::fmt::Display for Tenths {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let v = self.0.unsigned_abs();
        write!(f, "{sign}{}.{}", v / 10, v % 10)
    }
}

/// The elements of one drawn dot.
#[derive(Debug)]
struct Drawn {
    group: web_sys::Element,
    /// The group's translation as an object of the SVG DOM: moving the dot sets its two
    /// numbers, where writing the `transform` attribute formats a string, copies it out of
    /// wasm and has the browser parse it again, for every dot on every frame (a third of the
    /// page's script time). The attribute reads back the same way. `None` where the browser
    /// gave no such object: the attribute is written instead.
    translate: Option<web_sys::SvgTransform>,
    body: web_sys::Element,
    label: Option<web_sys::Element>,
}

/// The dots as drawn into one SVG group, and the data they were drawn from.
#[derive(Debug, Default)]
pub struct Layer {
    parent: Option<web_sys::Element>,
    dots: BTreeMap<MsgId, Dot>,
    drawn: BTreeMap<MsgId, Drawn>,
}

const SVG: &str = "http://www.w3.org/2000/svg";

impl Layer {
    /// Brings the group `parent` from the dots drawn last to `dots`.
    pub fn draw(&mut self, parent: &web_sys::Element, dots: &[Dot]) {
        if !self
            .parent
            .as_ref()
            .is_some_and(|p| p.is_same_node(Some(parent)))
        {
            // A new group (the view was shown again): nothing of ours is in it.
            self.dots.clear();
            self.drawn.clear();
            self.parent = Some(parent.clone());
        }
        let Some(document) = parent.owner_document() else {
            return;
        };
        for change in plan(&self.dots, dots) {
            match change {
                Change::Remove(id) => {
                    if let Some(d) = self.drawn.remove(&id) {
                        d.group.remove();
                    }
                }
                Change::Add { index, before } => {
                    let dot = &dots[index];
                    let Some(d) = create(&document, dot) else {
                        continue;
                    };
                    let next = before.and_then(|b| self.drawn.get(&b)).map(|n| &n.group);
                    let _ = parent.insert_before(&d.group, next.map(|n| n.as_ref()));
                    self.drawn.insert(dot.id, d);
                }
                Change::Update {
                    index,
                    moved,
                    class,
                    ring,
                    label,
                } => {
                    let dot = &dots[index];
                    if let Some(d) = self.drawn.get_mut(&dot.id) {
                        update(&document, d, dot, moved, class, ring, label);
                    }
                }
            }
        }
        // Only what is on the page counts as drawn: a dot whose elements could not be made is
        // planned as new again next frame.
        self.dots = dots
            .iter()
            .filter(|d| self.drawn.contains_key(&d.id))
            .map(|d| (d.id, d.clone()))
            .collect();
    }
}

fn svg(
    document: &web_sys::Document,
    tag: &str,
    attrs: &[(&str, &str)],
) -> Option<web_sys::Element> {
    let e = document.create_element_ns(Some(SVG), tag).ok()?;
    for (k, v) in attrs {
        let _ = e.set_attribute(k, v);
    }
    Some(e)
}

fn create(document: &web_sys::Document, dot: &Dot) -> Option<Drawn> {
    let id = dot.id.0.to_string();
    let group = svg(
        document,
        "g",
        &[
            ("class", &dot.class()),
            ("data-testid", &format!("msg-{id}")),
            ("data-msg", &id),
            ("data-kind", dot.kind),
            ("transform", &dot.transform()),
        ],
    )?;
    let hit = svg(document, "circle", &[("class", "hit"), ("r", "18")])?;
    let body = if dot.is_block() {
        svg(
            document,
            "rect",
            &[
                ("class", "dot"),
                ("x", "-16"),
                ("y", "-12"),
                ("width", "32"),
                ("height", "24"),
                ("rx", "3"),
            ],
        )?
    } else {
        svg(document, "circle", &[("class", "dot"), ("r", "11")])?
    };
    if let Some(ring) = dot.ring() {
        let _ = body.set_attribute("style", &ring);
    }
    let _ = group.append_child(&hit);
    let _ = group.append_child(&body);
    let translate = group
        .dyn_ref::<web_sys::SvgGraphicsElement>()
        .and_then(|g| g.transform().base_val().get_item(0).ok());
    let mut drawn = Drawn {
        group,
        translate,
        body,
        label: None,
    };
    set_label(document, &mut drawn, dot.label.as_deref());
    Some(drawn)
}

fn update(
    document: &web_sys::Document,
    d: &mut Drawn,
    dot: &Dot,
    moved: bool,
    class: bool,
    ring: bool,
    label: bool,
) {
    if moved {
        let (x, y) = dot.translation();
        let set = d
            .translate
            .as_ref()
            .is_some_and(|t| t.set_translate(x, y).is_ok());
        if !set {
            let _ = d.group.set_attribute("transform", &dot.transform());
        }
    }
    if class {
        let _ = d.group.set_attribute("class", &dot.class());
    }
    if ring {
        let _ = match dot.ring() {
            Some(r) => d.body.set_attribute("style", &r),
            None => d.body.remove_attribute("style"),
        };
    }
    if label {
        set_label(document, d, dot.label.as_deref());
    }
}

fn set_label(document: &web_sys::Document, d: &mut Drawn, label: Option<&str>) {
    match (label, &d.label) {
        (Some(text), Some(e)) => e.set_text_content(Some(text)),
        (Some(text), None) => {
            if let Some(e) = svg(document, "text", &[("class", "msg-label"), ("y", "-17")]) {
                e.set_text_content(Some(text));
                let _ = d.group.append_child(&e);
                d.label = Some(e);
            }
        }
        (None, Some(e)) => {
            e.remove();
            d.label = None;
        }
        (None, None) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dot(id: u64, x: i32) -> Dot {
        Dot {
            id: MsgId(id),
            x,
            y: 0,
            kind: "accept",
            hue: None,
            lost: false,
            held: false,
            related: false,
            selected: false,
            label: None,
        }
    }

    fn drawn(dots: &[Dot]) -> BTreeMap<MsgId, Dot> {
        dots.iter().map(|d| (d.id, d.clone())).collect()
    }

    /// Applies a plan to a list of ids the way the layer applies it to the DOM.
    fn apply(order: &mut Vec<MsgId>, changes: &[Change], new: &[Dot]) {
        for c in changes {
            match *c {
                Change::Remove(id) => order.retain(|i| *i != id),
                Change::Add { index, before } => {
                    let at = before
                        .and_then(|b| order.iter().position(|i| *i == b))
                        .unwrap_or(order.len());
                    order.insert(at, new[index].id);
                }
                Change::Update { .. } => {}
            }
        }
    }

    #[test]
    fn unchanged_dots_cost_nothing() {
        let dots = [dot(1, 10), dot(2, 20)];
        assert_eq!(plan(&drawn(&dots), &dots), vec![]);
    }

    #[test]
    fn a_moving_dot_only_moves() {
        let old = [dot(1, 10), dot(2, 20)];
        let new = [dot(1, 10), dot(2, 25)];
        assert_eq!(
            plan(&drawn(&old), &new),
            vec![Change::Update {
                index: 1,
                moved: true,
                class: false,
                ring: false,
                label: false
            }]
        );
    }

    #[test]
    fn selection_ballot_and_label_touch_only_their_attributes() {
        let old = [dot(1, 10)];
        let mut new = dot(1, 10);
        new.selected = true;
        new.hue = Some(40);
        new.label = Some("snapshot".into());
        assert_eq!(
            plan(&drawn(&old), &[new]),
            vec![Change::Update {
                index: 0,
                moved: false,
                class: true,
                ring: true,
                label: true
            }]
        );
    }

    #[test]
    fn arrivals_and_departures_keep_the_simulators_order() {
        let old = [dot(2, 0), dot(4, 0), dot(5, 0)];
        let new = [dot(1, 0), dot(3, 0), dot(4, 0), dot(6, 0), dot(7, 0)];
        let changes = plan(&drawn(&old), &new);
        let mut order: Vec<MsgId> = old.iter().map(|d| d.id).collect();
        apply(&mut order, &changes, &new);
        assert_eq!(order, new.iter().map(|d| d.id).collect::<Vec<_>>());
        assert!(changes.contains(&Change::Remove(MsgId(2))));
        assert!(changes.contains(&Change::Remove(MsgId(5))));
        // Removals come first, additions last, the last one first.
        assert_eq!(changes[0], Change::Remove(MsgId(2)));
        assert_eq!(
            changes.last(),
            Some(&Change::Add {
                index: 0,
                before: Some(MsgId(3))
            })
        );
    }

    #[test]
    fn a_dot_that_changes_kind_is_drawn_afresh() {
        let old = [dot(1, 0)];
        let mut block = dot(1, 0);
        block.kind = "snapshot";
        assert_eq!(
            plan(&drawn(&old), std::slice::from_ref(&block)),
            vec![
                Change::Remove(MsgId(1)),
                Change::Add {
                    index: 0,
                    before: None
                }
            ]
        );
    }

    #[test]
    fn classes_and_transforms_read_as_before() {
        let mut d = dot(7, -123);
        d.y = 45;
        d.held = true;
        d.selected = true;
        assert_eq!(d.class(), "msg accept held selected");
        assert_eq!(d.transform(), "translate(-12.3,4.5)");
        assert_eq!(d.translation(), (-12.3, 4.5));
        assert_eq!(d.ring(), None);
        d.hue = Some(200);
        assert_eq!(d.ring().as_deref(), Some("stroke: hsl(200, 70%, 40%)"));
    }

    #[test]
    fn tenths_are_written_like_one_decimal_floats() {
        for v in [-1234, -10, -9, -1, 0, 1, 9, 10, 55, 1234, 9999] {
            assert_eq!(
                Tenths(v).to_string(),
                format!("{:.1}", f64::from(v) / 10.0),
                "{v}"
            );
        }
    }
}
