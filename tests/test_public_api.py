"""The public surface of each package is what its ``__all__`` says, and nothing slips in unnoticed."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import pixie_sdk

SDK_PUBLIC = [
    "Handler", "InputFile", "ManifestError", "PixieError", "RunCancelled", "RunContext", "RunInput", "ToolApp",
    "ToolError", "ToolManifest", "__version__", "load_manifest", "make_tool_app", "outputs", "serve",
]  # fmt: skip


def test_sdk_all_is_pinned() -> None:
    assert sorted(pixie_sdk.__all__) == sorted(SDK_PUBLIC)


def test_sdk_exports_exist() -> None:
    for name in pixie_sdk.__all__:
        assert hasattr(pixie_sdk, name), name


def _modules(package: str) -> list[str]:
    pkg = importlib.import_module(package)
    return [m.name for m in pkgutil.walk_packages(pkg.__path__, f"{package}.") if not m.name.endswith("__main__")]


@pytest.mark.parametrize("module", _modules("pixie_sdk") + _modules("pixie_validate") + _modules("pixie_host"))
def test_every_module_declares_all_and_it_resolves(module: str) -> None:
    mod = importlib.import_module(module)
    assert hasattr(mod, "__all__"), f"{module} has no __all__"
    for name in mod.__all__:
        assert hasattr(mod, name), f"{module}.__all__ names missing {name}"
