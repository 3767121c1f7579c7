//! Browser flows: what a visitor does, checked in real headless Chromium.
//!
//! Each flow opens the built page, waits for the wasm application to start (the markers it
//! waits for exist only once the Yew app has rendered, so a page whose wasm failed to load
//! fails every flow), acts like a person, and asserts on what the page then shows.
//! Compiled into `xtask` (see `xtask/src/browser.rs`).

use super::Browser;
use crate::{Failure, Result};

type Flow = fn(&mut Browser) -> Result;

/// Every flow, by name.
pub const ALL: &[(&str, Flow)] = &[
    ("load", load),
    ("two_clients_set_then_get", two_clients_set_then_get),
];

/// Opens the page and waits for the app to announce that it runs.
fn open(b: &mut Browser) -> Result {
    b.goto("/")?;
    b.wait_for("[data-app-ready='true']")?;
    Ok(())
}

fn load(b: &mut Browser) -> Result {
    open(b)?;
    b.wait_for("[data-testid='node-n1']")?;
    b.wait_for("[data-testid='client-c1']")?;
    b.wait_for("[data-testid='client-c2']")?;
    let title = b.script("return document.title")?;
    if title != "Synod" {
        return Err(Failure(format!("page title is {title}, expected Synod")));
    }
    b.screenshot("load")
}

fn two_clients_set_then_get(b: &mut Browser) -> Result {
    open(b)?;
    b.fill("[data-testid='c1-key']", "k1")?;
    b.fill("[data-testid='c1-value']", "v1")?;
    b.click("[data-testid='c1-set']")?;
    b.wait_for_text("[data-testid='op-c1-1']", "set(k1, v1) → ok")?;
    b.fill("[data-testid='c2-key']", "k1")?;
    b.click("[data-testid='c2-get']")?;
    b.wait_for_text("[data-testid='op-c2-1']", "get(k1) → v1")?;
    b.wait_for_text("[data-testid='table-n1']", "k1")?;
    b.click("[data-testid='c2-contains']")?;
    b.wait_for_text("[data-testid='op-c2-2']", "contains(k1) → true")?;
    b.click("[data-testid='c1-remove']")?;
    b.wait_for_text("[data-testid='op-c1-2']", "remove(k1) → true")?;
    b.screenshot("two_clients_set_then_get")
}
