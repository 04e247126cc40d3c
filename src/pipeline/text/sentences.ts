/**
 * Cuts streamed LLM text into pieces TTS can start on before the reply is finished: at sentence
 * ends, and at a clause or word boundary when a run-on sentence grows past `maxChars`. The first piece
 * of a reply may also end at a clause boundary: a TTS model synthesises a sentence whole, so a long
 * first sentence would hold back the reply's first audio.
 */

/** Words ending in a period that do not end a sentence. */
const ABBREVIATIONS = new Set([
  "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "e.g", "i.e", "approx", "no", "fig", "inc", "ltd",
]);

export interface SentenceSplitterOptions {
  /** A piece longer than this is cut at the last clause or word boundary. */
  maxChars: number;
  /** Sentences shorter than this wait to be joined with the next one (avoids tiny TTS calls). */
  minChars: number;
  /** The first piece ends at the first clause boundary (", " "; " ": " " - ") at least this far in. */
  firstClauseMinChars: number;
}

export const DEFAULT_SPLITTER_OPTIONS: SentenceSplitterOptions = { maxChars: 220, minChars: 12, firstClauseMinChars: 40 };

export class SentenceSplitter {
  private buffer = "";
  private emitted = 0;

  constructor(private readonly options: SentenceSplitterOptions = DEFAULT_SPLITTER_OPTIONS) {}

  /** Adds a delta; returns the pieces it completed, in order. */
  push(delta: string): string[] {
    this.buffer += delta;
    const pieces: string[] = [];
    for (;;) {
      const cut = this.nextCut();
      if (cut === undefined) break;
      const piece = this.buffer.slice(0, cut).trim();
      this.buffer = this.buffer.slice(cut);
      if (piece.length > 0) pieces.push(piece);
      this.emitted += 1;
    }
    return pieces;
  }

  /** Returns what is left once the text is complete. */
  flush(): string[] {
    const rest = this.buffer.trim();
    this.buffer = "";
    return rest.length > 0 ? [rest] : [];
  }

  private nextCut(): number | undefined {
    const end = this.sentenceEnd();
    if (end !== undefined) return end;
    if (this.emitted === 0) {
      const clause = this.firstClauseEnd();
      if (clause !== undefined) return clause;
    }
    if (this.buffer.length > this.options.maxChars) return this.runOnCut();
    return undefined;
  }

  /** Index just past the first sentence end that is followed by whitespace (so "3.14" and "e.g." wait). */
  private sentenceEnd(): number | undefined {
    const pattern = /[.!?…]+["')\]]*(?=\s)|\n+/g;
    for (let match = pattern.exec(this.buffer); match; match = pattern.exec(this.buffer)) {
      const end = match.index + match[0].length;
      if (end < this.options.minChars && match[0] !== "\n") continue;
      if (match[0].startsWith(".") && this.endsWithAbbreviation(match.index)) continue;
      return end;
    }
    return undefined;
  }

  /** Index just past the first clause mark (before its space) at or beyond firstClauseMinChars. */
  private firstClauseEnd(): number | undefined {
    const pattern = /[,;:](?=\s)|\s[-–—](?=\s)/g;
    for (let match = pattern.exec(this.buffer); match; match = pattern.exec(this.buffer)) {
      const end = match.index + match[0].length;
      if (end >= this.options.firstClauseMinChars) return end;
    }
    return undefined;
  }

  private endsWithAbbreviation(periodIndex: number): boolean {
    const word = /([A-Za-z.]+)$/.exec(this.buffer.slice(0, periodIndex))?.[1]?.toLowerCase();
    // Single letters and dotted initialisms ("J.", "p.m.", "U.S.") are abbreviations too.
    return word !== undefined && (ABBREVIATIONS.has(word) || /^([a-z]\.)*[a-z]$/.test(word));
  }

  private runOnCut(): number {
    const window = this.buffer.slice(0, this.options.maxChars);
    const clause = Math.max(window.lastIndexOf(", "), window.lastIndexOf("; "), window.lastIndexOf(": "));
    if (clause > this.options.minChars) return clause + 1;
    const space = window.lastIndexOf(" ");
    return space > 0 ? space : this.options.maxChars;
  }
}
