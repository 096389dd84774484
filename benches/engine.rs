//! One form-answer step of the pure engine (target: ≤ 50 µs median), on the shipped
//! registration flow, halfway through the form.

use std::path::Path;
use std::sync::Arc;

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use flowbot::base::clock::Clock;
use flowbot::base::diagnostics::Source;
use flowbot::base::directory::parse_static;
use flowbot::base::scripts::Scripts;
use flowbot::domain::engine::{Context, ConversationState, EngineInput, StepOutcome, step};

const START_MS: i64 = 1_777_773_600_000;

fn bench_step(c: &mut Criterion) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("bot-scripts");
    let scripts = Scripts::load(&dir).expect("scripts");
    let path = dir.join("directory.toml");
    let snap = parse_static(&Source::new(
        &path,
        std::fs::read_to_string(&path).expect("read"),
    ))
    .expect("directory");
    let ctx = Context {
        user: snap.person("zhangsan").cloned().expect("user"),
        units: snap.units_of("zhangsan"),
        propaganda: snap.members_of("xcb"),
        directory: Arc::new(snap),
        accounts: Vec::new(),
        case_number: None,
        command: None,
    };
    let now = Clock::new(scripts.time_zone).at(START_MS);
    let mut state = ConversationState::default();
    for text in [
        "备案",
        "2026-04-28",
        "2",
        "团委青年之声",
        "gh_123",
        "https://x.cn/a",
        "是",
    ] {
        let input = EngineInput::Text(text.to_owned());
        if let StepOutcome::Next { state: s, .. } = step(&scripts, &state, &input, &ctx, now) {
            state = s;
        }
    }
    let size = serde_json::to_string(&state).map(|s| s.len()).unwrap_or(0);
    eprintln!("state halfway: {size} bytes");
    let text_answer = EngineInput::Text("单位介绍信、营业执照复印件".to_owned());
    c.bench_function("step: text answer (halfway, conditional fields)", |b| {
        b.iter(|| {
            step(
                black_box(&scripts),
                black_box(&state),
                black_box(&text_answer),
                &ctx,
                now,
            )
        })
    });
    let invalid = EngineInput::Text(String::new());
    c.bench_function("step: invalid answer re-prompt", |b| {
        b.iter(|| {
            step(
                black_box(&scripts),
                black_box(&state),
                black_box(&invalid),
                &ctx,
                now,
            )
        })
    });
}

criterion_group!(benches, bench_step);
criterion_main!(benches);
