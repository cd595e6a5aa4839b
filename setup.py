"""The wheel's compiled message catalogues: ``build_py`` also compiles every
``reporting/locale/<language>/LC_MESSAGES/messages.po`` to the ``messages.mo`` that
:func:`reporting.i18n.translations` loads (Babel, a build requirement). The ``.mo`` is a
build product, never committed: a source checkout compiles the ``.po`` in memory instead.
Everything else about the package is in pyproject.toml."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithCatalogues(build_py):
    def run(self):
        super().run()
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        for po in sorted(Path("reporting/locale").glob("*/LC_MESSAGES/messages.po")):
            target = Path(self.build_lib) / po.with_suffix(".mo")
            target.parent.mkdir(parents=True, exist_ok=True)
            with po.open("rb") as f:
                catalog = read_po(f)
            with target.open("wb") as f:
                write_mo(f, catalog)


setup(cmdclass={"build_py": BuildPyWithCatalogues})
