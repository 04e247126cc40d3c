/** morgan-client for browsers: everything in index.ts plus Web Audio playback and microphone capture. */
export * from "./index";
export { Microphone, type MicrophoneOptions } from "./microphone";
export { WebAudioOutput } from "./web-audio";
