//! The page's few dealings with the browser beyond drawing: the address, the clipboard,
//! downloads, uploaded files, the parent page of an embed, and standalone SVG files.
//!
//! Everything here is glue; what it moves (links, embed settings, file contents, SVG text) is
//! made and checked by plain, natively tested functions in [`crate::share`],
//! [`crate::export`] and [`crate::import`]. Browser flows cover these functions.

use crate::share::HEIGHT_MESSAGE;
use crate::state::Action;
use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, BlobPropertyBag, Element, HtmlAnchorElement, ResizeObserver, Url, Window};
use yew::prelude::*;

/// The largest file the page reads (an uploaded history or scenario).
pub const MAX_UPLOAD_BYTES: f64 = 16.0 * 1024.0 * 1024.0;

#[wasm_bindgen::prelude::wasm_bindgen(inline_js = r#"
export function post_task(f) {
  if (typeof MessageChannel !== "function") { setTimeout(f, 0); return; }
  const channel = new MessageChannel();
  channel.port1.onmessage = () => { channel.port1.close(); f(); };
  channel.port2.postMessage(null);
}
"#)]
extern "C" {
    fn post_task(f: &JsValue);
}

/// Runs `f` in a task of its own, queued now: after the current task and whatever the
/// browser does between tasks (a render, when one is due), as soon as the page is free.
/// Posted through a `MessageChannel` rather than a zero-delay timer, so that the page's
/// only timer while it plays is the frame's (the benchmark tells frames apart by that in
/// Chromium's trace), and no timer clamping applies. Falls back to a timer where the
/// browser has no channels.
pub fn after_this_task(f: impl FnOnce() + 'static) {
    post_task(&Closure::once_into_js(f));
}

fn window() -> Option<Window> {
    web_sys::window()
}

/// The address's query (without `?`) and fragment (without `#`).
pub fn location_query_and_fragment() -> (String, String) {
    let Some(loc) = window().map(|w| w.location()) else {
        return (String::new(), String::new());
    };
    let query = loc.search().unwrap_or_default();
    let hash = loc.hash().unwrap_or_default();
    (
        query.trim_start_matches('?').to_owned(),
        hash.trim_start_matches('#').to_owned(),
    )
}

/// The page's own address, without query or fragment: the base of share links.
pub fn page_url() -> String {
    window()
        .and_then(|w| w.location().href().ok())
        .map(|href| href.split(['#', '?']).next().unwrap_or_default().to_owned())
        .unwrap_or_default()
}

/// Writes `text` to the clipboard and reports whether the browser allowed it (it may refuse:
/// no permission, no focus, an insecure origin, no clipboard API at all).
pub fn copy_text(text: String, done: Callback<bool>) {
    wasm_bindgen_futures::spawn_local(async move {
        done.emit(clipboard_write(&text).await.is_ok());
    });
}

async fn clipboard_write(text: &str) -> Result<(), JsValue> {
    let navigator = window().ok_or(JsValue::NULL)?.navigator();
    // Through Reflect: web-sys offers the Clipboard API only behind an unstable flag.
    let clipboard = Reflect::get(&navigator, &"clipboard".into())?;
    if clipboard.is_undefined() || clipboard.is_null() {
        return Err(JsValue::NULL);
    }
    let write: Function = Reflect::get(&clipboard, &"writeText".into())?.dyn_into()?;
    let promise: Promise = write.call1(&clipboard, &text.into())?.dyn_into()?;
    JsFuture::from(promise).await.map(|_| ())
}

/// Offers `text` as a file to save, through a Blob, an object URL and a clicked anchor.
pub fn download(name: &str, mime: &str, text: &str) -> Result<(), String> {
    let fail = |e: JsValue| format!("the browser refused the download: {e:?}");
    let document = window().and_then(|w| w.document()).ok_or("no document")?;
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let options = BlobPropertyBag::new();
    options.set_type(mime);
    let blob = Blob::new_with_str_sequence_and_options(&parts, &options).map_err(fail)?;
    let url = Url::create_object_url_with_blob(&blob).map_err(fail)?;
    let a: HtmlAnchorElement = document
        .create_element("a")
        .map_err(fail)?
        .dyn_into()
        .map_err(|_| "no anchor")?;
    a.set_href(&url);
    a.set_download(name);
    let body = document.body().ok_or("no body")?;
    body.append_child(&a).map_err(fail)?;
    a.click();
    let _ = body.remove_child(&a);
    // The URL must outlive the click until the download has started.
    gloo_timers::callback::Timeout::new(60_000, move || {
        let _ = Url::revoke_object_url(&url);
    })
    .forget();
    Ok(())
}

/// Reads the first file chosen in a file input: its name and its text.
pub fn read_chosen_file(
    input: &web_sys::HtmlInputElement,
    done: Callback<Result<(String, String), String>>,
) {
    let Some(file) = input.files().and_then(|f| f.get(0)) else {
        return;
    };
    // Choosing the same file again must fire `change` again.
    input.set_value("");
    let name = file.name();
    if file.size() > MAX_UPLOAD_BYTES {
        done.emit(Err(format!(
            "{name} has {} bytes; the page reads files of at most 16 MiB",
            file.size()
        )));
        return;
    }
    wasm_bindgen_futures::spawn_local(async move {
        let text = JsFuture::from(file.text()).await;
        done.emit(match text {
            Ok(v) => Ok((name, v.as_string().unwrap_or_default())),
            Err(e) => Err(format!("{name} could not be read: {e:?}")),
        });
    });
}

/// The SVG element with `data-testid` `testid` as a standalone file: a deep copy with the
/// computed value of every property in [`crate::export::SVG_STYLE_PROPERTIES`] written into
/// each element's `style`, so it renders the same without the page's style sheet. When
/// `testid` names the timeline's container (an SVG frame with sliding layers laid over it,
/// see `app::Timeline`), the file is the frame with each layer's visible window nested in it
/// at the place it is shown; for the cluster, the message dots' layer is drawn over it.
pub fn standalone_svg(testid: &str) -> Option<String> {
    let window = window()?;
    let document = window.document()?;
    let found = document
        .query_selector(&format!("[data-testid='{testid}']"))
        .ok()??;
    let (svg, layers) = if found.tag_name().eq_ignore_ascii_case("svg") {
        (found.clone(), None)
    } else {
        let frame = found.query_selector("svg.timeline-frame").ok()??;
        (
            frame,
            Some(found.query_selector_all("svg.timeline-layer").ok()?),
        )
    };
    // Where the window is on the sliding track, and how far the present is into it.
    let window_x = found.get_attribute("data-window-x").unwrap_or_default();
    let present = found.get_attribute("data-present").unwrap_or_default();
    let copy = styled_copy(&window, &svg)?;
    // The page paints the picture's background with CSS on the element; a file keeps it.
    if let Ok(Some(computed)) = window.get_computed_style(&svg) {
        let background = computed
            .get_property_value("background-color")
            .unwrap_or_default();
        let style = match copy.get_attribute("style") {
            Some(s) if !s.is_empty() => format!("{s}; background-color: {background}"),
            _ => format!("background-color: {background}"),
        };
        let _ = copy.set_attribute("style", &style);
    }
    let height = svg
        .get_attribute("viewBox")
        .and_then(|v| v.split_whitespace().nth(3).map(str::to_owned))
        .unwrap_or_default();
    for i in 0..layers.as_ref().map_or(0, web_sys::NodeList::length) {
        let Some(layer) = layers
            .as_ref()
            .and_then(|l| l.get(i))
            .and_then(|n| n.dyn_into::<Element>().ok())
        else {
            continue;
        };
        let Some(nested) = styled_copy(&window, &layer) else {
            continue;
        };
        // The markers show the whole window; the bars stop at the present.
        let width = match layer.get_attribute("data-layer").as_deref() {
            Some("bars") => present.as_str(),
            _ => "1000",
        };
        for (k, v) in crate::export::nested_layer_attributes(&window_x, width, &height) {
            let _ = nested.set_attribute(k, &v);
        }
        for k in ["preserveAspectRatio", "class", "data-layer"] {
            let _ = nested.remove_attribute(k);
        }
        let _ = copy.append_child(&nested);
    }
    // The cluster's message dots lie on a picture of their own over it, with the same view
    // box (see `app::ClusterView`): the file draws them last, over the nodes, as the page does.
    let dots = layers
        .is_none()
        .then(|| {
            svg.parent_element()?
                .query_selector("svg.dots-layer")
                .ok()?
        })
        .flatten()
        .and_then(|dots| styled_copy(&window, &dots));
    if let Some(dots) = dots {
        while let Some(child) = dots.first_child() {
            let _ = copy.append_child(&child);
        }
    }
    let markup = web_sys::XmlSerializer::new()
        .ok()?
        .serialize_to_string(&copy)
        .ok()?;
    Some(crate::export::svg_file(&markup))
}

/// A deep copy of `svg` with every element's computed style written into it.
fn styled_copy(window: &Window, svg: &Element) -> Option<Element> {
    let copy: Element = svg.clone_node_with_deep(true).ok()?.dyn_into().ok()?;
    inline_style(window, svg, &copy);
    let (originals, copies) = (
        svg.query_selector_all("*").ok()?,
        copy.query_selector_all("*").ok()?,
    );
    for i in 0..originals.length().min(copies.length()) {
        let from = originals.get(i)?.dyn_into::<Element>().ok()?;
        let to = copies.get(i)?.dyn_into::<Element>().ok()?;
        inline_style(window, &from, &to);
    }
    Some(copy)
}

fn inline_style(window: &Window, from: &Element, to: &Element) {
    let Ok(Some(computed)) = window.get_computed_style(from) else {
        return;
    };
    let pairs = crate::export::SVG_STYLE_PROPERTIES
        .iter()
        .filter_map(|p| computed.get_property_value(p).ok().map(|v| (*p, v)));
    let style = crate::export::style_attribute(pairs);
    if !style.is_empty() {
        let _ = to.set_attribute("style", &style);
    }
}

/// A listener on an event target, removed on drop.
pub struct Listener {
    target: web_sys::EventTarget,
    event: &'static str,
    closure: Closure<dyn FnMut(web_sys::Event)>,
}

impl Listener {
    pub fn new(
        target: web_sys::EventTarget,
        event: &'static str,
        f: impl FnMut(web_sys::Event) + 'static,
    ) -> Listener {
        let closure = Closure::<dyn FnMut(web_sys::Event)>::new(f);
        let _ = target.add_event_listener_with_callback(event, closure.as_ref().unchecked_ref());
        Listener {
            target,
            event,
            closure,
        }
    }
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Listener({})", self.event)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self
            .target
            .remove_event_listener_with_callback(self.event, self.closure.as_ref().unchecked_ref());
    }
}

/// Opens a share link pasted into the address bar of an open page (the page does not
/// reload when only the fragment changes). A bad link leaves the world as it is and says
/// why in the banner.
#[hook]
pub fn use_hash_change(dispatch: Callback<Action>) {
    use_effect_with((), move |_| {
        let listener = window().map(|w| {
            Listener::new(w.into(), "hashchange", move |_| {
                let (_, fragment) = location_query_and_fragment();
                if fragment.is_empty() {
                    return;
                }
                dispatch.emit(match synod_sim::link::decode(&fragment) {
                    Ok(share) => Action::Open(Box::new(share)),
                    Err(e) => Action::Banner(format!(
                        "This link could not be opened: {e}. The playground is unchanged."
                    )),
                });
            })
        });
        move || drop(listener)
    });
}

/// Sets `data-theme` on the root element (`auto`, `light`, `dark`); the style sheet does the
/// rest.
#[hook]
pub fn use_theme(theme: synod_sim::link::Theme) {
    use_effect_with(theme, |theme| {
        let name = match theme {
            synod_sim::link::Theme::Auto => "auto",
            synod_sim::link::Theme::Light => "light",
            synod_sim::link::Theme::Dark => "dark",
        };
        if let Some(root) = window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
        {
            let _ = root.set_attribute("data-theme", name);
        }
    });
}

/// In a frame, posts the page's height to the parent on load and whenever it changes
/// ([`HEIGHT_MESSAGE`]); outside a frame, does nothing.
#[hook]
pub fn use_height_reporter() {
    use_effect_with((), |_| {
        let reporter = HeightReporter::attach();
        move || drop(reporter)
    });
}

struct HeightReporter {
    observer: ResizeObserver,
    _closure: Closure<dyn FnMut()>,
}

impl HeightReporter {
    fn attach() -> Option<HeightReporter> {
        let window = window()?;
        let parent = window.parent().ok()??;
        if Object::is(&parent, &window) {
            return None;
        }
        let document = window.document()?;
        let body = document.body()?;
        // The frame follows the page's height, so a scroll bar could only flash while a
        // new height is on its way; Chrome then tends to keep it, narrowing the page for
        // good. The style sheet hides it for framed pages (wheel scrolling still works
        // for a host that does not size its frame).
        if let Some(root) = document.document_element() {
            let _ = root.set_attribute("data-framed", "true");
        }
        let mut last = -1.0;
        let report = {
            let body = body.clone();
            move || {
                let height = body.get_bounding_client_rect().height().ceil();
                if height == last {
                    return;
                }
                last = height;
                let message = Object::new();
                let _ = Reflect::set(&message, &"type".into(), &HEIGHT_MESSAGE.into());
                let _ = Reflect::set(&message, &"height".into(), &height.into());
                let _ = parent.post_message(&message, "*");
            }
        };
        let closure = Closure::<dyn FnMut()>::new(report);
        let observer = ResizeObserver::new(closure.as_ref().unchecked_ref()).ok()?;
        // Observing fires once at once, which reports the height on load.
        observer.observe(&body);
        Some(HeightReporter {
            observer,
            _closure: closure,
        })
    }
}

impl Drop for HeightReporter {
    fn drop(&mut self) {
        self.observer.disconnect();
    }
}
