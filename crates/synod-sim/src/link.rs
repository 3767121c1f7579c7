//! Share links: a whole scenario, and what the sharer was looking at, in a URL fragment.
//!
//! # What a link holds
//!
//! A [`ShareState`]: the [`Scenario`] (protocol, configuration, seed, and every intervention
//! with its virtual time) and a [`ViewState`] (playback position, open panels, whether it was
//! playing, and [`EmbedOptions`] for a page that frames the playground). Opening a link
//! replays the scenario from time zero, so the reader reaches exactly the sharer's state,
//! trace hash included: nothing but the scenario is needed to rebuild the world.
//!
//! # The fragment, version 1
//!
//! ```text
//! s1.<base64url, no padding>
//!
//! bytes:  0..4   length of the compressed part, u32 big-endian
//!         4      CRC-8 (polynomial 0x07) of bytes 0..4
//!         5..9   CRC-32 (IEEE) of the compressed part, big-endian
//!         9..    raw DEFLATE of the JSON of the ShareState
//! ```
//!
//! The JSON is what serde writes for [`ShareState`], with the view's fields left out where
//! they hold their default (the reader's `serde(default)` puts them back). The base64 alphabet
//! is `A-Z a-z 0-9 - _`, which a URL fragment carries as is. Whitespace inside the payload is
//! ignored, because chat programs wrap long lines.
//!
//! Each part of the frame exists so that a bad link is named, never misread:
//!
//! - The length, guarded by its own CRC-8 (which catches every error burst up to 8 bits, so
//!   every changed character in the header), tells a link that lost its end ([`LinkError::Truncated`])
//!   from one that was altered or has something appended ([`LinkError::Corrupted`]).
//! - The CRC-32 catches every burst of up to 32 bits, so any single changed character in the
//!   body, before the decompressor sees a byte. Base64 decoding is strict (the unused bits of
//!   the last character must be zero), so no character can change without changing a byte.
//! - Decompression stops at [`MAX_JSON_BYTES`]: a hand-made link cannot exhaust memory.
//!
//! # The version rule
//!
//! The `s1` tag is the version of the *frame* (encoding, compression, checksums, JSON
//! layout). It changes only when an old build could not even find the JSON in a new link;
//! a build reads every frame version up to [`LINK_VERSION`] and refuses newer ones with
//! [`LinkError::NewerVersion`]. New *fields* do not change it: they are added with
//! `serde(default)`, so old links keep opening in new builds (a fixture link in the tests
//! holds this build to that). The other way round, an old build that meets a field it does
//! not know refuses the link ([`LinkError::UnknownField`]) rather than silently replaying a
//! different world; a scenario whose own `version` is newer than [`SCENARIO_VERSION`] is
//! refused the same way.
//!
//! # Errors
//!
//! Every way a link can be bad has its own [`LinkError`] variant, with a message written for
//! the person who clicked it; the page shows it over the default playground, and
//! `synod run` prints the same message and exits 2. Decoding never panics, whatever the input.

use crate::json_path;
use crate::scenario::{Scenario, ScenarioError, SCENARIO_VERSION};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// The frame version this build writes, and the newest it reads.
pub const LINK_VERSION: u32 = 1;

/// The largest JSON a link may decompress to.
pub const MAX_JSON_BYTES: usize = 4 << 20;

/// The largest compressed part a link may declare; DEFLATE never expands data this much.
pub const MAX_COMPRESSED_BYTES: usize = 6 << 20;

/// The longest fragment [`decode`] looks at (base64 of [`MAX_COMPRESSED_BYTES`], and room
/// for the tag and line breaks).
pub const MAX_LINK_CHARS: usize = 9 << 20;

/// The most panels a view may name, and the longest a panel name may be.
pub const MAX_PANELS: usize = 32;
pub const MAX_PANEL_NAME: usize = 64;

/// Where `synod link` points when no `--base` is given: the page `cargo xtask serve`
/// serves.
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:8080/";

/// Everything a share link carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareState {
    /// The world: replaying it from time zero rebuilds the sharer's state exactly.
    pub scenario: Scenario,
    /// What the sharer was looking at.
    #[serde(default)]
    pub view: ViewState,
}

/// What the sharer was looking at. Every field has a default, so a link may leave any out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ViewState {
    /// The playback position in virtual microseconds; `None` is the start.
    pub position_us: Option<u64>,
    /// Set when the sharer stepped event by event and stopped between two events of the
    /// same microsecond: how many events the simulation had processed
    /// (`Stats::events`). `None`, the usual case, means every event at the position.
    pub position_events: Option<u64>,
    /// The panels open, by the names the page gives them, in the order they are shown.
    pub panels: Vec<String>,
    /// Whether playback was running.
    pub playing: bool,
    /// How a page that embeds the playground wants it framed.
    pub embed: EmbedOptions,
}

/// How a page that embeds the playground (a course page with an `<iframe>`, say) wants it
/// shown. The defaults are the ordinary full page, so a link without `embed` opens as usual.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EmbedOptions {
    /// Show the page's chrome (header, scenario controls, footer). Off for a bare embed.
    pub chrome: bool,
    /// The panels to show; empty means the view's own [`ViewState::panels`].
    pub panels: Vec<String>,
    /// Open paused even if the sharer was playing.
    pub start_paused: bool,
    /// Open at this position instead of the view's [`ViewState::position_us`].
    pub start_at_us: Option<u64>,
    /// Offer no controls that change the scenario (no interventions): watch and scrub only.
    pub read_only: bool,
    /// The colour theme; `Auto` follows the reader's own preference.
    pub theme: Theme,
}

impl Default for EmbedOptions {
    fn default() -> Self {
        EmbedOptions {
            chrome: true,
            panels: Vec::new(),
            start_paused: false,
            start_at_us: None,
            read_only: false,
            theme: Theme::Auto,
        }
    }
}

/// A colour theme.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    /// Whatever the reader's browser prefers.
    #[default]
    Auto,
    Light,
    Dark,
}

impl ShareState {
    /// A scenario shared with the default view (at the start, not playing).
    pub fn new(scenario: Scenario) -> ShareState {
        ShareState {
            scenario,
            view: ViewState::default(),
        }
    }

    /// Where playback opens: the embed's start, else the sharer's position, else zero.
    pub fn start_position_us(&self) -> u64 {
        self.view
            .embed
            .start_at_us
            .or(self.view.position_us)
            .unwrap_or(0)
    }

    /// Whether playback runs on opening.
    pub fn starts_playing(&self) -> bool {
        self.view.playing && !self.view.embed.start_paused
    }

    /// The panels to show on opening.
    pub fn shown_panels(&self) -> &[String] {
        if self.view.embed.panels.is_empty() {
            &self.view.panels
        } else {
            &self.view.embed.panels
        }
    }
}

impl ViewState {
    /// Checks the bounds on panel lists, naming the first thing out of bounds.
    pub fn validate(&self) -> Result<(), String> {
        for (field, panels) in [
            ("view.panels", &self.panels),
            ("view.embed.panels", &self.embed.panels),
        ] {
            if panels.len() > MAX_PANELS {
                return Err(format!(
                    "{field} names {} panels; at most {MAX_PANELS} are allowed",
                    panels.len()
                ));
            }
            if let Some(p) = panels.iter().find(|p| p.len() > MAX_PANEL_NAME) {
                return Err(format!(
                    "{field} has a panel name of {} bytes; at most {MAX_PANEL_NAME} are allowed",
                    p.len()
                ));
            }
        }
        Ok(())
    }
}

/// Which version a [`LinkError::NewerVersion`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Versioned {
    /// The link's frame (the `sN.` tag).
    Link,
    /// The scenario format inside (`scenario.version`).
    Scenario,
}

/// How a link was damaged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Corruption {
    /// A character that base64url does not use; `at` counts characters of the fragment
    /// from 1.
    BadCharacter { ch: char, at: u64 },
    /// The header's own check failed.
    BadHeader,
    /// The body does not match its CRC-32.
    ChecksumMismatch,
    /// There is more after the end the header declares.
    ExtraData,
    /// The checksum matched but the body is not DEFLATE data: a hand-made link.
    BadCompression,
}

/// Why a link cannot be opened: one variant per kind of bad input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkError {
    /// Nothing follows the `#` (or there is no `#` in a URL).
    Empty,
    /// The fragment is not a Synod share link (no `sN.` tag).
    NotALink,
    /// Made by a newer Synod: the frame or the scenario format is newer than this build
    /// reads.
    NewerVersion {
        of: Versioned,
        found: u64,
        supported: u32,
    },
    /// The link lost characters, usually its end when it was copied.
    Truncated,
    /// The link's characters were changed, or something was appended.
    Corrupted(Corruption),
    /// The link would decompress to more than [`MAX_JSON_BYTES`].
    TooLarge { limit_bytes: u64 },
    /// The link has a field this build does not know: made by a newer Synod.
    UnknownField { path: String },
    /// The link's contents are not a share state (wrong type, missing field), with the
    /// path of the offending field.
    Invalid(String),
    /// The scenario is well-formed but does not make sense (from [`Scenario::validate`]).
    InvalidScenario(ScenarioError),
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkError::Empty => f.write_str(
                "the link holds no scenario: nothing follows the '#' (copy the whole link, \
                 including the part after '#')",
            ),
            LinkError::NotALink => f.write_str(
                "this is not a Synod share link: the part after '#' should start with \"s1.\"",
            ),
            LinkError::NewerVersion {
                of: Versioned::Link,
                found,
                supported,
            } => write!(
                f,
                "share link version {found} is not supported: the link was made by a newer \
                 version of Synod (this version reads link versions 1 to {supported})"
            ),
            LinkError::NewerVersion {
                of: Versioned::Scenario,
                found,
                supported,
            } => write!(
                f,
                "scenario version {found} is not supported: the link was made by a newer \
                 version of Synod (this version reads scenario versions 1 to {supported})"
            ),
            LinkError::Truncated => f.write_str(
                "the link is incomplete: characters are missing, usually its end when it was \
                 copied (copy the whole link again)",
            ),
            LinkError::Corrupted(c) => {
                f.write_str("the link is damaged: ")?;
                match c {
                    Corruption::BadCharacter { ch, at } => {
                        write!(
                            f,
                            "character {at} after the '#' ({ch:?}) cannot appear in a share link"
                        )
                    }
                    Corruption::BadHeader => f.write_str("its header does not check out"),
                    Corruption::ChecksumMismatch => f.write_str(
                        "its checksum does not match its contents (some characters were changed)",
                    ),
                    Corruption::ExtraData => {
                        f.write_str("it has characters after its declared end")
                    }
                    Corruption::BadCompression => {
                        f.write_str("its contents cannot be decompressed")
                    }
                }
            }
            LinkError::TooLarge { limit_bytes } => write!(
                f,
                "the link is too large: its scenario would take more than {} MiB",
                limit_bytes >> 20
            ),
            LinkError::UnknownField { path } => write!(
                f,
                "the link uses a setting this version of Synod does not know ({path}): it was \
                 probably made by a newer version"
            ),
            LinkError::Invalid(detail) => {
                write!(f, "the link does not hold a valid scenario: {detail}")
            }
            LinkError::InvalidScenario(e) => write!(f, "the link's scenario is not valid: {e}"),
        }
    }
}

impl std::error::Error for LinkError {}

/// The fragment (without `#`) that encodes `state`.
///
/// The same state always gives the same fragment. A state whose JSON is above
/// [`MAX_JSON_BYTES`] still encodes, but [`decode`] refuses it with
/// [`LinkError::TooLarge`]; no browser carries a URL that long anyway.
pub fn encode(state: &ShareState) -> String {
    encode_json(&state_json(state))
}

/// Frames any text as a link, as [`encode`] frames a state's JSON. For tests and tools that
/// need links a build would not write (unknown fields, newer versions); the result need not
/// decode.
#[doc(hidden)]
pub fn encode_json(json: &str) -> String {
    frame_deflated(&miniz_oxide::deflate::compress_to_vec(json.as_bytes(), 9))
}

/// Frames bytes as a link's compressed part, with a correct header and checksum, whether or
/// not they are DEFLATE data. For tests of the decompression errors.
#[doc(hidden)]
pub fn frame_deflated(deflated: &[u8]) -> String {
    let len = u32::try_from(deflated.len())
        .unwrap_or(u32::MAX)
        .to_be_bytes();
    let mut bytes = Vec::with_capacity(9 + deflated.len());
    bytes.extend_from_slice(&len);
    bytes.push(crc8(&len));
    bytes.extend_from_slice(&crc32(deflated).to_be_bytes());
    bytes.extend_from_slice(deflated);
    format!("s{LINK_VERSION}.{}", base64url_encode(&bytes))
}

/// The whole link: `base_url` (any fragment it had removed), `#`, and the fragment.
pub fn link(base_url: &str, state: &ShareState) -> String {
    let base = base_url.split('#').next().unwrap_or_default();
    format!("{base}#{}", encode(state))
}

/// Reads a share state from a whole link, a `#fragment`, or a bare fragment.
pub fn decode(input: &str) -> Result<ShareState, LinkError> {
    let fragment = fragment_of(input)?;
    if fragment.len() > MAX_LINK_CHARS {
        return Err(too_large());
    }
    let (payload, prefix_chars) = strip_tag(fragment)?;
    let (bytes, ragged) = base64url_decode(payload, prefix_chars).map_err(LinkError::Corrupted)?;
    let deflated = unframe(&bytes, ragged)?;
    let json = miniz_oxide::inflate::decompress_to_vec_with_limit(deflated, MAX_JSON_BYTES)
        .map_err(|e| match e.status {
            miniz_oxide::inflate::TINFLStatus::HasMoreOutput => too_large(),
            _ => LinkError::Corrupted(Corruption::BadCompression),
        })?;
    parse_state(&json)
}

/// Whether an argument looks like a share link rather than a file name: a URL, a
/// `#fragment`, a bare `sN.` fragment, or anything with `#sN.` in it.
pub fn looks_like_link(arg: &str) -> bool {
    let arg = arg.trim();
    is_url(arg)
        || arg.starts_with('#')
        || has_tag(arg)
        || arg.match_indices('#').any(|(i, _)| has_tag(&arg[i + 1..]))
}

fn is_url(s: &str) -> bool {
    let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

fn has_tag(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('s') else {
        return false;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && rest.as_bytes().get(digits) == Some(&b'.')
}

fn too_large() -> LinkError {
    LinkError::TooLarge {
        limit_bytes: MAX_JSON_BYTES as u64,
    }
}

/// The JSON inside a link: the state, with the view's default fields left out.
fn state_json(state: &ShareState) -> String {
    let mut value = serde_json::to_value(state).expect("share states serialize");
    let default_view = serde_json::to_value(ViewState::default()).expect("views serialize");
    if let Value::Object(map) = &mut value {
        if map.get("view") == Some(&default_view) {
            map.remove("view");
        } else if let Some(view) = map.get_mut("view") {
            prune_defaults(view, &default_view);
        }
    }
    value.to_string()
}

/// Removes the fields of `value` that equal those of `default`, recursively.
fn prune_defaults(value: &mut Value, default: &Value) {
    if let (Value::Object(map), Value::Object(def)) = (value, default) {
        map.retain(|key, v| match def.get(key) {
            Some(d) if v == d => false,
            Some(d) => {
                prune_defaults(v, d);
                true
            }
            None => true,
        });
    }
}

/// The fragment of a link, or the input itself when it is a bare fragment.
fn fragment_of(input: &str) -> Result<&str, LinkError> {
    let input = input.trim();
    let fragment = match input.find('#') {
        Some(i) => &input[i + 1..],
        None if is_url(input) => "",
        None => input,
    };
    let fragment = fragment.trim();
    if fragment.is_empty() {
        Err(LinkError::Empty)
    } else {
        Ok(fragment)
    }
}

/// Checks the `sN.` tag; returns the payload after it and the tag's length in characters.
fn strip_tag(fragment: &str) -> Result<(&str, u64), LinkError> {
    let Some(rest) = fragment.strip_prefix('s') else {
        return Err(LinkError::NotALink);
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    match rest.as_bytes().get(digits) {
        // "s" or "s1": the start of a link, cut off.
        None => return Err(LinkError::Truncated),
        Some(b'.') if digits > 0 => {}
        Some(_) => return Err(LinkError::NotALink),
    }
    // Anything too long for a u64 is certainly newer than this build.
    let found: u64 = rest[..digits].parse().unwrap_or(u64::MAX);
    if found == 0 {
        return Err(LinkError::NotALink);
    }
    if found > u64::from(LINK_VERSION) {
        return Err(LinkError::NewerVersion {
            of: Versioned::Link,
            found,
            supported: LINK_VERSION,
        });
    }
    Ok((&rest[digits + 1..], digits as u64 + 2))
}

/// Checks the frame and returns the compressed part. `ragged` says the base64 text did not
/// end on a byte boundary with zero padding bits.
fn unframe(bytes: &[u8], ragged: bool) -> Result<&[u8], LinkError> {
    let Some((header, rest)) = bytes.split_first_chunk::<9>() else {
        // Too short to hold even a header: either cut off or the header itself was lost.
        return match bytes.first_chunk::<5>() {
            Some(h) if crc8(&h[..4]) != h[4] => Err(LinkError::Corrupted(Corruption::BadHeader)),
            _ => Err(LinkError::Truncated),
        };
    };
    let len = [header[0], header[1], header[2], header[3]];
    if crc8(&len) != header[4] {
        return Err(LinkError::Corrupted(Corruption::BadHeader));
    }
    let declared = usize::try_from(u32::from_be_bytes(len)).unwrap_or(usize::MAX);
    if declared > MAX_COMPRESSED_BYTES {
        return Err(too_large());
    }
    if rest.len() < declared {
        return Err(LinkError::Truncated);
    }
    if rest.len() > declared || ragged {
        return Err(LinkError::Corrupted(Corruption::ExtraData));
    }
    let sum = u32::from_be_bytes([header[5], header[6], header[7], header[8]]);
    if crc32(rest) != sum {
        return Err(LinkError::Corrupted(Corruption::ChecksumMismatch));
    }
    Ok(rest)
}

/// Reads the JSON inside a link.
fn parse_state(json: &[u8]) -> Result<ShareState, LinkError> {
    let value: Value = serde_json::from_slice(json)
        .map_err(|e| LinkError::Invalid(format!("its contents are not JSON ({e})")))?;
    // A newer scenario format may have changed types, so its version is looked at first.
    if let Some(found) = value
        .get("scenario")
        .and_then(|s| s.get("version"))
        .and_then(Value::as_u64)
    {
        if found > u64::from(SCENARIO_VERSION) {
            return Err(LinkError::NewerVersion {
                of: Versioned::Scenario,
                found,
                supported: SCENARIO_VERSION,
            });
        }
    }
    // Decoded again from the text, not from `value`: a scenario file is decoded the same way,
    // so the page carries one copy of the scenario's decoding instead of one per input type.
    let state: ShareState = serde_json::from_slice(json)
        .map_err(|e| LinkError::Invalid(json_path::describe(json, &e)))?;
    if let Some(path) = first_unknown_field(&value, &state) {
        return Err(LinkError::UnknownField { path });
    }
    state
        .scenario
        .validate()
        .map_err(LinkError::InvalidScenario)?;
    state.view.validate().map_err(LinkError::Invalid)?;
    Ok(state)
}

/// The path of the first field in `input` that `decoded` has no place for: what a newer
/// build wrote and this one would silently drop. Serializing the decoded value gives every
/// field this build knows (none of these types skips a field when serializing), so any
/// key of the input missing from it is unknown.
pub(crate) fn first_unknown_field<T: Serialize>(input: &Value, decoded: &T) -> Option<String> {
    let known = serde_json::to_value(decoded).ok()?;
    let mut path = Vec::new();
    unknown_in(input, &known, &mut path)
}

fn unknown_in(input: &Value, known: &Value, path: &mut Vec<String>) -> Option<String> {
    match (input, known) {
        (Value::Object(a), Value::Object(b)) => a.iter().find_map(|(key, v)| {
            path.push(key.clone());
            let found = match b.get(key) {
                None => Some(path.join(".")),
                Some(k) => unknown_in(v, k, path),
            };
            path.pop();
            found
        }),
        (Value::Array(a), Value::Array(b)) => {
            a.iter().zip(b).enumerate().find_map(|(i, (v, k))| {
                path.push(format!("[{i}]"));
                let found = unknown_in(v, k, path).map(|p| p.replace(".[", "["));
                path.pop();
                found
            })
        }
        _ => None,
    }
}

// ---- base64url without padding, strict ----

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn base64url_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

fn base64url_value(c: char) -> Option<u32> {
    Some(match c {
        'A'..='Z' => c as u32 - 'A' as u32,
        'a'..='z' => c as u32 - 'a' as u32 + 26,
        '0'..='9' => c as u32 - '0' as u32 + 52,
        '-' => 62,
        '_' => 63,
        _ => return None,
    })
}

/// Decodes base64url, skipping ASCII whitespace. Returns the bytes and whether the text was
/// ragged at the end (a lone character, or non-zero unused bits). `offset` is the number of
/// characters before `text` in the fragment, for positions in messages.
fn base64url_decode(text: &str, offset: u64) -> Result<(Vec<u8>, bool), Corruption> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for (i, c) in text.chars().enumerate() {
        if c.is_ascii_whitespace() {
            continue;
        }
        let Some(v) = base64url_value(c) else {
            return Err(Corruption::BadCharacter {
                ch: c,
                at: offset + i as u64 + 1,
            });
        };
        acc = acc << 6 | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    let ragged = bits >= 6 || acc != 0;
    Ok((out, ragged))
}

// ---- checksums ----

/// CRC-8 with polynomial 0x07, initial value 0.
fn crc8(bytes: &[u8]) -> u8 {
    let mut crc = 0u8;
    for &b in bytes {
        crc ^= b;
        for _ in 0..8 {
            crc = if crc & 0x80 != 0 {
                crc << 1 ^ 0x07
            } else {
                crc << 1
            };
        }
    }
    crc
}

const CRC32_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// CRC-32 as in zlib, PNG and Ethernet (reflected polynomial 0xEDB88320).
fn crc32(bytes: &[u8]) -> u32 {
    !bytes.iter().fold(!0u32, |c, &b| {
        CRC32_TABLE[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_check_values_match_the_standard() {
        // The standard check input "123456789".
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc8(b"123456789"), 0xF4);
    }

    #[test]
    fn base64url_round_trips_every_length() {
        let data: Vec<u8> = (0..=255u8).collect();
        for n in 0..40 {
            let text = base64url_encode(&data[..n]);
            assert_eq!(
                base64url_decode(&text, 0),
                Ok((data[..n].to_vec(), false)),
                "{n}"
            );
        }
        assert_eq!(base64url_encode(b"\xfb\xff"), "-_8");
    }

    #[test]
    fn links_are_recognised_by_shape() {
        for yes in [
            "https://x/#s1.AAA",
            "#s1.A",
            "s1.AAAA",
            "see #s2.xx",
            "HTTP://X",
        ] {
            assert!(looks_like_link(yes), "{yes}");
        }
        for no in ["scenario.json", "s1", "dir/s.json", "sx.json"] {
            assert!(!looks_like_link(no), "{no}");
        }
    }
}
