"""Domain logic of the classifier: taxonomy data, Dutch matching, scoring, the v1 contract."""

from __future__ import annotations

import dataclasses
import importlib.resources
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.v1 import ClassificationV1
from schemas.vocabulary import LIFE_DOMAINS
from services.classifier.domain import (
    Taxonomy,
    classifier_version,
    classify,
    load_default_taxonomy,
    parse_taxonomy,
)
from services.classifier.domain.model import term_key

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
LIFE_DOMAIN_IDS = [domain.id for domain in LIFE_DOMAINS]


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return load_default_taxonomy()


def run(text: str, taxonomy: Taxonomy) -> ClassificationV1:
    return classify(text, taxonomy, classified_at=NOW)


def tagged(result: ClassificationV1) -> set[str]:
    return {tag.domain for tag in result.domains}


def evidence_terms(result: ClassificationV1, domain: str) -> dict[str, str]:
    """term -> matched text, for one tagged domain."""
    for tag in result.domains:
        if tag.domain == domain:
            return {e.term: e.matched for e in tag.evidence}
    raise AssertionError(f"{domain} not tagged: {tagged(result)}")


def default_toml() -> str:
    resource = importlib.resources.files("services.classifier.domain") / "taxonomy_v1.toml"
    return resource.read_text(encoding="utf-8")


def small_toml(terms: dict[str, str], *, version: str = "test-1") -> str:
    """A taxonomy with all shared domains, each with a nonsense word plus ``terms[id]``
    (TOML lines), so a test controls exactly which entries exist."""
    blocks = [f'version = "{version}"\n']
    for domain in LIFE_DOMAINS:
        levels = ", ".join(f'"{level}"' for level in domain.levels)
        blocks.append(
            f'[[domains]]\nid = "{domain.id}"\nlabel = "{domain.label}"\n'
            f'description = "Test."\nlevels = [{levels}]\n'
            f"[domains.terms]\nqqq{domain.id.replace('_', '')} = 1.0\n"
            f"{terms.get(domain.id, '')}\n"
        )
    return "\n".join(blocks)


# --- the packaged taxonomy ----------------------------------------------------------------


def test_default_taxonomy_matches_the_shared_vocabulary(taxonomy: Taxonomy) -> None:
    assert taxonomy.version == "v1.3"
    assert list(taxonomy.domain_ids[: len(LIFE_DOMAINS)]) == LIFE_DOMAIN_IDS
    for shared in LIFE_DOMAINS:
        domain = taxonomy.domain(shared.id)
        assert domain.label == shared.label
        assert domain.levels == shared.levels
        assert 0 < domain.threshold <= 1
        assert len(domain.terms) >= 40, f"{domain.id} has a thin vocabulary"


@pytest.mark.parametrize(
    ("domain", "service"),
    [
        ("dienstverlening", "OCMW"),
        ("dienstverlening", "Sociaal Huis"),
        ("dienstverlening", "CLB"),
        ("onderwijs", "CLB"),
        ("dienstverlening", "CAW"),
        ("dienstverlening", "JAC"),
        ("werk", "VDAB"),
        ("mobiliteit", "De Lijn"),
        ("gezin", "Kind en Gezin"),
        ("gezin", "Huis van het Kind"),
        ("digitaal", "Smartschool"),
        ("digitaal", "Bingel"),
        ("vrije_tijd", "UiTPAS"),
        ("vrije_tijd", "kansenpas"),
        ("inkomen", "Groeipakket"),
        ("inkomen", "schooltoelage"),
        ("inkomen", "leefloon"),
        ("inkomen", "budgetmeter"),
        ("inkomen", "collectieve schuldenregeling"),
        ("onderwijs", "OKAN"),
        ("wonen", "huurwaarborg"),
        ("dienstverlening", "wachtlijst"),
    ],
)
def test_service_names_are_in_their_domain(taxonomy: Taxonomy, domain: str, service: str) -> None:
    keys = {term_key(term.text) for term in taxonomy.domain(domain).terms}
    assert term_key(service) in keys


def test_classifier_version_names_rules_and_taxonomy(taxonomy: Taxonomy) -> None:
    version = classifier_version(taxonomy)
    assert version.startswith("lexicon-")
    assert "+taxonomy-seinpost_v1-v1.3+" in version
    changed = parse_taxonomy(default_toml().replace("tandarts = 1.2", "tandarts = 1.1"))
    assert changed.version == taxonomy.version
    assert classifier_version(changed) != version, "a changed vocabulary must show"


# --- Dutch compounds, inflection, typos -----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected", "word"),
    [
        ("Het tandartsbezoek wordt telkens uitgesteld.", {"gezondheid"}, "tandartsbezoek"),
        ("Schooluitstap te duur voor drie gezinnen", {"onderwijs", "inkomen"}, "Schooluitstap"),
        ("Twee schooluitstappen dit trimester", {"onderwijs"}, "schooluitstappen"),
        ("De energiefactuur is torenhoog sinds de winter.", {"wonen", "inkomen"}, "energiefactuur"),
        ("Het vrijetijdsaanbod in de wijk is mager", {"vrije_tijd"}, "vrijetijdsaanbod"),
    ],
)
def test_compound_parts_are_evidence(
    taxonomy: Taxonomy, text: str, expected: set[str], word: str
) -> None:
    all_keys = {term_key(t.text) for d in taxonomy.domains for t in d.terms}
    assert (word.lower(),) not in all_keys, "the word itself must not be an entry here"
    result = run(text, taxonomy)
    assert expected <= tagged(result)
    assert any(word in evidence_terms(result, d).values() for d in expected)


def test_huurachterstand_is_housing_and_income(taxonomy: Taxonomy) -> None:
    result = run("Huurachterstand bij drie gezinnen in dezelfde straat.", taxonomy)
    assert {"wonen", "inkomen"} <= tagged(result)
    assert evidence_terms(result, "wonen") == {"huurachterstand": "Huurachterstand"}


def test_compound_of_unlisted_plural(taxonomy: Taxonomy) -> None:
    result = run("Veel huurachterstanden en wachtlijsten", taxonomy)
    assert evidence_terms(result, "wonen")["huurachterstand"] == "huurachterstanden"
    assert evidence_terms(result, "dienstverlening")["wachtlijst"] == "wachtlijsten"


def test_no_house_in_thuis_nor_in_hospital(taxonomy: Taxonomy) -> None:
    assert run("Ze blijven liever thuis.", taxonomy).needs_review
    result = run("De kinderen moesten naar het ziekenhuis.", taxonomy)
    assert tagged(result) == {"gezondheid"}


def test_compound_guards_with_a_permissive_vocabulary() -> None:
    # "huis" allowed inside compounds on purpose: the guards themselves must hold.
    toml = small_toml(
        {
            "wonen": "huis = 1.0",
            "onderwijs": "les = 1.0",
            "werk": "geld = 1.0",
            "gezondheid": "arts = 1.0",
        }
    )
    taxonomy = parse_taxonomy(toml)
    assert tagged(run("Het opvanghuis zit vol", taxonomy)) == {"wonen"}
    assert tagged(run("Het huisje is te klein", taxonomy)) == {"wonen"}
    assert tagged(run("Ze zoeken een kinderarts", taxonomy)) == {"gezondheid"}
    for text in (
        "Ze krijgen thuiszorg",  # a lone "t" is no word
        "Het pad liep bovenwaarts",  # nor is "bovenw"
        "Alles is in orde",  # "les" is too short to look for inside words
        "de vergelding kwam snel",  # ver- makes a new word, not a compound
    ):
        assert run(text, taxonomy).needs_review, text
    assert tagged(run("Drie lessen gemist", taxonomy)) == {"onderwijs"}
    assert tagged(run("Geen zakgeld meer", taxonomy)) == {"werk"}


def test_plural_and_diminutive_forms() -> None:
    toml = small_toml(
        {"vrije_tijd": "uitstap = 1.0", "onderwijs": "boek = 1.0", "gezin": "kind = 1.0"}
    )
    taxonomy = parse_taxonomy(toml)
    result = run("De kindjes lezen boekjes over uitstappen", taxonomy)
    assert tagged(result) == {"vrije_tijd", "onderwijs", "gezin"}
    assert evidence_terms(result, "gezin") == {"kind": "kindjes"}
    assert evidence_terms(result, "onderwijs") == {"boek": "boekjes"}
    assert evidence_terms(result, "vrije_tijd") == {"uitstap": "uitstappen"}


def test_a_typo_in_a_long_word_still_counts(taxonomy: Taxonomy) -> None:
    result = run("De tandarst is te duur", taxonomy)
    assert evidence_terms(result, "gezondheid") == {"tandarts": "tandarst"}
    # A real word one letter away from an entry is not a typo.
    assert "inkomen" not in tagged(run("Dat moeten we nog bepalen", taxonomy))


def test_phrases_win_over_their_words(taxonomy: Taxonomy) -> None:
    result = run("Afspraak gemaakt in het Huis van het Kind", taxonomy)
    assert "wonen" not in tagged(result)
    assert evidence_terms(result, "gezin") == {"huis van het kind": "Huis van het Kind"}


def test_phrases_do_not_cross_punctuation() -> None:
    taxonomy = parse_taxonomy(small_toml({"gezin": '"kind en gezin" = 1.0'}))
    assert tagged(run("Ze gingen naar Kind en Gezin", taxonomy)) == {"gezin"}
    assert tagged(run("Ze gingen naar Kind-en-Gezin", taxonomy)) == {"gezin"}
    assert run("Het kind, en gezin erbij", taxonomy).needs_review


def test_absence_is_the_problem_not_a_negation(taxonomy: Taxonomy) -> None:
    # "geen" is how most signals state the need; it must not cancel the evidence.
    assert "digitaal" in tagged(run("geen internet thuis", taxonomy))
    assert "wonen" in tagged(run("Al weken geen verwarming", taxonomy))


# --- the multi-label example and every domain ---------------------------------------------


def test_glasses_example_is_health_income_and_education(taxonomy: Taxonomy) -> None:
    text = "geen geld voor een bril, dus het kind kan het bord niet lezen"
    result = run(text, taxonomy)
    assert tagged(result) == {"gezondheid", "inkomen", "onderwijs"}
    assert result.primary_domain in {"gezondheid", "inkomen"}
    assert evidence_terms(result, "gezondheid") == {"bril": "bril"}
    assert not result.needs_review


REALISTIC_SIGNALS = [
    (
        "inkomen",
        "Mama vertelt dat ze op het einde van de maand niet meer kan rondkomen en schulden "
        "heeft bij de bank.",
    ),
    ("werk", "Papa is vorige maand ontslagen en staat nu ingeschreven als werkzoekende."),
    ("onderwijs", "De jongen spijbelt al weken en loopt een grote leerachterstand op."),
    (
        "wonen",
        "Het gezin huurt een appartement waar het water langs de muren loopt en overal "
        "schimmel zit.",
    ),
    (
        "gezondheid",
        "Het meisje heeft al maanden kiespijn maar de ouders vinden geen tandarts die nog "
        "patiënten aanneemt.",
    ),
    (
        "gezin",
        "Een alleenstaande vader met drie kleine kinderen zoekt dringend opvoedingsondersteuning.",
    ),
    (
        "vrije_tijd",
        "De kinderen zitten de hele zomervakantie binnen omdat het speelplein gesloten is.",
    ),
    (
        "dienstverlening",
        "Ouders worden van het ene loket naar het andere gestuurd en haken af door de lange "
        "wachtlijsten.",
    ),
    (
        "participatie",
        "Sinds de verhuis kent de moeder niemand meer en voelt ze zich erg eenzaam.",
    ),
    (
        "recht",
        "Het gezin heeft geen verblijfsvergunning meer en kan geen advocaat betalen.",
    ),
    (
        "mobiliteit",
        "Sinds de nieuwe dienstregeling rijdt er geen bus meer naar het dorp en moeten de "
        "kinderen een uur stappen.",
    ),
    (
        "digitaal",
        "Veel leerlingen hebben thuis geen computer of wifi en kunnen hun taken op Smartschool "
        "niet indienen.",
    ),
]


def test_every_domain_has_a_realistic_signal() -> None:
    assert sorted(domain for domain, _ in REALISTIC_SIGNALS) == sorted(LIFE_DOMAIN_IDS)


@pytest.mark.parametrize(
    ("domain", "text"), REALISTIC_SIGNALS, ids=[d for d, _ in REALISTIC_SIGNALS]
)
def test_each_domain_is_reachable(taxonomy: Taxonomy, domain: str, text: str) -> None:
    result = run(text, taxonomy)
    assert domain in tagged(result)
    assert result.primary_domain == domain


def test_irrelevant_text_goes_to_a_person(taxonomy: Taxonomy) -> None:
    result = run("het weer was mooi vandaag in de stad", taxonomy)
    assert result.needs_review is True
    assert result.domains == []
    assert result.primary_domain is None
    assert set(result.scores) == set(taxonomy.domain_ids)


def test_one_weak_word_is_not_enough(taxonomy: Taxonomy) -> None:
    result = run("Het kind kon het bord niet zien", taxonomy)
    assert 0 < result.scores["onderwijs"] < taxonomy.domain("onderwijs").threshold
    assert "onderwijs" not in tagged(result)


def test_more_evidence_scores_higher(taxonomy: Taxonomy) -> None:
    one = run("Het gezin heeft schulden", taxonomy).scores["inkomen"]
    more = run("Het gezin heeft schulden en de deurwaarder kwam langs", taxonomy)
    assert 0 < one < more.scores["inkomen"] <= 1


# --- contract properties --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Géén geld voor de CRÈCHE, wachtlijst bij het OCMW",
        "Ge\u0301e\u0301n geld voor de cre\u0300che",  # decomposed accents
        "Straße: ﬁets kapot, Buzzy Pazz te duur; ½ van de klas zonder laptop",
        "\u00a0\u00a0schimmel\u2003in de slaapkamer en vocht overal",
    ],
)
def test_evidence_offsets_point_into_the_original(taxonomy: Taxonomy, text: str) -> None:
    result = run(text, taxonomy)
    assert result.domains, "the text was chosen to have evidence"
    for tag in result.domains:
        assert tag.evidence
        for evidence in tag.evidence:
            assert text[evidence.start : evidence.end] == evidence.matched
            assert evidence.matched.strip() == evidence.matched != ""


def test_result_shape(taxonomy: Taxonomy) -> None:
    text = "Geen laptop en geen wifi, huiswerk op Smartschool lukt niet, ouders hebben schulden"
    result = run(text, taxonomy)
    assert set(result.scores) == set(taxonomy.domain_ids)
    assert all(0.0 <= score <= 1.0 for score in result.scores.values())
    scores = [tag.score for tag in result.domains]
    assert scores == sorted(scores, reverse=True)
    for domain in taxonomy.domains:
        passed = result.scores[domain.id] >= domain.threshold
        assert passed == (domain.id in tagged(result))
    assert result.primary_domain == result.domains[0].domain
    assert result.taxonomy_version == "v1.3"
    assert result.classifier_version == classifier_version(taxonomy)
    assert result.classified_at == NOW


def test_deterministic(taxonomy: Taxonomy) -> None:
    text = "Schimmel in de sociale flats, kinderen ziek, huisbaas reageert niet, OCMW verwittigd"
    first = run(text, taxonomy)
    assert run(text, taxonomy) == first
    assert run(text, parse_taxonomy(default_toml())) == first


# --- validation of taxonomy files ---------------------------------------------------------


def test_small_taxonomy_parses() -> None:
    taxonomy = parse_taxonomy(small_toml({}))
    assert taxonomy.version == "test-1"
    assert taxonomy.domain_ids == tuple(LIFE_DOMAIN_IDS)


def test_missing_domain_is_rejected() -> None:
    toml = small_toml({}).replace('id = "mobiliteit"', 'id = "vervoer"')
    with pytest.raises(ValueError, match="mobiliteit"):
        parse_taxonomy(toml)


@pytest.mark.parametrize(
    "terms",
    [
        "bril = 1.0\nbril = 0.5",  # the same key twice: TOML itself refuses it
        'bril = 1.0\n"Bril" = 0.5',
        'crèche = 1.0\n"creche" = 0.5',
        '"kind en gezin" = 1.0\n"Kind  en Gezin" = 0.5',
    ],
)
def test_duplicate_term_is_rejected(terms: str) -> None:
    toml = small_toml({"gezondheid": terms.replace("crèche", '"crèche"')})
    with pytest.raises(ValueError, match=r"twice|overwrite"):
        parse_taxonomy(toml)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('id = "wonen"', 'id = "Wonen!"'), "Wonen!"),
        (('id = "digitaal"', 'id = "wonen"'), "listed twice"),
        (('id = "wonen"', 'id = "wonen"\nthreshold = 0.0'), "threshold"),
        (('id = "wonen"', 'id = "wonen"\nthreshold = 1.5'), "threshold"),
        (('id = "wonen"', 'id = "wonen"\ntreshold = 0.5'), "treshold"),
        (("qqqwonen = 1.0", "qqqwonen = 0"), "weight"),
        (("qqqwonen = 1.0", 'qqqwonen = "veel"'), "qqqwonen"),
        (("qqqwonen = 1.0", ""), "wonen"),
        (('levels = ["vlaams", "lokaal"]', 'levels = ["europees"]'), "europees"),
        (('version = "test-1"', 'version = ""'), "version"),
    ],
)
def test_invalid_taxonomy_names_the_problem(change: tuple[str, str], message: str) -> None:
    toml = small_toml({})
    old, new = change
    assert old in toml
    with pytest.raises(ValueError, match=message):
        parse_taxonomy(toml.replace(old, new, 1))


def test_invalid_toml_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="TOML"):
        parse_taxonomy("version = ")


def test_neutral_word_that_is_also_a_term_is_rejected() -> None:
    toml = 'neutral_words = ["bril"]\n' + small_toml({"gezondheid": "bril = 1.0"})
    with pytest.raises(ValueError, match="bril"):
        parse_taxonomy(toml)


def test_taxonomy_objects_cannot_skip_validation(taxonomy: Taxonomy) -> None:
    with pytest.raises(ValueError, match="gezondheid"):
        dataclasses.replace(
            taxonomy, domains=tuple(d for d in taxonomy.domains if d.id != "gezondheid")
        )


# --- networks extend the taxonomy ---------------------------------------------------------

CLIMATE_DOMAIN = """
[[domains]]
id = "klimaat"
label = "Klimaat en hitte"
description = "Hitte, overstromingen en gebrek aan groen in de buurt."
levels = ["lokaal"]
threshold = 0.4

[domains.terms]
hittegolf = 1.2
hitte = 0.8
overstroming = 1.2
"geen groen" = 0.8
"""


def test_a_network_can_add_a_thirteenth_domain() -> None:
    taxonomy = parse_taxonomy(
        default_toml()
        .replace('version = "v1.3"', 'version = "v1-gent.1"')
        .replace('id = "seinpost_v1"', 'id = "gent_v1"')
        + CLIMATE_DOMAIN
    )
    assert taxonomy.id == "gent_v1", "a network's own taxonomy has its own identity"
    assert len(taxonomy.domains) == len(LIFE_DOMAINS) + 1
    result = run("Tijdens de hittegolf was het in de flats niet uit te houden", taxonomy)
    assert "klimaat" in tagged(result)
    assert evidence_terms(result, "klimaat") == {"hittegolf": "hittegolf"}
    assert set(result.scores) == {*LIFE_DOMAIN_IDS, "klimaat"}
    assert result.taxonomy_version == "v1-gent.1"
    assert "v1-gent.1" in result.classifier_version


def test_threshold_is_configurable_per_domain(taxonomy: Taxonomy) -> None:
    text = "Het tandartsbezoek wordt telkens uitgesteld."
    assert "gezondheid" in tagged(run(text, taxonomy))
    strict = parse_taxonomy(
        default_toml().replace('id = "gezondheid"', 'id = "gezondheid"\nthreshold = 0.95')
    )
    result = run(text, strict)
    assert result.needs_review
    assert result.scores["gezondheid"] == run(text, taxonomy).scores["gezondheid"]


# --- arbitrary input ----------------------------------------------------------------------

_WORDS = [
    "geen", "geld", "huurachterstand", "schooluitstappen", "thuis", "De", "Lijn", "CLB",
    "crèche", "Kind", "en", "Gezin", "tandarst", "ß", "é", "\u0301", "½", "ﬁ", "İ", "-", "'",
]  # fmt: skip
_signal_like = st.lists(st.one_of(st.sampled_from(_WORDS), st.text(max_size=8)), max_size=40).map(
    lambda parts: " ".join(parts)
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(st.text(max_size=400), _signal_like))
def test_any_text_gives_a_valid_classification(text: str) -> None:
    taxonomy = load_default_taxonomy()
    result = classify(text, taxonomy, classified_at=NOW)
    assert result.needs_review == (not result.domains)
    assert set(result.scores) == set(taxonomy.domain_ids)
    assert all(0.0 <= score <= 1.0 for score in result.scores.values())
    for tag in result.domains:
        for evidence in tag.evidence:
            assert 0 <= evidence.start < evidence.end <= len(text)
            assert text[evidence.start : evidence.end] == evidence.matched


# --- which tag is primary -------------------------------------------------------------------


def test_primary_prefers_evidence_early_in_the_text_at_equal_scores() -> None:
    taxonomy = parse_taxonomy(
        small_toml({"onderwijs": "schoolreis = 1.0", "inkomen": "duur = 1.0"})
    )
    first = run("De schoolreis is veel te duur voor het gezin", taxonomy)
    assert first.scores["onderwijs"] == first.scores["inkomen"]
    assert first.primary_domain == "onderwijs"
    assert first.domains[0].domain == "onderwijs"
    second = run("Alles is zo duur, ook de schoolreis", taxonomy)
    assert second.primary_domain == "inkomen"
    assert [tag.domain for tag in second.domains] == ["inkomen", "onderwijs"]


def test_a_cross_cutting_domain_yields_primary_to_a_concrete_need() -> None:
    terms = {"dienstverlening": "ocmw = 1.0", "wonen": "huurachterstand = 1.0"}
    text = "Het OCMW antwoordt niet over de huurachterstand"
    plain = parse_taxonomy(small_toml(terms))
    assert run(text, plain).primary_domain == "dienstverlening"  # earlier, same score
    marked = parse_taxonomy(
        small_toml(terms).replace(
            'id = "dienstverlening"\n', 'id = "dienstverlening"\ncross_cutting = true\n'
        )
    )
    assert marked.domain("dienstverlening").cross_cutting
    assert marked.fingerprint != plain.fingerprint
    result = run(text, marked)
    assert result.primary_domain == "wonen"
    assert {tag.domain for tag in result.domains} == {"wonen", "dienstverlening"}
    # Much stronger evidence still wins: the discount is a tie-break, not a ban.
    stronger = parse_taxonomy(
        small_toml({**terms, "dienstverlening": 'ocmw = 1.0\n"sociale dienst" = 1.0'}).replace(
            'id = "dienstverlening"\n', 'id = "dienstverlening"\ncross_cutting = true\n'
        )
    )
    assert run("Het OCMW en de sociale dienst: huurachterstand", stronger).primary_domain == (
        "dienstverlening"
    )


def test_a_side_domain_needs_half_the_primary_score() -> None:
    strong = parse_taxonomy(
        small_toml({"wonen": "schimmel = 1.5\nvocht = 1.5", "gezin": "kinderen = 0.45"})
    )
    side = run("Schimmel en vocht overal, de kinderen slapen in de living", strong)
    assert side.scores["gezin"] >= strong.domain("gezin").threshold
    assert side.scores["gezin"] < 0.5 * side.scores["wonen"]
    assert tagged(side) == {"wonen"}
    # At half the primary's score or more it is a second problem, so a second tag.
    weaker = parse_taxonomy(small_toml({"wonen": "schimmel = 0.6", "gezin": "kinderen = 0.45"}))
    both = run("Schimmel in de kamer van de kinderen", weaker)
    assert both.primary_domain == "wonen"
    assert [tag.domain for tag in both.domains] == ["wonen", "gezin"]


def test_common_words_with_a_term_inside_are_no_evidence(taxonomy: Taxonomy) -> None:
    # geregeld (geld), kwartaal (taal), vergeten (eten), schuldgevoel (schuld)
    text = "Ik ben geregeld iets vergeten dit kwartaal en heb een schuldgevoel"
    result = run(text, taxonomy)
    assert result.needs_review
    assert max(result.scores.values()) == 0.0


def test_packaged_taxonomy_marks_services_and_participation_cross_cutting(
    taxonomy: Taxonomy,
) -> None:
    assert {d.id for d in taxonomy.domains if d.cross_cutting} == {
        "dienstverlening",
        "participatie",
    }


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "Geen geld voor de schooluitstap, de huur - en  de factuur!",
        "Crèche te duur; Kind en Gezin zegt: 'wachtlijst'",
        "OCMW/CAW...  pro-deo advocaat ' s avonds",
        "één twee drie – vier—vijf",
        "a b,c\nd\t\te",
        "😀 emoji alleen 😀",
        "ÉCOLE Straße ﬁnale",
    ],
)
def test_tokenize_fast_path_equals_the_general_path(text: str) -> None:
    # The identity-offset fast path must give exactly the tokens of the general path fed an
    # identity offset map (where the general path is valid: every character folds to one).
    _assert_fast_tokens(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab é-'., \n\u0301ß😀"), max_size=40))
def test_tokenize_fast_path_equals_the_general_path_on_any_text(text: str) -> None:
    _assert_fast_tokens(text)


def _assert_fast_tokens(text: str) -> None:
    from services.classifier.domain.text import (
        _normalise_with_offsets,
        _tokenize_mapped,
        tokenize,
    )

    norm, origin = _normalise_with_offsets(text)
    reference = _tokenize_mapped(text, norm, list(range(len(text))) if origin is None else origin)
    assert tokenize(text) == reference


def _reference_find(taxonomy: Taxonomy, text: str) -> list[tuple[int, int, str, int]]:
    # The matcher's rules word by word, without its fast paths (no skipping of inactive
    # words, no plain per-word cache): what find() must equal.
    from services.classifier.domain.matcher import _negated
    from services.classifier.domain.text import tokenize

    index = taxonomy.index
    tokens = tokenize(text)
    analyses = [index._analyse(token.norm, token.raw) for token in tokens]
    out: list[tuple[int, int, str, int]] = []
    position = 0
    while position < len(tokens):
        end, hits = position, analyses[position].hits
        if analyses[position].phrases and position + 1 < len(tokens):
            phrase_end, phrase_hits = index._phrase_at(tokens, analyses, position)
            if phrase_hits:
                end, hits = phrase_end, phrase_hits
        if hits and _negated(tokens, position):
            hits = tuple(hit for hit in hits if not hit.negatable)
        out.extend((tokens[position].start, tokens[end].end, hit.term, hit.domain) for hit in hits)
        position = end + 1
    return out


def test_find_equals_the_word_by_word_reference(taxonomy: Taxonomy) -> None:
    from pathlib import Path

    data = Path(__file__).resolve().parents[2] / "data" / "classifier"
    texts = [
        line.split('"text": "', 1)[1].split('"', 1)[0]
        for name in ("dev.jsonl", "heldout.jsonl", "heldout_voices.jsonl", "heldout_2.jsonl")
        for line in (data / name).read_text("utf-8").splitlines()
        if line.strip()
    ]
    texts += [
        "Huis van het Kind, geen schulden; niet meer ziek - Kind en Gezin",
        "Crèche te duur, géén schulden meer, de lijn rijdt niet",
        "",
    ]
    for text in texts:
        found = [(m.start, m.end, m.hit.term, m.hit.domain) for m in taxonomy.index.find(text)]
        assert found == _reference_find(taxonomy, text), text
