"""Sentences of the synthetic language: English text and the gloss of the signed version.

The signed word order follows ASL-like rules that differ from English:
time first, then the topic, then the comment ("I will go to the store tomorrow." → TOMORROW STORE I GO);
the object is topicalised before subject and verb; adjectives and numbers follow their noun; negation
and wh-words come last; there are no articles, no copula, no do-support and no tense marking (tense
lives in the time sign). Yes/no questions keep the English order (marked by the face in real signing).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lslm.data.synthetic.lexicon import (
    ADJECTIVES,
    NOUNS,
    NUMBERS,
    OBJECT_SUBSETS,
    POSSESSIVES,
    PRONOUNS,
    TIME_WORDS,
    VERBS,
)

RULES = {
    "time_topic_comment": "English SUBJ VERB to the PLACE TIME → gloss TIME PLACE SUBJ VERB",
    "object_topic": "English SUBJ VERB (DET) (ADJ) NOUN (TIME) → gloss (TIME) NOUN (ADJ) SUBJ VERB",
    "adjective_predicate": "English NP is/was ADJ (TIME) → gloss (TIME) NP ADJ (no copula)",
    "number_after_noun": "English SUBJ VERB NUM NOUNs → gloss (TIME) NOUN NUM SUBJ VERB",
    "negation_final": "English SUBJ don't/didn't/won't VERB OBJ → gloss (TIME) OBJ SUBJ VERB NOT",
    "wh_final": "English WH aux SUBJ VERB ...? → gloss ... SUBJ VERB WH (wh-word last)",
    "yes_no": "English Do/Did/Will SUBJ VERB OBJ? → gloss (TIME) SUBJ VERB OBJ (English order)",
}
RULE_WEIGHTS = {"time_topic_comment": 0.2, "object_topic": 0.22, "adjective_predicate": 0.12,
                "number_after_noun": 0.1, "negation_final": 0.1, "wh_final": 0.16, "yes_no": 0.1}
MOTION_VERBS = tuple(g for g, v in VERBS.items() if v[4] == ("place",))
TRANSITIVE_VERBS = tuple(g for g in VERBS if g not in MOTION_VERBS)
COUNT_VERBS = ("HAVE", "SEE", "WANT", "NEED", "BUY", "SELL", "FIND", "BRING")
WH_ENGLISH = {"WHICH": "which", "HOW-MANY": "how many"}
_COPULA = {"present": {"1s": "am", "3s": "is"}, "past": {"1s": "was", "3s": "was"}}


@dataclass(frozen=True)
class Sentence:
    text: str
    gloss: tuple[str, ...]
    rule: str


@dataclass(frozen=True)
class _Phrase:
    """A noun phrase or subject: English words, glosses, grammatical person."""

    english: str
    gloss: tuple[str, ...]
    person: str = "3s"


def _pick(rng: np.random.Generator, options):
    options = tuple(options)
    return options[int(rng.integers(len(options)))]


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _copula(tense: str, person: str) -> str:
    if tense == "future":
        return "will be"
    table = _COPULA["past" if tense == "past" else "present"]
    return table.get(person, "were" if tense == "past" else "are")


def _verb(gloss: str, tense: str, person: str) -> str:
    base, third, past, ing, _ = VERBS[gloss]
    if tense == "past":
        return past
    if tense == "future":
        return f"will {base}"
    if tense == "progressive":
        return f"{_copula('present', person)} {ing}"
    return third if person == "3s" else base


def _do(tense: str, person: str) -> str:
    """The auxiliary of questions and negation."""
    return {"past": "did", "future": "will"}.get(tense, "does" if person == "3s" else "do")


def _nouns(categories) -> list[str]:
    out = []
    for cat in categories:
        out += OBJECT_SUBSETS.get(cat, [g for g, v in NOUNS.items() if v[2] == cat])
    return out


def _noun_phrase(rng, categories, adjective_p: float = 0.35, article: str | None = None) -> _Phrase:
    gloss = _pick(rng, _nouns(categories))
    word, plural, category = NOUNS[gloss]
    adjectives = [a for a, cats in ADJECTIVES.items() if category in cats]
    adj = _pick(rng, adjectives) if adjectives and rng.random() < adjective_p else None
    head = f"{adj.lower()} {word}" if adj else word
    roll = rng.random()
    if roll < 0.25 and category != "place":
        poss = _pick(rng, POSSESSIVES)
        return _Phrase(f"{POSSESSIVES[poss]} {head}", (poss, gloss) + ((adj,) if adj else ()))
    if article is None:
        mass = plural is None and category not in ("place", "person")
        article = "" if mass else ("the" if category == "place" or roll < 0.6 else _article(head))
    english = f"{article} {head}".strip()
    return _Phrase(english, (gloss,) + ((adj,) if adj else ()))


def _subject(rng) -> _Phrase:
    if rng.random() < 0.65:
        gloss = _pick(rng, PRONOUNS)
        english, person = PRONOUNS[gloss]
        return _Phrase(english, (gloss,), person)
    return _noun_phrase(rng, ("person",), adjective_p=0.0, article="the")


def _time(rng, p: float, tenses=("past", "present", "future", "progressive")):
    """Optional time word: (gloss tuple, English suffix, tense)."""
    if rng.random() >= p:
        return (), "", "present"
    gloss = _pick(rng, [g for g, (_, t) in TIME_WORDS.items() if t in tenses])
    english, tense = TIME_WORDS[gloss]
    return (gloss,), f" {english}", tense


def _finish(words: str, mark: str) -> str:
    words = " ".join(words.split())
    return words[0].upper() + words[1:] + mark


def _object(rng, verb: str) -> _Phrase:
    return _noun_phrase(rng, VERBS[verb][4])


def time_topic_comment(rng: np.random.Generator) -> Sentence:
    """A sentence of rule time_topic_comment (RULES): time, the place as topic, subject, verb."""
    subj, verb = _subject(rng), _pick(rng, MOTION_VERBS)
    t_gloss, t_eng, tense = _time(rng, 1.0)
    place = _noun_phrase(rng, ("place",), article="the")
    text = _finish(f"{subj.english} {_verb(verb, tense, subj.person)} to {place.english}{t_eng}", ".")
    return Sentence(text, t_gloss + place.gloss + subj.gloss + (verb,), "time_topic_comment")


def object_topic(rng: np.random.Generator) -> Sentence:
    """A sentence of rule object_topic (RULES): the object topicalised before subject and verb."""
    subj, verb = _subject(rng), _pick(rng, TRANSITIVE_VERBS)
    t_gloss, t_eng, tense = _time(rng, 0.5)
    obj = _object(rng, verb)
    text = _finish(f"{subj.english} {_verb(verb, tense, subj.person)} {obj.english}{t_eng}", ".")
    return Sentence(text, t_gloss + obj.gloss + subj.gloss + (verb,), "object_topic")


def adjective_predicate(rng: np.random.Generator) -> Sentence:
    """A sentence of rule adjective_predicate (RULES): a noun phrase and its adjective, without the copula."""
    t_gloss, t_eng, tense = _time(rng, 0.4, ("past", "present", "future"))
    if rng.random() < 0.4:
        subj = _subject(rng)
    else:
        subj = _noun_phrase(rng, ("person", "animal", "thing", "food", "place"), adjective_p=0.0, article="the")
    category = NOUNS[subj.gloss[-1]][2] if subj.gloss[-1] in NOUNS else "person"
    adj = _pick(rng, [a for a, cats in ADJECTIVES.items() if category in cats])
    text = _finish(f"{subj.english} {_copula(tense, subj.person)} {adj.lower()}{t_eng}", ".")
    return Sentence(text, t_gloss + subj.gloss + (adj,), "adjective_predicate")


def number_after_noun(rng: np.random.Generator) -> Sentence:
    """A sentence of rule number_after_noun (RULES): a counted object, the number after its noun."""
    subj, verb = _subject(rng), _pick(rng, COUNT_VERBS)
    t_gloss, t_eng, tense = _time(rng, 0.3, ("past", "present", "future"))
    noun = _pick(rng, [g for g in _nouns(VERBS[verb][4]) if NOUNS[g][1] and NOUNS[g][2] != "person"])
    number = _pick(rng, NUMBERS)
    word = NOUNS[noun][0 if number == "ONE" else 1]
    text = _finish(f"{subj.english} {_verb(verb, tense, subj.person)} {NUMBERS[number]} {word}{t_eng}", ".")
    return Sentence(text, t_gloss + (noun, number) + subj.gloss + (verb,), "number_after_noun")


def negation_final(rng: np.random.Generator) -> Sentence:
    """A sentence of rule negation_final (RULES): a negated sentence, NOT last."""
    subj, verb = _subject(rng), _pick(rng, TRANSITIVE_VERBS)
    t_gloss, t_eng, tense = _time(rng, 0.4, ("past", "present", "future"))
    obj = _object(rng, verb)
    neg = {"did": "didn't", "will": "won't", "does": "doesn't", "do": "don't"}[_do(tense, subj.person)]
    text = _finish(f"{subj.english} {neg} {VERBS[verb][0]} {obj.english}{t_eng}", ".")
    return Sentence(text, t_gloss + obj.gloss + subj.gloss + (verb, "NOT"), "negation_final")


def wh_final(rng: np.random.Generator) -> Sentence:
    """A sentence of rule wh_final (RULES): a wh-question, the wh-word last."""
    wh = _pick(rng, ("WHAT", "WHERE", "WHO", "WHEN", "WHY", "HOW", "WHICH", "HOW-MANY"))
    subj = _subject(rng)
    if wh == "WHAT":
        verb = _pick(rng, [v for v in TRANSITIVE_VERBS if set(VERBS[v][4]) & {"food", "drink", "thing"}])
        t_gloss, t_eng, tense = _time(rng, 0.5)
        if tense == "progressive":
            text = f"what {_copula('present', subj.person)} {subj.english} {VERBS[verb][3]}{t_eng}"
        else:
            text = f"what {_do(tense, subj.person)} {subj.english} {VERBS[verb][0]}{t_eng}"
        gloss = t_gloss + subj.gloss + (verb,)
    elif wh == "WHERE" and rng.random() < 0.5:
        verb = _pick(rng, MOTION_VERBS)
        t_gloss, t_eng, tense = _time(rng, 0.7, ("past", "future"))
        text = f"where {_do(tense, subj.person)} {subj.english} {VERBS[verb][0]}{t_eng}"
        gloss = t_gloss + subj.gloss + (verb,)
    elif wh in ("WHERE", "HOW"):
        subj = subj if wh == "WHERE" and rng.random() < 0.3 else _noun_phrase(
            rng, ("person",) if wh == "HOW" else ("person", "animal", "thing", "place"), adjective_p=0.0,
            article="the")
        text = f"{wh.lower()} {_copula('present', subj.person)} {subj.english}"
        gloss = subj.gloss
    elif wh == "WHO":
        verb = _pick(rng, TRANSITIVE_VERBS)
        t_gloss, t_eng, tense = _time(rng, 0.4, ("past", "present", "future"))
        obj = _object(rng, verb)
        text = f"who {_verb(verb, tense, '3s')} {obj.english}{t_eng}"
        gloss = t_gloss + obj.gloss + (verb,)
    elif wh == "WHEN":
        verb, tense = _pick(rng, MOTION_VERBS), _pick(rng, ("past", "future"))
        place = _noun_phrase(rng, ("place",), article="the")
        text = f"when {_do(tense, subj.person)} {subj.english} {VERBS[verb][0]} to {place.english}"
        gloss = place.gloss + subj.gloss + (verb,)
    elif wh == "WHY":
        tense = _pick(rng, ("present", "past"))
        adj = _pick(rng, [a for a, cats in ADJECTIVES.items() if "person" in cats])
        text = f"why {_copula(tense, subj.person)} {subj.english} {adj.lower()}"
        gloss = subj.gloss + (adj,)
    else:  # WHICH, HOW-MANY: the noun is the topic
        verb = _pick(rng, COUNT_VERBS if wh == "HOW-MANY" else ("LIKE", "WANT", "NEED", "BUY", "HAVE"))
        tense = _pick(rng, ("present", "past"))
        nouns = [g for g in _nouns(VERBS[verb][4]) if NOUNS[g][2] != "person"]
        noun = _pick(rng, [g for g in nouns if NOUNS[g][1]] if wh == "HOW-MANY" else nouns)
        word = NOUNS[noun][1] if wh == "HOW-MANY" else NOUNS[noun][0]
        text = f"{WH_ENGLISH[wh]} {word} {_do(tense, subj.person)} {subj.english} {VERBS[verb][0]}"
        gloss = (noun,) + subj.gloss + (verb,)
    return Sentence(_finish(text, "?"), gloss + (wh,), "wh_final")


def yes_no(rng: np.random.Generator) -> Sentence:
    """A sentence of rule yes_no (RULES): a yes/no question, in English order."""
    subj, verb = _subject(rng), _pick(rng, TRANSITIVE_VERBS)
    t_gloss, t_eng, tense = _time(rng, 0.3, ("past", "present", "future"))
    obj = _object(rng, verb)
    text = _finish(f"{_do(tense, subj.person)} {subj.english} {VERBS[verb][0]} {obj.english}{t_eng}", "?")
    return Sentence(text, t_gloss + subj.gloss + (verb,) + obj.gloss, "yes_no")


GENERATORS = {"time_topic_comment": time_topic_comment, "object_topic": object_topic,
              "adjective_predicate": adjective_predicate, "number_after_noun": number_after_noun,
              "negation_final": negation_final, "wh_final": wh_final, "yes_no": yes_no}


def random_sentence(rng: np.random.Generator) -> Sentence:
    """One sentence: a rule drawn by RULE_WEIGHTS, then its words."""
    names = list(RULE_WEIGHTS)
    rule = names[int(rng.choice(len(names), p=np.array([RULE_WEIGHTS[n] for n in names])))]
    return GENERATORS[rule](rng)
