//! The whole platform with every provider simulated: the [`BridgeRig`] (API, bridge, Twilio,
//! OpenAI) plus Google OAuth and Calendar, Voice Intelligence and the job worker, so no
//! endpoint answers "not configured". What a generated API test or a person trying the
//! console (`keyless-stack`) needs. CAPTCHA is off, as in `make run`.

use bridge::Settings;

use crate::Options;
use crate::bridge_rig::BridgeRig;
use crate::calendar_rig;
use crate::google_sim::GoogleSim;
use crate::intelligence_sim::{IntelligenceSim, WebhookStyle};
use crate::realtime_sim::SimConfig;
use crate::twilio_sim::TwilioSim;

pub struct PlatformRig {
    pub rig: BridgeRig,
    pub google: GoogleSim,
    pub intelligence: IntelligenceSim,
}

impl PlatformRig {
    /// Every call placed is answered by a short caller ([`BridgeRig::answer_every_call`]).
    pub async fn start(options: Options) -> PlatformRig {
        let twilio = TwilioSim::start().await;
        let intelligence = IntelligenceSim::start(&twilio).await;
        let google = calendar_rig::google_sim().await;
        let options = options
            .google(&google)
            .jobs(3)
            .env("CAPTCHA_DISABLED", "true")
            .env("TWILIO_INTELLIGENCE_SERVICE_SID", &intelligence.service_sid)
            .env("TWILIO_INTELLIGENCE_BASE_URL", &intelligence.base_url);
        let rig = BridgeRig::start_with_twilio(
            twilio,
            SimConfig::default(),
            Settings::default(),
            options,
        )
        .await;
        intelligence.set_webhook(
            &format!(
                "{}/twilio-transcripts/webhook-callback",
                rig.stack.public_url
            ),
            WebhookStyle::Json,
        );
        rig.answer_every_call();
        PlatformRig {
            rig,
            google,
            intelligence,
        }
    }
}
