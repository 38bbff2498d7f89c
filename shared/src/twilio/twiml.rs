//! TwiML documents. Every value is XML-escaped; the stream URL carries no query string (Twilio
//! refuses one) and per-call data travels in `<Parameter>` elements.

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

/// Connects the call to the media bridge: when `record_callback` is given, a dual-channel
/// `<Start><Recording>` (for calls not already recorded through the REST API); an optional
/// spoken notice (the recording notice) before the agent can speak; then a bidirectional
/// `<Connect><Stream>`, and `<Hangup/>` once the bridge closes the stream.
pub fn connect_stream(
    record_callback: Option<&str>,
    notice: Option<&str>,
    stream_url: &str,
    parameters: &[(&str, &str)],
) -> String {
    let mut xml = String::from(r#"<?xml version="1.0" encoding="UTF-8"?><Response>"#);
    if let Some(url) = record_callback {
        xml.push_str(&format!(
            r#"<Start><Recording channels="dual" recordingStatusCallback="{}" recordingStatusCallbackMethod="POST" recordingStatusCallbackEvent="completed"/></Start>"#,
            escape(url)
        ));
    }
    if let Some(text) = notice.filter(|t| !t.trim().is_empty()) {
        xml.push_str(&format!("<Say>{}</Say>", escape(text)));
    }
    xml.push_str(&format!(
        r#"<Connect><Stream url="{}">"#,
        escape(stream_url)
    ));
    for (name, value) in parameters {
        xml.push_str(&format!(
            r#"<Parameter name="{}" value="{}"/>"#,
            escape(name),
            escape(value)
        ));
    }
    xml.push_str("</Stream></Connect><Hangup/></Response>");
    xml
}

/// A polite message and a hang-up (unknown numbers, refused calls).
pub fn say_and_hangup(text: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Response><Say>{}</Say><Hangup/></Response>"#,
        escape(text)
    )
}

/// A transfer: dials `number` with the platform's `caller_id`, for `timeout_secs` at most,
/// and posts the outcome (`DialCallStatus`) to `action`, whose answer ends the call.
pub fn dial(number: &str, caller_id: &str, timeout_secs: u32, action: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Response><Dial callerId="{}" timeout="{timeout_secs}" action="{}" method="POST"><Number>{}</Number></Dial></Response>"#,
        escape(caller_id),
        escape(action),
        escape(number)
    )
}

/// Ends the call without a word (a transfer that connected, and is over).
pub fn hangup() -> String {
    r#"<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>"#.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_orders_verbs() {
        let xml = connect_stream(
            None,
            Some("Calls are recorded & reviewed"),
            "wss://bridge.example/twilio",
            &[("token", "a\"b<c")],
        );
        assert!(xml.contains("<Say>Calls are recorded &amp; reviewed</Say><Connect>"));
        assert!(xml.contains(r#"<Parameter name="token" value="a&quot;b&lt;c"/>"#));
        assert!(xml.ends_with("</Stream></Connect><Hangup/></Response>"));
        assert!(!connect_stream(None, None, "wss://x", &[]).contains("<Say>"));
        let recorded = connect_stream(
            Some("https://api/rec?a=1&b=2"),
            Some("Recorded."),
            "wss://x",
            &[],
        );
        assert!(recorded.contains(r#"<Start><Recording channels="dual" recordingStatusCallback="https://api/rec?a=1&amp;b=2""#));
        assert!(recorded.find("<Start>") < recorded.find("<Say>"));
    }
}
