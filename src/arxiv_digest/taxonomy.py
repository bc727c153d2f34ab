"""arXiv's category names (https://arxiv.org/category_taxonomy), for validating the config."""

from __future__ import annotations

import difflib

_GROUPS = {
    "cs": "AI AR CC CE CG CL CR CV CY DB DC DL DM DS ET FL GL GR GT HC IR IT LG LO MA MM MS NA"
    " NE NI OH OS PF PL RO SC SD SE SI SY",
    "econ": "EM GN TH",
    "eess": "AS IV SP SY",
    "math": "AC AG AP AT CA CO CT CV DG DS FA GM GN GR GT HO IT KT LO MG MP NA NT OA OC PR QA RA"
    " RT SG SP ST",
    "q-bio": "BM CB GN MN NC OT PE QM SC TO",
    "q-fin": "CP EC GN MF PM PR RM ST TR",
    "stat": "AP CO ME ML OT TH",
    "astro-ph": "CO EP GA HE IM SR",
    "cond-mat": "dis-nn mes-hall mtrl-sci other quant-gas soft stat-mech str-el supr-con",
    "nlin": "AO CD CG PS SI",
    "physics": "acc-ph ao-ph app-ph atm-clus atom-ph bio-ph chem-ph class-ph comp-ph data-an"
    " ed-ph flu-dyn gen-ph geo-ph hist-ph ins-det med-ph optics plasm-ph pop-ph soc-ph space-ph",
}
# Archives that are categories themselves (and the old names of some that were split).
_STANDALONE = (
    "astro-ph cond-mat gr-qc hep-ex hep-lat hep-ph hep-th math-ph nucl-ex nucl-th quant-ph"
)

CATEGORIES = frozenset(
    [f"{group}.{name}" for group, names in _GROUPS.items() for name in names.split()]
    + _STANDALONE.split()
)


# The names of the categories people are likeliest to mean by a word rather than a code
# (arXiv's own names; a few common words for audio and speech besides).
NAMES = {
    "cs.AI": "Artificial Intelligence", "cs.CL": "Computation and Language",
    "cs.CV": "Computer Vision and Pattern Recognition", "cs.CR": "Cryptography and Security",
    "cs.DB": "Databases", "cs.DC": "Distributed, Parallel, and Cluster Computing",
    "cs.DS": "Data Structures and Algorithms", "cs.GR": "Graphics",
    "cs.HC": "Human-Computer Interaction", "cs.IR": "Information Retrieval",
    "cs.IT": "Information Theory", "cs.LG": "Machine Learning", "cs.MM": "Multimedia",
    "cs.NE": "Neural and Evolutionary Computing", "cs.NI": "Networking and Internet Architecture",
    "cs.PL": "Programming Languages", "cs.RO": "Robotics", "cs.SD": "Sound",
    "cs.SE": "Software Engineering", "cs.SI": "Social and Information Networks",
    "cs.SY": "Systems and Control", "eess.AS": "Audio and Speech Processing",
    "eess.IV": "Image and Video Processing", "eess.SP": "Signal Processing",
    "eess.SY": "Systems and Control", "stat.ML": "Machine Learning (Statistics)",
    "stat.ME": "Methodology", "stat.AP": "Applications", "math.OC": "Optimization and Control",
    "math.PR": "Probability", "math.ST": "Statistics Theory", "q-bio.NC": "Neurons and Cognition",
    "astro-ph.HE": "High Energy Astrophysical Phenomena", "astro-ph.CO": "Cosmology and Nongalactic Astrophysics",
    "astro-ph.GA": "Astrophysics of Galaxies", "astro-ph.SR": "Solar and Stellar Astrophysics",
    "astro-ph.EP": "Earth and Planetary Astrophysics",
    "astro-ph.IM": "Instrumentation and Methods for Astrophysics",
    "physics.optics": "Optics", "physics.comp-ph": "Computational Physics",
    "quant-ph": "Quantum Physics", "hep-th": "High Energy Physics - Theory",
    "gr-qc": "General Relativity and Quantum Cosmology",
}  # fmt: skip
_WORDS = {"speech": "eess.AS", "audio": "eess.AS", "music": "cs.SD", "acoustics": "cs.SD"}


def closest(name: str) -> str | None:
    """The category `name` most likely means, for a 'did you mean' hint: by its spelling
    (`cs.SDD`), or by the category's name (`cs.Sound`, `speech`, `Computation and Language`)."""
    word = name.rpartition(".")[2].casefold().strip()
    by_word = _WORDS.get(word) or next(
        (code for code, title in NAMES.items() if title.casefold() == word), None
    )
    if by_word is None and len(word) >= 4:
        starts = [code for code, title in NAMES.items() if title.casefold().startswith(word)]
        by_word = starts[0] if len(starts) == 1 else None
    if by_word is not None:
        return by_word
    matches = difflib.get_close_matches(name, sorted(CATEGORIES), n=1, cutoff=0.6)
    return matches[0] if matches else None


AUDIO = frozenset({"cs.SD", "eess.AS"})
"""The categories the default prompts and topics were written for."""


def by_name(name: str) -> str | None:
    """The category whose arXiv name `name` is (any case): `Computation and Language` is
    cs.CL."""
    wanted = " ".join(name.split()).casefold()
    return next((code for code, title in NAMES.items() if title.casefold() == wanted), None)


def field_name(categories: list[str]) -> str | None:
    """How prompts name a site's field: its categories' names (`Computation and Language
    (cs.CL)`); None for audio and speech, which the default prompts name themselves."""
    if set(categories) <= AUDIO:
        return None
    return "、".join(f"{NAMES[code]}（{code}）" if code in NAMES else code for code in categories)
