"""Package discovery that pyproject.toml alone cannot express: the top-level ``kernels/``
directory ships inside the wheel as the package ``dlx.kernels`` (see package-dir there)."""

from setuptools import find_packages, setup

setup(packages=find_packages(include=["dlx", "dlx.*"]) + ["dlx.kernels"])
