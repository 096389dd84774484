//! AFL target `callback`: see [`flowbot_fuzz::Targets::callback`].

use std::panic::AssertUnwindSafe;

fn main() {
    let repository = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    // A panic ends the run (AFL records the input); nothing is used after it.
    let targets = AssertUnwindSafe(flowbot_fuzz::Targets::new(repository));
    afl::fuzz!(|data: &[u8]| {
        targets.callback(data);
    });
}
