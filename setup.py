"""For ``scrapyd-deploy`` alone: it builds the egg it uploads with ``setup.py bdist_egg``, and
writes a setup.py of its own into the checkout when there is none. Everything else, including the
``scrapy`` entry point that tells Scrapyd the settings module, is in pyproject.toml."""

from setuptools import setup

setup()
