//! Function tools the model may call during a call. The relay knows nothing about any tool:
//! it looks the name up in the call's [`Registry`], runs it once per `call_id` after the call
//! item completed, within a time budget, and returns the output. Each call gets its own
//! registry at admission ([`Registry::standard`] today), so a scenario can be given more tools
//! (the calendar's, see [`calendar`]) without every call offering them.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::{Value, json};

pub mod calendar;
mod end_call;
mod transfer_call;

pub use end_call::EndCall;
pub use transfer_call::{NOT_ON_A_PHONE_LINE, TransferCall};

/// What a tool asks of the call besides returning its output.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Effect {
    #[default]
    None,
    /// Hang up once the caller has heard everything already said.
    EndCall,
    /// Hand the call to the scenario's transfer number once the caller has heard everything
    /// already said; the model's reason goes on the record.
    Transfer { reason: Option<String> },
}

pub struct ToolOutput {
    /// Sent back as the `function_call_output` (a JSON string).
    pub output: String,
    pub effect: Effect,
    /// Whether the model should speak again after the output (not after hanging up).
    pub respond: bool,
}

impl ToolOutput {
    /// An answer the model should speak about.
    pub fn reply(output: Value) -> Self {
        ToolOutput {
            output: output.to_string(),
            effect: Effect::None,
            respond: true,
        }
    }

    /// An error the model can recover from (tell the caller, try otherwise).
    pub fn error(message: impl std::fmt::Display) -> Self {
        Self::reply(json!({ "error": message.to_string() }))
    }
}

/// Per-call facts a tool may use.
#[derive(Debug, Clone)]
pub struct ToolContext {
    pub tenant_id: String,
    pub call_id: String,
}

pub type ToolFuture = Pin<Box<dyn Future<Output = ToolOutput> + Send>>;

pub trait Tool: Send + Sync {
    fn name(&self) -> &'static str;
    fn description(&self) -> &'static str;
    /// JSON Schema of the arguments.
    fn parameters(&self) -> Value;
    fn run(&self, arguments: Value, context: ToolContext) -> ToolFuture;
}

/// Tools by name. Cloned for every call, which is cheap: the tools themselves are shared.
#[derive(Clone, Default)]
pub struct Registry {
    tools: HashMap<&'static str, Arc<dyn Tool>>,
}

impl Registry {
    /// The tools every call gets.
    pub fn standard() -> Self {
        let mut registry = Registry::default();
        registry.register(Arc::new(EndCall));
        registry
    }

    pub fn register(&mut self, tool: Arc<dyn Tool>) {
        self.tools.insert(tool.name(), tool);
    }

    /// The `tools` of `session.update`.
    pub fn definitions(&self) -> Value {
        let mut names: Vec<&&'static str> = self.tools.keys().collect();
        names.sort();
        Value::Array(
            names
                .into_iter()
                .map(|name| {
                    let tool = &self.tools[*name];
                    json!({
                        "type": "function",
                        "name": tool.name(),
                        "description": tool.description(),
                        "parameters": tool.parameters()
                    })
                })
                .collect(),
        )
    }

    /// Runs `name`; an unknown tool or bad arguments give the model an error output to
    /// recover from rather than failing the call.
    pub fn run(&self, name: &str, arguments: &str, context: ToolContext) -> ToolFuture {
        let Some(tool) = self.tools.get(name).cloned() else {
            let output = ToolOutput::error(format!("unknown tool {name}"));
            return Box::pin(async move { output });
        };
        match serde_json::from_str::<Value>(if arguments.trim().is_empty() {
            "{}"
        } else {
            arguments
        }) {
            Ok(args) => tool.run(args, context),
            Err(_) => Box::pin(async { ToolOutput::error("arguments are not valid JSON") }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> ToolContext {
        ToolContext {
            tenant_id: "t".into(),
            call_id: "c".into(),
        }
    }

    #[tokio::test]
    async fn end_call_is_registered_and_ends_the_call() {
        let registry = Registry::standard();
        assert_eq!(registry.definitions()[0]["name"], "end_call");
        let out = registry.run("end_call", "{}", context()).await;
        assert_eq!(out.effect, Effect::EndCall);
        assert!(!out.respond);
        let unknown = registry.run("book_flight", "{}", context()).await;
        assert!(unknown.output.contains("unknown tool"));
        assert!(unknown.respond);
    }
}
