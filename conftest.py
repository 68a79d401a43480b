"""Doctests see ``lrkit`` and every public name, as a user's session would."""

import pytest

import lrkit


@pytest.fixture(autouse=True)
def _doctest_names(doctest_namespace: dict) -> None:
    doctest_namespace["lrkit"] = lrkit
    for name in lrkit.__all__:
        doctest_namespace[name] = getattr(lrkit, name)
