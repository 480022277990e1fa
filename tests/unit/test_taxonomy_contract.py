"""The classifier's taxonomy file and the contract's vocabulary describe the same 12 domains."""

from __future__ import annotations

import pytest

from schemas.vocabulary import LIFE_DOMAINS, LifeDomain
from services.classifier.domain import load_default_taxonomy


@pytest.mark.parametrize("shared", LIFE_DOMAINS, ids=lambda d: d.id)
def test_shared_domain_has_the_same_label_and_levels_in_both_places(shared: LifeDomain) -> None:
    domain = load_default_taxonomy().domain(shared.id)
    assert domain.label == shared.label
    assert tuple(domain.levels) == shared.levels
