"""Start a local-lambdas gateway for a test suite: standard library only, plus a pytest fixture.

With pytest, load the plugin (``pytest -p local_lambdas_testing``, or ``pytest_plugins =
["local_lambdas_testing"]`` in conftest.py, with sdk/python on ``sys.path``) and name the manifest
with ``--local-lambdas-manifest PATH``, the ini option ``local_lambdas_manifest`` or the
environment variable ``LOCAL_LAMBDAS_MANIFEST``; the session fixture ``local_lambdas`` is the
gateway, started once per test session, and ``local_lambdas.url`` its URL::

    def test_hello(local_lambdas):
        with urllib.request.urlopen(local_lambdas.url + "/python/hi") as r:
            assert r.status == 200

Without pytest: ``with Gateway("manifest.xml") as gw: ...``.

The gateway runs ``serve MANIFEST --bind 127.0.0.1:0`` and is ready when it prints its
``local-lambdas: listening on URL`` line: the fixture reads that line, it never sleeps or polls.
The command is ``$LOCAL_LAMBDAS_COMMAND`` (split on spaces), else ``$LOCAL_LAMBDAS_HOME/local-lambdas``,
else ``local-lambdas`` on PATH (docs/testing.md).
"""

import os
import re
import shlex
import shutil
import subprocess
import threading

_LISTENING = re.compile(r"^local-lambdas: listening on (https?://\S+)$")


def gateway_command():
    """The command that runs the gateway, as a list."""
    given = os.environ.get("LOCAL_LAMBDAS_COMMAND")
    if given:
        return shlex.split(given)
    home = os.environ.get("LOCAL_LAMBDAS_HOME")
    if home and os.access(os.path.join(home, "local-lambdas"), os.X_OK):
        return [os.path.join(home, "local-lambdas")]
    found = shutil.which("local-lambdas")
    if found:
        return [found]
    raise RuntimeError(
        "local-lambdas not found: set LOCAL_LAMBDAS_COMMAND (e.g. /path/to/local-lambdas) or"
        " LOCAL_LAMBDAS_HOME, or put local-lambdas on PATH"
    )


class Gateway:
    """A gateway process serving ``manifest`` on a free port; ``url`` once started."""

    def __init__(self, manifest, args=(), timeout=120.0):
        self.manifest = str(manifest)
        self.args = list(args)
        self.timeout = timeout
        self.url = None
        self.process = None

    def start(self):
        command = gateway_command() + ["serve", self.manifest, "--bind", "127.0.0.1:0"] + self.args
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True
        )
        # The first line is the address; a timer ends a gateway that never gets there.
        timer = threading.Timer(self.timeout, self.process.kill)
        timer.start()
        try:
            for line in self.process.stdout:
                m = _LISTENING.match(line.strip())
                if m:
                    self.url = m.group(1)
                    break
        finally:
            timer.cancel()
        if self.url is None:
            status = self.process.wait()
            raise RuntimeError(
                "local-lambdas did not start (exit status %s; its log is above): %s"
                % (status, " ".join(command))
            )
        # Keep reading what it prints (debugger lines) so that it never blocks on a full pipe.
        threading.Thread(target=self.process.stdout.read, daemon=True).start()
        return self

    def stop(self):
        """SIGTERM: the gateway drains, stops every child and exits."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


try:
    import pytest
except ImportError:  # the module is usable without pytest
    pytest = None

if pytest is not None:

    def pytest_addoption(parser):
        parser.addoption(
            "--local-lambdas-manifest",
            default=None,
            help="manifest.xml the local_lambdas fixture serves",
        )
        parser.addini("local_lambdas_manifest", "manifest.xml the local_lambdas fixture serves")

    @pytest.fixture(scope="session")
    def local_lambdas(request):
        """The gateway, once per session, serving the configured manifest."""
        manifest = (
            request.config.getoption("--local-lambdas-manifest")
            or request.config.getini("local_lambdas_manifest")
            or os.environ.get("LOCAL_LAMBDAS_MANIFEST")
        )
        if not manifest:
            raise pytest.UsageError(
                "the local_lambdas fixture needs a manifest: --local-lambdas-manifest PATH, the ini"
                " option local_lambdas_manifest, or LOCAL_LAMBDAS_MANIFEST"
            )
        manifest = os.path.join(str(request.config.rootpath), manifest)
        with Gateway(manifest) as gateway:
            yield gateway
