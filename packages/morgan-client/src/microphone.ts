/**
 * Microphone capture in the browser: getUserMedia with echo cancellation and noise suppression
 * requested, and an AudioWorklet that resamples to the session's input rate (16 kHz) and converts to
 * 16-bit little-endian PCM off the main thread, posting one frame every `frameMs`.
 */
import { float32ToPcm16 } from "../../../src/audio/pcm";
import { StreamResampler } from "./resampler";

export interface MicrophoneOptions {
  /** The rate Morgan expects (`input_sample_rate`); 16 kHz unless the session negotiated another. */
  sampleRate?: number;
  /** Samples per posted frame, in ms of audio (20 ms, as the server's VAD frames). */
  frameMs?: number;
  /** Extra getUserMedia constraints (a deviceId, say). */
  constraints?: MediaTrackConstraints;
}

const PROCESSOR = "morgan-capture";

/**
 * The worklet: runs in AudioWorkletGlobalScope, so it may use only its parameters and the worklet's
 * globals (its source is sent there as text).
 */
function defineCaptureProcessor(Resampler: typeof StreamResampler, toPcm16: typeof float32ToPcm16, name: string): void {
  interface WorkletOptions {
    processorOptions: { targetRate: number; frameSamples: number };
  }
  const scope = globalThis as unknown as {
    sampleRate: number;
    registerProcessor(name: string, processor: unknown): void;
    AudioWorkletProcessor: new () => { port: MessagePort };
  };
  class CaptureProcessor extends scope.AudioWorkletProcessor {
    private readonly resampler: StreamResampler;
    private readonly frame: Float32Array;
    private filled = 0;
    constructor(options: WorkletOptions) {
      super();
      this.resampler = new Resampler(scope.sampleRate, options.processorOptions.targetRate);
      this.frame = new Float32Array(options.processorOptions.frameSamples);
    }
    process(inputs: Float32Array[][]): boolean {
      const channel = inputs[0]?.[0];
      if (!channel) return true;
      const samples = this.resampler.push(channel);
      for (let i = 0; i < samples.length; i++) {
        this.frame[this.filled++] = samples[i]!;
        if (this.filled === this.frame.length) {
          const pcm = toPcm16(this.frame);
          this.port.postMessage(pcm, [pcm.buffer]);
          this.filled = 0;
        }
      }
      return true;
    }
  }
  scope.registerProcessor(name, CaptureProcessor);
}

const workletSource = () =>
  `(${defineCaptureProcessor})(${StreamResampler}, ${float32ToPcm16}, ${JSON.stringify(PROCESSOR)});`;

export class Microphone {
  /** Frames are posted to `onFrame` while not muted. */
  muted = false;

  private constructor(
    private readonly stream: MediaStream,
    private readonly source: MediaStreamAudioSourceNode,
    private readonly node: AudioWorkletNode,
  ) {}

  /** Asks for the microphone and starts capturing into `onFrame` (16-bit PCM frames). */
  static async open(context: AudioContext, onFrame: (pcm: Uint8Array) => void, options: MicrophoneOptions = {}): Promise<Microphone> {
    const sampleRate = options.sampleRate ?? 16000;
    const frameMs = options.frameMs ?? 20;
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1, ...options.constraints },
    });
    const url = URL.createObjectURL(new Blob([workletSource()], { type: "text/javascript" }));
    try {
      await context.audioWorklet.addModule(url);
    } finally {
      URL.revokeObjectURL(url);
    }
    const source = context.createMediaStreamSource(stream);
    const node = new AudioWorkletNode(context, PROCESSOR, {
      numberOfInputs: 1,
      numberOfOutputs: 0,
      channelCount: 1,
      channelCountMode: "explicit",
      processorOptions: { targetRate: sampleRate, frameSamples: Math.round((sampleRate * frameMs) / 1000) },
    });
    const microphone = new Microphone(stream, source, node);
    node.port.onmessage = (event: MessageEvent<Uint8Array>) => {
      if (!microphone.muted) onFrame(event.data);
    };
    source.connect(node);
    return microphone;
  }

  /** What the browser actually applied (echo cancellation may be refused by some devices). */
  get settings(): MediaTrackSettings {
    return this.stream.getAudioTracks()[0]?.getSettings() ?? {};
  }

  close(): void {
    this.node.port.onmessage = null;
    this.source.disconnect();
    this.node.disconnect();
    for (const track of this.stream.getTracks()) track.stop();
  }
}
