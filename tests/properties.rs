//! Property tests (proptest) of the two parsers of untrusted input: scenario
//! files (hand-written, copied between projects) and the recorder's log (written
//! by code running inside hostile pages). Neither may panic or hang, and every
//! rejection of a scenario file names a position. `examples/fuzz.rs` runs the
//! same properties for as long as one likes.

pub mod fuzzing;

use insider_audit::capture::Event;
use insider_audit::jsvalue::JsValue;
use proptest::prelude::*;
use std::path::Path;

/// A scenario file either parses or is refused with `file:line:column` and a message.
pub fn scenario_file_is_parsed_or_refused_with_a_position(text: &str) {
    let env = |name: &str| (name == "PW").then(|| "pw-value".to_string());
    match insider_audit::scenario::parse(Path::new("fuzz.json"), text, &env) {
        Ok(plan) => assert!(!plan.scenarios.is_empty()),
        Err(e) => {
            assert!(e.line >= 1 && e.column >= 1, "no position: {e}");
            assert!(
                !e.message.trim().is_empty(),
                "no message at {}:{}",
                e.line,
                e.column
            );
        }
    }
}

/// Whatever the recorder sends, decoding gives a value or an error, no panic.
pub fn recorder_log_decodes_or_errs(value: &serde_json::Value) {
    let _ = serde_json::from_value::<JsValue>(value.clone()).map(|v| v.to_json());
    let _ = serde_json::from_value::<Vec<Event>>(value.clone());
    let _ = serde_json::from_value::<Event>(value.clone());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn scenario_text_near_a_valid_file(text in fuzzing::scenario_text()) {
        scenario_file_is_parsed_or_refused_with_a_position(&text);
    }

    #[test]
    fn scenario_json_of_any_shape(value in fuzzing::json_value()) {
        scenario_file_is_parsed_or_refused_with_a_position(&value.to_string());
    }

    #[test]
    fn recorder_values_of_any_shape(value in fuzzing::json_value()) {
        recorder_log_decodes_or_errs(&value);
    }
}
