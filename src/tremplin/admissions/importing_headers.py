"""Understanding an applications spreadsheet: the words people use for its columns (in French,
English and Arabic, as Google Forms and Excel write them) and for its values (closed lists,
yes and no). The file itself is read as text by ``importing_files``.

Headers and values are compared after ``fold``: lower case, no accents, Arabic letters
unified (hamza forms of alef, alef maqsura, ta marbuta, diacritics), punctuation as spaces.
A Google Forms question such as « Votre date de naissance (jj/mm/aaaa) » folds to
``date naissance``, the same as « Date de naissance » and « تاريخ الازدياد » maps to the same
field through the synonyms below.
"""

import re
import unicodedata
from collections.abc import Callable

from django.utils import translation

# The canonical columns, in the order of the template and of the exports.
IDENTITY_COLUMNS = ("cin",)
ACCOMMODATION_COLUMNS = ("needs_accommodation", "accommodation_consent")
CANONICAL_COLUMNS = (
    "cin",
    "last_name",
    "first_name",
    "last_name_ar",
    "first_name_ar",
    "birth_date",
    "sex",
    "phone",
    "email",
    "commune",
    "education_level",
    "diploma",
    "employment",
    "motivation",
    "needs_accommodation",
    "accommodation_consent",
    "follow_up_consent",
    "language",
)
REQUIRED_COLUMNS = (
    "cin",
    "last_name",
    "first_name",
    "birth_date",
    "sex",
    "phone",
    "commune",
    "education_level",
    "employment",
)
MAX_WISHES = 9
# The example row of the downloadable template (with the school's commune): left in a file,
# it is skipped, not imported as an applicant.
TEMPLATE_EXAMPLE = {
    "cin": "AB123456",
    "last_name": "El Idrissi",
    "first_name": "Fatima",
    "last_name_ar": "الإدريسي",
    "first_name_ar": "فاطمة",
    "birth_date": "21/03/2003",
    "sex": "F",
    "phone": "06 61 23 45 67",
    "email": "fatima@example.ma",
    "education_level": "bac",
    "diploma": "",
    "employment": "neet",
    "motivation": "",
    "needs_accommodation": "0",
    "accommodation_consent": "0",
    "follow_up_consent": "1",
    "language": "fr",
}


def wish_column(rank: int) -> str:
    return f"wish_{rank}"


_ARABIC_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_LETTERS = str.maketrans(
    {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي"}
    | {"œ": "oe", "æ": "ae"}
)
# Eastern Arabic and Persian digits, which phones and dates typed on an Arabic keyboard use.
DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_NOT_WORD = re.compile(r"[\W_]+")
_PARENTHESES = re.compile(r"\([^)]*\)|\[[^\]]*\]")


def fold(text: str) -> str:
    """A comparison key: ``Date de Naissance`` -> ``date de naissance``, Arabic unified."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = _ARABIC_DIACRITICS.sub("", text).translate(_LETTERS).translate(DIGITS)
    return " ".join(_NOT_WORD.sub(" ", text).split())


# Words that Google Forms questions and paper-form headers add around the field's name.
_FILLER = frozenset(
    "votre vos ton ta your the le la les l de du des d of n no num numero number nr "  # noqa: SIM905
    "please svp veuillez indiquer saisir entrer enter write ecrire ici here السيد رقم ال".split()
)


# The words of a form's question around what it asks (« Quel est votre niveau d'études ? »,
# « Dans quelle commune habitez-vous ? », « ما هو مستواك الدراسي؟ »), dropped when the header
# is not known as it is (``_unasked``).
# « Niveau d'études actuel », « Commune de résidence actuelle »: what the field is now.
_NOW = frozenset("actuel actuelle actuels actuelles actuellement".split())  # noqa: SIM905
_QUESTION = _NOW | frozenset(
    "quel quelle quels quelles qu que quoi est sont etes es avez as vous tu un une dans en ou "  # noqa: SIM905
    "habitez habites residez vivez what which is are do does you current currently where "
    "ما ماهو ماهي هو هي هل في حاليا الحالي الحاليه".split()
)
# How a question that asks for a value starts: « Quel(le) est… », « What is… », « ما هو… »,
# « Dans quelle commune… ». Other questions (« Où êtes-vous né(e) ? », « Habitez-vous dans
# la commune ? ») ask something else than the field their last words name.
_ASKING = frozenset("quel quelle quels quelles what which ما ماهو ماهي".split())  # noqa: SIM905
# A yes/no question (« Avez-vous un handicap ? », « هل… »): only a yes/no field may answer
# it; « Avez-vous un diplôme ? » or « Avez-vous WhatsApp ? » are not the diploma or the phone.
_YES_NO = frozenset("avez etes es as هل are do have".split())  # noqa: SIM905
_YES_NO_FIELDS = frozenset({"needs_accommodation", "accommodation_consent", "follow_up_consent"})


def _unasked(key: str, index: dict[str, str]) -> str | None:
    """The field a header written as a question asks for, or None."""
    words = key.split()
    if not words:
        return None
    if words[-1] in _NOW and " ".join(words[:-1]) in index:
        return index[" ".join(words[:-1])]
    asking = words[0] in _ASKING or words[:2] == ["dans", "quelle"]
    if not asking and words[0] not in _YES_NO:
        return None
    field = index.get(" ".join(word for word in words if word not in _QUESTION))
    if words[0] in _YES_NO and field not in _YES_NO_FIELDS:
        return None
    return field


# « C.I.N », « N.B. »: letters one by one, each followed by a dot.
_DOTTED = re.compile(r"(?<!\w)(?:[^\W\d_]\.)+[^\W\d_](?!\w)")


def _undotted(text: str) -> str:
    return _DOTTED.sub(lambda match: match.group().replace(".", ""), text) if "." in text else text


def fold_header(text: str, *, brackets: bool = False) -> str:
    """A header's key: folded, dotted abbreviations joined (« C.I.N » is « cin »), without
    filler words, and without what is in brackets unless ``brackets``."""
    text = _undotted(text)
    words = fold(text if brackets else _PARENTHESES.sub(" ", text)).split()
    kept = [w for w in words if w not in _FILLER]
    return " ".join(kept or words)


# fmt: off
HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "cin": ("cin", "cnie", "carte nationale", "carte identite nationale",
        "carte nationale identite", "carte nationale d identite", "cin cnie", "identity card",
        "national id", "national identity card", "id card", "cine", "البطاقه الوطنيه",
        "رقم البطاقه",
        "رقم البطاقه الوطنيه", "بطاقه التعريف الوطنيه", "البطاقه الوطنيه للتعريف", "ب ت و"),
    "last_name": ("last name", "nom", "nom famille", "family name", "surname", "nom latin",
        "nom en francais", "nom francais", "last name latin", "الاسم العائلي بالفرنسيه",
        "النسب بالفرنسيه", "الاسم العائلي بالحروف اللاتينيه"),
    "first_name": ("first name", "prenom", "given name", "prenom latin", "prenom en francais",
        "prenom francais", "first name latin", "الاسم الشخصي بالفرنسيه", "الاسم بالفرنسيه",
        "الاسم الشخصي بالحروف اللاتينيه"),
    "last_name_ar": ("last name ar", "last name arabic", "nom ar", "nom arabe", "nom en arabe",
        "الاسم العائلي", "النسب", "الاسم العائلي بالعربيه", "النسب بالعربيه"),
    "first_name_ar": ("first name ar", "first name arabic", "prenom ar", "prenom arabe",
        "prenom en arabe", "الاسم الشخصي", "الاسم", "الاسم الشخصي بالعربيه", "الاسم بالعربيه"),
    "birth_date": ("birth date", "date of birth", "birthdate", "dob", "date naissance",
        "date naiss", "ne le",
        "nee le", "ne e le", "تاريخ الازدياد", "تاريخ الميلاد", "تاريخ الولاده"),
    "sex": ("sex", "gender", "sexe", "genre", "الجنس", "النوع"),
    "phone": ("phone", "mobile", "mobile phone", "phone number", "telephone", "tel", "gsm",
        "portable", "telephone portable", "telephone mobile", "whatsapp", "الهاتف",
        "الهاتف المحمول", "رقم الهاتف", "هاتف"),
    "email": ("email", "e mail", "mail", "email address", "adresse email", "adresse e mail",
        "adresse mail", "courriel", "البريد الالكتروني", "عنوان البريد الالكتروني",
        "البريد الالكتروني الشخصي"),
    "commune": ("commune", "commune residence", "commune of residence", "municipality",
        "lieu residence", "residence", "ville", "ville residence", "ville actuelle",
        "commune actuelle", "city", "city of residence", "town", "ou habitez vous", "الجماعه",
        "جماعه الاقامه",
        "الجماعه الترابيه", "مكان الاقامه", "مدينه الاقامه", "المدينه", "مدينه السكن",
        "مكان السكن"),
    "education_level": ("education level", "education", "level of education", "niveau",
        "مستواك الدراسي", "مستواك التعليمي",
        "niveau etudes", "niveau d etudes", "niveau etude", "niveau scolaire",
        "niveau instruction", "dernier niveau etudes", "dernier niveau etude",
        "dernier niveau scolaire", "niveau etudes atteint", "niveau etude atteint",
        "dernier niveau etudes atteint", "dernier niveau etude atteint", "niveau scolaire atteint",
        "niveau academique", "highest education level", "highest level of education",
        "المستوى الدراسي", "المستوى التعليمي", "اخر مستوى دراسي", "المستوى الدراسي المحصل"),
    "diploma": ("diploma", "degree", "last diploma", "diplome", "dernier diplome",
        "diplome obtenu", "dernier diplome obtenu", "diplome le plus eleve", "highest diploma",
        "highest degree", "last diploma obtained", "الشهاده", "اخر شهاده", "الدبلوم",
        "اخر شهاده محصل عليها", "الشهاده المحصل عليها", "اخر دبلوم"),
    "employment": ("employment", "employment situation", "employment status", "situation",
        "situation professionnelle", "situation professionnelle actuelle", "situation actuelle",
        "statut professionnel", "statut professionnel actuel", "statut", "statut actuel",
        "activite", "activite actuelle", "current situation", "occupation status",
        "الوضعيه المهنيه", "الوضعيه المهنيه الحاليه", "الوضعيه الحاليه", "الوضعيه",
        "الحاله المهنيه", "وضعيتك", "وضعيتك المهنيه", "وضعيتك الحاليه",
        # « Êtes-vous actuellement : » (étudiant, en emploi, sans emploi…)
        "etes vous actuellement", "vous etes actuellement", "actuellement"),
    "motivation": ("motivation", "motivations", "why", "pourquoi", "lettre motivation", "الحافز",
        "الدوافع", "التحفيز"),
    "needs_accommodation": ("needs accommodation", "needs an accommodation", "accommodation",
        "handicap", "situation handicap", "besoin amenagement", "besoin d amenagement",
        "amenagement", "besoins specifiques", "احتياجات خاصه", "وضعيه اعاقه", "الاعاقه"),
    "accommodation_consent": ("accommodation consent", "consentement amenagement",
        "consentement handicap", "الموافقه على استعمال الاحتياجات الخاصه"),
    "follow_up_consent": ("follow up consent", "job placement consent", "consentement suivi",
        "suivi insertion", "consentement suivi insertion", "الموافقه على التتبع", "التتبع"),
    "language": ("language", "langue", "langue preferee", "preferred language", "اللغه",
        "لغه التواصل"),
    # Not imported: when someone answered a form twice, it tells which answer is the latest.
    "answered_at": ("timestamp", "horodateur", "horodatage", "marque temporelle",
        "completion time", "heure de fin", "submitted at", "submission time",
        "الطابع الزمني"),
}
# fmt: on

# A wish column: a word for a choice or a track, at most one rank (« 2e choix », « Filière
# souhaitée (1er choix) », « الاختيار الأول », « Second choice »), and nothing else but filler.
_WISH_WORDS = frozenset(
    "wish wishes choice track tracks preference voeu voeux choix filiere filieres formation "  # noqa: SIM905
    "parcours option "
    "رغبه الرغبه اختيار الاختيار شعبه الشعبه مسلك المسلك التكوين".split()
)
_RANK_WORDS = {
    **dict.fromkeys(("premier", "premiere", "first", "اول", "الاول", "الاولي"), 1),
    **dict.fromkeys(("deuxieme", "second", "seconde", "ثاني", "الثاني", "الثانيه"), 2),
    **dict.fromkeys(("troisieme", "third", "ثالث", "الثالث", "الثالثه"), 3),
    **dict.fromkeys(("quatrieme", "fourth", "رابع", "الرابع", "الرابعه"), 4),
    **dict.fromkeys(("cinquieme", "fifth", "خامس", "الخامس", "الخامسه"), 5),
    **dict.fromkeys(("sixieme", "sixth", "سادس", "السادس", "السادسه"), 6),
    **dict.fromkeys(("septieme", "seventh", "سابع", "السابع", "السابعه"), 7),
    **dict.fromkeys(("huitieme", "eighth", "ثامن", "الثامن", "الثامنه"), 8),
    **dict.fromkeys(("neuvieme", "ninth", "تاسع", "التاسع", "التاسعه"), 9),
}
_RANK_NUMBER = re.compile(r"(\d)(?:er|re|ere|e|eme|st|nd|rd|th)?$")
_WISH_DESIRED = frozenset(
    "souhaite souhaitee souhaitez desire desiree prefere preferee choisi choisie preferred "  # noqa: SIM905
    "desired chosen interessent interesse want "
    "المرغوب المرغوبه المفضل المفضله المختار المختاره".split()
)
_WISH_FILLER = (
    _FILLER
    | _WISH_DESIRED
    | _QUESTION
    | frozenset(
        "er ere e eme st nd rd th ordre order by my mon ma facultatif optionnel optional "  # noqa: SIM905
        "qui suivre integrer would like to فيه فيها "
        # A ranking question (« Classez les filières [1er choix] », the tracks in its cells).
        "classez classer rangez ranger ordonnez ordonner rank par حسب رتب رتبي ترتيب".split()
    )
)
# Words that name a track only when the header says it is wished or ranked: « En formation ? »
# and « Option » alone are other questions.
_WISH_AMBIGUOUS = frozenset("formation parcours option التكوين".split())  # noqa: SIM905


def _wish_rank(folded_header: str) -> int | None:
    """The rank a wish column gives (1 when it names none), None when it is no wish column."""
    rank, named, plain, desired = None, False, False, False
    # « Quelle est votre filière ? » asks the stream of her bac: a question names a wish only
    # with a word of wishing or a rank (« Quelle filière souhaitez-vous suivre ? »).
    words = folded_header.split()
    asked = bool(words) and (words[0] in _ASKING or words[0] in _YES_NO)
    for word in folded_header.split():
        if word in _WISH_WORDS:
            named = True
            plain = plain or word not in _WISH_AMBIGUOUS
            continue
        desired = desired or word in _WISH_DESIRED
        match = _RANK_NUMBER.match(word)
        word_rank = int(match.group(1)) if match else _RANK_WORDS.get(word)
        if word_rank is not None:
            if rank not in (None, word_rank):
                return None  # two ranks: not one wish
            rank = word_rank
        elif word not in _WISH_FILLER:
            return None
    if not named or rank == 0 or not (plain or desired or rank):
        return None
    if asked and not (desired or rank):
        return None
    return rank or 1


# A form's ranking grid (Google Forms' « grille à choix multiples »): one column per track,
# « Classez les filières [Développement web] », each cell the rank the applicant gave that
# track (« 1er choix », « 2 », « الاختيار الأول ») or nothing.
_BRACKETED = re.compile(r"(?s)^(.*\S)\s*\[([^\]]*\S[^\]]*)\]$")
_RANKING = frozenset(
    "classez classer classe classement rangez ranger ordonnez ordonner rank ranking order "  # noqa: SIM905
    "ordre preference preferences priorite priorites رتب رتبي رتبوا ترتيب الاولويه".split()
)
# What a grid ranks, plurals included (« Classez les formations », « رتب الشعب »).
_RANKED_WORDS = _WISH_WORDS | frozenset(
    "formations options parcours شعب الشعب مسالك المسالك التكوينات".split()  # noqa: SIM905
)
# Words around a rank in a cell: « Choix n° 2 », « Rang 1 », « 1re préférence », « Colonne 1 »
# (Google Forms' own name of a grid's columns), « الرتبة الأولى », « الخيار الأول ».
_RANK_FILLER = _WISH_FILLER | frozenset(
    "choix choice voeu wish rang rank position priorite priority preference option colonne "  # noqa: SIM905
    "column اختيار الاختيار خيار الخيار رغبه الرغبه رتبه الرتبه مرتبه المرتبه اولويه "
    "الاولويه".split()
)
# A cell saying the track is not wished, as a grid's last column may.
_NOT_RANKED = frozenset(
    ("non", "aucun", "aucune", "pas interesse", "pas interessee", "pas du tout", "no", "none",
     "not interested",
     "لا", "غير مهتم", "غير مهتمه")
)  # fmt: skip


def grid_column(header: str) -> tuple[str, str] | None:
    """The question and the track of a column of a ranking grid (its header's words before
    the brackets, folded, and what it has in brackets), or None when the header is no such
    column: « Vos choix [1er choix] » has a rank in brackets, it is the first wish."""
    match = _BRACKETED.match(header.strip())
    if match is None:
        return None
    question, track = fold(match.group(1)), match.group(2).strip()
    if rank_value(track) is not None:
        return None
    words = set(question.split())
    if not words & _RANKED_WORDS:
        return None
    if words & _RANKING or _wish_rank(fold_header(match.group(1))) is not None:
        return question, track
    return None


def rank_value(text: str) -> int | None:
    """The rank a cell of a ranking grid gives (« 1er choix », « 2 », « Troisième »,
    « الاختيار الأول »), 0 when it gives none (empty, « Non », « Pas intéressée »), None
    when it is not a rank."""
    words = fold(_GENDER_SUFFIX.sub("", text)).split()
    if not words or " ".join(words) in _NOT_RANKED:
        return 0
    ranks = []
    for word in words:
        match = _RANK_NUMBER.match(word)
        rank = int(match.group(1)) if match else _RANK_WORDS.get(word)
        if rank is not None:
            ranks.append(rank)
        elif word not in _RANK_FILLER:
            return None
    # One rank, or the same said twice (« 1 - Premier choix »).
    return ranks[0] if ranks and len(set(ranks)) == 1 and ranks[0] > 0 else None


# Long questions of a form, recognised by how they start.
_HEADER_PREFIXES = (
    ("pourquoi ", "motivation"),
    ("why ", "motivation"),
    ("lettre motivation", "motivation"),
    ("لماذا ", "motivation"),
    ("date naissance ", "birth_date"),
)

_HEADER_INDEX: dict[str, str] = {}


def _header_index() -> dict[str, str]:
    if not _HEADER_INDEX:
        for field, synonyms in HEADER_SYNONYMS.items():
            _HEADER_INDEX[fold_header(field.replace("_", " "))] = field
            _HEADER_INDEX[field] = field
            for synonym in synonyms:
                _HEADER_INDEX.setdefault(fold_header(synonym), field)
        _HEADER_INDEX.update(_export_labels())
    return _HEADER_INDEX


def _export_labels() -> dict[str, str]:
    """The headers of the staff's exports, in each language of the site (« Nom (lettres
    latines) », « يوافق على تتبع الإدماج المهني »): an export corrected in a spreadsheet is
    imported as it is, whatever the language of whoever exported it."""
    from django.conf import settings

    from tremplin.admissions.importing_report import field_label

    labels = {}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            for field in CANONICAL_COLUMNS:
                labels[fold_header(field_label(field), brackets=True)] = field
    return labels


# The script a name header asks for, when it says so: « Nom (en arabe) », « Prénom (lettres
# latines) », « الاسم العائلي بالحروف العربية ».
_SCRIPT_WORDS = {
    **dict.fromkeys(("arabe", "arabes", "arabic", "عربيه", "العربيه", "بالعربيه"), "arabic"),
    **dict.fromkeys(
        (
            "francais",
            "french",
            "latin",
            "latine",
            "latines",
            "latins",
            "الفرنسيه",
            "بالفرنسيه",
            "اللاتينيه",
            "باللاتينيه",
        ),
        "latin",
    ),
}
_SCRIPT_FILLER = frozenset(
    (
        "en",
        "in",
        "lettres",
        "letters",
        "caracteres",
        "characters",
        "script",
        "ecrit",
        "ecriture",
        "langue",
        "بالحروف",
        "الحروف",
        "حروف",
        "باللغه",
        "اللغه",
        "بلغه",
    )
)
_NAME_SCRIPTS = {
    "last_name": {"latin": "last_name", "arabic": "last_name_ar"},
    "first_name": {"latin": "first_name", "arabic": "first_name_ar"},
}
_NAME_SCRIPTS["last_name_ar"] = _NAME_SCRIPTS["last_name"]
_NAME_SCRIPTS["first_name_ar"] = _NAME_SCRIPTS["first_name"]

# A consent question of a form, as long as people write them: « J'accepte d'être contacté(e)
# pour le suivi de mon insertion », « أوافق على تتبع مساري المهني ».
_CONSENT_WORDS = frozenset(
    (
        "accepte",
        "accepter",
        "acceptez",
        "consens",
        "consent",
        "consentement",
        "agree",
        "اوافق",
        "موافق",
        "الموافقه",
    )
)
# Words of the job-placement follow-up itself, not of any follow-up: « le suivi de ma
# candidature » is another purpose, and a consent is never inferred across purposes.
_FOLLOW_UP_WORDS = frozenset(
    (
        "insertion", "professionnelle", "professionnel", "emploi", "employment", "career",
        "placement", "الادماج", "ادماج", "المهني", "المهنيه", "الشغل",
    )
)  # fmt: skip
_ACCOMMODATION_WORDS = frozenset(("amenagement", "handicap", "accommodation", "الاعاقه", "اعاقه"))


def _name_in_script(words: list[str], index: dict[str, str]) -> str | None:
    """The name field of a header that names its script (None when it names no single
    script, or is no name)."""
    scripts = {_SCRIPT_WORDS[w] for w in words if w in _SCRIPT_WORDS}
    if len(scripts) != 1:
        return None
    rest = " ".join(w for w in words if w not in _SCRIPT_WORDS and w not in _SCRIPT_FILLER)
    variants = _NAME_SCRIPTS.get(index.get(rest, ""))
    return variants[scripts.pop()] if variants else None


def header_field(header: str) -> str | None:
    """The canonical field of a header as written in a file, or None when it is not ours."""
    raw = (header or "").strip()
    if not raw:
        return None
    index = _header_index()
    if raw in index:
        return index[raw]
    # The whole header first: what is in brackets may say which field it is (« Nom (en
    # arabe) » is not « Nom »), then the header without it.
    whole = fold_header(raw, brackets=True)
    if whole in index:
        return index[whole]
    words = whole.split()
    name = _name_in_script(words, index)
    if name is not None:
        return name
    key = fold_header(raw)
    if key in index:
        return index[key]
    asked = _unasked(key, index)
    if asked is not None:
        return asked
    # With what is in brackets first (« Filière (1er choix) »), then without (« Vos vœux
    # (cochez les filières qui vous intéressent) »).
    for candidate in (fold(raw), key):
        rank = _wish_rank(candidate)
        if rank is not None:
            return wish_column(rank) if rank <= MAX_WISHES else None
    found = set(words)
    if found & _CONSENT_WORDS and found & _FOLLOW_UP_WORDS and not found & _ACCOMMODATION_WORDS:
        return "follow_up_consent"
    for prefix, name in _HEADER_PREFIXES:
        if key.startswith(prefix):
            return name
    return None


# Values of the closed lists, beyond their codes and their labels in each language.
# A value maps to a choice only when it means the same: « femme au foyer » is NEET (neither
# working, studying nor in training, whatever the reason), but « sans diplôme » (no diploma,
# perhaps years of school) and « universitaire » (which degree?) match no level.
# fmt: off
VALUE_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "sex": {
        "F": ("f", "femme", "feminin", "female", "woman", "fille", "أنثى", "انثى", "امراه"),
        "M": ("m", "h", "homme", "masculin", "male", "man", "garcon", "ذكر", "رجل"),
    },
    "education_level": {
        "none": ("aucun", "sans", "non scolarise", "no schooling", "none", "بدون", "غير متمدرس"),
        "primary": ("primaire", "ecole primaire", "primary", "ابتدائي", "الابتدائي"),
        "middle": ("college", "collegial", "secondaire collegial", "middle school", "اعدادي",
            "الاعدادي", "إعدادي", "الثانوي الاعدادي"),
        "secondary": ("lycee", "secondaire", "niveau bac", "lycee sans bac", "secondary",
            "high school", "secondaire qualifiant", "lycee qualifiant", "ثانوي", "الثانوي",
            "ثانوي تاهيلي", "الثانوي التاهيلي", "التعليم الثانوي التاهيلي", "مستوى الباكالوريا"),
        "bac": ("bac", "baccalaureat", "baccalaureate", "باكالوريا", "الباكالوريا", "بكالوريا"),
        "bac2": ("bac 2", "bac2", "dts", "dut", "bts", "deug", "technicien specialise",
            "باكالوريا 2"),
        "licence": ("licence", "bac 3", "bachelor", "licence professionnelle", "اجازه",
            "الاجازه"),
        "master": ("master", "bac 5", "ingenieur", "doctorat", "ماستر", "الماستر", "دكتوراه"),
        "vocational": ("formation professionnelle", "diplome formation professionnelle",
            "ofppt", "qualification", "technicien", "vocational", "تكوين مهني",
            "التكوين المهني"),
    },
    "employment": {
        "neet": ("neet", "sans emploi", "chomeur", "chomeuse", "chomeur chomeuse", "chomage",
            "au chomage", "en recherche d emploi", "a la recherche d un emploi",
            "recherche d emploi", "demandeur d emploi", "demandeuse d emploi", "job seeker",
            "jobseeker", "looking for a job", "femme au foyer", "homemaker", "housewife",
            "ربه بيت", "ربه منزل", "باحث عن عمل", "باحثه عن عمل", "ni emploi ni etudes",
            "unemployed", "sans activite", "بدون عمل", "عاطل", "عاطل عن العمل",
            # Earlier labels of this platform, in files exported before they changed.
            "لا يعمل ولا يدرس", "لا تعمل ولا تدرس"),
        "training": ("en formation", "formation", "stagiaire", "in training", "في التكوين"),
        "student": ("etudiant", "etudiante", "etudiant etudiante", "eleve", "lyceen",
            "lyceenne", "student", "طالب", "طالبه", "تلميذ", "تلميذه"),
        "employed": ("salarie", "salariee", "employe", "employee", "fonctionnaire", "en emploi",
            "employed", "موظف", "موظفه", "اجير", "اجيره", "يعمل"),
        "self_employed": ("independant", "independante", "auto entrepreneur",
            "autoentrepreneur", "self employed", "مقاول ذاتي", "عمل حر", "يعمل لحسابه الخاص",
            "تعمل لحسابها الخاص"),
        "informal": ("informel", "travail informel", "occasionnel", "petits boulots",
            "informal", "عمل غير مهيكل", "عمل موسمي"),
    },
    "language": {
        "fr": ("fr", "francais", "french", "الفرنسيه"),
        "ar": ("ar", "arabe", "arabic", "العربيه", "عربيه"),
        "en": ("en", "anglais", "english", "الانجليزيه"),
    },
}
# fmt: on

BOOLEAN_WORDS: dict[str, bool] = {
    **dict.fromkeys(
        ("1", "x", "oui", "o", "yes", "y", "true", "vrai", "نعم", "اوافق", "j accepte", "accepte"),
        True,
    ),
    **dict.fromkeys(("0", "non", "n", "no", "false", "faux", "لا", "-"), False),
}


# --- Values ---------------------------------------------------------------------------------


class Lookup(dict):
    """Values of a closed list by their code, their labels in every language and usual
    synonyms. A column repeats the same few values, so each distinct cell is folded once and
    later rows are answered by a plain dictionary hit (None: unknown)."""

    def __init__(self, resolve: Callable[[str], object]):
        super().__init__()
        self.resolve = resolve

    def __missing__(self, raw: str):
        self[raw] = result = self.resolve(raw)
        return result


# « Étudiant(e) », « Chômeur(se) », « Technicien(ne) »: the form's gender-inclusive answers.
_GENDER_SUFFIX = re.compile(r"(?<=[^\W\d_])\s?\((?:e|es|se|ne|le|te|ve|ere|ère|euse|rice)\)", re.I)


def folded(mapping: dict[str, object]) -> Lookup:
    def resolve(raw: str):
        found = mapping.get(fold(raw))
        if found is None and "(" in raw:
            found = mapping.get(fold(_GENDER_SUFFIX.sub("", raw)))
        return found

    return Lookup(resolve)


def choice_lookup(name: str, choices) -> Lookup:
    mapping: dict[str, str] = {}
    for language in ("en", "fr", "ar"):
        with translation.override(language):
            for value, label in choices:
                mapping.setdefault(fold(str(label)), value)
    for value, synonyms in VALUE_SYNONYMS.get(name, {}).items():
        for synonym in synonyms:
            mapping[fold(synonym)] = value
    for value, _label in choices:
        mapping[fold(value)] = value
    return folded(mapping)


def boolean(raw: str) -> bool | None:
    key = fold(raw)
    if key in BOOLEAN_WORDS:
        return BOOLEAN_WORDS[key]
    # Google Forms writes the text of the ticked box, such as « J'accepte que ... ».
    if key.startswith(("j accepte", "oui", "yes", "i agree", "i accept", "نعم", "اوافق")):
        return True
    return None
