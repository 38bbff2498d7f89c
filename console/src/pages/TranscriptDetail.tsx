// One stored transcript, sentence by sentence.

import { api, seg } from "../api/client";
import type { StoredTranscript } from "../api/types";
import { Card } from "../components/Card";
import { ErrorNotice } from "../components/ErrorNotice";
import { formatDateTime, formatSeconds } from "../format";
import { useLoad } from "../hooks/useLoad";
import { href } from "../router";

export function TranscriptDetail({ transcriptSid }: { transcriptSid: string }) {
  const transcript = useLoad(() => api.get<StoredTranscript>(`/stored-transcripts/${seg(transcriptSid)}`), [transcriptSid]);
  const t = transcript.data;
  return (
    <div className="page" data-testid="page-transcript">
      <p>
        <a href={href("transcripts")}>← Transcripts</a>
      </p>
      <h1>Transcript</h1>
      <ErrorNotice error={transcript.error} />
      {t && (
        <Card title={`${formatDateTime(t.date_created)} · ${formatSeconds(t.duration)}`}>
          <p className="muted small">
            <a href={href("calls", t.id)}>The call</a> · {t.transcript_sid}
            {t.language_code ? ` · ${t.language_code}` : ""}
          </p>
          {t.sentences && t.sentences.length > 0 ? (
            <ol className="sentences">
              {t.sentences.map((s, i) => (
                <li key={i} className={`sentence sentence-${s.speaker}`}>
                  <span className="speaker">{s.speaker}</span>
                  <span className="time">{formatSeconds(s.start_time)}</span>
                  <span>{s.transcript}</span>
                </li>
              ))}
            </ol>
          ) : (
            <p>{t.full_text}</p>
          )}
        </Card>
      )}
    </div>
  );
}
