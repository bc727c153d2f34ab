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


def closest(name: str) -> str | None:
    """The known category most like `name`, for a 'did you mean' hint."""
    matches = difflib.get_close_matches(name, sorted(CATEGORIES), n=1, cutoff=0.6)
    return matches[0] if matches else None
