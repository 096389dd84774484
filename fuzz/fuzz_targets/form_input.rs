//! AFL target `form_input`: see [`flowbot_fuzz::Targets::form_input`].

use std::panic::AssertUnwindSafe;

fn main() {
    let repository = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    // A panic ends the run (AFL records the input); nothing is used after it.
    let targets = AssertUnwindSafe(flowbot_fuzz::Targets::new(repository));
    afl::fuzz!(|data: &[u8]| {
        targets.form_input(data);
    });
}
