"""The personal-data scrubber intake runs before anything is published.

Valid identifiers are generated here with the published algorithms (mod 97 for the
rijksregisternummer, ISO 7064 for IBANs) rather than copied from somewhere, so the tests also
pin the algorithms down.
"""

from __future__ import annotations

import pytest

from schemas.v1 import RedactionCountV1, RedactionKind
from services.intake.domain.privacy import PLACEHOLDERS, Redaction, ScrubResult, scrub

K = RedactionKind

# --------------------------------------------------------------------------------------------
# Generators for valid identifiers
# --------------------------------------------------------------------------------------------


def rrn(yy: int, mm: int, dd: int, serial: int, *, born_2000: bool = False) -> str:
    """The 11 digits of a rijksregisternummer with its check digits."""
    first9 = f"{yy:02d}{mm:02d}{dd:02d}{serial:03d}"
    base = int(first9) + (2_000_000_000 if born_2000 else 0)
    return f"{first9}{97 - base % 97:02d}"


def rrn_formatted(digits: str, style: str = "official") -> str:
    yy, mm, dd, serial, check = digits[:2], digits[2:4], digits[4:6], digits[6:9], digits[9:]
    return {
        "official": f"{yy}.{mm}.{dd}-{serial}.{check}",
        "compact": digits,
        "spaces": f"{yy} {mm} {dd} {serial} {check}",
        "date-block": f"{yy}{mm}{dd} {serial} {check}",
        "dashes": f"{yy}{mm}{dd}-{serial}-{check}",
    }[style]


def iban(country: str, bban: str) -> str:
    """ISO 13616 check digits: 98 - (BBAN + country + "00" as a number) mod 97."""
    number = int("".join(str(int(c, 36)) for c in bban + country + "00"))
    return f"{country}{98 - number % 97:02d}{bban}"


def grouped(compact: str) -> str:
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def wrong_last_digit(number: str) -> str:
    return number[:-1] + str((int(number[-1]) + 1) % 10)


def test_generators_agree_with_published_examples() -> None:
    # Spot checks that the helpers implement the algorithms (not the scrubber's own code).
    assert iban("BE", "539007547034") == "BE68539007547034"
    assert iban("NL", "ABNA0417164300") == "NL91ABNA0417164300"
    digits = rrn(85, 7, 30, 33)
    assert 97 - int(digits[:9]) % 97 == int(digits[9:])


# --------------------------------------------------------------------------------------------
# Realistic sentences, one table per kind, exact expected output
# --------------------------------------------------------------------------------------------

VALID_RRN = rrn(85, 7, 30, 33)
VALID_RRN_2000 = rrn(12, 3, 4, 158, born_2000=True)
BE_IBAN = iban("BE", "539007547034")

NAMES = [
    (
        "De mama van Ayoub belde: ze kan de schooluitstap niet betalen.",
        "De mama van [naam] belde: ze kan de schooluitstap niet betalen.",
    ),
    (
        "Ik sprak met Fatima El Amrani over de huurachterstand.",
        "Ik sprak met [naam] over de huurachterstand.",
    ),
    ("Jan Peeters belde gisteren over de wachtlijst.", "[naam] belde gisteren over de wachtlijst."),
    (
        "Mevrouw Janssens vraagt of haar zoon Frans naar de huiswerkklas mag.",
        "Mevrouw [naam] vraagt of haar zoon [naam] naar de huiswerkklas mag.",
    ),
    (
        "mevr. De Smet en dhr. Van den Bossche kwamen samen naar het oudercafé.",
        "mevr. [naam] en dhr. [naam] kwamen samen naar het oudercafé.",
    ),
    (
        "Het gezin El Idrissi heeft geen verwarming.",
        "Het gezin [naam] heeft geen verwarming.",
    ),
    (
        "Zarqa Noori kan het inschrijvingsgeld niet betalen.",
        "[naam] kan het inschrijvingsgeld niet betalen.",
    ),
    (
        "De kleine Yusuf mist elke maandag school omdat de bus te duur is.",
        "De kleine [naam] mist elke maandag school omdat de bus te duur is.",
    ),
    ("Zijn dochter heet Meryem en is 7 jaar.", "Zijn dochter heet [naam] en is 7 jaar."),
    (
        "Mohamed en Kevin krijgen geen laptop van school.",
        "[naam] en [naam] krijgen geen laptop van school.",
    ),
    ("Juf Sarah merkt dat Elif honger heeft.", "Juf [naam] merkt dat [naam] honger heeft."),
    (
        "Volgens Wouters van het CLB wacht Ahmad al maanden.",
        "Volgens [naam] van het CLB wacht [naam] al maanden.",
    ),
    (
        "Contact: Pieter-Jan Vermeulen, brugfiguur.",
        "Contact: [naam], brugfiguur.",
    ),
    (
        "Samen met Lindsey Goossens en J. Peeters bekeken we het dossier.",
        "Samen met [naam] en [naam] bekeken we het dossier.",
    ),
    ("Ayoub's mama werkt 's nachts.", "[naam] mama werkt 's nachts."),
    ("Gisteren Zarqa belde over de huur.", "Gisteren [naam] belde over de huur."),
    ("AYOUB EL AMRANI KOMT NIET", "[naam] KOMT NIET"),
    ("Ik zag Marie-Louise en Yusuf-Ali.", "Ik zag [naam] en [naam]."),
    ("Mevrouw De Wachter en het gezin El-Amrani.", "Mevrouw [naam] en het gezin [naam]."),
    ("Dokter Noori zag het kind.", "Dokter [naam] zag het kind."),
]

PHONES = [
    ("Haar gsm is 0471 23 45 67.", "Haar gsm is [telefoon]."),
    ("Bereikbaar op 0471/23.45.67 na 16u.", "Bereikbaar op [telefoon] na 16u."),
    ("gsm 0471234567 (papa)", "gsm [telefoon] (papa)"),
    ("Bel +32 471 23 45 67 of 0032 471 23 45 67.", "Bel [telefoon] of [telefoon]."),
    (
        "Vast nummer 09 234 56 78, of 050 12 34 56.",
        "Vast nummer [telefoon], of [telefoon].",
    ),
    ("Tel. 02/123.45.67 of +32 (0)2 123 45 67", "Tel. [telefoon] of [telefoon]"),
    ("Oma in Marokko: +212 6 12 34 56 78.", "Oma in Marokko: [telefoon]."),
    ("whatsapp: 471 23 45 67", "whatsapp: [telefoon]"),
]

EMAILS = [
    ("Mail naar fatima.elamrani@gmail.com graag.", "Mail naar [e-mail] graag."),
    ("Zijn adres is jan_peeters-85@telenet.be.", "Zijn adres is [e-mail]."),
    ("(contact: k.maes+school@hotmail.be)", "(contact: [e-mail])"),
]

IBANS = [
    (f"Rekening {grouped(BE_IBAN)} van de mama.", "Rekening [iban] van de mama."),
    (f"Stort op {BE_IBAN} aub.", "Stort op [iban] aub."),
    (
        f"iban {grouped(iban('NL', 'ABNA0417164300')).lower()}, niet meer gebruiken",
        "iban [iban], niet meer gebruiken",
    ),
    (
        f"Duitse rekening {grouped(iban('DE', '370400440532013000'))}.",
        "Duitse rekening [iban].",
    ),
]

NATIONAL_NUMBERS = [
    (
        f"Haar rijksregisternummer is {rrn_formatted(VALID_RRN)}.",
        "Haar rijksregisternummer is [rijksregisternummer].",
    ),
    (f"Kind: {rrn_formatted(VALID_RRN_2000)}.", "Kind: [rijksregisternummer]."),
    (f"zonder label {VALID_RRN} ook", "zonder label [rijksregisternummer] ook"),
    (f"nummer {rrn_formatted(VALID_RRN, 'spaces')} ok", "nummer [rijksregisternummer] ok"),
    (f"INSZ {wrong_last_digit(VALID_RRN)} (typfout)", "INSZ [rijksregisternummer] (typfout)"),
    (
        f"Nationaal nummer: {rrn_formatted(wrong_last_digit(VALID_RRN), 'dashes')}",
        "Nationaal nummer: [rijksregisternummer]",
    ),
]

ADDRESSES = [
    ("Ze wonen in de Kerkstraat 12 op een kamer.", "Ze wonen in de [adres] op een kamer."),
    ("Adres: Sint-Pietersnieuwstraat 45 bus 3, 9000 Gent.", "Adres: [adres]."),
    (
        "Het gezin woont op Oude Houtlei 12A, met schimmel.",
        "Het gezin woont op [adres], met schimmel.",
    ),
    ("Verhuisd naar Brusselsesteenweg 100.", "Verhuisd naar [adres]."),
    ("Ze woont op de Meir 12 en zoekt werk.", "Ze woont op de [adres] en zoekt werk."),
    ("Turnhoutsebaan 150 /2 heeft vocht.", "[adres] heeft vocht."),
    ("kerkstraat 5 in Ledeberg", "[adres] in Ledeberg"),
    ("Rue de la Loi 16, Brussel.", "[adres], Brussel."),
    ("Grote Markt 1 is het stadhuis.", "[adres] is het stadhuis."),
    (
        "Een gezin in 2060 Antwerpen zonder elektriciteit.",
        "Een gezin in [adres] zonder elektriciteit.",
    ),
    ("Zij woont in 9040 Sint-Amandsberg.", "Zij woont in [adres]."),
]

BIRTH_DATES = [
    ("Ayoub is geboren op 3 mei 2015.", "[naam] is geboren op [geboortedatum]."),
    ("Geboortedatum: 03/05/2015", "Geboortedatum: [geboortedatum]"),
    ("Het kind (° 12.03.16) kan niet mee.", "Het kind (° [geboortedatum]) kan niet mee."),
    ("geb. 12-3-2016, woont bij oma", "geb. [geboortedatum], woont bij oma"),
    (
        "Ze verjaart op 4 juni en krijgt geen feestje.",
        "Ze verjaart op [geboortedatum] en krijgt geen feestje.",
    ),
    ("Kind (01/09/2016) zit thuis.", "Kind ([geboortedatum]) zit thuis."),
    ("Kind van 2016-03-12 in de klas.", "Kind van [geboortedatum] in de klas."),
]

TABLE = [
    pytest.param(text, expected, id=f"{kind}-{i}")
    for kind, rows in [
        ("naam", NAMES),
        ("telefoon", PHONES),
        ("email", EMAILS),
        ("iban", IBANS),
        ("rrn", NATIONAL_NUMBERS),
        ("adres", ADDRESSES),
        ("geboortedatum", BIRTH_DATES),
    ]
    for i, (text, expected) in enumerate(rows)
]


@pytest.mark.parametrize(("text", "expected"), TABLE)
def test_scrubs_personal_data_in_realistic_signals(text: str, expected: str) -> None:
    assert scrub(text).text == expected


# --------------------------------------------------------------------------------------------
# What must stay
# --------------------------------------------------------------------------------------------

KEPT = [
    "In de Kerkstraat is veel verkeer en de weg naar school is onveilig.",
    "De Lijn rijdt niet meer naar Ledeberg na 20 uur.",
    "Het OCMW en het Sociaal Huis verwijzen door naar het CAW en het JAC.",
    "Kind en Gezin, Opgroeien en het Huis van het Kind bieden opvoedingsondersteuning.",
    "Ouders uit Syrië en Marokkaanse mama's spreken Arabisch, Frans of Dari.",
    "Smartschool en Bingel werken niet zonder laptop; UiTPAS en Groeipakket zijn onbekend.",
    "In de Brugse Poort, Rabot en Nieuw Gent wachten gezinnen op een sociale woning.",
    "In Borgerhout, Deurne, Kiel en Merksem is de kinderopvang vol.",
    "Op 12 oktober kwamen 3 kinderen zonder boterhammen naar school.",
    "De uitstap kost € 45 per kind, voor 3 kinderen is dat 135 euro.",
    "Schooljaar 2025-2026: 30% van de ouders betaalde de factuur niet.",
    "Na bus 12 is er geen verbinding meer; bus 12 rijdt niet op zondag.",
    "Sinds september zijn er 4 gezinnen bijgekomen op de wachtlijst.",
    "De wachtlijst voor OKAN in Gent is 6 maanden.",
    "Fedasil en het Rode Kruis vangen nieuwkomers op in Vlaanderen en Brussel.",
    "Basisschool De Regenboog en jeugdhuis Kompas in Sint-Niklaas organiseren niets.",
    "Met Pasen en tijdens de Ramadan is de voedselbank dicht.",
    "In de Kerkstraat 12 gezinnen met huurachterstand.",
    "Meer dan 1000 Gentse gezinnen hebben een budgetmeter.",
    "De Awel-lijn (102) en Child Focus (116 000) zijn gratis, net als 0800 20 808.",
    "Ze komt in 2019 uit Afghanistan en is nu 12 jaar.",
    "Een lening van 1.250 euro aan 4,5% voor 24 maanden.",
    "Op woensdag 3 mei 2023 was er een infomoment in Genk.",
    "Gisteren belde het CLB. Ouders vragen hulp.",
    "Veel Oekraïense en Roemeense gezinnen in Mechelen, Aalst en Oostende.",
    "Hij zit in het Eerste Leerjaar; maandag is het Pedagogische Studiedag.",
    "De wachttijd bij het Centrum voor Geestelijke Gezondheidszorg is 9 maanden.",
    "Via het project Kansrijk Opgroeien en de app Hoplr bereiken we weinig ouders.",
    "Jongeren uit Oostduinkerke en Zelzate vinden geen jobstudent-plaats.",
    "PS: de info kwam van de Brede School Rabot, vzw Kompas en Stedelijk Onderwijs Gent.",
]


@pytest.mark.parametrize("text", KEPT)
def test_keeps_what_the_steering_group_needs(text: str) -> None:
    result = scrub(text)
    assert result.text == text
    assert not result.changed
    assert result.redactions == ()
    assert result.counts() == []


@pytest.mark.parametrize(
    "neighbourhood",
    [
        "Brugse Poort", "Rabot", "Nieuw Gent", "Sint-Amandsberg", "Seefhoek", "Oud-Berchem",
        "Heilig Hart", "Oude Dokken", "Stationsbuurt Noord", "Sluizeken-Tolhuis-Ham",
        "Park Spoor Noord", "Het Eilandje", "Kessel-Lo", "Linkeroever", "Westerkwartier",
    ],
)  # fmt: skip
def test_neighbourhood_names_pass_unchanged(neighbourhood: str) -> None:
    # Intake rejects a neighbourhood field that scrubbing would change.
    assert not scrub(neighbourhood).changed


@pytest.mark.parametrize(
    "number",
    [
        pytest.param(wrong_last_digit(VALID_RRN), id="plain"),
        pytest.param(rrn_formatted(wrong_last_digit(VALID_RRN), "spaces"), id="spaces"),
        pytest.param(rrn_formatted(wrong_last_digit(VALID_RRN_2000), "date-block"), id="2000"),
    ],
)
def test_unlabelled_eleven_digits_with_a_wrong_check_are_kept(number: str) -> None:
    text = f"Factuurnummer {number} van de school."
    assert scrub(text).text == text


def test_rrn_check_covers_births_from_2000() -> None:
    # The same nine digits checked without the '2' prefix would not validate.
    assert rrn(12, 3, 4, 158) != VALID_RRN_2000
    assert scrub(f"nr {VALID_RRN_2000}").text == "nr [rijksregisternummer]"
    assert (
        scrub(f"factuur {rrn(12, 3, 4, 158)[:9]}00").text == f"factuur {rrn(12, 3, 4, 158)[:9]}00"
    )


def test_official_format_is_scrubbed_even_with_a_wrong_check() -> None:
    text = f"RR {rrn_formatted(wrong_last_digit(VALID_RRN))}"
    assert scrub(text).text == "RR [rijksregisternummer]"


@pytest.mark.parametrize(
    "account",
    [
        pytest.param(grouped(wrong_last_digit(BE_IBAN)), id="be-grouped"),
        pytest.param(wrong_last_digit(BE_IBAN), id="be-compact"),
        pytest.param(wrong_last_digit(iban("NL", "ABNA0417164300")), id="nl"),
    ],
)
def test_iban_with_a_wrong_check_is_kept(account: str) -> None:
    text = f"Referentie {account} op de factuur."
    assert scrub(text).text == text


# --------------------------------------------------------------------------------------------
# Interface: offsets, counts, merging, placeholders
# --------------------------------------------------------------------------------------------


def test_result_reports_kinds_and_offsets_into_the_original() -> None:
    text = "Mevrouw Peeters (0471 23 45 67) woont in de Kerkstraat 12."
    result = scrub(text)
    assert isinstance(result, ScrubResult)
    assert result.changed
    assert result.text == "Mevrouw [naam] ([telefoon]) woont in de [adres]."
    assert result.redactions == (
        Redaction(K.NAME, 8, 15),
        Redaction(K.PHONE, 17, 30),
        Redaction(K.ADDRESS, 44, 57),
    )
    assert [text[r.start : r.end] for r in result.redactions] == [
        "Peeters",
        "0471 23 45 67",
        "Kerkstraat 12",
    ]


def test_counts_are_sorted_by_kind_and_never_carry_content() -> None:
    result = scrub("Jan en Piet Maes, tel 0471234567, jan@maes.be, Kerkstraat 3 en Lies.")
    assert result.counts() == [
        RedactionCountV1(kind=K.ADDRESS, count=1),
        RedactionCountV1(kind=K.EMAIL, count=1),
        RedactionCountV1(kind=K.NAME, count=3),
        RedactionCountV1(kind=K.PHONE, count=1),
    ]
    assert [c.kind.value for c in result.counts()] == sorted(c.kind.value for c in result.counts())
    assert set(RedactionCountV1.model_fields) == {"kind", "count"}


def test_overlapping_findings_become_one_redaction_of_the_strongest_kind() -> None:
    # The capitalised words inside the address are also name candidates.
    result = scrub("Jan.Peeters@Telenet.be schreef")
    assert result.text == "[e-mail] schreef"
    assert result.redactions == (Redaction(K.EMAIL, 0, 22),)


def test_placeholders_are_never_scrubbed_again() -> None:
    text = "De mama van [naam] ([telefoon]) woont op [adres], [e-mail]."
    assert scrub(text).text == text
    assert not scrub(text).changed


def test_every_kind_has_a_dutch_placeholder() -> None:
    assert {kind: PLACEHOLDERS[kind] for kind in K} == {
        K.NAME: "[naam]",
        K.NATIONAL_NUMBER: "[rijksregisternummer]",
        K.PHONE: "[telefoon]",
        K.EMAIL: "[e-mail]",
        K.IBAN: "[iban]",
        K.ADDRESS: "[adres]",
        K.BIRTH_DATE: "[geboortedatum]",
    }


def test_result_is_immutable() -> None:
    result = scrub("Jan belde.")
    with pytest.raises(AttributeError):
        result.text = "x"  # type: ignore[misc]
