//! Same seed, same trace, in the browser too: the trace hashes computed in wasm must equal
//! the native ones. `cargo xtask test` computes the native fingerprint, then builds this test
//! for `wasm32-unknown-unknown` with it in `SYNOD_NATIVE_HASHES` and runs it in Node.js
//! through `wasm-bindgen-test-runner`.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
fn wasm_trace_hashes_equal_native_ones() {
    let native = option_env!("SYNOD_NATIVE_HASHES")
        .expect("run through `cargo xtask test`, which computes the native hashes first");
    let wasm = synod_sim::fuzz::determinism_fingerprint();
    assert_eq!(wasm, native, "wasm and native traces diverge");
}
