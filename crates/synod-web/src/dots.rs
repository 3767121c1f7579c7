//! The message dots of the cluster view, drawn outside Yew's virtual DOM.
//!
//! A busy cluster has a couple of hundred messages in flight, and every one of them moves on
//! every frame. Built as Yew nodes, each frame allocated a virtual node per dot (a class
//! string, a test id, a key, a transform) only for the reconciler to compare them attribute
//! by attribute with the previous frame's and write the one that changed: most of a frame's
//! work. Here the dots are plain data ([`Dot`]), and a [`Layer`] remembers what it drew last:
//! [`plan`] compares the two lists and yields only the [`Change`]s (a dot to remove, to add,
//! or to update, and which of its attributes), which [`Layer::draw`] hands, batched, to a
//! small script that owns the dots' elements (`DotLayer`, below). The elements are exactly
//! those Yew used to build (`g.msg` with its test id, `data-msg` and `data-kind`, a hit
//! circle, the dot, the label), so clicks reach the group's one listener and find the
//! message by `data-msg` as before.
//!
//! The simulator lists messages in flight by id, and ids only grow, so surviving dots never
//! change order: a new dot goes just before the next dot of the new list, and the layer
//! inserts new dots from the last to the first so that this next dot is always in place.

use synod_sim::MsgId;

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

/// The changes that turn the dots drawn (`old`) into `new`, both in the simulator's order
/// (ascending ids), in the order they must be applied: removals, updates, then additions
/// from the last to the first. Unchanged dots yield nothing. One walk through both lists.
pub fn plan(old: &[Dot], new: &[Dot]) -> Vec<Change> {
    debug_assert!(
        new.windows(2).all(|w| w[0].id < w[1].id) && old.windows(2).all(|w| w[0].id < w[1].id),
        "dots out of order"
    );
    let mut removes = Vec::new();
    let mut updates = Vec::new();
    let mut adds = Vec::new();
    let mut old = old.iter().peekable();
    for (index, dot) in new.iter().enumerate() {
        while let Some(gone) = old.next_if(|w| w.id < dot.id) {
            removes.push(Change::Remove(gone.id));
        }
        match old.next_if(|w| w.id == dot.id) {
            // The kind cannot change in place (it decides the shape: a dot is a circle, a
            // block a rect); a message never changes kind, but the layer need not know that.
            Some(was) if was.kind == dot.kind => {
                let (moved, class, ring, label) = (
                    (was.x, was.y) != (dot.x, dot.y),
                    was.class_state() != dot.class_state(),
                    was.hue != dot.hue,
                    was.label != dot.label,
                );
                if moved || class || ring || label {
                    updates.push(Change::Update {
                        index,
                        moved,
                        class,
                        ring,
                        label,
                    });
                }
            }
            Some(was) => {
                removes.push(Change::Remove(was.id));
                adds.push(index);
            }
            None => adds.push(index),
        }
    }
    removes.extend(old.map(|gone| Change::Remove(gone.id)));
    let mut changes = removes;
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

/// The script half of the layer: it owns the dots' elements, keyed by message id, and
/// applies a frame's changes in as few calls across the wasm boundary as the changes allow.
/// Moving every dot is one call with two typed arrays (ids, then x and y pairs) instead of a
/// call per dot; a new dot is one call that takes its group from a pool of removed ones of
/// the same shape (or builds one) and sets what differs. Per dot, every call from wasm into
/// the DOM goes through generated glue that copies strings and guards exceptions, which
/// made the layer a quarter of a busy frame.
///
/// The elements are exactly those the layer always drew: `g.msg` with its test id,
/// `data-msg` and `data-kind`, a hit circle, the dot (a circle, or a rect for a block), and
/// the label when there is one. The group is moved through its `SVGTransform` (the
/// `transform` attribute reads back as `translate(x y)`), or by writing the attribute where
/// the browser gives no such object.
#[wasm_bindgen::prelude::wasm_bindgen(inline_js = r#"
const SVG = "http://www.w3.org/2000/svg";
const POOLED = 256;
export class DotLayer {
  constructor(parent) {
    this.parent = parent;
    this.dots = new Map();
    this.pool = [[], []];
  }
  make(block) {
    const reused = this.pool[block ? 1 : 0].pop();
    if (reused) return reused;
    const doc = this.parent.ownerDocument;
    const g = doc.createElementNS(SVG, "g");
    g.setAttribute("transform", "translate(0,0)");
    const hit = doc.createElementNS(SVG, "circle");
    hit.setAttribute("class", "hit");
    hit.setAttribute("r", "18");
    let body;
    if (block) {
      body = doc.createElementNS(SVG, "rect");
      for (const [k, v] of [["x", "-16"], ["y", "-12"], ["width", "32"], ["height", "24"], ["rx", "3"]]) {
        body.setAttribute(k, v);
      }
    } else {
      body = doc.createElementNS(SVG, "circle");
      body.setAttribute("r", "11");
    }
    body.setAttribute("class", "dot");
    g.append(hit, body);
    let t = null;
    try { t = g.transform.baseVal.getItem(0); } catch (_) { t = null; }
    return { g, t, body, label: null, block };
  }
  place(d, x, y) {
    if (d.t) d.t.setTranslate(x, y);
    else d.g.setAttribute("transform", `translate(${x},${y})`);
  }
  add(id, before, cls, kind, x, y, block, ring, label) {
    const d = this.make(block);
    const g = d.g;
    g.setAttribute("class", cls);
    g.setAttribute("data-testid", "msg-" + id);
    g.setAttribute("data-msg", String(id));
    g.setAttribute("data-kind", kind);
    this.place(d, x, y);
    this.ring(id, ring, d);
    this.label(id, label, d);
    const next = before >= 0 ? this.dots.get(before) : undefined;
    this.parent.insertBefore(g, next ? next.g : null);
    this.dots.set(id, d);
  }
  remove(ids) {
    for (const id of ids) {
      const d = this.dots.get(id);
      if (!d) continue;
      d.g.remove();
      this.dots.delete(id);
      const pool = this.pool[d.block ? 1 : 0];
      if (pool.length < POOLED) pool.push(d);
    }
  }
  move(ids, xy) {
    for (let i = 0; i < ids.length; i++) {
      const d = this.dots.get(ids[i]);
      if (d) this.place(d, xy[2 * i], xy[2 * i + 1]);
    }
  }
  restyle(id, cls) {
    const d = this.dots.get(id);
    if (d) d.g.setAttribute("class", cls);
  }
  ring(id, ring, d = this.dots.get(id)) {
    if (!d) return;
    if (ring == null) d.body.removeAttribute("style");
    else d.body.setAttribute("style", ring);
  }
  label(id, text, d = this.dots.get(id)) {
    if (!d) return;
    if (text == null) {
      if (d.label) { d.label.remove(); d.label = null; }
      return;
    }
    if (!d.label) {
      d.label = this.parent.ownerDocument.createElementNS(SVG, "text");
      d.label.setAttribute("class", "msg-label");
      d.label.setAttribute("y", "-17");
      d.g.append(d.label);
    }
    d.label.textContent = text;
  }
}
"#)]
extern "C" {
    type DotLayer;
    #[wasm_bindgen::prelude::wasm_bindgen(constructor)]
    fn new(parent: &web_sys::Element) -> DotLayer;
    #[allow(clippy::too_many_arguments)]
    #[wasm_bindgen::prelude::wasm_bindgen(method, catch)]
    fn add(
        this: &DotLayer,
        id: f64,
        before: f64,
        class: &str,
        kind: &str,
        x: f32,
        y: f32,
        block: bool,
        ring: Option<String>,
        label: Option<String>,
    ) -> Result<(), wasm_bindgen::JsValue>;
    #[wasm_bindgen::prelude::wasm_bindgen(method, catch)]
    fn remove(this: &DotLayer, ids: &[f64]) -> Result<(), wasm_bindgen::JsValue>;
    #[wasm_bindgen::prelude::wasm_bindgen(method, js_name = "move", catch)]
    fn move_to(this: &DotLayer, ids: &[f64], xy: &[f32]) -> Result<(), wasm_bindgen::JsValue>;
    #[wasm_bindgen::prelude::wasm_bindgen(method, catch)]
    fn restyle(this: &DotLayer, id: f64, class: &str) -> Result<(), wasm_bindgen::JsValue>;
    #[wasm_bindgen::prelude::wasm_bindgen(method, catch)]
    fn ring(this: &DotLayer, id: f64, ring: Option<String>) -> Result<(), wasm_bindgen::JsValue>;
    #[wasm_bindgen::prelude::wasm_bindgen(method, catch)]
    fn label(this: &DotLayer, id: f64, text: Option<String>) -> Result<(), wasm_bindgen::JsValue>;
}

/// A message id as the script keys it (ids stay far below 2^53).
fn key(id: MsgId) -> f64 {
    id.0 as f64
}

/// The dots as drawn into one SVG group, and the data they were drawn from.
#[derive(Default)]
pub struct Layer {
    drawn: Option<(web_sys::Element, DotLayer)>,
    /// What is drawn, in the simulator's order.
    dots: Vec<Dot>,
}

impl std::fmt::Debug for Layer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Layer")
            .field("parent", &self.drawn.as_ref().map(|(p, _)| p))
            .field("dots", &self.dots)
            .finish()
    }
}

impl Layer {
    /// Brings the group `parent` from the dots drawn last to `dots` (in the simulator's
    /// order), which it keeps.
    pub fn draw(&mut self, parent: &web_sys::Element, mut dots: Vec<Dot>) {
        let same = self
            .drawn
            .as_ref()
            .is_some_and(|(p, _)| p.is_same_node(Some(parent)));
        if !same {
            // A new group (the view was shown again): nothing of ours is in it.
            self.dots.clear();
            self.drawn = Some((parent.clone(), DotLayer::new(parent)));
        }
        let Some((_, layer)) = &self.drawn else {
            return;
        };
        let changes = plan(&self.dots, &dots);
        let removed: Vec<f64> = changes
            .iter()
            .filter_map(|c| match c {
                Change::Remove(id) => Some(key(*id)),
                _ => None,
            })
            .collect();
        if !removed.is_empty() {
            let _ = layer.remove(&removed);
        }
        let (mut ids, mut xy) = (Vec::new(), Vec::new());
        let mut failed = std::collections::BTreeSet::new();
        for change in &changes {
            match *change {
                Change::Remove(_) => {}
                Change::Update {
                    index,
                    moved,
                    class,
                    ring,
                    label,
                } => {
                    let dot = &dots[index];
                    let id = key(dot.id);
                    if moved {
                        let (x, y) = dot.translation();
                        ids.push(id);
                        xy.extend([x, y]);
                    }
                    if class {
                        let _ = layer.restyle(id, &dot.class());
                    }
                    if ring {
                        let _ = layer.ring(id, dot.ring());
                    }
                    if label {
                        let _ = layer.label(id, dot.label.clone());
                    }
                }
                Change::Add { index, before } => {
                    let dot = &dots[index];
                    let (x, y) = dot.translation();
                    let made = layer.add(
                        key(dot.id),
                        before.map_or(-1.0, key),
                        &dot.class(),
                        dot.kind,
                        x,
                        y,
                        dot.is_block(),
                        dot.ring(),
                        dot.label.clone(),
                    );
                    if made.is_err() {
                        failed.insert(dot.id);
                    }
                }
            }
        }
        if !ids.is_empty() {
            let _ = layer.move_to(&ids, &xy);
        }
        // Only what is on the page counts as drawn: a dot whose elements could not be made is
        // planned as new again next frame.
        if !failed.is_empty() {
            dots.retain(|d| !failed.contains(&d.id));
        }
        self.dots = dots;
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

    fn drawn(dots: &[Dot]) -> Vec<Dot> {
        dots.to_vec()
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
