"""A word trigram (Markov chain) model over a small hand-written corpus of assistant answers.

This is NOT a neural language model and does not understand anything: it picks the corpus paragraph
whose words overlap most with the prompt and re-samples a reply from trigram statistics, so replies
read like short assistant answers (several sentences with punctuation) and exercise streaming and
sentence splitting downstream. Sampling is driven by random.Random(seed), so a fixed seed gives the
same reply for the same prompt and parameters.
"""

import math
import random
import re
from collections import Counter, defaultdict

TOKEN_RE = re.compile(r"[A-Za-z0-9']+|[.,!?;:]")
PUNCT = set(".,!?;:")
BOS, EOS = "<s>", "</s>"
# Frequent words that say nothing about the topic of a prompt.
STOPWORDS = set(
    "a an the is are am was were be to of and or in on at for with you your i me my it this that "
    "what how can could would will do does did please tell give let us we some any there here "
    "about just like want need".split()
)


def tokenize(text):
    return TOKEN_RE.findall(text)


def detokenize(tokens):
    """Token list -> text; each returned piece is one token's delta (leading space included)."""
    pieces = []
    for i, tok in enumerate(tokens):
        if i == 0 or tok in PUNCT:
            pieces.append(tok)
        else:
            pieces.append(" " + tok)
    return pieces


class TrigramModel:
    def __init__(self, paragraphs):
        self.paragraphs = [tokenize(p) for p in paragraphs if p.strip()]
        if not self.paragraphs:
            raise ValueError("empty corpus")
        self.next = defaultdict(Counter)
        self.index = []  # per paragraph: set of lower-cased content words
        for toks in self.paragraphs:
            seq = [BOS, BOS] + toks + [EOS]
            for a, b, c in zip(seq, seq[1:], seq[2:]):
                self.next[(a, b)][c] += 1
            self.index.append({t.lower() for t in toks if t.lower() not in STOPWORDS and t not in PUNCT})

    @classmethod
    def from_file(cls, path):
        with open(path, encoding="utf-8") as f:
            return cls([ln.strip() for ln in f if ln.strip() and not ln.startswith("#")])

    def _pick_paragraph(self, prompt, rng):
        words = {t.lower() for t in tokenize(prompt)} - STOPWORDS
        scores = [len(words & idx) for idx in self.index]
        best = max(scores)
        # Ties (and prompts with no content word at all) are broken by the seeded generator.
        candidates = [i for i, s in enumerate(scores) if s == best]
        return self.paragraphs[rng.choice(candidates)]

    def _sample(self, counter, rng, temperature, top_p, top_k):
        items = list(counter.items())  # insertion order: deterministic for a given corpus
        if temperature <= 0.0:
            best = max(c for _, c in items)
            return next(t for t, c in items if c == best)
        weights = [math.exp(math.log(c) / temperature) for _, c in items]
        order = sorted(range(len(items)), key=lambda i: -weights[i])
        if top_k and top_k > 0:
            order = order[:top_k]
        total = sum(weights[i] for i in order)
        kept, acc = [], 0.0
        for i in order:  # nucleus: smallest set of tokens whose mass reaches top_p
            kept.append(i)
            acc += weights[i] / total
            if acc >= top_p:
                break
        r = rng.random() * sum(weights[i] for i in kept)
        for i in kept:
            r -= weights[i]
            if r <= 0:
                return items[i][0]
        return items[kept[-1]][0]

    def generate(self, prompt, max_tokens, seed=None, temperature=1.0, top_p=1.0, top_k=0, max_sentences=4):
        """Return the reply as a list of tokens (at most max_tokens)."""
        rng = random.Random(seed)
        para = self._pick_paragraph(prompt, rng)
        # Start from the chosen paragraph's first two tokens so the reply is on the prompt's topic.
        out = list(para[:2])
        a, b = out
        sentences = sum(1 for t in out if t in ".!?")
        while len(out) < max_tokens:
            counter = self.next.get((a, b))
            if not counter:
                break
            tok = self._sample(counter, rng, temperature, top_p, top_k)
            if tok == EOS:
                break
            out.append(tok)
            a, b = b, tok
            if tok in ".!?":
                sentences += 1
                if sentences >= max_sentences:
                    break
        return out[:max_tokens]
