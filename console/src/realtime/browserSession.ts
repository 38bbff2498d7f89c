// "Talk in browser": a WebRTC session with the scenario's agent. The platform creates the
// session (`POST /realtime/session`) and relays the SDP offer/answer (`POST /realtime/signal`);
// audio then flows between this page and the agent, and the agent's Realtime events arrive
// on the `oai-events` data channel. Hanging up asks the platform to end the call at OpenAI
// (`POST /calls/{id}/hangup`), which then completes the call's record.

import { api, toApiError } from "../api/client";
import type { RealtimeAnswer, RealtimeSession } from "../api/types";

export type SessionState =
  | "idle"
  | "requesting-microphone"
  | "signalling"
  | "connected"
  | "ended"
  | `error: ${string}`;

export interface TranscriptLine {
  speaker: "you" | "agent";
  text: string;
}

export interface SessionHandlers {
  onState: (state: SessionState) => void;
  onSession: (session: RealtimeSession) => void;
  onRemoteStream: (stream: MediaStream) => void;
  onTranscript: (line: TranscriptLine) => void;
}

/** The Realtime server events whose text the page shows. */
function transcriptOf(event: { type?: string; transcript?: string }): TranscriptLine | null {
  if (!event.transcript) return null;
  if (event.type === "conversation.item.input_audio_transcription.completed") return { speaker: "you", text: event.transcript };
  if (event.type === "response.output_audio_transcript.done") return { speaker: "agent", text: event.transcript };
  return null;
}

function describe(err: unknown): string {
  if (err instanceof DOMException && err.name === "NotAllowedError") return "microphone access was denied";
  if (err instanceof DOMException && err.name === "NotFoundError") return "no microphone was found";
  return toApiError(err).message;
}

export class BrowserSession {
  private pc: RTCPeerConnection | null = null;
  private mic: MediaStream | null = null;
  private finished = false;
  private callId: string | null = null;
  private readonly handlers: SessionHandlers;

  constructor(handlers: SessionHandlers) {
    this.handlers = handlers;
  }

  async start(scenario: string): Promise<void> {
    try {
      this.handlers.onState("requesting-microphone");
      this.mic = await navigator.mediaDevices.getUserMedia({ audio: true });
      if (this.finished) return this.release();

      this.handlers.onState("signalling");
      const session = await api.post<RealtimeSession>("/realtime/session", { scenario });
      if (this.finished) return this.release();
      this.handlers.onSession(session);

      const pc = new RTCPeerConnection();
      this.pc = pc;
      pc.ontrack = (e) => this.handlers.onRemoteStream(e.streams[0] ?? new MediaStream([e.track]));
      pc.onconnectionstatechange = () => {
        if (pc.connectionState === "failed") this.finish("error: the media connection failed");
      };
      for (const track of this.mic.getTracks()) pc.addTrack(track, this.mic);

      const events = pc.createDataChannel("oai-events");
      let opened = false;
      events.onopen = () => (opened = true);
      events.onmessage = (e) => this.onEvent(e.data);
      // The agent's side closing an open channel (hang-up, time limit) ends the session here too.
      events.onclose = () => opened && this.finish("ended");

      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      const answer = await api.post<RealtimeAnswer>("/realtime/signal", {
        session_id: session.session_id,
        type: "offer",
        sdp: offer.sdp,
      });
      this.callId = answer.call_id;
      if (this.finished) return this.endAtPlatform();
      await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
      if (pc.signalingState === "stable" && !this.finished) this.handlers.onState("connected");
    } catch (err) {
      this.finish(`error: ${describe(err)}`);
    }
  }

  /** Close the peer connection, stop the microphone and end the call on the platform. */
  hangUp(): void {
    if (this.finished) return;
    this.finish("ended");
    this.endAtPlatform();
  }

  /** The call may already be over (time limit, the agent hung up): then there is nothing to do. */
  private endAtPlatform(): void {
    if (!this.callId) return;
    api.post(`/calls/${encodeURIComponent(this.callId)}/hangup`, {}).catch(() => undefined);
  }

  private onEvent(data: unknown): void {
    if (typeof data !== "string") return;
    try {
      const line = transcriptOf(JSON.parse(data) as { type?: string; transcript?: string });
      if (line) this.handlers.onTranscript(line);
    } catch {
      // Not JSON: not an event the page shows.
    }
  }

  private finish(state: SessionState): void {
    if (this.finished) return;
    this.finished = true;
    this.release();
    this.handlers.onState(state);
  }

  private release(): void {
    this.pc?.close();
    this.pc = null;
    this.mic?.getTracks().forEach((t) => t.stop());
    this.mic = null;
  }
}
