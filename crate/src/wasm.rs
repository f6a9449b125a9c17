//! The page's surface: what `web/src/worker.ts` calls through wasm-bindgen.
//!
//! Kept small and typed: plain numbers and strings in, `serde-wasm-bindgen` structs out, and every
//! failure a `JsError` whose message the page shows as it is (the library's errors already name the
//! problem). Only compiled for `wasm32`.

use wasm_bindgen::prelude::*;

/// Installs the panic hook so a Rust panic reaches the console with its message (the e2e tests fail
/// on any console error, so a panic can never pass silently).
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// The crate version, shown in the page footer so a screenshot says which build it is.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
