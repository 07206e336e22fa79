"""Sign recognition: gloss WER, and for every misread sign which phonological parameters it got wrong.

A reader (the LSLM with its "m2g" prompt, or a probe of `lslm.eval.probe`) writes a gloss sequence for
each clip; `score_glosses` aligns it with the true one (jiwer's Levenshtein alignment, whitespace tokens,
case kept) and counts substitutions, insertions and deletions as word error rate over the reference signs.
For each substituted sign it compares the lexicon's parameters of the true and the read sign:

    handshape, location, movement, orientation, hands (the arrangement, with the base hand's shape)

so that "HOUSE read as STORE, which differ in handshape only" becomes a count: a tokenizer that blurs the
fingers shows up as substitutions that differ in handshape alone.

>>> lexicon = {"A": {"handshape": "flat", "location": "chin", "movement": "tap", "orientation": "palm_in",
...                  "hands": "one", "base_handshape": None},
...            "B": {"handshape": "fist", "location": "chin", "movement": "tap", "orientation": "palm_in",
...                  "hands": "one", "base_handshape": None}}
>>> s = score_glosses(["A B B"], ["A A B"], lexicon=lexicon)
>>> round(s["wer"], 1), s["misread"]["parameters"]["handshape"]["count"]
(33.3, 1)
"""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

from lslm.errors import InvalidInputError

PARAMETERS = ("handshape", "location", "movement", "orientation", "hands")
SIGN_FIELDS = (*PARAMETERS, "base_handshape")
# Over-long answers (a reader that does not stop) are cut to this many signs before alignment.
MAX_SIGNS = 64

Lexicon = dict[str, dict[str, str | None]]


def load_lexicon(corpus_json: str | Path) -> Lexicon:
    """gloss → its sign's parameters, from the `lexicon` table of a synthetic corpus' corpus.json."""
    path = Path(corpus_json)
    try:
        table = json.loads(path.read_text(encoding="utf-8"))["lexicon"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise InvalidInputError(path, "lexicon", "a corpus.json with a lexicon table "
                                "(data_prep/make_synthetic.py writes one)", got=repr(e)) from e
    lexicon: Lexicon = {}
    for word, entry in table.items():
        missing = [k for k in ("gloss", *SIGN_FIELDS) if k not in entry]
        if missing:
            raise InvalidInputError(path, f"lexicon.{word}", f"the fields {('gloss', *SIGN_FIELDS)}", got=missing)
        lexicon[entry["gloss"]] = {k: entry[k] for k in SIGN_FIELDS}
    return lexicon


def differing_parameters(true: dict, read: dict) -> list[str]:
    """The PARAMETERS in which two signs differ; "hands" compares the arrangement and the base hand's shape."""
    out = [p for p in PARAMETERS[:4] if true[p] != read[p]]
    if (true["hands"], true["base_handshape"]) != (read["hands"], read["base_handshape"]):
        out.append("hands")
    return out


def gloss_tokens(gloss: str) -> list[str]:
    """Signs of a gloss string: whitespace tokens, at most MAX_SIGNS."""
    return gloss.split()[:MAX_SIGNS]


def score_glosses(predictions: Sequence[str], references: Sequence[str], ids: Sequence[str] | None = None,
                  signers: Sequence[str | None] | None = None, lexicon: Lexicon | None = None,
                  top_k: int = 15) -> dict:
    """Gloss WER of predictions against references (one gloss string per clip), per signer, and what the
    misread signs were. Returns a JSON-ready dict:

        clips, ref_signs, wer (%), substitutions, insertions, deletions (counts), sentence_accuracy (% of
        clips read exactly), per_signer {signer: {clips, ref_signs, wer}},
        misread (with a lexicon): substitutions, unknown (read tokens that are no sign of the lexicon),
            parameters {p: {count, share (% of the substitutions between known signs)}},
            differing {number of parameters: substitutions}, top_confusions [{true, read, count, differ}],
            most_misread [{gloss, occurrences, errors, error_rate}],
        per_sample [{id, signer, prediction, reference, errors}].
    """
    import jiwer

    if len(predictions) != len(references):
        raise InvalidInputError(None, "references", f"{len(predictions)} gloss strings (one per prediction)",
                                got=len(references))
    ids = [str(i) for i in range(len(predictions))] if ids is None else [str(i) for i in ids]
    signers = [None] * len(predictions) if signers is None else list(signers)
    if len(ids) != len(predictions) or len(signers) != len(predictions):
        raise InvalidInputError(None, "ids/signers", f"{len(predictions)} entries each",
                                got=(len(ids), len(signers)))
    totals = Counter()
    per_signer: dict[str, Counter] = defaultdict(Counter)
    confusions: Counter = Counter()
    occurrences, errors_of = Counter(), Counter()  # per true sign: times it occurs, times misread
    per_sample = []
    for clip_id, signer, prediction, reference in zip(ids, signers, predictions, references):
        ref, hyp = gloss_tokens(reference), gloss_tokens(prediction)
        if not ref:
            raise InvalidInputError(None, f"reference of id {clip_id}", "at least one gloss", got=reference)
        counts = Counter(ref_signs=len(ref), clips=1)
        occurrences.update(ref)
        if hyp:
            chunks = jiwer.process_words(" ".join(ref), " ".join(hyp)).alignments[0]
        else:
            chunks = [jiwer.AlignmentChunk("delete", 0, len(ref), 0, 0)]
        for c in chunks:
            if c.type == "substitute":
                counts["substitutions"] += c.ref_end_idx - c.ref_start_idx
                for t, r in zip(ref[c.ref_start_idx:c.ref_end_idx], hyp[c.hyp_start_idx:c.hyp_end_idx]):
                    confusions[t, r] += 1
                    errors_of[t] += 1
            elif c.type == "delete":
                counts["deletions"] += c.ref_end_idx - c.ref_start_idx
                errors_of.update(ref[c.ref_start_idx:c.ref_end_idx])
            elif c.type == "insert":
                counts["insertions"] += c.hyp_end_idx - c.hyp_start_idx
        n_errors = counts["substitutions"] + counts["deletions"] + counts["insertions"]
        counts["exact"] = int(n_errors == 0)
        totals.update(counts)
        per_signer[str(signer)].update(counts)
        per_sample.append({"id": clip_id, "signer": signer, "prediction": prediction, "reference": reference,
                           "errors": n_errors})

    def wer(c: Counter) -> float:
        return 100.0 * (c["substitutions"] + c["deletions"] + c["insertions"]) / c["ref_signs"]

    out = {"clips": totals["clips"], "ref_signs": totals["ref_signs"], "wer": wer(totals),
           **{k: totals[k] for k in ("substitutions", "insertions", "deletions")},
           "sentence_accuracy": 100.0 * totals["exact"] / totals["clips"] if totals["clips"] else 0.0}
    if any(s is not None for s in signers):
        out["per_signer"] = {s: {"clips": c["clips"], "ref_signs": c["ref_signs"], "wer": wer(c)}
                             for s, c in sorted(per_signer.items())}
    if lexicon is not None:
        out["misread"] = misread_parameters(confusions, lexicon, top_k)
        out["misread"]["most_misread"] = [
            {"gloss": g, "occurrences": occurrences[g], "errors": n, "error_rate": 100.0 * n / occurrences[g]}
            for g, n in sorted(errors_of.items(), key=lambda kv: (-kv[1], kv[0]))[:top_k]]
    out["per_sample"] = per_sample
    return out


def misread_parameters(confusions: Counter, lexicon: Lexicon, top_k: int = 15) -> dict:
    """From substitution counts {(true, read): n}: how often each parameter differs, how many parameters
    differ per substitution, and the most frequent confusions with their differing parameters."""
    known = {pair: n for pair, n in confusions.items() if pair[0] in lexicon and pair[1] in lexicon}
    unknown = sum(n for pair, n in confusions.items() if pair not in known)
    parameters = Counter()
    differing = Counter()
    top = []
    for (true, read), n in sorted(known.items(), key=lambda kv: (-kv[1], kv[0])):
        diff = differing_parameters(lexicon[true], lexicon[read])
        parameters.update({p: n for p in diff})
        differing[len(diff)] += n
        if len(top) < top_k:
            top.append({"true": true, "read": read, "count": n, "differ": diff})
    n_known = sum(known.values())
    return {"substitutions": n_known + unknown, "unknown": unknown,
            "parameters": {p: {"count": parameters[p], "share": 100.0 * parameters[p] / n_known if n_known else 0.0}
                           for p in PARAMETERS},
            "differing": {str(k): differing[k] for k in sorted(differing)},
            "top_confusions": top}
