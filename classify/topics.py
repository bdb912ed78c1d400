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
precision on the training data; terms the data never saw keep a prior trust.

Examples are a few short segments per topic, written by the project in its own words (never copied
from the data), in the kinds of text the tool meets: questions, answers, letter sentences. The
classifier trains on them in every fit at a low sample weight (``ModelConfig.examples_weight``), as
weak labels next to the annotated segments: a topic that the annotations cover from one document
only (or not at all, as in the cross-validation fold that holds that document out) still has
positive examples to learn words from, besides its seed terms. Each example should be about its
topic alone; add examples for vocabulary the annotations lack. Retrain after editing terms or
examples (the model card records the examples' sha256).
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
    examples: tuple[str, ...] = ()  # hand-written Dutch segments about the topic (weak labels)


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
        examples=(
            "Hoeveel uitgeprocedeerde asielzoekers zijn vorig jaar daadwerkelijk naar hun land van herkomst teruggekeerd?",
            "De Dienst Terugkeer en Vertrek begeleidt vreemdelingen zonder verblijfsrecht bij hun vertrek uit Nederland.",
            "Welke afspraken maakt het kabinet met landen van herkomst over het terugnemen van eigen onderdanen?",
            "Vreemdelingenbewaring wordt alleen ingezet als uitzetting binnen afzienbare tijd mogelijk is.",
            "Is de minister bereid visumbeleid of ontwikkelingshulp in te zetten om de medewerking aan gedwongen vertrek te verbeteren?",
            "Met de nieuwe terugkeerverordening krijgt een terugkeerbesluit van een andere lidstaat ook hier gevolgen.",
            "Kan een vreemdeling met een vertrekplicht die zelfstandig vertrekt een vertrekpremie krijgen?",
            "Het kabinet verkent samen met andere lidstaten de mogelijkheid van terugkeerhubs buiten de EU.",
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
        examples=(
            "Hoeveel asielzoekers neemt Nederland over uit lidstaten aan de buitengrens in het kader van de solidariteitspool?",
            "Lidstaten kunnen kiezen tussen het opnemen van asielzoekers, een financiële bijdrage per persoon of andere solidariteitsmaatregelen.",
            "Italië en Griekenland vragen andere lidstaten om een deel van de asielaanvragen over te nemen.",
            "Nederland wil zijn eerlijk aandeel leveren in het Europese solidariteitsmechanisme van het Migratiepact.",
            "Kan Nederland in plaats van herplaatsing de verantwoordelijkheid voor Dublinclaimanten overnemen als vorm van verrekening?",
            "Welke lidstaten hebben toegezegd migranten op te nemen die na een reddingsactie op zee aan land zijn gebracht?",
            "Het kabinet is geen voorstander van verplichte herverdeling, maar draagt wel bij aan de jaarlijkse solidariteit.",
            "Wat kost een financiële bijdrage van twintigduizend euro per niet herplaatste asielzoeker Nederland in totaal?",
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
        examples=(
            "Hoe beoordeelt de NCTV het huidige dreigingsniveau voor een terroristische aanslag in Nederland?",
            "Signalen van radicalisering bij asielzoekers worden door de IND gedeeld met de AIVD.",
            "Hoeveel uitreizigers die zich bij een jihadistische groepering hadden aangesloten zijn inmiddels teruggekeerd?",
            "Wordt bij de screening van nieuwe asielzoekers nagegaan of er banden zijn met een terroristische organisatie?",
            "Het kabinet zet in op het tegengaan van gewelddadig extremisme en online radicalisering van jongeren.",
            "Kunnen vreemdelingen die een gevaar vormen voor de nationale veiligheid ongewenst worden verklaard?",
            "De veiligheidsdiensten wisselen informatie uit over personen die verdacht worden van terroristische misdrijven.",
            "Wat is bekend over de vrouwen en kinderen van Nederlandse strijders in de kampen in Noordoost-Syrië?",
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
        examples=(
            "Hoeveel kennismigranten zijn vorig jaar via de erkende referentenregeling naar Nederland gekomen?",
            "Asielzoekers mogen maximaal een beperkt aantal weken per jaar werken met een tewerkstellingsvergunning.",
            "Wat doet het kabinet tegen de uitbuiting van arbeidsmigranten door malafide uitzendbureaus?",
            "De huisvesting van arbeidsmigranten moet los komen te staan van hun arbeidscontract.",
            "Werkgevers die vreemdelingen zonder geldige werkvergunning laten werken krijgen een boete van de Arbeidsinspectie.",
            "De herziene richtlijn voor de gecombineerde vergunning maakt het makkelijker om van werkgever te wisselen.",
            "Welke tekorten op de arbeidsmarkt wil de minister oplossen met gerichte arbeidsmigratie van buiten de EU?",
            "Kunnen seizoenswerkers uit derde landen na afloop van hun contract een andere baan zoeken?",
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
        examples=(
            "Hoeveel irreguliere grensoverschrijdingen heeft Frontex dit jaar aan de buitengrenzen geregistreerd?",
            "De Koninklijke Marechaussee voert aan de binnengrenzen met België en Duitsland extra controles uit.",
            "Wat weet de minister van pushbacks door grenswachten aan de Grieks-Turkse grens?",
            "Asielzoekers uit landen met een laag inwilligingspercentage doorlopen straks een grensprocedure.",
            "Bij de screening aan de buitengrens worden identiteit, gezondheid en veiligheid van aankomende migranten gecontroleerd.",
            "Belarus zet migranten in als drukmiddel door hen naar de grens met Polen en Litouwen te brengen.",
            "Het nieuwe inreis- en uitreissysteem registreert reizigers van buiten de EU bij elke grenspassage.",
            "Welke maatregelen neemt de EU tegen mensensmokkelaars die migranten over de Middellandse Zee brengen?",
        ),
    ),
)

TOPIC_KEYS: tuple[str, ...] = tuple(t.key for t in TOPICS)


def example_rows(labels=None) -> tuple[list[str], list[list[str]]]:
    """The registry's topic examples as training rows: texts and their labels (topic keys), for the
    topics in ``labels`` (default: all, registry order)."""
    keys = list(labels) if labels is not None else list(TOPIC_KEYS)
    texts, ys = [], []
    for key in keys:
        for text in _BY_KEY[key].examples:
            texts.append(text)
            ys.append([key])
    return texts, ys


def examples_sha256(labels=None) -> str:
    """sha256 of the examples of ``labels`` (text and topic, in order): recorded in model cards."""
    import hashlib
    import json

    texts, ys = example_rows(labels)
    return hashlib.sha256(json.dumps([[t, y] for t, y in zip(texts, ys)], ensure_ascii=False).encode("utf-8")).hexdigest()
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
