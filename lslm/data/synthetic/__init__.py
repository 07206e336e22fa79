"""The synthetic signed language: lexicon, grammar, motion synthesis and the corpus writer.

    python data_prep/make_synthetic.py --out data/synthetic --size small
"""
from lslm.data.synthetic.generate import SIZES, generate_corpus, plan_corpus
from lslm.data.synthetic.grammar import Sentence, random_sentence
from lslm.data.synthetic.lexicon import Sign, build_lexicon
from lslm.data.synthetic.motion import Signer, sample_signer, synthesize

__all__ = [
           "SIZES",
           "Sentence",
           "Sign",
           "Signer",
           "build_lexicon",
           "generate_corpus",
           "plan_corpus",
           "random_sentence",
           "sample_signer",
           "synthesize",
]
