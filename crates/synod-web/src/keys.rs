//! Keyboard shortcuts: which key does what (plain Rust, tested natively), and the listener
//! on the document that the page attaches once.

use crate::state::Action;

/// The action a key stands for, by `KeyboardEvent.key`.
pub fn action_for(key: &str) -> Option<Action> {
    Some(match key {
        " " | "k" => Action::TogglePlay,
        "." | "s" => Action::Step,
        "n" => Action::StepToCompletion,
        "+" | "=" => Action::Faster,
        "-" | "_" => Action::Slower,
        "[" | "ArrowLeft" => Action::ScrubBy(-100_000),
        "]" | "ArrowRight" => Action::ScrubBy(100_000),
        "h" => Action::Heal,
        "?" => Action::ToggleHelp,
        "Escape" => Action::Escape,
        _ => return None,
    })
}

/// A `keydown` listener on the document, removed on drop. Keys typed into form fields are
/// not shortcuts. The handler returns whether it used the key (then its default is
/// prevented, so space does not scroll the page).
pub struct KeyListener {
    #[cfg(target_arch = "wasm32")]
    closure: wasm_bindgen::closure::Closure<dyn FnMut(web_sys::KeyboardEvent)>,
}

impl std::fmt::Debug for KeyListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyListener")
    }
}

impl KeyListener {
    #[cfg(target_arch = "wasm32")]
    pub fn attach(mut handler: impl FnMut(String) -> bool + 'static) -> KeyListener {
        use wasm_bindgen::JsCast;
        let closure = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::KeyboardEvent)>::new(
            move |e: web_sys::KeyboardEvent| {
                if e.ctrl_key() || e.meta_key() || e.alt_key() {
                    return;
                }
                let in_field = e
                    .target()
                    .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                    .is_some_and(|el| {
                        matches!(el.tag_name().as_str(), "INPUT" | "SELECT" | "TEXTAREA")
                    });
                if in_field {
                    return;
                }
                if handler(e.key()) {
                    e.prevent_default();
                }
            },
        );
        if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
            let _ =
                doc.add_event_listener_with_callback("keydown", closure.as_ref().unchecked_ref());
        }
        KeyListener { closure }
    }

    #[cfg(not(target_arch = "wasm32"))]
    pub fn attach(_handler: impl FnMut(String) -> bool + 'static) -> KeyListener {
        KeyListener {}
    }
}

#[cfg(target_arch = "wasm32")]
impl Drop for KeyListener {
    fn drop(&mut self) {
        use wasm_bindgen::JsCast;
        if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
            let _ = doc.remove_event_listener_with_callback(
                "keydown",
                self.closure.as_ref().unchecked_ref(),
            );
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl Drop for KeyListener {
    fn drop(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn playback_keys_map_to_playback_actions() {
        assert_eq!(action_for(" "), Some(Action::TogglePlay));
        assert_eq!(action_for("."), Some(Action::Step));
        assert_eq!(action_for("n"), Some(Action::StepToCompletion));
        assert_eq!(action_for("?"), Some(Action::ToggleHelp));
        assert_eq!(action_for("["), Some(Action::ScrubBy(-100_000)));
        assert_eq!(action_for("x"), None);
    }
}
