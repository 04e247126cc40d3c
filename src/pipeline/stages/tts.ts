/**
 * Sentences → audio. Each sentence is synthesised as soon as it is complete (or served from the
 * TTS cache), several at once, and its audio is delivered strictly in sentence order.
 */
import type { AudioChunk, TextToSpeech } from "../../inference/types";
import { background, prefetch } from "../async";
import { concatSamples, durationMs, float32ToPcm16, pcm16ToFloat32 } from "../../audio/pcm";
import type { EventOf, PipelineEvent } from "../events";
import type { PipelineStore, SynthesisKey } from "../ports";
import type { ResolvedSettings } from "../settings";
import { Stage } from "../stage";
import type { TurnView } from "../turn-taking/turn";

interface SpeechChunk extends AudioChunk {
  cached: boolean;
}

export class TtsStage extends Stage {
  readonly name = "tts";
  /** Per turn, the promise of the last sentence's delivery: the next one waits for it. */
  private readonly deliveries = new Map<string, Promise<void>>();

  constructor(
    private readonly tts: TextToSpeech,
    private readonly store: PipelineStore,
    private readonly settings: () => ResolvedSettings,
  ) {
    super();
  }

  protected override process(event: PipelineEvent): void {
    switch (event.kind) {
      case "sentence": {
        // Synthesis starts now; delivery waits for the sentences before this one.
        const audio = prefetch(this.speak(event.turn, event.text));
        this.enqueue(event.turn, () => this.deliver(event, audio));
        return this.forward(event);
      }
      case "sentences_done":
        this.enqueue(event.turn, async () => this.forward({ kind: "tts_done", turn: event.turn }));
        this.deliveries.delete(event.turn.id);
        return;
      case "interrupt":
        this.deliveries.delete(event.turn.id);
        return this.forward(event);
      default:
        this.forward(event);
    }
  }

  private enqueue(turn: TurnView, delivery: () => Promise<void>): void {
    const previous = this.deliveries.get(turn.id) ?? Promise.resolve();
    const next = previous.then(delivery).catch((error) => {
      if (!turn.cancelled) this.fail(error, { kind: "tts_done", turn });
    });
    this.deliveries.set(turn.id, next);
  }

  private async deliver(event: EventOf<"sentence">, audio: AsyncIterable<SpeechChunk>): Promise<void> {
    const { turn, index, text } = event;
    for await (const chunk of audio) {
      if (turn.cancelled) return;
      this.forward({ kind: "tts_audio", turn, index, text, samples: chunk.samples, sampleRate: chunk.sampleRate, cached: chunk.cached });
    }
  }

  /** Cached audio when this exact text, voice and speed were spoken before; else a fresh synthesis. */
  private async *speak(turn: TurnView, text: string): AsyncIterable<SpeechChunk> {
    const settings = this.settings();
    const key: SynthesisKey = { text, voice: settings.voice, speed: settings.speed, audioFormat: "pcm_s16le" };
    const cached = await this.store.cachedSynthesis(key);
    if (cached) {
      yield { samples: pcm16ToFloat32(cached.pcm), sampleRate: cached.sampleRate, cached: true };
      return;
    }
    const chunks: Float32Array[] = [];
    let sampleRate = 0;
    for await (const chunk of this.tts.synthesize({ text, voice: settings.voice, speed: settings.speed }, turn.signal)) {
      chunks.push(chunk.samples);
      sampleRate = chunk.sampleRate;
      yield { ...chunk, cached: false };
    }
    if (turn.cancelled || chunks.length === 0) return;
    const samples = concatSamples(chunks);
    const entry = { pcm: float32ToPcm16(samples), sampleRate, durationMs: durationMs(samples.length, sampleRate) };
    background(this.store.storeSynthesis(key, undefined, entry), (error) =>
      this.log.warn({ err: error }, "could not store synthesis in the TTS cache"),
    );
  }
}
