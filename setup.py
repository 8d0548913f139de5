"""Build hook: ship the content folders (checks/, policies/, the example ward) inside the wheel."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

CONTENT = ("checks", "policies", "inventories/example-ward", "tests/cases")


class BuildWithContent(build_py):
    """Copy the content folders to scanner/content/ in the build tree."""

    def run(self) -> None:
        super().run()
        root = Path(__file__).parent
        dest = Path(self.build_lib) / "scanner" / "content"
        for name in CONTENT:
            if (root / name).is_dir():
                shutil.copytree(root / name, dest / name, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildWithContent})
