// Shapes of the platform's public HTTP API, as its OpenAPI document
// (functions/platform/assets/openapi.json) declares them. Only what the console reads.

export interface FieldError {
  field: string;
  message: string;
}

/** RFC 9457 problem details (`application/problem+json`). */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
}

export interface TokenResponse {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
}

export interface UserView {
  id: string;
  email: string;
  is_active: boolean;
  is_admin: boolean;
  created_at: string;
}

export interface StepView {
  completed: boolean;
  available: boolean;
  title: string;
  description: string;
}

export interface StatusView {
  userId: string;
  currentStep: string;
  completionPercentage: number;
  steps: {
    phoneSetup: StepView;
    calendar: StepView;
    scenarios: StepView;
    welcomeCall: StepView;
  };
  isComplete: boolean;
  startedAt: string;
  completedAt?: string | null;
}

export interface NextAction {
  title: string;
  description: string;
  action: string;
  endpoint: string;
  priority: string;
}

export interface InstructionsPreview {
  inbound: string;
  outbound: string;
}

export interface PredefinedView {
  key: string;
  name: string;
  persona: string;
  prompt: string;
  voice_config: { voice: string; temperature: number };
  instructions: InstructionsPreview;
}

export interface CustomScenarioInput {
  persona: string;
  prompt: string;
  voice_type: string;
  temperature?: number;
  /** E.164; `null`: no transfers. */
  transfer_number?: string | null;
  /** What an answering machine is told; `null`: one the agent composes. */
  voicemail_message?: string | null;
}

export interface CustomScenarioView {
  id: string;
  scenario_id: string;
  persona: string;
  prompt: string;
  voice_type: string;
  voice: string;
  temperature: number;
  transfer_number?: string | null;
  voicemail_message?: string | null;
  created_at: string;
  updated_at: string;
  instructions: InstructionsPreview;
}

export interface CustomScenarioCreated {
  scenario_id: string;
  message: string;
  scenario: CustomScenarioView;
}

export interface AccountView {
  telephonyConfigured: boolean;
  numbersOwned: number;
  maxNumbers: number;
  dailyOutboundCallCap: number;
  allowedDestinationCountries: string[];
}

export interface Capabilities {
  voice: boolean;
  sms: boolean;
}

export interface AvailableNumberView {
  phoneNumber: string;
  friendlyName?: string | null;
  locality?: string | null;
  region?: string | null;
  capabilities: Capabilities;
}

export interface SearchRequest {
  area_code?: string;
  contains?: string;
  country?: string;
  limit?: number;
}

export interface NumberView {
  phoneNumber: string;
  friendlyName: string;
  capabilities: Capabilities;
  dateCreated: string;
  isActive: boolean;
  sid?: string | null;
  status: "provisioning" | "active";
}

export interface InboundScenario {
  scenario: string;
}

export interface CallPlaced {
  status: string;
  call_id: string;
  call_sid?: string | null;
  from_number: string;
  message: string;
}

export type ScheduleStatus = "pending" | "dialing" | "placed" | "failed" | "canceled";

export interface ScheduleView {
  id: string;
  schedule_id: string;
  phone_number: string;
  scenario: string;
  scheduled_time: string;
  status: ScheduleStatus;
  call_id?: string | null;
  error?: string | null;
  created_at: string;
  updated_at: string;
}

export type CallStatus =
  | "initiating"
  | "queued"
  | "initiated"
  | "ringing"
  | "in-progress"
  | "completed"
  | "busy"
  | "no-answer"
  | "failed"
  | "canceled";

/** `browser` is a "Talk in browser" session (WebRTC, no phone line). */
export type Direction = "inbound" | "outbound" | "browser";

export interface BridgeSummary {
  stream_ms: number;
  agent_audio_ms: number;
  barge_ins: number;
  responses: number;
  session_rotations: number;
  input_text_tokens: number;
  input_audio_tokens: number;
  output_text_tokens: number;
  output_audio_tokens: number;
  end_reason: string;
}

export interface BookingView {
  event_id: string;
  calendar_id: string;
  start: string;
  end: string;
  summary: string;
  caller: string;
  status: "pending" | "booked" | "cancelled";
  created_at: string;
}

export interface CallView {
  call_id: string;
  call_sid?: string | null;
  direction: Direction;
  from_number: string;
  to_number: string;
  scenario: string;
  status: CallStatus;
  duration_seconds?: number | null;
  error?: string | null;
  recording_sid?: string | null;
  recording_duration_seconds?: number | null;
  schedule_id?: string | null;
  transcript_sid?: string | null;
  transcript_status?: string | null;
  bridge?: BridgeSummary | null;
  bookings?: BookingView[] | null;
  transfer?: TransferRecord | null;
  answered_by?: string | null;
  voicemail_left: boolean;
  created_at: string;
  updated_at: string;
}

export interface TransferRecord {
  to: string;
  status: string;
  requested_at: string;
  /** Why the caller needed a person, as the agent put it. */
  reason?: string | null;
  duration_seconds?: number | null;
  error?: string | null;
}

export interface ChannelView {
  calls: number;
  seconds: number;
  minutes: number;
}

export interface UsageView {
  phone_inbound: ChannelView;
  phone_outbound: ChannelView;
  browser: ChannelView;
  /** Transfers a person took, and their time with the caller. */
  transferred: ChannelView;
  tokens: { input_text: number; input_audio: number; output_text: number; output_audio: number };
  transcription_minutes: number;
  call_minutes: number;
  estimated_cost_usd: number;
}

export interface UsageReport {
  from: string;
  to: string;
  days: { date: string; usage: UsageView }[];
  total: UsageView;
  month: { month: string; call_minutes: number; minute_cap?: number | null; minutes_left?: number | null };
}

export interface CallPage {
  calls: CallView[];
  next_cursor?: string | null;
}

export interface RoleSentence {
  transcript: string;
  speaker: string;
  start_time: number;
  end_time: number;
  confidence?: number | null;
}

export interface StoredTranscript {
  id: string;
  transcript_sid: string;
  status: string;
  full_text: string;
  date_created: string;
  date_updated: string;
  duration: number;
  created_at: string;
  language_code?: string | null;
  sentences?: RoleSentence[] | null;
}

export interface ConnectionView {
  connected: boolean;
  status: string;
  scopes: string[];
  connected_at?: string | null;
  updated_at?: string | null;
}

export interface AuthorizationUrl {
  authorization_url: string;
}

export interface CalendarSettings {
  time_zone: string;
  working_days: string[];
  working_hours: { start: string; end: string };
  slot_minutes: number;
  buffer_minutes: number;
  calendar_id: string;
}

export interface RealtimeSession {
  session_id: string;
  call_id: string;
  scenario: string;
  expires_at: string;
  max_duration_seconds: number;
}

export interface RealtimeAnswer {
  type: "answer";
  sdp: string;
  call_id: string;
}
