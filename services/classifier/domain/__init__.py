"""Pure domain logic of the classifier: tag a signal with life domains (levensdomeinen).

No I/O apart from reading taxonomy files::

    taxonomy = load_default_taxonomy()
    result = classify(text, taxonomy, classified_at=now, model=learned_or_none)
"""

from .corrections import UnknownDomainsError, belongs_to, corrected_classification
from .learned import LearnedModel, TrainingExample, train
from .model import Domain, Term
from .scoring import LEXICON_VERSION, classifier_version, classify, classify_many
from .taxonomy import Taxonomy, load_default_taxonomy, load_taxonomy, parse_taxonomy
from .text import warm_up

__all__ = [
    "LEXICON_VERSION",
    "Domain",
    "LearnedModel",
    "Taxonomy",
    "Term",
    "TrainingExample",
    "UnknownDomainsError",
    "belongs_to",
    "classifier_version",
    "classify",
    "classify_many",
    "corrected_classification",
    "load_default_taxonomy",
    "load_taxonomy",
    "parse_taxonomy",
    "train",
    "warm_up",
]
