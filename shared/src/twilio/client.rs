//! A small Twilio REST (2010-04-01) client: form-encoded PascalCase requests, HTTP Basic auth,
//! JSON responses, base URL from configuration (the simulator in tests, api.twilio.com in
//! production).
//!
//! Every operation is split into a pure `*_request` builder and [`Client::send`], so the
//! contract tests can check each request against Twilio's published OpenAPI spec without a
//! network. Sending, timeouts and retries are the [`Transport`]'s.

use std::time::Duration;

use reqwest::Method;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::transport::Transport;
pub use super::transport::{Request, TwilioError};

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Capabilities {
    #[serde(default)]
    pub voice: bool,
    #[serde(default, rename = "SMS", alias = "sms")]
    pub sms: bool,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct AvailableNumber {
    pub phone_number: String,
    pub friendly_name: Option<String>,
    pub locality: Option<String>,
    pub region: Option<String>,
    pub iso_country: Option<String>,
    pub capabilities: Option<Capabilities>,
}

#[derive(Deserialize)]
struct AvailableNumbers {
    available_phone_numbers: Vec<AvailableNumber>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct IncomingNumber {
    pub sid: String,
    pub phone_number: String,
    pub friendly_name: Option<String>,
    pub capabilities: Option<Capabilities>,
}

#[derive(Deserialize)]
struct IncomingNumbers {
    incoming_phone_numbers: Vec<IncomingNumber>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Account {
    pub sid: String,
    pub status: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Balance {
    pub balance: String,
    pub currency: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Call {
    pub sid: String,
    pub status: Option<String>,
}

/// What `Calls.json` is asked to do for one outbound call.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCall {
    pub to: String,
    pub from: String,
    pub twiml: String,
    pub status_callback: String,
    pub recording_status_callback: Option<String>,
    /// Where Twilio posts who answered (`AnsweredBy`), when answering-machine detection is on:
    /// asynchronous (the stream starts at once) and waiting for a machine's message to end, so
    /// the verdict on a machine comes at its beep.
    pub amd_status_callback: Option<String>,
    /// Hard cap on the call's length in seconds (a cost ceiling).
    pub time_limit: u32,
    /// Ring time in seconds.
    pub timeout: u32,
}

/// The REST API (2010-04-01) of one account.
#[derive(Clone, Debug)]
pub struct Client {
    transport: Transport,
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

impl Client {
    /// `timeout` bounds each HTTP attempt (see [`Transport::worst_case`]).
    pub fn new(base_url: &str, account_sid: &str, auth_token: &str, timeout: Duration) -> Self {
        Self {
            transport: Transport::new(base_url, account_sid, auth_token, timeout),
        }
    }

    /// The account's credentials and connection pool, for Twilio's other APIs.
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    pub fn account_sid(&self) -> &str {
        self.transport.account_sid()
    }

    fn account_path(&self, rest: &str) -> String {
        format!("/2010-04-01/Accounts/{}{rest}", self.account_sid())
    }

    pub fn search_local_request(
        &self,
        country: &str,
        area_code: Option<u16>,
        contains: Option<&str>,
        limit: u32,
    ) -> Request {
        let mut query = pairs(&[("VoiceEnabled", "true"), ("PageSize", &limit.to_string())]);
        if let Some(code) = area_code {
            query.push(("AreaCode".into(), code.to_string()));
        }
        if let Some(pattern) = contains {
            query.push(("Contains".into(), pattern.to_string()));
        }
        Request {
            method: Method::GET,
            path: self.account_path(&format!("/AvailablePhoneNumbers/{country}/Local.json")),
            query,
            form: Vec::new(),
            idempotent: true,
        }
    }

    pub fn buy_number_request(
        &self,
        phone_number: &str,
        voice_url: &str,
        status_callback: &str,
        friendly_name: &str,
    ) -> Request {
        Request {
            method: Method::POST,
            path: self.account_path("/IncomingPhoneNumbers.json"),
            query: Vec::new(),
            form: pairs(&[
                ("PhoneNumber", phone_number),
                ("VoiceUrl", voice_url),
                ("VoiceMethod", "POST"),
                ("StatusCallback", status_callback),
                ("StatusCallbackMethod", "POST"),
                ("FriendlyName", friendly_name),
            ]),
            // Buying twice would buy... nothing (the number is gone), but it is not safe to
            // assume: no blind retries.
            idempotent: false,
        }
    }

    /// The account's number `phone_number`, if it owns it (how an interrupted purchase is
    /// reconciled).
    pub fn find_number_request(&self, phone_number: &str) -> Request {
        Request {
            method: Method::GET,
            path: self.account_path("/IncomingPhoneNumbers.json"),
            query: pairs(&[("PhoneNumber", phone_number), ("PageSize", "20")]),
            form: Vec::new(),
            idempotent: true,
        }
    }

    pub fn release_number_request(&self, number_sid: &str) -> Request {
        Request {
            method: Method::DELETE,
            path: self.account_path(&format!("/IncomingPhoneNumbers/{number_sid}.json")),
            query: Vec::new(),
            form: Vec::new(),
            idempotent: true,
        }
    }

    pub fn account_request(&self) -> Request {
        Request {
            method: Method::GET,
            path: self.account_path(".json"),
            query: Vec::new(),
            form: Vec::new(),
            idempotent: true,
        }
    }

    pub fn balance_request(&self) -> Request {
        Request {
            method: Method::GET,
            path: self.account_path("/Balance.json"),
            query: Vec::new(),
            form: Vec::new(),
            idempotent: true,
        }
    }

    pub fn create_call_request(&self, call: &NewCall) -> Request {
        let mut form = pairs(&[
            ("To", &call.to),
            ("From", &call.from),
            ("Twiml", &call.twiml),
            ("StatusCallback", &call.status_callback),
            ("StatusCallbackMethod", "POST"),
            ("TimeLimit", &call.time_limit.to_string()),
            ("Timeout", &call.timeout.to_string()),
        ]);
        // Repeated key, one value each: Twilio's form convention for arrays.
        for event in ["initiated", "ringing", "answered", "completed"] {
            form.push(("StatusCallbackEvent".into(), event.into()));
        }
        if let Some(url) = &call.amd_status_callback {
            form.extend(pairs(&[
                ("MachineDetection", "DetectMessageEnd"),
                ("AsyncAmd", "true"),
                ("AsyncAmdStatusCallback", url),
                ("AsyncAmdStatusCallbackMethod", "POST"),
            ]));
        }
        if let Some(url) = &call.recording_status_callback {
            form.extend(pairs(&[
                ("Record", "true"),
                ("RecordingChannels", "dual"),
                ("RecordingStatusCallback", url),
                ("RecordingStatusCallbackMethod", "POST"),
                ("RecordingStatusCallbackEvent", "completed"),
            ]));
        }
        Request {
            method: Method::POST,
            path: self.account_path("/Calls.json"),
            query: Vec::new(),
            form,
            idempotent: false,
        }
    }

    /// Ends a call: `completed` hangs up a live call, `canceled` stops one still ringing.
    pub fn update_call_status_request(&self, call_sid: &str, status: &str) -> Request {
        Request {
            method: Method::POST,
            path: self.account_path(&format!("/Calls/{call_sid}.json")),
            query: Vec::new(),
            form: pairs(&[("Status", status)]),
            // Setting the same terminal status twice has the same effect as once.
            idempotent: true,
        }
    }

    /// Gives a live call new TwiML (a transfer's `<Dial>`): Twilio ends the call's Media
    /// Stream and runs the new document at once.
    pub fn redirect_call_request(&self, call_sid: &str, twiml: &str) -> Request {
        Request {
            method: Method::POST,
            path: self.account_path(&format!("/Calls/{call_sid}.json")),
            query: Vec::new(),
            form: pairs(&[("Twiml", twiml)]),
            // Sent twice, it would start the document (and dial the person) twice.
            idempotent: false,
        }
    }

    pub async fn search_local(
        &self,
        country: &str,
        area_code: Option<u16>,
        contains: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AvailableNumber>, TwilioError> {
        let found: AvailableNumbers = self
            .send(&self.search_local_request(country, area_code, contains, limit))
            .await?;
        Ok(found.available_phone_numbers)
    }

    pub async fn buy_number(
        &self,
        phone_number: &str,
        voice_url: &str,
        status_callback: &str,
        friendly_name: &str,
    ) -> Result<IncomingNumber, TwilioError> {
        self.send(&self.buy_number_request(phone_number, voice_url, status_callback, friendly_name))
            .await
    }

    /// The number if the account owns it (exact match on the E.164 number).
    pub async fn find_number(
        &self,
        phone_number: &str,
    ) -> Result<Option<IncomingNumber>, TwilioError> {
        let page: IncomingNumbers = self.send(&self.find_number_request(phone_number)).await?;
        Ok(page
            .incoming_phone_numbers
            .into_iter()
            .find(|n| n.phone_number == phone_number))
    }

    /// Releases a number; one Twilio no longer knows counts as released.
    pub async fn release_number(&self, number_sid: &str) -> Result<(), TwilioError> {
        match self
            .transport
            .send_raw(&self.release_number_request(number_sid))
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.status == 404 => Ok(()),
            Err(e) => Err(e),
        }
    }

    pub async fn account(&self) -> Result<Account, TwilioError> {
        self.send(&self.account_request()).await
    }

    pub async fn balance(&self) -> Result<Balance, TwilioError> {
        self.send(&self.balance_request()).await
    }

    pub async fn create_call(&self, call: &NewCall) -> Result<Call, TwilioError> {
        self.send(&self.create_call_request(call)).await
    }

    pub async fn update_call_status(
        &self,
        call_sid: &str,
        status: &str,
    ) -> Result<Call, TwilioError> {
        self.send(&self.update_call_status_request(call_sid, status))
            .await
    }

    pub async fn redirect_call(&self, call_sid: &str, twiml: &str) -> Result<Call, TwilioError> {
        self.send(&self.redirect_call_request(call_sid, twiml))
            .await
    }

    /// Sends `request` and decodes the JSON answer.
    pub async fn send<T: DeserializeOwned>(&self, request: &Request) -> Result<T, TwilioError> {
        self.transport.send(request).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::http::StatusCode;
    use axum::response::IntoResponse;

    use super::*;

    /// A Twilio stand-in that fails the first `failures` requests with `status`, then answers.
    async fn flaky(status: StatusCode, failures: usize) -> (Client, Arc<AtomicUsize>) {
        let seen = Arc::new(AtomicUsize::new(0));
        let counter = seen.clone();
        let app = axum::Router::new().fallback(move || {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < failures {
                    let body = r#"{"code":20500,"message":"Internal error","more_info":"https://www.twilio.com/docs/errors/20500","status":500}"#;
                    (status, body).into_response()
                } else {
                    (StatusCode::OK, r#"{"sid":"CA1","status":"queued","account_sid":"AC1","balance":"1.00","currency":"USD"}"#).into_response()
                }
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (
            Client::new(&url, "AC1", "token", Duration::from_secs(5)),
            seen,
        )
    }

    fn call() -> NewCall {
        NewCall {
            to: "+14155550100".into(),
            from: "+14155550000".into(),
            twiml: "<Response/>".into(),
            status_callback: "https://api.example.com/twilio/call-status".into(),
            recording_status_callback: None,
            amd_status_callback: None,
            time_limit: 60,
            timeout: 30,
        }
    }

    #[tokio::test]
    async fn idempotent_requests_are_retried_on_5xx_and_429() {
        let (client, seen) = flaky(StatusCode::SERVICE_UNAVAILABLE, 2).await;
        assert_eq!(client.balance().await.unwrap().balance, "1.00");
        assert_eq!(seen.load(Ordering::SeqCst), 3);
        let (client, seen) = flaky(StatusCode::TOO_MANY_REQUESTS, 1).await;
        assert!(client.update_call_status("CA1", "completed").await.is_ok());
        assert_eq!(seen.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_call_is_never_placed_twice_and_errors_keep_twilios_code() {
        let (client, seen) = flaky(StatusCode::SERVICE_UNAVAILABLE, 1).await;
        let err = client.create_call(&call()).await.unwrap_err();
        assert_eq!(
            seen.load(Ordering::SeqCst),
            1,
            "no retry of a non-idempotent request"
        );
        assert_eq!((err.status, err.code), (503, Some(20500)));
        assert_eq!(err.message, "Internal error");
    }

    #[tokio::test]
    async fn client_errors_are_not_retried() {
        let (client, seen) = flaky(StatusCode::BAD_REQUEST, 5).await;
        let err = client.balance().await.unwrap_err();
        assert_eq!(seen.load(Ordering::SeqCst), 1);
        assert_eq!(err.status, 400);
    }
}
