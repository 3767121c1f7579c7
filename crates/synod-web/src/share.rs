//! Opening the page from its URL, and handing the page on: share links, embed settings and
//! the panels a visitor chose to show.
//!
//! # What the URL says
//!
//! The fragment is a share link ([`synod_sim::link`]): a whole scenario and what the sharer
//! was looking at. The query string may add or override embed settings, so a course page can
//! reuse one link in several framings without re-encoding it:
//!
//! | parameter | values | effect |
//! | --- | --- | --- |
//! | `embed` | (none), `1`, `0` | `embed` alone or `embed=1` hides the chrome |
//! | `chrome` | `1`, `0` | show or hide the header, setup bar and share tools |
//! | `panels` | `cluster,timeline,...` | the panels to show ([`Panel::name`]) |
//! | `start` | `playing`, `paused` | whether playback runs on opening |
//! | `t` | `2500`, `2500ms`, `2.5s` | open at this virtual time |
//! | `readonly` | `1`, `0` | offer no control that changes the scenario |
//! | `theme` | `light`, `dark`, `auto` | the colour theme |
//!
//! A parameter the page does not know, or a value it cannot read, is named in the banner and
//! otherwise ignored; the rest still apply.
//!
//! # Opening
//!
//! [`open`] turns the query and the fragment into an [`Opening`]: the share state to replay
//! (none for an empty fragment, or for a bad link, whose [`synod_sim::link::LinkError`]
//! message becomes the banner over the default playground) and the [`Page`] settings.
//! Nothing is half-loaded: a link either decodes and validates completely or is not used.
//!
//! # Handing on
//!
//! [`embed_snippet`] writes the `<iframe>` a course page pastes, with the one-line listener
//! that sizes it from the page's `synod-height` messages (see [`HEIGHT_MESSAGE`]).

use synod_sim::link::{self, EmbedOptions, ShareState, Theme, ViewState};

/// The `type` of the message an embedded page posts to its parent whenever its height
/// changes (and once on load): `{type: "synod-height", height: <CSS pixels, integer>}`,
/// posted with target origin `"*"` (it carries nothing secret). A host tells its frames
/// apart by comparing `event.source` with each iframe's `contentWindow`.
pub const HEIGHT_MESSAGE: &str = "synod-height";

/// The parts of the page a visitor (or an embed) can show or hide.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Panel {
    /// The nodes, clients and messages in flight.
    Cluster,
    /// Every operation from invocation to completion, with the checker's verdict.
    Timeline,
    /// What can be done with the selected node or message.
    Selection,
    /// Partitions and network sliders.
    Network,
    /// Operations by hand and the automatic workload.
    Clients,
    /// Every replica's log and table side by side.
    Replicas,
    /// Every event in words.
    Narration,
    /// Message counts and latency.
    Stats,
    /// Adding and removing nodes, the configuration history and how each join caught up.
    Membership,
}

impl Panel {
    pub const ALL: [Panel; 9] = [
        Panel::Cluster,
        Panel::Timeline,
        Panel::Selection,
        Panel::Network,
        Panel::Clients,
        Panel::Replicas,
        Panel::Narration,
        Panel::Stats,
        Panel::Membership,
    ];

    /// The name in links and in the `panels` parameter.
    pub fn name(self) -> &'static str {
        match self {
            Panel::Cluster => "cluster",
            Panel::Timeline => "timeline",
            Panel::Selection => "selection",
            Panel::Network => "network",
            Panel::Clients => "clients",
            Panel::Replicas => "replicas",
            Panel::Narration => "narration",
            Panel::Stats => "stats",
            Panel::Membership => "membership",
        }
    }

    pub fn from_name(name: &str) -> Option<Panel> {
        Panel::ALL.into_iter().find(|p| p.name() == name.trim())
    }

    /// Whether the panel holds controls that change the scenario (hidden when read-only).
    pub fn acts(self) -> bool {
        matches!(
            self,
            Panel::Selection | Panel::Network | Panel::Clients | Panel::Membership
        )
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// A set of panels (a bit set, so it is `Copy` and cheap to compare in props).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Panels(u16);

impl Panels {
    pub fn all() -> Panels {
        Panels(Panel::ALL.iter().fold(0, |m, p| m | p.bit()))
    }

    pub fn none() -> Panels {
        Panels(0)
    }

    pub fn has(self, p: Panel) -> bool {
        self.0 & p.bit() != 0
    }

    pub fn with(self, p: Panel, on: bool) -> Panels {
        Panels(if on {
            self.0 | p.bit()
        } else {
            self.0 & !p.bit()
        })
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Panel> {
        Panel::ALL.into_iter().filter(move |p| self.has(*p))
    }

    /// The panels named, ignoring names this build does not know (a newer build's panel
    /// cannot be shown here anyway). No known name at all means every panel.
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Panels {
        let set = names
            .iter()
            .filter_map(|n| Panel::from_name(n.as_ref()))
            .fold(Panels::none(), |s, p| s.with(p, true));
        if set.is_empty() {
            Panels::all()
        } else {
            set
        }
    }

    /// The names for a link: none when every panel is shown (the default), so links stay
    /// short.
    pub fn names(self) -> Vec<String> {
        if self == Panels::all() {
            Vec::new()
        } else {
            self.iter().map(|p| p.name().to_owned()).collect()
        }
    }
}

impl Default for Panels {
    fn default() -> Self {
        Panels::all()
    }
}

/// How the page is framed: from the link's view, the query string and the visitor's own
/// choices since.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    /// The panels shown.
    pub panels: Panels,
    /// Header, setup bar and share tools shown.
    pub chrome: bool,
    /// No control that changes the scenario is offered, and the reducer refuses such
    /// actions.
    pub read_only: bool,
    pub theme: Theme,
    /// Why the link in the URL could not be opened (or which parameters were ignored),
    /// until dismissed.
    pub banner: Option<String>,
}

impl Default for Page {
    fn default() -> Self {
        Page::from_view(&ViewState::default())
    }
}

impl Page {
    /// The page a link's view asks for.
    pub fn from_view(view: &ViewState) -> Page {
        let e = &view.embed;
        let names = if e.panels.is_empty() {
            &view.panels
        } else {
            &e.panels
        };
        Page {
            panels: Panels::from_names(names),
            chrome: e.chrome,
            read_only: e.read_only,
            theme: e.theme,
            banner: None,
        }
    }

    /// Whether a panel is drawn: chosen, and not a control panel of a read-only page.
    pub fn shows(&self, panel: Panel) -> bool {
        self.panels.has(panel) && !(self.read_only && panel.acts())
    }
}

/// What the page opens with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opening {
    /// The state to replay; `None` opens the default playground.
    pub share: Option<ShareState>,
    /// The view to open with (the link's, with the query's overrides).
    pub view: ViewState,
    /// Messages for the banner: a bad link, ignored parameters.
    pub problems: Vec<String>,
}

impl Opening {
    /// The page settings, with the banner.
    pub fn page(&self) -> Page {
        let mut page = Page::from_view(&self.view);
        if !self.problems.is_empty() {
            page.banner = Some(self.problems.join(" "));
        }
        page
    }
}

/// Reads the URL's query (without `?`) and fragment (without `#`).
pub fn open(query: &str, fragment: &str) -> Opening {
    let mut problems = Vec::new();
    let share = if fragment.trim().is_empty() {
        None
    } else {
        match link::decode(fragment) {
            Ok(s) => Some(s),
            Err(e) => {
                problems.push(format!(
                    "This link could not be opened: {e}. The default playground is shown instead."
                ));
                None
            }
        }
    };
    let mut view = share.as_ref().map(|s| s.view.clone()).unwrap_or_else(|| {
        // Without a link, the page plays as it always does.
        ViewState {
            playing: true,
            ..ViewState::default()
        }
    });
    problems.extend(apply_query(query, &mut view));
    Opening {
        share,
        view,
        problems,
    }
}

/// Applies the query's embed parameters to `view`; returns a message per parameter it
/// could not use.
pub fn apply_query(query: &str, view: &mut ViewState) -> Vec<String> {
    let mut problems = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(value);
        let e = &mut view.embed;
        let ok = match key {
            "embed" => flag(&value, true).map(|on| e.chrome = !on),
            "chrome" => flag(&value, true).map(|on| e.chrome = on),
            "readonly" => flag(&value, true).map(|on| e.read_only = on),
            "panels" => {
                let names: Vec<String> = value
                    .split(',')
                    .filter(|n| !n.trim().is_empty())
                    .map(|n| n.trim().to_owned())
                    .collect();
                match names.iter().find(|n| Panel::from_name(n).is_none()) {
                    Some(bad) => Err(format!(
                        "there is no panel \"{bad}\" (panels: {})",
                        Panel::ALL.map(Panel::name).join(", ")
                    )),
                    None => {
                        e.panels = names;
                        Ok(())
                    }
                }
            }
            "start" => match value.as_str() {
                "playing" => {
                    e.start_paused = false;
                    view.playing = true;
                    Ok(())
                }
                "paused" => {
                    e.start_paused = true;
                    Ok(())
                }
                _ => Err("start is playing or paused".to_owned()),
            },
            "t" => parse_time_us(&value).map(|us| e.start_at_us = Some(us)),
            "theme" => match value.as_str() {
                "light" => Ok(Theme::Light),
                "dark" => Ok(Theme::Dark),
                "auto" => Ok(Theme::Auto),
                _ => Err("theme is light, dark or auto".to_owned()),
            }
            .map(|t| e.theme = t),
            _ => Err("this page has no such setting".to_owned()),
        };
        if let Err(why) = ok {
            problems.push(format!("The URL parameter \"{pair}\" was ignored: {why}."));
        }
    }
    problems
}

fn flag(value: &str, bare: bool) -> Result<bool, String> {
    match value {
        "" => Ok(bare),
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err("use 1 or 0".to_owned()),
    }
}

/// `2500` and `2500ms` are milliseconds, `2.5s` seconds, `2500000us` microseconds.
pub fn parse_time_us(text: &str) -> Result<u64, String> {
    let bad = || format!("\"{text}\" is not a time (write 2500, 2500ms or 2.5s)");
    let t = text.trim();
    let (number, scale) = if let Some(n) = t.strip_suffix("us") {
        (n, 1)
    } else if let Some(n) = t.strip_suffix("ms") {
        (n, 1_000)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1_000_000)
    } else {
        (t, 1_000)
    };
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 6 {
        return Err(bad());
    }
    let whole: u64 = whole.parse().map_err(|_| bad())?;
    let mut frac_scaled = 0u64;
    let mut unit = scale;
    for d in frac.bytes() {
        unit /= 10;
        frac_scaled += u64::from(d - b'0') * unit;
    }
    whole
        .checked_mul(scale)
        .and_then(|w| w.checked_add(frac_scaled))
        .ok_or_else(bad)
}

/// Decodes `%XX` escapes and `+` (a space in a query); bad escapes are kept as they are.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The embed settings for a snippet made from the page as it is now: no chrome, the panels
/// shown, at the current moment, playing or paused as now, read-only when asked, the theme.
pub fn embed_view(view: &ViewState, panels: Panels, read_only: bool, theme: Theme) -> ViewState {
    ViewState {
        embed: EmbedOptions {
            chrome: false,
            panels: panels.names(),
            start_paused: !view.playing,
            start_at_us: None,
            read_only,
            theme,
        },
        ..view.clone()
    }
}

/// The `<iframe>` (and the listener that sizes it) for a course page. `page_url` is the
/// playground's address; its query and fragment are replaced.
pub fn embed_snippet(page_url: &str, share: &ShareState, title: &str) -> String {
    let base = page_url.split(['#', '?']).next().unwrap_or_default();
    let src = link::link(base, share);
    format!(
        "<iframe src=\"{}\" title=\"{}\" width=\"100%\" height=\"480\" style=\"border: 0\" \
         loading=\"lazy\"></iframe>\n\
         <script>\n\
         // Synod posts {{type: \"{HEIGHT_MESSAGE}\", height}} when its height changes.\n\
         addEventListener(\"message\", (e) => {{\n\
         \x20 if (!e.data || e.data.type !== \"{HEIGHT_MESSAGE}\") return;\n\
         \x20 for (const f of document.querySelectorAll(\"iframe\"))\n\
         \x20   if (f.contentWindow === e.source) f.style.height = e.data.height + \"px\";\n\
         }});\n\
         </script>\n",
        html_attr(&src),
        html_attr(title),
    )
}

/// Escapes text for a double-quoted HTML attribute.
pub fn html_attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use synod_core::Protocol;
    use synod_sim::Scenario;

    fn shared() -> ShareState {
        ShareState::new(Scenario::cluster(4, 3, Protocol::MultiPaxos, 2))
    }

    #[test]
    fn no_fragment_opens_the_default_playground_playing_without_a_banner() {
        let o = open("", "");
        assert_eq!(o.share, None);
        assert!(o.view.playing);
        assert_eq!(o.page(), Page::default());
    }

    #[test]
    fn a_good_link_opens_its_state_and_view() {
        let mut s = shared();
        s.view.position_us = Some(1_500_000);
        s.view.panels = vec!["cluster".into(), "timeline".into()];
        let o = open("", &link::encode(&s));
        assert_eq!(o.share.as_ref(), Some(&s));
        assert!(!o.view.playing);
        let page = o.page();
        assert_eq!(page.banner, None);
        assert_eq!(
            page.panels.iter().collect::<Vec<_>>(),
            [Panel::Cluster, Panel::Timeline]
        );
    }

    #[test]
    fn a_bad_link_opens_nothing_and_says_why_in_the_banner() {
        let good = link::encode(&shared());
        let cut = &good[..good.len() - 5];
        let o = open("", cut);
        assert_eq!(o.share, None);
        let banner = o.page().banner.expect("a banner");
        assert!(banner.contains("incomplete"), "{banner}");
        assert!(banner.contains("default playground"), "{banner}");
        let o = open("", "hello");
        assert!(o.page().banner.unwrap().contains("not a Synod share link"));
    }

    #[test]
    fn query_parameters_override_the_link_and_bad_ones_are_named() {
        let mut s = shared();
        s.view.playing = true;
        let o = open(
            "embed&panels=cluster,timeline&start=paused&t=2.5s&readonly=1&theme=dark&x=1&theme=blue",
            &link::encode(&s),
        );
        let e = &o.view.embed;
        assert!(!e.chrome && e.read_only && e.start_paused);
        assert_eq!(e.start_at_us, Some(2_500_000));
        assert_eq!(e.theme, Theme::Dark);
        assert_eq!(o.problems.len(), 2, "{:?}", o.problems);
        assert!(o.problems[0].contains("\"x=1\""));
        assert!(o.problems[1].contains("light, dark or auto"));
        let state = ShareState {
            view: o.view.clone(),
            ..s
        };
        assert_eq!(state.start_position_us(), 2_500_000);
        assert!(!state.starts_playing());
        let page = o.page();
        assert!(page.shows(Panel::Cluster) && !page.shows(Panel::Narration));
    }

    #[test]
    fn read_only_hides_every_control_panel_even_when_chosen() {
        let mut view = ViewState::default();
        view.embed.read_only = true;
        let page = Page::from_view(&view);
        for p in Panel::ALL {
            assert_eq!(page.shows(p), !p.acts(), "{p:?}");
        }
    }

    #[test]
    fn panel_sets_round_trip_through_names_and_all_is_the_empty_list() {
        assert!(Panels::all().names().is_empty());
        assert_eq!(Panels::from_names::<String>(&[]), Panels::all());
        let some = Panels::none()
            .with(Panel::Timeline, true)
            .with(Panel::Stats, true);
        assert_eq!(Panels::from_names(&some.names()), some);
        assert_eq!(
            Panels::from_names(&["timeline", "from-the-future"]),
            Panels::none().with(Panel::Timeline, true)
        );
        assert_eq!(Panels::from_names(&["log"]), Panels::all());
    }

    #[test]
    fn times_read_in_ms_s_and_us() {
        assert_eq!(parse_time_us("2500"), Ok(2_500_000));
        assert_eq!(parse_time_us("2500ms"), Ok(2_500_000));
        assert_eq!(parse_time_us("2.5s"), Ok(2_500_000));
        assert_eq!(parse_time_us("0.000001s"), Ok(1));
        assert_eq!(parse_time_us("7us"), Ok(7));
        for bad in [
            "",
            "s",
            "-1",
            "1.2.3",
            "1e3",
            "99999999999999999999",
            "1.0000001s",
        ] {
            assert!(parse_time_us(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn percent_escapes_in_the_query_are_decoded() {
        assert_eq!(percent_decode("cluster%2Ctimeline"), "cluster,timeline");
        assert_eq!(percent_decode("a+b%"), "a b%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        let mut view = ViewState::default();
        assert!(apply_query("panels=cluster%2Cstats", &mut view).is_empty());
        assert_eq!(view.embed.panels, ["cluster", "stats"]);
    }

    #[test]
    fn the_embed_snippet_frames_a_link_that_opens_to_the_embed_view() {
        let mut s = shared();
        s.view = embed_view(
            &ViewState {
                position_us: Some(3_000_000),
                playing: true,
                ..ViewState::default()
            },
            Panels::none()
                .with(Panel::Cluster, true)
                .with(Panel::Timeline, true),
            true,
            Theme::Light,
        );
        let html = embed_snippet(
            "https://course.example/synod/?embed#s1.old",
            &s,
            "A \"crash\"",
        );
        assert!(html.starts_with("<iframe src=\"https://course.example/synod/#s1."));
        assert!(html.contains("title=\"A &quot;crash&quot;\""));
        assert!(html.contains("synod-height"));
        let src = html
            .split("src=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap();
        let opened = open("", src.split('#').nth(1).unwrap());
        let page = opened.page();
        assert!(!page.chrome && page.read_only && page.theme == Theme::Light);
        assert!(page.shows(Panel::Timeline) && !page.shows(Panel::Stats));
        let share = opened.share.unwrap();
        assert_eq!(share.start_position_us(), 3_000_000);
        assert!(share.starts_playing());
    }

    /// The example page's frames open the committed scenario files with the settings its
    /// prose describes, and each scenario shows what its caption says.
    #[test]
    fn the_embed_example_frames_open_their_scenarios_as_described() {
        let html = include_str!("../../../web/embed-example.html");
        let srcs: Vec<String> = html
            .split("src=\"")
            .skip(1)
            .map(|r| r.split('"').next().unwrap().replace("&amp;", "&"))
            .collect();
        assert_eq!(srcs.len(), 2);
        let files = [
            include_str!("../../../web/examples/leader-crash.json"),
            include_str!("../../../web/examples/naive-replication.json"),
        ];
        for (src, file) in srcs.iter().zip(files) {
            let rest = src.strip_prefix("index.html?").expect("a relative address");
            let (query, fragment) = rest.split_once('#').unwrap();
            let o = open(query, fragment);
            assert!(o.problems.is_empty(), "{:?}", o.problems);
            let share = o.share.clone().unwrap();
            let scenario = synod_sim::export::scenario_from_json(file.as_bytes()).unwrap();
            assert_eq!(share.scenario, scenario);
            let page = o.page();
            assert!(!page.chrome && page.read_only);
            assert_eq!(
                page.panels.iter().collect::<Vec<_>>(),
                [Panel::Cluster, Panel::Timeline]
            );
            assert!(ShareState {
                view: o.view.clone(),
                ..share
            }
            .starts_playing());
        }
        let run = |file: &str| {
            let s = synod_sim::export::scenario_from_json(file.as_bytes()).unwrap();
            let end = synod_sim::Time(s.run_us);
            let mut sim = synod_sim::Simulation::new(s).unwrap();
            sim.run_until(end);
            sim
        };
        let crash = run(files[0]);
        let crashed_at = synod_sim::Time(1_500_000);
        assert!(crash.trace().iter().any(|r| r.at > crashed_at
            && matches!(&r.kind, synod_sim::TraceKind::Node { node, event: synod_core::Event::BecameLeader { .. } } if node.0 != 2)));
        let (verdict, _) = synod_sim::history::check_history(crash.history(), 1_000_000);
        assert_eq!(verdict.verdict, synod_check::Verdict::Linearizable);
        let naive = run(files[1]);
        let (verdict, _) = synod_sim::history::check_history(naive.history(), 1_000_000);
        assert_eq!(verdict.verdict, synod_check::Verdict::NotLinearizable);
    }
}
