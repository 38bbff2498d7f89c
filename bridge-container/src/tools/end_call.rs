//! `end_call`: the model hangs up politely once it has said goodbye.

use serde_json::{Value, json};

use super::{Effect, Tool, ToolContext, ToolFuture, ToolOutput};

/// Lets the model end the call politely after saying goodbye.
pub struct EndCall;

impl Tool for EndCall {
    fn name(&self) -> &'static str {
        "end_call"
    }

    fn description(&self) -> &'static str {
        "End the phone call. Call this only after you have said goodbye, or when the caller asks to end the call."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {"reason": {"type": "string", "description": "Why the call is ending"}},
            "required": []
        })
    }

    fn run(&self, _arguments: Value, _context: ToolContext) -> ToolFuture {
        Box::pin(async {
            ToolOutput {
                output: json!({"ok": true}).to_string(),
                effect: Effect::EndCall,
                respond: false,
            }
        })
    }
}
