"""The synthetic signed language's vocabulary and its signs.

Every English word (or fixed phrase such as "next week") has one gloss and one sign. A sign is a bundle
of phonological parameters, as in sign language phonology (Stokoe): a handshape (finger flexion), a
location (where the dominant wrist goes, relative to the body), a movement (path, repetition, twist or
finger change on top of the location), an orientation (forearm twist and wrist flexion) and a hand
arrangement (one hand, two symmetric hands, two alternating hands, or a dominant hand acting on a
static base hand). Pronouns, numbers and time words get iconic signs (pointing, counted fingers, the
time line from behind to in front of the body); every other gloss draws its parameters from the seed.
"""
from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass

import numpy as np

# ---- the words -----------------------------------------------------------------------------------
# Nouns: gloss -> (singular, plural, category). Mass nouns have plural None.
NOUNS = {
    **{w.upper(): (w, None, "place") for w in ["store", "school", "house", "park", "library", "hospital", "office", "restaurant", "church", "bank", "beach", "city", "farm", "airport", "museum", "kitchen", "garden", "market"]},
    **{w.upper(): (w, p, "person") for w, p in (
        ("teacher", "teachers"), ("doctor", "doctors"), ("friend", "friends"), ("mother", "mothers"),
        ("father", "fathers"), ("sister", "sisters"), ("brother", "brothers"), ("child", "children"),
        ("baby", "babies"), ("student", "students"), ("boss", "bosses"), ("nurse", "nurses"),
        ("neighbor", "neighbors"), ("cousin", "cousins"), ("grandmother", "grandmothers"),
        ("grandfather", "grandfathers"), ("farmer", "farmers"), ("police officer", "police officers"))},
    **{w.upper(): (w, p, "food") for w, p in (
        ("apple", "apples"), ("bread", None), ("cake", "cakes"), ("cheese", None), ("egg", "eggs"),
        ("soup", None), ("pizza", "pizzas"), ("rice", None), ("banana", "bananas"),
        ("cookie", "cookies"), ("orange", "oranges"), ("sandwich", "sandwiches"), ("salad", None),
        ("potato", "potatoes"), ("candy", None))},
    **{w.upper(): (w, None, "drink") for w in ["water", "coffee", "tea", "milk", "juice", "beer", "wine"]},
    **{w.upper(): (w, p, "thing") for w, p in (
        ("book", "books"), ("car", "cars"), ("phone", "phones"), ("computer", "computers"),
        ("letter", "letters"), ("ball", "balls"), ("bicycle", "bicycles"), ("chair", "chairs"),
        ("table", "tables"), ("shirt", "shirts"), ("shoe", "shoes"), ("key", "keys"), ("pen", "pens"),
        ("picture", "pictures"), ("bag", "bags"), ("hat", "hats"), ("clock", "clocks"),
        ("newspaper", "newspapers"), ("box", "boxes"), ("cup", "cups"), ("window", "windows"),
        ("door", "doors"), ("flower", "flowers"), ("gift", "gifts"), ("umbrella", "umbrellas"),
        ("ticket", "tickets"), ("lamp", "lamps"))},
    **{w.upper(): (w, p, "animal") for w, p in (
        ("dog", "dogs"), ("cat", "cats"), ("bird", "birds"), ("horse", "horses"), ("cow", "cows"),
        ("rabbit", "rabbits"), ("mouse", "mice"), ("duck", "ducks"), ("sheep", "sheep"),
        ("pig", "pigs"), ("fish", "fish"), ("chicken", "chickens"))},
}
NOUNS = {g.replace(" ", "-"): v for g, v in NOUNS.items()}

ANY = ("place", "person", "food", "drink", "thing", "animal")
# Verbs: gloss -> (base, third person singular, past, -ing form, object categories). "place" objects
# take "to the": motion verbs.
VERBS = {
    "GO": ("go", "goes", "went", "going", ("place",)),
    "WALK": ("walk", "walks", "walked", "walking", ("place",)),
    "DRIVE": ("drive", "drives", "drove", "driving", ("place",)),
    "RUN": ("run", "runs", "ran", "running", ("place",)),
    "COME": ("come", "comes", "came", "coming", ("place",)),
    "RIDE": ("ride", "rides", "rode", "riding", ("place",)),
    "LIKE": ("like", "likes", "liked", "liking", ANY),
    "WANT": ("want", "wants", "wanted", "wanting", ("food", "drink", "thing", "animal")),
    "NEED": ("need", "needs", "needed", "needing", ("food", "drink", "thing", "person")),
    "SEE": ("see", "sees", "saw", "seeing", ("person", "animal", "thing", "place")),
    "BUY": ("buy", "buys", "bought", "buying", ("food", "drink", "thing", "animal")),
    "EAT": ("eat", "eats", "ate", "eating", ("food",)),
    "DRINK": ("drink", "drinks", "drank", "drinking", ("drink",)),
    "READ": ("read", "reads", "read", "reading", ("book",)),
    "WRITE": ("write", "writes", "wrote", "writing", ("letter",)),
    "FIND": ("find", "finds", "found", "finding", ("thing", "animal")),
    "BRING": ("bring", "brings", "brought", "bringing", ("food", "drink", "thing")),
    "COOK": ("cook", "cooks", "cooked", "cooking", ("food",)),
    "CLEAN": ("clean", "cleans", "cleaned", "cleaning", ("thing", "place")),
    "HELP": ("help", "helps", "helped", "helping", ("person",)),
    "VISIT": ("visit", "visits", "visited", "visiting", ("person", "place")),
    "LOVE": ("love", "loves", "loved", "loving", ("person", "animal", "food", "drink")),
    "HAVE": ("have", "has", "had", "having", ("thing", "animal", "food")),
    "MAKE": ("make", "makes", "made", "making", ("food",)),
    "SELL": ("sell", "sells", "sold", "selling", ("thing", "food", "animal")),
    "LOSE": ("lose", "loses", "lost", "losing", ("thing",)),
    "DRAW": ("draw", "draws", "drew", "drawing", ("animal", "person")),
    "CALL": ("call", "calls", "called", "calling", ("person",)),
    "MEET": ("meet", "meets", "met", "meeting", ("person",)),
    "TEACH": ("teach", "teaches", "taught", "teaching", ("person",)),
    "WATCH": ("watch", "watches", "watched", "watching", ("person", "animal")),
    "OPEN": ("open", "opens", "opened", "opening", ("door",)),
    "FORGET": ("forget", "forgets", "forgot", "forgetting", ("thing",)),
    "CARRY": ("carry", "carries", "carried", "carrying", ("thing", "food")),
    "FEED": ("feed", "feeds", "fed", "feeding", ("animal", "person")),
    "WASH": ("wash", "washes", "washed", "washing", ("thing",)),
}
# Narrow object classes used above (a subset of one category).
OBJECT_SUBSETS = {"book": ("BOOK", "NEWSPAPER", "LETTER"), "letter": ("LETTER", "BOOK"),
                  "door": ("DOOR", "WINDOW", "BOX", "BAG", "LETTER", "GIFT", "UMBRELLA")}

# Adjectives: gloss -> categories they describe.
_LIVING, _THINGS, _PLACES = ("person", "animal"), ("thing", "food"), ("place",)
ADJECTIVES = {
    **{w.upper(): _LIVING for w in
       ["happy", "sad", "tired", "hungry", "young", "sick", "angry", "funny", "quiet", "tall", "smart", "busy", "strong", "friendly"]},
    **{w.upper(): _THINGS for w in
       ["red", "blue", "green", "yellow", "black", "white", "heavy", "warm", "brown", "hot", "cold", "fast"]},
    **{w.upper(): _THINGS + _PLACES for w in ["big", "small", "new", "expensive", "cheap", "clean", "dirty", "beautiful"]},
    **{w.upper(): _LIVING + _THINGS + _PLACES for w in ["old", "good", "bad", "nice"]},
}
ADJECTIVES["FAST"] = ("thing", "animal")
for _adj in ("HOT", "COLD", "WARM", "EXPENSIVE", "CHEAP", "GOOD", "BAD", "NICE"):
    ADJECTIVES[_adj] += ("drink",)

PRONOUNS = {  # gloss -> (English, person-number: 1s 2 3s 1p 3p)
    "I": ("I", "1s"), "YOU": ("you", "2"), "HE": ("he", "3s"), "SHE": ("she", "3s"),
    "WE": ("we", "1p"), "THEY": ("they", "3p"),
}
POSSESSIVES = {"MY": "my", "YOUR": "your", "HIS": "his", "HER": "her", "OUR": "our", "THEIR": "their"}
# Time words: gloss -> (English, tense). Tense picks the English verb form; the gloss has no tense.
TIME_WORDS = {
    "TOMORROW": ("tomorrow", "future"), "YESTERDAY": ("yesterday", "past"), "TODAY": ("today", "present"),
    "NOW": ("now", "progressive"), "LATER": ("later", "future"), "TONIGHT": ("tonight", "future"),
    "MORNING": ("this morning", "past"), "NEXT-WEEK": ("next week", "future"),
    "LAST-WEEK": ("last week", "past"), "EVERY-DAY": ("every day", "present"),
    "LAST-YEAR": ("last year", "past"), "NEXT-YEAR": ("next year", "future"), "SOON": ("soon", "future"),
    "EVERY-WEEK": ("every week", "present"),
}
NUMBERS = {g: w for g, w in zip(["ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE", "TEN"],
                                ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"])}
WH_WORDS = {"WHAT": "what", "WHERE": "where", "WHO": "who", "WHEN": "when", "WHY": "why", "HOW": "how",
            "WHICH": "which", "HOW-MANY": "how many"}
FUNCTION_SIGNS = {"NOT": "not"}

WORD_CLASSES = {"pronoun": {**{g: e for g, (e, _) in PRONOUNS.items()}, **POSSESSIVES},
                "noun": {g: v[0] for g, v in NOUNS.items()},
                "verb": {g: v[0] for g, v in VERBS.items()},
                "adjective": {g: g.lower() for g in ADJECTIVES},
                "time": {g: v[0] for g, v in TIME_WORDS.items()},
                "number": NUMBERS, "question": WH_WORDS, "function": FUNCTION_SIGNS}

# ---- the phonological parameters -----------------------------------------------------------------
FINGER_ORDER = ("index", "middle", "pinky", "ring", "thumb")  # SMPL-X hand order
_CURLED, _STRAIGHT, _TUCK = (75.0, 95.0, 60.0), (0.0, 0.0, 0.0), (25.0, 35.0, 30.0)


def _shape(index=_CURLED, middle=_CURLED, pinky=_CURLED, ring=_CURLED, thumb=_TUCK, spread=0.0,
           thumb_out=0.0):
    return {"flexion": [list(index), list(middle), list(pinky), list(ring), list(thumb)],
            "spread": spread, "thumb_out": thumb_out}


# Handshape: flexion in degrees of joints 1-3 of each finger (SMPL-X order: index, middle, pinky, ring,
# thumb), finger spread (degrees between neighbouring fingers), thumb abduction away from the palm.
HANDSHAPES = {
    "fist": _shape(),
    "A": _shape(thumb=_STRAIGHT, thumb_out=10.0),
    "flat": _shape(_STRAIGHT, _STRAIGHT, _STRAIGHT, _STRAIGHT, (10.0, 15.0, 5.0)),
    "open5": _shape(_STRAIGHT, _STRAIGHT, _STRAIGHT, _STRAIGHT, _STRAIGHT, spread=14.0, thumb_out=45.0),
    "index": _shape(index=_STRAIGHT),
    "V": _shape(index=_STRAIGHT, middle=_STRAIGHT, spread=14.0),
    "three": _shape(index=_STRAIGHT, middle=_STRAIGHT, thumb=_STRAIGHT, spread=14.0, thumb_out=45.0),
    "W": _shape(index=_STRAIGHT, middle=_STRAIGHT, ring=_STRAIGHT, spread=12.0),
    "four": _shape(_STRAIGHT, _STRAIGHT, _STRAIGHT, _STRAIGHT, spread=10.0),
    "C": _shape(*[(30.0, 45.0, 25.0)] * 4, thumb=(10.0, 20.0, 10.0), thumb_out=40.0),
    "O": _shape(*[(55.0, 70.0, 45.0)] * 4, thumb=(25.0, 35.0, 25.0), thumb_out=35.0),
    "Y": _shape(pinky=_STRAIGHT, thumb=_STRAIGHT, spread=14.0, thumb_out=50.0),
    "L": _shape(index=_STRAIGHT, thumb=_STRAIGHT, thumb_out=60.0),
    "I": _shape(pinky=_STRAIGHT),
    "claw": _shape(*[(10.0, 85.0, 60.0)] * 4, thumb=(10.0, 40.0, 30.0), spread=12.0, thumb_out=30.0),
    "bent": _shape(*[(85.0, 0.0, 0.0)] * 4, thumb=(10.0, 10.0, 0.0)),
    "X": _shape(index=(20.0, 90.0, 70.0)),
}

# Location: (landmark, offset in metres). Landmarks are joints of the signer's rest skeleton or the
# two shoulders ("dominant"/"other" side); offsets are (toward the dominant side, up, forward).
LOCATIONS = {
    "neutral": ("spine3", (0.06, -0.10, 0.36)),
    "neutral_high": ("neck", (0.10, 0.0, 0.36)),
    "neutral_low": ("spine2", (0.05, -0.08, 0.34)),
    "neutral_side": ("spine3", (0.22, -0.08, 0.30)),
    "chest": ("spine3", (0.0, -0.04, 0.24)),
    "stomach": ("spine1", (0.02, 0.02, 0.26)),
    "chin": ("head", (0.0, -0.12, 0.20)),
    "mouth": ("head", (0.0, -0.08, 0.21)),
    "cheek": ("head", (0.08, -0.06, 0.17)),
    "forehead": ("head", (0.0, 0.04, 0.20)),
    "temple": ("head", (0.10, 0.0, 0.15)),
    "shoulder_dominant": ("dominant_shoulder", (0.0, -0.06, 0.16)),
    "shoulder_other": ("other_shoulder", (0.02, -0.08, 0.17)),
}
# Movement: a path (metres, same axes as locations) and changes of orientation or handshape over the
# sign's phase s in [0, 1]; see motion.movement_channels.
MOVEMENTS = ("hold", "forward", "back", "down", "up", "sideways", "arc", "circle", "circle_flat", "tap",
             "twist", "wiggle", "nod", "shake", "zigzag", "close", "open")
# Orientation: (forearm twist, wrist flexion) in degrees on top of the arm's natural pose.
ORIENTATIONS = {"palm_in": (0.0, 0.0), "palm_down": (-70.0, 0.0), "palm_up": (80.0, 0.0),
                "palm_out": (-120.0, -20.0), "fingers_up": (-20.0, -45.0)}
HANDS = ("one", "symmetric", "alternating", "base")
BASE_SHAPES = ("flat", "fist", "open5", "index")
BASE_LOCATIONS = ("neutral", "neutral_high", "neutral_low", "neutral_side", "chest", "stomach")  # two-handed


@dataclass(frozen=True)
class Sign:
    """One sign's phonological parameters; duration is the citation form's length in seconds."""

    gloss: str
    handshape: str
    location: str
    movement: str
    orientation: str
    hands: str = "one"
    base_handshape: str | None = None
    duration: float = 0.6

    def key(self) -> tuple:
        """The sign's form (handshape, location, movement, orientation, hands): no two signs share one."""
        return (self.handshape, self.location, self.movement, self.orientation, self.hands,
                self.base_handshape)


def _iconic_signs() -> list[Sign]:
    """Pronouns point, numbers count on the fingers, time words move along the time line."""
    signs = [
        Sign("I", "index", "chest", "tap", "palm_in"), Sign("YOU", "index", "neutral", "forward", "palm_down"),
        Sign("HE", "index", "neutral_side", "sideways", "palm_down"),
        Sign("SHE", "index", "neutral_side", "tap", "palm_down"),
        Sign("WE", "index", "chest", "arc", "palm_in"), Sign("THEY", "index", "neutral_side", "arc", "palm_down"),
        Sign("MY", "flat", "chest", "tap", "palm_in"), Sign("YOUR", "flat", "neutral", "forward", "palm_out"),
        Sign("HIS", "flat", "neutral_side", "sideways", "palm_out"),
        Sign("HER", "flat", "neutral_side", "tap", "palm_out"),
        Sign("OUR", "flat", "chest", "arc", "palm_in"), Sign("THEIR", "flat", "neutral_side", "arc", "palm_out"),
    ]
    counting = ("index", "V", "three", "four", "open5", "W", "I", "X", "O", "A")
    for gloss, shape in zip(NUMBERS, counting):
        signs.append(Sign(gloss, shape, "neutral_high", "shake" if gloss == "TEN" else "hold", "palm_out"))
    time_line = {"TOMORROW": ("A", "cheek", "forward"), "YESTERDAY": ("Y", "cheek", "back"),
                 "TODAY": ("Y", "neutral_low", "down"), "NOW": ("bent", "neutral", "down"),
                 "LATER": ("L", "neutral_high", "forward"), "TONIGHT": ("bent", "neutral_high", "down"),
                 "MORNING": ("flat", "neutral", "up"), "NEXT-WEEK": ("index", "neutral_low", "forward"),
                 "LAST-WEEK": ("index", "neutral_low", "back"), "EVERY-DAY": ("A", "cheek", "tap"),
                 "LAST-YEAR": ("fist", "shoulder_dominant", "back"),
                 "NEXT-YEAR": ("fist", "neutral", "forward"), "SOON": ("flat", "chin", "forward"),
                 "EVERY-WEEK": ("index", "neutral_low", "circle")}
    for gloss, (shape, location, movement) in time_line.items():
        hands = "base" if gloss in ("NEXT-WEEK", "LAST-WEEK", "EVERY-WEEK", "TODAY", "NOW", "MORNING") else "one"
        base = "flat" if hands == "base" else None
        signs.append(Sign(gloss, shape, location, movement, "palm_in", hands, base))
    return signs


def all_glosses() -> list[str]:
    """Every gloss of the language, class by class."""
    return [g for words in WORD_CLASSES.values() for g in words]


def build_lexicon(seed: int) -> dict[str, Sign]:
    """gloss → Sign, deterministic in `seed`; no two glosses share all parameters."""
    signs = {s.gloss: s for s in _iconic_signs()}
    taken = {s.key() for s in signs.values()}
    hands_p = np.array([0.55, 0.2, 0.1, 0.15])
    for gloss in all_glosses():
        if gloss in signs:
            continue
        # One generator per gloss (seeded by the gloss's checksum), so adding words changes no other sign.
        rng = np.random.default_rng([seed, zlib.crc32(gloss.encode())])
        while True:
            hands = str(rng.choice(HANDS, p=hands_p))
            sign = Sign(gloss, str(rng.choice(list(HANDSHAPES))), str(rng.choice(list(LOCATIONS))),
                        str(rng.choice(MOVEMENTS)), str(rng.choice(list(ORIENTATIONS))), hands,
                        str(rng.choice(BASE_SHAPES)) if hands == "base" else None,
                        round(float(rng.uniform(0.4, 0.8)), 3))
            if hands != "one" and sign.location not in BASE_LOCATIONS:
                continue  # two hands at the face or a shoulder would collide
            if sign.key() not in taken:
                break
        taken.add(sign.key())
        signs[gloss] = sign
    return signs


def lexicon_table(lexicon: dict[str, Sign]) -> dict[str, dict]:
    """English word → {"gloss", "class", sign parameters}: the lexicon as stored in corpus.json."""
    table = {}
    for cls, words in WORD_CLASSES.items():
        for gloss, english in words.items():
            params = {k: v for k, v in asdict(lexicon[gloss]).items() if k != "gloss"}
            table[english if english not in table else f"{english} ({cls})"] = {"gloss": gloss, "class": cls,
                                                                               **params}
    return table
