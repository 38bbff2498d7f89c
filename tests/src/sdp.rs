//! SDP answers for the simulated `POST /v1/realtime/calls`: what OpenAI's WebRTC endpoint
//! answers a browser's offer with, close enough that `RTCPeerConnection.setRemoteDescription`
//! accepts it (Chromium 148 accepted the answer to `tests/fixtures/chromium-offer.sdp`, the
//! offer its tests make: signalling state `stable`).
//!
//! The answer keeps the offer's media sections in order (RFC 3264 requires one answer section
//! per offer section, with the same `mid`): audio answered with Opus, the data channel
//! (`oai-events`) with SCTP, anything else (video) rejected with port 0. It is bundled, and
//! DTLS-active like OpenAI's. It has no ICE candidates: nothing listens for the media, so the
//! connection is never established; the exchange is what is under test.

/// What is wrong with an offer.
#[derive(Debug, PartialEq, Eq)]
pub enum OfferError {
    NotSdp,
    NoAudio,
    NoOpus,
}

/// One media section of the offer: its kind (`audio`, `application`, `video`), its `mid`,
/// and for audio, the payload type the offer gives Opus.
struct Section<'a> {
    kind: &'a str,
    mid: Option<&'a str>,
    opus: Option<&'a str>,
    first_format: Option<&'a str>,
}

fn sections(offer: &str) -> Result<Vec<Section<'_>>, OfferError> {
    let mut lines = offer.lines().map(str::trim_end);
    if lines.next() != Some("v=0") {
        return Err(OfferError::NotSdp);
    }
    let mut sections: Vec<Section> = Vec::new();
    for line in lines {
        if let Some(media) = line.strip_prefix("m=") {
            let mut parts = media.split(' ');
            let kind = parts.next().unwrap_or_default();
            // "m=<kind> <port> <proto> <formats...>"
            let first_format = parts.nth(2);
            sections.push(Section {
                kind,
                mid: None,
                opus: None,
                first_format,
            });
        } else if let Some(section) = sections.last_mut() {
            if let Some(mid) = line.strip_prefix("a=mid:") {
                section.mid = Some(mid);
            } else if let Some(rtpmap) = line.strip_prefix("a=rtpmap:")
                && let Some((pt, codec)) = rtpmap.split_once(' ')
                && codec.to_ascii_lowercase().starts_with("opus/48000")
            {
                section.opus.get_or_insert(pt);
            }
        }
    }
    let audio = sections.iter().find(|s| s.kind == "audio");
    match audio {
        None => Err(OfferError::NoAudio),
        Some(a) if a.opus.is_none() => Err(OfferError::NoOpus),
        Some(_) => Ok(sections),
    }
}

/// An SDP text being written: CRLF after every line, as RFC 8866 requires.
#[derive(Default)]
struct Lines(String);

impl Lines {
    fn line(&mut self, text: impl AsRef<str>) {
        self.0.push_str(text.as_ref());
        self.0.push_str("\r\n");
    }
}

/// The answer to `offer`, with `token` (random, not empty) feeding the ICE credentials, the
/// fingerprint and the session id.
pub fn answer(offer: &str, token: &str) -> Result<String, OfferError> {
    let sections = sections(offer)?;
    // Hex digits are ICE characters; the pwd must have 22 or more (RFC 8839).
    let hex: String = token
        .bytes()
        .cycle()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect();
    let (ufrag, pwd) = (&hex[..8], &hex[..]);
    // A well-formed SHA-256 fingerprint (the simulator has no certificate to hash).
    let fingerprint = token
        .bytes()
        .cycle()
        .take(32)
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":");
    let session_id = token.bytes().fold(7u64, |acc, b| {
        acc.wrapping_mul(31).wrapping_add(u64::from(b))
    }) % 9_000_000_000;
    let mids: Vec<&str> = sections.iter().filter_map(|s| s.mid).collect();
    let mut sdp = Lines::default();
    sdp.line("v=0");
    sdp.line(format!("o=- {session_id} 2 IN IP4 127.0.0.1"));
    sdp.line("s=-");
    sdp.line("t=0 0");
    sdp.line(format!("a=group:BUNDLE {}", mids.join(" ")));
    sdp.line("a=msid-semantic: WMS *");
    for section in &sections {
        let mid = section.mid.unwrap_or("0");
        let transport = |sdp: &mut Lines| {
            sdp.line("c=IN IP4 0.0.0.0");
            sdp.line(format!("a=ice-ufrag:{ufrag}"));
            sdp.line(format!("a=ice-pwd:{pwd}"));
            sdp.line(format!("a=fingerprint:sha-256 {fingerprint}"));
            sdp.line("a=setup:active");
            sdp.line(format!("a=mid:{mid}"));
        };
        match (section.kind, section.opus) {
            ("audio", Some(pt)) => {
                sdp.line(format!("m=audio 9 UDP/TLS/RTP/SAVPF {pt}"));
                transport(&mut sdp);
                sdp.line("a=sendrecv");
                sdp.line("a=rtcp-mux");
                sdp.line(format!("a=rtpmap:{pt} opus/48000/2"));
                sdp.line(format!("a=fmtp:{pt} minptime=10;useinbandfec=1"));
            }
            ("application", _) => {
                sdp.line("m=application 9 UDP/DTLS/SCTP webrtc-datachannel");
                transport(&mut sdp);
                sdp.line("a=sctp-port:5000");
            }
            (kind, _) => {
                let format = section.first_format.unwrap_or("0");
                sdp.line(format!("m={kind} 0 UDP/TLS/RTP/SAVPF {format}"));
                sdp.line("c=IN IP4 0.0.0.0");
                sdp.line(format!("a=mid:{mid}"));
                sdp.line("a=inactive");
            }
        }
    }
    Ok(sdp.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of Chromium's offer for an audio track and one data channel (trimmed).
    const OFFER: &str = "v=0\r\no=- 46117 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
        a=group:BUNDLE 0 1\r\na=msid-semantic: WMS\r\n\
        m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8\r\nc=IN IP4 0.0.0.0\r\n\
        a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=setup:actpass\r\n\
        a=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n\
        a=rtpmap:0 PCMU/8000\r\n\
        m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n\
        a=mid:1\r\na=sctp-port:5000\r\n";

    const TOKEN: &str = "k3J9xQ2mP7vL4nB8wR1tY6uZ0aS5dF";

    #[test]
    fn an_offer_is_answered_section_by_section_with_opus_and_the_data_channel() {
        let sdp = answer(OFFER, TOKEN).unwrap();
        assert!(sdp.starts_with("v=0\r\n"));
        assert!(sdp.contains("a=group:BUNDLE 0 1\r\n"));
        let audio = sdp.find("m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n").unwrap();
        let data = sdp
            .find("m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n")
            .unwrap();
        assert!(audio < data, "sections in the offer's order");
        assert_eq!(sdp.matches("a=setup:active").count(), 2);
        assert!(sdp.contains("a=rtpmap:111 opus/48000/2\r\n"));
        let fingerprint = sdp
            .lines()
            .find_map(|l| l.strip_prefix("a=fingerprint:sha-256 "))
            .unwrap();
        assert_eq!(fingerprint.split(':').count(), 32);
    }

    #[test]
    fn video_is_rejected_and_offers_without_opus_audio_are_refused() {
        let with_video =
            format!("{OFFER}m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:2\r\n");
        let sdp = answer(&with_video, TOKEN).unwrap();
        assert!(sdp.contains("m=video 0 UDP/TLS/RTP/SAVPF 96\r\n"));
        assert!(sdp.contains("a=group:BUNDLE 0 1 2\r\n"));
        assert_eq!(answer("hello", TOKEN), Err(OfferError::NotSdp));
        let no_audio = OFFER.replace("m=audio", "m=video");
        assert_eq!(answer(&no_audio, TOKEN), Err(OfferError::NoAudio));
        let no_opus = OFFER.replace("opus/48000/2", "G722/8000");
        assert_eq!(answer(&no_opus, TOKEN), Err(OfferError::NoOpus));
    }

    /// Chromium 148's offer for a fake microphone's track and the `oai-events` data channel,
    /// as the browser tests make it.
    const CHROMIUM_OFFER: &str = include_str!("../fixtures/chromium-offer.sdp");

    #[test]
    fn chromiums_offer_is_answered_with_its_opus_payload_type_and_both_mids() {
        let sdp = answer(CHROMIUM_OFFER, TOKEN).unwrap();
        assert!(sdp.contains("a=group:BUNDLE 0 1\r\n"));
        assert!(sdp.contains("m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"));
        assert!(sdp.contains("a=mid:1\r\na=sctp-port:5000\r\n"));
    }
}
