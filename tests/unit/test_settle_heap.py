"""`greenlight.app.settle_heap`, which `greenlight serve` calls once it listens: what the process built
to serve is left out of later garbage collections (`gc.freeze`), once per process. Run in a process
of its own, whose collector nothing else has touched."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHECK = textwrap.dedent(
    """
    import gc
    from greenlight.app import settle_heap

    def tracked(thing):
        return any(o is thing for generation in range(3) for o in gc.get_objects(generation))

    built = [{"kept": "for the whole life of the process"}]
    assert tracked(built) and gc.get_freeze_count() == 0
    settle_heap()
    print("built, frozen:", not tracked(built) and gc.get_freeze_count() > 0)
    later = [{"made": "while serving"}]
    settle_heap()
    print("later, still collected:", tracked(later))
    """
)


def test_what_was_built_to_serve_is_frozen_once_and_what_comes_later_is_still_collected() -> None:
    done = subprocess.run([sys.executable, "-c", CHECK], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["built, frozen: True", "later, still collected: True"]
