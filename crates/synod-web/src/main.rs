//! The wasm entry point: mounts the playground into the page.

fn main() {
    #[cfg(target_arch = "wasm32")]
    yew::Renderer::<synod_web::app::App>::new().render();
}
