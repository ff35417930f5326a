"""Tests of local_lambdas_testing against a fake gateway command (a shell script): fast, no JVM.
The real gateway is exercised by examples/testing (run from the Maven build)."""

import os
import stat
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import local_lambdas_testing as llt  # noqa: E402


def fake(script):
    d = tempfile.mkdtemp()
    path = os.path.join(d, "fake-gateway")
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + script)
    os.chmod(path, stat.S_IRWXU)
    return path


class GatewayTest(unittest.TestCase):
    def setUp(self):
        self.saved = os.environ.get("LOCAL_LAMBDAS_COMMAND")

    def tearDown(self):
        if self.saved is None:
            os.environ.pop("LOCAL_LAMBDAS_COMMAND", None)
        else:
            os.environ["LOCAL_LAMBDAS_COMMAND"] = self.saved

    def test_reads_the_url_from_the_listening_line_and_passes_a_free_port(self):
        out = tempfile.mktemp()
        os.environ["LOCAL_LAMBDAS_COMMAND"] = fake(
            'echo "$@" > %s\necho "local-lambdas: listening on http://127.0.0.1:4321"\n'
            'trap "exit 0" TERM\nwhile :; do sleep 0.05; done\n' % out
        )
        with llt.Gateway("m.xml") as gw:
            self.assertEqual(gw.url, "http://127.0.0.1:4321")
            process = gw.process
        self.assertIsNotNone(process.poll(), "stopped")
        with open(out) as f:
            self.assertEqual(f.read().split(), ["serve", "m.xml", "--bind", "127.0.0.1:0"])

    def test_a_gateway_that_exits_first_is_an_error_naming_its_status(self):
        os.environ["LOCAL_LAMBDAS_COMMAND"] = fake("echo nope\nexit 2\n")
        with self.assertRaises(RuntimeError) as e:
            llt.Gateway("m.xml").start()
        self.assertIn("exit status 2", str(e.exception))

    def test_a_gateway_that_never_listens_is_ended_by_the_timeout(self):
        os.environ["LOCAL_LAMBDAS_COMMAND"] = fake("exec sleep 30\n")
        with self.assertRaises(RuntimeError):
            llt.Gateway("m.xml", timeout=0.2).start()

    def test_the_command_comes_from_the_environment_first(self):
        os.environ["LOCAL_LAMBDAS_COMMAND"] = "java -cp 'a b' Main"
        self.assertEqual(llt.gateway_command(), ["java", "-cp", "a b", "Main"])


if __name__ == "__main__":
    unittest.main()
