//! Human or JSON output: every command builds one JSON value and a text rendering of it.

use serde_json::Value;

/// Prints `value` as pretty JSON with `--json`, else `text`.
pub(crate) fn emit(json: bool, value: &Value, text: impl FnOnce() -> String) {
    if json {
        println!("{}", serde_json::to_string_pretty(value).expect("JSON values serialise"));
    } else {
        println!("{}", text());
    }
}

/// Formats a token amount with `decimals` decimals, trimming trailing zeros.
pub(crate) fn units(amount: alloy::primitives::U256, decimals: u8) -> String {
    crypdoc_contracts::format_amount(amount, decimals)
}
