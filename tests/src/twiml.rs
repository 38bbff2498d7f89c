//! Reading what the platform sends Twilio: TwiML attributes and the stream token's claims.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// The value of `attribute` on the first `<element ...>` in `xml`.
pub fn attribute(xml: &str, element: &str, attribute: &str) -> Option<String> {
    let start = xml.find(&format!("<{element} "))?;
    let tag = &xml[start..start + xml[start..].find('>')?];
    let key = format!("{attribute}=\"");
    let from = tag.find(&key)? + key.len();
    let value = &tag[from..from + tag[from..].find('"')?];
    Some(
        value
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// The value of the `<Parameter name="...">` called `name`.
pub fn parameter(xml: &str, name: &str) -> Option<String> {
    let marker = format!("<Parameter name=\"{name}\" value=\"");
    let from = xml.find(&marker)? + marker.len();
    Some(xml[from..from + xml[from..].find('"')?].to_string())
}

/// Every `<Parameter name=".." value=".."/>`, in order.
pub fn parameters(xml: &str) -> Vec<(String, String)> {
    xml.match_indices("<Parameter ")
        .filter_map(|(i, _)| {
            let tag = &xml[i..i + xml[i..].find('>')? + 1];
            Some((
                attribute(tag, "Parameter", "name")?,
                attribute(tag, "Parameter", "value")?,
            ))
        })
        .collect()
}

/// The (unverified) claims of a JWT, for checking what a token names.
pub fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap_or_default();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap_or_default())
        .unwrap_or(Value::Null)
}
