//! Onboarding steps, their order, and the response shapes the frontend reads (camelCase).

use serde::Serialize;
use utoipa::ToSchema;

/// The steps in order; `complete` follows the last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    PhoneSetup,
    Calendar,
    Scenarios,
    WelcomeCall,
}

impl Step {
    pub const ALL: [Step; 4] = [
        Step::PhoneSetup,
        Step::Calendar,
        Step::Scenarios,
        Step::WelcomeCall,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Step::PhoneSetup => "phone_setup",
            Step::Calendar => "calendar",
            Step::Scenarios => "scenarios",
            Step::WelcomeCall => "welcome_call",
        }
    }

    pub fn parse(s: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|step| step.as_str() == s)
    }

    /// The stored flag's attribute name.
    pub fn flag(self) -> &'static str {
        match self {
            Step::PhoneSetup => "phone_number_setup",
            Step::Calendar => "calendar_connected",
            Step::Scenarios => "first_scenario_created",
            Step::WelcomeCall => "welcome_call_completed",
        }
    }

    pub fn invalid_message() -> String {
        format!(
            "Invalid step. Must be one of: {}",
            Step::ALL.map(Step::as_str).join(", ")
        )
    }
}

/// The four completion flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    pub phone_number_setup: bool,
    pub calendar_connected: bool,
    pub first_scenario_created: bool,
    pub welcome_call_completed: bool,
}

impl Flags {
    pub fn get(&self, step: Step) -> bool {
        match step {
            Step::PhoneSetup => self.phone_number_setup,
            Step::Calendar => self.calendar_connected,
            Step::Scenarios => self.first_scenario_created,
            Step::WelcomeCall => self.welcome_call_completed,
        }
    }

    pub fn set(&mut self, step: Step) {
        match step {
            Step::PhoneSetup => self.phone_number_setup = true,
            Step::Calendar => self.calendar_connected = true,
            Step::Scenarios => self.first_scenario_created = true,
            Step::WelcomeCall => self.welcome_call_completed = true,
        }
    }

    /// Flags only move false -> true: `self | other`.
    pub fn merged(self, other: Flags) -> Flags {
        Flags {
            phone_number_setup: self.phone_number_setup || other.phone_number_setup,
            calendar_connected: self.calendar_connected || other.calendar_connected,
            first_scenario_created: self.first_scenario_created || other.first_scenario_created,
            welcome_call_completed: self.welcome_call_completed || other.welcome_call_completed,
        }
    }

    /// The first incomplete step in order, or `complete`.
    pub fn current_step(&self) -> &'static str {
        Step::ALL
            .into_iter()
            .find(|s| !self.get(*s))
            .map(Step::as_str)
            .unwrap_or("complete")
    }

    pub fn completed(&self) -> usize {
        Step::ALL.into_iter().filter(|s| self.get(*s)).count()
    }
}

/// The stored onboarding record of a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Onboarding {
    pub user_id: String,
    pub flags: Flags,
    pub started_at: String,
    pub completed_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StepView {
    pub completed: bool,
    pub available: bool,
    pub title: &'static str,
    pub description: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StepsView {
    pub phone_setup: StepView,
    pub calendar: StepView,
    pub scenarios: StepView,
    pub welcome_call: StepView,
}

/// `GET /onboarding/status` and friends.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusView {
    pub user_id: String,
    pub current_step: String,
    pub completion_percentage: f64,
    pub steps: StepsView,
    pub is_complete: bool,
    pub started_at: String,
    pub completed_at: Option<String>,
}

/// `GET /onboarding/next-action`.
#[derive(Debug, Serialize, ToSchema, PartialEq)]
pub struct NextAction {
    pub title: &'static str,
    pub description: &'static str,
    pub action: &'static str,
    pub endpoint: &'static str,
    pub priority: &'static str,
}

impl Onboarding {
    /// `has_scenarios` is live state: the welcome call needs a scenario to call with.
    pub fn view(&self, has_scenarios: bool) -> StatusView {
        let f = &self.flags;
        let phone = f.phone_number_setup;
        StatusView {
            user_id: self.user_id.clone(),
            current_step: f.current_step().to_string(),
            completion_percentage: f.completed() as f64 / 4.0 * 100.0,
            steps: StepsView {
                phone_setup: StepView {
                    completed: phone,
                    available: true,
                    title: "Set Up Phone Number",
                    description: "Get your dedicated Twilio phone number for making AI calls",
                },
                calendar: StepView {
                    completed: f.calendar_connected,
                    available: phone,
                    title: "Connect Google Calendar",
                    description: "Link your calendar to schedule AI calls from events",
                },
                scenarios: StepView {
                    completed: f.first_scenario_created,
                    available: phone,
                    title: "Create Your First Scenario",
                    description: "Design an AI persona for your calls",
                },
                welcome_call: StepView {
                    completed: f.welcome_call_completed,
                    available: phone && has_scenarios,
                    title: "Make Your First Call",
                    description: "Test your setup with a practice call",
                },
            },
            is_complete: f.completed() == 4,
            started_at: self.started_at.clone(),
            completed_at: self.completed_at.clone(),
        }
    }
}

/// The next action for a `current_step`; unknown steps fall back to `complete`.
pub fn next_action(current_step: &str) -> NextAction {
    match current_step {
        "phone_setup" => NextAction {
            title: "Set Up Your Phone Number",
            description: "Choose and provision a phone number for your AI assistant",
            action: "setup_phone",
            endpoint: "/twilio/search-numbers",
            priority: "high",
        },
        "calendar" => NextAction {
            title: "Connect Google Calendar",
            description: "Link your calendar to automatically schedule AI calls",
            action: "connect_calendar",
            endpoint: "/google-calendar/auth",
            priority: "medium",
        },
        "scenarios" => NextAction {
            title: "Create Your First AI Scenario",
            description: "Design how your AI assistant should behave",
            action: "create_scenario",
            endpoint: "/realtime/custom-scenario",
            priority: "high",
        },
        "welcome_call" => NextAction {
            title: "Make Your First Call",
            description: "Test your setup with a practice call",
            action: "make_call",
            endpoint: "/make-custom-call",
            priority: "medium",
        },
        _ => NextAction {
            title: "Setup Complete!",
            description: "Your account is fully configured and ready to use",
            action: "explore",
            endpoint: "/dashboard",
            priority: "low",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_step_is_first_incomplete() {
        let mut f = Flags::default();
        assert_eq!(f.current_step(), "phone_setup");
        f.set(Step::PhoneSetup);
        f.set(Step::Scenarios);
        assert_eq!(f.current_step(), "calendar");
        f.set(Step::Calendar);
        f.set(Step::WelcomeCall);
        assert_eq!(f.current_step(), "complete");
        assert_eq!(next_action("nonsense").action, "explore");
    }
}
