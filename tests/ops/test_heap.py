"""A worker that loads the portal's WSGI application freezes what it loaded out of the
garbage collector's walks, and collects start-up garbage first instead of keeping it."""

import os
import subprocess
import sys

from tests.ops.conftest import ROOT

WORKER = """
import gc
import weakref

gc.disable()  # only the explicit collection may free the cycle below


class Cycle:
    pass


left_over = Cycle()
left_over.me = left_over
freed = weakref.ref(left_over)
del left_over  # start-up garbage: a cycle only the collector frees

import portal.wsgi  # noqa: E402

print(gc.get_freeze_count())
print(freed() is None)
print(callable(portal.wsgi.application))
"""


def test_loading_the_wsgi_application_freezes_its_objects():
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE",)}
    env.pop("DATABASE_URL", None)  # SQLite: building the application opens no connection
    done = subprocess.run(
        [sys.executable, "-c", WORKER],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    frozen, collected, built = done.stdout.split()
    # Django, the portal and the engine, loaded: tens of thousands of objects.
    assert int(frozen) > 20_000
    assert collected == "True"  # collected before the freeze, not kept for good
    assert built == "True"
