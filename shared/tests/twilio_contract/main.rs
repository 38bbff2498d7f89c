//! Contract tests: every request the Twilio clients build is checked against Twilio's published
//! OpenAPI 3.0.1 documents (`specs/twilio_api_v2010.json` for the REST API,
//! `specs/twilio_intelligence_v2.json` for Voice Intelligence, vendored in this repository), without a
//! network.
//!
//! A hand-written fake of Twilio would share the client's misunderstandings of the wire format;
//! the published spec does not. The small validator below checks what the spec can tell us:
//!
//! 1. the path matches one of the spec's path templates (`{X}` = one non-empty segment);
//! 2. the template declares an operation for the HTTP method;
//! 3. query parameters are declared `in: query`, and their values satisfy the schema
//!    (`enum`, `integer`, `boolean`);
//! 4. form parameters are properties of the `application/x-www-form-urlencoded` request body,
//!    repeated only when the property is an `array`, values satisfy the schema, and every
//!    `required` property is present;
//! 5. path parameters (`{AccountSid}`, `{Sid}`, ...) satisfy their declared `pattern`.
//!
//! The negative tests prove the validator actually catches the mistakes it is meant to catch,
//! so a green run means something. The spec is the authority: when a builder disagrees with it,
//! the client is what gets fixed.

mod api_v2010;
mod intelligence_v2;
mod validator;
