"""Only the package list, which pyproject.toml cannot express: the discovered packages plus resources/,
shipped as the data package ``ess_accompagnement._shipped`` (everything else is in pyproject.toml)."""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["ess_accompagnement*"]), "ess_accompagnement._shipped"])
