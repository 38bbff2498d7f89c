// Stored call transcripts, newest first, a page at a time.

import { useState } from "react";
import { requestWithHeaders, toApiError, type ApiError } from "../api/client";
import type { StoredTranscript } from "../api/types";
import { Card } from "../components/Card";
import { ErrorNotice } from "../components/ErrorNotice";
import { formatDateTime, formatSeconds, shorten } from "../format";
import { useLoad } from "../hooks/useLoad";
import { href } from "../router";

interface TranscriptPage {
  items: StoredTranscript[];
  cursor: string | null;
}

async function loadPage(cursor: string | null): Promise<TranscriptPage> {
  const query = new URLSearchParams({ limit: "20" });
  if (cursor) query.set("cursor", cursor);
  const res = await requestWithHeaders<StoredTranscript[]>("GET", `/stored-transcripts/?${query}`);
  return { items: res.data, cursor: res.headers.get("x-next-cursor") };
}

export function Transcripts() {
  const first = useLoad(() => loadPage(null));
  const [more, setMore] = useState<TranscriptPage[]>([]);
  const [error, setError] = useState<ApiError | null>(null);

  const pages = first.data ? [first.data, ...more] : [];
  const items = pages.flatMap((p) => p.items);
  const cursor = pages.length > 0 ? pages[pages.length - 1].cursor : null;

  async function loadMore() {
    try {
      const page = await loadPage(cursor);
      setMore((m) => [...m, page]);
      setError(null);
    } catch (err) {
      setError(toApiError(err));
    }
  }

  return (
    <div className="page" data-testid="page-transcripts">
      <h1>Transcripts</h1>
      <ErrorNotice error={first.error ?? error} />
      <Card title="Stored transcripts">
        {first.data && items.length === 0 && (
          <div className="empty" data-testid="transcripts-empty">
            <p>No transcripts yet.</p>
            <p className="muted">When a recorded call has been transcribed, its transcript appears here.</p>
          </div>
        )}
        {items.length > 0 && (
          <table>
            <thead>
              <tr>
                <th>Call</th>
                <th>Duration</th>
                <th>Text</th>
              </tr>
            </thead>
            <tbody>
              {items.map((t) => (
                <tr key={t.transcript_sid} data-testid="transcript-row">
                  <td>
                    <a href={href("transcripts", t.transcript_sid)}>{formatDateTime(t.date_created)}</a>
                  </td>
                  <td>{formatSeconds(t.duration)}</td>
                  <td>{shorten(t.full_text)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {cursor && (
          <button type="button" className="button-secondary" onClick={() => void loadMore()} data-testid="transcripts-more">
            Load more
          </button>
        )}
      </Card>
    </div>
  );
}
