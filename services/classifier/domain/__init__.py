"""Pure domain logic of the classifier: tag a signal with life domains (levensdomeinen).

No I/O apart from reading the packaged taxonomy file::

    taxonomy = load_default_taxonomy()
    result = classify(text, taxonomy, classified_at=now)
"""

from .model import Domain, Term
from .scoring import LEXICON_VERSION, classifier_version, classify
from .taxonomy import Taxonomy, load_default_taxonomy, parse_taxonomy

__all__ = [
    "LEXICON_VERSION",
    "Domain",
    "Taxonomy",
    "Term",
    "classifier_version",
    "classify",
    "load_default_taxonomy",
    "parse_taxonomy",
]
