//! HTTP glue shared by every function: extractors, response layers, and the finishing touches
//! every router gets (security headers, CORS, request logging, problem+json fallbacks).

pub mod extract;
pub mod layers;
pub mod outbound;
pub mod query;
pub mod twilio_form;

pub use extract::{AuthUser, ClientIp, JsonBody, JsonOrForm};
pub use layers::finish;
pub use twilio_form::TwilioForm;
