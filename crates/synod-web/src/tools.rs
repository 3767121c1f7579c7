//! The share, embed, export, scenario-file and import tools: one panel under the playground.
//!
//! Each button reads the state at the moment it is pressed (the reducer handle always holds
//! the latest), turns it into text with the natively tested functions of [`crate::share`],
//! [`crate::export`] and [`crate::import`], and hands the text to the browser through
//! [`crate::dom`]. Nothing here changes the simulation except by dispatching an [`Action`].

use crate::dom;
use crate::export::Export;
use crate::import::{ImportPanel, Imported};
use crate::share::{embed_snippet, embed_view, Panel, Panels};
use crate::state::{Action, Playground};
use std::rc::Rc;
use synod_sim::link::{self, ShareState, Theme};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

/// The tools show nothing that changes as the simulation runs (the buttons read the state
/// when pressed, and the handle always reads the latest), so they render again only when
/// the panels shown change, never for a frame.
#[derive(Properties)]
pub struct ToolsProps {
    pub state: UseReducerHandle<Playground>,
    pub panels: Panels,
    pub dispatch: Callback<Action>,
    pub on_import: Callback<Rc<Imported>>,
}

impl PartialEq for ToolsProps {
    fn eq(&self, other: &Self) -> bool {
        self.panels == other.panels
            && self.dispatch == other.dispatch
            && self.on_import == other.on_import
    }
}

impl std::fmt::Debug for ToolsProps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ToolsProps({:?})", self.panels)
    }
}

/// What became of the last copy to the clipboard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Copied {
    Waiting,
    Yes,
    Refused,
}

fn copy_note(c: Option<Copied>) -> &'static str {
    match c {
        None | Some(Copied::Waiting) => "",
        Some(Copied::Yes) => "Copied to the clipboard.",
        Some(Copied::Refused) => {
            "The browser did not let the page use the clipboard: select the text above and copy it."
        }
    }
}

/// Share link, embed code, panels, exports, scenario files and history import.
#[component]
pub fn Tools(props: &ToolsProps) -> Html {
    let shared_link = use_state(|| None::<String>);
    let link_copied = use_state(|| None::<Copied>);
    let embed_code = use_state(|| None::<String>);
    let embed_copied = use_state(|| None::<Copied>);
    let embed_read_only = use_state(|| true);
    let embed_theme = use_state(|| Theme::Auto);
    let export_note = use_state(|| None::<String>);
    let scenario_error = use_state(|| None::<String>);

    let copier = |target: UseStateHandle<Option<Copied>>| {
        Callback::from(move |ok: bool| {
            target.set(Some(if ok { Copied::Yes } else { Copied::Refused }))
        })
    };
    let on_copy_link = {
        let (state, shared_link, link_copied) = (
            props.state.clone(),
            shared_link.clone(),
            link_copied.clone(),
        );
        let done = copier(link_copied.clone());
        Callback::from(move |_: MouseEvent| {
            let url = link::link(&dom::page_url(), &state.share_state());
            shared_link.set(Some(url.clone()));
            link_copied.set(Some(Copied::Waiting));
            dom::copy_text(url, done.clone());
        })
    };
    let on_copy_embed = {
        let (state, embed_code, embed_copied) = (
            props.state.clone(),
            embed_code.clone(),
            embed_copied.clone(),
        );
        let (read_only, theme) = (embed_read_only.clone(), embed_theme.clone());
        let done = copier(embed_copied.clone());
        Callback::from(move |_: MouseEvent| {
            let here = state.share_state();
            let share = ShareState {
                view: embed_view(&here.view, state.page.panels, *read_only, *theme),
                scenario: here.scenario,
            };
            let code = embed_snippet(&dom::page_url(), &share, "Synod playground");
            embed_code.set(Some(code.clone()));
            embed_copied.set(Some(Copied::Waiting));
            dom::copy_text(code, done.clone());
        })
    };
    let on_embed_read_only = {
        let r = embed_read_only.clone();
        Callback::from(move |e: Event| {
            r.set(e.target_unchecked_into::<HtmlInputElement>().checked())
        })
    };
    let on_embed_theme = {
        let t = embed_theme.clone();
        Callback::from(move |e: Event| {
            t.set(
                match e
                    .target_unchecked_into::<HtmlSelectElement>()
                    .value()
                    .as_str()
                {
                    "light" => Theme::Light,
                    "dark" => Theme::Dark,
                    _ => Theme::Auto,
                },
            )
        })
    };
    let exports = Export::ALL.iter().map(|&e| {
        let (state, note) = (props.state.clone(), export_note.clone());
        let onclick = Callback::from(move |_: MouseEvent| {
            note.set(
                export(&state, e)
                    .err()
                    .or_else(|| e.text(&state.sim()).and_then(|(_, n)| n)),
            );
        });
        html! {
            <button key={e.id()} data-testid={format!("export-{}", e.id())} onclick={onclick}>
                { e.title() }</button>
        }
    });
    let on_scenario_file = {
        let (dispatch, error) = (props.dispatch.clone(), scenario_error.clone());
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let (dispatch, error) = (dispatch.clone(), error.clone());
            dom::read_chosen_file(
                &input,
                Callback::from(move |r: Result<(String, String), String>| {
                    let loaded = r.and_then(|(name, text)| {
                        synod_sim::export::scenario_from_json(text.as_bytes())
                            .map_err(|e| format!("{name}: {e}"))
                    });
                    match loaded {
                        Ok(s) => {
                            error.set(None);
                            dispatch.emit(Action::LoadScenario(Box::new(s)));
                        }
                        Err(e) => error.set(Some(e)),
                    }
                }),
            );
        })
    };
    let panels = Panel::ALL.iter().map(|&panel| {
        let on = props.panels.has(panel);
        html! {
            <label key={panel.name()} class="toggle">
                <input type="checkbox" data-testid={format!("panel-{}", panel.name())} checked={on}
                    onchange={props.dispatch.reform(move |_| Action::TogglePanel(panel))} />
                { format!(" {} ", panel.name()) }
            </label>
        }
    });
    html! {
        <section class="panel tools" data-testid="tools">
            <h2>{ "Share, embed, export, import" }</h2>
            <div class="tool">
                <h3>{ "Share this moment" }</h3>
                <p class="hint">{ "The link holds the whole scenario (seed, setup and every \
                                   action with its time), this moment, whether it plays, and \
                                   the panels shown. Opening it replays to exactly this state." }</p>
                <button data-testid="copy-link" onclick={on_copy_link}>{ "Copy link" }</button>
                if let Some(url) = &*shared_link {
                    <input class="copy-field" readonly=true data-testid="share-link" value={url.clone()}
                        onfocus={Callback::from(|e: FocusEvent| e.target_unchecked_into::<HtmlInputElement>().select())} />
                }
                <span class="hint" data-testid="copy-status">{ copy_note(*link_copied) }</span>
            </div>
            <div class="tool">
                <h3>{ "Embed in course notes" }</h3>
                <p class="hint">{ "An iframe of this moment without the page's chrome, showing \
                                   the panels chosen below; it reports its height to the host \
                                   page so it can be sized (see embed-example.html)." }</p>
                <label class="toggle"><input type="checkbox" data-testid="embed-read-only"
                    checked={*embed_read_only} onchange={on_embed_read_only} />{ " read-only " }</label>
                <label>{ "theme " }
                    <select data-testid="embed-theme" onchange={on_embed_theme}>
                        <option value="auto" selected={*embed_theme == Theme::Auto}>{ "reader's choice" }</option>
                        <option value="light" selected={*embed_theme == Theme::Light}>{ "light" }</option>
                        <option value="dark" selected={*embed_theme == Theme::Dark}>{ "dark" }</option>
                    </select>
                </label>
                <button data-testid="copy-embed" onclick={on_copy_embed}>{ "Copy embed code" }</button>
                if let Some(code) = &*embed_code {
                    <textarea class="copy-field" readonly=true rows="4" data-testid="embed-code" value={code.clone()} />
                }
                <span class="hint">{ copy_note(*embed_copied) }</span>
            </div>
            <div class="tool">
                <h3>{ "Panels" }</h3>
                <div class="row">{ for panels }</div>
            </div>
            <div class="tool">
                <h3>{ "Save" }</h3>
                <div class="row">{ for exports }</div>
                if let Some(n) = &*export_note { <p class="hint" data-testid="export-note">{ n }</p> }
                <label class="file">{ "Load a scenario file " }
                    <input type="file" accept=".json,application/json" data-testid="scenario-file"
                        onchange={on_scenario_file} />
                </label>
                if let Some(e) = &*scenario_error {
                    <p class="error" data-testid="scenario-error">{ e }</p>
                }
            </div>
            <div class="tool">
                <ImportPanel on_import={props.on_import.clone()} />
            </div>
        </section>
    }
}

/// Saves one export; the error says what went wrong.
fn export(state: &Playground, e: Export) -> Result<(), String> {
    let seed = state.sim().scenario().seed;
    let text = match e.svg_testid() {
        Some(id) => dom::standalone_svg(id).ok_or_else(|| {
            format!("The {id} is not shown: show its panel first to save it as a picture.")
        })?,
        None => e.text(&state.sim()).map(|(t, _)| t).unwrap_or_default(),
    };
    dom::download(&e.file_name(seed), e.mime(), &text)
}
