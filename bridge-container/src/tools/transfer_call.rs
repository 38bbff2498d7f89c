//! `transfer_call`: the model hands a phone call to a person (the scenario's transfer number),
//! after telling the caller it is doing so. The bridge redirects the call once the caller has
//! heard that (see the relay); a browser session has no phone line to redirect, so there the
//! tool answers with an error the model can explain.

use serde_json::{Value, json};

use super::{Effect, Tool, ToolContext, ToolFuture, ToolOutput};

/// Given to calls whose scenario names a transfer number.
pub struct TransferCall {
    /// A phone call (the transfer can be made), or a browser session (it cannot).
    pub phone_line: bool,
}

/// What the model is told when the call cannot be transferred.
pub const NOT_ON_A_PHONE_LINE: &str = "This conversation is in a web browser, not on a phone line, so it cannot be transferred to a person. Tell the person so and offer to help in another way.";

impl Tool for TransferCall {
    fn name(&self) -> &'static str {
        "transfer_call"
    }

    fn description(&self) -> &'static str {
        "Transfer the phone call to a human colleague. First tell the caller that you are transferring them now and that they should stay on the line; then call this. Use it when the caller asks for a person or you cannot help them yourself."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {"reason": {"type": "string", "description": "Why the caller needs a person"}},
            "required": []
        })
    }

    fn run(&self, arguments: Value, _context: ToolContext) -> ToolFuture {
        let output = if self.phone_line {
            ToolOutput {
                output: json!({"ok": true, "status": "transferring"}).to_string(),
                effect: Effect::Transfer {
                    reason: reason(&arguments),
                },
                respond: false,
            }
        } else {
            ToolOutput::error(NOT_ON_A_PHONE_LINE)
        };
        Box::pin(async move { output })
    }
}

/// The reason the model gave, trimmed and bounded (it is model text that goes on the record);
/// none when it gave none.
fn reason(arguments: &Value) -> Option<String> {
    let reason = arguments.get("reason")?.as_str()?.trim();
    (!reason.is_empty()).then(|| reason.chars().take(MAX_REASON_CHARS).collect())
}

/// Enough for a sentence or two of why.
const MAX_REASON_CHARS: usize = 300;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reason_is_kept_trimmed_and_bounded() {
        assert_eq!(
            reason(&json!({"reason": "  asked for a person "})).as_deref(),
            Some("asked for a person")
        );
        assert_eq!(reason(&json!({"reason": "   "})), None);
        assert_eq!(reason(&json!({"reason": 7})), None);
        assert_eq!(reason(&json!({})), None);
        let long = reason(&json!({"reason": "é".repeat(1000)})).unwrap();
        assert_eq!(long.chars().count(), MAX_REASON_CHARS);
    }
}
