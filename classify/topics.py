"""The label registry: the single source of truth for the five topics.

Everything that needs the label set reads it from here: the Label Studio config
(``annotations/label_config.xml`` is generated from ``TOPICS``), the dataset builder (which maps
choice values, display name or key, to keys), the classifier (label order, seed-term features)
and the writers (one score column per topic).

Seed terms are lower-case word stems matched as substrings of lower-cased text, so one stem
covers Dutch compounds and inflections (``terugkeer`` matches ``terugkeerverordening``).
Where a substring would misfire, a term can be anchored or excluded
(:func:`classify.features.parse_term`):

- ``^isis`` matches only at the start of a word (not inside ``crisis``), ``wav$`` only at its end;
- ``!terugkeerder`` is an exclusion: where it matches, the topic's terms inside it do not count
  (jihadist returnees are *Terrorism*, not *Return policy*), in the way a Snorkel labelling
  function votes against; use exclusions for the guideline's boundary rules.

Maintainers may add terms; keep them specific to the topic (a stem that occurs in every
migration text, such as ``asiel``, helps no topic). The classifier weighs each term by its
precision on the training data; terms the data never saw keep a prior trust. Retrain after editing.
"""

from __future__ import annotations

from dataclasses import dataclass

from classify.errors import ClassifyError

NONE_CHOICE = "None of the five"
"""The explicit "none of the five topics" decision in the labelling config."""


@dataclass(frozen=True)
class Topic:
    key: str
    name: str
    description: str  # short Dutch description, shown to annotators as a hint
    terms: tuple[str, ...]


TOPICS: tuple[Topic, ...] = (
    Topic(
        key="return_policy",
        name="Return policy",
        description="Terugkeer van vreemdelingen zonder verblijfsrecht: vertrekplicht, (gedwongen) "
        "vertrek, vreemdelingenbewaring, terugkeerverordening, terugkeerhubs, terugname.",
        terms=(
            "terugkeer", "terug te keren", "terugkeren", "vertrekplicht", "uitzet", "uitgezet",
            "gedwongen vertrek", "zelfstandig vertrek", "vrijwillig vertrek", "dienst terugkeer",
            "vreemdelingenbewaring", "bewaring", "terugname", "overname", "return hub",
            "terugkeerhub", "terugkeerbesluit", "inreisverbod", "uitgeprocedeerd", "laissez-passer",
            "vertrek", "herkomstland", "visumhefboom", "terugkeersamenwerking", "ongewenstverklaring",
            "return",
            "vertrekcentrum", "vertrekbeleid",
            "vertrok", "vertrekbereid", "zelfstandig terug", "terugnem", "terug te nemen",
            "migratiepartnerschap", "landen van herkomst", "^iom$", "^dtenv", "dt&v",
            "herintegratie", "vrijheidsbeperkende locatie", "detentiecentr", "afgewezen asielzoeker",
            # jihadists coming home are Terrorism (guideline boundary rule); safe countries of
            # origin / safe third countries decide the asylum procedure, not departure
            "!terugkeerder", "!teruggekeerde uitreiziger", "!veilig land van herkomst",
            "!veilige landen van herkomst", "!veilige derde land",
        ),
    ),
    Topic(
        key="solidarity_pool",
        name="Solidarity pool",
        description="Verantwoordelijkheidsdeling tussen EU-lidstaten: solidariteitsmechanisme en "
        "-pool van het Pact, herplaatsing, financiële bijdragen, fair share, Dublin-verrekening.",
        terms=(
            "solidariteit", "solidair", "herplaats", "relocati", "fair share", "eerlijk aandeel",
            "financiële bijdrage", "financiele bijdrage", "verantwoordelijkheidsdeling",
            "verantwoordelijkheidsverschuiving", "verrekening", "offset", "migratiedruk",
            "jaarlijkse solidariteit", "alternatieve solidariteit", "^pool$", "verdeelsleutel",
            "ontscheep", "high-level eu solidarity", "solidarity",
            "lastenverdeling", "dublinverrekening",
            "ontschep", "herverdel", "verdeelmechanisme", "verdeling van de lasten",
        ),
    ),
    Topic(
        key="terrorism",
        name="Terrorism",
        description="Terrorisme, jihadisme, gewelddadig extremisme, radicalisering, uitreizigers, "
        "dreigingswerk van NCTV/AIVD, screening van asielzoekers op nationale-veiligheidssignalen.",
        terms=(
            "terroris", "jihad", "extremis", "radicalis", "nctv", "aivd", "uitreiziger",
            "foreign fighter", "strijders", "^aanslag", "^dreiging", "nationale veiligheid",
            "contraterrorisme", "^cter", "islamitische staat", "^isis", "hamas", "hezbollah",
            "inlichtingen", "veiligheidsdienst", "screening",
            "terreur", "strijder", "gewelddadig extremisme", "dreigingsniveau",
            "^dtn$", "terugkeerder", "syriëganger", "kalifaat", "al-hol",
        ),
    ),
    Topic(
        key="labour_migration",
        name="Labour migration",
        description="Arbeids- en kennismigratie, tewerkstellingsvergunningen, werken door "
        "asielzoekers of irreguliere migranten, illegale tewerkstelling, uitbuiting en huisvesting "
        "van arbeidsmigranten.",
        terms=(
            "arbeidsmigra", "kennismigra", "tewerkstellingsvergunning", "werkvergunning",
            "arbeidsmarkt", "werkgever", "arbeid", "uitbuiting", "illegale tewerkstelling",
            "talentpool", "talent pool", "blauwe kaart", "blue card", "seizoenswerk",
            "gecombineerde vergunning", "single permit", "wet arbeid vreemdelingen", "^wav$",
            "uitzendbureau", "legale migratie", "arbeidsuitbuiting", "mogen werken", "laten werken",
            "arbeidskracht", "seizoensarbeid", "arbeidsvergunning", "tewerkstelling", "arbeidsinspectie",
            "seizoenarbeid", "seizoenwerk", "uitzendkracht", "^abu$", "24-wekeneis", "24 weken",
            "normbedrag", "onderbetaling", "uitgebuit", "buitenlandse werknemer", "werknemers van buiten",
            # work and integration of recognised refugees is not labour migration (guideline)
            "!arbeidsparticipatie", "!arbeidstoeleiding", "!arbeidsmarkttoeleiding",
        ),
    ),
    Topic(
        key="border_control",
        name="Border control",
        description="Buitengrenzen en grensbewaking, Frontex, grensprocedure, screening bij "
        "binnenkomst, pushbacks, irreguliere grensoverschrijdingen, instrumentalisering, "
        "binnengrenscontroles, visumregime als toegangscontrole, mensensmokkel over de grens.",
        terms=(
            "buitengrens", "grensbewaking", "grensbeheer", "grenscontrole", "frontex",
            "grensprocedure", "pushback", "push-back", "grenspassage", "grensoverschrijding",
            "binnengrens", "schengen", "instrumentalis", "smokkel", "kustwacht", "grensbewakings",
            "eurodac", "etias", "entry/exit", "visumvrij", "visumliberalisatie", "screening",
            "irreguliere migratie",
            "marechaussee", "grensbewaker", "grenstoezicht", "grensbeveiliging", "paspoortcontrole",
            "toegangsweigering", "grenshek", "grensmuur",
            # "grens" alone is mostly "a limit" (de grens van de opvang): only border phrases
            "aan de grens", "over de grens", "de grens met", "de grens tussen", "aan de grenzen",
            "grensovergang", "grenspost", "grenswacht", "grensagentschap", "landgrens", "zeegrens",
            "^mtv", "belarus", "wit-rusland", "middellandse zee", "lampedusa", "evros", "balkanroute",
            "visumplicht", "visumregime", "irreguliere aankomst", "irregulier aangekomen", "overtocht",
        ),
    ),
)

TOPIC_KEYS: tuple[str, ...] = tuple(t.key for t in TOPICS)
_BY_KEY = {t.key: t for t in TOPICS}
_BY_VALUE = {**{t.key.lower(): t.key for t in TOPICS}, **{t.name.lower(): t.key for t in TOPICS}}


def get(key: str) -> Topic:
    try:
        return _BY_KEY[key]
    except KeyError:
        raise ClassifyError(f"unknown topic {key!r}; known topics: {', '.join(TOPIC_KEYS)}") from None


def choice_to_key(value: str) -> str | None:
    """Map a Label Studio choice value (display name or key, any case) to a topic key.

    Returns ``None`` for the explicit "none of the five" choice; raises ``KeyError`` for an
    unknown value (the caller names the task).
    """
    v = value.strip().lower()
    if v == NONE_CHOICE.lower() or v == "none":
        return None
    return _BY_VALUE[v]
