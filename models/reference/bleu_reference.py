#!/usr/bin/env python3
"""Reference values for the eval package's BLEU and chrF tests (engine-core/src/test/resources/eval/bleu-cases.json).

Run with Debian's interpreter and NLTK (apt-get install python3-nltk):

  /usr/bin/python3 models/reference/bleu_reference.py engine-core/src/test/resources/eval/bleu-cases.json

The fixture holds hand-written hypotheses and references plus the token lists the Java 13a tokenizer
produced for them (BleuChrfReferenceTest.exportTokens writes those). This script

  1. tokenizes every segment again with its own Python implementation of the mteval-v13a rules (the
     symbol class written out character by character, Python's `re` instead of java.util.regex) and
     stops if any token list differs from the Java one;
  2. computes corpus BLEU with NLTK's `corpus_bleu` on the Java token lists (uniform 4-gram weights,
     no smoothing) and stores it, times 100, as `nltk_bleu`. NLTK divides a hypothesis' n-gram
     matches by max(1, its n-gram count), sacreBLEU by the plain count: the two agree only when every
     hypothesis has at least 4 tokens, which is checked here;
  3. computes chrF (sacreBLEU 2 defaults: character 1..6-grams, beta 2, whitespace removed, corpus
     statistics summed, precision and recall averaged over the orders where both counts are
     non-zero) with the few lines below and stores it as `chrf`. NLTK's `corpus_chrf` is not used:
     it averages sentence-level F-scores per order with beta 3, a different quantity;
  4. stores the code points Python's str.split() treats as whitespace as `python_whitespace`.
"""
import json
import re
import sys
from collections import Counter

from nltk.translate.bleu_score import corpus_bleu

# mteval-v13a: ASCII symbols that always become separate tokens (not ' - . , nor any non-ASCII)
SYMBOLS = "{|}~" + "[\\]^_`" + " !\"#$%&" + "()*+" + ":;<=>?@" + "/"
ENTITIES = [("<skipped>", ""), ("-\n", ""), ("\n", " "), ("&quot;", '"'), ("&amp;", "&"),
            ("&lt;", "<"), ("&gt;", ">")]


def tokenize_13a(segment):
    line = segment.rstrip()
    for old, new in ENTITIES:
        line = line.replace(old, new)
    line = " " + line + " "
    line = re.sub("([" + re.escape(SYMBOLS) + "])", r" \1 ", line)
    line = re.sub(r"([^0-9])([.,])", r"\1 \2 ", line)   # period/comma after a non-digit
    line = re.sub(r"([.,])([^0-9])", r" \1 \2", line)   # period/comma before a non-digit
    line = re.sub(r"([0-9])(-)", r"\1 \2 ", line)       # dash after a digit
    return line.split()


def chrf(hypotheses, references, order=6, beta=2.0):
    hyp_total, ref_total, matches = [0] * order, [0] * order, [0] * order
    for hyp, ref in zip(hypotheses, references):
        hyp, ref = "".join(hyp.split()), "".join(ref.split())
        for n in range(1, order + 1):
            h = Counter(hyp[i:i + n] for i in range(len(hyp) - n + 1))
            r = Counter(ref[i:i + n] for i in range(len(ref) - n + 1))
            hyp_total[n - 1] += sum(h.values()) if r else 0
            ref_total[n - 1] += sum(r.values())
            matches[n - 1] += sum((h & r).values())
    orders = [n for n in range(order) if hyp_total[n] > 0 and ref_total[n] > 0]
    if not orders:
        return 0.0
    p = sum(matches[n] / hyp_total[n] for n in orders) / len(orders)
    r = sum(matches[n] / ref_total[n] for n in orders) / len(orders)
    if p + r == 0:
        return 0.0
    return 100.0 * (1 + beta ** 2) * p * r / (beta ** 2 * p + r)


def main(path):
    with open(path, encoding="utf-8") as f:
        fixture = json.load(f)
    for case in fixture["cases"]:
        name = case["name"]
        hyp_tokens, ref_tokens = case["hypothesis_tokens"], case["reference_tokens"]
        for kind, texts, tokens in (("hypothesis", case["hypotheses"], hyp_tokens),
                                    ("reference", case["references"], ref_tokens)):
            for i, (text, java) in enumerate(zip(texts, tokens)):
                mine = tokenize_13a(text)
                if mine != java:
                    sys.exit(f"{name}: {kind} {i}: Java tokens {java} != Python tokens {mine}")
        for i, tokens in enumerate(hyp_tokens):
            if len(tokens) < 4:
                sys.exit(f"{name}: hypothesis {i} has {len(tokens)} < 4 tokens; NLTK's BLEU differs there")
        bleu = corpus_bleu([[r] for r in ref_tokens], hyp_tokens, weights=(0.25, 0.25, 0.25, 0.25))
        case["nltk_bleu"] = 100.0 * bleu
        case["chrf"] = chrf(case["hypotheses"], case["references"])
        print(f"{name}: BLEU {case['nltk_bleu']:.4f} chrF {case['chrf']:.4f}")
    fixture["python_whitespace"] = [cp for cp in range(0x110000) if chr(cp).isspace()]
    with open(path, "w", encoding="utf-8") as f:
        json.dump(fixture, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: bleu_reference.py FIXTURE.json")
    main(sys.argv[1])
