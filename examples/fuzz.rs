//! The long-running fuzz target (stable toolchain): the properties of
//! `tests/properties.rs`, driven by proptest for as many cases as asked.
//!
//! `cargo run --release --example fuzz -- [CASES]` (default 100000). Prints the
//! cases run and the time taken; a failing case is shrunk and printed.

#[path = "../tests/properties.rs"]
#[allow(dead_code)]
mod properties;

use properties::fuzzing;

use proptest::test_runner::{Config, TestRunner};

fn main() {
    let cases: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let started = std::time::Instant::now();
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let mut failed = false;
    let mut report = |name: &str, result: Result<(), String>| match result {
        Ok(()) => println!("{name}: {cases} cases, no failure"),
        Err(e) => {
            failed = true;
            println!("{name}: FAILED: {e}");
        }
    };
    let r = runner.run(&fuzzing::scenario_text(), |text| {
        properties::scenario_file_is_parsed_or_refused_with_a_position(&text);
        Ok(())
    });
    report("scenario text", r.map_err(|e| e.to_string()));
    let r = runner.run(&fuzzing::json_value(), |value| {
        properties::scenario_file_is_parsed_or_refused_with_a_position(&value.to_string());
        properties::recorder_log_decodes_or_errs(&value);
        Ok(())
    });
    report("scenario and recorder JSON", r.map_err(|e| e.to_string()));
    println!("{:.1} s", started.elapsed().as_secs_f64());
    if failed {
        std::process::exit(1);
    }
}
