"""Property tests for the scrubber: generated identifiers, in many spellings, never survive.

Every identifier is generated here from the published rules (mod 97 for the
rijksregisternummer and the Belgian account number, ISO 7064 for IBANs, the Belgian numbering
plan for phones) and checked against python-stdnum, an implementation that is not ours. Names
and street names come from Faker's Belgian, French, Turkish and Romanian lists, which the
scrubber's own lists were not written from: these are identifiers it has never seen.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from faker.providers.person.fr_BE import Provider as FrenchBelgianNames
from faker.providers.person.nl_BE import Provider as FlemishNames
from faker.providers.person.ro_RO import Provider as RomanianNames
from faker.providers.person.tr_TR import Provider as TurkishNames
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from stdnum.be import nn
from stdnum.iso7064 import mod_97_10

from schemas.v1 import RedactionKind
from services.intake.domain import privacy_lexicon as lex
from services.intake.domain.privacy import PLACEHOLDERS, Redaction, scrub

K = RedactionKind
# python-stdnum has no type hints; these are the calls used, typed.
nn_is_valid: Callable[[str], bool] = nn.is_valid
nn_birth_date: Callable[[str], date | None] = nn.get_birth_date
mod97_is_valid: Callable[[str], bool] = mod_97_10.is_valid
# Derandomised: CI must give the same verdict on every run; explore with --hypothesis-seed.
MANY = settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)

# --------------------------------------------------------------------------------------------
# Sentences around the identifiers: ordinary Dutch, no digits, no capitals, no names
# --------------------------------------------------------------------------------------------

WORDS = st.sampled_from(
    [
        "de",
        "het",
        "een",
        "kan",
        "niet",
        "betalen",
        "schooluitstap",
        "huur",
        "factuur",
        "gisteren",
        "wachtlijst",
        "via",
        "en",
        "of",
        "voor",
        "naar",
        "school",
        "is",
        "zijn",
        "ouders",
        "kinderen",
        "hulp",
        "vraagt",
        "ook",
        "nog",
        "geen",
        "verwarming",
        "brief",
        "dossier",
        "opvolgen",
        "dringend",
        "graag",
        "zegt",
        "want",
        "omdat",
        "samen",
        "met",
    ]
)
AROUND = st.tuples(st.lists(WORDS, max_size=8), st.lists(WORDS, max_size=8))


def embed(value: str, around: tuple[list[str], list[str]]) -> str:
    before, after = around
    return " ".join([*before, value, *after]) + "."


def kinds(text: str) -> set[RedactionKind]:
    return {r.kind for r in scrub(text).redactions}


def assert_no_digits_left(text: str, kind: RedactionKind) -> None:
    result = scrub(text)
    assert not re.search(r"[0-9]", result.text), (text, result.text)
    assert kind in {r.kind for r in result.redactions}, (text, result.text)


# --------------------------------------------------------------------------------------------
# Rijksregisternummer (national number), both centuries, and bis numbers
# --------------------------------------------------------------------------------------------


def national_number(born: date, serial: int, *, bis: int = 0) -> str:
    """The 11 digits: YYMMDD, serial, 97 - (number mod 97), with a 2 in front from 2000 on.
    ``bis`` adds 20 or 40 to the month, as bis numbers (no rijksregister entry) do."""
    first9 = f"{born.year % 100:02d}{born.month + bis:02d}{born.day:02d}{serial:03d}"
    base = int(first9) + (2_000_000_000 if born.year >= 2000 else 0)
    return f"{first9}{97 - base % 97:02d}"


RRN_STYLES: dict[str, Callable[[str], str]] = {
    "official": lambda d: f"{d[:2]}.{d[2:4]}.{d[4:6]}-{d[6:9]}.{d[9:]}",
    "compact": lambda d: d,
    "spaces": lambda d: f"{d[:2]} {d[2:4]} {d[4:6]} {d[6:9]} {d[9:]}",
    "date-block": lambda d: f"{d[:6]} {d[6:9]} {d[9:]}",
    "date-block-dashes": lambda d: f"{d[:6]}-{d[6:9]}-{d[9:]}",
    "all-dashes": lambda d: f"{d[:2]}-{d[2:4]}-{d[4:6]}-{d[6:9]}-{d[9:]}",
    "all-dots": lambda d: f"{d[:2]}.{d[2:4]}.{d[4:6]}.{d[6:9]}.{d[9:]}",
    "slashes": lambda d: f"{d[:2]}/{d[2:4]}/{d[4:6]}-{d[6:9]}.{d[9:]}",
    "official-no-dash": lambda d: f"{d[:2]}.{d[2:4]}.{d[4:6]} {d[6:9]}.{d[9:]}",
}
births = st.dates(date(1920, 1, 1), date(2025, 12, 31))
national_numbers = st.builds(
    national_number, births, st.integers(1, 997), bis=st.sampled_from([0, 0, 0, 20, 40])
)


@given(births, st.integers(1, 997))
def test_generated_national_numbers_are_valid_for_stdnum(born: date, serial: int) -> None:
    digits = national_number(born, serial)
    assert nn_is_valid(digits)
    assert nn_birth_date(digits) == born


@MANY
@given(national_numbers, st.sampled_from(sorted(RRN_STYLES)), AROUND)
def test_national_numbers_never_survive(
    digits: str, style: str, around: tuple[list[str], list[str]]
) -> None:
    text = embed(RRN_STYLES[style](digits), around)
    assert_no_digits_left(text, K.NATIONAL_NUMBER)
    assert kinds(text) == {K.NATIONAL_NUMBER}


@MANY
@given(
    st.integers(10, 99),  # a leading 0 could make the digits a Liège landline: see below
    st.integers(1, 12),
    st.integers(1, 28),
    st.integers(1, 997),
    st.integers(0, 99),
    st.sampled_from(["compact", "spaces", "date-block"]),
)
def test_eleven_digits_with_a_wrong_check_survive(
    yy: int, mm: int, dd: int, serial: int, check: int, style: str
) -> None:
    first9 = f"{yy:02d}{mm:02d}{dd:02d}{serial:03d}"
    valid = {97 - int(first9) % 97, 97 - (2_000_000_000 + int(first9)) % 97}
    assume(check not in valid)
    number = RRN_STYLES[style](f"{first9}{check:02d}")
    text = f"Factuur {number} van de school."
    assert scrub(text).text == text


# --------------------------------------------------------------------------------------------
# IBAN and the Belgian account number it grew from
# --------------------------------------------------------------------------------------------


def belgian_account(bank: int, account: int) -> str:
    """3 + 7 digits and the check: the first ten mod 97 (97 when that is 0)."""
    ten = f"{bank:03d}{account:07d}"
    return f"{ten}{int(ten) % 97 or 97:02d}"


def iban(country: str, bban: str) -> str:
    number = int("".join(str(int(c, 36)) for c in bban + country + "00"))
    return f"{country}{98 - number % 97:02d}{bban}"


IBAN_STYLES: dict[str, Callable[[str], str]] = {
    "compact": lambda i: i,
    "groups": lambda i: " ".join(i[k : k + 4] for k in range(0, len(i), 4)),
    "lower": lambda i: " ".join(i[k : k + 4] for k in range(0, len(i), 4)).lower(),
    "lower-compact": lambda i: i.lower(),
    "dashes": lambda i: "-".join(i[k : k + 4] for k in range(0, len(i), 4)),
    "dots": lambda i: ".".join(i[k : k + 4] for k in range(0, len(i), 4)),
    "space-after-country": lambda i: f"{i[:2]} {i[2:4]} {i[4:8]} {i[8:12]} {i[12:]}",
    "3-7-2": lambda i: f"{i[:4]} {i[4:7]} {i[7:14]} {i[14:]}",
    "old-dashes": lambda i: f"{i[4:7]}-{i[7:14]}-{i[14:]}",
    "old-spaces": lambda i: f"{i[4:7]} {i[7:14]} {i[14:]}",
}
belgian_ibans = st.builds(
    lambda bank, account: iban("BE", belgian_account(bank, account)),
    st.integers(0, 999),
    st.integers(0, 9_999_999),
)


@given(belgian_ibans)
def test_generated_ibans_pass_iso_7064(account: str) -> None:
    assert mod97_is_valid(account[4:] + account[:4])
    assert int(account[4:14]) % 97 in (int(account[14:]), int(account[14:]) % 97)


@MANY
@given(belgian_ibans, st.sampled_from(sorted(IBAN_STYLES)), AROUND)
def test_belgian_ibans_never_survive(
    account: str, style: str, around: tuple[list[str], list[str]]
) -> None:
    text = embed(IBAN_STYLES[style](account), around)
    assert_no_digits_left(text, K.IBAN)
    assert kinds(text) == {K.IBAN}


@MANY
@given(
    st.sampled_from(["NL", "DE", "FR", "LU"]),
    st.text("0123456789", min_size=12, max_size=12),
    st.sampled_from(["compact", "groups", "lower"]),
)
def test_neighbouring_ibans_never_survive(country: str, digits: str, style: str) -> None:
    bban = {
        "NL": "ABNA" + digits[:10],
        "DE": digits + "345678",
        "FR": digits + "00000000000",
        "LU": digits[:3] + "0" * 9 + digits[3:7],
    }[country]
    assert_no_digits_left(f"Rekening {IBAN_STYLES[style](iban(country, bban))} van oma.", K.IBAN)


@MANY
@given(belgian_ibans, st.integers(1, 96), st.sampled_from(["compact", "groups"]))
def test_ibans_with_a_wrong_check_survive(account: str, shift: int, style: str) -> None:
    wrong = f"{account[:2]}{(int(account[2:4]) + shift) % 97 + 2:02d}{account[4:]}"
    assume(not mod97_is_valid(wrong[4:] + wrong[:4]))
    text = f"Referentie {IBAN_STYLES[style](wrong)} op de factuur."
    assert scrub(text).text == text


# --------------------------------------------------------------------------------------------
# Phone numbers: the Belgian numbering plan, every way people type it
# --------------------------------------------------------------------------------------------

ONE_DIGIT_ZONES = ["2", "3", "4", "9"]
_ZONES = "10 11 12 13 14 15 16 19 50 51 52 53 54 55 56 57 58 59 60 61 63 64 65 67 68 69 71 80 81 82"
TWO_DIGIT_ZONES = (_ZONES + " 83 84 85 86 87 89").split()


@st.composite
def phone_numbers(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["mobile", "landline-1", "landline-2"]))
    if kind == "mobile":
        national = (
            "4"
            + draw(st.sampled_from("6789"))
            + draw(st.text("0123456789", min_size=7, max_size=7))
        )
        groups = [national[:3], national[3:5], national[5:7], national[7:]]
    elif kind == "landline-1":
        national = draw(st.sampled_from(ONE_DIGIT_ZONES)) + draw(
            st.from_regex(r"[1-9][0-9]{6}", fullmatch=True)
        )
        groups = [national[:1], national[1:4], national[4:6], national[6:]]
    else:
        national = draw(st.sampled_from(TWO_DIGIT_ZONES)) + draw(
            st.from_regex(r"[1-9][0-9]{5}", fullmatch=True)
        )
        groups = [national[:2], national[2:4], national[4:6], national[6:]]
    head, rest = groups[0], groups[1:]
    style = draw(st.integers(0, 12))
    return [
        f"0{head} {' '.join(rest)}",
        f"0{head}/{'.'.join(rest)}",
        f"0{head}.{'.'.join(rest)}",
        f"0{head}-{'-'.join(rest)}",
        f"0{national}",
        f"0{head}/{''.join(rest)}",
        f"+32 {head} {' '.join(rest)}",
        f"+32{national}",
        f"0032 {head} {' '.join(rest)}",
        f"0032{national}",
        f"+32 (0){head} {' '.join(rest)}",
        f"(0{head}) {' '.join(rest)}",
        f"+32-{head}-{'-'.join(rest)}",
    ][style]


@MANY
@given(phone_numbers(), AROUND)
def test_phone_numbers_never_survive(number: str, around: tuple[list[str], list[str]]) -> None:
    text = embed(number, around)
    assert_no_digits_left(text, K.PHONE)
    assert kinds(text) == {K.PHONE}


# --------------------------------------------------------------------------------------------
# E-mail addresses, also spelled out
# --------------------------------------------------------------------------------------------


@MANY
@given(st.emails(), AROUND)
def test_email_addresses_never_survive(address: str, around: tuple[list[str], list[str]]) -> None:
    result = scrub(embed(address, around))
    assert address not in result.text
    assert "@" not in result.text
    assert K.EMAIL in {r.kind for r in result.redactions}


@MANY
@given(
    st.from_regex(r"[a-z][a-z0-9]{1,8}(\.[a-z][a-z0-9]{1,8})?", fullmatch=True),
    st.from_regex(r"[a-z]{3,10}", fullmatch=True),
    st.sampled_from(["be", "com", "nl", "net", "org", "eu"]),
    st.sampled_from(
        [
            "{l} at {d} punt {t}",
            "{l}(at){d}.{t}",
            "{l} [at] {d} [punt] {t}",
            "{l} @ {d}.{t}",
            "{l} at {d} dot {t}",
            "{l}@{d} punt {t}",
            "{l} (at) {d} (punt) {t}",
        ]
    ),
    AROUND,
)
def test_spelled_out_email_addresses_never_survive(
    local: str, domain: str, tld: str, form: str, around: tuple[list[str], list[str]]
) -> None:
    text = embed(form.format(l=local, d=domain, t=tld), around)
    result = scrub(text)
    assert K.EMAIL in {r.kind for r in result.redactions}, (text, result.text)
    assert f" {domain} " not in f" {result.text} "
    # The local part may also be an ordinary word of the sentence around it ("de", "en").
    before, after = around
    assert result.text.split().count(local) <= [*before, *after].count(local)


# --------------------------------------------------------------------------------------------
# Street + house number
# --------------------------------------------------------------------------------------------

SURNAMES = sorted(set(FlemishNames.last_names) | set(FrenchBelgianNames.last_names))
FLEMISH_STREET_WORDS = [
    "straat",
    "laan",
    "steenweg",
    "plein",
    "dreef",
    "lei",
    "baan",
    "weg",
    "kaai",
    "dijk",
    "hof",
    "markt",
    "vest",
    "singel",
    "pad",
    "veld",
]
PLAIN_STEMS = st.sampled_from(SURNAMES).filter(lambda s: s.isalpha() and s[0].isupper())
SYLLABLE_STEMS = st.lists(
    st.sampled_from(["ker", "ko", "bos", "wil", "ge", "lin", "de", "rho", "mel", "ven", "ta"]),
    min_size=2,
    max_size=4,
).map(lambda parts: "".join(parts).capitalize())


@st.composite
def addresses(draw: st.DrawFn) -> str:
    number = str(draw(st.integers(1, 999))) + draw(st.sampled_from(["", "", "A", "b", " B"]))
    box = draw(st.sampled_from(["", "", " bus 3", " bus 12", "/2", " b 4", ", bus 101"]))
    kind = draw(st.integers(0, 3))
    if kind == 0:  # Peetersstraat, Kortrijksesteenweg
        stem = draw(st.one_of(PLAIN_STEMS, SYLLABLE_STEMS))
        street = (
            stem
            + draw(st.sampled_from(["", "se", "s"]))
            + draw(st.sampled_from(FLEMISH_STREET_WORDS))
        )
    elif kind == 1:  # Sint-Pietersplein, Oude Vestlaan
        head = draw(
            st.sampled_from(["Sint-", "Oude ", "Nieuwe ", "Grote ", "Koning ", "Burgemeester "])
        )
        street = (
            head
            + draw(st.one_of(PLAIN_STEMS, SYLLABLE_STEMS))
            + draw(st.sampled_from(FLEMISH_STREET_WORDS))
        )
    elif kind == 2:  # Rue de la Station, Avenue Louise, Chaussée de Gand
        street = draw(st.sampled_from(["Rue", "Avenue", "Chaussée", "Place", "Boulevard"]))
        street += draw(st.sampled_from([" de la ", " du ", " des ", " de ", " "]))
        street += draw(st.one_of(PLAIN_STEMS, SYLLABLE_STEMS))
    else:  # kerkstraat typed in lower case
        street = draw(SYLLABLE_STEMS).lower() + draw(
            st.sampled_from(["straat", "laan", "steenweg", "dreef"])
        )
    town = draw(st.sampled_from(["", "", ", 9000 Gent", ", 2060 Antwerpen", " 3500 Hasselt"]))
    return f"{street} {number}{box}{town}"


@MANY
@given(
    addresses(),
    st.sampled_from(
        [
            "ze wonen in de {a}",
            "adres: {a}",
            "{a} heeft schimmel",
            "verhuisd naar {a}",
            "het gezin woont op {a}",
        ]
    ),
)
def test_addresses_never_survive(address: str, template: str) -> None:
    text = template.format(a=address) + " sinds de zomer."
    assert_no_digits_left(text, K.ADDRESS)
    assert K.ADDRESS in kinds(text)


# --------------------------------------------------------------------------------------------
# Birth dates
# --------------------------------------------------------------------------------------------

MONTHS = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
]
SHORT_MONTHS = ["jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"]


@MANY
@given(
    st.dates(date(1940, 1, 1), date(2025, 12, 31)),
    st.sampled_from(
        [
            "geboren op ",
            "geboren ",
            "°",
            "° ",
            "geb. ",
            "geb ",
            "geboortedatum: ",
            "Geboortedatum ",
            "geboren op de ",
        ]
    ),
    st.integers(0, 6),
    AROUND,
)
def test_birth_dates_after_a_cue_never_survive(
    born: date, cue: str, style: int, around: tuple[list[str], list[str]]
) -> None:
    d, m, y = born.day, born.month, born.year
    written = [
        f"{d} {MONTHS[m - 1]} {y}",
        f"{d:02d}/{m:02d}/{y}",
        f"{d}-{m}-{y % 100:02d}",
        f"{d:02d}.{m:02d}.{y}",
        born.isoformat(),
        f"{d}/{m}/{y}",
        f"{d} {SHORT_MONTHS[m - 1]} {y}",
    ][style]
    text = embed(cue + written, around)
    assert_no_digits_left(text, K.BIRTH_DATE)
    assert MONTHS[m - 1][:3] not in scrub(text).text


# --------------------------------------------------------------------------------------------
# Person names from lists the scrubber was not written from
# --------------------------------------------------------------------------------------------

FIRST_NAMES = sorted(
    {
        n
        for n in [
            *FlemishNames.first_names,
            *FrenchBelgianNames.first_names,
            *TurkishNames.first_names,
            *RomanianNames.first_names,
        ]
        if n.isalpha() and len(n) >= 3
    }
)
LAST_NAMES = sorted(
    {
        n
        for n in [*SURNAMES, *TurkishNames.last_names, *RomanianNames.last_names]
        if n.replace(" ", "").isalpha() and len(n) >= 3
    }
)
CUED_FIRST = [
    "mama van {f}",
    "papa van {f}",
    "juf {f}",
    "meester {f}",
    "zoon van {f}",
    "dochter van {f}",
    "de kleine {f}",
    "mama {f}",
    "haar zoon {f}",
    "oma van {f}",
]
CUED_LAST = [
    "mevrouw {l}",
    "meneer {l}",
    "mevr. {l}",
    "dhr. {l}",
    "het gezin {l}",
    "de familie {l}",
    "dokter {l}",
]


PARTICLES = {"de", "van", "den", "der", "op", "le", "la", "du", "el"}
NAME_WORDS = {"ben", "dan", "beste", "elke", "frans", "engels", "bergen", "ramadan", "mei"}
"""Names that are also Dutch words, languages or places: known misses, measured below."""


def _ambiguous(name: str) -> bool:
    """Also a word, a language or a place ("Brecht" is a town): the known misses, counted in
    the ninety-nine-in-a-hundred test instead."""
    return name.lower() in NAME_WORDS or name.lower() in lex.ALLOWED_WORDS


def words_left(name: str, scrubbed: str) -> list[str]:
    """The parts of ``name`` still in ``scrubbed`` (particles such as "de" are ordinary words)."""
    return [
        w
        for w in re.findall(r"\w+", name)
        if w.lower() not in PARTICLES and re.search(rf"\b{re.escape(w)}\b", scrubbed)
    ]


@MANY
@given(
    # Known misses (names that are words, languages or towns) are measured in the tests below.
    st.sampled_from(FIRST_NAMES).filter(lambda n: n.lower() not in NAME_WORDS),
    st.sampled_from(LAST_NAMES).filter(lambda n: n.lower() not in NAME_WORDS),
    st.sampled_from(CUED_FIRST + CUED_LAST),
    AROUND,
)
def test_names_after_a_cue_never_survive(
    first: str, last: str, template: str, around: tuple[list[str], list[str]]
) -> None:
    name = first if "{f}" in template else last
    text = embed(template.format(f=first, l=last), around)
    result = scrub(text)
    assert not words_left(name, result.text), (text, result.text)
    assert K.NAME in {r.kind for r in result.redactions}


def test_lower_case_first_names_after_a_cue_are_caught_nine_times_in_ten() -> None:
    """Every unseen first name, typed in lower case after "mama van". Without a capital the
    scrubber only knows a name by its lists or by the word being no Dutch word, so names that
    are also words ("aura", "iris", "roos") slip through: this measures how many, and fails
    when more than one in ten does."""
    missed = [
        name
        for name in (n.replace("İ", "I").lower() for n in FIRST_NAMES)
        if words_left(name, scrub(f"de mama van {name} kan niet betalen.").text)
    ]
    assert len(missed) / len(FIRST_NAMES) <= 0.10, (len(missed), len(FIRST_NAMES), missed[:50])


def test_capitalised_first_names_after_a_cue_are_all_caught() -> None:
    missed = [
        name
        for name in FIRST_NAMES
        for template in ("de mama van {f} kan niet betalen.", "juf {f} zegt dat het niet gaat.")
        if words_left(name, scrub(template.format(f=name)).text)
    ]
    # Known misses: names that are also place names or holidays on the allow-lists.
    assert set(missed) <= {"Bergen", "Ramadan"}, missed


def test_unseen_full_names_mid_sentence_are_caught_ninety_nine_times_in_a_hundred() -> None:
    """Every first name once, with a surname drawn in turn: names that are also words,
    languages or places ("Frans David", "Jasmina Engels") are the known misses."""
    pairs = [(f, LAST_NAMES[i * 7919 % len(LAST_NAMES)]) for i, f in enumerate(FIRST_NAMES)]
    missed = [
        (f, last)
        for f, last in pairs
        if words_left(f"{f} {last}", scrub(f"ik sprak met {f} {last} over de huur.").text)
    ]
    assert len(missed) / len(pairs) <= 0.01, (len(missed), missed[:40])


@MANY
@given(
    st.sampled_from(FIRST_NAMES).filter(lambda n: not _ambiguous(n)),
    st.sampled_from(LAST_NAMES).filter(lambda n: not _ambiguous(n)),
    AROUND,
)
def test_full_names_mid_sentence_never_survive(
    first: str, last: str, around: tuple[list[str], list[str]]
) -> None:
    before, after = around
    text = " ".join(["ik", "sprak", *before, "met", f"{first} {last}", "over", *after]) + "."
    result = scrub(text)
    assert not words_left(f"{first} {last}", result.text), (text, result.text)


# --------------------------------------------------------------------------------------------
# What must stay: ordinary numbers and ordinary text
# --------------------------------------------------------------------------------------------


@st.composite
def ordinary_numbers(draw: st.DrawFn) -> str:
    n = draw(st.integers(0, 99_999))
    thousands = f"{n:,}".replace(",", ".")
    return draw(
        st.sampled_from(
            [
                f"€ {thousands}",
                f"{thousands} euro",
                f"{n},{n % 100:02d} euro",
                f"{n % 100} jaar",
                f"klas {n % 6 + 1}{'ABC'[n % 3]}",
                f"in {1950 + n % 76}",
                f"{n} gezinnen",
                f"{n % 101}%",
                f"om {n % 24}u{n % 60:02d}",
                f"{n % 24}:{n % 60:02d}",
                f"schooljaar {2000 + n % 30}-{2001 + n % 30}",
                f"bus {n % 100}",
                f"sinds {n % 28 + 1:02d}/{n % 12 + 1:02d}/{2000 + n % 26}",
                f"{n % 12} maanden",
                f"{n % 30 + 1} {MONTHS[n % 12]}",
                f"lijn {n % 90}",
                f"{n} km",
            ]
        )
    )


@MANY
@given(st.lists(ordinary_numbers(), min_size=1, max_size=4), AROUND)
def test_ordinary_numbers_survive(numbers: list[str], around: tuple[list[str], list[str]]) -> None:
    text = embed(" en ".join(numbers), around)
    assert scrub(text).text == text


@MANY
@given(st.lists(WORDS, max_size=40).map(" ".join))
def test_ordinary_lower_case_text_is_unchanged(text: str) -> None:
    result = scrub(text)
    assert result.text == text
    assert result.redactions == ()


# --------------------------------------------------------------------------------------------
# Any text: a consistent fixed point
# --------------------------------------------------------------------------------------------

FRAGMENTS = st.sampled_from(
    [
        "de",
        "mama",
        "van",
        "Ayoub",
        "ayoub",
        "Jan",
        "Peeters",
        "El",
        "Amrani",
        "mevr.",
        "Kerkstraat",
        "bus",
        "12",
        "3",
        "0471",
        "23",
        "45",
        "67",
        "+32",
        "0032",
        "BE68",
        "5390",
        "0754",
        "7034",
        "@",
        "at",
        "punt",
        "gmail.com",
        "jan",
        ".",
        ",",
        ":",
        "-",
        "/",
        "(0)",
        "(",
        ")",
        "°",
        "geboren",
        "op",
        "mei",
        "2015",
        "03/05/2015",
        "9000",
        "Gent",
        "INSZ",
        "85.07.30-033.28",
        "[naam]",
        "[adres",
        "]",
        "[telefoon]",
        "[iban]",
        "\n",
        " ",
        "  ",
        "De Lijn",
        "OCMW",
        "St",
        "é",
        "ß",
        "İ",
        "\x00",
        "juf",
        "de kleine",
    ]
)
TEXTS = st.one_of(
    st.text(max_size=300),
    st.lists(FRAGMENTS, max_size=60).map(" ".join),
    st.lists(FRAGMENTS, max_size=60).map("".join),
)


def _rebuild(text: str, redactions: tuple[Redaction, ...]) -> str:
    parts, pos = [], 0
    for r in redactions:
        parts += [text[pos : r.start], PLACEHOLDERS[r.kind]]
        pos = r.end
    return "".join([*parts, text[pos:]])


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS)
def test_any_text_scrubs_to_a_consistent_fixed_point(text: str) -> None:
    result = scrub(text)
    previous_end = 0
    for r in result.redactions:
        assert previous_end <= r.start < r.end <= len(text)
        previous_end = r.end
    assert result.text == _rebuild(text, result.redactions)
    assert result.changed == (result.text != text)
    again = scrub(result.text)
    assert again.text == result.text
    assert not again.changed


# --------------------------------------------------------------------------------------------
# Several kinds at once, amid injection attempts: nothing injected survives, and scrubbing the
# result again changes nothing (what intake stores is already clean)
# --------------------------------------------------------------------------------------------

INJECTIONS = st.sampled_from(
    ["'); DROP TABLE signals;--", "{{7*7}}", "{% raw %}", "<script>x</script>", "${7*7}", "%s"]
)


@MANY
@given(
    st.lists(
        st.one_of(
            phone_numbers().map(lambda v: (K.PHONE, v)),
            national_numbers.map(lambda v: (K.NATIONAL_NUMBER, RRN_STYLES["official"](v))),
            belgian_ibans.map(lambda v: (K.IBAN, IBAN_STYLES["groups"](v))),
        ),
        min_size=2,
        max_size=4,
    ),
    st.lists(st.one_of(FRAGMENTS, INJECTIONS), min_size=1, max_size=8),
)
def test_mixed_personal_data_among_injections_never_survives(
    pieces: list[tuple[RedactionKind, str]], filler: list[str]
) -> None:
    words = list(filler)
    for index, (_, value) in enumerate(pieces):
        words.insert(min(len(words), 2 * index + 1), f" {value} ")
    text = " ".join(words)
    result = scrub(text)
    for kind, value in pieces:
        assert value not in result.text, (value, result.text)
        assert kind in {r.kind for r in result.redactions}
    assert scrub(result.text).text == result.text
