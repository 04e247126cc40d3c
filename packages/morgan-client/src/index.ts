/** morgan-client: the protocol, session and playback logic (runs in browsers and Bun). */
export * from "./client";
export { backoffDelay, type BackoffOptions } from "./backoff";
export { latencySegments, type LatencySegment } from "./latency";
export { base64PcmToFloat } from "./pcm";
export { type AudioOutput, PlaybackQueue, type PlayingSound } from "./playback";
export { StreamResampler } from "./resampler";
export { ReplyPlayer, type ReplyPlayerEvents, type ReplyPlayerOptions } from "./voice";
export type { LatencyReport, ServerMessage, ClientMessage } from "../../../src/protocol/messages";
