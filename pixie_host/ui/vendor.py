"""Re-fetch the web UI's vendored front-end libraries from npm: ``python -m pixie_host.ui.vendor``.

``vendor.json`` beside this file names each npm package, its exact version and the dist files
to copy into ``static/vendor/<dir>/``. The script installs them with ``npm`` into a temporary
folder (no scripts run), replaces each library's folder and prints the total size. The copied
files are committed, so installing or testing the kit never fetches anything; run this only to
change a version (edit ``vendor.json`` first) and commit the result.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["MANIFEST", "VENDOR_DIR", "fetch", "main"]

#: The list of libraries, versions and files.
MANIFEST = Path(__file__).with_name("vendor.json")
#: Where the copies go; the page loads them from here.
VENDOR_DIR = Path(__file__).with_name("static") / "vendor"
#: npm is given this long to install everything (a slow registry is still a working one).
NPM_TIMEOUT_SECONDS = 600


def _libraries() -> list[dict[str, Any]]:
    data = json.loads(MANIFEST.read_text())
    libraries: list[dict[str, Any]] = data["libraries"]
    return libraries


def _copy(package_dir: Path, pattern: str, target: str, out: Path) -> list[Path]:
    sources = sorted(package_dir.glob(pattern)) if any(c in pattern for c in "*?[") else [package_dir / pattern]
    copied: list[Path] = []
    for source in sources:
        if not source.is_file():
            raise FileNotFoundError(f"{source} is not in the npm package; fix vendor.json")
        dest = out / target / source.name if target.endswith("/") else out / target
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)
        copied.append(dest)
    return copied


def fetch(npm: str = "npm") -> int:
    """Install every library at its pinned version and copy its files; the total size in bytes."""
    libraries = _libraries()
    specs = [f"{lib['package']}@{lib['version']}" for lib in libraries]
    with tempfile.TemporaryDirectory(prefix="pixie-ui-vendor-") as tmp:
        root = Path(tmp)
        (root / "package.json").write_text('{"name": "pixie-ui-vendor", "private": true}\n')
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--ignore-scripts", "--save-exact", *specs],
            cwd=root,
            check=True,
            timeout=NPM_TIMEOUT_SECONDS,
        )
        total = 0
        for lib in libraries:
            package_dir = root / "node_modules" / lib["package"]
            installed = json.loads((package_dir / "package.json").read_text())["version"]
            if installed != lib["version"]:
                raise RuntimeError(f"{lib['package']}: npm installed {installed}, vendor.json pins {lib['version']}")
            out = VENDOR_DIR / lib["dir"]
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir(parents=True)
            for pattern, target in lib["files"].items():
                for dest in _copy(package_dir, pattern, target, out):
                    total += dest.stat().st_size
            (out / "VERSION").write_text(f"{lib['package']}@{lib['version']}\n")
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--npm", default="npm", help="the npm executable (default: npm on PATH)")
    args = parser.parse_args(argv)
    total = fetch(args.npm)
    sys.stdout.write(f"vendored {len(_libraries())} libraries into {VENDOR_DIR} ({total / 1024:.0f} KiB)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
