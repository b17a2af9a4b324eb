"""The offline mirror, served with faults on chosen paths (:mod:`tests.tooling.faults`).

    python -m tests.tooling.fault_mirror tests/fixtures/site --faults FILE

serves the mirror as ``cnis-crawler``'s own mirror server does (:mod:`cnis_crawler.tools.mirror`),
except on the paths ``FILE`` names, and counts every request (``GET /_faults/requests``).
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnis_crawler.tools import mirror
from tests.tooling.faults import FaultError, FaultySite, load_faults

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

SERVER = "tests.tooling.fault_mirror"


def locate(top: Path, overrides: dict[str, str], path: str) -> tuple[Path, str] | None:
    """The file served at a mirror path (``/<host>/<path>``) and its Content-Type, as the mirror
    serves them; None if nothing is. Faults that send (part of) a page read it from here."""
    file = (top / path.lstrip("/")).resolve()
    if file.is_dir():
        file = next((file / name for name in mirror.INDEX_NAMES if (file / name).is_file()), file)
    if not file.is_file() or not file.is_relative_to(top):
        return None
    own = overrides.get("/" + file.relative_to(top).as_posix())
    return file, own or mirror.CONTENT_TYPES.get(file.suffix) or mimetypes.guess_type(file.name)[
        0
    ] or "text/html"


@contextmanager
def running_mirror(
    root: Path,
    host: str = "127.0.0.1",
    port: int = 0,
    faults: Path | Mapping[str, Any] | None = None,
) -> Iterator[str]:
    """:func:`cnis_crawler.tools.mirror.running_mirror`, with ``faults``: a faults file, or its
    content as a mapping (see :mod:`tests.tooling.faults`)."""
    if faults is None:
        with mirror.running_mirror(root, host, port) as url:
            yield url
        return
    load_faults(faults)  # a mistake in the faults fails here, with its message, not in the child
    with tempfile.TemporaryDirectory(prefix="mirror-faults-") as directory:
        faults_file = faults if isinstance(faults, Path) else Path(directory) / "faults.json"
        if not isinstance(faults, Path):
            faults_file.write_text(json.dumps(dict(faults)), encoding="utf-8")
        with mirror.running_mirror(root, host, port, server=(SERVER, "--faults", str(faults_file))) as url:
            yield url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {SERVER}", description=__doc__)
    parser.add_argument("--faults", type=Path, metavar="FILE", required=True, help="JSON faults per path")
    parser.add_argument("root", type=Path, help="mirror directory holding one folder per host")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    top = args.root.resolve()
    overrides = mirror.content_type_overrides(top)
    try:
        site = FaultySite(
            mirror.mirror_resource(top), load_faults(args.faults), lambda path: locate(top, overrides, path)
        )
    except FaultError as error:
        parser.error(str(error))
    mirror.serve(site, args.host, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
