"""The suite's warning filters (pyproject.toml): errors, except a deprecation a library warns about
from inside itself, so a new numpy, scikit-learn or Pillow release cannot turn the suite red; a
deprecation warned at this project's own code still fails."""
import warnings

import pytest


def _action(category, module: str, text: str = "old API") -> str:
    """What the filters in force during a test do with this warning (the first matching filter wins)."""
    for action, message, cat, mod, lineno in warnings.filters:
        if ((message is None or message.match(text)) and issubclass(category, cat)
                and (mod is None or mod.match(module)) and lineno in (0, 1)):
            return action
    return warnings.defaultaction


@pytest.mark.parametrize("module", ["numpy.linalg._linalg", "sklearn.utils.validation", "PIL.Image", "scipy.sparse"])
@pytest.mark.parametrize("category", [DeprecationWarning, PendingDeprecationWarning, FutureWarning])
def test_a_librarys_own_deprecation_is_shown_not_raised(module, category):
    assert _action(category, module) == "default"


@pytest.mark.parametrize("module", ["explorer.train.trainer", "tests.test_something", "numpyish", "PILLOW_app"])
def test_a_deprecation_at_our_code_fails(module):
    assert _action(DeprecationWarning, module) == "error"
    with pytest.raises(DeprecationWarning):
        warnings.warn_explicit("old API", DeprecationWarning, "ours.py", 1, module=module)
