//! `synod check`: being written (issue 3).

pub fn main(_args: Vec<String>) -> u8 {
    eprintln!("synod check: not built yet");
    2
}
