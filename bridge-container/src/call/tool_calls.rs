//! The model's function calls during a call. OpenAI sends a call's arguments before it knows
//! whether the response will complete: a barge-in cancels the response, and its calls must
//! not run (the caller never heard the model decide to, say, hang up). So arguments wait
//! here until their item completed (`response.output_item.done` with status `completed`, or
//! a completed `response.done`), and each `call_id` runs at most once, since both events
//! name the same call.
//!
//! Tools run in tasks, from the call's own registry, within `Settings::tool_timeout`: a tool
//! that takes longer is dropped and the model is told it did not finish, so it can say so
//! instead of leaving the caller in silence. Outputs come back to the loop through a channel.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde_json::json;
use tokio::task::JoinSet;

use shared::store::calls::BridgeSummary;

use super::session::OpenAi;
use crate::realtime::{self, OutputItem, Response, ServerEvent};
use crate::tools::{Effect, Registry, ToolContext, ToolOutput};

/// A tool's result, keyed by the function call it answers.
type ToolResult = (String, ToolOutput);

/// The function calls of one call, and the call's tools they run from.
pub(super) struct ToolCalls {
    tools: Registry,
    context: ToolContext,
    timeout: Duration,
    /// Name and arguments by `call_id`, until the item completes or its response ends.
    pending: HashMap<String, (String, String)>,
    /// `call_id`s already run: the item's `done` and its response's `done` both name them.
    ran: HashSet<String>,
    /// Tools running, each in its own task. Empty (and unallocated) for most of a call, and
    /// then cheap to poll: the loop polls it after every event.
    running: JoinSet<ToolResult>,
}

impl ToolCalls {
    pub(super) fn new(tools: Registry, context: ToolContext, timeout: Duration) -> Self {
        ToolCalls {
            tools,
            context,
            timeout,
            pending: HashMap::new(),
            ran: HashSet::new(),
            running: JoinSet::new(),
        }
    }

    /// The events that move a call's responses and function calls on, handled alike for
    /// phone and browser calls: responses and their token usage are counted in `summary`,
    /// `active` says whether one is in progress, and function calls wait here to run. Any other
    /// event is given back.
    pub(super) fn on_response_event(
        &mut self,
        event: ServerEvent,
        active: &mut bool,
        summary: &mut BridgeSummary,
    ) -> Option<ServerEvent> {
        match event {
            ServerEvent::ResponseCreated => {
                *active = true;
                summary.responses += 1;
            }
            ServerEvent::FunctionCallArgumentsDone {
                call_id,
                name,
                arguments,
            } => self.on_arguments(call_id, name, arguments),
            ServerEvent::OutputItemDone { item } => self.on_item_done(item),
            ServerEvent::ResponseDone { response } => {
                *active = false;
                if let Some(usage) = &response.usage {
                    usage.add_to(summary);
                }
                self.on_response_done(&response);
            }
            other => return Some(other),
        }
        None
    }

    /// `response.function_call_arguments.done`.
    pub(super) fn on_arguments(&mut self, call_id: String, name: String, arguments: String) {
        // Also sent for interrupted responses: run only once the item completed.
        if !self.ran.contains(&call_id) {
            self.pending.insert(call_id, (name, arguments));
        }
    }

    /// `response.output_item.done`.
    pub(super) fn on_item_done(&mut self, item: OutputItem) {
        if item.kind == "function_call"
            && item.status.as_deref() == Some("completed")
            && let Some(call_id) = item.call_id
        {
            self.run_tool(&call_id);
        }
    }

    /// `response.done`: the response's completed calls run; the rest are forgotten.
    pub(super) fn on_response_done(&mut self, response: &Response) {
        if response.status.as_deref() == Some("completed") {
            for item in &response.output {
                if item.kind == "function_call"
                    && let Some(call_id) = &item.call_id
                {
                    self.run_tool(call_id);
                }
            }
        }
        // Calls of a cancelled or failed response never run.
        self.pending.clear();
    }

    /// The next finished tool; `None` at once when none is running.
    pub(super) async fn next_output(&mut self) -> Option<ToolResult> {
        loop {
            match self.running.join_next().await? {
                Ok(result) => return Some(result),
                // Only a panic (tasks are never aborted), which ends the process in release
                // builds (`panic = "abort"`).
                Err(e) => {
                    tracing::error!(call_id = %self.context.call_id, error = %e, "tool task failed")
                }
            }
        }
    }

    /// Runs a completed function call once per `call_id`, off the loop.
    fn run_tool(&mut self, call_id: &str) {
        let Some((name, arguments)) = self.pending.remove(call_id) else {
            return;
        };
        if !self.ran.insert(call_id.to_string()) {
            return;
        }
        let future = self.tools.run(&name, &arguments, self.context.clone());
        let timeout = self.timeout;
        let function_call_id = call_id.to_string();
        // Logged as `call_id` like every line of the call: ours, not OpenAI's function call.
        let our_call_id = self.context.call_id.clone();
        tracing::info!(call_id = %our_call_id, tool = %name, "running tool");
        self.running.spawn(async move {
            let output = match tokio::time::timeout(timeout, future).await {
                Ok(output) => output,
                Err(_) => {
                    tracing::warn!(call_id = %our_call_id, tool = %name, "tool did not finish in time");
                    let error = format!(
                        "{name} did not finish in time; tell the caller you could not complete it"
                    );
                    ToolOutput {
                        output: json!({ "error": error }).to_string(),
                        effect: Effect::None,
                        respond: true,
                    }
                }
            };
            (function_call_id, output)
        });
    }
}

impl Drop for ToolCalls {
    /// A tool still running when the call ends finishes on its own: a calendar booking cut
    /// off halfway might have been made without the caller hearing of it, or half made.
    fn drop(&mut self) {
        self.running.detach_all();
    }
}

/// Gives a tool's output to the model (asking for a response when the tool wants one) and
/// returns what the tool asks of the call.
pub(super) fn on_tool_output(
    call_id: &str,
    output: ToolOutput,
    openai: Option<&mut OpenAi>,
) -> Effect {
    if let Some(o) = openai {
        o.send(realtime::function_call_output(call_id, &output.output));
        if output.respond {
            o.send(realtime::response_create(None));
        }
    }
    output.effect
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

    use serde_json::Value;

    use super::*;
    use crate::tools::{Tool, ToolFuture};

    /// Takes `delay`, then answers; counts its runs.
    struct Slow {
        delay: Duration,
        runs: Arc<AtomicUsize>,
    }

    impl Tool for Slow {
        fn name(&self) -> &'static str {
            "check_calendar"
        }

        fn description(&self) -> &'static str {
            "A tool for tests."
        }

        fn parameters(&self) -> Value {
            json!({"type": "object", "properties": {}})
        }

        fn run(&self, _arguments: Value, _context: ToolContext) -> ToolFuture {
            self.runs.fetch_add(1, SeqCst);
            let delay = self.delay;
            Box::pin(async move {
                tokio::time::sleep(delay).await;
                ToolOutput {
                    output: json!({"ok": true}).to_string(),
                    effect: Effect::None,
                    respond: false,
                }
            })
        }
    }

    fn tool_calls(delay: Duration, timeout: Duration) -> (ToolCalls, Arc<AtomicUsize>) {
        let runs = Arc::new(AtomicUsize::new(0));
        let mut tools = Registry::default();
        tools.register(Arc::new(Slow {
            delay,
            runs: runs.clone(),
        }));
        let context = ToolContext {
            tenant_id: "t".into(),
            call_id: "c".into(),
        };
        (ToolCalls::new(tools, context, timeout), runs)
    }

    fn item(call_id: &str, status: &str) -> OutputItem {
        OutputItem {
            kind: "function_call".into(),
            status: Some(status.into()),
            call_id: Some(call_id.into()),
        }
    }

    async fn next(calls: &mut ToolCalls) -> Option<ToolResult> {
        tokio::time::timeout(Duration::from_secs(5), calls.next_output())
            .await
            .ok()
            .flatten()
    }

    #[tokio::test]
    async fn a_tool_past_its_time_budget_gets_an_error_the_model_answers() {
        let (mut calls, _) = tool_calls(Duration::from_secs(60), Duration::from_millis(50));
        calls.on_arguments("call_1".into(), "check_calendar".into(), "{}".into());
        calls.on_item_done(item("call_1", "completed"));
        let (call_id, output) = next(&mut calls).await.expect("an output, not silence");
        assert_eq!(call_id, "call_1");
        assert_eq!(
            output.output,
            r#"{"error":"check_calendar did not finish in time; tell the caller you could not complete it"}"#
        );
        assert!(output.respond);
        assert_eq!(output.effect, Effect::None);
    }

    #[tokio::test]
    async fn a_call_runs_once_and_only_after_its_item_completed() {
        let (mut calls, runs) = tool_calls(Duration::ZERO, Duration::from_secs(5));
        // Arguments alone, or an incomplete item, run nothing; a cancelled response drops them.
        calls.on_arguments("call_1".into(), "check_calendar".into(), "{}".into());
        calls.on_item_done(item("call_1", "incomplete"));
        let cancelled = Response {
            status: Some("cancelled".into()),
            usage: None,
            output: vec![item("call_1", "incomplete")],
        };
        calls.on_response_done(&cancelled);
        calls.on_item_done(item("call_1", "completed"));
        assert_eq!(runs.load(SeqCst), 0);

        // Completed twice (the item, then its response): one run, one output.
        calls.on_arguments("call_2".into(), "check_calendar".into(), "{}".into());
        calls.on_item_done(item("call_2", "completed"));
        let completed = Response {
            status: Some("completed".into()),
            usage: None,
            output: vec![item("call_2", "completed")],
        };
        calls.on_response_done(&completed);
        calls.on_arguments("call_2".into(), "check_calendar".into(), "{}".into());
        calls.on_item_done(item("call_2", "completed"));
        let (call_id, output) = next(&mut calls).await.expect("output");
        assert_eq!(
            (call_id.as_str(), output.output.as_str()),
            ("call_2", r#"{"ok":true}"#)
        );
        assert_eq!(runs.load(SeqCst), 1);
    }
}
